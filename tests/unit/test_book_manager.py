"""BookManager: integrity states, checks, and top-of-book events."""

from __future__ import annotations

import pytest

from hadron.book.manager import ApplyOutcome, BookManager, BookState
from hadron.errors import BookError
from hadron.model.events import BookAction, BookDelta, BookSide, BookSnapshot, TickSizeChange, TopOfBook

X = "test:x"


def snap(bids: tuple[tuple[int, int], ...] = (), asks: tuple[tuple[int, int], ...] = (), ts: int = 1) -> BookSnapshot:
    return BookSnapshot(X, bids, asks, ts, ts)


def change(side: BookSide, price: int, size: int, ts: int = 2) -> BookDelta:
    return BookDelta(X, side, price, size, BookAction.CHANGE, ts, ts)


def test_deltas_before_the_first_snapshot_are_dropped(books: BookManager) -> None:
    assert books.apply_delta(change(BookSide.BID, 4000, 1)) == ApplyOutcome.DROPPED
    assert books.stats.deltas_dropped == 1
    assert books.book(X).state is BookState.AWAITING_SNAPSHOT


def test_snapshot_for_a_live_book_is_checked_level_by_level(books: BookManager) -> None:
    books.apply_snapshot(snap(((4000, 10),), ((6000, 5),)))
    books.apply_delta(change(BookSide.BID, 4000, 5))
    books.apply_snapshot(snap(((4000, 15),), ((6000, 5),)))
    assert (books.stats.snapshot_checks, books.stats.snapshot_mismatches) == (1, 0)
    books.apply_snapshot(snap(((4000, 16),), ((6000, 5),)))
    assert books.stats.snapshot_mismatches == 1
    example = books.stats.examples["snapshot_mismatch"][0]
    assert example["book"]["bids"] == [["0.4000", "0.000015"]]
    assert books.book(X).best_bid == (4000, 16)  # the snapshot wins


def test_empty_snapshot_of_a_live_book_is_a_clear_not_a_mismatch(books: BookManager) -> None:
    books.apply_snapshot(snap(((4000, 10),)))
    books.apply_snapshot(snap())
    assert (books.stats.snapshot_clears, books.stats.snapshot_mismatches) == (1, 0)
    assert books.book(X).is_empty and books.book(X).state is BookState.LIVE


def test_resync_after_invalidation_counts_what_changed(books: BookManager) -> None:
    books.apply_snapshot(snap(((4000, 10),)))
    books.invalidate(X, "seq gap")
    assert books.book(X).reason == "seq gap"
    assert books.apply_delta(change(BookSide.BID, 4000, 1)) == ApplyOutcome.DROPPED
    books.apply_snapshot(snap(((4000, 10), (3900, 1))))
    assert (books.stats.resyncs, books.stats.resync_levels_changed, books.stats.invalidations) == (1, 1, 1)


def test_stale_books_come_back_live_on_the_next_update(books: BookManager) -> None:
    books.apply_snapshot(snap(((4000, 10),), ts=1_000))
    assert books.mark_stale(now_ns=5_000, max_age_ns=10_000) == []
    assert books.mark_stale(now_ns=20_000, max_age_ns=10_000) == [X]
    assert books.book(X).state is BookState.STALE
    assert books.apply_delta(change(BookSide.BID, 4000, 1, ts=21_000)) == ApplyOutcome.APPLIED
    assert books.book(X).state is BookState.LIVE
    assert books.states() == {"live": 1, "awaiting_snapshot": 0, "stale": 0}


def test_tick_size_change_waits_for_a_snapshot(books: BookManager) -> None:
    books.apply_snapshot(snap(((4000, 10),)))
    books.apply_tick_size_change(TickSizeChange(X, 100, 10, 2, 2))
    assert books.book(X).state is BookState.AWAITING_SNAPSHOT


def test_set_deltas_compare_the_venue_top(books: BookManager) -> None:
    books.apply_snapshot(snap(((4000, 10),), ((6000, 5),)))
    ok = BookDelta(X, BookSide.BID, 4100, 3, BookAction.SET, 2, 2, 4100, 6000)
    bad = BookDelta(X, BookSide.BID, 4100, 0, BookAction.SET, 3, 3, 4100, 6000)
    books.apply_delta(ok)
    books.apply_delta(bad)
    assert (books.stats.bbo_checks, books.stats.bbo_mismatches) == (2, 1)


def test_top_of_book_events_only_when_the_top_changes(books: BookManager) -> None:
    tops: list[TopOfBook] = []
    books.add_top_listener(tops.append)
    books.apply_snapshot(snap(((4000, 10),), ((6000, 5),)))
    books.apply_delta(change(BookSide.BID, 3000, 1))  # below the top: no event
    books.apply_delta(change(BookSide.BID, 4000, 1))  # size at the top
    books.apply_delta(change(BookSide.ASK, 5900, 2))  # new best ask
    assert [(t.bid_price, t.bid_size, t.ask_price, t.ask_size) for t in tops] == [
        (4000, 10, 6000, 5),
        (4000, 11, 6000, 5),
        (4000, 11, 5900, 2),
    ]


def test_sub_penny_prices_refine_the_grid(books: BookManager) -> None:
    books.apply_snapshot(snap(((4000, 10),)))
    books.apply_delta(change(BookSide.BID, 4005, 1))
    books.apply_delta(change(BookSide.BID, 4001, 2))
    assert books.book(X).tick == 1
    assert books.book(X).levels_bid() == [(4005, 1), (4001, 2), (4000, 10)]


def test_staleness_watchdog_can_be_limited_to_some_instruments(books: BookManager) -> None:
    for name in ("kalshi:A", "polymarket:1"):
        books.apply_snapshot(BookSnapshot(name, ((4000, 1),), (), 1_000, 1_000))
    assert books.mark_stale(now_ns=10**12, max_age_ns=1, instruments=["kalshi:A", "kalshi:unknown"]) == ["kalshi:A"]
    assert books.book("polymarket:1").state is BookState.LIVE


def test_a_delta_price_beyond_64_bits_is_a_book_error(books: BookManager) -> None:
    # a price no venue parser produces (they stop at 2**62), from code building deltas by hand
    books.apply_snapshot(snap(((4000, 10),), ((6000, 5),)))
    with pytest.raises(BookError):
        books.apply_delta(change(BookSide.BID, 10**30, 1))
    books.apply_snapshot(snap(((4000, 10),), ((6000, 5),)))  # a bad value invalidates the book (pure Python)
    with pytest.raises(BookError):
        books.apply_delta(change(BookSide.ASK, -(10**30), 1))
    with pytest.raises(BookError):
        books.apply_snapshot(snap(((10**30, 1),)))
    assert books.book(X).best_bid == (4000, 10)


def test_in_order_drops_updates_older_than_the_book(books: BookManager) -> None:
    assert books.apply_snapshot(snap(((4000, 10),), ts=5), in_order=True) == ApplyOutcome.APPLIED
    assert books.apply_snapshot(snap(((4100, 1),), ts=4), in_order=True) == ApplyOutcome.STALE
    assert books.apply_delta(change(BookSide.BID, 4000, 1, ts=4), in_order=True) == ApplyOutcome.STALE
    assert books.book(X).best_bid == (4000, 10) and books.stats.stale_updates == 2
    assert books.apply_delta(change(BookSide.BID, 4000, 1, ts=4)) == ApplyOutcome.APPLIED  # without in_order
