"""Kalshi REST v2 market data on httpx: typed responses, signing, rate limits, retries.

:class:`KalshiRestClient` reads markets, events, series, order books, public trades and the
exchange status (Kalshi OpenAPI ``GET /markets``, ``/markets/{ticker}``,
``/markets/{ticker}/orderbook``, ``/events``, ``/events/{event_ticker}``,
``/series/{series_ticker}``, ``/markets/trades``, ``/exchange/status``;
``docs/kalshi-protocol.md`` §7). Every request:

* waits for read tokens in a per-tier token bucket (:class:`KalshiRateLimiter`; 10 tokens a
  request, Basic 200 tokens/s);
* is signed when a :class:`~hadron.venues.kalshi.auth.KalshiSigner` is given (the path without
  host or query string, e.g. ``/trade-api/v2/markets``), with fresh headers on each attempt;
* is retried on 429, 5xx and network failures with jittered exponential back-off
  (``min(backoff_max, backoff_base × 2**attempt)``, plus up to 25 % jitter), or after the
  ``Retry-After`` the venue gave; after ``max_retries`` retries the last failure is raised as
  :class:`~hadron.errors.RateLimited` or :class:`~hadron.errors.TransportError`;
* fails at once on 401/403 (:class:`~hadron.errors.AuthError`) and other 4xx (or an unexpected
  3xx, such as Kalshi's trailing-slash redirect): :class:`~hadron.errors.RequestError` with the
  venue's ``code``.

Responses are decoded by reusable msgspec decoders into frozen ``Kalshi*`` structs (unknown
fields ignored, optional fields defaulted); a malformed body raises
:class:`~hadron.errors.DecodeError`. Prices stay dollar strings and counts ``_fp`` strings, as on
the wire; JSON numbers that are money-like (``floor_strike``, ``fee_multiplier``) decode to
``Decimal`` exactly. List fields that Kalshi may send as ``null`` are ``None`` here; the list of
a page (``markets``, ``events``, ``trades``) must be present, so a response of another shape is a
decode error rather than an empty result.

Also here: :func:`normalize_rest_orderbook` (REST book → :class:`BookSnapshot`) and
:class:`KalshiInstrumentProvider` (markets + events + series → :class:`KalshiInstrument`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import msgspec
import structlog

from hadron.errors import ConfigError, DecodeError
from hadron.model.events import BookSnapshot
from hadron.model.units import parse_price
from hadron.venues.http import HttpFailure, RetryingHttpClient
from hadron.venues.kalshi.auth import KalshiSigner
from hadron.venues.kalshi.fees import KalshiFeeSchedule
from hadron.venues.kalshi.messages import KalshiPriceRange
from hadron.venues.kalshi.normalize import _levels, instrument_of

log = structlog.get_logger("hadron.kalshi.rest")

Sleep = Callable[[float], Awaitable[None]]
"""``await sleep(seconds)``; :func:`asyncio.sleep` unless a test injects its own."""
Clock = Callable[[], float]
"""Monotonic seconds; :func:`time.monotonic` unless a test injects its own."""

# -- wire types --------------------------------------------------------------------------------


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


class KalshiEvent(msgspec.Struct, frozen=True, gc=False):
    """One event (OpenAPI ``EventData``; ``GET /events``, ``/events/{event_ticker}``).

    ``markets`` is set when nested markets were asked for (``None`` otherwise).
    ``fee_type_override``/``fee_multiplier_override`` replace the series' fee rule when set.
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


# -- rate limits -------------------------------------------------------------------------------

READ_COST = 10
"""Tokens one ordinary request costs (Kalshi ``rate_limits``; a few reads cost less)."""


@dataclass(frozen=True, slots=True)
class RateTier:
    """A tier's read budget: ``rate`` tokens/s, bucket holding ``burst_s`` seconds of it."""

    rate: int
    burst_s: int


RATE_TIERS: Final[Mapping[str, RateTier]] = {
    "basic": RateTier(200, 2),
    "advanced": RateTier(300, 2),
    "expert": RateTier(600, 1),
    "premier": RateTier(1000, 1),
    "paragon": RateTier(2000, 1),
    "prime": RateTier(4000, 1),
    "prestige": RateTier(10000, 1),
}
"""Read buckets per usage tier (Kalshi docs ``rate_limits``, 2026-08): Basic and Advanced hold
2 s of budget, the tiers above 1 s."""


class KalshiRateLimiter:
    """A token bucket: ``rate`` tokens/s, at most ``capacity`` tokens, starting full.

    Args:
        rate: refill, tokens per second.
        capacity: the most tokens the bucket holds (the burst).
        clock: monotonic seconds (injectable for tests).
        sleep: ``await sleep(seconds)`` (injectable for tests).

    Raises:
        ValueError: a rate or capacity that is not positive.
    """

    def __init__(
        self, rate: float, capacity: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError(f"rate and capacity must be positive, got {rate} and {capacity}")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Total seconds callers have waited for tokens."""

    @classmethod
    def for_tier(cls, tier: str, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> Self:
        """Return the read bucket of ``tier`` (see :data:`RATE_TIERS`).

        Raises:
            ConfigError: an unknown tier (the message lists the known ones).
        """
        spec = RATE_TIERS.get(tier.lower())
        if spec is None:
            raise ConfigError(f"kalshi.rate_tier {tier!r} is unknown: use one of {', '.join(RATE_TIERS)}")
        return cls(spec.rate, spec.rate * spec.burst_s, clock=clock, sleep=sleep)

    @property
    def tokens(self) -> float:
        """Tokens available now."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, cost: float = READ_COST) -> float:
        """Take ``cost`` tokens, waiting until the bucket has them; return the seconds waited.

        Callers are served first come, first served.

        Raises:
            ValueError: ``cost`` exceeds the capacity (it could never be served).
        """
        if cost > self.capacity:
            raise ValueError(f"cost {cost} exceeds the bucket capacity {self.capacity}")
        waited = 0.0
        async with self._lock:
            self._refill()
            if self._tokens < cost:
                waited = (cost - self._tokens) / self.rate
                await self._sleep(waited)
                self._refill()
                # the sleep covered the deficit: clock rounding must not leave the caller short
                self._tokens = max(self._tokens, cost)
            self._tokens -= cost
        self.waited += waited
        return waited


# -- client ------------------------------------------------------------------------------------


class _Paged(Protocol):
    @property
    def cursor(self) -> str | None: ...


_T = TypeVar("_T")
_P = TypeVar("_P", bound=_Paged)
Params = dict[str, str | int]


def _compact(params: Mapping[str, str | int | bool | None]) -> Params:
    out: Params = {}
    for key, value in params.items():
        if value is None or value == "":
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class KalshiRestClient(RetryingHttpClient):
    """Async client of Kalshi's REST v2 market data; use as ``async with KalshiRestClient(...)``.

    Args:
        base_url: the REST root including ``/trade-api/v2`` (``HOSTS["prod"].rest``, a loopback
            venue's URL).
        signer: signs every request when given (Kalshi documents the market-data GETs as public,
            but signed requests are accepted and count against the account's own budget).
        rate_tier: the account's usage tier for the read bucket (basic, advanced, expert, premier,
            paragon, prime, prestige).
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        max_retries: retries after the first attempt on 429, 5xx and network failures.
        backoff_base / backoff_max: seconds; the delay before retry ``n`` (from 0) is
            ``min(backoff_max, backoff_base × 2**n)`` plus up to 25 % jitter.
        sleep / random / clock: injectable ``asyncio.sleep``, ``random.random`` and
            ``time.monotonic`` for tests; the rate limiter shares ``sleep`` and ``clock``.
        timeout: seconds for each HTTP request.
        limiter: a rate limiter to use instead of the tier's own (e.g. one shared by clients).

    Raises:
        ConfigError: an unknown ``rate_tier``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        signer: KalshiSigner | None = None,
        rate_tier: str = "basic",
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random.random,
        timeout: float = 10.0,
        clock: Clock = time.monotonic,
        limiter: KalshiRateLimiter | None = None,
    ) -> None:
        super().__init__(
            base_url,
            transport=transport,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            sleep=sleep,
            random=random,
            timeout=timeout,
        )
        self.limiter = limiter or KalshiRateLimiter.for_tier(rate_tier, clock=clock, sleep=sleep)
        self._signer = signer

    def __repr__(self) -> str:
        return f"KalshiRestClient({self.base_url!r}, signer={self._signer!r})"

    async def _throttle(self, method: str, path: str) -> None:
        await self.limiter.acquire()

    def _prepare(self, request: httpx.Request) -> None:
        if self._signer is not None:
            request.headers.update(self._signer.headers(request.method, urlsplit(str(request.url)).path))

    def _parse_error(self, body: bytes) -> HttpFailure:
        error = parse_error_body(body)
        return HttpFailure(error.code, error.message, error.details)

    # -- transport -----------------------------------------------------------------------------

    async def _request(self, path: str, params: Params | None = None) -> bytes:
        return await self._send("GET", path, params=params)

    async def _get(self, path: str, decoder: msgspec.json.Decoder[_T], params: Params | None = None) -> _T:
        content = await self._request(path, params)
        try:
            return decoder.decode(content)
        except msgspec.DecodeError as exc:
            raise DecodeError(f"GET {path}: unexpected response body: {exc}") from exc

    async def _pages(self, path: str, decoder: msgspec.json.Decoder[_P], params: Params) -> AsyncIterator[_P]:
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self._get(path, decoder, (params | {"cursor": cursor}) if cursor else params)
            yield page
            cursor = page.cursor
            if not cursor:
                return
            if cursor in seen:
                raise DecodeError(f"GET {path}: the venue returned cursor {cursor!r} twice")
            seen.add(cursor)

    # -- endpoints -----------------------------------------------------------------------------

    async def iter_markets(
        self,
        *,
        status: str | None = None,
        event_ticker: str | None = None,
        series_ticker: str | None = None,
        tickers: list[str] | None = None,
        mve_filter: str | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[KalshiMarket]:
        """Yield the markets matching the filters, following ``cursor`` page by page.

        Args:
            status: one of unopened, open, paused, closed, settled (the filter vocabulary; a
                market's own status reads initialized, active, inactive, … finalized).
            event_ticker: one event. series_ticker: one series.
            tickers: market tickers (sent comma-separated).
            mve_filter: ``only`` or ``exclude`` multivariate (combo) markets.
            limit: page size, at most 1000.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError. See Kalshi
            OpenAPI ``GET /markets``.
        """
        params = _compact(
            {
                "limit": limit,
                "status": status,
                "event_ticker": event_ticker,
                "series_ticker": series_ticker,
                "tickers": ",".join(tickers) if tickers else None,
                "mve_filter": mve_filter,
            }
        )
        async for page in self._pages("/markets", _MARKETS_PAGE, params):
            for market in page.markets or ():
                yield market

    async def get_markets(
        self,
        *,
        status: str | None = None,
        event_ticker: str | None = None,
        series_ticker: str | None = None,
        tickers: list[str] | None = None,
        mve_filter: str | None = None,
        limit: int = 1000,
    ) -> list[KalshiMarket]:
        """Return every market matching the filters (all pages); see :meth:`iter_markets`."""
        return [
            market
            async for market in self.iter_markets(
                status=status,
                event_ticker=event_ticker,
                series_ticker=series_ticker,
                tickers=tickers,
                mve_filter=mve_filter,
                limit=limit,
            )
        ]

    async def get_market(self, ticker: str) -> KalshiMarket:
        """Return one market (Kalshi OpenAPI ``GET /markets/{ticker}``).

        Raises:
            RequestError: status 404, code ``not_found``, for an unknown ticker (Kalshi may also
                answer 404 for a few seconds after a market is created). Others as
                :meth:`iter_markets`.
        """
        return (await self._get(f"/markets/{quote(ticker, safe='')}", _MARKET)).market

    async def get_orderbook(self, ticker: str, depth: int = 0) -> KalshiOrderbookResponse:
        """Return the market's bid ladders (Kalshi OpenAPI ``GET /markets/{ticker}/orderbook``).

        Args:
            ticker: the market ticker.
            depth: best levels per side, 1–100; 0 for all.

        Raises:
            AuthError, RequestError (404 unknown ticker), RateLimited, TransportError, DecodeError.
        """
        params = _compact({"depth": depth or None})
        return await self._get(f"/markets/{quote(ticker, safe='')}/orderbook", _ORDERBOOK, params)

    async def get_orderbook_raw(self, ticker: str, depth: int = 0) -> tuple[str, bytes]:
        """Return ``(request line, response body)`` of the orderbook request, body unparsed
        (for lossless recording; decode with :func:`decode_orderbook`).

        Raises:
            AuthError, RequestError, RateLimited, TransportError.
        """
        path = f"/markets/{quote(ticker, safe='')}/orderbook"
        body = await self._request(path, _compact({"depth": depth or None}))
        return f"GET {urlsplit(self.base_url).path.rstrip('/')}{path}", body

    async def iter_events(
        self,
        *,
        status: str | None = None,
        series_ticker: str | None = None,
        with_nested_markets: bool = False,
        limit: int = 200,
    ) -> AsyncIterator[KalshiEvent]:
        """Yield the events matching the filters, following ``cursor``; multivariate events are
        not included (Kalshi OpenAPI ``GET /events``; ``limit`` at most 200).

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        params = _compact(
            {
                "limit": limit,
                "status": status,
                "series_ticker": series_ticker,
                "with_nested_markets": with_nested_markets or None,
            }
        )
        async for page in self._pages("/events", _EVENTS_PAGE, params):
            for event in page.events or ():
                yield event

    async def get_events(
        self,
        *,
        status: str | None = None,
        series_ticker: str | None = None,
        with_nested_markets: bool = False,
        limit: int = 200,
    ) -> list[KalshiEvent]:
        """Return every event matching the filters (all pages); see :meth:`iter_events`."""
        return [
            event
            async for event in self.iter_events(
                status=status, series_ticker=series_ticker, with_nested_markets=with_nested_markets, limit=limit
            )
        ]

    async def get_event(self, event_ticker: str, with_nested_markets: bool = True) -> KalshiEvent:
        """Return one event (Kalshi OpenAPI ``GET /events/{event_ticker}``).

        With ``with_nested_markets`` its ``markets`` holds the event's markets (from the nested
        list, or the response's top-level ``markets`` when the venue sent only that).

        Raises:
            RequestError: 404 for an unknown event. Others as :meth:`iter_events`.
        """
        params = _compact({"with_nested_markets": with_nested_markets})
        body = await self._get(f"/events/{quote(event_ticker, safe='')}", _EVENT, params)
        if with_nested_markets and body.event.markets is None:
            return msgspec.structs.replace(body.event, markets=body.markets or [])
        return body.event

    async def get_series(self, series_ticker: str) -> KalshiSeries:
        """Return one series with its fee rule (Kalshi OpenAPI ``GET /series/{series_ticker}``).

        Raises:
            RequestError: 404 for an unknown series. AuthError, RateLimited, TransportError,
                DecodeError (also when ``fee_type``/``fee_multiplier`` are missing).
        """
        return (await self._get(f"/series/{quote(series_ticker, safe='')}", _SERIES)).series

    async def iter_trades(
        self,
        ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[KalshiRestTrade]:
        """Yield public trades, following ``cursor`` (Kalshi OpenAPI ``GET /markets/trades``).

        Args:
            ticker: one market, or all markets when ``None``.
            min_ts / max_ts: unix seconds bounds.
            limit: page size, at most 1000.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        params = _compact({"limit": limit, "ticker": ticker, "min_ts": min_ts, "max_ts": max_ts})
        async for page in self._pages("/markets/trades", _TRADES_PAGE, params):
            for trade in page.trades or ():
                yield trade

    async def get_trades(
        self,
        ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int = 1000,
    ) -> list[KalshiRestTrade]:
        """Return every public trade matching the filters (all pages); see :meth:`iter_trades`."""
        return [trade async for trade in self.iter_trades(ticker, min_ts, max_ts, limit)]

    async def get_exchange_status(self) -> KalshiExchangeStatus:
        """Return whether the exchange and trading are active (Kalshi OpenAPI ``GET /exchange/status``).

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        return await self._get("/exchange/status", _EXCHANGE_STATUS)


# -- normalization -----------------------------------------------------------------------------


def decode_orderbook(body: bytes) -> KalshiOrderbookResponse:
    """Decode a ``GET /markets/{ticker}/orderbook`` body.

    Raises:
        DecodeError: not an orderbook response.
    """
    try:
        return _ORDERBOOK.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"orderbook response: {exc}") from exc


def normalize_rest_orderbook(
    ticker: str, resp: KalshiOrderbookResponse, ts_recv: int, *, tick: int = 0
) -> BookSnapshot:
    """Turn a REST order book into a :class:`BookSnapshot` of the YES book ``kalshi:<ticker>``.

    Bids are the YES bids; asks are the NO bids seen from the YES side (a NO bid at $p is a YES
    ask at $1 − p, same size). Levels best first; zero-size levels dropped (a negative size or a
    price outside (0, 1) is kept: the book manager refuses it, BadValue); ``ts_event`` equals
    ``ts_recv`` (ns; the response carries no timestamp). ``tick``: the market's increment in
    1/10,000 USD when known, else 0.

    Raises:
        DecodeError: an empty ticker, or a malformed price or size.
    """
    book = resp.orderbook_fp
    bids = _levels(book.yes_dollars or [], flip=False)
    asks = _levels(book.no_dollars or [], flip=True)
    bids.sort(reverse=True)
    asks.sort()
    return BookSnapshot(instrument_of(ticker), tuple(bids), tuple(asks), ts_recv, ts_recv, tick)


# -- instruments -------------------------------------------------------------------------------

DEFAULT_TICK = 100
"""A cent in 1/10,000 USD: the tick of a market whose grid is unknown (``linear_cent``)."""

_TICKERS_PER_REQUEST = 100


def tick_of(price_ranges: list[KalshiPriceRange] | tuple[KalshiPriceRange, ...] | None) -> int:
    """Return the smallest ``step`` of a price grid in 1/10,000 USD (100 when there is none).

    Raises:
        DecodeError: a step that is not a price Hadron can hold (finer than $0.0001) or is zero.
    """
    steps = [parse_price(band.step) for band in price_ranges or ()]
    if not steps:
        return DEFAULT_TICK
    tick = min(steps)
    if tick <= 0:
        raise DecodeError(f"price_ranges has a zero step: {price_ranges!r}")
    return tick


@dataclass(frozen=True, slots=True)
class KalshiInstrument:
    """What Hadron needs to trade one Kalshi market.

    Attributes:
        ticker / event_ticker / series_ticker: the venue's identifiers.
        status: the market's REST status (active, closed, finalized, …).
        tick: int, 1/10,000 USD, the smallest ``step`` of ``price_ranges`` (100 when absent).
        price_ranges: the price grid bands (dollar strings).
        fees: the series' fee rule with the event's overrides applied.
        market: the market record as loaded.
    """

    ticker: str
    event_ticker: str
    series_ticker: str
    status: str
    tick: int
    price_ranges: tuple[KalshiPriceRange, ...]
    fees: KalshiFeeSchedule
    market: KalshiMarket

    @property
    def instrument(self) -> str:
        """Hadron's instrument id, ``kalshi:<ticker>``."""
        return instrument_of(self.ticker)


class KalshiInstrumentProvider:
    """Loads :class:`KalshiInstrument` records from REST: markets, then their events and series.

    Events and series are cached for the provider's lifetime; :attr:`instruments` keeps every
    instrument loaded so far.
    """

    def __init__(self, rest: KalshiRestClient) -> None:
        self.rest = rest
        self.instruments: dict[str, KalshiInstrument] = {}
        self._events: dict[str, KalshiEvent] = {}
        self._series: dict[str, KalshiSeries] = {}

    async def _event(self, event_ticker: str) -> KalshiEvent:
        event = self._events.get(event_ticker)
        if event is None:
            event = self._events[event_ticker] = await self.rest.get_event(event_ticker, with_nested_markets=False)
        return event

    async def _series_of(self, series_ticker: str) -> KalshiSeries:
        series = self._series.get(series_ticker)
        if series is None:
            series = self._series[series_ticker] = await self.rest.get_series(series_ticker)
        return series

    async def load(self, tickers: list[str]) -> dict[str, KalshiInstrument]:
        """Load the instruments of ``tickers``; tickers the venue does not know are left out
        (and logged).

        Returns:
            ticker → :class:`KalshiInstrument`.

        Raises:
            ConfigError: a series (or event override) has a fee type Hadron cannot price.
            DecodeError: a market without an event, an event without a series, a bad grid.
            AuthError, RequestError, RateLimited, TransportError: as the REST calls raise them.
        """
        wanted = list(dict.fromkeys(tickers))
        markets: dict[str, KalshiMarket] = {}
        for start in range(0, len(wanted), _TICKERS_PER_REQUEST):
            chunk = wanted[start : start + _TICKERS_PER_REQUEST]
            markets.update((found.ticker, found) for found in await self.rest.get_markets(tickers=chunk))
        missing = [ticker for ticker in wanted if ticker not in markets]
        if missing:
            log.warning("kalshi markets not found", count=len(missing), tickers=missing[:20])
        out: dict[str, KalshiInstrument] = {}
        for ticker in wanted:
            market = markets.get(ticker)
            if market is None:
                continue
            if not market.event_ticker:
                raise DecodeError(f"market {ticker} has no event_ticker")
            event = await self._event(market.event_ticker)
            if not event.series_ticker:
                raise DecodeError(f"event {event.event_ticker} has no series_ticker")
            series = await self._series_of(event.series_ticker)
            ranges = tuple(market.price_ranges or ())
            out[ticker] = KalshiInstrument(
                ticker=ticker,
                event_ticker=market.event_ticker,
                series_ticker=event.series_ticker,
                status=market.status,
                tick=tick_of(ranges),
                price_ranges=ranges,
                fees=KalshiFeeSchedule.from_records(series, event),
                market=market,
            )
        self.instruments.update(out)
        return out
