"""`hadron replay … --paper`: reports, determinism, and settlement that reconciles cash exactly."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hadron.cli import app
from hadron.venues.base import get_venue
from hadron.venues.polymarket.fake_scenario import token_ids
from tests.conftest import FIXTURES, SHARED_DATA

SHARED = SHARED_DATA / "zkiihne__kalshi-gold15m-sample"
MARKETS = SHARED / "MARKETS.csv"
FIXTURE = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"


def _scenario(tmp_path: Path, captures: list[Path], shift: int) -> tuple[Path, Path]:
    recording, pairs = tmp_path / "both.ndjson", tmp_path / "pairs.toml"
    _, text = get_venue("polymarket").pair_scenario(captures, recording, shift=shift, fee_rate="0.04")
    pairs.write_text(text)
    return recording, pairs


def _paper(tmp_path: Path, recording: Path, pairs: Path, out: str, *extra: str) -> dict[str, object]:
    folder = tmp_path / out
    result = CliRunner().invoke(
        app,
        ["replay", str(recording), "--seq-check", "monotonic", "--pairs", str(pairs), "--paper",
         "--paper-report", str(folder), "--dead-letter", str(tmp_path / "dl.ndjson"), *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads((folder / "summary.json").read_text())
    return summary


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    recording, pairs = _scenario(tmp_path, [FIXTURE], -2_500)
    config = tmp_path / "paper.toml"
    config.write_text("[paper]\nlatency_ms = 40\njitter_ms = 200\n")
    runs = [_paper(tmp_path, recording, pairs, name, "--paper-config", str(config), "--seed", seed)
            for name, seed in (("a", "7"), ("b", "7"), ("c", "8"))]  # fmt: skip
    for name in ("fills.ndjson", "summary.json", "equity.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "fills.ndjson").read_bytes() != (tmp_path / "c" / "fills.ndjson").read_bytes()
    assert runs[0]["fills"] and (tmp_path / "a" / "equity.png").read_bytes().startswith(b"\x89PNG")


def _results() -> dict[str, str]:
    with MARKETS.open() as f:
        return {row["window"]: row["result"] for row in csv.DictReader(f)}


def _reconcile(folder: Path, summary: dict[str, object], results: dict[str, str], tickers: list[str]) -> int:
    # Recompute every venue's cash from the fills and the market results alone
    ticker_of = {}
    for ticker in tickers:
        _, yes, no = token_ids(ticker)
        ticker_of[f"polymarket:{yes}"] = ticker_of[f"polymarket:{no}"] = ticker
        ticker_of[f"kalshi:{ticker}"] = ticker
    cash: dict[str, Decimal] = defaultdict(lambda: Decimal(10_000))
    held: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    fills = [json.loads(line) for line in (folder / "fills.ndjson").read_text().splitlines()]
    for fill in fills:
        value = Decimal(fill["price"]) * Decimal(fill["size"])
        sign = -1 if fill["side"] == "buy" else 1
        cash[fill["venue"]] += sign * value - Decimal(fill["fee"])
        held[(fill["venue"], fill["instrument"], fill["outcome"])] -= sign * Decimal(fill["size"])
    payouts = Decimal(0)
    for (venue, instrument, outcome), shares in held.items():
        if outcome == results[ticker_of[instrument]]:  # the side that paid $1 a share
            cash[venue] += shares
            payouts += shares
    assert {v: str(c.normalize()) for v, c in cash.items()} == {
        v: str(Decimal(c).normalize())
        for v, c in summary["cash"].items()  # type: ignore[attr-defined]
    }
    assert Decimal(summary["payouts"]) == payouts  # type: ignore[arg-type]
    assert summary["open_positions"] == []
    return len(fills)


@pytest.mark.skipif(not MARKETS.exists(), reason="../shared/data (the KXGOLD15M capture and its MARKETS.csv) absent")
def test_fixture_pair_settles_from_markets_csv(tmp_path: Path) -> None:
    recording, pairs = _scenario(tmp_path, [FIXTURE], -2_500)
    summary = _paper(tmp_path, recording, pairs, "rep", "--settlements", str(MARKETS))
    assert _reconcile(tmp_path / "rep", summary, _results(), ["KXGOLD15M-26AUG102130-30"]) > 0
    assert summary["pairs"] == {"hedged": 3} and summary["net_pnl"] == summary["realized_pnl"]


def test_hedged_pairs_show_their_locked_pnl_until_settlement_realizes_it(tmp_path: Path) -> None:
    recording, pairs = _scenario(tmp_path, [FIXTURE], -2_500)
    summary = _paper(tmp_path, recording, pairs, "open")
    assert summary["pairs"] == {"hedged": 3} and summary["realized_pnl"] == "0"
    # recomputed from the fills alone: every hedged share set pays $1, less everything paid for it
    fills = [json.loads(line) for line in (tmp_path / "open" / "fills.ndjson").read_text().splitlines()]
    assert {f["side"] for f in fills} == {"buy"}
    paid = sum(Decimal(f["price"]) * Decimal(f["size"]) + Decimal(f["fee"]) for f in fills)
    hedged = sum(Decimal(f["size"]) for f in fills if f["venue"] == "kalshi")
    assert Decimal(summary["hedged_shares"]) == hedged  # type: ignore[arg-type]
    assert Decimal(summary["locked_pnl"]) == hedged - paid > 0  # type: ignore[arg-type]
    assert summary["mark_to_market_pnl"] == "0"
    assert Decimal(summary["net_pnl"]) < 0  # type: ignore[arg-type]  # the same legs marked at the bid
    if MARKETS.exists():  # settled, the locked P&L is what was realized, to the last digit
        settled = _paper(tmp_path, recording, pairs, "settled", "--settlements", str(MARKETS))
        assert settled["realized_pnl"] == settled["net_pnl"] == summary["locked_pnl"]
        assert (settled["locked_pnl"], settled["mark_to_market_pnl"]) == ("0", "0")


@pytest.mark.skipif(not MARKETS.exists(), reason="../shared/data (the KXGOLD15M capture and its MARKETS.csv) absent")
def test_three_real_markets_settle_and_reconcile_cash_exactly(tmp_path: Path) -> None:
    tickers = ["KXGOLD15M-26AUG101900-00", "KXGOLD15M-26AUG101945-45", "KXGOLD15M-26AUG101930-30"]
    captures = [SHARED / "events" / t / "2026-08-10.ndjson.gz" for t in tickers]
    recording, pairs = _scenario(tmp_path, captures, -300)
    summary = _paper(tmp_path, recording, pairs, "rep", "--settlements", str(MARKETS))
    fills = _reconcile(tmp_path / "rep", summary, _results(), tickers)
    assert fills > 100 and summary["settlements"] == 6  # 3 Kalshi markets and their 3 YES tokens held
    assert summary["unwinds"] > 0 and summary["legs_failed"] > 0  # the 150 ms Polymarket leg loses races


def test_paper_mode_in_the_runtime_writes_orders_fills_positions_and_cash_to_the_state_store(tmp_path: Path) -> None:
    import asyncio

    from hadron.store.state import open_state_store

    recording, pairs = _scenario(tmp_path, [FIXTURE], -2_500)
    db = f"sqlite:///{tmp_path / 'state.db'}"
    report = tmp_path / "run.json"
    result = CliRunner().invoke(
        app,
        ["run", "--role", "all", "--source", str(recording), "--pairs", str(pairs), "--seq-check", "monotonic",
         "--paper", "--state", db, "--paper-report", str(tmp_path / "rep"), "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    section = json.loads(report.read_text())["strategy"]
    paper = section["paper"]
    assert paper["stored"]["errors"] == 0 and paper["stored"]["records"] > 0
    run_id = section["arbitrage"]["state_run"]

    async def read() -> tuple[list[object], list[object], list[object], list[object]]:
        async with await open_state_store(db) as store:
            return (await store.list_orders(run_id), await store.list_fills(run_id),
                    await store.list_positions(run_id), await store.list_balances(run_id))  # fmt: skip

    orders, fills, positions, balances = asyncio.run(read())
    assert len(orders) == paper["orders"]["total"] and len(fills) == paper["fills"]
    assert {o.status for o in orders} <= {"filled", "partially_filled", "cancelled", "rejected"}  # type: ignore[attr-defined]
    cash = {b.venue: Decimal(b.amount) / 1_000_000 for b in balances}  # type: ignore[attr-defined]
    assert {v: str(c.normalize()) for v, c in cash.items()} == {
        v: str(Decimal(c).normalize()) for v, c in paper["cash"].items()
    }
    assert {p.instrument for p in positions} >= {"kalshi:KXGOLD15M-26AUG102130-30:no"}  # type: ignore[attr-defined]
    assert (tmp_path / "rep" / "summary.json").exists()
