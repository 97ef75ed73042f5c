"""Issue 19 item 9: `hadron query` reaches the tick store and nothing else.

DuckDB runs with external access off, only the store in ``allowed_directories``, extension
auto-install/auto-load off and its configuration locked: the store's views answer; another file
(``/etc/passwd``, a sibling folder, a path climbing out with ``..``), a URL, ``COPY … TO``,
``ATTACH``, ``INSTALL``/``LOAD`` and ``SET`` are refused.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from hadron.cli import app
from hadron.model.events import BookAction, BookDelta, BookSide
from hadron.store.parquet import ParquetTickStore, query

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "ticks"
    ticks = ParquetTickStore(root)
    ticks.on_event(BookDelta("kalshi:T", BookSide.BID, 4000, 1_000_000, BookAction.CHANGE, 1, 1))
    ticks.close()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text("key,value\nsecret,42\n")
    return root


def test_the_store_answers(store: Path) -> None:
    _, rows = query(store, "select venue, price from book_deltas")
    assert rows == [("kalshi", 4000)]


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_csv('{outside}/secret.csv')",
        "select * from read_csv('{store}/../outside/secret.csv')",
        "select * from read_text('/etc/hostname')",
        "select * from glob('/etc/*')",
        "select * from read_parquet('https://example.com/x.parquet')",
        "copy (select 1) to '{outside}/written.csv'",
        "attach '{outside}/other.duckdb'",
        "install httpfs",
        "load httpfs",
        "set enable_external_access = true",
        "set allowed_directories = ['/']",
    ],
)
def test_everything_outside_the_store_is_refused(store: Path, sql: str) -> None:
    outside = store.parent / "outside"
    with pytest.raises(duckdb.Error):
        query(store, sql.format(store=store, outside=outside))
    assert not (outside / "written.csv").exists() and not (outside / "other.duckdb").exists()


def test_a_link_out_of_the_store_is_refused(store: Path) -> None:
    (store / "link.csv").symlink_to(store.parent / "outside" / "secret.csv")
    with pytest.raises(duckdb.Error):
        query(store, f"select * from read_csv('{store / 'link.csv'}')")


def test_cli_refuses_reading_another_file_in_one_line(store: Path) -> None:
    result = runner.invoke(app, ["query", "select * from read_csv('/etc/passwd')", "--store", f"parquet:{store}"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        'hadron: query failed: Permission Error: Cannot access file "/etc/passwd" - file system operations are '
        "disabled by configuration"
    ]
