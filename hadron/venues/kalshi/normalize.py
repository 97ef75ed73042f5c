"""Pure functions from Kalshi wire messages to Hadron's normalized events (no I/O, no state).

Kalshi books are bids only: the instrument ``kalshi:<ticker>`` is the YES contract, whose bids
are the YES bids and whose asks are the NO bids seen from the other side (a NO bid at $p is a
YES ask at $1 − p, same size). With ``yes_price=True`` the subscription asked Kalshi
(``use_yes_price``) to send NO levels already in YES terms, so no conversion is done.

Prices: int, 1/10,000 USD; sizes: int, 1/1,000,000 contract. Every function raises
:class:`~hadron.errors.DecodeError` on a malformed price or size. Book values are judged where the
book is known, by the book manager (a snapshot level's size ≤ 0 or a price outside (0, 1) is a
:class:`~hadron.errors.BadValue` there; ``delta_fp`` is signed by design); a trade's by
:func:`normalize_trade`.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from msgspec.structs import astuple

from hadron.errors import DecodeError
from hadron.model.events import (
    AggressorSide,
    BookAction,
    BookDelta,
    BookSide,
    BookSnapshot,
    EventStatus,
    FeeUpdate,
    IndexPrice,
    Level,
    MarketState,
    MarketStatus,
    PriceRange,
    TopOfBook,
    Trade,
    require_fields,
)
from hadron.model.units import (
    PRICE_ONE,
    check_trade,
    parse_index_value,
    parse_price,
    parse_size,
    read_price,
    read_size,
)
from hadron.venues.kalshi.messages import (
    KalshiCfbenchmarksValue,
    KalshiEventFeeUpdate,
    KalshiEventLifecycle,
    KalshiMarketLifecycle,
    KalshiMarketLifecycleMsg,
    KalshiMarketMetadata,
    KalshiMultivariateLifecycle,
    KalshiOrderbookDelta,
    KalshiOrderbookDeltaMsg,
    KalshiOrderbookSnapshot,
    KalshiPriceRange,
    KalshiPythValue,
    KalshiTicker,
    KalshiTrade,
)

VENUE_PREFIX = "kalshi:"
_MS = 1_000_000
_S = 1_000_000_000
_BID = BookSide.BID
_ASK = BookSide.ASK
_CHANGE = BookAction.CHANGE

require_fields(
    KalshiOrderbookDeltaMsg,
    ("market_ticker", "price_dollars", "delta_fp", "side", "ts_ms", "client_order_id", "subaccount"),
)


_INSTRUMENTS: dict[str, str] = {}
_INSTRUMENT_CACHE_LIMIT = 1_000_000


def instrument_of(market_ticker: str) -> str:
    """Return ``"kalshi:<market_ticker>"``; raises DecodeError for an empty ticker.

    The same string object is returned for the same ticker (its hash is computed once, which
    keeps the per-delta book lookups cheap).
    """
    instrument = _INSTRUMENTS.get(market_ticker)
    if instrument is None:
        if not market_ticker:
            raise DecodeError("empty market_ticker")
        instrument = VENUE_PREFIX + market_ticker
        if len(_INSTRUMENTS) < _INSTRUMENT_CACHE_LIMIT:
            _INSTRUMENTS[market_ticker] = instrument
    return instrument


def _levels(raw: list[tuple[str, str]], flip: bool, keep_empty: bool = False) -> list[Level]:
    # Every level as sent, negative sizes included (the book manager refuses them: BadValue);
    # zero-size levels too with ``keep_empty`` (a WebSocket snapshot), else dropped (REST books)
    out: list[Level] = []
    for price_text, size_text in raw:
        price = parse_price(price_text)
        size = parse_size(size_text)
        if size or keep_empty:
            out.append((PRICE_ONE - price if flip else price, size))
    return out


def normalize_snapshot(frame: KalshiOrderbookSnapshot, ts_recv: int, yes_price: bool = False) -> BookSnapshot:
    """Turn ``orderbook_snapshot`` into a :class:`BookSnapshot` of the YES book.

    ``ts_event`` equals ``ts_recv``: Kalshi snapshots carry no timestamp. Levels are best first,
    every one as sent: a size ≤ 0 or a price outside (0, 1) is refused by the book manager
    (:class:`~hadron.errors.BadValue`), not here. See Kalshi AsyncAPI ``orderbook_snapshot``.
    """
    msg = frame.msg
    bids = _levels(msg.yes_dollars_fp, False, True)
    asks = _levels(msg.no_dollars_fp, not yes_price, True)
    bids.sort(reverse=True)
    asks.sort()
    return BookSnapshot(instrument_of(msg.market_ticker), tuple(bids), tuple(asks), ts_recv, ts_recv)


def normalize_delta(frame: KalshiOrderbookDelta, ts_recv: int, yes_price: bool = False) -> BookDelta:
    """Turn ``orderbook_delta`` into a :class:`BookDelta` (action CHANGE) of the YES book.

    A ``yes`` delta changes the bid at the price; a ``no`` delta changes the ask at 1 − price.
    ``ts_event`` is ``ts_ms`` (ns), or ``ts_recv`` when absent. See Kalshi AsyncAPI
    ``orderbook_delta``.
    """
    # one C call reads every field (cheaper than five attribute reads once compiled)
    ticker, price_text, size_text, side, ts_ms, _, _ = astuple(frame.msg)
    instruments = _INSTRUMENTS  # a typed dict once compiled
    instrument = instruments.get(ticker) or instrument_of(ticker)
    price = read_price(price_text)  # each build's faster way (hadron.model.units)
    size = read_size(size_text)
    if side == "yes":
        book_side = _BID
    else:
        book_side = _ASK
        if not yes_price:
            price = PRICE_ONE - price
    return BookDelta(
        instrument,
        book_side,
        price,
        size,
        _CHANGE,
        ts_ms * _MS if ts_ms else ts_recv,  # ts_ms is bounded by the decoder (messages.MAX_MS)
        ts_recv,
    )


_AGGRESSOR = {"yes": AggressorSide.BUY, "no": AggressorSide.SELL}


def normalize_trade(frame: KalshiTrade, ts_recv: int) -> Trade:
    """Turn ``trade`` into a :class:`Trade` at the YES price.

    The aggressor is ``taker_outcome_side`` (``yes`` = bought YES = BUY), falling back to the
    deprecated ``taker_side``. See Kalshi AsyncAPI ``trade``.

    Raises:
        BadValue: a count ≤ 0, or a YES price outside (0, 1) (:func:`~hadron.model.units.check_trade`).
    """
    msg = frame.msg
    ts_event = msg.ts_ms * _MS if msg.ts_ms else (msg.ts * _S if msg.ts else ts_recv)
    aggressor = _AGGRESSOR.get(msg.taker_outcome_side or msg.taker_side, AggressorSide.UNKNOWN)
    price = parse_price(msg.yes_price_dollars)
    size = parse_size(msg.count_fp)
    check_trade(price, size)
    return Trade(instrument_of(msg.market_ticker), price, size, aggressor, msg.trade_id, ts_event, ts_recv)


def _optional_price(text: str, empty: int) -> int | None:
    if not text:
        return None
    price = parse_price(text)
    return None if price == empty else price


def _optional_size(text: str) -> int:
    return parse_size(text) if text else 0


def normalize_ticker(frame: KalshiTicker, ts_recv: int) -> TopOfBook:
    """Turn ``ticker`` into the venue's :class:`TopOfBook` (bid $0 / ask $1 mean an empty side)."""
    msg = frame.msg
    bid = _optional_price(msg.yes_bid_dollars, 0)
    ask = _optional_price(msg.yes_ask_dollars, PRICE_ONE)
    ts_event = msg.ts_ms * _MS if msg.ts_ms else (msg.ts * _S if msg.ts else ts_recv)
    return TopOfBook(
        instrument_of(msg.market_ticker),
        bid,
        _optional_size(msg.yes_bid_size_fp) if bid is not None else 0,
        ask,
        _optional_size(msg.yes_ask_size_fp) if ask is not None else 0,
        ts_event,
        ts_recv,
    )


_LIFECYCLE = {
    "created": MarketState.CREATED,
    "activated": MarketState.OPEN,
    "deactivated": MarketState.PAUSED,
    "determined": MarketState.DETERMINED,
    "settled": MarketState.SETTLED,
}
"""Kalshi ``event_type`` → state; the others (``close_date_updated``,
``price_level_structure_updated``, ``metadata_updated``) are UPDATED: the state did not change."""


def _strike(value: Decimal | None) -> str:
    # An exact strike as decimal text without exponent ("95000", "0.02"); "" when not sent
    return "" if value is None else format(value, "f")


def _price_ranges(bands: list[KalshiPriceRange]) -> tuple[tuple[PriceRange, ...], int]:
    # The grid's bands in 1/10,000 USD and its finest step (0 when no band was sent)
    ranges = tuple((parse_price(b.start), parse_price(b.end), parse_price(b.step)) for b in bands)
    tick = min((step for _, _, step in ranges), default=0)
    if ranges and tick <= 0:
        raise DecodeError(f"price_ranges with a zero step: {bands!r}")
    return ranges, tick


def normalize_lifecycle(frame: KalshiMarketLifecycle | KalshiMultivariateLifecycle, ts_recv: int) -> MarketStatus:
    """Turn ``market_lifecycle_v2`` (or ``multivariate_market_lifecycle``, the same payload) into a
    :class:`MarketStatus`, every event type of the spec.

    ``created`` → CREATED, ``activated`` → OPEN, ``deactivated`` → PAUSED (with ``is_deactivated:
    false`` a re-activation: OPEN), ``determined`` → DETERMINED (``result``, ``settlement_value``),
    ``settled`` → SETTLED; ``close_date_updated``, ``price_level_structure_updated`` and
    ``metadata_updated`` → UPDATED. Whatever the message carries goes into the event:
    ``open_ts``/``close_ts`` (s → ns), ``settlement_value`` (dollars → 1/10,000 USD), the event
    ticker (``kalshi:<event_ticker>``) and title of ``additional_metadata``, the strike
    (``strike_type``, ``floor_strike``, ``cap_strike``, top level or in ``additional_metadata``),
    ``price_level_structure`` and ``price_ranges`` (→ ``tick``, the finest step). ``ts_event`` is
    ``settled_ts``, ``determination_ts`` or ``open_ts`` (s) when sent, else ``ts_recv``.

    Raises:
        DecodeError: an empty ticker, a malformed settlement value or price band.

    See Kalshi AsyncAPI ``marketLifecycleV2`` and ``multivariateMarketLifecycle``.
    """
    msg = frame.msg
    state = _LIFECYCLE.get(msg.event_type, MarketState.UPDATED)
    if msg.event_type == "deactivated" and msg.is_deactivated is False:
        state = MarketState.OPEN
    stamp = msg.settled_ts or msg.determination_ts or msg.open_ts
    if msg.event_type == "close_date_updated":
        stamp = None
    ts_event = stamp * _S if stamp else ts_recv
    meta = msg.additional_metadata
    strike_type, floor_strike, cap_strike = "", None, None
    if isinstance(msg, KalshiMarketLifecycleMsg):  # strikes: top level on metadata_updated, else in the metadata
        strike_type, floor_strike, cap_strike = msg.strike_type, msg.floor_strike, msg.cap_strike
        if isinstance(meta, KalshiMarketMetadata):
            strike_type = strike_type or meta.strike_type
            floor_strike = floor_strike if floor_strike is not None else meta.floor_strike
            cap_strike = cap_strike if cap_strike is not None else meta.cap_strike
    ranges, tick = _price_ranges(msg.price_ranges)
    return MarketStatus(
        instrument_of(msg.market_ticker),
        state,
        ts_event,
        ts_recv,
        msg.result or None,
        msg.event_type,
        open_ns=msg.open_ts * _S if msg.open_ts else None,
        close_ns=msg.close_ts * _S if msg.close_ts else None,
        settlement_value=parse_price(msg.settlement_value) if msg.settlement_value else None,
        event=VENUE_PREFIX + meta.event_ticker if meta is not None and meta.event_ticker else "",
        title=meta.title if meta is not None else "",
        strike_type=strike_type,
        floor_strike=_strike(floor_strike),
        cap_strike=_strike(cap_strike),
        price_level_structure=msg.price_level_structure,
        price_ranges=ranges,
        tick=tick,
    )


def normalize_event_lifecycle(frame: KalshiEventLifecycle, ts_recv: int) -> EventStatus:
    """Turn ``event_lifecycle`` into an :class:`EventStatus` (``instrument`` ``kalshi:<event_ticker>``;
    ``strike_date`` s → ns). ``ts_event`` is ``ts_recv``: the message carries no time.

    Raises:
        DecodeError: an empty event ticker.

    See Kalshi AsyncAPI ``eventLifecycle``.
    """
    msg = frame.msg
    return EventStatus(
        instrument_of(msg.event_ticker),
        msg.title,
        ts_recv,
        ts_recv,
        subtitle=msg.subtitle,
        series=msg.series_ticker,
        collateral_return_type=msg.collateral_return_type,
        strike_ns=msg.strike_date * _S if msg.strike_date else None,
        strike_period=msg.strike_period,
    )


INDEX_PREFIX = "kalshi:index:"
"""The instrument id prefix of Kalshi's reference prices (:class:`IndexPrice`): ``kalshi:index:BRTI``."""


def index_instrument(index: str) -> str:
    """Return ``"kalshi:index:<index>"``; raises DecodeError for an empty index id."""
    if not index:
        raise DecodeError("empty index id")
    return INDEX_PREFIX + index


class _CfBenchmarksData(msgspec.Struct, frozen=True, gc=False):
    # CF Benchmarks' own frame inside ``data``: {"type":"value","id":"BRTI","time":<ms>,"value":"68000.12"}
    id: str = ""
    time: int = 0
    value: str = ""


_decode_cf_data = msgspec.json.Decoder(_CfBenchmarksData).decode
_MAX_MS = 10**15  # Unix ms beyond year 33000: not a time (bounded before scaling to ns)


def _ms_to_ns(ms: int, fallback: int) -> int:
    if not 0 < ms < _MAX_MS:
        return fallback
    return ms * _MS


def normalize_index(frame: KalshiCfbenchmarksValue | KalshiPythValue, ts_recv: int) -> IndexPrice:
    """Turn ``cfbenchmarks_value`` or ``pyth_value`` into an :class:`IndexPrice`.

    * ``cfbenchmarks_value``: ``index`` is ``index_id``; ``value`` and ``ts_event`` come from
      CF Benchmarks' own frame in ``data`` (``value``, ``time`` in Unix ms); ``ts_event`` falls back
      to ``received_at``, then ``ts_recv``. ``avg_60s`` is ``avg_60s_data.value``. See Kalshi
      AsyncAPI ``cfbenchmarksValue``.
    * ``pyth_value``: ``index`` is ``underlying_ticker``, ``value`` is ``value_usd``, ``ts_event``
      is ``source_ts_ms`` (else ``received_at``, else ``ts_recv``). See Kalshi AsyncAPI ``pythValue``.

    ``value`` and ``avg_60s``: int, 1/100,000,000 USD (:func:`~hadron.model.units.parse_index_value`);
    times in ns.

    Raises:
        DecodeError: ``data`` is not CF Benchmarks' JSON object or has no ``value``, a value is
            not a plain decimal (or finer than 1e-8, or out of 64-bit range), an empty index id.
    """
    if isinstance(frame, KalshiPythValue):
        pyth = frame.msg
        return IndexPrice(
            index_instrument(pyth.underlying_ticker),
            pyth.underlying_ticker,
            "pyth",
            "kalshi",
            parse_index_value(pyth.value_usd),
            _ms_to_ns(pyth.source_ts_ms, _ms_to_ns(pyth.received_at, ts_recv)),
            ts_recv,
        )
    cf = frame.msg
    try:
        data = _decode_cf_data(cf.data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"cfbenchmarks_value data is not CF Benchmarks' frame: {exc}") from None
    if not data.value:
        raise DecodeError(f"cfbenchmarks_value {cf.index_id!r} carries no value in data")
    if data.id and data.id != cf.index_id:
        raise DecodeError(f"cfbenchmarks_value index_id {cf.index_id!r} but data is for {data.id!r}")
    average = cf.avg_60s_data
    return IndexPrice(
        index_instrument(cf.index_id),
        cf.index_id,
        "cfbenchmarks",
        "kalshi",
        parse_index_value(data.value),
        _ms_to_ns(data.time, _ms_to_ns(cf.received_at, ts_recv)),
        ts_recv,
        parse_index_value(average.value) if average is not None and average.value else None,
    )


FEE_SCOPE_PREFIX = "kalshi:event:"
"""The instrument id prefix of Kalshi fee overrides (:class:`FeeUpdate`): ``kalshi:event:<event ticker>``."""


def normalize_fee_update(frame: KalshiEventFeeUpdate, ts_recv: int) -> FeeUpdate:
    """Turn ``event_fee_update`` (Kalshi AsyncAPI ``eventFeeUpdate``) into a :class:`FeeUpdate`.

    The override applies to every market of ``event_ticker``; ``fee_type_override`` and
    ``fee_multiplier_override`` are kept as sent (``None``: that override was cleared). The frame
    has no venue time, so ``ts_event`` is ``ts_recv``. Whether Hadron can price the fee type is
    decided where it is applied (:class:`hadron.arb.fees.FeeRegistry`), not here.

    Raises:
        DecodeError: an empty event ticker.
    """
    msg = frame.msg
    if not msg.event_ticker:
        raise DecodeError("event_fee_update without event_ticker")
    return FeeUpdate(
        FEE_SCOPE_PREFIX + msg.event_ticker,
        "event",
        msg.event_ticker,
        "kalshi",
        msg.fee_type_override or None,
        msg.fee_multiplier_override,
        ts_recv,
        ts_recv,
    )
