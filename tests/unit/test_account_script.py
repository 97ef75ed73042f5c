"""The account script (``--account-script FILE``): every field checked at load with a one-line
error naming the order and the field; the player logs a bad order and plays the next; a cancel
keeps the order's client_order_id; Kalshi fees round up to the cent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from hadron.cli import app
from hadron.venues.account_script import ScriptedOrder, load_script, play_timed
from hadron.venues.kalshi.fake_account import KalshiAccountScript
from hadron.venues.polymarket.fake_account import PolymarketAccountScript

GOOD = {"venue": "kalshi", "at": 0, "instrument": "KXT-1", "side": "yes", "price": "0.4800", "count": "10.00"}


def _write(tmp_path: Path, *orders: dict[str, Any]) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(list(orders)))
    return path


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": "abc"}, "price"),
        ({"price": "1.0000"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "0.48005"}, "price"),
        ({"side": "maybe"}, "side"),
        ({"venue": "polymarket", "side": "yes"}, "side"),
        ({"venue": "nasdaq"}, "venue"),
        ({"count": "0"}, "count"),
        ({"count": "-3"}, "count"),
        ({"count": "1.005"}, "count"),
        ({"fill": "x"}, "fill"),
        ({"fill": "14.00"}, "fill"),
        ({"at": -1}, "at"),
        ({"at": 5, "cancel_at": 5}, "cancel_at"),
    ],
)
def test_load_script_refuses_a_bad_field_naming_the_order_and_field(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    path = _write(tmp_path, GOOD, {**GOOD, **change})
    with pytest.raises(ValueError, match=rf"^order 1: {field} ") as info:
        load_script(path)
    assert "\n" not in str(info.value)


def test_load_script_accepts_the_shipped_example() -> None:
    orders = load_script(Path(__file__).parents[2] / "account-script.example.json")
    assert orders and all(o.venue in ("kalshi", "polymarket") for o in orders)


def test_demo_refuses_a_bad_script_with_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, {**GOOD, "fill": "14.00"})
    result = CliRunner().invoke(app, ["demo", "--account-script", str(path)])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "order 0: fill" in line and "--account-script" in line


class _Venue:
    def __init__(self) -> None:
        self.account = KalshiAccountScript()
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def play_account(self, orders: list[ScriptedOrder]) -> int:
        for order in orders:
            self.frames += self.account.frames(order, 1_000)
        return len(self.frames)


@pytest.mark.asyncio
async def test_player_logs_a_bad_order_and_plays_the_next() -> None:
    venue = _Venue()
    bad = ScriptedOrder("KXT-1", "yes", "abc", "10.00", fill="10.00")
    good = ScriptedOrder("KXT-1", "no", "0.4500", "4.00", fill="1.00", at=0.01)
    with capture_logs() as logs:
        sent = await play_timed(venue, [bad, good], "kalshi", asyncio.Event())
    assert sent > 0 and any(msg["ticker"] == "KXT-1" for ch, msg in venue.frames if ch == "user_orders")
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1 and "price" in warnings[0]["error"]


def test_kalshi_cancel_keeps_the_client_order_id_and_fees_round_up_to_the_cent() -> None:
    script = KalshiAccountScript()
    other = ScriptedOrder("KXT-1", "yes", "0.2500", "15.00", order_id="o-1")
    order = ScriptedOrder("KXT-1", "yes", "0.3000", "20.00", fill="20.00", order_id="o-2")
    script.frames(other, 1)
    placed = script.frames(order, 2)
    canceled = script.frames(msgspec.structs.replace(order, cancel=True), 3)
    ids = {msg["client_order_id"] for ch, msg in placed if ch in ("user_orders", "fill")}
    assert ids == {"script-2"} and canceled[0][1]["client_order_id"] == "script-2"
    fill = next(msg for ch, msg in placed if ch == "fill")
    assert fill["fee_cost"] == "0.3000"  # 0.07 × 20 × 0.30 × 0.70 = 0.294, rounded up to the cent
    position = next(msg for ch, msg in placed if ch == "market_positions")
    assert position["fees_paid_dollars"] == "0.3000"


def test_fakes_refuse_a_bad_order_at_play_time() -> None:
    with pytest.raises(ValueError, match="side"):
        KalshiAccountScript().frames(ScriptedOrder("KXT-1", "maybe", "0.50", "1.00"), 1)
    with pytest.raises(ValueError, match="fill"):
        PolymarketAccountScript().frames(ScriptedOrder("tok", "BUY", "0.50", "1", fill="5"), 1)
