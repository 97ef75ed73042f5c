"""Tick store: normalized events in Parquet, partitioned by venue/date/instrument, queried with DuckDB.

Layout (Hive partitions; ``date`` is the UTC day of ``ts_event``)::

    <root>/<table>/venue=<venue>/date=<YYYY-MM-DD>/symbol=<venue symbol>/part-<n>.parquet

Tables and columns (prices: int, 1/10,000 USD; sizes: int, 1/1,000,000; times: int ns):

* ``trades``: instrument, ts_event, ts_recv, price, size, aggressor, trade_id
* ``quotes``: instrument, ts_event, ts_recv, bid_price, bid_size, ask_price, ask_size (prices null
  for an empty side)
* ``book_deltas``: instrument, ts_event, ts_recv, side, price, size, action (``set``: new size;
  ``change``: signed change)
* ``book_snapshots``: instrument, ts_event, ts_recv, snapshot (an id per snapshot in this store),
  side, level (0 = best), price, size; an empty snapshot is one row with level -1
* ``index_prices``: instrument (``kalshi:index:<id>``), ts_event, ts_recv, index (the index id or
  underlying ticker), source (``cfbenchmarks``, ``pyth``), value and avg_60s (int, 1/100,000,000
  USD; avg_60s null when the venue sent none). Partition ``symbol`` is the index id with ``/``
  written ``%2F`` (``Metal.XAU%2FUSD``): a folder name (DuckDB, ``hadron query``, reads it
  decoded); the ``index`` column has it as sent.

Rows are buffered per partition and written in batches (``batch_rows``); :meth:`close` writes
the rest. Plug :meth:`ParquetTickStore.on_event` into a replay or a live runtime.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hadron.errors import ConfigError
from hadron.extras import MissingExtra, require

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ModuleNotFoundError as _missing:  # the [parquet] extra
    if _missing.name is None or not _missing.name.startswith("pyarrow"):
        raise
    raise MissingExtra("pyarrow", "the Parquet tick store") from None
from hadron.model.events import BookDelta, BookSnapshot, IndexPrice, MarketEvent, TopOfBook, Trade

_I64 = pa.int64()
_STR = pa.string()
SCHEMAS: dict[str, pa.Schema] = {
    "trades": pa.schema(
        [
            ("instrument", _STR),
            ("ts_event", _I64),
            ("ts_recv", _I64),
            ("price", _I64),
            ("size", _I64),
            ("aggressor", _STR),
            ("trade_id", _STR),
        ]
    ),
    "quotes": pa.schema(
        [
            ("instrument", _STR),
            ("ts_event", _I64),
            ("ts_recv", _I64),
            ("bid_price", _I64),
            ("bid_size", _I64),
            ("ask_price", _I64),
            ("ask_size", _I64),
        ]
    ),
    "book_deltas": pa.schema(
        [
            ("instrument", _STR),
            ("ts_event", _I64),
            ("ts_recv", _I64),
            ("side", _STR),
            ("price", _I64),
            ("size", _I64),
            ("action", _STR),
        ]
    ),
    "book_snapshots": pa.schema(
        [
            ("instrument", _STR),
            ("ts_event", _I64),
            ("ts_recv", _I64),
            ("snapshot", _I64),
            ("side", _STR),
            ("level", pa.int32()),
            ("price", _I64),
            ("size", _I64),
        ]
    ),
    "index_prices": pa.schema(
        [
            ("instrument", _STR),
            ("ts_event", _I64),
            ("ts_recv", _I64),
            ("index", _STR),
            ("source", _STR),
            ("value", _I64),
            ("avg_60s", _I64),
        ]
    ),
}
TABLES = tuple(SCHEMAS)
_DAY_NS = 86_400 * 1_000_000_000


def parse_store_url(url: str) -> Path:
    """Return the folder of a ``parquet:DIR`` store URL.

    Raises:
        ConfigError: not a ``parquet:`` URL, naming the accepted form.
    """
    scheme, sep, rest = url.partition(":")
    if scheme != "parquet" or not sep or not rest:
        raise ConfigError(f"--store {url!r}: use parquet:DIR (a folder for the tick store)")
    return Path(rest.removeprefix("//"))


class ParquetTickStore:
    """Writes normalized events to partitioned Parquet files.

    Args:
        root: the store's folder.
        batch_rows: buffered rows (all tables) that trigger a write.
    """

    def __init__(self, root: Path, *, batch_rows: int = 500_000) -> None:
        self.root = root
        self.batch_rows = batch_rows
        self.rows = dict.fromkeys(TABLES, 0)
        """Rows written per table."""
        self.files = 0
        self.write_s = 0.0
        self._buffers: dict[tuple[str, str, str, str], list[list[Any]]] = {}
        self._pending = 0
        self._days: dict[int, str] = {}
        self._snapshots = itertools.count(1)
        self._parts = itertools.count(1)
        self._run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._handlers: dict[type, Callable[[Any], None]] = {
            Trade: self._trade,
            TopOfBook: self._quote,
            BookDelta: self._delta,
            BookSnapshot: self._snapshot,
            IndexPrice: self._index,
        }

    def on_event(self, event: MarketEvent) -> None:
        """Buffer one event (market status and tick-size changes are not ticks: ignored)."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
            if self._pending >= self.batch_rows:
                self.flush()

    def _rows(self, table: str, instrument: str, ts_event: int) -> list[list[Any]]:
        venue = instrument.partition(":")[0]
        symbol = partition_symbol(instrument)
        day = ts_event // _DAY_NS
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")
        key = (table, venue, date, symbol)
        columns = self._buffers.get(key)
        if columns is None:
            columns = self._buffers[key] = [[] for _ in SCHEMAS[table]]
        return columns

    def _trade(self, t: Trade) -> None:
        c = self._rows("trades", t.instrument, t.ts_event)
        for column, value in zip(
            c, (t.instrument, t.ts_event, t.ts_recv, t.price, t.size, t.aggressor.value, t.trade_id), strict=True
        ):
            column.append(value)
        self._pending += 1

    def _quote(self, q: TopOfBook) -> None:
        c = self._rows("quotes", q.instrument, q.ts_event)
        row = (q.instrument, q.ts_event, q.ts_recv, q.bid_price, q.bid_size, q.ask_price, q.ask_size)
        for column, value in zip(c, row, strict=True):
            column.append(value)
        self._pending += 1

    def _delta(self, d: BookDelta) -> None:
        c = self._rows("book_deltas", d.instrument, d.ts_event)
        c[0].append(d.instrument)
        c[1].append(d.ts_event)
        c[2].append(d.ts_recv)
        c[3].append(d.side.value)
        c[4].append(d.price)
        c[5].append(d.size)
        c[6].append(d.action.value)
        self._pending += 1

    def _index(self, x: IndexPrice) -> None:
        c = self._rows("index_prices", x.instrument, x.ts_event)
        row = (x.instrument, x.ts_event, x.ts_recv, x.index, x.source, x.value, x.avg_60s)
        for column, value in zip(c, row, strict=True):
            column.append(value)
        self._pending += 1

    def _snapshot(self, s: BookSnapshot) -> None:
        c = self._rows("book_snapshots", s.instrument, s.ts_event)
        snapshot = next(self._snapshots)
        rows = [("bid", i, p, z) for i, (p, z) in enumerate(s.bids)] + [
            ("ask", i, p, z) for i, (p, z) in enumerate(s.asks)
        ]
        for side, level, price, size in rows or [("", -1, 0, 0)]:
            for column, value in zip(
                c, (s.instrument, s.ts_event, s.ts_recv, snapshot, side, level, price, size), strict=True
            ):
                column.append(value)
            self._pending += 1

    def flush(self) -> None:
        """Write every buffered partition as a new Parquet file."""
        started = time.perf_counter()
        for (table, venue, date, symbol), columns in self._buffers.items():
            if not columns[0]:
                continue
            folder = self.root / table / f"venue={venue}" / f"date={date}" / f"symbol={symbol}"
            folder.mkdir(parents=True, exist_ok=True)
            batch = pa.Table.from_arrays(
                [pa.array(col, type=f.type) for col, f in zip(columns, SCHEMAS[table], strict=True)],
                schema=SCHEMAS[table],
            )
            pq.write_table(batch, folder / f"part-{self._run}-{next(self._parts):06d}.parquet", compression="zstd")
            self.rows[table] += len(columns[0])
            self.files += 1
        self._buffers.clear()
        self._pending = 0
        self.write_s += time.perf_counter() - started

    def close(self) -> None:
        """Write what is buffered."""
        self.flush()

    def buffered(self) -> dict[str, pa.Table]:
        """What is buffered and not yet written, as one Arrow table per name of :data:`TABLES`
        (every one, empty or not), in :func:`table_schema`: the table's columns, then the
        partition columns ``venue``, ``date`` and ``symbol``. Rows come partition by partition,
        each in arrival order. The buffers are kept: :meth:`flush` still writes them (the
        in-memory tables of :func:`hadron.api.events_tables`)."""
        parts: dict[str, list[pa.Table]] = {table: [] for table in TABLES}
        for (table, venue, date, symbol), columns in self._buffers.items():
            rows = len(columns[0])
            if not rows:
                continue
            arrays = [pa.array(col, type=f.type) for col, f in zip(columns, SCHEMAS[table], strict=True)]
            arrays += [pa.array([value] * rows, type=_STR) for value in (venue, date, symbol)]
            parts[table].append(pa.Table.from_arrays(arrays, schema=table_schema(table)))
        return {
            table: pa.concat_tables(tables) if tables else table_schema(table).empty_table()
            for table, tables in parts.items()
        }


def partition_symbol(instrument: str) -> str:
    """The ``symbol`` partition (a folder name) of an instrument's rows: its venue symbol
    (``kalshi:KXBTCD-…`` → ``KXBTCD-…``); for a reference price ``<venue>:index:<id>`` the index
    id with ``/`` written ``%2F`` (``kalshi:index:Metal.XAU/USD`` → ``Metal.XAU%2FUSD``)."""
    symbol = instrument.partition(":")[2]
    if symbol.startswith("index:"):
        return symbol[len("index:") :].replace("/", "%2F")
    return symbol


PARTITIONS = ("venue", "date", "symbol")
"""The partition columns of every table (strings: ``kalshi``, ``2026-08-11``, the venue symbol)."""


def table_schema(table: str) -> pa.Schema:
    """The schema of ``table`` as read back: its columns (:data:`SCHEMAS`), then the partition
    columns :data:`PARTITIONS`, as strings.

    Raises:
        KeyError: not one of :data:`TABLES`.
    """
    schema: pa.Schema = SCHEMAS[table]
    for name in PARTITIONS:
        schema = schema.append(pa.field(name, _STR))
    return schema


def query(root: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` with DuckDB over the store at ``root``; return ``(columns, rows)``.

    The tables ``trades``, ``quotes``, ``book_deltas``, ``book_snapshots`` and ``index_prices`` are
    views over the Parquet files (with the partition columns ``venue``, ``date`` and ``symbol``); a table with no
    file yet is an empty view with the same columns.

    ``sql`` reaches nothing but the store: DuckDB runs with external access off (no file outside
    ``root`` read or written, no ``COPY … TO``, ``ATTACH``, URL, ``INSTALL`` or ``LOAD``), only
    ``root`` in ``allowed_directories``, extensions never installed nor loaded automatically, and
    its configuration locked before ``sql`` runs (``SET`` cannot undo any of it).

    Raises:
        ConfigError: ``root`` does not exist.
        duckdb.Error: the SQL failed (its message says why; ``duckdb.PermissionException`` for
            anything outside the store).
    """
    duckdb: Any = require("duckdb", "hadron query")

    if not root.is_dir():
        raise ConfigError(
            f"--store {root}: no such tick store folder (write one with `hadron replay … --store parquet:DIR`)"
        )
    root = root.resolve()
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        for table, schema in SCHEMAS.items():
            if any((root / table).glob("**/*.parquet")):
                pattern = str(root / table / "**" / "*.parquet").replace("'", "''")
                source = f"read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")  # noqa: S608 - our own paths
            else:
                nulls = [f"NULL::{'VARCHAR' if f.type == _STR else 'BIGINT'} AS {f.name}" for f in schema]
                nulls += [f"NULL::VARCHAR AS {name}" for name in ("venue", "date", "symbol")]
                con.execute(f"CREATE VIEW {table} AS SELECT {', '.join(nulls)} WHERE false")
        store = (str(root).rstrip("/") + "/").replace("'", "''")
        con.execute(f"SET allowed_directories = ['{store}']")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description or []]
        return names, cursor.fetchall()
    finally:
        con.close()
