"""Reference prices over real sockets (issue 21, item 3): the loopback Kalshi venue serves
``pyth_value`` / ``cfbenchmarks_value``; ``hadron record`` subscribes the underlying of the recorded
gold market (``kalshi.index_prices = ["auto"]``: KXGOLD → Pyth ``Metal.XAU/USD``), records the
frames, and the replay of the recording turns them into IndexPrice events (into the tick store too)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hadron.app.replay import collect_events
from hadron.model.events import IndexPrice
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.record import record
from tests.integration.test_kalshi_live_loopback import EXCERPT, key_files, slice_capture

__all__ = ["key_files"]  # the fixture, re-used


@pytest.mark.asyncio
async def test_recorded_index_frames_replay_into_index_prices(
    tmp_path: Path, key_files: tuple[Any, Path, Path]
) -> None:
    key, _, _ = key_files
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", lines=400)
    venue = FakeKalshiVenue(load_capture([capture]), public_key=key.public_key(), speed=0)
    venue.index_interval = 0.05
    await venue.start()
    stop = asyncio.Event()
    task = asyncio.create_task(
        record(
            markets=["KXGOLD15M-26AUG102130-30"],
            out=tmp_path / "rec",
            channels=["orderbook_delta", "trade"],
            duration=None,
            url=venue.url,
            stop=stop,
            store=f"parquet:{tmp_path / 'ticks'}",
        )
    )
    await asyncio.wait_for(venue.drained(), timeout=60)
    await asyncio.sleep(1.0)
    stop.set()
    summary = await asyncio.wait_for(task, timeout=30)
    await venue.stop()
    assert summary["decode_errors"] == 0
    assert summary["store"]["rows"]["index_prices"] >= 5  # live: into the tick store as they arrive
    prices = [e for e in collect_events([tmp_path / "rec"], tmp_path / "dl.ndjson") if isinstance(e, IndexPrice)]
    assert len(prices) >= 5
    assert {(p.index, p.source, p.instrument) for p in prices} == {
        ("Metal.XAU/USD", "pyth", "kalshi:index:Metal.XAU/USD")
    }  # only the gold market's underlying was asked for
    assert all(p.ts_event <= p.ts_recv and 2_000 * 10**8 < p.value < 3_000 * 10**8 for p in prices)
