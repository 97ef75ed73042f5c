"""The execution interface the trader sends its orders through (paper or live).

The trader owns the orders (:class:`~hadron.paper.orders.PaperOrder`) and the two-leg logic; an
:class:`ExecutionClient` owns how an order reaches a venue and reports back through the
trader's :class:`ExecutionSink`: zero or more :meth:`ExecutionSink.on_fills` calls, then exactly
one :meth:`ExecutionSink.on_done`. Prices are int, 1/10,000 USD in the order's outcome terms;
sizes int, 1/1,000,000; fees int, 1/10,000,000,000 USD; times int, ns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from hadron.model.events import Level
from hadron.model.orders import OrderState

if TYPE_CHECKING:
    from hadron.paper.orders import PaperOrder


class ExecutionSink(Protocol):
    """What an execution client tells the trader."""

    def on_fills(self, order: PaperOrder, fills: list[Level], fee: int, now: int) -> None:
        """``order`` filled ``fills`` (``(price, size)``, in the order's terms) for ``fee`` at ``now``."""

    def on_done(self, order: PaperOrder, state: OrderState, reason: str, now: int) -> None:
        """``order`` reached a terminal ``state`` (every fill of it was reported before)."""


class ExecutionClient(Protocol):
    """Where orders go: paper (:class:`~hadron.exec.paper.PaperExecution`) or live
    (:class:`~hadron.exec.live.LiveExecution`)."""

    @property
    def mode(self) -> str:
        """``paper``, ``live`` or ``dry-run``."""

    def bind(self, sink: ExecutionSink) -> None:
        """Report to ``sink`` (the trader) from now on."""

    def submit(self, order: PaperOrder) -> None:
        """Send ``order`` (state ``pending``); its outcome comes back through the sink, never
        from this call. An order the client refuses (its own limits, a halt) is reported
        ``rejected`` through the sink too."""

    def cancel_all(self, reason: str, now: int) -> int:
        """Cancel every order not yet done (the kill switch, a shutdown) at ``now`` (ns); return
        how many were asked to cancel. Live: the venues' cancel-all too, and what is still
        resting is reported."""

    @property
    def halted(self) -> str | None:
        """Why new orders are refused (a reconciliation difference), or ``None``."""


def final_status(state: OrderState, filled: int) -> str:
    """The trader's summary word for a terminal state: ``filled``, ``partially_filled`` (ended
    with some filled), ``cancelled`` (ended with none) or ``rejected``."""
    if state is OrderState.FILLED:
        return "filled"
    if state is OrderState.REJECTED:
        return "rejected"
    return "partially_filled" if filled > 0 else "cancelled"
