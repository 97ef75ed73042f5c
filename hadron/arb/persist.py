"""Persisting a run's opportunities through the state store (SQLite or PostgreSQL)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec

from hadron.arb.opportunity import Opportunity
from hadron.model.units import SIZE_SCALE
from hadron.store import state

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
