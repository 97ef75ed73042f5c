"""Property tests: the tick-ladder book behaves exactly like a naive dict-of-levels book."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hadron.book.l2 import CROSSED, REFUSED, TOP_MOVED, L2Book
from hadron.book.manager import ApplyOutcome, BookManager, BookState
from hadron.model.events import BookAction, BookDelta, BookSide, BookSnapshot
from hadron.model.units import PRICE_ONE


class NaiveBook:
    """The reference: a dict per side, best level found by sorting."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def side(self, bid: bool) -> dict[int, int]:
        return self.bids if bid else self.asks

    def set(self, bid: bool, price: int, size: int) -> None:
        if size:
            self.side(bid)[price] = size
        else:
            self.side(bid).pop(price, None)

    def change(self, bid: bool, price: int, change: int) -> int:
        size = self.side(bid).get(price, 0) + change
        if size >= 0:
            self.set(bid, price, size)
        return size

    def levels(self, bid: bool) -> list[tuple[int, int]]:
        return sorted(self.side(bid).items(), reverse=bid)


# prices on grids of 1, 0.1, 0.01, 0.001 and 0.0001 USD so that re-gridding is exercised
grid_prices = st.one_of(
    st.integers(1, 99).map(lambda c: c * 100),
    st.integers(1, 999).map(lambda m: m * 10),
    st.integers(1, PRICE_ONE - 1),
)
ops = st.lists(
    st.tuples(st.sampled_from(["set", "change"]), st.booleans(), grid_prices, st.integers(-50, 50)),
    max_size=200,
)


@settings(max_examples=300)
@given(ops, st.sampled_from([1, 10, 100, 1000]))
def test_ladder_matches_naive_book(operations: list[tuple[str, bool, int, int]], tick: int) -> None:
    book = L2Book("test:x", tick)
    ref = NaiveBook()
    for op, bid, price, amount in operations:
        if op == "set":
            size = abs(amount)
            before = (book.best_bid, book.best_ask)
            got = (book.set_bid if bid else book.set_ask)(price, size)
            ref.set(bid, price, size)
            assert got & TOP_MOVED == (before[not bid] != (book.best_bid, book.best_ask)[not bid])
        else:
            before = (book.best_bid, book.best_ask)
            got = (book.change_bid if bid else book.change_ask)(price, amount)
            size = ref.change(bid, price, amount)
            if size < 0:
                assert got == REFUSED
            else:
                assert got & TOP_MOVED == (before[not bid] != (book.best_bid, book.best_ask)[not bid])
        assert book.levels_bid() == ref.levels(True)
        assert book.levels_ask() == ref.levels(False)
        best_bid = ref.levels(True)[:1]
        best_ask = ref.levels(False)[:1]
        assert book.best_bid == (best_bid[0] if best_bid else None)
        assert book.best_ask == (best_ask[0] if best_ask else None)
        assert book.is_crossed == bool(best_bid and best_ask and best_bid[0][0] >= best_ask[0][0])
        if op == "set" or got != REFUSED:
            assert bool(got & CROSSED) == book.is_crossed


levels = st.lists(st.tuples(grid_prices, st.integers(1, 10**9)), max_size=30, unique_by=lambda lv: lv[0])


@given(levels, levels)
def test_snapshot_then_replay_of_its_levels_compares_equal(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]]
) -> None:
    books = BookManager()
    snap = BookSnapshot("test:x", tuple(sorted(bids, reverse=True)), tuple(sorted(asks)), 1, 1)
    books.apply_snapshot(snap)
    # the same levels again as a second snapshot: a check that must pass
    books.apply_snapshot(snap)
    assert books.stats.snapshot_mismatches == 0
    assert books.stats.snapshot_checks == (1 if bids or asks else 0)
    assert books.stats.snapshot_clears == (0 if bids or asks else 1)


@given(levels, st.lists(st.tuples(st.booleans(), grid_prices, st.integers(-(10**9), 10**9)), max_size=60))
def test_manager_never_keeps_a_negative_level(
    bids: list[tuple[int, int]], changes: list[tuple[bool, int, int]]
) -> None:
    books = BookManager()
    books.apply_snapshot(BookSnapshot("test:x", tuple(sorted(bids, reverse=True)), (), 1, 1))
    ref = NaiveBook()
    for price, size in bids:
        ref.set(True, price, size)
    for bid, price, change in changes:
        delta = BookDelta("test:x", BookSide.BID if bid else BookSide.ASK, price, change, BookAction.CHANGE, 2, 2)
        outcome = books.apply_delta(delta)
        book = books.book("test:x")
        if book.state is not BookState.LIVE:
            assert outcome == ApplyOutcome.NEGATIVE
            break
        assert outcome == ApplyOutcome.APPLIED
        assert ref.change(bid, price, change) >= 0
        assert all(size > 0 for _, size in book.levels_bid() + book.levels_ask())
    assert books.stats.negative_levels <= 1
