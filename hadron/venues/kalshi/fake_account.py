"""The loopback Kalshi venue's private channels: a script of orders (see
:mod:`hadron.venues.account_script`) turned into the frames Kalshi sends a signed client
subscribed to ``user_orders``, ``fill``, ``market_positions`` and ``order_group_updates`` (the
shapes of Kalshi AsyncAPI ``userOrder``, ``fill``, ``marketPosition``). Dollar strings are
computed with :class:`~decimal.Decimal` (never floats).

The message builders (:func:`user_order_msg`, :func:`fill_msg`, :func:`position_msg`) are shared
with the loopback exchange (:mod:`hadron.venues.kalshi.fake_orders`), whose real orders go out in
the same shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hadron.model.units import PRICE_SCALE, parse_price, parse_size
from hadron.venues.account_script import ScriptedOrder
from hadron.venues.kalshi.fees import taker_fee

CHANNEL_TYPES = {
    "user_orders": "user_order",
    "fill": "fill",
    "market_positions": "market_position",
    "order_group_updates": "order_group_updates",
}
"""Private channel → the ``type`` of its messages."""
USER_ID = "fake-user"
"""The loopback account's ``user_id``."""


def user_order_msg(
    *,
    order_id: str,
    client_order_id: str,
    ticker: str,
    outcome_side: str,
    yes_price: str,
    status: str,
    initial: str,
    filled: str,
    remaining: str,
    created_ms: int,
    updated_ms: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``user_order`` message (AsyncAPI ``userOrderPayload.msg``): the order's ids, market,
    direction (``outcome_side`` and its ``book_side``: bid for yes, ask for no), YES limit
    ``yes_price`` (dollars), status (resting, canceled, executed) and ``*_count_fp`` counts;
    ``extra`` adds fields (the loopback exchange's ``side``, ``is_yes``, costs and fees)."""
    msg: dict[str, Any] = {
        "order_id": order_id,
        "user_id": USER_ID,
        "ticker": ticker,
        "outcome_side": outcome_side,
        "book_side": "bid" if outcome_side == "yes" else "ask",
        "yes_price_dollars": yes_price,
        "initial_count_fp": initial,
        "client_order_id": client_order_id,
        "created_ts_ms": created_ms,
        "status": status,
        "fill_count_fp": filled,
        "remaining_count_fp": remaining,
        "last_updated_ts_ms": updated_ms,
    }
    if extra:
        msg.update(extra)
    return msg


def fill_msg(
    *,
    trade_id: str,
    order_id: str,
    client_order_id: str,
    ticker: str,
    outcome_side: str,
    yes_price: str,
    count: str,
    fee: str,
    post_position: str,
    ts_ms: int,
    is_taker: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``fill`` message (AsyncAPI ``fillPayload.msg``): ``trade_id``, the order's ids, market,
    exposure (``outcome_side``/``book_side``), the trade's YES price (dollars), ``count_fp``,
    ``fee_cost`` (dollars), ``post_position_fp`` (+YES/−NO) and ``ts_ms``; ``extra`` adds fields
    (the loopback exchange's ``side``, ``action``, ``purchased_side``, ``ts``)."""
    msg: dict[str, Any] = {
        "trade_id": trade_id,
        "order_id": order_id,
        "market_ticker": ticker,
        "is_taker": is_taker,
        "outcome_side": outcome_side,
        "book_side": "bid" if outcome_side == "yes" else "ask",
        "yes_price_dollars": yes_price,
        "count_fp": count,
        "fee_cost": fee,
        "client_order_id": client_order_id,
        "post_position_fp": post_position,
        "ts_ms": ts_ms,
    }
    if extra:
        msg.update(extra)
    return msg


def position_msg(
    *, ticker: str, position: str, cost: str, fees: str, volume: str, realized_pnl: str = "0.0000"
) -> dict[str, Any]:
    """A ``market_position`` message (AsyncAPI ``marketPositionPayload.msg``): signed
    ``position_fp`` (+YES/−NO), cost basis, realized P&L and fees (dollars), ``volume_fp``."""
    return {
        "user_id": USER_ID,
        "market_ticker": ticker,
        "position_fp": position,
        "position_cost_dollars": cost,
        "realized_pnl_dollars": realized_pnl,
        "fees_paid_dollars": fees,
        "position_fee_cost_dollars": fees,
        "volume_fp": volume,
    }


@dataclass
class _Position:
    position: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    volume: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)


@dataclass
class KalshiAccountScript:
    """Plays scripted orders: each becomes ``(channel, msg)`` pairs in the order Kalshi sends them
    (the order resting, then per fill: the fill, the order's new state, the position; a
    ``cancel`` entry: the order ``canceled`` with what it had filled)."""

    positions: dict[str, _Position] = field(default_factory=dict)
    played: int = 0
    client_ids: dict[str, str] = field(default_factory=dict)
    """order id → the ``client_order_id`` it was placed with (a cancel reports the same)."""

    def frames(self, order: ScriptedOrder, now_ms: int) -> list[tuple[str, dict[str, Any]]]:
        """The private messages of one scripted order (``msg`` objects; the venue adds type and sid)."""
        if order.side not in ("yes", "no"):
            raise ValueError(f"Kalshi scripted order side {order.side!r} must be yes or no")
        # checked as load_script does (a ValueError / DecodeError here: the player logs and goes on)
        price_units, count_units, fill_units = parse_price(order.price), parse_size(order.count), parse_size(order.fill)
        if not 0 < price_units < PRICE_SCALE or count_units <= 0 or not 0 <= fill_units <= count_units:
            raise ValueError(f"Kalshi scripted order needs 0 < price < 1 and 0 <= fill <= count > 0, got {order}")
        self.played += 1
        order_id = order.order_id or f"fake-order-{self.played}"
        client_id = self.client_ids.setdefault(order_id, f"script-{self.played}")
        price, count, filled = Decimal(order.price), Decimal(order.count), Decimal(order.fill)
        yes = order.side == "yes"

        def user_order(status: str, fill: str, rest: str, updated_ms: int) -> tuple[str, dict[str, Any]]:
            msg = user_order_msg(order_id=order_id, client_order_id=client_id, ticker=order.instrument,
                                 outcome_side=order.side, yes_price=f"{price:.4f}", status=status,
                                 initial=f"{count:.2f}", filled=fill, remaining=rest, created_ms=now_ms,
                                 updated_ms=updated_ms)  # fmt: skip
            return "user_orders", msg

        if order.cancel:  # the rest of an order placed earlier is canceled
            return [user_order("canceled", f"{filled:.2f}", "0.00", now_ms)]
        out: list[tuple[str, dict[str, Any]]] = [user_order("resting", "0.00", f"{count:.2f}", now_ms)]
        if filled <= 0:
            return out
        # Kalshi's taker fee, rounded up to the cent (hadron.venues.kalshi.fees)
        fee = Decimal(taker_fee(fill_units, price_units)) / PRICE_SCALE
        pos = self.positions.setdefault(order.instrument, _Position())
        pos.position += filled if yes else -filled
        pos.cost += filled * (price if yes else 1 - price)
        pos.volume += filled
        pos.fees += fee
        out.append(("fill", fill_msg(
            trade_id=f"{order_id}-fill", order_id=order_id, client_order_id=client_id, ticker=order.instrument,
            outcome_side=order.side, yes_price=f"{price:.4f}", count=f"{filled:.2f}", fee=f"{fee:.4f}",
            post_position=f"{pos.position:.2f}", ts_ms=now_ms + 1,
        )))  # fmt: skip
        rest = count - filled
        out.append(user_order("executed" if rest <= 0 else "resting", f"{filled:.2f}", f"{rest:.2f}", now_ms + 1))
        out.append(("market_positions", position_msg(
            ticker=order.instrument, position=f"{pos.position:.2f}", cost=f"{pos.cost:.4f}",
            fees=f"{pos.fees:.4f}", volume=f"{pos.volume:.2f}",
        )))  # fmt: skip
        return out
