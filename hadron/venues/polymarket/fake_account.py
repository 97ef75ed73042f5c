"""The loopback Polymarket venue's user channel: a script of orders (see
:mod:`hadron.venues.account_script`) turned into the ``order`` and ``trade`` messages Polymarket
sends an authenticated client (shapes of ``docs/protocols/polymarket.md#user-channel``: ``timestamp`` in ms,
``created_at`` and ``match_time`` in seconds). The trades are ours as the taker.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hadron.model.units import PRICE_ONE, parse_price, parse_size
from hadron.venues.account_script import ScriptedOrder

OWNER = "fake-api-key-owner"


@dataclass
class PolymarketAccountScript:
    """Plays scripted orders into user-channel messages, in the order the venue sends them (a
    ``cancel`` entry: the order's CANCELLATION)."""

    played: int = 0

    def frames(self, order: ScriptedOrder, now_ms: int) -> list[dict[str, Any]]:
        """The user-channel messages of one scripted order."""
        if order.side not in ("BUY", "SELL"):
            raise ValueError(f"Polymarket scripted order side {order.side!r} must be BUY or SELL")
        # checked as load_script does (a ValueError / DecodeError here: the player logs and goes on)
        price, count_units, fill_units = parse_price(order.price), parse_size(order.count), parse_size(order.fill)
        if not 0 < price < PRICE_ONE or count_units <= 0 or not 0 <= fill_units <= count_units:
            raise ValueError(f"Polymarket scripted order needs 0 < price < 1 and 0 <= fill <= count > 0, got {order}")
        self.played += 1
        order_id = order.order_id or f"0xfake{self.played:060x}"
        count, filled = Decimal(order.count), Decimal(order.fill)
        base = {
            "event_type": "order", "id": order_id, "market": order.market, "asset_id": order.instrument,
            "side": order.side.upper(), "price": order.price, "original_size": order.count, "outcome": "Yes",
            "owner": OWNER, "order_owner": OWNER, "order_type": "GTC", "created_at": str(now_ms // 1000),
            "associate_trades": [],
        }  # fmt: skip
        if order.cancel:  # the rest of an order placed earlier is canceled
            return [{**base, "type": "CANCELLATION", "status": "CANCELED", "size_matched": order.fill,
                     "timestamp": str(now_ms)}]  # fmt: skip
        out: list[dict[str, Any]] = [
            {**base, "type": "PLACEMENT", "status": "LIVE", "size_matched": "0", "timestamp": str(now_ms)}
        ]
        if filled <= 0:
            return out
        trade = {
            "event_type": "trade", "type": "TRADE", "id": f"fake-trade-{self.played}", "taker_order_id": order_id,
            "market": order.market, "asset_id": order.instrument, "side": order.side.upper(), "size": order.fill,
            "price": order.price, "fee_rate_bps": "0", "match_time": str(now_ms // 1000),
            "last_update": str(now_ms // 1000), "outcome": "Yes", "owner": OWNER, "trade_owner": OWNER,
            "trader_side": "TAKER", "maker_orders": [],
        }  # fmt: skip
        out.append({**trade, "status": "MATCHED", "timestamp": str(now_ms + 1)})
        done = "MATCHED" if filled >= count else "LIVE"
        out.append({**base, "type": "UPDATE", "status": done, "size_matched": order.fill, "timestamp": str(now_ms + 1)})
        out.append({**trade, "status": "CONFIRMED", "timestamp": str(now_ms + 2)})
        return out
