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

from msgspec.structs import astuple

from hadron.errors import DecodeError
from hadron.model.events import (
    AggressorSide,
    BookAction,
    BookDelta,
    BookSide,
    BookSnapshot,
    Level,
    MarketState,
    MarketStatus,
    TopOfBook,
    Trade,
    require_fields,
)
from hadron.model.units import (
    PRICE_CACHE,
    PRICE_ONE,
    SIZE_CACHE,
    check_trade,
    parse_price,
    parse_size,
    price_of,
)
from hadron.venues.kalshi.messages import (
    KalshiMarketLifecycle,
    KalshiOrderbookDelta,
    KalshiOrderbookDeltaMsg,
    KalshiOrderbookSnapshot,
    KalshiTicker,
    KalshiTrade,
)

try:
    import cython
except ImportError:  # no Cython here: plain Python
    from hadron import _nocython as cython

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
    instruments, prices, sizes = _INSTRUMENTS, PRICE_CACHE, SIZE_CACHE  # typed dicts once compiled
    instrument = instruments.get(ticker) or instrument_of(ticker)
    if cython.compiled:
        price = price_of(price_text)  # digits read in place, a shared int (hadron.model.units)
    else:
        cached = prices.get(price_text)
        price = parse_price(price_text) if cached is None else cached
    size = sizes.get(size_text)
    if size is None:
        size = parse_size(size_text)
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


def normalize_lifecycle(frame: KalshiMarketLifecycle, ts_recv: int) -> MarketStatus:
    """Turn ``market_lifecycle_v2`` into a :class:`MarketStatus`.

    ``deactivated`` with ``is_deactivated: false`` is a re-activation (OPEN); close-date,
    price-grid and metadata updates are UPDATED. ``result`` is set on ``determined``.
    """
    msg = frame.msg
    state = _LIFECYCLE.get(msg.event_type, MarketState.UPDATED)
    if msg.event_type == "deactivated" and msg.is_deactivated is False:
        state = MarketState.OPEN
    stamp = msg.settled_ts or msg.determination_ts or msg.open_ts
    if msg.event_type == "close_date_updated":
        stamp = None
    ts_event = stamp * _S if stamp else ts_recv
    return MarketStatus(
        instrument_of(msg.market_ticker),
        state,
        ts_event,
        ts_recv,
        msg.result or None,
        msg.event_type,
    )
