"""The loopback Polymarket exchange: order entry against the replayed books, one account.

Turned on by :class:`~hadron.venues.base.ExchangeOptions` (``FakeVenueOptions.exchange``); the
loopback venue's REST app gains the CLOB's order routes (``docs/protocols/polymarket.md#orders``)
and its user channel the ``order`` and ``trade`` messages of our orders.

Every order request is verified as the CLOB does: the L2 headers (``POLY_API_KEY``,
``POLY_PASSPHRASE``, and ``POLY_SIGNATURE`` = HMAC-SHA256 over ``timestamp + method + path +
body`` with the secret of ``FakeVenueOptions.user_auth``; 401 otherwise), the order's ``owner``
(the API key), and the EIP-712 V2 order signature, recovered with ``eth_account`` over the typed
data of the exchange that verifies it (CTF Exchange V2, or the neg-risk one for a neg-risk
token): it must be the order's ``signer`` (and ``ExchangeOptions.address``, signer or maker,
when set), else 400 ``invalid signature``.

An accepted order is matched at once as a taker against the replayed book (a BUY takes the asks
up to its limit ``makerAmount / takerAmount``, a SELL hits the bids down to ``takerAmount /
makerAmount``), at the book's prices, one trade per price level (its ``id`` a UUID: the fill id
the order's answer, ``GET /data/trades`` and the user channel all give); the levels taken are
removed from the book until the capture sets them again. ``FAK`` keeps what filled and kills the
rest; ``FOK`` fills all or nothing; ``GTC`` rests and fills later, as a maker at its own price,
when the replayed book crosses it. Taker fees are the market's curve
(:class:`~hadron.venues.polymarket.fees.PolymarketFeeSchedule`, rate :data:`FEE_RATE`, the rate
the demo's pairs file prices the tokens with), charged in pUSD; makers pay none.

Refused (single ``POST /order``: HTTP 400 ``{"error"}``; in a batch: that entry's ``errorMsg``):
a bad signature, a price off the tick, a size under the minimum (5 shares), a cost beyond the pUSD
balance (or allowance), a sale beyond the shares held, a duplicate order hash. Beyond
``ExchangeOptions.max_orders_per_s`` orders in the last second the request is answered 429.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hadron.model.account import parse_cash
from hadron.model.units import PRICE_ONE, PRICE_SCALE, parse_price, parse_size
from hadron.venues.base import ExchangeOptions
from hadron.venues.polymarket.fake_exchange import MIN_ORDER_SIZE, FakePolyBook, FakePolyExchange, price_text, size_text
from hadron.venues.polymarket.fees import PolymarketFeeSchedule
from hadron.venues.polymarket.signing import (
    exchange_address,
    hmac_signature,
    order_hash,
    recover_clob_auth,
    recover_order_signer,
)

log = structlog.get_logger("hadron.polymarket.fake_orders")

FEE_RATE: Final = Decimal("0.04")
"""The taker fee rate the loopback charges (``pairs_toml``'s default ``fee_rate``)."""
UNLIMITED: Final = 2**256 - 1
"""An unlimited ERC-20 allowance (``type(uint256).max``)."""
BATCH_LIMIT: Final = 15
"""Orders per ``POST /orders`` (docs ``api-reference/trade/post-multiple-orders``)."""
CANCEL_LIMIT: Final = 1000
"""Ids per ``DELETE /orders`` (changelog 2026-06-15)."""
PAGE: Final = 100
"""Entries per ``/data/*`` page."""
END_CURSOR: Final = "LTE="
MONEY_PER_CASH: Final = PRICE_SCALE
"""price × size units (1/10,000,000,000 USD) per pUSD unit (1/1,000,000 USD)."""
_FAK_KILL: Final = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found."
)
_FOK_KILL: Final = "order couldn't be fully filled. FOK orders are fully filled or killed."
_BALANCE: Final = "not enough balance / allowance"


class Refused(Exception):
    """One order refused (its message is the venue's ``errorMsg``); ``order_id`` when known."""

    def __init__(self, message: str, order_id: str = "") -> None:
        super().__init__(message)
        self.order_id = order_id


def _money_text(money: int) -> str:
    # 1/10,000,000,000 USD → a pUSD decimal with at most 6 decimals (rounded down)
    return size_text(money // MONEY_PER_CASH)


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str) -> int:
    try:
        return max(0, int(base64.b64decode(cursor.encode()).decode() or "0"))
    except ValueError:
        return 0


@dataclass
class FakeOrder:
    """One order the loopback exchange took: price 1/10,000 USD (the limit), sizes 1/1,000,000."""

    order_id: str
    token: str
    market: str
    side: str
    price: int
    size: int
    order_type: str
    owner: str
    maker_address: str
    created_s: int
    matched: int = 0
    status: str = "LIVE"
    trades: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Resting (LIVE) with size left."""
        return self.status == "LIVE" and self.matched < self.size

    def wire(self) -> dict[str, Any]:
        """The ``OpenOrder`` of ``GET /data/orders`` / ``GET /data/order/{id}``."""
        return {
            "id": self.order_id, "status": self.status, "owner": self.owner, "maker_address": self.maker_address,
            "market": self.market, "asset_id": self.token, "side": self.side, "original_size": size_text(self.size),
            "size_matched": size_text(self.matched), "price": price_text(self.price), "outcome": "Yes",
            "expiration": "0", "order_type": self.order_type, "associate_trades": list(self.trades),
            "created_at": self.created_s,
        }  # fmt: skip


class PolymarketExchangeAccount:
    """The loopback exchange's one account and its order routes.

    Args:
        exchange: the replayed books (:class:`~hadron.venues.polymarket.fake_exchange.FakePolyExchange`).
        options: cash (pUSD), starting token positions (token id → shares), latency, rate limit,
            the accepted wallet address.
        user_auth: the L2 credentials ``(key, secret, passphrase)`` requests must be signed with
            (``None``: every authenticated request is refused, 401).
        publish: sends user-channel messages to the authenticated clients.
        chain_id: the chain orders are signed for (137).
        neg_risk: tokens whose orders the neg-risk exchange verifies.
        fee_rate: the taker fee rate.
        allowance: the pUSD allowance, 1/1,000,000 USD (``None``: unlimited).
    """

    def __init__(
        self,
        exchange: FakePolyExchange,
        options: ExchangeOptions,
        *,
        user_auth: tuple[str, str, str] | None,
        publish: Callable[[list[dict[str, Any]]], object] | None = None,
        chain_id: int = 137,
        neg_risk: frozenset[str] = frozenset(),
        fee_rate: Decimal = FEE_RATE,
        allowance: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.exchange = exchange
        self.options = options
        self.user_auth = user_auth
        self.publish = publish
        self.chain_id = chain_id
        self.neg_risk = neg_risk
        self.fees = PolymarketFeeSchedule(fee_rate)
        self.fee_rate_bps = str(int(fee_rate * 10_000))
        self.allowance = allowance
        self.clock = clock
        self._money = parse_cash(options.cash) * MONEY_PER_CASH
        """pUSD held, 1/10,000,000,000 USD (exact: price × size)."""
        self.tokens: dict[str, int] = {token: parse_size(size) for token, size in options.positions.items()}
        self.orders: dict[str, FakeOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self.rejected: dict[str, int] = {}
        """Refusals by kind (``auth``, ``signature``, ``tick``, ``size``, ``balance``, ``duplicate``,
        ``killed``: a FAK with nothing to take or a FOK it could not fill, ``rate``, ``other``)."""
        self._writes: deque[float] = deque()
        self._live: dict[str, FakeOrder] = {}
        """Resting orders by id (the capture's every book change looks at them only)."""

    # -- the account ------------------------------------------------------------------------------

    @property
    def cash(self) -> int:
        """pUSD held, 1/1,000,000 USD (rounded down)."""
        return self._money // MONEY_PER_CASH

    def positions(self) -> dict[str, int]:
        """Token id → shares held (1/1,000,000), tokens with none left out."""
        return {token: size for token, size in self.tokens.items() if size}

    def open_orders(self) -> list[FakeOrder]:
        """Resting orders, oldest first."""
        return [o for o in self._live.values() if o.open]

    def _reserved(self, token: str = "") -> int:
        # What resting orders hold: pUSD (money units) for buys, or shares of ``token`` for sells
        if token:
            return sum(o.size - o.matched for o in self.open_orders() if o.side == "SELL" and o.token == token)
        return sum((o.size - o.matched) * o.price for o in self.open_orders() if o.side == "BUY")

    # -- verification -----------------------------------------------------------------------------

    def _check_l2(self, request: Request, body: bytes) -> bool:
        if self.user_auth is None:
            return False
        key, secret, passphrase = self.user_auth
        headers = request.headers
        if headers.get("POLY_API_KEY") != key or headers.get("POLY_PASSPHRASE") != passphrase:
            return False
        try:
            expected = hmac_signature(
                secret, headers.get("POLY_TIMESTAMP", ""), request.method, request.url.path, body.decode()
            )
        except (ValueError, UnicodeDecodeError):
            return False
        return bool(headers.get("POLY_SIGNATURE")) and headers.get("POLY_SIGNATURE") == expected

    def _check_signature(self, order: Mapping[str, Any], token: str) -> str:
        # The order's hash when its EIP-712 signature recovers to its signer (and the allowed address)
        neg = token in self.neg_risk
        try:
            recovered = recover_order_signer(order, chain_id=self.chain_id, neg_risk=neg)
            digest = order_hash(order, chain_id=self.chain_id, neg_risk=neg)
        except (ValueError, KeyError, TypeError):
            raise Refused("invalid signature") from None
        if recovered.lower() != str(order.get("signer", "")).lower():
            raise Refused("invalid signature")
        allowed = self.options.address.lower()
        if allowed and allowed not in (recovered.lower(), str(order.get("maker", "")).lower()):
            raise Refused("invalid signature")
        return digest

    def _rate_ok(self, count: int) -> bool:
        limit = self.options.max_orders_per_s
        if limit <= 0:
            return True
        now = time.monotonic()
        while self._writes and self._writes[0] <= now - 1.0:
            self._writes.popleft()
        if len(self._writes) + count > limit:
            return False
        self._writes.extend([now] * count)
        return True

    # -- placing ----------------------------------------------------------------------------------

    def _verify(self, entry: Any, api_key: str) -> FakeOrder:
        # A posted entry checked (owner, token, signature, duplicate, tick, size, funds) → the order
        if not isinstance(entry, dict) or not isinstance(entry.get("order"), dict):
            raise Refused("Invalid order payload")
        order = entry["order"]
        if entry.get("owner") != api_key:
            raise Refused("the order owner has to be the owner of the API KEY")
        token = str(order.get("tokenId", ""))
        book = self.exchange.books.get(token)
        if book is None:
            raise Refused(f"market not found for token id {token}")
        digest = self._check_signature(order, token)
        if digest in self.orders:
            raise Refused(f"order {digest} is invalid. Duplicated.", digest)
        side = str(order.get("side", "")).upper()
        order_type = str(entry.get("orderType", "GTC")).upper()
        maker, taker = int(order["makerAmount"]), int(order["takerAmount"])
        shares, cost = (taker, maker) if side == "BUY" else (maker, taker)
        if side not in ("BUY", "SELL") or order_type not in ("GTC", "FOK", "FAK", "GTD") or shares <= 0:
            raise Refused("Invalid order payload", digest)
        tick = parse_price(book.tick_size)
        price, rest = divmod(cost * PRICE_SCALE, shares)
        if rest or price % tick or not tick <= price <= PRICE_ONE - tick:
            exact = Decimal(cost) / Decimal(shares)
            rule = f"breaks minimum tick size rule: {book.tick_size}"
            raise Refused(f"order {digest} is invalid. Price ({exact:f}) {rule}", digest)
        if shares < parse_size(MIN_ORDER_SIZE):
            minimum = f"lower than the minimum: {MIN_ORDER_SIZE}"
            raise Refused(f"order {digest} is invalid. Size ({size_text(shares)}) {minimum}", digest)
        if side == "BUY":
            free = self._money - self._reserved()
            if price * shares > free or (self.allowance is not None and cost > self.allowance):
                raise Refused(_BALANCE, digest)
        elif shares > self.tokens.get(token, 0) - self._reserved(token):
            raise Refused(_BALANCE, digest)
        return FakeOrder(digest, token, book.market, side, price, shares, order_type, api_key,
                         str(order.get("maker", "")), int(self.clock()))  # fmt: skip

    def place(self, entry: Any, api_key: str) -> dict[str, Any]:
        """Verify, take and match one ``POST /order`` entry; its ``SendOrderResponse``
        (``success``, ``errorMsg``, ``orderID``, ``status`` matched/live, ``makingAmount``,
        ``takingAmount``, ``tradeIDs``).

        Raises:
            Refused: the order is refused, or killed (FAK with nothing to take, FOK short).
        """
        placed = self._verify(entry, api_key)
        book = self.exchange.books[placed.token]
        fills = self._walk(book, placed.side, placed.price, placed.size)
        killed = _FOK_KILL if placed.order_type == "FOK" and sum(s for _, s in fills) < placed.size else ""
        killed = _FAK_KILL if placed.order_type == "FAK" and not fills else killed
        self.orders[placed.order_id] = placed
        if killed:
            placed.status = "CANCELED"
            raise Refused(killed, placed.order_id)
        now = self.clock()
        messages = [self._order_message(placed, "PLACEMENT", now)]
        trades = [self._take(placed, book, level, size, now) for level, size in fills]
        messages.extend({**t, "status": "MATCHED"} for t in trades)
        if placed.matched >= placed.size:
            placed.status = "MATCHED"
        elif placed.order_type in ("FAK", "FOK"):
            placed.status = "CANCELED"
        if trades:
            messages.append(self._order_message(placed, "UPDATE", now))
        if placed.status == "CANCELED":
            messages.append(self._order_message(placed, "CANCELLATION", now))
        elif placed.status == "LIVE":
            self._live[placed.order_id] = placed
        messages.extend({**t, "status": "CONFIRMED"} for t in trades)
        self._send(messages)
        paid = sum(parse_price(t["price"]) * parse_size(t["size"]) for t in trades)
        making, taking = (_money_text(paid), size_text(placed.matched)) if trades else ("", "")
        if placed.side == "SELL":
            making, taking = taking, making
        return {
            "success": True, "errorMsg": "", "orderID": placed.order_id,
            "status": "matched" if trades and placed.status != "LIVE" else "live",
            "makingAmount": making, "takingAmount": taking,
            "tradeIDs": [t["id"] for t in trades], "transactionsHashes": [],
        }  # fmt: skip

    def _walk(self, book: FakePolyBook, side: str, limit: int, shares: int) -> list[tuple[int, int]]:
        # The levels a taker takes: (price, size), best first, up to its limit and size
        if side == "BUY":
            levels = sorted((p, s) for p, s in book.asks.items() if p <= limit)
        else:
            levels = sorted(((p, s) for p, s in book.bids.items() if p >= limit), reverse=True)
        out: list[tuple[int, int]] = []
        left = shares
        for price, size in levels:
            if left <= 0:
                break
            take = min(size, left)
            out.append((price, take))
            left -= take
        return out

    def _take(self, order: FakeOrder, book: FakePolyBook, price: int, size: int, now: float) -> dict[str, Any]:
        # One taker fill at a book level: the level shrinks, cash and shares move, the trade is kept
        ladder = book.asks if order.side == "BUY" else book.bids
        book.set("SELL" if order.side == "BUY" else "BUY", price, ladder.get(price, 0) - size)
        fee = self.fees.taker(size, price) * MONEY_PER_CASH
        self._settle(order, price, size, fee)
        maker = {"order_id": "0x" + uuid.uuid4().hex * 2, "owner": "", "maker_address": "0x" + "0" * 40,
                 "asset_id": order.token, "matched_amount": size_text(size), "price": price_text(price),
                 "side": "SELL" if order.side == "BUY" else "BUY", "outcome": "Yes", "fee_rate_bps": "0"}  # fmt: skip
        return self._trade(order, price, size, fee, "TAKER", order.order_id, [maker], now)

    def _settle(self, order: FakeOrder, price: int, size: int, fee: int) -> None:
        order.matched += size
        if order.side == "BUY":
            self._money -= price * size + fee
            self.tokens[order.token] = self.tokens.get(order.token, 0) + size
        else:
            self._money += price * size - fee
            self.tokens[order.token] = self.tokens.get(order.token, 0) - size

    def _trade(
        self, order: FakeOrder, price: int, size: int, fee: int, role: str, taker_id: str,
        makers: list[dict[str, Any]], now: float,
    ) -> dict[str, Any]:  # fmt: skip
        trade_id = str(uuid.uuid4())
        trade: dict[str, Any] = {
            "event_type": "trade", "type": "TRADE", "id": trade_id, "taker_order_id": taker_id,
            "market": order.market, "asset_id": order.token, "side": order.side, "size": size_text(size),
            "price": price_text(price), "fee_rate_bps": self.fee_rate_bps if role == "TAKER" else "0",
            "fee": _money_text(fee), "status": "CONFIRMED", "match_time": str(int(now)),
            "last_update": str(int(now)), "outcome": "Yes", "owner": order.owner, "trade_owner": order.owner,
            "maker_address": order.maker_address, "trader_side": role, "maker_orders": makers,
            "transaction_hash": "0x" + uuid.uuid4().hex * 2, "bucket_index": 0, "timestamp": str(int(now * 1000)),
        }  # fmt: skip
        order.trades.append(trade_id)
        self.trades.append(trade)
        return trade

    def on_market(self, assets: frozenset[str] | set[str]) -> None:
        """After the capture moved these tokens' books: resting orders the book now crosses fill
        as makers at their own price (no fee), taking the crossing levels."""
        if not self._live:
            return
        now = self.clock()
        messages: list[dict[str, Any]] = []
        for order in self.open_orders():
            if order.token not in assets:
                continue
            book = self.exchange.books.get(order.token)
            if book is None:
                continue
            for level, size in self._walk(book, order.side, order.price, order.size - order.matched):
                ladder = book.asks if order.side == "BUY" else book.bids
                book.set("SELL" if order.side == "BUY" else "BUY", level, ladder.get(level, 0) - size)
                self._settle(order, order.price, size, 0)
                mine = {"order_id": order.order_id, "owner": order.owner, "maker_address": order.maker_address,
                        "asset_id": order.token, "matched_amount": size_text(size), "price": price_text(order.price),
                        "side": order.side, "outcome": "Yes", "fee_rate_bps": "0"}  # fmt: skip
                taker_side = "SELL" if order.side == "BUY" else "BUY"
                trade = self._trade(order, order.price, size, 0, "MAKER", "0x" + uuid.uuid4().hex * 2, [mine], now)
                trade["side"] = taker_side
                messages.append({**trade, "status": "MATCHED"})
                if order.matched >= order.size:
                    order.status = "MATCHED"
                    self._live.pop(order.order_id, None)
                messages.append(self._order_message(order, "UPDATE", now))
                messages.append({**trade, "status": "CONFIRMED"})
        if messages:
            self._send(messages)

    def cancel(self, order_ids: list[str]) -> dict[str, Any]:
        """Cancel these orders: ``{"canceled": [ids], "not_canceled": {id: reason}}``."""
        canceled: list[str] = []
        refused: dict[str, str] = {}
        now = self.clock()
        messages: list[dict[str, Any]] = []
        for order_id in order_ids:
            order = self.orders.get(order_id)
            if order is None:
                refused[order_id] = "order not found"
            elif not order.open:
                refused[order_id] = "order can't be canceled: already " + (
                    "matched" if order.status == "MATCHED" else "canceled"
                )
            else:
                order.status = "CANCELED"
                self._live.pop(order_id, None)
                canceled.append(order_id)
                messages.append(self._order_message(order, "CANCELLATION", now))
        self._send(messages)
        return {"canceled": canceled, "not_canceled": refused}

    # -- the user channel -------------------------------------------------------------------------

    def _order_message(self, order: FakeOrder, kind: str, now: float) -> dict[str, Any]:
        return {
            "event_type": "order", "type": kind, "id": order.order_id, "market": order.market,
            "asset_id": order.token, "side": order.side, "price": price_text(order.price),
            "original_size": size_text(order.size), "size_matched": size_text(order.matched),
            "status": order.status, "outcome": "Yes", "owner": order.owner, "order_owner": order.owner,
            "order_type": order.order_type, "created_at": str(order.created_s), "expiration": "0",
            "maker_address": order.maker_address, "associate_trades": list(order.trades),
            "timestamp": str(int(now * 1000)),
        }  # fmt: skip

    def _send(self, messages: list[dict[str, Any]]) -> None:
        if messages and self.publish is not None:
            self.publish(messages)

    # -- REST -------------------------------------------------------------------------------------

    async def _authed(self, request: Request) -> tuple[bytes, Response | None]:
        body = await request.body()
        if not self._check_l2(request, body):
            self.rejected["auth"] = self.rejected.get("auth", 0) + 1
            return body, JSONResponse({"error": "Unauthorized/Invalid api key"}, status_code=401)
        return body, None

    def _refused(self, exc: Refused) -> None:
        text = str(exc)
        kind = ("signature" if "signature" in text else "tick" if "tick size" in text else
                "size" if "minimum" in text else "balance" if "balance" in text else
                "duplicate" if "Duplicated" in text else "killed" if "killed" in text else "other")  # fmt: skip
        self.rejected[kind] = self.rejected.get(kind, 0) + 1

    def routes(self) -> list[Route]:
        """The CLOB order routes (see the module docstring)."""
        return [
            Route("/order", self._post_order, methods=["POST"]),
            Route("/orders", self._post_orders, methods=["POST"]),
            Route("/order", self._delete, methods=["DELETE"]),
            Route("/orders", self._delete, methods=["DELETE"]),
            Route("/cancel-all", self._cancel_all, methods=["DELETE"]),
            Route("/data/orders", self._get_orders),
            Route("/data/order/{order_id}", self._get_order),
            Route("/data/trades", self._get_trades),
            Route("/balance-allowance", self._balance_allowance),
            Route("/tick-size", self._tick_size),
            Route("/neg-risk", self._neg_risk),
            Route("/auth/derive-api-key", self._api_key),
            Route("/auth/api-key", self._api_key, methods=["POST"]),
        ]

    def _owner(self) -> str:
        return self.user_auth[0] if self.user_auth else ""

    async def _post_order(self, request: Request) -> Response:
        body, denied = await self._authed(request)
        if denied is not None:
            return denied
        try:
            entry = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return JSONResponse({"error": "Invalid order payload"}, status_code=400)
        if not self._rate_ok(1):
            self.rejected["rate"] = self.rejected.get("rate", 0) + 1
            return JSONResponse({"error": "Too Many Requests"}, status_code=429)
        await asyncio.sleep(self.options.latency_ms / 1000)
        try:
            return JSONResponse(self.place(entry, self._owner()))
        except Refused as exc:
            self._refused(exc)
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def _post_orders(self, request: Request) -> Response:
        body, denied = await self._authed(request)
        if denied is not None:
            return denied
        try:
            entries = msgspec.json.decode(body)
        except msgspec.DecodeError:
            entries = None
        if not isinstance(entries, list) or not entries:
            return JSONResponse({"error": "Invalid payload"}, status_code=400)
        if len(entries) > BATCH_LIMIT:
            return JSONResponse({"error": f"Too many orders in payload, max allowed: {BATCH_LIMIT}"}, status_code=400)
        if not self._rate_ok(len(entries)):
            self.rejected["rate"] = self.rejected.get("rate", 0) + 1
            return JSONResponse({"error": "Too Many Requests"}, status_code=429)
        await asyncio.sleep(self.options.latency_ms / 1000)
        out: list[dict[str, Any]] = []
        for entry in entries:
            try:
                out.append(self.place(entry, self._owner()))
            except Refused as exc:
                self._refused(exc)
                out.append({"success": False, "errorMsg": str(exc), "orderID": exc.order_id, "status": "",
                            "makingAmount": "", "takingAmount": "", "tradeIDs": []})  # fmt: skip
        return JSONResponse(out)

    async def _delete(self, request: Request) -> Response:
        # DELETE /order {"orderID"} or DELETE /orders [ids]
        body, denied = await self._authed(request)
        if denied is not None:
            return denied
        try:
            payload = msgspec.json.decode(body)
        except msgspec.DecodeError:
            payload = None
        ids: list[str] | None = None
        if request.url.path == "/order" and isinstance(payload, dict):
            ids = [str(payload.get("orderID", ""))]
        elif request.url.path == "/orders" and isinstance(payload, list):
            ids = [str(i) for i in payload]
        if not ids or len(ids) > CANCEL_LIMIT:
            return JSONResponse({"error": "Invalid payload"}, status_code=400)
        await asyncio.sleep(self.options.latency_ms / 1000)
        return JSONResponse(self.cancel(ids))

    async def _cancel_all(self, request: Request) -> Response:
        _, denied = await self._authed(request)
        if denied is not None:
            return denied
        await asyncio.sleep(self.options.latency_ms / 1000)
        return JSONResponse(self.cancel([o.order_id for o in self.open_orders()]))

    async def _get_orders(self, request: Request) -> Response:
        _, denied = await self._authed(request)
        if denied is not None:
            return denied
        return _page([o.wire() for o in self.open_orders() if _matches(o.wire(), request)], request)

    async def _get_order(self, request: Request) -> Response:
        _, denied = await self._authed(request)
        if denied is not None:
            return denied
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return JSONResponse({"error": "order not found"}, status_code=404)
        return JSONResponse(order.wire())

    async def _get_trades(self, request: Request) -> Response:
        _, denied = await self._authed(request)
        if denied is not None:
            return denied
        query = request.query_params
        after = int(query["after"]) if query.get("after", "").isdigit() else 0
        before = int(query["before"]) if query.get("before", "").isdigit() else None
        chosen = [
            t for t in self.trades
            if _matches(t, request) and after <= int(t["match_time"]) < (before or 2**63)
        ]  # fmt: skip
        return _page(chosen, request)

    async def _balance_allowance(self, request: Request) -> Response:
        _, denied = await self._authed(request)
        if denied is not None:
            return denied
        query = request.query_params
        kind = query.get("asset_type", "").upper()
        if kind == "COLLATERAL":
            balance = self.cash
            allowance = UNLIMITED if self.allowance is None else self.allowance
        elif kind == "CONDITIONAL" and query.get("token_id", "").isdigit():
            balance, allowance = self.tokens.get(query["token_id"], 0), UNLIMITED
        else:
            return JSONResponse({"error": "Invalid asset type"}, status_code=400)
        spenders = sorted({exchange_address(self.chain_id, False), exchange_address(self.chain_id, True)})
        return JSONResponse({"balance": str(balance), "allowances": dict.fromkeys(spenders, str(allowance))})

    async def _tick_size(self, request: Request) -> Response:
        book = self.exchange.books.get(request.query_params.get("token_id", ""))
        if book is None:
            return JSONResponse({"error": "market not found"}, status_code=404)
        return Response(f'{{"minimum_tick_size":{book.tick_size}}}', media_type="application/json")

    async def _neg_risk(self, request: Request) -> Response:
        token = request.query_params.get("token_id", "")
        if token not in self.exchange.books:
            return JSONResponse({"error": "market not found"}, status_code=404)
        return JSONResponse({"neg_risk": token in self.neg_risk})

    async def _api_key(self, request: Request) -> Response:
        # GET /auth/derive-api-key, POST /auth/api-key: the L1 ClobAuth signature recovered
        headers = request.headers
        address, signature = headers.get("POLY_ADDRESS", ""), headers.get("POLY_SIGNATURE", "")
        stamp, nonce = headers.get("POLY_TIMESTAMP", ""), headers.get("POLY_NONCE", "0")
        try:
            signer = recover_clob_auth(address, stamp, int(nonce), signature, chain_id=self.chain_id)
        except (ValueError, TypeError):
            signer = ""
        allowed = self.options.address.lower()
        if not signer or signer.lower() != address.lower() or (allowed and signer.lower() != allowed):
            self.rejected["auth"] = self.rejected.get("auth", 0) + 1
            return JSONResponse({"error": "Invalid L1 Request headers"}, status_code=401)
        if self.user_auth is None:
            return JSONResponse({"error": "Could not create api key"}, status_code=400)
        key, secret, passphrase = self.user_auth
        return JSONResponse({"apiKey": key, "secret": secret, "passphrase": passphrase})


def _page(items: list[dict[str, Any]], request: Request) -> Response:
    # One /data/* page: {limit, count, next_cursor (base64 offset; LTE= at the end), data}
    start = _offset(request.query_params.get("next_cursor", ""))
    chunk = items[start : start + PAGE]
    after = start + PAGE
    cursor = _cursor(after) if after < len(items) else END_CURSOR
    return JSONResponse({"limit": PAGE, "count": len(chunk), "next_cursor": cursor, "data": chunk})


def _matches(item: dict[str, Any], request: Request) -> bool:
    query = request.query_params
    return all(not query.get(k) or str(item.get(k)) == query[k] for k in ("id", "market", "asset_id"))


__all__ = ["FEE_RATE", "FakeOrder", "PolymarketExchangeAccount", "Refused"]
