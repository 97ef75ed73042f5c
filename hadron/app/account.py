"""The real account beside the paper one: positions, open orders and recent fills per venue.

:class:`AccountView` folds normalized account events (:mod:`hadron.model.account`) from the
venues' authenticated channels into what the dashboard's account panel shows, and hands each
event on to the state store (:meth:`hadron.store.state.StateStore.record_account`). It is fed by
the runtime (``hadron run`` with ``kalshi.account`` / ``polymarket.account`` and credentials):
the paper trader never reads it.

* Kalshi states its positions (``market_position``: signed +YES/−NO, cost, realized P&L, fees):
  they replace the view's.
* Polymarket sends none: each confirmed-or-pending trade (once per trade id; a FAILED one is
  taken back) moves a position derived from fills at average cost (``derived``: True), with
  realized P&L when a position is reduced.
* Orders: the latest state per order id; ``open_orders`` those still OPEN.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from hadron.model.account import (
    AccountEvent,
    AccountFill,
    OrderGroupUpdate,
    OrderSide,
    OrderStatus,
    OrderUpdate,
    Outcome,
    PositionUpdate,
    format_cash,
)
from hadron.model.units import PRICE_SCALE, format_price, format_size

AccountSink = Callable[[AccountEvent], None]
"""Where a venue's account events go (``on_account``)."""

_FAILED = "FAILED"


def _cash_of(price: int, size: int) -> int:
    # price 1/10,000 USD × size 1/1,000,000 → 1/10,000,000,000 USD; cash is 1/1,000,000 USD
    return price * size // PRICE_SCALE


class AccountView:
    """Positions, orders, fills and order groups of the real account(s), per venue.

    Args:
        keep_fills: how many recent fills to keep for display.
        on_event: called with every event applied (the runtime queues them for the state store).
    """

    def __init__(self, keep_fills: int = 50, on_event: AccountSink | None = None) -> None:
        self.positions: dict[tuple[str, str], PositionUpdate] = {}
        """(venue, instrument) → the latest position."""
        self.orders: dict[tuple[str, str], OrderUpdate] = {}
        """(venue, order id) → the latest state of the order."""
        self.fills: deque[AccountFill] = deque(maxlen=keep_fills)
        self.fill_ids: dict[tuple[str, str], AccountFill] = {}
        """(venue, fill id) → the fill as applied (a repeated id only updates its status)."""
        self.groups: dict[tuple[str, str], OrderGroupUpdate] = {}
        self._derived: dict[tuple[str, str], list[tuple[str, str]]] = {}
        """(venue, instrument) → its fills' keys in arrival order (derived positions only)."""
        self.counts: dict[str, int] = {}
        """Events applied, by kind (``account_fill``, ``order_update``…)."""
        self.on_event = on_event

    def apply(self, event: AccountEvent) -> None:
        """Fold one account event into the view (then hand it to ``on_event``)."""
        kind = str(type(event).__struct_config__.tag)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if isinstance(event, PositionUpdate):
            self.positions[(event.venue, event.instrument)] = event
        elif isinstance(event, OrderUpdate):
            self.orders[(event.venue, event.order_id)] = event
        elif isinstance(event, AccountFill):
            self._fill(event)
        elif isinstance(event, OrderGroupUpdate):
            self.groups[(event.venue, event.order_group_id)] = event
        if self.on_event is not None:
            self.on_event(event)

    __call__ = apply

    def _fill(self, fill: AccountFill) -> None:
        key = (fill.venue, fill.fill_id)
        seen = self.fill_ids.get(key)
        self.fill_ids[key] = fill
        if fill.outcome is not Outcome.TOKEN:
            if seen is None:
                self.fills.append(fill)
            return
        where = (fill.venue, fill.instrument)
        if seen is None:
            self.fills.append(fill)
            self._derived.setdefault(where, []).append(key)
            if fill.status != _FAILED:
                self._derive(fill)
        elif seen.status != _FAILED and fill.status == _FAILED:
            # a trade that failed on chain: the position is derived again without it
            self.positions.pop(where, None)
            for other in self._derived.get(where, []):
                kept = self.fill_ids[other]
                if kept.status != _FAILED:
                    self._derive(kept)

    def _derive(self, fill: AccountFill) -> None:
        # A venue without position messages (Polymarket): the position from fills, at average cost
        key = (fill.venue, fill.instrument)
        old = self.positions.get(key)
        position, cost, realized, fees, volume = (
            (old.position, old.cost, old.realized_pnl, old.fees_paid, old.volume) if old else (0, 0, 0, 0, 0)
        )
        delta = fill.size if fill.side is OrderSide.BUY else -fill.size
        value = _cash_of(fill.price, fill.size)
        if position == 0 or (position > 0) == (delta > 0):
            cost += value if delta > 0 else -value
        else:  # reducing: the closed part's share of the cost basis against what it brought
            closed = min(abs(delta), abs(position))
            basis = cost * closed // abs(position)
            proceeds = _cash_of(fill.price, closed)
            realized += (proceeds - basis) if position > 0 else (basis - proceeds)
            cost -= basis
            if abs(delta) > abs(position):  # flipped: the rest opens at this price
                cost = (1 if delta > 0 else -1) * _cash_of(fill.price, abs(delta) - abs(position))
        self.positions[key] = PositionUpdate(
            venue=fill.venue,
            instrument=fill.instrument,
            position=position + delta,
            cost=cost,
            realized_pnl=realized,
            fees_paid=fees + fill.fee,
            ts_event=fill.ts_event,
            ts_recv=fill.ts_recv,
            volume=volume + fill.size,
            derived=True,
        )

    def open_orders(self) -> list[OrderUpdate]:
        """The orders still OPEN, oldest change first."""
        return sorted((o for o in self.orders.values() if o.status is OrderStatus.OPEN), key=lambda o: o.ts_event)

    def snapshot(self) -> dict[str, Any]:
        """The dashboard's account panel, JSON-ready: per-venue positions (non-zero), open
        orders, the last fills (newest first) and the event counts; amounts as decimal strings."""
        return {
            "positions": [
                {
                    "venue": p.venue,
                    "instrument": p.instrument,
                    "position": format_size(p.position),
                    "cost": format_cash(p.cost),
                    "realized_pnl": format_cash(p.realized_pnl),
                    "fees_paid": format_cash(p.fees_paid),
                    "derived": p.derived,
                }
                for p in sorted(self.positions.values(), key=lambda p: (p.venue, p.instrument))
                if p.position
            ],
            "open_orders": [
                {
                    "venue": o.venue,
                    "instrument": o.instrument,
                    "order_id": o.order_id,
                    "client_order_id": o.client_order_id,
                    "outcome": o.outcome.value,
                    "side": o.side.value,
                    "price": format_price(o.price),
                    "initial": format_size(o.initial),
                    "filled": format_size(o.filled),
                    "remaining": format_size(o.remaining),
                    "status": o.venue_status or o.status.value,
                }
                for o in self.open_orders()
            ],
            "fills": [
                {
                    "venue": f.venue,
                    "instrument": f.instrument,
                    "order_id": f.order_id,
                    "outcome": f.outcome.value,
                    "side": f.side.value,
                    "price": format_price(f.price),
                    "size": format_size(f.size),
                    "fee": format_cash(f.fee),
                    "taker": f.taker,
                    "status": self.fill_ids[(f.venue, f.fill_id)].status,
                    "ts_ms": f.ts_event // 1_000_000,
                }
                for f in reversed(self.fills)
            ],
            "counts": dict(sorted(self.counts.items())),
        }
