"""Helpers the API's feeds share: path and venue arguments, dead-letter files, default logging, and
:class:`_Events`, the filtered queue of events a feed hands on.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from hadron.errors import ConfigError
from hadron.model.events import BookDelta, BookInvalidated, BookSnapshot, MarketEvent, TopOfBook
from hadron.model.venue import venue_names

PathArg = str | os.PathLike[str]
"""A path given as a string or a :class:`~pathlib.Path`."""

_BOOK_EVENTS = (BookSnapshot, BookDelta, BookInvalidated)


def _paths(paths: PathArg | Iterable[PathArg]) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _default_logs() -> None:
    # Outside the command line nothing configures structlog, whose default prints every level to
    # stdout without Hadron's secret redaction: keep warnings and errors, on stderr, redacted.
    # A program that configured structlog itself keeps its configuration.
    import structlog

    if not structlog.is_configured():
        from hadron.logs import configure

        configure("warning")


def _venues(venue: str | Iterable[str] | None) -> frozenset[str] | None:
    if venue is None:
        return None
    names = frozenset([venue] if isinstance(venue, str) else venue)
    known = venue_names()
    unknown = sorted(names - set(known))
    if unknown:
        raise ConfigError(f"unknown venue {', '.join(unknown)} (known: {', '.join(known)})")
    return names


def _venue(venue: str) -> str:
    names = _venues(venue)
    assert names is not None
    return next(iter(names))


def _dead_letter_path(path: PathArg | None, what: str) -> Path:
    # The caller's file, or one in the temp folder (created only when a frame is rejected)
    if path is None:
        return Path(tempfile.gettempdir()) / f"hadron-{what}-{os.getpid()}-{uuid.uuid4().hex[:8]}.deadletter.ndjson"
    return Path(path)


class _Events:
    """The events a feed hands on, in order, filtered; the book manager's tops follow the event
    that moved them."""

    __slots__ = ("_held", "book_events", "dropped", "instruments", "max_pending", "pending", "venues")

    def __init__(
        self,
        *,
        venues: frozenset[str] | None,
        instruments: frozenset[str] | None,
        book_events: bool,
        max_pending: int | None = None,
    ) -> None:
        self.venues = venues
        self.instruments = instruments
        self.book_events = book_events
        self.max_pending = max_pending
        self.pending: deque[MarketEvent] = deque()
        self.dropped = 0
        self._held: list[TopOfBook] = []

    def on_event(self, event: MarketEvent) -> None:
        self._put(event)
        if self._held:
            self.release()

    def on_top(self, top: TopOfBook) -> None:
        # Called while the book applies an update, before the update's own event: held until it
        self._held.append(top)

    def release(self) -> None:
        held, self._held = self._held, []
        for top in held:
            self._put(top)

    def wants(self, event: MarketEvent) -> bool:
        """True when ``event`` passes the filters."""
        if not self.book_events and isinstance(event, _BOOK_EVENTS):
            return False
        instrument = event.instrument
        if self.instruments is not None and instrument not in self.instruments:
            return False
        return self.venues is None or instrument.partition(":")[0] in self.venues

    def _put(self, event: MarketEvent) -> None:
        if not self.wants(event):
            return
        if self.max_pending is not None and len(self.pending) >= self.max_pending:
            self.pending.popleft()
            self.dropped += 1
        self.pending.append(event)
