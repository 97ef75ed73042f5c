"""Instructions per frame under callgrind: the `hadron bench compare` implementations, counted.

Wall-clock figures on a shared machine move by ±15 % between runs; instruction counts do not (the
same binary, inputs and environment give the same count whatever else the machine does). This
runs each implementation of `hadron bench compare` on the first N frames of the busiest
KXGOLD15M market (Kalshi capture lines, and the same flow in Polymarket's wire format) under
`valgrind --tool=callgrind`, counting only the measured pass (collection is switched on inside
`sorted()`, which wraps it), after one untimed warm-up pass like the best-of-N timing has.
``hadron`` runs whatever build is installed (compiled hot modules after ``make venv``);
``hadron_pure`` is the same with ``HADRON_PURE=1`` (see ``hadron.accel``).

    python bench/instructions.py [--frames 30000] [--jobs 2] [--json FILE]

Needs valgrind and the capture in ../shared/data (skipped with the reason otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

IMPLEMENTATIONS = ("msgspec_decode", "hadron", "hadron_pure", "hobby")
"""``hadron_pure``: Hadron with ``HADRON_PURE=1`` (the pure-Python hot modules, see hadron.accel)."""


def _child(impl: str, flow: str, folder: Path) -> None:
    # Runs inside callgrind: load the frames, warm up once, then the counted pass inside sorted()
    from hadron.bench import baseline
    from hadron.bench import compare as bc

    lines = (folder / f"{flow}.ndjson").read_bytes().splitlines()
    pairs = folder / "pairs.toml"
    runners = {
        ("kalshi", "msgspec_decode"): lambda: bc._decode(lines),
        ("kalshi", "hadron"): lambda: bc._hadron_kalshi([(folder / "kalshi.ndjson", lines)], pairs),
        ("kalshi", "hobby"): lambda: baseline.hobby_kalshi(lines),
        ("polymarket", "msgspec_decode"): lambda: bc._decode(lines),
        ("polymarket", "hadron"): lambda: bc._hadron_polymarket(lines, pairs),
        ("polymarket", "hobby"): lambda: baseline.hobby_polymarket(lines),
    }
    run = runners[(flow, "hadron" if impl == "hadron_pure" else impl)]
    run()
    sorted([0], key=lambda _: run())


def _prepare(folder: Path, frames: int) -> None:
    from hadron.bench.capture import default_market_capture, load_capture
    from hadron.bench.compare import polymarket_flow
    from hadron.venues.base import PairScenarioVenue, get_venue

    market = default_market_capture()
    if market is None:
        raise SystemExit("skipped: the KXGOLD15M capture in ../shared/data was not found")
    kalshi = load_capture(market)[0][1][:frames]
    (folder / "kalshi.ndjson").write_bytes(b"\n".join(kalshi) + b"\n")
    polymarket = get_venue("polymarket")
    assert isinstance(polymarket, PairScenarioVenue)
    _, poly = polymarket_flow(polymarket, market, folder)
    poly = poly[:frames]
    (folder / "polymarket.ndjson").write_bytes(b"\n".join(poly) + b"\n")


def _count(impl: str, flow: str, folder: Path) -> int:
    out = folder / f"callgrind.{flow}.{impl}"
    env = {k: v for k, v in os.environ.items() if k != "HADRON_PURE"}
    if impl == "hadron_pure":
        env["HADRON_PURE"] = "1"
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=builtin_sorted",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            impl,
            flow,
            str(folder),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no instruction total in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=30_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], Path(args.child[2]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("skipped: valgrind is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _prepare(folder, args.frames)
        counts = {flow: len((folder / f"{flow}.ndjson").read_bytes().splitlines()) for flow in ("kalshi", "polymarket")}
        jobs = [(impl, flow) for flow in counts for impl in IMPLEMENTATIONS]
        with ThreadPoolExecutor(args.jobs) as pool:
            totals = dict(zip(jobs, pool.map(lambda job: _count(job[0], job[1], folder), jobs), strict=True))
    results: dict[str, Any] = {}
    print("| flow | implementation | instructions/frame | Hadron uses × fewer |")
    print("|---|---|---:|---:|")
    for flow, frames in counts.items():
        per = {impl: totals[(impl, flow)] / frames for impl in IMPLEMENTATIONS}
        results[flow] = {
            "frames": frames,
            "instructions_per_frame": {k: round(v) for k, v in per.items()},
            "hadron_vs_decode": round(per["msgspec_decode"] / per["hadron"], 3),
            "hadron_vs_hobby": round(per["hobby"] / per["hadron"], 2),
            "hadron_pure_vs_decode": round(per["msgspec_decode"] / per["hadron_pure"], 3),
            "hadron_pure_vs_hobby": round(per["hobby"] / per["hadron_pure"], 2),
        }
        for impl, value in per.items():
            ratio = {"msgspec_decode": "(floor)", "hadron": "—"}.get(impl, f"{value / per['hadron']:.2f}")
            print(f"| {flow} ({frames:,} frames) | {impl} | {value:,.0f} | {ratio} |")
    print()
    for flow, r in results.items():
        print(
            f"- {flow}: Hadron = {r['hadron_vs_decode']} × msgspec decode alone (instructions), "
            f"{r['hadron_vs_hobby']} × fewer instructions than the hobby implementation; "
            f"pure Python: {r['hadron_pure_vs_decode']} ×, {r['hadron_pure_vs_hobby']} ×"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
