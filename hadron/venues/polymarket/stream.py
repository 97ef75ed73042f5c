"""One Polymarket market-channel connection's frames → normalized events → books.

The channel has no sequence numbers (``docs/protocols/polymarket.md#sequencing``): deltas are gated
on a ``book`` snapshot (the book manager drops them while a book is AWAITING_SNAPSHOT), and a
``book`` or ``price_change`` older than what the book already holds (venue ``timestamp``) is
dropped and counted as stale. ``tick_size_change`` sends the book back to AWAITING_SNAPSHOT.

Frames may be a JSON object, a JSON array (decoded element by element when one element is
bad, so its neighbours survive), or plain text (``PONG``, ``INVALID OPERATION``,
``NO NEW ASSETS``).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import structlog

from hadron.book.manager import ApplyOutcome, BookManager
from hadron.errors import BookError, DecodeError
from hadron.model.events import BookSnapshot
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats
from hadron.venues.common import StreamBase
from hadron.venues.polymarket.hash import verify_book
from hadron.venues.polymarket.messages import (
    CAPTURE_DECODER,
    ELEMENT_DECODER,
    FRAME_DECODER,
    PRICE_CHANGE_DECODER,
    PRICE_CHANGE_END,
    RAW_ARRAY_DECODER,
    TEXT_FRAMES,
    PolymarketBestBidAsk,
    PolymarketBook,
    PolymarketLastTradePrice,
    PolymarketMarketResolved,
    PolymarketMessage,
    PolymarketNewMarket,
    PolymarketPriceChange,
    PolymarketPriceChangeLevels,
    PolymarketTickSizeChange,
)
from hadron.venues.polymarket.normalize import (
    VENUE_PREFIX,
    normalize_best_bid_ask,
    normalize_book,
    normalize_last_trade,
    normalize_market_resolved,
    normalize_new_market,
    normalize_price_change,
    normalize_tick_size_change,
)

log = structlog.get_logger("hadron.polymarket")

_TYPE_NAMES: dict[type, str] = {
    cls: str(cls.__struct_config__.tag)
    for cls in (
        PolymarketBook,
        PolymarketPriceChange,
        PolymarketLastTradePrice,
        PolymarketTickSizeChange,
        PolymarketBestBidAsk,
        PolymarketNewMarket,
        PolymarketMarketResolved,
    )
}


MarketMeta = Callable[[str], tuple[str, bool] | None]
"""``meta(token_id) -> (min_order_size, neg_risk)`` from the market, or ``None`` when unknown."""

ResyncHook = Callable[[list[str], str], None]
"""``on_resync(token_ids, reason)``: these books need a fresh snapshot (re-subscribe them)."""

_PRICE_CHANGE = _TYPE_NAMES[PolymarketPriceChange]
_STALE = ApplyOutcome.STALE  # C ints once compiled (polymarket/stream.pxd)
_BBO_MISMATCH = ApplyOutcome.BBO_MISMATCH
_decode_frame = FRAME_DECODER.decode  # bound once: the hot path calls them per frame
_decode_price_change = PRICE_CHANGE_DECODER.decode


def _tokens_of(msg: PolymarketPriceChange | PolymarketPriceChangeLevels) -> list[str]:
    # The tokens a price_change touches, in any of its formats
    tokens = [c.asset_id for c in msg.price_changes or ()]
    asset_id = getattr(msg, "asset_id", None)
    return [*dict.fromkeys(tokens), *([asset_id] if asset_id and asset_id not in tokens else [])]


BBO_MISSES_TO_RESYNC = 3
"""Venue best bid/ask disagreements in a row that make a book re-sync (a real transient cross,
seen in captures, lasts two changes)."""


class PolymarketStream(StreamBase):
    """Processes one market-channel connection's frames in order.

    Args:
        books: the shared book manager.
        conn: a name for the connection (logs, dead letters).
        stats: counters shared by every Polymarket stream.
        dead_letter: where rejected frames go.
        on_event: called with every normalized event, in order.
        meta: the market metadata the book hash needs (min order size, neg-risk); without it the
            hash is not checked.
        on_resync: called when books need a fresh snapshot (hash mismatch, persistent best
            bid/ask disagreement, tick-size change).
    """

    def __init__(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        on_event: EventSink | None = None,
        meta: MarketMeta | None = None,
        on_resync: ResyncHook | None = None,
    ) -> None:
        super().__init__("polymarket", books, conn, stats=stats, dead_letter=dead_letter, delta_kind=_PRICE_CHANGE)
        self.on_event = on_event
        self.meta = meta
        self.on_resync = on_resync
        self.last_hash: dict[str, str] = {}
        """token id → hash of the last ``book`` applied (the freeze watchdog compares REST's)."""
        self.invalid_operations = 0
        """``INVALID OPERATION`` replies: the client sent something the venue refused."""

    # -- input -------------------------------------------------------------------------------

    def on_frame(self, raw: bytes, recv_ns: int) -> None:
        """Decode and process one raw text frame received at ``recv_ns``.

        Never raises: a frame (or array element) that cannot be decoded or used, or whose
        handling fails in any other way (JSON nested past the decoder's recursion limit, a bug),
        is counted in ``decode_errors``, logged and dead-lettered with its raw bytes (see
        :meth:`~hadron.venues.common.StreamBase.fault`); the books it touched wait for a snapshot.
        """
        self.stats.frames += 1
        try:
            self._process(raw, recv_ns)
        except Exception as exc:  # contained: one frame never ends the stream
            self.fault(raw, "frame", exc)

    def on_capture_line(self, line: bytes) -> None:
        """Process one capture line ``{"recv_ms": int, "event": <frame>}`` (never raises: as
        :meth:`on_frame`)."""
        self.stats.frames += 1
        try:
            cap = CAPTURE_DECODER.decode(line)
            raw = bytes(cap.event)
            if raw[:1] == b'"':  # a text frame recorded as a JSON string
                raw = msgspec.json.decode(raw, type=str).encode()
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self.reject(line, f"decode: {exc}")
            return
        except Exception as exc:  # contained, as in on_frame
            self.fault(line, "decode", exc)
            return
        try:
            self._process(raw, cap.recv_ms * 1_000_000)
        except Exception as exc:
            self.fault(line, "frame", exc)

    def _process(self, raw: bytes, recv_ns: int) -> None:
        head = raw[0] if raw else 0  # the first byte (an int; a C int once compiled)
        if head != 0x7B and head != 0x5B:  # not "{" or "["
            stripped = raw.lstrip()
            head = stripped[0] if stripped else 0
            if head != 0x7B and head != 0x5B:
                self._on_text(raw)
                return
        if raw.endswith(PRICE_CHANGE_END):  # the common frame: decoded without the union's search for the tag
            try:
                change = _decode_price_change(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                pass  # not a price_change after all: the general decoder below decides (and reports)
            else:
                self._on_price_change(change, recv_ns, raw)
                return
        try:
            decoded = _decode_frame(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            if head == 0x5B:  # "["
                self._on_array_elements(raw, recv_ns)
            else:
                self.reject(raw, f"decode: {exc}")
            return
        if type(decoded) is list:
            if not decoded:
                self.stats.count("empty_array")
            for msg in decoded:
                if type(msg) is PolymarketPriceChange:  # the common case, one call less
                    self._on_price_change(msg, recv_ns, raw)
                else:
                    self.on_message(msg, recv_ns, raw)
        else:
            self.on_message(decoded, recv_ns, raw)  # type: ignore[arg-type]

    def _on_text(self, raw: bytes) -> None:
        text = raw.strip()
        if text in TEXT_FRAMES:
            self.stats.count(text.decode())
            if text == b"INVALID OPERATION":
                self.invalid_operations += 1
                log.warning("venue refused an operation", conn=self.conn)
        else:
            self.reject(raw, "unknown text frame")

    def _on_array_elements(self, raw: bytes, recv_ns: int) -> None:
        # One bad element must not drop its neighbours: decode them one by one.
        try:
            elements = RAW_ARRAY_DECODER.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self.reject(raw, f"decode: {exc}")
            return
        for element in elements:
            data = bytes(element)
            try:
                msg = ELEMENT_DECODER.decode(data)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                self.reject(data, f"decode (array element): {exc}")
                continue
            self.on_message(msg, recv_ns, data)

    # -- messages ----------------------------------------------------------------------------

    def on_message(self, msg: PolymarketMessage, recv_ns: int, raw: bytes) -> None:
        """Process one decoded message (``raw`` is kept only for dead letters)."""
        if type(msg) is PolymarketPriceChange:
            self._on_price_change(msg, recv_ns, raw)
            return
        name = _TYPE_NAMES[type(msg)]
        self.stats.count(name)
        try:
            if isinstance(msg, PolymarketBook):
                if self._hash_ok(msg):
                    self._apply_snapshot(normalize_book(msg, recv_ns))
                    self.last_hash[msg.asset_id] = msg.hash
            else:
                self._on_other(msg, recv_ns)
        except (DecodeError, BookError) as exc:
            token = getattr(msg, "asset_id", None)
            instrument = VENUE_PREFIX + token if token and isinstance(msg, PolymarketBook) else None
            self.reject(raw, f"{name}: {exc}", instrument)
        except Exception as exc:  # contained (a bug): the token's book may have lost an update
            token = getattr(msg, "asset_id", None)
            self.fault(raw, name, exc, VENUE_PREFIX + token if isinstance(token, str) and token else None)

    def _on_other(self, msg: PolymarketMessage, recv_ns: int) -> None:
        if isinstance(msg, PolymarketLastTradePrice):
            trade = normalize_last_trade(msg, recv_ns)
            self.stats.trades += 1
            self._emit(trade)
        elif isinstance(msg, PolymarketTickSizeChange):
            change = normalize_tick_size_change(msg, recv_ns)
            self.books.apply_tick_size_change(change)
            self._emit(change)
            self._resync([msg.asset_id], "tick size changed")
        elif isinstance(msg, PolymarketBestBidAsk):
            self._emit(normalize_best_bid_ask(msg, recv_ns))
        elif isinstance(msg, PolymarketNewMarket):
            for status in normalize_new_market(msg, recv_ns):
                self._emit(status)
        elif isinstance(msg, PolymarketMarketResolved):
            for status in normalize_market_resolved(msg, recv_ns):
                self._emit(status)

    def _on_price_change(
        self, msg: PolymarketPriceChange | PolymarketPriceChangeLevels, recv_ns: int, raw: bytes
    ) -> None:
        # The hot path: the manager drops a change older than its book (in_order) and checks
        # the venue best bid/ask; the book is looked up here only after a disagreement
        self.stats.count(_PRICE_CHANGE)  # a typed counter for the delta kind (FeedStats.claim_deltas)
        books, on_event = self.books, self.on_event
        try:
            for delta in normalize_price_change(msg, recv_ns):
                outcome = books.apply_delta(delta, None, True)
                if outcome == _STALE:
                    self.stats.stale_frames += 1
                    continue
                if on_event is not None:
                    on_event(delta)
                if outcome == _BBO_MISMATCH:
                    self._bbo_disagreed(delta.instrument)
        except (DecodeError, BookError) as exc:
            self.reject(raw, f"{_PRICE_CHANGE}: {exc}")
        except Exception as exc:  # contained (a bug): every book the change touched may have lost it
            self.fault(raw, _PRICE_CHANGE, exc)
            for token in _tokens_of(msg):
                self.books.invalidate(VENUE_PREFIX + token, f"lost an update: {_PRICE_CHANGE} failed")

    def _bbo_disagreed(self, instrument: str) -> None:
        # The venue's best bid/ask disagreed with the book after a change: re-sync when persistent
        book = self.books.get(instrument)
        if book is not None and book.bbo_misses >= BBO_MISSES_TO_RESYNC:
            self.books.invalidate(instrument, f"venue best bid/ask disagreed {book.bbo_misses} times")
            self._resync([instrument[len(VENUE_PREFIX) :]], "persistent best bid/ask disagreement")

    def _apply_snapshot(self, snap: BookSnapshot) -> None:
        if self.books.apply_snapshot(snap, in_order=True) == _STALE:
            self.stats.stale_frames += 1
        else:
            self._emit(snap)

    def _hash_ok(self, msg: PolymarketBook) -> bool:
        # Verify the snapshot hash when the market's metadata is known; a mismatch re-syncs
        meta = self.meta(msg.asset_id) if self.meta is not None else None
        if meta is None:
            return True
        verdict = verify_book(msg, min_order_size=meta[0], neg_risk=meta[1])
        if verdict is None:
            return True
        self.stats.hash_checks += 1
        if verdict:
            return True
        self.stats.hash_mismatches += 1
        self.books.invalidate(VENUE_PREFIX + msg.asset_id, "book hash mismatch")
        self._resync([msg.asset_id], "book hash mismatch")
        return False

    def _resync(self, tokens: list[str], reason: str) -> None:
        self.stats.resync_requests += len(tokens)
        if self.on_resync is not None:
            self.on_resync(tokens, reason)

    def _emit(self, event: object) -> None:
        if self.on_event is not None:
            self.on_event(event)  # type: ignore[arg-type]
