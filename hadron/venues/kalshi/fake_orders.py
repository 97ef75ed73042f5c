"""The loopback Kalshi exchange: an account that takes Hadron's live orders and matches them
against the book the loopback venue replays.

:class:`KalshiExchangeAccount` holds the account (cash from ``ExchangeOptions.cash``, positions,
orders by id and by ``client_order_id``, fills, order groups) and answers the portfolio REST
requests of :func:`hadron.venues.kalshi.fake_rest.build_rest_app` in Kalshi's shapes (OpenAPI
v3.13.0 ``Order``, ``Fill``, ``MarketPosition``, ``GetBalanceResponse``, the batch answers). Each
write waits ``ExchangeOptions.latency_ms`` before it answers; the private-channel messages it
causes (``user_order``, ``fill``, ``market_position``: the builders of
:mod:`hadron.venues.kalshi.fake_account`) go out after the answer through :attr:`frames_sink`.

Matching: an order is a taker at arrival against the replayed book
(:class:`~hadron.venues.kalshi.fake_exchange.FakeBook`, YES and NO bid ladders). Buying YES takes
the NO bids as YES asks at ``1 − p``; buying NO takes the YES bids as NO asks at ``1 − p``; selling
YES hits the YES bids; selling NO hits the NO bids; best price first, at the book's prices up to
the limit (in the order's outcome terms), level by level (partial fills). ``immediate_or_cancel``
cancels the rest, ``fill_or_kill`` fills all or nothing, ``good_till_canceled`` (the default, as on
Kalshi) rests the rest (a resting order is not matched later; it can be cancelled). Liquidity taken
is remembered per level and not offered again until the replay changes that level: the replayed
book itself is never modified, so the WebSocket stream stays the capture's.

Money: cash int 1/1,000,000 USD; prices int 1/10,000 USD; sizes int 1/1,000,000 contract (orders
in whole 0.01 contracts). Positions are signed +YES/−NO and netted as Kalshi nets them: buying
NO against a YES position closes it, paying out ``1 − p`` per contract. The taker fee of each fill
is Kalshi's (:func:`hadron.venues.kalshi.fees.taker_fee`, rounded up to the cent).

Refusals, with Kalshi's HTTP statuses (``docs/protocols/kalshi.md#orders``): 429
``{"error": "too many requests"}`` past ``ExchangeOptions.max_orders_per_s`` (orders created in
the last second, a batch counting each order); 409 ``order_already_exists`` for a
``client_order_id`` already used; 404 ``market_not_found``; 400 ``invalid_parameters`` (count ≤
0 or finer than 0.01, no price or both, a bad side, action, type or time in force),
``invalid_price`` (not on the market's tick, or outside (0, 1)), ``insufficient_balance`` (cost +
fee at the limit beyond the free cash), ``market_closed`` (market not active),
``order_group_not_found``/``order_group_triggered``. In a batch the refusal is that order's
``error``; the others go on.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog

from hadron.errors import DecodeError
from hadron.model.account import CASH_SCALE
from hadron.model.units import PRICE_ONE, format_price, format_size, parse_price, parse_size
from hadron.venues.base import ExchangeOptions
from hadron.venues.kalshi.fake_account import fill_msg, position_msg, user_order_msg
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fees import taker_fee

log = structlog.get_logger("hadron.kalshi.fake_orders")

Frames = list[tuple[str, dict[str, Any]]]
"""Private-channel messages ``(channel, msg)`` (``user_orders``, ``fill``, ``market_positions``)."""
Answer = tuple[int, dict[str, Any], Frames]
"""A REST answer: HTTP status, JSON body, and the private messages to send after it."""

RATE_LIMIT_BODY: dict[str, Any] = {"error": "too many requests"}
"""Kalshi's 429 body (a string ``error``; no ``Retry-After``)."""
MAX_BATCH = 20
"""Orders in one batch create or cancel (OpenAPI ``BatchCreateOrders``/``BatchCancelOrders``)."""
SIZE_STEP = 10_000
"""Kalshi counts to 0.01 contract (OpenAPI ``FixedPointCount``)."""
DEFAULT_TICK = 100
"""One cent, 1/10,000 USD: the tick of a market without ``price_ranges``."""
GROUP_WINDOW_S = 15.0
"""An order group's contracts limit counts matches over a rolling 15 s (OpenAPI ``CreateOrderGroup``)."""
TIF_NAMES = frozenset({"immediate_or_cancel", "fill_or_kill", "good_till_canceled"})


def _cash(size: int, price: int) -> int:
    # size (1/1e6) × price (1/1e4) → cash (1/1e6 USD); exact for sizes in whole 0.01 contracts
    return size * price // 10_000


def dollars(cash: int) -> str:
    """Cash (1/1,000,000 USD) as a dollar string with 4 to 6 decimals: ``"0.4800"``, ``"0.000150"``."""
    sign = "-" if cash < 0 else ""
    whole, frac = divmod(abs(cash), CASH_SCALE)
    digits = f"{frac:06d}"
    digits = digits[:4] if digits[4:] == "00" else digits
    return f"{sign}{whole}.{digits}"


def _iso(ms: int) -> str:
    # Unix ms → RFC 3339 with milliseconds, exact (no float)
    stamp = datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def error(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def _error_body(exc: _Refused) -> dict[str, Any]:
    return RATE_LIMIT_BODY if exc.status == 429 else {"error": exc.error()}


@dataclass
class FakeOrder:
    """One order the loopback exchange took. ``price``: the limit in the order's outcome terms
    (1/10,000 USD); ``count``/``filled``: 1/1,000,000 contract; ``taker_cost``/``taker_fees``/
    ``reserved``: cash, 1/1,000,000 USD; times Unix ms."""

    order_id: str
    client_order_id: str
    ticker: str
    side: str
    action: str
    price: int
    count: int
    tif: str
    created_ms: int
    filled: int = 0
    status: str = "resting"
    updated_ms: int = 0
    taker_cost: int = 0
    taker_fees: int = 0
    reserved: int = 0
    order_group_id: str = ""

    @property
    def remaining(self) -> int:
        """What is still working (0 once executed or canceled)."""
        return self.count - self.filled if self.status == "resting" else 0

    @property
    def yes_price(self) -> int:
        """The limit in YES terms."""
        return self.price if self.side == "yes" else PRICE_ONE - self.price

    @property
    def outcome_side(self) -> str:
        """The exposure (AsyncAPI ``outcome_side``): buy-YES and sell-NO are ``yes``."""
        return self.side if self.action == "buy" else ("no" if self.side == "yes" else "yes")

    def wire(self) -> dict[str, Any]:
        """OpenAPI ``Order``."""
        return {
            "order_id": self.order_id,
            "user_id": "fake-user",
            "client_order_id": self.client_order_id,
            "ticker": self.ticker,
            "side": self.side,
            "action": self.action,
            "type": "limit",
            "status": self.status,
            "yes_price_dollars": format_price(self.yes_price),
            "no_price_dollars": format_price(PRICE_ONE - self.yes_price),
            "fill_count_fp": format_size(self.filled),
            "remaining_count_fp": format_size(self.remaining),
            "initial_count_fp": format_size(self.count),
            "taker_fill_cost_dollars": dollars(self.taker_cost),
            "maker_fill_cost_dollars": "0.0000",
            "taker_fees_dollars": dollars(self.taker_fees),
            "maker_fees_dollars": "0.0000",
            "expiration_time": None,
            "created_time": _iso(self.created_ms),
            "last_update_time": _iso(self.updated_ms or self.created_ms),
            "self_trade_prevention_type": None,
            "order_group_id": self.order_group_id or None,
            "cancel_order_on_pause": False,
        }

    def user_order(self) -> tuple[str, dict[str, Any]]:
        """The ``user_orders`` message of the order as it is now (AsyncAPI ``userOrder``)."""
        extra: dict[str, Any] = {
            "side": self.side,
            "is_yes": self.side == "yes",
            "taker_fill_cost_dollars": dollars(self.taker_cost),
            "maker_fill_cost_dollars": "0.0000",
            "taker_fees_dollars": dollars(self.taker_fees),
            "maker_fees_dollars": "0.0000",
            "created_time": _iso(self.created_ms),
        }
        if self.order_group_id:
            extra["order_group_id"] = self.order_group_id
        msg = user_order_msg(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            ticker=self.ticker,
            outcome_side=self.outcome_side,
            yes_price=format_price(self.yes_price),
            status=self.status,
            initial=format_size(self.count),
            filled=format_size(self.filled),
            remaining=format_size(self.remaining),
            created_ms=self.created_ms,
            updated_ms=self.updated_ms or self.created_ms,
            extra=extra,
        )
        return "user_orders", msg


@dataclass(frozen=True)
class FakeFill:
    """One execution: ``price`` in the order's outcome terms, ``yes_price`` in YES terms
    (1/10,000 USD), ``count`` 1/1,000,000 contract, ``fee`` cash (1/1,000,000 USD), ``ts_ms``."""

    fill_id: str
    order_id: str
    client_order_id: str
    ticker: str
    side: str
    action: str
    price: int
    yes_price: int
    count: int
    fee: int
    ts_ms: int
    post_position: int

    def wire(self) -> dict[str, Any]:
        """OpenAPI ``Fill``."""
        return {
            "fill_id": self.fill_id,
            "trade_id": self.fill_id,
            "order_id": self.order_id,
            "ticker": self.ticker,
            "market_ticker": self.ticker,
            "side": self.side,
            "action": self.action,
            "count_fp": format_size(self.count),
            "yes_price_dollars": format_price(self.yes_price),
            "no_price_dollars": format_price(PRICE_ONE - self.yes_price),
            "is_taker": True,
            "created_time": _iso(self.ts_ms),
            "fee_cost": dollars(self.fee),
            "ts": self.ts_ms // 1000,
        }


@dataclass
class Holding:
    """One market's position: ``position`` signed +YES/−NO (1/1,000,000 contract); ``cost`` the
    cost basis of what is held, ``realized`` and ``fees`` cash (1/1,000,000 USD); ``volume``
    contracts traded; ``updated_ms``."""

    position: int = 0
    cost: int = 0
    realized: int = 0
    fees: int = 0
    volume: int = 0
    traded: int = 0
    updated_ms: int = 0

    def wire(self, ticker: str) -> dict[str, Any]:
        """OpenAPI ``MarketPosition``."""
        return {
            "ticker": ticker,
            "total_traded_dollars": dollars(self.traded),
            "position_fp": format_size(self.position),
            "market_exposure_dollars": dollars(self.cost),
            "realized_pnl_dollars": dollars(self.realized),
            "resting_orders_count": 0,
            "fees_paid_dollars": dollars(self.fees),
            "last_updated_ts": _iso(self.updated_ms) if self.updated_ms else _iso(0),
        }


def _cash_change(position: int, delta: int, yes_price: int) -> tuple[int, int, int]:
    """What trading ``delta`` (signed, +YES) at ``yes_price`` does from ``position``: return
    ``(cash change, closed contracts, opened contracts)``. Closing YES by selling receives the YES
    price; closing NO by buying YES receives ``1 − p``; opening pays ``p`` (YES) or ``1 − p`` (NO)."""
    if delta > 0:
        closed = min(delta, max(-position, 0))
        opened = delta - closed
        return _cash(closed, PRICE_ONE - yes_price) - _cash(opened, yes_price), closed, opened
    size = -delta
    closed = min(size, max(position, 0))
    opened = size - closed
    return _cash(closed, yes_price) - _cash(opened, PRICE_ONE - yes_price), closed, opened


@dataclass
class OrderGroup:
    """An order group: ``limit`` whole contracts matched per rolling 15 s; ``matches`` the
    ``(monotonic s, contracts)`` within the window; ``triggered`` once the limit was hit."""

    group_id: str
    limit: int
    matches: deque[tuple[float, int]] = field(default_factory=deque)
    triggered: bool = False


class KalshiExchangeAccount:
    """The loopback Kalshi exchange's one account (see the module docstring).

    Args:
        exchange: the replayed market state (books and market records), read at each order.
        options: cash, starting positions, latency and the order rate limit.
        clock: Unix seconds (the venue's times). monotonic: seconds for the rate window.

    Raises:
        ConfigError: never; a bad ``options.cash`` or position string raises ``DecodeError``.
    """

    def __init__(
        self,
        exchange: FakeExchange,
        options: ExchangeOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.options = options or ExchangeOptions()
        self._clock = clock
        self._monotonic = monotonic
        self.cash = _parse_decimal(self.options.cash, CASH_SCALE, "cash")
        """Cash, 1/1,000,000 USD (resting orders' reservations included)."""
        self.holdings: dict[str, Holding] = {}
        for ticker, size in self.options.positions.items():
            self.holdings[ticker] = Holding(position=_parse_decimal(size, 1_000_000, f"position of {ticker}"))
        self.orders: dict[str, FakeOrder] = {}
        """Every order by venue id."""
        self.by_client: dict[str, str] = {}
        """``client_order_id`` → venue order id."""
        self.fills: list[FakeFill] = []
        """Every fill, oldest first."""
        self.groups: dict[str, OrderGroup] = {}
        self.frames_sink: Callable[[Frames], int] | None = None
        """Where the private-channel messages go (the WebSocket venue's ``play_private``)."""
        self.refused: dict[str, int] = {}
        """Refusals by code (``rate_limited`` for 429s)."""
        self._recent: deque[float] = deque()
        self._taken: dict[tuple[str, str, int], tuple[int, int]] = {}
        self._ids = itertools.count(1)

    # -- views for tests and reports --------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        """Signed positions by market ticker, 1/1,000,000 contract (+YES/−NO; zeros left out)."""
        return {t: h.position for t, h in self.holdings.items() if h.position}

    def open_orders(self) -> list[dict[str, Any]]:
        """The resting orders, as OpenAPI ``Order`` objects."""
        return [o.wire() for o in self.orders.values() if o.status == "resting"]

    @property
    def reserved(self) -> int:
        """Cash held for resting orders, 1/1,000,000 USD."""
        return sum(o.reserved for o in self.orders.values() if o.status == "resting")

    @property
    def free_cash(self) -> int:
        """Cash available for new orders, 1/1,000,000 USD."""
        return self.cash - self.reserved

    def balance_cents(self) -> int:
        """``GetBalance.balance``: the free cash in whole cents (rounded down)."""
        return self.free_cash // 10_000

    # -- plumbing ---------------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _latency(self) -> None:
        if self.options.latency_ms > 0:
            await asyncio.sleep(self.options.latency_ms / 1000)

    def _rate_check(self, orders: int) -> None:
        limit = self.options.max_orders_per_s
        if limit <= 0:
            return
        now = self._monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) + orders > limit:
            raise _Refused(429, "rate_limited", "too many requests")
        self._recent.extend([now] * orders)

    def _refuse(self, exc: _Refused) -> None:
        self.refused[exc.code] = self.refused.get(exc.code, 0) + 1

    def _tick(self, ticker: str) -> int:
        ranges = self.exchange.markets.get(ticker, {}).get("price_ranges") or []
        steps = []
        for band in ranges:
            try:
                steps.append(parse_price(str(band.get("step", ""))))
            except (DecodeError, AttributeError):
                continue
        steps = [s for s in steps if s > 0]
        return min(steps) if steps else DEFAULT_TICK

    # -- the book view ----------------------------------------------------------------------------

    def _available(self, ticker: str, ladder: str, price: int, size: int) -> int:
        record = self._taken.get((ticker, ladder, price))
        if record is None:
            return size
        if record[0] != size:  # the replay changed the level: its liquidity is new
            del self._taken[(ticker, ladder, price)]
            return size
        return max(size - record[1], 0)

    def _take(self, ticker: str, ladder: str, price: int, size: int, amount: int) -> None:
        record = self._taken.get((ticker, ladder, price))
        taken = record[1] if record is not None and record[0] == size else 0
        self._taken[(ticker, ladder, price)] = (size, taken + amount)

    def _levels(self, ticker: str, side: str, action: str) -> list[tuple[int, str, int, int]]:
        """``(price in the order's terms, ladder, ladder price, size available)``, best first."""
        book = self.exchange.books.get(ticker)
        if book is None:
            return []
        buy = action == "buy"
        name = ("no" if side == "yes" else "yes") if buy else side
        ladder = book.yes if name == "yes" else book.no
        out = []
        for price in sorted(ladder, reverse=True):  # best bid first
            size = self._available(ticker, name, price, ladder[price])
            if size > 0:
                out.append((PRICE_ONE - price if buy else price, name, price, size))
        return out

    # -- orders -----------------------------------------------------------------------------------

    def _parse(self, body: Any) -> FakeOrder:
        # A CreateOrderRequest → an order, not yet matched; _Refused if invalid
        if not isinstance(body, dict):
            raise _Refused(400, "invalid_parameters", "the order must be a JSON object")
        ticker = body.get("ticker")
        if not isinstance(ticker, str) or not ticker:
            raise _Refused(400, "invalid_parameters", "ticker is required")
        if ticker not in self.exchange.markets and ticker not in self.exchange.books:
            raise _Refused(404, "market_not_found", f"market {ticker} not found")
        side, action, tif = _direction(body)
        count = _count(body)
        price = _price(body, side)
        tick = self._tick(ticker)
        if not 0 < price < PRICE_ONE or price % tick:
            raise _Refused(400, "invalid_price", f"price {format_price(price)} is not on the market's grid")
        if self.exchange.markets.get(ticker, {}).get("status", "active") != "active":
            raise _Refused(400, "market_closed", f"market {ticker} is not open for trading")
        client_id = body.get("client_order_id") or ""
        if not isinstance(client_id, str):
            raise _Refused(400, "invalid_parameters", "client_order_id must be a string")
        if client_id and client_id in self.by_client:
            raise _Refused(409, "order_already_exists", f"an order with client_order_id {client_id} exists")
        group_id = self._group_of(body)
        now = self._now_ms()
        order = FakeOrder(order_id=str(uuid.uuid4()), client_order_id=client_id, ticker=ticker, side=side,
                          action=action, price=price, count=count, tif=tif, created_ms=now, updated_ms=now,
                          order_group_id=group_id)  # fmt: skip
        return order

    def _group_of(self, body: dict[str, Any]) -> str:
        group_id = body.get("order_group_id") or ""
        if not isinstance(group_id, str):
            raise _Refused(400, "invalid_parameters", "order_group_id must be a string")
        if group_id:
            group = self.groups.get(group_id)
            if group is None:
                raise _Refused(404, "order_group_not_found", f"order group {group_id} not found")
            if group.triggered:
                raise _Refused(400, "order_group_triggered", f"order group {group_id} hit its contracts limit")
        return group_id

    def _check_balance(self, order: FakeOrder) -> None:
        holding = self.holdings.get(order.ticker, Holding())
        delta = order.count if order.outcome_side == "yes" else -order.count
        change, _, _ = _cash_change(holding.position, delta, order.yes_price)
        fee = taker_fee(order.count, order.price) * 100
        need = -change + fee
        if need > self.free_cash:
            raise _Refused(
                400, "insufficient_balance",
                f"the order needs {dollars(need)} USD at its limit; {dollars(self.free_cash)} USD is free",
            )  # fmt: skip

    def _match(self, order: FakeOrder) -> Frames:
        # Take the book at arrival; return the private messages (fills, the order, the position)
        levels = [lv for lv in self._levels(order.ticker, order.side, order.action)
                  if (lv[0] <= order.price if order.action == "buy" else lv[0] >= order.price)]  # fmt: skip
        if order.tif == "fill_or_kill" and sum(lv[3] for lv in levels) < order.count:
            levels = []  # not all of it: nothing
        frames: Frames = []
        holding = self.holdings.setdefault(order.ticker, Holding())
        book = self.exchange.books.get(order.ticker)
        for own_price, ladder, ladder_price, size in levels:
            want = order.count - order.filled
            if want <= 0:
                break
            take = min(want, size)
            if book is not None:
                self._take(order.ticker, ladder, ladder_price, (book.yes if ladder == "yes" else book.no)[ladder_price],
                           take)  # fmt: skip
            frames.append(self._fill(order, holding, own_price, take))
        now = self._now_ms()
        order.updated_ms = now
        if order.filled >= order.count:
            order.status = "executed"
        elif order.tif != "good_till_canceled":
            order.status = "canceled"
        else:
            delta = order.remaining if order.outcome_side == "yes" else -order.remaining
            order.reserved = max(-_cash_change(holding.position, delta, order.yes_price)[0], 0)
        frames.append(order.user_order())
        if order.filled:
            frames.append(("market_positions", self._position_msg(order.ticker, holding)))
            self._group_matched(order)
        return frames

    def _fill(self, order: FakeOrder, holding: Holding, own_price: int, size: int) -> tuple[str, dict[str, Any]]:
        yes_price = own_price if order.side == "yes" else PRICE_ONE - own_price
        delta = size if order.outcome_side == "yes" else -size
        change, closed, opened = _cash_change(holding.position, delta, yes_price)
        fee = taker_fee(size, own_price) * 100
        if closed and holding.position:
            released = holding.cost * closed // abs(holding.position)
            proceeds = change + _cash(opened, yes_price if delta > 0 else PRICE_ONE - yes_price)
            holding.realized += proceeds - released
            holding.cost -= released
        holding.cost += _cash(opened, yes_price if delta > 0 else PRICE_ONE - yes_price)
        holding.position += delta
        holding.fees += fee
        holding.volume += size
        holding.traded += _cash(size, own_price)
        self.cash += change - fee
        order.filled += size
        order.taker_cost += _cash(size, own_price)
        order.taker_fees += fee
        now = self._now_ms()
        holding.updated_ms = now
        fill = FakeFill(fill_id=str(uuid.uuid4()), order_id=order.order_id, client_order_id=order.client_order_id,
                        ticker=order.ticker, side=order.side, action=order.action, price=own_price,
                        yes_price=yes_price, count=size, fee=fee, ts_ms=now,
                        post_position=holding.position)  # fmt: skip
        self.fills.append(fill)
        msg = fill_msg(
            trade_id=fill.fill_id, order_id=order.order_id, client_order_id=order.client_order_id,
            ticker=order.ticker, outcome_side=order.outcome_side, yes_price=format_price(yes_price),
            count=format_size(size), fee=dollars(fee), post_position=format_size(holding.position), ts_ms=now,
            extra={"side": order.side, "action": order.action, "purchased_side": order.outcome_side,
                   "ts": now // 1000, "exchange_index": 0},
        )  # fmt: skip
        return "fill", msg

    def _position_msg(self, ticker: str, holding: Holding) -> dict[str, Any]:
        return position_msg(ticker=ticker, position=format_size(holding.position), cost=dollars(holding.cost),
                            fees=dollars(holding.fees), volume=format_size(holding.volume),
                            realized_pnl=dollars(holding.realized))  # fmt: skip

    def _group_matched(self, order: FakeOrder) -> None:
        group = self.groups.get(order.order_group_id) if order.order_group_id else None
        if group is None:
            return
        now = self._monotonic()
        group.matches.append((now, order.filled))
        while group.matches and now - group.matches[0][0] > GROUP_WINDOW_S:
            group.matches.popleft()
        if sum(c for _, c in group.matches) >= group.limit * 1_000_000:
            group.triggered = True
            for other in self.orders.values():
                if other.order_group_id == group.group_id and other.status == "resting":
                    other.status, other.reserved, other.updated_ms = "canceled", 0, self._now_ms()

    def _create(self, body: Any) -> tuple[FakeOrder, Frames]:
        order = self._parse(body)
        self._check_balance(order)
        self.orders[order.order_id] = order
        if order.client_order_id:
            self.by_client[order.client_order_id] = order.order_id
        frames = self._match(order)
        log.info("loopback order", order_id=order.order_id, client_order_id=order.client_order_id,
                 ticker=order.ticker, side=order.side, action=order.action, status=order.status,
                 filled=order.filled, count=order.count)  # fmt: skip
        return order, frames

    async def create_order(self, body: Any) -> Answer:
        """``POST /portfolio/orders`` (OpenAPI ``CreateOrder``): 201 ``{"order": Order}``."""
        try:
            self._rate_check(1)
            order, frames = self._create(body)
        except _Refused as exc:
            self._refuse(exc)
            await self._latency()
            return exc.status, _error_body(exc), []
        await self._latency()
        return 201, {"order": order.wire()}, frames

    async def batch_create(self, body: Any) -> Answer:
        """``POST /portfolio/orders/batched`` (OpenAPI ``BatchCreateOrders``): 201 ``{"orders":
        [{client_order_id, order, error}]}``, one item per order, each refused on its own."""
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list) or not orders or len(orders) > MAX_BATCH:
            await self._latency()
            return 400, {"error": {"code": "invalid_parameters",
                                   "message": f"orders must be a list of 1 to {MAX_BATCH}"}}, []  # fmt: skip
        try:
            self._rate_check(len(orders))
        except _Refused as exc:
            self._refuse(exc)
            await self._latency()
            return exc.status, _error_body(exc), []
        items: list[dict[str, Any]] = []
        frames: Frames = []
        for item in orders:
            client_id = item.get("client_order_id") if isinstance(item, dict) else None
            try:
                order, more = self._create(item)
            except _Refused as exc:
                self._refuse(exc)
                items.append({"client_order_id": client_id, "order": None, "error": exc.error()})
                continue
            frames.extend(more)
            items.append({"client_order_id": client_id, "order": order.wire(), "error": None})
        await self._latency()
        return 201, {"orders": items}, frames

    def _cancel(self, order_id: str) -> tuple[FakeOrder, int]:
        order = self.orders.get(order_id)
        if order is None:
            raise _Refused(404, "not_found", f"order {order_id} not found")
        if order.status != "resting":
            raise _Refused(404, "not_found", f"order {order_id} is {order.status}: nothing to cancel")
        reduced = order.remaining
        order.status, order.reserved, order.updated_ms = "canceled", 0, self._now_ms()
        return order, reduced

    async def cancel_order(self, order_id: str) -> Answer:
        """``DELETE /portfolio/orders/{order_id}`` (OpenAPI ``CancelOrder``): 200 ``{"order",
        "reduced_by_fp"}``; 404 ``not_found`` for an order unknown or no longer resting."""
        try:
            order, reduced = self._cancel(order_id)
        except _Refused as exc:
            self._refuse(exc)
            await self._latency()
            return exc.status, _error_body(exc), []
        await self._latency()
        return 200, {"order": order.wire(), "reduced_by_fp": format_size(reduced)}, [order.user_order()]

    async def batch_cancel(self, body: Any) -> Answer:
        """``DELETE /portfolio/orders/batched`` (OpenAPI ``BatchCancelOrders``): 200 ``{"orders":
        [{order_id, order, reduced_by_fp, error}]}`` (``orders`` items, or the deprecated ``ids``)."""
        items = body.get("orders") if isinstance(body, dict) else None
        raw: list[Any] | None = (
            [i.get("order_id") for i in items if isinstance(i, dict)] if isinstance(items, list) else None
        )
        if raw is None and isinstance(body, dict) and isinstance(body.get("ids"), list):
            raw = body["ids"]
        ids = [i for i in raw or [] if isinstance(i, str)]
        if not ids or len(ids) > MAX_BATCH or len(ids) != len(raw or []):
            await self._latency()
            return 400, {"error": {"code": "invalid_parameters",
                                   "message": f"orders must list 1 to {MAX_BATCH} order ids"}}, []  # fmt: skip
        out: list[dict[str, Any]] = []
        frames: Frames = []
        for order_id in ids:
            try:
                order, reduced = self._cancel(order_id)
            except _Refused as exc:
                self._refuse(exc)
                out.append({"order_id": order_id, "order": None, "reduced_by_fp": "0.00", "error": exc.error()})
                continue
            frames.append(order.user_order())
            out.append({"order_id": order_id, "order": order.wire(), "reduced_by_fp": format_size(reduced),
                        "error": None})  # fmt: skip
        await self._latency()
        return 200, {"orders": out}, frames

    async def create_order_group(self, body: Any) -> Answer:
        """``POST /portfolio/order_groups/create`` (OpenAPI ``CreateOrderGroup``): 201
        ``{"order_group_id"}``; ``contracts_limit`` (or ``contracts_limit_fp``) ≥ 1 whole contract."""
        limit = body.get("contracts_limit") if isinstance(body, dict) else None
        if limit is None and isinstance(body, dict) and isinstance(body.get("contracts_limit_fp"), str):
            try:
                limit = int(Decimal(body["contracts_limit_fp"]))
            except InvalidOperation:
                limit = None
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            await self._latency()
            return 400, {"error": {"code": "invalid_parameters", "message": "contracts_limit must be ≥ 1"}}, []
        group = OrderGroup(f"og-{next(self._ids)}", limit)
        self.groups[group.group_id] = group
        await self._latency()
        return 201, {"order_group_id": group.group_id}, []

    async def delete_order_group(self, group_id: str) -> Answer:
        """``DELETE /portfolio/order_groups/{order_group_id}`` (OpenAPI ``DeleteOrderGroup``): its
        resting orders are cancelled, the group removed; 200 ``{}``, 404 when unknown."""
        group = self.groups.pop(group_id, None)
        await self._latency()
        if group is None:
            return 404, {"error": {"code": "not_found", "message": f"order group {group_id} not found"}}, []
        frames: Frames = []
        for order in self.orders.values():
            if order.order_group_id == group_id and order.status == "resting":
                order.status, order.reserved, order.updated_ms = "canceled", 0, self._now_ms()
                frames.append(order.user_order())
        return 200, {}, frames

    # -- reads ------------------------------------------------------------------------------------

    def get_orders(self, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``GET /portfolio/orders`` (OpenAPI ``GetOrders``): ``ticker``, ``status``
        (resting/canceled/executed), ``limit`` 1–1000, ``cursor``; newest first."""
        status, ticker = params.get("status", ""), params.get("ticker", "")
        if status and status not in ("resting", "canceled", "executed"):
            return 400, {"error": {"code": "invalid_parameters", "message": f"status {status!r} is invalid"}}
        chosen = [o.wire() for o in reversed(self.orders.values())
                  if (not status or o.status == status) and (not ticker or o.ticker == ticker)]  # fmt: skip
        return _page(params, "orders", chosen)

    def get_order(self, order_id: str) -> tuple[int, dict[str, Any]]:
        """``GET /portfolio/orders/{order_id}`` (OpenAPI ``GetOrder``): 200 ``{"order"}`` or 404."""
        order = self.orders.get(order_id)
        if order is None:
            return 404, {"error": {"code": "not_found", "message": f"order {order_id} not found"}}
        return 200, {"order": order.wire()}

    def get_fills(self, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``GET /portfolio/fills`` (OpenAPI ``GetFills``): ``ticker``, ``order_id``, ``min_ts``/
        ``max_ts`` (Unix s), ``limit``, ``cursor``; newest first."""
        ticker, order_id = params.get("ticker", ""), params.get("order_id", "")
        try:
            low, high = int(params.get("min_ts") or 0), int(params.get("max_ts") or 0)
        except ValueError:
            return 400, {"error": {"code": "invalid_parameters", "message": "min_ts/max_ts must be integers"}}
        chosen = [f.wire() for f in reversed(self.fills)
                  if (not ticker or f.ticker == ticker) and (not order_id or f.order_id == order_id)
                  and (not low or f.ts_ms >= low * 1000) and (not high or f.ts_ms <= high * 1000)]  # fmt: skip
        return _page(params, "fills", chosen)

    def get_positions(self, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``GET /portfolio/positions`` (OpenAPI ``GetPositions``): ``ticker``, ``limit``,
        ``cursor``; ``{"market_positions", "event_positions": [], "cursor"}``."""
        ticker = params.get("ticker", "")
        chosen = [
            h.wire(t) for t, h in self.holdings.items() if (not ticker or t == ticker) and (h.position or h.volume)
        ]
        status, body = _page(params, "market_positions", chosen)
        if status == 200:
            body["event_positions"] = []
        return status, body

    def get_balance(self) -> tuple[int, dict[str, Any]]:
        """``GET /portfolio/balance`` (OpenAPI ``GetBalance``): free cash and portfolio value in
        cents, ``updated_ts`` Unix s."""
        value = sum(h.cost for h in self.holdings.values()) // 10_000
        return 200, {"balance": self.balance_cents(), "portfolio_value": value, "updated_ts": int(self._clock())}


def _page(params: Mapping[str, str], key: str, items: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    try:
        limit = int(params.get("limit") or 100)
        offset = int(params.get("cursor") or 0)
    except ValueError:
        return 400, {"error": {"code": "invalid_parameters", "message": "limit and cursor must be integers"}}
    if not 1 <= limit <= 1000 or offset < 0:
        return 400, {"error": {"code": "invalid_parameters", "message": "limit must be within 1..1000"}}
    end = offset + limit
    return 200, {key: items[offset:end], "cursor": str(end) if end < len(items) else ""}


def _parse_decimal(text: str, scale: int, what: str) -> int:
    try:
        value = Decimal(text) * scale
    except InvalidOperation as exc:
        raise DecodeError(f"loopback exchange {what} {text!r} is not a decimal") from exc
    if value != value.to_integral_value():
        raise DecodeError(f"loopback exchange {what} {text!r} is finer than 1/{scale}")
    return int(value)


def _direction(body: dict[str, Any]) -> tuple[str, str, str]:
    # side, action and time in force of a CreateOrderRequest (type must be limit)
    side, action = body.get("side"), body.get("action")
    if side not in ("yes", "no") or action not in ("buy", "sell"):
        raise _Refused(400, "invalid_parameters", "side must be yes or no and action buy or sell")
    if body.get("type", "limit") != "limit":
        raise _Refused(400, "invalid_parameters", "only limit orders are accepted")
    tif = body.get("time_in_force") or "good_till_canceled"
    if tif not in TIF_NAMES:
        raise _Refused(400, "invalid_parameters", f"time_in_force {tif!r} is not one of {sorted(TIF_NAMES)}")
    return str(side), str(action), str(tif)


def _count(body: dict[str, Any]) -> int:
    text = body.get("count_fp")
    number = body.get("count")
    try:
        size = parse_size(text) if isinstance(text, str) and text else None
    except DecodeError as exc:
        raise _Refused(400, "invalid_parameters", f"count_fp {text!r} is not a decimal count") from exc
    if number is not None:
        if not isinstance(number, int) or isinstance(number, bool):
            raise _Refused(400, "invalid_parameters", "count must be an integer")
        if size is not None and size != number * 1_000_000:
            raise _Refused(400, "invalid_parameters", "count and count_fp differ")
        size = number * 1_000_000
    if size is None:
        raise _Refused(400, "invalid_parameters", "count or count_fp is required")
    if size <= 0:
        raise _Refused(400, "invalid_parameters", "count must be positive")
    if size % SIZE_STEP:
        raise _Refused(400, "invalid_parameters", "count is finer than 0.01 contract")
    return size


def _price(body: dict[str, Any], side: str) -> int:
    # The limit in the order's outcome terms, from whichever of the four price fields was given
    given: list[tuple[str, int]] = []
    for key, yes in (("yes_price_dollars", True), ("no_price_dollars", False)):
        text = body.get(key)
        if text is not None:
            try:
                given.append(("yes" if yes else "no", parse_price(str(text))))
            except DecodeError as exc:
                raise _Refused(400, "invalid_price", f"{key} {text!r} is not a dollar price") from exc
    for key, yes in (("yes_price", True), ("no_price", False)):
        cents = body.get(key)
        if cents is not None:
            if not isinstance(cents, int) or isinstance(cents, bool):
                raise _Refused(400, "invalid_price", f"{key} must be whole cents")
            given.append(("yes" if yes else "no", cents * 100))
    if len({g[0] for g in given}) != 1:
        raise _Refused(400, "invalid_parameters", "give the price once: yes_price_dollars or no_price_dollars")
    terms, price = given[0]
    return price if terms == side else PRICE_ONE - price


__all__ = [
    "RATE_LIMIT_BODY",
    "Answer",
    "FakeFill",
    "FakeOrder",
    "Frames",
    "Holding",
    "KalshiExchangeAccount",
    "OrderGroup",
    "dollars",
]
