"""Polymarket's authenticated user channel (``wss://ws-subscriptions-clob.polymarket.com/ws/user``):
our orders and trades, typed and normalized into account events (:mod:`hadron.model.account`).

Subscribe (see ``docs/protocols/polymarket.md#user-channel`` and Polymarket AsyncAPI ``wss/user``)::

    {"auth":{"apiKey":"<uuid>","secret":"<secret>","passphrase":"<pass>"},"markets":[],"type":"user"}

``markets`` are condition ids (empty: every market). The frame holds the L2 credentials: it is
built only by :func:`subscribe_frame`, sent and never logged, recorded or stored (this channel is
not recorded at all: its frames name the API key as ``owner``). Auth success is never
acknowledged. Messages:

* ``order`` (``event_type:"order"``; ``type`` PLACEMENT, UPDATE or CANCELLATION) →
  :class:`~hadron.model.account.OrderUpdate`. An FOK kill arrives as ``status``
  ``"CANCELED_…"`` with an empty ``size_matched`` (nautilus issue #3987).
* ``trade`` (``event_type:"trade"``; ``status`` MATCHED → MINED → CONFIRMED, or RETRYING →
  FAILED; the same ``id`` each time) → :class:`~hadron.model.account.AccountFill`: ours as the
  taker (``trader_side`` TAKER: ``side``, ``size``, ``price``), or each of ``maker_orders`` whose
  ``owner`` is our API key as a maker (its ``matched_amount`` at its ``price``).

Times: ``timestamp`` is ms, while ``created_at``, ``matchtime``/``match_time`` and
``last_update`` are seconds (nautilus issue #3292). Prices and sizes are decimal strings parsed
straight to fixed point. A frame may hold one message or a JSON array of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog

from hadron.errors import DecodeError, TransportError
from hadron.model.account import AccountEvent, AccountFill, OrderSide, OrderStatus, OrderUpdate, Outcome
from hadron.model.units import parse_price, parse_size
from hadron.venues.base import AccountSink, DeadLetterSink, FeedStats
from hadron.venues.session import Backoff
from hadron.venues.wsclient import WsConnection, reconnect_loop

log = structlog.get_logger("hadron.polymarket.user")

VENUE = "polymarket"
_PREFIX = "polymarket:"
MAX_USER_FRAME_BYTES = 1 << 20
"""The largest user-channel frame accepted (1 MiB; one message is well under 2 KB)."""


@dataclass
class UserDialStats:
    """What the user channel's connection went through (see :class:`~hadron.venues.wsclient.DialStats`)."""

    dials: int = 0
    connects: int = 0
    reconnects: int = 0
    failures: int = 0
    last_error: str = ""


class PolymarketMakerOrder(msgspec.Struct, frozen=True, gc=False):
    """One maker order of a ``trade`` (ours when ``owner`` is our API key)."""

    order_id: str = ""
    owner: str = ""
    asset_id: str = ""
    matched_amount: str = ""
    price: str = ""
    side: str = ""
    outcome: str = ""
    fee_rate_bps: str = ""


class PolymarketUserTrade(msgspec.Struct, frozen=True, gc=False, tag="trade", tag_field="event_type"):
    """A ``trade`` of the user channel (sizes in shares, price in USD per share, times in seconds)."""

    id: str
    asset_id: str = ""
    market: str = ""
    side: str = ""
    size: str = ""
    price: str = ""
    status: str = ""
    taker_order_id: str = ""
    trader_side: str = ""
    owner: str = ""
    trade_owner: str = ""
    outcome: str = ""
    fee_rate_bps: str = ""
    match_time: str = ""
    matchtime: str = ""
    last_update: str = ""
    timestamp: str = ""
    maker_orders: list[PolymarketMakerOrder] = []
    type: str = ""


class PolymarketUserOrder(msgspec.Struct, frozen=True, gc=False, tag="order", tag_field="event_type"):
    """An ``order`` of the user channel (``type`` PLACEMENT, UPDATE or CANCELLATION)."""

    id: str
    asset_id: str = ""
    market: str = ""
    side: str = ""
    price: str = ""
    original_size: str = ""
    size_matched: str = ""
    status: str = ""
    type: str = ""
    outcome: str = ""
    owner: str = ""
    order_owner: str = ""
    order_type: str = ""
    created_at: str = ""
    timestamp: str = ""
    associate_trades: list[str] | None = None


PolymarketUserMessage = PolymarketUserTrade | PolymarketUserOrder
USER_DECODER: msgspec.json.Decoder[PolymarketUserMessage | list[PolymarketUserMessage]] = msgspec.json.Decoder(
    PolymarketUserMessage | list[PolymarketUserMessage]
)
"""Decodes one user-channel frame: a message or an array of them (DecodeError/ValidationError)."""


def subscribe_frame(api_key: str, secret: str, passphrase: str, markets: list[str] | None = None) -> str:
    """The subscribe frame, credentials inside: send it, never log or record it."""
    auth = {"apiKey": api_key, "secret": secret, "passphrase": passphrase}
    return msgspec.json.encode({"auth": auth, "markets": markets or [], "type": "user"}).decode()


def _seconds_ns(text: str, recv_ns: int) -> int:
    if not text:
        return recv_ns
    if not text.isdigit() or len(text) > 11:
        raise DecodeError(f"time {text!r} is not Unix seconds")
    return int(text) * 1_000_000_000


def _ms_ns(text: str) -> int:
    if not text.isdigit() or len(text) > 14:
        raise DecodeError(f"timestamp {text!r} is not Unix ms")
    return int(text) * 1_000_000


def _side(text: str) -> OrderSide:
    if text.upper() == "BUY":
        return OrderSide.BUY
    if text.upper() == "SELL":
        return OrderSide.SELL
    raise DecodeError(f"side {text!r} is not BUY or SELL")


def _asset(asset_id: str) -> str:
    if not asset_id.isdigit():
        raise DecodeError(f"asset_id {asset_id!r} is not a token id")
    return _PREFIX + asset_id


def normalize_user_order(msg: PolymarketUserOrder, recv_ns: int) -> OrderUpdate:
    """``order`` → :class:`OrderUpdate` (token price, shares; CANCELLATION or a ``CANCELED…``
    status → CANCELED, all matched → FILLED, else OPEN; ``ts_event``: ``timestamp`` ms, else
    ``created_at`` s).

    Raises:
        DecodeError: a bad price, size, side, token id or time.
    """
    initial = parse_size(msg.original_size) if msg.original_size else 0
    matched = parse_size(msg.size_matched) if msg.size_matched else 0
    if msg.type.upper() == "CANCELLATION" or msg.status.upper().startswith("CANCEL"):
        status = OrderStatus.CANCELED
    elif initial and matched >= initial:
        status = OrderStatus.FILLED
    else:
        status = OrderStatus.OPEN
    return OrderUpdate(
        venue=VENUE,
        instrument=_asset(msg.asset_id),
        order_id=msg.id,
        client_order_id="",
        status=status,
        outcome=Outcome.TOKEN,
        side=_side(msg.side),
        price=parse_price(msg.price),
        initial=initial,
        filled=matched,
        remaining=max(0, initial - matched) if status is OrderStatus.OPEN else 0,
        ts_event=_ms_ns(msg.timestamp) if msg.timestamp else _seconds_ns(msg.created_at, recv_ns),
        ts_recv=recv_ns,
        venue_status=msg.status or msg.type,
    )


def normalize_user_trade(msg: PolymarketUserTrade, recv_ns: int, api_key: str = "") -> list[AccountFill]:
    """``trade`` → our fills: the taker side when ``trader_side`` is TAKER (or not said), else each
    maker order owned by ``api_key`` (every maker order when ``api_key`` is empty). ``fee`` is 0:
    the channel sends a rate (``fee_rate_bps``), not the fee paid.

    Raises:
        DecodeError: a bad price, size, side, token id or time.
    """
    ts_event = (
        _ms_ns(msg.timestamp)
        if msg.timestamp
        else _seconds_ns(msg.match_time or msg.matchtime or msg.last_update, recv_ns)
    )
    status = msg.status.upper()
    if msg.trader_side.upper() != "MAKER":
        return [
            AccountFill(VENUE, _asset(msg.asset_id), msg.id, msg.taker_order_id, "", Outcome.TOKEN, _side(msg.side),
                        parse_price(msg.price), parse_size(msg.size), 0, True, ts_event, recv_ns, None, status)
        ]  # fmt: skip
    return [
        AccountFill(VENUE, _asset(m.asset_id or msg.asset_id), f"{msg.id}:{m.order_id}", m.order_id, "",
                    Outcome.TOKEN, _side(m.side or ("SELL" if msg.side.upper() == "BUY" else "BUY")),
                    parse_price(m.price or msg.price), parse_size(m.matched_amount), 0, False, ts_event, recv_ns,
                    None, status)
        for m in msg.maker_orders
        if not api_key or m.owner == api_key
    ]  # fmt: skip


def normalize_user(msg: PolymarketUserMessage, recv_ns: int, api_key: str = "") -> list[AccountEvent]:
    """Any user-channel message → its account events (see the two normalizers)."""
    if isinstance(msg, PolymarketUserOrder):
        return [normalize_user_order(msg, recv_ns)]
    return list(normalize_user_trade(msg, recv_ns, api_key))


class PolymarketUserChannel:
    """The user channel, dialled again and again: subscribe with the credentials, ``PING`` every
    10 s, every frame decoded, normalized and handed to ``on_account``. A frame that does not
    decode or normalize is counted in ``stats`` (``decode_errors``) and dead-lettered, never
    fatal; ``PONG`` and other text are ignored. Not recorded (see the module docstring).

    Args:
        url: the user channel's URL.
        api_key / secret / passphrase: the L2 credentials (revealed here only).
        on_account: where the events go.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        secret: str,
        passphrase: str,
        on_account: AccountSink,
        *,
        dead_letter: DeadLetterSink | None = None,
        markets: list[str] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url
        self._creds = (api_key, secret, passphrase)
        self.on_account = on_account
        self.dead_letter = dead_letter
        self.markets = markets or []
        self.backoff = backoff or Backoff()
        self.stats = FeedStats()
        self.dial_stats = UserDialStats()
        self.connected = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Read the channel until ``stop`` (reconnecting; refused credentials raise AuthError)."""
        await reconnect_loop(
            venue="Polymarket",
            name="polymarket-user",
            url=self.url,
            stop=stop,
            stats=self.dial_stats,
            backoff=self.backoff,
            healthy_after=30.0,
            session=self._session,
            max_size=MAX_USER_FRAME_BYTES,
        )

    async def _session(self, ws: WsConnection, stop: asyncio.Event) -> None:
        ws.on_message(lambda raw, recv_ns, _read_ns: self.on_frame(raw, recv_ns))
        await ws.send(subscribe_frame(*self._creds, self.markets))
        self.connected.set()
        pinger = asyncio.create_task(self._ping(ws, stop))
        closer = asyncio.create_task(_close_on(stop, ws))
        try:
            await ws.wait_closed()
        finally:
            self.connected.clear()
            for task in (pinger, closer):
                task.cancel()
            await asyncio.gather(pinger, closer, return_exceptions=True)

    async def _ping(self, ws: WsConnection, stop: asyncio.Event) -> None:
        with contextlib.suppress(TransportError):
            while not stop.is_set():
                await asyncio.sleep(10)
                await ws.send("PING")

    def on_frame(self, raw: bytes, recv_ns: int) -> None:
        """Decode, normalize and hand on one frame (never raises: a bad frame is counted and kept)."""
        self.stats.frames += 1
        if raw in (b"PONG", b"pong") or not raw.lstrip().startswith((b"{", b"[")):
            return
        try:
            decoded = USER_DECODER.decode(raw)
            for msg in decoded if isinstance(decoded, list) else [decoded]:
                self.stats.count(str(type(msg).__struct_config__.tag))
                for event in normalize_user(msg, recv_ns, self._creds[0]):
                    self.on_account(event)
        except Exception as exc:  # no frame ends the session: counted, kept (key masked), logged
            self.stats.decode_errors += 1
            key = self._creds[0].encode()
            kept = raw.replace(key, b"***") if key else raw  # the frames name our API key as owner
            reason = str(exc).replace(self._creds[0], "***") if self._creds[0] else str(exc)
            log.warning("polymarket user frame rejected", error=reason[:200])
            if self.dead_letter is not None:
                self.dead_letter.write(kept, f"user channel: {type(exc).__name__}: {reason}", "polymarket-user")

    def health(self) -> dict[str, Any]:
        """A connection entry for the feed's health (no credentials in it)."""
        return {
            "name": "polymarket-user",
            "connected": self.connected.is_set(),
            "frames": self.stats.frames,
            "last_frame_ns": 0,
            "reconnects": self.dial_stats.reconnects,
            "decode_errors": self.stats.decode_errors,
        }


async def _close_on(stop: asyncio.Event, ws: WsConnection) -> None:
    # The session ends when ``stop`` is set: the socket is closed politely, then dropped
    await stop.wait()
    await ws.close(2.0)
