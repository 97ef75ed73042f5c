"""hadron bench live: each venue describes its loopback set-up (a BenchPlan), the harness measures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hadron.bench.live import LiveBenchOptions, bench_pool, run_benches
from hadron.venues.base import BENCH_COUNTERS, BenchPlan, LiveBenchVenue, get_venue
from tests.conftest import FIXTURES

CAPTURE = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"

POOL_KEYS = [
    "path", "capture", "frames_live", "live_s", "live_frames_per_s", "live_processing_us",
    "live_read_to_book_us", "offline_frames", "offline_s", "offline_frames_per_s", "ratio_live_vs_offline",
    "live_decode_errors",
]  # fmt: skip


@pytest.mark.parametrize("venue", ["kalshi", "polymarket"])
def test_a_venue_plan_is_data_for_the_harness(venue: str, tmp_path: Path) -> None:
    adapter = get_venue(venue)
    assert isinstance(adapter, LiveBenchVenue)
    plan = adapter.bench_plan(CAPTURE, tmp_path)
    assert isinstance(plan, BenchPlan)
    assert plan.venue == venue
    assert "--speed" not in plan.venue_args and "--burst" not in plan.venue_args  # the pace is the harness's
    assert plan.url.startswith("ws://127.0.0.1:")
    assert plan.instruments
    assert set(plan.counters) <= set(BENCH_COUNTERS)
    if plan.offline is not None:  # Polymarket: the transcoded messages, under the plan's folder
        assert plan.offline.parent == tmp_path
        assert plan.offline.stat().st_size > 0


@pytest.mark.parametrize(
    ("venue", "extra"), [("kalshi", ["live_seq_gaps", "recorded"]), ("polymarket", ["live_bbo_mismatches"])]
)
def test_the_pool_path_measures_any_venue_next_to_offline_replay(venue: str, extra: list[str]) -> None:
    result = asyncio.run(bench_pool(venue, CAPTURE, LiveBenchOptions(idle=0.5)))
    assert list(result) == POOL_KEYS + extra
    assert result["frames_live"] > 0
    assert result["offline_frames"] > 0
    assert result["live_decode_errors"] == 0


def test_the_pool_path_records_when_the_venue_plan_does(tmp_path: Path) -> None:
    out = tmp_path / "recording"
    adapter = get_venue("kalshi")
    assert isinstance(adapter, LiveBenchVenue)
    ((name, mode, result),) = run_benches({"kalshi": adapter}, CAPTURE, ["pool"], record_to=out)
    assert (name, mode, result["recorded"]) == ("kalshi", "pool", True)
    assert list(out.rglob("*.ndjson.zst"))
