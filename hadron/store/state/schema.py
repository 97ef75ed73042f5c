"""The state store's schema: the ordered migrations, and how a database is brought up to date.

The schema is built by the ordered :data:`MIGRATIONS`. Opening a store applies, in one
transaction, every migration the database does not have yet, and records each in
``schema_migrations(version, description, applied_ns)``; a database at a newer version than this
code knows raises :class:`SchemaVersionError`. A database already up to date is only read (no
DDL), so on PostgreSQL the processes of a deployment can connect as a role with data rights only,
while one owner role migrates (see ``docs/SCALE-OUT.md``, "PostgreSQL roles: who may migrate").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

from hadron.errors import StoreError
from hadron.store.state.queries import Op, Query


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
    (
        4,
        "live execution: the order journal, its fills and the reconciliation baselines",
        """
        CREATE TABLE exec_orders (
            client_order_id TEXT PRIMARY KEY,
            venue TEXT NOT NULL,
            venue_order_id TEXT NOT NULL,
            instrument TEXT NOT NULL,
            symbol TEXT NOT NULL,
            outcome TEXT NOT NULL,
            side TEXT NOT NULL,
            price BIGINT NOT NULL,
            size BIGINT NOT NULL,
            tif TEXT NOT NULL,
            state TEXT NOT NULL,
            filled BIGINT NOT NULL,
            reason TEXT NOT NULL,
            trade_id TEXT NOT NULL,
            leg BIGINT NOT NULL,
            role TEXT NOT NULL,
            mode TEXT NOT NULL,
            run_id TEXT NOT NULL,
            created_ns BIGINT NOT NULL,
            updated_ns BIGINT NOT NULL,
            request TEXT NOT NULL
        );
        CREATE INDEX exec_orders_state ON exec_orders (state, created_ns);
        CREATE INDEX exec_orders_venue ON exec_orders (venue, created_ns);
        CREATE TABLE exec_fills (
            venue TEXT NOT NULL,
            fill_id TEXT NOT NULL,
            client_order_id TEXT NOT NULL,
            venue_order_id TEXT NOT NULL,
            price BIGINT NOT NULL,
            size BIGINT NOT NULL,
            fee BIGINT NOT NULL,
            taker INTEGER NOT NULL,
            ts_event BIGINT NOT NULL,
            recorded_ns BIGINT NOT NULL,
            PRIMARY KEY (venue, fill_id)
        );
        CREATE INDEX exec_fills_order ON exec_fills (client_order_id);
        CREATE TABLE exec_baselines (
            venue TEXT NOT NULL,
            instrument TEXT NOT NULL,
            position BIGINT NOT NULL,
            ts_ns BIGINT NOT NULL,
            PRIMARY KEY (venue, instrument)
        )
        """,
    ),
]
"""Every schema change, in order; append only (never edit or renumber an applied migration)."""


_CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_ns BIGINT NOT NULL)"
)
SELECT_MIGRATIONS = "SELECT version FROM schema_migrations ORDER BY version"
_INSERT_MIGRATION = "INSERT INTO schema_migrations (version, description, applied_ns) VALUES (?, ?, ?)"
SCHEMA_VERSION = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
MIGRATION_HISTORY = "SELECT version, description, applied_ns FROM schema_migrations ORDER BY version"


def _statements(sql: str) -> list[str]:
    return [part.strip() for part in sql.split(";") if part.strip()]


def check_migrations(migrations: Sequence[Migration]) -> None:
    versions = [m[0] for m in migrations]
    if not versions or versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1, 2, 3, … in order; got versions {versions}")


def migrate_op(migrations: Sequence[Migration], dialect: str, where: str, preamble: Sequence[Query] = ()) -> Op[int]:
    for query in preamble:
        _ = yield query
    yield Query(_CREATE_SCHEMA_MIGRATIONS)
    applied = [int(row[0]) for row in (yield Query(SELECT_MIGRATIONS)).rows]
    known = [m[0] for m in migrations]
    if applied and applied[-1] > known[-1]:
        raise SchemaVersionError(where, applied[-1], known[-1])
    if applied != known[: len(applied)]:
        raise StoreError(f"{where}: schema_migrations holds versions {applied}, not a prefix of {known}")
    for version, description, sql in migrations[len(applied) :]:
        text = sql if isinstance(sql, str) else getattr(sql, dialect)
        for statement in _statements(text):
            yield Query(statement)
        yield Query(_INSERT_MIGRATION, (version, description, time.time_ns()))
    return known[-1]
