"""The process roles of ``hadron run``: ingest publishes normalized events, strategy consumes them.

* **ingest** replays recordings through the same venue streams and books as ``hadron replay`` and
  publishes every normalized event in an :class:`~hadron.bus.base.Envelope`: ``source`` is the
  shard's source id, ``seq`` the event's index in that replay (0, 1, 2, …). Replaying the same
  recordings again produces the same ``(source, seq)`` and therefore the same message ids, so a
  restarted ingest process republishes from the start and the bus drops what it already holds.
* **strategy** subscribes (durably on NATS, so a restart resumes), drops any envelope whose
  ``(source, seq)`` it has already applied, applies book events to its own
  :class:`~hadron.book.BookManager`, counts events per source and kind, detects gaps and
  duplicates per source, and calls its :attr:`Strategy.on_event` hooks, the place where arbitrage
  detection and paper trading plug in. Seqs are accounted from 0: a strategy process that resumes
  a durable consumer mid-stream reports the seqs its previous run handled as missing (its
  ``first_seq`` per source shows where it started), and its books become LIVE again only with
  the next snapshot of each instrument.
* **all** runs both in one process (the in-process bus by default).

The strategy's books are rebuilt from snapshots and deltas alone; an ingest-side invalidation
(a sequence gap, a reconnect) that has no event of its own reaches the strategy only through the
next snapshot.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import re
import signal
import threading
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from hadron.app.pipeline import StrategyOptions, StrategyPipeline, build_strategy
from hadron.app.replay import Replay, dump_books
from hadron.book.manager import BookManager, BookState
from hadron.bus import (
    EVENT_KINDS,
    BusError,
    Envelope,
    EventBus,
    InProcessBus,
    make_envelope,
    open_bus,
)
from hadron.bus.base import validate_source
from hadron.errors import BookError, ConfigError, InputError
from hadron.model.events import (
    BookDelta,
    BookInvalidated,
    BookSnapshot,
    BusEvent,
    MarketEvent,
    OpportunityUpdate,
    TickSizeChange,
    TopOfBook,
)

ROLES = ("ingest", "strategy", "all")

log = structlog.get_logger("hadron.roles")

_SUFFIXES = {".gz", ".zst", ".zstd", ".json", ".jsonl", ".ndjson"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def default_source_id(paths: Sequence[Path]) -> str:
    """Derive a stable source id from the recordings an ingest process replays.

    ``<name of the first path without recording suffixes>-<8 hex digits>``, the digits hashing the
    resolved paths in order: the same paths give the same id in every run (so a restart republishes
    the same message ids), different path lists give different ids.

    Raises:
        InputError: ``paths`` is empty.
    """
    if not paths:
        raise InputError("ingest needs at least one --source recording")
    name = paths[0].name
    while Path(name).suffix in _SUFFIXES:
        name = name[: -len(Path(name).suffix)]
    stem = _UNSAFE.sub("_", name).strip("_.")[:80] or "source"
    digest = hashlib.sha256("\0".join(str(p.resolve()) for p in paths).encode()).hexdigest()[:8]
    return f"{stem}-{digest}"


# -- sequence accounting -------------------------------------------------------------------------


class SeqTracker:
    """Which ``seq`` numbers of one source arrived: duplicates, gaps and holes.

    Seqs are expected from 0 without holes. Everything in ``[floor, watermark)`` arrived; seqs
    above the watermark that arrived early wait in a set until the holes before them fill. If that
    set outgrows ``max_ahead`` the watermark jumps over the oldest hole, whose seqs stay missing
    (one arriving later counts as a duplicate).
    """

    __slots__ = ("ahead", "duplicates", "floor", "gaps", "max_ahead", "max_seq", "received", "runs", "watermark")

    def __init__(self, max_ahead: int = 1_000_000) -> None:
        self.floor = 0
        self.watermark = 0
        self.runs: list[list[int]] = []
        self.ahead: set[int] = set()
        self.received = 0
        self.duplicates = 0
        self.gaps = 0
        self.max_seq = -1
        self.max_ahead = max_ahead

    def see(self, seq: int) -> bool:
        """Record ``seq``; return False if it arrived before (a duplicate)."""
        self.received += 1
        if seq < self.watermark or seq in self.ahead:
            self.duplicates += 1
            return False
        if seq > self.max_seq:
            if seq > self.max_seq + 1:
                self.gaps += 1
            self.max_seq = seq
        if seq == self.watermark:
            self._advance(seq + 1)
        else:
            self.ahead.add(seq)
            if len(self.ahead) > self.max_ahead:
                if self.watermark > self.floor:
                    self.runs.append([self.floor, self.watermark - 1])
                self.floor = min(self.ahead)
                self.ahead.remove(self.floor)
                self._advance(self.floor + 1)
        return True

    def _advance(self, watermark: int) -> None:
        ahead = self.ahead
        while watermark in ahead:
            ahead.remove(watermark)
            watermark += 1
        self.watermark = watermark

    @property
    def first_seq(self) -> int:
        """Lowest seq that arrived (-1: none yet)."""
        if self.runs:
            return self.runs[0][0]
        if self.watermark > self.floor:
            return self.floor
        return min(self.ahead) if self.ahead else -1

    @property
    def unique(self) -> int:
        """Distinct seqs that arrived."""
        return self.received - self.duplicates

    @property
    def missing(self) -> int:
        """Seqs in ``[0, max_seq]`` that have not arrived."""
        return self.max_seq + 1 - self.unique

    def ranges(self) -> list[list[int]]:
        """The seqs that arrived as inclusive ``[first, last]`` runs, ascending."""
        out = [list(run) for run in self.runs]
        if self.watermark > self.floor:
            out.append([self.floor, self.watermark - 1])
        for seq in sorted(self.ahead):
            if out and seq == out[-1][1] + 1:
                out[-1][1] = seq
            else:
                out.append([seq, seq])
        return out


# -- strategy ------------------------------------------------------------------------------------


class TopPath:
    """Digests of each instrument's top-of-book path: feed it :class:`TopOfBook` events (it is a
    :meth:`BookManager.add_top_listener` listener) and compare :meth:`report` between processes.

    Only prices and sizes enter the digest (clocks differ between a live run and a replay).
    """

    def __init__(self) -> None:
        self._digests: dict[str, Any] = {}
        self._changes: dict[str, int] = {}

    def on_top(self, top: TopOfBook) -> None:
        """Add one top of book to its instrument's path."""
        digest = self._digests.get(top.instrument)
        if digest is None:
            digest = self._digests[top.instrument] = hashlib.blake2b(digest_size=16)
            self._changes[top.instrument] = 0
        digest.update(f"{top.bid_price},{top.bid_size},{top.ask_price},{top.ask_size};".encode())
        self._changes[top.instrument] += 1

    def report(self) -> dict[str, dict[str, Any]]:
        """``{instrument: {"changes": int, "digest": hex str}}``, sorted by instrument."""
        return {
            inst: {"changes": self._changes[inst], "digest": self._digests[inst].hexdigest()}
            for inst in sorted(self._digests)
        }


StrategyHook = Callable[[Envelope, BookManager], None]
"""Called with every new envelope after its book event was applied: ``(envelope, books)``."""


class Strategy:
    """Consumes envelopes: de-duplicates by ``(source, seq)``, keeps books, counts, calls hooks.

    Args:
        on_event: hooks called, in order, with every envelope applied for the first time and the
            book manager; arbitrage detection and paper trading plug in here. A hook that raises
            is logged and counted in ``hook_errors``; the envelope still counts as handled.
    """

    def __init__(self, on_event: Sequence[StrategyHook] = ()) -> None:
        self.books = BookManager()
        self.on_event: list[StrategyHook] = list(on_event)
        self.sources: dict[str, SeqTracker] = {}
        self.by_source_kind: dict[str, dict[str, int]] = {}
        self.by_kind: dict[str, int] = {}
        self.received = 0
        self.book_errors = 0
        self.hook_errors = 0
        self.last_activity = time.monotonic()
        self.started = time.monotonic()
        self._tokens: dict[str, str] = {}
        self.tops = TopPath()
        self.books.add_top_listener(self.tops.on_top)
        self.lags_ns: collections.deque[int] = collections.deque(maxlen=4096)
        """Receive (at the venue's feed) to handled here, ns, of one event in 64."""

    def handle(self, envelope: Envelope) -> None:
        """Apply one envelope (the bus handler). Never raises."""
        self.received += 1
        self.last_activity = time.monotonic()
        source = envelope.source
        tracker = self.sources.get(source)
        if tracker is None:
            tracker = self.sources[source] = SeqTracker()
            self._tokens[source] = source
            self.by_source_kind[source] = {}
        if not tracker.see(envelope.seq):
            return
        event = envelope.event
        if not self.received & 63:
            lag = time.time_ns() - event.ts_recv
            if 0 <= lag < 3_600 * 10**9:
                self.lags_ns.append(lag)
        kind = EVENT_KINDS[type(event)]
        counts = self.by_source_kind[source]
        counts[kind] = counts.get(kind, 0) + 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        self._apply(event, self._tokens[source])
        for hook in self.on_event:
            try:
                hook(envelope, self.books)
            except Exception as exc:
                self.hook_errors += 1
                log.exception("strategy hook failed", hook=getattr(hook, "__name__", repr(hook)), error=str(exc))

    def _apply(self, event: BusEvent, token: str) -> None:
        try:
            if type(event) is BookDelta:
                self.books.apply_delta(event, token)
            elif type(event) is BookSnapshot:
                self.books.apply_snapshot(event, token)
            elif type(event) is TickSizeChange:
                self.books.apply_tick_size_change(event)
            elif type(event) is BookInvalidated:
                self.books.invalidate(event.instrument, f"upstream: {event.reason}")
        except BookError as exc:
            self.book_errors += 1
            log.warning("book event rejected", instrument=event.instrument, error=str(exc))

    def dump_books(self) -> dict[str, dict[str, list[list[str]]]]:
        """Every book that was ever LIVE, in the format of :meth:`Replay.dump_books`."""
        return dump_books(self.books)

    def report(self) -> dict[str, Any]:
        """The strategy report: counts, per-source seq accounting, books and integrity."""
        elapsed = time.monotonic() - self.started
        stats = self.books.stats.as_dict()
        stats.pop("examples")
        unique = sum(t.unique for t in self.sources.values())
        return {
            "role": "strategy",
            "events": unique,
            "received": self.received,
            "duplicates": sum(t.duplicates for t in self.sources.values()),
            "gaps": sum(t.gaps for t in self.sources.values()),
            "missing": sum(t.missing for t in self.sources.values()),
            "by_kind": dict(sorted(self.by_kind.items())),
            "sources": {
                source: {
                    "events": t.unique,
                    "received": t.received,
                    "duplicates": t.duplicates,
                    "gaps": t.gaps,
                    "missing": t.missing,
                    "first_seq": t.first_seq,
                    "last_seq": t.max_seq,
                    "seqs": t.ranges(),
                    "by_kind": dict(sorted(self.by_source_kind[source].items())),
                }
                for source, t in sorted(self.sources.items())
            },
            "books": self.dump_books(),
            "books_by_state": self.books.states(),
            "book_states": {b.instrument: b.state.value for b in sorted(self.books, key=lambda b: b.instrument)},
            "tops": self.tops.report(),
            "book_integrity": stats,
            "book_errors": self.book_errors,
            "hook_errors": self.hook_errors,
            "elapsed_s": round(elapsed, 3),
            "events_per_s": round(unique / elapsed) if elapsed > 0 else 0,
            "lag_ms": _quantiles(self.lags_ns),
        }


def _quantiles(values: Iterable[int]) -> dict[str, float] | None:
    # p50/p99/max of ns values, in ms
    ordered = sorted(values)
    if not ordered:
        return None
    return {
        "p50": round(ordered[len(ordered) // 2] / 1e6, 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6, 3),
        "max": round(ordered[-1] / 1e6, 3),
    }


async def consume(
    bus: EventBus,
    strategy: Strategy,
    *,
    durable: str | None = None,
    subjects: str = ">",
    until_idle: float | None = None,
    stop: asyncio.Event | None = None,
    market_only: bool = False,
) -> str:
    """Feed ``strategy`` from ``bus`` until told to stop; return why it stopped.

    Args:
        bus: where envelopes come from.
        strategy: what handles them.
        durable: durable subscription name (resume after restart); ``None``: from now on.
        subjects: subject filter relative to the bus prefix.
        until_idle: stop after this many seconds without an envelope (``None``: never).
        stop: stop when set (signals).
        market_only: skip the ``opportunity`` events other strategies (and this one) publish.

    Returns:
        ``"idle"`` or ``"signal"``.

    Raises:
        ConfigError: a bad durable name or filter.
        BusError: the bus refused the subscription.
    """
    stop = stop or asyncio.Event()
    strategy.last_activity = time.monotonic()
    handle = strategy.handle
    if market_only:

        def handle(envelope: Envelope) -> None:
            if type(envelope.event) is not OpportunityUpdate:
                strategy.handle(envelope)

    sub = await bus.subscribe(handle, durable=durable, subjects=subjects)
    try:
        while True:
            if stop.is_set():
                return "signal"
            if until_idle is not None and time.monotonic() - strategy.last_activity >= until_idle:
                return "idle"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
    finally:
        await sub.close()


# -- ingest --------------------------------------------------------------------------------------


class LivePublisher:
    """Publishes a live feed's normalized events on the bus, off the frame path.

    :meth:`on_event` (the feeds' event sink, also given every :class:`BookInvalidated`) wraps each
    event as ``(source, seq)`` with ``seq`` from 0 and queues it; :meth:`run` (a task) publishes the
    queue in batches with :func:`publish_with_retry`. The source id must be new for every process
    start (:func:`live_source_id`): live events cannot be replayed identically, so a restarted
    ingest starts a new seq space instead of colliding with its previous run's message ids.

    While the bus is away the envelopes stay queued, in order, and each batch is retried (the
    message ids make a retry safe); a queue that reaches ``max_queue`` envelopes drops the newest
    and counts them in ``dropped`` (the strategy sees the hole as missing seqs). At :meth:`close`,
    what the bus still refuses after the retries is counted in ``errors``.
    """

    def __init__(self, bus: EventBus, source: str, *, batch: int = 512, max_queue: int = 1_000_000) -> None:
        self.bus = bus
        self.source = validate_source(source)
        self.batch = batch
        self.max_queue = max_queue
        self.seq = 0
        self.published = 0
        self.stored = 0
        self.duplicates = 0
        self.dropped = 0
        self.errors = 0
        self.checkpoints = 0
        self.started = time.monotonic()
        self.lag_ns: list[int] = []
        """Receive-to-published delay of one event per batch, ns (the last 1,000 batches)."""
        self._queue: collections.deque[Envelope] = collections.deque()
        self._wake = asyncio.Event()
        self._closing = False

    def on_event(self, event: BusEvent) -> None:
        """Queue ``event`` (never blocks, never raises)."""
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            if self.dropped in (1, 1000) or self.dropped % 100_000 == 0:
                log.error("bus publisher queue full: events dropped", dropped=self.dropped, source=self.source)
            return
        self._queue.append(make_envelope(self.source, self.seq, event))
        self.seq += 1
        if not self._wake.is_set():
            self._wake.set()

    def checkpoint(self, books: BookManager) -> int:
        """Publish every LIVE book of ``books`` as a :class:`BookSnapshot` (its levels as of its
        last update, that update's times), in sequence with the deltas: a strategy that starts or
        resumes mid-stream has LIVE books again from the next checkpoint, and one already in sync
        checks its books against them (``snapshot_checks``, ``snapshot_mismatches``). Returns
        how many were published."""
        n = 0
        for book in books:
            if book.state is BookState.LIVE:
                levels = (tuple(book.levels_bid()), tuple(book.levels_ask()))
                self.on_event(BookSnapshot(book.instrument, *levels, book.ts_event, book.ts_recv))
                n += 1
        self.checkpoints += 1
        return n

    def invalidated(self, book: Any, reason: str) -> None:
        """A book-manager invalidation listener: publish it as a :class:`BookInvalidated`."""
        self.on_event(BookInvalidated(book.instrument, reason, book.ts_event, book.ts_recv))

    async def run(self) -> None:
        """Publish until :meth:`close`, then what is still queued."""
        queue = self._queue
        while True:
            if not queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            part = [queue.popleft() for _ in range(min(self.batch, len(queue)))]
            try:
                stored, duplicates = await publish_with_retry(self.bus, part)
            except BusError as exc:
                if self._closing:  # stopping: give up on what the bus still refuses
                    self.errors += len(part) + len(queue)
                    log.error("events not published", events=len(part) + len(queue), error=str(exc))
                    queue.clear()
                    return
                queue.extendleft(reversed(part))  # the bus is away: keep them, in order, and try again
                log.error("bus unavailable: events kept queued", queued=len(queue), error=str(exc))
                continue
            self.published += len(part)
            self.stored += stored
            self.duplicates += duplicates
            event = part[-1].event
            lag = time.time_ns() - getattr(event, "ts_recv", 0)
            if 0 <= lag < 3_600 * 10**9:
                self.lag_ns.append(lag)
                if len(self.lag_ns) > 1000:
                    del self.lag_ns[:500]

    async def close(self) -> None:
        """Let :meth:`run` publish what is queued, then end."""
        self._closing = True
        self._wake.set()

    def report(self) -> dict[str, Any]:
        """``source``, ``events`` (the next seq), ``published``, ``stored``, ``duplicates``,
        ``dropped``, ``errors``, ``queued``, ``events_per_s`` and the publish lag (ms, p50/p99)."""
        elapsed = time.monotonic() - self.started
        lags = sorted(self.lag_ns)

        def q(p: float) -> float | None:
            return round(lags[min(len(lags) - 1, int(p * len(lags)))] / 1e6, 3) if lags else None

        return {
            "role": "ingest",
            "source": self.source,
            "events": self.seq,
            "published": self.published,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "errors": self.errors,
            "checkpoints": self.checkpoints,
            "queued": len(self._queue),
            "events_per_s": round(self.published / elapsed) if elapsed > 0 else 0,
            "lag_ms_p50": q(0.5),
            "lag_ms_p99": q(0.99),
        }


def live_source_id(name: str | None, venues: Sequence[str]) -> str:
    """The source id of a live ingest process: ``<name or "ingest-" + venues>-<8 hex digits>``,
    new for every start (see :class:`LivePublisher`).

    Raises:
        ConfigError: ``name`` cannot name a source.
    """
    stem = validate_source(name) if name else "ingest-" + "+".join(venues or ["none"])
    return f"{stem}-{uuid.uuid4().hex[:8]}"


class _Stopped(Exception):
    pass


class ReplayFeeder:
    """Runs :class:`Replay` in a worker thread and hands its events to the event loop in chunks.

    At most ``max_chunks`` chunks wait in between, so a slow publisher slows the replay down
    instead of filling memory.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        dead_letter: Path,
        seq_check: str = "auto",
        chunk: int = 512,
        max_chunks: int = 8,
    ) -> None:
        self.paths = list(paths)
        self.dead_letter = dead_letter
        self.seq_check = seq_check
        self.chunk = chunk
        self.replay: Replay | None = None
        self.error: BaseException | None = None
        self._slots = threading.Semaphore(max_chunks)
        self._stop = threading.Event()
        self._queue: asyncio.Queue[list[MarketEvent] | None] = asyncio.Queue()
        self._finished = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="hadron-ingest-replay", daemon=True)

    async def chunks(self) -> AsyncGenerator[list[MarketEvent], None]:
        """Yield the replay's events in order, in chunks, until it ends.

        Raises:
            InputError: a recording cannot be read (raised by the replay).
        """
        self._thread.start()
        while True:
            chunk = await self._queue.get()
            if chunk is None:
                break
            self._slots.release()
            yield chunk
        if self.error is not None:
            raise self.error

    async def stop(self) -> None:
        """Stop the replay (if still running) and wait for its thread."""
        self._stop.set()
        if self._thread.is_alive():
            await self._finished.wait()

    def _run(self) -> None:
        buffer: list[MarketEvent] = []

        def on_event(event: MarketEvent) -> None:
            buffer.append(event)
            if len(buffer) >= self.chunk:
                self._send(buffer[:])
                buffer.clear()

        try:
            self.replay = Replay(dead_letter=self.dead_letter, seq_check=self.seq_check, on_event=on_event)
            self.replay.run(self.paths)
            if buffer:
                self._send(buffer[:])
        except _Stopped:
            pass
        except BaseException as exc:
            self.error = exc
        finally:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
                self._loop.call_soon_threadsafe(self._finished.set)

    def _send(self, chunk: list[MarketEvent]) -> None:
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                raise _Stopped
        if self._stop.is_set():
            raise _Stopped
        self._loop.call_soon_threadsafe(self._queue.put_nowait, chunk)


async def publish_with_retry(
    bus: EventBus, envelopes: list[Envelope], *, attempts: int = 8, stop: asyncio.Event | None = None
) -> tuple[int, int]:
    """Publish a batch, retrying with back-off (0.5 s doubling up to 10 s) when the bus fails;
    the message ids make a retry safe. Returns ``(stored, duplicates)``.

    Raises:
        BusError: still failing after ``attempts`` tries (or ``stop`` was set meanwhile).
    """
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            result = await bus.publish_many(envelopes)
            return result.stored, result.duplicates
        except BusError as exc:
            if attempt == attempts or (stop is not None and stop.is_set()):
                raise
            log.warning("publish failed; retrying", attempt=attempt, delay_s=delay, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(10.0, delay * 2)
    raise AssertionError("unreachable")


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
        source: the shard's source id (see :func:`default_source_id`).
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


# -- the command ---------------------------------------------------------------------------------


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
    :meth:`Strategy.report`; ``all`` returns ``{"role": "all", "ingest": …, "strategy": …}``).

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
        stopped = await consume(bus, strategy, durable=durable, subjects=subjects, until_idle=until_idle, stop=stop)
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
    sub = await bus.subscribe(strategy.handle, durable=durable, subjects=subjects)
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
