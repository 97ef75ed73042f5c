"""Kalshi REST v2 market-data client: markets, events, series, order books, trades, status.

Endpoints (Kalshi OpenAPI ``GET /markets``, ``/markets/{ticker}``, ``/markets/{ticker}/orderbook``,
``/events``, ``/events/{event_ticker}``, ``/series/{series_ticker}``, ``/markets/trades``,
``/exchange/status``; ``docs/protocols/kalshi.md#rest``). Every request waits for read tokens
(:class:`~hadron.venues.kalshi.rest.limits.KalshiRateLimiter`), is signed when a
:class:`~hadron.venues.kalshi.auth.KalshiSigner` is given (the path without host or query string,
e.g. ``/trade-api/v2/markets``; fresh headers on each attempt), and goes through the shared
retry loop of :class:`~hadron.venues.http.RetryingHttpClient`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import msgspec

from hadron.errors import DecodeError
from hadron.venues.http import Clock, HttpFailure, RetryingHttpClient, Sleep
from hadron.venues.kalshi.auth import KalshiSigner
from hadron.venues.kalshi.rest.limits import KalshiRateLimiter
from hadron.venues.kalshi.rest.wire import (
    _EVENT,
    _EVENTS_PAGE,
    _EXCHANGE_STATUS,
    _MARKET,
    _MARKETS_PAGE,
    _ORDERBOOK,
    _SERIES,
    _TRADES_PAGE,
    KalshiEvent,
    KalshiExchangeStatus,
    KalshiMarket,
    KalshiOrderbookResponse,
    KalshiRestTrade,
    KalshiSeries,
    parse_error_body,
)


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

    venue = "kalshi"

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
        return self._decode(f"GET {path}", decoder, await self._request(path, params))

    async def _pages(
        self, path: str, decoder: msgspec.json.Decoder[_P], params: Params, max_pages: int | None = None
    ) -> AsyncIterator[_P]:
        seen: set[str] = set()
        cursor: str | None = None
        pages = 0
        while True:
            page = await self._get(path, decoder, (params | {"cursor": cursor}) if cursor else params)
            yield page
            pages += 1
            cursor = page.cursor
            if not cursor or (max_pages is not None and pages >= max_pages):
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
        max_pages: int | None = None,
    ) -> AsyncIterator[KalshiEvent]:
        """Yield the events matching the filters, following ``cursor``; multivariate events are
        not included (Kalshi OpenAPI ``GET /events``; ``limit`` at most 200). ``max_pages``:
        stop after that many pages (``None``: every page).

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
        async for page in self._pages("/events", _EVENTS_PAGE, params, max_pages):
            for event in page.events or ():
                yield event

    async def get_events(
        self,
        *,
        status: str | None = None,
        series_ticker: str | None = None,
        with_nested_markets: bool = False,
        limit: int = 200,
        max_pages: int | None = None,
    ) -> list[KalshiEvent]:
        """Return every event matching the filters (all pages); see :meth:`iter_events`."""
        return [
            event
            async for event in self.iter_events(
                status=status,
                series_ticker=series_ticker,
                with_nested_markets=with_nested_markets,
                limit=limit,
                max_pages=max_pages,
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
