"""Polymarket REST market data on httpx: CLOB books and markets, Gamma metadata, instruments.

Two clients share one request loop (``docs/protocols/polymarket.md#clob-rest``, ``#gamma-rest``; Polymarket docs
``api-reference``):

* :class:`PolymarketClobClient` (``https://clob.polymarket.com``, :mod:`.clob`): ``GET /book``,
  ``POST /books``, ``GET /markets`` (cursor pages), ``GET /markets/{condition_id}``,
  ``GET /fee-rate``, ``GET /tick-size``.
* :class:`PolymarketGammaClient` (``https://gamma-api.polymarket.com``, :mod:`.gamma`):
  ``GET /markets`` and ``GET /events`` with ``limit``/``offset`` pages.

Every request:

* waits in per-endpoint-family sliding-window limiters (:class:`PolymarketRateLimiter`; the
  documented per-IP limits in :data:`CLOB_LIMITS` and :data:`GAMMA_LIMITS`, :mod:`.limits`);
* is retried on 429, 425 (matching engine restarting), 5xx and network failures with jittered
  exponential back-off (``min(backoff_max, backoff_base × 2**attempt)`` plus up to 25 %), or
  after the ``Retry-After`` header or the body's ``retry_after_seconds`` when the venue gave
  one; after ``max_retries`` retries the last failure is raised as
  :class:`~hadron.errors.RateLimited` or :class:`~hadron.errors.TransportError`;
* fails at once on 401/403 (:class:`~hadron.errors.AuthError`) and other 4xx or an unexpected
  3xx (:class:`~hadron.errors.RequestError` with the venue's ``{"error": "…"}`` message).

Responses decode into frozen ``Polymarket*`` msgspec structs (:mod:`.wire`). Book prices and
sizes stay the wire's decimal strings; JSON numbers that are prices, sizes or rates decode to
exact ``Decimal``. Token ids are decimal strings of up to 78 digits and stay strings.

:func:`normalize_rest_book` (REST book → :class:`~hadron.model.events.BookSnapshot`) and
:class:`PolymarketInstrumentProvider` (Gamma markets → :class:`PolymarketInstrument`) are in
:mod:`.instruments`.
"""

from hadron.venues.polymarket.rest.clob import (
    BOOKS_BATCH,
    CLOB_URL,
    END_CURSOR,
    START_CURSOR,
    PolymarketClobClient,
)
from hadron.venues.polymarket.rest.gamma import GAMMA_IDS_BATCH, GAMMA_URL, PolymarketGammaClient
from hadron.venues.polymarket.rest.instruments import (
    PolymarketInstrument,
    PolymarketInstrumentProvider,
    normalize_rest_book,
    price_units,
    size_text,
)
from hadron.venues.polymarket.rest.limits import CLOB_LIMITS, GAMMA_LIMITS, PolymarketRateLimiter
from hadron.venues.polymarket.rest.wire import (
    PolymarketApiError,
    PolymarketBookSummary,
    PolymarketClobMarket,
    PolymarketClobToken,
    PolymarketGammaEvent,
    PolymarketGammaEventRef,
    PolymarketGammaMarket,
    PolymarketGammaTag,
    decode_book,
    decode_gamma_events,
    decode_gamma_markets,
    parse_error_body,
)

__all__ = [
    "BOOKS_BATCH",
    "CLOB_LIMITS",
    "CLOB_URL",
    "END_CURSOR",
    "GAMMA_IDS_BATCH",
    "GAMMA_LIMITS",
    "GAMMA_URL",
    "START_CURSOR",
    "PolymarketApiError",
    "PolymarketBookSummary",
    "PolymarketClobClient",
    "PolymarketClobMarket",
    "PolymarketClobToken",
    "PolymarketGammaClient",
    "PolymarketGammaEvent",
    "PolymarketGammaEventRef",
    "PolymarketGammaMarket",
    "PolymarketGammaTag",
    "PolymarketInstrument",
    "PolymarketInstrumentProvider",
    "PolymarketRateLimiter",
    "decode_book",
    "decode_gamma_events",
    "decode_gamma_markets",
    "normalize_rest_book",
    "parse_error_body",
    "price_units",
    "size_text",
]
