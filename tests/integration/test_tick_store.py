"""Replay → Parquet tick store → DuckDB queries (`hadron replay --store`, `hadron query`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hadron.cli import app
from hadron.store.parquet import query
from tests.conftest import FIXTURES, KALSHI_CAPTURE, shared_data

runner = CliRunner()


def replay_into(store: Path, *paths: Path, report: Path) -> dict[str, object]:
    result = runner.invoke(app, ["replay", *map(str, paths), "--store", f"parquet:{store}", "--report", str(report)])
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text())


def test_fixture_ticks_land_in_their_tables(tmp_path: Path) -> None:
    store = tmp_path / "ticks"
    report = replay_into(
        store,
        FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz",
        FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json",
        report=tmp_path / "r.json",
    )
    assert report["store"]["rows"]["trades"] == 13
    assert report["store"]["rows"]["book_deltas"] == 327 + 98  # Kalshi deltas + both legs of the burst
    _, rows = query(store, "select venue, count(*) from book_deltas group by venue order by venue")
    assert rows == [("kalshi", 327), ("polymarket", 98)]
    _, rows = query(store, "select count(distinct snapshot) from book_snapshots")
    assert rows == [(4 + 2,)]
    _, rows = query(store, "select price, size, aggressor from trades order by ts_event limit 1")
    assert isinstance(rows[0][0], int) and rows[0][2] in ("buy", "sell")
    _, rows = query(store, "select count(*) from quotes")  # an empty table is still queryable
    assert rows == [(0,)]


def test_query_cli_prints_a_table_or_json_and_fails_cleanly(tmp_path: Path) -> None:
    store = tmp_path / "ticks"
    replay_into(store, FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz", report=tmp_path / "r.json")
    result = runner.invoke(app, ["query", "select count(*) as n from trades", "--store", f"parquet:{store}", "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == [{"n": 13}]
    result = runner.invoke(app, ["query", "select nope from trades", "--store", f"parquet:{store}"])
    assert result.exit_code == 1 and "query failed" in result.output
    result = runner.invoke(app, ["query", "select 1", "--store", f"parquet:{tmp_path / 'missing'}"])
    assert result.exit_code == 2 and "no such tick store folder" in result.output


@pytest.mark.data
def test_full_capture_counts_match_the_capture(tmp_path: Path) -> None:
    store = tmp_path / "ticks"
    report = replay_into(store, shared_data(KALSHI_CAPTURE), report=tmp_path / "r.json")
    by_type = report["frames_by_type"]
    assert isinstance(by_type, dict)
    _, trades = query(store, "select count(*) from trades")
    _, deltas = query(store, "select count(*) from book_deltas")
    assert trades == [(by_type["trade"],)] and deltas == [(by_type["orderbook_delta"],)]
    print(f"tick store: trades {trades[0][0]}, book_deltas {deltas[0][0]}")
