"""Polymarket CLOB V2 order entry: :class:`PolymarketOrderGateway`, an
:class:`~hadron.venues.base.OrderGateway` (``docs/protocols/polymarket.md#orders``).

Requests (``py_clob_client_v2`` ``endpoints.py`` / ``client.py``; docs ``api-reference/trade/*``):

* ``POST /order`` (one) and ``POST /orders`` (at most :data:`BATCH_LIMIT`), bodies built by the
  official ``order_to_json_v2``; ``orderType`` ``FAK`` (IOC), ``FOK``, ``GTC``;
* ``DELETE /order`` ``{"orderID"}``, ``DELETE /orders`` ``[ids]`` (at most
  :data:`CANCEL_LIMIT`), ``DELETE /cancel-all``;
* ``GET /data/orders`` and ``GET /data/trades`` (cursor pages from ``MA==`` to ``LTE=``),
  ``GET /data/order/{id}``; ``GET /balance-allowance`` (``COLLATERAL``, or ``CONDITIONAL`` with
  ``token_id``), ``GET /tick-size``, ``GET /neg-risk``;
* ``GET /auth/derive-api-key``, else ``POST /auth/api-key``, with L1 headers, when the L2
  credentials are not configured.

Every request carries the L2 headers, the HMAC over ``timestamp + method + path + body`` of the
exact bytes sent (:mod:`hadron.venues.polymarket.signing`). Orders are signed with the official
V2 builder; the ``salt`` is derived from the ``client_order_id`` and the ``timestamp`` is the
request's ``created_ns``, so a resent order is the same order (same hash, the venue's
``orderID``) and a duplicate answer is mapped to the order the venue already has.

Fill ids: a trade's ``id`` for our taker side, ``<trade id>:<order id>`` for our maker side, as
the user channel's normalizer (:mod:`hadron.venues.polymarket.user`) gives them, so the same fill
from the order's answer, the user channel and ``GET /data/trades`` counts once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import httpx
import msgspec
import structlog

from hadron.config import HadronConfig, Secret
from hadron.errors import AuthError, ConfigError, DecodeError, RequestError, VenueError
from hadron.model.fees import MONEY_SCALE
from hadron.model.orders import ExecFill, ExecReport, OrderRequest, OrderState, PlaceResult, VenueOrder
from hadron.model.units import PRICE_ONE, PRICE_SCALE, SIZE_SCALE, parse_price, parse_size
from hadron.venues.http import Sleep
from hadron.venues.polymarket.fees import PolymarketFeeSchedule
from hadron.venues.polymarket.rest.clob import CLOB_URL, END_CURSOR, START_CURSOR
from hadron.venues.polymarket.rest.limits import CLOB_FAMILIES, CLOB_LIMITS
from hadron.venues.polymarket.rest.transport import PolymarketHttp
from hadron.venues.polymarket.rest.wire import _TICK_SIZE
from hadron.venues.polymarket.signing import (
    TICK_SIZES,
    ApiCredentials,
    OrderSideText,
    OrderSigner,
    SignedOrder,
    order_amounts,
    order_salt,
)

log = structlog.get_logger("hadron.polymarket.orders")

VENUE: Final = "polymarket"
_PREFIX: Final = "polymarket:"
BATCH_LIMIT: Final = 15
"""Orders per ``POST /orders`` (docs ``api-reference/trade/post-multiple-orders``: "Maximum 15
orders per request"; nautilus_trader ``BATCH_ORDER_LIMIT``)."""
CANCEL_LIMIT: Final = 1000
"""Ids per ``DELETE /orders`` (changelog 2026-06-15)."""
ORDER_TYPES: Final = {"IOC": "FAK", "FOK": "FOK", "GTC": "GTC"}
"""Hadron's time in force → the CLOB ``orderType`` (FAK: fill and kill, Polymarket's IOC)."""
DEFAULT_TICK: Final = 100
"""The tick a dry run signs with when the request gives none (0.01; a dry run asks nothing)."""
ORDER_LIMITS: Final = {**CLOB_LIMITS, "order": (5_000, 10.0), "order-sustained": (120_000, 600.0)}
"""CLOB limits plus ``POST /order(s)``' burst and sustained windows (docs
``api-reference/rate-limits``)."""
ORDER_FAMILIES: Final = {
    **CLOB_FAMILIES,
    "/order": ("order", "order-sustained", "general"),
    "/orders": ("order", "order-sustained", "general"),
}
REDACTED: Final = "***"
SECRET_HEADERS: Final = ("POLY_API_KEY", "POLY_PASSPHRASE", "POLY_SIGNATURE")
_MONEY_PER_CASH: Final = MONEY_SCALE // SIZE_SCALE
"""Money units (1/10,000,000,000 USD) per pUSD base unit (1/1,000,000 USD)."""
_JSON = msgspec.json.Encoder()


def _decode(what: str, content: bytes) -> Any:
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"{what}: unexpected response body: {exc}") from exc


def _decimal_units(text: object, scale: int) -> int:
    # A venue decimal (string or JSON number) → integer units of 1/scale
    try:
        value = Decimal(str(text)) * scale
    except InvalidOperation as exc:
        raise DecodeError(f"{text!r} is not a decimal") from exc
    if value != value.to_integral_value():
        raise DecodeError(f"{text!r} is finer than 1/{scale}")
    return int(value)


def _amount(text: object) -> int:
    # A response's makingAmount/takingAmount: a decimal in pUSD or shares (6 decimals)
    return _decimal_units(text, SIZE_SCALE) if text not in (None, "") else 0


def _token(symbol: str) -> str:
    token = symbol.removeprefix(_PREFIX)
    if not token.isdigit():
        raise ValueError(f"{symbol!r} is not a Polymarket token id")
    return token


def _status(text: object) -> str:
    # LIVE / MATCHED / CANCELED… (accepting the ORDER_STATUS_ prefix and any case)
    return str(text or "").upper().removeprefix("ORDER_STATUS_")


def state_of(status: str, original: int, matched: int) -> OrderState:
    """A CLOB order's state from its ``status`` (``LIVE``, ``MATCHED``, ``CANCELED…``,
    ``DELAYED``, ``UNMATCHED``, ``INVALID``), ``original_size`` and ``size_matched``."""
    status = _status(status)
    if status.startswith("CANCEL") or status in ("INVALID", "UNMATCHED"):
        return OrderState.CANCELLED
    if status == "MATCHED" or (original and matched >= original):
        return OrderState.FILLED
    return OrderState.PARTIALLY_FILLED if matched else OrderState.ACCEPTED


def venue_order_of(order: dict[str, Any], client_order_id: str = "") -> VenueOrder:
    """A ``GET /data/orders`` / ``GET /data/order/{id}`` entry (``OpenOrder``: ``id``,
    ``asset_id``, ``side``, ``price``, ``original_size``, ``size_matched``, ``status``) →
    :class:`VenueOrder` (token terms: outcome ``yes``).

    Raises:
        DecodeError: a bad price, size or side.
    """
    original = parse_size(str(order.get("original_size") or "0"))
    matched = parse_size(str(order.get("size_matched") or "0"))
    side = str(order.get("side", "")).lower()
    if side not in ("buy", "sell"):
        raise DecodeError(f"order side {order.get('side')!r} is not BUY or SELL")
    return VenueOrder(
        venue_order_id=str(order.get("id", "")),
        client_order_id=client_order_id,
        instrument=_PREFIX + str(order.get("asset_id", "")),
        outcome="yes",
        side="buy" if side == "buy" else "sell",
        price=parse_price(str(order.get("price") or "0")),
        size=original,
        filled=matched,
        state=state_of(str(order.get("status", "")), original, matched),
    )


def trade_fee(trade: dict[str, Any], size: int, price: int) -> int:
    """A trade's fee in money units (1/10,000,000,000 USD): its ``fee`` (USD decimal) when the
    trade carries one, else the taker curve at ``fee_rate_bps`` (:mod:`hadron.venues.polymarket.fees`)."""
    if trade.get("fee") not in (None, ""):
        return _decimal_units(trade["fee"], SIZE_SCALE) * _MONEY_PER_CASH
    bps = str(trade.get("fee_rate_bps") or "0")
    rate = Decimal(bps) / 10_000
    if not rate:
        return 0
    return PolymarketFeeSchedule(rate).taker(size, price) * _MONEY_PER_CASH


def _trade_ns(trade: dict[str, Any]) -> int:
    for key in ("match_time", "matchtime", "last_update"):
        text = str(trade.get(key) or "")
        if text.isdigit():
            return int(text) * 1_000_000_000
    return 0


def fills_of(
    trade: dict[str, Any], *, our_orders: Callable[[str], str | None], api_key: str = "", address: str = ""
) -> list[ExecFill]:
    """A CLOB trade (``GET /data/trades``: ``id``, ``taker_order_id``, ``side``, ``size``,
    ``price``, ``trader_side``, ``maker_orders[]``, ``match_time`` s, ``fee``/``fee_rate_bps``)
    → our fills: the taker side (``trader_side`` TAKER) with ``fill_id`` = the trade ``id``, and
    each maker order of ours (``owner`` our API key or ``maker_address`` our address, or an order
    id ``our_orders`` knows) with ``fill_id`` = ``<trade id>:<order id>`` and no fee.
    ``our_orders(order_id)`` gives the ``client_order_id`` (``None``: not ours as far as known).

    Raises:
        DecodeError: a bad price or size.
    """
    ts = _trade_ns(trade)
    trade_id = str(trade.get("id", ""))
    out: list[ExecFill] = []
    if str(trade.get("trader_side", "TAKER")).upper() != "MAKER":
        order_id = str(trade.get("taker_order_id", ""))
        price, size = parse_price(str(trade.get("price"))), parse_size(str(trade.get("size")))
        out.append(
            ExecFill(client_order_id=our_orders(order_id) or "", venue_order_id=order_id, fill_id=trade_id,
                     price=price, size=size, fee=trade_fee(trade, size, price), ts_event=ts, taker=True)
        )  # fmt: skip
        return out
    for maker in trade.get("maker_orders") or []:
        order_id = str(maker.get("order_id", ""))
        mine = our_orders(order_id) is not None or (api_key and maker.get("owner") == api_key)
        mine = mine or (address and str(maker.get("maker_address", "")).lower() == address.lower())
        if not mine:
            continue
        price = parse_price(str(maker.get("price") or trade.get("price")))
        size = parse_size(str(maker.get("matched_amount")))
        out.append(
            ExecFill(client_order_id=our_orders(order_id) or "", venue_order_id=order_id,
                     fill_id=f"{trade_id}:{order_id}", price=price, size=size, fee=0, ts_event=ts, taker=False)
        )  # fmt: skip
    return out


def _error_text(exc: RequestError) -> str:
    # "POST /order: HTTP 400: <venue message>" → the venue's message
    text = str(exc)
    marker = f"HTTP {exc.status}"
    if marker in text:
        text = text.split(marker, 1)[1]
        if exc.code:
            text = text.removeprefix(f" {exc.code}")
        text = text.removeprefix(": ")
    return text


def _is_duplicate(message: str) -> bool:
    return "duplicat" in message.lower()


def _is_kill(message: str) -> bool:
    # FAK with nothing to match / FOK not fully fillable: the order ended, unfilled
    text = message.lower()
    return "fak order" in text or "fok order" in text or "fully filled or killed" in text


def redact_request(request: dict[str, Any]) -> dict[str, Any]:
    """A request ``{method, url, headers, body}`` fit for a log: the ``POLY_API_KEY``,
    ``POLY_PASSPHRASE`` and ``POLY_SIGNATURE`` headers and every order ``signature`` (and
    ``owner``: the API key) replaced by ``"***"``."""
    headers = {k: (REDACTED if k.upper() in SECRET_HEADERS else v) for k, v in dict(request["headers"]).items()}
    body = request.get("body")

    def scrub(entry: Any) -> Any:
        if isinstance(entry, dict) and isinstance(entry.get("order"), dict):
            return {**entry, "owner": REDACTED, "order": {**entry["order"], "signature": REDACTED}}
        return entry

    body = [scrub(e) for e in body] if isinstance(body, list) else scrub(body)
    return {**request, "headers": headers, "body": body}


class PolymarketOrderHttp(PolymarketHttp):
    """The CLOB request loop with L2 headers on every request (signed per attempt over the exact
    body bytes) and the order-write rate limits (:data:`ORDER_LIMITS`)."""

    venue = "polymarket clob"
    _families = ORDER_FAMILIES
    default_url = CLOB_URL
    default_limits = ORDER_LIMITS

    def __init__(self, base_url: str | None = None, *, signer: OrderSigner, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.signer = signer
        self.creds: ApiCredentials | None = None
        self.clock: Callable[[], float] = time.time

    def _prepare(self, request: httpx.Request) -> None:
        if self.creds is None or "POLY_NONCE" in request.headers:  # no credentials yet, or an L1 request
            return
        body = request.content.decode() if request.content else ""
        request.headers.update(
            self.signer.l2_headers(self.creds, request.method, request.url.path, body, int(self.clock()))
        )

    async def tick_size(self, token: str) -> Decimal:
        """The token's tick in USD, exact (``GET /tick-size?token_id=`` → ``minimum_tick_size``,
        a JSON number decoded straight to ``Decimal``)."""
        return (await self._get("/tick-size", _TICK_SIZE, [("token_id", token)])).minimum_tick_size

    def build(self, method: str, path: str, body: bytes | None = None, params: Any = None) -> httpx.Request:
        """The request as it would be sent (signed), for a dry run."""
        headers = {"Content-Type": "application/json"} if body is not None else None
        request = self._http.build_request(method, path, params=params, content=body, headers=headers)
        self._prepare(request)
        return request

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one request (retried per the shared loop) and decode its JSON answer."""
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/json"
        content = await self._send(method, path, params=tuple(params) if params else None, content=body,
                                   headers=sent or None)  # fmt: skip
        return _decode(f"{method} {path}", content) if content.strip() else None


class PolymarketOrderGateway:
    """Polymarket CLOB V2 order entry for one wallet (see the module docstring).

    Args:
        private_key: the wallet's key (signs orders; derives the L2 credentials when absent).
        creds: the L2 API credentials (``None``: derived in :meth:`start`).
        base_url: the CLOB REST root.
        chain_id / funder / signature_type: see :class:`~hadron.venues.polymarket.signing.OrderSigner`.
        dry_run: sign and log each order's exact request, send nothing (answers
            ``rejected``/``dry_run``; no market parameters or balances are asked: the request's
            ``tick`` (else 0.01) and ``neg_risk`` are used).
        transport / max_retries / sleep: for the HTTP client (tests).

    Raises:
        ConfigError: a key, chain or signature type that cannot sign.
    """

    venue = VENUE

    def __init__(
        self,
        *,
        private_key: Secret,
        creds: ApiCredentials | None = None,
        base_url: str = CLOB_URL,
        chain_id: int = 137,
        funder: str = "",
        signature_type: int = 0,
        dry_run: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 2,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        try:
            self.signer = OrderSigner(private_key.reveal(), chain_id, funder=funder, signature_type=signature_type)
        except ValueError as exc:
            raise ConfigError(f"polymarket: {exc} (set polymarket.private_key, chain_id, signature_type)") from None
        self.dry_run = dry_run
        self._http = PolymarketOrderHttp(base_url, signer=self.signer, transport=transport, max_retries=max_retries,
                                         sleep=sleep)  # fmt: skip
        self._http.creds = creds
        self._started = False
        self._ticks: dict[str, int] = {}
        self._neg_risk: dict[str, bool] = {}
        self._by_client: dict[str, str] = {}
        """client_order_id → orderID, for orders the venue answered (or would have: dry run)."""
        self._by_venue: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"PolymarketOrderGateway({self._http.base_url!r}, address={self.signer.address!r})"

    @property
    def address(self) -> str:
        """The signer's address."""
        return self.signer.address

    @property
    def funder(self) -> str:
        """The address holding the funds (the order's ``maker``)."""
        return self.signer.funder

    @property
    def client_orders(self) -> dict[str, str]:
        """``client_order_id`` → the venue's ``orderID`` of every order this gateway placed (a copy)."""
        return dict(self._by_client)

    def remember(self, client_order_id: str, venue_order_id: str) -> None:
        """Restore one ``client_order_id`` → ``orderID`` link (from the journal, after a restart)."""
        self._by_client[client_order_id] = venue_order_id
        self._by_venue[venue_order_id] = client_order_id

    # -- life ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Derive the L2 credentials when none are configured (``GET /auth/derive-api-key``, else
        ``POST /auth/api-key``, with L1 headers); idempotent. A dry run derives nothing.

        Raises:
            AuthError: the venue refused the wallet's L1 signature.
        """
        if self._started:
            return
        if self._http.creds is None:
            if self.dry_run:
                self._http.creds = ApiCredentials("", "", "")
            else:
                self._http.creds = await self._derive()
        self._started = True

    async def _derive(self) -> ApiCredentials:
        answer: Any = None
        for method, path in (("GET", "/auth/derive-api-key"), ("POST", "/auth/api-key")):
            headers = self.signer.l1_headers(int(time.time()))
            try:
                answer = await self._http.call(method, path, headers=headers)
            except RequestError:
                continue
            if isinstance(answer, dict) and answer.get("apiKey"):
                break
        if not (isinstance(answer, dict) and answer.get("apiKey") and answer.get("secret")):
            raise AuthError("polymarket: no API credentials could be derived or created for the wallet (L1)")
        log.info("polymarket API credentials derived", address=self.address)
        return ApiCredentials(str(answer["apiKey"]), str(answer["secret"]), str(answer.get("passphrase", "")))

    async def close(self) -> None:
        """Release the HTTP client."""
        await self._http.aclose()

    async def _ensure(self) -> ApiCredentials:
        if not self._started:
            await self.start()
        assert self._http.creds is not None
        return self._http.creds

    # -- market parameters and balances ----------------------------------------------------------

    async def tick_size(self, token: str) -> int:
        """The token's tick, 1/10,000 USD (``GET /tick-size?token_id=`` → ``minimum_tick_size``), cached."""
        if token not in self._ticks:
            self._ticks[token] = _decimal_units(await self._http.tick_size(token), PRICE_SCALE)
        return self._ticks[token]

    async def neg_risk(self, token: str) -> bool:
        """Whether the token's market is neg-risk (``GET /neg-risk?token_id=`` → ``neg_risk``), cached."""
        if token not in self._neg_risk:
            answer = await self._http.call("GET", "/neg-risk", params=[("token_id", token)])
            self._neg_risk[token] = bool(answer.get("neg_risk"))
        return self._neg_risk[token]

    async def balance_allowance(self, token: str = "") -> tuple[int, int | None]:
        """``(balance, allowance)`` in 6-decimal units: pUSD (``asset_type=COLLATERAL``) or the
        token's shares (``CONDITIONAL`` with ``token_id``). The allowance is the one for the V2
        exchange (``allowances`` keyed by spender, or a single ``allowance``); ``None`` when the
        answer names none."""
        params = [("asset_type", "CONDITIONAL" if token else "COLLATERAL")]
        if token:
            params.append(("token_id", token))
        params.append(("signature_type", str(self.signer.signature_type)))
        answer = await self._http.call("GET", "/balance-allowance", params=params)
        balance = int(Decimal(str(answer.get("balance") or "0")))
        allowances = answer.get("allowances")
        if isinstance(allowances, dict) and allowances:
            return balance, min(int(Decimal(str(v))) for v in allowances.values())
        if answer.get("allowance") not in (None, ""):
            return balance, int(Decimal(str(answer["allowance"])))
        return balance, None

    async def balance(self) -> int:
        """Free pUSD, 1/1,000,000 USD (``GET /balance-allowance?asset_type=COLLATERAL``)."""
        await self._ensure()
        return (await self.balance_allowance())[0]

    async def positions(self, symbols: Sequence[str]) -> dict[str, int]:
        """Each token's shares (1/1,000,000), keyed ``polymarket:<token id>``: its CONDITIONAL
        balance (``GET /balance-allowance``)."""
        await self._ensure()
        out: dict[str, int] = {}
        for symbol in symbols:
            token = _token(symbol)
            out[_PREFIX + token] = (await self.balance_allowance(token))[0]
        return out

    # -- place -----------------------------------------------------------------------------------

    def _rejected(self, order: OrderRequest, reason: str, venue_order_id: str = "") -> PlaceResult:
        return PlaceResult(
            report=ExecReport(client_order_id=order.client_order_id, venue_order_id=venue_order_id,
                              state=OrderState.REJECTED, reason=reason, ts_event=time.time_ns())
        )  # fmt: skip

    async def _market(self, order: OrderRequest, token: str) -> tuple[int, bool]:
        if self.dry_run:
            tick = order.tick or self._ticks.get(token, DEFAULT_TICK)
            return tick, order.neg_risk or self._neg_risk.get(token, False)
        tick = order.tick or await self.tick_size(token)
        neg = order.neg_risk or await self.neg_risk(token)
        return tick, neg

    async def place(self, orders: Sequence[OrderRequest]) -> list[PlaceResult]:
        """Sign and send ``orders`` (one: ``POST /order``; several: ``POST /orders`` in batches
        of :data:`BATCH_LIMIT`); one result per order, in order.

        Refused here, before signing (``rejected``): a symbol that is not a token id
        (``symbol``), a price off the tick or outside ``[tick, 1 − tick]`` (``tick``), a size
        that rounds to nothing (``size``), a buy costing more than the pUSD balance or allowance
        or a sell of more shares than held or allowed (``balance`` / ``allowance``). An order
        already answered (same ``client_order_id``) is not sent again: its current report comes
        back. A matched answer's fills are read from ``GET /data/trades?id=`` for each of its
        ``tradeIDs`` (exact prices, sizes and fees, the trade ids as fill ids; as the official
        client resolves them; a trade not readable now is left to the user channel and
        :meth:`fills`); an answer with no ``tradeIDs`` gives one fill ``<orderID>:0`` at the
        average price. The venue's refusal of one order is its report (``rejected`` with the
        venue's words; a FAK with nothing to take or a FOK it cannot fill: ``cancelled``; a
        duplicate: the existing order's report).

        Raises:
            AuthError, RateLimited, TransportError: the venue refused or missed the request as a whole.
        """
        creds = await self._ensure()
        results: list[PlaceResult | None] = [None] * len(orders)
        ready: list[tuple[int, OrderRequest, SignedOrder, dict[str, Any]]] = []
        cash: list[int | None] | None = None  # [balance, allowance] left for this call's buys
        for index, order in enumerate(orders):
            try:
                token = _token(order.symbol)
            except ValueError:
                results[index] = self._rejected(order, "symbol")
                continue
            known = self._by_client.get(order.client_order_id)
            if known is not None and not self.dry_run and await self._get_order(known) is not None:
                results[index] = await self._existing(order, known, "")  # answered before: not sent again
                continue
            tick, neg = await self._market(order, token)
            if tick not in TICK_SIZES or order.price % tick or not tick <= order.price <= PRICE_ONE - tick:
                results[index] = self._rejected(order, "tick")
                continue
            side: OrderSideText = "BUY" if order.side == "buy" else "SELL"
            maker, taker = order_amounts(side, order.price, order.size, tick)
            if maker <= 0 or taker <= 0:
                results[index] = self._rejected(order, "size")
                continue
            if not self.dry_run:
                if side == "BUY":
                    if cash is None:
                        cash = list(await self.balance_allowance())
                    reason = self._short(maker, cash)
                else:
                    reason = self._short(maker, list(await self.balance_allowance(token)))
                if reason:
                    results[index] = self._rejected(order, reason)
                    continue
            signed = self.signer.sign(token_id=token, side=side, maker_amount=maker, taker_amount=taker,
                                      salt=order_salt(order.client_order_id),
                                      timestamp_ms=order.created_ns // 1_000_000, neg_risk=neg)  # fmt: skip
            ready.append((index, order, signed, signed.payload(creds.api_key, ORDER_TYPES[order.tif])))
        for start in range(0, len(ready), BATCH_LIMIT):
            chunk = ready[start : start + BATCH_LIMIT]
            for (index, *_), result in zip(chunk, await self._post(chunk), strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    @staticmethod
    def _short(amount: int, funds: list[int | None]) -> str:
        # "balance" / "allowance" when ``amount`` exceeds what is left; else take it from both
        balance, allowance = funds[0] or 0, funds[1]
        if amount > balance:
            return "balance"
        if allowance is not None and amount > allowance:
            return "allowance"
        funds[0] = balance - amount
        if allowance is not None:
            funds[1] = allowance - amount
        return ""

    async def _post(self, chunk: list[tuple[int, OrderRequest, SignedOrder, dict[str, Any]]]) -> list[PlaceResult]:
        single = len(chunk) == 1
        path = "/order" if single else "/orders"
        body = _JSON.encode(chunk[0][3] if single else [entry for *_, entry in chunk])
        if self.dry_run:
            request = self._dry_request("POST", path, body)
            out = []
            for _, order, signed, _ in chunk:
                self.remember(order.client_order_id, signed.order_hash)
                out.append(
                    PlaceResult(report=ExecReport(client_order_id=order.client_order_id,
                                                  venue_order_id=signed.order_hash, state=OrderState.REJECTED,
                                                  reason="dry_run", ts_event=time.time_ns()), request=request)
                )  # fmt: skip
            return out
        try:
            answer = await self._http.call("POST", path, body=body)
        except RequestError as exc:
            if not single:
                raise
            answer = {"success": False, "errorMsg": _error_text(exc), "orderID": ""}
        answers = [answer] if single else list(answer or [])
        if len(answers) != len(chunk):
            raise DecodeError(f"POST {path}: {len(answers)} answers for {len(chunk)} orders")
        return [
            await self._answer(order, signed, entry if isinstance(entry, dict) else {})
            for (_, order, signed, _), entry in zip(chunk, answers, strict=True)
        ]

    def _dry_request(self, method: str, path: str, body: bytes | None) -> dict[str, object]:
        # The exact request, signed as it would be sent, logged with its secrets replaced
        request = self._http.build(method, path, body)
        headers = {k.decode(): v.decode() for k, v in request.headers.raw}
        shown = redact_request(
            {"method": method, "url": str(request.url), "headers": headers,
             "body": msgspec.json.decode(body) if body is not None else None}
        )  # fmt: skip
        log.warning("polymarket dry-run request, not sent", **shown)  # warning: shown at the default level
        return shown

    async def _answer(self, order: OrderRequest, signed: SignedOrder, answer: dict[str, Any]) -> PlaceResult:
        # One order's answer (SendOrderResponse: success, errorMsg, orderID, status,
        # makingAmount, takingAmount, tradeIDs) → its report and fills
        error = str(answer.get("errorMsg") or "")
        order_id = str(answer.get("orderID") or signed.order_hash)
        now = time.time_ns()
        if error or answer.get("success") is False:
            if _is_duplicate(error):
                return await self._existing(order, signed.order_hash, error)
            if _is_kill(error):
                self.remember(order.client_order_id, order_id)
                return PlaceResult(
                    report=ExecReport(client_order_id=order.client_order_id, venue_order_id=order_id,
                                      state=OrderState.CANCELLED, reason=error, ts_event=now)
                )  # fmt: skip
            return self._rejected(order, error or "rejected", order_id if answer.get("orderID") else "")
        self.remember(order.client_order_id, order_id)
        status = _status(answer.get("status"))
        making, taking = _amount(answer.get("makingAmount")), _amount(answer.get("takingAmount"))
        shares = taking if signed.side == "BUY" else making
        paid = making if signed.side == "BUY" else taking
        wanted = signed.taker_amount if signed.side == "BUY" else signed.maker_amount
        fills: list[ExecFill] = []
        if shares > 0 or status == "MATCHED":
            fills = await self._resolve(order, order_id, [str(t) for t in answer.get("tradeIDs") or []], shares, paid)
            shares = max(shares, sum(f.size for f in fills))
        if status == "MATCHED" or shares:
            if shares >= wanted:
                state = OrderState.FILLED
            elif order.tif == "GTC":
                state = OrderState.PARTIALLY_FILLED
            else:
                state = OrderState.CANCELLED  # the rest of a FAK is killed
        elif status == "UNMATCHED" and order.tif != "GTC":
            state = OrderState.CANCELLED
        else:
            state = OrderState.ACCEPTED  # live, delayed (a taker delay), unmatched GTC
        reason = "" if state is not OrderState.CANCELLED else "unfilled rest cancelled (FAK)"
        if status == "DELAYED":
            reason = "delayed"
        report = ExecReport(client_order_id=order.client_order_id, venue_order_id=order_id, state=state,
                            filled=shares, reason=reason, ts_event=now)  # fmt: skip
        return PlaceResult(report=report, fills=fills)

    async def _resolve(
        self, order: OrderRequest, order_id: str, trade_ids: list[str], shares: int, paid: int
    ) -> list[ExecFill]:
        # The fills of a matched answer: each trade read back (GET /data/trades?id=) as the
        # official client does (client.py _wait_for_resolved_trades), else one average fill
        # (trades not readable now are left to the user channel and fills(): their ids are known,
        # an average fill under another id would count them twice)
        fills: list[ExecFill] = []
        answers = await asyncio.gather(
            *(self._http.call("GET", "/data/trades", params=[("id", t), ("next_cursor", START_CURSOR)])
              for t in trade_ids),
            return_exceptions=True,
        )  # fmt: skip
        for trade_id, answer in zip(trade_ids, answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, VenueError):
                    raise answer
                log.warning("polymarket trade not read back", trade_id=trade_id, order_id=order_id, error=str(answer))
                continue
            for trade in (answer or {}).get("data") or []:
                if str(trade.get("id")) == trade_id:
                    fills.extend(f for f in fills_of(trade, our_orders=self._client_of, api_key=self._key())
                                 if f.venue_order_id == order_id)  # fmt: skip
        if trade_ids or shares <= 0:
            return fills
        price = (paid * PRICE_SCALE * 2 + shares) // (2 * shares)
        return [
            ExecFill(client_order_id=order.client_order_id, venue_order_id=order_id, fill_id=f"{order_id}:0",
                     price=price, size=shares, fee=0, ts_event=time.time_ns(), taker=True)
        ]  # fmt: skip

    def _key(self) -> str:
        return self._http.creds.api_key if self._http.creds is not None else ""

    def _client_of(self, order_id: str) -> str | None:
        return self._by_venue.get(order_id)

    async def _existing(self, order: OrderRequest, order_id: str, reason: str) -> PlaceResult:
        # An order the venue already has (a resend): its current report, never a second order
        self.remember(order.client_order_id, order_id)
        found = await self._get_order(order_id)
        if found is None:
            return self._rejected(order, reason or "unknown order", order_id)
        venue = venue_order_of(found, order.client_order_id)
        report = ExecReport(client_order_id=order.client_order_id, venue_order_id=order_id, state=venue.state,
                            filled=venue.filled, reason=reason, ts_event=time.time_ns())  # fmt: skip
        return PlaceResult(report=report)

    # -- cancel ----------------------------------------------------------------------------------

    async def cancel(self, venue_order_ids: Sequence[str]) -> list[ExecReport]:
        """Cancel orders: one → ``DELETE /order`` ``{"orderID"}``; several → ``DELETE /orders``
        (batches of :data:`CANCEL_LIMIT`). Answer ``{"canceled": [ids], "not_canceled": {id:
        reason}}``: a canceled order reports ``cancelled``; one not canceled reports its state
        as the venue lists it (``GET /data/order/{id}``) with the venue's reason, or
        ``rejected`` when the venue does not know it."""
        await self._ensure()
        ids = list(venue_order_ids)
        canceled: set[str] = set()
        refused: dict[str, str] = {}
        for start in range(0, len(ids), CANCEL_LIMIT):
            chunk = ids[start : start + CANCEL_LIMIT]
            if self.dry_run:
                body = _JSON.encode({"orderID": chunk[0]} if len(chunk) == 1 else chunk)
                self._dry_request("DELETE", "/order" if len(chunk) == 1 else "/orders", body)
                refused.update(dict.fromkeys(chunk, "dry_run"))
                continue
            if len(chunk) == 1:
                answer = await self._http.call("DELETE", "/order", body=_JSON.encode({"orderID": chunk[0]}))
            else:
                answer = await self._http.call("DELETE", "/orders", body=_JSON.encode(chunk))
            canceled.update(str(i) for i in (answer or {}).get("canceled") or [])
            refused.update({str(k): str(v) for k, v in ((answer or {}).get("not_canceled") or {}).items()})
        out: list[ExecReport] = []
        now = time.time_ns()
        for order_id in ids:
            client = self._by_venue.get(order_id, "")
            if order_id in canceled:
                out.append(ExecReport(client_order_id=client, venue_order_id=order_id, state=OrderState.CANCELLED,
                                      reason="cancelled", ts_event=now))  # fmt: skip
                continue
            reason = refused.get(order_id, "not canceled")
            found = None if self.dry_run else await self._get_order(order_id)
            if found is None:
                out.append(ExecReport(client_order_id=client, venue_order_id=order_id, state=OrderState.REJECTED,
                                      reason=reason, ts_event=now))  # fmt: skip
            else:
                venue = venue_order_of(found, client)
                out.append(ExecReport(client_order_id=client, venue_order_id=order_id, state=venue.state,
                                      filled=venue.filled, reason=reason, ts_event=now))  # fmt: skip
        return out

    async def cancel_all(self) -> list[str]:
        """Cancel every open order (``DELETE /cancel-all``); the ids the venue canceled."""
        await self._ensure()
        if self.dry_run:
            self._dry_request("DELETE", "/cancel-all", None)
            return []
        answer = await self._http.call("DELETE", "/cancel-all")
        return [str(i) for i in (answer or {}).get("canceled") or []]

    # -- read ------------------------------------------------------------------------------------

    async def _pages(self, path: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = START_CURSOR
        for _ in range(10_000):
            answer = await self._http.call("GET", path, params=[*params, ("next_cursor", cursor)])
            out.extend(e for e in (answer or {}).get("data") or [] if isinstance(e, dict))
            cursor = str((answer or {}).get("next_cursor") or END_CURSOR)
            if cursor == END_CURSOR:
                break
        return out

    async def open_orders(self) -> list[VenueOrder]:
        """The account's open orders (``GET /data/orders``, every page)."""
        await self._ensure()
        return [
            venue_order_of(o, self._by_venue.get(str(o.get("id")), "")) for o in await self._pages("/data/orders", [])
        ]

    async def _get_order(self, order_id: str) -> dict[str, Any] | None:
        try:
            answer = await self._http.call("GET", f"/data/order/{order_id}")
        except RequestError as exc:
            if exc.status in (400, 404):
                return None
            raise
        return answer if isinstance(answer, dict) and answer.get("id") else None

    async def recall(self, request: OrderRequest) -> str:
        """The ``orderID`` ``request`` was (or would be) given: the hash of the order :meth:`place`
        signs for it (salt from the client order id, timestamp its creation ms, amounts by the
        market's tick), remembered for :meth:`order` and :meth:`fills`; ``""`` when it cannot be
        rebuilt (not a token id, a price off the tick)."""
        try:
            token = _token(request.symbol)
        except ValueError:
            return ""
        tick, neg = await self._market(request, token)
        side: OrderSideText = "BUY" if request.side == "buy" else "SELL"
        maker, taker = order_amounts(side, request.price, request.size, tick)
        if maker <= 0 or taker <= 0:
            return ""
        signed = self.signer.sign(token_id=token, side=side, maker_amount=maker, taker_amount=taker,
                                  salt=order_salt(request.client_order_id),
                                  timestamp_ms=request.created_ns // 1_000_000, neg_risk=neg)  # fmt: skip
        self.remember(request.client_order_id, signed.order_hash)
        return str(signed.order_hash)

    async def order(self, client_order_id: str, venue_order_id: str = "") -> VenueOrder | None:
        """One order (``GET /data/order/{id}``) by the venue's id, or by ours through the
        ``client_order_id`` → ``orderID`` map; ``None`` when neither is known to the venue."""
        await self._ensure()
        order_id = venue_order_id or self._by_client.get(client_order_id, "")
        if not order_id:
            return None
        found = await self._get_order(order_id)
        return None if found is None else venue_order_of(found, client_order_id or self._by_venue.get(order_id, ""))

    async def fills(self, since_ns: int) -> list[ExecFill]:
        """Our fills since ``since_ns`` (``GET /data/trades?maker_address=<funder>&after=<s>``,
        every page), oldest first; see :func:`fills_of` for ids and terms; fee in money units."""
        await self._ensure()
        params = [("maker_address", self.funder), ("after", str(since_ns // 1_000_000_000))]
        out: list[ExecFill] = []
        for trade in await self._pages("/data/trades", params):
            out.extend(fills_of(trade, our_orders=self._client_of, api_key=self._key(), address=self.funder))
        return sorted((f for f in out if f.ts_event >= since_ns), key=lambda f: f.ts_event)


def order_gateway(
    config: HadronConfig, *, base_url: str | None = None, dry_run: bool = False
) -> PolymarketOrderGateway:
    """The :class:`PolymarketOrderGateway` of ``config.polymarket`` (``base_url`` overrides
    ``rest_url``).

    Raises:
        ConfigError: no wallet key (orders cannot be signed), or a partial set of API credentials.
    """
    poly = config.polymarket
    if not poly.private_key:
        raise ConfigError(
            "polymarket live orders need the wallet's key to sign them: set polymarket.private_key "
            "(or POLYMARKET_PRIVATE_KEY); the API credentials (polymarket.api_key/api_secret/api_passphrase, "
            "POLYMARKET_API_KEY/_SECRET/_PASSPHRASE) are derived from it when not set"
        )
    given = [bool(poly.api_key), bool(poly.api_secret), bool(poly.api_passphrase)]
    if any(given) and not all(given):
        raise ConfigError(
            "polymarket: set all three of api_key, api_secret and api_passphrase "
            "(POLYMARKET_API_KEY/_SECRET/_PASSPHRASE), or none to derive them from private_key"
        )
    creds = (
        ApiCredentials(poly.api_key.reveal(), poly.api_secret.reveal(), poly.api_passphrase.reveal())
        if all(given)
        else None
    )
    return PolymarketOrderGateway(
        private_key=poly.private_key,
        creds=creds,
        base_url=base_url or poly.rest_url or CLOB_URL,
        chain_id=poly.chain_id,
        funder=poly.funder,
        signature_type=poly.signature_type,
        dry_run=dry_run,
    )


__all__ = [
    "BATCH_LIMIT",
    "CANCEL_LIMIT",
    "ORDER_TYPES",
    "PolymarketOrderGateway",
    "PolymarketOrderHttp",
    "fills_of",
    "order_gateway",
    "redact_request",
    "state_of",
    "trade_fee",
    "venue_order_of",
]
