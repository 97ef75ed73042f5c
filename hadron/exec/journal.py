"""The order journal: every live order written before it is sent, updated from every answer.

:class:`Journal` is the part of the state store (:class:`hadron.store.state.StateStore`: tables
``exec_orders``, ``exec_fills``, ``exec_baselines``) the live engine needs; :class:`MemoryJournal`
keeps the same in memory (tests, and a run that asked for no store is refused live: a journal that
dies with the process cannot reconcile a crash).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from hadron.model.orders import TERMINAL, ExecFill, OrderState
from hadron.store.state.records import ExecOrderRecord


class Journal(Protocol):
    """Where live orders and fills are kept (see the module docstring)."""

    async def journal_order(self, record: ExecOrderRecord) -> None:
        """Insert or update one order (a terminal state is never moved back)."""

    async def journal_fill(self, venue: str, fill: ExecFill, recorded_ns: int) -> bool:
        """Keep one fill; False when it was known (``venue``, ``fill_id``)."""

    async def journal_orders(self, *, open_only: bool = False, venue: str | None = None) -> list[ExecOrderRecord]:
        """Orders by creation time (``open_only``: not terminal)."""

    async def journal_fills(
        self, venue: str | None = None, client_order_id: str | None = None
    ) -> list[tuple[str, ExecFill]]:
        """``(venue, fill)`` by venue time."""

    async def set_baseline(self, venue: str, positions: Mapping[str, int], ts_ns: int) -> None:
        """The venue's positions before Hadron traded there (kept once per venue)."""

    async def baseline(self, venue: str) -> dict[str, int] | None:
        """The baseline of ``venue``, or None."""


class MemoryJournal:
    """A :class:`Journal` in memory."""

    def __init__(self) -> None:
        self.orders: dict[str, ExecOrderRecord] = {}
        self.fills: dict[tuple[str, str], ExecFill] = {}
        self.baselines: dict[str, dict[str, int]] = {}

    async def journal_order(self, record: ExecOrderRecord) -> None:
        """Insert or update (see :class:`Journal`)."""
        old = self.orders.get(record.client_order_id)
        if old is not None and OrderState(old.state) in TERMINAL and OrderState(record.state) not in TERMINAL:
            return
        self.orders[record.client_order_id] = record

    async def journal_fill(self, venue: str, fill: ExecFill, recorded_ns: int) -> bool:
        """Keep one fill (see :class:`Journal`)."""
        key = (venue, fill.fill_id)
        if key in self.fills:
            return False
        self.fills[key] = fill
        return True

    async def journal_orders(self, *, open_only: bool = False, venue: str | None = None) -> list[ExecOrderRecord]:
        """Orders (see :class:`Journal`)."""
        rows = [
            r
            for r in self.orders.values()
            if (venue is None or r.venue == venue) and (not open_only or OrderState(r.state) not in TERMINAL)
        ]
        return sorted(rows, key=lambda r: r.created_ns)

    async def journal_fills(
        self, venue: str | None = None, client_order_id: str | None = None
    ) -> list[tuple[str, ExecFill]]:
        """Fills (see :class:`Journal`)."""
        rows = [
            (v, f)
            for (v, _), f in self.fills.items()
            if (venue is None or v == venue) and (client_order_id is None or f.client_order_id == client_order_id)
        ]
        return sorted(rows, key=lambda row: row[1].ts_event)

    async def set_baseline(self, venue: str, positions: Mapping[str, int], ts_ns: int) -> None:
        """Keep the baseline once (see :class:`Journal`)."""
        self.baselines.setdefault(venue, dict(positions))

    async def baseline(self, venue: str) -> dict[str, int] | None:
        """The baseline (see :class:`Journal`)."""
        found = self.baselines.get(venue)
        return dict(found) if found is not None else None
