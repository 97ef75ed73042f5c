"""The live order journal in the state store (migration 4) on SQLite: orders upsert without ever
moving their state backwards, fills count once, baselines are set once, and the request comes back
exactly. ``tests/integration/test_state_journal_pg.py`` runs the same tests on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import msgspec
import pytest
import pytest_asyncio

from hadron.model.orders import TERMINAL, ExecFill, ExecReport, OrderRequest, OrderState
from hadron.store.state import ExecOrderRecord, StateStore, StoreError, open_state_store
from hadron.store.state import queries as q

T0 = 1_786_410_915_524_000_000

Opener = Callable[[], Awaitable[StateStore]]


@pytest.fixture
def opener(tmp_path: Path) -> Opener:
    """Opens a store on this test's database (again after a close: a restart)."""

    async def open_() -> StateStore:
        return await open_state_store(f"sqlite:///{tmp_path / 'state.db'}")

    return open_


@pytest_asyncio.fixture
async def store(opener: Opener) -> AsyncIterator[StateStore]:
    async with await opener() as opened:
        yield opened


def request(coid: str = "hd-1", *, venue: str = "kalshi", created_ns: int = T0, price: int = 4_800) -> OrderRequest:
    if venue == "kalshi":
        return OrderRequest(client_order_id=coid, venue=venue, instrument="kalshi:KXGOLD-26AUG10-T2500",
                            symbol="KXGOLD-26AUG10-T2500", outcome="no", side="buy", price=price, size=25_000_000,
                            tif="IOC", created_ns=created_ns, trade_id="tr-1", leg=0, role="entry")  # fmt: skip
    return OrderRequest(client_order_id=coid, venue=venue, instrument="polymarket:7142", symbol="7142",
                        outcome="yes", side="sell", price=price, size=25_000_000, tif="FOK", created_ns=created_ns,
                        market="0xc0nd", tick=100, neg_risk=True, trade_id="tr-1", leg=1, role="unwind")  # fmt: skip


def pending(req: OrderRequest, mode: str = "live") -> ExecOrderRecord:
    return ExecOrderRecord.from_request(req, mode=mode, run_id="run-1")  # type: ignore[arg-type]


def report(state: OrderState, filled: int = 0, *, voi: str = "", reason: str = "") -> ExecReport:
    return ExecReport(client_order_id="hd-1", venue_order_id=voi, state=state, filled=filled, reason=reason)


def fill(fill_id: str, ts: int, *, coid: str = "hd-1", price: int = 4_800, fee: int = 17_500_000) -> ExecFill:
    return ExecFill(client_order_id=coid, venue_order_id="v-1", fill_id=fill_id, price=price, size=5_000_000,
                    fee=fee, ts_event=ts, taker=True)  # fmt: skip


@pytest.mark.asyncio
async def test_request_round_trips_exactly(store: StateStore, opener: Opener) -> None:
    reqs = [request("hd-1"), request("hd-2", venue="polymarket", created_ns=T0 + 1)]
    for req in reqs:
        await store.journal_order(pending(req))
    await store.close()
    async with await opener() as reopened:  # a restart reads the journal back
        rows = await reopened.journal_orders()
    assert rows == [pending(req) for req in reqs]
    assert [row.order_request() for row in rows] == reqs
    assert [row.request for row in rows] == [msgspec.json.encode(req).decode() for req in reqs]
    first = rows[0]
    assert (first.state, first.mode, first.run_id, first.updated_ns, first.filled) == (
        OrderState.PENDING, "live", "run-1", T0, 0)  # fmt: skip
    assert (first.outcome, first.side, first.tif, first.price, first.size) == ("no", "buy", "IOC", 4_800, 25_000_000)


@pytest.mark.asyncio
async def test_journal_order_upserts_the_mutable_columns(store: StateStore) -> None:
    row = pending(request())
    await store.journal_order(row)
    await store.journal_order(row.updated(report(OrderState.ACCEPTED, voi="v-1"), updated_ns=T0 + 10))
    partial = row.updated(report(OrderState.PARTIALLY_FILLED, 5_000_000), updated_ns=T0 + 20)
    await store.journal_order(msgspec.structs.replace(partial, price=1, symbol="other", mode="shadow"))
    (stored,) = await store.journal_orders()
    # an empty venue order id keeps the stored one; the columns of the request never change
    assert stored == msgspec.structs.replace(
        row, venue_order_id="v-1", state=OrderState.PARTIALLY_FILLED, filled=5_000_000, updated_ns=T0 + 20
    )
    # out of order: an older answer moves neither the state, nor filled, nor updated_ns back
    await store.journal_order(row.updated(report(OrderState.ACCEPTED, voi="v-1"), updated_ns=T0 + 10))
    await store.journal_order(row.updated(report(OrderState.PENDING), updated_ns=T0 + 11))
    assert await store.journal_orders() == [stored]
    more = stored.updated(report(OrderState.PARTIALLY_FILLED, 15_000_000), updated_ns=T0 + 30)
    await store.journal_order(more)
    assert await store.journal_orders() == [more]


@pytest.mark.asyncio
async def test_a_terminal_state_is_final(store: StateStore) -> None:
    row = pending(request())
    await store.journal_order(row)
    cancelled = row.updated(report(OrderState.CANCELLED, 5_000_000, voi="v-1", reason="ioc rest"), updated_ns=T0 + 5)
    await store.journal_order(cancelled)
    for later in (OrderState.PENDING, OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED):
        await store.journal_order(row.updated(report(later, 5_000_000, reason="late"), updated_ns=T0 + 6))
    # another terminal state does not replace the first; a fill reported late still raises filled
    await store.journal_order(row.updated(report(OrderState.FILLED, 7_000_000, reason="x"), updated_ns=T0 + 7))
    (stored,) = await store.journal_orders()
    assert stored == msgspec.structs.replace(cancelled, filled=7_000_000, updated_ns=T0 + 7)
    # a rejected order with no reason yet takes the first reason given
    rejected = pending(request("hd-2"))
    await store.journal_order(msgspec.structs.replace(rejected, state=OrderState.REJECTED))
    await store.journal_order(msgspec.structs.replace(rejected, state=OrderState.REJECTED, reason="insufficient"))
    assert (await store.journal_orders())[1].reason == "insufficient"


@pytest.mark.asyncio
async def test_open_only_and_venue_filters(store: StateStore) -> None:
    states = [OrderState.PENDING, OrderState.FILLED, OrderState.PARTIALLY_FILLED, OrderState.REJECTED,
              OrderState.ACCEPTED, OrderState.CANCELLED, OrderState.EXPIRED]  # fmt: skip
    rows = []
    for n, state in enumerate(states):
        venue = "kalshi" if n % 2 == 0 else "polymarket"
        # written newest first: the listing orders by created_ns
        rec = pending(request(f"hd-{n}", venue=venue, created_ns=T0 + 100 - n), mode="dry-run")
        rows.append(msgspec.structs.replace(rec, state=state))
    for rec in rows:
        await store.journal_order(rec)
    by_age = sorted(rows, key=lambda r: r.created_ns)
    assert await store.journal_orders() == by_age
    assert await store.journal_orders(open_only=True) == [r for r in by_age if not r.state.terminal]
    assert [r.client_order_id for r in await store.journal_orders(open_only=True)] == ["hd-4", "hd-2", "hd-0"]
    assert await store.journal_orders(venue="polymarket") == [r for r in by_age if r.venue == "polymarket"]
    assert [r.client_order_id for r in await store.journal_orders(open_only=True, venue="kalshi")] == [
        "hd-4", "hd-2", "hd-0"]  # fmt: skip
    assert await store.journal_orders(open_only=True, venue="polymarket") == []
    assert await store.journal_orders(venue="nowhere") == []


@pytest.mark.asyncio
async def test_journal_order_refuses_bad_records(store: StateStore) -> None:
    row = pending(request())
    await store.journal_order(row)
    with pytest.raises(StoreError, match="another venue"):
        await store.journal_order(msgspec.structs.replace(row, venue="polymarket"))
    for bad in (
        msgspec.structs.replace(row, mode="paper"),
        msgspec.structs.replace(row, client_order_id=""),
        msgspec.structs.replace(row, size=2**63),
        msgspec.structs.replace(row, filled=-1),
        msgspec.structs.replace(row, state="gone"),
    ):
        with pytest.raises(StoreError, match="invalid ExecOrderRecord"):
            await store.journal_order(bad)
    assert await store.journal_orders() == [row]
    with pytest.raises(StoreError, match="does not decode"):
        msgspec.structs.replace(row, request='{"venue": "kalshi"}').order_request()


@pytest.mark.asyncio
async def test_fills_are_kept_once_per_venue_and_fill_id(store: StateStore) -> None:
    a, b = fill("f-1", T0 + 2), fill("f-2", T0 + 1, coid="hd-2", fee=-2_500_000)  # a rebate is negative
    assert await store.journal_fill("kalshi", a, T0 + 3) is True
    assert await store.journal_fill("kalshi", b, T0 + 3) is True
    assert await store.journal_fill("kalshi", msgspec.structs.replace(a, price=1), T0 + 9) is False  # first wins
    other = msgspec.structs.replace(a, taker=False, fee=0)
    assert await store.journal_fill("polymarket", other, T0 + 4) is True  # another venue's id space
    assert await store.journal_fills() == [("kalshi", b), ("kalshi", a), ("polymarket", other)]
    assert await store.journal_fills("kalshi") == [("kalshi", b), ("kalshi", a)]
    assert await store.journal_fills(client_order_id="hd-1") == [("kalshi", a), ("polymarket", other)]
    assert await store.journal_fills("polymarket", "hd-1") == [("polymarket", other)]
    assert await store.journal_fills("polymarket", "hd-2") == []


@pytest.mark.asyncio
async def test_journal_fill_refuses_bad_fills(store: StateStore) -> None:
    good = fill("f-1", T0)
    bad_calls = [
        ("", good, T0),
        ("kalshi", msgspec.structs.replace(good, fill_id=""), T0),
        ("kalshi", msgspec.structs.replace(good, price=-1), T0),
        ("kalshi", msgspec.structs.replace(good, size=2**63), T0),
        ("kalshi", msgspec.structs.replace(good, fee=-(2**63) - 1), T0),
        ("kalshi", msgspec.structs.replace(good, ts_event=-1), T0),
        ("kalshi", good, -1),
    ]
    for venue, bad, recorded in bad_calls:
        with pytest.raises(StoreError):
            await store.journal_fill(venue, bad, recorded)
    assert await store.journal_fills() == []
    huge = msgspec.structs.replace(good, fee=2**63 - 1)  # a 64-bit fee reads back exactly
    assert await store.journal_fill("kalshi", huge, T0)
    assert await store.journal_fills() == [("kalshi", huge)]


@pytest.mark.asyncio
async def test_baseline_is_set_once_per_venue(store: StateStore, opener: Opener) -> None:
    assert await store.baseline("kalshi") is None
    await store.set_baseline("kalshi", {"kalshi:B": -3_000_000, "kalshi:A": 10_000_000}, T0)
    await store.set_baseline("kalshi", {"kalshi:C": 1}, T0 + 1)  # already set: nothing changes
    await store.set_baseline("polymarket", {}, T0)  # no positions is a baseline too
    await store.set_baseline("polymarket", {"polymarket:1": 5}, T0 + 1)
    assert await store.baseline("kalshi") == {"kalshi:A": 10_000_000, "kalshi:B": -3_000_000}
    assert await store.baseline("polymarket") == {}
    for venue, positions, ts in (("", {}, T0), ("x", {"": 1}, T0), ("x", {"i": 2**63}, T0), ("x", {}, -1)):
        with pytest.raises(StoreError):
            await store.set_baseline(venue, positions, ts)
    await store.close()
    async with await opener() as reopened:
        assert await reopened.baseline("x") is None
        assert await reopened.baseline("kalshi") == {"kalshi:A": 10_000_000, "kalshi:B": -3_000_000}


def test_statements_agree_with_the_model() -> None:
    # the SQL spells the states and columns out; they must be the model's
    assert sorted(re.findall(r"'(\w+)'", q._OPEN)) == sorted(s.value for s in TERMINAL)
    select = q._EXEC_ORDER_SELECT.removeprefix("SELECT ").removesuffix(" FROM exec_orders")
    assert tuple(select.split(", ")) == q.EXEC_ORDER_COLUMNS
    insert = q.UPSERT_EXEC_ORDER.split("(", 1)[1].split(")", 1)[0]
    assert [c.rstrip(",") for c in insert.split()] == list(q.EXEC_ORDER_COLUMNS)
    ranked = {OrderState.PENDING: 0, OrderState.ACCEPTED: 1, OrderState.PARTIALLY_FILLED: 2}
    assert "WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1" in q.UPSERT_EXEC_ORDER
    assert "WHEN 'partially_filled' THEN 2 ELSE 3" in q.UPSERT_EXEC_ORDER
    assert {s for s in OrderState if s not in ranked} == TERMINAL
