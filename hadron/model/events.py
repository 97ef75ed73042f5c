"""The normalized event family a Hadron user subscribes to.

Every event is a frozen :mod:`msgspec` struct, venue-free, in fixed-point units
(price: int, 1/10,000 USD; size: int, 1/1,000,000, see :mod:`hadron.model.units`), and carries
two clocks, both int nanoseconds since the Unix epoch:

* ``ts_event``: the venue's time for the event. Where the venue sends none (a Kalshi
  ``orderbook_snapshot`` has no timestamp) it equals ``ts_recv``.
* ``ts_recv``: when Hadron received the frame (taken before decoding).

A trade, quote or book event is a :data:`HadronTick`; :data:`MarketEvent` adds the market's
status and tick-size changes, and :class:`IndexPrice` (the reference price of an underlying).
Each struct is tagged (``kind``) so a stream of them encodes to self-describing JSON or msgpack.
"""

from __future__ import annotations

from decimal import Decimal
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


PriceRange = tuple[int, int, int]
"""One band of a market's price grid: ``(start, end, step)``, each 1/10,000 USD."""


class MarketStatus(msgspec.Struct, frozen=True, gc=False, tag="market_status", tag_field="kind"):
    """A market lifecycle change, and what the venue said about the market's structure with it.

    ``result`` is the venue's outcome label once determined (``"yes"``, ``"no"``; ``None``
    before); ``detail`` is the venue's own event name (Kalshi ``event_type``, e.g.
    ``close_date_updated``; Polymarket ``new_market``). The fields after ``detail`` are set only
    when the message carried them (``None``, ``""``, ``()`` or ``0`` otherwise):

    * ``open_ns``/``close_ns``: scheduled open and close, ns since the epoch (a market is not
      traded from ``close_ns`` on);
    * ``settlement_value``: the YES contract's value at settlement, 1/10,000 USD (``"0.5000"`` →
      5000);
    * ``event``/``title``: the venue's event id (Kalshi event ticker) and market title;
    * ``strike_type``/``floor_strike``/``cap_strike``: the strike as the venue states it, the
      numbers as exact decimal text (``"95000"``; an index level or a count, not a price);
    * ``price_level_structure``/``price_ranges``: the venue's name of the price grid and its bands
      (:data:`PriceRange`); ``tick``: the finest step of those bands, 1/10,000 USD.

    Sources: Kalshi AsyncAPI ``marketLifecycleV2`` and ``multivariateMarketLifecycle``; Polymarket
    ``new_market`` and ``market_resolved``.
    """

    instrument: str
    state: MarketState
    ts_event: int
    ts_recv: int
    result: str | None = None
    detail: str = ""
    open_ns: int | None = None
    close_ns: int | None = None
    settlement_value: int | None = None
    event: str = ""
    title: str = ""
    strike_type: str = ""
    floor_strike: str = ""
    cap_strike: str = ""
    price_level_structure: str = ""
    price_ranges: tuple[PriceRange, ...] = ()
    tick: int = 0


class EventStatus(msgspec.Struct, frozen=True, gc=False, tag="event_status", tag_field="kind"):
    """An event (a group of markets) was created or changed.

    ``instrument`` is the event's id, ``"<venue>:<event ticker>"`` (``"kalshi:KXQUICKSETTLE-…"``):
    named so the bus routes it like the other events; it is not a tradeable market. ``series`` is
    the venue's series id, ``collateral_return_type`` Kalshi's (``"MECNET"``, ``"DIRECNET"``, ``""``),
    ``strike_ns`` the event's strike date (ns since the epoch; ``None`` when not sent) and
    ``strike_period`` its strike period as sent. ``ts_event`` is ``ts_recv`` (the venue sends no time).
    Source: Kalshi AsyncAPI ``eventLifecycle``.
    """

    instrument: str
    title: str
    ts_event: int
    ts_recv: int
    subtitle: str = ""
    series: str = ""
    collateral_return_type: str = ""
    strike_ns: int | None = None
    strike_period: str = ""


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


class IndexPrice(msgspec.Struct, frozen=True, gc=False, tag="index_price", tag_field="kind"):
    """A reference price: the level of an index or the price of an underlying, as the venue relays it.

    ``instrument`` is ``"<venue>:index:<index>"`` (``"kalshi:index:BRTI"``,
    ``"kalshi:index:Metal.XAU/USD"``): it routes the event (bus subject, feed filters) and is
    never a tradeable market. ``index`` is the index id or underlying ticker as the source names
    it; ``source`` is who computes it (``"cfbenchmarks"`` or ``"pyth"``); ``venue`` the venue that
    relayed it (``"kalshi"``). ``value`` is int, 1/100,000,000 USD
    (:data:`~hadron.model.units.INDEX_SCALE`, parsed exactly from the decimal string:
    ``"68000.12"`` → ``6_800_012_000_000``). ``avg_60s`` is the trailing 60-second average the
    venue sends with it (same unit; ``None`` when it sent none). ``ts_event`` is the source's time
    (CF Benchmarks ``time``, Pyth ``source_ts_ms``), else the venue's receipt time, else ``ts_recv``.
    """

    instrument: str
    index: str
    source: str
    venue: str
    value: int
    ts_event: int
    ts_recv: int
    avg_60s: int | None = None


class FeeUpdate(msgspec.Struct, frozen=True, gc=False, tag="fee_update", tag_field="kind"):
    """A venue changed the fee rule of a group of its markets from now on (touches no book).

    Kalshi ``event_fee_update`` (Kalshi AsyncAPI ``eventFeeUpdate``, channel
    ``market_lifecycle_v2``): an event's fee override was set or cleared; it applies to every
    market of the event. ``instrument`` is ``"<venue>:<scope>:<id>"`` (``"kalshi:event:KXGOLD-26AUG10"``):
    it routes the event (bus subject, feed filters) and is never a tradeable market. ``scope`` is
    what ``id`` names (``"event"``: a Kalshi event ticker); ``venue`` the venue (``"kalshi"``).
    ``fee_type`` is the venue's fee type name (Kalshi: ``quadratic``,
    ``quadratic_with_maker_fees``, ``quadratic_with_combo_maker_fees``, ``flat``), ``None`` when
    the override of the type was cleared (the series' own applies again); ``multiplier`` the fee
    multiplier ``M`` exactly as sent (``Decimal``, never a float), ``None`` when cleared. Kalshi's
    frame carries no time: ``ts_event`` equals ``ts_recv``, and the override applies from
    ``ts_recv`` on (so a replay reproduces it). Consumers: :class:`hadron.arb.fees.FeeRegistry`.
    """

    instrument: str
    scope: str
    id: str
    venue: str
    fee_type: str | None
    multiplier: Decimal | None
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

MarketEvent = HadronTick | MarketStatus | TickSizeChange | BookInvalidated | IndexPrice | FeeUpdate | EventStatus
"""Everything a venue feed normalizes to, plus the book-integrity notice consumers need
(:class:`IndexPrice`, a reference price, and :class:`FeeUpdate`, a fee rule, touch no book)."""

BusEvent = MarketEvent | OpportunityUpdate
"""Everything that travels on the bus: market events and the strategy's opportunities."""
