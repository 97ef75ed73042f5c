"""The loopback Kalshi venue's REST side: a Starlette app serving a :class:`FakeExchange`.

Routes (under ``/trade-api/v2``; shapes as Kalshi's OpenAPI)::

    /markets                      {"markets": [...], "cursor": "..."}   status, event_ticker,
                                                                         series_ticker, tickers
    /markets/trades               {"trades": [...], "cursor": "..."}    ticker, min_ts, max_ts
    /markets/{ticker}             {"market": {...}}
    /markets/{ticker}/orderbook   {"orderbook_fp": {"yes_dollars": [...], "no_dollars": [...]}}
    /events                       {"events": [...], "cursor": "..."}    status, series_ticker,
                                                                         with_nested_markets
    /events/{event_ticker}        {"event": {...}, "markets": [...]}     with_nested_markets
    /series/{series_ticker}       {"series": {...}}
    /exchange/status              {"exchange_active": true, "trading_active": true, ...}

With an exchange account (:class:`~hadron.venues.kalshi.fake_orders.KalshiExchangeAccount`),
the portfolio routes too (OpenAPI ``CreateOrder``, ``BatchCreateOrders``, ``CancelOrder``,
``BatchCancelOrders``, ``GetOrders``, ``GetOrder``, ``GetFills``, ``GetPositions``,
``GetBalance``, ``CreateOrderGroup``, ``DeleteOrderGroup``)::

    POST   /portfolio/orders                 201 {"order": {...}}
    GET    /portfolio/orders                 {"orders": [...], "cursor": "..."}  ticker, status
    POST   /portfolio/orders/batched         201 {"orders": [{"client_order_id", "order", "error"}]}
    DELETE /portfolio/orders/batched         {"orders": [{"order_id", "order", "reduced_by_fp", "error"}]}
    GET    /portfolio/orders/{order_id}      {"order": {...}}
    DELETE /portfolio/orders/{order_id}      {"order": {...}, "reduced_by_fp": "..."}
    GET    /portfolio/fills                  {"fills": [...], "cursor": "..."}   ticker, order_id, min_ts
    GET    /portfolio/positions              {"market_positions": [...], "event_positions": [], "cursor"}
    GET    /portfolio/balance                {"balance": cents, "portfolio_value": cents, "updated_ts"}
    POST   /portfolio/order_groups/create    201 {"order_group_id": "..."}
    DELETE /portfolio/order_groups/{id}      {}

The private-channel messages an order causes go to the account's ``frames_sink`` once the answer
is sent.

Lists page with ``limit`` and an opaque ``cursor``; the last page has ``"cursor": ""``. With a
public key, every request must carry valid Kalshi auth headers signed over its own method and
path (else 401 with Kalshi's own body). Unknown tickers answer 404 ``not_found``; bad parameters 400 ``bad_request``.
:class:`RestFaults` injects 429s, 503s and chosen statuses to exercise clients' retries.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from hadron.venues.kalshi.auth import REST_PREFIX, verify_any
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fake_orders import Answer, Frames, KalshiExchangeAccount

Endpoint = Callable[[Request], Awaitable[Response]]

AUTH_ERROR_BODY: dict[str, Any] = {
    "error": {
        "code": "authentication_error",
        "message": "authentication_error",
        "details": "rpc error: code = Unauthenticated desc = INCORRECT_API_KEY_SIGNATURE",
    }
}
"""Kalshi's 401 body, as captured live (``docs/protocols/kalshi.md#authentication``)."""

RATE_LIMIT_BODY: dict[str, Any] = {"error": "too many requests"}
"""Kalshi's 429 body (a string ``error``; no ``Retry-After``)."""

# REST status filter vocabulary → the market statuses it selects (docs/protocols/kalshi.md#rest)
STATUS_FILTER: dict[str, frozenset[str]] = {
    "unopened": frozenset({"initialized"}),
    "open": frozenset({"active"}),
    "paused": frozenset({"inactive"}),
    "closed": frozenset({"closed", "determined", "disputed", "amended"}),
    "settled": frozenset({"finalized"}),
}

_LIMITS = {"markets": (100, 1000), "trades": (100, 1000), "events": (200, 200)}
"""Per list: (default, maximum) page size."""


@dataclass
class RestFaults:
    """Failures the loopback REST venue injects, counted over every request it receives.

    Attributes:
        rate_limit_every: every Nth request answers 429 ``{"error":"too many requests"}`` with no
            ``Retry-After`` (0: never).
        server_error_every: every Nth request answers 503 (0: never).
        fail_next: statuses to answer the next requests with, in order (consumed).
    """

    rate_limit_every: int = 0
    server_error_every: int = 0
    fail_next: list[int] = field(default_factory=list)
    requests: int = 0
    """Requests seen so far."""

    def fault(self) -> Response | None:
        """Count one request; return the injected failure for it, if any."""
        self.requests += 1
        if self.fail_next:
            return _failure(self.fail_next.pop(0))
        if self.rate_limit_every and self.requests % self.rate_limit_every == 0:
            return _failure(429)
        if self.server_error_every and self.requests % self.server_error_every == 0:
            return _failure(503)
        return None


def _failure(status: int) -> Response:
    if status == 429:
        return JSONResponse(RATE_LIMIT_BODY, status_code=429)
    if status == 401:
        return JSONResponse(AUTH_ERROR_BODY, status_code=401)
    code = "internal_server_error" if status >= 500 else "bad_request"
    return JSONResponse({"error": {"code": code, "message": code.replace("_", " ")}}, status_code=status)


class _BadRequest(Exception):
    pass


def _not_found() -> Response:
    return JSONResponse({"error": {"code": "not_found", "message": "not found"}}, status_code=404)


def _bad_request(message: str) -> Response:
    return JSONResponse({"error": {"code": "bad_request", "message": message}}, status_code=400)


def _int_param(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError as exc:
        raise _BadRequest(f"{name} must be an integer, got {text!r}") from exc


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode("ascii")


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").partition(":")
        offset = int(number)
    except (ValueError, UnicodeError) as exc:
        raise _BadRequest(f"invalid cursor {cursor!r}") from exc
    if prefix != "offset" or offset < 0:
        raise _BadRequest(f"invalid cursor {cursor!r}")
    return offset


def _page(request: Request, kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    default, most = _LIMITS[kind]
    limit = _int_param(request, "limit", default) or default
    if not 0 < limit <= most:
        raise _BadRequest(f"limit must be within 1..{most}, got {limit}")
    offset = _decode_cursor(request.query_params.get("cursor", ""))
    end = offset + limit
    return {kind: items[offset:end], "cursor": _encode_cursor(end) if end < len(items) else ""}


def _status_filter(request: Request) -> frozenset[str] | None:
    status = request.query_params.get("status", "")
    if not status:
        return None
    if status not in STATUS_FILTER:
        raise _BadRequest(f"status must be one of {', '.join(STATUS_FILTER)}, got {status!r}")
    return STATUS_FILTER[status]


def _iso_ms(ms: int) -> str:
    stamp = datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _RestVenue:
    """The endpoints, over one exchange; each returns Kalshi's JSON shapes."""

    def __init__(self, exchange: FakeExchange, public_keys: Sequence[RSAPublicKey], faults: RestFaults | None) -> None:
        self.exchange = exchange
        self.public_keys = list(public_keys)
        self.faults = faults

    def guarded(self, endpoint: Endpoint) -> Endpoint:
        async def handler(request: Request) -> Response:
            if self.faults is not None and (injected := self.faults.fault()) is not None:
                return injected
            if self.public_keys and verify_any(self.public_keys, request.headers, request.method, request.url.path):
                return JSONResponse(AUTH_ERROR_BODY, status_code=401)
            try:
                return await endpoint(request)
            except _BadRequest as exc:
                return _bad_request(str(exc))

        return handler

    def series_of(self, market: dict[str, Any]) -> str:
        event = self.exchange.events.get(market.get("event_ticker", ""), {})
        return str(event.get("series_ticker", ""))

    def markets_of(self, event_ticker: str) -> list[dict[str, Any]]:
        return [m for m in self.exchange.markets.values() if m.get("event_ticker") == event_ticker]

    def event_body(self, event: dict[str, Any], nested: bool) -> dict[str, Any]:
        return dict(event, markets=self.markets_of(event["event_ticker"])) if nested else event

    async def markets(self, request: Request) -> Response:
        statuses = _status_filter(request)
        event_ticker = request.query_params.get("event_ticker", "")
        series_ticker = request.query_params.get("series_ticker", "")
        tickers = {t for t in request.query_params.get("tickers", "").split(",") if t}
        selected = [
            m
            for m in self.exchange.markets.values()
            if (statuses is None or m.get("status") in statuses)
            and (not event_ticker or m.get("event_ticker") == event_ticker)
            and (not series_ticker or self.series_of(m) == series_ticker)
            and (not tickers or m["ticker"] in tickers)
        ]
        return JSONResponse(_page(request, "markets", selected))

    async def market(self, request: Request) -> Response:
        record = self.exchange.markets.get(request.path_params["ticker"])
        return _not_found() if record is None else JSONResponse({"market": record})

    async def orderbook(self, request: Request) -> Response:
        ticker = request.path_params["ticker"]
        if ticker not in self.exchange.markets and ticker not in self.exchange.books:
            return _not_found()
        depth = _int_param(request, "depth", 0)
        if not 0 <= depth <= 100:
            raise _BadRequest(f"depth must be within 0..100, got {depth}")
        book = self.exchange.books.get(ticker)
        wire = book.wire(depth) if book is not None else {}
        levels = {"yes_dollars": wire.get("yes_dollars_fp", []), "no_dollars": wire.get("no_dollars_fp", [])}
        return JSONResponse({"orderbook_fp": levels})

    async def trades(self, request: Request) -> Response:
        ticker = request.query_params.get("ticker", "")
        low = _int_param(request, "min_ts", 0) * 1000
        high = _int_param(request, "max_ts", 0) * 1000
        selected = [
            dict(trade, created_time=_iso_ms(int(trade.get("created_time_ms", 0))))
            for trade in reversed(self.exchange.trades)
            if (not ticker or trade.get("ticker") == ticker)
            and (not low or int(trade.get("created_time_ms", 0)) >= low)
            and (not high or int(trade.get("created_time_ms", 0)) <= high)
        ]
        return JSONResponse(_page(request, "trades", selected))

    async def events(self, request: Request) -> Response:
        statuses = _status_filter(request)
        series_ticker = request.query_params.get("series_ticker", "")
        nested = _flag(request, "with_nested_markets")
        selected = [
            self.event_body(event, nested)
            for event in self.exchange.events.values()
            if (not series_ticker or event.get("series_ticker") == series_ticker)
            and (statuses is None or any(m.get("status") in statuses for m in self.markets_of(event["event_ticker"])))
        ]
        return JSONResponse(_page(request, "events", selected))

    async def event(self, request: Request) -> Response:
        record = self.exchange.events.get(request.path_params["event_ticker"])
        if record is None:
            return _not_found()
        body = self.event_body(record, _flag(request, "with_nested_markets"))
        return JSONResponse({"event": body, "markets": self.markets_of(record["event_ticker"])})

    async def series(self, request: Request) -> Response:
        record = self.exchange.series.get(request.path_params["series_ticker"])
        return _not_found() if record is None else JSONResponse({"series": record})

    async def exchange_status(self, request: Request) -> Response:
        return JSONResponse({"exchange_active": True, "trading_active": True, "exchange_estimated_resume_time": None})


class _Portfolio:
    """The portfolio endpoints over one exchange account (each answer's private messages are sent
    after the response, through the account's ``frames_sink``)."""

    def __init__(self, account: KalshiExchangeAccount) -> None:
        self.account = account

    def _respond(self, answer: Answer | tuple[int, dict[str, Any]]) -> Response:
        status, body = answer[0], answer[1]
        frames = answer[2] if len(answer) == 3 else []
        task = BackgroundTask(self._play, frames) if frames else None
        return JSONResponse(body, status_code=status, background=task)

    async def _play(self, frames: Frames) -> None:
        # On the event loop (a plain function would run in a worker thread): the venue's queues
        if self.account.frames_sink is not None:
            self.account.frames_sink(frames)

    async def _json(self, request: Request) -> Any:
        body = await request.body()
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError as exc:
            raise _BadRequest(f"the body is not JSON: {exc}") from exc

    async def orders(self, request: Request) -> Response:
        if request.method == "POST":
            return self._respond(await self.account.create_order(await self._json(request)))
        return self._respond(self.account.get_orders(request.query_params))

    async def batched(self, request: Request) -> Response:
        body = await self._json(request)
        if request.method == "POST":
            return self._respond(await self.account.batch_create(body))
        return self._respond(await self.account.batch_cancel(body))

    async def order(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        if request.method == "DELETE":
            return self._respond(await self.account.cancel_order(order_id))
        return self._respond(self.account.get_order(order_id))

    async def fills(self, request: Request) -> Response:
        return self._respond(self.account.get_fills(request.query_params))

    async def positions(self, request: Request) -> Response:
        return self._respond(self.account.get_positions(request.query_params))

    async def balance(self, request: Request) -> Response:
        return self._respond(self.account.get_balance())

    async def create_group(self, request: Request) -> Response:
        return self._respond(await self.account.create_order_group(await self._json(request)))

    async def delete_group(self, request: Request) -> Response:
        return self._respond(await self.account.delete_order_group(request.path_params["order_group_id"]))


def build_rest_app(
    exchange: FakeExchange,
    *,
    public_key: RSAPublicKey | Sequence[RSAPublicKey] | None,
    faults: RestFaults | None = None,
    account: KalshiExchangeAccount | None = None,
) -> Starlette:
    """Return the loopback venue's REST app serving ``exchange`` under ``/trade-api/v2``.

    Args:
        exchange: the market state to serve (read at each request, so it may change under the app).
        public_key: when given (one key or several), every request must be signed by the
            private key of one of them (Kalshi's RSA-PSS headers over ``timestamp + METHOD +
            path``, the request's own method); else no auth is checked.
        faults: failures to inject (429s, 503s, chosen statuses), checked before auth.
        account: the exchange account taking orders (the portfolio routes); ``None``: market data
            only.
    """
    keys = [] if public_key is None else [public_key] if isinstance(public_key, RSAPublicKey) else list(public_key)
    venue = _RestVenue(exchange, keys, faults)
    routes = [
        Route("/markets", venue.guarded(venue.markets)),
        Route("/markets/trades", venue.guarded(venue.trades)),
        Route("/markets/{ticker}", venue.guarded(venue.market)),
        Route("/markets/{ticker}/orderbook", venue.guarded(venue.orderbook)),
        Route("/events", venue.guarded(venue.events)),
        Route("/events/{event_ticker}", venue.guarded(venue.event)),
        Route("/series/{series_ticker}", venue.guarded(venue.series)),
        Route("/exchange/status", venue.guarded(venue.exchange_status)),
    ]
    if account is not None:
        book = _Portfolio(account)
        routes += [
            Route("/portfolio/orders", venue.guarded(book.orders), methods=["GET", "POST"]),
            Route("/portfolio/orders/batched", venue.guarded(book.batched), methods=["POST", "DELETE"]),
            Route("/portfolio/orders/{order_id}", venue.guarded(book.order), methods=["GET", "DELETE"]),
            Route("/portfolio/fills", venue.guarded(book.fills)),
            Route("/portfolio/positions", venue.guarded(book.positions)),
            Route("/portfolio/balance", venue.guarded(book.balance)),
            Route("/portfolio/order_groups/create", venue.guarded(book.create_group), methods=["POST"]),
            Route("/portfolio/order_groups/{order_group_id}", venue.guarded(book.delete_group), methods=["DELETE"]),
        ]
    return Starlette(routes=[Mount(REST_PREFIX, routes=routes)])
