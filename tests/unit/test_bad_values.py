"""Issue 19 item 5: every bad value is an error, for both venues.

A negative or zero size where the venue forbids one, a price outside (0, 1) or off the tick the
venue declared: the frame is dead-lettered, counted by reason (``BookStats.bad_values``, in the
replay report's ``book_stats``/``examples``), and the book it targets goes AWAITING_SNAPSHOT (a
lost update) without ever holding the value. Legal values stay legal: a Polymarket
``price_change`` of size ``"0"`` removes its level; a negative Kalshi ``delta_fp`` is a decrease.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hadron.app.replay import Replay
from hadron.book.manager import BookManager, BookState
from hadron.errors import BadValue, BookError, DecodeError
from hadron.model.events import BookAction, BookDelta, BookSide, BookSnapshot
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.stream import KalshiStream
from hadron.venues.polymarket.stream import PolymarketStream
from tests.conftest import ListDeadLetter

TOKEN = "1234"
PM = f"polymarket:{TOKEN}"
TICKER = "KXTEST-26DEC01-T1"
KX = f"kalshi:{TICKER}"


def pm_book(ts: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], tick: str = "0.01") -> bytes:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": TOKEN,
            "market": "0xabc",
            "timestamp": str(ts),
            "hash": "0" * 40,
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "tick_size": tick,
        }
    ).encode()


def pm_change(ts: int, *changes: tuple[str, str, str]) -> bytes:
    return json.dumps(
        {
            "event_type": "price_change",
            "market": "0xabc",
            "timestamp": str(ts),
            "price_changes": [
                {"asset_id": TOKEN, "price": p, "size": s, "side": side, "hash": "h"} for p, s, side in changes
            ],
        }
    ).encode()


BASE = pm_book(1000, [("0.40", "10")], [("0.60", "10")])


def pm_run(*frames: bytes) -> tuple[BookManager, FeedStats, ListDeadLetter]:
    books, stats, dead = BookManager(), FeedStats(), ListDeadLetter()
    stream = PolymarketStream(books, "t", stats=stats, dead_letter=dead)
    for i, frame in enumerate(frames):
        stream.on_frame(frame, i)
    return books, stats, dead


def test_negative_price_change_size_is_dead_lettered_counted_and_invalidates_the_book() -> None:
    # the reproduced case: a LIVE book held (0.40, -5) and negative_levels stayed 0
    books, stats, dead = pm_run(BASE, pm_change(1001, ("0.40", "-5", "BUY")))
    book = books.get(PM)
    assert book is not None
    assert book.state is BookState.AWAITING_SNAPSHOT
    assert book.levels_bid() == [(4000, 10_000_000)]  # never held the bad value
    assert books.stats.negative_levels == 1 and books.stats.bad_values == {"negative_size": 1}
    assert stats.decode_errors == 1 and len(dead.items) == 1
    assert dead.items[0][0] == pm_change(1001, ("0.40", "-5", "BUY"))  # kept byte for byte
    assert "negative_size" in dead.items[0][1]
    example = books.stats.examples["bad_value"][0]
    assert example["instrument"] == PM and example["reason"] == "negative_size"
    # the next book re-bases it
    books2, _, _ = pm_run(BASE, pm_change(1001, ("0.40", "-5", "BUY")), pm_book(1002, [("0.41", "3")], []))
    assert books2.get(PM).state is BookState.LIVE  # type: ignore[union-attr]


def test_zero_price_change_size_removes_the_level() -> None:
    books, stats, dead = pm_run(BASE, pm_change(1001, ("0.40", "0", "BUY")))
    book = books.get(PM)
    assert book is not None and book.state is BookState.LIVE
    assert book.levels_bid() == [] and stats.decode_errors == 0 and not dead.items
    assert books.stats.bad_values == {}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("1.5", "5", "BUY"), "price_range"),
        (("1", "5", "SELL"), "price_range"),
        (("0", "5", "BUY"), "price_range"),
        (("0.405", "5", "BUY"), "off_tick"),  # the book's tick_size is 0.01
    ],
)
def test_price_change_prices_outside_zero_one_or_off_the_tick_are_refused(
    change: tuple[str, str, str], reason: str
) -> None:
    books, stats, dead = pm_run(BASE, pm_change(1001, change))
    book = books.get(PM)
    assert book is not None and book.state is BookState.AWAITING_SNAPSHOT
    assert book.levels_bid() == [(4000, 10_000_000)] and book.levels_ask() == [(6000, 10_000_000)]
    assert book.tick == 100  # the grid was not refined to the bad price
    assert books.stats.bad_values == {reason: 1} and stats.decode_errors == 1 and len(dead.items) == 1


def test_a_finer_tick_after_a_tick_size_change_is_legal() -> None:
    tick_change = json.dumps(
        {
            "event_type": "tick_size_change",
            "asset_id": TOKEN,
            "market": "0xabc",
            "old_tick_size": "0.01",
            "new_tick_size": "0.001",
            "timestamp": "1001",
        }
    ).encode()
    books, stats, _ = pm_run(
        BASE,
        tick_change,
        pm_book(1002, [("0.401", "10")], [("0.6", "1")], tick="0.001"),
        pm_change(1003, ("0.402", "5", "BUY")),
    )
    book = books.get(PM)
    assert book is not None and book.state is BookState.LIVE and book.tick == 10
    assert book.levels_bid() == [(4020, 5_000_000), (4010, 10_000_000)]
    assert stats.decode_errors == 0 and books.stats.bad_values == {}


@pytest.mark.parametrize(
    ("bids", "tick", "reason"),
    [
        ([("0.40", "-5")], "0.01", "negative_size"),
        ([("0.40", "0")], "0.01", "zero_size"),
        ([("0.405", "5")], "0.01", "off_tick"),
        ([("1", "5")], "0.01", "price_range"),
        ([("0.40", "5")], "0.003", "bad_tick"),
    ],
)
def test_book_levels_with_bad_values_are_refused(bids: list[tuple[str, str]], tick: str, reason: str) -> None:
    books, stats, dead = pm_run(BASE, pm_book(1001, bids, [("0.60", "10")], tick=tick))
    book = books.get(PM)
    assert book is not None and book.state is BookState.AWAITING_SNAPSHOT
    assert book.levels_bid() == [(4000, 10_000_000)]
    assert books.stats.bad_values == {reason: 1} and stats.decode_errors == 1 and len(dead.items) == 1


@pytest.mark.parametrize(
    "frame",
    [
        b'{"event_type":"book","asset_id":"1234","market":"0xabc","timestamp":"1001","hash":"x","bids":[],"asks":[],"tick_size":"0"}',
        b'{"event_type":"tick_size_change","asset_id":"1234","market":"0xabc","old_tick_size":"0.01","new_tick_size":"1.5","timestamp":"1001"}',
        b'{"event_type":"last_trade_price","asset_id":"1234","market":"0xabc","price":"0.4","size":"0","side":"BUY","timestamp":"1001","fee_rate_bps":"0"}',
        b'{"event_type":"last_trade_price","asset_id":"1234","market":"0xabc","price":"1.2","size":"5","side":"BUY","timestamp":"1001","fee_rate_bps":"0"}',
    ],
)
def test_bad_ticks_and_trades_are_dead_lettered(frame: bytes) -> None:
    _, stats, dead = pm_run(BASE, frame)
    assert stats.decode_errors == 1 and len(dead.items) == 1 and stats.trades == 0
    assert "(bad_tick)" in dead.items[0][1] or "_size)" in dead.items[0][1] or "(price_range)" in dead.items[0][1]


# -- Kalshi ---------------------------------------------------------------------------------------


def k_snapshot(seq: int, yes: list[list[str]], no: list[list[str]]) -> bytes:
    msg = {"market_ticker": TICKER, "market_id": "m", "yes_dollars_fp": yes, "no_dollars_fp": no}
    return json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": seq, "msg": msg}).encode()


def k_delta(seq: int, price: str, delta: str, side: str = "yes") -> bytes:
    msg = {"market_ticker": TICKER, "market_id": "m", "price_dollars": price, "delta_fp": delta, "side": side}
    return json.dumps(
        {"type": "orderbook_delta", "sid": 1, "seq": seq, "msg": {**msg, "ts_ms": 1787838983996}}
    ).encode()


K_BASE = k_snapshot(1, [["0.4000", "10.00"]], [["0.5000", "10.00"]])


def k_run(*frames: bytes) -> tuple[BookManager, FeedStats, ListDeadLetter]:
    books, stats, dead = BookManager(), FeedStats(), ListDeadLetter()
    stream = KalshiStream(books, "t", stats=stats, dead_letter=dead)
    for i, frame in enumerate(frames):
        stream.on_frame(frame, i)
    return books, stats, dead


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (k_snapshot(2, [["0.4000", "-5.00"]], []), "negative_size"),
        (k_snapshot(2, [["0.4000", "0.00"]], []), "zero_size"),
        (k_snapshot(2, [["1.0000", "5.00"]], []), "price_range"),
        (k_snapshot(2, [], [["1.0000", "5.00"]]), "price_range"),  # a NO bid at $1 is a YES ask at $0
        (k_delta(2, "0.0000", "5.00"), "price_range"),
        (k_delta(2, "1.0000", "5.00", "no"), "price_range"),
        (k_delta(2, "1.5000", "5.00", "no"), "price_range"),
    ],
)
def test_kalshi_bad_values_are_dead_lettered_counted_and_invalidate(frame: bytes, reason: str) -> None:
    books, stats, dead = k_run(K_BASE, frame)
    book = books.get(KX)
    assert book is not None and book.state is BookState.AWAITING_SNAPSHOT
    assert book.levels_bid() == [(4000, 10_000_000)] and book.levels_ask() == [(5000, 10_000_000)]
    assert books.stats.bad_values == {reason: 1} and stats.decode_errors == 1 and len(dead.items) == 1


def test_kalshi_legal_values_stay_legal() -> None:
    # a negative delta is a decrease; a sub-penny price refines the grid (Kalshi declares no tick)
    books, stats, dead = k_run(K_BASE, k_delta(2, "0.4000", "-4.00"), k_delta(3, "0.4050", "2.00"))
    book = books.get(KX)
    assert book is not None and book.state is BookState.LIVE and book.tick == 50
    assert book.levels_bid() == [(4050, 2_000_000), (4000, 6_000_000)]
    assert stats.decode_errors == 0 and not dead.items and books.stats.bad_values == {}
    # a delta beyond the level is the book's divergence (negative_levels), not a bad frame
    books, stats, dead = k_run(K_BASE, k_delta(2, "0.4000", "-50.00"))
    assert books.stats.negative_levels == 1 and books.stats.bad_values == {} and not dead.items


def test_kalshi_trade_with_zero_count_is_dead_lettered() -> None:
    trade = {
        "trade_id": "t1",
        "market_ticker": TICKER,
        "yes_price_dollars": "0.4000",
        "no_price_dollars": "0.6000",
        "count_fp": "0.00",
        "taker_side": "yes",
        "ts": 1,
        "ts_ms": 1000,
    }
    frame = json.dumps({"type": "trade", "sid": 2, "seq": 1, "msg": trade}).encode()
    _, stats, dead = k_run(K_BASE, frame)
    assert stats.trades == 0 and stats.decode_errors == 1 and "(zero_size)" in dead.items[0][1]


# -- the manager itself, and the report ------------------------------------------------------------


def test_bad_value_is_both_a_decode_error_and_a_book_error() -> None:
    books = BookManager()
    books.apply_snapshot(BookSnapshot(PM, ((4000, 1),), (), 1, 1, 100))
    with pytest.raises(BadValue) as info:
        books.apply_delta(BookDelta(PM, BookSide.BID, 4000, -1, BookAction.SET, 2, 2))
    assert isinstance(info.value, DecodeError) and isinstance(info.value, BookError)
    assert info.value.reason == "negative_size" and info.value.instrument == PM
    assert books.stats.as_dict()["bad_values"] == {"negative_size": 1}


def test_replay_report_names_the_bad_values(tmp_path: Path) -> None:
    recording = tmp_path / "pm.ndjson"
    lines = [
        {"recv_ns": 1_000_000_000 + i, "venue": "polymarket", "conn": "c", "frame": frame.decode()}
        for i, frame in enumerate([BASE, pm_change(1001, ("0.40", "-5", "BUY"))])
    ]
    recording.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = Replay(dead_letter=tmp_path / "dead.ndjson")
    run.run([recording])
    report = run.report()
    assert report["decode_errors"] == 1 and report["negative_levels"] == 1
    assert report["books_by_state"]["awaiting_snapshot"] == 1
    assert [e["reason"] for e in report["examples"]["bad_value"]] == ["negative_size"]
    assert run.books.stats.bad_values == {"negative_size": 1}
    assert (tmp_path / "dead.ndjson").read_text().count("\n") == 1
