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
  control endpoint (``/api/status``, ``/api/stop``, ``/api/paper/*``) and ``/metrics``, behind
  :class:`~hadron.app.control.ControlGuard` (Host and Origin checked, a state change needs the
  run's control token). Bound beyond loopback it refuses to start without ``runtime.control_token``.

Roles (``hadron run --config hadron.toml --role …``; the strategy half is always
:func:`hadron.app.pipeline.build_strategy`, the one every path builds):

* ``all`` (the default): feeds → books → strategy in one process; with ``runtime.bus`` (or
  ``--bus``) every normalized event is also published on the bus.
* ``ingest``: feeds → books → the bus (:class:`~hadron.app.publisher.LivePublisher`), no strategy;
  ``--venue`` and ``--shard I/N`` split the markets between ingest processes.
* ``strategy``: the bus → books (de-duplicated by source and seq) → strategy; no feeds.

Lifecycle: ``starting`` → ``running`` → ``stopping`` → ``stopped``. SIGINT, SIGTERM or
``POST /api/stop`` stop it: working paper orders are cancelled, the sinks drain, the state store
marks the run finished, then the feeds and the server close.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from hadron.app import snapshot as snap
from hadron.app.account import AccountView
from hadron.app.control import is_loopback
from hadron.app.memory import trim_memory
from hadron.app.pipeline import StrategyOptions, build_strategy
from hadron.app.publisher import LivePublisher, live_source_id
from hadron.app.roles import ROLES
from hadron.app.runplan import stream_instruments, write_run_files
from hadron.app.strategy import Strategy, consume
from hadron.arb.terms import ArbConfig, load_arb_config
from hadron.book.manager import BookManager
from hadron.bus import Envelope, EventBus, open_bus
from hadron.config import HadronConfig, effective, mask_url
from hadron.errors import ConfigError, HadronError
from hadron.exec.config import ExecutionConfig, execution_config
from hadron.metrics import CountingDeadLetter, SeriesPlan, plan_series
from hadron.model.account import AccountEvent
from hadron.model.events import IndexPrice, MarketEvent, OpportunityUpdate
from hadron.model.instrument import instrument_id
from hadron.model.venue import venue_names
from hadron.store.deadletter import DeadLetterFile
from hadron.venues.base import LiveFeed, LiveVenue, VenueSink, get_venue

log = structlog.get_logger("hadron.runtime")

FEE_RULES_WAIT_S = 10.0
"""How long the start of a run waits for the venues' fee rules over REST before the feeds open;
rules arriving later are applied when they arrive (the registry reprices at that moment)."""


def _run_execution(config: HadronConfig, role: str, execution: ExecutionConfig | None) -> ExecutionConfig | None:
    # Where the trader's orders go (``execution``, else the [execution] table; an ingest process
    # has no trader: None). A mode that sends needs the trader: runtime.paper = false is refused
    if role == "ingest":
        return None
    chosen = execution or execution_config(config.tables.get("execution", {}))
    if chosen.live and not config.runtime.paper:
        raise ConfigError(
            f'execution.mode = "{chosen.mode}" sends the trader\'s orders, but runtime.paper = false runs no trader: '
            "set runtime.paper = true (its orders then go where [execution] says)"
        )
    return chosen


class Runtime:
    """Everything ``hadron run --config`` runs, with an explicit lifecycle (see the module docstring).

    Args:
        config: the loaded settings (``runtime.record_dir``, ``runtime.opportunities`` and
            ``runtime.bus`` included: the command line's ``--record``, ``--opportunities`` and
            ``--bus`` land there).
        arb: the pairs and thresholds (default: read from ``config.runtime.pairs``).
        role: ``all``, ``ingest`` or ``strategy`` (see the module docstring).
        source_id: ingest: the name of this process's events on the bus (a suffix new for every
            start is added). durable: strategy: the durable consumer (resumes after a restart).
        subjects: strategy: subject filter under the bus prefix. venues: the venues to stream
            (default: both). shard: ``(i, n)``: stream only every n-th market and token from the
            i-th (0-based), for ingest processes splitting the pairs.

    Raises:
        ConfigError: no pairs file, no approved pairs, a bad ``[paper]``/``[risk]``/``[thresholds]``
            setting, a role without a bus, a non-loopback bind without a control token, or an
            ``[execution]`` mode other than ``paper`` with ``runtime.paper = false`` (no trader to send).
    """

    def __init__(
        self,
        config: HadronConfig,
        arb: ArbConfig | None = None,
        *,
        role: str = "all",
        source_id: str | None = None,
        durable: str | None = None,
        subjects: str = ">",
        venues: Sequence[str] | None = None,
        shard: tuple[int, int] = (0, 1),
        execution: ExecutionConfig | None = None,
    ) -> None:
        rt = config.runtime
        if role not in ROLES:
            raise ConfigError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
        if role != "all" and not rt.bus.startswith("nats://"):
            raise ConfigError(f"--role {role} talks to other processes: give --bus nats://host:4222 (or runtime.bus)")
        if arb is None:
            if not rt.pairs:
                raise ConfigError("runtime.pairs is not set: give the reviewed pairs file (hadron markets review)")
            arb = load_arb_config(Path(rt.pairs))
        if rt.port and not is_loopback(rt.host) and not rt.control_token:
            raise ConfigError(
                f"runtime.host is {rt.host}, beyond loopback: set runtime.control_token (or HADRON_CONTROL_TOKEN)"
            )
        unknown = sorted(set(venues or ()) - set(venue_names()))
        if unknown:
            raise ConfigError(f"--venue: unknown {', '.join(unknown)} (known: {', '.join(venue_names())})")
        index, count = shard
        if not 0 <= index < count:
            raise ConfigError(f"--shard {index}/{count}: use I/N with 0 ≤ I < N")
        execution = _run_execution(config, role, execution)
        self.config = config
        self.role = role
        self.state = "starting"
        self.started_ns = time.time_ns()
        self.consumer: Strategy | None = Strategy() if role == "strategy" else None
        self.books = self.consumer.books if self.consumer is not None else BookManager()
        thresholds = config.tables.get("thresholds") or None
        self.strategy = build_strategy(
            self.books,
            StrategyOptions(  # an ingest process runs no strategy: books, ticks and the bus only
                arb=arb if role != "ingest" else None,
                thresholds=thresholds,
                paper=rt.paper and role != "ingest",
                paper_tables=config.tables,
                state=rt.state or None if role != "ingest" else None,
                tick_store=rt.tick_store or None,
                opportunities=Path(rt.opportunities) if rt.opportunities and role != "ingest" else None,
                keep_closed=500,
                run_config=effective(config),
                execution=execution,
                venue_config=config,
            ),
            mode="live",
            role=role if role != "all" else "live",
        )
        self.arb = self.strategy.arb if self.strategy.arb is not None else arb
        self.run_id = self.strategy.run_id
        self.detector = self.strategy.detector
        self.trader = self.strategy.trader
        if self.consumer is not None:
            self.consumer.on_event.append(self._on_envelope)
        if role == "strategy":
            self.streamed: dict[str, list[str]] = {}
        else:
            self.streamed = stream_instruments(arb, role, venues, shard, rt.pairs)
        self.dead_letter = DeadLetterFile(Path(rt.dead_letter))
        self.feeds: list[LiveFeed] = []
        self.stop_event = asyncio.Event()
        self.bus: EventBus | None = None
        self.publisher: LivePublisher | None = None
        self.source_id = source_id
        self.durable = durable
        self.subjects = subjects
        self.frame_rates: dict[str, float] = {}
        """Connection name → frames a second over the last second."""
        self._last_frames: dict[str, tuple[int, float]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self.errors: list[str] = []
        self.feed_down: dict[str, str] = {}
        """venue → why its feed is DOWN (failed, waiting to run again; or failed for good)."""
        self.feed_restarts: dict[str, int] = {}
        """venue → times its feed failed unexpectedly and was run again."""
        self.rejected: dict[str, CountingDeadLetter] = {}
        """venue → its feed's dead-letter sink, counting rejected frames by reason (``/metrics``)."""
        self._series: SeriesPlan | None = None  # /metrics: which instruments and pairs get series
        self.index_prices: dict[str, IndexPrice] = {}
        """Instrument id (``kalshi:index:<id>``) → the latest :class:`IndexPrice` from the feeds
        (``kalshi.index_prices``): the dashboard shows it beside the pairs."""
        self.edges: Any = None
        """``/metrics``: the :class:`hadron.arb.edges.PairEdges` of the detector, made at the first scrape."""
        self.fee_rule_errors: list[str] = []
        """Why a venue's fee rules could not be read over REST at start (the pairs file's terms stay)."""
        self.venue_listeners: list[VenueSink] = []
        """Called in order with every venue-native message of the live feeds, ``(msg, recv_ns)``
        (see :data:`hadron.venues.base.VenueSink`): fee overrides, index prices, lifecycles,
        RFQs, account messages. Append a listener before :meth:`start`."""
        self._account_pending: list[Any] = []
        self.account = AccountView(on_event=self._account_pending.append)
        """The real account(s) from the venues' private channels (``kalshi.account``, Polymarket's
        user channel with ``polymarket.api_*``): shown beside the paper one, kept in the state store."""
        self.record_dir = Path(rt.record_dir) if rt.record_dir and role != "strategy" else None
        if self.record_dir is not None:
            write_run_files(self.record_dir, config, self.arb, thresholds)

    # -- wiring ------------------------------------------------------------------------------

    def _on_envelope(self, envelope: Envelope, books: BookManager) -> None:
        # The strategy role: a consumed event after its book update (opportunities are not market events)
        event = envelope.event
        if not isinstance(event, OpportunityUpdate):
            self._on_event(event)

    def _on_event(self, event: MarketEvent) -> None:
        if type(event) is IndexPrice:
            self.index_prices[event.instrument] = event
        if self.publisher is not None and self.consumer is None:
            self.publisher.on_event(event)
        if self.strategy.wants_events:
            self.strategy.on_event(event)

    def _on_venue(self, msg: Any, recv_ns: int) -> None:
        # A venue-native message (see VenueSink) to every listener
        for listener in self.venue_listeners:
            listener(msg, recv_ns)

    def _open_feeds(self) -> None:
        for venue, instruments in self.streamed.items():
            adapter = get_venue(venue)
            if not isinstance(adapter, LiveVenue):
                raise ConfigError(f"venue {venue} cannot stream live")
            self.feeds.append(
                adapter.live_feed(
                    self.books,
                    instruments,
                    config=self.config,
                    on_event=self._on_event,
                    on_venue=self._on_venue,
                    on_account=self._on_account,
                    record_dir=self.record_dir,
                    dead_letter=self.rejected.setdefault(venue, CountingDeadLetter(self.dead_letter)),
                )
            )

    async def _open_bus(self) -> None:
        url = self.config.runtime.bus
        if not url:
            return
        self.bus = await open_bus(url)
        if self.consumer is None:
            self.publisher = LivePublisher(self.bus, live_source_id(self.source_id, list(self.streamed)))
            self.books.add_invalidation_listener(self.publisher.invalidated)
            self._tasks.append(asyncio.create_task(self.publisher.run()))
            log.info("publishing normalized events", bus=mask_url(url), source=self.publisher.source)

    async def _open_stores(self) -> None:
        await self.strategy.open(bus=self.bus if self.role != "ingest" else None)

    # -- running -----------------------------------------------------------------------------

    async def run(self, *, install_signals: bool = True) -> dict[str, Any]:
        """Run until stopped (signal, ``POST /api/stop`` or :meth:`stop`); return the final status.

        Raises:
            HadronError: a feed failed for good (refused credentials), the bus or a store could
                not open.
        """
        if install_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.stop)
        server = None
        feed_tasks: list[asyncio.Task[None]] = []
        try:
            await self._open_bus()
            await self._open_stores()
            await self._start_fee_rules()
            self._open_feeds()
            if self.config.runtime.port:
                from hadron.app.dashboard import serve

                server = await serve(self)
            feed_tasks = [asyncio.create_task(self._feed(feed)) for feed in self.feeds]
            if self.consumer is not None and self.bus is not None:
                feed_tasks.append(asyncio.create_task(self._consume(self.bus, self.consumer)))
            self._tasks.append(asyncio.create_task(self._housekeeping()))
            if self.trader is not None and self.config.runtime.settle_poll_s > 0:
                self._tasks.append(asyncio.create_task(self._settlement_poller()))
            self.state = "running"
            counts = {venue: len(symbols) for venue, symbols in self.streamed.items()}
            log.info("runtime running", role=self.role, url=self.url, **counts)
            await self.stop_event.wait()
        finally:
            self.state = "stopping"
            await self._shutdown(feed_tasks, server)
            self.state = "stopped"
        return self.status()

    async def _start_fee_rules(self) -> None:
        # The venues' fee rules at start: waited for up to FEE_RULES_WAIT_S, then left to finish
        if self.strategy.fees is None:
            return
        task = asyncio.create_task(self.load_fee_rules())
        self._tasks.append(task)
        done, _ = await asyncio.wait({task}, timeout=FEE_RULES_WAIT_S)
        if not done:
            log.warning("fee rules still loading: the pairs file's terms apply until they arrive",
                        wait_s=FEE_RULES_WAIT_S)  # fmt: skip

    async def load_fee_rules(self) -> int:
        """Ask each venue that reports fee rules over REST (:class:`~hadron.venues.base.FeeRulesVenue`)
        for the rules of the followed events, and put them in force in the fee registry (series rule,
        then the event's override). Returns how many rules were applied. A failure is one warning
        line: the pairs file's terms stay, and the run goes on."""
        from hadron.venues.base import FeeRulesVenue

        fees = self.strategy.fees
        if fees is None:
            return 0
        applied = 0
        for venue in venue_names():
            events = fees.events(venue)
            adapter = get_venue(venue)
            if not events or not isinstance(adapter, FeeRulesVenue):
                continue
            try:
                rules = await adapter.fee_rules(events, config=self.config)
            except HadronError as exc:
                self.fee_rule_errors.append(f"{venue}: {exc}")
                log.warning("fee rules not available: the pairs file's terms stay", venue=venue, error=str(exc))
                continue
            except Exception as exc:  # a bug or an unexpected network failure: never stops the run
                self.fee_rule_errors.append(f"{venue}: {type(exc).__name__}: {exc}")
                log.warning("fee rules not available: the pairs file's terms stay", venue=venue,
                            error=f"{type(exc).__name__}: {exc}")  # fmt: skip
                continue
            applied += fees.apply_rules(rules, time.time_ns())
            log.info("fee rules in force", venue=venue, events=len(events), rules=len(rules))
        return applied

    async def _consume(self, bus: EventBus, consumer: Strategy) -> None:
        try:
            await consume(
                bus, consumer, durable=self.durable, subjects=self.subjects, stop=self.stop_event, market_only=True
            )
        except HadronError as exc:
            self.errors.append(f"bus: {exc}")
            log.error("bus subscription failed", error=str(exc))
            self.stop()

    async def _feed(self, feed: LiveFeed) -> None:
        # A feed failing for good (HadronError: a refused key, a fallback that never delivered a
        # book) stops the run and exits 1 with the cause, at once: every pair needs both venues.
        # Any other exception is a bug: the feed is DOWN (status, /metrics, dashboard) and runs
        # again after a jittered back-off (1 s doubling to 30 s; from 1 s again after 60 s up)
        failures = 0
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                await feed.run(self.stop_event)
                return
            except HadronError as exc:
                self.feed_down[feed.venue] = str(exc)
                self.errors.append(f"{feed.venue}: {exc}")
                log.error("feed failed for good: stopping", venue=feed.venue, error=str(exc))
                self.stop()
                return
            except Exception as exc:
                self.feed_down[feed.venue] = f"{type(exc).__name__}: {exc}"
                self.feed_restarts[feed.venue] = self.feed_restarts.get(feed.venue, 0) + 1
                log.error("feed failed: DOWN, restarting", venue=feed.venue, exc_info=exc)
            failures = 1 if time.monotonic() - started >= 60 else failures + 1
            delay = min(30.0, 2.0 ** (failures - 1)) * (1 + 0.25 * random.random())  # noqa: S311 - jitter
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), delay)
            self.feed_down.pop(feed.venue, None)

    def stop(self) -> None:
        """Ask the runtime to stop (idempotent)."""
        self.stop_event.set()

    async def _shutdown(self, feed_tasks: list[asyncio.Task[None]], server: Any) -> None:
        self.stop_event.set()
        if self.trader is not None:
            self.trader.cancel_working("runtime stopping")  # before the feeds stop (counted at close)
        if feed_tasks:
            await asyncio.gather(*feed_tasks, return_exceptions=True)
        if self.publisher is not None:
            await self.publisher.close()
        await self.flush_account()
        await self.strategy.close(finish=False, status="stopped")
        housekeeping = [t for t in self._tasks if not t.done()]
        _, pending = await asyncio.wait(housekeeping, timeout=10) if housekeeping else (set(), set())
        for task in pending:
            task.cancel()
        if self.bus is not None:
            await self.bus.close()
        self.dead_letter.close()
        if server is not None:
            await server.close()

    async def _housekeeping(self) -> None:
        # Staleness sweep, the paper trader's wall clock, frames/s per connection
        stale_ns = self.config.runtime.stale_after_s * 10**9
        trim_ticks = self.config.runtime.trim_memory_s * 20
        snapshot_ticks = self.config.runtime.bus_snapshot_s * 20
        tick = 0
        while not self.stop_event.is_set():
            await asyncio.sleep(0.05)
            now = time.time_ns()
            if self.trader is not None:
                self.trader.advance(now)
            tick += 1
            if trim_ticks and tick % trim_ticks == 0:
                trim_memory()
            if snapshot_ticks and self.publisher is not None and tick % snapshot_ticks == 0:
                self.publisher.checkpoint(self.books)
            if tick % 20 == 0:
                await self.flush_account()
                for book in self.books.mark_stale(now, stale_ns):
                    log.warning("book stale", instrument=book)
                self._sample_rates()
                if self.trader is not None and not self.trader.kill.engaged and self.trader.kill.check():
                    log.warning("kill switch engaged", reason=self.trader.kill.reason)

    async def flush_account(self) -> int:
        """Write the account events received since the last flush to the state store (once a
        second, and at shutdown); return how many. A store failure is logged and the events are
        dropped (the view keeps them): the feeds go on."""
        pending = self._account_pending[:]
        self._account_pending.clear()
        store = self.strategy.store
        if not pending or store is None:
            return 0
        try:
            return await store.record_account(pending)
        except HadronError as exc:
            log.warning("account events not stored", events=len(pending), error=str(exc))
            return 0

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
        """Ask each venue that reports results over REST (:class:`~hadron.venues.base.ResultsVenue`:
        Kalshi) how the held markets resolved and settle them (and the other legs of their
        approved pairs, e.g. the Polymarket tokens); return how many instruments were settled."""
        from hadron.paper.settlement import Settlement, derived_settlements
        from hadron.venues.base import ResultsVenue

        trader = self.trader
        if trader is None:
            return 0
        now = time.time_ns()
        rows: list[Settlement] = []
        for venue in venue_names():
            adapter = get_venue(venue)
            prefix = f"{venue}:"
            held = sorted({h.instrument[len(prefix) :] for h in trader.portfolio.holdings.values()
                           if h.instrument.startswith(prefix) and h.size and not h.settled})  # fmt: skip
            if not held or not isinstance(adapter, ResultsVenue):
                continue
            try:
                results = await adapter.market_results(held, config=self.config)
            except HadronError as exc:
                log.warning("market results not available", venue=venue, error=str(exc))
                continue
            rows += [Settlement(instrument_id(venue, symbol), result, now) for symbol, result in results.items()]
        if not rows:
            return 0
        rows += derived_settlements(rows, self.arb.pairs)
        for row in rows:
            trader.settle_at(row.instrument, row.result, now)
        trader.advance(now)
        return len(rows)

    def _on_account(self, event: AccountEvent) -> None:
        # The venues' private channels: the account panel, and the live orders' fills and ends
        self.account.apply(event)
        if self.strategy.desk is not None:
            try:
                self.strategy.desk.live.on_account(event)
            except Exception as exc:
                log.error("account event not applied to the live orders", kind=type(event).__name__, error=str(exc))

    def _sample_rates(self) -> None:
        now = time.monotonic()
        desk = self.strategy.desk
        for feed in self.feeds:
            if desk is not None:  # a reconnect: the live orders and positions are reconciled again
                desk.reconcile_soon(feed.venue, sum(c["reconnects"] for c in feed.health()["connections"]))
            for conn in feed.health()["connections"]:
                frames, then = self._last_frames.get(conn["name"], (conn["frames"], now))
                if now > then:
                    self.frame_rates[conn["name"]] = (conn["frames"] - frames) / (now - then)
                self._last_frames[conn["name"]] = (conn["frames"], now)

    # -- views (hadron.app.snapshot builds them) ---------------------------------------------

    @property
    def url(self) -> str:
        """The dashboard's URL (``""`` without ``runtime.port``)."""
        rt = self.config.runtime
        return f"http://{rt.host}:{rt.port}/" if rt.port else ""

    def arb_summary(self) -> dict[str, Any]:
        """The detector's counts (zeros in an ingest process, which runs none)."""
        return snap.arb_summary(self)

    def feeds_view(self) -> dict[str, Any]:
        """Feed health per venue and connection."""
        return snap.feeds_view(self)

    def pairs_view(self) -> list[dict[str, Any]]:
        """Each tradeable pair with its books side by side (top 5 levels) and its combined cost
        both ways at the best asks (``cross``: :func:`hadron.app.views.pair_costs`)."""
        return snap.pairs_view(self)

    def opportunities_view(self) -> dict[str, Any]:
        """Open opportunities and the last closed ones."""
        return snap.opportunities_view(self)

    def paper_view(self) -> dict[str, Any] | None:
        """The paper portfolio, its P&L and equity curve, risk state and recent fills."""
        return snap.paper_view(self)

    def status(self) -> dict[str, Any]:
        """The runtime's state, for ``hadron status`` and the dashboard."""
        return snap.status(self)

    def final_report(self, status: dict[str, Any]) -> dict[str, Any]:
        """What ``hadron run --report`` writes at the end (:func:`hadron.app.snapshot.final_report`)."""
        return snap.final_report(self, status)

    def snapshot(self) -> dict[str, Any]:
        """Everything the dashboard shows, as JSON-ready builtins."""
        return snap.snapshot(self)

    def metrics_snapshot(self) -> dict[str, Any]:
        """What ``/metrics`` exposes (see :class:`hadron.metrics.RuntimeCollector` and ``docs/METRICS.md``)."""
        return snap.metrics_snapshot(self)

    def series_plan(self) -> SeriesPlan:
        """Which instruments and pairs ``/metrics`` gives series of their own, and their labels
        (:func:`hadron.metrics.plan_series`: the instruments of the approved pairs and outcome
        sets this process follows, at most ``runtime.metrics_max_instruments``)."""
        if self._series is None:
            streamed = None
            if self.role != "strategy":  # a strategy streams nothing itself: its books come from the bus
                streamed = {instrument_id(venue, s) for venue, symbols in self.streamed.items() for s in symbols}
            self._series = plan_series(
                self.arb.pairs,
                self.arb.outcome_sets,
                streamed=streamed,
                max_instruments=self.config.runtime.metrics_max_instruments,
            )
        return self._series
