"""One Kalshi WebSocket connection's frames → sequencing → normalized events → books.

Sequencing follows Kalshi's rules (AsyncAPI; ``docs/kalshi-protocol.md`` §4.6): ``seq`` counts
per ``sid`` across every market of that subscription, and command acks (``ok``,
``unsubscribed``, subscription errors) consume numbers too. For each sid the stream keeps the
last seq and which books were snapshotted on it:

* next number: apply;
* the same number again: a duplicate, dropped and counted;
* a lower number: the sid restarted (a new session); its books wait for a snapshot;
* a higher number: a gap in ``STRICT`` mode (its books wait for a snapshot and
  ``on_resync`` is called so a live session can ask for ``get_snapshot``), or an expected jump in
  ``MONOTONIC`` mode (per-market captures of a shared sid).

A delta only applies to a book whose snapshot arrived on the same sid of this connection: a
book last built on another connection (or before a reset) waits for a fresh snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, get_args
from urllib.parse import unquote

import msgspec
import structlog

from hadron.book.manager import BookManager
from hadron.errors import BookError, DecodeError
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats, SeqMode
from hadron.venues.common import StreamBase
from hadron.venues.kalshi.messages import (
    CAPTURE_DECODER,
    FRAME_DECODER,
    INDEX_MESSAGES,
    MAX_FRAME_BYTES,
    MAX_TICKER_LENGTH,
    PRIVATE_MESSAGES,
    TERMINAL_ERROR_CODES,
    KalshiError,
    KalshiEventFeeUpdate,
    KalshiEventLifecycle,
    KalshiMarketLifecycle,
    KalshiMessage,
    KalshiMultivariateLifecycle,
    KalshiOk,
    KalshiOrderbookDelta,
    KalshiOrderbookSnapshot,
    KalshiSubscribed,
    KalshiSubscriptionInfo,
    KalshiTicker,
    KalshiTrade,
    KalshiUnsubscribed,
    error_name,
)
from hadron.venues.kalshi.normalize import (
    VENUE_PREFIX,
    normalize_delta,
    normalize_event_lifecycle,
    normalize_fee_update,
    normalize_index,
    normalize_lifecycle,
    normalize_snapshot,
    normalize_ticker,
    normalize_trade,
)
from hadron.venues.kalshi.poll import POLLED
from hadron.venues.kalshi.rest import decode_orderbook, normalize_rest_orderbook

log = structlog.get_logger("hadron.kalshi")

_STRICT = SeqMode.STRICT  # an enum member read through its class costs a metaclass look-up (per gap here)

_MarketData = KalshiTrade | KalshiTicker | KalshiMarketLifecycle | KalshiEventLifecycle | KalshiMultivariateLifecycle
_MARKET_DATA = (KalshiTrade, KalshiTicker, KalshiMarketLifecycle, KalshiEventLifecycle, KalshiMultivariateLifecycle)
"""Messages normalized into market events (trades, tops, and the market structure the registry reads)."""

_NOTICES = (*INDEX_MESSAGES, KalshiEventFeeUpdate)
"""Messages normalized into events that touch no book: reference prices (:class:`IndexPrice`) and
fee rule changes (:class:`FeeUpdate`, the fee registry's input)."""

_TYPE_NAMES: dict[type, str] = {cls: str(cls.__struct_config__.tag) for cls in get_args(KalshiMessage)}
"""Every message type of the decoder's union → its ``type`` tag (the key of ``frames_by_type``)."""

_DELTA = "orderbook_delta"
_decode_frame = FRAME_DECODER.decode  # bound once: the hot paths call them per frame
_decode_capture_line = CAPTURE_DECODER.decode
_REST_ORDERBOOK = re.compile(rf"GET /trade-api/v2/markets/([^/?]{{1,{3 * MAX_TICKER_LENGTH}}})/orderbook")
"""A recorded REST orderbook request; the ticker (percent-encoded: 3 characters a byte at most)
bounded as the WebSocket's."""


def _where(msg: object) -> str:
    # Where a frame's handling failed, for its dead letter: its message type, or the decoder
    return _TYPE_NAMES.get(type(msg), "decode") if msg is not None else "decode"


def _instrument_of(msg: object) -> str | None:
    # The book a message was about, if any (its handling failed half-way: that book lost an update)
    ticker = getattr(getattr(msg, "msg", None), "market_ticker", None)
    return VENUE_PREFIX + ticker if isinstance(ticker, str) and ticker else None


ResyncHook = Callable[[int, list[str], str], None]
"""``on_resync(sid, market_tickers, kind)``: the books of ``sid`` need fresh snapshots. ``kind`` is
``"gap"`` (ask ``get_snapshot`` on the same sid) or ``"terminal"`` (the subscription is dead:
subscribe again)."""

PrivateHook = Callable[[KalshiMessage, int], None]
"""``on_private(msg, recv_ns)``: a private-channel message (:data:`~hadron.venues.kalshi.messages.PRIVATE_MESSAGES`)
with its local receive time in ns (normalized by :mod:`hadron.venues.kalshi.account`)."""

VenueHook = Callable[[KalshiMessage, int], None]
"""``on_venue(msg, recv_ns)``: a typed Kalshi message the stream does not turn into a market event,
passed on as it is (venue-native), with its local receive time in ns (venue times are in ``msg``).

Called, in frame order and after sequencing (duplicates and stale sids are not passed), for:
the list answers ``cfbenchmarks_value_indexlist`` / ``pyth_value_underlying_list``,
the ``communications`` messages (``rfq_*``, ``quote_*``), the private ones (``fill``,
``market_position``, ``user_order``, ``order_group_updates``) unless ``on_private`` is set, and
``market_lifecycle_v2`` too, *after* its :class:`~hadron.model.events.MarketStatus` went to
``on_event`` (the raw message, for consumers of the venue-native form). ``event_lifecycle`` and
``multivariate_market_lifecycle`` are normalized (:class:`~hadron.model.events.EventStatus`,
:class:`~hadron.model.events.MarketStatus`) for the instrument registry, not passed on;
``cfbenchmarks_value`` and ``pyth_value`` are normalized to
:class:`~hadron.model.events.IndexPrice` (``on_event``), not passed on either, and
``event_fee_update`` to :class:`~hadron.model.events.FeeUpdate` (``on_event``; the fee registry's input).
Each call is counted in ``FeedStats.passed_on``; a message of these types with no hook to take it
is counted in ``FeedStats.unconsumed`` (every frame is also counted by type in ``frames_by_type``).
The hook must not raise: an exception is contained as a fault of that frame (dead-lettered).
"""

ListHook = Callable[[list[KalshiSubscriptionInfo]], None]
"""``on_list(subscriptions)``: the venue's answer to ``list_subscriptions`` (``{channel, sid}`` each)."""


class KalshiStream(StreamBase):
    """Processes one Kalshi connection's frames in order.

    Args:
        books: the shared book manager.
        conn: a name for the connection (used in logs, dead letters, and book binding).
        stats: counters shared by every Kalshi stream.
        dead_letter: where rejected frames go.
        seq_mode: see :class:`~hadron.venues.base.SeqMode`.
        yes_price: the subscription pinned ``use_yes_price: true`` (NO levels in YES terms).
        on_event: called with every normalized event, in order.
        on_resync: called when books of a sid need fresh snapshots (gap, terminal error).
        on_private: called with private-channel messages (fills, orders, positions).
        on_venue: called with every other typed message not normalized into a market event
            (see :data:`VenueHook`: fee overrides, event and multivariate lifecycles, index
            prices and their lists, RFQs and quotes, private ones without ``on_private``).
        on_list: called with the answer to ``list_subscriptions`` (see :data:`ListHook`).

    Attributes:
        active_sids: when not ``None`` (a live session sets it), frames of any other sid are
            stale (an unsubscribed or replaced subscription) and ignored, counted in
            ``stale_frames``.
    """

    def __init__(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        seq_mode: SeqMode = SeqMode.STRICT,
        yes_price: bool = False,
        on_event: EventSink | None = None,
        on_resync: ResyncHook | None = None,
        on_private: PrivateHook | None = None,
        on_venue: VenueHook | None = None,
        on_list: ListHook | None = None,
    ) -> None:
        super().__init__("kalshi", books, conn, stats=stats, dead_letter=dead_letter, delta_kind=_DELTA)
        self.seq_mode = seq_mode
        self.yes_price = yes_price
        self.on_event = on_event
        self.on_resync = on_resync
        self.on_private = on_private
        self.on_venue = on_venue
        self.on_list = on_list
        self.active_sids: set[int] | None = None
        self.last_seq: dict[int, int] = {}
        self.channels: dict[int, str] = {}
        """sid → channel name, from ``subscribed`` replies."""
        self._sources: dict[int, object] = {}
        """sid → the book source token of its current chain of seqs (see BookManager)."""

    # -- input -------------------------------------------------------------------------------

    def on_frame(self, raw: bytes, recv_ns: int) -> None:
        """Decode and process one raw WebSocket text frame received at ``recv_ns``.

        Never raises: a frame that cannot be decoded or used, or whose handling fails in any other
        way (JSON nested past the decoder's recursion limit, a bug), is counted in
        ``decode_errors``, logged and dead-lettered with its raw bytes (see
        :meth:`~hadron.venues.common.StreamBase.fault`); its market's book, when known, waits for
        a snapshot.
        """
        self.stats.frames += 1
        msg = None
        try:
            msg = _decode_frame(raw)
            self.on_message(msg, recv_ns, raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self.reject(raw, f"decode: {exc}")
        except Exception as exc:  # contained: one frame never ends the stream
            self.fault(raw, _where(msg), exc, _instrument_of(msg))

    def on_capture_line(self, line: bytes) -> None:
        """Decode and process one capture line ``{"recv_ms": int, "event": <frame>}`` (never
        raises: as :meth:`on_frame`)."""
        self.stats.frames += 1
        msg = None
        try:
            cap = _decode_capture_line(line)
            recv_ms, msg = cap.recv_ms, cap.event  # recv_ms is bounded by the decoder (messages.MAX_MS)
            if type(msg) is KalshiOrderbookDelta:
                self._on_delta(msg, recv_ms * 1_000_000, line)
            else:
                self.on_message(msg, recv_ms * 1_000_000, line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self.reject(line, f"decode: {exc}")
        except Exception as exc:  # contained: one line never ends the replay
            self.fault(line, _where(msg), exc, _instrument_of(msg))

    def on_message(self, msg: KalshiMessage, recv_ns: int, raw: bytes) -> None:
        """Process one decoded message (``raw`` is kept only for dead letters)."""
        cls = type(msg)
        if cls is KalshiOrderbookDelta:
            self._on_delta(msg, recv_ns, raw)  # type: ignore[arg-type]
            return
        name = _TYPE_NAMES[cls]
        self.stats.count(name)
        sid = getattr(msg, "sid", None)
        if self.active_sids is not None and sid is not None and sid not in self.active_sids and name != "subscribed":
            self.stats.stale_frames += 1
            return
        try:
            if cls is KalshiOrderbookSnapshot:
                self._on_snapshot(msg, recv_ns)  # type: ignore[arg-type]
            else:
                self._on_other(msg, recv_ns)
        except (DecodeError, BookError) as exc:
            ticker = msg.msg.market_ticker if isinstance(msg, KalshiOrderbookSnapshot) else None
            self.reject(raw, f"{name}: {exc}", VENUE_PREFIX + ticker if ticker else None)

    def on_rest(self, request: str, body: bytes, recv_ns: int) -> None:
        """Process one recorded REST orderbook response (the polling fallback) as a polled
        snapshot; any other request is rejected and kept."""
        self.stats.frames += 1
        self.stats.count("rest_orderbook")
        match = _REST_ORDERBOOK.fullmatch(request)
        if match is None:
            self.reject(body, f"unsupported REST request {request!r}")
            return
        ticker = unquote(match.group(1))
        try:
            snap = normalize_rest_orderbook(ticker, decode_orderbook(body), recv_ns)
            self.books.apply_snapshot(snap, POLLED, polled=True)
            if self.on_event is not None:
                self.on_event(snap)
        except (DecodeError, BookError) as exc:
            self.reject(body, f"rest orderbook: {exc}", VENUE_PREFIX + ticker)
        except Exception as exc:  # contained, as in on_frame
            self.fault(body, "rest orderbook", exc, VENUE_PREFIX + ticker)

    # -- sequencing --------------------------------------------------------------------------

    def _sequence(self, sid: int, seq: int) -> bool:
        """Check ``seq`` on ``sid``; return False when the frame must be dropped."""
        last = self.last_seq.get(sid)
        self.last_seq[sid] = seq
        if last is None or seq == last + 1:
            return True
        if seq == last:
            self.last_seq[sid] = last
            self.stats.seq_duplicates += 1
            return False
        if seq < last:
            self.stats.seq_resets += 1
            self._unbind(sid, f"seq reset on sid {sid}: {last} → {seq}", resync=None)
        elif self.seq_mode is _STRICT:
            self._gap(sid, last, seq)
        else:
            self.stats.seq_jumps += 1
        return True

    def _gap(self, sid: int, last: int, seq: int) -> None:
        self.stats.seq_gaps += 1
        self._unbind(sid, f"seq gap on sid {sid}: expected {last + 1}, got {seq}", resync="gap")

    def _unbind(self, sid: int, reason: str, *, resync: str | None) -> None:
        # The chain of deltas on ``sid`` broke: its books wait for snapshots on a new source
        source = self._sources.pop(sid, None)
        lost = self.books.invalidate_source(source, reason) if source is not None else []
        if lost:
            log.info("books wait for snapshot", conn=self.conn, sid=sid, books=len(lost), reason=reason)
        if resync is not None and self.on_resync is not None and (lost or resync == "terminal"):
            self.on_resync(sid, [inst[len(VENUE_PREFIX) :] for inst in lost], resync)

    # -- handlers ----------------------------------------------------------------------------

    def _on_delta(self, msg: KalshiOrderbookDelta, recv_ns: int, raw: bytes) -> None:
        # The hot path: keep it flat
        self.stats.count(_DELTA)  # a typed counter for the delta kind (FeedStats.claim_deltas)
        sid = msg.sid
        if self.active_sids is not None and sid not in self.active_sids:
            self.stats.stale_frames += 1
            return
        seq = msg.seq
        last = self.last_seq.get(sid, -1)
        if seq > last >= 0:
            self.last_seq[sid] = seq
            if seq != last + 1:
                if self.seq_mode is _STRICT:
                    self._gap(sid, last, seq)
                else:
                    self.stats.seq_jumps += 1
        elif not self._sequence(sid, seq):
            return
        try:
            delta = normalize_delta(msg, recv_ns, self.yes_price)
            self.books.apply_delta(delta, self._sources.get(sid))
        except (DecodeError, BookError) as exc:
            ticker = msg.msg.market_ticker
            self.reject(raw, f"{_DELTA}: {exc}", VENUE_PREFIX + ticker if ticker else None)
            return
        if self.on_event is not None:
            self.on_event(delta)

    def _on_snapshot(self, msg: KalshiOrderbookSnapshot, recv_ns: int) -> None:
        if not self._sequence(msg.sid, msg.seq):
            return
        snap = normalize_snapshot(msg, recv_ns, self.yes_price)
        source = self._sources.get(msg.sid)
        if source is None:
            # one object per chain: books compare sources by identity
            source = (self.conn, msg.sid, msg.seq)
            self._sources[msg.sid] = source
        self.books.apply_snapshot(snap, source)
        if self.on_event is not None:
            self.on_event(snap)

    def _on_other(self, msg: KalshiMessage, recv_ns: int) -> None:
        seq = getattr(msg, "seq", None)
        sid = getattr(msg, "sid", None)
        if seq is not None and sid is not None and not self._sequence(sid, seq):
            return
        if isinstance(msg, _MARKET_DATA):
            self._on_market_data(msg, recv_ns)
            if type(msg) is KalshiMarketLifecycle:
                self._pass_on(msg, recv_ns)
        elif isinstance(msg, KalshiSubscribed):
            self._on_subscribed(msg.msg.channel, msg.msg.sid)
        elif isinstance(msg, KalshiUnsubscribed):
            self._on_unsubscribed(msg)
        elif isinstance(msg, KalshiError):
            self._on_error(msg)
        elif isinstance(msg, KalshiOk):
            self._on_ok(msg)
        elif isinstance(msg, PRIVATE_MESSAGES) and self.on_private is not None:
            self.stats.passed_on += 1
            self.on_private(msg, recv_ns)
        elif isinstance(msg, _NOTICES):  # reference prices (IndexPrice), fee rules (FeeUpdate): not passed on
            notice = (
                normalize_fee_update(msg, recv_ns)
                if type(msg) is KalshiEventFeeUpdate
                else normalize_index(msg, recv_ns)  # type: ignore[arg-type]
            )
            if self.on_event is not None:
                self.on_event(notice)
            else:
                self.stats.unconsumed += 1
        else:  # every other type: venue-native, passed on as it is (see VenueHook)
            self._pass_on(msg, recv_ns)

    def _on_unsubscribed(self, msg: KalshiUnsubscribed) -> None:
        if msg.sid is not None:
            self.forget_sid(msg.sid, f"unsubscribed sid {msg.sid}")

    def forget_sid(self, sid: int, reason: str) -> None:
        """Forget subscription ``sid`` (unsubscribed, or not listed by the venue): its channel
        entry goes, its later frames are stale (when ``active_sids`` is kept) and its books wait
        for a snapshot on another sid."""
        self.channels.pop(sid, None)
        if self.active_sids is not None:
            self.active_sids.discard(sid)
        self._unbind(sid, reason, resync=None)

    def _on_ok(self, msg: KalshiOk) -> None:
        # An ack; the answer to list_subscriptions (a list of {channel, sid}) goes to on_list
        if isinstance(msg.msg, list) and self.on_list is not None:
            self.on_list(msg.msg)

    def _pass_on(self, msg: KalshiMessage, recv_ns: int) -> None:
        # A venue-native message to on_venue, or counted as unconsumed (never silently dropped)
        if self.on_venue is not None:
            self.stats.passed_on += 1
            self.on_venue(msg, recv_ns)
        else:
            self.stats.unconsumed += 1

    def _on_market_data(self, msg: _MarketData, recv_ns: int) -> None:
        if isinstance(msg, KalshiTrade):
            trade = normalize_trade(msg, recv_ns)
            self.stats.trades += 1
            if self.on_event is not None:
                self.on_event(trade)
        elif self.on_event is None:
            if not isinstance(msg, KalshiTicker | KalshiMarketLifecycle):
                self.stats.unconsumed += 1  # a structure message nobody takes: counted, as _pass_on does
        elif isinstance(msg, KalshiTicker):
            self.on_event(normalize_ticker(msg, recv_ns))
        elif isinstance(msg, KalshiEventLifecycle):
            self.on_event(normalize_event_lifecycle(msg, recv_ns))
        else:  # market_lifecycle_v2, multivariate_market_lifecycle: the instrument registry's input
            self.on_event(normalize_lifecycle(msg, recv_ns))

    def _on_subscribed(self, channel: str, sid: int) -> None:
        # One live sid per channel: a newer one replaces (and makes stale) the older
        for old, name in list(self.channels.items()):
            if name == channel and old != sid:
                del self.channels[old]
                if self.active_sids is not None:
                    self.active_sids.discard(old)
                self._unbind(old, f"sid {old} replaced by {sid}", resync=None)
        self.channels[sid] = channel
        if self.active_sids is not None:
            self.active_sids.add(sid)

    def sid_of(self, channel: str) -> int | None:
        """Return the live sid of ``channel`` on this connection, if subscribed."""
        return next((sid for sid, name in self.channels.items() if name == channel), None)

    def _on_error(self, msg: KalshiError) -> None:
        code = msg.msg.code
        log.warning(
            "kalshi error", conn=self.conn, code=code, name=error_name(code), text=msg.msg.msg, id=msg.id, sid=msg.sid
        )
        if code in TERMINAL_ERROR_CODES and msg.sid is not None:
            self._unbind(msg.sid, f"terminal error {code} on sid {msg.sid}", resync="terminal")


class KalshiAdapter:
    """The Kalshi :class:`~hadron.venues.base.VenueAdapter` (also a recording venue and a
    loopback-venue host: see :mod:`hadron.venues.kalshi.app`)."""

    name = "kalshi"
    capture_decoder = CAPTURE_DECODER
    max_frame_bytes = MAX_FRAME_BYTES

    def sniff(self, frame: object) -> bool:
        """Kalshi frames are objects with a ``type`` and (data) a ``msg`` or (acks) an ``id``."""
        return isinstance(frame, dict) and isinstance(frame.get("type"), str) and "event_type" not in frame

    def open_stream(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        seq_mode: SeqMode = SeqMode.STRICT,
        on_event: EventSink | None = None,
        on_venue: VenueHook | None = None,
    ) -> KalshiStream:
        """Return a :class:`KalshiStream` for connection ``conn`` (``on_venue``: see :data:`VenueHook`)."""
        return KalshiStream(
            books, conn, stats=stats, dead_letter=dead_letter, seq_mode=seq_mode, on_event=on_event, on_venue=on_venue
        )

    async def record(self, **options: Any) -> dict[str, Any]:
        """Record live frames; see :func:`hadron.venues.kalshi.app.record`."""
        from hadron.venues.kalshi.app import record

        return await record(**options)

    def bench_plan(self, capture: Any, folder: Any, **options: Any) -> Any:
        """The loopback set-up ``hadron bench live --path record|run`` measures; see
        :func:`hadron.venues.kalshi.app.bench_plan`."""
        from hadron.venues.kalshi.app import bench_plan

        return bench_plan(capture, folder, **options)

    async def bench_live(self, capture: Any, **options: Any) -> dict[str, Any]:
        """Live-path throughput; see :func:`hadron.venues.kalshi.app.bench_live`."""
        from hadron.venues.kalshi.app import bench_live

        return await bench_live(capture, **options)

    async def fake_venue(self, **options: Any) -> object:
        """Serve the loopback venue; see :func:`hadron.venues.kalshi.app.fake_venue`."""
        from hadron.venues.kalshi.app import fake_venue

        return await fake_venue(**options)

    async def market_results(self, tickers: list[str], **options: Any) -> dict[str, str]:
        """Results of settled markets from REST; see :func:`hadron.venues.kalshi.app.market_results`."""
        from hadron.venues.kalshi.app import market_results

        return await market_results(tickers, **options)

    async def fee_rules(self, events: list[str], **options: Any) -> Any:
        """The events' fee rules from REST (series rule, event override); see
        :func:`hadron.venues.kalshi.app.fee_rules`."""
        from hadron.venues.kalshi.app import fee_rules

        return await fee_rules(events, **options)

    def live_feed(self, books: BookManager, instruments: list[str], **options: Any) -> Any:
        """The runtime's live feed; see :func:`hadron.venues.kalshi.app.live_feed`."""
        from hadron.venues.kalshi.app import live_feed

        return live_feed(books, instruments, **options)

    def fee_model(self, **params: Any) -> Any:
        """Return the taker fee model of one Kalshi market (a :class:`~hadron.arb.walk.FeeModel`).

        The fee of an order is ``ceil_to_cent(0.07 × M × Σ C × P × (1 − P))`` over the order's
        fills, rounded up to the cent once per order, in money units (1/10,000,000,000 USD).

        Args:
            multiplier: the fee multiplier ``M`` (``Decimal``, decimal string or int; default 1).
            fee_type: the series' fee type (default ``quadratic``; every type has the same taker rate).

        Raises:
            ConfigError: an unsupported fee type, or a negative or non-finite multiplier.
        """
        from decimal import Decimal

        from hadron.venues.kalshi.fees import KalshiFeeSchedule, KalshiOrderFee

        schedule = KalshiFeeSchedule(
            str(params.get("fee_type", "quadratic")), Decimal(str(params.get("multiplier", 1)))
        )
        return KalshiOrderFee(schedule.multiplier)
