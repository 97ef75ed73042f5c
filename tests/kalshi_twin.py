"""Two Kalshi streams fed the same frames: one scanning deltas in place (``scan_deltas``), one
decoding every frame with the typed decoder. Everything observable is compared: the events each
frame gave (normalized events, tops, invalidations, resync and venue hooks, in order), the dead
letters, and at the end the feed and book counters, every book and the sequencing state."""

from __future__ import annotations

from typing import Any

import msgspec

from hadron.book.manager import BookManager
from hadron.model.units import format_price, format_size
from hadron.venues.base import FeedStats, SeqMode
from hadron.venues.kalshi.stream import KalshiStream
from tests.conftest import ListDeadLetter


class _Raw(msgspec.Struct):
    recv_ms: int
    event: msgspec.Raw


_split = msgspec.json.Decoder(_Raw).decode


def frame_of(line: bytes) -> tuple[bytes, int]:
    """The raw frame inside a capture line and its receive time in ns (the live path's input)."""
    cap = _split(line)
    return bytes(cap.event), cap.recv_ms * 1_000_000


class _Side:
    def __init__(self, scan: bool, seq_mode: SeqMode, yes_price: bool, active_sids: set[int] | None) -> None:
        self.scan = scan
        self.seq_mode = seq_mode
        self.yes_price = yes_price
        self.active_sids = active_sids
        self.books = BookManager()
        self.stats = FeedStats()
        self.dead = ListDeadLetter()
        self.events: list[Any] = []
        self.streams: dict[str, KalshiStream] = {}
        self.books.add_top_listener(self.events.append)
        self.books.add_invalidation_listener(
            lambda book, reason: self.events.append(("invalidated", book.instrument, reason))
        )

    def stream(self, conn: str) -> KalshiStream:
        stream = self.streams.get(conn)
        if stream is None:
            events = self.events
            stream = self.streams[conn] = KalshiStream(
                self.books,
                conn,
                stats=self.stats,
                dead_letter=self.dead,
                seq_mode=self.seq_mode,
                yes_price=self.yes_price,
                on_event=events.append,
                on_resync=lambda sid, tickers, kind: events.append(("resync", sid, tickers, kind)),
                on_venue=lambda msg, recv_ns: events.append(("venue", msg, recv_ns)),
            )
            stream.scan_deltas = self.scan
            if self.active_sids is not None:
                stream.active_sids = set(self.active_sids)
        return stream

    def state(self) -> dict[str, Any]:
        books = {
            book.instrument: {
                "bids": [(format_price(p), format_size(s)) for p, s in book.levels_bid()],
                "asks": [(format_price(p), format_size(s)) for p, s in book.levels_ask()],
                "tick": book.tick,
                "state": book.state.value,
                "reason": book.reason,
                "source": book.source,
                "crossed": book.crossed,
                "ever_live": book.ever_live,
                "ts": (book.ts_event, book.ts_recv),
            }
            for book in self.books
        }
        return {
            "feed": self.stats.as_dict(),
            "books": self.books.stats.as_dict(),
            "book": books,
            "streams": {
                conn: (s.last_seq, s.channels, s.active_sids, s.stats.decode_errors) for conn, s in self.streams.items()
            },
        }


class Twin:
    """The scanning and the decoding stream side by side (see the module docstring)."""

    def __init__(
        self, *, seq_mode: SeqMode = SeqMode.MONOTONIC, yes_price: bool = False, active_sids: set[int] | None = None
    ) -> None:
        self.fast = _Side(True, seq_mode, yes_price, active_sids)
        self.slow = _Side(False, seq_mode, yes_price, active_sids)
        self.frames = 0
        self.events = 0
        self.dead_letters = 0

    @property
    def scanned(self) -> int:
        """Frames the scanning side took without the decoder."""
        return sum(s.scanned for s in self.fast.streams.values())

    def line(self, line: Any, conn: str = "twin") -> None:
        """One capture line (``on_capture_line``) to both sides; they must agree."""
        self.fast.stream(conn).on_capture_line(line)
        self.slow.stream(conn).on_capture_line(line)
        self._check(line)

    def frame(self, raw: Any, recv_ns: int, conn: str = "twin") -> None:
        """One raw frame (``on_frame``, the live path) to both sides; they must agree."""
        self.fast.stream(conn).on_frame(raw, recv_ns)
        self.slow.stream(conn).on_frame(raw, recv_ns)
        self._check(raw)

    def _check(self, raw: Any) -> None:
        self.frames += 1
        fast, slow = self.fast, self.slow
        if fast.events != slow.events or fast.dead.items != slow.dead.items:
            raise AssertionError(
                f"frame {self.frames} {raw!r}: the scanned path gave {fast.events} {fast.dead.items}, "
                f"the decoder {slow.events} {slow.dead.items}"
            )
        self.events += len(fast.events)
        self.dead_letters += len(fast.dead.items)
        fast.events.clear()
        slow.events.clear()
        fast.dead.items.clear()
        slow.dead.items.clear()

    def assert_same(self) -> None:
        """Every counter, book and sequencing state is the same on both sides."""
        fast, slow = self.fast.state(), self.slow.state()
        for key in fast:
            assert fast[key] == slow[key], key
