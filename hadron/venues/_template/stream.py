"""Phase 3: the feed stream, one per connection (:class:`hadron.venues.base.FeedStream`).

It takes raw frames exactly as the socket (or a recording) delivered them, decodes them
(:mod:`.messages`), checks sequencing when the venue numbers its messages (a gap: the books of
that subscription go AWAITING_SNAPSHOT, see :class:`~hadron.venues.base.SeqMode`), normalizes them
(:mod:`.normalize`) and applies them to the shared :class:`~hadron.book.manager.BookManager`,
handing each event to ``on_event``. It never raises for bad input: the frame is counted in
:class:`~hadron.venues.base.FeedStats` and written to the dead-letter sink. Live sessions and
replay feed the same class.

Milestone: a recording of the venue replays through ``hadron replay`` with its books LIVE and
no decode errors (see ``tests/integration/test_third_venue.py``; sequencing:
``tests/unit/test_kalshi.py``, ``tests/unit/test_polymarket.py``).
"""

from __future__ import annotations

from hadron.book.manager import BookManager
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats, SeqMode


class TemplateStream:
    """One connection's frames in, normalized events and book updates out."""

    def __init__(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        seq_mode: SeqMode = SeqMode.STRICT,
        on_event: EventSink | None = None,
    ) -> None:
        self.books = books
        self.conn = conn
        self.stats = stats
        self.dead_letter = dead_letter
        self.seq_mode = seq_mode
        self.on_event = on_event

    def on_frame(self, raw: bytes, recv_ns: int) -> None:
        """Process one raw text frame received at ``recv_ns`` (ns since the epoch): decode,
        check sequence, normalize, apply to the books, hand the events to ``on_event``. Count and
        dead-letter a frame that fails any stage; never raise."""
        raise NotImplementedError("TemplateStream.on_frame: FeedStream.on_frame")

    def on_capture_line(self, line: bytes) -> None:
        """Process one capture line ``{"recv_ms": int, "event": <frame>}`` with the same
        guarantees as :meth:`on_frame` (receive time: ``recv_ms``)."""
        raise NotImplementedError("TemplateStream.on_capture_line: FeedStream.on_capture_line")

    def on_rest(self, request: str, body: bytes, recv_ns: int) -> None:
        """Process one recorded REST response (``request``: its request line), e.g. a book
        snapshot fetched over REST, with the same guarantees."""
        raise NotImplementedError("TemplateStream.on_rest: FeedStream.on_rest")
