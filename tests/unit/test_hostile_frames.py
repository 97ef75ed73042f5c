"""Issue 19 (items 2 and 8): no frame ends a stream, identifiers are bounded, the WebSocket retry
classifier is per venue, ``Retry-After`` is capped, and the runtime shows a failed feed DOWN."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx
import msgspec
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from hadron.book.manager import BookManager, BookState
from hadron.errors import AuthError, RequestError, TransportError
from hadron.venues.base import FeedStats
from hadron.venues.http import MAX_RETRY_AFTER_S, RetryingHttpClient, retry_after_seconds
from hadron.venues.kalshi.messages import MAX_TICKER_LENGTH
from hadron.venues.kalshi.stream import KalshiStream
from hadron.venues.polymarket.messages import MAX_ID_LENGTH
from hadron.venues.polymarket.stream import PolymarketStream
from hadron.venues.wsclient import classify_failure, is_retryable
from tests.conftest import ListDeadLetter

DEPTH = 1_000  # what the issue reported: valid JSON this deep raised RecursionError out of on_frame
TOKEN = "7" * 77

KALSHI_SNAPSHOT = (
    b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T",'
    b'"yes_dollars_fp":[["0.4000","10.00"]],"no_dollars_fp":[["0.5000","5.00"]]}}'
)
KALSHI_DELTA = (
    b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price_dollars":"0.4100",'
    b'"delta_fp":"3.00","side":"yes"}}'
)


def _poly_book(token: str = TOKEN) -> bytes:
    return msgspec.json.encode(
        {"event_type": "book", "asset_id": token, "market": "0x" + "a" * 64, "timestamp": "1790000000000",
         "bids": [{"price": "0.40", "size": "10"}], "asks": [{"price": "0.60", "size": "5"}]}
    )  # fmt: skip


def _deep_frames(kind_field: str, kind: str) -> list[bytes]:
    """Valid JSON nested DEPTH levels, in the shapes that reach msgspec's recursion: a bare array,
    an unknown field of a known message, and an unknown object under a message's body."""
    arrays = b"[" * DEPTH + b"]" * DEPTH
    objects = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH
    head = b'{"%s":"%s","sid":1,"seq":9,' % (kind_field.encode(), kind.encode())
    return [arrays, objects, head + b'"x":' + arrays + b"}", head + b'"msg":' + objects + b"}"]


@pytest.mark.parametrize("venue", ["kalshi", "polymarket"])
def test_json_nested_a_thousand_deep_is_dead_lettered_and_the_stream_goes_on(venue: str) -> None:
    books, dead, stats = BookManager(), ListDeadLetter(), FeedStats()
    stream: KalshiStream | PolymarketStream
    if venue == "kalshi":
        stream = KalshiStream(books, "c", stats=stats, dead_letter=dead)
        frames, snapshot, instrument = _deep_frames("type", "orderbook_delta"), KALSHI_SNAPSHOT, "kalshi:T"
    else:
        stream = PolymarketStream(books, "c", stats=stats, dead_letter=dead)
        frames, snapshot, instrument = _deep_frames("event_type", "book"), _poly_book(), f"polymarket:{TOKEN}"
    for frame in frames:
        stream.on_frame(frame, 1)  # raised RecursionError before
    for frame in frames:  # the same through a capture line (replay)
        stream.on_capture_line(b'{"recv_ms":1,"event":' + frame + b"}")
    assert stats.decode_errors == len(dead.items) == 2 * len(frames)
    assert [raw for raw, _, _ in dead.items[: len(frames)]] == frames  # each kept byte for byte
    assert all(error for _, error, _ in dead.items)
    stream.on_frame(snapshot, 2)
    book = books.get(instrument)
    assert book is not None and book.state is BookState.LIVE


def test_an_unexpected_exception_in_one_frame_is_contained_and_its_book_resyncs() -> None:
    books, dead, stats = BookManager(), ListDeadLetter(), FeedStats()
    calls: list[object] = []

    def sink(event: object) -> None:  # a bug downstream: the third event blows up
        calls.append(event)
        if len(calls) == 2:
            raise RuntimeError("boom")

    stream = KalshiStream(books, "c", stats=stats, dead_letter=dead, on_event=sink)
    stream.on_frame(KALSHI_SNAPSHOT, 1)
    stream.on_frame(KALSHI_DELTA, 2)  # raised RuntimeError out of on_frame before
    assert stats.decode_errors == 1 and dead.items[0][0] == KALSHI_DELTA
    assert "unexpected RuntimeError: boom" in dead.items[0][1]
    assert books.book("kalshi:T").state is BookState.AWAITING_SNAPSHOT  # the update may be lost
    stream.on_frame(KALSHI_SNAPSHOT.replace(b'"seq":1', b'"seq":3'), 3)
    assert books.book("kalshi:T").state is BookState.LIVE


def test_identifiers_are_bounded_so_a_huge_one_never_becomes_a_book() -> None:
    books, dead, stats = BookManager(), ListDeadLetter(), FeedStats()
    kalshi = KalshiStream(books, "k", stats=stats, dead_letter=dead)
    long_ticker = "T" * (MAX_TICKER_LENGTH + 1)
    kalshi.on_frame(KALSHI_SNAPSHOT.replace(b'"T"', f'"{long_ticker}"'.encode()), 1)
    kalshi.on_frame(KALSHI_SNAPSHOT.replace(b'"T"', f'"{"T" * MAX_TICKER_LENGTH}"'.encode()), 1)
    poly = PolymarketStream(books, "p", stats=FeedStats(), dead_letter=dead)
    poly.on_frame(_poly_book("9" * (MAX_ID_LENGTH + 1)), 1)
    poly.on_frame(_poly_book("9" * 78), 1)  # a uint256 in decimal: 78 digits at most
    assert sorted(len(b.instrument) for b in books) == sorted(
        [len("kalshi:") + MAX_TICKER_LENGTH, len("polymarket:") + 78]
    )
    assert len(dead.items) == 2 and all("length" in error for _, error, _ in dead.items)


def _refused(status: int) -> InvalidStatus:
    return InvalidStatus(Response(status, "refused", Headers(), b"blocked"))


def test_a_403_on_polymarkets_public_channel_is_retried_but_kalshis_401_403_stay_fatal() -> None:
    for status in (401, 403):
        public = classify_failure(_refused(status), "Polymarket", public=True)
        assert isinstance(public, TransportError) and is_retryable(public)
        signed = classify_failure(_refused(status), "Kalshi")
        assert isinstance(signed, AuthError) and not is_retryable(signed)
    assert isinstance(classify_failure(_refused(404), "Polymarket", public=True), RequestError)  # a wrong URL
    assert is_retryable(classify_failure(_refused(429), "Polymarket", public=True))


@pytest.mark.parametrize(
    ("header", "expected"),
    [("inf", None), ("nan", None), ("-5", None), ("1e999", None), ("30", 30.0), ("600", MAX_RETRY_AFTER_S),
     ("Wed, 21 Oct 2015 07:28:00 GMT", None), ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_S), ("soon", None)],
)  # fmt: skip
def test_retry_after_is_capped_and_nonsense_ignored(header: str, expected: float | None) -> None:
    assert retry_after_seconds(header, time.time()) == expected


def test_a_429_asking_to_wait_forever_waits_at_most_the_cap() -> None:
    slept: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "inf"}), httpx.Response(429, headers={"Retry-After": "86400"}),
                    httpx.Response(200, content=b"ok")])  # fmt: skip

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> bytes:
        transport = httpx.MockTransport(lambda request: next(answers))
        async with RetryingHttpClient("http://venue", transport=transport, sleep=sleep, random=lambda: 0.0) as client:
            return await client._send("GET", "/x")

    assert asyncio.run(main()) == b"ok"
    assert slept == [0.5, MAX_RETRY_AFTER_S]  # inf: ignored (the back-off decides); a day: capped at 60 s
    assert all(math.isfinite(s) for s in slept)


class _FlakyFeed:
    """A feed whose first run fails with a bug, then runs until stopped."""

    venue = "polymarket"

    def __init__(self) -> None:
        self.stats = FeedStats()
        self.runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("a bug in the feed")
        await stop.wait()

    def health(self) -> dict[str, Any]:
        from hadron.venues.session import pool_health

        return pool_health([], shard="tokens")


def test_a_feed_that_fails_unexpectedly_is_down_then_runs_again(tmp_path: Any) -> None:
    from hadron.app.runtime import Runtime
    from hadron.config import load_config
    from hadron.metrics import RuntimeCollector
    from hadron.venues.polymarket.fake_scenario import pairs_toml

    (tmp_path / "pairs.toml").write_text(pairs_toml(["KXGOLD15M-26AUG102130-30"]))
    (tmp_path / "hadron.toml").write_text(f'[runtime]\npairs = "{tmp_path / "pairs.toml"}"\nport = 0\n')
    runtime = Runtime(load_config(tmp_path / "hadron.toml", environ={}, dotenv=None))
    feed = _FlakyFeed()
    runtime.feeds = [feed]
    registry = CollectorRegistry()
    registry.register(RuntimeCollector(runtime.metrics_snapshot))
    seen: dict[str, Any] = {}

    async def main() -> None:
        task = asyncio.create_task(runtime._feed(feed))  # the RuntimeError ended this task before
        await asyncio.sleep(0.2)
        seen["down"] = runtime.feeds_view()["polymarket"]
        seen["metrics_down"] = generate_latest(registry).decode()
        for _ in range(100):  # the back-off: 1 s (+ up to 25 %)
            if feed.runs == 2:
                break
            await asyncio.sleep(0.05)
        seen["up"] = runtime.feeds_view()["polymarket"]
        seen["metrics_up"] = generate_latest(registry).decode()
        runtime.stop()
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert seen["down"]["state"] == "down" and "RuntimeError: a bug in the feed" in seen["down"]["down_reason"]
    assert 'hadron_feed_up{venue="polymarket"} 0.0' in seen["metrics_down"]
    assert seen["up"]["state"] == "up" and seen["up"]["restarts"] == 1 and feed.runs == 2
    assert 'hadron_feed_up{venue="polymarket"} 1.0' in seen["metrics_up"]
    assert 'hadron_feed_restarts_total{venue="polymarket"} 1.0' in seen["metrics_up"]
    assert runtime.errors == []  # recovered: not a failure for good, the run goes on


def test_a_lifecycle_time_beyond_64_bit_ns_is_dead_lettered_and_the_book_stays_live() -> None:
    # close_ts 99,999,999,999,999 s is ~3 million years: in ns it does not fit the books' 64-bit fields
    books, dead, stats = BookManager(), ListDeadLetter(), FeedStats()
    events: list[object] = []
    kalshi = KalshiStream(books, "k", stats=stats, dead_letter=dead, on_event=events.append)
    kalshi.on_frame(KALSHI_SNAPSHOT, 1)
    for close_ts in (99_999_999_999_999, -1):
        frame = (
            '{"type":"market_lifecycle_v2","sid":3,"seq":1,"msg":{"market_ticker":"T",'
            f'"event_type":"close_date_updated","close_ts":{close_ts}}}}}'
        )
        kalshi.on_frame(frame.encode(), 2)
    ok = b'{"type":"market_lifecycle_v2","sid":3,"seq":2,"msg":{"market_ticker":"T","event_type":"close_date_updated","close_ts":1900000000}}'
    kalshi.on_frame(ok, 3)
    assert [b.state for b in books] == [BookState.LIVE]
    assert len(dead.items) == 2 and stats.decode_errors == 2
    assert [getattr(e, "close_ns", None) for e in events[1:]] == [1_900_000_000 * 10**9]
