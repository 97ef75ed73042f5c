"""The fault matrix: each fault the loopback Kalshi venue can inject, over real sockets, on the real
capture the demo plays; the client's final book must equal an offline replay of the capture, and the
time the book spent away from LIVE (its recovery time) is measured and written to
``$HADRON_FAULT_REPORT`` (JSON lines) when set, for docs/RELIABILITY.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from hadron.app.demo import DEMO_MARKET, demo_capture
from hadron.app.replay import Replay
from hadron.book.manager import BookManager, BookState
from hadron.model.units import format_price, format_size
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue, parse_faults
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.pool import KalshiPool
from hadron.venues.kalshi.ws import Backoff
from tests.conftest import ListDeadLetter

INSTRUMENT = f"kalshi:{DEMO_MARKET}"
REPORT = os.environ.get("HADRON_FAULT_REPORT")


def _dump(books: BookManager) -> dict[str, Any]:
    return {
        b.instrument: {
            "bids": [[format_price(p), format_size(s)] for p, s in b.levels_bid()],
            "asks": [[format_price(p), format_size(s)] for p, s in b.levels_ask()],
        }
        for b in books
        if b.ever_live
    }


def _offline(tmp: Path) -> dict[str, Any]:
    run = Replay(dead_letter=tmp / "offline.deadletter.ndjson")
    run.run([demo_capture()])
    return run.dump_books()


async def _run(faults: str, tmp: Path, *, silence_timeout: float = 5.0) -> dict[str, Any]:
    key, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([demo_capture()]), public_key=key.public_key(), speed=0,
                            faults=parse_faults(faults))  # fmt: skip
    await venue.start()
    books = BookManager()
    dead = ListDeadLetter()
    pool = KalshiPool(
        venue.url,
        [KalshiSigner("k", key)],
        books,
        [DEMO_MARKET],
        dead_letter=dead,
        backoff=Backoff(base=0.05, max_delay=0.5),
        silence_timeout=silence_timeout,
    )
    transitions: list[tuple[float, BookState]] = []

    async def watch() -> None:
        last = None
        while True:
            book = books.get(INSTRUMENT)
            state = book.state if book is not None else None
            if state is not None and state is not last:
                transitions.append((time.monotonic(), state))
                last = state
            await asyncio.sleep(0.0005)

    stop = asyncio.Event()
    watcher = asyncio.create_task(watch())
    task = asyncio.create_task(pool.run(stop))
    await asyncio.wait_for(venue.drained(), timeout=120)
    await asyncio.sleep(1.0)
    final = books.get(INSTRUMENT)
    final_state = final.state if final is not None else None
    watcher.cancel()
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    await venue.stop()
    recoveries = []
    for name, at in venue.fault_times:
        left = next((t for t, s in transitions if t >= at and s is not BookState.LIVE), None)
        back = next((t for t, s in transitions if left is not None and t > left and s is BookState.LIVE), None)
        recoveries.append({"fault": name, "left_live": left is not None,
                           "recovery_ms": round((back - at) * 1000, 1) if back is not None else 0.0})  # fmt: skip
    conn = pool.connections[0].stats
    return {
        "dead_letter_errors": [error for _, error, _ in dead.items],
        "books": _dump(books),
        "recoveries": recoveries,
        "reconnects": conn.reconnects,
        "resync_requests": pool.stats.resync_requests,
        "decode_errors": pool.stats.decode_errors,
        "dead_letters": len(dead.items),
        "seq_duplicates": pool.stats.seq_duplicates,
        "seq_gaps": pool.stats.seq_gaps,
        "final_state": final_state,
    }


FAULTS = {
    "disconnect ×3": "drop@3000,drop@7000,drop@11000",
    "disconnect in a resync (mid-snapshot)": "dropsnap@4000,gap@4000",
    "seq gap": "gap@5000",
    "duplicated frame": "dup@5000",
    "reordered frames": "swap@5000",
    "malformed frame": "malformed@5000",
    "oversized frame (2 MiB)": "huge@5000:2",
    "frame over the 4 MiB limit (5 MiB)": "huge@5000:5",
    "frame nested 1,000 deep": "deep@5000:1000",
    "silence 7 s (no frames, the socket open)": "silence@5000:7",
    "subscription buffer overflow (error 25)": "error@5000:25",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(FAULTS))
async def test_fault_recovers_to_the_same_book(name: str, tmp_path: Path) -> None:
    result = await _run(FAULTS[name], tmp_path, silence_timeout=3.0)
    assert result["books"] == _offline(tmp_path), name
    assert result["final_state"] is BookState.LIVE
    if REPORT:
        with open(REPORT, "a") as out:  # noqa: ASYNC230 - a few bytes after the run
            kept = {k: v for k, v in result.items() if k not in ("books", "final_state", "dead_letter_errors")}
            out.write(json.dumps({"name": name, **kept}) + "\n")
    kinds = FAULTS[name]
    if "malformed" in kinds or "huge" in kinds:
        assert result["decode_errors"] >= 1 or result["reconnects"] >= 1
    if kinds == "huge@5000:5":  # past max_size: never held, the connection closed (1009) and dialled again
        assert result["reconnects"] == 1
        assert any("over the 4,194,304-byte limit" in error for error in result["dead_letter_errors"])
    if "deep" in kinds:  # contained: dead-lettered, the book never left LIVE (it ended the feed before)
        assert result["decode_errors"] == 1 and not result["recoveries"][0]["left_live"]
    if "dup" in kinds:
        assert result["seq_duplicates"] >= 1 and not result["recoveries"][0]["left_live"]
    if "gap" in kinds or "swap" in kinds:
        assert result["seq_gaps"] >= 1 and result["recoveries"][0]["left_live"]
    if kinds.startswith("drop@"):
        assert result["reconnects"] == 3


class _SkewedSigner(KalshiSigner):
    """A client whose clock runs ``skew_ms`` behind."""

    skew_ms = 10_000

    def headers(self, method: str, path: str, *, ts_ms: int | None = None) -> dict[str, str]:
        return super().headers(method, path, ts_ms=int(time.time() * 1000) - self.skew_ms)


@pytest.mark.asyncio
async def test_clock_skew_beyond_the_venue_window_is_a_clear_auth_error() -> None:
    from hadron.errors import AuthError

    key, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([demo_capture()]), public_key=key.public_key(), speed=0)
    await venue.start()
    pool = KalshiPool(venue.url, [_SkewedSigner("k", key)], BookManager(), [DEMO_MARKET],
                      dead_letter=ListDeadLetter(), backoff=Backoff(base=0.01, max_delay=0.05))  # fmt: skip
    started = time.monotonic()
    with pytest.raises(AuthError, match="401"):
        await asyncio.wait_for(pool.run(asyncio.Event()), 10)
    elapsed = time.monotonic() - started
    await venue.stop()
    assert venue.stats.auth_failures >= 1 and elapsed < 5  # refused at once, never retried
    if REPORT:
        with open(REPORT, "a") as out:  # noqa: ASYNC230
            out.write(json.dumps({"name": "clock skew 10 s", "error_after_ms": round(elapsed * 1000, 1)}) + "\n")


def test_a_slow_recorder_drops_from_the_recording_only_and_counts(tmp_path: Path) -> None:
    from hadron.store.recorder import AsyncFrameRecorder, FrameRecorder

    recorder = AsyncFrameRecorder(FrameRecorder(tmp_path, "kalshi", "slow"), max_queue=100)
    for n in range(1_000):  # the writer never got to run: the queue stays full
        recorder.write(n, b'{"type":"orderbook_delta"}')
    assert recorder.dropped == 900 and len(recorder._queue) == 100  # 100 waiting to be written


@pytest.mark.asyncio
async def test_401_on_reconnect_fails_fast_with_a_clear_error() -> None:
    from hadron.errors import AuthError

    revoked, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([demo_capture()]), public_key=revoked.public_key(), speed=1.0)
    await venue.start()
    books = BookManager()
    pool = KalshiPool(venue.url, [KalshiSigner("revoked", revoked)], books, [DEMO_MARKET],
                      dead_letter=ListDeadLetter(), backoff=Backoff(base=0.01, max_delay=0.05))  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(pool.run(stop))
    for _ in range(500):
        book = books.get(INSTRUMENT)
        if book is not None and book.state is BookState.LIVE:
            break
        await asyncio.sleep(0.01)
    other, _, _ = generate_test_key()
    venue.public_key = other.public_key()  # the key is revoked while connected
    dropped = time.monotonic()
    for client in list(venue._clients):
        client.ws.transport.abort()
    with pytest.raises(AuthError):
        await asyncio.wait_for(task, 10)
    elapsed = time.monotonic() - dropped
    await venue.stop()
    assert elapsed < 5 and venue.stats.auth_failures >= 1  # one refused redial, no retry storm
    assert books.get(INSTRUMENT).state is BookState.AWAITING_SNAPSHOT  # type: ignore[union-attr]
    if REPORT:
        with open(REPORT, "a") as out:  # noqa: ASYNC230
            out.write(json.dumps({"name": "401 on reconnect", "error_after_ms": round(elapsed * 1000, 1)}) + "\n")


# -- Polymarket ----------------------------------------------------------------------------------

POLY_FAULTS = {
    "polymarket disconnect ×2": "drop@3000,drop@9000",
    "polymarket malformed frame": "malformed@5000",
    "polymarket dead path, no PONG (12 s)": "mute@5000:12",
}


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(POLY_FAULTS))
async def test_polymarket_fault_recovers_to_the_same_books(name: str, tmp_path: Path) -> None:
    import msgspec

    from hadron.venues.polymarket.fake import FakePolymarketVenue
    from hadron.venues.polymarket.fake import parse_faults as poly_faults
    from hadron.venues.polymarket.fake_scenario import load_capture as load_poly
    from hadron.venues.polymarket.fake_scenario import transcode_kalshi
    from hadron.venues.polymarket.ws import PolymarketPool

    messages = tmp_path / "polymarket.ndjson"
    with messages.open("wb") as fh:
        for recv_ms, msg in transcode_kalshi([demo_capture()]):
            fh.write(msgspec.json.encode({"recv_ms": recv_ms, "event": msg}) + b"\n")
    venue = FakePolymarketVenue(load_poly([demo_capture()]), speed=0, faults=poly_faults(POLY_FAULTS[name]))
    await venue.start()
    tokens = sorted({a for item in venue.timeline for a in item.assets})
    books = BookManager()
    dead = ListDeadLetter()
    pool = PolymarketPool(
        venue.url, books, tokens, dead_letter=dead, backoff=Backoff(base=0.05, max_delay=0.5),
        ping_interval=1.0, pong_timeout=3.0,
    )  # fmt: skip
    transitions: list[tuple[float, bool]] = []

    async def watch() -> None:
        last = None
        while True:
            live = all((b := books.get(f"polymarket:{t}")) is not None and b.state is BookState.LIVE for t in tokens)
            if live is not last:
                transitions.append((time.monotonic(), live))
                last = live
            await asyncio.sleep(0.0005)

    stop = asyncio.Event()
    watcher = asyncio.create_task(watch())
    task = asyncio.create_task(pool.run(stop))
    await asyncio.wait_for(venue.drained(), timeout=120)
    if "mute" in POLY_FAULTS[name]:  # what was lost on the dead path comes back with the new connection
        deadline = time.monotonic() + 60
        while not (pool.connections[0].stats.reconnects and transitions and transitions[-1][1]):
            assert time.monotonic() < deadline, "the dead path was never recycled"
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    final = _dump(books)
    watcher.cancel()
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    await venue.stop()
    run = Replay(dead_letter=tmp_path / "offline.ndjson")
    run.run([messages])
    assert final == run.dump_books()
    recoveries = []
    for fault, at in venue.fault_times:
        left = next((t for t, live in transitions if t >= at and not live), None)
        back = next((t for t, live in transitions if left is not None and t > left and live), None)
        recoveries.append({"fault": fault, "left_live": left is not None,
                           "recovery_ms": round((back - at) * 1000, 1) if back is not None else 0.0})  # fmt: skip
    conn = pool.connections[0].stats
    if "drop" in POLY_FAULTS[name]:
        assert conn.reconnects == 2 and all(r["left_live"] for r in recoveries)
    elif "mute" in POLY_FAULTS[name]:  # no PONG for 3 s: recycled, re-based on fresh books
        assert conn.recycles >= 1 and conn.reconnects >= 1 and recoveries[0]["left_live"]
    else:
        assert pool.stats.decode_errors == 1 and len(dead.items) == 1 and not recoveries[0]["left_live"]
    if REPORT:
        with open(REPORT, "a") as out:  # noqa: ASYNC230
            out.write(json.dumps({"name": name, "recoveries": recoveries, "reconnects": conn.reconnects}) + "\n")
