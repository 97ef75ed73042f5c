"""BookManager: every instrument's L2 book, its integrity state, and the checks that prove it.

The manager is venue-free. Venue streams feed it normalized events (:class:`BookSnapshot`,
:class:`BookDelta`, :class:`TickSizeChange`) and tell it when a book can no longer be trusted
(:meth:`BookManager.invalidate`: a sequence gap, a reconnect, a hash mismatch). It keeps:

* a :class:`BookState` per book: LIVE (deltas applied), AWAITING_SNAPSHOT (deltas dropped and
  counted until a snapshot re-bases the book), STALE (LIVE but silent for longer than its
  watchdog allows; the next update makes it LIVE again). Only LIVE books should feed trading.
* integrity counters (:class:`BookStats`): snapshot checks (a snapshot arriving for a LIVE book
  is compared level by level with the book built from deltas), venue best bid/ask checks,
  negative levels, crossed books, resyncs, dropped deltas, and bad values.
* the values it accepts: a level's size above zero, its price strictly inside (0, 1) USD and, when
  the venue declared the market's tick in its snapshot (Polymarket ``tick_size``), on that tick.
  Anything else is a :class:`~hadron.errors.BadValue`: counted by reason, the book put back to
  AWAITING_SNAPSHOT (an update was lost; it never holds the bad value), and raised, so the
  venue stream dead-letters the frame. A book whose venue declared no tick (Kalshi: the bands
  are per market) refines its grid to a finer price instead (:class:`~hadron.book.l2.L2Book`).
* :class:`TopOfBook` events for listeners whenever a LIVE book's best bid or ask changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import IntEnum, StrEnum, unique
from typing import Any

from msgspec.structs import astuple

from hadron.book.l2 import CROSSED, DEFAULT_TICK, REFUSED, TOP_MOVED, L2Book
from hadron.errors import BadValue, BookError
from hadron.model.events import (
    BookAction,
    BookDelta,
    BookSide,
    BookSnapshot,
    Level,
    TickSizeChange,
    TopOfBook,
)
from hadron.model.units import PRICE_ONE, format_price, format_size

MAX_EXAMPLES = 20
NEVER = 1 << 62
"""A :attr:`ManagedBook.close_ns` that never comes (the close time is unknown)."""
"""How many examples of each integrity failure the stats keep (for reports)."""

_SIDE_BID = BookSide.BID
_SIDE_ASK = BookSide.ASK
_ACTION_CHANGE = BookAction.CHANGE
_ONE = PRICE_ONE  # a C constant once compiled (book/manager.pxd)


@unique
class BookState(StrEnum):
    """Integrity state of one book."""

    LIVE = "live"
    AWAITING_SNAPSHOT = "awaiting_snapshot"
    STALE = "stale"


_LIVE = BookState.LIVE
_AWAITING = BookState.AWAITING_SNAPSHOT


@unique
class ApplyOutcome(IntEnum):
    """What the manager did with one snapshot or delta: the result of its apply methods (a plain
    ``int`` equal to the member once compiled, see :mod:`hadron.accel`: compare with ``==``)."""

    APPLIED = 1
    """Applied: the book is LIVE with it."""
    BBO_MISMATCH = 2
    """Applied, but the venue's best bid/ask the delta carried disagreed with the book after it
    (counted in ``bbo_mismatches``; :attr:`ManagedBook.bbo_misses` counts them in a row)."""
    STALE = 3
    """Older (venue ``ts_event``) than the book's last update, with ``in_order``: dropped and
    counted in ``stale_updates``."""
    DROPPED = 4
    """A delta for a book that was not LIVE for its source (AWAITING_SNAPSHOT, or built by
    another stream): dropped and counted in ``deltas_dropped``."""
    NEGATIVE = 5
    """A change that would take a level below zero: not applied, counted in ``negative_levels``;
    the book waits for a snapshot."""


_APPLIED = ApplyOutcome.APPLIED  # C ints once compiled (book/manager.pxd)
_BBO_MISMATCH = ApplyOutcome.BBO_MISMATCH
_STALE = ApplyOutcome.STALE
_DROPPED = ApplyOutcome.DROPPED
_NEGATIVE = ApplyOutcome.NEGATIVE
_TOP = TOP_MOVED
_CROSSED = CROSSED
_REFUSED = REFUSED


_BOOK_COUNTERS = (
    "snapshots",
    "deltas_applied",
    "snapshot_checks",
    "snapshot_mismatches",
    "snapshot_clears",
    "bbo_checks",
    "bbo_mismatches",
    "negative_levels",
    "crossed_books",
    "crossed_updates",
    "resyncs",
    "resync_levels_changed",
    "deltas_dropped",
    "stale_updates",
    "invalidations",
)


class BookStats:
    """Integrity counters over every book a manager holds (plain ints), with examples of failures.

    ``snapshot_checks``: snapshots that arrived for a LIVE book and were compared with it;
    ``snapshot_mismatches``: those that differed. ``snapshot_clears``: empty snapshots for a
    LIVE book (a venue clearing a closed market), not compared. ``bbo_checks``/``bbo_mismatches``:
    deltas carrying the venue's best bid/ask, compared with the book after applying them.
    ``negative_levels``: deltas that would take a level below zero (the book is invalidated).
    ``crossed_books``: times a book became crossed or locked (best bid ≥ best ask);
    ``crossed_updates``: updates after which a book was crossed or locked. ``resyncs``: snapshots
    that re-based a book that had been LIVE before; ``resync_levels_changed``: levels (price, size)
    in which those snapshots differed from the last book held, i.e. what the outage changed.
    ``deltas_dropped``: deltas for a book that was not LIVE (dropped before their values are
    judged). ``bad_values``: snapshots and deltas refused for a bad value, by reason (see
    :data:`~hadron.errors.BAD_VALUE_REASONS`: a size ≤ 0 in a snapshot level, a SET size below
    zero, a price outside (0, 1), a price off the venue's tick, a tick that is not an increment of
    1 USD). ``stale_updates``: snapshots and deltas older (venue time) than the book's last update,
    dropped (``in_order=True``: a feed without sequence numbers whose channels can reorder).
    ``invalidations``: times a LIVE book was put back to AWAITING_SNAPSHOT.
    """

    __slots__ = (*_BOOK_COUNTERS, "bad_values", "examples")  # typed counters once compiled (book/manager.pxd)

    def __init__(self) -> None:
        self.snapshots = 0
        self.deltas_applied = 0
        self.snapshot_checks = 0
        self.snapshot_mismatches = 0
        self.snapshot_clears = 0
        self.bbo_checks = 0
        self.bbo_mismatches = 0
        self.negative_levels = 0
        self.crossed_books = 0
        self.crossed_updates = 0
        self.resyncs = 0
        self.resync_levels_changed = 0
        self.deltas_dropped = 0
        self.stale_updates = 0
        self.invalidations = 0
        self.bad_values: dict[str, int] = {}
        """Refused snapshots and deltas by reason (:data:`~hadron.errors.BAD_VALUE_REASONS`)."""
        self.examples: dict[str, list[dict[str, Any]]] = {}
        """Up to :data:`MAX_EXAMPLES` examples of each failure kind, for reports."""

    def __repr__(self) -> str:
        counters = ", ".join(f"{name}={getattr(self, name)}" for name in _BOOK_COUNTERS)
        return f"BookStats({counters}, bad_values={self.bad_values})"

    def as_dict(self) -> dict[str, Any]:
        """Every counter by name (ints), ``bad_values`` (reason → int), then ``examples``."""
        out: dict[str, Any] = {name: getattr(self, name) for name in _BOOK_COUNTERS}
        out["bad_values"] = dict(self.bad_values)
        out["examples"] = self.examples
        return out

    def example(self, kind: str, detail: dict[str, Any]) -> None:
        """Keep ``detail`` as an example of ``kind`` unless enough are kept already."""
        kept = self.examples.setdefault(kind, [])
        if len(kept) < MAX_EXAMPLES:
            kept.append(detail)


class ManagedBook(L2Book):
    """An :class:`L2Book` with its integrity state and clocks."""

    __slots__ = (
        "bbo_misses",
        "close_ns",
        "crossed",
        "ever_live",
        "halted",
        "polled",
        "reason",
        "source",
        "state",
        "ts_event",
        "ts_recv",
        "venue_tick",
    )

    def __init__(self, instrument: str, tick: int = DEFAULT_TICK) -> None:
        super().__init__(instrument, tick)
        self.state = BookState.AWAITING_SNAPSHOT
        self.reason = "no snapshot yet"
        self.ever_live = False
        self.crossed = False
        self.ts_event = 0
        self.ts_recv = 0
        self.source: object = None
        """Token of the stream whose snapshot built the book; its deltas must carry the same."""
        self.polled = False
        """The book comes from REST polling (snapshots only): as fresh as ``ts_recv``, no deltas."""
        self.bbo_misses = 0
        """Venue best bid/ask checks failed in a row (a persistent disagreement means resync)."""
        self.venue_tick = 0
        """The tick (1/10,000 USD) the venue declared in the last snapshot: prices off it are bad
        values; 0 when it declared none (the grid then refines itself to finer prices)."""
        self.halted: str | None = None
        """Why the market is not traded (``market_paused``, ``market_closed``, ``market_determined``,
        ``market_settled``), set from the instrument registry; ``None`` while it trades."""
        self.close_ns = NEVER
        """When the market stops trading (scheduled close, ns since the epoch; :data:`NEVER` when
        unknown), set from the instrument registry: from then on it is not traded."""


TopListener = Callable[[TopOfBook], None]
InvalidationListener = Callable[["ManagedBook", str], None]
ClockListener = Callable[[int], None]
"""Called with a book update's ``ts_recv`` (ns since the epoch) before it is applied."""


def _levels_text(levels: list[Level] | tuple[Level, ...]) -> list[list[str]]:
    return [[format_price(p), format_size(s)] for p, s in levels]


class BookManager:
    """Holds the books, applies normalized book events, and counts integrity failures.

    Not thread-safe: call it from the one thread (event loop) that owns the pipeline.
    """

    def __init__(self) -> None:
        self._books: dict[str, ManagedBook] = {}
        self.stats = BookStats()
        self._top_listeners: list[TopListener] = []
        self._invalidation_listeners: list[InvalidationListener] = []
        self._clock_listeners: list[ClockListener] = []
        self._trading: dict[str, tuple[str | None, int]] = {}
        """instrument → (halted, close_ns) from :meth:`set_trading`, for books made later."""

    # -- access ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._books)

    def __iter__(self) -> Iterator[ManagedBook]:
        return iter(self._books.values())

    def get(self, instrument: str) -> ManagedBook | None:
        """Return the book of ``instrument``, or ``None`` if no event for it arrived yet."""
        return self._books.get(instrument)

    def book(self, instrument: str) -> ManagedBook:
        """Return the book of ``instrument``, creating it (AWAITING_SNAPSHOT) if needed."""
        book = self._books.get(instrument)
        if book is None:
            book = self._books[instrument] = ManagedBook(instrument)
            trading = self._trading.get(instrument)
            if trading is not None:
                book.halted, book.close_ns = trading
        return book

    def set_trading(self, instrument: str, halted: str | None, close_ns: int | None) -> None:
        """Say whether ``instrument``'s market trades: ``halted`` is why not (``None``: it trades),
        ``close_ns`` when it stops (ns since the epoch; ``None``: unknown). Kept for a book made
        later too (a venue-wide lifecycle feed names markets with no book: none is made here).
        The instrument registry calls it; the detector and the paper trader read the book's
        :attr:`~ManagedBook.halted` and :attr:`~ManagedBook.close_ns`."""
        close = NEVER if close_ns is None else close_ns
        self._trading[instrument] = (halted, close)
        book = self._books.get(instrument)
        if book is not None:
            book.halted, book.close_ns = halted, close

    def add_top_listener(self, listener: TopListener) -> None:
        """Call ``listener`` with a :class:`TopOfBook` whenever a LIVE book's top changes."""
        self._top_listeners.append(listener)

    def add_clock_listener(self, listener: ClockListener) -> None:
        """Call ``listener(ts_recv)`` with every book update's receive time (ns) *before* the update
        is applied, in the order added: an event-time clock (a simulated order due by then fills
        against the book as it was). With none, updates take the fast path."""
        self._clock_listeners.append(listener)

    def add_invalidation_listener(self, listener: InvalidationListener) -> None:
        """Call ``listener(book, reason)`` whenever a LIVE or STALE book goes AWAITING_SNAPSHOT."""
        self._invalidation_listeners.append(listener)

    def states(self) -> dict[str, int]:
        """Count books per :class:`BookState` value."""
        out = {state.value: 0 for state in BookState}
        for book in self._books.values():
            out[book.state.value] += 1
        return out

    # -- events ------------------------------------------------------------------------------

    def apply_snapshot(
        self, snap: BookSnapshot, source: object = None, *, polled: bool = False, in_order: bool = False
    ) -> ApplyOutcome:
        """Replace the book with ``snap`` and make it LIVE, bound to ``source``: :attr:`~ApplyOutcome.APPLIED`
        (or :attr:`~ApplyOutcome.STALE`, see ``in_order``).

        ``source`` is an opaque token of the stream (connection and subscription) the snapshot
        came on; only deltas from the same source apply afterwards. ``polled`` marks a snapshot
        fetched by REST polling rather than streamed. With ``in_order`` (a feed without sequence
        numbers), a snapshot older (``ts_event``) than the book's last update is dropped and
        counted in ``stale_updates`` instead.

        A snapshot for a LIVE (or STALE) book from the same source is first compared with it level
        by level: a non-empty snapshot counts in ``snapshot_checks`` (``snapshot_mismatches`` when
        any level differs), an empty one in ``snapshot_clears``. A snapshot for a book that was
        LIVE before and lost sync (or was built by another source) counts in ``resyncs``.

        Raises:
            BadValue: a level whose size is ≤ 0, whose price is outside (0, 1) or off ``snap.tick``
                (when given), or a ``snap.tick`` that is not an increment of 1 USD; the snapshot
                is not applied, the book goes AWAITING_SNAPSHOT and ``bad_values`` counts it.
        """
        stats = self.stats
        book = self.book(snap.instrument)
        if in_order and snap.ts_event < book.ts_event and book.state is not _AWAITING:
            stats.stale_updates += 1
            return _STALE
        self._check_levels(snap)
        if self._clock_listeners:
            for listener in self._clock_listeners:
                listener(snap.ts_recv)
        stats.snapshots += 1
        if book.state is not BookState.AWAITING_SNAPSHOT and book.source is source:
            if not snap.bids and not snap.asks:
                stats.snapshot_clears += 1
            else:
                stats.snapshot_checks += 1
                bids, asks = book.levels_bid(), book.levels_ask()
                if tuple(bids) != snap.bids or tuple(asks) != snap.asks:
                    stats.snapshot_mismatches += 1
                    stats.example(
                        "snapshot_mismatch",
                        {
                            "instrument": snap.instrument,
                            "ts_recv": snap.ts_recv,
                            "book": {"bids": _levels_text(bids), "asks": _levels_text(asks)},
                            "snapshot": {
                                "bids": _levels_text(snap.bids),
                                "asks": _levels_text(snap.asks),
                            },
                        },
                    )
        elif book.ever_live:
            stats.resyncs += 1
            old = set(book.levels_bid()), set(book.levels_ask())
            stats.resync_levels_changed += len(old[0] ^ set(snap.bids)) + len(old[1] ^ set(snap.asks))
        book.load(snap.bids, snap.asks, snap.tick or book.tick)
        book.state = BookState.LIVE
        book.reason = ""
        book.ever_live = True
        book.bbo_misses = 0
        book.source = source
        book.polled = polled
        book.venue_tick = snap.tick
        book.ts_event = snap.ts_event
        book.ts_recv = snap.ts_recv
        self._after_update(book, snap.ts_event, snap.ts_recv)
        return _APPLIED

    # kept as one flat function on purpose: it is the hot path of every venue (see hadron bench)
    def apply_delta(  # noqa: C901 (flat on purpose)
        self, delta: BookDelta, source: object = None, in_order: bool = False
    ) -> ApplyOutcome:
        """Apply one level change to a LIVE (or STALE) book; return what happened (:class:`ApplyOutcome`).

        With ``in_order`` (a feed without sequence numbers), a delta older (``ts_event``) than the
        book's last update is dropped and counted in ``stale_updates`` instead.

        A delta for a book that is AWAITING_SNAPSHOT, or that was built from another
        ``source`` (see :meth:`apply_snapshot`), is dropped and counted; in the second case the
        book goes AWAITING_SNAPSHOT too. A ``CHANGE`` that
        would take a level below zero is not applied: it counts in ``negative_levels`` and the
        book goes AWAITING_SNAPSHOT. When the delta carries the venue's best bid/ask they are
        compared with the book afterwards (``bbo_checks``/``bbo_mismatches``).

        Raises:
            BadValue: a delta for a LIVE book whose price is outside (0, 1) or off the tick its
                venue declared, or a ``SET`` below zero (also counted in ``negative_levels``):
                not applied, the book goes AWAITING_SNAPSHOT and ``bad_values`` counts it.
            BookError: a price or venue best bid/ask that is not a 64-bit integer.
        """
        # one C call for every field (cheaper than nine attribute reads once compiled, see hadron.accel);
        # prices are 64-bit ints once compiled, and the venue's best bid/ask -1 when it did not say
        try:
            instrument, side, price, change, action, ts_event, ts_recv, venue_bid, venue_ask = astuple(delta)
            said_bid = -1 if venue_bid is None else venue_bid
            said_ask = -1 if venue_ask is None else venue_ask
        except (OverflowError, TypeError) as exc:
            raise BookError(f"{delta.instrument}: a price of {delta!r} is not a 64-bit integer") from exc
        book = self._books.get(instrument)
        if in_order and book is not None and ts_event < book.ts_event and book.state is not _AWAITING:
            self.stats.stale_updates += 1  # the rule apply_snapshot applies too, inline here (per delta)
            return _STALE
        if self._clock_listeners:
            for listener in self._clock_listeners:
                listener(ts_recv)
        if book is None or book.state is not _LIVE or book.source is not source:
            book = self._revive(book, delta, source)
            if book is None:
                return _DROPPED
        if not 0 < price < _ONE or price % book.tick:  # outside (0, 1) or between two ticks of the grid:
            self._check_price(book, delta)  # a bad value raises; else the grid refines (L2Book)
        outcome = _APPLIED
        if action is _ACTION_CHANGE:
            moved = book.change_bid(price, change) if side is _SIDE_BID else book.change_ask(price, change)
            if moved == _REFUSED:
                self._negative(book, delta)
                return _NEGATIVE
        else:
            if change < 0:  # a SET is the new total: below zero is not a size
                self._negative(book, delta)
                self._bad(book.instrument, "negative_size", f"size {format_size(change)} set", delta.ts_recv)
            moved = book.set_bid(price, change) if side is _SIDE_BID else book.set_ask(price, change)
            if said_bid >= 0 or said_ask >= 0:  # the venue's best bid/ask after it, compared with the book's
                self.stats.bbo_checks += 1
                if book.top_matches(said_bid, said_ask):
                    book.bbo_misses = 0
                else:
                    self._bbo_mismatch(book, delta)
                    outcome = _BBO_MISMATCH
        self.stats.deltas_applied += 1
        book.ts_event = ts_event
        book.ts_recv = ts_recv
        if moved & _CROSSED or book.crossed:  # crossed or locked now, or just uncrossed
            self._after_update(book, ts_event, ts_recv)  # emits the top itself
        elif moved & _TOP and self._top_listeners:
            self._emit_top(book, ts_event, ts_recv)
        return outcome

    def apply_change(
        self, instrument: str, bid: bool, price: int, change: int, ts_event: int, ts_recv: int, source: object = None
    ) -> ApplyOutcome:
        """:meth:`apply_delta` of ``BookDelta(instrument, BID if bid else ASK, price, change, CHANGE,
        ts_event, ts_recv)`` (no venue best bid/ask, not ``in_order``) without the event object:
        the same effects, result and exceptions. For venue streams that read a delta's fields
        straight from the frame (:mod:`hadron.venues.kalshi.stream`) and need no event.

        Only a LIVE book of ``source`` with an on-grid price inside (0, 1) and no clock listener is
        updated here; anything else (the rare cases) goes through :meth:`apply_delta` itself.
        """
        book = self._books.get(instrument)
        if (
            book is None
            or book.state is not _LIVE
            or book.source is not source
            or self._clock_listeners
            or not 0 < price < _ONE
            or price % book.tick
        ):
            side = _SIDE_BID if bid else _SIDE_ASK
            return self.apply_delta(
                BookDelta(instrument, side, price, change, _ACTION_CHANGE, ts_event, ts_recv), source
            )
        moved = book.change_bid(price, change) if bid else book.change_ask(price, change)
        if moved == _REFUSED:
            side = _SIDE_BID if bid else _SIDE_ASK
            self._negative(book, BookDelta(instrument, side, price, change, _ACTION_CHANGE, ts_event, ts_recv))
            return _NEGATIVE
        self.stats.deltas_applied += 1
        book.ts_event = ts_event
        book.ts_recv = ts_recv
        if moved & _CROSSED or book.crossed:  # crossed or locked now, or just uncrossed
            self._after_update(book, ts_event, ts_recv)  # emits the top itself
        elif moved & _TOP and self._top_listeners:
            self._emit_top(book, ts_event, ts_recv)
        return _APPLIED

    def _revive(self, book: ManagedBook | None, delta: BookDelta, source: object) -> ManagedBook | None:
        # A delta for a book that is not LIVE: a STALE book from the same source is LIVE again;
        # anything else drops the delta (None)
        if book is None or book.state is BookState.AWAITING_SNAPSHOT or book.source is not source:
            if book is not None:
                self.invalidate(book.instrument, "delta from a stream that did not snapshot the book")
            self.book(delta.instrument)
            self.stats.deltas_dropped += 1
            return None
        book.state = _LIVE  # STALE: data flows again
        return book

    def apply_tick_size_change(self, change: TickSizeChange) -> None:
        """Put the book back to AWAITING_SNAPSHOT: its levels are on the old grid."""
        self.invalidate(change.instrument, "tick size changed")

    def invalidate(self, instrument: str, reason: str) -> None:
        """Mark the book of ``instrument`` AWAITING_SNAPSHOT (it keeps its last levels).

        Call this on anything that breaks the chain of deltas: a sequence gap or reset, a
        reconnect, a hash mismatch, a tick-size change. Deltas are then dropped and counted
        until a snapshot re-bases the book.
        """
        book = self.book(instrument)
        book.reason = reason
        if book.state is not BookState.AWAITING_SNAPSHOT:
            self.stats.invalidations += 1
            book.state = BookState.AWAITING_SNAPSHOT
            for listener in self._invalidation_listeners:
                listener(book, reason)

    def invalidate_source(self, source: object, reason: str) -> list[str]:
        """Invalidate every book built from ``source`` (a stream's subscription that broke: a
        sequence gap or reset, an unsubscribe, a terminal error); return their instruments."""
        lost = [book.instrument for book in self._books.values() if book.source is source]
        for instrument in lost:
            self.invalidate(instrument, reason)
            self._books[instrument].source = None
        return lost

    def mark_stale(self, now_ns: int, max_age_ns: int, instruments: Iterable[str] | None = None) -> list[str]:
        """Mark LIVE books with no update for more than ``max_age_ns`` STALE; return their ids.

        ``instruments`` limits the sweep (a venue's own markets); by default every book is checked.
        """
        stale: list[str] = []
        if instruments is None:
            candidates: Iterable[ManagedBook] = self._books.values()
        else:
            candidates = [b for b in map(self._books.get, instruments) if b is not None]
        for book in candidates:
            if book.state is BookState.LIVE and now_ns - book.ts_recv > max_age_ns:
                book.state = BookState.STALE
                book.reason = f"no update for {(now_ns - book.ts_recv) / 1e9:.1f} s"
                stale.append(book.instrument)
        return stale

    # -- internals ---------------------------------------------------------------------------

    def _check_levels(self, snap: BookSnapshot) -> None:
        # A snapshot's values (see apply_snapshot): every level above zero, inside (0, 1), on the
        # venue's tick when it declared one
        tick = snap.tick
        if tick and not (0 < tick < _ONE and _ONE % tick == 0):
            self._bad(snap.instrument, "bad_tick", f"tick {format_price(tick)} is not an increment of 1", snap.ts_recv)
        for name, levels in (("bid", snap.bids), ("ask", snap.asks)):
            for price, size in levels:
                if size <= 0:
                    reason = "negative_size" if size < 0 else "zero_size"
                    message = f"{name} level {format_price(price)} has size {format_size(size)}"
                elif not 0 < price < _ONE:
                    reason, message = "price_range", f"{name} price {format_price(price)} is outside (0, 1)"
                elif tick and price % tick:
                    reason = "off_tick"
                    message = f"{name} price {format_price(price)} is off the tick {format_price(tick)}"
                else:
                    continue
                self._bad(snap.instrument, reason, message, snap.ts_recv)

    def _check_price(self, book: ManagedBook, delta: BookDelta) -> None:
        # A delta's price outside (0, 1), or between two ticks of the book's grid: a bad value
        # unless the grid adapts (no tick declared by the venue)
        price = delta.price
        if not 0 < price < _ONE:
            self._bad(book.instrument, "price_range", f"price {format_price(price)} is outside (0, 1)", delta.ts_recv)
        if book.venue_tick:
            message = f"price {format_price(price)} is off the tick {format_price(book.venue_tick)}"
            self._bad(book.instrument, "off_tick", message, delta.ts_recv)

    def _bad(self, instrument: str, reason: str, message: str, ts_recv: int) -> None:
        # Count a bad value, keep an example, invalidate its book (an update was lost) and raise
        stats = self.stats
        stats.bad_values[reason] = stats.bad_values.get(reason, 0) + 1
        stats.example("bad_value", {"instrument": instrument, "reason": reason, "error": message, "ts_recv": ts_recv})
        self.invalidate(instrument, f"bad value: {message}")
        raise BadValue(reason, f"{instrument}: {message}", instrument)

    def _negative(self, book: ManagedBook, delta: BookDelta) -> None:
        # The level ``delta`` would take below zero (the book still holds the level before it)
        if delta.action is _ACTION_CHANGE:
            held = book.bid_size(delta.price) if delta.side is _SIDE_BID else book.ask_size(delta.price)
            size = held + delta.size
        else:
            size = delta.size
        self.stats.negative_levels += 1
        self.stats.example(
            "negative_level",
            {
                "instrument": book.instrument,
                "side": delta.side.value,
                "price": format_price(delta.price),
                "change": format_size(delta.size),
                "result": format_size(size),
                "ts_recv": delta.ts_recv,
            },
        )
        self.invalidate(book.instrument, "negative level")

    def _bbo_mismatch(self, book: ManagedBook, delta: BookDelta) -> None:
        stats = self.stats
        bid, ask = book.best_bid_price, book.best_ask_price
        book.bbo_misses += 1
        stats.bbo_mismatches += 1
        stats.example(
            "bbo_mismatch",
            {
                "instrument": book.instrument,
                "ts_event": delta.ts_event,
                "venue": [
                    None if delta.venue_bid is None else format_price(delta.venue_bid),
                    None if delta.venue_ask is None else format_price(delta.venue_ask),
                ],
                "book": [format_price(bid), format_price(ask)],
            },
        )

    def _after_update(self, book: ManagedBook, ts_event: int, ts_recv: int) -> None:
        crossed = book.is_crossed
        if crossed:
            self.stats.crossed_updates += 1
            if not book.crossed:
                self.stats.crossed_books += 1
                bid, ask = book.best_bid, book.best_ask
                self.stats.example(
                    "crossed_book",
                    {
                        "instrument": book.instrument,
                        "ts_event": ts_event,
                        "bid": None if bid is None else format_price(bid[0]),
                        "ask": None if ask is None else format_price(ask[0]),
                    },
                )
        book.crossed = crossed
        if self._top_listeners:
            self._emit_top(book, ts_event, ts_recv)

    def _emit_top(self, book: ManagedBook, ts_event: int, ts_recv: int) -> None:
        top = book.top_of_book(ts_event, ts_recv)
        for listener in self._top_listeners:
            listener(top)


__all__ = ["NEVER", "ApplyOutcome", "BookError", "BookManager", "BookState", "BookStats", "ManagedBook"]
