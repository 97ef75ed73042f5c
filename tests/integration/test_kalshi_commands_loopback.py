"""Kalshi commands and the communications channel over real sockets against the loopback venue:
``hadron record --channels communications`` records the scripted RFQ and quote messages (replayed
with 0 decode errors); ``unsubscribe`` by sid; ``list_subscriptions`` reconciled with what the
client believes (a difference counted and fixed)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from hadron.app.replay import Replay
from hadron.book.manager import BookManager, BookState
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.messages import COMMUNICATIONS_MESSAGES
from hadron.venues.kalshi.ws import KalshiConnection
from tests.conftest import FIXTURES, ListDeadLetter

EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
BUSY = "KXGOLD15M-26AUG102130-30"
RFQ_TYPES = {str(cls.__struct_config__.tag) for cls in COMMUNICATIONS_MESSAGES}


@pytest.fixture
def key_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path]:
    key, private_pem, _ = generate_test_key()
    private = tmp_path / "kalshi.key"
    private.write_bytes(private_pem)
    private.chmod(0o600)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HADRON_CONFIG", raising=False)
    monkeypatch.delenv("KALSHI_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("KALSHI_API_KEY_ID", "0b8c5b2e-test-key")
    monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(private))
    return key, private


def _capture(tmp_path: Path, lines: int = 20) -> Path:
    import gzip
    import itertools

    with gzip.open(EXCERPT, "rb") as fh:
        kept = list(itertools.islice(fh, lines))
    path = tmp_path / "capture.ndjson"
    path.write_bytes(b"".join(kept))
    return path


@pytest.mark.asyncio
async def test_cli_records_the_communications_channel_and_it_replays_clean(
    tmp_path: Path, key_files: tuple[Any, Path]
) -> None:
    key, _ = key_files
    venue = FakeKalshiVenue(load_capture([_capture(tmp_path)]), public_key=key.public_key(), speed=0)
    await venue.start()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hadron", "record", "--venue", "kalshi", "--channels", "communications",
            "--out", str(tmp_path / "rec"), "--url", venue.url, "--duration", "3", "--transport", "ws",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        await venue.stop()
    assert proc.returncode == 0, stderr.decode()
    run = Replay(dead_letter=tmp_path / "dl.ndjson")
    run.run([tmp_path / "rec"])
    report = run.report()
    assert report["decode_errors"] == 0
    by_type = report["frames_by_type"]
    assert {t: by_type.get(t) for t in RFQ_TYPES} == dict.fromkeys(RFQ_TYPES, 1)
    assert by_type["subscribed"] == 1
    # without a consumer in replay, the RFQs are counted, not lost
    assert report["unconsumed"] + report["passed_on"] >= len(RFQ_TYPES)


def test_cli_record_without_markets_refuses_channels_that_take_tickers(key_files: tuple[Any, Path]) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "hadron", "record", "--venue", "kalshi", "--channels", "orderbook_delta", "--out", "rec"],
        capture_output=True, text=True, env=dict(os.environ), check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--markets" in result.stderr.strip().splitlines()[-1]


async def _connect(
    venue: FakeKalshiVenue, key: Any, channels: list[str], **kwargs: Any
) -> tuple[KalshiConnection, asyncio.Event, asyncio.Task[None], list[tuple[object, int]]]:
    passed: list[tuple[object, int]] = []
    conn = KalshiConnection(
        "c",
        venue.url,
        KalshiSigner("k", key),
        BookManager(),
        [BUSY],
        channels=channels,
        stats=FeedStats(),
        dead_letter=ListDeadLetter(),
        on_venue=lambda msg, recv_ns: passed.append((msg, recv_ns)),
        **kwargs,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(conn.run(stop))
    await asyncio.wait_for(conn.connected.wait(), timeout=10)
    return conn, stop, task, passed


async def _until(predicate: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.mark.asyncio
async def test_communications_are_passed_on_and_unsubscribe_by_sid(tmp_path: Path) -> None:
    key, _, _ = generate_test_key()
    venue = FakeKalshiVenue(
        load_capture([_capture(tmp_path)]), public_key=key.public_key(), speed=0, start_on_subscribe=False
    )
    await venue.start()
    conn, stop, task, passed = await _connect(venue, key, ["orderbook_delta", "communications"])
    try:
        await _until(lambda: conn.stats.reconciles >= 1 and len(passed) >= len(RFQ_TYPES))
        assert {str(type(m).__struct_config__.tag) for m, _ in passed} == RFQ_TYPES  # type: ignore[attr-defined]
        assert all(recv_ns > 0 for _, recv_ns in passed)
        stream = conn._stream
        assert stream is not None
        comm = stream.sid_of("communications")
        assert comm is not None
        # the venue's list matched the client's beliefs on connect: nothing to fix
        assert (conn.stats.reconcile_missing, conn.stats.reconcile_extra) == (0, 0)
        await conn.unsubscribe_channels(["communications"])
        await _until(lambda: stream.sid_of("communications") is None)
        assert conn.feed_stats.frames_by_type["unsubscribed"] == 1
        assert conn.stats.unsubscribes == 1
        # removing the last market ends the book subscription by sid too
        book_sid = stream.sid_of("orderbook_delta")
        await conn.remove_markets([BUSY])
        await _until(lambda: stream.sid_of("orderbook_delta") is None)
        assert book_sid is not None and conn.feed_stats.frames_by_type["unsubscribed"] == 2
        await conn.list_subscriptions()
        await _until(lambda: conn.stats.reconciles >= 2)
        assert (conn.stats.reconcile_missing, conn.stats.reconcile_extra) == (0, 0)
        assert conn.feed_stats.decode_errors == 0 and conn.feed_stats.unconsumed == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await venue.stop()


@pytest.mark.asyncio
async def test_list_subscriptions_reconciles_a_lost_and_an_unknown_subscription(tmp_path: Path) -> None:
    key, _, _ = generate_test_key()
    venue = FakeKalshiVenue(
        load_capture([_capture(tmp_path)]), public_key=key.public_key(), speed=0, start_on_subscribe=False
    )
    await venue.start()
    conn, stop, task, _ = await _connect(venue, key, ["orderbook_delta", "trade"])
    try:
        await _until(lambda: conn.stats.reconciles >= 1)
        assert (conn.stats.reconcile_missing, conn.stats.reconcile_extra) == (0, 0)
        stream = conn._stream
        assert stream is not None
        await _until(lambda: conn.books.book(f"kalshi:{BUSY}").state is BookState.LIVE)
        # the venue drops the trade subscription silently, and has one the client never asked for
        client = venue._clients[0]
        trade_sid = stream.sid_of("trade")
        assert trade_sid is not None
        client.subs.pop(trade_sid)
        await conn.send("subscribe", {"channels": ["ticker"], "market_tickers": [BUSY]})
        await _until(lambda: stream.sid_of("ticker") is not None)
        ticker_sid = stream.sid_of("ticker")
        stream.channels.pop(ticker_sid)  # type: ignore[arg-type]  # the client forgets it
        await conn.list_subscriptions()
        await _until(lambda: conn.stats.reconciles >= 2)
        assert (conn.stats.reconcile_missing, conn.stats.reconcile_extra) == (1, 1)
        # fixed: trade subscribed again (a new sid), the unknown ticker sid unsubscribed at the venue
        await _until(lambda: stream.sid_of("trade") not in (None, trade_sid))
        await _until(lambda: all(s.channel != "ticker" for s in client.subs.values()))
        await conn.list_subscriptions()
        await _until(lambda: conn.stats.reconciles >= 3)
        assert (conn.stats.reconcile_missing, conn.stats.reconcile_extra) == (1, 1)  # nothing new
        assert sorted(s.channel for s in client.subs.values()) == ["orderbook_delta", "trade"]
        assert conn.feed_stats.decode_errors == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await venue.stop()
