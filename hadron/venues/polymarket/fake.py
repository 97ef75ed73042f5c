"""A loopback Polymarket venue: the CLOB market channel (WebSocket) and REST ``/book`` on 127.0.0.1.

It keeps the channel's rules (``docs/protocols/polymarket.md#market-channel``): the first frame must be
``{"assets_ids": […], "type": "market"}`` (a ``PING`` before it closes the socket with 1008
"invalid subscription payload"); a second ``type: market`` frame, or any other invalid operation,
gets the text ``INVALID OPERATION``; ``{"operation": "subscribe" | "unsubscribe", …}`` changes
the subscription; ``PING`` gets ``PONG``. On (re)subscription the venue sends one array frame
with a ``book`` per token (an unknown token gets an empty book with a zero hash).

It plays a capture as the exchange's truth (:mod:`hadron.venues.polymarket.fake_exchange`):
Polymarket frame files (a JSON array of frames, or NDJSON, optionally wrapped as ``{"recv_ms",
"event"}``), or a Kalshi capture transcoded into Polymarket's wire format: the same real order
flow as a YES/NO token pair, with mirrored legs and each token's ``best_bid``/``best_ask`` (see
:mod:`hadron.venues.polymarket.fake_scenario`).

Faults, at frame positions of the capture: ``drop@N`` (abort every connection), ``malformed@N``
(send a truncated JSON frame), ``freeze@N:S`` (send no data for ``S`` seconds to every connected
client while still answering ``PING``; a token the client re-subscribes is thawed, as on the
real venue), ``mute@N:S`` (for ``S`` seconds nothing reaches the connected clients, ``PONG``
included: a dead path with the socket open), ``huge@N:M`` (send an ``M`` MiB frame),
``deep@N:D`` (send a valid frame nested ``D`` levels deep), ``forbid@N:K`` (answer the next ``K``
handshakes 403, as a CDN's bot rule does; put it before a ``drop`` at the same ``N``). A handshake
on any path but ``/ws/market`` is answered 404.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec
import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from hadron.venues.account_script import ScriptedOrder
from hadron.venues.faults import Fault
from hadron.venues.faults import parse_faults as parse_spec
from hadron.venues.loopback import BurstGate, FramedStream, send_text_frames, take_batch, write_burst
from hadron.venues.polymarket.fake_account import PolymarketAccountScript
from hadron.venues.polymarket.fake_exchange import ZERO_HASH, FakePolyExchange
from hadron.venues.polymarket.fake_scenario import Played, later

if TYPE_CHECKING:
    from hadron.venues.polymarket.fake_orders import PolymarketExchangeAccount

log = structlog.get_logger("hadron.polymarket.fake")

BACKLOG = 2_000
BURST_BACKLOG = 256 * 2**20
"""Bytes framed ahead for one client in burst mode before its frames go out as they are built."""
FAULT_KINDS: dict[str, float] = {
    "drop": 0.0,
    "malformed": 0.0,
    "freeze": 10.0,
    "mute": 10.0,
    "huge": 17.0,
    "deep": 1000.0,
    "forbid": 3.0,
}
"""This venue's fault kinds and their default arguments (see :mod:`hadron.venues.faults`)."""


def parse_faults(spec: str) -> list[Fault]:
    """Parse this venue's ``--faults`` spec (see :func:`hadron.venues.faults.parse_faults`)."""
    return parse_spec(spec, FAULT_KINDS)


# -- the server ------------------------------------------------------------------------------


@dataclass
class _Client:
    ws: ServerConnection
    assets: set[str] = field(default_factory=set)
    subscribed: bool = False
    frozen: set[str] = field(default_factory=set)
    frozen_until: float = 0.0
    muted_until: float = 0.0
    """Until then nothing reaches the client, PONG included (a dead path, the socket open)."""
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    out: FramedStream | None = None
    """Burst mode: the client's frames, framed ahead (its ``queue`` stays empty)."""

    def pending(self) -> int:
        """Frames built for the client and not handed to its socket yet."""
        return self.queue.qsize() + (self.out.frames if self.out is not None else 0)


@dataclass
class FakePolyStats:
    """What the loopback venue did."""

    connections: int = 0
    pings: int = 0
    invalid_operations: int = 0
    closed_1008: int = 0
    played: int = 0
    sent: int = 0
    muted: int = 0
    """Frames (``PONG`` included) lost to a ``mute`` fault."""
    refused: dict[int, int] = field(default_factory=dict)
    """Handshakes refused, by HTTP status (403: ``forbid``; 404: an unknown path)."""
    user_auth_failures: int = 0
    """User-channel clients closed (1008) for a missing or wrong ``auth``."""
    faults: list[str] = field(default_factory=list)


class FakePolymarketVenue:
    """The loopback Polymarket market channel.

    Args:
        timeline: messages to play (see :func:`load_capture`).
        speed: 1.0 plays at the captured pace, 0 as fast as the clients take it.
        faults: faults to inject (see :func:`parse_faults`).
        start_on_subscribe: hold the capture until the first subscription arrives.
        loop: play the capture again and again, its timestamps moved on by the capture's span
            each round (so every ``book`` is newer than the last); faults apply to round one.
        burst: at speed 0, build each subscriber's frames for a whole round of the capture before
            sending any (up to :data:`BURST_BACKLOG` bytes a client, then as they are built), framed
            as they are built, and write them in chunks of about 256 KiB
            (:class:`~hadron.venues.loopback.FramedStream`): the same frames in the same order,
            but the client then sees the venue at socket speed. Replies (``PONG`` included) to
            frames sent while a round is being built wait behind it; a fault first lets
            everything built so far out. Connections with a negotiated extension are served as
            without ``burst``.
    """

    def __init__(
        self,
        timeline: list[Played],
        *,
        speed: float = 1.0,
        faults: Iterable[Fault] = (),
        start_on_subscribe: bool = True,
        loop: bool = False,
        burst: bool = False,
    ) -> None:
        self.timeline = timeline
        self.loop = loop
        self.burst = burst and speed == 0
        self.fault_times: list[tuple[str, float]] = []
        """``(kind@index, time.monotonic())`` of every fault injected."""
        self.hold = False
        """While True the capture stops playing (frames already queued are still sent)."""
        self.exchange = FakePolyExchange()
        self.speed = speed
        self.faults = sorted(faults, key=lambda f: f.at)
        self.stats = FakePolyStats()
        self.finished = asyncio.Event()
        self._go = asyncio.Event()
        if not start_on_subscribe:
            self._go.set()
        self._burst = BurstGate(self.burst, self._go)
        self._clients: list[_Client] = []
        self.user_auth: tuple[str, str, str] | None = None
        """The user channel's credentials ``(apiKey, secret, passphrase)`` (``None``: refuse all)."""
        self.account = PolymarketAccountScript()
        self.exchange_account: PolymarketExchangeAccount | None = None
        """The loopback exchange's account (order entry), when ``ExchangeOptions`` turned it on."""
        self._user_clients: list[ServerConnection] = []
        self._user_sends: set[asyncio.Future[None]] = set()
        self._forbid = 0  # handshakes still to refuse with 403 (``forbid``)
        self._server: Server | None = None
        self._player: asyncio.Task[None] | None = None
        self._clock_ms = max(0, timeline[0].recv_ms - 1) if timeline else 0
        """The venue's clock runs on the capture's time."""
        self._listed: set[int] = set()
        # A token's first message being its book is its listing: the venue holds it from the
        # start, so subscribers get it with their subscription rather than as an update
        seen: set[str] = set()
        for index, item in enumerate(timeline):
            fresh = item.assets - seen
            seen |= item.assets
            if fresh and item.msg.get("event_type") == "book" and item.assets <= fresh:
                self.exchange.apply(item.msg)
                self._listed.add(index)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start listening; return the port."""
        self._server = await serve(
            self._handle, host, port, process_request=self._check_request, max_size=None, compression=None
        )
        self._player = asyncio.create_task(self._play())
        return int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def url(self) -> str:
        """The market-channel URL clients dial."""
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}/ws/market"

    async def stop(self) -> None:
        """Stop playing and close every connection."""
        if self._player is not None:
            self._player.cancel()
            await asyncio.gather(self._player, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drained(self) -> None:
        """Wait until the capture is played and every client's queue is empty."""
        await self.finished.wait()
        while any(c.pending() for c in self._clients):  # noqa: ASYNC110 - queues have no drain event
            await asyncio.sleep(0.01)

    # -- connections -------------------------------------------------------------------------

    def _check_request(self, connection: ServerConnection, request: WsRequest) -> WsResponse | None:
        # The handshake: 404 off the market channel's path, 403 while a ``forbid`` fault lasts
        path = urlsplit(request.path).path
        status = 404 if path not in ("/ws/market", "/ws/user") else 403 if self._forbid > 0 else 0
        if not status:
            return None
        if status == 403:
            self._forbid -= 1
        self.stats.refused[status] = self.stats.refused.get(status, 0) + 1
        return connection.respond(HTTPStatus(status), "forbidden\n" if status == 403 else "not found\n")

    async def _handle(self, ws: ServerConnection) -> None:
        if ws.request is not None and urlsplit(ws.request.path).path == "/ws/user":
            await self._handle_user(ws)
            return
        client = _Client(ws)
        if self.burst and not ws.protocol.extensions:  # frames framed here: only with no extension
            client.out = FramedStream()
        client.writer = asyncio.create_task(self._write(client) if client.out is None else self._write_burst(client))
        self._clients.append(client)
        self.stats.connections += 1
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await self._command(client, text)
        except ConnectionClosed:
            pass
        finally:
            self._clients.remove(client)
            client.writer.cancel()

    # -- the user channel ------------------------------------------------------------------------

    async def _handle_user(self, ws: ServerConnection) -> None:
        # /ws/user: the first frame must be {"type":"user","auth":{apiKey,secret,passphrase}} with
        # this venue's credentials (user_auth), else 1008; then PING/PONG and play_account's frames
        try:
            first = await ws.recv()
            cmd = msgspec.json.decode(first) if first != "PING" else None
            auth = cmd.get("auth") if isinstance(cmd, dict) else None
            given = (auth.get("apiKey"), auth.get("secret"), auth.get("passphrase")) if isinstance(auth, dict) else None
            if self.user_auth is None or given != self.user_auth or str(cmd.get("type", "")).lower() != "user":  # type: ignore[union-attr]
                self.stats.user_auth_failures += 1
                await ws.close(1008, "invalid authentication")
                return
            self._user_clients.append(ws)
            try:
                async for message in ws:
                    if message == "PING":
                        await ws.send("PONG")
            finally:
                self._user_clients.remove(ws)
        except (ConnectionClosed, msgspec.DecodeError):
            return

    def play_account(self, orders: Iterable[ScriptedOrder]) -> int:
        """Play scripted orders (see :mod:`hadron.venues.account_script`) on the user channel:
        each becomes an ``order`` PLACEMENT, then (when it fills) a ``trade`` MATCHED and
        CONFIRMED with the order's UPDATE, to every authenticated client. Return frames sent."""
        sent = 0
        for order in orders:
            for msg in self.account.frames(order, int(time.time() * 1000)):  # the operator's clock, as Kalshi's
                frame = msgspec.json.encode(msg).decode()
                for ws in list(self._user_clients):
                    self._spawn_send(ws, frame)
                    sent += 1
        return sent

    def send_user(self, messages: list[dict[str, Any]]) -> int:
        """Send user-channel messages (one frame each, in order) to every authenticated client;
        return the frames sent."""
        sent = 0
        for msg in messages:
            frame = msgspec.json.encode(msg).decode()
            for ws in list(self._user_clients):
                self._spawn_send(ws, frame)
                sent += 1
        return sent

    def _spawn_send(self, ws: ServerConnection, frame: str) -> None:
        task = asyncio.ensure_future(ws.send(frame))
        self._user_sends.add(task)
        task.add_done_callback(self._user_sends.discard)

    async def _write(self, client: _Client) -> None:
        try:
            while True:
                frames = take_batch(client.queue, await client.queue.get())
                if client.muted_until and time.monotonic() < client.muted_until:
                    self.stats.muted += len(frames)  # lost on the way: the client never sees them
                    continue
                await send_text_frames(client.ws, frames)
                self.stats.sent += len(frames)
        except (ConnectionClosed, asyncio.CancelledError):
            return

    def _gate(self, is_open: bool) -> None:
        # Burst mode: let the frames built go out (and wake the writers), or hold them again
        self._burst.set_open(is_open, (client.out for client in self._clients))

    async def _write_burst(self, client: _Client) -> None:
        # Burst mode: chunks of framed frames, one socket write each, while the gate is open

        def lost(frames: int) -> bool:
            if client.muted_until and time.monotonic() < client.muted_until:
                self.stats.muted += frames  # lost on the way: the client never sees them
                return True
            return False

        assert client.out is not None
        await write_burst(client.ws, client.out, self._burst, self._count_sent, lost)

    def _count_sent(self, frames: int) -> None:
        self.stats.sent += frames

    def _put(self, client: _Client, frame: str | bytes) -> None:
        # One text frame to the client, after every frame put before
        if client.out is not None:  # burst mode: framed now, written in chunks
            client.out.append(frame if isinstance(frame, bytes) else frame.encode())
            if not self._burst.holding:
                client.out.wake.set()
            return
        client.queue.put_nowait(frame if isinstance(frame, str) else frame.decode())

    async def _command(self, client: _Client, text: str) -> None:
        if text == "PING":
            self.stats.pings += 1
            if not client.subscribed:
                self.stats.closed_1008 += 1
                await client.ws.close(1008, "invalid subscription payload")
                return
            self._put(client, "PONG")
            return
        try:
            cmd = msgspec.json.decode(text)
        except (msgspec.DecodeError, UnicodeDecodeError):
            cmd = None
        if not client.subscribed:
            if not isinstance(cmd, dict) or str(cmd.get("type", "")).lower() != "market":
                self.stats.closed_1008 += 1
                await client.ws.close(1008, "invalid subscription payload")
                return
            client.subscribed = True
            self._subscribe(client, [str(a) for a in cmd.get("assets_ids") or []])
            self._go.set()
            return
        operation = cmd.get("operation") if isinstance(cmd, dict) else None
        assets = [str(a) for a in (cmd.get("assets_ids") or [])] if isinstance(cmd, dict) else []
        if operation == "subscribe" and assets:
            self._subscribe(client, assets)
        elif operation == "unsubscribe" and assets:
            client.assets.difference_update(assets)
        else:
            self.stats.invalid_operations += 1
            self._put(client, "INVALID OPERATION")

    def _subscribe(self, client: _Client, assets: list[str]) -> None:
        client.assets.update(assets)
        client.frozen.difference_update(assets)  # a re-subscription thaws a frozen token
        books = []
        for asset in assets:
            book = self.exchange.books.get(asset)
            if book is None:
                books.append(
                    {
                        "market": "",
                        "asset_id": asset,
                        "timestamp": str(self._clock_ms),
                        "hash": ZERO_HASH,
                        "bids": [],
                        "asks": [],
                        "tick_size": "0.01",
                        "event_type": "book",
                        "last_trade_price": "",
                    }
                )
            else:
                books.append(book.message(asset))
        self._put(client, msgspec.json.encode(books))

    # -- playing -----------------------------------------------------------------------------

    async def _play(self) -> None:
        await self._go.wait()
        faults = list(self.faults)
        span = self.timeline[-1].recv_ms - self.timeline[0].recv_ms + 1_000 if self.timeline else 0
        rounds = 0
        while True:
            if self.burst and rounds:  # the last round out before this one is held
                while any(c.pending() for c in self._clients):  # noqa: ASYNC110 - no drain event
                    await asyncio.sleep(0.005)
            self._gate(False)
            offset = rounds * span
            previous: int | None = None
            for index, played in enumerate(self.timeline):
                while self.hold:  # a test/soak switch, polled; what was built meanwhile goes out
                    self._gate(True)
                    await asyncio.sleep(0.01)
                while faults and faults[0].at <= index:
                    await self._settle()
                    self._fault(faults.pop(0))
                    self._gate(False)
                if self.speed > 0 and previous is not None and played.recv_ms > previous:
                    await asyncio.sleep((played.recv_ms - previous) / 1000 / self.speed)
                elif index % 256 == 0:
                    await self._backpressure()
                previous = played.recv_ms
                item = later(played, offset) if offset else played
                self._clock_ms = max(self._clock_ms, item.recv_ms)
                self.stats.played += 1
                if index in self._listed and not rounds:
                    continue
                self._apply(item)
                self._broadcast(item)
            self._gate(True)
            for fault in faults:
                self._fault(fault)
            faults = []
            if not self.loop:
                break
            rounds += 1
            await asyncio.sleep(0.2)
        self.finished.set()

    def _apply(self, item: Played) -> None:
        # The exchange's books move; resting loopback-exchange orders the book now crosses fill
        self.exchange.apply(item.msg)
        if self.exchange_account is not None:
            self.exchange_account.on_market(item.assets)

    async def _backpressure(self) -> None:
        # as fast as possible, but never more than a bounded backlog per client
        await asyncio.sleep(0)
        while any(c.queue.qsize() > BACKLOG for c in self._clients):  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        if self.burst and any(c.out is not None and c.out.size > BURST_BACKLOG for c in self._clients):
            self._gate(True)  # too much to hold: the rest of the round goes out as it is built
            while any(c.out is not None and c.out.size > BURST_BACKLOG for c in self._clients):  # noqa: ASYNC110
                await asyncio.sleep(0.001)

    async def _settle(self, patience: float = 10.0) -> None:
        self._gate(True)
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            live = [c for c in self._clients if c.subscribed]
            if live and all(not c.pending() for c in live):
                return
            await asyncio.sleep(0.005)

    def _broadcast(self, item: Played) -> None:
        now = time.monotonic()
        for client in self._clients:
            wanted = item.assets & client.assets
            if client.frozen and now >= client.frozen_until:
                client.frozen.clear()
            wanted -= client.frozen
            if not wanted:
                continue
            msg = item.msg
            if msg.get("event_type") == "price_change" and wanted != item.assets:
                msg = {**msg, "price_changes": [c for c in msg["price_changes"] if c.get("asset_id") in wanted]}
            self._put(client, msgspec.json.encode(msg))

    def _fault(self, fault: Fault) -> None:
        self.fault_times.append((f"{fault.kind}@{fault.at}", time.monotonic()))
        self.stats.faults.append(f"{fault.kind}@{fault.at}")
        log.info("injecting fault", kind=fault.kind, at=fault.at, arg=fault.arg)
        if fault.kind == "forbid":
            self._forbid += int(fault.arg)
            return
        for client in list(self._clients):
            if fault.kind == "drop":
                client.ws.transport.abort()
            elif fault.kind == "malformed":
                self._put(client, '{"event_type":"price_change","market":')
            elif fault.kind == "freeze":
                client.frozen = set(client.assets)
                client.frozen_until = time.monotonic() + fault.arg
            elif fault.kind == "mute":
                client.muted_until = time.monotonic() + fault.arg
            elif fault.kind == "huge":
                pad = "x" * int(fault.arg * 2**20)
                self._put(client, f'{{"event_type":"book","asset_id":"1","pad":"{pad}"}}')
            elif fault.kind == "deep":
                depth = int(fault.arg)
                self._put(client, '{"event_type":"book","x":' + "[" * depth + "]" * depth + "}")
