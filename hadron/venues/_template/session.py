"""Phase 4: the live WebSocket session (:class:`hadron.venues.base.LiveFeed`).

Dial with :func:`hadron.venues.wsclient.dial` and keep dialling with
:func:`hadron.venues.wsclient.reconnect_loop` (back-off, retry classification, a silence
timeout); subscribe the markets; feed every raw frame to a new stream (:mod:`.stream`) per
connection; re-subscribe or ask for a snapshot when the stream reports a gap. Record frames with
:class:`hadron.store.recorder.FrameRecorder` when asked.

Milestone: against the loopback venue (:mod:`.fake`) the books go LIVE, survive a forced
disconnect, and a recording of the session replays to the same books (see
``tests/integration/test_kalshi_live_loopback.py``,
``tests/integration/test_polymarket_live_loopback.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from hadron.book.manager import BookManager
from hadron.venues.base import EventSink, FeedStats


class TemplateSession:
    """The venue's market data over one or more WebSocket connections."""

    venue = "template"

    def __init__(self, books: BookManager, symbols: list[str], *, on_event: EventSink | None = None) -> None:
        self.books = books
        self.symbols = symbols
        self.on_event = on_event
        self.stats = FeedStats()

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, subscribe ``symbols`` and keep the books until ``stop``, reconnecting on
        failures (``LiveFeed.run``).

        Raises:
            HadronError: a failure retrying cannot fix (refused credentials).
        """
        raise NotImplementedError("TemplateSession.run: LiveFeed.run")

    def health(self) -> dict[str, Any]:
        """Per-connection health (``LiveFeed.health``): ``{"connections": [{"name", "connected",
        "frames", "last_frame_ns", "reconnects", ...}], "frozen": int, "latency": ...}``."""
        raise NotImplementedError("TemplateSession.health: LiveFeed.health")
