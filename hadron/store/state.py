"""The state store: runs, opportunities, paper orders, fills, positions and balances.

One interface, :class:`StateStore`, with two backends that pass the same tests:

* :class:`SqliteStateStore`, the embedded default: one database file in WAL mode
  (``synchronous=NORMAL``, ``foreign_keys=ON``), driven by the standard :mod:`sqlite3` on one
  dedicated worker thread, so the event loop never blocks and calls run one at a time, in order.
* :class:`PostgresStateStore`: PostgreSQL through one ``psycopg.AsyncConnection``, tables in
  their own schema (``hadron`` unless told), for state shared between processes (see "Scale-out"
  in the architecture notes).

:func:`open_state_store` picks the backend from a URL::

    sqlite:///state/hadron.db              SQLite, relative path state/hadron.db
    sqlite:////var/lib/hadron/state.db     SQLite, absolute path /var/lib/hadron/state.db
    sqlite://:memory:   (or sqlite://)     SQLite, private in-memory database
    state/hadron.db                        SQLite, a plain file path
    postgresql://hadron@db:5432/hadron     PostgreSQL (postgres://… too), libpq URI syntax

Units are Hadron's everywhere: prices are int 1/10,000 USD, sizes int 1/1,000,000 contract, cash
(fees, costs, P&L, balances) int 1/1,000,000 USD, times int nanoseconds since the Unix epoch, ids
text. Every integer is stored as a 64-bit integer (``BIGINT``; SQLite ``INTEGER`` is 64-bit) and
reads back exactly; a value outside the signed 64-bit range is refused before it reaches the
database.

The schema is built by the ordered :data:`MIGRATIONS`. Opening a store applies, in one
transaction, every migration the database does not have yet, and records each in
``schema_migrations(version, description, applied_ns)``; a database at a newer version than this
code knows raises :class:`SchemaVersionError`. A database already up to date is only read (no
DDL), so on PostgreSQL the processes of a deployment can connect as a role with data rights only,
while one owner role migrates (see ``docs/SCALE-OUT.md``).

Errors: :class:`StoreError` for anything the store or the database refuses (a bad record, an
unknown order, a constraint, a lost connection); :class:`~hadron.errors.ConfigError` for a URL
that names no supported backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, NamedTuple, Protocol, Self, TypeVar, cast, get_args

import msgspec

from hadron.config import mask_url
from hadron.errors import ConfigError, StoreError
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

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "MIGRATIONS",
    "Balance",
    "DialectSQL",
    "Fill",
    "Migration",
    "Opportunity",
    "PaperOrder",
    "Position",
    "PostgresStateStore",
    "Run",
    "SchemaVersionError",
    "SqliteStateStore",
    "StateStore",
    "StoreError",
    "bench_state",
    "bench_state_async",
    "open_state_store",
    "parse_state_url",
]


class SchemaVersionError(StoreError):
    """The database's schema is newer than this code knows: upgrade Hadron or use another database.

    ``database_version`` is the highest version recorded in ``schema_migrations``;
    ``code_version`` the highest in :data:`MIGRATIONS`.
    """

    def __init__(self, where: str, database_version: int, code_version: int) -> None:
        super().__init__(
            f"{where}: the database schema is at version {database_version}, newer than this Hadron "
            f"knows (up to version {code_version}); upgrade Hadron or point the state store at another database"
        )
        self.database_version = database_version
        self.code_version = code_version


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Id = Annotated[str, msgspec.Meta(min_length=1)]
"""A non-empty identifier."""
Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
"""A signed 64-bit integer (money, signed sizes)."""
UInt63 = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
"""A non-negative integer that fits a signed 64-bit column (prices, sizes, timestamps)."""

RunMode = Literal["replay", "live", "paper"]
RunStatus = Literal["running", "finished", "failed", "stopped"]
OpportunityState = Literal["opened", "updated", "closed"]
Side = Literal["buy", "sell"]
OrderStatus = Literal["new", "partially_filled", "filled", "cancelled", "rejected"]
Liquidity = Literal["taker", "maker"]


class Run(msgspec.Struct, frozen=True, gc=False):
    """One run of Hadron (a replay, a live capture, a paper-trading session).

    Attributes:
        run_id: unique id.
        started_ns / ended_ns: ns since the epoch; ``ended_ns`` is ``None`` while running.
        mode: ``"replay"``, ``"live"`` or ``"paper"``.
        config_json: the effective configuration as JSON text (secrets already masked).
        status: ``"running"``, ``"finished"``, ``"failed"`` or ``"stopped"``.
    """

    run_id: Id
    started_ns: UInt63
    ended_ns: UInt63 | None
    mode: RunMode
    config_json: str
    status: RunStatus


class Opportunity(msgspec.Struct, frozen=True, gc=False):
    """The latest state of one cross-venue arbitrage opportunity.

    Attributes:
        opportunity_id: unique across runs (the store refuses to move it to another run).
        run_id: the run that found it.
        pair_id: the approved market pair.
        direction: which leg is bought where, in the detector's own words.
        state: ``"opened"``, ``"updated"`` or ``"closed"``.
        edge: int, 1/10,000 USD per contract (negative allowed).
        size: int, 1/1,000,000 contract.
        legs_json: the legs (venue, instrument, side, price, size) as JSON text.
        opened_ns / updated_ns / closed_ns: ns since the epoch; ``closed_ns`` ``None`` until closed.
    """

    opportunity_id: Id
    run_id: Id
    pair_id: str
    direction: str
    state: OpportunityState
    edge: Int64
    size: UInt63
    legs_json: str
    opened_ns: UInt63
    updated_ns: UInt63
    closed_ns: UInt63 | None


class PaperOrder(msgspec.Struct, frozen=True, gc=False):
    """One simulated order.

    Attributes:
        order_id: unique across runs.
        run_id: the run that placed it.
        opportunity_id: the opportunity it trades, if any.
        venue / instrument: where and what.
        side: ``"buy"`` or ``"sell"``.
        price: limit price, int 1/10,000 USD.
        size: int, 1/1,000,000 contract.
        status: ``"new"``, ``"partially_filled"``, ``"filled"``, ``"cancelled"`` or ``"rejected"``.
        created_ns / updated_ns: ns since the epoch.
        client_order_id: the id a live venue would have been sent.
    """

    order_id: Id
    run_id: Id
    opportunity_id: str | None
    venue: Id
    instrument: Id
    side: Side
    price: UInt63
    size: UInt63
    status: OrderStatus
    created_ns: UInt63
    updated_ns: UInt63
    client_order_id: str


class Fill(msgspec.Struct, frozen=True, gc=False):
    """One (simulated) execution of part of a :class:`PaperOrder`.

    Attributes:
        fill_id: unique across runs; writing the same ``fill_id`` twice stores it once.
        order_id: the order it fills (must be stored already).
        run_id / venue / instrument / side: as on the order.
        price: int, 1/10,000 USD.
        size: int, 1/1,000,000 contract.
        fee: int, 1/1,000,000 USD (negative for a rebate).
        liquidity: ``"taker"`` or ``"maker"``.
        ts_ns: ns since the epoch.
    """

    fill_id: Id
    order_id: Id
    run_id: Id
    venue: Id
    instrument: Id
    side: Side
    price: UInt63
    size: UInt63
    fee: Int64
    liquidity: Liquidity
    ts_ns: UInt63


class Position(msgspec.Struct, frozen=True, gc=False):
    """The current position of one run in one instrument (absolute values, not changes).

    Attributes:
        run_id / venue / instrument: the key.
        size: signed int, 1/1,000,000 contract (negative is short).
        cost: int, 1/1,000,000 USD paid for the open size (signed).
        realized_pnl: int, 1/1,000,000 USD.
        updated_ns: ns since the epoch.
    """

    run_id: Id
    venue: Id
    instrument: Id
    size: Int64
    cost: Int64
    realized_pnl: Int64
    updated_ns: UInt63


class Balance(msgspec.Struct, frozen=True, gc=False):
    """The current cash balance of one run at one venue in one currency (absolute value).

    Attributes:
        run_id / venue / currency: the key (currency e.g. ``"USD"``, ``"USDC"``).
        amount: signed int, 1/1,000,000 of the currency.
        updated_ns: ns since the epoch.
    """

    run_id: Id
    venue: Id
    currency: Id
    amount: Int64
    updated_ns: UInt63


class DialectSQL(NamedTuple):
    """A migration step written separately for each dialect."""

    sqlite: str
    postgresql: str


Migration = tuple[int, str, str | DialectSQL]
"""``(version, description, sql)``: ``sql`` runs on both dialects, or is a :class:`DialectSQL`.

The SQL is split into statements on ``;``, so it must hold no ``;`` inside literals.
"""

MIGRATIONS: list[Migration] = [
    (
        1,
        "runs, opportunities, paper orders, fills, positions, balances",
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started_ns BIGINT NOT NULL,
            ended_ns BIGINT,
            mode TEXT NOT NULL,
            config_json TEXT NOT NULL,
            status TEXT NOT NULL
        );
        CREATE TABLE opportunities (
            opportunity_id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            pair_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            state TEXT NOT NULL,
            edge BIGINT NOT NULL,
            size BIGINT NOT NULL,
            legs_json TEXT NOT NULL,
            opened_ns BIGINT NOT NULL,
            updated_ns BIGINT NOT NULL,
            closed_ns BIGINT
        );
        CREATE TABLE paper_orders (
            order_id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            opportunity_id TEXT,
            venue TEXT NOT NULL,
            instrument TEXT NOT NULL,
            side TEXT NOT NULL,
            price BIGINT NOT NULL,
            size BIGINT NOT NULL,
            status TEXT NOT NULL,
            created_ns BIGINT NOT NULL,
            updated_ns BIGINT NOT NULL,
            client_order_id TEXT NOT NULL
        );
        CREATE TABLE fills (
            fill_id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES paper_orders (order_id),
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            venue TEXT NOT NULL,
            instrument TEXT NOT NULL,
            side TEXT NOT NULL,
            price BIGINT NOT NULL,
            size BIGINT NOT NULL,
            fee BIGINT NOT NULL,
            liquidity TEXT NOT NULL,
            ts_ns BIGINT NOT NULL
        );
        CREATE TABLE positions (
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            venue TEXT NOT NULL,
            instrument TEXT NOT NULL,
            size BIGINT NOT NULL,
            cost BIGINT NOT NULL,
            realized_pnl BIGINT NOT NULL,
            updated_ns BIGINT NOT NULL,
            PRIMARY KEY (run_id, venue, instrument)
        );
        CREATE TABLE balances (
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            venue TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount BIGINT NOT NULL,
            updated_ns BIGINT NOT NULL,
            PRIMARY KEY (run_id, venue, currency)
        )
        """,
    ),
    (
        2,
        "indexes for the per-run listings",
        """
        CREATE INDEX opportunities_run_state ON opportunities (run_id, state);
        CREATE INDEX paper_orders_run_status ON paper_orders (run_id, status);
        CREATE INDEX fills_run_order ON fills (run_id, order_id);
        CREATE INDEX fills_order ON fills (order_id)
        """,
    ),
    (
        3,
        "the real account: fills, orders, positions and order groups from the venues' private channels",
        """
        CREATE TABLE account_fills (
            venue TEXT NOT NULL,
            fill_id TEXT NOT NULL,
            order_id TEXT NOT NULL,
            client_order_id TEXT NOT NULL,
            instrument TEXT NOT NULL,
            outcome TEXT NOT NULL,
            side TEXT NOT NULL,
            price BIGINT NOT NULL,
            size BIGINT NOT NULL,
            fee BIGINT NOT NULL,
            liquidity TEXT NOT NULL,
            status TEXT NOT NULL,
            post_position BIGINT,
            ts_event BIGINT NOT NULL,
            ts_recv BIGINT NOT NULL,
            PRIMARY KEY (venue, fill_id)
        );
        CREATE TABLE account_orders (
            venue TEXT NOT NULL,
            order_id TEXT NOT NULL,
            client_order_id TEXT NOT NULL,
            instrument TEXT NOT NULL,
            status TEXT NOT NULL,
            outcome TEXT NOT NULL,
            side TEXT NOT NULL,
            price BIGINT NOT NULL,
            initial_size BIGINT NOT NULL,
            filled_size BIGINT NOT NULL,
            remaining_size BIGINT NOT NULL,
            venue_status TEXT NOT NULL,
            ts_event BIGINT NOT NULL,
            ts_recv BIGINT NOT NULL,
            PRIMARY KEY (venue, order_id)
        );
        CREATE TABLE account_positions (
            venue TEXT NOT NULL,
            instrument TEXT NOT NULL,
            position_size BIGINT NOT NULL,
            cost BIGINT NOT NULL,
            realized_pnl BIGINT NOT NULL,
            fees_paid BIGINT NOT NULL,
            volume BIGINT NOT NULL,
            derived INTEGER NOT NULL,
            ts_event BIGINT NOT NULL,
            ts_recv BIGINT NOT NULL,
            PRIMARY KEY (venue, instrument)
        );
        CREATE TABLE account_order_groups (
            venue TEXT NOT NULL,
            order_group_id TEXT NOT NULL,
            event TEXT NOT NULL,
            contracts_limit BIGINT,
            ts_event BIGINT NOT NULL,
            ts_recv BIGINT NOT NULL,
            PRIMARY KEY (venue, order_group_id)
        )
        """,
    ),
]
"""Every schema change, in order; append only (never edit or renumber an applied migration)."""


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


# Each operation is written once, as a generator that yields queries (SQL with ``?``
# placeholders) and receives their results; each backend drives it inside its own transaction.

_T = TypeVar("_T")
_R = TypeVar("_R", Run, Opportunity, PaperOrder, Fill, Position, Balance)


class _Query(NamedTuple):
    sql: str
    params: Sequence[Any] = ()
    many: bool = False


class _Result(NamedTuple):
    rows: list[tuple[Any, ...]]
    rowcount: int


_Op = Generator[_Query, _Result, _T]

_CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_ns BIGINT NOT NULL)"
)
_SELECT_MIGRATIONS = "SELECT version FROM schema_migrations ORDER BY version"
_INSERT_MIGRATION = "INSERT INTO schema_migrations (version, description, applied_ns) VALUES (?, ?, ?)"
_SCHEMA_VERSION = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
_MIGRATION_HISTORY = "SELECT version, description, applied_ns FROM schema_migrations ORDER BY version"

_INSERT_RUN = "INSERT INTO runs (run_id, started_ns, ended_ns, mode, config_json, status) VALUES (?, ?, ?, ?, ?, ?)"
_FINISH_RUN = "UPDATE runs SET ended_ns = ?, status = ? WHERE run_id = ?"
_GET_RUN = "SELECT run_id, started_ns, ended_ns, mode, config_json, status FROM runs WHERE run_id = ?"
_LIST_RUNS = "SELECT run_id, started_ns, ended_ns, mode, config_json, status FROM runs ORDER BY started_ns, run_id"

_UPSERT_OPPORTUNITY = (
    "INSERT INTO opportunities (opportunity_id, run_id, pair_id, direction, state, edge, size, legs_json,"
    " opened_ns, updated_ns, closed_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (opportunity_id) DO UPDATE SET pair_id = excluded.pair_id, direction = excluded.direction,"
    " state = excluded.state, edge = excluded.edge, size = excluded.size, legs_json = excluded.legs_json,"
    " opened_ns = excluded.opened_ns, updated_ns = excluded.updated_ns, closed_ns = excluded.closed_ns"
    " WHERE opportunities.run_id = excluded.run_id"
)
_LIST_OPPORTUNITIES = (
    "SELECT opportunity_id, run_id, pair_id, direction, state, edge, size, legs_json, opened_ns, updated_ns,"
    " closed_ns FROM opportunities WHERE run_id = ? ORDER BY opened_ns, opportunity_id"
)
_LIST_OPPORTUNITIES_BY_STATE = (
    "SELECT opportunity_id, run_id, pair_id, direction, state, edge, size, legs_json, opened_ns, updated_ns,"
    " closed_ns FROM opportunities WHERE run_id = ? AND state = ? ORDER BY opened_ns, opportunity_id"
)

_INSERT_ORDER = (
    "INSERT INTO paper_orders (order_id, run_id, opportunity_id, venue, instrument, side, price, size, status,"
    " created_ns, updated_ns, client_order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_ORDER_STATUS = "UPDATE paper_orders SET status = ?, updated_ns = ? WHERE order_id = ?"
_GET_ORDER = (
    "SELECT order_id, run_id, opportunity_id, venue, instrument, side, price, size, status, created_ns,"
    " updated_ns, client_order_id FROM paper_orders WHERE order_id = ?"
)
_LIST_ORDERS = (
    "SELECT order_id, run_id, opportunity_id, venue, instrument, side, price, size, status, created_ns,"
    " updated_ns, client_order_id FROM paper_orders WHERE run_id = ? ORDER BY created_ns, order_id"
)
_LIST_ORDERS_BY_STATUS = (
    "SELECT order_id, run_id, opportunity_id, venue, instrument, side, price, size, status, created_ns,"
    " updated_ns, client_order_id FROM paper_orders WHERE run_id = ? AND status = ? ORDER BY created_ns, order_id"
)

_INSERT_FILL = (
    "INSERT INTO fills (fill_id, order_id, run_id, venue, instrument, side, price, size, fee, liquidity, ts_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fill_id) DO NOTHING"
)
_LIST_FILLS = (
    "SELECT fill_id, order_id, run_id, venue, instrument, side, price, size, fee, liquidity, ts_ns"
    " FROM fills WHERE run_id = ? ORDER BY ts_ns, fill_id"
)
_LIST_FILLS_BY_ORDER = (
    "SELECT fill_id, order_id, run_id, venue, instrument, side, price, size, fee, liquidity, ts_ns"
    " FROM fills WHERE run_id = ? AND order_id = ? ORDER BY ts_ns, fill_id"
)

_UPSERT_POSITION = (
    "INSERT INTO positions (run_id, venue, instrument, size, cost, realized_pnl, updated_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, venue, instrument) DO UPDATE SET size = excluded.size,"
    " cost = excluded.cost, realized_pnl = excluded.realized_pnl, updated_ns = excluded.updated_ns"
)
_GET_POSITION = (
    "SELECT run_id, venue, instrument, size, cost, realized_pnl, updated_ns FROM positions"
    " WHERE run_id = ? AND venue = ? AND instrument = ?"
)
_LIST_POSITIONS = (
    "SELECT run_id, venue, instrument, size, cost, realized_pnl, updated_ns FROM positions"
    " WHERE run_id = ? ORDER BY venue, instrument"
)

_UPSERT_BALANCE = (
    "INSERT INTO balances (run_id, venue, currency, amount, updated_ns) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (run_id, venue, currency) DO UPDATE SET amount = excluded.amount, updated_ns = excluded.updated_ns"
)
_LIST_BALANCES = (
    "SELECT run_id, venue, currency, amount, updated_ns FROM balances WHERE run_id = ? ORDER BY venue, currency"
)

_UPSERT_ACCOUNT_FILL = (
    "INSERT INTO account_fills (venue, fill_id, order_id, client_order_id, instrument, outcome, side, price, size,"
    " fee, liquidity, status, post_position, ts_event, ts_recv) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (venue, fill_id) DO UPDATE SET status = excluded.status"
)
_UPSERT_ACCOUNT_ORDER = (
    "INSERT INTO account_orders (venue, order_id, client_order_id, instrument, status, outcome, side, price,"
    " initial_size, filled_size, remaining_size, venue_status, ts_event, ts_recv)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (venue, order_id) DO UPDATE SET"
    " client_order_id = excluded.client_order_id, instrument = excluded.instrument, status = excluded.status,"
    " outcome = excluded.outcome, side = excluded.side, price = excluded.price,"
    " initial_size = excluded.initial_size, filled_size = excluded.filled_size,"
    " remaining_size = excluded.remaining_size, venue_status = excluded.venue_status,"
    " ts_event = excluded.ts_event, ts_recv = excluded.ts_recv WHERE account_orders.ts_event <= excluded.ts_event"
)
_UPSERT_ACCOUNT_POSITION = (
    "INSERT INTO account_positions (venue, instrument, position_size, cost, realized_pnl, fees_paid, volume,"
    " derived, ts_event, ts_recv) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (venue, instrument) DO UPDATE"
    " SET position_size = excluded.position_size, cost = excluded.cost, realized_pnl = excluded.realized_pnl,"
    " fees_paid = excluded.fees_paid, volume = excluded.volume, derived = excluded.derived,"
    " ts_event = excluded.ts_event, ts_recv = excluded.ts_recv"
)
_UPSERT_ACCOUNT_GROUP = (
    "INSERT INTO account_order_groups (venue, order_group_id, event, contracts_limit, ts_event, ts_recv)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (venue, order_group_id) DO UPDATE SET event = excluded.event,"
    " contracts_limit = COALESCE(excluded.contracts_limit, account_order_groups.contracts_limit),"
    " ts_event = excluded.ts_event, ts_recv = excluded.ts_recv"
)
_LIST_ACCOUNT_FILLS = (
    "SELECT venue, instrument, fill_id, order_id, client_order_id, outcome, side, price, size, fee, liquidity,"
    " ts_event, ts_recv, post_position, status FROM account_fills ORDER BY ts_event, venue, fill_id"
)
_LIST_ACCOUNT_ORDERS = (
    "SELECT venue, instrument, order_id, client_order_id, status, outcome, side, price, initial_size, filled_size,"
    " remaining_size, ts_event, ts_recv, venue_status FROM account_orders ORDER BY ts_event, venue, order_id"
)
_LIST_ACCOUNT_POSITIONS = (
    "SELECT venue, instrument, position_size, cost, realized_pnl, fees_paid, ts_event, ts_recv, volume, derived"
    " FROM account_positions ORDER BY venue, instrument"
)
_LIST_ACCOUNT_GROUPS = (
    "SELECT venue, order_group_id, event, contracts_limit, ts_event, ts_recv FROM account_order_groups"
    " ORDER BY venue, order_group_id"
)


def _account_query(event: AccountEvent) -> _Query:
    """The upsert of one account event (see :meth:`StateStore.record_account`)."""
    if isinstance(event, AccountFill):
        liquidity = "" if event.taker is None else "taker" if event.taker else "maker"
        return _Query(
            _UPSERT_ACCOUNT_FILL,
            (event.venue, event.fill_id, event.order_id, event.client_order_id, event.instrument,
             event.outcome.value, event.side.value, event.price, event.size, event.fee, liquidity, event.status,
             event.post_position, event.ts_event, event.ts_recv),
        )  # fmt: skip
    if isinstance(event, OrderUpdate):
        return _Query(
            _UPSERT_ACCOUNT_ORDER,
            (event.venue, event.order_id, event.client_order_id, event.instrument, event.status.value,
             event.outcome.value, event.side.value, event.price, event.initial, event.filled, event.remaining,
             event.venue_status, event.ts_event, event.ts_recv),
        )  # fmt: skip
    if isinstance(event, PositionUpdate):
        return _Query(
            _UPSERT_ACCOUNT_POSITION,
            (event.venue, event.instrument, event.position, event.cost, event.realized_pnl, event.fees_paid,
             event.volume, int(event.derived), event.ts_event, event.ts_recv),
        )  # fmt: skip
    if isinstance(event, OrderGroupUpdate):
        return _Query(
            _UPSERT_ACCOUNT_GROUP,
            (event.venue, event.order_group_id, event.event, event.contracts_limit, event.ts_event, event.ts_recv),
        )
    raise StoreError(f"not an account event: {type(event).__name__}")


def _check_account(event: AccountEvent) -> None:
    # Every integer of the event must fit a signed 64-bit column (times: non-negative)
    for name in event.__struct_fields__:
        value = getattr(event, name)
        if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
            raise StoreError(f"{type(event).__name__}.{name} {value} does not fit a 64-bit integer")
    _check_ns("ts_event", event.ts_event)
    _check_ns("ts_recv", event.ts_recv)


def _record_account_op(queries: list[_Query]) -> _Op[int]:
    for query in queries:
        _ = yield query
    return len(queries)


_RUN_STATUSES: frozenset[str] = frozenset(get_args(RunStatus))
_ORDER_STATUSES: frozenset[str] = frozenset(get_args(OrderStatus))


def _valid(record: _R) -> _R:
    """Return ``record`` if every field has its declared type and range, else raise StoreError."""
    try:
        return msgspec.convert(msgspec.structs.asdict(record), type(record))
    except msgspec.ValidationError as exc:
        raise StoreError(f"invalid {type(record).__name__} {msgspec.structs.astuple(record)[0]!r}: {exc}") from exc


def _check_ns(name: str, value: int) -> None:
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        raise StoreError(f"{name} must be an int of ns since the epoch, got {value!r}")


def _statements(sql: str) -> list[str]:
    return [part.strip() for part in sql.split(";") if part.strip()]


def _check_migrations(migrations: Sequence[Migration]) -> None:
    versions = [m[0] for m in migrations]
    if not versions or versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1, 2, 3, … in order; got versions {versions}")


def _one(query: _Query) -> _Op[_Result]:
    return (yield query)


def _migrate_op(migrations: Sequence[Migration], dialect: str, where: str, preamble: Sequence[_Query] = ()) -> _Op[int]:
    for query in preamble:
        _ = yield query
    yield _Query(_CREATE_SCHEMA_MIGRATIONS)
    applied = [int(row[0]) for row in (yield _Query(_SELECT_MIGRATIONS)).rows]
    known = [m[0] for m in migrations]
    if applied and applied[-1] > known[-1]:
        raise SchemaVersionError(where, applied[-1], known[-1])
    if applied != known[: len(applied)]:
        raise StoreError(f"{where}: schema_migrations holds versions {applied}, not a prefix of {known}")
    for version, description, sql in migrations[len(applied) :]:
        text = sql if isinstance(sql, str) else getattr(sql, dialect)
        for statement in _statements(text):
            yield _Query(statement)
        yield _Query(_INSERT_MIGRATION, (version, description, time.time_ns()))
    return known[-1]


def _record_fill_op(fill: Fill, position: Position, balance: Balance, order_status: str | None) -> _Op[bool]:
    inserted = (yield _Query(_INSERT_FILL, msgspec.structs.astuple(fill))).rowcount
    if not inserted:
        return False
    yield _Query(_UPSERT_POSITION, msgspec.structs.astuple(position))
    yield _Query(_UPSERT_BALANCE, msgspec.structs.astuple(balance))
    if order_status is not None:
        yield _Query(_UPDATE_ORDER_STATUS, (order_status, fill.ts_ns, fill.order_id))
    return True


def _redact(url: str) -> str:
    """Return ``url`` with its credentials masked (:func:`hadron.config.mask_url`)."""
    return mask_url(url)


_ACCEPTED = (
    "use sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite://:memory:, a plain file path, "
    "or postgresql://user@host:5432/dbname (postgres:// also accepted)"
)


def parse_state_url(url: str, *, setting: str = "state store URL") -> tuple[Literal["sqlite", "postgresql"], str]:
    """Say which backend a state store URL names, and where.

    Args:
        url: see the module docs for the accepted forms.
        setting: the name of the setting ``url`` came from, used in error messages.

    Returns:
        ``("sqlite", path)`` with ``path`` a file path or ``":memory:"``, or
        ``("postgresql", url)`` with ``url`` unchanged.

    Raises:
        ConfigError: empty, an unsupported scheme, a SQLite URL with a host, or a PostgreSQL
            URL libpq cannot parse. The message names ``setting`` and the accepted forms.
    """
    text = url.strip()
    if not text:
        raise ConfigError(f"{setting} is empty: {_ACCEPTED}")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return "sqlite", text if text == ":memory:" else str(Path(text).expanduser())
    scheme = scheme.lower()
    if scheme == "sqlite":
        if rest in ("", ":memory:", "/:memory:"):
            return "sqlite", ":memory:"
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(f"{setting} {_redact(text)!r}: a SQLite URL has no host; {_ACCEPTED}")
        return "sqlite", str(Path(rest[1:]).expanduser())
    if scheme in ("postgresql", "postgres"):
        pg = _psycopg()
        try:
            pg.conninfo.conninfo_to_dict(text)
        except pg.Error as exc:
            raise ConfigError(
                f"{setting} {_redact(text)!r} is not a valid PostgreSQL URL ({exc}); {_ACCEPTED}"
            ) from exc
        return "postgresql", text
    raise ConfigError(f"{setting} {_redact(text)!r}: unsupported scheme {scheme!r}; {_ACCEPTED}")


def _psycopg() -> Any:
    # psycopg (the [postgres] extra), imported on first use; psycopg.conninfo with it
    psycopg = require("psycopg", "the PostgreSQL state store")
    require("psycopg.conninfo", "the PostgreSQL state store")
    return psycopg


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class _SqlStateStore:
    """The :class:`StateStore` operations, common to both backends."""

    dialect: ClassVar[str]

    def __init__(self, where: str, migrations: Sequence[Migration]) -> None:
        _check_migrations(migrations)
        self.where = where
        self._migrations = tuple(migrations)
        self._state = _State.UNOPENED

    async def _connect(self) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        raise NotImplementedError

    def _preamble(self) -> Sequence[_Query]:
        return ()

    async def _run(self, op: _Op[_T], *, write: bool, what: str) -> _T:
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
                _migrate_op(self._migrations, self.dialect, self.where, self._preamble()), write=True, what="migrate"
            )
        except BaseException:
            await self.close()
            raise
        return self

    async def _current(self) -> bool:
        # True when the database already holds every migration (read only; a missing table or a
        # refused read means "migrate", which then says what is wrong)
        try:
            result = await self._run(_one(_Query(_SELECT_MIGRATIONS)), write=False, what="read the migrations")
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
        result = await self._run(_one(_Query(_SCHEMA_VERSION)), write=False, what="read the schema version")
        return int(result.rows[0][0])

    async def migration_history(self) -> list[tuple[int, str, int]]:
        """Return the applied migrations as ``(version, description, applied_ns)``, in order."""
        result = await self._run(_one(_Query(_MIGRATION_HISTORY)), write=False, what="read the migration history")
        return [(int(version), str(description), int(applied_ns)) for version, description, applied_ns in result.rows]

    async def start_run(self, run: Run) -> None:
        """Store a new run (see :meth:`StateStore.start_run`)."""
        run = _valid(run)
        query = _Query(_INSERT_RUN, msgspec.structs.astuple(run))
        await self._run(_one(query), write=True, what=f"start run {run.run_id!r}")

    async def finish_run(self, run_id: str, *, ended_ns: int, status: RunStatus = "finished") -> None:
        """Mark a run ended (see :meth:`StateStore.finish_run`)."""
        if status not in _RUN_STATUSES:
            raise StoreError(f"finish run {run_id!r}: status {status!r} is not one of {sorted(_RUN_STATUSES)}")
        _check_ns("ended_ns", ended_ns)
        what = f"finish run {run_id!r}"
        result = await self._run(_one(_Query(_FINISH_RUN, (ended_ns, status, run_id))), write=True, what=what)
        if result.rowcount == 0:
            raise StoreError(f"{what}: no such run")

    async def get_run(self, run_id: str) -> Run | None:
        """Return the run, or ``None``."""
        rows = (await self._run(_one(_Query(_GET_RUN, (run_id,))), write=False, what=f"get run {run_id!r}")).rows
        return Run(*rows[0]) if rows else None

    async def list_runs(self) -> list[Run]:
        """Return every run, oldest first."""
        rows = (await self._run(_one(_Query(_LIST_RUNS)), write=False, what="list runs")).rows
        return [Run(*row) for row in rows]

    async def upsert_opportunity(self, opportunity: Opportunity) -> None:
        """Store or replace an opportunity (see :meth:`StateStore.upsert_opportunity`)."""
        opportunity = _valid(opportunity)
        what = f"upsert opportunity {opportunity.opportunity_id!r}"
        query = _Query(_UPSERT_OPPORTUNITY, msgspec.structs.astuple(opportunity))
        if (await self._run(_one(query), write=True, what=what)).rowcount == 0:
            raise StoreError(f"{what}: the id belongs to another run than {opportunity.run_id!r}")

    async def list_opportunities(self, run_id: str, state: OpportunityState | None = None) -> list[Opportunity]:
        """Return a run's opportunities, optionally in one state, by ``opened_ns``."""
        query = (
            _Query(_LIST_OPPORTUNITIES, (run_id,))
            if state is None
            else _Query(_LIST_OPPORTUNITIES_BY_STATE, (run_id, state))
        )
        rows = (await self._run(_one(query), write=False, what=f"list opportunities of run {run_id!r}")).rows
        return [Opportunity(*row) for row in rows]

    async def insert_order(self, order: PaperOrder) -> None:
        """Store a new paper order (see :meth:`StateStore.insert_order`)."""
        order = _valid(order)
        query = _Query(_INSERT_ORDER, msgspec.structs.astuple(order))
        await self._run(_one(query), write=True, what=f"insert order {order.order_id!r}")

    async def update_order_status(self, order_id: str, status: OrderStatus, *, updated_ns: int) -> None:
        """Set an order's status (see :meth:`StateStore.update_order_status`)."""
        what = f"update order {order_id!r}"
        if status not in _ORDER_STATUSES:
            raise StoreError(f"{what}: status {status!r} is not one of {sorted(_ORDER_STATUSES)}")
        _check_ns("updated_ns", updated_ns)
        query = _Query(_UPDATE_ORDER_STATUS, (status, updated_ns, order_id))
        if (await self._run(_one(query), write=True, what=what)).rowcount == 0:
            raise StoreError(f"{what}: no such order")

    async def get_order(self, order_id: str) -> PaperOrder | None:
        """Return the order, or ``None``."""
        query = _Query(_GET_ORDER, (order_id,))
        rows = (await self._run(_one(query), write=False, what=f"get order {order_id!r}")).rows
        return PaperOrder(*rows[0]) if rows else None

    async def list_orders(self, run_id: str, status: OrderStatus | None = None) -> list[PaperOrder]:
        """Return a run's orders, optionally in one status, by ``created_ns``."""
        query = _Query(_LIST_ORDERS, (run_id,)) if status is None else _Query(_LIST_ORDERS_BY_STATUS, (run_id, status))
        rows = (await self._run(_one(query), write=False, what=f"list orders of run {run_id!r}")).rows
        return [PaperOrder(*row) for row in rows]

    async def insert_fill(self, fill: Fill) -> bool:
        """Store a fill once; ``False`` if its ``fill_id`` was already stored."""
        fill = _valid(fill)
        query = _Query(_INSERT_FILL, msgspec.structs.astuple(fill))
        return (await self._run(_one(query), write=True, what=f"insert fill {fill.fill_id!r}")).rowcount > 0

    async def insert_fills(self, fills: Sequence[Fill]) -> int:
        """Store many fills in one transaction; return how many were new."""
        if not fills:
            return 0
        rows = [msgspec.structs.astuple(_valid(fill)) for fill in fills]
        query = _Query(_INSERT_FILL, rows, many=True)
        return (await self._run(_one(query), write=True, what=f"insert {len(rows)} fills")).rowcount

    async def record_fill(
        self, fill: Fill, position: Position, balance: Balance, *, order_status: OrderStatus | None = None
    ) -> bool:
        """Store a fill, its position and its balance atomically (see :meth:`StateStore.record_fill`)."""
        fill, position, balance = _valid(fill), _valid(position), _valid(balance)
        what = f"record fill {fill.fill_id!r}"
        if order_status is not None and order_status not in _ORDER_STATUSES:
            raise StoreError(f"{what}: order status {order_status!r} is not one of {sorted(_ORDER_STATUSES)}")
        return await self._run(_record_fill_op(fill, position, balance, order_status), write=True, what=what)

    async def list_fills(self, run_id: str, order_id: str | None = None) -> list[Fill]:
        """Return a run's fills, optionally of one order, by ``ts_ns``."""
        query = _Query(_LIST_FILLS, (run_id,)) if order_id is None else _Query(_LIST_FILLS_BY_ORDER, (run_id, order_id))
        rows = (await self._run(_one(query), write=False, what=f"list fills of run {run_id!r}")).rows
        return [Fill(*row) for row in rows]

    async def upsert_position(self, position: Position) -> None:
        """Store or replace a position."""
        position = _valid(position)
        query = _Query(_UPSERT_POSITION, msgspec.structs.astuple(position))
        await self._run(_one(query), write=True, what=f"upsert position {position.venue}:{position.instrument}")

    async def get_position(self, run_id: str, venue: str, instrument: str) -> Position | None:
        """Return the position, or ``None``."""
        query = _Query(_GET_POSITION, (run_id, venue, instrument))
        rows = (await self._run(_one(query), write=False, what=f"get position {venue}:{instrument}")).rows
        return Position(*rows[0]) if rows else None

    async def list_positions(self, run_id: str) -> list[Position]:
        """Return a run's positions, by venue then instrument."""
        query = _Query(_LIST_POSITIONS, (run_id,))
        rows = (await self._run(_one(query), write=False, what=f"list positions of run {run_id!r}")).rows
        return [Position(*row) for row in rows]

    async def upsert_balance(self, balance: Balance) -> None:
        """Store or replace a balance."""
        balance = _valid(balance)
        query = _Query(_UPSERT_BALANCE, msgspec.structs.astuple(balance))
        await self._run(_one(query), write=True, what=f"upsert balance {balance.venue}:{balance.currency}")

    async def list_balances(self, run_id: str) -> list[Balance]:
        """Return a run's balances, by venue then currency."""
        query = _Query(_LIST_BALANCES, (run_id,))
        rows = (await self._run(_one(query), write=False, what=f"list balances of run {run_id!r}")).rows
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
            _check_account(event)
        queries = [_account_query(event) for event in events]
        return await self._run(_record_account_op(queries), write=True, what=f"record {len(queries)} account events")

    async def list_account_fills(self) -> list[AccountFill]:
        """Every stored account fill, by ``ts_event``."""
        rows = (await self._run(_one(_Query(_LIST_ACCOUNT_FILLS)), write=False, what="list account fills")).rows
        return [
            AccountFill(v, i, f, o, c, Outcome(out), OrderSide(side), p, s, fee,
                        None if liq == "" else liq == "taker", te, tr, post, st)
            for v, i, f, o, c, out, side, p, s, fee, liq, te, tr, post, st in rows
        ]  # fmt: skip

    async def list_account_orders(self) -> list[OrderUpdate]:
        """Every stored account order (its latest state), by ``ts_event``."""
        rows = (await self._run(_one(_Query(_LIST_ACCOUNT_ORDERS)), write=False, what="list account orders")).rows
        return [
            OrderUpdate(v, i, o, c, AccountOrderStatus(st), Outcome(out), OrderSide(side), p, a, f, r, te, tr, vs)
            for v, i, o, c, st, out, side, p, a, f, r, te, tr, vs in rows
        ]

    async def list_account_positions(self) -> list[PositionUpdate]:
        """Every stored account position (its latest state), by venue then instrument."""
        query = _Query(_LIST_ACCOUNT_POSITIONS)
        rows = (await self._run(_one(query), write=False, what="list account positions")).rows
        return [
            PositionUpdate(v, i, pos, cost, pnl, fees, te, tr, volume, bool(derived))
            for v, i, pos, cost, pnl, fees, te, tr, volume, derived in rows
        ]

    async def list_account_order_groups(self) -> list[OrderGroupUpdate]:
        """Every stored order group (its latest change), by venue then id."""
        rows = (await self._run(_one(_Query(_LIST_ACCOUNT_GROUPS)), write=False, what="list order groups")).rows
        return [OrderGroupUpdate(*row) for row in rows]


def _drive_sqlite(conn: sqlite3.Connection, op: _Op[_T]) -> _T:
    try:
        query = next(op)
        while True:
            if query.many:
                cursor = conn.executemany(query.sql, query.params)
                result = _Result([], cursor.rowcount)
            else:
                cursor = conn.execute(query.sql, query.params)
                result = _Result(cursor.fetchall(), cursor.rowcount)
            cursor.close()
            query = op.send(result)
    except StopIteration as stop:
        return cast(_T, stop.value)


class SqliteStateStore(_SqlStateStore):
    """The state store in one SQLite database (WAL mode).

    One connection, used only from one dedicated worker thread: calls never block the event loop
    and run strictly one after another in the order made. A call whose caller is cancelled either
    never starts or runs to its end (its transaction commits or rolls back whole) before the next. Writes take the
    database's write lock at the start of their transaction (``BEGIN IMMEDIATE``) and wait up to
    ``busy_timeout`` seconds for another process holding it.

    Args:
        path: the database file (its folder is created), or ``":memory:"``.
        migrations: the schema history; :data:`MIGRATIONS` unless testing the machinery.
        busy_timeout: seconds to wait for another connection's write lock.
    """

    dialect: ClassVar[str] = "sqlite"

    def __init__(
        self, path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS, busy_timeout: float = 5.0
    ) -> None:
        self.path = str(path)
        super().__init__(f"SQLite state store {self.path}", migrations)
        self._busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    def _connect_sync(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            self._enable_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Switching a new database to WAL needs an exclusive lock, and SQLite does not wait on
        # the busy handler for it: two connections opening the same new file at once can get
        # "database is locked" at once. Retry within the busy timeout.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    def _disconnect_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _in_thread(self, what: str, func: Callable[..., _T], *args: Any) -> _T:
        assert self._executor is not None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.where}: {what} failed: {exc}") from exc

    async def _connect(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hadron-sqlite")
        try:
            await self._in_thread("open", self._connect_sync)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def _disconnect(self) -> None:
        executor = self._executor
        if executor is None:
            return
        try:
            await self._in_thread("close", self._disconnect_sync)
        finally:
            executor.shutdown(wait=True)
            self._executor = None

    def _run_sync(self, op: _Op[_T], write: bool) -> _T:
        conn = self._conn
        assert conn is not None
        if not write:
            return _drive_sqlite(conn, op)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = _drive_sqlite(conn, op)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        return result

    async def _run(self, op: _Op[_T], *, write: bool, what: str) -> _T:
        self._check_open()
        return await self._in_thread(what, self._run_sync, op, write)


_PG_SQL: dict[str, str] = {}


def _pg_sql(sql: str) -> str:
    try:
        return _PG_SQL[sql]
    except KeyError:
        converted = _PG_SQL[sql] = sql.replace("?", "%s")
        return converted


class PostgresStateStore(_SqlStateStore):
    """The state store in a PostgreSQL schema, through one ``psycopg.AsyncConnection``.

    The connection is in autocommit mode with ``search_path`` set to ``schema``; each write is
    one explicit transaction and calls run one at a time. Migrations take a transaction-level
    advisory lock on the schema name, so processes opening the same schema at once apply each
    migration once.

    Args:
        url: a libpq URI, ``postgresql://user[:password]@host[:port]/dbname[?param=value]``.
        schema: the schema holding the tables (created when absent).
        migrations: the schema history; :data:`MIGRATIONS` unless testing the machinery.
        connect_timeout: seconds allowed to connect.

    Raises:
        ConfigError: ``schema`` is empty or longer than PostgreSQL's 63-byte identifier limit.
    """

    dialect: ClassVar[str] = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        schema: str = "hadron",
        migrations: Sequence[Migration] = MIGRATIONS,
        connect_timeout: float = 10.0,
    ) -> None:
        if not schema or len(schema.encode()) > 63:
            raise ConfigError(f"PostgreSQL schema {schema!r}: give a name of 1 to 63 bytes")
        super().__init__(f"PostgreSQL state store {_redact(url)} schema {schema}", migrations)
        self.url = url
        self.schema = schema
        self._connect_timeout = connect_timeout
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._lock = asyncio.Lock()

    def _quoted_schema(self) -> str:
        return '"' + self.schema.replace('"', '""') + '"'

    def _preamble(self) -> Sequence[_Query]:
        return (
            _Query("SELECT pg_advisory_xact_lock(hashtext(?))", (f"hadron.state:{self.schema}",)),
            _Query(f"CREATE SCHEMA IF NOT EXISTS {self._quoted_schema()}"),
        )

    async def _connect(self) -> None:
        pg = _psycopg()
        try:
            conn = await pg.AsyncConnection.connect(
                self.url, autocommit=True, connect_timeout=max(1, round(self._connect_timeout))
            )
        except pg.Error as exc:
            raise StoreError(f"{self.where}: cannot connect: {exc}") from exc
        try:
            await conn.execute(f"SET search_path TO {self._quoted_schema()}")
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, pg.Error):
                raise StoreError(f"{self.where}: cannot select the schema: {exc}") from exc
            raise
        self._conn = conn

    async def _disconnect(self) -> None:
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    async def _drive(self, conn: psycopg.AsyncConnection[tuple[Any, ...]], op: _Op[_T]) -> _T:
        try:
            query = next(op)
            while True:
                sql = _pg_sql(query.sql)
                async with conn.cursor() as cursor:
                    if query.many:
                        await cursor.executemany(sql, query.params)
                        result = _Result([], cursor.rowcount)
                    else:
                        await cursor.execute(sql, query.params or None)
                        rows = await cursor.fetchall() if cursor.description is not None else []
                        result = _Result(rows, cursor.rowcount)
                query = op.send(result)
        except StopIteration as stop:
            return cast(_T, stop.value)

    async def _run(self, op: _Op[_T], *, write: bool, what: str) -> _T:
        self._check_open()
        pg = _psycopg()
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self.where}: the state store is closed")
            try:
                if not write:
                    return await self._drive(conn, op)
                async with conn.transaction():
                    return await self._drive(conn, op)
            except pg.Error as exc:
                raise StoreError(f"{self.where}: {what} failed: {exc}") from exc


async def open_state_store(
    url: str,
    *,
    schema: str = "hadron",
    migrations: Sequence[Migration] = MIGRATIONS,
    setting: str = "state store URL",
) -> StateStore:
    """Open the state store a URL names, with its schema up to date.

    Args:
        url: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``sqlite://:memory:``, a plain
            file path, or ``postgresql://…`` / ``postgres://…`` (see the module docs).
        schema: the PostgreSQL schema (ignored for SQLite).
        migrations: the schema history; :data:`MIGRATIONS` unless testing the machinery.
        setting: the name of the setting ``url`` came from, used in error messages.

    Returns:
        An open :class:`StateStore`; close it (or use ``async with``) when done.

    Raises:
        ConfigError: the URL names no supported backend.
        StoreError: the database cannot be opened or migrated.
        SchemaVersionError: the database is newer than this code.
    """
    backend, target = parse_state_url(url, setting=setting)
    if backend == "sqlite":
        return await SqliteStateStore(target, migrations=migrations).open()
    return await PostgresStateStore(target, schema=schema, migrations=migrations).open()


_BENCH_BATCH = 500


async def bench_state_async(url: str, n: int = 10_000) -> dict[str, Any]:
    """Measure fill inserts per second on the backend ``url`` names (see :func:`bench_state`)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    backend, target = parse_state_url(url)
    if backend == "postgresql":
        store = PostgresStateStore(target, schema=f"hadron_bench_{secrets.token_hex(4)}")
        try:
            result = await _bench_fills(store, backend, n)
        except BaseException:
            with contextlib.suppress(StoreError):
                await _drop_schema(target, store.schema)
            raise
        await _drop_schema(target, store.schema)
        return result
    if target == ":memory:":
        return await _bench_fills(SqliteStateStore(target), backend, n)
    folder = Path(target).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        scratch = tempfile.TemporaryDirectory(prefix=".hadron-bench-", dir=folder)
    except OSError as exc:
        raise StoreError(f"cannot create a benchmark database in {folder}: {exc}") from exc
    with scratch:
        return await _bench_fills(SqliteStateStore(Path(scratch.name) / "bench.db"), backend, n)


async def _bench_fills(store: SqliteStateStore | PostgresStateStore, backend: str, n: int) -> dict[str, Any]:
    started_ns = time.time_ns()
    fills = [
        Fill(
            fill_id=f"bench-fill-{i}",
            order_id="bench-order",
            run_id="bench",
            venue="kalshi",
            instrument="BENCH-1",
            side="buy",
            price=4800,
            size=1_000_000,
            fee=7_000,
            liquidity="taker",
            ts_ns=started_ns + i,
        )
        for i in range(n)
    ]
    async with store:
        await store.start_run(Run("bench", started_ns, None, "paper", "{}", "running"))
        await store.insert_order(
            PaperOrder(
                "bench-order", "bench", None, "kalshi", "BENCH-1", "buy", 4800, n * 1_000_000, "new", 0, 0, "bench"
            )
        )
        began = time.perf_counter()
        stored = 0
        for start in range(0, n, _BENCH_BATCH):
            stored += await store.insert_fills(fills[start : start + _BENCH_BATCH])
        seconds = time.perf_counter() - began
        version = await store.schema_version()
    if stored != n:
        raise StoreError(f"{store.where}: benchmark stored {stored} of {n} fills")
    return {
        "backend": backend,
        "fills": n,
        "batch": _BENCH_BATCH,
        "seconds": seconds,
        "fills_per_s": n / seconds if seconds > 0 else float("inf"),
        "schema_version": version,
    }


async def _drop_schema(url: str, schema: str) -> None:
    quoted = '"' + schema.replace('"', '""') + '"'
    pg = _psycopg()
    try:
        async with await pg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
    except pg.Error as exc:
        raise StoreError(f"cannot drop the benchmark schema {schema}: {exc}") from exc


def bench_state(url: str, n: int = 10_000) -> dict[str, Any]:
    """Measure how many fills per second the state store behind ``url`` stores.

    Writes ``n`` fills of one order in transactions of 500 (:meth:`StateStore.insert_fills`) to a
    scratch store on the same backend, so the database ``url`` names is never touched: for SQLite a
    temporary database in the same folder (same disk), deleted afterwards; for PostgreSQL a
    temporary schema on the same server, dropped afterwards. Runs its own event loop; from async
    code await :func:`bench_state_async` instead.

    Args:
        url: a state store URL (see :func:`open_state_store`).
        n: how many fills to insert (at least 1).

    Returns:
        ``{"backend": "sqlite" | "postgresql", "fills": n, "batch": 500, "seconds": float,
        "fills_per_s": float, "schema_version": int}``; ``seconds`` counts the inserts only.

    Raises:
        ConfigError: the URL names no supported backend.
        StoreError: the scratch store cannot be created or written.
    """
    return asyncio.run(bench_state_async(url, n))
