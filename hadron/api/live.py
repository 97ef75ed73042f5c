"""Live venues as async iterators of normalized events: :func:`connect` and its :class:`Feed`, the
same venue streams and books as ``hadron run``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hadron.api._shared import PathArg, _dead_letter_path, _default_logs, _Events, _venue
from hadron.book.manager import BookManager, ManagedBook
from hadron.config import HadronConfig, load_config
from hadron.errors import ConfigError
from hadron.model.events import BookInvalidated, MarketEvent
from hadron.store.deadletter import DeadLetterFile
from hadron.venues.base import FeedStats, LiveFeed, LiveVenue, get_venue


def _config(config: HadronConfig | PathArg | None) -> HadronConfig:
    if isinstance(config, HadronConfig):
        return config
    return load_config(Path(config) if config is not None else None)


class Feed(AsyncIterator[MarketEvent]):
    """One venue's live market data as an async iterator of normalized events (see :func:`connect`).

    Use it as ``async with`` (or :meth:`start` and :meth:`close`); ``async for event in feed``
    waits for the next event. The feed reconnects by itself (with back-off, a fresh snapshot
    and the books put back to AWAITING_SNAPSHOT meanwhile); it ends only when closed, or when it
    fails for good (refused credentials), which the iteration raises.

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``. markets: the venue symbols streamed.
        books: the :class:`~hadron.book.BookManager` the feed keeps (current with every event
            handed out, and ahead of them when the iteration lags).
        dead_letter: the :class:`~hadron.store.deadletter.DeadLetterFile` rejected frames go to.
        dropped: events left out because more than ``max_pending`` waited (the books never miss one).
        live: the venue's :class:`~hadron.venues.base.LiveFeed` once started (connections, health).
    """

    def __init__(
        self,
        venue: str,
        markets: list[str],
        *,
        config: HadronConfig | PathArg | None,
        books: BookManager | None,
        book_events: bool,
        tops: bool,
        record_dir: PathArg | None,
        dead_letter: PathArg | None,
        max_pending: int | None,
        close_timeout: float,
    ) -> None:
        self.venue = venue
        self.markets = markets
        self.books = books if books is not None else BookManager()
        self.dead_letter = DeadLetterFile(_dead_letter_path(dead_letter, venue))
        self.live: LiveFeed | None = None
        self._config = config
        self._record_dir = Path(record_dir) if record_dir is not None else None
        self._close_timeout = close_timeout
        self._events = _Events(venues=None, instruments=None, book_events=book_events, max_pending=max_pending)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._raised = False
        if book_events:
            self.books.add_invalidation_listener(self._invalidated)
        if tops:
            self.books.add_top_listener(self._events.on_top)

    @property
    def dropped(self) -> int:
        """Events left out of the iteration because ``max_pending`` were waiting."""
        return self._events.dropped

    @property
    def stats(self) -> FeedStats:
        """The venue stream's counters (frames, by type, sequence gaps, decode errors…)."""
        return self.live.stats if self.live is not None else FeedStats()

    def health(self) -> dict[str, Any]:
        """Per-connection health (``connections``: name, connected, frames, reconnects…), as the
        dashboard shows it; ``{}`` before :meth:`start`."""
        return self.live.health() if self.live is not None else {}

    @property
    def error(self) -> BaseException | None:
        """Why the feed stopped for good, once it did (``None`` while it runs, or closed cleanly)."""
        task = self._task
        if task is None or not task.done() or task.cancelled():
            return None
        return task.exception()

    def _on_event(self, event: MarketEvent) -> None:
        if not self._closed:
            self._events.on_event(event)
            self._wake.set()

    def _invalidated(self, book: ManagedBook, reason: str) -> None:
        self._on_event(BookInvalidated(book.instrument, reason, book.ts_event, book.ts_recv))

    async def start(self) -> Self:
        """Connect and subscribe (in a background task); return at once.

        Raises:
            ConfigError: missing or unreadable credentials, a bad token id, an unreadable
                configuration file (named).
        """
        if self._task is not None or self._closed:
            return self
        adapter = get_venue(self.venue)
        if not isinstance(adapter, LiveVenue):
            raise ConfigError(f"venue {self.venue} cannot stream live")
        self.live = adapter.live_feed(
            self.books,
            self.markets,
            config=_config(self._config),
            on_event=self._on_event,
            record_dir=self._record_dir,
            dead_letter=self.dead_letter,
        )
        self._task = asyncio.create_task(self.live.run(self._stop), name=f"hadron-{self.venue}-feed")
        self._task.add_done_callback(lambda _: self._wake.set())
        return self

    async def __anext__(self) -> MarketEvent:
        if self._task is None and not self._closed:
            await self.start()
        pending = self._events.pending
        while not pending:
            self._events.release()
            if pending:
                break
            task = self._task
            if self._closed or task is None or task.done():
                error = self.error
                if error is not None and not self._closed:
                    self._raised = True
                    raise error
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        return pending.popleft()

    async def close(self) -> None:
        """Stop the feed: close its connections (waiting up to ``close_timeout`` seconds) and the
        dead-letter file. Idempotent.

        Raises:
            HadronError: the feed had failed for good (refused credentials…) and the iteration
                had not raised it yet.
        """
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        failure: BaseException | None = None
        task = self._task
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=self._close_timeout)
            if not done:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            elif not task.cancelled() and not self._raised:
                failure = task.exception()
        self.dead_letter.close()
        if failure is not None:
            raise failure

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            await self.close()
            return
        with contextlib.suppress(Exception):  # the error already raised wins
            await self.close()


def connect(
    venue: str,
    markets: Iterable[str],
    *,
    config: HadronConfig | PathArg | None = None,
    books: BookManager | None = None,
    book_events: bool = True,
    tops: bool = False,
    record_dir: PathArg | None = None,
    dead_letter: PathArg | None = None,
    max_pending: int | None = None,
    close_timeout: float = 10.0,
) -> Feed:
    """A live feed of one venue: ``async with hadron.connect(...) as feed: async for event in feed``.

    It is the runtime's feed (``hadron run``): Kalshi's signed WebSocket v2 pool (``orderbook_delta``,
    ``trade``, ``ticker``, ``market_lifecycle_v2``; REST polling when the socket is unusable and
    ``kalshi.transport`` is ``auto``), or Polymarket's market channel with its freeze watchdog,
    normalized into the same events and books as :func:`replay`.

    Args:
        venue: ``"kalshi"`` or ``"polymarket"``.
        markets: venue symbols: Kalshi market tickers, Polymarket token ids (decimal strings);
            instrument ids (``"kalshi:<ticker>"``) are accepted too.
        config: a :class:`~hadron.config.HadronConfig`, or the path of a ``hadron.toml``
            (default: :func:`~hadron.config.load_config`: ``$HADRON_CONFIG`` or ``./hadron.toml``,
            then ``.env`` and the environment: ``KALSHI_API_KEY_ID``, ``KALSHI_PRIVATE_KEY_PATH``…).
            Its ``[kalshi]`` or ``[polymarket]`` section is used (hosts, keys, transport).
        books: the :class:`BookManager` to feed (default: a new one); two feeds (one per venue)
            may share one, e.g. under one :func:`arb_detector`.
        book_events / tops: as for :func:`replay` (:class:`BookInvalidated` is handed out when a
            book stops being trustworthy: a gap, a reconnect; it is LIVE again at its next snapshot).
        record_dir: also record every raw frame here (``hadron replay`` reads it back).
        dead_letter: where rejected frames are kept (default: a new file in the temp folder,
            created only when a frame is rejected).
        max_pending: at most this many events wait for the iteration; beyond, the oldest are left
            out and counted in :attr:`Feed.dropped` (``None``: no bound).
        close_timeout: seconds :meth:`Feed.close` waits for the connections to close.

    Returns:
        A :class:`Feed` (not yet connected: ``async with`` or ``await feed.start()`` connects).

    Raises:
        ConfigError: an unknown venue or no markets (here); missing credentials or a bad setting
            (when it starts).
        AuthError: from the iteration (or :meth:`Feed.close`): the venue refused the credentials.
    """
    name = _venue(venue)
    symbols = [markets] if isinstance(markets, str) else list(markets)
    symbols = [m.removeprefix(f"{name}:") for m in symbols]
    if not symbols:
        raise ConfigError(f"connect({name!r}): give the markets to stream (Kalshi tickers, Polymarket token ids)")
    _default_logs()
    return Feed(
        name,
        list(dict.fromkeys(symbols)),
        config=config,
        books=books,
        book_events=book_events,
        tops=tops,
        record_dir=record_dir,
        dead_letter=dead_letter,
        max_pending=max_pending,
        close_timeout=close_timeout,
    )
