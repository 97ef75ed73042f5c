"""Pure functions from Polymarket market-channel messages to normalized events (no I/O).

Each token has its own book, ``polymarket:<token id>``. A binary market's two token books
mirror each other (a YES bid at p is the NO ask at 1 − p, the same orders), so they are kept
apart and never added together. ``price_change`` sizes are the new total at a level, so deltas
use :attr:`~hadron.model.BookAction.SET`.

Prices: int, 1/10,000 USD; sizes: int, 1/1,000,000 share; times: ns. Every function raises
:class:`~hadron.errors.DecodeError` on a malformed field. Book values are judged where the book is
known, by the book manager: a ``book`` level whose size is ≤ 0 or whose price is outside (0, 1)
or off the ``tick_size``, a ``price_change`` size below zero (``"0"`` removes the level, and is
legal) or price outside (0, 1) or off the book's tick is a :class:`~hadron.errors.BadValue` there.
A trade's values and a tick size are judged here (:class:`~hadron.errors.BadValue` too).
"""

from __future__ import annotations

import hashlib

from msgspec.structs import astuple

from hadron.errors import BadValue, DecodeError
from hadron.model.events import (
    AggressorSide,
    BookAction,
    BookDelta,
    BookSide,
    BookSnapshot,
    Level,
    MarketState,
    MarketStatus,
    TickSizeChange,
    TopOfBook,
    Trade,
    require_fields,
)
from hadron.model.units import (
    PRICE_ONE,
    check_tick,
    check_trade,
    parse_price,
    parse_size,
    read_ms,
    read_price,
    read_size,
)
from hadron.venues.polymarket.messages import (
    PolymarketBestBidAsk,
    PolymarketBook,
    PolymarketLastTradePrice,
    PolymarketLevel,
    PolymarketMarketResolved,
    PolymarketNewMarket,
    PolymarketPriceChange,
    PolymarketPriceChangeEntry,
    PolymarketPriceChangeLevels,
    PolymarketTickSizeChange,
)

VENUE_PREFIX = "polymarket:"
_MS = 1_000_000
_SIDE = {"BUY": BookSide.BID, "SELL": BookSide.ASK}
_AGGRESSOR = {"BUY": AggressorSide.BUY, "SELL": AggressorSide.SELL}
_SET = BookAction.SET
_BID = BookSide.BID
_ASK = BookSide.ASK

require_fields(PolymarketPriceChangeEntry, ("asset_id", "price", "size", "side", "best_bid", "best_ask"))


_INSTRUMENTS: dict[str, str] = {}
_INSTRUMENTS_LIMIT = 100_000


def instrument_of(token_id: str) -> str:
    """Return ``"polymarket:<token_id>"``; raises DecodeError for an empty or non-numeric id.

    Checked ids are remembered (up to 100,000), so a token seen before costs one dict look-up."""
    instrument = _INSTRUMENTS.get(token_id)
    if instrument is not None:
        return instrument
    if not token_id or not token_id.isascii() or not token_id.isdigit():
        raise DecodeError(f"token id {token_id!r} is not a decimal string")
    if len(_INSTRUMENTS) >= _INSTRUMENTS_LIMIT:
        _INSTRUMENTS.clear()
    instrument = _INSTRUMENTS[token_id] = VENUE_PREFIX + token_id
    return instrument


def parse_ms(text: str) -> int:
    """Parse a Polymarket ``timestamp`` (string of Unix ms) into ns; raises DecodeError."""
    if not text.isascii() or not text.isdigit():
        raise DecodeError(f"timestamp {text!r} is not Unix milliseconds")
    return int(text) * _MS


def _levels(raw: list[PolymarketLevel], keep_empty: bool = False) -> list[Level]:
    # Every level as sent, negative sizes included (the book manager refuses them: BadValue);
    # zero-size levels too with ``keep_empty`` (a WebSocket book), else dropped (REST books)
    out: list[Level] = []
    for level in raw:
        size = parse_size(level.size)
        if size or keep_empty:
            out.append((parse_price(level.price), size))
    return out


def _tick(text: str, instrument: str | None = None) -> int:
    # a declared tick_size, or 0 when absent; "0" declares no increment at all: BadValue (any
    # other value that is not an increment of 1 USD is the book manager's to refuse, and count)
    tick = parse_price(text) if text else 0
    if text and not tick:
        raise BadValue("bad_tick", f"tick_size {text!r}", instrument)
    return tick


def normalize_book(msg: PolymarketBook, ts_recv: int) -> BookSnapshot:
    """Turn ``book`` into a :class:`BookSnapshot`, levels re-sorted best first, every one as sent.

    See the market-channel AsyncAPI ``book``; the wire order (worst first) is not relied on.
    ``tick`` is ``tick_size`` (0 when absent): the book manager then refuses a level off it, or
    with a size ≤ 0, or a price outside (0, 1) (:class:`~hadron.errors.BadValue`).

    Raises:
        BadValue: a ``tick_size`` of zero.
    """
    instrument = instrument_of(msg.asset_id)
    bids = _levels(msg.bids if msg.bids is not None else (msg.buys or []), True)
    asks = _levels(msg.asks if msg.asks is not None else (msg.sells or []), True)
    bids.sort(reverse=True)
    asks.sort()
    return BookSnapshot(
        instrument,
        tuple(bids),
        tuple(asks),
        parse_ms(msg.timestamp),
        ts_recv,
        _tick(msg.tick_size, instrument),
    )


def _venue_top(text: str | None, empty: int) -> int | None:
    # The venue's best bid/ask after a change: "" (or "0" bid / "1" ask) is an empty side.
    if text is None:
        return None
    if not text:
        return empty
    return parse_price(text)


def normalize_price_change(msg: PolymarketPriceChange | PolymarketPriceChangeLevels, ts_recv: int) -> list[BookDelta]:
    """Turn ``price_change`` (any of its three formats) into SET :class:`BookDelta` events.

    The current format carries the venue's best bid/ask after each change; they ride along as
    ``venue_bid``/``venue_ask`` (empty bid 0, empty ask :data:`PRICE_ONE`).

    Raises:
        DecodeError: no changes in any known format, or a malformed field.
    """
    text = msg.timestamp
    ns = read_ms(text)  # each build's faster way (hadron.model.units)
    ts_event = ns if ns >= 0 else parse_ms(text)
    changes = msg.price_changes
    if changes is not None:
        # the hot path (the current format): one C call reads an entry's fields, the numbers are
        # read by each build's faster way (hadron.model.units)
        out: list[BookDelta] = []
        instruments = _INSTRUMENTS
        for c in changes:
            asset_id, price_text, size_text, side, bid, ask = astuple(c)
            price = read_price(price_text)
            size = read_size(size_text)
            venue_bid = None if bid is None else (read_price(bid) if bid else 0)
            venue_ask = None if ask is None else (read_price(ask) if ask else PRICE_ONE)
            out.append(
                BookDelta(
                    instruments.get(asset_id) or instrument_of(asset_id),
                    _BID if side == "BUY" else _ASK,  # the decoder admits BUY and SELL only
                    price,
                    size,
                    _SET,
                    ts_event,
                    ts_recv,
                    venue_bid,
                    venue_ask,
                )
            )
        return out
    if not isinstance(msg, PolymarketPriceChange):  # the hot path's view always has price_changes
        raise DecodeError("price_change without price_changes")
    if msg.asset_id is None:
        raise DecodeError("price_change without price_changes or asset_id")
    instrument = instrument_of(msg.asset_id)
    if msg.changes is not None:
        return [
            BookDelta(instrument, _SIDE[c.side], parse_price(c.price), parse_size(c.size), _SET, ts_event, ts_recv)
            for c in msg.changes
        ]
    if msg.price is None or msg.size is None or msg.side is None:
        raise DecodeError("price_change without price_changes, changes or price/size/side")
    return [
        BookDelta(instrument, _SIDE[msg.side], parse_price(msg.price), parse_size(msg.size), _SET, ts_event, ts_recv)
    ]


def trade_id_of(msg: PolymarketLastTradePrice) -> str:
    """Return a deterministic id for a print (the venue sends none): its transaction hash, or a
    BLAKE2 digest of asset, side, price, size and timestamp."""
    if msg.transaction_hash:
        return msg.transaction_hash
    key = f"{msg.asset_id}|{msg.side}|{msg.price}|{msg.size}|{msg.timestamp}".encode()
    return hashlib.blake2b(key, digest_size=12).hexdigest()


def normalize_last_trade(msg: PolymarketLastTradePrice, ts_recv: int) -> Trade:
    """Turn ``last_trade_price`` into a :class:`Trade` (aggressor = the taker's side).

    Raises:
        BadValue: a size ≤ 0, or a price outside (0, 1) (:func:`~hadron.model.units.check_trade`).
    """
    price = parse_price(msg.price)
    size = parse_size(msg.size)
    check_trade(price, size)
    return Trade(
        instrument_of(msg.asset_id),
        price,
        size,
        _AGGRESSOR[msg.side],
        trade_id_of(msg),
        parse_ms(msg.timestamp),
        ts_recv,
    )


def normalize_tick_size_change(msg: PolymarketTickSizeChange, ts_recv: int) -> TickSizeChange:
    """Turn ``tick_size_change`` into a :class:`TickSizeChange` (ticks in 1/10,000 USD).

    Raises:
        BadValue: a tick that is not an increment of 1 USD (:func:`~hadron.model.units.check_tick`).
    """
    instrument = instrument_of(msg.asset_id)
    return TickSizeChange(
        instrument,
        check_tick(parse_price(msg.old_tick_size), instrument),
        check_tick(parse_price(msg.new_tick_size), instrument),
        parse_ms(msg.timestamp),
        ts_recv,
    )


def normalize_best_bid_ask(msg: PolymarketBestBidAsk, ts_recv: int) -> TopOfBook:
    """Turn ``best_bid_ask`` into the venue's :class:`TopOfBook` (sizes unknown: 0)."""
    bid = _venue_top(msg.best_bid, 0)
    ask = _venue_top(msg.best_ask, PRICE_ONE)
    return TopOfBook(
        instrument_of(msg.asset_id),
        bid or None,
        0,
        None if ask is None or ask >= PRICE_ONE else ask,
        0,
        parse_ms(msg.timestamp),
        ts_recv,
    )


def normalize_new_market(msg: PolymarketNewMarket, ts_recv: int) -> list[MarketStatus]:
    """Turn ``new_market`` into one CREATED :class:`MarketStatus` per token."""
    ts_event = parse_ms(msg.timestamp)
    return [
        MarketStatus(instrument_of(token), MarketState.CREATED, ts_event, ts_recv, None, "new_market")
        for token in msg.assets_ids
    ]


def normalize_market_resolved(msg: PolymarketMarketResolved, ts_recv: int) -> list[MarketStatus]:
    """Turn ``market_resolved`` into one DETERMINED :class:`MarketStatus` per token.

    ``result`` is ``"yes"`` for the winning token (it pays 1) and ``"no"`` for the others.
    """
    ts_event = parse_ms(msg.timestamp)
    return [
        MarketStatus(
            instrument_of(token),
            MarketState.DETERMINED,
            ts_event,
            ts_recv,
            "yes" if token == msg.winning_asset_id else "no",
            "market_resolved",
        )
        for token in msg.assets_ids
    ]
