"""The real account in the state store (migration 3): every account event round-trips exactly,
on SQLite and PostgreSQL (the fixtures of test_state_store)."""

# ruff: noqa: F811 - the fixtures imported from test_state_store are parameters here

from __future__ import annotations

import pytest

from hadron.errors import StoreError
from hadron.model.account import (
    AccountFill,
    OrderGroupUpdate,
    OrderSide,
    OrderStatus,
    OrderUpdate,
    Outcome,
    PositionUpdate,
)
from hadron.store.state import StateStore
from tests.integration.test_state_store import backend, pg_server, store  # noqa: F401 - fixtures

T = 1_786_000_000_000_000_000


def fill(status: str = "MATCHED", taker: bool | None = True) -> AccountFill:
    return AccountFill("polymarket", "polymarket:2174", "trade-1", "0xabc", "", Outcome.TOKEN, OrderSide.BUY,
                       4890, 5_000_000, 0, taker, T, T + 1, None, status)  # fmt: skip


def kalshi_fill() -> AccountFill:
    return AccountFill("kalshi", "kalshi:FED-23DEC-T3.00", "d91b", "ee58", "my-1", Outcome.NO, OrderSide.BUY,
                       7500, 278_000_000, 17_500, False, T, T, -500_000_000)  # fmt: skip


def order(status: OrderStatus, filled: int, ts: int) -> OrderUpdate:
    return OrderUpdate("kalshi", "kalshi:FED-23DEC-T3.00", "ee58", "my-1", status, Outcome.YES, OrderSide.BUY,
                       3500, 10_000_000, filled, 10_000_000 - filled, ts, ts, "resting")  # fmt: skip


@pytest.mark.asyncio
async def test_account_events_round_trip(store: StateStore) -> None:
    position = PositionUpdate("kalshi", "kalshi:FED-23DEC-T3.00", -100_000_000, 50_000_000, -10_000_000,
                              1_000_000, T, T, 15_000_000)  # fmt: skip
    derived = PositionUpdate("polymarket", "polymarket:2174", 5_000_000, 2_445_000, 0, 0, T, T, 5_000_000, True)
    group = OrderGroupUpdate("kalshi", "og_123", "limit_updated", 150_000_000, T, T)
    assert (
        await store.record_account([fill(), kalshi_fill(), order(OrderStatus.OPEN, 0, T), position, derived, group])
        == 6
    )
    # a fill again with a new status only updates it; an older order state never replaces a newer one
    later = order(OrderStatus.FILLED, 10_000_000, T + 5)
    await store.record_account([fill("CONFIRMED"), later, order(OrderStatus.OPEN, 0, T + 1)])
    await store.record_account([OrderGroupUpdate("kalshi", "og_123", "triggered", None, T + 2, T + 2)])
    assert await store.list_account_fills() == [kalshi_fill(), fill("CONFIRMED")]
    assert await store.list_account_orders() == [later]
    assert await store.list_account_positions() == [position, derived]
    assert await store.list_account_order_groups() == [
        OrderGroupUpdate("kalshi", "og_123", "triggered", 150_000_000, T + 2, T + 2)
    ]
    assert await store.record_account([]) == 0


@pytest.mark.asyncio
async def test_account_refuses_values_outside_64_bits(store: StateStore) -> None:
    bad = PositionUpdate("kalshi", "kalshi:M", 2**63, 0, 0, 0, T, T)
    with pytest.raises(StoreError, match="64-bit"):
        await store.record_account([bad])
    assert await store.list_account_positions() == []
