"""The fee rules at the start of a run, read from the loopback Kalshi venue's REST over a real
socket: the series' rule and the event's override reach the fee registry and the detector."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from hadron.app.runtime import Runtime
from hadron.book.manager import BookManager
from hadron.config import load_config
from hadron.model.events import BookSnapshot
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fake_rest import RestFaults, build_rest_app
from hadron.venues.kalshi.fees import KalshiOrderFee
from hadron.venues.polymarket.fake_scenario import pairs_toml, token_ids
from tests.integration.test_kalshi_rest_loopback import serve

S = 1_000_000
OVERRIDDEN = "KXGOLD15M-26AUG102130-30"
PLAIN = "KXGOLD15M-26AUG102145-30"


def _exchange() -> FakeExchange:
    exchange = FakeExchange()
    for ticker in (OVERRIDDEN, PLAIN):
        exchange.ensure_market(ticker)
    exchange.series["KXGOLD15M"] |= {"fee_type": "quadratic_with_maker_fees", "fee_multiplier": "0.5"}
    exchange.events[OVERRIDDEN.rsplit("-", 1)[0]] |= {"fee_type_override": None, "fee_multiplier_override": "2"}
    return exchange


def _runtime(tmp_path: Path, rest_url: str) -> Runtime:
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([OVERRIDDEN, PLAIN]))
    config = tmp_path / "hadron.toml"
    config.write_text(
        f'[runtime]\npairs = "{pairs}"\nport = 0\n'
        f'[kalshi]\nws_url = "ws://127.0.0.1:9/trade-api/ws/v2"\nrest_url = "{rest_url}"\n'
    )
    return Runtime(load_config(config, environ={}, dotenv=None))


def _cross(books: BookManager, ticker: str, yes: str, no: str, t: int) -> None:
    books.apply_snapshot(BookSnapshot(f"kalshi:{ticker}", ((4000, 10 * S),), ((4500, 10 * S),), t, t))
    books.apply_snapshot(BookSnapshot(f"polymarket:{yes}", ((4800, 10 * S),), ((5000, 10 * S),), t, t))
    books.apply_snapshot(BookSnapshot(f"polymarket:{no}", ((4000, 10 * S),), ((5000, 10 * S),), t, t))


def test_the_series_rule_and_the_event_override_come_from_the_loopback_rest(tmp_path: Path) -> None:
    async def main() -> Runtime:
        async with serve(build_rest_app(_exchange(), public_key=None)) as url:
            runtime = _runtime(tmp_path, url)
            assert await runtime.load_fee_rules() == 3  # two series rules (one GET) and one override
            return runtime

    runtime = asyncio.run(main())
    fees = runtime.strategy.fees
    assert fees is not None and runtime.detector is not None
    summary = fees.summary()
    assert set(summary["base"]) == {f"kalshi:{OVERRIDDEN.rsplit('-', 1)[0]}", f"kalshi:{PLAIN.rsplit('-', 1)[0]}"}
    assert all(rule["multiplier"] == "0.5" for rule in summary["base"].values())
    assert list(summary["overrides"]) == [f"kalshi:{OVERRIDDEN.rsplit('-', 1)[0]}"]
    for n, (ticker, multiplier) in enumerate(((OVERRIDDEN, "2"), (PLAIN, "0.5"))):
        _, yes, no = token_ids(ticker)
        _cross(runtime.books, ticker, yes, no, 10 + n)
        (opp,) = [o for o in runtime.detector.open.values() if o.legs[0].instrument == f"kalshi:{ticker}"]
        assert opp.legs[0].fee == KalshiOrderFee(Decimal(multiplier)).fee([(4500, 10 * S)])
    rows = {row["id"]: row["kalshi_fee"] for row in runtime.pairs_view()}
    assert rows == {OVERRIDDEN: "quadratic_with_maker_fees ×2", PLAIN: "quadratic_with_maker_fees ×0.5"}
    assert runtime.final_report(runtime.status())["arbitrage"]["fees"]["base"] == summary["base"]


def test_a_failing_rest_leaves_the_pairs_file_terms_and_the_run_going(tmp_path: Path) -> None:
    async def main() -> Runtime:
        faults = RestFaults(fail_next=[401] * 10)
        async with serve(build_rest_app(_exchange(), public_key=None, faults=faults)) as url:
            runtime = _runtime(tmp_path, url)
            assert await runtime.load_fee_rules() == 0
            return runtime

    runtime = asyncio.run(main())
    fees = runtime.strategy.fees
    assert fees is not None and fees.summary()["base"] == {} and fees.refused == 0
    assert all(row["kalshi_fee"] == "quadratic ×1" for row in runtime.pairs_view())
