"""The state store and bus benchmarks of ``hadron bench store``: fills/s and publishes/s.

:func:`bench_state` times fill inserts on a scratch store of the backend a state store URL names
(:mod:`hadron.store.state`); :func:`bench_publish` times publishing envelopes to a throw-away NATS
JetStream stream (:mod:`hadron.bus.nats`, the ``[nats]`` extra, imported on first use). Both
are measurements, not tests, and never touch the data of the store or stream they are pointed at.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from hadron.bus.base import encode_envelope, make_envelope, subject_for
from hadron.errors import BusError, StoreError
from hadron.model.events import AggressorSide, BookAction, BookDelta, BookSide, MarketEvent, Trade
from hadron.store.state import Fill, PaperOrder, PostgresStateStore, Run, SqliteStateStore, parse_state_url
from hadron.store.state.base import psycopg_module

__all__ = ["bench_publish", "bench_state", "bench_state_async"]

# -- the state store ----------------------------------------------------------------------------

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
    pg = psycopg_module()
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


# -- the bus ------------------------------------------------------------------------------------


def _bench_events(n: int) -> list[MarketEvent]:
    instruments = [
        "kalshi:KXGOLD15M-26AUG102130-30",
        "kalshi:KXHIGHNY-24DEC12-B45.5",
        "polymarket:76670567130917723816490572615540605537878462672464291990940067659127658071111",
    ]
    ts = 1_786_410_000_000_000_000
    events: list[MarketEvent] = []
    for i in range(n):
        instrument = instruments[i % len(instruments)]
        if i % 20 == 19:
            events.append(Trade(instrument, 4_800, 5_000_000, AggressorSide.BUY, f"t{i}", ts + i, ts + i + 1_000))
        else:
            side = BookSide.BID if i % 2 else BookSide.ASK
            price = 3_000 + (i % 40) * 100
            events.append(BookDelta(instrument, side, price, 1_000_000 * (i % 7 + 1), BookAction.SET, ts + i, ts + i))
    return events


def bench_publish(
    url: str,
    n: int = 50_000,
    *,
    storage: Literal["file", "memory"] = "file",
    max_in_flight: int = 1_024,
) -> dict[str, Any]:
    """Measure publishing to JetStream: envelopes/s published and acknowledged, and their size.

    Runs its own event loop (call it from synchronous code). A throw-away stream (unique name and
    prefix) receives ``n`` synthetic envelopes (book deltas and trades over a Kalshi ticker with a
    dot, another ticker and a Polymarket token), then the same ``n`` again to measure the
    duplicate path; the stream is deleted afterwards.

    Returns:
        ``{"events", "events_per_s", "duplicate_events_per_s", "encode_events_per_s",
        "bytes_per_event", "wire_bytes_per_event", "duplicates_dropped", "storage",
        "max_in_flight"}``: rates in envelopes per second (publish through acknowledgement),
        ``bytes_per_event`` the mean msgpack payload, ``wire_bytes_per_event`` adding subject and
        ``Nats-Msg-Id`` header.

    Raises:
        BusError: the server could not be reached or did not acknowledge.
    """
    return asyncio.run(_bench_publish(url, n, storage, max_in_flight))


async def _bench_publish(url: str, n: int, storage: Literal["file", "memory"], max_in_flight: int) -> dict[str, Any]:
    from hadron.bus.nats import MSG_ID_HEADER, NatsBus

    tag = secrets.token_hex(4)
    events = _bench_events(n)
    source = f"bench-{tag}"
    started = time.perf_counter()
    envelopes = [make_envelope(source, seq, event) for seq, event in enumerate(events)]
    payload_bytes = sum(len(encode_envelope(e)) for e in envelopes)
    encode_s = time.perf_counter() - started
    bus = await NatsBus.connect(
        url,
        stream=f"BENCH_{tag}",
        prefix=f"bench{tag}.hadron.v1",
        storage=storage,
        max_in_flight=max_in_flight,
        max_bytes=-1,
    )
    try:
        started = time.perf_counter()
        first = await bus.publish_many(envelopes)
        publish_s = time.perf_counter() - started
        started = time.perf_counter()
        again = await bus.publish_many(envelopes)
        duplicate_s = time.perf_counter() - started
        wire = payload_bytes + sum(
            len(subject_for(e.event, bus.prefix)) + len(MSG_ID_HEADER) + len(e.msg_id) for e in envelopes
        )
    finally:
        with contextlib.suppress(BusError):
            await bus.delete_stream()
        await bus.close()
    if first.stored != n or again.duplicates != n:
        raise BusError(f"benchmark: stored {first.stored}/{n}, duplicates dropped {again.duplicates}/{n}")
    return {
        "events": n,
        "events_per_s": round(n / publish_s),
        "duplicate_events_per_s": round(n / duplicate_s),
        "encode_events_per_s": round(n / encode_s) if encode_s > 0 else 0,
        "bytes_per_event": round(payload_bytes / n, 1),
        "wire_bytes_per_event": round(wire / n, 1),
        "duplicates_dropped": again.duplicates,
        "storage": storage,
        "max_in_flight": max_in_flight,
    }
