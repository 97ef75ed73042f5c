"""The Polymarket live path over real sockets: loopback venue → client → recording → replay."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
import uvicorn
import websockets

from hadron.app.replay import Replay
from hadron.book.manager import BookManager, BookState
from hadron.store.deadletter import DeadLetterFile
from hadron.venues.polymarket.fake import FakePolymarketVenue, parse_faults
from hadron.venues.polymarket.fake_scenario import load_capture, transcode_kalshi
from hadron.venues.polymarket.rest import PolymarketClobClient
from hadron.venues.polymarket.ws import PolymarketPool, recorder_factory
from hadron.venues.session import Backoff
from tests.conftest import FIXTURES, KALSHI_CAPTURE, shared_data

BURST = FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json"
KALSHI_EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"


def transcoded(source: Path, tmp: Path, lines: int | None = None) -> tuple[Path, Path]:
    """A slice of a real Kalshi capture, and the same flow as Polymarket messages in a file."""
    capture = tmp / "kalshi.ndjson"
    with gzip.open(source, "rb") as fh:
        kept = list(itertools.islice(fh, lines))
    capture.write_bytes(b"".join(kept[:-2] if lines is None else kept))  # keep the book open
    messages = tmp / "polymarket.ndjson"
    with messages.open("wb") as fh:
        for recv_ms, msg in transcode_kalshi([capture]):
            fh.write(msgspec.json.encode({"recv_ms": recv_ms, "event": msg}) + b"\n")
    return capture, messages


def replay(paths: list[Path], tmp: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    run = Replay(dead_letter=tmp / f"dl-{time.monotonic_ns()}.ndjson")
    run.run(paths)
    return run.dump_books(), run.report()


async def record_from(
    venue: FakePolymarketVenue, tokens: list[str], out: Path, **kwargs: Any
) -> tuple[PolymarketPool, BookManager]:
    books = BookManager()
    dead_letter = DeadLetterFile(out / "dl.ndjson")
    pool = PolymarketPool(
        venue.url,
        books,
        tokens,
        dead_letter=dead_letter,
        recorder=recorder_factory(out),
        backoff=Backoff(base=0.02, max_delay=0.2),
        **kwargs,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pool.run(stop))
    await asyncio.wait_for(venue.drained(), timeout=120)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    dead_letter.close()
    return pool, books


@pytest.mark.asyncio
async def test_real_burst_recorded_from_the_venue_replays_to_the_same_book(tmp_path: Path) -> None:
    venue = FakePolymarketVenue(load_capture([BURST]), speed=0)
    await venue.start()
    token = json.loads(BURST.read_text())[0]["asset_id"]
    await record_from(venue, [token], tmp_path / "rec")
    await venue.stop()
    recorded, report = replay([tmp_path / "rec"], tmp_path)
    direct, _ = replay([BURST], tmp_path)
    assert recorded == direct
    assert (report["bbo_checks"], report["bbo_mismatches"]) == (49, 2)  # the venue's own transient cross


@pytest.mark.asyncio
async def test_transcoded_kalshi_flow_same_books_with_drops_and_malformed_frames(tmp_path: Path) -> None:
    capture, messages = transcoded(KALSHI_EXCERPT, tmp_path)
    for faults, name in (("", "clean"), ("drop@60,malformed@120,drop@200", "faulty")):
        venue = FakePolymarketVenue(load_capture([capture]), speed=0, faults=parse_faults(faults))
        await venue.start()
        tokens = sorted({a for item in venue.timeline for a in item.assets})
        pool, _ = await record_from(venue, tokens, tmp_path / name)
        await venue.stop()
        recorded, report = replay([tmp_path / name], tmp_path)
        direct, direct_report = replay([messages], tmp_path)
        assert recorded == direct, name
        assert report["bbo_mismatches"] == 0 and direct_report["bbo_mismatches"] == 0
        assert len(recorded) == 2  # the YES and NO token books
        if faults:
            conn = pool.report()["connections"]["polymarket-0"]
            assert conn["reconnects"] == 2 and report["decode_errors"] == 1
    # the YES token's book is the Kalshi book in YES terms
    kalshi_books, _ = replay([capture], tmp_path)
    assert next(iter(kalshi_books.values())) in list(direct.values())


@pytest.mark.asyncio
@pytest.mark.data
async def test_a_silent_freeze_is_detected_and_healed_by_the_watchdog(tmp_path: Path) -> None:
    source = shared_data(next((KALSHI_CAPTURE / "KXGOLD15M-26AUG102130-30").glob("*.ndjson.gz"), KALSHI_CAPTURE / "x"))
    capture, messages = transcoded(source, tmp_path, lines=6_000)
    venue = FakePolymarketVenue(load_capture([capture]), speed=0, faults=parse_faults("freeze@2000:60"))
    await venue.start()
    server = uvicorn.Server(uvicorn.Config(venue.exchange.rest_app(), host="127.0.0.1", port=0, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    stop = asyncio.Event()
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        rest_url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        tokens = sorted({a for item in venue.timeline for a in item.assets})
        async with PolymarketClobClient(rest_url) as clob:
            dead_letter = DeadLetterFile(tmp_path / "dl.ndjson")
            pool = PolymarketPool(
                venue.url,
                BookManager(),
                tokens,
                dead_letter=dead_letter,
                recorder=recorder_factory(tmp_path / "rec"),
                rest=clob,
                freeze_window=1.0,
                freeze_check_interval=0.2,
                ping_interval=0.3,
            )
            task = asyncio.create_task(pool.run(stop))
            await asyncio.wait_for(venue.drained(), timeout=60)  # played out while the client was frozen
            frozen_at = time.monotonic()
            while pool.freeze.resubscribed == 0 and time.monotonic() - frozen_at < 30:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            healed_in = time.monotonic() - frozen_at
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            dead_letter.close()
    finally:
        stop.set()
        server.should_exit = True
        await serving
        await venue.stop()
    assert pool.freeze.frozen >= 1 and pool.freeze.resubscribed >= 1
    assert healed_in < 10  # window 1 s + check interval 0.2 s + REST; the venue alone would stay frozen 60 s
    assert pool.report()["connections"]["polymarket-0"]["pongs"] >= 1  # it kept answering PING
    recorded, _ = replay([tmp_path / "rec"], tmp_path)
    direct, _ = replay([messages], tmp_path)
    assert recorded == direct
    print(f"freeze: {pool.report()['freeze']}, healed {healed_in:.2f} s after the venue went quiet")


@pytest.mark.asyncio
async def test_ping_before_subscribing_closes_with_1008_and_a_second_market_frame_is_invalid() -> None:
    venue = FakePolymarketVenue(load_capture([BURST]), speed=0)
    await venue.start()
    try:
        async with websockets.connect(venue.url) as ws:
            await ws.send("PING")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert closed.value.rcvd.reason == "invalid subscription payload"
        async with websockets.connect(venue.url) as ws:
            token = json.loads(BURST.read_text())[0]["asset_id"]
            await ws.send(json.dumps({"assets_ids": [token], "type": "market"}))
            first = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            assert isinstance(first, list) and first[0]["event_type"] == "book"
            await ws.send(json.dumps({"assets_ids": [token], "type": "market"}))
            await ws.send("PING")
            texts: set[str] = set()
            while not {"INVALID OPERATION", "PONG"} <= texts:  # data frames may come in between
                reply = await asyncio.wait_for(ws.recv(), timeout=5)
                if isinstance(reply, str) and not reply.startswith(("{", "[")):
                    texts.add(reply)
    finally:
        await venue.stop()
    assert venue.stats.closed_1008 == 1 and venue.stats.invalid_operations == 1


@pytest.mark.asyncio
async def test_client_never_pings_before_subscribing_and_sends_operations_after(tmp_path: Path) -> None:
    venue = FakePolymarketVenue(load_capture([BURST]), speed=0, start_on_subscribe=False)
    await venue.start()
    frames = json.loads(BURST.read_text())
    token_a = frames[0]["asset_id"]
    token_b = next(c["asset_id"] for c in frames[1]["price_changes"] if c["asset_id"] != token_a)
    books = BookManager()
    pool = PolymarketPool(
        venue.url, books, [], dead_letter=DeadLetterFile(tmp_path / "dl"), ping_interval=0.1, groups={}
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pool.run(stop))
    await asyncio.sleep(0.5)  # connected with nothing to subscribe: no PING may go out
    assert venue.stats.pings == 0 and venue.stats.closed_1008 == 0
    await pool.subscribe([token_a])
    await pool.subscribe([token_b, token_a])  # token_a counted twice
    await asyncio.sleep(0.5)
    await pool.unsubscribe([token_a])  # still wanted once
    assert pool.refs == {token_a: 1, token_b: 1}
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    await venue.stop()
    assert venue.stats.pings >= 1 and venue.stats.closed_1008 == 0 and venue.stats.invalid_operations == 0
    assert books.book(f"polymarket:{token_a}").ever_live


def test_yes_and_no_tokens_share_a_connection() -> None:
    books = BookManager()
    groups = {f"{i}{side}": f"m{i}" for i in range(5) for side in "12"}
    pool = PolymarketPool(
        "ws://unused",
        books,
        list(groups),
        groups=groups,
        max_tokens_per_connection=3,
        dead_letter=DeadLetterFile(Path("/dev/null")),
    )
    assert [sorted(c.tokens) for c in pool.connections] == [
        ["01", "02"],
        ["11", "12"],
        ["21", "22"],
        ["31", "32"],
        ["41", "42"],
    ]
    assert all(
        books.get(f"polymarket:{t}") is None or books.book(f"polymarket:{t}").state is BookState.AWAITING_SNAPSHOT
        for t in groups
    )
