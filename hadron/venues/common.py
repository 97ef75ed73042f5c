"""Pieces every venue stream shares: rejecting bad frames without losing them, back-off, pool
health and live-path measurement. The connection loop itself (dialling, reconnecting, failure
classification) is :mod:`hadron.venues.wsclient`, re-exported here."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from hadron.book.manager import BookManager
from hadron.metrics import FrameLatency
from hadron.venues.base import DeadLetterSink
from hadron.venues.feedstats import FeedStats
from hadron.venues.wsclient import (  # re-exported: the sessions' connection code lives there
    DialStats,
    classify_failure,
    closed_by_client,
    is_retryable,
    reconnect_loop,
    watch_session,
)

_LOG_FIRST = 20
_LOG_EVERY = 1000
_LOG_RAW_LIMIT = 4096

log = structlog.get_logger("hadron.feed")


class StreamBase:
    """Book-keeping common to venue streams: counters, dead letters, invalidation."""

    def __init__(
        self,
        venue: str,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        delta_kind: str = "",
    ) -> None:
        self.venue = venue
        self.books = books
        self.conn = conn
        self.stats = stats
        self.dead_letter = dead_letter
        self._rejected = 0
        if delta_kind:  # the venue's delta message: its count is a typed counter (FeedStats.count)
            stats.claim_deltas(delta_kind)

    def on_rest(self, request: str, body: bytes, recv_ns: int) -> None:
        """Recorded REST responses are not replayed for this venue: each is rejected (kept)."""
        self.stats.frames += 1
        self.reject(body, f"no REST replay for {self.venue}: {request}")

    def reject(self, raw: bytes, error: str, instrument: str | None = None) -> None:
        """Count, log and dead-letter a frame that could not be used.

        When the frame belonged to a known book, that book can no longer be trusted (a change
        was lost) and goes AWAITING_SNAPSHOT.
        """
        if not isinstance(raw, bytes):  # a str or memoryview from an API caller: kept as bytes
            raw = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)  # type: ignore[unreachable]
        self.stats.decode_errors += 1
        self._rejected += 1
        self.dead_letter.write(raw, error, self.conn)
        if self._rejected <= _LOG_FIRST or self._rejected % _LOG_EVERY == 0:
            log.warning(
                "frame rejected",
                venue=self.venue,
                conn=self.conn,
                error=error,
                rejected=self._rejected,
                raw=raw[:_LOG_RAW_LIMIT].decode("utf-8", errors="backslashreplace"),
            )
        if instrument is not None:
            self.books.invalidate(instrument, f"lost an update: {error}")

    def fault(self, raw: bytes, where: str, exc: BaseException, instrument: str | None = None) -> None:
        """Contain an unexpected exception raised while handling one frame (a bug, or input no
        check foresaw, such as JSON nested past the decoder's recursion limit): the frame is
        rejected as :meth:`reject` does (counted in ``decode_errors``, dead-lettered with its raw
        bytes, ``instrument``'s book invalidated) and, for the first ones, the traceback logged
        (none for JSON nested too deep: hostile input, not a bug); the stream goes on."""
        if not isinstance(exc, RecursionError) and (
            self._rejected < _LOG_FIRST or (self._rejected + 1) % _LOG_EVERY == 0
        ):
            log.error("frame handling failed", venue=self.venue, conn=self.conn, where=where, exc_info=exc)
        self.reject(raw, f"{where}: {_describe(exc)}", instrument)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested deeper than the decoder follows (RecursionError)"
    return f"unexpected {type(exc).__name__}: {exc}"


class Backoff:
    """Jittered exponential back-off: ``min(max, base × factor^n)`` plus up to 25 % jitter.

    ``random`` is injectable so tests are deterministic.
    """

    def __init__(
        self,
        *,
        base: float = 0.5,
        factor: float = 2.0,
        max_delay: float = 30.0,
        random_fn: Callable[[], float] = random.random,
    ) -> None:
        self.base = base
        self.factor = factor
        self.max_delay = max_delay
        self.random = random_fn
        self.attempt = 0

    def next(self) -> float:
        """Return the next delay in seconds and move on."""
        delay = min(self.max_delay, self.base * self.factor**self.attempt)
        self.attempt += 1
        return delay + delay * 0.25 * self.random()

    def reset(self) -> None:
        """Start again from ``base`` (after a healthy connection)."""
        self.attempt = 0


def pool_health(connections: Sequence[Any], *, shard: str, frozen: int = 0) -> dict[str, Any]:
    """A pool's health for the runtime (see :meth:`hadron.venues.base.LiveFeed.health`):
    per connection its state and counters, and ``shard`` (``"markets"``/``"tokens"``) as the size
    of the connection's attribute of that name; the merged frame-latency histogram."""
    return {
        "connections": [
            {
                "name": c.name,
                "connected": c.connected.is_set(),
                "frames": c.stats.frames,
                "last_frame_ns": c.stats.last_frame_ns,
                "reconnects": c.stats.reconnects,
                shard: len(getattr(c, shard)),
                "last_error": c.stats.last_error,
            }
            for c in connections
        ],
        "frozen": frozen,
        "latency": FrameLatency().merge(c.latency for c in connections),
    }


async def measure_until_idle(stats: FeedStats, idle: float, limit: float | None = None) -> tuple[int, float]:
    """Watch ``stats.frames`` until no frame arrived for ``idle`` seconds (after the first one), or
    ``limit`` seconds passed since the first one; return ``(frames, seconds from the first frame
    seen to the last)`` (live-path benchmarks)."""
    first = last = 0.0
    seen = 0
    while True:
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        if stats.frames != seen:
            first = first or now
            seen, last = stats.frames, now
        elif seen and now - last > idle:
            return seen, max(last - first, 1e-9)
        if limit is not None and seen and now - first >= limit:
            return seen, max(last - first, 1e-9)


def latency_summary(connections: Sequence[Any], attribute: str = "latency") -> dict[str, float | None]:
    """Per-frame time in the live path over ``connections``' histograms named ``attribute``:
    ``latency``, the processing (decode → normalize → books → listeners), or ``read_latency``, from
    the socket read that brought the frame to its books updated. Exact mean, and p50/p99/p99.9 as
    their bucket's upper bound (µs)."""
    merged = FrameLatency().merge(getattr(c, attribute) for c in connections)
    frames = sum(merged.counts)
    return {
        "mean_us": round(merged.sum_ns / frames / 1000, 2) if frames else None,
        "p50_le_us": merged.quantile(0.5),
        "p99_le_us": merged.quantile(0.99),
        "p99_9_le_us": merged.quantile(0.999),
    }


__all__ = [
    "Backoff",
    "DialStats",
    "StreamBase",
    "classify_failure",
    "closed_by_client",
    "is_retryable",
    "latency_summary",
    "measure_until_idle",
    "pool_health",
    "reconnect_loop",
    "watch_session",
]
