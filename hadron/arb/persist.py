"""Opportunities out of the detector: into the state store (SQLite or PostgreSQL) and onto the bus."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog

from hadron.arb.opportunity import Opportunity
from hadron.bus.base import EventBus, make_envelope
from hadron.errors import BusError, StoreError
from hadron.model.events import OpportunityLeg, OpportunityUpdate
from hadron.model.units import SIZE_SCALE
from hadron.store import state

log = structlog.get_logger("hadron.arb")

_MONEY_PER_PRICE_UNIT = SIZE_SCALE
"""Money units (1/10,000,000,000 USD) in one price unit (1/10,000 USD)."""


def to_record(opportunity: Opportunity, run_id: str) -> state.Opportunity:
    """The state-store record of ``opportunity`` (edge per contract in 1/10,000 USD, rounded down)."""
    closed = opportunity.closed_ns is not None
    return state.Opportunity(
        opportunity_id=f"{run_id}/{opportunity.id}",
        run_id=run_id,
        pair_id=opportunity.pair,
        direction=f"{opportunity.kind}:{opportunity.direction}",
        state="closed" if closed else ("updated" if opportunity.updates else "opened"),
        edge=opportunity.edge // _MONEY_PER_PRICE_UNIT,
        size=opportunity.size,
        legs_json=msgspec.json.encode([leg.to_json() for leg in opportunity.legs]).decode(),
        opened_ns=opportunity.opened_ns,
        updated_ns=opportunity.last_ns,
        closed_ns=opportunity.closed_ns,
    )


async def persist(
    url: str, opportunities: list[Opportunity], *, mode: state.RunMode = "replay", config: Any = None
) -> str:
    """Store a run and its opportunities in the state store at ``url``; return the run id.

    Raises:
        ConfigError: an unusable store URL. StoreError: the database refused a write.
    """
    run_id = f"{mode}-{uuid.uuid4().hex[:12]}"
    store = await state.open_state_store(url)
    async with store:
        started = min((o.opened_ns for o in opportunities), default=time.time_ns())
        run = state.Run(run_id, started, None, mode, msgspec.json.encode(config or {}).decode(), "running")
        await store.start_run(run)
        for opportunity in opportunities:
            await store.upsert_opportunity(to_record(opportunity, run_id))
        await store.finish_run(run_id, ended_ns=time.time_ns())
    return run_id


def to_update(opportunity: Opportunity, change: str, now_ns: int) -> OpportunityUpdate:
    """The bus event of ``opportunity`` after ``change`` (``"opened"``, ``"updated"``, ``"closed"``)."""
    legs = tuple(
        OpportunityLeg(leg.venue, leg.instrument, leg.outcome, leg.size, leg.cost, leg.fee) for leg in opportunity.legs
    )
    return OpportunityUpdate(
        instrument=opportunity.legs[0].instrument,
        id=opportunity.id,
        pair=opportunity.pair,
        opportunity_kind=opportunity.kind,
        direction=opportunity.direction,
        change=change,
        legs=legs,
        size=opportunity.size,
        cost=opportunity.cost,
        payout=opportunity.payout,
        fees=opportunity.fees,
        net=opportunity.net,
        peak_net=opportunity.peak_net,
        opened_ns=opportunity.opened_ns,
        closed_ns=opportunity.closed_ns,
        ts_event=opportunity.last_ns,
        ts_recv=now_ns,
    )


@dataclass
class SinkStats:
    """What an :class:`OpportunitySink` did: changes seen, published, stored, dropped, failed."""

    changes: int = 0
    published: int = 0
    stored: int = 0
    dropped: int = 0
    errors: int = 0


class OpportunitySink:
    """Carries a detector's opportunity changes to the bus and the state store as they happen.

    :meth:`on_change` (a :meth:`~hadron.arb.detector.ArbDetector.add_listener` listener) takes a
    snapshot of the opportunity and queues it without blocking the book path; :meth:`run` (a
    task) publishes each change as an :class:`~hadron.model.events.OpportunityUpdate` envelope
    (source ``source``, seq from 0) and upserts the state-store record, in order. A full queue
    drops the change (counted in ``stats.dropped``; the next change of the same opportunity
    carries its whole state again).

    Args:
        bus: where to publish, or ``None``. store: the state store, or ``None``.
        run_id: the state-store run the opportunities belong to (started by the caller).
        source: the bus source name (printable ASCII, no spaces).
        max_queue: changes held before dropping.
    """

    def __init__(
        self,
        *,
        bus: EventBus | None = None,
        store: state.StateStore | None = None,
        run_id: str = "",
        source: str = "strategy",
        max_queue: int = 100_000,
    ) -> None:
        self.bus, self.store, self.run_id, self.source = bus, store, run_id, source
        self.stats = SinkStats()
        self._queue: asyncio.Queue[tuple[OpportunityUpdate, state.Opportunity] | None] = asyncio.Queue(max_queue)
        self._seq = 0

    def on_change(self, opportunity: Opportunity, change: str) -> None:
        """Queue ``opportunity`` as it is now (never blocks, never raises)."""
        self.stats.changes += 1
        item = (to_update(opportunity, change, time.time_ns()), to_record(opportunity, self.run_id))
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.dropped += 1

    async def run(self) -> None:
        """Publish and store queued changes until :meth:`close` (then drain what is left)."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            update, record = item
            try:
                if self.bus is not None:
                    await self.bus.publish(make_envelope(self.source, self._seq, update))
                    self._seq += 1
                    self.stats.published += 1
                if self.store is not None:
                    await self.store.upsert_opportunity(record)
                    self.stats.stored += 1
            except (BusError, StoreError) as exc:
                self.stats.errors += 1
                log.warning("opportunity not published or stored", id=update.id, error=str(exc))

    async def close(self) -> None:
        """Let :meth:`run` finish what is queued, then return."""
        await self._queue.put(None)
