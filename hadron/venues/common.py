"""Pieces every venue stream shares: rejecting bad frames without losing them."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from hadron.book.manager import BookManager
from hadron.errors import AuthError, ConfigError, HadronError, RequestError, TransportError
from hadron.metrics import FrameLatency
from hadron.venues.base import DeadLetterSink
from hadron.venues.feedstats import FeedStats

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


def classify_failure(exc: BaseException, venue: str, *, public: bool = False) -> HadronError:
    """Map a WebSocket dial or session failure to Hadron's tree: AuthError (401/403) and
    RequestError (other 4xx) are fatal; TransportError (network, timeouts, 429, 5xx) is retried.

    On a ``public`` channel (one that takes no credentials: Polymarket's market channel) a 401 or
    403 cannot be about a key: it is a refusal of the moment (a CDN's bot or rate rule, a region
    blocked for a while), a TransportError retried with back-off. Kalshi's signed handshake is not
    public: its 401/403 mean a refused key and stay fatal.
    """
    if isinstance(exc, HadronError):
        return exc
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        body = exc.response.body.decode("utf-8", "replace").strip()[:200] if exc.response.body else ""
        if status in (401, 403) and public:
            return TransportError(f"{venue} refused the WebSocket handshake ({status}) on a public channel: {body}")
        if status in (401, 403):
            return AuthError(f"{venue} refused the WebSocket handshake ({status}): {body or 'unauthorized'}")
        if 400 <= status < 500 and status != 429:
            return RequestError(f"{venue} refused the WebSocket handshake ({status}): {body}", status=status)
        return TransportError(f"WebSocket handshake failed with HTTP {status}")
    if isinstance(exc, OSError | TimeoutError | ConnectionClosed | InvalidHandshake | asyncio.TimeoutError):
        return TransportError(f"{type(exc).__name__}: {exc}")
    return TransportError(f"unexpected {type(exc).__name__}: {exc}")


def is_retryable(err: HadronError) -> bool:
    """Network failures, timeouts, 429 and 5xx are retried; auth and other 4xx are not."""
    return not isinstance(err, AuthError | RequestError)


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


class DialStats(Protocol):
    """The counters :func:`reconnect_loop` keeps on a connection's stats object."""

    dials: int
    connects: int
    reconnects: int
    failures: int
    last_error: str


async def reconnect_loop(
    *,
    venue: str,
    name: str,
    url: str,
    stop: asyncio.Event,
    stats: DialStats,
    backoff: Backoff,
    healthy_after: float,
    session: Callable[[ClientConnection, asyncio.Event], Awaitable[None]],
    headers: Callable[[], dict[str, str]] | None = None,
    open_timeout: float = 10.0,
    max_size: int,
    public: bool = False,
) -> None:
    """Dial ``url`` and run ``session`` on each connection until ``stop`` is set.

    Headers are built fresh for every dial (a signed handshake must be re-signed). ``max_size``
    is the largest frame accepted, in bytes (the venue's ``MAX_FRAME_BYTES``): a larger one closes
    the connection with 1009 (see :func:`closed_by_client`) and the loop dials again. A failure is
    classified (:func:`classify_failure`; ``public``: a channel without credentials, whose 401/403
    are retried): retryable ones wait a jittered exponential back-off, which starts again from its
    base once a connection stayed up ``healthy_after`` seconds. Any other exception out of a
    session (a bug: one frame's failures are contained by the streams) is logged with its
    traceback, counted as a failure and retried the same way: it never ends the feed.

    Raises:
        AuthError / RequestError: the venue refused the handshake for good (never retried).
        ConfigError: ``url`` is not a WebSocket URL.
    """
    while not stop.is_set():
        stats.dials += 1
        started = time.monotonic()
        try:
            async with connect(
                url,
                additional_headers=headers() if headers is not None else None,
                max_size=max_size,
                open_timeout=open_timeout,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=2,
            ) as ws:
                stats.connects += 1
                if stats.connects > 1:
                    stats.reconnects += 1
                await session(ws, stop)
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, HadronError) as exc:
            err = classify_failure(exc, venue, public=public)
            stats.last_error = str(err)
            if not is_retryable(err):
                log.error("connection failed for good", venue=venue, conn=name, error=str(err))
                raise err from exc
            stats.failures += 1
            log.warning("connection lost", venue=venue, conn=name, error=str(err), failures=stats.failures)
        except InvalidURI as exc:
            raise ConfigError(f"{venue} WebSocket URL {url!r} is not valid: {exc}") from exc
        except Exception as exc:  # a bug, not the network: logged whole, then retried like one
            stats.last_error = f"unexpected {type(exc).__name__}: {exc}"
            stats.failures += 1
            log.error("connection failed unexpectedly: reconnecting", venue=venue, conn=name, exc_info=exc)
        if stop.is_set():
            break
        if time.monotonic() - started >= healthy_after:
            backoff.reset()
            stats.failures = 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=backoff.next())


def closed_by_client(exc: ConnectionClosed, stream: StreamBase, stats: DialStats, max_size: int) -> None:
    """Account for a session that ended with ``exc``: when the client closed it with 1009 (a frame
    over ``max_size`` bytes, never received whole), that frame is counted, logged and written to
    the dead-letter file with what is known of it (its bytes are not kept: the limit is there so
    they are never held), and ``stats.last_error`` says so. Other closes need nothing here."""
    sent = exc.sent
    if sent is not None and sent.code == 1009:
        why = f"frame over the {max_size:,}-byte limit: connection closed (1009), frame not kept"
        stats.last_error = why
        stream.reject(b"", why)


async def watch_session(ws: ClientConnection, stop: asyncio.Event, unhealthy: Callable[[], bool]) -> None:
    """A session's watchdog, once a second and off the frame path.

    When ``stop`` is set the socket is closed politely (2 s at most), then aborted; when
    ``unhealthy()`` returns True (silence, PONGs stopped…) it is aborted so the reconnect loop dials
    again. Either way the session's receive loop ends with ``ConnectionClosed``. Runs until then.
    """
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if stop.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)
            ws.transport.abort()
            return
        if unhealthy():
            ws.transport.abort()
            return


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


async def measure_until_idle(stats: FeedStats, idle: float) -> tuple[int, float]:
    """Watch ``stats.frames`` until no frame arrived for ``idle`` seconds (after the first one);
    return ``(frames, seconds from the first frame seen to the last)`` (live-path benchmarks)."""
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


def latency_summary(connections: Sequence[Any]) -> dict[str, float | None]:
    """Per-frame processing time in the live path (socket read → decode → books → listeners) over
    ``connections``' histograms: exact mean, and p50/p99/p99.9 as their bucket's upper bound (µs)."""
    merged = FrameLatency().merge(c.latency for c in connections)
    frames = sum(merged.counts)
    return {
        "mean_us": round(merged.sum_ns / frames / 1000, 2) if frames else None,
        "p50_le_us": merged.quantile(0.5),
        "p99_le_us": merged.quantile(0.99),
        "p99_9_le_us": merged.quantile(0.999),
    }
