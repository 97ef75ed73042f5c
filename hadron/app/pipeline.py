"""The strategy half of every path, built in one place: books → detector → paper trader → sinks.

``hadron run`` (the runtime and the bus strategy role), ``hadron demo`` and ``hadron replay`` all
build their strategy with :func:`build_strategy` from one :class:`StrategyOptions`, so an option
added here appears in every path at once, and a replay of a recording runs exactly the strategy
the live run ran:

* the :class:`~hadron.arb.detector.ArbDetector` on the approved pairs (a ``[thresholds]`` table
  from the configuration replaces the pairs file's), clocked by event receive times (``ts_recv``),
  so the same frames give the same opportunities, ids and times live and in replay;
* the :class:`~hadron.arb.fees.FeeRegistry` beside it: a venue fee rule change
  (:class:`~hadron.model.events.FeeUpdate`, Kalshi ``event_fee_update``) reprices the detector's
  legs and the paper trader's orders on that event's markets from its receive time on;
* with ``paper``, the :class:`~hadron.paper.trader.PaperTrader` under ``[paper]`` and ``[risk]``,
  with settlements from a file;
* the sinks: the opportunities NDJSON file (:class:`OpportunityFile`: each opportunity written when
  it closes, those still open when the strategy stops), the state store (run, opportunities,
  orders, fills, positions, balances as they happen), the bus (every opportunity change as an
  ``opportunity`` event), the Parquet tick store, and the paper report folder at the end.

Lifecycle: build (synchronous, raises :class:`~hadron.errors.ConfigError` on a bad option), then
``await open()`` (stores, sink tasks), feed it (the books drive the detector; market events also go
through :meth:`StrategyPipeline.on_event`), then ``await close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import msgspec
import structlog

from hadron.app.execution import LiveDesk
from hadron.arb.detector import ArbDetector
from hadron.arb.fees import FeeRegistry
from hadron.arb.opportunity import Opportunity
from hadron.arb.persist import OpportunitySink
from hadron.arb.terms import ArbConfig, _thresholds, load_arb_config
from hadron.book.manager import BookManager
from hadron.book.registry import InstrumentInfo, InstrumentRegistry
from hadron.bus.base import EventBus
from hadron.config import HadronConfig
from hadron.errors import ConfigError, HadronError
from hadron.exec.config import ExecutionConfig
from hadron.model.events import FeeUpdate, MarketEvent
from hadron.paper.config import PaperConfig, RiskLimits, load_paper_file, paper_config, risk_limits
from hadron.paper.persist import PaperStoreSink
from hadron.paper.risk import KillSwitch
from hadron.paper.trader import PaperTrader
from hadron.store.state import Run as StateRun
from hadron.store.state import RunMode, RunStatus, StateStore, open_state_store

log = structlog.get_logger("hadron.strategy")

_SETTLING = ("market_determined", "market_settled")
"""Registry halts whose ``result`` settles paper positions."""


@dataclass(frozen=True, kw_only=True)
class StrategyOptions:
    """Everything that shapes a strategy, whichever command runs it.

    Attributes:
        pairs: the reviewed pairs file (its approved pairs, terms, outcome sets, thresholds).
        arb: the same, already loaded (wins over ``pairs``).
        thresholds: a ``[thresholds]`` table (``hadron.toml``) replacing the pairs file's.
        paper: paper-trade the opportunities.
        paper_config: a TOML file with ``[paper]`` and ``[risk]`` (``--paper-config``).
        paper_tables: ``{"paper": {…}, "risk": {…}}`` from ``hadron.toml`` (used when no file).
        seed: overrides ``[paper] seed``.
        settlements: settle paper positions from this CSV/NDJSON file.
        paper_report: write ``fills.ndjson``, ``summary.json`` and ``equity.png`` here at the end.
        opportunities: write every opportunity here as NDJSON.
        state: state store URL (``sqlite:///FILE``, ``postgresql://…``).
        tick_store: ``parquet:DIR`` for normalized ticks.
        keep_closed: closed opportunities kept in memory (``None``: all; a long run sets a bound).
        run_config: what the state store records as the run's configuration (secrets masked).
        execution: where the trader's orders go (``[execution]``; ``None`` or mode ``paper``:
            paper execution). ``live``/``dry-run``/``shadow`` need ``venue_config`` (credentials,
            hosts) and a state store (``state``): :class:`~hadron.app.execution.LiveDesk`.
        venue_config: the run's settings, for the venues' order gateways.
    """

    pairs: Path | None = None
    arb: ArbConfig | None = None
    thresholds: dict[str, Any] | None = None
    paper: bool = False
    paper_config: Path | None = None
    paper_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int | None = None
    settlements: Path | None = None
    paper_report: Path | None = None
    opportunities: Path | None = None
    state: str | None = None
    tick_store: str | None = None
    keep_closed: int | None = None
    run_config: dict[str, Any] | None = None
    execution: ExecutionConfig | None = None
    venue_config: HadronConfig | None = None

    @property
    def wants_detector(self) -> bool:
        """True when a pairs file (or a loaded configuration) was given."""
        return self.arb is not None or self.pairs is not None

    def check(self) -> None:
        """Refuse options that need a missing one.

        Raises:
            ConfigError: naming the option and what it needs.
        """
        if not self.wants_detector:
            for name, value in (("--opportunities", self.opportunities), ("--paper", self.paper or None)):
                if value is not None:
                    raise ConfigError(f"{name} needs --pairs (the approved pairs to watch)")
        if not self.paper:
            for name, value in (
                ("--paper-config", self.paper_config),
                ("--settlements", self.settlements),
                ("--paper-report", self.paper_report),
            ):
                if value is not None:
                    raise ConfigError(f"{name} needs --paper")


class OpportunityFile:
    """Writes opportunities to an NDJSON file as they close (a detector listener), then, at
    :meth:`close`, those still open; one :meth:`~hadron.arb.opportunity.Opportunity.to_json`
    object per line, flushed line by line (a long run keeps no closed opportunity in memory).

    Raises:
        ConfigError: the file cannot be created (named).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0
        self._encoder = msgspec.json.Encoder()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[bytes] | None = path.open("wb")
        except OSError as exc:
            raise ConfigError(f"--opportunities {path}: cannot write ({exc.strerror or exc})") from exc

    def on_change(self, opportunity: Opportunity, change: str) -> None:
        """Detector listener: write ``opportunity`` when it closes."""
        if change == "closed":
            self._write(opportunity)

    def _write(self, opportunity: Opportunity) -> None:
        if self._fh is None:
            return
        try:
            self._fh.write(self._encoder.encode(opportunity.to_json()) + b"\n")
            self._fh.flush()
            self.written += 1
        except OSError as exc:
            log.error("opportunities file not written", path=str(self.path), error=str(exc))

    def close(self, still_open: list[Opportunity]) -> None:
        """Write the opportunities still open, then close the file."""
        for opportunity in sorted(still_open, key=lambda o: (o.opened_ns, o.id)):
            self._write(opportunity)
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None


def _paper_settings(options: StrategyOptions) -> tuple[PaperConfig, RiskLimits]:
    if options.paper_config is not None:
        config, limits = load_paper_file(options.paper_config)
    else:
        config = paper_config(options.paper_tables.get("paper", {}))
        limits = risk_limits(options.paper_tables.get("risk", {}))
    if options.seed is not None:
        config = replace(config, seed=options.seed)
    return config, limits


class StrategyPipeline:
    """Books → detector → paper trader → sinks, as :func:`build_strategy` assembles them.

    Attributes:
        books: the book manager the strategy reads (the caller's).
        arb: the pairs and thresholds (``None``: books only, no detector).
        detector / trader: ``None`` when not asked for.
        store: the state store once :meth:`open` ran (``None``: none asked).
        run_id: the state-store run (``<mode>-<12 hex>``).
    """

    def __init__(self, books: BookManager, options: StrategyOptions, *, mode: RunMode = "live", role: str = "") -> None:
        options.check()
        self.books = books
        self.options = options
        self.mode: RunMode = "paper" if options.paper and mode == "live" else mode
        self.run_id = f"{role or mode}-{uuid.uuid4().hex[:12]}"
        self.started_ns = time.time_ns()
        arb = options.arb if options.arb is not None else load_arb_config(options.pairs) if options.pairs else None
        if arb is not None and options.thresholds:
            where = Path(str((options.run_config or {}).get("source") or "[thresholds]"))
            arb = ArbConfig(arb.pairs, arb.terms, arb.outcome_sets, _thresholds(options.thresholds, where))
        self.arb = arb
        self.detector = (
            ArbDetector.from_config(books, arb, keep_closed=options.keep_closed) if arb is not None else None
        )
        self.trader: PaperTrader | None = None
        self.desk: LiveDesk | None = None
        if options.paper and self.detector is not None:
            config, limits = _paper_settings(options)
            execution = options.execution
            sizes = _min_order_sizes(arb) if arb is not None else {}
            if execution is not None and execution.live and arb is not None:
                if not options.state:  # refused before anything starts (no cancel-all, no reconciliation)
                    raise ConfigError(
                        f'execution.mode = "{execution.mode}" journals every order before sending it: '
                        'set runtime.state (e.g. "sqlite:///hadron-state.db")'
                    )
                self.mode = "live"
                kill = KillSwitch(limits.kill_file)
                self.desk = LiveDesk(
                    execution,
                    options.venue_config or HadronConfig(),
                    _pair_instruments(arb),
                    run_id=self.run_id,
                    kill=kill,
                )
                self.trader = PaperTrader(
                    books,
                    self.detector,
                    config,
                    limits,
                    kill=kill,
                    execution=self.desk.live,
                    client_prefix=f"{self.run_id}-",
                    min_order_size=sizes,
                )
                self.desk.trader = self.trader
                if execution.mode == "shadow":
                    self.desk.shadow = PaperTrader(
                        books, self.detector, config, limits, kill=kill, min_order_size=sizes
                    )
            else:
                self.trader = PaperTrader(books, self.detector, config, limits, min_order_size=sizes)
            if options.settlements is not None:
                from hadron.paper.settlement import load_settlements

                rows, _ = load_settlements(options.settlements, arb.pairs if arb else [])
                for row in rows:
                    self.trader.settle_at(row.instrument, row.result, row.ts_ns)
        self._pairs = list(arb.pairs) if arb is not None else []
        self.registry = InstrumentRegistry(books)
        """Market structure and status (:mod:`hadron.book.registry`): halts the books of markets that
        stop trading, re-evaluates the detector there and settles paper positions on a result."""
        self.registry.add_listener(self._on_market_change)
        self.fees: FeeRegistry | None = None
        if arb is not None and self.detector is not None:
            base = {pid: [leg.fee_params for leg in terms.legs] for pid, terms in arb.terms.items()}
            self.fees = FeeRegistry(arb.pairs, base, detector=self.detector, trader=self.trader)
        self.ticks: Any = None
        if options.tick_store:
            from hadron.store.parquet import ParquetTickStore, parse_store_url

            self.ticks = ParquetTickStore(parse_store_url(options.tick_store))
        self.file = OpportunityFile(options.opportunities) if options.opportunities and self.detector else None
        if self.file is not None and self.detector is not None:
            self.detector.add_listener(self.file.on_change)
        self.store: StateStore | None = None
        self.opportunity_sink: OpportunitySink | None = None
        self.paper_sink: PaperStoreSink | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = False
        self.report_files: dict[str, str] = {}

    # -- events ------------------------------------------------------------------------------

    def on_event(self, event: MarketEvent) -> None:
        """Every normalized event, in order (after the books applied it): fee rules, ticks, settlements."""
        if type(event) is FeeUpdate and self.fees is not None:
            self.fees.on_fee_update(event)
        structure = self.registry.on_event(event)  # market status, tick, event: settles via _on_market_change
        if self.ticks is not None:
            self.ticks.on_event(event)
        if self.trader is not None and not structure:
            self.trader.on_event(event)

    def _on_market_change(self, info: InstrumentInfo, event: object) -> None:
        # The registry changed a market: its candidates are evaluated again at this receive time (a
        # market that stopped trading closes its opportunities then), and a result settles paper positions
        ts_recv: int = getattr(event, "ts_recv", 0)
        if self.detector is not None:
            self.detector.on_market_status(info.instrument, ts_recv)
        if self.trader is not None and info.result in ("yes", "no") and info.halted in _SETTLING:
            self.trader.settle_at(info.instrument, info.result, ts_recv)
            # a Kalshi result also settles the approved pairs' Polymarket tokens (each once: a
            # token's own market_resolved finds it settled already)
            from hadron.paper.settlement import Settlement, derived_settlements

            for row in derived_settlements([Settlement(info.instrument, info.result, ts_recv)], self._pairs):
                self.trader.settle_at(row.instrument, row.result, row.ts_ns)

    @property
    def wants_events(self) -> bool:
        """True when :meth:`on_event` has anything to do (a detector, whose fees follow the venue's
        :class:`~hadron.model.events.FeeUpdate`, a tick store or a paper trader)."""
        return self.fees is not None or self.ticks is not None or self.trader is not None

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self, *, bus: EventBus | None = None, bus_source: str | None = None) -> None:
        """Open the state store (and start the run), and start the sinks' tasks: opportunities
        to the store and, with ``bus``, onto the bus; paper records to the store.

        Raises:
            ConfigError: an unusable store URL. StoreError: the database refused the run.
        """
        opts = self.options
        if opts.state:
            self.store = await open_state_store(opts.state)
            await self.store.__aenter__()
            config_json = msgspec.json.encode(opts.run_config or {}).decode()
            await self.store.start_run(StateRun(self.run_id, self.started_ns, None, self.mode, config_json, "running"))
        if self.detector is not None and (self.store is not None or bus is not None):
            self.opportunity_sink = OpportunitySink(
                bus=bus, store=self.store, run_id=self.run_id, source=bus_source or f"strategy-{self.run_id}"
            )
            self.detector.add_listener(self.opportunity_sink.on_change)
            self._tasks.append(asyncio.create_task(self.opportunity_sink.run()))
        if self.store is not None and self.trader is not None:
            self.paper_sink = PaperStoreSink(self.store, self.run_id, self.trader)
            self._tasks.append(asyncio.create_task(self.paper_sink.run()))
        if self.desk is not None:
            await self.desk.open(self.store)

    async def close(self, *, finish: bool, status: RunStatus = "finished") -> None:
        """Stop: the trader runs what is queued (``finish``: recordings, every order reaches its
        venue) or cancels its working orders (a live stop); the sinks drain; the run is marked
        ``status``; the opportunities file, tick store and paper report are completed."""
        if self.closed:
            return
        self.closed = True
        if self.trader is not None:
            if finish:
                self.trader.finish()
            else:
                self.trader.cancel_working("strategy stopping")
            cancelled = sum(1 for o in self.trader.orders if o.status == "cancelled")
            mode = self.trader.execution.mode
            log.info(f"{mode} trading stopped", orders=len(self.trader.orders), cancelled=cancelled)
        if self.desk is not None:
            if self.desk.shadow is not None:
                if finish:
                    self.desk.shadow.finish()
                else:
                    self.desk.shadow.cancel_working("strategy stopping")
            await self.desk.close()
        if self.opportunity_sink is not None:
            await self.opportunity_sink.close()
        if self.paper_sink is not None:
            await self.paper_sink.close()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=30)
            for task in pending:
                task.cancel()
        if self.store is not None:
            with contextlib.suppress(HadronError):
                await self.store.finish_run(self.run_id, ended_ns=time.time_ns(), status=status)
            await self.store.__aexit__(None, None, None)
        self._complete_files()

    def _complete_files(self) -> None:
        # The tick store's last batch, the opportunities still open, the paper report
        if self.ticks is not None:
            self.ticks.close()
        if self.file is not None and self.detector is not None:
            self.file.close(list(self.detector.open.values()))
        if self.trader is not None and self.options.paper_report is not None:
            from hadron.paper.report import write_reports

            try:
                self.report_files = write_reports(self.trader, self.options.paper_report)
            except OSError as exc:
                raise ConfigError(f"--paper-report {self.options.paper_report}: {exc.strerror or exc}") from exc

    # -- results -----------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """The report sections: ``arbitrage`` (detector summary, where opportunities went) and
        ``paper`` (the trader's summary and files); only those that ran."""
        out: dict[str, Any] = {}
        if self.detector is not None:
            section: dict[str, Any] = dict(self.detector.summary())
            if self.file is not None:
                section["file"] = str(self.file.path)
                section["written"] = self.file.written
            if self.opportunity_sink is not None:
                section["published"] = asdict(self.opportunity_sink.stats)
            if self.store is not None:
                section["state_run"] = self.run_id
            if self.fees is not None:
                section["fees"] = self.fees.summary()
            if self.registry.instruments or self.registry.events:
                section["markets"] = self.registry.summary()
            out["arbitrage"] = section
        if self.trader is not None:
            from hadron.paper.report import summary

            paper = summary(self.trader)
            if self.report_files:
                paper["files"] = self.report_files
            if self.paper_sink is not None:
                paper["stored"] = {"records": self.paper_sink.written, "errors": self.paper_sink.errors}
            out["paper"] = paper
        if self.desk is not None:
            out["execution"] = self.desk.report()
        if self.ticks is not None:
            out["store"] = {"url": self.options.tick_store, "rows": self.ticks.rows, "files": self.ticks.files}
        return out


def _min_order_sizes(arb: ArbConfig) -> dict[str, int]:
    # instrument id → its venue market's minimum order (the pairs' <venue>_min_size), 1/1,000,000
    out: dict[str, int] = {}
    for pair in arb.pairs:
        terms = arb.terms.get(pair.id)
        for index, leg in enumerate(pair.legs):
            minimum = max(leg.min_size, terms.leg(index).min_size if terms is not None else 0)
            for symbol in (leg.yes, leg.no):
                if symbol and minimum:
                    key = f"{leg.venue}:{symbol}"
                    out[key] = max(out.get(key, 0), minimum)
    return out


def _pair_instruments(arb: ArbConfig) -> dict[str, list[str]]:
    # venue → the Hadron instrument ids of the tradeable pairs' legs (what live orders may touch)
    out: dict[str, set[str]] = {}
    for pair in arb.pairs:
        if pair.tradeable:
            for leg in pair.legs:
                out.setdefault(leg.venue, set()).update(f"{leg.venue}:{s}" for s in (leg.yes, leg.no) if s)
    return {venue: sorted(ids) for venue, ids in sorted(out.items())}


def build_strategy(
    books: BookManager, options: StrategyOptions, *, mode: RunMode = "live", role: str = ""
) -> StrategyPipeline:
    """Assemble the strategy on ``books`` from ``options`` (see the module docstring).

    ``mode`` is what the state store records (``live`` becomes ``paper`` with ``options.paper``);
    ``role`` prefixes the run id (default: the mode).

    Raises:
        ConfigError: an option that needs another, an unreadable pairs/paper/settlements file, or
            a bad setting (named).
    """
    return StrategyPipeline(books, options, mode=mode, role=role)
