"""What every venue stream does per frame beyond its own venue's rules: count, reject bad frames
without losing them (dead letters), contain a failure to its frame. Compiled with the streams
(:mod:`hadron.accel`); what a live session needs around them, none of it per frame, is
:mod:`hadron.venues.session` and :mod:`hadron.venues.wsclient`."""

from __future__ import annotations

import structlog

from hadron.book.manager import BookManager
from hadron.venues.base import DeadLetterSink
from hadron.venues.feedstats import FeedStats

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
        delta_kind: str = "",
    ) -> None:
        self.venue = venue
        self.books = books
        self.conn = conn
        self.stats = stats
        self.dead_letter = dead_letter
        self._rejected = 0
        if delta_kind:  # the venue's delta message: its count is a typed counter (FeedStats.count)
            stats.claim_deltas(delta_kind)

    def on_rest(self, request: str, body: bytes, recv_ns: int) -> None:
        """Recorded REST responses are not replayed for this venue: each is rejected (kept)."""
        self.stats.frames += 1
        self.reject(body, f"no REST replay for {self.venue}: {request}")

    def reject(self, raw: bytes, error: str, instrument: str | None = None) -> None:
        """Count, log and dead-letter a frame that could not be used.

        When the frame belonged to a known book, that book can no longer be trusted (a change
        was lost) and goes AWAITING_SNAPSHOT.
        """
        if not isinstance(raw, bytes):  # a str or memoryview from an API caller: kept as bytes
            raw = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)  # type: ignore[unreachable]
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

    def fault(self, raw: bytes, where: str, exc: BaseException, instrument: str | None = None) -> None:
        """Contain an unexpected exception raised while handling one frame (a bug, or input no
        check foresaw, such as JSON nested past the decoder's recursion limit): the frame is
        rejected as :meth:`reject` does (counted in ``decode_errors``, dead-lettered with its raw
        bytes, ``instrument``'s book invalidated) and, for the first ones, the traceback logged
        (none for JSON nested too deep: hostile input, not a bug); the stream goes on."""
        if not isinstance(exc, RecursionError) and (
            self._rejected < _LOG_FIRST or (self._rejected + 1) % _LOG_EVERY == 0
        ):
            log.error("frame handling failed", venue=self.venue, conn=self.conn, where=where, exc_info=exc)
        self.reject(raw, f"{where}: {_describe(exc)}", instrument)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested deeper than the decoder follows (RecursionError)"
    return f"unexpected {type(exc).__name__}: {exc}"


__all__ = ["StreamBase"]
