"""Kalshi order entry: :class:`KalshiOrderGateway`, Hadron's :class:`~hadron.venues.base.OrderGateway`
for one Kalshi account over REST v2.

Every request carries Kalshi's RSA-PSS headers, signed over ``timestamp + METHOD + path`` with
the request's own method and the path without its query string (``docs/protocols/kalshi.md#authentication``,
:mod:`hadron.venues.kalshi.auth`); writes (orders, cancels, order groups) wait for tokens in the
tier's write bucket, reads in its read bucket (:mod:`hadron.venues.kalshi.rest.limits`); 429, 5xx
and network failures are retried by the shared loop (:class:`~hadron.venues.http.RetryingHttpClient`).

Endpoints (Kalshi OpenAPI v3.13.0, ``docs/protocols/kalshi.md#orders``):

==============================================  =========================  ====================
``POST /portfolio/orders``                      ``CreateOrder``            one order
``POST /portfolio/orders/batched``              ``BatchCreateOrders``      several (≤ 20 a batch,
                                                                           ≤ the write bucket)
``DELETE /portfolio/orders/{order_id}``         ``CancelOrder``            one cancel
``DELETE /portfolio/orders/batched``            ``BatchCancelOrders``      several (≤ 20)
``GET /portfolio/orders``                       ``GetOrders``              resting orders, lookups
``GET /portfolio/orders/{order_id}``            ``GetOrder``
``GET /portfolio/fills``                        ``GetFills``
``GET /portfolio/positions``                    ``GetPositions``
``GET /portfolio/balance``                      ``GetBalance``
``POST /portfolio/order_groups/create``         ``CreateOrderGroup``       the venue-side cap
``DELETE /portfolio/order_groups/{id}``         ``DeleteOrderGroup``
==============================================  =========================  ====================

Units at the seam (:mod:`hadron.model.orders`): prices int 1/10,000 USD in the order's outcome
terms (a NO order's limit is sent as ``no_price_dollars``), sizes int 1/1,000,000 contract (Kalshi
counts to 0.01 contract: ``count_fp``), fees int 1/10,000,000,000 USD, cash 1/1,000,000 USD.

The create-order answer carries aggregates only (``taker_fill_cost_dollars``,
``taker_fees_dollars``), so :attr:`PlaceResult.fills` stays empty: fills arrive on the private
``fill`` channel (:mod:`hadron.venues.kalshi.account`) and from :meth:`KalshiOrderGateway.fills`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import msgspec
import structlog

from hadron.errors import RequestError
from hadron.model.account import parse_cash
from hadron.model.orders import (
    ExecFill,
    ExecReport,
    OrderRequest,
    OrderState,
    PlaceResult,
    VenueOrder,
)
from hadron.model.units import PRICE_ONE, format_price, format_size, parse_price, parse_size
from hadron.venues.http import Clock, Sleep
from hadron.venues.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, KalshiSigner
from hadron.venues.kalshi.rest.client import KalshiRestClient
from hadron.venues.kalshi.rest.limits import CANCEL_COST, WRITE_COST, KalshiRateLimiter
from hadron.venues.kalshi.rest.portfolio import (
    BALANCE,
    BATCH_CANCEL,
    BATCH_CREATE,
    CANCEL,
    FILLS_PAGE,
    ORDER,
    ORDER_GROUP_CREATED,
    ORDERS_PAGE,
    POSITIONS_PAGE,
    KalshiBatchCancelOrders,
    KalshiBatchCreateOrders,
    KalshiCancelItem,
    KalshiCreateOrder,
    KalshiCreateOrderGroup,
    KalshiErrorResponse,
    KalshiOrder,
    KalshiRestFill,
    KalshiTimeInForce,
)

log = structlog.get_logger("hadron.kalshi.orders")

VENUE = "kalshi"
PREFIX = "kalshi:"
MAX_BATCH = 20
"""Orders in one batch create or cancel (OpenAPI ``BatchCreateOrders``: "the limit is 20 orders
per batch"; ``BatchCancelOrders``: "up to 20 orders at once"); a batch create is also capped by
the write bucket (each order costs :data:`WRITE_COST` tokens)."""
PAGE_LIMIT = 1000
"""Page size of the list reads (OpenAPI ``LimitQuery``/``PositionsLimitQuery``: at most 1000)."""
FEE_PER_CASH = 10_000
"""1/10,000,000,000 USD (fees at the seam) per 1/1,000,000 USD (cash)."""
CENT_CASH = 10_000
"""One cent in cash units (1/1,000,000 USD): ``GetBalance`` answers in cents."""
REDACTED = "***"
SIZE_STEP = 10_000
"""Kalshi counts to 0.01 contract (OpenAPI ``FixedPointCount``): a size must be a multiple."""

TIF: Final[dict[str, KalshiTimeInForce]] = {
    "IOC": "immediate_or_cancel",
    "FOK": "fill_or_kill",
    "GTC": "good_till_canceled",
}
"""Hadron's time in force → OpenAPI ``CreateOrderRequest.time_in_force``."""

DUPLICATE_CODES = frozenset({"order_already_exists", "duplicate_client_order_id", "client_order_id_already_exists"})
"""Error codes meaning "this client_order_id is taken" (HTTP 409; ``docs/protocols/kalshi.md#rest``)."""

_COST: ContextVar[float] = ContextVar("kalshi_write_cost", default=WRITE_COST)
_T = TypeVar("_T")


class _PortfolioClient(KalshiRestClient):
    """:class:`KalshiRestClient` with a second bucket: GETs take read tokens, every other method
    the write tokens set for the call (:data:`_COST`, per attempt)."""

    def __init__(self, base_url: str, *, write_limiter: KalshiRateLimiter, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.write_limiter = write_limiter

    async def _throttle(self, method: str, path: str) -> None:
        if method == "GET":
            await self.limiter.acquire()
        else:
            await self.write_limiter.acquire(_COST.get())

    async def call(
        self,
        method: str,
        path: str,
        decoder: msgspec.json.Decoder[_T],
        *,
        body: bytes | None = None,
        params: dict[str, str | int] | None = None,
        cost: float = WRITE_COST,
    ) -> _T:
        """Send one signed request (retried by the shared loop) and decode its 2xx body.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        token = _COST.set(cost)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else None
            raw = await self._send(method, path, params=params, content=body, headers=headers)
        finally:
            _COST.reset(token)
        return self._decode(f"{method} {path}", decoder, raw or b"{}")

    async def call_raw(self, method: str, path: str, *, cost: float = WRITE_COST) -> bytes:
        """Send one signed body-less request; return the 2xx body unread (e.g. ``EmptyResponse``)."""
        token = _COST.set(cost)
        try:
            return await self._send(method, path)
        finally:
            _COST.reset(token)


def _rfc3339_ns(text: str | None) -> int:
    # RFC 3339 → ns since the epoch, exact (0: absent or unreadable)
    if not text:
        return 0
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return 0
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    delta = stamp - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def state_of(order: KalshiOrder) -> OrderState:
    """The :class:`OrderState` of a Kalshi order: ``resting`` → accepted (partially filled once
    ``fill_count_fp`` > 0), ``executed`` → filled, ``canceled`` → cancelled (OpenAPI
    ``OrderStatus``; an IOC's or FOK's unfilled rest reads ``canceled``)."""
    filled = parse_size(order.fill_count_fp) if order.fill_count_fp else 0
    if order.status == "executed":
        return OrderState.FILLED
    if order.status == "canceled":
        return OrderState.CANCELLED
    return OrderState.PARTIALLY_FILLED if filled > 0 else OrderState.ACCEPTED


def report_of(order: KalshiOrder, reason: str = "") -> ExecReport:
    """An :class:`ExecReport` from a Kalshi ``Order`` (``filled`` = ``fill_count_fp``,
    ``ts_event`` = ``last_update_time`` or ``created_time``, else now)."""
    return ExecReport(
        client_order_id=order.client_order_id,
        venue_order_id=order.order_id,
        state=state_of(order),
        filled=parse_size(order.fill_count_fp) if order.fill_count_fp else 0,
        reason=reason,
        ts_event=_rfc3339_ns(order.last_update_time) or _rfc3339_ns(order.created_time) or time.time_ns(),
    )


def _outcome_price(side: str, yes_dollars: str, no_dollars: str) -> int:
    # The price in the outcome's own terms (a NO order or fill: no_price, else 1 − yes_price)
    if side == "no":
        return parse_price(no_dollars) if no_dollars else PRICE_ONE - parse_price(yes_dollars)
    return parse_price(yes_dollars) if yes_dollars else PRICE_ONE - parse_price(no_dollars)


def venue_order_of(order: KalshiOrder) -> VenueOrder:
    """A :class:`VenueOrder` from a Kalshi ``Order`` (price in the order's outcome terms)."""
    return VenueOrder(
        venue_order_id=order.order_id,
        client_order_id=order.client_order_id,
        instrument=PREFIX + order.ticker,
        outcome="no" if order.side == "no" else "yes",
        side="sell" if order.action == "sell" else "buy",
        price=_outcome_price(order.side, order.yes_price_dollars, order.no_price_dollars),
        size=parse_size(order.initial_count_fp) if order.initial_count_fp else 0,
        filled=parse_size(order.fill_count_fp) if order.fill_count_fp else 0,
        state=state_of(order),
    )


def fill_of(fill: KalshiRestFill, client_order_id: str = "") -> ExecFill:
    """An :class:`ExecFill` from a Kalshi REST ``Fill``: the price in the order's outcome terms
    (``side`` no: ``no_price_dollars``, i.e. 1 − the YES price), ``fee_cost`` dollars →
    1/10,000,000,000 USD, ``created_time`` (else the legacy ``ts`` seconds) → ns."""
    ts = _rfc3339_ns(fill.created_time) or (fill.ts or 0) * 1_000_000_000
    return ExecFill(
        client_order_id=fill.client_order_id or client_order_id,
        venue_order_id=fill.order_id,
        fill_id=fill.fill_id or fill.trade_id,
        price=_outcome_price(fill.side, fill.yes_price_dollars, fill.no_price_dollars),
        size=parse_size(fill.count_fp),
        fee=parse_cash(fill.fee_cost) * FEE_PER_CASH if fill.fee_cost else 0,
        ts_event=ts,
        taker=fill.is_taker,
    )


def _ticker(symbol: str) -> str:
    return symbol[len(PREFIX) :] if symbol.startswith(PREFIX) else symbol


def check_request(order: OrderRequest) -> str:
    """Hadron's own checks of one order before it is sent; ``""`` when it may go, else why not
    (a limit outside (0, 1) USD or off the order's ``tick`` when it has one, a size that is not a
    positive multiple of 0.01 contract, an unknown outcome, side or time in force)."""
    if order.outcome not in ("yes", "no"):
        return f"hadron: outcome {order.outcome!r} is not yes or no"
    if order.side not in ("buy", "sell"):
        return f"hadron: side {order.side!r} is not buy or sell"
    if order.tif not in TIF:
        return f"hadron: time in force {order.tif!r} is not IOC, FOK or GTC"
    if not 0 < order.price < PRICE_ONE:
        return f"hadron: limit {order.price} is outside (0, 1) USD (1/10,000 USD units)"
    if order.size <= 0 or order.size % SIZE_STEP:
        return f"hadron: size {order.size} is not a positive multiple of 0.01 contract (1/1,000,000 units)"
    if order.tick > 0 and order.price % order.tick:
        return f"hadron: limit {order.price} is not on the market's tick {order.tick} (1/10,000 USD units)"
    return ""


def create_body(order: OrderRequest, order_group_id: str = "") -> KalshiCreateOrder:
    """The ``CreateOrderRequest`` of one order: ``ticker`` = ``symbol``, ``side`` = outcome,
    ``action`` = side, ``count_fp``, the limit as ``yes_price_dollars`` (YES) or
    ``no_price_dollars`` (NO), ``time_in_force``, ``order_group_id`` when given (a limit order:
    OpenAPI v3.13.0 has no ``type`` field)."""
    price = format_price(order.price)
    return KalshiCreateOrder(
        ticker=_ticker(order.symbol),
        side=order.outcome,
        action=order.side,
        client_order_id=order.client_order_id,
        count_fp=format_size(order.size),
        yes_price_dollars=price if order.outcome == "yes" else None,
        no_price_dollars=price if order.outcome == "no" else None,
        time_in_force=TIF[order.tif],
        order_group_id=order_group_id or None,
    )


def _error_text(error: KalshiErrorResponse | None) -> str:
    if error is None:
        return "refused"
    text = ": ".join(part for part in (error.code, error.message) if part)
    return text + (f" ({error.details})" if error.details else "") if text else "refused"


def _request_reason(exc: RequestError) -> str:
    # "<code>: <the venue's message>" from "POST /path: HTTP 400 <code>: <message>"
    text = str(exc)
    if exc.code and f" {exc.code}: " in text:
        return f"{exc.code}: {text.split(f' {exc.code}: ', 1)[1]}"
    return text


def _is_duplicate(status: int, code: str) -> bool:
    return status == 409 or code in DUPLICATE_CODES


def redact(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with the signature and the key id replaced by ``"***"`` (dry-run logs)."""
    return {k: (REDACTED if k in (HEADER_KEY, HEADER_SIGNATURE) else v) for k, v in headers.items()}


class KalshiOrderGateway:
    """Order entry for one Kalshi account (:class:`~hadron.venues.base.OrderGateway`).

    Args:
        base_url: the REST root including ``/trade-api/v2`` (``HOSTS["prod"].rest``, a loopback
            venue's URL).
        signer: the account's API key (:func:`~hadron.venues.kalshi.auth.load_signer`).
        rate_tier: the account's usage tier (basic … prestige): sizes both token buckets.
        dry_run: sign and log (at warning level) every order's exact request (key id and
            signature replaced by ``"***"``), send nothing; :meth:`place` answers
            ``rejected``/``dry_run`` with the request.
        contracts_limit: create one order group at :meth:`start` with this cap (whole contracts
            matched over a rolling 15 s window, OpenAPI ``CreateOrderGroup``) and attach every
            order to it; 0: no group.
        transport / max_retries / backoff_base / backoff_max / timeout / sleep / clock / random:
            as :class:`~hadron.venues.kalshi.rest.KalshiRestClient` (tests pass a transport and
            ``max_retries=0``).

    Raises:
        ConfigError: an unknown ``rate_tier``.
    """

    venue = VENUE

    def __init__(
        self,
        base_url: str,
        signer: KalshiSigner,
        *,
        rate_tier: str = "basic",
        dry_run: bool = False,
        contracts_limit: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 10.0,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        random: Callable[[], float] = random.random,
    ) -> None:
        self.dry_run = dry_run
        self.contracts_limit = contracts_limit
        self.order_group_id = ""
        """The order group every order joins (``""``: none)."""
        self._signer = signer
        self._client = _PortfolioClient(
            base_url,
            signer=signer,
            rate_tier=rate_tier,
            transport=transport,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            timeout=timeout,
            sleep=sleep,
            clock=clock,
            random=random,
            write_limiter=KalshiRateLimiter.for_write_tier(rate_tier, clock=clock, sleep=sleep),
        )
        self.max_batch = max(1, min(MAX_BATCH, int(self._client.write_limiter.capacity // WRITE_COST)))
        """Orders per batch create: 20, or fewer when the tier's write bucket holds less (Basic: 10)."""
        self._tickers: dict[str, str] = {}  # client_order_id → ticker (for lookups by client id)
        self._clients: dict[str, str] = {}  # venue order id → client_order_id
        self._started = False

    def __repr__(self) -> str:
        return f"KalshiOrderGateway({self._client.base_url!r}, signer={self._signer!r}, dry_run={self.dry_run})"

    @property
    def base_url(self) -> str:
        """The REST root the gateway sends to."""
        return self._client.base_url

    @property
    def write_limiter(self) -> KalshiRateLimiter:
        """The write token bucket (orders, cancels, order groups)."""
        return self._client.write_limiter

    @property
    def read_limiter(self) -> KalshiRateLimiter:
        """The read token bucket (every GET)."""
        return self._client.limiter

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the order group when ``contracts_limit`` > 0 and none exists (idempotent; in
        dry-run the request is logged, not sent).

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        self._started = True
        await self._ensure_group()

    async def _ensure_group(self) -> None:
        if self.contracts_limit <= 0 or self.order_group_id:
            return
        path = "/portfolio/order_groups/create"
        body = msgspec.json.encode(KalshiCreateOrderGroup(contracts_limit=self.contracts_limit))
        if self.dry_run:
            self._dry_request("POST", path, body)
            return
        created = await self._client.call("POST", path, ORDER_GROUP_CREATED, body=body)
        self.order_group_id = created.order_group_id
        log.info("kalshi order group created", order_group_id=self.order_group_id, limit=self.contracts_limit)

    async def close(self) -> None:
        """Release the HTTP client (the order group stays: :meth:`cancel_all` deletes it)."""
        await self._client.aclose()

    # -- dry run ---------------------------------------------------------------------------------

    def _dry_request(self, method: str, path: str, body: bytes | None) -> dict[str, object]:
        # The exact request, signed as it would be sent, logged with its secrets replaced
        url = self._client.base_url + path
        headers = {"Content-Type": "application/json"} if body is not None else {}
        headers.update(self._signer.headers(method, urlsplit(url).path))
        request: dict[str, object] = {
            "method": method,
            "url": url,
            "headers": redact(headers),
            "body": msgspec.json.decode(body) if body is not None else None,
        }
        log.warning("kalshi dry-run request, not sent", **request)  # warning: shown at the default level
        return request

    # -- place -----------------------------------------------------------------------------------

    async def place(self, orders: Sequence[OrderRequest]) -> list[PlaceResult]:
        """Send ``orders``: one → ``POST /portfolio/orders``; several → ``POST
        /portfolio/orders/batched`` in batches of :attr:`max_batch`. One result per order, in
        order; ``fills`` stay empty (Kalshi's answer has aggregates only).

        An order Hadron's checks refuse (:func:`check_request`) or the venue refuses (a 4xx for
        it) is ``rejected`` with the reason (the venue's ``code: message``). A ``client_order_id``
        the venue already knows (409 / ``order_already_exists``) is looked up and its current
        report returned: never placed twice.

        Raises:
            AuthError (401/403), RateLimited (429 after the retries), TransportError,
            DecodeError: the request as a whole failed.
        """
        if not orders:
            return []
        if not self._started:
            await self.start()
        if self.contracts_limit > 0 and not self.order_group_id and not self.dry_run:
            await self._ensure_group()  # deleted by cancel_all: a new one before the next order
        results: dict[int, PlaceResult] = {}
        sendable: list[tuple[int, OrderRequest]] = []
        now = time.time_ns()
        for i, order in enumerate(orders):
            reason = check_request(order)
            if reason:
                report = ExecReport(
                    client_order_id=order.client_order_id,
                    venue_order_id="",
                    state=OrderState.REJECTED,
                    reason=reason,
                    ts_event=now,
                )
                results[i] = PlaceResult(report=report)
            else:
                self._tickers[order.client_order_id] = _ticker(order.symbol)
                sendable.append((i, order))
        if len(sendable) == 1:
            i, order = sendable[0]
            results[i] = await self._place_one(order)
        elif sendable:
            for start in range(0, len(sendable), self.max_batch):
                chunk = sendable[start : start + self.max_batch]
                for (i, _), result in zip(chunk, await self._place_batch([o for _, o in chunk]), strict=True):
                    results[i] = result
        return [results[i] for i in range(len(orders))]

    def _dry_results(self, orders: Sequence[OrderRequest], request: dict[str, object]) -> list[PlaceResult]:
        now = time.time_ns()
        return [
            PlaceResult(
                report=ExecReport(
                    client_order_id=o.client_order_id,
                    venue_order_id="",
                    state=OrderState.REJECTED,
                    reason="dry_run",
                    ts_event=now,
                ),
                request=request,
            )
            for o in orders
        ]

    def _rejected(self, order: OrderRequest, reason: str) -> PlaceResult:
        report = ExecReport(
            client_order_id=order.client_order_id,
            venue_order_id="",
            state=OrderState.REJECTED,
            reason=reason,
            ts_event=time.time_ns(),
        )
        return PlaceResult(report=report)

    def _accepted(self, order: KalshiOrder) -> PlaceResult:
        self._clients[order.order_id] = order.client_order_id
        if order.client_order_id:
            self._tickers.setdefault(order.client_order_id, order.ticker)
        return PlaceResult(report=report_of(order))

    async def _place_one(self, order: OrderRequest) -> PlaceResult:
        path = "/portfolio/orders"
        body = msgspec.json.encode(create_body(order, self.order_group_id))
        if self.dry_run:
            return self._dry_results([order], self._dry_request("POST", path, body))[0]
        try:
            answer = await self._client.call("POST", path, ORDER, body=body)
        except RequestError as exc:
            if _is_duplicate(exc.status, exc.code):
                return await self._existing(order, _request_reason(exc))
            return self._rejected(order, _request_reason(exc))
        return self._accepted(answer.order)

    async def _place_batch(self, orders: list[OrderRequest]) -> list[PlaceResult]:
        path = "/portfolio/orders/batched"
        body = msgspec.json.encode(KalshiBatchCreateOrders([create_body(o, self.order_group_id) for o in orders]))
        if self.dry_run:
            return self._dry_results(orders, self._dry_request("POST", path, body))
        try:
            answer = await self._client.call("POST", path, BATCH_CREATE, body=body, cost=WRITE_COST * len(orders))
        except RequestError as exc:  # the batch refused as a whole: every order of it
            return [self._rejected(o, _request_reason(exc)) for o in orders]
        by_client = {
            item.client_order_id or (item.order.client_order_id if item.order else ""): item for item in answer.orders
        }
        results: list[PlaceResult] = []
        for index, order in enumerate(orders):
            item = by_client.get(order.client_order_id)
            if item is None and index < len(answer.orders) and not order.client_order_id:
                item = answer.orders[index]
            if item is None:  # no word on it: placed or not, the venue's own answer decides
                results.append(await self._existing(order, "kalshi: no answer for this order in the batch"))
            elif item.order is not None:
                results.append(self._accepted(item.order))
            elif item.error is not None and _is_duplicate(0, item.error.code):
                results.append(await self._existing(order, _error_text(item.error)))
            else:
                results.append(self._rejected(order, _error_text(item.error)))
        return results

    async def _existing(self, order: OrderRequest, reason: str) -> PlaceResult:
        # The venue knows this client_order_id already: its current report, never a second order
        found = await self._find_by_client_id(order.client_order_id, _ticker(order.symbol))
        if found is None:
            return self._rejected(order, f"{reason} (and no order with this client_order_id was found)")
        log.info("kalshi order already placed", client_order_id=order.client_order_id, order_id=found.order_id)
        return self._accepted(found)

    # -- reads -----------------------------------------------------------------------------------

    async def _orders(self, **filters: str | int) -> list[KalshiOrder]:
        params: dict[str, str | int] = {"limit": PAGE_LIMIT, **{k: v for k, v in filters.items() if v != ""}}
        out: list[KalshiOrder] = []
        seen: set[str] = set()
        while True:
            page = await self._client.call("GET", "/portfolio/orders", ORDERS_PAGE, params=params)
            out.extend(page.orders or ())
            if not page.cursor or page.cursor in seen:
                return out
            seen.add(page.cursor)
            params = {**params, "cursor": page.cursor}

    async def _find_by_client_id(self, client_order_id: str, ticker: str = "") -> KalshiOrder | None:
        # OpenAPI GetOrders has no client_order_id filter: the market's orders, searched
        if not client_order_id:
            return None
        ticker = ticker or self._tickers.get(client_order_id, "")
        return next((o for o in await self._orders(ticker=ticker) if o.client_order_id == client_order_id), None)

    async def open_orders(self) -> list[VenueOrder]:
        """The account's resting orders (``GET /portfolio/orders?status=resting``, every page).

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        return [venue_order_of(o) for o in await self._orders(status="resting")]

    async def recall(self, request: OrderRequest) -> str:
        """``""``: Kalshi assigns order ids and finds ours by ``client_order_id`` (:meth:`order`)."""
        return ""

    async def order(self, client_order_id: str, venue_order_id: str = "") -> VenueOrder | None:
        """One order by the venue's id (``GET /portfolio/orders/{order_id}``) or, without it, by
        ``client_order_id`` (the market's orders searched); ``None`` when the venue does not know it.

        Raises:
            AuthError, RequestError (other than 404), RateLimited, TransportError, DecodeError.
        """
        if venue_order_id:
            found = await self._get_order(venue_order_id)
        else:
            found = await self._find_by_client_id(client_order_id)
        return venue_order_of(found) if found is not None else None

    async def _get_order(self, order_id: str) -> KalshiOrder | None:
        try:
            answer = await self._client.call("GET", f"/portfolio/orders/{quote(order_id, safe='')}", ORDER)
        except RequestError as exc:
            if exc.status == 404:
                return None
            raise
        return answer.order

    async def fills(self, since_ns: int) -> list[ExecFill]:
        """The account's fills at or after ``since_ns`` (``GET /portfolio/fills?min_ts=``, every
        page), oldest first, each in its order's outcome terms (:func:`fill_of`);
        ``client_order_id`` is known for the orders this gateway placed or looked up (``""``
        otherwise).

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        params: dict[str, str | int] = {"limit": PAGE_LIMIT}
        if since_ns > 0:
            params["min_ts"] = since_ns // 1_000_000_000
        out: list[ExecFill] = []
        seen: set[str] = set()
        while True:
            page = await self._client.call("GET", "/portfolio/fills", FILLS_PAGE, params=params)
            for fill in page.fills or ():
                converted = fill_of(fill, self._clients.get(fill.order_id, ""))
                if converted.ts_event >= since_ns or converted.ts_event == 0:
                    out.append(converted)
            if not page.cursor or page.cursor in seen:
                break
            seen.add(page.cursor)
            params = {**params, "cursor": page.cursor}
        out.reverse()  # the venue lists newest first: ties in time keep their order of execution
        out.sort(key=lambda f: f.ts_event)
        return out

    async def positions(self, symbols: Sequence[str]) -> dict[str, int]:
        """Signed positions (``position_fp``: +YES/−NO, 1/1,000,000 contract) keyed by Hadron
        instrument id ``kalshi:<ticker>``, for ``symbols`` (instrument ids or tickers; 0 for one
        without a position; empty: every market with a position). ``GET /portfolio/positions``,
        every page.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        tickers = [_ticker(s) for s in symbols]
        params: dict[str, str | int] = {"limit": PAGE_LIMIT}
        if len(tickers) == 1:
            params["ticker"] = tickers[0]
        held: dict[str, int] = {}
        seen: set[str] = set()
        while True:
            page = await self._client.call("GET", "/portfolio/positions", POSITIONS_PAGE, params=params)
            for position in page.market_positions or ():
                held[position.ticker] = parse_size(position.position_fp) if position.position_fp else 0
            if not page.cursor or page.cursor in seen:
                break
            seen.add(page.cursor)
            params = {**params, "cursor": page.cursor}
        if not tickers:
            return {PREFIX + t: size for t, size in held.items() if size}
        return {PREFIX + t: held.get(t, 0) for t in tickers}

    async def balance(self) -> int:
        """Cash available for trading, 1/1,000,000 USD (``GET /portfolio/balance``: ``balance``
        in cents).

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        answer = await self._client.call("GET", "/portfolio/balance", BALANCE)
        return answer.balance * CENT_CASH

    # -- cancel ----------------------------------------------------------------------------------

    async def cancel(self, venue_order_ids: Sequence[str]) -> list[ExecReport]:
        """Cancel these orders: one → ``DELETE /portfolio/orders/{order_id}``; several →
        ``DELETE /portfolio/orders/batched`` (20 a batch; a cancel costs :data:`CANCEL_COST` write
        tokens). One report per id, in order: the zeroed order's (``cancelled``, with what had
        filled), or, when the venue refused the cancel (an order already filled or unknown), the
        order's current report with the refusal as ``reason`` (``rejected`` when the venue does
        not know the order at all).

        Raises:
            AuthError, RateLimited, TransportError, DecodeError.
        """
        ids = list(venue_order_ids)
        if not ids:
            return []
        if self.dry_run:
            if len(ids) == 1:
                self._dry_request("DELETE", f"/portfolio/orders/{quote(ids[0], safe='')}", None)
            else:
                items = [KalshiCancelItem(i) for i in ids]
                self._dry_request(
                    "DELETE", "/portfolio/orders/batched", msgspec.json.encode(KalshiBatchCancelOrders(items))
                )
            now = time.time_ns()
            return [
                ExecReport(
                    client_order_id=self._clients.get(i, ""),
                    venue_order_id=i,
                    state=OrderState.REJECTED,
                    reason="dry_run",
                    ts_event=now,
                )
                for i in ids
            ]
        if len(ids) == 1:
            return [await self._cancel_one(ids[0])]
        out: list[ExecReport] = []
        for start in range(0, len(ids), MAX_BATCH):
            out.extend(await self._cancel_batch(ids[start : start + MAX_BATCH]))
        return out

    async def _cancel_one(self, order_id: str) -> ExecReport:
        try:
            answer = await self._client.call(
                "DELETE", f"/portfolio/orders/{quote(order_id, safe='')}", CANCEL, cost=CANCEL_COST
            )
        except RequestError as exc:
            return await self._refused_cancel(order_id, _request_reason(exc))
        return report_of(answer.order)

    async def _cancel_batch(self, ids: list[str]) -> list[ExecReport]:
        body = msgspec.json.encode(KalshiBatchCancelOrders([KalshiCancelItem(i) for i in ids]))
        try:
            answer = await self._client.call(
                "DELETE", "/portfolio/orders/batched", BATCH_CANCEL, body=body, cost=CANCEL_COST * len(ids)
            )
        except RequestError as exc:
            return [await self._refused_cancel(i, _request_reason(exc)) for i in ids]
        by_id = {item.order_id: item for item in answer.orders}
        out: list[ExecReport] = []
        for order_id in ids:
            item = by_id.get(order_id)
            if item is not None and item.order is not None and item.error is None:
                out.append(report_of(item.order))
            else:
                reason = _error_text(item.error) if item is not None else "kalshi: no answer for this order"
                out.append(await self._refused_cancel(order_id, reason))
        return out

    async def _refused_cancel(self, order_id: str, reason: str) -> ExecReport:
        found = await self._get_order(order_id)
        if found is not None:
            return report_of(found, reason)
        return ExecReport(
            client_order_id=self._clients.get(order_id, ""),
            venue_order_id=order_id,
            state=OrderState.REJECTED,
            reason=reason,
            ts_event=time.time_ns(),
        )

    async def cancel_all(self) -> list[str]:
        """Cancel every resting order of the account: Kalshi has no single cancel-all, so the
        resting orders are listed (``GET /portfolio/orders?status=resting``) and batch-cancelled;
        then the gateway's order group, if it created one, is deleted (``DELETE
        /portfolio/order_groups/{id}``, which also cancels anything left in it; a new group is
        created before the next order). Return the venue ids cancelled.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        resting = await self._orders(status="resting")
        reports = await self.cancel([o.order_id for o in resting])
        cancelled = [r.venue_order_id for r in reports if r.state is OrderState.CANCELLED]
        if self.order_group_id and not self.dry_run:
            group, self.order_group_id = self.order_group_id, ""
            try:
                await self._client.call_raw("DELETE", f"/portfolio/order_groups/{quote(group, safe='')}")
            except RequestError as exc:
                log.warning("kalshi order group not deleted", order_group_id=group, error=str(exc))
        return cancelled


__all__ = [
    "DUPLICATE_CODES",
    "MAX_BATCH",
    "TIF",
    "KalshiOrderGateway",
    "check_request",
    "create_body",
    "fill_of",
    "redact",
    "report_of",
    "state_of",
    "venue_order_of",
]
