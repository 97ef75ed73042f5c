"""Live execution end to end against the loopback exchanges, over real sockets.

* ``hadron demo`` in ``live``, ``shadow`` and ``dry-run`` (:func:`hadron.app.demo.run_demo`): the
  trader's orders go through the venues' order gateways to the loopback Kalshi and Polymarket
  exchanges (signed, verified, matched against the books they replay), every order and fill is
  journalled in the run's SQLite state store, and the summary says whether Hadron's positions
  equal the exchanges' own account view;
* a crash between the two legs of a trade, then a restart on the same journal: the
  reconciliation reads the first leg's fill from the venue, the positions agree, the trade is
  listed unhedged; an account changed behind Hadron's back halts new orders;
* the kill switch: resting orders at both exchanges are cancelled with the venues' cancel-all.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import secrets
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from websockets.asyncio.client import connect

import hadron.app.demo as demo
from hadron.app.demo import DEMO_MARKET, demo_capture, free_port, run_demo
from hadron.app.execution import LiveDesk
from hadron.arb.detector import ArbDetector
from hadron.arb.terms import Thresholds
from hadron.book.manager import BookManager
from hadron.config import HadronConfig, KalshiConfig, PolymarketConfig, Secret
from hadron.exec.config import ExecutionConfig
from hadron.exec.live import LiveExecution
from hadron.exec.reconcile import reconcile_venue
from hadron.model.events import Level
from hadron.model.fees import NoFee
from hadron.model.orders import TERMINAL, OrderRequest, OrderState, PlaceResult
from hadron.paper.config import PaperConfig, RiskLimits
from hadron.paper.orders import PaperOrder
from hadron.paper.risk import KillSwitch
from hadron.paper.trader import PaperTrader
from hadron.store.state import StateStore, open_state_store
from hadron.store.state.records import ExecOrderRecord
from hadron.venues.base import ExchangeOptions, ExecutionVenue, FakeVenueHost, FakeVenueOptions, OrderGateway, get_venue
from hadron.venues.kalshi.auth import generate_test_key, load_signer
from hadron.venues.polymarket.fake_scenario import token_ids

S = 1_000_000
"""One contract or share (sizes are 1/1,000,000)."""
PATIENCE = 30.0
"""Seconds a wait for the loopback venues may take before the test fails (not a timing assertion)."""
KALSHI = f"kalshi:{DEMO_MARKET}"
_, YES_TOKEN, _ = token_ids(DEMO_MARKET)
POLY_YES = f"polymarket:{YES_TOKEN}"


# -- hadron demo in a trading mode ----------------------------------------------------------------


async def _demo(tmp_path: Path, execution: str, duration: float) -> dict[str, Any]:
    # One demo run at 4× the captured pace; its summary.json
    status = await run_demo(
        execution=execution, duration=duration, speed=4.0, port=0, workdir=tmp_path, install_signals=False
    )
    summary = tmp_path / "summary.json"
    assert summary.exists() and status["summary"] == str(summary)
    out: dict[str, Any] = json.loads(summary.read_text())
    return out


def _rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return list(conn.execute(query))


def _journal_unhedged(db: Path) -> set[str]:
    # Trades whose legs hold unequal sizes, straight from the journal's tables
    held: dict[str, dict[int, int]] = defaultdict(lambda: {0: 0, 1: 0})
    for trade_id, leg in _rows(db, "SELECT trade_id, leg FROM exec_orders WHERE trade_id != ''"):
        held[trade_id].setdefault(leg, 0)
    query = "SELECT o.trade_id, o.leg, o.side, f.size FROM exec_fills f JOIN exec_orders o USING (client_order_id)"
    for trade_id, leg, side, size in _rows(db, query):
        held[trade_id][leg] += size if side == "buy" else -size
    return {trade for trade, legs in held.items() if len(set(legs.values())) > 1}


@pytest.mark.asyncio
async def test_live_demo_journals_every_order_and_fill_and_matches_the_exchanges(tmp_path: Path) -> None:
    summary = await _demo(tmp_path, "live", duration=14)
    assert summary["mode"] == "live"
    assert summary["orders_sent"] > 0 and summary["fills"] > 0
    assert summary["alerts"] == [] and summary["halted"] is None
    # no order refused by Hadron's own gateway checks (an unwind's sell at "any price" included)
    assert not [reason for reason in summary["rejected"] if reason.startswith("hadron")], summary["rejected"]
    # refusals of one kind count together (no order hash or size in the key)
    assert not [reason for reason in summary["rejected"] if re.search(r"0x[0-9a-fA-F]{8}|\(\d", reason)]
    positions = summary["positions"]
    assert positions["hadron"] and positions["equal"] is True, positions
    reconciliation = summary["reconciliation"]
    assert reconciliation["positions_reconciled"] is True and reconciliation["differences"] == 0
    assert summary["still_resting"] == [] and summary["shutdown"]["still_resting"] == []

    db = tmp_path / "state.db"
    orders = _rows(db, "SELECT client_order_id, state, filled FROM exec_orders")
    fills = _rows(db, "SELECT client_order_id, fill_id, size FROM exec_fills")
    assert len(orders) == summary["orders_sent"]
    assert len(fills) == summary["fills"]
    ids = [cid for cid, _, _ in orders]
    assert len(ids) == len(set(ids))
    run = ids[0].rsplit("-", 2)[0]
    assert run.startswith("live-") and all(cid.startswith(f"{run}-t") for cid in ids)
    assert all(OrderState(state) in TERMINAL for _, state, _ in orders), orders
    filled_by_fills: dict[str, int] = defaultdict(int)
    for cid, _, size in fills:
        assert cid in ids
        filled_by_fills[cid] += size
    assert {cid: filled for cid, _, filled in orders if filled} == dict(filled_by_fills)
    # the venues' refusals are journalled; Hadron's own switches refuse before the journal
    own = ("rate", "max_order_notional", "halted", "kill_switch", "no_gateway", "journal")
    refused = sum(n for reason, n in summary["rejected"].items() if reason not in own)
    assert sum(1 for _, state, _ in orders if state == "rejected") == refused

    # each venue's report lists the same unhedged trades: those the journal's legs disagree on
    unhedged = {venue: {t["trade_id"] for t in r["unhedged"]} for venue, r in reconciliation["last"].items()}
    assert set(unhedged) == {"kalshi", "polymarket"}
    assert unhedged["kalshi"] | unhedged["polymarket"] == _journal_unhedged(db)
    print(  # the figures of the run (pytest -s)
        f"live: orders_sent={summary['orders_sent']} fills={summary['fills']} by source={summary['fills_from']} "
        f"rejected={sum(summary['rejected'].values())} by status={summary['orders_by_status']} "
        f"round trips={summary['round_trip']} unhedged={sorted(_journal_unhedged(db))}"
    )


@pytest.mark.asyncio
async def test_shadow_demo_explains_every_divergent_leg_by_the_two_latencies(tmp_path: Path) -> None:
    summary = await _demo(tmp_path, "shadow", duration=14)
    assert summary["mode"] == "shadow" and summary["fills"] > 0
    assert summary["positions"]["equal"] is True and summary["reconciliation"]["positions_reconciled"] is True
    shadow = summary["shadow"]
    assert shadow["trades_live"] > 0 and shadow["trades_paper"] > 0 and shadow["both"] > 0
    assert len(shadow["trades"]) == shadow["both"]
    diverged = 0
    for trade in shadow["trades"]:
        assert len(trade["legs"]) == 2
        for leg in trade["legs"]:
            live, paper = leg["live"], leg["paper"]
            same = live["filled"] == paper["filled"] and live["avg_price"] == paper["avg_price"]
            if same:
                assert leg["diverged"] is False and leg["why"] == ""
                continue
            diverged += 1
            assert leg["diverged"] is True
            live_ms, paper_ms = max(leg["live_round_trip_ms"], default=0), max(leg["paper_latency_ms"], default=0)
            assert leg["live_round_trip_ms"] and leg["paper_latency_ms"], leg
            assert f"{live_ms:.1f} ms" in leg["why"] and f"{paper_ms:.1f} ms" in leg["why"], leg
    assert diverged == shadow["legs_diverged"]
    print(
        f"shadow: trades live={shadow['trades_live']} paper={shadow['trades_paper']} both={shadow['both']} "
        f"legs={2 * shadow['both']} diverged={shadow['legs_diverged']} only_live={len(shadow['only_live'])} "
        f"only_paper={len(shadow['only_paper'])} pnl={shadow['pnl']} orders_sent={summary['orders_sent']} "
        f"fills={summary['fills']}"
    )


def _secrets(config: HadronConfig) -> tuple[str, list[str]]:
    # The demo's throwaway secrets: the Polymarket wallet key (hex, without 0x), and the L2 API
    # key, secret and passphrase with every line of the Kalshi private key's PEM body
    pem = Path(config.kalshi.private_key_path).read_text()
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    poly = config.polymarket
    wallet = poly.private_key.reveal()
    assert wallet.startswith("0x") and len(wallet) == 66 and len(body) > 10
    hidden = [poly.api_key.reveal(), poly.api_secret.reveal(), poly.api_passphrase.reveal(), *body]
    assert all(hidden)
    return wallet[2:].lower(), hidden


@pytest.mark.asyncio
async def test_dry_run_demo_sends_nothing_and_logs_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    made: list[HadronConfig] = []
    real_config = demo._config

    def keep_config(*args: Any, **kwargs: Any) -> HadronConfig:
        config = real_config(*args, **kwargs)
        made.append(config)
        return config

    monkeypatch.setattr(demo, "_config", keep_config)
    caplog.set_level("DEBUG")
    with capture_logs() as logs:
        summary = await _demo(tmp_path, "dry-run", duration=10)
    (config,) = made

    assert summary["mode"] == "dry-run"
    assert summary["dry_run_requests"] > 0 and summary["fills"] == 0 and summary["accepted"] == 0
    assert summary["orders_sent"] == 0 and summary["dry_run_requests"] == summary["orders"] > 0
    assert summary["rejected"] == {"dry_run": summary["orders"]}
    assert summary["orders_by_status"] == {"rejected": summary["orders"]}
    assert summary["positions"] == {"hadron": {}, "exchanges": {}, "equal": True}  # nothing filled anywhere
    journal = _rows(tmp_path / "state.db", "SELECT state, reason, mode, filled FROM exec_orders")
    assert journal and set(journal) == {("rejected", "dry_run", "dry-run", 0)}
    assert _rows(tmp_path / "state.db", "SELECT COUNT(*) FROM exec_fills") == [(0,)]
    # every request logged at warning level (shown at the default level), both venues, masked
    requests = [
        e for e in logs if e["event"] in ("kalshi dry-run request, not sent", "polymarket dry-run request, not sent")
    ]
    assert {e["event"].split()[0] for e in requests} == {"kalshi", "polymarket"}
    assert all(e["log_level"] == "warning" and "***" in json.dumps(e["headers"]) for e in requests)

    wallet, hidden = _secrets(config)
    output = capfd.readouterr()
    texts = {
        "structlog": json.dumps(logs, default=str),
        "stdout/stderr": output.out + output.err,
        "logging": caplog.text,
        "summary.json": (tmp_path / "summary.json").read_text(),
        "state.db": (tmp_path / "state.db").read_bytes().decode("latin-1"),
    }
    for where, text in texts.items():
        assert wallet not in text.lower(), where
        for secret in hidden:
            assert secret not in text, where
    print(f"dry-run: requests={summary['dry_run_requests']} logged={len(requests)} rejected={summary['rejected']}")


# -- the loopback exchanges, started directly ---------------------------------------------------


@dataclass
class Exchanges:
    """Both loopback venues with order entry on, and the settings that reach them."""

    config: HadronConfig
    kalshi: Any
    polymarket: Any
    kalshi_rest: str
    poly_rest: str
    stores: list[StateStore] = field(default_factory=list)
    gateways: list[OrderGateway] = field(default_factory=list)

    def gateway(self, venue: str) -> OrderGateway:
        """A new order gateway of ``venue`` from its adapter (its own HTTP client), closed at the end."""
        adapter = get_venue(venue)
        assert isinstance(adapter, ExecutionVenue)
        url = self.kalshi_rest if venue == "kalshi" else self.poly_rest
        gateway = adapter.order_gateway(self.config, base_url=url)
        self.gateways.append(gateway)
        return gateway

    async def store(self, path: Path) -> StateStore:
        """The SQLite state store at ``path`` (closed at the end if the test did not)."""
        store = await open_state_store(f"sqlite:///{path}")
        self.stores.append(store)
        return store

    def kalshi_position(self) -> int:
        return int(self.kalshi.exchange_account.positions().get(DEMO_MARKET, 0))


@contextlib.asynccontextmanager
async def exchanges(tmp_path: Path, kalshi_positions: dict[str, str] | None = None) -> AsyncIterator[Exchanges]:
    """Start the loopback Kalshi and Polymarket exchanges on the demo capture (as ``hadron demo
    --execution live`` does), their books held at the capture's first snapshot (a pace so slow
    that nothing else is played while a test runs); Kalshi's playback is started by a signed
    client subscribed to the private channels."""
    key, private_pem, public_pem = generate_test_key()
    private, public = tmp_path / "kalshi.pem", tmp_path / "kalshi.pub.pem"
    private.write_bytes(private_pem)
    private.chmod(0o600)
    public.write_bytes(public_pem)
    del key
    creds = (str(uuid.uuid4()), base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(), secrets.token_hex(32))
    stop = asyncio.Event()
    urls: dict[str, tuple[str, str | None]] = {}
    servers: dict[str, Any] = {}
    ready = {name: asyncio.Event() for name in ("kalshi", "polymarket")}

    def on_ready(name: str) -> Any:
        def listening(ws_url: str, rest_url: str | None) -> None:
            urls[name] = (ws_url, rest_url)
            ready[name].set()

        return listening

    common = FakeVenueOptions(captures=[demo_capture()], port=0, speed=1e-7, signals=False, stop=stop)
    kalshi_host, poly_host = get_venue("kalshi"), get_venue("polymarket")
    assert isinstance(kalshi_host, FakeVenueHost) and isinstance(poly_host, FakeVenueHost)
    kalshi_options = FakeVenueOptions(
        captures=common.captures, port=free_port(), rest_port=free_port(), speed=common.speed, signals=False,
        stop=stop, public_key=public, ready=on_ready("kalshi"), started=lambda v: servers.setdefault("kalshi", v),
        exchange=ExchangeOptions(cash="1000", latency_ms=5.0, positions=kalshi_positions or {}),
    )  # fmt: skip
    poly_options = FakeVenueOptions(
        captures=common.captures, port=free_port(), rest_port=free_port(), speed=common.speed, signals=False,
        stop=stop, user_auth=creds, ready=on_ready("polymarket"),
        started=lambda v: servers.setdefault("polymarket", v), exchange=ExchangeOptions(cash="1000", latency_ms=5.0),
    )  # fmt: skip
    tasks = [
        asyncio.ensure_future(kalshi_host.fake_venue(kalshi_options)),
        asyncio.ensure_future(poly_host.fake_venue(poly_options)),
    ]
    both = asyncio.ensure_future(asyncio.gather(*(e.wait() for e in ready.values())))
    watched: list[asyncio.Future[Any]] = [both, *tasks]
    await asyncio.wait(watched, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done():
            task.result()
    assert both.done(), "the loopback venues did not start"
    (kalshi_ws, kalshi_rest), (poly_ws, poly_rest) = urls["kalshi"], urls["polymarket"]
    assert kalshi_rest is not None and poly_rest is not None
    config = HadronConfig(
        kalshi=KalshiConfig(env="demo", api_key_id="hadron-test-key", private_key_path=str(private),
                            ws_url=kalshi_ws, rest_url=kalshi_rest),
        polymarket=PolymarketConfig(ws_url=poly_ws, rest_url=poly_rest, gamma_url="", api_key=Secret(creds[0]),
                                    api_secret=Secret(creds[1]), api_passphrase=Secret(creds[2]),
                                    private_key=Secret("0x" + secrets.token_hex(32))),
    )  # fmt: skip
    here = Exchanges(config, servers["kalshi"], servers["polymarket"], kalshi_rest, poly_rest)
    signer = load_signer(config.kalshi)
    ws = await connect(kalshi_ws, additional_headers=signer.ws_headers(), max_size=None)
    reader = asyncio.create_task(_drain(ws))
    try:
        command = {"id": 1, "cmd": "subscribe", "params": {"channels": ["fill", "user_orders", "market_positions"]}}
        await ws.send(json.dumps(command))
        deadline = time.monotonic() + PATIENCE
        while not _kalshi_book_ready(here) or not here.polymarket.exchange.books.get(YES_TOKEN):
            assert time.monotonic() < deadline, "the exchanges' books were not loaded"
            await asyncio.sleep(0.02)
        yield here
    finally:
        for gateway in here.gateways:
            with contextlib.suppress(Exception):
                await gateway.close()
        for store in here.stores:
            await store.close()
        await ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)


def _kalshi_book_ready(here: Exchanges) -> bool:
    book = here.kalshi.exchange.books.get(DEMO_MARKET)
    return book is not None and bool(book.no) and bool(book.yes)


async def _drain(ws: Any) -> None:
    with contextlib.suppress(Exception):
        async for _ in ws:
            pass


class Sink:
    """The trader's side of :class:`~hadron.exec.client.ExecutionSink`, recording what it hears."""

    def __init__(self) -> None:
        self.fills: list[tuple[str, list[Level], int]] = []
        self.done: dict[str, tuple[OrderState, str]] = {}

    def on_fills(self, order: PaperOrder, fills: list[Level], fee: int, now: int) -> None:
        self.fills.append((order.client_order_id, fills, fee))

    def on_done(self, order: PaperOrder, state: OrderState, reason: str, now: int) -> None:
        self.done[order.client_order_id] = (state, reason)


def _paper_order(cid: str, trade: str, leg: int, venue: str, instrument: str, *, from_bids: bool, limit: int,
                 size: int) -> PaperOrder:  # fmt: skip
    now = time.time_ns()
    return PaperOrder(order_id=cid, trade_id=trade, opportunity_id=f"opp-{trade}", role="entry", leg=leg, venue=venue,
                      instrument=instrument, outcome="yes", from_bids=from_bids, side="buy", limit=limit, size=size,
                      tif="IOC", created_ns=now, arrival_ns=now, fee_model=NoFee(), client_order_id=cid)  # fmt: skip


class CrashAfterAnswer:
    """A gateway whose process dies right after the venue answered an order: the answer is lost
    with every task of the engine (nothing after the send reaches the journal)."""

    def __init__(self, inner: OrderGateway, engine: list[LiveExecution]) -> None:
        self.inner = inner
        self.engine = engine
        self.venue = inner.venue
        self.dry_run = inner.dry_run
        self.answers: list[PlaceResult] = []

    async def start(self) -> None:
        await self.inner.start()

    async def place(self, orders: Any) -> list[PlaceResult]:
        self.answers = await self.inner.place(orders)
        for task in list(self.engine[0]._tasks):
            task.cancel()
        await asyncio.sleep(0)  # the cancellation lands here: the answer never reaches the engine
        raise AssertionError("not reached")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _live_config(**changes: Any) -> ExecutionConfig:
    return ExecutionConfig(mode="live", confirmed=True, fill_timeout_s=30.0, **changes)


@pytest.mark.asyncio
async def test_crash_between_two_legs_then_restart_reconciles_and_an_outside_trade_halts(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    # the account held 3 YES before Hadron first traded there (the baseline)
    async with exchanges(tmp_path, kalshi_positions={DEMO_MARKET: "3"}) as here:
        store = await here.store(db)
        kalshi, poly = here.gateway("kalshi"), here.gateway("polymarket")
        engine: list[LiveExecution] = []
        crashing = CrashAfterAnswer(kalshi, engine)
        live = LiveExecution({"kalshi": crashing, "polymarket": poly}, _live_config(), store, run_id="run-1")
        engine.append(live)
        sink = Sink()
        live.bind(sink)
        await live.start()
        for gateway, instrument in ((kalshi, KALSHI), (poly, POLY_YES)):
            baseline = await reconcile_venue(gateway, store, instruments=[instrument])
            assert baseline.ok and baseline.baseline_taken, baseline.to_json()
        assert await store.baseline("kalshi") == {KALSHI: 3 * S}

        # leg 1: buy 5 YES ≤ 0.55 on Kalshi (the book's YES ask is 0.51 × 22); the process dies as
        # the venue answers, before leg 2 (Polymarket) is sent
        live.submit(_paper_order("run-1-t1-1", "t1", 0, "kalshi", KALSHI, from_bids=False, limit=5500, size=5 * S))
        for _ in range(int(PATIENCE / 0.01)):
            if crashing.answers:
                break
            await asyncio.sleep(0.01)
        await asyncio.gather(*list(live._tasks), return_exceptions=True)
        (answer,) = crashing.answers
        assert answer.report.state is OrderState.FILLED and answer.report.filled == 5 * S
        assert here.kalshi_position() == 8 * S  # filled at the exchange
        assert sink.fills == [] and sink.done == {}  # ... unknown to the dead process
        (record,) = await store.journal_orders()
        assert record.state is OrderState.PENDING and record.venue_order_id == ""  # journalled before send
        assert await store.journal_fills() == []
        await store.close()

        # restart: a new store on the same file, new gateways
        store = await here.store(db)
        kalshi, poly = here.gateway("kalshi"), here.gateway("polymarket")
        report = await reconcile_venue(kalshi, store, instruments=[KALSHI])
        assert report.ok, report.to_json()
        assert report.orders_checked == 1 and report.orders_updated == 1 and report.fills_added >= 1
        assert report.positions[KALSHI] == {"expected": 8 * S, "venue": 8 * S}
        assert [(u["trade_id"], u["held"]) for u in report.unhedged] == [("t1", {"0": 5 * S, "1": 0})]
        (record,) = await store.journal_orders()
        assert record.state is OrderState.FILLED and record.filled == 5 * S and record.venue_order_id
        assert sum(f.size for _, f in await store.journal_fills("kalshi")) == 5 * S
        report = await reconcile_venue(poly, store, instruments=[POLY_YES])
        assert report.ok and report.positions[POLY_YES] == {"expected": 0, "venue": 0}, report.to_json()

        # the run goes on (LiveDesk on the same journal): reconciled at start, all agree
        execution = _live_config()
        desk = LiveDesk(execution, here.config, {"kalshi": [KALSHI], "polymarket": [POLY_YES]}, run_id="run-2",
                        kill=None)  # fmt: skip
        await desk.open(store)
        assert [r.ok for r in desk.reconciliations] == [True, True] and desk.live.halted is None

        # someone trades the account behind Hadron's back: not journalled
        outsider = here.gateway("kalshi")
        request = OrderRequest(client_order_id="outsider-1", venue="kalshi", instrument=KALSHI, symbol=DEMO_MARKET,
                               outcome="yes", side="buy", price=5500, size=2 * S, tif="IOC",
                               created_ns=time.time_ns())  # fmt: skip
        (placed,) = await outsider.place([request])
        assert placed.report.state is OrderState.FILLED and here.kalshi_position() == 10 * S
        report = await desk.reconcile("kalshi", "reconnect")
        assert not report.ok
        assert report.positions[KALSHI] == {"expected": 8 * S, "venue": 10 * S}
        assert report.differences == [f"{KALSHI}: Hadron expects 8.00, the venue holds 10.00 (contracts)"]
        halted = desk.live.summary()["halted"]
        assert halted is not None and halted.startswith("reconciliation (reconnect) on kalshi") and desk.live.alerts
        # new orders are refused, nothing is sent
        sent = desk.live.stats.sent
        sink = Sink()
        desk.live.bind(sink)
        desk.live.submit(_paper_order("run-2-t1-1", "t1", 0, "kalshi", KALSHI, from_bids=False, limit=5500, size=S))
        for _ in range(100):
            if sink.done:
                break
            await asyncio.sleep(0.01)
        state, reason = sink.done["run-2-t1-1"]
        assert state is OrderState.REJECTED and reason.startswith("halted: reconciliation")
        assert desk.live.stats.sent == sent and here.kalshi_position() == 10 * S
        assert desk.report()["reconciliation"]["positions_reconciled"] is False
        await desk.live.close()


@pytest.mark.asyncio
async def test_kill_switch_cancels_every_resting_order_at_both_exchanges(tmp_path: Path) -> None:
    async with exchanges(tmp_path) as here:
        store = await here.store(tmp_path / "state.db")
        gateways = {"kalshi": here.gateway("kalshi"), "polymarket": here.gateway("polymarket")}
        kill = KillSwitch()
        live = LiveExecution(gateways, _live_config(), store, run_id="run-k", kill=kill)
        books = BookManager()
        detector = ArbDetector(books, [], thresholds=Thresholds(), intra=False)
        trader = PaperTrader(books, detector, PaperConfig(), RiskLimits(), kill=kill, execution=live,
                             client_prefix="run-k-")  # fmt: skip
        await live.start()
        for gateway, instrument in ((gateways["kalshi"], KALSHI), (gateways["polymarket"], POLY_YES)):
            assert (await reconcile_venue(gateway, store, instruments=[instrument])).ok

        # a resting GTC bid at each venue, far below the book, placed and journalled as Hadron's
        resting = {
            "kalshi": OrderRequest(client_order_id="run-k-g1", venue="kalshi", instrument=KALSHI, symbol=DEMO_MARKET,
                                   outcome="yes", side="buy", price=1000, size=2 * S, tif="GTC",
                                   created_ns=time.time_ns()),
            "polymarket": OrderRequest(client_order_id="run-k-g2", venue="polymarket", instrument=POLY_YES,
                                       symbol=YES_TOKEN, outcome="yes", side="buy", price=100, size=10 * S, tif="GTC",
                                       created_ns=time.time_ns()),
        }  # fmt: skip
        for venue, request in resting.items():
            await store.journal_order(ExecOrderRecord.from_request(request, mode="live", run_id="run-k"))
            (result,) = await gateways[venue].place([request])
            assert result.report.state is OrderState.ACCEPTED, result.report
            await store.journal_order(
                ExecOrderRecord.from_request(request, mode="live", run_id="run-k", state=OrderState.ACCEPTED,
                                             venue_order_id=result.report.venue_order_id)
            )  # fmt: skip
            assert [o.client_order_id for o in await gateways[venue].open_orders()] == [request.client_order_id]
        for gateway, instrument in ((gateways["kalshi"], KALSHI), (gateways["polymarket"], POLY_YES)):
            assert (await reconcile_venue(gateway, store, instruments=[instrument])).ok  # Hadron's own orders

        trader.kill.engage("operator")
        await live.drain()
        checkers = {"kalshi": here.gateway("kalshi"), "polymarket": here.gateway("polymarket")}
        for venue, gateway in checkers.items():
            assert await gateway.open_orders() == [], venue
        report = await live.shutdown("kill switch")
        assert report["still_resting"] == []
        summary = live.summary()
        assert summary["still_resting"] == [] and summary["cancel_all_requests"] >= 2 and summary["alerts"] == []
        # the journal learns the cancellations at the next reconciliation; every venue agrees
        for gateway, instrument in ((checkers["kalshi"], KALSHI), (checkers["polymarket"], POLY_YES)):
            reconciled = await reconcile_venue(gateway, store, instruments=[instrument])
            assert reconciled.ok and reconciled.orders_updated == 1, reconciled.to_json()
        assert {r.state for r in await store.journal_orders()} == {OrderState.CANCELLED}


@pytest.mark.asyncio
async def test_a_polymarket_order_whose_answer_died_with_the_process_is_found_by_its_hash(tmp_path: Path) -> None:
    # Polymarket has no client order id: the restart rebuilds the order's hash (salt and timestamp
    # derive from the journalled request) and finds the order, its fills and the position
    db = tmp_path / "state.db"
    async with exchanges(tmp_path) as here:
        store = await here.store(db)
        poly = here.gateway("polymarket")
        engine: list[LiveExecution] = []
        crashing = CrashAfterAnswer(poly, engine)
        live = LiveExecution({"polymarket": crashing}, _live_config(), store, run_id="run-1")
        engine.append(live)
        live.bind(Sink())
        await live.start()
        assert (await reconcile_venue(poly, store, instruments=[POLY_YES])).ok
        live.submit(
            _paper_order("run-1-t1-2", "t1", 1, "polymarket", POLY_YES, from_bids=False, limit=9900, size=5 * S)
        )
        for _ in range(int(PATIENCE / 0.01)):
            if crashing.answers:
                break
            await asyncio.sleep(0.01)
        await asyncio.gather(*list(live._tasks), return_exceptions=True)
        (answer,) = crashing.answers
        assert answer.report.filled > 0, answer
        (record,) = await store.journal_orders()
        assert record.state is OrderState.PENDING and record.venue_order_id == ""
        await store.close()

        store = await here.store(db)
        fresh = here.gateway("polymarket")  # knows nothing of the order
        report = await reconcile_venue(fresh, store, instruments=[POLY_YES], at_start=True)
        assert report.ok, report.to_json()
        assert report.orders_updated == 1 and report.fills_added >= 1
        (record,) = await store.journal_orders()
        assert record.venue_order_id == answer.report.venue_order_id and record.state.terminal
        held = report.positions[POLY_YES]
        assert held["expected"] == held["venue"] == answer.report.filled


@pytest.mark.asyncio
async def test_at_start_an_order_the_venue_never_saw_is_rejected_not_left_pending(tmp_path: Path) -> None:
    async with exchanges(tmp_path) as here:
        store = await here.store(tmp_path / "state.db")
        kalshi = here.gateway("kalshi")
        request = OrderRequest(client_order_id="run-1-t9-1", venue="kalshi", instrument=KALSHI, symbol=DEMO_MARKET,
                               outcome="yes", side="buy", price=5500, size=S, tif="IOC",
                               created_ns=time.time_ns())  # fmt: skip
        await store.journal_order(ExecOrderRecord.from_request(request, mode="live", run_id="run-1"))
        report = await reconcile_venue(kalshi, store, instruments=[KALSHI], at_start=True)
        assert report.ok and report.orders_updated == 1
        (record,) = await store.journal_orders()
        assert record.state is OrderState.REJECTED and record.reason == "unknown at venue"
