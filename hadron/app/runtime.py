"""The live runtime: feeds, books, arbitrage, paper trading, stores and the dashboard in one process.

``hadron run --config hadron.toml`` builds a :class:`Runtime` from :class:`~hadron.config.HadronConfig`:

* the approved pairs of ``runtime.pairs`` choose what to stream: their Kalshi markets on the
  Kalshi feed, their Polymarket tokens (and every ``[[outcome_set]]`` token) on the Polymarket
  feed, both through the venue registry into one :class:`~hadron.book.BookManager`;
* the :class:`~hadron.arb.detector.ArbDetector` watches the books; with ``runtime.paper`` the
  :class:`~hadron.paper.trader.PaperTrader` takes its opportunities under ``[risk]``;
* opportunities, orders, fills, positions and balances go to the state store (``runtime.state``);
  raw frames to ``runtime.record_dir``; ticks to ``runtime.tick_store``;
* one HTTP server on ``runtime.host:port`` serves the dashboard (pushed over a WebSocket), the
  control endpoint (``/api/status``, ``/api/stop``, ``/api/paper/*``) and ``/metrics``. Bound
  beyond loopback it refuses to start without ``runtime.control_token``.

Lifecycle: ``starting`` → ``running`` → ``stopping`` → ``stopped``. SIGINT, SIGTERM or
``POST /api/stop`` stop it: working paper orders are cancelled, the sinks drain, the state store
marks the run finished, then the feeds and the server close.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import structlog

from hadron.app.memory import trim_memory
from hadron.arb.detector import ArbConfig, ArbDetector, _thresholds, load_arb_config
from hadron.arb.opportunity import money_text
from hadron.arb.persist import OpportunitySink
from hadron.book.manager import BookManager, BookState
from hadron.config import HadronConfig, effective
from hadron.errors import ConfigError, HadronError
from hadron.metrics import FrameLatency
from hadron.model.events import MarketEvent
from hadron.model.units import format_price, format_size
from hadron.paper.config import paper_config, risk_limits
from hadron.paper.persist import PaperStoreSink
from hadron.paper.trader import PaperTrader
from hadron.store.deadletter import DeadLetterFile
from hadron.store.state import Run as StateRun
from hadron.store.state import RunMode, StateStore, open_state_store
from hadron.venues.base import LiveFeed, LiveVenue, get_venue

log = structlog.get_logger("hadron.runtime")

STATES = ("starting", "running", "stopping", "stopped")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _book_view(books: BookManager, instrument: str, depth: int = 5) -> dict[str, Any]:
    book = books.get(instrument)
    if book is None:
        return {"instrument": instrument, "state": "none", "bids": [], "asks": [], "age_s": None}
    now = time.time_ns()
    return {
        "instrument": instrument,
        "state": book.state.value,
        "bids": [[format_price(p), format_size(s)] for p, s in book.levels_bid(depth)],
        "asks": [[format_price(p), format_size(s)] for p, s in book.levels_ask(depth)],
        "age_s": round((now - book.ts_recv) / 1e9, 3) if book.ts_recv else None,
    }


class Runtime:
    """Everything ``hadron run --config`` runs, with an explicit lifecycle (see the module docstring).

    Args:
        config: the loaded settings.
        arb: the pairs and thresholds (default: read from ``config.runtime.pairs``).

    Raises:
        ConfigError: no pairs file, no approved pairs, a bad ``[paper]``/``[risk]``/``[thresholds]``
            setting, or a non-loopback bind without a control token.
    """

    def __init__(self, config: HadronConfig, arb: ArbConfig | None = None) -> None:
        rt = config.runtime
        if arb is None:
            if not rt.pairs:
                raise ConfigError("runtime.pairs is not set: give the reviewed pairs file (hadron markets review)")
            arb = load_arb_config(Path(rt.pairs))
        if config.tables.get("thresholds"):
            thresholds = _thresholds(config.tables["thresholds"], Path(config.source or "[thresholds]"))
            arb = ArbConfig(arb.pairs, arb.terms, arb.outcome_sets, thresholds)
        if rt.port and not is_loopback(rt.host) and not rt.control_token:
            raise ConfigError(
                f"runtime.host is {rt.host}, beyond loopback: set runtime.control_token (or HADRON_CONTROL_TOKEN)"
            )
        self.config = config
        self.arb = arb
        self.state = "starting"
        self.started_ns = time.time_ns()
        self.run_id = f"live-{uuid.uuid4().hex[:12]}"
        self.books = BookManager()
        self.detector = ArbDetector.from_config(self.books, arb, clock=time.time_ns, keep_closed=500)
        self.trader: PaperTrader | None = None
        if rt.paper:
            self.trader = PaperTrader(
                self.books,
                self.detector,
                paper_config(config.tables.get("paper", {})),
                risk_limits(config.tables.get("risk", {})),
            )
        self.kalshi_markets = sorted({p.kalshi_market for p in arb.pairs if p.tradeable})
        tokens = {t for p in arb.pairs if p.tradeable for t in (p.polymarket_yes_token, p.polymarket_no_token) if t}
        tokens |= {t for s in arb.outcome_sets for t in s.tokens}
        self.polymarket_tokens = sorted(tokens)
        if not self.kalshi_markets and not self.polymarket_tokens:
            raise ConfigError(f"{rt.pairs}: no approved pairs to stream (review them with hadron markets review)")
        self.dead_letter = DeadLetterFile(Path(rt.dead_letter))
        self.feeds: list[LiveFeed] = []
        self.stop_event = asyncio.Event()
        self.store: StateStore | None = None
        self.opportunity_sink: OpportunitySink | None = None
        self.paper_sink: PaperStoreSink | None = None
        self._fps: dict[str, float] = {}
        self._last_frames: dict[str, tuple[int, float]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._ticks: Any = None
        self.errors: list[str] = []

    # -- wiring ------------------------------------------------------------------------------

    def _on_event(self, event: MarketEvent) -> None:
        if self._ticks is not None:
            self._ticks.on_event(event)
        if self.trader is not None:
            self.trader.on_event(event)

    def _open_feeds(self) -> None:
        rt = self.config.runtime
        record = Path(rt.record_dir) if rt.record_dir else None
        for venue, instruments in (("kalshi", self.kalshi_markets), ("polymarket", self.polymarket_tokens)):
            if not instruments:
                continue
            adapter = get_venue(venue)
            if not isinstance(adapter, LiveVenue):
                raise ConfigError(f"venue {venue} cannot stream live")
            self.feeds.append(
                adapter.live_feed(
                    self.books,
                    instruments,
                    config=self.config,
                    on_event=self._on_event,
                    record_dir=record,
                    dead_letter=self.dead_letter,
                )
            )

    async def _open_stores(self) -> None:
        rt = self.config.runtime
        if rt.tick_store:
            from hadron.store.parquet import ParquetTickStore, parse_store_url

            self._ticks = ParquetTickStore(parse_store_url(rt.tick_store))
        if rt.state:
            self.store = await open_state_store(rt.state)
            await self.store.__aenter__()
            config_json = msgspec.json.encode(effective(self.config)).decode()
            mode: RunMode = "paper" if self.trader is not None else "live"
            await self.store.start_run(StateRun(self.run_id, self.started_ns, None, mode, config_json, "running"))
        self.opportunity_sink = OpportunitySink(store=self.store, run_id=self.run_id)
        self.detector.add_listener(self.opportunity_sink.on_change)
        self._tasks.append(asyncio.create_task(self.opportunity_sink.run()))
        if self.store is not None and self.trader is not None:
            self.paper_sink = PaperStoreSink(self.store, self.run_id, self.trader)
            self._tasks.append(asyncio.create_task(self.paper_sink.run()))

    # -- running -----------------------------------------------------------------------------

    async def run(self, *, install_signals: bool = True) -> dict[str, Any]:
        """Run until stopped (signal, ``POST /api/stop`` or :meth:`stop`); return the final status.

        Raises:
            HadronError: a feed failed for good (refused credentials) or a store could not open.
        """
        if install_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.stop)
        server = None
        feed_tasks: list[asyncio.Task[None]] = []
        try:
            await self._open_stores()
            self._open_feeds()
            if self.config.runtime.port:
                from hadron.app.dashboard import serve

                server = await serve(self)
            feed_tasks = [asyncio.create_task(self._feed(feed)) for feed in self.feeds]
            self._tasks.append(asyncio.create_task(self._housekeeping()))
            if self.trader is not None and self.config.runtime.settle_poll_s > 0:
                self._tasks.append(asyncio.create_task(self._settlement_poller()))
            self.state = "running"
            log.info("runtime running", kalshi=len(self.kalshi_markets), polymarket=len(self.polymarket_tokens),
                     url=self.url)  # fmt: skip
            await self.stop_event.wait()
        finally:
            self.state = "stopping"
            await self._shutdown(feed_tasks, server)
            self.state = "stopped"
        return self.status()

    async def _feed(self, feed: LiveFeed) -> None:
        try:
            await feed.run(self.stop_event)
        except HadronError as exc:
            self.errors.append(f"{feed.venue}: {exc}")
            log.error("feed stopped for good", venue=feed.venue, error=str(exc))

    def stop(self) -> None:
        """Ask the runtime to stop (idempotent)."""
        self.stop_event.set()

    async def _shutdown(self, feed_tasks: list[asyncio.Task[None]], server: Any) -> None:
        self.stop_event.set()
        if self.trader is not None:
            cancelled = self.trader.cancel_working("runtime stopping")
            log.info("paper orders cancelled", orders=cancelled)
        if feed_tasks:
            await asyncio.gather(*feed_tasks, return_exceptions=True)
        if self.opportunity_sink is not None:
            await self.opportunity_sink.close()
        if self.paper_sink is not None:
            await self.paper_sink.close()
        housekeeping = [t for t in self._tasks if not t.done()]
        _, pending = await asyncio.wait(housekeeping, timeout=10) if housekeeping else (set(), set())
        for task in pending:
            task.cancel()
        if self.store is not None:
            with contextlib.suppress(HadronError):
                await self.store.finish_run(self.run_id, ended_ns=time.time_ns(), status="stopped")
            await self.store.__aexit__(None, None, None)
        if self._ticks is not None:
            self._ticks.close()
        self.dead_letter.close()
        if server is not None:
            await server.close()

    async def _housekeeping(self) -> None:
        # Staleness sweep, the paper trader's wall clock, frames/s per connection
        stale_ns = self.config.runtime.stale_after_s * 10**9
        trim_ticks = self.config.runtime.trim_memory_s * 20
        tick = 0
        while not self.stop_event.is_set():
            await asyncio.sleep(0.05)
            now = time.time_ns()
            if self.trader is not None:
                self.trader.advance(now)
            tick += 1
            if trim_ticks and tick % trim_ticks == 0:
                trim_memory()
            if tick % 20 == 0:
                for book in self.books.mark_stale(now, stale_ns):
                    log.warning("book stale", instrument=book)
                self._sample_rates()
                if self.trader is not None and not self.trader.kill.engaged and self.trader.kill.check():
                    log.warning("kill switch engaged", reason=self.trader.kill.reason)

    async def _settlement_poller(self) -> None:
        # Paper positions in Kalshi markets settle from REST results too (and their paired tokens)
        interval = self.config.runtime.settle_poll_s
        while not self.stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), interval)
            if self.stop_event.is_set():
                return
            await self.settle_held()

    async def settle_held(self) -> int:
        """Ask Kalshi's REST how the held markets resolved and settle them (and the Polymarket
        tokens of their approved pairs); return how many instruments were settled."""
        from hadron.paper.settlement import Settlement, derived_settlements
        from hadron.venues.base import ResultsVenue

        trader = self.trader
        adapter = get_venue("kalshi")
        if trader is None or not isinstance(adapter, ResultsVenue):
            return 0
        held = sorted({h.instrument[len("kalshi:") :] for h in trader.portfolio.holdings.values()
                       if h.instrument.startswith("kalshi:") and h.size and not h.settled})  # fmt: skip
        if not held:
            return 0
        try:
            results = await adapter.market_results(held, config=self.config)
        except HadronError as exc:
            log.warning("market results not available", error=str(exc))
            return 0
        now = time.time_ns()
        rows = [Settlement(f"kalshi:{ticker}", result, now) for ticker, result in results.items()]
        rows += derived_settlements(rows, self.arb.pairs)
        for row in rows:
            trader.settle_at(row.instrument, row.result, now)
        trader.advance(now)
        return len(rows)

    def _sample_rates(self) -> None:
        now = time.monotonic()
        for feed in self.feeds:
            for conn in feed.health()["connections"]:
                frames, then = self._last_frames.get(conn["name"], (conn["frames"], now))
                if now > then:
                    self._fps[conn["name"]] = (conn["frames"] - frames) / (now - then)
                self._last_frames[conn["name"]] = (conn["frames"], now)

    # -- views -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The dashboard's URL."""
        rt = self.config.runtime
        return f"http://{rt.host}:{rt.port}/" if rt.port else ""

    def feeds_view(self) -> dict[str, Any]:
        """Feed health per venue and connection."""
        now = time.time_ns()
        out: dict[str, Any] = {}
        for feed in self.feeds:
            health = feed.health()
            stats = feed.stats
            connections = [
                {
                    **c,
                    "fps": round(self._fps.get(c["name"], 0.0), 1),
                    "last_frame_age_s": round((now - c["last_frame_ns"]) / 1e9, 2) if c["last_frame_ns"] else None,
                }
                for c in health["connections"]
            ]
            latency: FrameLatency = health["latency"]
            out[feed.venue] = {
                "connected": sum(1 for c in connections if c["connected"]),
                "connections": connections,
                "frames": stats.frames,
                "decode_errors": stats.decode_errors,
                "gaps": stats.seq_gaps,
                "resyncs": stats.resync_requests,
                "reconnects": sum(c["reconnects"] for c in connections),
                "frozen": health["frozen"],
                "latency_p50_us": latency.quantile(0.5),
                "latency_p99_us": latency.quantile(0.99),
            }
        return out

    def pairs_view(self) -> list[dict[str, Any]]:
        """Each tradeable pair with its books side by side (top 5 levels)."""
        out = []
        for pair in self.arb.pairs:
            if not pair.tradeable:
                continue
            out.append(
                {
                    "id": pair.id,
                    "relation": pair.relation,
                    "kalshi": _book_view(self.books, f"kalshi:{pair.kalshi_market}"),
                    "polymarket_yes": _book_view(self.books, f"polymarket:{pair.polymarket_yes_token}"),
                    "polymarket_no": _book_view(self.books, f"polymarket:{pair.polymarket_no_token}")
                    if pair.polymarket_no_token
                    else None,
                }
            )
        return out

    def opportunities_view(self) -> dict[str, Any]:
        """Open opportunities and the last closed ones."""
        now = time.time_ns()

        def view(o: Any) -> dict[str, Any]:
            return {
                "id": o.id,
                "kind": o.kind,
                "direction": o.direction,
                "size": format_size(o.size),
                "net": money_text(o.net),
                "edge": money_text(o.edge),
                "peak": money_text(o.peak_net),
                "cost": money_text(o.cost),
                "age_s": round(((o.closed_ns or now) - o.opened_ns) / 1e9, 2),
                "closed": o.closed_ns is not None,
                "close_reason": o.close_reason,
            }

        return {
            **self.detector.summary(),
            "open": [view(o) for o in self.detector.open.values()],
            "closed": [view(o) for o in list(self.detector.closed)[-10:]][::-1],
        }

    def paper_view(self) -> dict[str, Any] | None:
        """The paper portfolio, its P&L and equity curve, risk state and recent fills."""
        trader = self.trader
        if trader is None:
            return None
        from hadron.paper.control import status

        p = trader.portfolio
        initial = sum(p.initial_cash.values())
        curve = [[t // 1_000_000, round((e - initial) / 1e10, 4)] for t, e, _, _ in trader.equity[-300:]]
        fills = [
            {
                "order_id": o.order_id,
                "role": o.role,
                "venue": o.venue,
                "outcome": o.outcome,
                "side": o.side,
                "size": format_size(o.filled),
                "price": format_price(o.cost // o.filled) if o.filled else "",
                "fee": money_text(o.fee),
                "status": o.status,
            }
            for o in trader.orders[-12:][::-1]
        ]
        limits = trader.limits
        return {
            **status(trader),
            "cash": {v: money_text(c) for v, c in sorted(p.cash.items())},
            "realized": money_text(p.realized()),
            "positions": [
                {
                    "instrument": h.instrument,
                    "outcome": h.outcome,
                    "size": format_size(h.size),
                    "cost": money_text(h.cost),
                }
                for h in p.holdings.values()
                if h.size and not h.settled
            ],
            "equity_curve": curve,
            "recent_orders": fills,
            "risk": {
                "max_notional_pair": money_text(limits.max_notional_pair) if limits.max_notional_pair else None,
                "max_open_pairs": limits.max_open_pairs,
                "daily_loss_limit": money_text(limits.daily_loss_limit) if limits.daily_loss_limit else None,
                "max_data_age_ms": limits.max_data_age_ms,
            },
        }

    def status(self) -> dict[str, Any]:
        """The runtime's state, for ``hadron status`` and the dashboard."""
        return {
            "state": self.state,
            "run_id": self.run_id,
            "uptime_s": round((time.time_ns() - self.started_ns) / 1e9, 1),
            "url": self.url,
            "errors": self.errors,
            "books": self.books.states(),
            "feeds": self.feeds_view(),
            "opportunities": self.detector.summary(),
            "paper": None
            if self.trader is None
            else {"fills": self.trader.stats.fills, "orders": len(self.trader.orders)},
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything the dashboard shows, as JSON-ready builtins."""
        return {
            "status": self.status(),
            "pairs": self.pairs_view(),
            "opportunities": self.opportunities_view(),
            "paper": self.paper_view(),
        }

    def metrics_snapshot(self) -> dict[str, Any]:
        """What ``/metrics`` exposes (see :class:`hadron.metrics.RuntimeCollector`)."""
        now = time.time_ns()
        feeds: dict[str, Any] = {}
        latency: dict[str, FrameLatency] = {}
        for feed in self.feeds:
            health = feed.health()
            feeds[feed.venue] = {
                "frames": feed.stats.frames,
                "decode_errors": feed.stats.decode_errors,
                "seq_gaps": feed.stats.seq_gaps,
                "resyncs": feed.stats.resync_requests,
                "reconnects": sum(c["reconnects"] for c in health["connections"]),
                "connected": sum(1 for c in health["connections"] if c["connected"]),
            }
            latency[feed.venue] = health["latency"]
        books = [
            {
                "instrument": b.instrument,
                "state": b.state.value,
                "age_s": (now - b.ts_recv) / 1e9 if b.ts_recv else 0.0,
            }
            for b in self.books
            if b.state is not BookState.AWAITING_SNAPSHOT or b.ever_live
        ]
        paper: dict[str, Any] = {}
        if self.trader is not None:
            t = self.trader
            equity = t.equity[-1][1] if t.equity else t.portfolio.total_cash()
            paper = {
                "orders": len(t.orders),
                "fills": t.stats.fills,
                "pnl": (equity - sum(t.portfolio.initial_cash.values())) / 1e10,
                "killed": 1 if t.kill.engaged else 0,
            }
        return {"feeds": feeds, "latency": latency, "books": books, "arb": self.detector.summary(), "paper": paper}
