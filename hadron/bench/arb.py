"""``hadron bench arb``: what the arbitrage check adds to the books, per frame, on real flow.

A real Kalshi capture is paired with its own Polymarket transcoding, moved by ``shift`` (a 25¢
move makes a persistent cross-venue dislocation: the hardest case, every top change walks both
books), and written as one time-ordered recording. The same recording is replayed twice in one
process: books only, then books plus :class:`~hadron.arb.detector.ArbDetector` on the pair. The
difference is the arbitrage check's cost per frame; the evaluation latency is measured in a
separate pass (a ``perf_counter_ns`` pair around each evaluation).
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

from hadron.app.replay import Replay
from hadron.arb.detector import ArbDetector
from hadron.arb.opportunity import money_text
from hadron.arb.terms import load_arb_config
from hadron.bench.timing import best_of, percentiles
from hadron.errors import InputError
from hadron.venues.base import PairScenarioVenue, get_venue


class _TimedDetector(ArbDetector):
    # the detector with a perf_counter_ns pair around each evaluation (a subclass, so the
    # compiled detector's own calls reach it too)
    samples: array[int]

    def evaluate(self, candidate: Any, now_ns: int) -> None:
        start = time.perf_counter_ns()
        super().evaluate(candidate, now_ns)
        self.samples.append(time.perf_counter_ns() - start)


def _replay(recording: Path, pairs: Path | None) -> tuple[Replay, ArbDetector | None]:
    run = Replay(dead_letter=Path(os.devnull), seq_check="monotonic")
    detector = ArbDetector.from_config(run.books, load_arb_config(pairs)) if pairs is not None else None
    run.run([recording])
    return run, detector


def _case(recording: Path, pairs: Path, frames: int, repeat: int) -> dict[str, Any]:
    books_s = best_of(repeat, lambda: _replay(recording, None))
    arb_s = best_of(repeat, lambda: _replay(recording, pairs))
    gc.collect()
    run = Replay(dead_letter=Path(os.devnull), seq_check="monotonic")
    detector = _TimedDetector.from_config(run.books, load_arb_config(pairs))
    assert isinstance(detector, _TimedDetector)
    samples = detector.samples = array("q")
    run.run([recording])
    results = detector.results()
    return {
        "frames": frames,
        "books_s": round(books_s, 4),
        "books_arb_s": round(arb_s, 4),
        "books_ns_per_frame": round(books_s / frames * 1e9, 1),
        "arb_ns_per_frame": round(max(0.0, arb_s - books_s) / frames * 1e9, 1),
        "arb_share_of_books": round(max(0.0, arb_s - books_s) / books_s, 3),
        "evaluations": detector.evaluations,
        "evaluation_latency": percentiles(samples) if samples else {},
        "opportunities": len(results),
        "total_net": money_text(sum(o.net for o in results)),
        "suppressed": dict(detector.suppressed),
    }


def run_arb_bench(
    capture: Path, *, shifts: tuple[int, ...] = (0, -2_500), repeat: int = 3, max_capital: str | None = None
) -> dict[str, Any]:
    """Measure the arbitrage check on ``capture`` paired with its transcoding at each shift.

    Args:
        capture: one Kalshi capture file (one market), e.g. the busiest KXGOLD15M market.
        shifts: Polymarket YES price moves, int, 1/10,000 USD (0: no dislocation).
        repeat: runs per measurement; the best is kept.
        max_capital: the ``[thresholds] max_capital`` to run with (USD decimal string), or none.

    Returns:
        Per shift: frames, seconds and ns/frame for books alone and books + arbitrage, the check's
        share of the books' time, evaluations and their latency percentiles (µs), opportunities.
    """
    polymarket = get_venue("polymarket")
    if not isinstance(polymarket, PairScenarioVenue):
        raise InputError("the polymarket venue cannot mirror a Kalshi capture")
    out: dict[str, Any] = {"capture": str(capture), "max_capital": max_capital, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        pairs = Path(tmp) / "pairs.toml"
        for shift in shifts:
            recording = Path(tmp) / f"pair_{shift}.ndjson"
            frames, pairs_text = polymarket.pair_scenario([capture], recording, shift=shift, fee_rate="0.04")
            if max_capital is not None:
                pairs_text = f'[thresholds]\nmax_capital = "{max_capital}"\n\n' + pairs_text
            pairs.write_text(pairs_text)
            out["cases"][f"shift_{shift / 100:+.0f}c"] = _case(recording, pairs, frames, repeat)
            recording.unlink()
    return out
