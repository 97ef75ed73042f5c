"""Paper trading through the state store: orders, fills, positions and balances as they happen.

:class:`PaperStoreSink` listens to a :class:`~hadron.paper.trader.PaperTrader` and writes, in
order and off the book path, each order when placed and when done, and each fill atomically with
the position and cash balance it leads to (:meth:`~hadron.store.state.StateStore.record_fill`).

Units in the store: prices int 1/10,000 USD, sizes int 1/1,000,000 share (as in Hadron), money
(fees, cost, cash, P&L) int 1/1,000,000 USD: Hadron's money units (1/10,000,000,000 USD) divided
by 10,000, exact for whole-share orders at cent prices and for the venues' fees. A holding bought
through the complement of a book (Kalshi NO) is stored under ``<instrument>:no``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from hadron.errors import StoreError
from hadron.model.events import Level
from hadron.paper.orders import PaperOrder
from hadron.paper.portfolio import Holding
from hadron.paper.trader import PaperTrader
from hadron.store import state

log = structlog.get_logger("hadron.paper")

MICRO = 10_000
"""Hadron money units per state-store money unit (1/1,000,000 USD)."""

_STATUS: dict[str, state.OrderStatus] = {
    "working": "new",
    "filled": "filled",
    "partially_filled": "partially_filled",
    "cancelled": "cancelled",
    "rejected": "rejected",
}


def holding_key(instrument: str, from_bids: bool) -> str:
    """The store's instrument key of a holding (``kalshi:K`` or, bought through the complement, ``kalshi:K:no``)."""
    return f"{instrument}:no" if from_bids else instrument


class PaperStoreSink:
    """Writes a trader's orders, fills, positions and balances to a state store, in order.

    Args:
        store: an open state store. run_id: the run (already started) the records belong to.
        trader: the trader to listen to.
    """

    def __init__(self, store: state.StateStore, run_id: str, trader: PaperTrader) -> None:
        self.store, self.run_id, self.trader = store, run_id, trader
        self._queue: asyncio.Queue[Callable[[], Awaitable[Any]] | None] = asyncio.Queue()
        self._fill_serial: dict[str, int] = {}
        self.written = 0
        self.errors = 0
        trader.order_listeners.append(self.on_order)
        trader.fill_listeners.append(self.on_fill)

    def _id(self, order: PaperOrder) -> str:
        return f"{self.run_id}/{order.order_id}"

    def on_order(self, order: PaperOrder) -> None:
        """Order listener: queue the insert (placed) or the status change (done)."""
        status = _STATUS[order.status]
        if order.status == "working":
            record = state.PaperOrder(
                order_id=self._id(order),
                run_id=self.run_id,
                opportunity_id=order.opportunity_id,
                venue=order.venue,
                instrument=holding_key(order.instrument, order.from_bids),
                side=order.side,
                price=order.limit,
                size=order.size,
                status=status,
                created_ns=order.created_ns,
                updated_ns=order.created_ns,
                client_order_id=order.order_id,
            )
            self._queue.put_nowait(lambda: self.store.insert_order(record))
        elif not order.fills:
            order_id, done = self._id(order), order.done_ns
            self._queue.put_nowait(lambda: self.store.update_order_status(order_id, status, updated_ns=done))

    def on_fill(self, order: PaperOrder, fill: Level, fee: int, ts_ns: int) -> None:
        """Fill listener: queue the fill with the position and balance after it."""
        n = self._fill_serial.get(order.order_id, 0) + 1
        self._fill_serial[order.order_id] = n
        price, size = fill
        key = (order.instrument, order.from_bids)
        held: Holding = self.trader.portfolio.holdings[key]
        instrument = holding_key(order.instrument, order.from_bids)
        record = state.Fill(
            fill_id=f"{self._id(order)}-f{n}",
            order_id=self._id(order),
            run_id=self.run_id,
            venue=order.venue,
            instrument=instrument,
            side=order.side,
            price=price,
            size=size,
            fee=fee // MICRO,
            liquidity="taker",
            ts_ns=ts_ns,
        )
        position = state.Position(
            self.run_id, order.venue, instrument, held.size, held.cost // MICRO, held.realized // MICRO, ts_ns
        )
        balance = state.Balance(
            self.run_id, order.venue, "USD", self.trader.portfolio.cash.get(order.venue, 0) // MICRO, ts_ns
        )
        last = n == len(order.fills)
        status = _STATUS["filled" if order.filled == order.size else "partially_filled"] if last else None
        self._queue.put_nowait(lambda: self.store.record_fill(record, position, balance, order_status=status))

    async def run(self) -> None:
        """Write queued records until :meth:`close` (then what is left)."""
        while True:
            write = await self._queue.get()
            if write is None:
                return
            try:
                await write()
                self.written += 1
            except StoreError as exc:
                self.errors += 1
                log.warning("paper record not stored", error=str(exc))

    async def close(self) -> None:
        """Let :meth:`run` finish what is queued, then return."""
        await self._queue.put(None)
