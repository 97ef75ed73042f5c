"""Pieces every venue stream shares: rejecting bad frames without losing them."""

from __future__ import annotations

import structlog

from hadron.book.manager import BookManager
from hadron.venues.base import DeadLetterSink, FeedStats

_LOG_FIRST = 20
_LOG_EVERY = 1000
_LOG_RAW_LIMIT = 4096

log = structlog.get_logger("hadron.feed")


class StreamBase:
    """Book-keeping common to venue streams: counters, dead letters, invalidation."""

    def __init__(
        self,
        venue: str,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
    ) -> None:
        self.venue = venue
        self.books = books
        self.conn = conn
        self.stats = stats
        self.dead_letter = dead_letter
        self._rejected = 0

    def on_rest(self, request: str, body: bytes, recv_ns: int) -> None:
        """Recorded REST responses are not replayed for this venue: each is rejected (kept)."""
        self.stats.frames += 1
        self.reject(body, f"no REST replay for {self.venue}: {request}")

    def reject(self, raw: bytes, error: str, instrument: str | None = None) -> None:
        """Count, log and dead-letter a frame that could not be used.

        When the frame belonged to a known book, that book can no longer be trusted (a change
        was lost) and goes AWAITING_SNAPSHOT.
        """
        self.stats.decode_errors += 1
        self._rejected += 1
        self.dead_letter.write(raw, error, self.conn)
        if self._rejected <= _LOG_FIRST or self._rejected % _LOG_EVERY == 0:
            log.warning(
                "frame rejected",
                venue=self.venue,
                conn=self.conn,
                error=error,
                rejected=self._rejected,
                raw=raw[:_LOG_RAW_LIMIT].decode("utf-8", errors="backslashreplace"),
            )
        if instrument is not None:
            self.books.invalidate(instrument, f"lost an update: {error}")
