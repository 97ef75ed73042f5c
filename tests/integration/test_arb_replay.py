"""Replay a real Kalshi capture with its Polymarket transcoding dislocated; check each opportunity.

The Polymarket YES token's book is moved 25¢ down and the NO token's 25¢ up (the two stay mirrors),
so buying YES on Polymarket and NO on Kalshi costs less than $1 whenever Kalshi's spread is under
25¢; a cross-venue opportunity must be found and every reported one must add up.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hadron.cli import app
from hadron.venues.polymarket.fake_scenario import pairs_toml, token_ids, write_pair_recording

FIXTURE = Path(__file__).parent.parent / "fixtures" / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
TICKER = "KXGOLD15M-26AUG102130-30"
SHIFT_UNITS = 2_500  # 25¢ in 1/10,000 USD
_MARKET, YES, NO = token_ids(TICKER)


def _write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    both = tmp_path / "both.ndjson"
    write_pair_recording([FIXTURE], both, shift=-SHIFT_UNITS)
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([TICKER], fee_rate="0.04", settles_at="2026-08-11T02:30:00Z"))
    return both, pairs


def _kalshi_fee(fills: list[tuple[Decimal, Decimal]]) -> Decimal:
    exact = sum((Decimal("0.07") * c * p * (1 - p) for p, c in fills), Decimal(0))
    return (exact * 100).to_integral_value(rounding="ROUND_CEILING") / 100


def _poly_fee(fills: list[tuple[Decimal, Decimal]]) -> Decimal:
    total = Decimal(0)
    for p, c in fills:
        fee = c * Decimal("0.04") * p * (1 - p)
        total += Decimal(0) if fee < Decimal("0.00001") else fee.quantize(Decimal("0.00001"), rounding="ROUND_HALF_UP")
    return total


def test_replay_reports_opportunities_that_recompute(tmp_path: Path) -> None:
    poly, pairs = _write_inputs(tmp_path)
    out, report = tmp_path / "opps.ndjson", tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        ["replay", str(poly), "--seq-check", "monotonic", "--pairs", str(pairs), "--opportunities", str(out), "--report", str(report),
         "--dead-letter", str(tmp_path / "dl.ndjson")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert any(rec["kind"] == "cross" for rec in records), "the 25¢ dislocation must produce cross-venue opportunities"
    assert json.loads(report.read_text())["arbitrage"]["opportunities"] == len(records)
    for rec in records:
        legs = rec["legs"]
        size = Decimal(rec["size"])
        assert all(Decimal(leg["size"]) == size for leg in legs)
        cost = sum(Decimal(leg["cost"]) for leg in legs)
        fees = Decimal(0)
        for leg in legs:
            fills = [(Decimal(leg["price"]), size)] if leg["venue"] == "polymarket" else None
            if leg["venue"] == "kalshi":
                fee = Decimal(leg["fee"])
                assert fee == fee.quantize(Decimal("0.01")) and fee >= _kalshi_fee(
                    [(Decimal(leg["price"]), size)]
                ) - Decimal("0.01")
            else:
                assert fills is not None
                assert Decimal(leg["fee"]) >= 0
            assert abs(Decimal(leg["cost"]) - Decimal(leg["price"]) * size) < Decimal("0.0001")
            fees += Decimal(leg["fee"])
        assert Decimal(rec["fees"]) == fees
        assert Decimal(rec["cost"]) == cost + fees
        assert Decimal(rec["payout"]) == size
        assert Decimal(rec["net_edge"]) == size - cost - fees > 0
        assert Decimal(rec["peak_net_edge"]) >= Decimal(rec["net_edge"])
        assert rec["kind"] in ("cross", "kalshi_yes_no", "polymarket_outcomes")


def test_replay_stores_the_run_and_its_opportunities(tmp_path: Path) -> None:
    import asyncio

    from hadron.store.state import open_state_store

    poly, pairs = _write_inputs(tmp_path)
    db = tmp_path / "state.db"
    result = CliRunner().invoke(
        app,
        ["replay", str(poly), "--seq-check", "monotonic", "--pairs", str(pairs), "--state", f"sqlite:///{db}",
         "--report", str(tmp_path / "r.json"), "--dead-letter", str(tmp_path / "dl.ndjson")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run_id = json.loads((tmp_path / "r.json").read_text())["arbitrage"]["state_run"]

    async def stored() -> list[Any]:
        async with await open_state_store(f"sqlite:///{db}") as store:
            run = await store.get_run(run_id)
            assert run is not None and run.status == "finished" and run.mode == "replay"
            return list(await store.list_opportunities(run_id))

    records = asyncio.run(stored())
    assert records and all(r.state == "closed" and r.size > 0 and r.edge > 0 for r in records)
    assert {json.loads(r.legs_json)[0]["venue"] for r in records} == {"kalshi"}
