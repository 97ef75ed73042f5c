"""Burst mode of the loopback venues (``--speed 0 --burst``): the same frames as the normal mode.

Each venue plays a capture twice, without and with ``burst``, to a plain websockets client over a
real socket; the payloads received must be byte for byte the same, in the same order. A command
sent while a burst round is being built gets its reply in sequence with the data frames.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from hadron.venues.kalshi import fake as kalshi_fake
from hadron.venues.kalshi.fake_scenario import load_capture as load_kalshi_capture
from hadron.venues.polymarket import fake as polymarket_fake
from hadron.venues.polymarket.fake_scenario import load_capture as load_polymarket_capture
from tests.conftest import FIXTURES, KALSHI_CAPTURE, shared_data

EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
BUSY = "KXGOLD15M-26AUG102130-30"
POLYMARKET_FILES = [
    FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json",
    FIXTURES / "polymarket" / "book_2026.jsonl",
    FIXTURES / "polymarket" / "last_trade_price_2026.jsonl",
]
SHARED_LINES = 20_000


def first_lines(source: Path, dest: Path, lines: int) -> Path:
    """The first ``lines`` lines of a (gzipped) capture, written to ``dest``."""
    with gzip.open(source, "rb") as fh:
        dest.write_bytes(b"".join(itertools.islice(fh, lines)))
    return dest


def shared_capture(tmp: Path) -> Path:
    """The first lines of the real KXGOLD15M capture (skips when ../shared/data is absent)."""
    source = shared_data(KALSHI_CAPTURE / "KXGOLD15M-26AUG102130-30" / "2026-08-11.ndjson.gz")
    return first_lines(source, tmp / "kalshi.ndjson", SHARED_LINES)


async def receive_until(ws: ClientConnection, last: Any) -> list[bytes]:
    """Every frame's payload up to and including the first for which ``last(payload)`` holds."""
    got: list[bytes] = []
    while True:
        message = await asyncio.wait_for(ws.recv(decode=False), timeout=30)
        got.append(message)
        if last(message):
            return got


async def play_out(ws: ClientConnection, drained: Any, end: str | bytes, last: Any) -> list[bytes]:
    """Read while the venue plays; once ``drained()``, send ``end`` and read up to its reply."""
    reader = asyncio.create_task(receive_until(ws, last))
    await asyncio.wait_for(drained(), timeout=60)
    await ws.send(end)
    return await asyncio.wait_for(reader, timeout=60)


# -- Kalshi ------------------------------------------------------------------------------------


async def kalshi_stream(
    capture: Path, *, burst: bool, faults: str = ""
) -> tuple[list[bytes], kalshi_fake.FakeVenueStats]:
    """What one client subscribed to every market's book and trades receives, then the reply to
    ``list_subscriptions`` sent once the venue has played everything."""
    timeline = load_kalshi_capture([capture])
    venue = kalshi_fake.FakeKalshiVenue(
        timeline, public_key=None, speed=0, burst=burst, faults=kalshi_fake.parse_faults(faults)
    )
    await venue.start()
    try:
        async with connect(venue.url, compression=None, max_size=None) as ws:
            tickers = sorted({e.ticker for e in timeline})
            params = {"channels": ["orderbook_delta", "trade"], "market_tickers": tickers}
            await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": params}))
            end = json.dumps({"id": 2, "cmd": "list_subscriptions"})
            frames = await play_out(ws, venue.drained, end, lambda m: m.startswith(b'{"type":"ok","id":2,'))
            assert [c.out is not None for c in venue._clients] == [burst]  # framed ahead only in burst mode
    finally:
        await venue.stop()
    return frames, venue.stats


@pytest.mark.asyncio
async def test_kalshi_burst_sends_the_same_frames_in_the_same_order() -> None:
    normal, normal_stats = await kalshi_stream(EXCERPT, burst=False)
    burst, burst_stats = await kalshi_stream(EXCERPT, burst=True)
    kinds = {json.loads(f)["type"] for f in normal}
    assert {"subscribed", "orderbook_snapshot", "orderbook_delta", "trade", "ok"} <= kinds
    assert len(normal) > 300
    assert burst == normal
    assert burst_stats.sent == normal_stats.sent == len(normal)


@pytest.mark.asyncio
async def test_kalshi_burst_injects_faults_at_the_same_frames() -> None:
    # before a fault the venue lets out what it built and waits for the client to have it all
    faults = "dup@50,gap@120,malformed@200,swap@250,deep@300:50"
    normal, _ = await kalshi_stream(EXCERPT, burst=False, faults=faults)
    burst, _ = await kalshi_stream(EXCERPT, burst=True, faults=faults)
    assert b'{"type":"orderbook_delta","sid":1,"seq":' in normal  # the malformed frame
    assert burst == normal


@pytest.mark.asyncio
@pytest.mark.data
async def test_kalshi_burst_matches_on_the_real_capture(tmp_path: Path) -> None:
    capture = shared_capture(tmp_path)
    normal, _ = await kalshi_stream(capture, burst=False)
    burst, _ = await kalshi_stream(capture, burst=True)
    assert len(normal) > 10_000
    assert burst == normal


@pytest.mark.asyncio
@pytest.mark.parametrize("burst", [False, True])
async def test_kalshi_reply_to_a_command_sent_mid_round_is_in_sequence(burst: bool) -> None:
    # get_snapshot sent while the venue is playing (in burst mode: building the round): its reply
    # lands where the round had got to, and on sid 1 every seq follows the one before, data
    # frames and reply alike
    excerpt = load_kalshi_capture([EXCERPT])
    venue = kalshi_fake.FakeKalshiVenue(excerpt * 20, public_key=None, speed=0, burst=burst)
    await venue.start()
    ticker = BUSY
    try:
        async with connect(venue.url, compression=None, max_size=None) as ws:
            params = {"channels": ["orderbook_delta"], "market_tickers": [ticker]}
            await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": params}))
            reader = asyncio.create_task(receive_until(ws, lambda m: json.loads(m).get("id") == 3))
            while not venue.stats.played:  # noqa: ASYNC110 - the venue runs on this loop
                await asyncio.sleep(0)
            snapshot = {"sids": [1], "market_tickers": [ticker], "action": "get_snapshot"}
            await ws.send(json.dumps({"id": 2, "cmd": "update_subscription", "params": snapshot}))
            await asyncio.wait_for(venue.drained(), timeout=60)
            await ws.send(json.dumps({"id": 3, "cmd": "list_subscriptions"}))
            frames = [json.loads(f) for f in await asyncio.wait_for(reader, timeout=60)]
    finally:
        await venue.stop()
    assert frames[0] == {"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}
    on_sid = [f for f in frames if f.get("sid") == 1]
    assert [f["seq"] for f in on_sid] == list(range(1, len(on_sid) + 1))
    replies = [i for i, f in enumerate(on_sid) if f.get("id") == 2]
    assert len(replies) == 1
    assert on_sid[replies[0]]["type"] == "orderbook_snapshot"
    assert 1 < replies[0] < len(on_sid) - 100  # mid-round: deltas before and after it


# -- Polymarket --------------------------------------------------------------------------------


async def polymarket_stream(captures: list[Path], *, burst: bool) -> tuple[list[bytes], polymarket_fake.FakePolyStats]:
    """What one client subscribed to every token receives, then the ``PONG`` to a ``PING`` sent
    once the venue has played everything."""
    timeline = load_polymarket_capture(captures)
    venue = polymarket_fake.FakePolymarketVenue(timeline, speed=0, burst=burst)
    await venue.start()
    try:
        async with connect(venue.url, compression=None, max_size=None) as ws:
            tokens = sorted({a for item in timeline for a in item.assets})
            await ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
            frames = await play_out(ws, venue.drained, "PING", lambda m: m == b"PONG")
            assert [c.out is not None for c in venue._clients] == [burst]  # framed ahead only in burst mode
    finally:
        await venue.stop()
    return frames, venue.stats


@pytest.mark.asyncio
async def test_polymarket_burst_sends_the_same_frames_in_the_same_order() -> None:
    normal, normal_stats = await polymarket_stream([*POLYMARKET_FILES, EXCERPT], burst=False)
    burst, burst_stats = await polymarket_stream([*POLYMARKET_FILES, EXCERPT], burst=True)
    assert len(normal) > 300
    decoded = [json.loads(f) for f in normal[:-1]]
    kinds = {m["event_type"] for value in decoded for m in (value if isinstance(value, list) else [value])}
    assert {"book", "price_change", "last_trade_price"} <= kinds
    assert burst == normal
    assert burst_stats.sent == normal_stats.sent == len(normal)


@pytest.mark.asyncio
@pytest.mark.data
async def test_polymarket_burst_matches_on_the_real_capture(tmp_path: Path) -> None:
    capture = shared_capture(tmp_path)
    normal, _ = await polymarket_stream([capture], burst=False)
    burst, _ = await polymarket_stream([capture], burst=True)
    assert len(normal) > 10_000
    assert burst == normal
