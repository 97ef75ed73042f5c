"""The state store on real databases: every test runs on SQLite (a file in tmp_path) and on
PostgreSQL (a schema of its own on the server at ``$HADRON_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``, dropped after the test)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import msgspec
import psycopg
import pytest
import pytest_asyncio

from hadron.bench.store import bench_state
from hadron.errors import ConfigError
from hadron.store.state import (
    MIGRATIONS,
    Balance,
    Fill,
    Migration,
    Opportunity,
    PaperOrder,
    Position,
    Run,
    SchemaVersionError,
    SqliteStateStore,
    StateStore,
    StoreError,
    open_state_store,
    parse_state_url,
)

PG_URL = os.environ.get("HADRON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CODE_VERSION = MIGRATIONS[-1][0]
T0 = 1_786_410_915_524_000_000
FUTURE: list[Migration] = [*MIGRATIONS, (CODE_VERSION + 1, "a later release", "CREATE TABLE later_thing (x BIGINT)")]


@dataclass
class PgServer:
    """The PostgreSQL server for this session, or why it cannot be used."""

    prefix: str
    unreachable: str | None = None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    prefix = f"hadron_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        yield PgServer(prefix, unreachable=f"PostgreSQL not reachable at {PG_URL}: " + " ".join(str(exc).split()))
        return
    yield PgServer(prefix)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        leftovers = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
        ).fetchall()
        for (name,) in leftovers:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@dataclass
class Backend:
    """Where a test's state store lives; :meth:`open` opens (or reopens) it."""

    name: str
    url: str
    schema: str = "hadron"

    async def open(self, migrations: Sequence[Migration] = MIGRATIONS) -> StateStore:
        return await open_state_store(self.url, schema=self.schema, migrations=migrations)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, pg_server: PgServer) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'state.db'}")
        return
    if pg_server.unreachable:
        pytest.skip(pg_server.unreachable)
    schema = f"{pg_server.prefix}_{secrets.token_hex(4)}"
    yield Backend("postgresql", PG_URL, schema)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest_asyncio.fixture
async def store(backend: Backend) -> AsyncIterator[StateStore]:
    async with await backend.open() as opened:
        yield opened


def make_run(run_id: str = "run-1", started_ns: int = T0, mode: str = "paper") -> Run:
    return Run(run_id, started_ns, None, mode, '{"paper": {"latency_ms": 50}}', "running")  # type: ignore[arg-type]


def make_opportunity(
    opportunity_id: str = "opp-1", state: str = "opened", edge: int = 150, run_id: str = "run-1", opened_ns: int = T0
) -> Opportunity:
    return Opportunity(
        opportunity_id=opportunity_id,
        run_id=run_id,
        pair_id="KXGOLD-26AUG10~0xabc",
        direction="buy_kalshi_yes_sell_polymarket_yes",
        state=state,  # type: ignore[arg-type]
        edge=edge,
        size=25_000_000,
        legs_json='[{"venue": "kalshi", "price": 4800}, {"venue": "polymarket", "price": 4950}]',
        opened_ns=opened_ns,
        updated_ns=opened_ns,
        closed_ns=None,
    )


def make_order(order_id: str = "ord-1", status: str = "new", created_ns: int = T0, run_id: str = "run-1") -> PaperOrder:
    return PaperOrder(
        order_id=order_id,
        run_id=run_id,
        opportunity_id="opp-1",
        venue="kalshi",
        instrument="KXGOLD15M-26AUG102130-30",
        side="buy",
        price=4800,
        size=10_000_000,
        status=status,  # type: ignore[arg-type]
        created_ns=created_ns,
        updated_ns=created_ns,
        client_order_id=f"c-{order_id}",
    )


def make_fill(fill_id: str = "fill-1", order_id: str = "ord-1", size: int = 4_000_000, ts_ns: int = T0 + 1) -> Fill:
    return Fill(
        fill_id=fill_id,
        order_id=order_id,
        run_id="run-1",
        venue="kalshi",
        instrument="KXGOLD15M-26AUG102130-30",
        side="buy",
        price=4800,
        size=size,
        fee=70_000,
        liquidity="taker",
        ts_ns=ts_ns,
    )


def make_position(size: int = 4_000_000, cost: int = 1_920_000, updated_ns: int = T0 + 1) -> Position:
    return Position("run-1", "kalshi", "KXGOLD15M-26AUG102130-30", size, cost, 0, updated_ns)


def make_balance(amount: int = 998_010_000, run_id: str = "run-1", updated_ns: int = T0 + 1) -> Balance:
    return Balance(run_id, "kalshi", "USD", amount, updated_ns)


@pytest.mark.asyncio
async def test_run_lifecycle(store: StateStore) -> None:
    assert await store.list_runs() == []
    await store.start_run(make_run("run-2", T0 + 10, "replay"))
    await store.start_run(make_run("run-1", T0, "paper"))
    assert await store.get_run("run-1") == make_run("run-1", T0, "paper")
    assert await store.get_run("missing") is None
    assert [run.run_id for run in await store.list_runs()] == ["run-1", "run-2"]

    await store.finish_run("run-1", ended_ns=T0 + 99, status="stopped")
    finished = await store.get_run("run-1")
    assert finished is not None and (finished.ended_ns, finished.status) == (T0 + 99, "stopped")

    with pytest.raises(StoreError, match="start run 'run-1'"):
        await store.start_run(make_run("run-1"))
    with pytest.raises(StoreError, match="no such run"):
        await store.finish_run("missing", ended_ns=T0)
    with pytest.raises(StoreError, match="status 'done'"):
        await store.finish_run("run-2", ended_ns=T0, status="done")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="invalid Run"):
        await store.start_run(make_run("run-3", mode="backtest"))
    assert len(await store.list_runs()) == 2


@pytest.mark.asyncio
async def test_opportunity_upsert_and_list_by_state(store: StateStore) -> None:
    await store.start_run(make_run())
    await store.start_run(make_run("run-2", T0 + 5))
    await store.upsert_opportunity(make_opportunity("opp-1", "opened", 150))
    await store.upsert_opportunity(make_opportunity("opp-2", "opened", 90, opened_ns=T0 + 1))
    updated = make_opportunity("opp-1", "updated", 175)
    await store.upsert_opportunity(updated)
    opp2 = msgspec.structs.replace(make_opportunity("opp-2", "closed", 0, opened_ns=T0 + 1), closed_ns=T0 + 50)
    await store.upsert_opportunity(opp2)

    assert await store.list_opportunities("run-1") == [updated, opp2]
    assert await store.list_opportunities("run-1", state="updated") == [updated]
    assert await store.list_opportunities("run-1", state="closed") == [opp2]
    assert await store.list_opportunities("run-1", state="opened") == []
    assert await store.list_opportunities("run-2") == []

    with pytest.raises(StoreError, match="belongs to another run"):
        await store.upsert_opportunity(make_opportunity("opp-1", run_id="run-2"))
    with pytest.raises(StoreError, match="opp-9"):
        await store.upsert_opportunity(make_opportunity("opp-9", run_id="no-such-run"))
    assert await store.list_opportunities("run-1") == [updated, opp2]


@pytest.mark.asyncio
async def test_order_insert_update_and_list_by_status(store: StateStore) -> None:
    await store.start_run(make_run())
    first = make_order("ord-1", created_ns=T0)
    second = make_order("ord-2", created_ns=T0 + 1)
    await store.insert_order(first)
    await store.insert_order(second)
    with pytest.raises(StoreError, match="insert order 'ord-1'"):
        await store.insert_order(first)

    await store.update_order_status("ord-2", "partially_filled", updated_ns=T0 + 7)
    stored = await store.get_order("ord-2")
    assert stored is not None
    assert (stored.status, stored.updated_ns, stored.created_ns) == ("partially_filled", T0 + 7, T0 + 1)
    assert await store.get_order("ord-1") == first
    assert await store.get_order("missing") is None

    assert [o.order_id for o in await store.list_orders("run-1")] == ["ord-1", "ord-2"]
    assert await store.list_orders("run-1", status="new") == [first]
    assert [o.order_id for o in await store.list_orders("run-1", status="partially_filled")] == ["ord-2"]
    assert await store.list_orders("run-1", status="filled") == []

    with pytest.raises(StoreError, match="no such order"):
        await store.update_order_status("missing", "cancelled", updated_ns=T0)
    with pytest.raises(StoreError, match="status 'done'"):
        await store.update_order_status("ord-1", "done", updated_ns=T0)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="invalid PaperOrder"):
        await store.insert_order(make_order("ord-3", status="open"))
    with pytest.raises(StoreError, match="ord-4"):
        await store.insert_order(make_order("ord-4", run_id="no-such-run"))

    unlinked = msgspec.structs.replace(first, order_id="ord-5", opportunity_id=None)
    await store.insert_order(unlinked)
    assert await store.get_order("ord-5") == unlinked


@pytest.mark.asyncio
async def test_fills_are_idempotent_on_fill_id(store: StateStore) -> None:
    await store.start_run(make_run())
    await store.insert_order(make_order("ord-1"))
    await store.insert_order(make_order("ord-2", created_ns=T0 + 1))
    fill = make_fill("fill-1", "ord-1", ts_ns=T0 + 1)
    assert await store.insert_fill(fill) is True
    assert await store.insert_fill(fill) is False
    assert await store.insert_fill(make_fill("fill-1", "ord-1", size=1, ts_ns=T0 + 9)) is False
    assert await store.list_fills("run-1") == [fill]

    batch = [make_fill(f"fill-{i}", "ord-2", ts_ns=T0 + 10 + i) for i in range(1, 5)]
    assert await store.insert_fills(batch) == 3
    assert await store.insert_fills(batch) == 0
    assert await store.insert_fills([]) == 0
    assert [f.fill_id for f in await store.list_fills("run-1")] == ["fill-1", "fill-2", "fill-3", "fill-4"]
    assert [f.fill_id for f in await store.list_fills("run-1", order_id="ord-2")] == ["fill-2", "fill-3", "fill-4"]
    assert await store.list_fills("run-1", order_id="ord-9") == []

    with pytest.raises(StoreError, match="fill-x"):
        await store.insert_fill(make_fill("fill-x", "no-such-order"))
    with pytest.raises(StoreError, match="insert 2 fills"):
        await store.insert_fills([make_fill("fill-y", "ord-1"), make_fill("fill-z", "no-such-order")])
    assert len(await store.list_fills("run-1")) == 4


@pytest.mark.asyncio
async def test_record_fill_is_atomic(store: StateStore) -> None:
    await store.start_run(make_run())
    await store.insert_order(make_order("ord-1"))
    fill = make_fill("fill-1", "ord-1", size=4_000_000, ts_ns=T0 + 3)
    position = make_position(4_000_000, 1_920_000, T0 + 3)
    balance = make_balance(998_010_000, updated_ns=T0 + 3)
    assert await store.record_fill(fill, position, balance, order_status="partially_filled") is True
    assert await store.list_fills("run-1") == [fill]
    assert await store.list_positions("run-1") == [position]
    assert await store.list_balances("run-1") == [balance]
    order = await store.get_order("ord-1")
    assert order is not None and (order.status, order.updated_ns) == ("partially_filled", T0 + 3)

    # A redelivered fill changes nothing, whatever position and balance come with it.
    assert await store.record_fill(fill, make_position(8_000_000), make_balance(0), order_status="filled") is False
    assert await store.list_positions("run-1") == [position]
    assert await store.list_balances("run-1") == [balance]
    order = await store.get_order("ord-1")
    assert order is not None and order.status == "partially_filled"

    # The balance write fails (its run does not exist): neither the fill nor the position lands.
    second = make_fill("fill-2", "ord-1", size=6_000_000, ts_ns=T0 + 4)
    with pytest.raises(StoreError, match="record fill 'fill-2'"):
        await store.record_fill(
            second, make_position(10_000_000, 4_800_000, T0 + 4), make_balance(1, run_id="no-such-run")
        )
    assert await store.list_fills("run-1") == [fill]
    assert await store.list_positions("run-1") == [position]
    assert await store.list_balances("run-1") == [balance]
    order = await store.get_order("ord-1")
    assert order is not None and order.status == "partially_filled"

    with pytest.raises(StoreError, match="invalid Balance"):
        await store.record_fill(second, position, make_balance(2**63))
    assert await store.list_fills("run-1") == [fill]


@pytest.mark.asyncio
async def test_positions_and_balances_upsert(store: StateStore) -> None:
    await store.start_run(make_run())
    assert await store.get_position("run-1", "kalshi", "KXGOLD15M-26AUG102130-30") is None
    assert await store.list_positions("run-1") == []
    assert await store.list_balances("run-1") == []

    await store.upsert_position(make_position(4_000_000, 1_920_000, T0))
    later = make_position(-2_000_000, -990_000, T0 + 5)
    await store.upsert_position(later)
    other = Position("run-1", "polymarket", "0x01ab", 3_500_000, 1_627_500, -12_345, T0 + 6)
    await store.upsert_position(other)
    assert await store.get_position("run-1", "kalshi", "KXGOLD15M-26AUG102130-30") == later
    assert await store.list_positions("run-1") == [later, other]

    await store.upsert_balance(make_balance(1_000_000_000, updated_ns=T0))
    usd = make_balance(998_010_000, updated_ns=T0 + 5)
    await store.upsert_balance(usd)
    usdc = Balance("run-1", "polymarket", "USDC", 500_000_000, T0 + 6)
    await store.upsert_balance(usdc)
    assert await store.list_balances("run-1") == [usd, usdc]

    with pytest.raises(StoreError, match="upsert position"):
        await store.upsert_position(Position("no-such-run", "kalshi", "X", 1, 1, 0, T0))
    with pytest.raises(StoreError, match="upsert balance"):
        await store.upsert_balance(make_balance(1, run_id="no-such-run"))


@pytest.mark.asyncio
async def test_money_round_trips_exactly(store: StateStore) -> None:
    await store.start_run(make_run())
    big, low, high = 2**62, -(2**63), 2**63 - 1
    opportunity = make_opportunity("opp-big", edge=-big)
    position = Position("run-1", "kalshi", "X", low, high, -big - 1, high)
    balance = make_balance(big + 1)
    await store.upsert_opportunity(opportunity)
    await store.upsert_position(position)
    await store.upsert_balance(balance)
    await store.insert_order(make_order("ord-1"))
    fill = Fill("fill-big", "ord-1", "run-1", "kalshi", "X", "sell", high, high, -big, "maker", high)
    await store.insert_fill(fill)

    assert await store.list_opportunities("run-1") == [opportunity]
    assert await store.get_position("run-1", "kalshi", "X") == position
    assert await store.list_balances("run-1") == [balance]
    (stored,) = await store.list_fills("run-1")
    assert stored == fill and type(stored.fee) is int and stored.fee == -(2**62)

    with pytest.raises(StoreError, match="invalid Balance"):
        await store.upsert_balance(make_balance(2**63))
    with pytest.raises(StoreError, match="invalid Position"):
        await store.upsert_position(Position("run-1", "kalshi", "X", low - 1, 0, 0, T0))
    with pytest.raises(StoreError, match="invalid Fill"):
        await store.insert_fill(make_fill("fill-neg", size=-1))
    assert await store.list_balances("run-1") == [balance]


@pytest.mark.asyncio
async def test_concurrent_calls_each_land_whole(store: StateStore) -> None:
    await store.start_run(make_run())
    await store.insert_order(make_order("ord-1"))
    results = await asyncio.gather(
        *(
            store.record_fill(
                make_fill(f"fill-{i:03}", ts_ns=T0 + i), make_position(i, i, T0 + i), make_balance(i, updated_ns=T0 + i)
            )
            for i in range(100)
        ),
        *(store.insert_fill(make_fill(f"fill-{i:03}", ts_ns=T0 + i)) for i in range(100)),
    )
    assert results.count(True) == 100
    assert len(await store.list_fills("run-1")) == 100
    assert len(await store.list_positions("run-1")) == 1


@pytest.mark.asyncio
async def test_migrations_are_applied_once(backend: Backend) -> None:
    async with await backend.open() as store:
        assert await store.schema_version() == CODE_VERSION
        history = await store.migration_history()
        assert [(version, description) for version, description, _ in history] == [m[:2] for m in MIGRATIONS]
        await store.start_run(make_run())

    async with await backend.open() as store:
        assert await store.schema_version() == CODE_VERSION
        assert await store.migration_history() == history
        assert await store.get_run("run-1") == make_run()

    later: list[Migration] = [
        *MIGRATIONS,
        (
            CODE_VERSION + 1,
            "a seeded table",
            "CREATE TABLE seeded (x BIGINT NOT NULL); INSERT INTO seeded (x) VALUES (7)",
        ),
    ]
    async with await backend.open(later) as store:
        assert await store.schema_version() == CODE_VERSION + 1
        upgraded = await store.migration_history()
        assert upgraded[:-1] == history
    async with await backend.open(later) as store:
        assert await store.migration_history() == upgraded
        assert await store.get_run("run-1") == make_run()


@pytest.mark.asyncio
async def test_stores_opened_together_share_one_database(backend: Backend) -> None:
    first, second = await asyncio.gather(backend.open(), backend.open())
    async with first, second:
        assert [v for v, _, _ in await first.migration_history()] == [m[0] for m in MIGRATIONS]
        await first.start_run(make_run())
        await second.insert_order(make_order("ord-1"))
        fills = [make_fill(f"fill-{i}", ts_ns=T0 + i) for i in range(20)]
        inserted = await asyncio.gather(*(store.insert_fill(fill) for fill in fills for store in (first, second)))
        assert inserted.count(True) == 20
        assert await first.list_fills("run-1") == await second.list_fills("run-1") == fills


@pytest.mark.asyncio
async def test_newer_database_than_code_is_refused(backend: Backend) -> None:
    async with await backend.open(FUTURE):
        pass
    with pytest.raises(
        SchemaVersionError, match=rf"version {CODE_VERSION + 1}, newer .* \(up to version {CODE_VERSION}\)"
    ) as info:
        await backend.open()
    assert (info.value.database_version, info.value.code_version) == (CODE_VERSION + 1, CODE_VERSION)


@pytest.mark.asyncio
async def test_closed_or_unopened_store_refuses_calls(backend: Backend, tmp_path: Path) -> None:
    store = await backend.open()
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.list_runs()
    with pytest.raises(StoreError, match="not open"):
        await SqliteStateStore(tmp_path / "unopened.db").list_runs()


@pytest.mark.asyncio
async def test_sqlite_store_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    async with await open_state_store(str(path)):
        pass
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("bad_migrations", [[], [MIGRATIONS[1]], [MIGRATIONS[1], MIGRATIONS[0]]])
def test_migration_list_must_be_numbered_in_order(bad_migrations: list[Migration], tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="numbered 1, 2, 3"):
        SqliteStateStore(tmp_path / "x.db", migrations=bad_migrations)


def test_bench_state(backend: Backend, tmp_path: Path) -> None:
    result = bench_state(backend.url, n=1_200)
    assert result["backend"] == backend.name
    assert (result["fills"], result["batch"], result["schema_version"]) == (1_200, 500, CODE_VERSION)
    assert result["fills_per_s"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///state/hadron.db", ("sqlite", "state/hadron.db")),
        ("sqlite:////var/lib/hadron/state.db", ("sqlite", "/var/lib/hadron/state.db")),
        ("SQLITE:////var/lib/hadron/state.db", ("sqlite", "/var/lib/hadron/state.db")),
        ("sqlite://:memory:", ("sqlite", ":memory:")),
        ("sqlite://", ("sqlite", ":memory:")),
        (":memory:", ("sqlite", ":memory:")),
        ("state/hadron.db", ("sqlite", "state/hadron.db")),
        ("/var/lib/hadron/state.db", ("sqlite", "/var/lib/hadron/state.db")),
        ("postgresql://hadron@db:5432/hadron", ("postgresql", "postgresql://hadron@db:5432/hadron")),
        ("postgres://u:pw@db/hadron?sslmode=require", ("postgresql", "postgres://u:pw@db/hadron?sslmode=require")),
    ],
)
def test_parse_state_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_state_url(url) == expected


def test_parse_state_url_expands_home() -> None:
    assert parse_state_url("~/hadron.db") == ("sqlite", str(Path.home() / "hadron.db"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("mysql://root@db/hadron", "unsupported scheme 'mysql'"),
        ("redis://localhost", "unsupported scheme 'redis'"),
        ("sqlite://host/state.db", "a SQLite URL has no host"),
        ("sqlite:///", "a SQLite URL has no host"),
        ("postgresql://db/hadron?nonsense=1", "not a valid PostgreSQL URL"),
    ],
)
def test_parse_state_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_state_url(url, setting="store.state_url")
    text = str(info.value)
    assert text.startswith("store.state_url")
    assert "sqlite:///relative/path.db" in text and "postgresql://" in text


def test_parse_state_url_hides_passwords() -> None:
    with pytest.raises(ConfigError) as info:
        parse_state_url("mysql://root:hunter2@db/hadron")
    assert "hunter2" not in str(info.value) and "root:***@db" in str(info.value)


@pytest.mark.asyncio
async def test_open_state_store_rejects_unknown_urls() -> None:
    with pytest.raises(ConfigError, match="unsupported scheme 'mongodb'"):
        await open_state_store("mongodb://localhost/hadron")


@pytest.mark.asyncio
async def test_in_memory_sqlite_store() -> None:
    async with await open_state_store("sqlite://:memory:") as store:
        assert await store.schema_version() == CODE_VERSION
        await store.start_run(make_run())
        assert await store.list_runs() == [make_run()]


@pytest.mark.asyncio
async def test_postgres_role_with_data_rights_only_opens_a_migrated_schema(pg_server: PgServer) -> None:
    """docs/SCALE-OUT.md: one owner role migrates; the processes connect with data rights only."""
    if pg_server.unreachable:
        pytest.skip(pg_server.unreachable)
    schema, app = f"{pg_server.prefix}_roles_{secrets.token_hex(3)}", f"hadron_app_{secrets.token_hex(4)}"
    parts = urlsplit(PG_URL)
    app_url = urlunsplit(parts._replace(netloc=f"{app}@{parts.hostname}:{parts.port or 5432}"))
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {app} LOGIN")
    try:
        with pytest.raises(StoreError, match="migrate failed: permission denied"):
            await open_state_store(app_url, schema=schema)  # nothing migrated yet: the app role may not
        async with await open_state_store(PG_URL, schema=schema) as owner:  # the owner migrates
            assert await owner.schema_version() == CODE_VERSION
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {app}')
            conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {app}')
        async with await open_state_store(app_url, schema=schema) as store:
            await store.start_run(make_run("run-app"))
            assert await store.schema_version() == CODE_VERSION
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f"DROP OWNED BY {app}")
            conn.execute(f"DROP ROLE IF EXISTS {app}")
