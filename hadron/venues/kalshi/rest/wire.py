"""Kalshi REST v2 wire types: response bodies as frozen msgspec structs, and error bodies.

Source: Kalshi OpenAPI (``Market``, ``EventData``, ``Series``, ``Trade``,
``GetMarketOrderbookResponse``, ``ExchangeStatus``, ``ErrorResponse``);
``docs/protocols/kalshi.md#rest``.

Unknown fields are ignored and optional ones defaulted. Prices stay dollar strings and counts
``_fp`` strings, as on the wire; JSON numbers that are money-like (``floor_strike``,
``fee_multiplier``) decode to ``Decimal`` exactly. List fields that Kalshi may send as ``null``
are ``None`` here; the list of a page (``markets``, ``events``, ``trades``) must be present, so a
response of another shape is a decode error rather than an empty result.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import msgspec

from hadron.errors import DecodeError
from hadron.venues.kalshi.messages import KalshiPriceRange


class KalshiMarket(msgspec.Struct, frozen=True, gc=False):
    """One market (OpenAPI ``Market``; ``GET /markets``, ``/markets/{ticker}``, nested in events).

    Prices are dollar strings (``"0.4200"``), counts ``_fp`` strings (``"6556.98"``), times
    RFC 3339 strings. ``status`` ∈ initialized, inactive, active, closed, determined, disputed,
    amended, finalized. ``floor_strike``/``cap_strike`` are exact ``Decimal`` (the venue sends
    JSON numbers). ``price_ranges`` is the price grid (``None`` when absent). Only ``ticker`` is
    required; everything else defaults to empty.
    """

    ticker: str
    event_ticker: str = ""
    market_type: str = ""
    status: str = ""
    title: str = ""
    subtitle: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    created_time: str = ""
    updated_time: str = ""
    open_time: str = ""
    close_time: str = ""
    expected_expiration_time: str | None = None
    expiration_time: str = ""
    latest_expiration_time: str = ""
    settlement_timer_seconds: int = 0
    yes_bid_dollars: str = ""
    yes_bid_size_fp: str = ""
    yes_ask_dollars: str = ""
    yes_ask_size_fp: str = ""
    no_bid_dollars: str = ""
    no_ask_dollars: str = ""
    last_price_dollars: str = ""
    previous_yes_bid_dollars: str = ""
    previous_yes_ask_dollars: str = ""
    previous_price_dollars: str = ""
    volume_fp: str = ""
    volume_24h_fp: str = ""
    open_interest_fp: str = ""
    liquidity_dollars: str = ""
    notional_value_dollars: str = ""
    result: str = ""
    settlement_value_dollars: str | None = None
    settlement_ts: str | None = None
    expiration_value: str = ""
    can_close_early: bool = False
    fractional_trading_enabled: bool = False
    strike_type: str = ""
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    functional_strike: str | None = None
    rules_primary: str = ""
    rules_secondary: str = ""
    price_level_structure: str = ""
    price_ranges: list[KalshiPriceRange] | None = None
    mve_collection_ticker: str = ""
    exchange_index: int = 0
    fee_waiver_expiration_time: str | None = None


class KalshiSettlementSource(msgspec.Struct, frozen=True, gc=False):
    """Where a market's outcome is read (OpenAPI ``SettlementSource``): a ``name`` and a ``url``."""

    name: str = ""
    url: str = ""


class KalshiEvent(msgspec.Struct, frozen=True, gc=False):
    """One event (OpenAPI ``EventData``; ``GET /events``, ``/events/{event_ticker}``).

    ``markets`` is set when nested markets were asked for (``None`` otherwise).
    ``fee_type_override``/``fee_multiplier_override`` replace the series' fee rule when set.
    ``settlement_sources`` is ``None`` when the venue sent none.
    """

    event_ticker: str
    series_ticker: str = ""
    title: str = ""
    sub_title: str = ""
    category: str = ""
    collateral_return_type: str = ""
    mutually_exclusive: bool = False
    strike_date: str | None = None
    strike_period: str | None = None
    available_on_brokers: bool = False
    last_updated_ts: str = ""
    fee_type_override: str | None = None
    fee_multiplier_override: Decimal | None = None
    settlement_sources: list[KalshiSettlementSource] | None = None
    markets: list[KalshiMarket] | None = None


class KalshiSeries(msgspec.Struct, frozen=True, gc=False):
    """One series (OpenAPI ``Series``; ``GET /series/{series_ticker}``).

    ``fee_type`` ∈ quadratic, quadratic_with_maker_fees, flat (and
    quadratic_with_combo_maker_fees); ``fee_multiplier`` is exact (``Decimal``). Both required.
    """

    ticker: str
    fee_type: str
    fee_multiplier: Decimal
    title: str = ""
    category: str = ""
    frequency: str = ""
    tags: list[str] | None = None
    contract_url: str = ""
    contract_terms_url: str = ""
    volume_fp: str = ""
    last_updated_ts: str = ""


class KalshiRestTrade(msgspec.Struct, frozen=True, gc=False):
    """One public trade (OpenAPI ``Trade``; ``GET /markets/trades``).

    ``yes_price_dollars``/``no_price_dollars``: dollar strings; ``count_fp``: contracts.
    ``taker_outcome_side`` (``yes``/``no``) supersedes the deprecated ``taker_side``.
    """

    ticker: str
    count_fp: str
    yes_price_dollars: str
    trade_id: str = ""
    no_price_dollars: str = ""
    taker_outcome_side: str = ""
    taker_book_side: str = ""
    taker_side: str = ""
    is_block_trade: bool = False
    created_time: str = ""


class KalshiOrderbookLevels(msgspec.Struct, frozen=True, gc=False):
    """``orderbook_fp``: YES and NO bid ladders, ascending, ``[[price_dollars, count_fp], …]``.

    A side that is missing or ``null`` (Kalshi sends ``null`` for an empty side) is ``None``.
    NO prices are NO-leg prices (a NO bid at $0.56 is a YES ask at $0.44).
    """

    yes_dollars: list[tuple[str, str]] | None = None
    no_dollars: list[tuple[str, str]] | None = None


class KalshiOrderbookResponse(msgspec.Struct, frozen=True, gc=False):
    """``GET /markets/{ticker}/orderbook`` (OpenAPI ``GetMarketOrderbookResponse``).

    ``orderbook_fp`` is required: the legacy ``{"orderbook": {"yes": …}}`` shape (gone since
    2026-03) is a decode error rather than an empty book.
    """

    orderbook_fp: KalshiOrderbookLevels


class KalshiExchangeStatus(msgspec.Struct, frozen=True, gc=False):
    """``GET /exchange/status`` (OpenAPI ``ExchangeStatus``)."""

    exchange_active: bool
    trading_active: bool
    exchange_estimated_resume_time: str | None = None


class _MarketsPage(msgspec.Struct, frozen=True, gc=False):
    markets: list[KalshiMarket] | None
    cursor: str | None = None


class _EventsPage(msgspec.Struct, frozen=True, gc=False):
    events: list[KalshiEvent] | None
    cursor: str | None = None


class _TradesPage(msgspec.Struct, frozen=True, gc=False):
    trades: list[KalshiRestTrade] | None
    cursor: str | None = None


class _MarketResponse(msgspec.Struct, frozen=True, gc=False):
    market: KalshiMarket


class _EventResponse(msgspec.Struct, frozen=True, gc=False):
    event: KalshiEvent
    markets: list[KalshiMarket] | None = None


class _SeriesResponse(msgspec.Struct, frozen=True, gc=False):
    series: KalshiSeries


class _ErrorDetail(msgspec.Struct, frozen=True, gc=False):
    code: str = ""
    message: str = ""
    details: str = ""


class _ErrorBody(msgspec.Struct, frozen=True, gc=False):
    error: _ErrorDetail | str | None = None
    code: str = ""
    message: str = ""
    details: str = ""


_MARKETS_PAGE: Final = msgspec.json.Decoder(_MarketsPage)
_EVENTS_PAGE: Final = msgspec.json.Decoder(_EventsPage)
_TRADES_PAGE: Final = msgspec.json.Decoder(_TradesPage)
_MARKET: Final = msgspec.json.Decoder(_MarketResponse)
_EVENT: Final = msgspec.json.Decoder(_EventResponse)
_SERIES: Final = msgspec.json.Decoder(_SeriesResponse)
_ORDERBOOK: Final = msgspec.json.Decoder(KalshiOrderbookResponse)
_EXCHANGE_STATUS: Final = msgspec.json.Decoder(KalshiExchangeStatus)
_ERROR: Final = msgspec.json.Decoder(_ErrorBody)


@dataclass(frozen=True, slots=True)
class KalshiApiError:
    """An error body, whichever of Kalshi's three shapes it came in (all fields may be empty)."""

    code: str
    message: str
    details: str


def parse_error_body(body: bytes) -> KalshiApiError:
    """Read a Kalshi error body: nested ``{"error":{"code","message","details"}}``, flat
    ``{"code","message","details"}`` (OpenAPI ``ErrorResponse``), or the 429 string
    ``{"error":"too many requests"}``. Anything else gives its first 200 characters as ``message``.
    """
    try:
        parsed = _ERROR.decode(body)
    except msgspec.DecodeError:
        return KalshiApiError("", body[:200].decode("utf-8", errors="replace").strip(), "")
    if isinstance(parsed.error, _ErrorDetail):
        return KalshiApiError(parsed.error.code, parsed.error.message, parsed.error.details)
    if isinstance(parsed.error, str):
        return KalshiApiError(parsed.code, parsed.error, parsed.details)
    return KalshiApiError(parsed.code, parsed.message, parsed.details)


def decode_orderbook(body: bytes) -> KalshiOrderbookResponse:
    """Decode a ``GET /markets/{ticker}/orderbook`` body.

    Raises:
        DecodeError: not an orderbook response.
    """
    try:
        return _ORDERBOOK.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"orderbook response: {exc}") from exc
