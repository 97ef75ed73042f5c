"""The state store interface, :class:`StateStore`, and the implementation both backends share.

:class:`SqlStateStore` holds every :class:`StateStore` method once, over the operations of
:mod:`hadron.store.state.queries`; a backend (:mod:`~hadron.store.state.sqlite`,
:mod:`~hadron.store.state.postgres`) adds only how it connects and how it runs an operation in
one transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self, TypeVar

import msgspec

from hadron.errors import StoreError
from hadron.extras import require
from hadron.model.account import (
    AccountEvent,
    AccountFill,
    OrderGroupUpdate,
    OrderSide,
    OrderUpdate,
    Outcome,
    PositionUpdate,
)
from hadron.model.account import OrderStatus as AccountOrderStatus
from hadron.model.orders import ExecFill
from hadron.store.state.queries import (
    BASELINE_MARK,
    FINISH_RUN,
    GET_BASELINE,
    GET_ORDER,
    GET_POSITION,
    GET_RUN,
    INSERT_EXEC_FILL,
    INSERT_FILL,
    INSERT_ORDER,
    INSERT_RUN,
    LIST_ACCOUNT_FILLS,
    LIST_ACCOUNT_GROUPS,
    LIST_ACCOUNT_ORDERS,
    LIST_ACCOUNT_POSITIONS,
    LIST_BALANCES,
    LIST_FILLS,
    LIST_FILLS_BY_ORDER,
    LIST_OPPORTUNITIES,
    LIST_OPPORTUNITIES_BY_STATE,
    LIST_ORDERS,
    LIST_ORDERS_BY_STATUS,
    LIST_POSITIONS,
    LIST_RUNS,
    UPDATE_ORDER_STATUS,
    UPSERT_BALANCE,
    UPSERT_EXEC_ORDER,
    UPSERT_OPPORTUNITY,
    UPSERT_POSITION,
    Op,
    Query,
    account_query,
    check_account,
    check_exec_fill,
    exec_fill_from_row,
    exec_order_from_row,
    exec_order_params,
    list_exec_fills_query,
    list_exec_orders_query,
    one,
    record_account_op,
    record_fill_op,
    set_baseline_op,
)
from hadron.store.state.records import (
    INT64_MAX,
    INT64_MIN,
    ORDER_STATUSES,
    RUN_STATUSES,
    Balance,
    ExecOrderRecord,
    Fill,
    Opportunity,
    OpportunityState,
    OrderStatus,
    PaperOrder,
    Position,
    Run,
    RunStatus,
    check_ns,
    valid,
)
from hadron.store.state.schema import (
    MIGRATION_HISTORY,
    SCHEMA_VERSION,
    SELECT_MIGRATIONS,
    Migration,
    SchemaVersionError,
    check_migrations,
    migrate_op,
)

_T = TypeVar("_T")


class StateStore(Protocol):
    """What Hadron persists about its runs; every method is a coroutine.

    Each method is one transaction: its writes land together or not at all. Calls on one store
    run one at a time in the order made. A store is used after :func:`open_state_store` (or
    ``async with``) and until :meth:`close`; any call outside that raises :class:`StoreError`.
    Every method raises :class:`StoreError` when the database refuses it.
    """

    async def start_run(self, run: Run) -> None:
        """Store a new run.

        Raises:
            StoreError: ``run`` is invalid or ``run_id`` is taken.
        """
        ...

    async def finish_run(self, run_id: str, *, ended_ns: int, status: RunStatus = "finished") -> None:
        """Mark a run ended at ``ended_ns`` (ns since the epoch) with ``status``.

        Raises:
            StoreError: no such run, or ``status`` is not a :data:`RunStatus`.
        """
        ...

    async def get_run(self, run_id: str) -> Run | None:
        """Return the run, or ``None`` when there is none with that id."""
        ...

    async def list_runs(self) -> list[Run]:
        """Return every run, oldest first."""
        ...

    async def upsert_opportunity(self, opportunity: Opportunity) -> None:
        """Store an opportunity, or replace the stored one with the same ``opportunity_id``.

        Raises:
            StoreError: invalid, its run is unknown, or the id belongs to another run.
        """
        ...

    async def list_opportunities(self, run_id: str, state: OpportunityState | None = None) -> list[Opportunity]:
        """Return a run's opportunities (only those in ``state`` when given), by ``opened_ns``."""
        ...

    async def insert_order(self, order: PaperOrder) -> None:
        """Store a new paper order.

        Raises:
            StoreError: invalid, its run is unknown, or ``order_id`` is taken.
        """
        ...

    async def update_order_status(self, order_id: str, status: OrderStatus, *, updated_ns: int) -> None:
        """Set an order's ``status`` and ``updated_ns``.

        Raises:
            StoreError: no such order, or ``status`` is not an :data:`OrderStatus`.
        """
        ...

    async def get_order(self, order_id: str) -> PaperOrder | None:
        """Return the order, or ``None``."""
        ...

    async def list_orders(self, run_id: str, status: OrderStatus | None = None) -> list[PaperOrder]:
        """Return a run's orders (only those in ``status`` when given), by ``created_ns``."""
        ...

    async def insert_fill(self, fill: Fill) -> bool:
        """Store a fill once: return ``True`` if stored, ``False`` if its ``fill_id`` already was.

        A repeated ``fill_id`` is ignored whatever its other fields (the first write wins).

        Raises:
            StoreError: invalid, or its order or run is unknown.
        """
        ...

    async def insert_fills(self, fills: Sequence[Fill]) -> int:
        """Store many fills in one transaction (as :meth:`insert_fill`); return how many were new."""
        ...

    async def record_fill(
        self, fill: Fill, position: Position, balance: Balance, *, order_status: OrderStatus | None = None
    ) -> bool:
        """Store a fill with the position and balance it leads to, atomically.

        ``position`` and ``balance`` are the new absolute values (as :meth:`upsert_position` and
        :meth:`upsert_balance`); with ``order_status`` the fill's order also takes that status and
        ``updated_ns = fill.ts_ns``. If the ``fill_id`` is already stored nothing is written and
        the result is ``False``: a redelivered fill never applies its effects twice.

        Raises:
            StoreError: any record is invalid or any write is refused; then nothing is written.
        """
        ...

    async def list_fills(self, run_id: str, order_id: str | None = None) -> list[Fill]:
        """Return a run's fills (only ``order_id``'s when given), by ``ts_ns``."""
        ...

    async def upsert_position(self, position: Position) -> None:
        """Store a position, replacing the one with the same (run, venue, instrument)."""
        ...

    async def get_position(self, run_id: str, venue: str, instrument: str) -> Position | None:
        """Return the position, or ``None``."""
        ...

    async def list_positions(self, run_id: str) -> list[Position]:
        """Return a run's positions, by venue then instrument."""
        ...

    async def upsert_balance(self, balance: Balance) -> None:
        """Store a balance, replacing the one with the same (run, venue, currency)."""
        ...

    async def list_balances(self, run_id: str) -> list[Balance]:
        """Return a run's balances, by venue then currency."""
        ...

    async def record_account(self, events: Sequence[AccountEvent]) -> int:
        """Store the real account's events (:mod:`hadron.model.account`) in one transaction; return
        how many. A fill is kept once per ``(venue, fill_id)`` (a repeat updates its status); an
        order, position or order group keeps its latest state."""
        ...

    async def list_account_fills(self) -> list[AccountFill]:
        """Every account fill, by ``ts_event``."""
        ...

    async def list_account_orders(self) -> list[OrderUpdate]:
        """Every account order's latest state, by ``ts_event``."""
        ...

    async def list_account_positions(self) -> list[PositionUpdate]:
        """Every account position's latest state, by venue then instrument."""
        ...

    async def list_account_order_groups(self) -> list[OrderGroupUpdate]:
        """Every order group's latest change, by venue then id."""
        ...

    async def journal_order(self, record: ExecOrderRecord) -> None:
        """Write a live order to the journal (``exec_orders``): insert it, or update the stored one.

        An update changes only what a venue answer can change: ``venue_order_id`` (an empty one
        keeps the stored id), ``state``, ``filled`` (never lowered: it is cumulative), ``reason``
        (an empty one keeps the stored reason) and ``updated_ns`` (never lowered). The state never
        moves backwards: a terminal stored state is kept whatever the update says (the first
        terminal state wins), and so is a stored state further along than the update's (pending →
        accepted → partially_filled). Write it with ``state=pending`` before sending the order.

        Raises:
            StoreError: ``record`` is invalid, or the ``client_order_id`` belongs to an order of
                another venue.
        """
        ...

    async def journal_fill(self, venue: str, fill: ExecFill, recorded_ns: int) -> bool:
        """Store one execution of a live order (``exec_fills``) once per ``(venue, fill_id)``;
        return ``True`` when new, ``False`` when already stored (the first write wins).

        Raises:
            StoreError: an empty venue or fill id, a negative price or size, an integer outside
                64 bits, or a time that is not ns since the epoch.
        """
        ...

    async def journal_orders(self, *, open_only: bool = False, venue: str | None = None) -> list[ExecOrderRecord]:
        """Return the journaled orders (only those not in a terminal state with ``open_only``, only
        ``venue``'s when given), by ``created_ns``."""
        ...

    async def journal_fills(
        self, venue: str | None = None, client_order_id: str | None = None
    ) -> list[tuple[str, ExecFill]]:
        """Return the journaled fills as ``(venue, fill)`` (only ``venue``'s and/or one order's when
        given), by ``ts_event``."""
        ...

    async def set_baseline(self, venue: str, positions: Mapping[str, int], ts_ns: int) -> None:
        """Store ``venue``'s positions (instrument → signed size, 1/1,000,000) as they were when
        Hadron first traded on that account, at ``ts_ns``; a venue that has a baseline keeps it
        (this call then writes nothing). An empty mapping is a baseline too (no positions).

        Raises:
            StoreError: an empty venue or instrument, a size outside 64 bits, or a bad ``ts_ns``.
        """
        ...

    async def baseline(self, venue: str) -> dict[str, int] | None:
        """Return ``venue``'s baseline positions (instrument → signed size, 1/1,000,000), or
        ``None`` when none was set."""
        ...

    async def schema_version(self) -> int:
        """Return the database's schema version (the highest applied migration)."""
        ...

    async def migration_history(self) -> list[tuple[int, str, int]]:
        """Return the applied migrations as ``(version, description, applied_ns)``, in order."""
        ...

    async def close(self) -> None:
        """Close the connection (waiting for calls in flight); closing twice is harmless."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def psycopg_module() -> Any:
    # psycopg (the [postgres] extra), imported on first use; psycopg.conninfo with it
    psycopg = require("psycopg", "the PostgreSQL state store")
    require("psycopg.conninfo", "the PostgreSQL state store")
    return psycopg


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class SqlStateStore:
    """The :class:`StateStore` operations, common to both backends."""

    dialect: ClassVar[str]

    def __init__(self, where: str, migrations: Sequence[Migration]) -> None:
        check_migrations(migrations)
        self.where = where
        self._migrations = tuple(migrations)
        self._state = _State.UNOPENED

    async def _connect(self) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        raise NotImplementedError

    def _preamble(self) -> Sequence[Query]:
        return ()

    async def _run(self, op: Op[_T], *, write: bool, what: str) -> _T:
        raise NotImplementedError

    def _check_open(self) -> None:
        if self._state is not _State.OPEN:
            detail = "closed" if self._state is _State.CLOSED else "not open: await open() or use async with"
            raise StoreError(f"{self.where}: the state store is {detail}")

    async def open(self) -> Self:
        """Connect and bring the schema up to date; return the store (opening twice is harmless).

        Raises:
            StoreError: the database cannot be reached or a migration fails.
            SchemaVersionError: the database is newer than this code.
        """
        if self._state is _State.OPEN:
            return self
        if self._state is _State.CLOSED:
            raise StoreError(f"{self.where}: a closed state store cannot be reopened")
        await self._connect()
        self._state = _State.OPEN
        try:
            if await self._current():
                return self  # nothing to migrate: a role without DDL rights (PostgreSQL) may open it
            await self._run(
                migrate_op(self._migrations, self.dialect, self.where, self._preamble()), write=True, what="migrate"
            )
        except BaseException:
            await self.close()
            raise
        return self

    async def _current(self) -> bool:
        # True when the database already holds every migration (read only; a missing table or a
        # refused read means "migrate", which then says what is wrong)
        try:
            result = await self._run(one(Query(SELECT_MIGRATIONS)), write=False, what="read the migrations")
        except StoreError:
            return False
        applied = [int(row[0]) for row in result.rows]
        known = [m[0] for m in self._migrations]
        if applied and applied[-1] > known[-1]:
            raise SchemaVersionError(self.where, applied[-1], known[-1])
        return applied == known

    async def close(self) -> None:
        """Close the connection after the calls in flight; closing twice is harmless."""
        if self._state is _State.OPEN:
            self._state = _State.CLOSED
            await self._disconnect()
        self._state = _State.CLOSED

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def schema_version(self) -> int:
        """Return the highest applied migration version."""
        result = await self._run(one(Query(SCHEMA_VERSION)), write=False, what="read the schema version")
        return int(result.rows[0][0])

    async def migration_history(self) -> list[tuple[int, str, int]]:
        """Return the applied migrations as ``(version, description, applied_ns)``, in order."""
        result = await self._run(one(Query(MIGRATION_HISTORY)), write=False, what="read the migration history")
        return [(int(version), str(description), int(applied_ns)) for version, description, applied_ns in result.rows]

    async def start_run(self, run: Run) -> None:
        """Store a new run (see :meth:`StateStore.start_run`)."""
        run = valid(run)
        query = Query(INSERT_RUN, msgspec.structs.astuple(run))
        await self._run(one(query), write=True, what=f"start run {run.run_id!r}")

    async def finish_run(self, run_id: str, *, ended_ns: int, status: RunStatus = "finished") -> None:
        """Mark a run ended (see :meth:`StateStore.finish_run`)."""
        if status not in RUN_STATUSES:
            raise StoreError(f"finish run {run_id!r}: status {status!r} is not one of {sorted(RUN_STATUSES)}")
        check_ns("ended_ns", ended_ns)
        what = f"finish run {run_id!r}"
        result = await self._run(one(Query(FINISH_RUN, (ended_ns, status, run_id))), write=True, what=what)
        if result.rowcount == 0:
            raise StoreError(f"{what}: no such run")

    async def get_run(self, run_id: str) -> Run | None:
        """Return the run, or ``None``."""
        rows = (await self._run(one(Query(GET_RUN, (run_id,))), write=False, what=f"get run {run_id!r}")).rows
        return Run(*rows[0]) if rows else None

    async def list_runs(self) -> list[Run]:
        """Return every run, oldest first."""
        rows = (await self._run(one(Query(LIST_RUNS)), write=False, what="list runs")).rows
        return [Run(*row) for row in rows]

    async def upsert_opportunity(self, opportunity: Opportunity) -> None:
        """Store or replace an opportunity (see :meth:`StateStore.upsert_opportunity`)."""
        opportunity = valid(opportunity)
        what = f"upsert opportunity {opportunity.opportunity_id!r}"
        query = Query(UPSERT_OPPORTUNITY, msgspec.structs.astuple(opportunity))
        if (await self._run(one(query), write=True, what=what)).rowcount == 0:
            raise StoreError(f"{what}: the id belongs to another run than {opportunity.run_id!r}")

    async def list_opportunities(self, run_id: str, state: OpportunityState | None = None) -> list[Opportunity]:
        """Return a run's opportunities, optionally in one state, by ``opened_ns``."""
        query = (
            Query(LIST_OPPORTUNITIES, (run_id,))
            if state is None
            else Query(LIST_OPPORTUNITIES_BY_STATE, (run_id, state))
        )
        rows = (await self._run(one(query), write=False, what=f"list opportunities of run {run_id!r}")).rows
        return [Opportunity(*row) for row in rows]

    async def insert_order(self, order: PaperOrder) -> None:
        """Store a new paper order (see :meth:`StateStore.insert_order`)."""
        order = valid(order)
        query = Query(INSERT_ORDER, msgspec.structs.astuple(order))
        await self._run(one(query), write=True, what=f"insert order {order.order_id!r}")

    async def update_order_status(self, order_id: str, status: OrderStatus, *, updated_ns: int) -> None:
        """Set an order's status (see :meth:`StateStore.update_order_status`)."""
        what = f"update order {order_id!r}"
        if status not in ORDER_STATUSES:
            raise StoreError(f"{what}: status {status!r} is not one of {sorted(ORDER_STATUSES)}")
        check_ns("updated_ns", updated_ns)
        query = Query(UPDATE_ORDER_STATUS, (status, updated_ns, order_id))
        if (await self._run(one(query), write=True, what=what)).rowcount == 0:
            raise StoreError(f"{what}: no such order")

    async def get_order(self, order_id: str) -> PaperOrder | None:
        """Return the order, or ``None``."""
        query = Query(GET_ORDER, (order_id,))
        rows = (await self._run(one(query), write=False, what=f"get order {order_id!r}")).rows
        return PaperOrder(*rows[0]) if rows else None

    async def list_orders(self, run_id: str, status: OrderStatus | None = None) -> list[PaperOrder]:
        """Return a run's orders, optionally in one status, by ``created_ns``."""
        query = Query(LIST_ORDERS, (run_id,)) if status is None else Query(LIST_ORDERS_BY_STATUS, (run_id, status))
        rows = (await self._run(one(query), write=False, what=f"list orders of run {run_id!r}")).rows
        return [PaperOrder(*row) for row in rows]

    async def insert_fill(self, fill: Fill) -> bool:
        """Store a fill once; ``False`` if its ``fill_id`` was already stored."""
        fill = valid(fill)
        query = Query(INSERT_FILL, msgspec.structs.astuple(fill))
        return (await self._run(one(query), write=True, what=f"insert fill {fill.fill_id!r}")).rowcount > 0

    async def insert_fills(self, fills: Sequence[Fill]) -> int:
        """Store many fills in one transaction; return how many were new."""
        if not fills:
            return 0
        rows = [msgspec.structs.astuple(valid(fill)) for fill in fills]
        query = Query(INSERT_FILL, rows, many=True)
        return (await self._run(one(query), write=True, what=f"insert {len(rows)} fills")).rowcount

    async def record_fill(
        self, fill: Fill, position: Position, balance: Balance, *, order_status: OrderStatus | None = None
    ) -> bool:
        """Store a fill, its position and its balance atomically (see :meth:`StateStore.record_fill`)."""
        fill, position, balance = valid(fill), valid(position), valid(balance)
        what = f"record fill {fill.fill_id!r}"
        if order_status is not None and order_status not in ORDER_STATUSES:
            raise StoreError(f"{what}: order status {order_status!r} is not one of {sorted(ORDER_STATUSES)}")
        return await self._run(record_fill_op(fill, position, balance, order_status), write=True, what=what)

    async def list_fills(self, run_id: str, order_id: str | None = None) -> list[Fill]:
        """Return a run's fills, optionally of one order, by ``ts_ns``."""
        query = Query(LIST_FILLS, (run_id,)) if order_id is None else Query(LIST_FILLS_BY_ORDER, (run_id, order_id))
        rows = (await self._run(one(query), write=False, what=f"list fills of run {run_id!r}")).rows
        return [Fill(*row) for row in rows]

    async def upsert_position(self, position: Position) -> None:
        """Store or replace a position."""
        position = valid(position)
        query = Query(UPSERT_POSITION, msgspec.structs.astuple(position))
        await self._run(one(query), write=True, what=f"upsert position {position.venue}:{position.instrument}")

    async def get_position(self, run_id: str, venue: str, instrument: str) -> Position | None:
        """Return the position, or ``None``."""
        query = Query(GET_POSITION, (run_id, venue, instrument))
        rows = (await self._run(one(query), write=False, what=f"get position {venue}:{instrument}")).rows
        return Position(*rows[0]) if rows else None

    async def list_positions(self, run_id: str) -> list[Position]:
        """Return a run's positions, by venue then instrument."""
        query = Query(LIST_POSITIONS, (run_id,))
        rows = (await self._run(one(query), write=False, what=f"list positions of run {run_id!r}")).rows
        return [Position(*row) for row in rows]

    async def upsert_balance(self, balance: Balance) -> None:
        """Store or replace a balance."""
        balance = valid(balance)
        query = Query(UPSERT_BALANCE, msgspec.structs.astuple(balance))
        await self._run(one(query), write=True, what=f"upsert balance {balance.venue}:{balance.currency}")

    async def list_balances(self, run_id: str) -> list[Balance]:
        """Return a run's balances, by venue then currency."""
        query = Query(LIST_BALANCES, (run_id,))
        rows = (await self._run(one(query), write=False, what=f"list balances of run {run_id!r}")).rows
        return [Balance(*row) for row in rows]

    async def record_account(self, events: Sequence[AccountEvent]) -> int:
        """Store account events (:mod:`hadron.model.account`) in one transaction; return how many.

        Account rows belong to the venue account, not to a run: a fill is kept once per
        ``(venue, fill_id)`` (a repeat only updates its ``status``), an order, position or order
        group is replaced by its latest state (an order only by a change at least as new).
        """
        if not events:
            return 0
        for event in events:
            check_account(event)
        queries = [account_query(event) for event in events]
        return await self._run(record_account_op(queries), write=True, what=f"record {len(queries)} account events")

    async def list_account_fills(self) -> list[AccountFill]:
        """Every stored account fill, by ``ts_event``."""
        rows = (await self._run(one(Query(LIST_ACCOUNT_FILLS)), write=False, what="list account fills")).rows
        return [
            AccountFill(v, i, f, o, c, Outcome(out), OrderSide(side), p, s, fee,
                        None if liq == "" else liq == "taker", te, tr, post, st)
            for v, i, f, o, c, out, side, p, s, fee, liq, te, tr, post, st in rows
        ]  # fmt: skip

    async def list_account_orders(self) -> list[OrderUpdate]:
        """Every stored account order (its latest state), by ``ts_event``."""
        rows = (await self._run(one(Query(LIST_ACCOUNT_ORDERS)), write=False, what="list account orders")).rows
        return [
            OrderUpdate(v, i, o, c, AccountOrderStatus(st), Outcome(out), OrderSide(side), p, a, f, r, te, tr, vs)
            for v, i, o, c, st, out, side, p, a, f, r, te, tr, vs in rows
        ]

    async def list_account_positions(self) -> list[PositionUpdate]:
        """Every stored account position (its latest state), by venue then instrument."""
        query = Query(LIST_ACCOUNT_POSITIONS)
        rows = (await self._run(one(query), write=False, what="list account positions")).rows
        return [
            PositionUpdate(v, i, pos, cost, pnl, fees, te, tr, volume, bool(derived))
            for v, i, pos, cost, pnl, fees, te, tr, volume, derived in rows
        ]

    async def list_account_order_groups(self) -> list[OrderGroupUpdate]:
        """Every stored order group (its latest change), by venue then id."""
        rows = (await self._run(one(Query(LIST_ACCOUNT_GROUPS)), write=False, what="list order groups")).rows
        return [OrderGroupUpdate(*row) for row in rows]

    async def journal_order(self, record: ExecOrderRecord) -> None:
        """Insert or update a journaled order (see :meth:`StateStore.journal_order`)."""
        record = valid(record)
        what = f"journal order {record.client_order_id!r}"
        query = Query(UPSERT_EXEC_ORDER, exec_order_params(record))
        if (await self._run(one(query), write=True, what=what)).rowcount == 0:
            raise StoreError(f"{what}: the id belongs to an order of another venue than {record.venue!r}")

    async def journal_fill(self, venue: str, fill: ExecFill, recorded_ns: int) -> bool:
        """Store a live fill once per ``(venue, fill_id)``; ``False`` if already stored."""
        query = Query(INSERT_EXEC_FILL, check_exec_fill(venue, fill, recorded_ns))
        what = f"journal fill {fill.fill_id!r} of {venue!r}"
        return (await self._run(one(query), write=True, what=what)).rowcount > 0

    async def journal_orders(self, *, open_only: bool = False, venue: str | None = None) -> list[ExecOrderRecord]:
        """Return the journaled orders, by ``created_ns`` (see :meth:`StateStore.journal_orders`)."""
        query = list_exec_orders_query(open_only=open_only, venue=venue)
        rows = (await self._run(one(query), write=False, what="list journaled orders")).rows
        return [exec_order_from_row(row) for row in rows]

    async def journal_fills(
        self, venue: str | None = None, client_order_id: str | None = None
    ) -> list[tuple[str, ExecFill]]:
        """Return the journaled fills as ``(venue, fill)``, by ``ts_event``."""
        query = list_exec_fills_query(venue, client_order_id)
        rows = (await self._run(one(query), write=False, what="list journaled fills")).rows
        return [exec_fill_from_row(row) for row in rows]

    async def set_baseline(self, venue: str, positions: Mapping[str, int], ts_ns: int) -> None:
        """Store a venue's baseline positions unless it has one (see :meth:`StateStore.set_baseline`)."""
        what = f"set the baseline of {venue!r}"
        if not isinstance(venue, str) or not venue:
            raise StoreError(f"{what}: the venue must be non-empty text")
        check_ns("ts_ns", ts_ns)
        rows: list[tuple[str, int]] = []
        for instrument, position in positions.items():
            if not isinstance(instrument, str) or instrument == BASELINE_MARK:
                raise StoreError(f"{what}: instrument {instrument!r} must be non-empty text")
            if type(position) is not int or not INT64_MIN <= position <= INT64_MAX:
                raise StoreError(f"{what}: position {position!r} of {instrument!r} must be a 64-bit int")
            rows.append((instrument, position))
        await self._run(set_baseline_op(venue, rows, ts_ns), write=True, what=what)

    async def baseline(self, venue: str) -> dict[str, int] | None:
        """Return a venue's baseline positions, or ``None`` when none was set."""
        query = Query(GET_BASELINE, (venue,))
        rows = (await self._run(one(query), write=False, what=f"get the baseline of {venue!r}")).rows
        if not rows:
            return None
        return {str(instrument): int(position) for instrument, position in rows if instrument != BASELINE_MARK}
