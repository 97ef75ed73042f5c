"""``hadron bench``: Hadron's hot path next to the floor and the alternatives, on the same frames.

Two flows, each measured in one process, on the same in-memory frames:

* **Kalshi**: the real KXGOLD15M capture (raw WebSocket v2 frames);
* **Polymarket**: the busiest KXGOLD15M market's real order flow in Polymarket's market-channel
  wire format (its transcoding: a YES/NO token pair), the Polymarket capture available here
  being too small to time.

For each flow:

* ``msgspec_decode``: ``msgspec.json.decode`` of every frame into dicts, the least any Python
  consumer pays (the floor);
* ``hadron``: Hadron end to end: typed decode → sid/seq → normalize → L2 book → top of book →
  arbitrage check (the detector watches the market's pair);
* ``hadron_pure``: the same with the pure-Python hot modules (``HADRON_PURE=1``, measured in a
  child process on the same frames) when this process runs the compiled ones (:mod:`hadron.accel`);
* ``hobby``: a typical hobby implementation (:mod:`hadron.bench.baseline`: ``json.loads``,
  ``Decimal`` prices and sizes in dicts, best bid/ask recomputed with ``max``/``min`` after every
  update), as the seeds' bot does;
* ``nautilus``: NautilusTrader's ``OrderBook`` driven through its Python API (deltas built with its
  ``Price``/``Quantity``), when ``nautilus_trader`` is installed; skipped with the reason otherwise.

Throughput keeps the best of ``repeat`` runs; latency per frame (p50/p99/p99.9) is measured in a
separate pass; peak memory in a third (``tracemalloc``). Memory for 10,000 books is measured on
books with 20 levels a side, on the cent grid (Kalshi) and the 0.1¢ grid (sub-penny Polymarket).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from hadron.accel import PURE_ENV, compiled, describe
from hadron.app.replay import Replay
from hadron.arb.detector import ArbDetector
from hadron.arb.terms import load_arb_config
from hadron.bench.baseline import hobby_kalshi, hobby_polymarket
from hadron.bench.capture import load_capture, replay_lines
from hadron.bench.timing import best_of, percentiles
from hadron.book.manager import BookManager
from hadron.errors import InputError
from hadron.extras import require
from hadron.model.events import BookSnapshot
from hadron.store.replay import RecordingFormat
from hadron.venues.base import PairScenarioVenue, get_venue

Lines = list[bytes]


# -- NautilusTrader ----------------------------------------------------------------------------


def _nautilus() -> Any:
    # NautilusTrader's classes, imported only when it is installed
    from types import SimpleNamespace

    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder, OrderBookDelta
    from nautilus_trader.model.enums import BookAction, BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    return SimpleNamespace(
        OrderBook=OrderBook, BookOrder=BookOrder, OrderBookDelta=OrderBookDelta, BookAction=BookAction,
        BookType=BookType, OrderSide=OrderSide, InstrumentId=InstrumentId, Price=Price, Quantity=Quantity,
    )  # fmt: skip


def _nt_book(nt: Any, books: dict[str, Any], key: str) -> Any:
    book = books.get(key)
    if book is None:
        book = books[key] = nt.OrderBook(nt.InstrumentId.from_str(f"{key[:40]}.BENCH"), nt.BookType.L2_MBP)
    return book


def _nt_apply(nt: Any, book: Any, side: Any, price: str, size: str) -> None:
    qty = nt.Quantity.from_str(size)
    action = nt.BookAction.UPDATE if qty.as_double() > 0 else nt.BookAction.DELETE
    order = nt.BookOrder(side, nt.Price.from_str(price), qty, 0)
    book.apply_delta(nt.OrderBookDelta(book.instrument_id, action, order, 0, 0, 0, 0))
    book.best_bid_price()
    book.best_ask_price()


def _nautilus_kalshi(nt: Any, lines: Lines) -> object:
    # Kalshi deltas are changes: the level's new size is kept here, Nautilus gets absolute updates
    books: dict[str, Any] = {}
    levels: dict[tuple[str, str, str], Decimal] = {}
    for line in lines:
        event = json.loads(line)["event"]
        msg = event.get("msg") or {}
        if event.get("type") != "orderbook_delta":
            continue
        key = (msg["market_ticker"], msg["side"], msg["price_dollars"])
        size = max(Decimal(0), levels.get(key, Decimal(0)) + Decimal(msg["delta_fp"]))
        levels[key] = size
        side = nt.OrderSide.BUY if msg["side"] == "yes" else nt.OrderSide.SELL
        book = _nt_book(nt, books, msg["market_ticker"].replace("-", ""))
        _nt_apply(nt, book, side, msg["price_dollars"], f"{size:.2f}")
    return books


def _nautilus_polymarket(nt: Any, frames: Lines) -> object:
    books: dict[str, Any] = {}
    for frame in frames:
        value = json.loads(frame)
        for msg in value if isinstance(value, list) else [value]:
            if msg.get("event_type") != "price_change":
                continue
            for change in msg["price_changes"]:
                book = _nt_book(nt, books, change["asset_id"][:30])
                side = nt.OrderSide.BUY if change["side"] == "BUY" else nt.OrderSide.SELL
                _nt_apply(nt, book, side, change["price"], change["size"])
    return books


def nautilus_runner(flow: str) -> tuple[Callable[[Lines], object] | None, str]:
    """A function driving NautilusTrader's L2 ``OrderBook`` (through its Python API) over
    ``flow``'s frames, or ``None`` and the reason it cannot run."""
    try:
        nt = _nautilus()
    except ImportError as exc:
        return None, f"nautilus_trader is not installed ({exc.name}); pip install nautilus_trader to compare"
    if flow == "kalshi":
        return (lambda lines: _nautilus_kalshi(nt, lines)), ""
    return (lambda frames: _nautilus_polymarket(nt, frames)), ""


# -- Hadron ------------------------------------------------------------------------------------


def _hadron_kalshi(
    files: list[tuple[Path, Lines]], pairs: Path | None, clock: Callable[[], int] | None = None
) -> array[int]:
    # the replay benchmark's pipeline (hadron.bench.replay) with the detector watching the pair
    def detector(run: Replay) -> object:
        return ArbDetector.from_config(run.books, load_arb_config(pairs)) if pairs is not None else None

    return replay_lines(files, clock, detector)[1]


def _hadron_polymarket(frames: Lines, pairs: Path | None, clock: Callable[[], int] | None = None) -> array[int]:
    run = Replay(dead_letter=Path(os.devnull))
    if pairs is not None:
        ArbDetector.from_config(run.books, load_arb_config(pairs))
    on_frame = run.stream("polymarket", "pm", RecordingFormat.HADRON).on_frame
    samples: array[int] = array("q")
    now = time.time_ns()
    for frame in frames:
        if clock is None:
            on_frame(frame, now)
        else:
            t0 = clock()
            on_frame(frame, now)
            samples.append(clock() - t0)
    return samples


def _decode(frames: Lines) -> None:
    decode = msgspec.json.decode
    for frame in frames:
        decode(frame)


def _peak_mib(run: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 2)


def books_memory(n: int = 10_000, levels: int = 20) -> dict[str, float]:
    """MiB held by ``n`` books with ``levels`` levels a side, on the cent and the 0.1¢ grids."""
    out: dict[str, float] = {}
    for name, tick in (("cent_grid_mib", 100), ("tenth_cent_grid_mib", 10)):
        gc.collect()
        tracemalloc.start()
        books = BookManager()
        for i in range(n):
            bids = tuple((5000 - k * tick, (k + 1) * 1_000_000) for k in range(levels))
            asks = tuple((5100 + k * tick, (k + 1) * 1_000_000) for k in range(levels))
            books.apply_snapshot(BookSnapshot(f"kalshi:BENCH-{i}", bids, asks, 0, 0, tick=tick))
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out[name] = round(current / 2**20, 1)
        del books
    return out


# -- the run -----------------------------------------------------------------------------------


def _flow(
    name: str,
    frames: Lines,
    runners: dict[str, Callable[[], object]],
    latency: dict[str, Callable[[], array[int]]],
    repeat: int,
) -> dict[str, Any]:
    seconds = {key: best_of(repeat, run) for key, run in runners.items()}
    n = len(frames)
    rates = {key: n / s for key, s in seconds.items()}
    samples = {key: measure() for key, measure in latency.items()}
    memory = {key: _peak_mib(run) for key, run in runners.items()}
    hadron = rates["hadron"]
    return {
        "flow": name,
        "frames": n,
        "bytes": sum(len(f) for f in frames),
        "frames_per_s": {k: round(v) for k, v in rates.items()},
        "ns_per_frame": {k: round(s / n * 1e9, 1) for k, s in seconds.items()},
        "ratio_hadron_vs_msgspec_decode": round(hadron / rates["msgspec_decode"], 3),
        "ratio_hadron_vs_hobby": round(hadron / rates["hobby"], 2),
        **({"ratio_hadron_vs_nautilus": round(hadron / rates["nautilus"], 2)} if "nautilus" in rates else {}),
        "latency": {k: percentiles(v) for k, v in samples.items()},
        "peak_memory_mib": memory,
        "_samples": samples,
    }


def polymarket_flow(polymarket: PairScenarioVenue, market: Path, folder: Path) -> tuple[Path, Lines]:
    """The Polymarket flow of ``market``'s Kalshi capture: its transcoding into the market
    channel's wire format (a YES/NO token pair) as raw frames, and the pairs file (written in
    ``folder``) pairing the two, Polymarket fee rate 0.04."""
    recording = folder / "pair.ndjson"
    _, pairs_text = polymarket.pair_scenario([market], recording, shift=0, fee_rate="0.04")
    pairs = folder / "pairs.toml"
    pairs.write_text(pairs_text)
    decoder = msgspec.json.Decoder(dict[str, Any])
    frames = [
        str(record["frame"]).encode()
        for record in map(decoder.decode, recording.read_bytes().splitlines())
        if record["venue"] == "polymarket"
    ]
    return pairs, frames


def _kalshi_files(capture: Path, limit: int | None) -> list[tuple[Path, Lines]]:
    files = load_capture(capture)
    if limit is None:
        return files
    kept, left = [], limit
    for path, lines in files:
        if left <= 0:
            break
        kept.append((path, lines[:left]))
        left -= len(lines[:left])
    return kept


_QUANTILES = 2000


def _pure_row(flow: str, args: dict[str, Any]) -> dict[str, Any]:
    # Hadron on the pure-Python hot modules, in a child process (HADRON_PURE=1) on the same frames
    env = {**os.environ, PURE_ENV: "1"}
    command = [sys.executable, "-m", "hadron.bench.compare", json.dumps({"flow": flow, **args})]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise InputError(f"the pure-Python benchmark failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _pure_child(args: dict[str, Any]) -> dict[str, Any]:
    # The child's side of _pure_row: best-of-N time, latency percentiles (and quantiles for the
    # plot), peak memory of Hadron end to end
    if any(compiled().values()):
        raise SystemExit(f"{PURE_ENV}=1 did not take effect")
    pairs = Path(args["pairs"])
    clock = time.perf_counter_ns
    if args["flow"] == "kalshi":
        files = _kalshi_files(Path(args["capture"]), args["limit"])
        n = sum(len(lines) for _, lines in files)

        def run(clock: Callable[[], int] | None = None) -> array[int]:
            return _hadron_kalshi(files, pairs, clock)
    else:
        frames = Path(args["frames"]).read_bytes().splitlines()
        n = len(frames)

        def run(clock: Callable[[], int] | None = None) -> array[int]:
            return _hadron_polymarket(frames, pairs, clock)

    seconds = best_of(args["repeat"], run)
    ordered = sorted(run(clock))
    return {
        "seconds": seconds,
        "frames": n,
        "latency": percentiles(array("q", ordered)),
        "quantiles": [ordered[min(len(ordered) - 1, i * len(ordered) // _QUANTILES)] for i in range(_QUANTILES + 1)],
        "peak_mib": _peak_mib(run),
    }


def _add_pure(result: dict[str, Any], row: dict[str, Any]) -> None:
    n = result["frames"]
    if row["frames"] != n:
        raise InputError(f"the pure-Python run saw {row['frames']} frames, not {n}")
    fps = n / row["seconds"]
    rates = result["frames_per_s"]
    rates["hadron_pure"] = round(fps)
    result["ns_per_frame"]["hadron_pure"] = round(row["seconds"] / n * 1e9, 1)
    result["latency"]["hadron_pure"] = row["latency"]
    result["peak_memory_mib"]["hadron_pure"] = row["peak_mib"]
    result["_samples"]["hadron_pure"] = array("q", row["quantiles"])
    result["ratio_hadron_pure_vs_msgspec_decode"] = round(fps / rates["msgspec_decode"], 3)
    result["ratio_hadron_pure_vs_hobby"] = round(fps / rates["hobby"], 2)
    result["ratio_compiled_vs_pure"] = round(rates["hadron"] / fps, 2)


def run_compare(capture: Path, market: Path, *, repeat: int = 3, limit: int | None = None) -> dict[str, Any]:
    """Run every comparison (see the module docstring).

    Args:
        capture: the Kalshi capture file or folder (the Kalshi flow).
        market: one market's capture file (transcoded for the Polymarket flow, and paired with it).
        repeat: runs per throughput measurement (the best is kept).
        limit: use only the first ``limit`` frames of each flow.

    Raises:
        InputError: no Kalshi capture at ``capture``.
    """
    polymarket = get_venue("polymarket")
    if not isinstance(polymarket, PairScenarioVenue):
        raise InputError("the polymarket venue cannot transcode a Kalshi capture")
    files = _kalshi_files(capture, limit)
    kalshi_lines = [line for _, lines in files for line in lines]
    with tempfile.TemporaryDirectory() as tmp:
        pairs, poly_frames = polymarket_flow(polymarket, market, Path(tmp))
        poly_frames = poly_frames[:limit]
        clock = time.perf_counter_ns
        kalshi_runners: dict[str, Callable[[], object]] = {
            "msgspec_decode": lambda: _decode(kalshi_lines),
            "hadron": lambda: _hadron_kalshi(files, pairs),
            "hobby": lambda: hobby_kalshi(kalshi_lines),
        }
        poly_runners: dict[str, Callable[[], object]] = {
            "msgspec_decode": lambda: _decode(poly_frames),
            "hadron": lambda: _hadron_polymarket(poly_frames, pairs),
            "hobby": lambda: hobby_polymarket(poly_frames),
        }
        skipped: dict[str, str] = {}
        for flow, runners, frames in (
            ("kalshi", kalshi_runners, kalshi_lines),
            ("polymarket", poly_runners, poly_frames),
        ):
            nautilus, reason = nautilus_runner(flow)
            if nautilus is None:
                skipped["nautilus"] = reason
            else:
                runners["nautilus"] = lambda nautilus=nautilus, frames=frames: nautilus(frames)  # type: ignore[misc]
        results = {
            "kalshi": _flow("kalshi", kalshi_lines, kalshi_runners, {
                "hadron": lambda: _hadron_kalshi(files, pairs, clock),
                "hobby": lambda: hobby_kalshi(kalshi_lines, clock),
            }, repeat),
            "polymarket": _flow("polymarket", poly_frames, poly_runners, {
                "hadron": lambda: _hadron_polymarket(poly_frames, pairs, clock),
                "hobby": lambda: hobby_polymarket(poly_frames, clock),
            }, repeat),
        }  # fmt: skip
        build = describe()
        if any(compiled().values()):
            frames_file = Path(tmp) / "polymarket.ndjson"
            frames_file.write_bytes(b"\n".join(poly_frames) + b"\n")
            common = {"capture": str(capture), "limit": limit, "pairs": str(pairs), "repeat": repeat}
            _add_pure(results["kalshi"], _pure_row("kalshi", common))
            _add_pure(results["polymarket"], _pure_row("polymarket", {**common, "frames": str(frames_file)}))
        else:
            skipped["hadron_pure"] = "the hot modules are not compiled here: the hadron row is pure Python"
    return {
        "flows": results,
        "build": build,
        "skipped": skipped,
        "books_10k": books_memory(),
        "capture": str(capture),
        "market": str(market),
        "repeat": repeat,
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform(terse=True)}",
        "cpu": _cpu_model(),
        "msgspec": msgspec.__version__,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


_LABELS = {"hadron_pure": "hadron, pure Python"}
_ORDER = ("msgspec_decode", "hadron", "hadron_pure", "hobby", "nautilus")


def _label(impl: str, flow: dict[str, Any]) -> str:
    if impl == "hadron" and "hadron_pure" in flow["frames_per_s"]:
        return "hadron, compiled"
    return _LABELS.get(impl, impl)


def markdown(results: dict[str, Any]) -> str:
    """The results as a markdown table (throughput, ratios, latency, memory)."""
    rows = [
        "| flow | implementation | frames/s | ns/frame | Hadron is × faster | p50 µs | p99 µs | p99.9 µs | peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for flow, r in results["flows"].items():
        hadron = r["frames_per_s"]["hadron"]
        rates = r["frames_per_s"]
        for impl in sorted(rates, key=lambda name: _ORDER.index(name) if name in _ORDER else len(_ORDER)):
            fps = rates[impl]
            lat = r["latency"].get(impl, {})
            ratio = "(floor)" if impl == "msgspec_decode" else ("—" if impl == "hadron" else f"{hadron / fps:.2f}")
            label = _label(impl, r)
            p = [f"{lat[k]:.2f}" if k in lat else "" for k in ("p50_us", "p99_us", "p99_9_us")]
            rows.append(
                f"| {flow} ({r['frames']:,} frames) | {label} | {fps:,} | {r['ns_per_frame'][impl]:,} | {ratio} | "
                f"{p[0]} | {p[1]} | {p[2]} | {r['peak_memory_mib'][impl]} |"
            )
    lines = ["\n".join(rows), ""]
    for flow, r in results["flows"].items():
        lines.append(
            f"- {flow}: Hadron end to end = {r['ratio_hadron_vs_msgspec_decode']:.3f} × msgspec decode alone, "
            f"{r['ratio_hadron_vs_hobby']:.2f} × the hobby implementation"
            + (f", {r['ratio_hadron_vs_nautilus']:.2f} × NautilusTrader" if "ratio_hadron_vs_nautilus" in r else "")
            + (
                f"; pure Python: {r['ratio_hadron_pure_vs_msgspec_decode']:.3f} × decode, "
                f"{r['ratio_hadron_pure_vs_hobby']:.2f} × hobby (compiled = {r['ratio_compiled_vs_pure']:.2f} × pure)"
                if "ratio_compiled_vs_pure" in r
                else ""
            )
        )
    mem = results["books_10k"]
    lines.append(f"- 10,000 books (20 levels a side): {mem['cent_grid_mib']} MiB on the cent grid, "
                 f"{mem['tenth_cent_grid_mib']} MiB on the 0.1¢ grid")  # fmt: skip
    for name, reason in results["skipped"].items():
        lines.append(f"- {name}: skipped, {reason}")
    lines.append(f"- machine: {results['cpu']} ({results['machine']}), Python {results['python']}, "
                 f"msgspec {results['msgspec']}; Hadron: {results.get('build', 'pure Python')}")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_latency(results: dict[str, Any], path: Path) -> None:
    """Per-frame latency distributions (CDF, log scale) of Hadron and the others, to ``path`` (PNG).

    Raises:
        MissingExtra: matplotlib is not installed (the ``[plot]`` extra).
    """
    matplotlib: Any = require("matplotlib", "the latency chart")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    flows = results["flows"]
    fig, axes = plt.subplots(1, len(flows), figsize=(6 * len(flows), 4.2), dpi=100)
    for ax, (flow, r) in zip(axes, flows.items(), strict=True):
        for impl, samples in r["_samples"].items():
            ordered = sorted(samples)
            n = len(ordered)
            step = max(1, n // 2000)
            xs = [ordered[i] / 1000 for i in range(0, n, step)]
            ys = [i / n for i in range(0, n, step)]
            ax.plot(xs, ys, label=_label(impl, r))
        ax.set_xscale("log")
        ax.set_xlabel("µs per frame")
        ax.set_ylabel("fraction of frames")
        ax.set_title(f"{flow}: {r['frames']:,} frames")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


if __name__ == "__main__":  # the pure-Python child of run_compare (see _pure_row)
    print(json.dumps(_pure_child(json.loads(sys.argv[1]))))
