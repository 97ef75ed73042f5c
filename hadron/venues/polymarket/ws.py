"""Polymarket CLOB market channel: connections, a sharded pool, and the freeze watchdog.

A :class:`PolymarketConnection` follows the channel's rules (``docs/protocols/polymarket.md#market-channel``):
the first frame is ``{"assets_ids": […], "type": "market", "custom_feature_enabled": true}``;
later changes only ever use ``{"operation": "subscribe" | "unsubscribe", …}``; the text ``PING``
goes out every 10 s, never before that first subscription, and a connection that stops
answering ``PONG`` is recycled. Every dial is a new stream: all its tokens go AWAITING_SNAPSHOT
and the initial subscription is sent again. Re-subscribing a token (unsubscribe, then
subscribe) brings a fresh ``book``; the stream asks for it after a hash mismatch, a persistent
best bid/ask disagreement or a tick-size change.

A :class:`PolymarketPool` shards tokens over connections (at most ``max_tokens_per_connection``
each, a market's YES and NO tokens always together), reference-counts subscriptions, moves the
tokens of a connection that failed for good (or ``max_failures`` dials in a row while others are
up) to the healthy ones, as :class:`~hadron.venues.kalshi.pool.KalshiPool` does with markets, and
runs the **freeze watchdog**: a token silent for longer than its window while its REST book
(``GET /book``) is newer than ours is re-subscribed; when several tokens of one connection froze,
the connection is recycled. Silent sockets that still answer ``PING`` are the failure this
catches.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import msgspec
import structlog

from hadron.book.manager import BookManager, BookState
from hadron.errors import TransportError, VenueError
from hadron.store.recorder import AsyncFrameRecorder, FrameRecorder
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats
from hadron.venues.connection import CountedConnection
from hadron.venues.polymarket.messages import MAX_FRAME_BYTES
from hadron.venues.polymarket.normalize import VENUE_PREFIX
from hadron.venues.polymarket.stream import MarketMeta, PolymarketStream
from hadron.venues.session import Backoff
from hadron.venues.wsclient import WsConnection, closed_by_client, reconnect_loop, watch_session

log = structlog.get_logger("hadron.polymarket.ws")

MARKET_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
MAX_TOKENS_PER_CONNECTION = 200
"""Tokens per connection: delivery stopped past 500 in practice; 200 is the safe default."""


class BookSource(Protocol):
    """What the freeze watchdog needs from the CLOB REST client: ``get_book(token_id)``
    returning an object with ``timestamp`` (ms string) and ``hash``."""

    async def get_book(self, token_id: str) -> Any:
        """Return the token's REST order book summary."""


@dataclass
class PolymarketConnectionStats:
    """What one connection has been through."""

    dials: int = 0
    connects: int = 0
    reconnects: int = 0
    failures: int = 0
    frames: int = 0
    last_frame_ns: int = 0
    """Receive time of the latest frame, ns since the epoch (0: none yet)."""
    recorder_dropped: int = 0
    """Frames the recorder's full queue dropped (the books still got them)."""
    pings: int = 0
    pongs: int = 0
    recycles: int = 0
    resubscribes: int = 0
    last_error: str = ""


RecorderFactory = Callable[[str], AsyncFrameRecorder]


class PolymarketConnection(CountedConnection[PolymarketConnectionStats]):
    """One market-channel connection carrying ``tokens``.

    Args:
        name: connection name (logs, recordings; each dial appends ``.<n>``).
        url: the market-channel URL.
        books: the shared book manager.
        tokens: token ids of this shard (owned and changed by the connection).
        stats: counters shared by every Polymarket stream.
        dead_letter: where rejected frames go.
        meta: market metadata for the book hash (see :class:`PolymarketStream`).
        recorder: makes an :class:`AsyncFrameRecorder` per dial (``None``: no recording).
        ping_interval: seconds between text ``PING`` frames (10 s per the docs).
        pong_timeout: seconds without ``PONG`` after which the connection is recycled.
        healthy_after: seconds connected after which the back-off starts again from its base.
        resync_retry: seconds before the same token is re-subscribed again.
        client: the WebSocket client library (``"picows"`` or ``"websockets"``; ``None``:
            :func:`hadron.venues.wsclient.default_client`).
    """

    def __init__(
        self,
        name: str,
        url: str,
        books: BookManager,
        tokens: Sequence[str],
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        on_event: EventSink | None = None,
        meta: MarketMeta | None = None,
        recorder: RecorderFactory | None = None,
        backoff: Backoff | None = None,
        ping_interval: float = 10.0,
        pong_timeout: float = 30.0,
        healthy_after: float = 30.0,
        resync_retry: float = 2.0,
        open_timeout: float = 10.0,
        client: str | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.client = client
        self.books = books
        self.tokens = list(dict.fromkeys(tokens))
        self.feed_stats = stats
        self.dead_letter = dead_letter
        self.on_event = on_event
        self.meta = meta
        self.recorder = recorder
        self.backoff = backoff or Backoff()
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.healthy_after = healthy_after
        self.resync_retry = resync_retry
        self.open_timeout = open_timeout
        super().__init__(PolymarketConnectionStats())
        self.connected = asyncio.Event()
        self.stream: PolymarketStream | None = None
        self._ws: WsConnection | None = None
        self._initial_sent = False
        self._last_pong = 0.0
        self._asked: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dial, subscribe, ping and read until ``stop`` is set; reconnect on retryable failures.

        Raises:
            AuthError / RequestError: the venue refused the handshake for good.
        """
        await reconnect_loop(
            venue="Polymarket",
            name=self.name,
            url=self.url,
            stop=stop,
            stats=self.stats,
            backoff=self.backoff,
            healthy_after=self.healthy_after,
            session=self._session,
            open_timeout=self.open_timeout,
            max_size=MAX_FRAME_BYTES,
            public=True,  # the market channel takes no credentials: a 401/403 is retried
            client=self.client,
        )

    async def _session(self, ws: WsConnection, stop: asyncio.Event) -> None:
        conn = f"{self.name}.{self.stats.dials}"
        stream = PolymarketStream(
            self.books,
            conn,
            stats=self.feed_stats,
            dead_letter=self.dead_letter,
            on_event=self.on_event,
            meta=self.meta,
            on_resync=self._on_resync,
        )
        recorder = self.recorder(conn) if self.recorder is not None else None
        if recorder is not None:
            recorder.start()
        for token in self.tokens:  # a new stream: every book waits for its snapshot
            self.books.invalidate(VENUE_PREFIX + token, f"connection {conn} started")
        self._ws, self.stream, self._initial_sent, self._asked = ws, stream, False, {}
        self._last_pong = time.monotonic()
        self.connected.set()
        ws.on_message(self._open_sink(stream.on_frame, recorder, on_pong=self._pong))  # see CountedConnection
        pinger = asyncio.create_task(self._ping(ws))
        watchdog = asyncio.create_task(watch_session(ws, stop, self._unhealthy))
        try:
            if self.tokens:
                await self._send_initial(self.tokens)
            await ws.wait_closed()  # the watchdog closes the socket on stop or when PONGs stop
            closed_by_client(ws, stream, self.stats, MAX_FRAME_BYTES)
        finally:
            pinger.cancel()
            watchdog.cancel()
            await asyncio.gather(pinger, watchdog, return_exceptions=True)
            self._close_sink()
            self.connected.clear()
            self._ws = None
            if recorder is not None:
                await recorder.close()
                self.stats.recorder_dropped += recorder.dropped
            for token in self.tokens:
                self.books.invalidate(VENUE_PREFIX + token, f"connection {conn} ended")

    def _pong(self) -> None:
        self._last_pong = time.monotonic()
        self.stats.pongs += 1

    def _unhealthy(self) -> bool:
        # Once a second (the session watchdog): no PONG for pong_timeout → recycle
        self._counted()
        if self._initial_sent and time.monotonic() - self._last_pong > self.pong_timeout:
            log.warning("polymarket connection stopped answering PING: recycling", conn=self.name)
            self.stats.recycles += 1
            return True
        return False

    async def _ping(self, ws: WsConnection) -> None:
        # Text PING every ping_interval, only once the first subscription went out
        with contextlib.suppress(TransportError, asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.ping_interval)
                if self._initial_sent:
                    await ws.send("PING")
                    self.stats.pings += 1

    async def _send(self, payload: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            raise TransportError(f"{self.name} is not connected")
        await ws.send(msgspec.json.encode(payload).decode())

    async def _send_initial(self, tokens: Sequence[str]) -> None:
        await self._send({"assets_ids": list(tokens), "type": "market", "custom_feature_enabled": True})
        self._initial_sent = True

    async def subscribe(self, tokens: Sequence[str]) -> None:
        """Add ``tokens`` (``operation: subscribe`` once the initial subscription went out)."""
        new = [t for t in tokens if t not in self.tokens]
        self.tokens.extend(new)
        if not new or self._ws is None:
            return
        if not self._initial_sent:
            await self._send_initial(self.tokens)
        else:
            await self._send({"operation": "subscribe", "assets_ids": new, "custom_feature_enabled": True})

    async def unsubscribe(self, tokens: Sequence[str]) -> None:
        """Remove ``tokens`` (``operation: unsubscribe`` when connected)."""
        gone = [t for t in tokens if t in self.tokens]
        self.tokens = [t for t in self.tokens if t not in gone]
        if gone and self._ws is not None and self._initial_sent:
            await self._send({"operation": "unsubscribe", "assets_ids": gone})

    async def resubscribe(self, tokens: Sequence[str]) -> None:
        """Unsubscribe and subscribe ``tokens`` again: the venue sends fresh ``book`` snapshots."""
        if self._ws is None or not self._initial_sent:
            return
        self.stats.resubscribes += 1
        for token in tokens:
            self.books.invalidate(VENUE_PREFIX + token, "re-subscribing")
        await self._send({"operation": "unsubscribe", "assets_ids": list(tokens)})
        await self._send({"operation": "subscribe", "assets_ids": list(tokens), "custom_feature_enabled": True})

    async def recycle(self) -> None:
        """Close the connection; the run loop dials again and re-sends the subscription."""
        ws = self._ws
        if ws is not None:
            self.stats.recycles += 1
            await ws.close()

    def _on_resync(self, tokens: list[str], reason: str) -> None:
        now = time.monotonic()
        due = [t for t in tokens if t in self.tokens and now - self._asked.get(t, -math.inf) >= self.resync_retry]
        if not due:
            return
        for token in due:
            self._asked[token] = now
        log.info("re-subscribing tokens", conn=self.name, tokens=len(due), reason=reason)
        task = asyncio.get_running_loop().create_task(self._resubscribe_quietly(due))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resubscribe_quietly(self, tokens: list[str]) -> None:
        with contextlib.suppress(TransportError):
            await self.resubscribe(tokens)


@dataclass
class FreezeStats:
    """What the freeze watchdog did (exposed for the dashboard and metrics)."""

    checks: int = 0
    """Silent tokens whose REST book was fetched."""
    frozen: int = 0
    """Silent tokens whose REST book was newer than ours: a freeze."""
    resubscribed: int = 0
    recycled_connections: int = 0
    rest_errors: int = 0


class PolymarketPool:
    """Tokens sharded over market-channel connections, with reference-counted subscriptions and
    the freeze watchdog.

    Args:
        url: the market-channel URL.
        books: the shared book manager.
        tokens: token ids to follow.
        groups: token → group key (the market's condition id): a group's tokens share a connection.
        max_tokens_per_connection: shard size (default 200).
        rest: CLOB REST client for the freeze watchdog (``None``: no watchdog).
        freeze_window: seconds of silence after which a token's REST book is checked.
        recycle_after: frozen tokens on one connection that make it recycle instead of re-subscribe.
        max_failures: dials in a row after which a connection's tokens move to the connected ones.
        give_up_after: when every connection has failed this many dials in a row, :meth:`run`
            stops and raises TransportError (so a caller can fall back to REST); ``None``: never.
        **kwargs: passed to every :class:`PolymarketConnection`.

    Attributes:
        moves: times a connection's tokens were moved to others (it failed for good, or
            ``max_failures`` dials in a row).
    """

    def __init__(
        self,
        url: str,
        books: BookManager,
        tokens: Sequence[str],
        *,
        groups: Mapping[str, str] | None = None,
        max_tokens_per_connection: int = MAX_TOKENS_PER_CONNECTION,
        stats: FeedStats | None = None,
        rest: BookSource | None = None,
        freeze_window: float = 30.0,
        freeze_check_interval: float = 1.0,
        recycle_after: int = 3,
        max_failures: int = 5,
        give_up_after: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.url = url
        self.max_failures = max_failures
        self.moves = 0
        self.give_up_after = give_up_after
        self._gave_up: TransportError | None = None
        self.books = books
        self.groups = dict(groups or {})
        self.cap = max_tokens_per_connection
        self.stats = stats or FeedStats()
        self.rest = rest
        self.freeze_window = freeze_window
        self.freeze_check_interval = freeze_check_interval
        self.recycle_after = recycle_after
        self.freeze = FreezeStats()
        self._kwargs = kwargs
        self.refs: dict[str, int] = {}
        self.connections: list[PolymarketConnection] = []
        self._tasks: dict[asyncio.Task[None], PolymarketConnection] = {}
        self._stop: asyncio.Event | None = None
        for group in self._grouped(tokens):
            self._place(group)

    def _grouped(self, tokens: Sequence[str]) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for token in dict.fromkeys(tokens):
            self.refs[token] = self.refs.get(token, 0) + 1
            if self.refs[token] == 1:
                out.setdefault(self.groups.get(token, token), []).append(token)
        return list(out.values())

    def _place(self, group: list[str]) -> PolymarketConnection:
        for conn in self.connections:
            if len(conn.tokens) + len(group) <= self.cap:
                conn.tokens.extend(t for t in group if t not in conn.tokens)
                return conn
        conn = PolymarketConnection(
            f"polymarket-{len(self.connections)}", self.url, self.books, group, stats=self.stats, **self._kwargs
        )
        self.connections.append(conn)
        if self._stop is not None:
            self._tasks[asyncio.create_task(conn.run(self._stop), name=conn.name)] = conn
        return conn

    def connection_of(self, token: str) -> PolymarketConnection | None:
        """The connection carrying ``token``."""
        return next((c for c in self.connections if token in c.tokens), None)

    async def subscribe(self, tokens: Sequence[str]) -> None:
        """Follow ``tokens`` (counted: a token subscribed twice needs two unsubscribes)."""
        for group in self._grouped(tokens):
            target = next((c for c in self.connections if len(c.tokens) + len(group) <= self.cap), None)
            if target is None:
                self._place(group)
            else:
                await target.subscribe(group)

    async def unsubscribe(self, tokens: Sequence[str]) -> None:
        """Stop following ``tokens`` once every subscriber of each has unsubscribed."""
        for token in dict.fromkeys(tokens):
            count = self.refs.get(token, 0) - 1
            if count > 0:
                self.refs[token] = count
                continue
            self.refs.pop(token, None)
            conn = self.connection_of(token)
            if conn is not None:
                await conn.unsubscribe([token])

    async def run(self, stop: asyncio.Event) -> None:
        """Run every connection (and the freeze watchdog) until ``stop`` is set.

        Raises:
            VenueError: every connection failed for good.
            TransportError: every connection kept failing (``give_up_after``).
        """
        inner = asyncio.Event()  # set by ``stop``, or when the pool gives up
        relay = asyncio.create_task(_relay(stop, inner))
        self._stop = inner
        self._tasks = {asyncio.create_task(c.run(inner), name=c.name): c for c in self.connections}
        watchdog = asyncio.create_task(self._watch(inner)) if self.rest is not None else None
        supervisor = asyncio.create_task(self._supervise(inner))
        helpers = [t for t in (relay, watchdog, supervisor) if t is not None]
        try:
            while self._tasks:
                done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    conn = self._tasks.pop(task)
                    exc = task.exception()
                    if exc is None:
                        continue
                    if not self._tasks:
                        raise exc
                    await self._move(conn, list(self._tasks.values()))
        finally:
            for task in [*helpers, *self._tasks]:
                task.cancel()
            await asyncio.gather(*self._tasks, *helpers, return_exceptions=True)
        if self._gave_up is not None:
            raise self._gave_up

    async def _supervise(self, stop: asyncio.Event) -> None:
        # Once a second: a connection failing max_failures dials in a row while others are up →
        # its tokens move to them; every connection failing give_up_after dials in a row → stop
        limit = self.give_up_after
        while not stop.is_set():
            await asyncio.sleep(1.0)
            alive = list(self._tasks.values())
            if limit is not None and alive and all(c.stats.failures >= limit for c in alive):
                self._gave_up = TransportError(f"every Polymarket connection failed {limit} times in a row")
                stop.set()
                return
            for conn in alive:
                if conn.stats.failures >= self.max_failures and conn.tokens:
                    others = [c for c in alive if c is not conn and c.connected.is_set()]
                    if others:
                        await self._move(conn, others)

    async def _move(self, failed: PolymarketConnection, healthy: list[PolymarketConnection]) -> None:
        # Spread a failed connection's tokens over the healthy ones, a market's tokens together:
        # the least loaded with room first, else the least loaded (past the cap rather than lost)
        orphans = list(failed.tokens)
        if not orphans or not healthy:
            return
        failed.tokens = []
        self.moves += 1
        log.warning("moving tokens off a failed connection", conn=failed.name, tokens=len(orphans),
                    error=failed.stats.last_error)  # fmt: skip
        grouped: dict[str, list[str]] = {}
        for token in orphans:
            grouped.setdefault(self.groups.get(token, token), []).append(token)
        for group in grouped.values():
            room = [c for c in healthy if len(c.tokens) + len(group) <= self.cap]
            target = min(room or healthy, key=lambda c: len(c.tokens))
            with contextlib.suppress(TransportError):
                await target.subscribe(group)  # kept in its tokens either way: a redial subscribes them

    async def _watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.freeze_check_interval)
            await self.check_freezes()

    async def check_freezes(self) -> dict[str, list[str]]:
        """One pass of the freeze watchdog; return the frozen tokens per connection it healed.

        A token is checked when its LIVE (or STALE) book has had no update for ``freeze_window``
        seconds; it is frozen when its REST book is newer than ours (its timestamp is later and
        its hash is not the last one we saw).
        """
        if self.rest is None:
            return {}
        now = time.time_ns()
        window = int(self.freeze_window * 1e9)
        frozen: dict[str, list[str]] = {}
        for conn in self.connections:
            stream = conn.stream
            if stream is None or not conn.connected.is_set():
                continue
            for token in list(conn.tokens):
                book = self.books.get(VENUE_PREFIX + token)
                if book is None or book.state is BookState.AWAITING_SNAPSHOT or now - book.ts_recv < window:
                    continue
                self.freeze.checks += 1
                try:
                    rest_book = await self.rest.get_book(token)
                except VenueError as exc:
                    self.freeze.rest_errors += 1
                    log.info("freeze check failed", token=token, error=str(exc))
                    continue
                newer = int(rest_book.timestamp) * 1_000_000 > book.ts_event
                if newer and rest_book.hash != stream.last_hash.get(token):
                    frozen.setdefault(conn.name, []).append(token)
        for conn in self.connections:
            tokens = frozen.get(conn.name)
            if not tokens:
                continue
            self.freeze.frozen += len(tokens)
            log.warning("frozen tokens", conn=conn.name, tokens=len(tokens))
            if len(tokens) >= self.recycle_after:
                self.freeze.recycled_connections += 1
                await conn.recycle()
            else:
                self.freeze.resubscribed += len(tokens)
                with contextlib.suppress(TransportError):
                    await conn.resubscribe(tokens)
        return frozen

    def report(self) -> dict[str, Any]:
        """Connection and watchdog counters, for reports and the dashboard."""
        return {
            "connections": {c.name: {**asdict(c.stats), "tokens": len(c.tokens)} for c in self.connections},
            "freeze": asdict(self.freeze),
            "subscriptions": len(self.refs),
            "moves": self.moves,
        }


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


def recorder_factory(out_dir: Path) -> RecorderFactory:
    """Return a factory making one recorder per dial under ``out_dir`` (off the hot path)."""

    def make(conn: str) -> AsyncFrameRecorder:
        return AsyncFrameRecorder(FrameRecorder(out_dir, "polymarket", conn))

    return make
