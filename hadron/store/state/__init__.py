"""The state store: runs, opportunities, paper orders, fills, positions, balances, the real
account, and the live order journal.

One interface, :class:`StateStore`, with two backends that pass the same tests:

* :class:`SqliteStateStore` (:mod:`~hadron.store.state.sqlite`), the embedded default: one
  database file in WAL mode (``synchronous=NORMAL``, ``foreign_keys=ON``), driven by the standard
  :mod:`sqlite3` on one dedicated worker thread, so the event loop never blocks and calls run one
  at a time, in order.
* :class:`PostgresStateStore` (:mod:`~hadron.store.state.postgres`): PostgreSQL through one
  ``psycopg.AsyncConnection``, tables in their own schema (``hadron`` unless told), for state
  shared between processes (see ``docs/SCALE-OUT.md``).

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

The schema is built by the ordered :data:`MIGRATIONS` (:mod:`~hadron.store.state.schema`). Opening
a store applies, in one transaction, every migration the database does not have yet; a database
at a newer version than this code knows raises :class:`SchemaVersionError`. A database already up
to date is only read (no DDL), so on PostgreSQL the processes of a deployment can connect as a
role with data rights only, while one owner role migrates (see ``docs/SCALE-OUT.md``).

The tables, by migration: ``runs``, ``opportunities``, ``paper_orders``, ``fills``, ``positions``,
``balances`` (1, 2: a run's paper trading, :mod:`~hadron.store.state.records`); ``account_fills``,
``account_orders``, ``account_positions``, ``account_order_groups`` (3: the real account from the
venues' private channels, :meth:`StateStore.record_account`); and the live order journal (4):

* ``exec_orders``, one row per live order keyed by ``client_order_id``
  (:class:`ExecOrderRecord`: venue, venue_order_id, instrument, symbol, outcome, side, price,
  size, tif, state, filled, reason, trade_id, leg, role, mode ``live``/``dry-run``/``shadow``,
  run_id, created_ns, updated_ns, and ``request``, the exact msgspec JSON of the
  :class:`~hadron.model.orders.OrderRequest`). Written (``pending``) before the order is sent and
  updated from every venue answer (:meth:`StateStore.journal_order`); its state never moves
  backwards and a terminal state is final. On restart :meth:`StateStore.journal_orders`
  (``open_only=True``) gives the orders to reconcile with the venue.
* ``exec_fills``, one row per ``(venue, fill_id)``: a live order's executions
  (:class:`~hadron.model.orders.ExecFill`: client_order_id, venue_order_id, price, size, fee in
  1/10,000,000,000 USD, taker, ts_event) and ``recorded_ns``, when Hadron stored it; a fill seen
  again (order answer, private channel, REST) is ignored (:meth:`StateStore.journal_fill`).
* ``exec_baselines``, ``(venue, instrument)`` → ``position`` (signed, 1/1,000,000) and ``ts_ns``:
  the account's positions when Hadron first traded on it, the baseline reconciliation subtracts
  (:meth:`StateStore.set_baseline`, set once per venue; a row with instrument ``""`` marks the
  baseline as taken, so an account with no positions has a baseline too).

Where the store sits among Hadron's parts: ``docs/ARCHITECTURE.md``. Its benchmark is
``hadron bench store --state URL`` (:mod:`hadron.bench.store`).

Errors: :class:`StoreError` for anything the store or the database refuses (a bad record, an
unknown order, a constraint, a lost connection); :class:`~hadron.errors.ConfigError` for a URL
that names no supported backend.

Modules: :mod:`~hadron.store.state.records` (the record structs), :mod:`~hadron.store.state.schema`
(migrations), :mod:`~hadron.store.state.queries` (the statements and operations, written once),
:mod:`~hadron.store.state.base` (the interface and the shared implementation),
:mod:`~hadron.store.state.sqlite`, :mod:`~hadron.store.state.postgres`,
:mod:`~hadron.store.state.url` (URLs and :func:`open_state_store`).
"""

from hadron.errors import StoreError
from hadron.store.state.base import StateStore
from hadron.store.state.postgres import PostgresStateStore
from hadron.store.state.records import (
    Balance,
    ExecMode,
    ExecOrderRecord,
    Fill,
    Liquidity,
    Opportunity,
    OpportunityState,
    OrderStatus,
    PaperOrder,
    Position,
    Run,
    RunMode,
    RunStatus,
    Side,
)
from hadron.store.state.schema import MIGRATIONS, DialectSQL, Migration, SchemaVersionError
from hadron.store.state.sqlite import SqliteStateStore
from hadron.store.state.url import open_state_store, parse_state_url

__all__ = [
    "MIGRATIONS",
    "Balance",
    "DialectSQL",
    "ExecMode",
    "ExecOrderRecord",
    "Fill",
    "Liquidity",
    "Migration",
    "Opportunity",
    "OpportunityState",
    "OrderStatus",
    "PaperOrder",
    "Position",
    "PostgresStateStore",
    "Run",
    "RunMode",
    "RunStatus",
    "SchemaVersionError",
    "Side",
    "SqliteStateStore",
    "StateStore",
    "StoreError",
    "open_state_store",
    "parse_state_url",
]
