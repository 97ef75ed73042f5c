"""The tick store from Python: :func:`write_ticks` and :func:`read_ticks` (Parquet, partitioned as
``hadron record --ticks`` writes it), events as Arrow tables (:func:`events_tables`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hadron.api._shared import PathArg, _venue
from hadron.errors import ConfigError
from hadron.extras import require
from hadron.model.events import MarketEvent

if TYPE_CHECKING:
    import pyarrow as pa


TABLES = ("trades", "quotes", "book_deltas", "book_snapshots", "index_prices")
"""The tick store's tables (see :mod:`hadron.store.parquet` for their columns)."""


def _store_root(store: PathArg) -> Path:
    text = os.fspath(store)
    if text.startswith("parquet:"):
        from hadron.store.parquet import parse_store_url

        return parse_store_url(text)
    return Path(text)


def _ns(value: int | datetime, what: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{what}: a naive datetime; give its time zone (e.g. tzinfo=datetime.UTC)")
        return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: ns since the epoch (int) or an aware datetime, not {value!r}")
    return value


def _day(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%d")


def _in_order(table: pa.Table, name: str) -> pa.Table:
    # By receive time, then instrument (a stable sort: one instrument's rows of one time keep
    # their order, as a snapshot's levels do)
    keys = [("ts_recv", "ascending"), ("instrument", "ascending")]
    if name == "book_snapshots":
        keys.append(("snapshot", "ascending"))
    return table.sort_by(keys) if table.num_rows > 1 else table


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ValueError(f"table {table!r}: use one of {', '.join(TABLES)}")


def write_ticks(events: Iterable[MarketEvent], store: PathArg, *, batch_rows: int = 500_000) -> dict[str, int]:
    """Write events to a Parquet tick store (``hadron replay --store parquet:DIR``): trades,
    quotes (:class:`TopOfBook`), book deltas and snapshots, index prices; other events are skipped. New files
    are added beside any already there.

    Args:
        events: e.g. a :func:`replay` or an event list.
        store: the store's folder, or ``"parquet:DIR"``.
        batch_rows: rows buffered (all tables) before a batch of files is written.

    Returns:
        Rows written per table.

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    from hadron.store.parquet import ParquetTickStore

    ticks = ParquetTickStore(_store_root(store), batch_rows=batch_rows)
    try:
        for event in events:
            ticks.on_event(event)
    finally:
        ticks.close()
    return dict(ticks.rows)


def read_ticks(
    store: PathArg,
    table: str = "trades",
    *,
    venue: str | None = None,
    instrument: str | None = None,
    start: int | datetime | None = None,
    end: int | datetime | None = None,
) -> pa.Table:
    """Read one table of a Parquet tick store as an Arrow table, in receive-time order
    (``ts_recv``, then ``instrument``).

    Columns (see :mod:`hadron.store.parquet`; prices int64 1/10,000 USD, sizes int64
    1/1,000,000, times int64 ns), then the partition columns ``venue``, ``date`` (UTC day of
    ``ts_event``, ``"YYYY-MM-DD"``) and ``symbol`` (strings):

    * ``trades``: instrument, ts_event, ts_recv, price, size, aggressor, trade_id
    * ``quotes``: instrument, ts_event, ts_recv, bid_price, bid_size, ask_price, ask_size
      (prices null for an empty side)
    * ``book_deltas``: instrument, ts_event, ts_recv, side, price, size, action (``set``: the
      new size; ``change``: a signed change)
    * ``book_snapshots``: instrument, ts_event, ts_recv, snapshot (an id per snapshot), side,
      level (0 = best), price, size; an empty snapshot is one row with level -1
    * ``index_prices``: instrument (``kalshi:index:<id>``), ts_event, ts_recv, index, source
      (``cfbenchmarks``, ``pyth``), value, avg_60s (int64, 1/100,000,000 USD; avg_60s null when
      not sent); ``symbol`` is the index id with ``/`` as ``%2F``

    Args:
        store: the store's folder, or ``"parquet:DIR"``.
        table: one of :data:`TABLES`.
        venue: only this venue's rows. instrument: only this instrument's (``"kalshi:<ticker>"``).
        start / end: only rows with ``start <= ts_event < end`` (int ns, or aware datetimes);
            whole days outside are not read.

    Returns:
        A ``pyarrow.Table`` (empty, with the columns, when nothing matches or nothing was written).

    Raises:
        ConfigError: ``store`` is not a folder, or ``venue`` (or the instrument's) is not a known venue.
        ValueError: an unknown table, a naive datetime, or an instrument without its ``venue:`` prefix.
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    _check_table(table)
    if venue is not None:
        _venue(venue)
    if instrument is not None:
        name, colon, symbol = instrument.partition(":")
        if not colon or not symbol:
            raise ValueError(f"instrument {instrument!r}: give '<venue>:<symbol>', e.g. 'kalshi:{instrument}'")
        _venue(name)
    first = _ns(start, "start") if start is not None else None
    stop = _ns(end, "end") if end is not None else None
    from hadron.store.parquet import PARTITIONS, partition_symbol, table_schema

    ds: Any = require("pyarrow.dataset", "Arrow tables of ticks")
    pa_: Any = require("pyarrow", "Arrow tables of ticks")
    root = _store_root(store)
    if not root.is_dir():
        raise ConfigError(
            f"tick store {root}: no such folder (write one with hadron.write_ticks or --store parquet:DIR)"
        )
    schema = table_schema(table)
    folder = root / table
    if not folder.is_dir():
        return schema.empty_table()
    partitioning = ds.HivePartitioning(pa_.schema([schema.field(name) for name in PARTITIONS]), segment_encoding="none")
    condition = None

    def narrow(expression: Any) -> None:
        nonlocal condition
        condition = expression if condition is None else condition & expression

    if venue is not None:
        narrow(ds.field("venue") == venue)
    if instrument is not None:
        name = instrument.partition(":")[0]
        symbol = partition_symbol(instrument)
        narrow((ds.field("venue") == name) & (ds.field("symbol") == symbol) & (ds.field("instrument") == instrument))
    if first is not None:
        narrow((ds.field("date") >= _day(first)) & (ds.field("ts_event") >= first))
    if stop is not None:
        narrow((ds.field("date") <= _day(stop - 1)) & (ds.field("ts_event") < stop))
    dataset = ds.dataset(folder, format="parquet", partitioning=partitioning, schema=schema)
    return _in_order(dataset.to_table(filter=condition), table)


def read_ticks_df(
    store: PathArg,
    table: str = "trades",
    *,
    venue: str | None = None,
    instrument: str | None = None,
    start: int | datetime | None = None,
    end: int | datetime | None = None,
) -> Any:
    """:func:`read_ticks` as a pandas ``DataFrame`` (same columns; ints stay int64, a column with
    nulls, such as a quote's empty side, becomes float64 with NaN).

    Raises:
        MissingExtra: pandas (the ``pandas`` extra) or pyarrow is not installed; as :func:`read_ticks`.
    """
    require("pandas", "DataFrames of ticks")
    return read_ticks(store, table, venue=venue, instrument=instrument, start=start, end=end).to_pandas()


def events_tables(events: Iterable[MarketEvent]) -> dict[str, pa.Table]:
    """Events as the tick store's four tables, in memory (nothing is written): the tables
    :func:`read_ticks` would give after :func:`write_ticks` of the same events, keyed by name
    (every one of :data:`TABLES`, empty ones included), each in receive-time order (``ts_recv``,
    then ``instrument``).

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    from hadron.store.parquet import ParquetTickStore

    ticks = ParquetTickStore(Path("in-memory"), batch_rows=sys.maxsize)  # never flushed: nothing written
    for event in events:
        ticks.on_event(event)
    return {name: _in_order(table, name) for name, table in ticks.buffered().items()}


def events_table(events: Iterable[MarketEvent], table: str = "trades") -> pa.Table:
    """One table of :func:`events_tables` (``"trades"``, ``"quotes"``, ``"book_deltas"`` or
    ``"book_snapshots"``); the other events are read and left out.

    Raises:
        ValueError: an unknown table. MissingExtra: pyarrow is not installed.
    """
    _check_table(table)
    return events_tables(events)[table]
