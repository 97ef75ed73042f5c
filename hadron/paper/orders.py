"""What the paper trader keeps of its trading: orders, pair trades, counts, and the listeners
told of them (:class:`~hadron.paper.trader.PaperTrader`).

Money is int, 1/10,000,000,000 USD; sizes int, 1/1,000,000 share; prices int, 1/10,000 USD;
times int, ns since the epoch (event time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from hadron.arb.opportunity import Leg
from hadron.model.events import Level
from hadron.model.fees import FeeModel
from hadron.model.orders import OrderState

Role = Literal["entry", "retry", "unwind"]
"""Why an order was sent: ``entry`` (a leg of the trade), ``retry`` (the short leg again) or ``unwind`` (a sale)."""


@dataclass(slots=True)
class PaperOrder:
    """One simulated order and what happened to it.

    Attributes:
        order_id / trade_id / opportunity_id: ids (deterministic within a run).
        role: ``entry`` (a leg of the trade), ``retry`` (the short leg again) or ``unwind`` (a sale).
        leg: index of the trade's leg. venue / instrument / outcome / from_bids: see
            :class:`~hadron.arb.opportunity.Leg`. side: ``buy`` or ``sell``.
        limit: worst price accepted, 1/10,000 USD, in the outcome's terms. size: 1/1,000,000 share.
        tif: ``IOC`` or ``FOK``. created_ns / arrival_ns: decision and venue arrival (event time).
        status: ``working``, ``filled``, ``partially_filled``, ``cancelled`` (nothing filled) or
            ``rejected``; reason says why when not filled.
        filled / cost / fee: size filled, its cost (or proceeds) and fee, money units.
        fills: ``(price, size)`` fills in the outcome's terms.
        state: where the order is in the one order state machine
            (:class:`~hadron.model.orders.OrderState`: pending → accepted → partially filled →
            filled / cancelled / rejected / expired); ``status`` is the summary word of its end.
        client_order_id: the id the venue knows it by (live: unique per account, stable across
            restarts); venue_order_id: the venue's own id once it answered (live).
    """

    order_id: str
    trade_id: str
    opportunity_id: str
    role: Role
    leg: int
    venue: str
    instrument: str
    outcome: str
    from_bids: bool
    side: Literal["buy", "sell"]
    limit: int
    size: int
    tif: str
    created_ns: int
    arrival_ns: int
    fee_model: FeeModel = field(repr=False)
    status: str = "working"
    reason: str = ""
    filled: int = 0
    cost: int = 0
    fee: int = 0
    fills: list[Level] = field(default_factory=list)
    done_ns: int = 0
    state: OrderState = OrderState.PENDING
    client_order_id: str = ""
    venue_order_id: str = ""


@dataclass(slots=True)
class PairTrade:
    """One taken opportunity: its legs' orders and how the race ended.

    ``state``: ``working``; ``hedged`` (every leg filled the same size, > 0); ``missed`` (nothing
    filled); ``unwound`` (the imbalance was retried or sold back to zero); ``imbalanced`` (still
    unequal after the policy ran). ``unwind_cost``: money lost (or, negative, gained) by retries
    and sales compared with the planned prices.
    """

    trade_id: str
    opportunity_id: str
    pair: str
    kind: str
    legs: list[Leg]
    size: int
    planned_net: int
    created_ns: int
    orders: list[PaperOrder] = field(default_factory=list)
    filled: list[int] = field(default_factory=list)
    retries_left: int = 0
    sold_back: bool = False
    state: str = "working"
    unwind_cost: int = 0
    legs_failed: int = 0
    exposure: int = 0


@dataclass(slots=True)
class PaperStats:
    """Counts for the summary."""

    opportunities_seen: int = 0
    opportunities_taken: int = 0
    decisions: int = 0
    rejections: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    downsized: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    orders: int = 0
    fills: int = 0
    cancelled_by_kill: int = 0
    settlements: int = 0
    orders_done: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Orders finished, by status (``filled``, ``partially_filled``, ``cancelled``, ``rejected``)."""


FillListener = Callable[[PaperOrder, Level, int, int], None]
"""Called with ``(order, (price, size), fee, ts_ns)`` for every fill (reports, state store)."""
OrderListener = Callable[[PaperOrder], None]
"""Called with an order when it is placed and when it is done."""
