"""Polymarket REST wire types: CLOB and Gamma response bodies as frozen msgspec structs.

Sources: Polymarket docs ``api-reference`` (CLOB ``OrderBookSummary``, ``GET /markets``,
``GET /fee-rate``, ``GET /tick-size``; Gamma ``GET /markets``, ``GET /events``) and
``docs/protocols/polymarket.md#clob-rest``, ``#gamma-rest``.

Unknown fields are ignored and optional ones defaulted. Book prices and sizes stay the wire's
decimal strings; JSON numbers that are prices, sizes or rates decode to exact ``Decimal``. Gamma
sends ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` as JSON *strings*: the decoders here
parse them into tuples (a malformed one is a :class:`~hadron.errors.DecodeError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar

import msgspec

from hadron.errors import DecodeError
from hadron.venues.polymarket.fees import PolymarketGammaFeeSchedule
from hadron.venues.polymarket.messages import PolymarketLevel

# -- CLOB --------------------------------------------------------------------------------------


class PolymarketBookSummary(msgspec.Struct, frozen=True, gc=False):
    """CLOB ``OrderBookSummary`` (``GET /book``, ``POST /books``).

    Levels are ``{"price","size"}`` decimal strings, worst first as sent (bids ascending, asks
    descending). ``timestamp`` is Unix ms as a string; ``hash`` the SHA-1 of the summary
    (:func:`hadron.venues.polymarket.hash.verify_book` checks it). Older bodies lack
    ``min_order_size``/``tick_size``/``neg_risk``/``last_trade_price`` (``""``/``None``); ``""`` is
    a real ``last_trade_price`` (no trade yet). Example::

        {"market":"0x9d83…","asset_id":"7261…","timestamp":"1785734468581",
         "hash":"d7df883ae546b09533a4f485bfae0810da1af04e",
         "bids":[{"price":"0.001","size":"667.12"},{"price":"0.002","size":"6.99"}],"asks":[],
         "min_order_size":"5","tick_size":"0.001","neg_risk":true,"last_trade_price":""}
    """

    market: str
    asset_id: str
    timestamp: str
    hash: str = ""
    bids: list[PolymarketLevel] | None = None
    asks: list[PolymarketLevel] | None = None
    min_order_size: str = ""
    tick_size: str = ""
    neg_risk: bool | None = None
    last_trade_price: str | None = None


class PolymarketClobToken(msgspec.Struct, frozen=True, gc=False):
    """One outcome token of a CLOB market: ``token_id`` (decimal string, may be ``""`` on very old
    markets), ``outcome`` label, display ``price`` (exact ``Decimal``) and ``winner``."""

    token_id: str
    outcome: str = ""
    price: Decimal | None = None
    winner: bool = False


class PolymarketClobMarket(msgspec.Struct, frozen=True, gc=False):
    """One CLOB market (``GET /markets`` pages, ``GET /markets/{condition_id}``).

    ``tokens[0]`` is the YES/first outcome. ``minimum_tick_size`` (dollars) and
    ``minimum_order_size`` (shares) are JSON numbers decoded to exact ``Decimal``; the legacy
    ``maker_base_fee``/``taker_base_fee`` are bps. ``end_date_iso`` is ISO 8601.
    """

    condition_id: str
    question_id: str = ""
    question: str = ""
    market_slug: str = ""
    tokens: list[PolymarketClobToken] = []
    minimum_tick_size: Decimal | None = None
    minimum_order_size: Decimal | None = None
    neg_risk: bool = False
    neg_risk_market_id: str = ""
    active: bool = False
    closed: bool = False
    archived: bool = False
    accepting_orders: bool = False
    enable_order_book: bool = False
    end_date_iso: str | None = None
    game_start_time: str | None = None
    seconds_delay: int = 0
    maker_base_fee: Decimal | None = None
    taker_base_fee: Decimal | None = None
    is_50_50_outcome: bool = False
    tags: list[str] | None = None


class _ClobMarketsPage(msgspec.Struct, frozen=True, gc=False):
    data: list[PolymarketClobMarket]
    next_cursor: str = ""
    limit: int = 0
    count: int = 0


class _FeeRate(msgspec.Struct, frozen=True, gc=False):
    base_fee: int | str


class _TickSize(msgspec.Struct, frozen=True, gc=False):
    minimum_tick_size: Decimal


class _ErrorBody(msgspec.Struct, frozen=True, gc=False):
    error: str | None = None
    message: str | None = None
    code: str | int | None = None
    retry_after_seconds: float | None = None


_BOOK: Final = msgspec.json.Decoder(PolymarketBookSummary)
_BOOKS: Final = msgspec.json.Decoder(list[PolymarketBookSummary])
_CLOB_MARKET: Final = msgspec.json.Decoder(PolymarketClobMarket)
_CLOB_MARKETS_PAGE: Final = msgspec.json.Decoder(_ClobMarketsPage)
_FEE_RATE: Final = msgspec.json.Decoder(_FeeRate)
_TICK_SIZE: Final = msgspec.json.Decoder(_TickSize)
_ERROR: Final = msgspec.json.Decoder(_ErrorBody)


@dataclass(frozen=True, slots=True)
class PolymarketApiError:
    """An error body: ``{"error": "…"}``, optionally with ``code`` and ``retry_after_seconds``
    (any field may be empty)."""

    message: str
    code: str
    retry_after: float | None


def parse_error_body(body: bytes) -> PolymarketApiError:
    """Read a CLOB or Gamma error body; anything that is not one gives its first 200 characters
    as ``message``."""
    try:
        parsed = _ERROR.decode(body)
    except msgspec.DecodeError:
        return PolymarketApiError(body[:200].decode("utf-8", errors="replace").strip(), "", None)
    code = "" if parsed.code is None else str(parsed.code)
    return PolymarketApiError(parsed.error or parsed.message or "", code, parsed.retry_after_seconds)


def decode_book(body: bytes) -> PolymarketBookSummary:
    """Decode a ``GET /book`` body (e.g. one recorded by :meth:`PolymarketClobClient.get_book_raw`).

    Raises:
        DecodeError: not an order book summary.
    """
    try:
        return _BOOK.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"book response: {exc}") from exc


# -- Gamma -------------------------------------------------------------------------------------


class PolymarketGammaEventRef(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    """The event a Gamma market belongs to, as nested in the market (``events[]``)."""

    id: str = ""
    slug: str = ""
    title: str = ""
    neg_risk: bool = False
    neg_risk_augmented: bool = False


class _GammaMarketFields(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    id: str = ""
    question: str = ""
    condition_id: str = ""
    question_id: str = msgspec.field(name="questionID", default="")
    slug: str = ""
    group_item_title: str = ""
    start_date: str = ""
    end_date: str = ""
    end_date_iso: str = ""
    active: bool = False
    closed: bool = False
    archived: bool = False
    accepting_orders: bool = False
    enable_order_book: bool = False
    order_price_min_tick_size: Decimal | None = None
    order_min_size: Decimal | None = None
    neg_risk: bool = False
    neg_risk_market_id: str = msgspec.field(name="negRiskMarketID", default="")
    neg_risk_other: bool = False
    fees_enabled: bool | None = None
    fee_type: str | None = None
    fee_schedule: PolymarketGammaFeeSchedule | None = None
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    last_trade_price: Decimal | None = None
    events: list[PolymarketGammaEventRef] | None = None
    description: str | None = None
    resolution_source: str | None = None
    sports_market_type: str | None = None
    game_start_time: str | None = None


class PolymarketGammaMarket(_GammaMarketFields, frozen=True, gc=False):
    """One Gamma market (``GET /markets``, nested in ``GET /events``), JSON-in-a-string fields parsed.

    Attributes (the wire's camelCase names in brackets):
        id: Gamma's market id. condition_id [conditionId]: ``0x`` + 64 hex, the CLOB market.
        outcomes: labels, index 0 = YES/first outcome (``("Yes", "No")``, ``("Up", "Down")``).
        outcome_prices [outcomePrices]: display prices, exact ``Decimal``, same order.
        clob_token_ids [clobTokenIds]: token ids (decimal strings), same order.
        order_price_min_tick_size: tick in dollars (``Decimal("0.001")``).
        order_min_size: minimum order size in shares (``Decimal("5")``).
        neg_risk [negRisk], neg_risk_market_id [negRiskMarketID]: neg-risk membership.
        active / closed / archived / accepting_orders / enable_order_book: tradeable when
            active, not closed, accepting orders and order book enabled.
        fees_enabled / fee_type / fee_schedule: the market's taker fee rule (§10).
        best_bid / best_ask / last_trade_price: display values, possibly stale (use CLOB).
        start_date / end_date: ISO 8601 (``"2028-11-07T00:00:00Z"``); end_date_iso a date.
        description: the resolution rules as written (``None`` when absent).
        resolution_source [resolutionSource]: the stated resolution source, often ``""``.
        sports_market_type [sportsMarketType]: ``moneyline``, ``spreads``, ``totals``, … on
            sports markets. game_start_time [gameStartTime]: a sports market's start time
            (``"2026-01-07 00:00:00+00"``).

    Gamma sends ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` as JSON strings
    (``"[\\"Yes\\", \\"No\\"]"``); a real list is accepted too.
    """

    outcomes: tuple[str, ...] = ()
    outcome_prices: tuple[Decimal, ...] = ()
    clob_token_ids: tuple[str, ...] = ()


class _GammaMarketWire(_GammaMarketFields, frozen=True, gc=False):
    outcomes: str | list[str] | None = None
    outcome_prices: str | list[Decimal] | None = None
    clob_token_ids: str | list[str] | None = None


class PolymarketGammaTag(msgspec.Struct, frozen=True, gc=False):
    """A Gamma tag: ``{"id": "2", "label": "Politics", "slug": "politics"}``."""

    id: str = ""
    label: str = ""
    slug: str = ""


class _GammaEventFields(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    id: str = ""
    ticker: str = ""
    slug: str = ""
    title: str = ""
    start_date: str = ""
    end_date: str = ""
    active: bool = False
    closed: bool = False
    archived: bool = False
    neg_risk: bool = False
    neg_risk_market_id: str = msgspec.field(name="negRiskMarketID", default="")
    enable_neg_risk: bool = False
    neg_risk_augmented: bool = False
    tags: list[PolymarketGammaTag] | None = None
    description: str | None = None
    resolution_source: str | None = None


class PolymarketGammaEvent(_GammaEventFields, frozen=True, gc=False):
    """One Gamma event (``GET /events``) with its markets.

    A neg-risk event (``neg_risk``) groups binary markets at most one of which resolves YES;
    ``neg_risk_augmented`` ones have placeholder outcomes that should not be traded.
    ``markets`` are parsed as :class:`PolymarketGammaMarket`.
    """

    markets: tuple[PolymarketGammaMarket, ...] = ()


class _GammaEventWire(_GammaEventFields, frozen=True, gc=False):
    markets: list[_GammaMarketWire] | None = None


_GAMMA_MARKETS: Final = msgspec.json.Decoder(list[_GammaMarketWire])
_GAMMA_EVENTS: Final = msgspec.json.Decoder(list[_GammaEventWire])
_STR_LIST: Final = msgspec.json.Decoder(list[str])
_DECIMAL_LIST: Final = msgspec.json.Decoder(list[Decimal])
_MARKET_FIELDS: Final = _GammaMarketFields.__struct_fields__
_EVENT_FIELDS: Final = _GammaEventFields.__struct_fields__

_T = TypeVar("_T")


def _json_list(value: str | list[_T] | None, decoder: msgspec.json.Decoder[list[_T]], what: str) -> tuple[_T, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(value)
    try:
        return tuple(decoder.decode(value))
    except msgspec.DecodeError as exc:
        raise DecodeError(f"{what} {value[:120]!r} is not a JSON list of the expected type: {exc}") from exc


def _gamma_market(wire: _GammaMarketWire) -> PolymarketGammaMarket:
    what = f"Gamma market {wire.id or wire.condition_id}:"
    fields: dict[str, Any] = {name: getattr(wire, name) for name in _MARKET_FIELDS}
    return PolymarketGammaMarket(
        **fields,
        outcomes=_json_list(wire.outcomes, _STR_LIST, f"{what} outcomes"),
        outcome_prices=_json_list(wire.outcome_prices, _DECIMAL_LIST, f"{what} outcomePrices"),
        clob_token_ids=_json_list(wire.clob_token_ids, _STR_LIST, f"{what} clobTokenIds"),
    )


def _gamma_event(wire: _GammaEventWire) -> PolymarketGammaEvent:
    fields: dict[str, Any] = {name: getattr(wire, name) for name in _EVENT_FIELDS}
    return PolymarketGammaEvent(**fields, markets=tuple(_gamma_market(m) for m in wire.markets or ()))


def decode_gamma_markets(body: bytes) -> list[PolymarketGammaMarket]:
    """Decode a Gamma ``GET /markets`` body (a JSON array of markets).

    Raises:
        DecodeError: not an array of markets, or a malformed JSON-in-a-string field.
    """
    try:
        wires = _GAMMA_MARKETS.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"Gamma markets response: {exc}") from exc
    return [_gamma_market(wire) for wire in wires]


def decode_gamma_events(body: bytes) -> list[PolymarketGammaEvent]:
    """Decode a Gamma ``GET /events`` body (a JSON array of events with nested markets).

    Raises:
        DecodeError: not an array of events, or a malformed JSON-in-a-string field.
    """
    try:
        wires = _GAMMA_EVENTS.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"Gamma events response: {exc}") from exc
    return [_gamma_event(wire) for wire in wires]
