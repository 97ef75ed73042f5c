"""A loopback Polymarket venue: the CLOB market channel (WebSocket) and REST ``/book`` on 127.0.0.1.

It keeps the channel's rules (``docs/polymarket-protocol.md`` §2): the first frame must be
``{"assets_ids": […], "type": "market"}`` (a ``PING`` before it closes the socket with 1008
"invalid subscription payload"); a second ``type: market`` frame, or any other invalid operation,
gets the text ``INVALID OPERATION``; ``{"operation": "subscribe" | "unsubscribe", …}`` changes
the subscription; ``PING`` gets ``PONG``. On (re)subscription the venue sends one array frame
with a ``book`` per token (an unknown token gets an empty book with a zero hash).

It plays a capture as the exchange's truth: Polymarket frame files (a JSON array of frames, or
NDJSON, optionally wrapped as ``{"recv_ms", "event"}``), or a Kalshi capture transcoded into
Polymarket's wire format (see :func:`transcode_kalshi`): the same real order flow as a YES/NO
token pair, with mirrored legs and each token's ``best_bid``/``best_ask``.

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
import hashlib
import heapq
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from hadron.model.units import PRICE_ONE, parse_price, parse_size
from hadron.store.replay import LineReader, RecordingFormat, detect, json_frames, read_all
from hadron.venues.account_script import ScriptedOrder
from hadron.venues.faults import Fault
from hadron.venues.faults import parse_faults as parse_spec
from hadron.venues.loopback import FramedStream, send_text_frames, take_batch, write_framed
from hadron.venues.polymarket.fake_account import PolymarketAccountScript
from hadron.venues.polymarket.hash import book_hash

log = structlog.get_logger("hadron.polymarket.fake")

MIN_ORDER_SIZE = "5"
ZERO_HASH = "0" * 40
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


def _decimal_text(value: int, scale: int) -> str:
    text = format(Decimal(value) / scale, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def price_text(price: int) -> str:
    """Polymarket's price string: ``4800`` → ``"0.48"``."""
    return _decimal_text(price, PRICE_ONE)


def size_text(size: int) -> str:
    """Polymarket's size string: ``45_830_000`` → ``"45.83"``."""
    return _decimal_text(size, 1_000_000)


# -- state -----------------------------------------------------------------------------------


@dataclass
class FakePolyBook:
    """One token's book: price (1/10,000 USD) → size (1/1,000,000), and its metadata."""

    market: str
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    timestamp_ms: int = 0
    tick_size: str = "0.01"
    last_trade_price: str = ""

    def set(self, side: str, price: int, size: int) -> None:
        """Set one level (``side`` BUY = bid, SELL = ask); size 0 removes it."""
        ladder = self.bids if side == "BUY" else self.asks
        if size > 0:
            ladder[price] = size
        else:
            ladder.pop(price, None)

    def best(self) -> tuple[str, str]:
        """The ``best_bid``/``best_ask`` strings a ``price_change`` entry carries."""
        bid = max(self.bids) if self.bids else 0
        ask = min(self.asks) if self.asks else PRICE_ONE
        return price_text(bid), price_text(ask)

    def levels(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """Bids ascending and asks descending (worst first), as the venue sends them."""
        bids = [{"price": price_text(p), "size": size_text(s)} for p, s in sorted(self.bids.items())]
        asks = [{"price": price_text(p), "size": size_text(s)} for p, s in sorted(self.asks.items(), reverse=True)]
        return bids, asks

    def message(self, asset_id: str) -> dict[str, Any]:
        """The ``book`` message for this token, with its hash."""
        bids, asks = self.levels()
        stamp = str(self.timestamp_ms)
        digest = book_hash(
            market=self.market,
            asset_id=asset_id,
            timestamp=stamp,
            bids=[(b["price"], b["size"]) for b in bids],
            asks=[(a["price"], a["size"]) for a in asks],
            min_order_size=MIN_ORDER_SIZE,
            tick_size=self.tick_size,
            neg_risk=False,
            last_trade_price=self.last_trade_price,
        )
        return {
            "market": self.market,
            "asset_id": asset_id,
            "timestamp": stamp,
            "hash": digest,
            "bids": bids,
            "asks": asks,
            "tick_size": self.tick_size,
            "event_type": "book",
            "last_trade_price": self.last_trade_price,
        }

    def summary(self, asset_id: str) -> dict[str, Any]:
        """The REST ``GET /book`` body (OrderBookSummary)."""
        msg = self.message(asset_id)
        msg.pop("event_type")
        return {**msg, "min_order_size": MIN_ORDER_SIZE, "neg_risk": False}


@dataclass
class FakePolyExchange:
    """Every token's book, updated as the capture plays."""

    books: dict[str, FakePolyBook] = field(default_factory=dict)

    def book(self, asset_id: str, market: str = "") -> FakePolyBook:
        """Return the token's book (created empty, with its market's tick when a sibling token
        already has one: the tick is the market's, both tokens share it)."""
        book = self.books.get(asset_id)
        if book is None:
            sibling = next((b for b in self.books.values() if market and b.market == market), None)
            book = self.books[asset_id] = FakePolyBook(market)
            if sibling is not None:
                book.tick_size = sibling.tick_size
        return book

    def _set_tick(self, book: FakePolyBook, tick_size: str) -> None:
        # A market's tick changes for all its tokens (the venue's book and tick_size_change say it per token)
        for other in self.books.values():
            if other is book or (book.market and other.market == book.market):
                other.tick_size = tick_size

    def apply(self, msg: dict[str, Any]) -> None:
        """Apply one market-channel message to the books."""
        kind = msg.get("event_type")
        if kind == "book":
            book = self.book(msg["asset_id"], msg.get("market", ""))
            book.bids = {parse_price(x["price"]): parse_size(x["size"]) for x in msg.get("bids") or []}
            book.asks = {parse_price(x["price"]): parse_size(x["size"]) for x in msg.get("asks") or []}
            book.bids = {p: s for p, s in book.bids.items() if s}
            book.asks = {p: s for p, s in book.asks.items() if s}
            book.timestamp_ms = int(msg["timestamp"])
            if msg.get("tick_size"):
                self._set_tick(book, msg["tick_size"])
            if msg.get("last_trade_price") is not None:
                book.last_trade_price = msg["last_trade_price"]
        elif kind == "price_change":
            for change in msg.get("price_changes") or []:
                book = self.book(change["asset_id"], msg.get("market", ""))
                book.set(change["side"], parse_price(change["price"]), parse_size(change["size"]))
                book.timestamp_ms = int(msg["timestamp"])
        elif kind == "last_trade_price":
            book = self.book(msg["asset_id"], msg.get("market", ""))
            book.last_trade_price = msg["price"]
        elif kind == "tick_size_change":
            self._set_tick(self.book(msg["asset_id"], msg.get("market", "")), msg["new_tick_size"])

    def rest_app(self) -> Starlette:
        """REST ``GET /book?token_id=`` and ``POST /books`` over these books."""

        async def get_book(request: Request) -> Response:
            token = request.query_params.get("token_id", "")
            if not token.isdigit():
                return JSONResponse({"error": "Invalid token id"}, status_code=400)
            book = self.books.get(token)
            if book is None:
                return JSONResponse({"error": "No orderbook exists for the requested token id"}, status_code=404)
            return JSONResponse(book.summary(token))

        async def post_books(request: Request) -> Response:
            body = await request.json()
            if not isinstance(body, list):
                return JSONResponse({"error": "body must be a list of {token_id}"}, status_code=400)
            tokens = [item.get("token_id", "") for item in body if isinstance(item, dict)]
            return JSONResponse([self.books[t].summary(t) for t in tokens if t in self.books])

        return Starlette(routes=[Route("/book", get_book), Route("/books", post_books, methods=["POST"])])


# -- captures --------------------------------------------------------------------------------


@dataclass
class Played:
    """One message of the timeline: its time (ms), the tokens it touches, and the message."""

    recv_ms: int
    assets: frozenset[str]
    msg: dict[str, Any]


def _assets_of(msg: dict[str, Any]) -> frozenset[str]:
    if msg.get("event_type") == "price_change" and msg.get("price_changes"):
        return frozenset(c.get("asset_id", "") for c in msg["price_changes"])
    token = msg.get("asset_id")
    if token:
        return frozenset([token])
    return frozenset(msg.get("assets_ids") or [])


def _polymarket_messages(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    rec = detect(path)
    if rec is None:
        return
    if rec.format is RecordingFormat.FRAMES_JSON:
        raws = [bytes(r) for r in json_frames(read_all(path))]
        wrapped = [(0, r) for r in raws]
    else:
        wrapped = []
        for line in LineReader(path):
            obj = msgspec.json.decode(line)
            if isinstance(obj, dict) and "event" in obj and "recv_ms" in obj:
                wrapped.append((int(obj["recv_ms"]), msgspec.json.encode(obj["event"])))
            else:
                wrapped.append((0, line))
    for recv_ms, raw in wrapped:
        value = msgspec.json.decode(raw)
        for msg in value if isinstance(value, list) else [value]:
            if isinstance(msg, dict) and "event_type" in msg:
                stamp = recv_ms or int(msg.get("timestamp") or 0)
                yield stamp, msg


def token_ids(ticker: str) -> tuple[str, str, str]:
    """Deterministic ``(condition id, YES token id, NO token id)`` for a transcoded Kalshi market.

    Token ids are 77–78 digit decimal strings, like Polymarket's.
    """
    digest = hashlib.sha256(ticker.encode()).digest()
    yes = str(int.from_bytes(hashlib.sha256(digest + b"yes").digest(), "big"))
    no = str(int.from_bytes(hashlib.sha256(digest + b"no").digest(), "big"))
    return "0x" + digest.hex(), yes, no


class _KalshiTranscoder:
    """Kalshi book frames → Polymarket messages for a YES/NO token pair (same order flow)."""

    def __init__(self) -> None:
        self.books: dict[str, tuple[dict[int, int], dict[int, int]]] = {}

    def messages(self, event: dict[str, Any], recv_ms: int) -> list[dict[str, Any]]:
        kind = event.get("type")
        msg = event.get("msg") or {}
        ticker = msg.get("market_ticker", "")
        if not ticker:
            return []
        market, yes_token, no_token = token_ids(ticker)
        yes, no = self.books.setdefault(ticker, ({}, {}))
        stamp = str(msg.get("ts_ms") or recv_ms)
        if kind == "orderbook_snapshot":
            yes.clear()
            no.clear()
            yes.update((parse_price(p), parse_size(s)) for p, s in msg.get("yes_dollars_fp") or [])
            no.update((parse_price(p), parse_size(s)) for p, s in msg.get("no_dollars_fp") or [])
            return [self._book(market, yes_token, yes, no, stamp), self._book(market, no_token, no, yes, stamp)]
        if kind == "orderbook_delta":
            ladder = yes if msg["side"] == "yes" else no
            price = parse_price(msg["price_dollars"])
            size = max(0, ladder.get(price, 0) + parse_size(msg["delta_fp"]))
            if size:
                ladder[price] = size
            else:
                ladder.pop(price, None)
            own, other = (yes_token, no_token) if msg["side"] == "yes" else (no_token, yes_token)
            changes = [
                self._change(own, price, size, "BUY", *self._top(yes, no, own == yes_token)),
                self._change(other, PRICE_ONE - price, size, "SELL", *self._top(yes, no, other == yes_token)),
            ]
            return [{"market": market, "price_changes": changes, "timestamp": stamp, "event_type": "price_change"}]
        if kind == "trade":
            taker_yes = (msg.get("taker_outcome_side") or msg.get("taker_side")) == "yes"
            return [
                {
                    "asset_id": yes_token,
                    "market": market,
                    "price": price_text(parse_price(msg["yes_price_dollars"])),
                    "size": size_text(parse_size(msg["count_fp"])),
                    "side": "BUY" if taker_yes else "SELL",
                    "fee_rate_bps": "0",
                    "timestamp": stamp,
                    "event_type": "last_trade_price",
                }
            ]
        return []

    @staticmethod
    def _top(yes: dict[int, int], no: dict[int, int], is_yes: bool) -> tuple[str, str]:
        bids, other = (yes, no) if is_yes else (no, yes)
        bid = max(bids) if bids else 0
        ask = PRICE_ONE - max(other) if other else PRICE_ONE
        return price_text(bid), price_text(ask)

    @staticmethod
    def _change(token: str, price: int, size: int, side: str, best_bid: str, best_ask: str) -> dict[str, Any]:
        return {
            "asset_id": token,
            "price": price_text(price),
            "size": size_text(size),
            "side": side,
            "hash": hashlib.sha1(f"{token}{price}{size}{side}".encode(), usedforsecurity=False).hexdigest(),
            "best_bid": best_bid,
            "best_ask": best_ask,
        }

    @staticmethod
    def _book(market: str, token: str, bids: dict[int, int], opposite: dict[int, int], stamp: str) -> dict[str, Any]:
        book = FakePolyBook(market, dict(bids), {PRICE_ONE - p: s for p, s in opposite.items()}, int(stamp))
        return book.message(token)


def _moved(price: str, shift: int) -> str:
    return price_text(min(PRICE_ONE - 100, max(100, parse_price(price) + shift)))


def dislocate(msg: dict[str, Any], shifts: dict[str, int]) -> dict[str, Any]:
    """Move a market-channel message's prices per token, in place, and return it.

    ``shifts`` maps token ids to a price move (int, 1/10,000 USD; e.g. ``-2500`` moves a token 25¢
    down); prices stay within $0.01..$0.99 (levels that meet at an edge are merged). Hashes and
    ``best_bid``/``best_ask`` are dropped: they would no longer describe the book. Tokens not in
    ``shifts`` are left alone. Used to build cross-venue dislocations from one real capture.
    """
    kind = msg.get("event_type")
    if kind == "book":
        shift = shifts.get(msg.get("asset_id", ""))
        if shift:
            for side in ("bids", "asks"):
                levels: dict[str, int] = {}
                for level in msg[side]:
                    price = _moved(level["price"], shift)
                    levels[price] = levels.get(price, 0) + parse_size(level["size"])
                msg[side] = [{"price": p, "size": size_text(z)} for p, z in levels.items()]
            msg.pop("hash", None)
    elif kind == "price_change":
        for change in msg["price_changes"]:
            shift = shifts.get(change.get("asset_id", ""))
            if shift:
                change["price"] = _moved(change["price"], shift)
                change.pop("best_bid", None)
                change.pop("best_ask", None)
    elif kind == "last_trade_price":
        shift = shifts.get(msg.get("asset_id", ""))
        if shift:
            msg["price"] = _moved(msg["price"], shift)
    return msg


def transcode_kalshi(paths: Iterable[Path], *, shift: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """Turn Kalshi capture files into Polymarket market-channel messages, ``(recv_ms, message)``.

    Each Kalshi market becomes a YES token (its YES bids; asks = 1 − NO bids) and a NO token (the
    mirror); a Kalshi snapshot becomes two ``book`` messages, a delta one ``price_change`` with
    both legs and each token's best bid/ask, a trade a ``last_trade_price`` on the YES token.

    ``shift`` (int, 1/10,000 USD) moves every YES token's prices by ``shift`` and every NO token's
    by ``−shift`` (see :func:`dislocate`): the Polymarket copy then disagrees with the Kalshi
    original by that much, a cross-venue dislocation on real order flow.
    """

    class _Line(msgspec.Struct):
        recv_ms: int
        event: dict[str, Any]

    decoder = msgspec.json.Decoder(_Line)
    transcoder = _KalshiTranscoder()

    def lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        for raw in LineReader(path):
            try:
                line = decoder.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                continue
            yield line.recv_ms, line.event

    shifts: dict[str, int] = {}
    seen: set[str] = set()
    for recv_ms, event in heapq.merge(*(lines(p) for p in paths), key=lambda item: item[0]):
        for msg in transcoder.messages(event, recv_ms):
            if shift:
                ticker = (event.get("msg") or {}).get("market_ticker", "")
                if ticker and ticker not in seen:
                    seen.add(ticker)
                    _, yes, no = token_ids(ticker)
                    shifts[yes], shifts[no] = shift, -shift
                dislocate(msg, shifts)
            yield recv_ms, msg


def _later(item: Played, offset_ms: int) -> Played:
    # The item with its time (and its message's timestamp) moved on by ``offset_ms``
    msg = item.msg
    if "timestamp" in msg:
        msg = {**msg, "timestamp": str(int(msg["timestamp"]) + offset_ms)}
    return Played(item.recv_ms + offset_ms, item.assets, msg)


def pairs_toml(
    tickers: Iterable[str], *, fee_rate: str = "0.04", settles_at: str | None = None, kalshi_fee_multiplier: str = "1"
) -> str:
    """A pairs file approving each Kalshi market with its transcoded Polymarket token pair, with
    both fee terms stated (an approved pair without them is refused when loaded).

    Args:
        tickers: Kalshi market tickers (transcoded with :func:`transcode_kalshi`).
        fee_rate: the Polymarket taker fee rate to price the tokens with (decimal string).
        settles_at: ISO 8601 settlement time of the pair, when known.
        kalshi_fee_multiplier: the Kalshi markets' fee multiplier (decimal string; 1: the standard fee).
    """
    out = []
    for ticker in tickers:
        market, yes, no = token_ids(ticker)
        event = ticker.rsplit("-", 1)[0]
        lines = [
            "[[pair]]",
            f'id = "{ticker}"',
            f'kalshi_event = "{event}"',
            f'kalshi_market = "{ticker}"',
            f'polymarket_event = "{event}"',
            f'polymarket_market = "{market}"',
            f'polymarket_yes_token = "{yes}"',
            f'polymarket_no_token = "{no}"',
            'relation = "identity"',
            "confidence = 1.0",
            'status = "approved"',
            f'kalshi_fee_multiplier = "{kalshi_fee_multiplier}"',
            f'polymarket_fee_rate = "{fee_rate}"',
            f'polymarket_min_size = "{MIN_ORDER_SIZE}"',
        ]
        if settles_at:
            lines.append(f'settles_at = "{settles_at}"')
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def write_pair_recording(paths: Iterable[Path], out: Path, *, shift: int) -> int:
    """Write one Hadron recording holding a Kalshi capture and its dislocated Polymarket copy.

    Lines are time-ordered by receive time (Kalshi first on a tie), each
    ``{"recv_ns", "venue", "conn", "frame"}`` (connections ``k``, ``k1``… one per capture file,
    and ``pm``), so one replay sees
    both venues as a live runtime would. ``shift`` as :func:`transcode_kalshi`. Returns the number
    of lines written.
    """
    paths = list(paths)

    class _Line(msgspec.Struct):
        recv_ms: int
        event: msgspec.Raw

    decoder = msgspec.json.Decoder(_Line)
    encoder = msgspec.json.Encoder()
    items: list[tuple[int, int, int, bytes]] = []
    n = 0
    for index, path in enumerate(paths):
        conn = "k" if index == 0 else f"k{index}"  # each capture file is its own connection
        for raw in LineReader(path):
            try:
                line = decoder.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                continue
            record = {
                "recv_ns": line.recv_ms * 1_000_000,
                "venue": "kalshi",
                "conn": conn,
                "frame": bytes(line.event).decode(),
            }
            items.append((line.recv_ms, 0, n, encoder.encode(record)))
            n += 1
    for n, (recv_ms, msg) in enumerate(transcode_kalshi(paths, shift=shift)):
        record = {
            "recv_ns": recv_ms * 1_000_000,
            "venue": "polymarket",
            "conn": "pm",
            "frame": encoder.encode(msg).decode(),
        }
        items.append((recv_ms, 1, n, encoder.encode(record)))
    items.sort(key=lambda item: item[:3])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as sink:
        for *_, line_bytes in items:
            sink.write(line_bytes + b"\n")
    return len(items)


def load_capture(paths: Iterable[Path], *, shift: int = 0) -> list[Played]:
    """Read Polymarket frame files and Kalshi captures (transcoded, moved by ``shift`` as in
    :func:`transcode_kalshi`) into one timeline."""
    items: list[tuple[int, dict[str, Any]]] = []
    kalshi: list[Path] = []
    for path in paths:
        rec = detect(path)
        if rec is not None and rec.venue == "kalshi":
            kalshi.append(path)
        else:
            items.extend(_polymarket_messages(path))
    items.extend(transcode_kalshi(kalshi, shift=shift))
    items.sort(key=lambda item: item[0])
    return [Played(recv_ms, _assets_of(msg), msg) for recv_ms, msg in items]


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
        self._burst_open = False  # burst mode: frames built may go out (else held while a round is built)
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
        self._clients: list[_Client] = []
        self.user_auth: tuple[str, str, str] | None = None
        """The user channel's credentials ``(apiKey, secret, passphrase)`` (``None``: refuse all)."""
        self.account = PolymarketAccountScript()
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
                    if client.muted_until and time.monotonic() < client.muted_until:
                        self.stats.muted += taken[1]  # lost on the way: the client never sees them
                        continue
                    await write_framed(client.ws, taken[0])
                    self.stats.sent += taken[1]
        except (ConnectionClosed, asyncio.CancelledError):
            return

    def _put(self, client: _Client, frame: str | bytes) -> None:
        # One text frame to the client, after every frame put before
        if client.out is not None:  # burst mode: framed now, written in chunks
            client.out.append(frame if isinstance(frame, bytes) else frame.encode())
            if not self._holding:
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
                item = _later(played, offset) if offset else played
                self._clock_ms = max(self._clock_ms, item.recv_ms)
                self.stats.played += 1
                if index in self._listed and not rounds:
                    continue
                self.exchange.apply(item.msg)
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
