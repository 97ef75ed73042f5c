"""Paper execution: each order fills as a taker against the books as they are on its arrival.

An order reaches its venue after that venue's latency (fixed or sampled with the trader's seeded
random source) and fills there **against the book at arrival** (the book manager's event-time
clock runs due orders before the next update is applied): IOC fills what the book has up to the
limit and cancels the rest, FOK fills all or nothing; the venue's exact fee model prices every
fill. Liquidity taken is not offered again until that book changes. An order arriving at a book
that is not live, or at a market that stopped trading, is rejected with that reason; one arriving
after the kill switch engaged is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hadron.book.manager import BookManager, BookState
from hadron.exec.client import ExecutionSink
from hadron.model.events import Level
from hadron.model.fees import FeeModel
from hadron.model.orders import OrderState
from hadron.model.units import PRICE_ONE

if TYPE_CHECKING:
    from hadron.paper.orders import PaperOrder
    from hadron.paper.risk import KillSwitch

Scheduler = Callable[[int, Callable[[int], None]], None]
"""``schedule(due_ns, callback)``: run ``callback(due_ns)`` on the event-time clock at ``due_ns``."""


class PaperExecution:
    """Simulated venues over the shared books (see the module docstring).

    Args:
        books: the book manager the orders fill against.
        kill: the kill switch (an order arriving after it engaged is cancelled).
        schedule: the trader's event-time scheduler (:data:`Scheduler`).
    """

    mode = "paper"

    def __init__(self, books: BookManager, kill: KillSwitch, schedule: Scheduler) -> None:
        self.books = books
        self.kill = kill
        self.schedule = schedule
        self.sink: ExecutionSink | None = None
        self.fee_models: dict[str, FeeModel] = {}
        """instrument → the venue's fee rule in force (a :class:`~hadron.arb.fees.FeeRegistry`
        change), used instead of the model the opportunity was priced with."""
        self._working: dict[str, PaperOrder] = {}
        self._consumed: dict[tuple[str, bool, str], tuple[int, dict[int, int]]] = {}

    def bind(self, sink: ExecutionSink) -> None:
        """Report fills and ends to ``sink``."""
        self.sink = sink

    @property
    def halted(self) -> str | None:
        """Paper never halts on its own (the risk manager and kill switch still apply)."""
        return None

    def submit(self, order: PaperOrder) -> None:
        """Queue ``order`` to execute at ``order.arrival_ns`` on the event-time clock."""
        self._working[order.order_id] = order
        self.schedule(order.arrival_ns, lambda due: self._execute(order, due))

    def cancel_all(self, reason: str, now: int) -> int:
        """Cancel every order still on its way at ``now`` (they never reach the venue)."""
        working = list(self._working.values())
        for order in working:
            if order.order_id in self._working:  # a cancel can resolve a trade, which sends nothing then
                self._end(order, OrderState.CANCELLED, reason, now)
        return len(working)

    def _end(self, order: PaperOrder, state: OrderState, reason: str, now: int) -> None:
        self._working.pop(order.order_id, None)
        assert self.sink is not None
        self.sink.on_done(order, state, reason, now)

    def _execute(self, order: PaperOrder, now: int) -> None:
        if order.order_id not in self._working:
            return
        if self.kill.check():
            self._end(order, OrderState.CANCELLED, "kill_switch", now)
            return
        book = self.books.get(order.instrument)
        if book is None or book.state is not BookState.LIVE:
            self._end(order, OrderState.REJECTED, "book not live at arrival", now)
            return
        if book.halted is not None or now >= book.close_ns:  # the market stopped trading before arrival
            self._end(order, OrderState.REJECTED, book.halted or "market_closed", now)
            return
        fills, wanted = self._match(order)
        if order.tif == "FOK" and wanted > 0:
            self._end(order, OrderState.CANCELLED, "FOK: not enough at the limit on arrival", now)
            return
        if not fills:
            self._end(order, OrderState.CANCELLED, "nothing at the limit on arrival", now)
            return
        self._consume(order, fills, book.ts_recv)
        in_force = self.fee_models.get(order.instrument)
        if in_force is not None:  # the venue changed the fee rule since the opportunity was priced
            order.fee_model = in_force
        fee = order.fee_model.fee(fills)
        assert self.sink is not None
        self.sink.on_fills(order, fills, fee, now)
        filled = sum(size for _, size in fills)
        self._end(order, OrderState.FILLED if filled >= order.size else OrderState.CANCELLED, "", now)

    def _match(self, order: PaperOrder) -> tuple[list[Level], int]:
        # The fills the book gives the order at its limit, and the size left unfilled
        wanted = order.size
        fills: list[Level] = []
        for price, available in self._ladder(order):
            if wanted <= 0:
                break
            if (price > order.limit) if order.side == "buy" else (price < order.limit):
                break
            take = min(available, wanted)
            fills.append((price, take))
            wanted -= take
        return fills, wanted

    def _ladder(self, order: PaperOrder) -> list[Level]:
        # The levels the order trades against, best first, in the outcome's terms, less what the
        # trader already took from this book since its last change
        book = self.books.get(order.instrument)
        assert book is not None
        if order.side == "buy":
            levels = [(PRICE_ONE - p, s) for p, s in book.levels_bid()] if order.from_bids else book.levels_ask()
        else:
            levels = [(PRICE_ONE - p, s) for p, s in book.levels_ask()] if order.from_bids else book.levels_bid()
        key = (order.instrument, order.from_bids, order.side)
        consumed = self._consumed.get(key)
        if consumed is None or consumed[0] != book.ts_recv:
            return levels
        taken = consumed[1]
        return [(p, s - taken.get(p, 0)) for p, s in levels if s > taken.get(p, 0)]

    def _consume(self, order: PaperOrder, fills: list[Level], ts_recv: int) -> None:
        key = (order.instrument, order.from_bids, order.side)
        current = self._consumed.get(key)
        taken = current[1] if current is not None and current[0] == ts_recv else {}
        for price, size in fills:
            taken[price] = taken.get(price, 0) + size
        self._consumed[key] = (ts_recv, taken)
