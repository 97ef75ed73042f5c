"""A loopback Kalshi venue: a real WebSocket v2 server on 127.0.0.1 that replays a real capture.

It behaves as Kalshi does (``docs/protocols/kalshi.md#authentication``, ``#client-messages-commands``):
the upgrade must carry a valid RSA-PSS signature from a known key (one or several) with a timestamp
within a few seconds (else HTTP 401; accepted and refused handshakes are counted per key id); commands
``subscribe``, ``unsubscribe``, ``update_subscription`` (``add_markets``, ``delete_markets``,
``get_snapshot``) and ``list_subscriptions`` are answered with ``subscribed``/``ok``/
``unsubscribed``/``error`` frames; every subscription gets its own sid, and seq numbers count per
sid, acks included. A new ``orderbook_delta`` subscriber first gets a snapshot of each market
from the venue's own book, then the deltas. ``cfbenchmarks_value`` and ``pyth_value`` (seeded with
``index_ids`` / ``underlying_tickers``, changed by ``update_subscription`` ``subscribe_indices``…
``underlying_list``) carry synthetic reference prices every ``index_interval`` seconds
(:mod:`hadron.venues.kalshi.fake_index`: a gold and a bitcoin walk, spec-shaped, not market data).

The capture is the exchange's truth: its snapshots and deltas update the venue's books
(:class:`~hadron.venues.kalshi.fake_exchange.FakeExchange`) and go out re-sequenced to every
subscriber. A snapshot inside the capture (the recorder's own reconnect) goes out as the deltas
that turn the venue's book into it; an empty one (Kalshi clearing a closed market) goes out as an
empty snapshot, as Kalshi sends it.

Faults (``--faults``) are injected at frame positions of the capture:

==================  ==========================================================================
``drop@N``          abort every client connection (no close frame)
``gap@N``           the next book frame of every subscriber is not sent (its seq is used up)
``malformed@N``     send a truncated JSON frame to every client
``silence@N:S``     send nothing for ``S`` seconds
``error@N:C``       send error code ``C`` on every ``orderbook_delta`` sid (10 and 25 end it)
``huge@N:M``        send an ``M`` MiB frame (past the client's 4 MiB ``max_size``: closed, 1009)
``deep@N:D``        send a frame whose JSON is nested ``D`` levels deep (valid, hostile)
==================  ==========================================================================
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from hadron.model.units import PRICE_ONE, format_price, parse_price
from hadron.venues.account_script import ScriptedOrder
from hadron.venues.faults import Fault
from hadron.venues.faults import parse_faults as parse_spec
from hadron.venues.kalshi.auth import HEADER_KEY, WS_PATH, verify_any
from hadron.venues.kalshi.fake_account import CHANNEL_TYPES, KalshiAccountScript
from hadron.venues.kalshi.fake_exchange import FakeBook, FakeExchange, count_fp
from hadron.venues.kalshi.fake_orders import KalshiExchangeAccount
from hadron.venues.kalshi.fake_scenario import CaptureEntry, communications_script
from hadron.venues.kalshi.fake_session import Client, FakeKalshiCommands, Subscription, now_ms, wire_frame
from hadron.venues.kalshi.messages import (
    TERMINAL_ERROR_CODES,
    KalshiOrderbookDeltaMsg,
    KalshiOrderbookSnapshotMsg,
)
from hadron.venues.loopback import BurstGate, FramedStream, send_text_frames, take_batch, write_burst

log = structlog.get_logger("hadron.kalshi.fake")

TERMINAL = TERMINAL_ERROR_CODES


BACKLOG = 2_000
"""Frames queued for the slowest client before playing at full speed waits for it."""
BURST_BACKLOG = 256 * 2**20
"""Bytes framed ahead for one client in burst mode before its frames go out as they are built."""
MAX_QUEUE = 200_000
"""Frames queued for one client before the venue gives up on it (error 25, as Kalshi does)."""

FAULT_KINDS: dict[str, float] = {
    "drop": 0.0,
    "gap": 0.0,
    "malformed": 0.0,
    "silence": 10.0,
    "error": 25.0,
    "dup": 0.0,
    "swap": 0.0,
    "huge": 2.0,
    "dropsnap": 0.0,
    "deep": 1000.0,
}
"""This venue's fault kinds and their default arguments (see :mod:`hadron.venues.faults`): ``drop``
aborts every connection; ``gap`` skips the next delta's seq; ``malformed`` sends a truncated frame;
``silence@N:S`` stops sending for S s; ``error@N:C`` sends error code C; ``dup`` sends the next delta
twice (same seq); ``swap`` sends the next two deltas in reverse order; ``huge@N:M`` sends an M MiB
frame; ``dropsnap`` makes the next ``get_snapshot`` abort the connection instead of answering;
``deep@N:D`` sends a valid frame nested D levels deep."""
"""This venue's fault kinds and their default arguments (see :mod:`hadron.venues.faults`)."""


def parse_faults(spec: str) -> list[Fault]:
    """Parse this venue's ``--faults`` spec (see :func:`hadron.venues.faults.parse_faults`)."""
    return parse_spec(spec, FAULT_KINDS)


@dataclass
class FakeVenueStats:
    """What the loopback venue did."""

    connections: int = 0
    auth_failures: int = 0
    handshakes: dict[str, int] = field(default_factory=dict)
    """Accepted handshakes per ``KALSHI-ACCESS-KEY`` key id."""
    refused: dict[str, int] = field(default_factory=dict)
    """Refused handshakes per key id (``""``: none sent)."""
    commands: int = 0
    played: int = 0
    sent: int = 0
    rounds: int = 0
    faults: list[str] = field(default_factory=list)


class FakeKalshiVenue(FakeKalshiCommands):
    """The loopback Kalshi WebSocket venue.

    Args:
        timeline: the capture to play (see :func:`load_capture`).
        exchange: the venue's state (shared with its REST side).
        public_key: the key that signs valid handshakes, or several (a handshake signed by any of
            them is accepted); ``None`` (or none) accepts any client.
        speed: 1.0 plays at the captured pace, 10.0 ten times faster, 0 as fast as possible.
        faults: faults to inject (see :func:`parse_faults`).
        start_on_subscribe: hold the capture until the first subscription arrives.
        max_skew_ms: allowed distance of the signed timestamp from the venue's clock.
        loop: play the capture again and again (its first snapshot re-bases the book each time,
            sent as deltas like any snapshot mid-stream); faults apply to the first round only.
        burst: at speed 0, build each subscriber's frames for a whole round of the capture before
            sending any (up to :data:`BURST_BACKLOG` bytes a client, then as they are built), framed
            as they are built, and write them in chunks of about 256 KiB
            (:class:`~hadron.venues.loopback.FramedStream`): the same frames, sids and seqs, and
            replies in the same order, but the client then sees the venue at socket speed.
            Replies to commands sent while a round is being built wait behind it; a fault first
            lets everything built so far out. Connections with a negotiated extension are served
            as without ``burst``.
    """

    def __init__(
        self,
        timeline: list[CaptureEntry],
        exchange: FakeExchange | None = None,
        *,
        public_key: rsa.RSAPublicKey | Sequence[rsa.RSAPublicKey] | None,
        speed: float = 1.0,
        faults: Iterable[Fault] = (),
        start_on_subscribe: bool = True,
        max_skew_ms: int = 5_000,
        loop: bool = False,
        burst: bool = False,
    ) -> None:
        self.timeline = timeline
        self.loop = loop
        self.burst = burst and speed == 0
        self.drop_on_snapshot = False
        self.fault_times: list[tuple[str, float]] = []
        """``(kind@index, time.monotonic())`` of every fault injected."""
        self.hold = False
        """While True the capture stops playing (frames already queued are still sent)."""
        self.exchange = exchange or FakeExchange()
        self.public_keys = _key_list(public_key)
        self.speed = speed
        self.faults = sorted(faults, key=lambda f: f.at)
        self.max_skew_ms = max_skew_ms
        self.stats = FakeVenueStats()
        self.account = KalshiAccountScript()
        """The private channels' state: positions built by :meth:`play_account`."""
        self.exchange_account: KalshiExchangeAccount | None = None
        """The loopback exchange's account when orders are taken (``FakeVenueOptions.exchange``):
        ``positions()``, ``open_orders()``, ``fills``; its private messages go out through
        :meth:`play_private`."""
        self.finished = asyncio.Event()
        self._go = asyncio.Event()
        if not start_on_subscribe:
            self._go.set()
        self._burst = BurstGate(self.burst, self._go)
        self._clients: list[Client] = []
        self._server: Server | None = None
        self._player: asyncio.Task[None] | None = None
        self._indexer: asyncio.Task[None] | None = None
        self.index_interval = 0.5
        """Seconds between two frames of each synthetic reference price (``cfbenchmarks_value``,
        ``pyth_value``: :mod:`hadron.venues.kalshi.fake_index`) to its subscribers; 0: none."""
        self._conn_ids = itertools.count(1)
        self.transcript: list[bytes] | None = None
        """When set to a list, every frame sent (to any client) is appended, in order."""
        self.communications = communications_script(timeline[0].ticker if timeline else "KXLOOPBACK-26AUG27-T1")
        """What a new ``communications`` subscriber gets at once, ``(type, msg)`` each, sent with
        the subscription's sid and seqs (see :func:`communications_script`)."""
        for entry in timeline:
            self.exchange.ensure_market(entry.ticker)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start listening; return the port (``port=0`` picks a free one)."""
        self._server = await serve(
            self._handle, host, port, process_request=self._check_auth, max_size=None, compression=None
        )
        self._player = asyncio.create_task(self._play())
        if self.index_interval > 0:
            self._indexer = asyncio.create_task(self._index_loop())
        sock = next(iter(self._server.sockets))
        return int(sock.getsockname()[1])

    async def stop(self) -> None:
        """Stop playing and close every connection."""
        for task in (self._player, self._indexer):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for client in list(self._clients):
            if client.writer is not None:
                client.writer.cancel()

    async def drained(self) -> None:
        """Wait until the capture is played and every client's queue is empty."""
        await self.finished.wait()
        while any(c.pending() for c in self._clients):  # noqa: ASYNC110 - queues have no drain event
            await asyncio.sleep(0.01)

    @property
    def url(self) -> str:
        """The WebSocket URL clients dial."""
        assert self._server is not None
        sock = next(iter(self._server.sockets))
        host, port = sock.getsockname()[:2]
        return f"ws://{host}:{port}{WS_PATH}"

    @property
    def public_key(self) -> rsa.RSAPublicKey | None:
        """The first accepted key (``None``: any client); setting it replaces every key (a key
        revoked while clients are connected)."""
        return self.public_keys[0] if self.public_keys else None

    @public_key.setter
    def public_key(self, key: rsa.RSAPublicKey | Sequence[rsa.RSAPublicKey] | None) -> None:
        self.public_keys = _key_list(key)

    # -- handshake, clients and sending -------------------------------------------------------

    def _check_auth(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path != WS_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        headers = {k: v for k, v in request.headers.raw_items()}
        key_id = headers.get(HEADER_KEY, "")
        if not self.public_keys:
            self.stats.handshakes[key_id] = self.stats.handshakes.get(key_id, 0) + 1
            return None
        reason = verify_any(self.public_keys, headers, "GET", path, max_skew_ms=self.max_skew_ms)
        if reason is not None:
            self.stats.auth_failures += 1
            self.stats.refused[key_id] = self.stats.refused.get(key_id, 0) + 1
            log.info("handshake refused", reason=reason)
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"authentication_error: {reason}\n")
        self.stats.handshakes[key_id] = self.stats.handshakes.get(key_id, 0) + 1
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        client = Client(ws, f"client-{next(self._conn_ids)}")
        if self.burst and not ws.protocol.extensions:  # frames framed here: only with no extension
            client.out = FramedStream()
        client.writer = asyncio.create_task(self._write(client) if client.out is None else self._write_burst(client))
        self._clients.append(client)
        self.stats.connections += 1
        try:
            async for message in ws:
                self.stats.commands += 1
                self._command(client, message if isinstance(message, bytes) else message.encode())
        except ConnectionClosed:
            pass
        finally:
            self._clients.remove(client)
            client.writer.cancel()

    async def _write(self, client: Client) -> None:
        try:
            while True:
                frames = take_batch(client.queue, await client.queue.get())
                await send_text_frames(client.ws, frames)
                self.stats.sent += len(frames)
                if self.transcript is not None:
                    self.transcript.extend(frames)
        except (ConnectionClosed, asyncio.CancelledError):
            return

    def _gate(self, is_open: bool) -> None:
        # Burst mode: let the frames built go out (and wake the writers), or hold them again
        self._burst.set_open(is_open, (client.out for client in self._clients))

    async def _write_burst(self, client: Client) -> None:
        # Burst mode: chunks of framed frames, one socket write each, while the gate is open
        assert client.out is not None
        await write_burst(client.ws, client.out, self._burst, self._count_sent)

    def _count_sent(self, frames: int) -> None:
        self.stats.sent += frames

    def _send(self, client: Client, frame: dict[str, Any] | bytes) -> None:
        if client.overflowed:
            return
        data = frame if isinstance(frame, bytes) else msgspec.json.encode(frame)
        if client.out is not None:  # burst mode: framed now, written in chunks
            client.out.append(data)
            if self.transcript is not None:
                self.transcript.append(data)
            if not self._burst.holding:
                client.out.wake.set()
            return
        if client.queue.qsize() >= MAX_QUEUE:
            client.overflowed = True
            for sub in client.subs.values():
                error = {"type": "error", "sid": sub.sid, "msg": {"code": 25, "msg": "Subscription buffer overflow"}}
                client.queue.put_nowait(msgspec.json.encode(error))
            client.subs.clear()
            return
        client.queue.put_nowait(data)

    def play_account(self, orders: Iterable[ScriptedOrder]) -> int:
        """Play scripted orders (see :mod:`hadron.venues.account_script`) on the private channels:
        every client subscribed to ``user_orders``, ``fill`` or ``market_positions`` (with the
        order's market among its tickers, or none) gets that channel's messages, as a signed
        Kalshi connection would. Return how many frames were sent."""
        return sum(self.play_private(self.account.frames(order, now_ms())) for order in orders)

    def play_private(self, frames: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """Send private-channel messages ``(channel, msg)`` (``user_orders``, ``fill``,
        ``market_positions``, ``order_group_updates``) to every client subscribed to that channel
        with the message's market among its tickers (or none), framed as Kalshi frames them
        (``{"type", "sid", "msg"}``, no seq). The scripted orders and the loopback exchange's real
        orders (:attr:`exchange_account`) both go out here. Return how many frames were sent."""
        sent = 0
        for channel, msg in frames:
            ticker = str(msg.get("market_ticker") or msg.get("ticker") or "")
            for client in self._clients:
                sub = client.by_channel(channel)
                if sub is None or (sub.tickers is not None and ticker and ticker not in sub.tickers):
                    continue
                self._send(client, {"type": CHANNEL_TYPES[channel], "sid": sub.sid, "msg": msg})
                sent += 1
        return sent

    def play_market_lifecycle(self, msg: dict[str, Any]) -> int:
        """Send a ``market_lifecycle_v2`` message ``msg`` (Kalshi AsyncAPI ``marketLifecycleV2``:
        ``market_ticker``, ``event_type``, …) to every client subscribed to that channel,
        sequenced on its sid. Return how many frames were sent."""
        sent = 0
        for client in self._clients:
            sub = client.by_channel("market_lifecycle_v2")
            if sub is None:
                continue
            sub.seq += 1
            self._send(client, {"type": "market_lifecycle_v2", "sid": sub.sid, "seq": sub.seq, "msg": msg})
            sent += 1
        return sent

    def play_fee_update(self, event_ticker: str, fee_type: str | None, multiplier: Decimal | None) -> int:
        """Send an ``event_fee_update`` (Kalshi AsyncAPI ``eventFeeUpdate``; ``None`` for both: the
        override cleared) to every client subscribed to ``market_lifecycle_v2``, sequenced on that
        sid as Kalshi does; the multiplier goes out as a JSON number, as in the spec's examples.
        Return how many frames were sent."""
        sent = 0
        number = msgspec.Raw(str(multiplier).encode()) if multiplier is not None else None
        msg = {"event_ticker": event_ticker, "fee_type_override": fee_type, "fee_multiplier_override": number}
        for client in self._clients:
            sub = client.by_channel("market_lifecycle_v2")
            if sub is None:
                continue
            sub.seq += 1
            self._send(client, {"type": "event_fee_update", "sid": sub.sid, "seq": sub.seq, "msg": msg})
            sent += 1
        return sent

    # -- playing the capture -----------------------------------------------------------------

    async def _play(self) -> None:
        await self._go.wait()
        faults = list(self.faults)
        while True:
            if self.burst and self.stats.rounds:  # the last round out before this one is held
                while any(c.pending() for c in self._clients):  # noqa: ASYNC110 - no drain event
                    await asyncio.sleep(0.005)
            self._gate(False)
            previous: int | None = None
            for index, entry in enumerate(self.timeline):
                while self.hold:  # a test/soak switch, polled; what was built meanwhile goes out
                    self._gate(True)
                    await asyncio.sleep(0.01)
                while faults and faults[0].at <= index:
                    await self._settle()
                    await self._fault(faults.pop(0))
                    self._gate(False)
                if self.speed > 0 and previous is not None and entry.recv_ms > previous:
                    await asyncio.sleep((entry.recv_ms - previous) / 1000 / self.speed)
                elif index % 256 == 0:
                    await self._backpressure()
                previous = entry.recv_ms
                self._apply(entry)
                self.stats.played += 1
            self._gate(True)
            for fault in faults:
                await self._fault(fault)
            faults = []
            if not self.loop:
                break
            self.stats.rounds += 1
            await asyncio.sleep(0.2)
        self.finished.set()

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
        # Before a fault: a subscribed client is connected and has received everything so far,
        # so the fault lands at that point of its stream
        self._gate(True)
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            live = [c for c in self._clients if c.subs]
            if live and all(not c.pending() for c in live):
                return
            await asyncio.sleep(0.005)

    def _apply(self, entry: CaptureEntry) -> None:
        msg = entry.msg
        if isinstance(msg, KalshiOrderbookDeltaMsg):
            self.exchange.book(entry.ticker).apply(msg)
            self._broadcast_book(entry.ticker, entry.raw, msg)
        elif isinstance(msg, KalshiOrderbookSnapshotMsg):
            self._apply_snapshot(entry, msg)
        else:
            self.exchange.record_trade(msg)
            self._broadcast("trade", entry.ticker, lambda sub: wire_frame("trade", sub, entry.raw))

    def _apply_snapshot(self, entry: CaptureEntry, msg: KalshiOrderbookSnapshotMsg) -> None:
        book = self.exchange.book(entry.ticker)
        target = FakeBook()
        target.load(msg)
        if not target.yes and not target.no:  # the venue clears a closed market's book
            book.load(msg)
            raw = msgspec.json.encode({"market_ticker": entry.ticker, "market_id": msg.market_id})
            self._broadcast("orderbook_delta", entry.ticker, lambda sub: wire_frame("orderbook_snapshot", sub, raw))
            return
        for side, price, change in book.diff(target):
            delta = KalshiOrderbookDeltaMsg(
                entry.ticker, format_price(price), count_fp(change), "yes" if side == "yes" else "no", entry.recv_ms
            )
            raw = msgspec.json.encode(delta)
            self._broadcast_book(entry.ticker, raw, delta)
        book.load(msg)

    def _broadcast_book(self, ticker: str, raw: bytes, msg: KalshiOrderbookDeltaMsg) -> None:
        yes_raw: bytes | None = None
        if msg.side == "no":
            flipped = msgspec.structs.replace(
                msg, price_dollars=format_price(PRICE_ONE - parse_price(msg.price_dollars))
            )
            yes_raw = msgspec.json.encode(flipped)
        self._broadcast(
            "orderbook_delta",
            ticker,
            lambda sub: wire_frame("orderbook_delta", sub, yes_raw if sub.yes_price and yes_raw is not None else raw),
        )

    def _broadcast(self, channel: str, ticker: str, build: Any) -> None:
        for client in self._clients:
            for sub in client.subs.values():
                if sub.channel != channel or (sub.tickers is not None and ticker not in sub.tickers):
                    continue
                sub.seq += 1
                if channel == "orderbook_delta" and (sub.skip_next or sub.dup_next or sub.swap_next or sub.held):
                    self._faulty_send(client, sub, build(sub))
                    continue
                self._send(client, build(sub))

    def _faulty_send(self, client: Client, sub: Subscription, frame: bytes) -> None:
        # A delta under an armed fault: skipped, sent twice, or held back to go after the next one
        if sub.skip_next:
            sub.skip_next = False
        elif sub.dup_next:
            sub.dup_next = False
            self._send(client, frame)
            self._send(client, frame)
        elif sub.swap_next:
            sub.swap_next = False
            sub.held = frame
        elif sub.held is not None:
            self._send(client, frame)
            self._send(client, sub.held)
            sub.held = None

    async def _fault(self, fault: Fault) -> None:
        self.stats.faults.append(f"{fault.kind}@{fault.at}")
        self.fault_times.append((f"{fault.kind}@{fault.at}", time.monotonic()))
        log.info("injecting fault", kind=fault.kind, at=fault.at, arg=fault.arg)
        if fault.kind == "silence":
            await asyncio.sleep(fault.arg)
        elif fault.kind == "error":
            self._error_fault(int(fault.arg))
        elif fault.kind == "dropsnap":
            self.drop_on_snapshot = True
        else:
            for client in list(self._clients):
                self._client_fault(client, fault)

    def _client_fault(self, client: Client, fault: Fault) -> None:
        # A fault that hits each connected client
        if fault.kind == "drop":
            client.ws.transport.abort()
        elif fault.kind == "malformed":
            self._send(client, b'{"type":"orderbook_delta","sid":1,"seq":')
        elif fault.kind == "huge":
            pad = b"x" * int(fault.arg * 2**20)
            self._send(client, b'{"type":"orderbook_delta","sid":1,"seq":0,"msg":{"pad":"' + pad + b'"}}')
        elif fault.kind == "deep":
            depth = int(fault.arg)
            nested = b'{"a":' * depth + b"1" + b"}" * depth
            self._send(client, b'{"type":"orderbook_delta","sid":1,"seq":0,"msg":' + nested + b"}")
        else:  # gap, dup, swap: armed on every subscription, applied to its next delta
            for sub in client.subs.values():
                setattr(sub, {"gap": "skip_next"}.get(fault.kind, f"{fault.kind}_next"), True)

    def _error_fault(self, code: int) -> None:
        text = "Subscription buffer overflow" if code == 25 else "Channel error"
        for client in self._clients:
            for sub in [s for s in client.subs.values() if s.channel == "orderbook_delta"]:
                self._send(client, {"type": "error", "sid": sub.sid, "msg": {"code": code, "msg": text}})
                if code in TERMINAL:
                    del client.subs[sub.sid]


def _key_list(key: rsa.RSAPublicKey | Sequence[rsa.RSAPublicKey] | None) -> list[rsa.RSAPublicKey]:
    if key is None:
        return []
    return [key] if isinstance(key, rsa.RSAPublicKey) else list(key)
