"""The compiled hot modules (hadron.accel) and their pure-Python fallback run the same code.

The equivalence test replays the real capture shipped in ``hadron/demo`` (and its Polymarket
transcoding, 6¢ apart so opportunities open and close) in two processes, one on the compiled
modules and one with ``HADRON_PURE=1``, and compares everything observable: every event emitted,
the final books, the integrity and feed counters, the detector's opportunities.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hadron import accel
from hadron.app.demo import demo_capture

CHILD = r"""
import hashlib, json, sys, tempfile
from pathlib import Path
import msgspec
from hadron import accel
from hadron.app.replay import Replay
from hadron.arb.detector import ArbDetector
from hadron.arb.terms import load_arb_config
from hadron.venues.base import get_venue

capture = Path(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp)
    recording = folder / "pair.ndjson"
    lines, pairs_text = get_venue("polymarket").pair_scenario([capture], recording, shift=600, fee_rate="0.04")
    (folder / "pairs.toml").write_text(pairs_text)
    digest = hashlib.sha256()
    events = 0
    def on_event(event):
        global events
        events += 1
        digest.update(msgspec.json.encode(event))
    run = Replay(dead_letter=folder / "dead.ndjson", on_event=on_event)
    detector = ArbDetector.from_config(run.books, load_arb_config(folder / "pairs.toml"))
    opportunities = []
    detector.add_listener(lambda opp, change: opportunities.append([change, msgspec.json.decode(msgspec.json.encode(opp, enc_hook=lambda o: type(o).__name__))]))
    run.run([recording])
    report = run.report()
print(json.dumps({
    "compiled": accel.compiled(),
    "lines": lines,
    "events": events,
    "digest": digest.hexdigest(),
    "books": run.dump_books(),
    "book_stats": run.books.stats.as_dict(),
    "report": report,
    "detector": detector.summary(),
    "opportunities": opportunities,
}, sort_keys=True, default=str))
"""

DEMO_CAPTURE = demo_capture()


def _run(pure: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != accel.PURE_ENV}
    if pure:
        env[accel.PURE_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(DEMO_CAPTURE)], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_this_process_loads_what_the_environment_asks_for() -> None:
    flags = accel.compiled()
    assert set(flags) == set(accel.HOT_MODULES)
    if accel.pure_requested():
        assert not any(flags.values()), flags
        assert accel.describe().startswith("pure Python")
    elif accel.built():
        assert all(flags.values()), f"a build exists but these load as .py: {[k for k, v in flags.items() if not v]}"
        assert accel.describe() == f"compiled (Cython): {len(flags)}/{len(flags)} hot modules"


def test_pure_switch_ignores_a_build() -> None:
    env = {**os.environ, accel.PURE_ENV: "1"}
    code = "import json, hadron.book.manager, hadron.arb.detector; from hadron import accel; print(json.dumps(accel.compiled()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert not any(json.loads(done.stdout).values())


@pytest.mark.skipif(not accel.built(), reason="hot modules not compiled here (python -m hadron.accel build)")
def test_compiled_and_pure_python_give_identical_results() -> None:
    compiled, pure = _run(pure=False), _run(pure=True)
    assert all(compiled.pop("compiled").values())  # type: ignore[attr-defined]
    assert not any(pure.pop("compiled").values())  # type: ignore[attr-defined]
    assert compiled["events"] > 10_000  # type: ignore[operator]
    assert compiled["opportunities"], "the dislocated pair opens opportunities"
    for result in (compiled, pure):
        report = result["report"]
        assert isinstance(report, dict)
        for key in ("elapsed_s", "frames_per_s"):  # timing
            report.pop(key)
        for file in report["files"]:
            file.pop("path")  # each process's temporary folder
    assert compiled == pure
