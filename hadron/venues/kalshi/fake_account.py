"""The loopback Kalshi venue's private channels: a script of orders (see
:mod:`hadron.venues.account_script`) turned into the frames Kalshi sends a signed client
subscribed to ``user_orders``, ``fill``, ``market_positions`` and ``order_group_updates`` (the
shapes of Kalshi AsyncAPI ``userOrder``, ``fill``, ``marketPosition``). Dollar strings are
computed with :class:`~decimal.Decimal` (never floats).
"""

from __future__ import annotations

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
        base = {
            "order_id": order_id,
            "user_id": "fake-user",
            "ticker": order.instrument,
            "outcome_side": order.side,
            "book_side": "bid" if yes else "ask",
            "yes_price_dollars": f"{price:.4f}",
            "initial_count_fp": f"{count:.2f}",
            "client_order_id": client_id,
            "created_ts_ms": now_ms,
        }
        if order.cancel:  # the rest of an order placed earlier is canceled
            return [("user_orders", {**base, "status": "canceled", "fill_count_fp": f"{filled:.2f}",
                                     "remaining_count_fp": "0.00", "last_updated_ts_ms": now_ms})]  # fmt: skip
        out: list[tuple[str, dict[str, Any]]] = [
            ("user_orders", {**base, "status": "resting", "fill_count_fp": "0.00", "remaining_count_fp": f"{count:.2f}",
                             "last_updated_ts_ms": now_ms}),
        ]  # fmt: skip
        if filled <= 0:
            return out
        # Kalshi's taker fee, rounded up to the cent (hadron.venues.kalshi.fees)
        fee = Decimal(taker_fee(fill_units, price_units)) / PRICE_SCALE
        pos = self.positions.setdefault(order.instrument, _Position())
        pos.position += filled if yes else -filled
        pos.cost += filled * (price if yes else 1 - price)
        pos.volume += filled
        pos.fees += fee
        out.append(("fill", {
            "trade_id": f"{order_id}-fill", "order_id": order_id, "market_ticker": order.instrument,
            "is_taker": True, "outcome_side": order.side, "book_side": base["book_side"],
            "yes_price_dollars": f"{price:.4f}", "count_fp": f"{filled:.2f}", "fee_cost": f"{fee:.4f}",
            "client_order_id": base["client_order_id"], "post_position_fp": f"{pos.position:.2f}",
            "ts_ms": now_ms + 1,
        }))  # fmt: skip
        rest = count - filled
        out.append(("user_orders", {**base, "status": "executed" if rest <= 0 else "resting",
                                    "fill_count_fp": f"{filled:.2f}", "remaining_count_fp": f"{rest:.2f}",
                                    "last_updated_ts_ms": now_ms + 1}))  # fmt: skip
        out.append(("market_positions", {
            "user_id": "fake-user", "market_ticker": order.instrument, "position_fp": f"{pos.position:.2f}",
            "position_cost_dollars": f"{pos.cost:.4f}", "realized_pnl_dollars": "0.0000",
            "fees_paid_dollars": f"{pos.fees:.4f}", "position_fee_cost_dollars": f"{pos.fees:.4f}",
            "volume_fp": f"{pos.volume:.2f}",
        }))  # fmt: skip
        return out
