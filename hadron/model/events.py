"""The normalized event family a Hadron user subscribes to.

Every event is a frozen :mod:`msgspec` struct, venue-free, in fixed-point units
(price: int, 1/10,000 USD; size: int, 1/1,000,000, see :mod:`hadron.model.units`), and carries
two clocks, both int nanoseconds since the Unix epoch:

* ``ts_event``: the venue's time for the event. Where the venue sends none (a Kalshi
  ``orderbook_snapshot`` has no timestamp) it equals ``ts_recv``.
* ``ts_recv``: when Hadron received the frame (taken before decoding).

A trade, quote or book event is a :data:`HadronTick`; :data:`MarketEvent` adds the market's
status and tick-size changes. Each struct is tagged (``kind``) so a stream of them encodes to
self-describing JSON or msgpack.
"""

from __future__ import annotations

from enum import StrEnum, unique

import msgspec


def require_fields(cls: type[msgspec.Struct], names: tuple[str, ...]) -> None:
    """Raise ImportError unless ``cls``'s fields are exactly ``names``, in order.

    For hot code that unpacks :func:`msgspec.structs.astuple` (one C call instead of an attribute
    read per field): a field added or moved fails at import, not as a wrong value."""
    if cls.__struct_fields__ != names:
        raise ImportError(f"{cls.__name__} has fields {cls.__struct_fields__}, this code reads {names}")


Level = tuple[int, int]
"""One L2 level: ``(price, size)``, price 1/10,000 USD, size 1/1,000,000."""


@unique
class BookSide(StrEnum):
    """Which ladder of an L2 book."""

    BID = "bid"
    ASK = "ask"


@unique
class BookAction(StrEnum):
    """How a :class:`BookDelta` changes its level.

    * ``SET``: ``size`` is the new aggregate size at the level; 0 removes it (Polymarket).
    * ``CHANGE``: ``size`` is a signed change to the resting size; a result of 0 removes the
      level and a result below 0 is an integrity error (Kalshi ``delta_fp``).
    """

    SET = "set"
    CHANGE = "change"


@unique
class AggressorSide(StrEnum):
    """The taker's side of a trade, in the instrument's own terms (buying YES is ``BUY``)."""

    BUY = "buy"
    SELL = "sell"
    UNKNOWN = "unknown"


@unique
class MarketState(StrEnum):
    """A market's lifecycle, common to both venues."""

    CREATED = "created"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    DETERMINED = "determined"
    SETTLED = "settled"
    UPDATED = "updated"
    """Metadata changed (close time, price grid, strike); the state itself did not."""


class BookSnapshot(msgspec.Struct, frozen=True, gc=False, tag="book_snapshot", tag_field="kind"):
    """The whole L2 book of one instrument; replaces whatever the book held.

    ``bids``/``asks``: tuples of ``(price, size)`` best level first (bids descending, asks
    ascending). ``tick``: the venue's price increment in 1/10,000 USD when it said so, else 0.
    Empty ``bids`` and ``asks`` clear the book (Kalshi does this when a market closes).
    """

    instrument: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    ts_event: int
    ts_recv: int
    tick: int = 0


class BookDelta(msgspec.Struct, frozen=True, gc=False, tag="book_delta", tag_field="kind"):
    """A change to one level of one instrument's L2 book.

    ``size`` is read according to ``action`` (see :class:`BookAction`). ``venue_bid`` and
    ``venue_ask`` are the venue's own best bid/ask for the instrument *after* this change, when
    the venue sends them (Polymarket ``price_change``); an empty side is ``0`` (bid) or
    :data:`~hadron.model.units.PRICE_ONE` (ask). ``None`` means the venue did not say.
    """

    instrument: str
    side: BookSide
    price: int
    size: int
    action: BookAction
    ts_event: int
    ts_recv: int
    venue_bid: int | None = None
    venue_ask: int | None = None


class Trade(msgspec.Struct, frozen=True, gc=False, tag="trade", tag_field="kind"):
    """One print on the public tape: ``size`` at ``price`` (instrument terms, YES for Kalshi)."""

    instrument: str
    price: int
    size: int
    aggressor: AggressorSide
    trade_id: str
    ts_event: int
    ts_recv: int


class TopOfBook(msgspec.Struct, frozen=True, gc=False, tag="top_of_book", tag_field="kind"):
    """Best bid and ask of one instrument; ``None`` prices (and 0 sizes) mean an empty side.

    Emitted by the book manager whenever a LIVE book's best level changes, and decoded from a
    venue's own L1 feed (Kalshi ``ticker``, Polymarket ``best_bid_ask``; sizes 0 when unknown).
    """

    instrument: str
    bid_price: int | None
    bid_size: int
    ask_price: int | None
    ask_size: int
    ts_event: int
    ts_recv: int


class MarketStatus(msgspec.Struct, frozen=True, gc=False, tag="market_status", tag_field="kind"):
    """A market lifecycle change. ``result`` is the venue's outcome label once determined
    (``"yes"``, ``"no"``, a winning token id); ``detail`` is the venue's own event name."""

    instrument: str
    state: MarketState
    ts_event: int
    ts_recv: int
    result: str | None = None
    detail: str = ""


class TickSizeChange(msgspec.Struct, frozen=True, gc=False, tag="tick_size_change", tag_field="kind"):
    """The instrument's price increment changed (1/10,000 USD); its book must be re-snapshotted."""

    instrument: str
    old_tick: int
    new_tick: int
    ts_event: int
    ts_recv: int


class BookInvalidated(msgspec.Struct, frozen=True, gc=False, tag="book_invalidated", tag_field="kind"):
    """The instrument's book can no longer be trusted (a sequence gap or reset, a reconnect, a
    hash mismatch, a lost update): it waits for a snapshot. ``ts_event``/``ts_recv`` are those of
    the book's last update. Consumers of a bus apply it so their copy waits too."""

    instrument: str
    reason: str
    ts_event: int
    ts_recv: int


class OpportunityLeg(msgspec.Struct, frozen=True, gc=False):
    """One leg of an :class:`OpportunityUpdate`: ``size`` (1/1,000,000 share) of ``instrument``
    paying on ``outcome``; ``cost`` and ``fee`` in money units (1/10,000,000,000 USD)."""

    venue: str
    instrument: str
    outcome: str
    size: int
    cost: int
    fee: int


class OpportunityUpdate(msgspec.Struct, frozen=True, gc=False, tag="opportunity", tag_field="kind"):
    """An arbitrage opportunity opened, changed or closed (published by the strategy).

    ``instrument`` is the first leg's instrument (it routes the bus subject); ``change`` is
    ``"opened"``, ``"updated"`` or ``"closed"``. Money (``cost`` including fees, ``payout``,
    ``fees``, ``net``, ``peak_net``) is int, 1/10,000,000,000 USD; ``size`` int, 1/1,000,000
    share per leg; ``opened_ns``/``closed_ns`` ns since the epoch. ``ts_event`` is the time of the
    change (book time), ``ts_recv`` when the strategy saw it.
    """

    instrument: str
    id: str
    pair: str
    opportunity_kind: str
    direction: str
    change: str
    legs: tuple[OpportunityLeg, ...]
    size: int
    cost: int
    payout: int
    fees: int
    net: int
    peak_net: int
    opened_ns: int
    closed_ns: int | None
    ts_event: int
    ts_recv: int


HadronTick = BookSnapshot | BookDelta | Trade | TopOfBook
"""A trade, quote or book event."""

require_fields(
    BookDelta, ("instrument", "side", "price", "size", "action", "ts_event", "ts_recv", "venue_bid", "venue_ask")
)
require_fields(TopOfBook, ("instrument", "bid_price", "bid_size", "ask_price", "ask_size", "ts_event", "ts_recv"))

MarketEvent = HadronTick | MarketStatus | TickSizeChange | BookInvalidated
"""Everything a venue feed normalizes to, plus the book-integrity notice consumers need."""

BusEvent = MarketEvent | OpportunityUpdate
"""Everything that travels on the bus: market events and the strategy's opportunities."""
