"""Kalshi REST v2 portfolio wire types: order entry requests and the account's orders, fills,
positions, balance and order groups, as frozen msgspec structs.

Source: Kalshi OpenAPI v3.13.0 ``components/schemas``: ``CreateOrderRequest``,
``CreateOrderResponse``, ``BatchCreateOrdersRequest``/``Response``, ``BatchCancelOrdersRequest``/
``Response``, ``CancelOrderResponse``, ``GetOrdersResponse``, ``GetOrderResponse``, ``Order``,
``GetFillsResponse``, ``Fill``, ``GetPositionsResponse``, ``MarketPosition``,
``GetBalanceResponse``, ``CreateOrderGroupRequest``/``Response``, ``ErrorResponse``;
``docs/protocols/kalshi.md#orders``.

Prices stay fixed-point dollar strings (``*_dollars``: ``"0.5600"``) and counts ``*_fp`` strings
(``"10.00"``), as on the wire; never floats. Request structs leave out every field left at its
default (``omit_defaults``), so a body carries only what Hadron set. Unknown response fields are
ignored; optional ones default to empty.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

# -- requests -------------------------------------------------------------------------------------

KalshiTimeInForce = Literal["fill_or_kill", "good_till_canceled", "immediate_or_cancel"]
"""OpenAPI ``CreateOrderRequest.time_in_force`` enum."""


class KalshiCreateOrder(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One order (OpenAPI ``CreateOrderRequest``; ``POST /portfolio/orders``, an item of
    ``POST /portfolio/orders/batched``).

    ``side`` is the outcome (``yes``/``no``), ``action`` ``buy``/``sell``; ``count_fp`` the
    contracts (2 decimals); the limit is ``yes_price_dollars`` for a YES order and
    ``no_price_dollars`` for a NO order (one of them, in the outcome's own terms). Every order is a
    limit order: the v3.13.0 schema has no ``type`` field (market orders were retired).
    """

    ticker: str
    side: Literal["yes", "no"]
    action: Literal["buy", "sell"]
    client_order_id: str = ""
    count_fp: str | None = None
    yes_price_dollars: str | None = None
    no_price_dollars: str | None = None
    time_in_force: KalshiTimeInForce | None = None
    order_group_id: str | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    subaccount: int | None = None


class KalshiBatchCreateOrders(msgspec.Struct, frozen=True):
    """OpenAPI ``BatchCreateOrdersRequest`` (``POST /portfolio/orders/batched``)."""

    orders: list[KalshiCreateOrder]


class KalshiCancelItem(msgspec.Struct, frozen=True, omit_defaults=True):
    """OpenAPI ``BatchCancelOrdersRequestOrder``."""

    order_id: str
    subaccount: int | None = None


class KalshiBatchCancelOrders(msgspec.Struct, frozen=True):
    """OpenAPI ``BatchCancelOrdersRequest`` (``DELETE /portfolio/orders/batched``; the deprecated
    ``ids`` list is not sent)."""

    orders: list[KalshiCancelItem]


class KalshiCreateOrderGroup(msgspec.Struct, frozen=True, omit_defaults=True):
    """OpenAPI ``CreateOrderGroupRequest`` (``POST /portfolio/order_groups/create``):
    ``contracts_limit`` whole contracts matched over a rolling 15 s window."""

    contracts_limit: int
    subaccount: int | None = None


# -- responses ------------------------------------------------------------------------------------


class KalshiErrorResponse(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``ErrorResponse`` (also an item's ``error`` in the batch answers)."""

    code: str = ""
    message: str = ""
    details: str = ""
    service: str = ""


class KalshiOrder(msgspec.Struct, frozen=True, gc=False):
    """One order as the venue reports it (OpenAPI ``Order``).

    ``status`` ∈ resting, canceled, executed (OpenAPI ``OrderStatus``); ``side`` the outcome,
    ``action`` buy/sell; ``yes_price_dollars``/``no_price_dollars`` the limit in each outcome's
    terms; counts ``*_count_fp``; ``taker_fill_cost_dollars``/``taker_fees_dollars`` what the
    order's taker fills cost so far (aggregates: the fills themselves come from ``fill`` or
    ``GET /portfolio/fills``); times RFC 3339.
    """

    order_id: str
    ticker: str = ""
    client_order_id: str = ""
    user_id: str = ""
    side: str = ""
    action: str = ""
    type: str = ""
    status: str = ""
    yes_price_dollars: str = ""
    no_price_dollars: str = ""
    fill_count_fp: str = ""
    remaining_count_fp: str = ""
    initial_count_fp: str = ""
    taker_fill_cost_dollars: str = ""
    maker_fill_cost_dollars: str = ""
    taker_fees_dollars: str = ""
    maker_fees_dollars: str = ""
    expiration_time: str | None = None
    created_time: str | None = None
    last_update_time: str | None = None
    self_trade_prevention_type: str | None = None
    order_group_id: str | None = None
    cancel_order_on_pause: bool = False
    subaccount_number: int | None = None


class KalshiOrderResponse(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``CreateOrderResponse`` / ``GetOrderResponse``: ``{order}``."""

    order: KalshiOrder


class KalshiOrdersPage(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``GetOrdersResponse`` (``GET /portfolio/orders``): ``{orders, cursor}``."""

    orders: list[KalshiOrder] | None
    cursor: str | None = None


class KalshiBatchCreateItem(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``BatchCreateOrdersIndividualResponse``: the order, or the error refusing it."""

    client_order_id: str | None = None
    order: KalshiOrder | None = None
    error: KalshiErrorResponse | None = None


class KalshiBatchCreateResponse(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``BatchCreateOrdersResponse``: one item per order sent, in order."""

    orders: list[KalshiBatchCreateItem]


class KalshiCancelResponse(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``CancelOrderResponse`` (``DELETE /portfolio/orders/{order_id}``): the zeroed order
    and how many contracts were cancelled."""

    order: KalshiOrder
    reduced_by_fp: str = ""


class KalshiBatchCancelItem(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``BatchCancelOrdersIndividualResponse``."""

    order_id: str
    order: KalshiOrder | None = None
    reduced_by_fp: str = ""
    error: KalshiErrorResponse | None = None


class KalshiBatchCancelResponse(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``BatchCancelOrdersResponse``."""

    orders: list[KalshiBatchCancelItem]


class KalshiRestFill(msgspec.Struct, frozen=True, gc=False):
    """One fill of the account (OpenAPI ``Fill``; ``GET /portfolio/fills``).

    ``side``/``action``: the order's outcome and direction; ``yes_price_dollars`` and
    ``no_price_dollars`` the fill price in each outcome's terms; ``fee_cost`` dollars;
    ``created_time`` RFC 3339 (``ts``: the legacy Unix seconds). ``client_order_id`` is not in
    v3.13.0's schema: read when a newer venue sends it.
    """

    fill_id: str = ""
    trade_id: str = ""
    order_id: str = ""
    ticker: str = ""
    market_ticker: str = ""
    side: str = ""
    action: str = ""
    count_fp: str = ""
    yes_price_dollars: str = ""
    no_price_dollars: str = ""
    is_taker: bool = True
    created_time: str | None = None
    fee_cost: str = ""
    ts: int | None = None
    client_order_id: str = ""
    subaccount_number: int | None = None


class KalshiFillsPage(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``GetFillsResponse``: ``{fills, cursor}``."""

    fills: list[KalshiRestFill] | None
    cursor: str | None = None


class KalshiRestPosition(msgspec.Struct, frozen=True, gc=False):
    """One market position (OpenAPI ``MarketPosition``): ``position_fp`` signed, positive YES and
    negative NO contracts; dollar strings for exposure, P&L and fees."""

    ticker: str
    position_fp: str = "0"
    total_traded_dollars: str = ""
    market_exposure_dollars: str = ""
    realized_pnl_dollars: str = ""
    fees_paid_dollars: str = ""
    resting_orders_count: int = 0
    last_updated_ts: str | None = None


class KalshiPositionsPage(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``GetPositionsResponse``: ``{market_positions, event_positions, cursor}`` (the
    event positions are not read)."""

    market_positions: list[KalshiRestPosition] | None
    cursor: str | None = None


class KalshiBalance(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``GetBalanceResponse``: ``balance`` (available for trading) and
    ``portfolio_value``, integer **cents**; ``updated_ts`` Unix seconds."""

    balance: int
    portfolio_value: int = 0
    updated_ts: int = 0


class KalshiOrderGroupCreated(msgspec.Struct, frozen=True, gc=False):
    """OpenAPI ``CreateOrderGroupResponse``: ``{order_group_id}``."""

    order_group_id: str


ORDER: Final = msgspec.json.Decoder(KalshiOrderResponse)
ORDERS_PAGE: Final = msgspec.json.Decoder(KalshiOrdersPage)
BATCH_CREATE: Final = msgspec.json.Decoder(KalshiBatchCreateResponse)
CANCEL: Final = msgspec.json.Decoder(KalshiCancelResponse)
BATCH_CANCEL: Final = msgspec.json.Decoder(KalshiBatchCancelResponse)
FILLS_PAGE: Final = msgspec.json.Decoder(KalshiFillsPage)
POSITIONS_PAGE: Final = msgspec.json.Decoder(KalshiPositionsPage)
BALANCE: Final = msgspec.json.Decoder(KalshiBalance)
ORDER_GROUP_CREATED: Final = msgspec.json.Decoder(KalshiOrderGroupCreated)

__all__ = [
    "BALANCE",
    "BATCH_CANCEL",
    "BATCH_CREATE",
    "CANCEL",
    "FILLS_PAGE",
    "ORDER",
    "ORDERS_PAGE",
    "ORDER_GROUP_CREATED",
    "POSITIONS_PAGE",
    "KalshiBalance",
    "KalshiBatchCancelItem",
    "KalshiBatchCancelOrders",
    "KalshiBatchCancelResponse",
    "KalshiBatchCreateItem",
    "KalshiBatchCreateOrders",
    "KalshiBatchCreateResponse",
    "KalshiCancelItem",
    "KalshiCancelResponse",
    "KalshiCreateOrder",
    "KalshiCreateOrderGroup",
    "KalshiErrorResponse",
    "KalshiFillsPage",
    "KalshiOrder",
    "KalshiOrderGroupCreated",
    "KalshiOrderResponse",
    "KalshiOrdersPage",
    "KalshiPositionsPage",
    "KalshiRestFill",
    "KalshiRestPosition",
    "KalshiTimeInForce",
]
