"""The live order journal (migration 4) on PostgreSQL: the tests of
``tests/unit/test_state_journal.py`` on a schema of their own on the server at
``$HADRON_TEST_POSTGRES_URL`` (the ``pg_server`` fixture of test_state_store; skipped when it is
not reachable), plus two writers at once."""

# ruff: noqa: F811 - the fixtures imported here are parameters of the tests

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import msgspec
import psycopg
import pytest

from hadron.model.orders import OrderState
from hadron.store.state import StateStore, open_state_store
from tests.integration.test_state_store import PG_URL, PgServer, pg_server  # noqa: F401 - fixture
from tests.unit.test_state_journal import (  # noqa: F401 - the tests and fixtures, run again here
    T0,
    Opener,
    pending,
    request,
    store,
    test_a_terminal_state_is_final,
    test_baseline_is_set_once_per_venue,
    test_fills_are_kept_once_per_venue_and_fill_id,
    test_journal_fill_refuses_bad_fills,
    test_journal_order_refuses_bad_records,
    test_journal_order_upserts_the_mutable_columns,
    test_open_only_and_venue_filters,
    test_request_round_trips_exactly,
)


@pytest.fixture
def opener(pg_server: PgServer) -> Iterator[Opener]:
    """Opens a store on this test's own PostgreSQL schema (dropped after the test)."""
    if pg_server.unreachable:
        pytest.skip(pg_server.unreachable)
    schema = f"{pg_server.prefix}_{secrets.token_hex(4)}"

    async def open_() -> StateStore:
        return await open_state_store(PG_URL, schema=schema)

    yield open_
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.asyncio
async def test_two_processes_journal_one_order_and_baseline(opener: Opener) -> None:
    first, second = await opener(), await opener()
    try:
        row = pending(request())
        await first.journal_order(row)
        filled = msgspec.structs.replace(row, state=OrderState.FILLED, filled=25_000_000, updated_ns=T0 + 2)
        accepted = msgspec.structs.replace(row, state=OrderState.ACCEPTED, venue_order_id="v-1", updated_ns=T0 + 1)
        await asyncio.gather(first.journal_order(filled), second.journal_order(accepted))
        (stored,) = await second.journal_orders()
        assert (stored.state, stored.filled, stored.venue_order_id) == (OrderState.FILLED, 25_000_000, "v-1")
        await asyncio.gather(
            first.set_baseline("kalshi", {"kalshi:A": 1}, T0), second.set_baseline("kalshi", {"kalshi:B": 2}, T0)
        )
        assert await first.baseline("kalshi") in ({"kalshi:A": 1}, {"kalshi:B": 2})  # one of them, whole
    finally:
        await first.close()
        await second.close()
