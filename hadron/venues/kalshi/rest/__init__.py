"""Kalshi REST v2 market data on httpx: typed responses, signing, rate limits, retries.

:class:`KalshiRestClient` (:mod:`.client`) reads markets, events, series, order books, public
trades and the exchange status (Kalshi OpenAPI ``GET /markets``, ``/markets/{ticker}``,
``/markets/{ticker}/orderbook``, ``/events``, ``/events/{event_ticker}``,
``/series/{series_ticker}``, ``/markets/trades``, ``/exchange/status``;
``docs/protocols/kalshi.md#rest``). Every request:

* waits for read tokens in a per-tier token bucket (:class:`KalshiRateLimiter`, :mod:`.limits`;
  10 tokens a request, Basic 200 tokens/s);
* is signed when a :class:`~hadron.venues.kalshi.auth.KalshiSigner` is given (the path without
  host or query string, e.g. ``/trade-api/v2/markets``), with fresh headers on each attempt;
* is retried on 429, 5xx and network failures with jittered exponential back-off
  (``min(backoff_max, backoff_base × 2**attempt)``, plus up to 25 % jitter), or after the
  ``Retry-After`` the venue gave; after ``max_retries`` retries the last failure is raised as
  :class:`~hadron.errors.RateLimited` or :class:`~hadron.errors.TransportError`;
* fails at once on 401/403 (:class:`~hadron.errors.AuthError`) and other 4xx (or an unexpected
  3xx, such as Kalshi's trailing-slash redirect): :class:`~hadron.errors.RequestError` with the
  venue's ``code``.

Responses are decoded by reusable msgspec decoders into frozen ``Kalshi*`` structs
(:mod:`.wire`); a malformed body raises :class:`~hadron.errors.DecodeError`.

:func:`normalize_rest_orderbook` (REST book → :class:`~hadron.model.events.BookSnapshot`) and
:class:`KalshiInstrumentProvider` (markets + events + series → :class:`KalshiInstrument`) are in
:mod:`.instruments`.
"""

from hadron.venues.kalshi.rest.client import KalshiRestClient
from hadron.venues.kalshi.rest.instruments import (
    DEFAULT_TICK,
    KalshiInstrument,
    KalshiInstrumentProvider,
    normalize_rest_orderbook,
    tick_of,
)
from hadron.venues.kalshi.rest.limits import RATE_TIERS, READ_COST, KalshiRateLimiter, RateTier
from hadron.venues.kalshi.rest.wire import (
    KalshiApiError,
    KalshiEvent,
    KalshiExchangeStatus,
    KalshiMarket,
    KalshiOrderbookLevels,
    KalshiOrderbookResponse,
    KalshiRestTrade,
    KalshiSeries,
    KalshiSettlementSource,
    decode_orderbook,
    parse_error_body,
)

__all__ = [
    "DEFAULT_TICK",
    "RATE_TIERS",
    "READ_COST",
    "KalshiApiError",
    "KalshiEvent",
    "KalshiExchangeStatus",
    "KalshiInstrument",
    "KalshiInstrumentProvider",
    "KalshiMarket",
    "KalshiOrderbookLevels",
    "KalshiOrderbookResponse",
    "KalshiRateLimiter",
    "KalshiRestClient",
    "KalshiRestTrade",
    "KalshiSeries",
    "KalshiSettlementSource",
    "RateTier",
    "decode_orderbook",
    "normalize_rest_orderbook",
    "parse_error_body",
    "tick_of",
]
