"""The dashboard's views and page: combined cost per pair, risk usage, vendored static files."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from hadron.app.control import ControlGuard
from hadron.app.dashboard import STATIC_FILES, STATIC_QUERY_PLACEHOLDER, page, static, static_file
from hadron.app.views import pair_costs, pair_instruments, risk_usage
from hadron.arb.detector import ArbDetector
from hadron.arb.terms import LegTerms, PairTerms, Thresholds
from hadron.book.manager import BookManager
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot
from hadron.model.fees import MONEY_SCALE as USD
from hadron.model.fees import NoFee
from hadron.paper.config import Latency, PaperConfig, RiskLimits
from hadron.paper.trader import PaperTrader

S = 1_000_000
MS = 1_000_000
K, Y, N = "kalshi:K", "polymarket:Y", "polymarket:N"
T0 = 1_786_000_000 * 10**9
STATIC = Path(__file__).resolve().parents[2] / "hadron" / "app" / "static"


class CentPerOrder:
    """A fee model charging $0.01 an order, whatever it fills."""

    def fee(self, fills: Sequence[tuple[int, int]]) -> int:
        return USD // 100 if fills else 0


def _pair(relation: str = "identity", no_token: str = "N") -> Pair:
    return Pair(kalshi_event="E", polymarket_event="P", relation=relation, confidence=1.0, kalshi_market="K",
                polymarket_yes_token="Y", polymarket_no_token=no_token, status="approved", id="p")  # fmt: skip


def _snap(books: BookManager, inst: str, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...],
          t: int) -> None:  # fmt: skip
    books.apply_snapshot(BookSnapshot(inst, bids, asks, t, t))


def _books(books: BookManager, t: int = T0) -> None:
    # Kalshi YES 0.40 / 0.45, Polymarket YES 0.48 / 0.50, Polymarket NO 0.40 / 0.50 (5 contracts)
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), t)
    _snap(books, Y, ((4800, 10 * S),), ((5000, 10 * S),), t + 1)
    _snap(books, N, ((4000, 10 * S),), ((5000, 5 * S),), t + 2)


def test_combined_cost_both_ways_at_the_best_asks_with_fees_and_the_open_opportunity() -> None:
    books = BookManager()
    pair = _pair()
    terms = PairTerms(legs=(LegTerms(fee=CentPerOrder()), LegTerms(fee=CentPerOrder())))
    detector = ArbDetector(books, [pair], {"p": terms}, Thresholds(max_age_ns=10**12), intra=False)
    _books(books)
    yes_no, no_yes = pair_costs(pair, terms, books, detector.open)
    assert yes_no["direction"] == "kalshi_yes+polymarket_no"  # the detector's names
    assert [(leg["instrument"], leg["ask"], leg["ask_size"]) for leg in yes_no["legs"]] == [
        (K, "0.4500", "10.00"),
        (N, "0.5000", "5.00"),
    ]
    # $0.45 + $0.50 = $0.95 a contract, $0.05 gross, $0.01 an order on each venue
    assert (yes_no["cost"], yes_no["gross_edge"], yes_no["fees"], yes_no["net_edge"]) == (
        "0.9500",
        "0.0500",
        "0.02",
        "0.03",
    )
    opportunity = detector.open["p/cross/kalshi_yes+polymarket_no"]
    assert yes_no["opportunity"] == {
        "id": opportunity.id,
        "size": "5.00",
        "net": "0.23",  # 5 × $0.05 − two orders' $0.01
        "net_per_contract": "0.046",
    }
    # Kalshi NO is 1 − its YES bid (0.60), with the Polymarket YES token's ask (0.50): no edge
    assert no_yes["direction"] == "kalshi_no+polymarket_yes"
    assert [leg["ask"] for leg in no_yes["legs"]] == ["0.6000", "0.5000"]
    assert (no_yes["cost"], no_yes["gross_edge"], no_yes["net_edge"], no_yes["opportunity"]) == (
        "1.1000",
        "-0.1000",
        "-0.12",
        None,
    )


def test_combined_cost_of_a_complement_without_a_no_token_and_of_an_empty_side() -> None:
    books = BookManager()
    pair = _pair("complement", no_token="")
    _snap(books, K, ((4000, S),), ((4500, S),), T0)
    _snap(books, Y, ((4800, S),), (), T0 + 1)  # no ask on the YES token
    yes_no, no_yes = pair_costs(pair, None, books, {})
    assert [yes_no["direction"], no_yes["direction"]] == ["kalshi_yes+polymarket_yes", "kalshi_no+polymarket_no"]
    # the Polymarket leg paying with Kalshi's NO: 1 − the YES token's bid
    assert [leg["ask"] for leg in yes_no["legs"]] == ["0.4500", "0.5200"] and yes_no["cost"] == "0.9700"
    assert no_yes["legs"][1]["ask"] is None and no_yes["cost"] is None and no_yes["net_edge"] is None
    assert pair_instruments([pair, _pair()]) == [K, Y, K, Y, N]


def test_risk_usage_counts_what_the_risk_manager_counts() -> None:
    books = BookManager()
    detector = ArbDetector(books, [_pair()], thresholds=Thresholds(max_age_ns=10**12), intra=False)
    limits = RiskLimits(max_notional_pair=10 * USD, max_open_pairs=3, daily_loss_limit=250 * USD, max_data_age_ms=5000)
    trader = PaperTrader(books, detector, PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)}),
                         limits)  # fmt: skip
    unused = {row["name"]: row for row in risk_usage(trader, books, [K, Y, N], T0)}
    assert unused["max_open_pairs"]["used"] == 0 and unused["max_notional_pair"]["fraction"] == 0.0
    _books(books)
    trader.finish()
    (trade,) = trader.trades
    assert trade.state == "hedged"
    rows = {row["name"]: row for row in risk_usage(trader, books, [K, Y, N], T0 + 1500 * MS)}
    assert list(rows) == [
        "max_notional_pair", "max_notional_market", "max_notional_venue", "max_open_pairs",
        "max_leg_imbalance", "daily_loss_limit", "max_data_age_ms",
    ]  # fmt: skip
    pair = rows["max_notional_pair"]
    assert pair["unit"] == "usd" and pair["limit"] == "10" and pair["detail"] == "p"
    assert pair["used"] == "4.75" and pair["fraction"] == 0.475  # 5 × ($0.45 + $0.50), no fees here
    assert (rows["max_open_pairs"]["used"], rows["max_open_pairs"]["limit"], rows["max_open_pairs"]["fraction"]) == (
        1,
        3,
        0.3333,
    )
    assert rows["daily_loss_limit"]["limit"] == "250" and rows["daily_loss_limit"]["unit"] == "usd"
    assert rows["max_notional_market"]["limit"] is None and rows["max_notional_market"]["fraction"] is None
    assert rows["max_data_age_ms"]["used"] == 1500.0 and rows["max_data_age_ms"]["fraction"] == 0.3


def test_the_page_links_the_vendored_chart_and_the_static_route_serves_it_behind_the_guard() -> None:
    plain = page("tok")
    assert STATIC_QUERY_PLACEHOLDER not in plain
    assert '<script src="/static/uPlot.iife.min.js"></script>' in plain
    assert '<link rel="stylesheet" href="/static/uPlot.min.css">' in plain
    with_token = page("a/b+c", token_in_links=True)  # runtime.control_token set: every read needs the token
    assert '<script src="/static/uPlot.iife.min.js?token=a%2Fb%2Bc"></script>' in with_token
    # the files are the ones VENDORED.md names, byte for byte
    notes = (STATIC / "VENDORED.md").read_text()
    for name in ("uPlot.iife.min.js", "uPlot.min.css"):
        digest = hashlib.sha256(static_file(name)).hexdigest()
        assert re.search(rf"^{digest}  {re.escape(name)}$", notes, re.M), name
    assert "uPlot" in notes and "1.6.32" in notes and "MIT" in notes
    assert static_file("uPlot.LICENSE").startswith(b"The MIT License")

    app = Starlette(routes=[Route("/static/{name}", static)])

    async def main(guard: ControlGuard) -> list[tuple[int, str]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://test") as client:
            out = []
            for path in ("/static/uPlot.iife.min.js", "/static/uPlot.iife.min.js?token=tok", "/static/VENDORED.md",
                         "/static/..%2Fdashboard.py?token=tok"):  # fmt: skip
                response = await client.get(path)
                out.append((response.status_code, response.headers.get("content-type", "")))
            return out

    reads_need_token = ControlGuard(app, token="tok", port=80, allowed_hosts=["test"], token_for_reads=True)
    assert asyncio.run(main(reads_need_token)) == [
        (401, "application/json"),
        (200, STATIC_FILES["uPlot.iife.min.js"]),
        (401, "application/json"),
        (404, "text/plain; charset=utf-8"),  # no route: only the named files are served
    ]
    open_reads = ControlGuard(app, token="tok", port=80, allowed_hosts=["test"])
    assert [status for status, _ in asyncio.run(main(open_reads))] == [200, 200, 404, 404]


def test_combined_cost_prices_the_fee_in_force_after_a_venue_fee_change() -> None:
    from hadron.arb.edges import PairEdges, cross_fees

    books = BookManager()
    pair = _pair()
    terms = PairTerms(legs=(LegTerms(fee=CentPerOrder()), LegTerms(fee=CentPerOrder())))
    detector = ArbDetector(books, [pair], {"p": terms}, Thresholds(max_age_ns=10**12), intra=False)
    _books(books)
    edges = PairEdges(detector)
    before = edges.best()["p"]
    detector.set_fee(K, NoFee(), T0 + 10)  # the venue's fee on the Kalshi market changes: free now
    yes_no, no_yes = pair_costs(pair, terms, books, detector.open, cross_fees(detector))
    assert (yes_no["fees"], yes_no["net_edge"]) == ("0.01", "0.04")  # only Polymarket's cent is left
    assert no_yes["fees"] == "0.01"
    assert edges.best()["p"] > before  # /metrics' best edge follows the same candidates
