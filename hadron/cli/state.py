"""``hadron state …`` (the state store) and ``hadron query`` (the tick store)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from hadron.cli._common import fail, stdout
from hadron.errors import HadronError

app = typer.Typer(help="The state store (runs, opportunities, paper orders, fills, positions).", no_args_is_help=True)


@app.command("migrate")
def state_migrate(
    url: Annotated[str, typer.Argument(metavar="URL", help="sqlite:///FILE or postgresql://owner@host/db.")],
) -> None:
    """Bring the state store's schema up to date and print its version (run it as the role that
    owns the schema; the processes can then connect with data rights only: docs/SCALE-OUT.md).

    Exit status: 0 done; 1 the database refused (e.g. permission denied); 2 a bad URL.
    """
    from hadron.config import mask_url
    from hadron.errors import StoreError
    from hadron.store.state import open_state_store

    async def migrate() -> int:
        async with await open_state_store(url) as store:
            return await store.schema_version()

    try:
        version = asyncio.run(migrate())
    except StoreError as exc:
        raise fail(str(exc), code=1) from None
    except HadronError as exc:
        raise fail(str(exc)) from None
    stdout.print(f"{mask_url(url)}: schema version {version}", markup=False)


def query_cmd(
    sql: Annotated[str, typer.Argument(help="SQL over trades, quotes, book_deltas, book_snapshots, index_prices.")],
    store: Annotated[
        str, typer.Option(help="The tick store: parquet:DIR (or just DIR).", envvar="HADRON_STORE")
    ] = "parquet:data/ticks",
    json_out: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """Query the Parquet tick store with DuckDB SQL: hadron query "select count(*) from trades".

    Prices are int 1/10,000 USD, sizes int 1/1,000,000, times int ns; the partition columns
    venue, date and symbol are available in every table.
    """
    from hadron.extras import require

    try:
        duckdb: Any = require("duckdb", "hadron query")
        from hadron.store.parquet import parse_store_url, query
    except HadronError as exc:
        raise fail(str(exc)) from None
    root = parse_store_url(store) if store.startswith("parquet:") else Path(store)
    try:
        columns, rows = query(root, sql)
    except HadronError as exc:
        raise fail(str(exc)) from None
    except duckdb.Error as exc:
        raise fail(f"query failed: {str(exc).splitlines()[0]}", code=1) from None
    if json_out:
        stdout.print(msgspec.json.encode([dict(zip(columns, row, strict=True)) for row in rows]).decode(), markup=False)
        return
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    stdout.print(table)
