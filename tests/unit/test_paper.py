"""Paper trading: two-leg races against books at arrival, unwinds, every risk limit, the kill switch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from starlette.applications import Starlette
from typer.testing import CliRunner

from hadron.arb.detector import ArbDetector
from hadron.arb.terms import PairTerms, Thresholds, leg_terms
from hadron.book.manager import BookManager
from hadron.cli import app
from hadron.errors import ConfigError
from hadron.exec.paper import PaperExecution
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot, MarketState, MarketStatus
from hadron.model.fees import MONEY_SCALE as USD
from hadron.paper.config import Latency, PaperConfig, RiskLimits, load_paper_file, paper_config, risk_limits
from hadron.paper.control import routes
from hadron.paper.risk import KillSwitch
from hadron.paper.trader import PaperTrader

S = 1_000_000
MS = 1_000_000
K, Y, N = "kalshi:K", "polymarket:Y", "polymarket:N"
T0 = 1_786_000_000 * 10**9


def _pair(pid: str = "p", k: str = "K", y: str = "Y", n: str = "N") -> Pair:
    return Pair(kalshi_event="E", polymarket_event="P", relation="identity", confidence=1.0, kalshi_market=k,
                polymarket_yes_token=y, polymarket_no_token=n, status="approved", id=pid)  # fmt: skip


def _snap(books: BookManager, inst: str, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...],
          t: int) -> None:  # fmt: skip
    books.apply_snapshot(BookSnapshot(inst, bids, asks, t, t))


def _setup(
    config: PaperConfig | None = None, limits: RiskLimits | None = None, pairs: list[Pair] | None = None
) -> tuple[BookManager, PaperTrader]:
    books = BookManager()
    det = ArbDetector(books, pairs or [_pair()], thresholds=Thresholds(max_age_ns=10**12), intra=False)
    cfg = config or PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)})
    return books, PaperTrader(books, det, cfg, limits or RiskLimits(max_data_age_ms=10**9))


def _open(books: BookManager, t: int = T0, no_ask: tuple[tuple[int, int], ...] = ((5000, 5 * S),)) -> None:
    # Kalshi YES ask 0.45 × 10 and Polymarket NO ask 0.50 × 5: buy 5 of each for $0.95
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), t)
    _snap(books, Y, ((4800, 10 * S),), ((5000, 10 * S),), t + 1)
    _snap(books, N, ((4000, 10 * S),), no_ask, t + 2)


def test_both_legs_fill_at_arrival_and_settle() -> None:
    books, trader = _setup()
    _open(books)
    (trade,) = trader.trades
    assert [o.arrival_ns - o.created_ns for o in trade.orders] == [50 * MS, 150 * MS]
    trader.finish()
    assert trade.state == "hedged" and [o.filled for o in trade.orders] == [5 * S, 5 * S]
    cash = trader.portfolio.cash
    kalshi_fee = trade.orders[0].fee
    assert cash["kalshi"] == 10_000 * USD - 5 * S * 4500 - kalshi_fee
    assert cash["polymarket"] == 10_000 * USD - 5 * S * 5000  # fee-free market here
    trader.on_event(MarketStatus(K, MarketState.DETERMINED, T0 + 10**9, T0 + 10**9, "yes"))
    trader.on_event(MarketStatus(N, MarketState.DETERMINED, T0 + 10**9, T0 + 10**9, "no"))
    trader.finish()
    assert trader.portfolio.payouts == 5 * S * 10_000  # the Kalshi YES leg pays $5
    assert trader.portfolio.total_cash() == 20_000 * USD + 5 * S * 500 - kalshi_fee
    assert trader.portfolio.realized() == 5 * S * 500 - kalshi_fee


def test_a_leg_that_finds_the_book_gone_is_retried_then_sold_back() -> None:
    books, trader = _setup()
    _open(books)
    _snap(books, N, ((4000, 10 * S),), ((6000, 10 * S),), T0 + 100 * MS)  # the NO ask leaves before arrival
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), T0 + 2000 * MS)  # the clock moves on
    trader.finish()
    (trade,) = trader.trades
    roles = [(o.role, o.leg, o.side, o.status) for o in trade.orders]
    assert roles == [
        ("entry", 0, "buy", "filled"),
        ("entry", 1, "buy", "cancelled"),
        ("retry", 1, "buy", "cancelled"),  # limit 0.51: still nothing
        ("retry", 1, "buy", "cancelled"),  # limit 0.52: still nothing
        ("unwind", 0, "sell", "filled"),  # 5 Kalshi YES sold at the 0.40 bid
    ]
    assert trade.state == "unwound" and trade.legs_failed == 1
    sell = trade.orders[-1]
    buy = trade.orders[0]
    assert sell.fills == [(4000, 5 * S)]
    assert trade.unwind_cost == buy.cost + buy.fee - (sell.cost - sell.fee)  # bought 0.45, sold 0.40, two fees
    assert trader.portfolio.holdings[(K, False)].size == 0
    assert trader.portfolio.total_cash() == 20_000 * USD - trade.unwind_cost


def test_a_partial_fill_is_completed_by_a_retry_at_the_next_level() -> None:
    books, trader = _setup()
    _open(books, no_ask=((5000, 5 * S), (5100, 5 * S)))
    (trade,) = trader.trades
    assert trade.size == 10 * S and trade.orders[1].limit == 5100
    # before the Polymarket order arrives someone takes 3 of the 5 at 0.50, and 0.52 appears
    _snap(books, N, ((4000, 10 * S),), ((5000, 2 * S), (5100, 5 * S), (5200, 10 * S)), T0 + 100 * MS)
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), T0 + 2000 * MS)
    trader.finish()
    entry, retry = trade.orders[1], trade.orders[2]
    assert (entry.status, entry.fills) == ("partially_filled", [(5000, 2 * S), (5100, 5 * S)])
    assert (retry.role, retry.limit, retry.fills) == ("retry", 5200, [(5200, 3 * S)])
    assert trade.state == "hedged" and trade.filled == [10 * S, 10 * S]
    assert trade.unwind_cost == 3 * S * (5200 - 5050)  # 3 shares at 0.52 instead of the planned 0.505 average


def test_fill_or_kill_fills_nothing_when_the_book_is_short() -> None:
    config = PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)}, tif="FOK", unwind="hold")
    books, trader = _setup(config)
    _open(books)
    _snap(books, N, ((4000, 10 * S),), ((5000, 4 * S),), T0 + 100 * MS)
    trader.finish()
    (trade,) = trader.trades
    poly = trade.orders[1]
    assert poly.status == "cancelled" and poly.filled == 0 and poly.reason.startswith("FOK")
    assert trade.state == "imbalanced"  # hold: the Kalshi leg stays unhedged


def test_taken_liquidity_is_not_offered_twice() -> None:
    books, trader = _setup()
    _open(books)
    trader.finish()
    # a second order against the same unchanged book finds the 5 shares gone
    order = dataclasses.replace(trader.trades[0].orders[1], status="working", filled=0, fills=[])
    assert isinstance(trader.execution, PaperExecution)
    assert trader.execution._match(order) == ([], 5 * S)


# -- risk limits -------------------------------------------------------------------------------


def _limits(**kw: object) -> RiskLimits:
    return dataclasses.replace(RiskLimits(max_data_age_ms=10**9), **kw)


def test_max_notional_per_pair_shrinks_the_order() -> None:
    books, trader = _setup(limits=_limits(max_notional_pair=3 * USD))
    _open(books)
    (trade,) = trader.trades
    assert trade.size == 3 * S and trader.stats.downsized == {"max_notional_pair": 1}  # $0.95 + fee per share


def test_max_notional_per_market_and_per_venue() -> None:
    books, trader = _setup(limits=_limits(max_notional_market=USD))
    _open(books)
    assert trader.trades[0].size == 2 * S and trader.stats.downsized == {"max_notional_market": 1}
    books, trader = _setup(limits=_limits(max_notional_venue=USD))
    _open(books)
    assert trader.trades[0].size == 2 * S and trader.stats.downsized == {"max_notional_venue": 1}


def test_a_size_below_one_lot_is_rejected_with_the_reason() -> None:
    books, trader = _setup(limits=_limits(max_notional_pair=USD // 2))
    _open(books)
    assert not trader.trades and trader.stats.rejections == {"max_notional_pair": 1}


def test_max_open_pairs() -> None:
    pairs = [_pair(), _pair("q", "K2", "Y2", "N2")]
    books, trader = _setup(limits=_limits(max_open_pairs=1), pairs=pairs)
    _open(books)
    trader.finish()
    _snap(books, "kalshi:K2", ((4000, 10 * S),), ((4500, 10 * S),), T0 + 10**9)
    _snap(books, "polymarket:Y2", ((4800, 10 * S),), ((5000, 10 * S),), T0 + 10**9 + 1)
    _snap(books, "polymarket:N2", ((4000, 10 * S),), ((5000, 5 * S),), T0 + 10**9 + 2)
    assert len(trader.trades) == 1 and trader.stats.rejections == {"max_open_pairs": 1}


def test_max_leg_imbalance_blocks_new_pairs_while_unhedged() -> None:
    config = PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)}, unwind="hold")
    pairs = [_pair(), _pair("q", "K2", "Y2", "N2")]
    books, trader = _setup(config, _limits(max_leg_imbalance=USD), pairs)
    _open(books)
    _snap(books, N, ((4000, 10 * S),), ((6000, 10 * S),), T0 + 100 * MS)  # the NO leg will miss
    trader.finish()
    assert trader.trades[0].state == "imbalanced"
    _snap(books, "kalshi:K2", ((4000, 10 * S),), ((4500, 10 * S),), T0 + 10**9)
    _snap(books, "polymarket:Y2", ((4800, 10 * S),), ((5000, 10 * S),), T0 + 10**9 + 1)
    _snap(books, "polymarket:N2", ((4000, 10 * S),), ((5000, 5 * S),), T0 + 10**9 + 2)
    assert len(trader.trades) == 1 and trader.stats.rejections == {"max_leg_imbalance": 1}


def test_daily_loss_limit() -> None:
    books, trader = _setup(limits=_limits(daily_loss_limit=USD))
    _open(books)
    _snap(books, N, ((4000, 10 * S),), ((6000, 10 * S),), T0 + 100 * MS)
    _snap(books, K, ((2000, 10 * S),), ((4500, 10 * S),), T0 + 300 * MS)  # the bid falls: the sale loses $1.25+
    trader.finish()
    assert trader.trades[0].unwind_cost > USD
    _snap(books, N, ((4000, 10 * S),), ((5000, 5 * S),), T0 + 5000 * MS)
    assert len(trader.trades) == 1 and trader.stats.rejections["daily_loss_limit"] >= 1


def test_stale_data_guard() -> None:
    books, trader = _setup(limits=RiskLimits(max_data_age_ms=1_000))
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), T0)
    _snap(books, Y, ((4800, 10 * S),), ((5000, 10 * S),), T0 + 1)
    _snap(books, N, ((4000, 10 * S),), ((5000, 5 * S),), T0 + 2 * 10**9)  # the Kalshi book is 2 s old
    assert not trader.trades and trader.stats.rejections == {"stale_data": 1}


def test_insufficient_cash() -> None:
    config = PaperConfig(
        latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)},
        initial_cash={"kalshi": 10_000 * USD, "polymarket": 1 * USD},
    )
    books, trader = _setup(config)
    _open(books)
    assert trader.trades[0].size == 2 * S and trader.stats.downsized == {"insufficient_cash": 1}


# -- kill switch -------------------------------------------------------------------------------


def test_kill_switch_cancels_working_orders_and_blocks_new_ones() -> None:
    books, trader = _setup()
    _open(books)
    trader.kill.engage("test")
    (trade,) = trader.trades
    assert [o.status for o in trade.orders] == ["cancelled", "cancelled"]
    assert trader.stats.cancelled_by_kill == 2 and trade.state == "missed"
    _snap(books, N, ((4000, 10 * S),), ((5000, 6 * S),), T0 + 10**9)  # the opportunity updates
    trader.kill.release()
    trader.kill.engage("again")
    _snap(books, N, ((4000, 10 * S),), ((4900, 6 * S),), T0 + 3 * 10**9)
    assert len(trader.trades) == 1 and trader.stats.rejections["kill_switch"] >= 1


def test_kill_file_engages_the_switch(tmp_path: Path) -> None:
    kill_file = tmp_path / "KILL"
    books, trader = _setup(limits=_limits(kill_file=kill_file))
    assert not trader.kill.check()
    result = CliRunner().invoke(app, ["paper", "kill", "--file", str(kill_file), "--reason", "drill"])
    assert result.exit_code == 0, result.output
    _open(books)
    assert not trader.trades and trader.stats.rejections == {"kill_switch": 1}
    assert "kill file" in trader.kill.reason


def test_http_control_endpoint_kills_and_resumes(tmp_path: Path) -> None:
    import asyncio

    import httpx

    books, trader = _setup()
    _open(books)

    async def main() -> None:
        transport = httpx.ASGITransport(app=Starlette(routes=routes(trader)))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/api/paper/status")).json()["orders_working"] == 2
            state = (await client.post("/api/paper/kill", json={"reason": "button"})).json()
            assert state["kill_switch"] == {"engaged": True, "reason": "HTTP: button"}
            assert state["orders_working"] == 0
            assert (await client.post("/api/paper/resume")).json()["kill_switch"]["engaged"] is False

    asyncio.run(main())


# -- configuration -----------------------------------------------------------------------------


def test_paper_config_tables_parse_and_name_bad_settings(tmp_path: Path) -> None:
    config = paper_config({"latency_ms": {"kalshi": 20, "polymarket": 80}, "jitter_ms": 5, "tif": "FOK",
                           "initial_cash": "500", "seed": 7})  # fmt: skip
    assert config.latency["kalshi"] == Latency(20.0, 5.0) and config.tif == "FOK"
    assert config.initial_cash == {"kalshi": 500 * USD, "polymarket": 500 * USD} and config.seed == 7
    limits = risk_limits({"max_notional_pair": "250.5", "max_open_pairs": 3, "kill_file": "/tmp/k"})
    assert limits.max_notional_pair == 250 * USD + USD // 2 and limits.max_open_pairs == 3
    with pytest.raises(ConfigError, match=r"paper\.tif"):
        paper_config({"tif": "GTC"})
    with pytest.raises(ConfigError, match=r"\[risk\] has unknown settings \['max_notional'\]"):
        risk_limits({"max_notional": "1"})
    with pytest.raises(ConfigError, match=r"risk\.daily_loss_limit"):
        risk_limits({"daily_loss_limit": "-5"})
    path = tmp_path / "paper.toml"
    path.write_text('[paper]\nunwind = "sell_back"\n[risk]\nmax_open_pairs = 2\n')
    cfg, lim = load_paper_file(path)
    assert cfg.unwind == "sell_back" and lim.max_open_pairs == 2


def test_latency_samples_are_reproducible_by_seed() -> None:
    import random

    lat = Latency(10.0, 20.0)
    a = [lat.sample_ns(random.Random(3)) for _ in range(3)]
    b = [lat.sample_ns(random.Random(3)) for _ in range(3)]
    assert a == b and all(10 * MS <= x <= 30 * MS for x in a)
    assert Latency(samples_ms=(5.0, 7.0)).sample_ns(random.Random(1)) in (5 * MS, 7 * MS)


def test_kill_switch_listeners_run_once() -> None:
    kill = KillSwitch()
    seen: list[str] = []
    kill.add_listener(seen.append)
    kill.engage("a")
    kill.engage("b")
    assert seen == ["a"] and kill.reason == "a"


# -- P&L in parts: realized, locked, mark-to-market ---------------------------------------------


def test_a_hedged_pair_bought_at_a_positive_edge_shows_locked_pnl_not_a_loss() -> None:
    from hadron.paper.control import status
    from hadron.paper.report import summary

    books, trader = _setup()
    _open(books)  # 5 Kalshi YES at 0.45 and 5 Polymarket NO at 0.50: $0.95 + fees for $1 at settlement
    trader.finish()
    (trade,) = trader.trades
    assert trade.state == "hedged"
    paid = sum(o.cost + o.fee for o in trade.orders)
    parts = trader.pnl()
    assert parts.locked == 5 * S * 10_000 - paid > 0  # size × $1 − cost − fees, exactly
    assert (parts.realized, parts.mark_to_market, parts.hedged) == (0, 0, 5 * S)
    report = summary(trader)
    # both legs at the bid (0.40 + 0.40) read as a loss; the locked payout says what the book holds
    assert report["net_pnl"] == report["unrealized_pnl"] and report["net_pnl"].startswith("-")
    assert report["locked_pnl"] == "0.25" and report["mark_to_market_pnl"] == "0" and report["realized_pnl"] == "0"
    assert report["hedged_shares"] == "5.00"
    assert {k: status(trader)[k] for k in ("realized_pnl", "locked_pnl", "mark_to_market_pnl")} == {
        "realized_pnl": "0",
        "locked_pnl": "0.25",  # fee-free markets here
        "mark_to_market_pnl": "0",
    }
    # at settlement the locked P&L becomes realized, to the money unit
    trader.on_event(MarketStatus(K, MarketState.DETERMINED, T0 + 10**9, T0 + 10**9, "no"))
    trader.on_event(MarketStatus(N, MarketState.DETERMINED, T0 + 10**9, T0 + 10**9, "yes"))
    trader.finish()
    assert trader.pnl() == type(parts)(realized=parts.locked)


def test_unhedged_shares_are_marked_to_market_and_a_partial_hedge_splits_its_cost() -> None:
    config = PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)}, unwind="hold")
    books, trader = _setup(config)
    _open(books, no_ask=((5000, 10 * S),))  # 10 of each planned
    _snap(books, N, ((4000, 10 * S),), ((5000, 7 * S),), T0 + 100 * MS)  # only 7 left when the order arrives
    trader.finish()
    (trade,) = trader.trades
    assert trade.state == "imbalanced" and trade.filled == [10 * S, 7 * S]
    kalshi, poly = trade.orders
    parts = trader.pnl()
    kalshi_basis = kalshi.cost + kalshi.fee
    hedged_cost = -(-kalshi_basis * 7 // 10) + poly.cost + poly.fee  # the Kalshi basis pro rata, rounded up
    assert parts.hedged == 7 * S and parts.locked == 7 * S * 10_000 - hedged_cost
    assert parts.mark_to_market == 3 * S * 4000 - (kalshi_basis - -(-kalshi_basis * 7 // 10))  # 3 YES at the 0.40 bid
    # together they value the open book exactly: hedged sets at $1, the rest at the bid, less every cost
    assert parts.locked + parts.mark_to_market == 7 * S * 10_000 + 3 * S * 4000 - trader.portfolio.open_cost()


def test_two_traders_on_one_book_manager_both_follow_its_clock() -> None:
    books = BookManager()
    det = ArbDetector(books, [_pair()], thresholds=Thresholds(max_age_ns=10**12), intra=False)
    cfg = PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)})
    traders = [PaperTrader(books, det, cfg, RiskLimits(max_data_age_ms=10**9)) for _ in range(2)]
    _open(books)
    assert [len(t.trades) for t in traders] == [1, 1]
    assert [o.filled for t in traders for o in t.trades[0].orders] == [0, 0, 0, 0]  # not arrived yet
    _snap(books, "kalshi:OTHER", ((4000, S),), ((4500, S),), T0 + 10**9)  # a later update: the clock moves
    for trader in traders:
        assert trader.now_ns == T0 + 10**9
        assert [o.filled for o in trader.trades[0].orders] == [5 * S, 5 * S]


def test_a_trade_shrunk_below_a_venues_minimum_order_is_not_sent() -> None:
    # Polymarket's minimum is 5 shares; the pair limit lets only 4 through: no leg is sent
    pair = _pair()
    pair.venue_fields["polymarket_min_size"] = "5"
    books = BookManager()
    terms = {pair.id: PairTerms(legs=tuple(leg_terms(leg) for leg in pair.legs))}
    det = ArbDetector(books, [pair], thresholds=Thresholds(max_age_ns=10**12), intra=False, terms=terms)
    limits = _limits(max_notional_pair=38 * USD // 10)
    config = PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)})
    trader = PaperTrader(books, det, config, limits, min_order_size={Y: 5 * S, N: 5 * S})  # as the pipeline gives
    _open(books)
    assert trader.trades == []
    assert trader.stats.rejections["below_min_order_size"] == 1


def test_a_retry_below_the_venues_minimum_order_is_not_sent_the_excess_is_sold_back() -> None:
    # the Polymarket leg fills 4.5 of 5: 0.5 more is below its 5-share minimum, so no retry goes
    # there; the Kalshi excess of 0.5 is sold back instead
    books, trader = _setup()
    trader.min_order_size = {N: 5 * S, Y: 5 * S}
    _open(books)
    _snap(books, N, ((4000, 10 * S),), ((5000, 45 * S // 10),), T0 + 100 * MS)  # 4.5 left at 0.50 before arrival
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), T0 + 2000 * MS)
    trader.finish()
    (trade,) = trader.trades
    roles = [(o.role, o.leg, o.side, o.filled) for o in trade.orders]
    assert roles == [("entry", 0, "buy", 5 * S), ("entry", 1, "buy", 45 * S // 10), ("unwind", 0, "sell", S // 2)]
    assert trade.state == "hedged"
