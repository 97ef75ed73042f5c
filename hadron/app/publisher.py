"""The ingest side of the bus: source ids, and normalized events published as envelopes.

* :func:`default_source_id` names a replaying ingest process's events after its recordings (the
  same recordings, the same ids: a restart republishes the same message ids);
  :func:`live_source_id` names a live one's, new for every start;
* :class:`LivePublisher` publishes a live feed's events off the frame path, in batches;
* :func:`publish_with_retry` publishes one batch, retrying while the bus is away.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from hadron.book.manager import BookManager, BookState
from hadron.bus import BusError, Envelope, EventBus, make_envelope
from hadron.bus.base import validate_source
from hadron.errors import InputError
from hadron.model.events import BookInvalidated, BookSnapshot, BusEvent

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
