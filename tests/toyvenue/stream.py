"""Toy's feed stream: raw frames in, normalized events and book updates out (a ``FeedStream``)."""

from __future__ import annotations

import msgspec

from hadron.book.manager import BookManager
from hadron.errors import DecodeError
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats
from tests.toyvenue import normalize
from tests.toyvenue.messages import CAPTURE_DECODER, FRAME_DECODER, ToyBook, ToyLevel, ToyMessage


class ToyStream:
    """One Toy connection (:class:`hadron.venues.base.FeedStream`). Toy frames carry no sequence
    numbers: books are applied in order of the venue's time (``in_order``)."""

    def __init__(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        on_event: EventSink | None = None,
    ) -> None:
        self.books = books
        self.conn = conn
        self.stats = stats
        self.dead_letter = dead_letter
        self.on_event = on_event

    def on_frame(self, raw: bytes, recv_ns: int) -> None:
        """Decode, normalize and apply one text frame (a bad one is counted and dead-lettered)."""
        self.stats.frames += 1
        try:
            msg = FRAME_DECODER.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self._reject(raw, f"decode: {exc}")
            return
        self._apply(msg, raw, recv_ns)

    def on_capture_line(self, line: bytes) -> None:
        """Process one capture line ``{"recv_ms": int, "event": <frame>}``."""
        self.stats.frames += 1
        try:
            record = CAPTURE_DECODER.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self._reject(line, f"decode: {exc}")
            return
        self._apply(record.event, line, record.recv_ms * 1_000_000)

    def on_rest(self, request: str, body: bytes, recv_ns: int) -> None:
        """Toy has no REST snapshots: counted as unconsumed."""
        self.stats.unconsumed += 1

    def _apply(self, msg: ToyMessage, raw: bytes, recv_ns: int) -> None:
        kind = type(msg).__struct_config__.tag
        self.stats.count(str(kind))
        try:
            if isinstance(msg, ToyBook):
                snap = normalize.snapshot(msg, recv_ns)
                self.books.apply_snapshot(snap, self, in_order=True)
                event: object = snap
            elif isinstance(msg, ToyLevel):
                delta = normalize.delta(msg, recv_ns)
                self.books.apply_delta(delta, self, in_order=True)
                event = delta
            else:
                event = normalize.trade(msg, recv_ns)
                self.stats.trades += 1
        except (DecodeError, ValueError) as exc:
            self._reject(raw, f"normalize: {exc}")
            return
        if self.on_event is not None:
            self.on_event(event)  # type: ignore[arg-type]

    def _reject(self, raw: bytes, error: str) -> None:
        self.stats.decode_errors += 1
        self.dead_letter.write(raw, error, self.conn)
