"""One Kalshi WebSocket connection's frames → sequencing → normalized events → books.

Sequencing follows Kalshi's rules (AsyncAPI; ``docs/protocols/kalshi.md#sequencing``): ``seq`` counts
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

Deltas, nearly every frame, are scanned (in the compiled build, see :mod:`hadron.accel`): a frame of the
usual shape, byte for byte (:meth:`KalshiStream.scan`), is read straight into the book update,
without the typed decoder's objects; any other frame (another key order or key, an escape, a
space, a number out of range, a price that is not a plain decimal...) goes through the decoder as
before. Both give the same events, counters, dead letters and books
(``tests/integration/test_kalshi_scan.py`` checks every real frame and mutated ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import get_args
from urllib.parse import unquote

import msgspec
import structlog

from hadron.book.manager import BookManager
from hadron.errors import BookError, DecodeError
from hadron.model.events import BookAction, BookDelta, BookSide
from hadron.model.units import (
    COMPILED,
    NOT_PLAIN,
    PRICE_DECIMALS,
    PRICE_ONE,
    SCAN_MAX_CHARS,
    SIZE_DECIMALS,
    match_at,
    text_end,
)
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats, SeqMode
from hadron.venues.common import StreamBase
from hadron.venues.kalshi.messages import (
    CAPTURE_DECODER,
    FRAME_DECODER,
    INDEX_MESSAGES,
    MAX_MS,
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
    instrument_of,
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


# -- the delta scanner ---------------------------------------------------------------------------
# An ``orderbook_delta`` frame as Kalshi sends it, read in place (see KalshiStream.scan): each
# piece below must follow the previous one exactly; the keys in brackets may be absent.
#   {"type":"orderbook_delta","sid":<int>,"seq":<int>,"msg":{"market_ticker":"<ticker>"
#   [,"market_id":"<text>"],"price_dollars":"<price>","delta_fp":"<size>","side":"yes"|"no"
#   [,"ts":"<text>"][,"ts_ms":<int>]}}
# and a capture line is {"recv_ms":<int>,"event":<that frame>}. Integers are JSON integers of 1 to
# 18 digits (no sign, no leading zero), times at most MAX_MS; texts are printable ASCII without
# quotes or escapes; the ticker is 1 to MAX_TICKER_LENGTH of them; the price a plain decimal inside
# (0, 1) and the size a signed one (units.scan_fixed's rules). Nothing else is taken: not a space.

_CAPTURE_HEAD = b'{"recv_ms":'
_EVENT_KEY = b',"event":'
_DELTA_HEAD = b'{"type":"orderbook_delta","sid":'
_SEQ_KEY = b',"seq":'
_TICKER_KEY = b',"msg":{"market_ticker":"'
_MARKET_ID_KEY = b',"market_id":"'
_PRICE_KEY = b',"price_dollars":"'
_SIZE_KEY = b',"delta_fp":"'
_SIDE_KEY = b',"side":"'
_YES = b'yes"'
_NO = b'no"'
_TS_KEY = b',"ts":"'
_TS_MS_KEY = b',"ts_ms":'
_FRAME_END = b"}}"
_LINE_END = b"}"
_MAX_DIGITS = 18  # 18 decimal digits always fit a signed 64-bit integer
_MAX_TICKER = MAX_TICKER_LENGTH
_MAX_MILLIS = MAX_MS
_MAX_FIXED = SCAN_MAX_CHARS
_NOT_FIXED = NOT_PLAIN
_PRICE_PLACES = PRICE_DECIMALS
_SIZE_PLACES = SIZE_DECIMALS
_ONE = PRICE_ONE
_MS = 1_000_000
_BID = BookSide.BID
_ASK = BookSide.ASK
_CHANGE = BookAction.CHANGE

# The helpers read the frame's bytes ``p`` (a C pointer into them once compiled, so every index is
# checked against ``n``, the frame's length, before it is read; see units.match_at and text_end).


def _int_end(p: bytes, n: int, i: int) -> int:
    # The index after a JSON integer of 1 to _MAX_DIGITS digits at ``i`` (no sign, no leading zero), else -1
    start = i
    while i < n and 48 <= p[i] <= 57:
        i += 1
        if i - start > _MAX_DIGITS:
            return -1
    if i == start or (p[start] == 48 and i - start > 1):
        return -1
    return i


def _int_value(p: bytes, i: int, end: int) -> int:
    # The value of the digits p[i:end] (checked by _int_end)
    value = 0
    while i < end:
        value = value * 10 + (p[i] - 48)
        i += 1
    return value


def _fixed(p: bytes, i: int, end: int, decimals: int, signed: bool) -> int:
    # units.scan_fixed of the text p[i:end] (its ASCII checked by _text_end): the value in units of
    # 10^-decimals, or _NOT_FIXED for anything parse_price / parse_size would not give the same for
    if end - i > _MAX_FIXED:
        return _NOT_FIXED
    value = 0
    digits = 0
    places = 0
    dot = False
    negative = False
    if signed and i < end and p[i] == 45:  # -
        negative = True
        i += 1
    while i < end:
        c = p[i]
        if 48 <= c <= 57:
            digits += 1
            if dot:
                if places == decimals:  # beyond Hadron's precision: only zeros may follow
                    if c != 48:
                        return _NOT_FIXED
                    i += 1
                    continue
                places += 1
            value = value * 10 + (c - 48)
        elif c == 46 and not dot:  # .
            dot = True
        else:
            return _NOT_FIXED
        i += 1
    if digits == 0:
        return _NOT_FIXED
    while places < decimals:
        value *= 10
        places += 1
    return -value if negative else value


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
        scan_deltas: read ``orderbook_delta`` frames of the usual shape in place
            (:meth:`scan`) instead of through the typed decoder; the same results either way. On
            by default in the compiled build only (in plain Python the decoder, in C, is faster
            than reading the bytes one by one).
        scanned: frames :meth:`scan` took (the others went through the decoder).
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
        self.scan_deltas: bool = COMPILED
        self.scanned = 0
        # the last delta scanned (see scan): its fields, the ticker's span in the frame
        self._s_sid = 0
        self._s_seq = 0
        self._s_price = 0
        self._s_size = 0
        self._s_ts_ms = 0
        self._s_yes = False
        self._s_t0 = 0
        self._s_t1 = 0
        self._ticker_raw = b""  # the last ticker seen by the scanner, and its instrument
        self._ticker_instrument = ""

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
        if self.scan_deltas and type(raw) is bytes and self.scan(raw, 0) == len(raw):
            self._on_scanned(raw, recv_ns)
            return
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
        if self.scan_deltas and type(line) is bytes:
            raw = line
            p = raw
            n = len(raw)
            i = match_at(raw, n, 0, _CAPTURE_HEAD)
            end = _int_end(p, n, i) if i >= 0 else -1
            if end >= 0:
                recv_ms = _int_value(p, i, end)
                i = match_at(raw, n, end, _EVENT_KEY)
                if recv_ms <= _MAX_MILLIS and i >= 0 and match_at(raw, n, self.scan(raw, i), _LINE_END) == n:
                    self._on_scanned(raw, recv_ms * _MS)
                    return
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

    def _admit(self, sid: int, seq: int) -> bool:
        # A delta's count, stale sid and sequence checks (both delta paths): whether to apply it
        self.stats.count(_DELTA)  # a typed counter for the delta kind (FeedStats.claim_deltas)
        if self.active_sids is not None and sid not in self.active_sids:
            self.stats.stale_frames += 1
            return False
        last = self.last_seq.get(sid, -1)
        if seq > last >= 0:
            self.last_seq[sid] = seq
            if seq != last + 1:
                if self.seq_mode is _STRICT:
                    self._gap(sid, last, seq)
                else:
                    self.stats.seq_jumps += 1
            return True
        return self._sequence(sid, seq)

    def _on_delta(self, msg: KalshiOrderbookDelta, recv_ns: int, raw: bytes) -> None:
        # The decoded delta (the scanned one: _on_scanned)
        sid = msg.sid
        if not self._admit(sid, msg.seq):
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

    def scan(self, raw: bytes, i: int) -> int:  # noqa: C901 (flat on purpose: the hot path, one pass)
        """Read the ``orderbook_delta`` frame starting at ``raw[i]`` when it has the usual shape
        (see the comment above :data:`_CAPTURE_HEAD`); return the index just after it (its fields
        are kept for :meth:`_on_scanned`), or -1 for any other frame (nothing is changed: the
        typed decoder handles it). One pass over the frame, bounded by its length; never raises."""
        p = raw
        n = len(raw)
        i = match_at(raw, n, i, _DELTA_HEAD)
        end = _int_end(p, n, i) if i >= 0 else -1
        if end < 0:
            return -1
        sid = _int_value(p, i, end)
        i = match_at(raw, n, end, _SEQ_KEY)
        end = _int_end(p, n, i) if i >= 0 else -1
        if end < 0:
            return -1
        seq = _int_value(p, i, end)
        i = match_at(raw, n, end, _TICKER_KEY)
        end = text_end(raw, n, i) if i >= 0 else -1
        if not 0 < end - i <= _MAX_TICKER:
            return -1
        t0, t1 = i, end
        i = match_at(raw, n, end + 1, _MARKET_ID_KEY)
        if i >= 0:  # market_id: not read
            end = text_end(raw, n, i)
            if end < 0:
                return -1
        i = match_at(raw, n, end + 1, _PRICE_KEY)
        end = text_end(raw, n, i) if i >= 0 else -1
        if end < 0:
            return -1
        price = _fixed(p, i, end, _PRICE_PLACES, False)
        if not 0 < price < _ONE:  # a price at or beyond the bounds is the book manager's to refuse
            return -1
        i = match_at(raw, n, end + 1, _SIZE_KEY)
        end = text_end(raw, n, i) if i >= 0 else -1
        if end < 0:
            return -1
        size = _fixed(p, i, end, _SIZE_PLACES, True)
        if size == _NOT_FIXED:
            return -1
        i = match_at(raw, n, end + 1, _SIDE_KEY)
        if i < 0:
            return -1
        yes = True
        end = match_at(raw, n, i, _YES)
        if end < 0:
            yes = False
            end = match_at(raw, n, i, _NO)
            if end < 0:
                return -1
        i = match_at(raw, n, end, _TS_KEY)
        if i >= 0:  # ts: not read (ts_ms is the same time)
            end = text_end(raw, n, i)
            if end < 0:
                return -1
            end += 1
        ts_ms = 0
        i = match_at(raw, n, end, _TS_MS_KEY)
        if i >= 0:
            end = _int_end(p, n, i)
            if end < 0:
                return -1
            ts_ms = _int_value(p, i, end)
            if ts_ms > _MAX_MILLIS:
                return -1
        end = match_at(raw, n, end, _FRAME_END)
        if end >= 0:
            self._s_sid = sid
            self._s_seq = seq
            self._s_price = price
            self._s_size = size
            self._s_ts_ms = ts_ms
            self._s_yes = yes
            self._s_t0 = t0
            self._s_t1 = t1
        return end

    def _on_scanned(self, raw: bytes, recv_ns: int) -> None:
        # The delta scan() read from ``raw``: what _on_delta does with the decoded one, the same
        # effects (the book update without its event object unless on_event wants it); never raises
        self.scanned += 1
        sid, seq, price, size, ts_ms, bid = (  # read before any hook runs (one could feed this stream)
            self._s_sid,
            self._s_seq,
            self._s_price,
            self._s_size,
            self._s_ts_ms,
            self._s_yes,
        )
        instrument = self._scanned_instrument(raw)
        try:
            if not self._admit(sid, seq):
                return
            if not bid and not self.yes_price:
                price = _ONE - price
            ts_event = ts_ms * _MS if ts_ms else recv_ns
            try:
                self.books.apply_change(instrument, bid, price, size, ts_event, recv_ns, self._sources.get(sid))
            except (DecodeError, BookError) as exc:
                self.reject(raw, f"{_DELTA}: {exc}", instrument)
                return
            if self.on_event is not None:
                self.on_event(BookDelta(instrument, _BID if bid else _ASK, price, size, _CHANGE, ts_event, recv_ns))
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # from a hook: as on_frame reports it
            self.reject(raw, f"decode: {exc}")
        except Exception as exc:  # contained, as in on_frame
            self.fault(raw, _DELTA, exc, instrument)

    def _scanned_instrument(self, raw: bytes) -> str:
        # The instrument of the scanned delta's ticker (the last one's again without a new string)
        t0, t1 = self._s_t0, self._s_t1
        if t1 - t0 == len(self._ticker_raw) and match_at(raw, t1, t0, self._ticker_raw) == t1:
            return self._ticker_instrument
        ticker = raw[t0:t1]
        instrument = instrument_of(ticker.decode("ascii"))
        self._ticker_raw = ticker
        self._ticker_instrument = instrument
        return instrument

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
