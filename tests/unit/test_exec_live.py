"""Live execution engine over an in-memory venue: journal before send, fills from every source
counted once, the switches that refuse an order, the kill switch, reconciliation, live = paper."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from hadron.arb.detector import ArbDetector
from hadron.arb.terms import Thresholds
from hadron.book.manager import BookManager
from hadron.config import load_config
from hadron.errors import ConfigError
from hadron.exec.config import ExecutionConfig, execution_config
from hadron.exec.journal import MemoryJournal
from hadron.exec.live import LiveExecution
from hadron.exec.reconcile import held_by_hadron, reconcile_venue
from hadron.match.pairs import Pair
from hadron.model.account import AccountFill, OrderSide, Outcome
from hadron.model.events import BookSnapshot
from hadron.model.orders import (
    ExecFill,
    ExecReport,
    OrderRequest,
    OrderState,
    OrderStateError,
    PlaceResult,
    VenueOrder,
    check_transition,
)
from hadron.model.units import PRICE_ONE
from hadron.paper.config import Latency, PaperConfig, RiskLimits
from hadron.paper.risk import KillSwitch
from hadron.paper.trader import PaperTrader

S = 1_000_000
T0 = 1_786_000_000 * 10**9
K, Y, N = "kalshi:K", "polymarket:Y", "polymarket:N"


class BookGateway:
    """A venue that matches each order against the shared books when it arrives (no latency)."""

    def __init__(self, venue: str, books: BookManager, journal: MemoryJournal, *, fills_in_answer: bool = True) -> None:
        self.venue = venue
        self.dry_run = False
        self.books = books
        self.journal = journal
        self.fills_in_answer = fills_in_answer
        self.placed: list[OrderRequest] = []
        self.journalled_before_send: list[bool] = []
        self.all_fills: list[ExecFill] = []
        self.positions_held: dict[str, int] = {}
        self.resting: list[VenueOrder] = []
        self.cancel_all_calls = 0
        self.fail_next = False

    async def start(self) -> None:
        return None

    async def place(self, orders: Sequence[OrderRequest]) -> list[PlaceResult]:
        if self.fail_next:
            self.fail_next = False
            raise OSError("connection reset")
        out = []
        for req in orders:
            self.journalled_before_send.append(req.client_order_id in self.journal.orders)
            self.placed.append(req)
            book = self.books.get(req.instrument)
            assert book is not None
            levels = [(PRICE_ONE - p, s) for p, s in book.levels_bid()] if req.outcome == "no" else book.levels_ask()
            wanted, fills = req.size, []
            for price, size in levels:
                if wanted <= 0 or price > req.price:
                    break
                take = min(size, wanted)
                wanted -= take
                fill = ExecFill(client_order_id=req.client_order_id, venue_order_id=f"v-{req.client_order_id}",
                                fill_id=f"f{len(self.all_fills)}", price=price, size=take, fee=0,
                                ts_event=T0)  # fmt: skip
                fills.append(fill)
                self.all_fills.append(fill)
                sign = -1 if req.outcome == "no" else 1
                self.positions_held[req.instrument] = self.positions_held.get(req.instrument, 0) + sign * take
            filled = req.size - wanted
            state = OrderState.FILLED if wanted == 0 else OrderState.CANCELLED
            if req.tif == "FOK" and wanted:
                state, fills, filled = OrderState.CANCELLED, [], 0
            report = ExecReport(client_order_id=req.client_order_id, venue_order_id=f"v-{req.client_order_id}",
                                state=state, filled=filled)  # fmt: skip
            out.append(PlaceResult(report=report, fills=fills if self.fills_in_answer else []))
        return out

    async def cancel(self, venue_order_ids: Sequence[str]) -> list[ExecReport]:
        return []

    async def cancel_all(self) -> list[str]:
        self.cancel_all_calls += 1
        ids = [o.venue_order_id for o in self.resting]
        self.resting = []
        return ids

    async def open_orders(self) -> list[VenueOrder]:
        return list(self.resting)

    async def order(self, client_order_id: str, venue_order_id: str = "") -> VenueOrder | None:
        for req in self.placed:
            if req.client_order_id == client_order_id:
                filled = sum(f.size for f in self.all_fills if f.client_order_id == client_order_id)
                state = OrderState.FILLED if filled == req.size else OrderState.CANCELLED
                return VenueOrder(venue_order_id=f"v-{client_order_id}", client_order_id=client_order_id,
                                  instrument=req.instrument, outcome=req.outcome, side=req.side, price=req.price,
                                  size=req.size, filled=filled, state=state)  # fmt: skip
        return None

    async def recall(self, request: OrderRequest) -> str:
        return ""

    async def fills(self, since_ns: int) -> list[ExecFill]:
        return list(self.all_fills)

    async def positions(self, symbols: Sequence[str]) -> dict[str, int]:
        return {s: self.positions_held.get(s, 0) for s in symbols}

    async def balance(self) -> int:
        return 10**9

    async def close(self) -> None:
        return None


def _pair() -> Pair:
    return Pair(kalshi_event="E", polymarket_event="P", relation="identity", confidence=1.0, kalshi_market="K",
                polymarket_yes_token="Y", polymarket_no_token="N", status="approved", id="p")  # fmt: skip


def _snap(books: BookManager, inst: str, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...],
          t: int) -> None:  # fmt: skip
    books.apply_snapshot(BookSnapshot(inst, bids, asks, t, t))


def _open(books: BookManager, t: int = T0) -> None:
    # Kalshi YES ask 0.45 × 10 and Polymarket NO ask 0.50 × 5: buy 5 of each for $0.95
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), t)
    _snap(books, Y, ((4800, 10 * S),), ((5000, 10 * S),), t + 1)
    _snap(books, N, ((4000, 10 * S),), ((5000, 5 * S),), t + 2)


def _live(
    cfg: ExecutionConfig | None = None, **gw: bool
) -> tuple[BookManager, PaperTrader, LiveExecution, dict[str, BookGateway], MemoryJournal]:
    books = BookManager()
    journal = MemoryJournal()
    gateways = {v: BookGateway(v, books, journal, **gw) for v in ("kalshi", "polymarket")}
    kill = KillSwitch()
    live = LiveExecution(gateways, cfg or ExecutionConfig(mode="live", confirmed=True, fill_timeout_s=0.05), journal,
                         run_id="r1", kill=kill, clock=lambda: T0)  # fmt: skip
    det = ArbDetector(books, [_pair()], thresholds=Thresholds(max_age_ns=10**12), intra=False)
    trader = PaperTrader(books, det, PaperConfig(), RiskLimits(max_data_age_ms=10**9), kill=kill, execution=live,
                         client_prefix="r1-")  # fmt: skip
    return books, trader, live, gateways, journal


async def _settle(live: LiveExecution) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
        await live.drain(within_s=1.0)


def test_state_machine_refuses_moves_back() -> None:
    check_transition(OrderState.PENDING, OrderState.ACCEPTED)
    check_transition(OrderState.PARTIALLY_FILLED, OrderState.PARTIALLY_FILLED)
    for old, new in ((OrderState.FILLED, OrderState.CANCELLED), (OrderState.ACCEPTED, OrderState.PENDING)):
        with pytest.raises(OrderStateError):
            check_transition(old, new)


@pytest.mark.asyncio
async def test_both_legs_are_journalled_then_sent_and_filled() -> None:
    books, trader, live, gateways, journal = _live()
    _open(books)
    await _settle(live)
    (trade,) = trader.trades
    assert trade.state == "hedged" and [o.filled for o in trade.orders] == [5 * S, 5 * S]
    assert all(g.journalled_before_send == [True] for g in gateways.values())
    sent = [g.placed[0] for g in gateways.values()]
    assert [r.client_order_id for r in sent] == ["r1-t1-1", "r1-t1-2"]
    assert [(r.outcome, r.side, r.tif) for r in sent] == [("yes", "buy", "IOC"), ("yes", "buy", "IOC")]
    assert {o.state for o in trade.orders} == {OrderState.FILLED}
    rows = await journal.journal_orders()
    assert [(r.client_order_id, r.state, r.filled) for r in rows] == [
        ("r1-t1-1", OrderState.FILLED, 5 * S),
        ("r1-t1-2", OrderState.FILLED, 5 * S),
    ]
    assert len(journal.fills) == 2
    assert live.summary()["fills_from"] == {"answer": 2}


@pytest.mark.asyncio
async def test_fills_from_the_private_channel_count_once_and_rest_fills_the_gap() -> None:
    books, trader, live, gateways, _ = _live(fills_in_answer=False)
    _open(books)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # the Kalshi fill arrives on the private channel (YES terms), twice; Polymarket's never does
    kalshi = gateways["kalshi"].all_fills[0]
    event = AccountFill(venue="kalshi", instrument=K, fill_id=kalshi.fill_id, order_id=kalshi.venue_order_id,
                        client_order_id=kalshi.client_order_id, outcome=Outcome.YES, side=OrderSide.BUY,
                        price=kalshi.price, size=kalshi.size, fee=7, taker=True, ts_event=T0, ts_recv=T0)  # fmt: skip
    live.on_account(event)
    live.on_account(event)
    await _settle(live)
    (trade,) = trader.trades
    assert trade.state == "hedged"
    assert trade.orders[0].fee == 7 * 10_000  # cash 1/1e6 → money 1/1e10
    assert live.summary()["fills_from"] == {"channel": 1, "rest": 1}
    assert live.halted is None


@pytest.mark.asyncio
async def test_switches_refuse_before_anything_is_sent() -> None:
    cfg = ExecutionConfig(mode="live", confirmed=True, max_order_notional={"kalshi": 10**10}, fill_timeout_s=0.05)
    books, trader, live, gateways, journal = _live(cfg)
    _open(books)
    await _settle(live)
    (trade,) = trader.trades
    assert trade.orders[0].status == "rejected" and trade.orders[0].reason.startswith("max_order_notional")
    assert gateways["kalshi"].placed == []
    assert "r1-t1-1" not in journal.orders
    live.halt("reconciliation difference")
    _snap(books, K, ((4000, 10 * S),), ((4400, 10 * S),), T0 + 10**10)
    assert trader.stats.rejections["halted"] >= 1


def test_live_needs_the_confirmation_variable() -> None:
    cfg = execution_config({"mode": "live"})
    with pytest.raises(ConfigError, match="HADRON_LIVE=1"):
        cfg.check({})
    cfg.check({"HADRON_LIVE": "1"})
    execution_config({"mode": "dry-run"}).check({})
    with pytest.raises(ConfigError, match=r"execution\.mode"):
        execution_config({"mode": "yolo"})
    with pytest.raises(ConfigError, match="unknown settings"):
        execution_config({"mdoe": "live"})


@pytest.mark.asyncio
async def test_kill_switch_cancels_resting_orders_at_every_venue() -> None:
    _books, trader, live, gateways, _ = _live()
    gateways["kalshi"].resting = [
        VenueOrder(
            venue_order_id="rest-1",
            client_order_id="r1-x",
            instrument=K,
            outcome="yes",
            side="buy",
            price=4000,
            size=S,
            filled=0,
            state=OrderState.ACCEPTED,
        )
    ]
    trader.kill.engage("operator")
    await _settle(live)
    assert [g.cancel_all_calls for g in gateways.values()] == [1, 1]
    report = await live.shutdown()
    assert report["still_resting"] == []


@pytest.mark.asyncio
async def test_a_send_that_fails_asks_the_venue_for_the_order() -> None:
    books, trader, live, gateways, _ = _live()
    gateways["polymarket"].fail_next = True
    _open(books)
    await _settle(live)
    (trade,) = trader.trades
    # the venue never got it: the leg is rejected and the unwind policy runs on the other
    assert trade.orders[1].status == "rejected" and "venue_error" in trade.orders[1].reason
    assert live.halted is None


@pytest.mark.asyncio
async def test_crash_between_legs_then_restart_reconciles_to_the_venue() -> None:
    books, _trader, live, gateways, journal = _live(fills_in_answer=False)
    baseline = await reconcile_venue(gateways["kalshi"], journal, instruments=[K])
    assert baseline.ok and baseline.baseline_taken
    _open(books)
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the Kalshi order reached the venue and filled; the process dies now
    for task in list(live._tasks):
        task.cancel()
    assert gateways["kalshi"].all_fills and not journal.fills
    # a new process on the same journal, the venue unchanged
    report = await reconcile_venue(gateways["kalshi"], journal, instruments=[K])
    assert report.ok, report.differences
    assert report.fills_added == 1 and report.positions[K] == {"expected": 5 * S, "venue": 5 * S}
    (unhedged,) = report.unhedged
    assert (unhedged["run_id"], unhedged["trade_id"], unhedged["held"]) == ("r1", "t1", {"0": 5 * S, "1": 0})
    assert [(leg["venue"], leg["held"]) for leg in unhedged["legs"]] == [("kalshi", "5.00"), ("polymarket", "0.00")]
    # someone else trades the account: a difference, not a silent fix
    gateways["kalshi"].positions_held[K] += S
    report = await reconcile_venue(gateways["kalshi"], journal, instruments=[K])
    assert not report.ok and "Hadron expects" in report.differences[0]


@pytest.mark.asyncio
async def test_live_and_paper_agree_on_the_same_books_without_latency() -> None:
    books, trader, live, _, _ = _live()
    paper_books = BookManager()
    det = ArbDetector(paper_books, [_pair()], thresholds=Thresholds(max_age_ns=10**12), intra=False)
    zero = {"kalshi": Latency(0.0), "polymarket": Latency(0.0)}
    paper = PaperTrader(paper_books, det, PaperConfig(latency=zero), RiskLimits(max_data_age_ms=10**9))
    for b in (books, paper_books):
        _open(b)
    paper.finish()
    await _settle(live)
    assert [(o.instrument, o.filled, o.cost, o.status) for o in trader.orders] == [
        (o.instrument, o.filled, o.cost, o.status) for o in paper.orders
    ]


def test_a_moved_market_channel_takes_the_user_channel_along(tmp_path: Path) -> None:
    # Otherwise the user channel's login (the API credentials) would go to Polymarket itself
    moved = tmp_path / "moved.toml"
    moved.write_text('[polymarket]\nws_url = "ws://127.0.0.1:8811/ws/market"\n')
    assert load_config(moved).polymarket.user_ws_url == "ws://127.0.0.1:8811/ws/user"
    both = tmp_path / "both.toml"
    both.write_text('[polymarket]\nws_url = "ws://127.0.0.1:8811/ws/market"\nuser_ws_url = "ws://10.0.0.2/u"\n')
    assert load_config(both).polymarket.user_ws_url == "ws://10.0.0.2/u"
    assert load_config(None).polymarket.user_ws_url.startswith("wss://ws-subscriptions-clob.polymarket.com")


@pytest.mark.asyncio
async def test_a_restart_carries_what_earlier_runs_hold() -> None:
    books, _trader, live, gateways, journal = _live()
    assert (await reconcile_venue(gateways["kalshi"], journal, instruments=[K])).ok
    _open(books)
    await _settle(live)
    report = await reconcile_venue(gateways["kalshi"], journal, instruments=[K])
    assert report.ok
    assert await held_by_hadron(journal, report) == [(K, False, 5 * S, 4500)]  # 5 YES at 0.45


@pytest.mark.asyncio
async def test_the_rate_cap_never_holds_back_a_retry_or_a_sale() -> None:
    cfg = ExecutionConfig(mode="live", confirmed=True, max_orders_per_s={"kalshi": 1.0}, fill_timeout_s=0.05)
    books, trader, live, _gateways, _ = _live(cfg)
    _open(books)
    await _settle(live)
    (trade,) = trader.trades
    order = trade.orders[0]
    entry = dataclasses.replace(order, order_id="x-1", client_order_id="x-1", status="working", filled=0, fills=[])
    unwind = dataclasses.replace(entry, order_id="x-2", client_order_id="x-2", role="unwind", side="sell", limit=0)
    assert live._refusal(entry, T0) == "rate: execution.max_orders_per_s reached"
    assert live._refusal(unwind, T0) is None
