"""Bare frames (no receive time in the file) replay to the same events every time."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import pytest

import hadron.app.replay as replay_module
from hadron.app.replay import BARE_STEP_NS, BareClock, collect_events
from hadron.model.events import MarketEvent
from hadron.venues.base import FrameClockVenue, get_venue
from tests.conftest import FIXTURES

BARE_FILES = [
    FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json",  # frames-json
    FIXTURES / "polymarket" / "book_2026.jsonl",  # frames-ndjson
    FIXTURES / "kalshi" / "trade.jsonl",  # frames-ndjson
]


def _replay(paths: list[Path], tmp_path: Path, name: str) -> list[MarketEvent]:
    return collect_events(paths, tmp_path / f"{name}.ndjson")


@pytest.mark.parametrize("path", BARE_FILES, ids=lambda p: p.name)
def test_the_same_bare_file_replays_to_identical_ticks(path: Path, tmp_path: Path) -> None:
    first = _replay([path], tmp_path, "first")
    time.sleep(0.002)  # a clock-stamped replay would now differ
    second = _replay([path], tmp_path, "second")
    assert first, path
    assert first == second
    assert [e.ts_recv for e in first] == [e.ts_recv for e in second]


def _untimed_trades(tmp_path: Path) -> Path:
    # The trade fixture with the venue's time taken out of every frame
    out = tmp_path / "untimed-trades.jsonl"
    lines = (FIXTURES / "kalshi" / "trade.jsonl").read_bytes().splitlines()
    out.write_bytes(b"".join(re.sub(rb',"ts(_ms)?":[0-9]+', b"", line) + b"\n" for line in lines if line))
    return out


def test_bare_frames_are_stamped_at_1_us_steps_in_file_order(tmp_path: Path) -> None:
    events = _replay([_untimed_trades(tmp_path)], tmp_path, "trades")
    times = [e.ts_recv for e in events]
    assert times[0] == BARE_STEP_NS
    assert all(b >= a for a, b in itertools.pairwise(times))
    assert all(t % BARE_STEP_NS == 0 and t < 10**9 for t in times)  # far from the wall clock


def test_several_bare_files_replay_identically_together(tmp_path: Path) -> None:
    assert _replay(BARE_FILES, tmp_path, "a") == _replay(BARE_FILES, tmp_path, "b")


class _TimedVenue:
    def frame_time_ns(self, raw: bytes) -> int | None:
        return int(raw) if raw.isdigit() else None


def test_the_clock_takes_the_venue_time_when_it_moves_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(_TimedVenue(), FrameClockVenue)
    monkeypatch.setattr(replay_module, "get_venue", lambda name: _TimedVenue())
    clock = BareClock("timed")
    stamps = [clock(raw) for raw in (b"x", b"5000000", b"y", b"4000000", b"5001000", b"9000000")]
    # no time: +1 µs; a venue time later than the last: taken; earlier or equal: +1 µs
    assert stamps == [1_000, 5_000_000, 5_001_000, 5_002_000, 5_003_000, 9_000_000]


def test_the_clock_counts_from_its_start_without_venue_times() -> None:
    clock = BareClock("kalshi", 7_000)
    assert [clock(b"{}") for _ in range(3)] == [8_000, 9_000, 10_000]


def test_bare_kalshi_trades_are_stamped_with_their_venue_time(tmp_path: Path) -> None:
    # The fixture's trades carry the deprecated ``ts`` (int s); frames sharing a second step by 1 µs
    events = _replay([FIXTURES / "kalshi" / "trade.jsonl"], tmp_path, "trades")
    times = [e.ts_recv for e in events]
    assert times[0] == 1_770_897_981 * 10**9
    assert all(b > a for a, b in itertools.pairwise(times))
    assert all(t % 10**9 < 10**6 for t in times)  # each within 1 ms of its whole second


def test_bare_polymarket_frames_are_stamped_with_their_timestamp(tmp_path: Path) -> None:
    events = _replay([FIXTURES / "polymarket" / "book_2026.jsonl"], tmp_path, "books")
    assert events
    assert all(e.ts_recv > 1_700_000_000 * 10**9 for e in events)


KALSHI_TIMES = [
    (b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"M","price_dollars":"0.0100",'
     b'"delta_fp":"10.00","side":"yes","ts":"2026-08-27T13:56:23.996443Z","ts_ms":1787838983996}}',
     1_787_838_983_996_000_000),
    (b'{"type":"trade","sid":2,"msg":{"trade_id":"t","market_ticker":"M","ts":1669149841,"ts_ms":1669149841000}}',
     1_669_149_841_000_000_000),
    (b'{"type":"ticker","sid":1,"msg":{"market_ticker":"M","ts":1770897976}}', 1_770_897_976_000_000_000),
    (b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"M","yes_dollars_fp":[]}}', None),
    (b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"ts":"2026-08-27T13:56:23.996443Z"}}', None),
    (b'{"type":"ok","id":3,"msg":[]}', None),
]  # fmt: skip

POLYMARKET_TIMES = [
    (b'{"event_type":"book","asset_id":"1","timestamp":"1757908892351","bids":[],"asks":[]}',
     1_757_908_892_351_000_000),
    (b'[{"event_type":"book","asset_id":"1","timestamp":"1757908892351"},'
     b'{"event_type":"book","asset_id":"2","timestamp":"1757908892352"}]', 1_757_908_892_351_000_000),
    (b'{"event_type":"price_change","market":"0x1","price_changes":[],"timestamp":"1757908892400"}',
     1_757_908_892_400_000_000),
    (b'{"event_type":"book","asset_id":"1","bids":[],"asks":[]}', None),
    (b"PONG", None),
    (b"[]", None),
]  # fmt: skip

HOSTILE = [
    b"", b"\xff\xfe\x00", b"{", b"[" * 100_000, b'{"msg":{"ts_ms":-1}}', b'{"msg":{"ts_ms":true}}',
    b'{"msg":{"ts_ms":1.5e12}}', b'{"msg":{"ts_ms":' + b"9" * 400 + b"}}", b'{"msg":{"ts":"1770897976"}}',
    b'{"msg":"x"}', b'{"msg":null}', b'{"timestamp":"1_000"}', b'{"timestamp":"\\u0661\\u0662"}',
    b'{"timestamp":"-5"}', b'{"timestamp":"' + b"9" * 40 + b'"}', b'{"timestamp":null}', b"[1,2]",
    b'[{"timestamp":{}}]', b'"1757908892351"', b"1757908892351",
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), KALSHI_TIMES)
def test_kalshi_frame_time(raw: bytes, expected: int | None) -> None:
    adapter = get_venue("kalshi")
    assert isinstance(adapter, FrameClockVenue)
    assert adapter.frame_time_ns(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), POLYMARKET_TIMES)
def test_polymarket_frame_time(raw: bytes, expected: int | None) -> None:
    adapter = get_venue("polymarket")
    assert isinstance(adapter, FrameClockVenue)
    assert adapter.frame_time_ns(raw) == expected


@pytest.mark.parametrize("venue", ["kalshi", "polymarket"])
def test_hostile_bytes_carry_no_venue_time(venue: str) -> None:
    adapter = get_venue(venue)
    assert isinstance(adapter, FrameClockVenue)
    for raw in HOSTILE:
        assert adapter.frame_time_ns(raw) is None, raw[:40]
