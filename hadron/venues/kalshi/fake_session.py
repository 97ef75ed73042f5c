"""A client's session on the loopback Kalshi venue: its subscriptions (one sid and seq count each)
and the commands that change them (``subscribe``, ``unsubscribe``, ``update_subscription``,
``list_subscriptions``), answered as Kalshi answers them (``docs/protocols/kalshi.md#client-messages-commands``), and
the synthetic reference-price streams (:mod:`hadron.venues.kalshi.fake_index`).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from websockets.asyncio.server import ServerConnection

from hadron.model.units import PRICE_ONE, format_price, parse_price
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fake_index import STARTS as INDEX_STARTS
from hadron.venues.kalshi.fake_index import IndexWalk
from hadron.venues.kalshi.indices import PARAMS as INDEX_PARAMS
from hadron.venues.loopback import FramedStream

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


@dataclass
class Subscription:
    """One subscription of a client: its channel, sid, markets (``None``: a firehose) and seq
    count, and the faults pending on it (a skipped, repeated or swapped delta)."""

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
class Client:
    """One connected client: its socket, subscriptions by sid, and the frames built for it (a
    queue, or in burst mode :attr:`out`) that its writer task sends."""

    ws: ServerConnection
    name: str
    sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    subs: dict[int, Subscription] = field(default_factory=dict)
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    overflowed: bool = False
    out: FramedStream | None = None
    """Burst mode: the client's frames, framed ahead (its ``queue`` stays empty)."""

    def pending(self) -> int:
        """Frames built for the client and not handed to its socket yet."""
        return self.queue.qsize() + (self.out.frames if self.out is not None else 0)

    def by_channel(self, channel: str) -> Subscription | None:
        """The client's subscription to ``channel``, if any."""
        return next((s for s in self.subs.values() if s.channel == channel), None)


def _no_to_yes(levels: list[list[str]]) -> list[list[str]]:
    # use_yes_price: NO bids shown at the YES price 1 − p, ascending
    flipped = [[format_price(PRICE_ONE - parse_price(p)), s] for p, s in levels]
    return sorted(flipped, key=lambda lv: lv[0])


def wire_frame(kind: str, sub: Subscription, raw_msg: bytes) -> bytes:
    """A ``{"type", "sid", "seq", "msg"}`` frame of ``sub`` around ``raw_msg`` (its current seq)."""
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
    def build(sub: Subscription) -> dict[str, Any]:
        return {"type": channel, "sid": sub.sid, "seq": sub.seq, "msg": msg}

    return build


def _index_ids(params: dict[str, Any], key: str) -> list[str]:
    ids = params.get(key)
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def now_ms() -> int:
    """The venue clock, Unix ms."""
    return int(time.time() * 1000)


class FakeKalshiCommands:
    """The command side of :class:`~hadron.venues.kalshi.fake.FakeKalshiVenue`, which mixes it in
    and provides the venue's state below and the sending (:meth:`_send`, :meth:`_broadcast`).

    Every command gets its answer on the client's socket, in order: ``subscribed`` (a new sid) /
    ``ok`` / ``unsubscribed`` / ``error``, acks counted in the sid's seq as Kalshi counts them; a
    new ``orderbook_delta`` subscription first gets a snapshot of each market from the venue's
    own book.
    """

    exchange: FakeExchange
    communications: list[tuple[str, dict[str, Any]]]
    drop_on_snapshot: bool
    index_interval: float
    _go: asyncio.Event

    def _send(self, client: Client, frame: dict[str, Any] | bytes) -> None:
        raise NotImplementedError  # the venue's: one frame to one client, after the ones before

    def _broadcast(self, channel: str, ticker: str, build: Any) -> None:
        raise NotImplementedError  # the venue's: a frame built per subscription, to every subscriber

    def _error(self, client: Client, cid: Any, code: int, text: str) -> None:
        self._send(client, {"type": "error", "id": cid, "msg": {"code": code, "msg": text}})

    def _command(self, client: Client, data: bytes) -> None:
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

    def _subscribe(self, client: Client, cid: Any, params: dict[str, Any]) -> None:
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
            sub = Subscription(
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

    def _subscribe_index(self, client: Client, cid: Any, channel: str, params: dict[str, Any]) -> None:
        # cfbenchmarks_value / pyth_value: the ids seeded by index_ids / underlying_tickers (["all"]: every one)
        ids = _index_ids(params, INDEX_PARAMS[channel])
        if not ids:
            self._error(client, cid, 24, "Index IDs required")
            return
        sub = client.by_channel(channel)
        if sub is None:
            sub = Subscription(channel, next(client.sids), set())
            client.subs[sub.sid] = sub
            self._send(client, {"type": "subscribed", "id": cid, "msg": {"channel": channel, "sid": sub.sid}})
        else:
            sub.seq += 1
            self._send(client, {"type": "ok", "id": cid, "sid": sub.sid, "seq": sub.seq, "msg": {}})
        if "all" in ids:
            sub.tickers = None
        elif sub.tickers is not None:
            sub.tickers.update(ids)

    def _update_index(self, client: Client, cid: Any, sub: Subscription, params: dict[str, Any]) -> None:
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

    def _unsubscribe(self, client: Client, cid: Any, params: dict[str, Any]) -> None:
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

    def _update(self, client: Client, cid: Any, params: dict[str, Any]) -> None:
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

    def _snapshots(self, client: Client, sub: Subscription, tickers: Iterable[str], cid: Any) -> None:
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
