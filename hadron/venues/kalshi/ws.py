"""Kalshi WebSocket v2: one signed connection, dialled again and again.

A :class:`KalshiConnection` carries a shard of markets. Every dial signs fresh headers
(``GET /trade-api/ws/v2``), subscribes each channel with the shard's tickers (``use_yes_price``
sent explicitly), and feeds every raw frame to a new :class:`~hadron.venues.kalshi.stream.KalshiStream`
(a new connection is a new sid/seq space). The stream finds gaps and terminal errors; the
connection answers them: ``update_subscription`` ``get_snapshot`` for the sid's books after a gap
(and again for any book still waiting a few seconds later), a fresh ``subscribe`` after error 10
or 25. Frames of replaced or unsubscribed sids are ignored.

Reconnects are a loop: a retry classifier (401/403 and other 4xx are fatal, network errors,
timeouts, 429 and 5xx are retried), jittered exponential back-off that resets once a connection
has been healthy for ``healthy_after`` seconds, and a silence timeout that recycles a connection
on which nothing arrived for too long.

A pool of them (:class:`~hadron.venues.kalshi.pool.KalshiPool`) shards markets over several
connections and keys.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import structlog

from hadron.book.manager import BookManager, BookState
from hadron.errors import HadronError, TransportError
from hadron.store.recorder import AsyncFrameRecorder, FrameRecorder
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats, SeqMode
from hadron.venues.connection import CountedConnection
from hadron.venues.kalshi.auth import KalshiSigner
from hadron.venues.kalshi.indices import PARAMS as INDEX_PARAMS
from hadron.venues.kalshi.messages import MAX_FRAME_BYTES
from hadron.venues.kalshi.normalize import VENUE_PREFIX
from hadron.venues.kalshi.stream import KalshiStream, PrivateHook, VenueHook
from hadron.venues.session import Backoff
from hadron.venues.wsclient import (
    WsConnection,
    classify_failure,
    closed_by_client,
    is_retryable,
    reconnect_loop,
    watch_session,
)

log = structlog.get_logger("hadron.kalshi.ws")

PUBLIC_CHANNELS = ("orderbook_delta", "trade", "ticker", "market_lifecycle_v2")
PRIVATE_CHANNELS = ("fill", "market_positions", "user_orders", "order_group_updates")
COMMUNICATIONS_CHANNELS = ("communications",)
"""RFQs and quotes (authenticated; no market tickers: AsyncAPI ``communications``)."""
DEFAULT_CHANNELS = ("orderbook_delta", "trade")
TICKER_CHANNELS = frozenset({"orderbook_delta", "trade", "ticker", "fill", "market_positions", "user_orders"})
"""Channels that take ``market_tickers`` (the others are firehoses)."""


def classify(exc: BaseException) -> HadronError:
    """Map a Kalshi dial or session failure to Hadron's tree (see :func:`classify_failure`)."""
    return classify_failure(exc, "Kalshi")


@dataclass
class ConnectionStats:
    """What one connection has been through (plain counters for reports and the dashboard)."""

    dials: int = 0
    connects: int = 0
    reconnects: int = 0
    failures: int = 0
    """Failed dials or sessions in a row (reset by a healthy period)."""
    frames: int = 0
    last_frame_ns: int = 0
    """Receive time of the latest frame, ns since the epoch (0: none yet)."""
    recorder_dropped: int = 0
    """Frames the recorder's full queue dropped (the books still got them)."""
    silent_recycles: int = 0
    resync_requests: int = 0
    resubscribes: int = 0
    commands: int = 0
    last_error: str = ""
    unsubscribes: int = 0
    """``unsubscribe`` commands sent (by sid: markets all removed, a sid the venue has and Hadron
    does not want)."""
    reconciles: int = 0
    """``list_subscriptions`` answers compared with the subscriptions the client believes it has."""
    reconcile_missing: int = 0
    """Subscriptions the client believed in, or wanted, that the venue did not list (subscribed again)."""
    reconcile_extra: int = 0
    """Subscriptions the venue listed that the client did not know (unsubscribed)."""


RecorderFactory = Callable[[str], AsyncFrameRecorder]


class KalshiConnection(CountedConnection[ConnectionStats]):
    """One Kalshi WebSocket connection carrying ``markets`` on ``channels``.

    Args:
        name: connection name (logs, recordings; each dial appends ``.<n>``).
        url: the WebSocket URL (``wss://…/trade-api/ws/v2``).
        signer: signs the handshake; ``None`` dials without auth headers.
        books: the shared book manager.
        markets: market tickers of this shard (the list is owned and changed by the connection).
        channels: channels to subscribe (each gets its own sid).
        stats: counters shared by every Kalshi stream.
        dead_letter: where rejected frames go.
        on_event: every normalized market event.
        on_private: private-channel messages (see :data:`~hadron.venues.kalshi.stream.PrivateHook`).
        on_venue: venue-native messages (see :data:`~hadron.venues.kalshi.stream.VenueHook`).
        indices: reference-price subscriptions, channel → ids (``{"pyth_value":
            ["Metal.XAU/USD"]}``, see :func:`hadron.venues.kalshi.indices.index_subscriptions`),
            each subscribed with its ``index_ids`` / ``underlying_tickers`` on every dial;
            their values come out of ``on_event`` as :class:`~hadron.model.events.IndexPrice`.
        yes_price: the ``use_yes_price`` value sent with ``orderbook_delta`` subscriptions.
        recorder: makes an :class:`AsyncFrameRecorder` per dial (``None``: no recording).
        silence_timeout: seconds without any frame before the connection is recycled.
        healthy_after: seconds connected after which the back-off starts again from its base.
        resync_retry: seconds after which a book still waiting for a snapshot is asked again.
        client: the WebSocket client library (``"picows"`` or ``"websockets"``; ``None``:
            :func:`hadron.venues.wsclient.default_client`).
    """

    def __init__(
        self,
        name: str,
        url: str,
        signer: KalshiSigner | None,
        books: BookManager,
        markets: Sequence[str],
        *,
        channels: Sequence[str] = DEFAULT_CHANNELS,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        on_event: EventSink | None = None,
        on_private: PrivateHook | None = None,
        on_venue: VenueHook | None = None,
        indices: Mapping[str, Sequence[str]] | None = None,
        yes_price: bool = False,
        recorder: RecorderFactory | None = None,
        backoff: Backoff | None = None,
        silence_timeout: float = 30.0,
        healthy_after: float = 30.0,
        resync_retry: float = 3.0,
        open_timeout: float = 10.0,
        reconcile_every: float = 60.0,
        client: str | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.signer = signer
        self.books = books
        self.markets = list(dict.fromkeys(markets))
        self.channels = tuple(channels)
        self.feed_stats = stats
        self.dead_letter = dead_letter
        self.on_event = on_event
        self.on_private = on_private
        self.on_venue = on_venue
        self.indices = {channel: list(ids) for channel, ids in (indices or {}).items() if ids}
        self.yes_price = yes_price
        self.recorder = recorder
        self.backoff = backoff or Backoff()
        self.silence_timeout = silence_timeout
        self.healthy_after = healthy_after
        self.resync_retry = resync_retry
        self.open_timeout = open_timeout
        self.reconcile_every = reconcile_every
        """Seconds between ``list_subscriptions`` reconciliations (one also follows every connect)."""
        self.client = client
        self._listed_at = 0.0
        super().__init__(ConnectionStats())
        self.fatal: HadronError | None = None
        self.connected = asyncio.Event()
        self._ws: WsConnection | None = None
        self._stream: KalshiStream | None = None
        self._ids: itertools.count[int] = itertools.count(1)
        self._asked: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Dial, subscribe and read until ``stop`` is set; reconnect on retryable failures.

        Raises:
            AuthError: the venue refused the credentials (never retried).
            RequestError: the venue refused the handshake for another 4xx reason.
        """
        signer = self.signer
        try:
            await reconnect_loop(
                venue="Kalshi",
                name=self.name,
                url=self.url,
                stop=stop,
                stats=self.stats,
                backoff=self.backoff,
                healthy_after=self.healthy_after,
                session=self._session,
                headers=signer.ws_headers if signer is not None else None,
                open_timeout=self.open_timeout,
                max_size=MAX_FRAME_BYTES,
                client=self.client,
            )
        except HadronError as err:
            self.fatal = err
            raise

    async def _session(self, ws: WsConnection, stop: asyncio.Event) -> None:
        conn = f"{self.name}.{self.stats.dials}"
        stream = KalshiStream(
            self.books,
            conn,
            stats=self.feed_stats,
            dead_letter=self.dead_letter,
            seq_mode=SeqMode.STRICT,
            yes_price=self.yes_price,
            on_event=self.on_event,
            on_resync=self._on_resync,
            on_private=self.on_private,
            on_venue=self.on_venue,
            on_list=self._on_list,
        )
        stream.active_sids = set()
        recorder = self.recorder(conn) if self.recorder is not None else None
        if recorder is not None:
            recorder.start()
        self._ws, self._stream, self._ids, self._asked = ws, stream, itertools.count(1), {}
        self.connected.set()
        self._heard = (self.stats.frames, time.monotonic())  # (frames seen, when that count changed)
        ws.on_message(self._open_sink(stream.on_frame, recorder))  # see CountedConnection
        watchdog = asyncio.create_task(watch_session(ws, stop, self._unhealthy))
        try:
            await self._subscribe_all()
            await self.list_subscriptions()  # answered after every subscribe above: reconciles
            await ws.wait_closed()  # the watchdog closes the socket on stop or silence
            closed_by_client(ws, stream, self.stats, MAX_FRAME_BYTES)
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
            self._close_sink()
            self.connected.clear()
            self._ws = None
            if recorder is not None:
                await recorder.close()
                self.stats.recorder_dropped += recorder.dropped
            for ticker in self.markets:
                self.books.invalidate(VENUE_PREFIX + ticker, f"connection {conn} ended")

    def _unhealthy(self) -> bool:
        # Once a second (the session watchdog): silent for silence_timeout → recycle; else ask
        # again for the books still waiting for a snapshot
        self._counted()
        now = time.monotonic()
        frames, since = self._heard
        if self.stats.frames != frames:
            self._heard = (self.stats.frames, now)
        elif now - since > self.silence_timeout:
            self.stats.silent_recycles += 1
            log.warning("kalshi connection silent: recycling", conn=self.name, seconds=self.silence_timeout)
            return True
        self._sweep_waiting()
        if now - self._listed_at >= self.reconcile_every and self._ws is not None:
            self._listed_at = now
            self._spawn(self._send_quietly("list_subscriptions"))
        return False

    # -- commands ----------------------------------------------------------------------------

    async def send(self, cmd: str, params: dict[str, Any] | None = None) -> int:
        """Send a command on the current connection; return its ``id``.

        Raises:
            TransportError: not connected.
        """
        ws = self._ws
        if ws is None:
            raise TransportError(f"{self.name} is not connected")
        cid = next(self._ids)
        payload: dict[str, Any] = {"id": cid, "cmd": cmd}
        if params is not None:
            payload["params"] = params
        await ws.send(msgspec.json.encode(payload).decode())
        self.stats.commands += 1
        return cid

    def _subscribe_params(self, channel: str) -> dict[str, Any]:
        params: dict[str, Any] = {"channels": [channel]}
        if channel in TICKER_CHANNELS and self.markets:
            params["market_tickers"] = list(self.markets)
        if channel == "orderbook_delta":
            params["use_yes_price"] = self.yes_price
        if channel in self.indices:  # AsyncAPI subscribeCFBenchmarksValue / subscribePythValue
            params[INDEX_PARAMS[channel]] = self.indices[channel]
        return params

    async def _subscribe_all(self) -> None:
        for channel in self.channels:
            if channel in TICKER_CHANNELS and not self.markets:
                # orderbook_delta requires tickers, and the others would be every market's
                # firehose: a connection with no markets yet (a spare key's) subscribes them when
                # markets move to it (add_markets)
                continue
            await self.send("subscribe", self._subscribe_params(channel))
        for channel in self.indices:
            await self.send("subscribe", self._subscribe_params(channel))

    async def add_markets(self, tickers: Sequence[str]) -> None:
        """Add ``tickers`` to this connection (``update_subscription add_markets`` when live)."""
        new = [t for t in tickers if t not in self.markets]
        if not new:
            return
        self.markets.extend(new)
        stream = self._stream
        if self._ws is None or stream is None:
            return
        for channel in self.channels:
            if channel not in TICKER_CHANNELS:
                continue
            sid = stream.sid_of(channel)
            if sid is None:
                await self.send("subscribe", self._subscribe_params(channel))
            else:
                await self.send("update_subscription", {"sids": [sid], "market_tickers": new, "action": "add_markets"})

    async def remove_markets(self, tickers: Sequence[str]) -> None:
        """Remove ``tickers`` (``update_subscription delete_markets`` when live)."""
        gone = [t for t in tickers if t in self.markets]
        self.markets = [t for t in self.markets if t not in gone]
        stream = self._stream
        if not gone or self._ws is None or stream is None:
            return
        for channel in self.channels:
            sid = stream.sid_of(channel) if channel in TICKER_CHANNELS else None
            if sid is not None:
                if self.markets:
                    await self.send(
                        "update_subscription", {"sids": [sid], "market_tickers": gone, "action": "delete_markets"}
                    )
                else:  # no market left on this channel: end the subscription (AsyncAPI unsubscribeCommand)
                    await self.unsubscribe([sid])

    async def unsubscribe(self, sids: Sequence[int]) -> int | None:
        """End subscriptions by sid (``{"cmd": "unsubscribe", "params": {"sids": [...]}}``, AsyncAPI
        ``unsubscribeCommand``); the venue answers ``unsubscribed`` per sid (the stream then forgets
        the sid and unbinds its books). Return the command id, or ``None`` when ``sids`` is empty.

        Raises:
            TransportError: not connected.
        """
        if not sids:
            return None
        self.stats.unsubscribes += 1
        return await self.send("unsubscribe", {"sids": list(sids)})

    async def unsubscribe_channels(self, channels: Sequence[str]) -> int | None:
        """End the live subscriptions of ``channels`` (by their sids) and stop wanting them: they
        are not subscribed again on the next dial nor by reconciliation."""
        self.channels = tuple(c for c in self.channels if c not in channels)
        stream = self._stream
        sids = [sid for sid, name in (stream.channels.items() if stream is not None else ()) if name in channels]
        return await self.unsubscribe(sids) if self._ws is not None else None

    async def list_subscriptions(self) -> int:
        """Ask for the live subscriptions (AsyncAPI ``listSubscriptionsCommand``); the ``ok`` reply
        lists ``{channel, sid}`` and is reconciled with what the client believes (:meth:`_on_list`)."""
        self._listed_at = time.monotonic()
        return await self.send("list_subscriptions")

    def wanted_channels(self) -> list[str]:
        """The channels this connection should have live now: its channels (those taking market
        tickers only while it has markets) and its reference-price subscriptions."""
        wanted = [c for c in self.channels if c not in TICKER_CHANNELS or self.markets]
        return [*wanted, *(c for c in getattr(self, "indices", {}) if c not in wanted)]

    def _on_list(self, listed: list[Any]) -> None:
        # The venue's list_subscriptions answer against the stream's beliefs. The venue answers
        # commands in order, so every subscribe/unsubscribe sent before the list is already
        # reflected on both sides: a difference is a lost reply or a venue-side drop. Fixed by
        # forgetting what the venue no longer has and subscribing again to what is wanted, and by
        # unsubscribing what the venue has and the client does not know.
        stream = self._stream
        if stream is None:
            return
        self.stats.reconciles += 1
        venue = {entry.sid: entry.channel for entry in listed}
        believed = dict(stream.channels)
        wanted = self.wanted_channels()
        missing = [sid for sid in believed if sid not in venue]
        extra = [sid for sid in venue if sid not in believed]
        for sid in missing:
            stream.forget_sid(sid, f"sid {sid} not listed by the venue")
        live = {believed[sid] for sid in believed if sid in venue}
        resubscribe = [c for c in wanted if c not in live]
        if not (missing or extra or resubscribe):
            return
        self.stats.reconcile_missing += len(resubscribe)
        self.stats.reconcile_extra += len(extra)
        log.warning(
            "kalshi subscriptions differ from the venue's list",
            conn=self.name,
            believed={sid: believed[sid] for sid in missing},
            unknown={sid: venue[sid] for sid in extra},
            resubscribe=resubscribe,
        )
        if extra:
            self._spawn(self._send_quietly("unsubscribe", {"sids": extra}))
            self.stats.unsubscribes += 1
        for channel in resubscribe:
            self.stats.resubscribes += 1
            self._spawn(self._resubscribe(channel))

    async def _send_quietly(self, cmd: str, params: dict[str, Any] | None = None) -> None:
        # A command from a task (watchdog, reconciliation): a closed socket is the next dial's business
        try:
            await self.send(cmd, params)
        except TransportError as exc:
            log.info("command not sent", conn=self.name, cmd=cmd, error=str(exc))

    # -- resync ------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_resync(self, sid: int, tickers: list[str], kind: str) -> None:
        # Called by the stream from inside frame processing: act in a task
        if kind == "terminal":
            channel = self._stream.channels.get(sid) if self._stream is not None else None
            self.stats.resubscribes += 1
            if channel is not None:
                self._spawn(self._resubscribe(channel))
            return
        self._request_snapshots(sid, tickers)

    def _request_snapshots(self, sid: int, tickers: list[str]) -> None:
        now = time.monotonic()
        due = [t for t in tickers if now - self._asked.get(t, -math.inf) >= self.resync_retry]
        if not due:
            return
        for ticker in due:
            self._asked[ticker] = now
        self.stats.resync_requests += 1
        self._spawn(self._get_snapshot(sid, due))

    async def _get_snapshot(self, sid: int, tickers: list[str]) -> None:
        try:
            await self.send("update_subscription", {"sids": [sid], "market_tickers": tickers, "action": "get_snapshot"})
        except TransportError as exc:
            log.info("get_snapshot not sent", conn=self.name, error=str(exc))

    async def _resubscribe(self, channel: str) -> None:
        try:
            await self.send("subscribe", self._subscribe_params(channel))
        except TransportError as exc:
            log.info("resubscribe not sent", conn=self.name, error=str(exc))

    def _sweep_waiting(self) -> None:
        # Books still waiting for a snapshot on a live connection are asked again
        stream = self._stream
        sid = stream.sid_of("orderbook_delta") if stream is not None else None
        if sid is None:
            return
        waiting = [
            t
            for t in self.markets
            if (book := self.books.get(VENUE_PREFIX + t)) is not None and book.state is BookState.AWAITING_SNAPSHOT
        ]
        if waiting:
            self._request_snapshots(sid, waiting)


def recorder_factory(out_dir: Path) -> RecorderFactory:
    """Return a factory making one recorder per dial under ``out_dir`` (off the hot path)."""

    def make(conn: str) -> AsyncFrameRecorder:
        return AsyncFrameRecorder(FrameRecorder(out_dir, "kalshi", conn))

    return make


__all__ = [
    "COMMUNICATIONS_CHANNELS",
    "DEFAULT_CHANNELS",
    "PRIVATE_CHANNELS",
    "PUBLIC_CHANNELS",
    "Backoff",
    "ConnectionStats",
    "KalshiConnection",
    "classify",
    "is_retryable",
    "recorder_factory",
]
