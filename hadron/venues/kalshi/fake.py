"""A loopback Kalshi venue: a real WebSocket v2 server on 127.0.0.1 that replays a real capture.

It behaves as Kalshi does (``docs/kalshi-protocol.md`` §3–§4): the upgrade must carry a valid
RSA-PSS signature from a known key (one or several) with a timestamp within a few seconds (else
HTTP 401; accepted and refused handshakes are counted per key id); commands
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
import heapq
import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from hadron.model.units import PRICE_ONE, format_price, parse_price
from hadron.store.replay import LineReader
from hadron.venues.account_script import ScriptedOrder
from hadron.venues.faults import Fault
from hadron.venues.faults import parse_faults as parse_spec
from hadron.venues.kalshi.auth import HEADER_KEY, WS_PATH, verify_any
from hadron.venues.kalshi.fake_account import CHANNEL_TYPES, KalshiAccountScript
from hadron.venues.kalshi.fake_exchange import FakeBook, FakeExchange, count_fp
from hadron.venues.kalshi.fake_index import STARTS as INDEX_STARTS
from hadron.venues.kalshi.fake_index import IndexWalk
from hadron.venues.kalshi.indices import PARAMS as INDEX_PARAMS
from hadron.venues.kalshi.messages import (
    TERMINAL_ERROR_CODES,
    KalshiOrderbookDeltaMsg,
    KalshiOrderbookSnapshotMsg,
    KalshiTradeMsg,
)
from hadron.venues.loopback import FramedStream, send_text_frames, take_batch, write_framed

log = structlog.get_logger("hadron.kalshi.fake")

CHANNELS = frozenset(
    {
        "orderbook_delta",
        "trade",
        "ticker",
        "market_lifecycle_v2",
        "fill",
        "market_positions",
        "user_orders",
        "order_group_updates",
        "communications",
        *INDEX_PARAMS,
    }
)
TERMINAL = TERMINAL_ERROR_CODES


def communications_script(ticker: str) -> list[tuple[str, dict[str, Any]]]:
    """The scripted ``communications`` channel of the loopback venue for market ``ticker``: one RFQ
    and a quote on it through its life (``rfq_created``, ``quote_created``, ``quote_accepted``,
    ``quote_executed``, ``rfq_deleted``), ``(type, msg)`` each, shaped as the AsyncAPI examples
    (``rfqCreated`` … ``quoteExecuted``). Sent to a new ``communications`` subscriber at once."""
    event = ticker.rsplit("-", 1)[0]
    rfq = {
        "id": "rfq_loopback_1",
        "creator_id": "",
        "market_ticker": ticker,
        "event_ticker": event,
        "contracts_fp": "100.00",
        "target_cost_dollars": "0.35",
    }
    quote = {
        "quote_id": "quote_loopback_1",
        "rfq_id": rfq["id"],
        "quote_creator_id": "comm_loopback_maker",
        "rfq_creator_id": "comm_loopback_taker",
        "market_ticker": ticker,
        "event_ticker": event,
        "yes_bid_dollars": "0.35",
        "no_bid_dollars": "0.65",
        "yes_contracts_offered_fp": "100.00",
        "no_contracts_offered_fp": "200.00",
        "rfq_target_cost_dollars": "0.35",
    }
    executed = {
        "quote_id": quote["quote_id"],
        "rfq_id": rfq["id"],
        "quote_creator_id": quote["quote_creator_id"],
        "rfq_creator_id": quote["rfq_creator_id"],
        "order_id": "order_loopback_1",
        "client_order_id": "hadron_loopback_1",
        "market_ticker": ticker,
        "executed_ts": "2026-08-27T10:00:02Z",
    }
    return [
        ("rfq_created", {**rfq, "created_ts": "2026-08-27T10:00:00Z"}),
        ("quote_created", {**quote, "created_ts": "2026-08-27T10:00:01Z"}),
        ("quote_accepted", {**quote, "accepted_side": "yes", "contracts_accepted_fp": "50.00"}),
        ("quote_executed", executed),
        ("rfq_deleted", {**rfq, "creator_id": "comm_loopback_taker", "deleted_ts": "2026-08-27T10:00:03Z"}),
    ]


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


# -- the capture -----------------------------------------------------------------------------


class _Envelope(msgspec.Struct, gc=False):
    type: str
    msg: msgspec.Raw = msgspec.Raw(b"{}")


class _CaptureLine(msgspec.Struct, gc=False):
    recv_ms: int
    event: _Envelope


@dataclass
class CaptureEntry:
    """One played frame: its receive time, type, market, raw ``msg`` and decoded ``msg``."""

    recv_ms: int
    kind: str
    ticker: str
    raw: bytes
    msg: KalshiOrderbookSnapshotMsg | KalshiOrderbookDeltaMsg | KalshiTradeMsg


_MSG_TYPES: dict[str, type[Any]] = {
    "orderbook_snapshot": KalshiOrderbookSnapshotMsg,
    "orderbook_delta": KalshiOrderbookDeltaMsg,
    "trade": KalshiTradeMsg,
}


def _read_capture(path: Path) -> Iterator[CaptureEntry]:
    line_decoder = msgspec.json.Decoder(_CaptureLine)
    decoders = {kind: msgspec.json.Decoder(t) for kind, t in _MSG_TYPES.items()}
    for line in LineReader(path):
        try:
            cap = line_decoder.decode(line)
            decoder = decoders.get(cap.event.type)
            if decoder is None:
                continue
            raw = bytes(cap.event.msg)
            msg = decoder.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            continue
        yield CaptureEntry(cap.recv_ms, cap.event.type, msg.market_ticker, raw, msg)


def load_capture(paths: Iterable[Path]) -> list[CaptureEntry]:
    """Read Kalshi capture files (``{"recv_ms", "event"}`` NDJSON, gzipped or not) into one
    timeline, merged by receive time; frames other than book and trade frames are skipped."""
    return list(heapq.merge(*(_read_capture(p) for p in paths), key=lambda e: e.recv_ms))


# -- sessions --------------------------------------------------------------------------------


@dataclass
class _Subscription:
    channel: str
    sid: int
    tickers: set[str] | None
    yes_price: bool = False
    seq: int = 0
    skip_next: bool = False
    dup_next: bool = False
    held: bytes | None = None
    swap_next: bool = False


@dataclass
class _Client:
    ws: ServerConnection
    name: str
    sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    subs: dict[int, _Subscription] = field(default_factory=dict)
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    overflowed: bool = False
    out: FramedStream | None = None
    """Burst mode: the client's frames, framed ahead (its ``queue`` stays empty)."""

    def pending(self) -> int:
        """Frames built for the client and not handed to its socket yet."""
        return self.queue.qsize() + (self.out.frames if self.out is not None else 0)

    def by_channel(self, channel: str) -> _Subscription | None:
        return next((s for s in self.subs.values() if s.channel == channel), None)


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


def _no_to_yes(levels: list[list[str]]) -> list[list[str]]:
    # use_yes_price: NO bids shown at the YES price 1 − p, ascending
    flipped = [[format_price(PRICE_ONE - parse_price(p)), s] for p, s in levels]
    return sorted(flipped, key=lambda lv: lv[0])


class FakeKalshiVenue:
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
        self._burst_open = False  # burst mode: frames built may go out (else held while a round is built)
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
        self.finished = asyncio.Event()
        self._go = asyncio.Event()
        if not start_on_subscribe:
            self._go.set()
        self._clients: list[_Client] = []
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

    # -- handshake and commands --------------------------------------------------------------

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
        client = _Client(ws, f"client-{next(self._conn_ids)}")
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

    async def _write(self, client: _Client) -> None:
        try:
            while True:
                frames = take_batch(client.queue, await client.queue.get())
                await send_text_frames(client.ws, frames)
                self.stats.sent += len(frames)
                if self.transcript is not None:
                    self.transcript.extend(frames)
        except (ConnectionClosed, asyncio.CancelledError):
            return

    @property
    def _holding(self) -> bool:
        # Burst mode: a round of the capture is being built (from the first subscription on)
        return self.burst and self._go.is_set() and not self._burst_open

    def _gate(self, is_open: bool) -> None:
        # Burst mode: let the frames built go out (and wake the writers), or hold them again
        self._burst_open = is_open
        if is_open:
            for client in self._clients:
                if client.out is not None and client.out.frames:
                    client.out.wake.set()

    async def _write_burst(self, client: _Client) -> None:
        # Burst mode: chunks of framed frames, one socket write each, while the gate is open
        out = client.out
        assert out is not None
        try:
            while True:
                await out.wake.wait()
                out.wake.clear()
                while not self._holding and (taken := out.take()) is not None:
                    await write_framed(client.ws, taken[0])
                    self.stats.sent += taken[1]
        except (ConnectionClosed, asyncio.CancelledError):
            return

    def _send(self, client: _Client, frame: dict[str, Any] | bytes) -> None:
        if client.overflowed:
            return
        data = frame if isinstance(frame, bytes) else msgspec.json.encode(frame)
        if client.out is not None:  # burst mode: framed now, written in chunks
            client.out.append(data)
            if self.transcript is not None:
                self.transcript.append(data)
            if not self._holding:
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
        sent = 0
        for order in orders:
            for channel, msg in self.account.frames(order, now_ms()):
                ticker = str(msg.get("market_ticker") or msg.get("ticker") or "")
                for client in self._clients:
                    sub = client.by_channel(channel)
                    if sub is None or (sub.tickers is not None and ticker not in sub.tickers):
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

    def _error(self, client: _Client, cid: Any, code: int, text: str) -> None:
        self._send(client, {"type": "error", "id": cid, "msg": {"code": code, "msg": text}})

    def _command(self, client: _Client, data: bytes) -> None:
        try:
            cmd = msgspec.json.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            self._error(client, None, 1, "Unable to process message")
            return
        if not isinstance(cmd, dict):
            self._error(client, None, 1, "Unable to process message")
            return
        cid = cmd.get("id")
        params = cmd.get("params")
        name = cmd.get("cmd")
        if name == "list_subscriptions":
            subs = [{"channel": s.channel, "sid": s.sid} for s in client.subs.values()]
            self._send(client, {"type": "ok", "id": cid, "msg": subs})
            return
        if not isinstance(params, dict):
            self._error(client, cid, 2, "Params required")
            return
        if name == "subscribe":
            self._subscribe(client, cid, params)
        elif name == "unsubscribe":
            self._unsubscribe(client, cid, params)
        elif name == "update_subscription":
            self._update(client, cid, params)
        else:
            self._error(client, cid, 5, "Unknown command")

    def _subscribe(self, client: _Client, cid: Any, params: dict[str, Any]) -> None:
        channels = params.get("channels")
        if not channels or not isinstance(channels, list):
            self._error(client, cid, 3, "Channels required")
            return
        tickers = _tickers(params)
        for channel in channels:
            if channel not in CHANNELS:
                self._error(client, cid, 8, "Unknown channel name")
                continue
            if channel in INDEX_PARAMS:
                self._subscribe_index(client, cid, channel, params)
                continue
            if channel == "orderbook_delta" and not tickers:
                self._error(client, cid, 14, "Market Ticker required")
                continue
            existing = client.by_channel(channel)
            if existing is not None:  # idempotent: add the new tickers to the live sid
                new = [t for t in tickers or [] if existing.tickers is not None and t not in existing.tickers]
                if existing.tickers is not None:
                    existing.tickers.update(new)
                existing.seq += 1
                ok_msg = {"market_tickers": sorted(existing.tickers or [])}
                self._send(client, {"type": "ok", "id": cid, "sid": existing.sid, "seq": existing.seq, "msg": ok_msg})
                if channel == "orderbook_delta":
                    self._snapshots(client, existing, new, None)
                continue
            sub = _Subscription(
                channel, next(client.sids), set(tickers) if tickers else None, bool(params.get("use_yes_price"))
            )
            client.subs[sub.sid] = sub
            self._send(client, {"type": "subscribed", "id": cid, "msg": {"channel": channel, "sid": sub.sid}})
            if channel == "orderbook_delta":
                self._snapshots(client, sub, sorted(sub.tickers or []), None)
            elif channel == "communications":
                for kind, msg in self.communications:
                    sub.seq += 1
                    self._send(client, {"type": kind, "sid": sub.sid, "seq": sub.seq, "msg": msg})
            self._go.set()

    def _subscribe_index(self, client: _Client, cid: Any, channel: str, params: dict[str, Any]) -> None:
        # cfbenchmarks_value / pyth_value: the ids seeded by index_ids / underlying_tickers (["all"]: every one)
        ids = _index_ids(params, INDEX_PARAMS[channel])
        if not ids:
            self._error(client, cid, 24, "Index IDs required")
            return
        sub = client.by_channel(channel)
        if sub is None:
            sub = _Subscription(channel, next(client.sids), set())
            client.subs[sub.sid] = sub
            self._send(client, {"type": "subscribed", "id": cid, "msg": {"channel": channel, "sid": sub.sid}})
        else:
            sub.seq += 1
            self._send(client, {"type": "ok", "id": cid, "sid": sub.sid, "seq": sub.seq, "msg": {}})
        if "all" in ids:
            sub.tickers = None
        elif sub.tickers is not None:
            sub.tickers.update(ids)

    def _update_index(self, client: _Client, cid: Any, sub: _Subscription, params: dict[str, Any]) -> None:
        # AsyncAPI cfbenchmarksUpdateSubscriptionCommand / pythUpdateSubscriptionCommand
        action = params.get("action")
        cf = sub.channel == "cfbenchmarks_value"
        known = {i for i, (channel, _) in INDEX_STARTS.items() if channel == sub.channel}
        if action == ("indexlist" if cf else "underlying_list"):
            kind = "cfbenchmarks_value_indexlist" if cf else "pyth_value_underlying_list"
            sub.seq += 1
            answer = {INDEX_PARAMS[sub.channel]: sorted(known)}
            self._send(client, {"type": kind, "id": cid, "sid": sub.sid, "seq": sub.seq, "msg": answer})
            return
        add, remove = ("subscribe_indices", "unsubscribe_indices") if cf else (
            "subscribe_underlyings", "unsubscribe_underlyings")  # fmt: skip
        ids = _index_ids(params, INDEX_PARAMS[sub.channel])
        if action not in (add, remove):
            self._error(client, cid, 13, "Unsupported action")
            return
        if not ids:
            self._error(client, cid, 24, "Index IDs required")
            return
        if action == add:
            if "all" in ids:
                sub.tickers = None
            elif sub.tickers is not None:
                sub.tickers.update(ids)
        else:
            sub.tickers = (known if sub.tickers is None else sub.tickers) - set(ids)
        sub.seq += 1
        self._send(client, {"type": "ok", "id": cid, "sid": sub.sid, "seq": sub.seq, "msg": {}})

    async def _index_loop(self) -> None:
        # Every index_interval seconds, one frame per synthetic index to its subscribers
        walks = [IndexWalk(index) for index in INDEX_STARTS]
        while True:
            await asyncio.sleep(self.index_interval)
            now = now_ms()
            for walk in walks:
                msg = walk.step(now)
                self._broadcast(walk.channel, walk.index, _index_frame(walk.channel, msg))

    def _unsubscribe(self, client: _Client, cid: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids")
        if not sids or not isinstance(sids, list):
            self._error(client, cid, 4, "Subscription IDs required")
            return
        for sid in sids:
            sub = client.subs.pop(sid, None) if isinstance(sid, int) else None
            if sub is None:
                self._error(client, cid, 7, "Unknown subscription ID")
                continue
            self._send(client, {"type": "unsubscribed", "id": cid, "sid": sub.sid, "seq": sub.seq + 1})

    def _update(self, client: _Client, cid: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids") or ([params["sid"]] if "sid" in params else [])
        if not isinstance(sids, list) or len(sids) != 1:
            self._error(client, cid, 12, "Exactly one subscription ID is required")
            return
        sub = client.subs.get(sids[0])
        if sub is None:
            self._error(client, cid, 7, "Unknown subscription ID")
            return
        if sub.channel in INDEX_PARAMS:
            self._update_index(client, cid, sub, params)
            return
        action = params.get("action")
        tickers = _tickers(params)
        if not action:
            self._error(client, cid, 15, "Action required")
        elif action == "get_snapshot":
            if sub.channel != "orderbook_delta" or not tickers:
                self._error(client, cid, 13, "Unsupported action")
                return
            if self.drop_on_snapshot:  # the connection dies in the middle of a resync
                self.drop_on_snapshot = False
                client.ws.transport.abort()
                return
            self._snapshots(client, sub, tickers, cid)
        elif action in ("add_markets", "delete_markets"):
            if sub.tickers is None:
                self._error(client, cid, 13, "Unsupported action")
                return
            new = [t for t in tickers if t not in sub.tickers] if action == "add_markets" else []
            if action == "add_markets":
                sub.tickers.update(tickers)
            else:
                sub.tickers.difference_update(tickers)
            sub.seq += 1
            ok_msg = {"market_tickers": sorted(sub.tickers)}
            self._send(client, {"type": "ok", "id": cid, "sid": sub.sid, "seq": sub.seq, "msg": ok_msg})
            if sub.channel == "orderbook_delta":
                self._snapshots(client, sub, new, None)
        else:
            self._error(client, cid, 13, "Unsupported action")

    def _snapshots(self, client: _Client, sub: _Subscription, tickers: Iterable[str], cid: Any) -> None:
        for ticker in tickers:
            wire = self.exchange.book(ticker).wire()
            if sub.yes_price and "no_dollars_fp" in wire:
                wire["no_dollars_fp"] = _no_to_yes(wire["no_dollars_fp"])
            market_id = str(self.exchange.markets.get(ticker, {}).get("id", ""))
            sub.seq += 1
            frame: dict[str, Any] = {
                "type": "orderbook_snapshot",
                "sid": sub.sid,
                "seq": sub.seq,
                "msg": {"market_ticker": ticker, "market_id": market_id, **wire},
            }
            if cid is not None:
                frame["id"] = cid
            self._send(client, frame)

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
            self._broadcast("trade", entry.ticker, lambda sub: _frame("trade", sub, entry.raw))

    def _apply_snapshot(self, entry: CaptureEntry, msg: KalshiOrderbookSnapshotMsg) -> None:
        book = self.exchange.book(entry.ticker)
        target = FakeBook()
        target.load(msg)
        if not target.yes and not target.no:  # the venue clears a closed market's book
            book.load(msg)
            raw = msgspec.json.encode({"market_ticker": entry.ticker, "market_id": msg.market_id})
            self._broadcast("orderbook_delta", entry.ticker, lambda sub: _frame("orderbook_snapshot", sub, raw))
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
            lambda sub: _frame("orderbook_delta", sub, yes_raw if sub.yes_price and yes_raw is not None else raw),
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

    def _faulty_send(self, client: _Client, sub: _Subscription, frame: bytes) -> None:
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

    def _client_fault(self, client: _Client, fault: Fault) -> None:
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


def _frame(kind: str, sub: _Subscription, raw_msg: bytes) -> bytes:
    head = f'{{"type":"{kind}","sid":{sub.sid},"seq":{sub.seq},"msg":'.encode()
    return head + raw_msg + b"}"


def _tickers(params: dict[str, Any]) -> list[str]:
    many = params.get("market_tickers")
    if isinstance(many, list):
        return [t for t in many if isinstance(t, str)]
    one = params.get("market_ticker")
    return [one] if isinstance(one, str) else []


def _index_frame(channel: str, msg: dict[str, Any]) -> Any:
    # The frame builder of one reference price (the subscriber's sid and seq filled in)
    def build(sub: _Subscription) -> dict[str, Any]:
        return {"type": channel, "sid": sub.sid, "seq": sub.seq, "msg": msg}

    return build


def _index_ids(params: dict[str, Any], key: str) -> list[str]:
    ids = params.get(key)
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def _key_list(key: rsa.RSAPublicKey | Sequence[rsa.RSAPublicKey] | None) -> list[rsa.RSAPublicKey]:
    if key is None:
        return []
    return [key] if isinstance(key, rsa.RSAPublicKey) else list(key)


def now_ms() -> int:
    """The venue clock, Unix ms."""
    return int(time.time() * 1000)
