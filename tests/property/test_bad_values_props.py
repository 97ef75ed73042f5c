"""Property tests (issue 19 item 5): whatever values the venues send, a book never holds a bad one.

Random Polymarket ``price_change`` sizes (negative, zero, positive) and prices (inside and outside
(0, 1), on and off the book's tick), and random Kalshi snapshots and deltas, go through the real
streams. After every frame: every level of every book has a size above zero and a price inside
(0, 1), on the venue's tick when it declared one; a frame with a bad value for a LIVE book is
dead-lettered, counted in ``bad_values`` and leaves that book AWAITING_SNAPSHOT; a good one is
applied.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hadron.book.manager import BookManager, BookState, ManagedBook
from hadron.model.units import PRICE_ONE, format_price, format_size
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.stream import KalshiStream
from hadron.venues.polymarket.stream import PolymarketStream
from tests.conftest import ListDeadLetter

TOKEN = "98765"
PM = f"polymarket:{TOKEN}"
TICKER = "KXPROP-1"
KX = f"kalshi:{TICKER}"


def assert_book_holds_only_good_values(book: ManagedBook) -> None:
    for price, size in book.levels_bid() + book.levels_ask():
        assert size > 0 and 0 < price < PRICE_ONE
        assert not book.venue_tick or price % book.venue_tick == 0


prices = st.one_of(
    st.integers(1, 99).map(lambda c: c * 100),  # on the cent tick
    st.integers(0, PRICE_ONE + 5),  # anywhere, off the tick and outside (0, 1) included
)  # (a "-…" price does not parse: a malformed field, dead-lettered as every one is)
sizes = st.one_of(st.just(0), st.integers(-3, 3).map(lambda n: n * 1_000_000), st.integers(-(10**9), 10**9))
pm_changes = st.lists(st.tuples(st.booleans(), prices, sizes), min_size=1, max_size=40)


def pm_book(ts: int) -> bytes:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": TOKEN,
            "market": "0xabc",
            "timestamp": str(ts),
            "hash": "0" * 40,
            "bids": [{"price": "0.40", "size": "10"}],
            "asks": [{"price": "0.60", "size": "10"}],
            "tick_size": "0.01",
        }
    ).encode()


@settings(max_examples=300, deadline=None)
@given(pm_changes)
def test_polymarket_books_never_hold_a_bad_value(changes: list[tuple[bool, int, int]]) -> None:
    books, stats, dead = BookManager(), FeedStats(), ListDeadLetter()
    stream = PolymarketStream(books, "p", stats=stats, dead_letter=dead)
    stream.on_frame(pm_book(1), 1)
    for i, (bid, price, size) in enumerate(changes, start=2):
        book = books.get(PM)
        assert book is not None
        live = book.state is BookState.LIVE
        errors, bad = stats.decode_errors, sum(books.stats.bad_values.values())
        entry = {
            "asset_id": TOKEN,
            "price": format_price(price),
            "size": format_size(size),
            "side": "BUY" if bid else "SELL",
        }
        frame = {"event_type": "price_change", "market": "0xabc", "timestamp": str(i), "price_changes": [entry]}
        stream.on_frame(json.dumps(frame).encode(), i)
        assert_book_holds_only_good_values(book)
        good = size >= 0 and 0 < price < PRICE_ONE and price % 100 == 0
        if not live:
            assert stats.decode_errors == errors  # dropped unjudged
        elif good:
            assert stats.decode_errors == errors and book.state is BookState.LIVE
            assert (book.bid_size(price) if bid else book.ask_size(price)) == size
        else:
            assert stats.decode_errors == errors + 1 and book.state is BookState.AWAITING_SNAPSHOT
            assert sum(books.stats.bad_values.values()) == bad + 1
        if book.state is not BookState.LIVE and i % 5 == 0:
            stream.on_frame(pm_book(i), i)  # the venue's next book re-bases it
    assert stats.decode_errors == len(dead.items)


levels = st.lists(st.tuples(st.integers(0, PRICE_ONE), st.integers(-2, 5).map(lambda n: n * 1_000_000)), max_size=6)
k_deltas = st.lists(
    st.tuples(st.booleans(), st.integers(0, PRICE_ONE), st.integers(-20, 20).map(lambda n: n * 1_000_000)),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(levels, levels, k_deltas)
def test_kalshi_books_never_hold_a_bad_value(
    yes: list[tuple[int, int]], no: list[tuple[int, int]], deltas: list[tuple[bool, int, int]]
) -> None:
    books, stats, dead = BookManager(), FeedStats(), ListDeadLetter()
    stream = KalshiStream(books, "k", stats=stats, dead_letter=dead)

    def side(ladder: list[tuple[int, int]]) -> list[list[str]]:
        return [[format_price(p), format_size(s)] for p, s in dict(ladder).items()]

    msg = {"market_ticker": TICKER, "market_id": "m", "yes_dollars_fp": side(yes), "no_dollars_fp": side(no)}
    stream.on_frame(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": msg}).encode(), 1)
    book = books.get(KX)
    assert book is not None
    snapshot_good = all(s > 0 and 0 < p < PRICE_ONE for p, s in [*dict(yes).items(), *dict(no).items()])
    assert (book.state is BookState.LIVE) == snapshot_good
    assert stats.decode_errors == (0 if snapshot_good else 1)
    for seq, (is_yes, price, change) in enumerate(deltas, start=2):
        live = book.state is BookState.LIVE
        errors = stats.decode_errors
        delta = {"market_ticker": TICKER, "market_id": "m", "price_dollars": format_price(price)}
        delta |= {"delta_fp": format_size(change), "side": "yes" if is_yes else "no", "ts_ms": seq}
        stream.on_frame(json.dumps({"type": "orderbook_delta", "sid": 1, "seq": seq, "msg": delta}).encode(), seq)
        assert_book_holds_only_good_values(book)
        if live and not 0 < price < PRICE_ONE:
            assert stats.decode_errors == errors + 1 and book.state is BookState.AWAITING_SNAPSHOT
    assert stats.decode_errors == len(dead.items)
    assert sum(books.stats.bad_values.values()) <= stats.decode_errors
