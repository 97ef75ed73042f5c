"""A Kalshi fee override replayed between two opportunities: the first is priced with the pairs
file's fee, the second with the override, in the opportunities file, the paper fills and the report.

The recording is a real Kalshi capture (``tests/fixtures/kalshi``, see its SOURCES.md) with its
Polymarket transcoding moved 25¢ down (as ``test_arb_replay.py``), plus one ``event_fee_update``
frame shaped as the Kalshi AsyncAPI example, inserted on the Kalshi connection between the first
opportunity's close and the second's opening (receive-time order, as a live recording keeps it).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hadron.cli import app
from hadron.venues.polymarket.fake_scenario import pairs_toml, write_pair_recording

FIXTURE = Path(__file__).parent.parent / "fixtures" / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
TICKER = "KXGOLD15M-26AUG102130-30"
EVENT = "KXGOLD15M-26AUG102130"


def _kalshi_fee_order(fills: list[tuple[Decimal, Decimal]], multiplier: Decimal) -> Decimal:
    # Kalshi's taker fee, rounded up to the cent once per order (docs/protocols/kalshi.md#fees)
    exact = sum((Decimal("0.07") * multiplier * size * price * (1 - price) for price, size in fills), Decimal(0))
    return (exact * 100).to_integral_value(rounding="ROUND_CEILING") / 100


def _kalshi_fee(price: Decimal, size: Decimal, multiplier: Decimal) -> Decimal:
    return _kalshi_fee_order([(price, size)], multiplier)


def _replay(tmp_path: Path, recording: Path, pairs: Path, name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:  # fmt: skip
    out, report, paper = tmp_path / f"{name}.ndjson", tmp_path / f"{name}.json", tmp_path / f"{name}-paper"
    result = CliRunner().invoke(
        app,
        ["replay", str(recording), "--seq-check", "monotonic", "--pairs", str(pairs), "--opportunities", str(out),
         "--report", str(report), "--paper", "--paper-report", str(paper), "--dead-letter", str(tmp_path / f"{name}-dl.ndjson")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    opportunities = [json.loads(line) for line in out.read_text().splitlines()]
    fills = [json.loads(line) for line in (paper / "fills.ndjson").read_text().splitlines()]
    return opportunities, fills, json.loads(report.read_text())


def _with_fee_update(recording: Path, out: Path, recv_ns: int, msg: dict[str, Any]) -> None:
    frame = {"type": "event_fee_update", "sid": 77, "msg": msg}
    line = json.dumps({"recv_ns": recv_ns, "venue": "kalshi", "conn": "k", "frame": json.dumps(frame)})
    lines = recording.read_text().splitlines()
    at = next(n for n, raw in enumerate(lines) if json.loads(raw)["recv_ns"] > recv_ns)
    out.write_text("\n".join([*lines[:at], line, *lines[at:]]) + "\n")


def _kalshi_leg(opportunity: dict[str, Any]) -> dict[str, Any]:
    (leg,) = [leg for leg in opportunity["legs"] if leg["venue"] == "kalshi"]
    return leg


def test_a_fee_override_between_two_opportunities_prices_the_second_only(tmp_path: Path) -> None:
    recording, pairs = tmp_path / "both.ndjson", tmp_path / "pairs.toml"
    write_pair_recording([FIXTURE], recording, shift=-2_500)
    pairs.write_text(pairs_toml([TICKER], fee_rate="0.04", settles_at="2026-08-11T02:30:00Z"))
    before, fills_before, _ = _replay(tmp_path, recording, pairs, "before")
    first, second = before[0], before[1]
    assert first["closed_ns"] < second["opened_ns"], "the capture's first two opportunities do not overlap"
    between = (first["closed_ns"] + second["opened_ns"]) // 2
    overridden = tmp_path / "overridden.ndjson"
    _with_fee_update(
        recording, overridden, between, {"event_ticker": EVENT, "fee_type_override": "quadratic", "fee_multiplier_override": 2}
    )  # fmt: skip
    after, fills_after, report = _replay(tmp_path, overridden, pairs, "after")

    # the first opportunity is the same, priced with the pairs file's multiplier (1)
    assert after[0] == first
    leg = _kalshi_leg(after[0])
    assert Decimal(leg["fee"]) == _kalshi_fee(Decimal(leg["price"]), Decimal(after[0]["size"]), Decimal(1))
    # the second opens at the same moment, with the override's multiplier (2): higher fees, lower edge
    assert after[1]["opened_ns"] == second["opened_ns"]
    leg = _kalshi_leg(after[1])
    size = Decimal(after[1]["size"])
    assert Decimal(leg["fee"]) == _kalshi_fee(Decimal(leg["price"]), size, Decimal(2))
    assert Decimal(leg["fee"]) > _kalshi_fee(Decimal(leg["price"]), size, Decimal(1))
    assert Decimal(after[1]["fees"]) == sum(Decimal(leg["fee"]) for leg in after[1]["legs"])
    assert Decimal(after[1]["net_edge"]) == size - sum(Decimal(leg["cost"]) for leg in after[1]["legs"]) - Decimal(
        after[1]["fees"]
    )
    assert Decimal(after[1]["net_edge"]) < Decimal(second["net_edge"])

    # paper fills: the Kalshi fills before the override pay the multiplier 1, those after it 2
    kalshi_before = [f for f in fills_after if f["venue"] == "kalshi" and f["ts_ns"] < between]
    kalshi_after = [f for f in fills_after if f["venue"] == "kalshi" and f["ts_ns"] > between]
    assert kalshi_before and kalshi_after
    assert kalshi_before == [f for f in fills_before if f["venue"] == "kalshi" and f["ts_ns"] < between]
    for fills, multiplier in ((kalshi_before, Decimal(1)), (kalshi_after, Decimal(2))):
        orders: dict[str, list[dict[str, Any]]] = {}
        for fill in fills:
            orders.setdefault(fill["order_id"], []).append(fill)
        for order in orders.values():  # an order's fee is rounded up once, and sits on its last fill
            fills_of = [(Decimal(f["price"]), Decimal(f["size"])) for f in order]
            assert sum(Decimal(f["fee"]) for f in order) == _kalshi_fee_order(fills_of, multiplier)

    # the report says which rule was in force
    fees = report["arbitrage"]["fees"]
    assert fees["updates"] == 1 and fees["refused"] == 0
    assert fees["overrides"] == {
        f"kalshi:{EVENT}": {"fee_type": "quadratic", "multiplier": "2", "since_ns": between, "source": "ws"}
    }
    assert report["frames_by_type"]["event_fee_update"] == 1 and report["decode_errors"] == 0
