"""The process roles of ``hadron run``: ingest publishes normalized events, strategy consumes them.

* **ingest** replays recordings through the same venue streams and books as ``hadron replay`` and
  publishes every normalized event in an :class:`~hadron.bus.base.Envelope`: ``source`` is the
  shard's source id, ``seq`` the event's index in that replay (0, 1, 2, …). Replaying the same
  recordings again produces the same ``(source, seq)`` and therefore the same message ids, so a
  restarted ingest process republishes from the start and the bus drops what it already holds.
* **strategy** subscribes (durably on NATS, so a restart resumes), drops any envelope whose
  ``(source, seq)`` it has already applied, applies book events to its own
  :class:`~hadron.book.BookManager`, counts events per source and kind, detects gaps and
  duplicates per source (:class:`~hadron.app.strategy.Strategy`), and calls its ``on_event``
  hooks, the place where arbitrage detection and paper trading plug in. Seqs are accounted from
  0: a strategy process that resumes a durable consumer mid-stream reports the seqs its previous
  run handled as missing (its ``first_seq`` per source shows where it started), and its books
  become LIVE again only with the next snapshot of each instrument.
* **all** runs both in one process (the in-process bus by default).

The strategy's books are rebuilt from snapshots and deltas alone; an ingest-side invalidation
(a sequence gap, a reconnect) that has no event of its own reaches the strategy only through the
next snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from hadron.app.bridge import ReplayFeeder
from hadron.app.pipeline import StrategyOptions, StrategyPipeline, build_strategy
from hadron.app.publisher import default_source_id, publish_with_retry
from hadron.app.replay import Replay
from hadron.app.strategy import Strategy, StrategyHook, consume, market_handler
from hadron.bus import Envelope, EventBus, InProcessBus, make_envelope, open_bus
from hadron.bus.base import validate_source
from hadron.errors import ConfigError, InputError
from hadron.model.events import OpportunityUpdate

ROLES = ("ingest", "strategy", "all")

log = structlog.get_logger("hadron.roles")


async def ingest(
    bus: EventBus,
    paths: Sequence[Path],
    *,
    source: str,
    dead_letter: Path,
    rate: float = 0.0,
    batch: int = 512,
    seq_check: str = "auto",
    stop: asyncio.Event | None = None,
) -> dict[str, Any]:
    """Replay ``paths`` and publish every normalized event as ``(source, seq)``.

    Args:
        bus: where to publish.
        paths: recordings (files or folders), replayed in order as by ``hadron replay``.
        source: the shard's source id (see :func:`~hadron.app.publisher.default_source_id`).
        dead_letter: where the replay puts rejected frames.
        rate: at most this many events per second (0: as fast as the bus takes them).
        batch: envelopes per :meth:`EventBus.publish_many` call (fewer when ``rate`` is low).
        seq_check: the replay's sequence check (``auto``, ``strict``, ``monotonic``).
        stop: stop after the batch in flight when set.

    Returns:
        The ingest report: ``source``, ``events`` (published, i.e. the next seq), ``stored``,
        ``duplicates`` (already on the bus), ``complete`` (the whole replay was published),
        ``elapsed_s``, ``events_per_s`` and ``replay`` (the replay's frame and book counters).

    Raises:
        InputError: a recording cannot be read.
        BusError: publishing kept failing.
    """
    validate_source(source)
    stop = stop or asyncio.Event()
    step = batch if rate <= 0 else max(1, min(batch, int(rate * 0.02)))
    feeder = ReplayFeeder(paths, dead_letter=dead_letter, seq_check=seq_check, chunk=max(batch, 64))
    seq = stored = duplicates = 0
    started = time.monotonic()
    complete = False
    try:
        async with contextlib.aclosing(feeder.chunks()) as chunks:
            async for chunk in chunks:
                envelopes = [make_envelope(source, seq + i, event) for i, event in enumerate(chunk)]
                for i in range(0, len(envelopes), step):
                    if stop.is_set():
                        break
                    if rate > 0:
                        delay = started + seq / rate - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    part = envelopes[i : i + step]
                    new, dup = await publish_with_retry(bus, part, stop=stop)
                    stored += new
                    duplicates += dup
                    seq += len(part)
                if stop.is_set():
                    break
            else:
                complete = True
    finally:
        await feeder.stop()
    elapsed = time.monotonic() - started
    return {
        "role": "ingest",
        "source": source,
        "events": seq,
        "stored": stored,
        "duplicates": duplicates,
        "complete": complete,
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(seq / elapsed) if elapsed > 0 else 0,
        "replay": _replay_summary(feeder.replay),
    }


def _replay_summary(replay: Replay | None) -> dict[str, Any]:
    if replay is None:
        return {}
    report = replay.report()
    keys = ("frames", "decode_errors", "books", "books_by_state", "snapshot_mismatches", "seq_gaps", "dead_letter")
    return {key: report[key] for key in keys}


async def run_role(
    role: str,
    *,
    bus_url: str | None = None,
    paths: Sequence[Path] = (),
    source_id: str | None = None,
    rate: float = 0.0,
    durable: str | None = None,
    subjects: str = ">",
    until_idle: float | None = None,
    dead_letter: Path = Path("ingest.deadletter.ndjson"),
    seq_check: str = "auto",
    stop: asyncio.Event | None = None,
    hooks: Sequence[StrategyHook] = (),
    pairs: Path | None = None,
    state_url: str | None = None,
    paper: PaperOptions | None = None,
    opportunities: Path | None = None,
) -> dict[str, Any]:
    """Run one role to its end and return its report (see :func:`ingest` and
    :meth:`~hadron.app.strategy.Strategy.report`; ``all`` returns ``{"role": "all", "ingest": …, "strategy": …}``).

    With ``pairs`` (a reviewed pairs file) the strategy runs the arbitrage detector on its books
    for the approved pairs; its summary is in the report under ``arbitrage``. Every opportunity
    change is published on the bus (kind ``opportunity``) and, with ``state_url``, stored in the
    state store under a new run. With ``paper`` the strategy also paper-trades them (orders, fills,
    positions and balances go to the state store too; reports to ``paper.report``).

    Raises:
        ConfigError: an unknown role, a missing option, or a bad bus URL.
        InputError: a recording cannot be read.
        BusError: the bus could not be reached or kept failing.
    """
    if role not in ROLES:
        raise ConfigError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if role in ("ingest", "all") and not paths:
        raise ConfigError(f"--role {role} needs at least one --source recording")
    if role in ("ingest", "strategy") and (not bus_url or bus_url.startswith("memory")):
        raise ConfigError(f"--role {role} talks to other processes: give --bus nats://host:4222")
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    if rate < 0:
        raise ConfigError(f"--rate must be ≥ 0, not {rate}")
    source = _source_id(source_id, paths)
    stop = stop or asyncio.Event()
    bus = await open_bus(bus_url)
    try:
        if role == "ingest":
            return await ingest(
                bus, paths, source=source, dead_letter=dead_letter, rate=rate, seq_check=seq_check, stop=stop
            )
        strategy = Strategy(on_event=hooks)
        if pairs is None:
            needs = (("--state", state_url), ("--paper", paper), ("--opportunities", opportunities))
            given = [name for name, value in needs if value]
            if given:
                raise ConfigError(f"{', '.join(given)} needs --pairs (the approved pairs to watch)")
            return await _strategy_loop(
                bus, strategy, role, paths, source, dead_letter, rate, seq_check, durable, subjects, until_idle, stop
            )
        loop = _strategy_loop(
            bus, strategy, role, paths, source, dead_letter, rate, seq_check, durable, subjects, until_idle, stop
        )
        options = StrategyOptions(
            pairs=pairs,
            paper=paper is not None,
            paper_config=paper.config if paper else None,
            seed=paper.seed if paper else None,
            settlements=paper.settlements if paper else None,
            paper_report=paper.report if paper else None,
            opportunities=opportunities,
            state=state_url,
            run_config={"role": role, "source": source, "pairs": str(pairs)},
        )
        return await _run_with_pairs(bus, loop, strategy, role, options)
    finally:
        await bus.close()


@dataclass(frozen=True, slots=True)
class PaperOptions:
    """Paper trading in the strategy: settings file, report folder, settlements, seed override."""

    config: Path | None = None
    report: Path | None = None
    settlements: Path | None = None
    seed: int | None = None


async def _run_with_pairs(
    bus: EventBus,
    loop: Coroutine[Any, Any, dict[str, Any]],
    strategy: Strategy,
    role: str,
    options: StrategyOptions,
) -> dict[str, Any]:
    # The strategy with the arbitrage detector (and the paper trader) and their sinks, as every
    # path builds it (hadron.app.pipeline); ``loop`` (not started yet) runs the strategy until done
    try:
        pipeline = build_strategy(strategy.books, options, mode="live", role=role)
        if pipeline.wants_events:
            strategy.on_event.append(lambda envelope, books: _market_event(pipeline, envelope))
        await pipeline.open(bus=bus)
    except BaseException:
        loop.close()
        raise
    try:
        report = await loop
    finally:
        # recordings (role all): let every order in flight reach its venue; a live stop cancels them
        await pipeline.close(finish=role == "all", status="finished")
    section = report["strategy"] if role == "all" else report
    sections = pipeline.report()
    arbitrage = sections.get("arbitrage", {})
    arbitrage.setdefault("state_run", None)
    if pipeline.detector is not None:
        arbitrage["opportunities_found"] = [o.to_json() for o in pipeline.detector.results()]
    section["arbitrage"] = arbitrage
    if "paper" in sections:
        section["paper"] = sections["paper"]
    return report


def _market_event(pipeline: StrategyPipeline, envelope: Envelope) -> None:
    event = envelope.event
    if not isinstance(event, OpportunityUpdate):
        pipeline.on_event(event)


async def _strategy_loop(
    bus: EventBus,
    strategy: Strategy,
    role: str,
    paths: Sequence[Path],
    source: str,
    dead_letter: Path,
    rate: float,
    seq_check: str,
    durable: str | None,
    subjects: str,
    until_idle: float | None,
    stop: asyncio.Event,
) -> dict[str, Any]:
    # The strategy side of ``strategy`` or ``all`` until it is done
    if role == "strategy":
        stopped = await consume(
            bus, strategy, durable=durable, subjects=subjects, until_idle=until_idle, stop=stop, market_only=True
        )
        return {**strategy.report(), "stopped": stopped, "durable": durable}
    return await _run_all(bus, strategy, paths, source, dead_letter, rate, seq_check, durable, subjects, stop)


def _source_id(source_id: str | None, paths: Sequence[Path]) -> str:
    if source_id:
        return validate_source(source_id)
    return default_source_id(paths) if paths else ""


async def _run_all(
    bus: EventBus,
    strategy: Strategy,
    paths: Sequence[Path],
    source: str,
    dead_letter: Path,
    rate: float,
    seq_check: str,
    durable: str | None,
    subjects: str,
    stop: asyncio.Event,
) -> dict[str, Any]:
    sub = await bus.subscribe(market_handler(strategy), durable=durable, subjects=subjects)
    try:
        ingest_report = await ingest(
            bus, paths, source=source, dead_letter=dead_letter, rate=rate, seq_check=seq_check, stop=stop
        )
        if isinstance(bus, InProcessBus):
            await bus.drain()
        else:
            while await sub.pending() > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)
                if stop.is_set():
                    break
    finally:
        await sub.close()
    stopped = "signal" if stop.is_set() else "done"
    return {"role": "all", "ingest": ingest_report, "strategy": {**strategy.report(), "stopped": stopped}}


def run(role: str, **options: Any) -> dict[str, Any]:
    """Run :func:`run_role` in a new event loop; SIGINT and SIGTERM stop it cleanly (the report
    is still returned).

    Raises:
        HadronError: as :func:`run_role`.
    """

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
        try:
            return await run_role(role, stop=stop, **options)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    return asyncio.run(main())


def summary_line(report: dict[str, Any]) -> str:
    """One human line about a role's report."""
    if report.get("role") == "all":
        return f"{summary_line(report['ingest'])}\n{summary_line(report['strategy'])}"
    if report.get("role") == "ingest":
        return (
            f"ingest {report['source']}: published {report['events']:,} events "
            f"({report['stored']:,} new, {report['duplicates']:,} already on the bus) in {report['elapsed_s']:.2f} s"
            + ("" if report["complete"] else " (stopped early)")
        )
    states = ", ".join(f"{n} {s}" for s, n in report["books_by_state"].items() if n)
    return (
        f"strategy: {report['events']:,} events from {len(report['sources'])} sources, "
        f"{report['duplicates']:,} duplicates, {report['gaps']:,} gaps, {report['missing']:,} missing; "
        f"books {len(report['book_states'])} ({states or 'none'}); stopped: {report.get('stopped', '?')}"
    )
