"""Recorded frames as normalized events: :func:`replay` and its :class:`ReplayFeed`, the same venue
streams and books as ``hadron replay``.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hadron.api._shared import PathArg, _dead_letter_path, _default_logs, _Events, _paths, _venues
from hadron.api.books import apply_event
from hadron.app.replay import SEQ_CHECKS, Replay
from hadron.book.manager import BookManager
from hadron.errors import BookError, ConfigError
from hadron.model.events import MarketEvent, TopOfBook
from hadron.store.replay import RecordingFile


class _VenueReplay(Replay):
    # A Replay that plans once (so a bad path raises when the feed is made, not when it is
    # first read) and leaves out the files of venues not asked for
    def __init__(self, venues: frozenset[str] | None, **options: Any) -> None:
        super().__init__(**options)
        self.venues = venues
        self._planned: list[RecordingFile] | None = None

    def plan(self, paths: Iterable[Path]) -> list[RecordingFile]:
        if self._planned is None:
            plan = super().plan(paths)
            if self.venues is not None:  # a Hadron recording names its venue per line: kept
                plan = [r for r in plan if r.venue is None or r.venue in self.venues]
            self._planned = plan
        return self._planned


class ReplayFeed(Iterator[MarketEvent]):
    """Recorded frames as an iterator of normalized events (see :func:`replay`).

    Attributes:
        books: a :class:`~hadron.book.BookManager` in step with the iteration: every event handed
            out has just been applied to it (:func:`apply_event`), and none after it; a detector
            or top listener on it sees the books as each event left them.
        files: the recordings about to be replayed (:class:`~hadron.store.replay.RecordingFile`:
            ``path``, ``format``, ``venue``; after the iteration also ``frames`` and ``notes``).
        replay: the underlying :class:`hadron.app.replay.Replay`; ``replay.books`` are the venue
            streams' own books (they run ahead of the iteration by up to a few thousand frames,
            and hold the integrity counters of :meth:`report`).
        dead_letter: the :class:`~hadron.store.deadletter.DeadLetterFile` rejected frames go to
            (``path``; ``count`` of them).
    """

    def __init__(
        self,
        paths: list[Path],
        *,
        venues: frozenset[str] | None,
        instruments: frozenset[str] | None,
        book_events: bool,
        tops: bool,
        books: BookManager | None,
        seq_check: str,
        dead_letter: PathArg | None,
    ) -> None:
        self.books = books if books is not None else BookManager()
        self._paths = paths
        self._filter = _Events(venues=venues, instruments=instruments, book_events=book_events)
        self._played: deque[MarketEvent] = deque()
        self._tops: deque[TopOfBook] = deque()
        self.replay = _VenueReplay(
            venues,
            dead_letter=_dead_letter_path(dead_letter, "replay"),
            seq_check=seq_check,
            on_event=self._played.append,
        )
        self.dead_letter = self.replay.dead_letter
        self.files = self.replay.plan(paths)
        if tops:
            self.books.add_top_listener(self._tops.append)
        self._steps: Iterator[None] | None = None
        self._done = False

    def __next__(self) -> MarketEvent:
        played, tops, wants, books = self._played, self._tops, self._filter.wants, self.books
        while True:
            if tops:  # the tops the last event moved, right after it
                top = tops.popleft()
                if wants(top):
                    return top
                continue
            while not played:
                if self._done:
                    raise StopIteration
                if self._steps is None:
                    self._steps = self.replay.steps(self._paths)
                try:
                    next(self._steps)
                except StopIteration:
                    self._done = True
            event = played.popleft()
            with contextlib.suppress(BookError):  # a value the streams' books refused first: counted there too
                apply_event(books, event)
            if wants(event):
                return event

    def close(self) -> None:
        """Stop replaying (the rest of the files are not read) and close the dead-letter file."""
        self._done = True
        self._played.clear()
        self._tops.clear()
        if self._steps is not None:
            self._steps.close()  # type: ignore[attr-defined]
        self.dead_letter.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def run(self) -> Self:
        """Replay to the end without handing out events (the books and the report only)."""
        for _ in self:
            pass
        return self

    def report(self) -> dict[str, Any]:
        """The ``hadron replay`` report so far (frames, decode errors, books by state, sequence
        gaps, per-file notes…; see ``hadron replay --help``)."""
        return self.replay.report()

    def dump_books(self) -> dict[str, dict[str, list[list[str]]]]:
        """Every book that was ever LIVE: ``{instrument: {"bids": [[price, size], …], "asks":
        […]}}``, best first, as decimal strings (``hadron replay --dump-books``)."""
        return self.replay.dump_books()


def replay(
    paths: PathArg | Iterable[PathArg],
    *,
    venue: str | Iterable[str] | None = None,
    instruments: Iterable[str] | None = None,
    book_events: bool = True,
    tops: bool = False,
    books: BookManager | None = None,
    seq_check: str = "auto",
    dead_letter: PathArg | None = None,
) -> ReplayFeed:
    """Replay recorded frames into an iterator of normalized events, as ``hadron replay`` does.

    Every file under ``paths`` (files and folders, walked recursively) is recognised from its
    content: Kalshi captures (``{"recv_ms", "event"}`` NDJSON, gzipped or not), Polymarket frame
    files (a JSON array or NDJSON of frames), Hadron recordings (``hadron record``, ``hadron run
    --record``). Both venues and any number of files replay at once, merged by receive time
    (files without receive times first), through the same venue streams and books as a live run.

    Nothing is read until the first ``next()``. The books (:attr:`ReplayFeed.books`) are in step
    with the iteration: each event handed out has just been applied to them, and none after it
    (whatever ``book_events``, ``venue`` and ``instruments`` leave out is applied all the same),
    so a detector built on them beforehand (:func:`arb_detector`) sees every update in order.

    Args:
        paths: one path or several.
        venue: only this venue's events (``"kalshi"``, ``"polymarket"`` or several); the other
            venue's capture files are not read at all.
        instruments: only these instruments' events (``"kalshi:<ticker>"``, ``"polymarket:<token>"``).
        book_events: also hand out :class:`BookSnapshot`, :class:`BookDelta` and
            :class:`BookInvalidated` (``False``: trades, quotes, market status and tick-size
            changes only; the books are kept either way).
        tops: also hand out a :class:`TopOfBook` from the books whenever a LIVE book's best bid
            or ask changes, right after the event that changed it (beside the venues' own L1
            quotes, which are always handed out).
        books: the :class:`BookManager` kept in step with the iteration (default: a new one).
        seq_check: ``"auto"`` (capture files: sequence jumps tolerated, as they hold per-market
            extracts; Hadron recordings: strict), ``"strict"`` or ``"monotonic"``.
        dead_letter: where rejected frames are kept (default: a new file in the temp folder,
            created only when a frame is rejected).

    Returns:
        A :class:`ReplayFeed`: an iterator of :data:`~hadron.model.events.MarketEvent`
        (:class:`Trade`, :class:`TopOfBook`, :class:`BookSnapshot`, :class:`BookDelta`,
        :class:`MarketStatus`, :class:`TickSizeChange`, :class:`BookInvalidated`), with
        ``books``, ``report()`` and ``dump_books()``; a context manager that closes it.

    Raises:
        InputError: a path does not exist or cannot be read, or a file named directly is not a
            recording (files found in folders that are not recordings are skipped and listed in
            the report). Bad frames never raise: they are counted (``report()["decode_errors"]``)
            and dead-lettered.
        ConfigError: an unknown venue or ``seq_check``.
    """
    if seq_check not in SEQ_CHECKS:
        raise ConfigError(f"seq_check must be one of {', '.join(SEQ_CHECKS)}, not {seq_check!r}")
    _default_logs()
    return ReplayFeed(
        _paths(paths),
        venues=_venues(venue),
        instruments=frozenset(instruments) if instruments is not None else None,
        book_events=book_events,
        tops=tops,
        books=books,
        seq_check=seq_check,
        dead_letter=dead_letter,
    )
