"""Polymarket REST market data on httpx: CLOB books and markets, Gamma metadata, instruments.

Two clients share one transport core (``docs/polymarket-protocol.md`` §7, §8):

* :class:`PolymarketClobClient` (``https://clob.polymarket.com``): ``GET /book``,
  ``POST /books`` (batches of :data:`BOOKS_BATCH`), ``GET /markets`` (cursor pages from
  ``MA==`` until ``LTE=``), ``GET /markets/{condition_id}``, ``GET /fee-rate``,
  ``GET /tick-size``.
* :class:`PolymarketGammaClient` (``https://gamma-api.polymarket.com``): ``GET /markets`` and
  ``GET /events`` with ``limit``/``offset`` pages; id filters go out in batches of at most
  :data:`GAMMA_IDS_BATCH`. Gamma sends ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` as
  JSON *strings*; they are parsed into tuples (a malformed one is a
  :class:`~hadron.errors.DecodeError`).

Every request:

* waits in per-endpoint-family sliding-window limiters (:class:`PolymarketRateLimiter`; the
  documented per-IP limits in :data:`CLOB_LIMITS` and :data:`GAMMA_LIMITS`, the general limit
  always included);
* is retried on 429, 425 (matching engine restarting), 5xx and network failures with jittered
  exponential back-off (``min(backoff_max, backoff_base × 2**attempt)`` plus up to 25 %), or
  after the ``Retry-After`` header or the body's ``retry_after_seconds`` when the venue gave
  one; after ``max_retries`` retries the last failure is raised as
  :class:`~hadron.errors.RateLimited` or :class:`~hadron.errors.TransportError`;
* fails at once on 401/403 (:class:`~hadron.errors.AuthError`) and other 4xx or an unexpected
  3xx (:class:`~hadron.errors.RequestError` with the venue's ``{"error": "…"}`` message).

Responses decode into frozen ``Polymarket*`` msgspec structs (unknown fields ignored, optional
fields defaulted). Book prices and sizes stay the wire's decimal strings; JSON numbers that are
prices, sizes or rates (tick sizes, minimum sizes, fee schedules) decode to exact ``Decimal``.
Token ids are decimal strings of up to 78 digits and stay strings.

Also here: :func:`normalize_rest_book` (REST book → :class:`BookSnapshot`) and
:class:`PolymarketInstrumentProvider` (Gamma markets → :class:`PolymarketInstrument`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx
import msgspec
import structlog

from hadron.errors import DecodeError
from hadron.model.events import BookSnapshot
from hadron.model.units import PRICE_SCALE
from hadron.venues.http import HttpFailure, RetryingHttpClient
from hadron.venues.polymarket.fees import PolymarketFeeSchedule, PolymarketGammaFeeSchedule
from hadron.venues.polymarket.messages import PolymarketLevel
from hadron.venues.polymarket.normalize import _levels, _tick, instrument_of, parse_ms

log = structlog.get_logger("hadron.polymarket.rest")

Sleep = Callable[[float], Awaitable[None]]
"""``await sleep(seconds)``; :func:`asyncio.sleep` unless a test injects its own."""
Clock = Callable[[], float]
"""Monotonic seconds; :func:`time.monotonic` unless a test injects its own."""

CLOB_URL: Final = "https://clob.polymarket.com"
GAMMA_URL: Final = "https://gamma-api.polymarket.com"
START_CURSOR: Final = "MA=="
"""The first CLOB page's ``next_cursor`` (base64 ``"0"``)."""
END_CURSOR: Final = "LTE="
"""The ``next_cursor`` of the last CLOB page (base64 ``"-1"``)."""
BOOKS_BATCH: Final = 100
"""Token ids per ``POST /books`` (the venue's own cap is undocumented)."""
GAMMA_IDS_BATCH: Final = 100
"""Ids per Gamma ``/markets`` query (``condition_ids`` accepts at most 100)."""

# -- CLOB wire types ---------------------------------------------------------------------------


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
_ENCODER: Final = msgspec.json.Encoder()


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


# -- Gamma wire types --------------------------------------------------------------------------


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


# -- rate limits -------------------------------------------------------------------------------

CLOB_LIMITS: Final[Mapping[str, tuple[int, float]]] = {
    "general": (9_000, 10.0),
    "book": (1_500, 10.0),
    "books": (500, 10.0),
    "tick-size": (200, 10.0),
}
"""CLOB requests per window (count, seconds) per endpoint family (docs ``api-reference/rate-limits``,
2026-08/10; per IP, sliding windows). Every request also counts against ``general``."""

GAMMA_LIMITS: Final[Mapping[str, tuple[int, float]]] = {
    "general": (4_000, 10.0),
    "markets": (300, 10.0),
    "events": (500, 10.0),
    "listing": (900, 10.0),
}
"""Gamma requests per window per endpoint family; ``listing`` is the shared ``/markets`` +
``/events`` budget. Every request also counts against ``general``."""

_CLOB_FAMILIES: Final[Mapping[str, tuple[str, ...]]] = {
    "/book": ("book", "general"),
    "/books": ("books", "general"),
    "/tick-size": ("tick-size", "general"),
}
_GAMMA_FAMILIES: Final[Mapping[str, tuple[str, ...]]] = {
    "/markets": ("markets", "listing", "general"),
    "/events": ("events", "listing", "general"),
}


class PolymarketRateLimiter:
    """A sliding-window limiter: at most ``limit`` requests in any ``window`` seconds.

    Args:
        limit: requests allowed per window.
        window: the window, seconds.
        clock: monotonic seconds (injectable for tests).
        sleep: ``await sleep(seconds)`` (injectable for tests).

    Raises:
        ValueError: a limit or window that is not positive.
    """

    def __init__(
        self, limit: int, window: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError(f"limit and window must be positive, got {limit} and {window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Total seconds callers have waited."""

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        while self._stamps and self._stamps[0] <= horizon:
            self._stamps.popleft()

    @property
    def in_window(self) -> int:
        """Requests counted in the current window."""
        self._expire(self._clock())
        return len(self._stamps)

    async def acquire(self) -> float:
        """Wait until one more request fits in the window, count it, and return the seconds waited.

        Callers are served first come, first served.
        """
        waited = 0.0
        async with self._lock:
            now = self._clock()
            self._expire(now)
            if len(self._stamps) >= self.limit:
                waited = max(0.0, self._stamps[0] + self.window - now)
                await self._sleep(waited)
                now = self._clock()
                self._expire(now)
                # the sleep covered the oldest request: clock rounding must not stall the caller
                while len(self._stamps) >= self.limit:
                    self._stamps.popleft()
            self._stamps.append(now)
        self.waited += waited
        return waited


# -- transport core ----------------------------------------------------------------------------

Query = list[tuple[str, str]]


def _query(params: Mapping[str, str | int | bool | Iterable[str] | None]) -> Query:
    out: Query = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, str | int):
            out.append((key, str(value)))
        else:
            out.extend((key, item) for item in value)
    return out


def _batches(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class _PolymarketHttp(RetryingHttpClient):
    """Shared request loop of the CLOB and Gamma clients (limits per endpoint family)."""

    venue = "polymarket"
    retry_statuses = frozenset({425})
    """425 Too Early: the matching engine is restarting."""
    _families: Mapping[str, tuple[str, ...]] = {}

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None,
        max_retries: int,
        backoff_base: float,
        backoff_max: float,
        sleep: Sleep,
        random: Callable[[], float],
        timeout: float,
        clock: Clock,
        limits: Mapping[str, tuple[int, float]],
    ) -> None:
        if "general" not in limits:
            raise ValueError("limits must include the 'general' family")
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
        self.limiters = {
            family: PolymarketRateLimiter(count, window, clock=clock, sleep=sleep)
            for family, (count, window) in limits.items()
        }
        """Rate limiter per endpoint family."""

    async def _throttle(self, method: str, path: str) -> None:
        for family in self._families.get(path, ("general",)):
            limiter = self.limiters.get(family)
            if limiter is not None:
                await limiter.acquire()

    def _parse_error(self, body: bytes) -> HttpFailure:
        error = parse_error_body(body)
        return HttpFailure(error.code, error.message, "", error.retry_after)

    async def _request(self, method: str, path: str, params: Query | None = None, body: object = None) -> bytes:
        content = None if body is None else _ENCODER.encode(body)
        return await self._send(
            method,
            path,
            params=tuple(params) if params else None,
            content=content,
            headers=None if content is None else {"Content-Type": "application/json"},
        )

    async def _get(self, path: str, decoder: msgspec.json.Decoder[_T], params: Query | None = None) -> _T:
        content = await self._request("GET", path, params)
        return self._decode(f"GET {path}", decoder, content)

    @staticmethod
    def _decode(what: str, decoder: msgspec.json.Decoder[_T], content: bytes) -> _T:
        try:
            return decoder.decode(content)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise DecodeError(f"{what}: unexpected response body: {exc}") from exc


# -- CLOB client -------------------------------------------------------------------------------


class PolymarketClobClient(_PolymarketHttp):
    """Async client of the CLOB's public market data; use as ``async with PolymarketClobClient()``.

    Args:
        base_url: the CLOB root (:data:`CLOB_URL`; a loopback venue's URL in tests).
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        max_retries: retries after the first attempt on 429, 425, 5xx and network failures.
        backoff_base / backoff_max: seconds; the delay before retry ``n`` (from 0) is
            ``min(backoff_max, backoff_base × 2**n)`` plus up to 25 % jitter.
        sleep / random / clock: injectable ``asyncio.sleep``, ``random.random`` and
            ``time.monotonic``; the rate limiters share ``sleep`` and ``clock``.
        timeout: seconds for each HTTP request.
        limits: requests per window per endpoint family (default :data:`CLOB_LIMITS`).

    Raises:
        ValueError: a negative ``max_retries``, or ``limits`` without ``general``.
    """

    venue = "polymarket clob"
    _families = _CLOB_FAMILIES

    def __init__(
        self,
        base_url: str = CLOB_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random.random,
        timeout: float = 10.0,
        clock: Clock = time.monotonic,
        limits: Mapping[str, tuple[int, float]] = CLOB_LIMITS,
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
            clock=clock,
            limits=limits,
        )

    async def get_book(self, token_id: str) -> PolymarketBookSummary:
        """Return one token's order book (CLOB ``GET /book?token_id=``), levels worst first.

        Raises:
            RequestError: 400 ``Invalid token id``; 404 ``No orderbook exists for the requested
                token id``. AuthError, RateLimited, TransportError, DecodeError.
        """
        return await self._get("/book", _BOOK, _query({"token_id": token_id}))

    async def get_book_raw(self, token_id: str) -> tuple[str, bytes]:
        """Return ``(request line, response body)`` of the book request, body unparsed (for
        lossless recording; decode with :func:`decode_book`), e.g.
        ``("GET /book?token_id=7261…", b'{"market":…}')``.

        Raises:
            AuthError, RequestError, RateLimited, TransportError.
        """
        query = _query({"token_id": token_id})
        body = await self._request("GET", "/book", query)
        return f"GET {urlsplit(self.base_url).path.rstrip('/')}/book?{urlencode(query)}", body

    async def get_books(self, token_ids: Sequence[str]) -> list[PolymarketBookSummary]:
        """Return the books of ``token_ids`` (CLOB ``POST /books``, :data:`BOOKS_BATCH` per request).

        The result is in the venue's order, batch after batch; tokens without a book may be
        missing from it.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        out: list[PolymarketBookSummary] = []
        for batch in _batches(token_ids, BOOKS_BATCH):
            content = await self._request("POST", "/books", body=[{"token_id": token} for token in batch])
            books: list[PolymarketBookSummary] = self._decode("POST /books", _BOOKS, content)
            out.extend(books)
        return out

    async def iter_markets(self, *, next_cursor: str = START_CURSOR) -> AsyncIterator[PolymarketClobMarket]:
        """Yield every CLOB market, following ``next_cursor`` from ``MA==`` until ``LTE=``.

        Raises:
            DecodeError: the venue repeated a cursor, or a malformed page. AuthError,
                RequestError, RateLimited, TransportError.
        """
        seen: set[str] = set()
        cursor = next_cursor
        while True:
            page = await self._get("/markets", _CLOB_MARKETS_PAGE, _query({"next_cursor": cursor}))
            for market in page.data:
                yield market
            seen.add(cursor)
            cursor = page.next_cursor
            if not cursor or cursor == END_CURSOR:
                return
            if cursor in seen:
                raise DecodeError(f"GET /markets: the venue returned cursor {cursor!r} twice")

    async def get_markets(self, *, next_cursor: str = START_CURSOR) -> list[PolymarketClobMarket]:
        """Return every CLOB market (all pages); see :meth:`iter_markets`."""
        return [market async for market in self.iter_markets(next_cursor=next_cursor)]

    async def get_market(self, condition_id: str) -> PolymarketClobMarket:
        """Return one CLOB market (``GET /markets/{condition_id}``).

        Raises:
            RequestError: 404 for an unknown market. AuthError, RateLimited, TransportError,
                DecodeError.
        """
        return await self._get(f"/markets/{quote(condition_id, safe='')}", _CLOB_MARKET)

    async def get_fee_rate(self, token_id: str) -> int:
        """Return the token's legacy ``base_fee`` in bps (``GET /fee-rate?token_id=``).

        This is not the fee charged since Fee Structure V2: use the market's fee schedule
        (:class:`~hadron.venues.polymarket.fees.PolymarketFeeSchedule`).

        Raises:
            DecodeError: ``base_fee`` is not an integer (number or string). AuthError,
                RequestError, RateLimited, TransportError.
        """
        body = await self._get("/fee-rate", _FEE_RATE, _query({"token_id": token_id}))
        if isinstance(body.base_fee, int):
            return body.base_fee
        text = body.base_fee.strip()
        if not text.isascii() or not text.isdigit():
            raise DecodeError(f"GET /fee-rate: base_fee {body.base_fee!r} is not an integer")
        return int(text)

    async def get_tick_size(self, token_id: str) -> Decimal:
        """Return the token's current tick in dollars (``GET /tick-size?token_id=``), exact.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        return (await self._get("/tick-size", _TICK_SIZE, _query({"token_id": token_id}))).minimum_tick_size


# -- Gamma client ------------------------------------------------------------------------------


class PolymarketGammaClient(_PolymarketHttp):
    """Async client of the Gamma metadata API; use as ``async with PolymarketGammaClient()``.

    Arguments as :class:`PolymarketClobClient`; ``base_url`` defaults to :data:`GAMMA_URL` and
    ``limits`` to :data:`GAMMA_LIMITS`.
    """

    venue = "polymarket gamma"
    _families = _GAMMA_FAMILIES

    def __init__(
        self,
        base_url: str = GAMMA_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random.random,
        timeout: float = 10.0,
        clock: Clock = time.monotonic,
        limits: Mapping[str, tuple[int, float]] = GAMMA_LIMITS,
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
            clock=clock,
            limits=limits,
        )

    async def _offset_pages(
        self, path: str, query: Query, limit: int, decode: Callable[[bytes], list[_T]]
    ) -> AsyncIterator[list[_T]]:
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        offset = 0
        previous = b""
        while True:
            body = await self._request("GET", path, [*query, ("limit", str(limit)), ("offset", str(offset))])
            if body == previous:
                raise DecodeError(f"GET {path}: offset {offset} returned the previous page again")
            page = decode(body)
            yield page
            if len(page) < limit:
                return
            offset += len(page)
            previous = body

    async def iter_markets(
        self,
        *,
        condition_ids: Sequence[str] | None = None,
        clob_token_ids: Sequence[str] | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
    ) -> AsyncIterator[PolymarketGammaMarket]:
        """Yield the Gamma markets matching the filters, page by page (``limit``/``offset``).

        Args:
            condition_ids / clob_token_ids: id filters, sent as repeated parameters in batches
                of :data:`GAMMA_IDS_BATCH` (each batch paged on its own).
            active / closed: state filters. Gamma answers ``closed=false`` when ``closed`` is
                not given (since 2026-04-09): pass ``closed=True`` for resolved markets.
            limit: page size.

        Raises:
            ValueError: ``limit`` not positive. DecodeError: a malformed page or
                JSON-in-a-string field. AuthError, RequestError, RateLimited, TransportError.
        """
        base = _query({"active": active, "closed": closed})
        id_filters: list[Query] = [[]]
        if condition_ids is not None or clob_token_ids is not None:
            id_filters = [
                [("condition_ids", cid) for cid in batch] for batch in _batches(condition_ids or (), GAMMA_IDS_BATCH)
            ]
            id_filters += [
                [("clob_token_ids", tid) for tid in batch] for batch in _batches(clob_token_ids or (), GAMMA_IDS_BATCH)
            ]
        for ids in id_filters:
            async for page in self._offset_pages("/markets", ids + base, limit, decode_gamma_markets):
                for market in page:
                    yield market

    async def get_markets(
        self,
        *,
        condition_ids: Sequence[str] | None = None,
        clob_token_ids: Sequence[str] | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
    ) -> list[PolymarketGammaMarket]:
        """Return every Gamma market matching the filters (all pages); see :meth:`iter_markets`."""
        return [
            market
            async for market in self.iter_markets(
                condition_ids=condition_ids, clob_token_ids=clob_token_ids, active=active, closed=closed, limit=limit
            )
        ]

    async def iter_events(
        self,
        *,
        ids: Sequence[str] | None = None,
        slugs: Sequence[str] | None = None,
        tag_id: str | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
    ) -> AsyncIterator[PolymarketGammaEvent]:
        """Yield the Gamma events matching the filters with their markets, page by page.

        Enumerating ``active=True, closed=False`` events is the documented way to list every
        live market.

        Args:
            ids / slugs: event ids or slugs (repeated ``id`` / ``slug`` parameters).
            tag_id: one tag. active / closed: state filters. limit: page size.

        Raises:
            ValueError: ``limit`` not positive. DecodeError, AuthError, RequestError,
                RateLimited, TransportError.
        """
        query = _query({"id": ids, "slug": slugs, "tag_id": tag_id, "active": active, "closed": closed})
        async for page in self._offset_pages("/events", query, limit, decode_gamma_events):
            for event in page:
                yield event

    async def get_events(
        self,
        *,
        ids: Sequence[str] | None = None,
        slugs: Sequence[str] | None = None,
        tag_id: str | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
    ) -> list[PolymarketGammaEvent]:
        """Return every Gamma event matching the filters (all pages); see :meth:`iter_events`."""
        return [
            event
            async for event in self.iter_events(
                ids=ids, slugs=slugs, tag_id=tag_id, active=active, closed=closed, limit=limit
            )
        ]


# -- normalization -----------------------------------------------------------------------------


def normalize_rest_book(summary: PolymarketBookSummary, ts_recv: int) -> BookSnapshot:
    """Turn a REST book into a :class:`BookSnapshot` of ``polymarket:<asset_id>``.

    Levels are re-sorted best first (the wire sends them worst first); zero-size levels are
    dropped (a negative size, or a price outside (0, 1) or off ``tick_size``, is kept: the book
    manager refuses it, BadValue). ``tick`` comes from ``tick_size`` (1/10,000 USD; 0 when
    absent); ``ts_event`` from ``timestamp`` (ms → ns); ``ts_recv`` in ns.

    Raises:
        DecodeError: a malformed token id, timestamp, price or size; BadValue: a ``tick_size``
            of zero.
    """
    bids = _levels(summary.bids or [])
    asks = _levels(summary.asks or [])
    bids.sort(reverse=True)
    asks.sort()
    return BookSnapshot(
        instrument_of(summary.asset_id),
        tuple(bids),
        tuple(asks),
        parse_ms(summary.timestamp),
        ts_recv,
        _tick(summary.tick_size),
    )


# -- instruments -------------------------------------------------------------------------------


def price_units(value: Decimal) -> int:
    """Return a dollar ``Decimal`` in 1/10,000 USD (``Decimal("0.001")`` → ``10``), exactly.

    Raises:
        DecodeError: not a finite, non-negative multiple of $0.0001.
    """
    if not value.is_finite() or value < 0:
        raise DecodeError(f"price {value} is not a finite non-negative number")
    units = value * PRICE_SCALE
    if units != units.to_integral_value():
        raise DecodeError(f"price {value} is finer than $0.0001")
    return int(units)


def size_text(value: Decimal) -> str:
    """Return a size as the CLOB writes it: plain digits, no exponent or trailing zeros
    (``Decimal("5")`` → ``"5"``, ``Decimal("14.960")`` → ``"14.96"``)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class PolymarketInstrument:
    """What Hadron needs to trade one Polymarket market (one condition, two or more tokens).

    Attributes:
        condition_id: ``0x`` + 64 hex.
        question / slug: the market's question and Gamma slug.
        tokens: ``((token_id, outcome), …)``, index 0 the YES/first outcome.
        tick: int, 1/10,000 USD (``10`` = $0.001); 0 when unknown.
        min_order_size: minimum order size, shares (exact ``Decimal``).
        neg_risk: whether the market trades on the neg-risk exchange.
        end_date: ISO 8601 (``"2028-11-07T00:00:00Z"``), ``""`` when unknown.
        active / closed / accepting_orders: the market's state when loaded.
        fees: the market's taker fee rule.
        market: the Gamma record as loaded.
    """

    condition_id: str
    question: str
    slug: str
    tokens: tuple[tuple[str, str], ...]
    tick: int
    min_order_size: Decimal
    neg_risk: bool
    end_date: str
    active: bool
    closed: bool
    accepting_orders: bool
    fees: PolymarketFeeSchedule
    market: PolymarketGammaMarket

    @property
    def token_ids(self) -> tuple[str, ...]:
        """The token ids, index 0 the YES/first outcome."""
        return tuple(token for token, _ in self.tokens)

    @property
    def instruments(self) -> tuple[str, ...]:
        """Hadron's instrument ids, ``polymarket:<token_id>``, in token order."""
        return tuple(instrument_of(token) for token, _ in self.tokens)

    @property
    def tradeable(self) -> bool:
        """Active, not closed, accepting orders, with an order book."""
        return self.active and not self.closed and self.accepting_orders and self.market.enable_order_book

    @property
    def hash_meta(self) -> tuple[str, bool]:
        """``(min_order_size, neg_risk)`` as the book hash needs them (``("5", True)``)."""
        return size_text(self.min_order_size), self.neg_risk


class PolymarketInstrumentProvider:
    """Loads :class:`PolymarketInstrument` records from Gamma (and the CLOB for missing ticks).

    Args:
        gamma: the Gamma client.
        clob: a CLOB client, asked for ``/tick-size`` when Gamma has no tick for a market.

    :attr:`instruments` keeps every instrument loaded so far by condition id;
    :meth:`meta` serves the stream's book-hash metadata by token id.
    """

    def __init__(self, gamma: PolymarketGammaClient, clob: PolymarketClobClient | None = None) -> None:
        self.gamma = gamma
        self.clob = clob
        self.instruments: dict[str, PolymarketInstrument] = {}
        self._by_token: dict[str, str] = {}

    def meta(self, token_id: str) -> tuple[str, bool] | None:
        """Return ``(min_order_size, neg_risk)`` of the token's market, or ``None`` if not loaded."""
        condition_id = self._by_token.get(token_id)
        return None if condition_id is None else self.instruments[condition_id].hash_meta

    async def _lookup(self, ids: list[str], *, by_token: bool) -> list[PolymarketGammaMarket]:
        # Gamma hides closed markets unless asked: look up the ones not found with closed=true.
        found: list[PolymarketGammaMarket] = []
        for closed in (None, True):
            if not ids:
                break
            if by_token:
                markets = await self.gamma.get_markets(clob_token_ids=ids, closed=closed)
            else:
                markets = await self.gamma.get_markets(condition_ids=ids, closed=closed)
            seen = {market.condition_id for market in markets}
            seen.update(token for market in markets for token in market.clob_token_ids)
            found += markets
            ids = [i for i in ids if i not in seen]
        return found

    async def load(
        self, *, condition_ids: Sequence[str] | None = None, token_ids: Sequence[str] | None = None
    ) -> dict[str, PolymarketInstrument]:
        """Load the markets of ``condition_ids`` and/or ``token_ids``; ids Gamma does not know
        are left out (and logged), as are markets without CLOB tokens.

        Returns:
            condition id → :class:`PolymarketInstrument`.

        Raises:
            DecodeError: a market whose outcomes and token ids do not pair up, or a tick finer
                than $0.0001. AuthError, RequestError, RateLimited, TransportError: as the REST
                calls raise them.
        """
        by_condition = list(dict.fromkeys(condition_ids or ()))
        by_token = list(dict.fromkeys(token_ids or ()))
        found: list[PolymarketGammaMarket] = []
        if by_condition:
            found += await self._lookup(by_condition, by_token=False)
        if by_token:
            found += await self._lookup(by_token, by_token=True)
        wanted = set(by_condition) | set(by_token)
        out: dict[str, PolymarketInstrument] = {}
        for market in found:
            if market.condition_id in out or wanted.isdisjoint((market.condition_id, *market.clob_token_ids)):
                continue
            instrument = await self._instrument(market)
            if instrument is not None:
                out[market.condition_id] = instrument
        known = set(out) | {token for inst in out.values() for token in inst.token_ids}
        missing = [i for i in (*by_condition, *by_token) if i not in known]
        if missing:
            log.warning("polymarket markets not found", count=len(missing), ids=missing[:20])
        self.instruments.update(out)
        for condition_id, instrument in out.items():
            self._by_token.update(dict.fromkeys(instrument.token_ids, condition_id))
        return out

    async def _instrument(self, market: PolymarketGammaMarket) -> PolymarketInstrument | None:
        tokens = market.clob_token_ids
        if not market.condition_id or not tokens:
            log.warning("polymarket market without CLOB tokens skipped", id=market.id, slug=market.slug)
            return None
        if len(market.outcomes) != len(tokens):
            raise DecodeError(
                f"Gamma market {market.id}: {len(market.outcomes)} outcomes for {len(tokens)} clobTokenIds"
            )
        for token in tokens:
            instrument_of(token)
        tick = 0
        if market.order_price_min_tick_size is not None:
            tick = price_units(market.order_price_min_tick_size)
        elif self.clob is not None:
            tick = price_units(await self.clob.get_tick_size(tokens[0]))
        return PolymarketInstrument(
            condition_id=market.condition_id,
            question=market.question,
            slug=market.slug,
            tokens=tuple(zip(tokens, market.outcomes, strict=True)),
            tick=tick,
            min_order_size=market.order_min_size if market.order_min_size is not None else Decimal(0),
            neg_risk=market.neg_risk,
            end_date=market.end_date,
            active=market.active,
            closed=market.closed,
            accepting_orders=market.accepting_orders,
            fees=PolymarketFeeSchedule.from_gamma(market),
            market=market,
        )
