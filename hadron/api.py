"""Hadron's Python API: replay recordings, stream live venues, read books, ticks and opportunities.

Everything here is re-exported by the package, lazily (``import hadron`` stays light)::

    import hadron

    for event in hadron.replay(["capture.ndjson.gz", "polymarket.json"]):
        ...                                         # Trade, TopOfBook, BookDelta, BookSnapshot, …

    async with hadron.connect("kalshi", ["KXGOLD15M-26AUG102130-30"]) as feed:
        async for event in feed:
            ...

The pieces are the ones the command line runs (``hadron replay``, ``hadron run``): the same venue
streams, :class:`~hadron.book.BookManager`, tick store and arbitrage detector. ``docs/API.md``
has a runnable example of each.

Units are the model's (:mod:`hadron.model.units`), never floats:

* price: ``int``, 1/10,000 USD (:data:`PRICE_SCALE`; ``4800`` is $0.48, :data:`PRICE_ONE` is $1);
* size: ``int``, 1/1,000,000 contract or share (:data:`SIZE_SCALE`);
* time: ``int``, nanoseconds since the Unix epoch (``ts_event``: the venue's, ``ts_recv``: Hadron's);
* money (opportunities): ``int``, 1/10,000,000,000 USD (:data:`MONEY_SCALE`).

:func:`price_decimal`, :func:`size_decimal` and :func:`money_decimal` give exact
:class:`~decimal.Decimal` values; :func:`format_price` and :func:`format_size` decimal strings.

Instruments are ``"<venue>:<venue symbol>"``: ``kalshi:<market ticker>`` (the market's YES
contract) or ``polymarket:<token id>``.

Arrow tables need the ``parquet`` extra (pyarrow), DataFrames the ``pandas`` extra: without them
those functions raise :class:`~hadron.extras.MissingExtra`, whose message is the ``pip install``
line to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from hadron.app.replay import SEQ_CHECKS, Replay
from hadron.arb.detector import ArbConfig, ArbDetector, Thresholds, _thresholds, load_arb_config
from hadron.arb.opportunity import Leg, Opportunity
from hadron.arb.walk import MONEY_SCALE
from hadron.book.l2 import L2Book
from hadron.book.manager import BookManager, BookState, ManagedBook
from hadron.config import HadronConfig, KalshiConfig, PolymarketConfig, Secret, load_config
from hadron.errors import BookError, ConfigError, HadronError, InputError
from hadron.extras import MissingExtra, require
from hadron.match.pairs import Pair
from hadron.match.pairs import read_pairs as _read_pairs
from hadron.model.account import AccountFill, OrderGroupUpdate, OrderUpdate, PositionUpdate
from hadron.model.events import (
    AggressorSide,
    BookAction,
    BookDelta,
    BookInvalidated,
    BookSide,
    BookSnapshot,
    EventStatus,
    FeeUpdate,
    IndexPrice,
    Level,
    MarketEvent,
    MarketState,
    MarketStatus,
    TickSizeChange,
    TopOfBook,
    Trade,
)
from hadron.model.units import (
    PRICE_DECIMALS,
    PRICE_ONE,
    PRICE_SCALE,
    SIZE_DECIMALS,
    SIZE_SCALE,
    format_price,
    format_size,
    parse_price,
    parse_size,
)
from hadron.store.deadletter import DeadLetterFile
from hadron.store.replay import RecordingFile
from hadron.venues.base import BUILTIN_VENUES, FakeVenueHost, FeedStats, LiveFeed, LiveVenue, get_venue

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "MONEY_SCALE",
    "PRICE_ONE",
    "PRICE_SCALE",
    "SIZE_SCALE",
    "TABLES",
    "AccountFill",
    "AggressorSide",
    "ArbConfig",
    "ArbDetector",
    "BookAction",
    "BookDelta",
    "BookError",
    "BookInvalidated",
    "BookManager",
    "BookSide",
    "BookSnapshot",
    "BookState",
    "ConfigError",
    "EventStatus",
    "FeeUpdate",
    "Feed",
    "HadronConfig",
    "HadronError",
    "IndexPrice",
    "InputError",
    "Leg",
    "Level",
    "Loopback",
    "ManagedBook",
    "MarketEvent",
    "MarketState",
    "MarketStatus",
    "MissingExtra",
    "Opportunity",
    "OrderGroupUpdate",
    "OrderUpdate",
    "Pair",
    "PositionUpdate",
    "ReplayFeed",
    "Thresholds",
    "TickSizeChange",
    "TopOfBook",
    "Trade",
    "apply_event",
    "arb_detector",
    "book_df",
    "book_table",
    "connect",
    "events_table",
    "events_tables",
    "format_price",
    "format_size",
    "load_config",
    "load_pairs",
    "loopback",
    "money_decimal",
    "opportunities_table",
    "parse_price",
    "parse_size",
    "price_decimal",
    "read_pairs",
    "read_ticks",
    "read_ticks_df",
    "replay",
    "size_decimal",
    "top_of_book",
    "write_ticks",
]

PathArg = str | os.PathLike[str]
"""A path given as a string or a :class:`~pathlib.Path`."""

TABLES = ("trades", "quotes", "book_deltas", "book_snapshots", "index_prices")
"""The tick store's tables (see :mod:`hadron.store.parquet` for their columns)."""

_BOOK_EVENTS = (BookSnapshot, BookDelta, BookInvalidated)
_MONEY_DECIMALS = len(str(MONEY_SCALE)) - 1  # 10


# -- units -----------------------------------------------------------------------------------


def price_decimal(price: int) -> Decimal:
    """A price (int, 1/10,000 USD) as an exact :class:`~decimal.Decimal` in USD: ``4800`` →
    ``Decimal("0.4800")``."""
    return Decimal(price).scaleb(-PRICE_DECIMALS)


def size_decimal(size: int) -> Decimal:
    """A size (int, 1/1,000,000 contract or share) as an exact :class:`~decimal.Decimal`:
    ``46_020_000`` → ``Decimal("46.020000")``."""
    return Decimal(size).scaleb(-SIZE_DECIMALS)


def money_decimal(money: int) -> Decimal:
    """Money (int, 1/10,000,000,000 USD: opportunity cost, fees, net) as an exact
    :class:`~decimal.Decimal` in USD."""
    return Decimal(money).scaleb(-_MONEY_DECIMALS)


# -- shared helpers --------------------------------------------------------------------------


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
    unknown = sorted(names - set(BUILTIN_VENUES))
    if unknown:
        raise ConfigError(f"unknown venue {', '.join(unknown)} (known: {', '.join(BUILTIN_VENUES)})")
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


# -- replay ----------------------------------------------------------------------------------


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


# -- live feeds ------------------------------------------------------------------------------


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


class Loopback:
    """A loopback venue on 127.0.0.1 speaking the venue's real protocol, replaying a capture
    (see :func:`loopback`).

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        config: a :class:`~hadron.config.HadronConfig` pointing :func:`connect` at it (WebSocket
            transport only; for Kalshi a throwaway RSA key the venue checks signatures against).
        url: its WebSocket URL. rest_url: its REST base URL (Polymarket ``/book``), or ``None``.
        markets: the venue symbols its capture plays (Kalshi tickers, Polymarket token ids).
        server: the loopback venue object (``stats``, ``hold``…).
    """

    def __init__(
        self,
        venue: str,
        captures: list[Path] | None,
        *,
        speed: float,
        loop: bool,
        shift: int,
        faults: str,
    ) -> None:
        self.venue = venue
        self.captures = captures
        self.speed = speed
        self.loop = loop
        self.shift = shift
        self.faults = faults
        self.config = HadronConfig()
        self.url = ""
        self.rest_url: str | None = None
        self.markets: list[str] = []
        self.server: Any = None
        self._stop = asyncio.Event()
        self._task: asyncio.Future[Any] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    async def drained(self) -> None:
        """Wait until the capture has been played and sent to every connected client."""
        if self.server is not None:
            await self.server.drained()

    async def __aenter__(self) -> Self:
        from hadron.app.demo import _key_pems, demo_capture, free_port  # the demo's throwaway key

        adapter = get_venue(self.venue)
        if not isinstance(adapter, FakeVenueHost):
            raise ConfigError(f"venue {self.venue} has no loopback venue")
        ready = asyncio.Event()

        def on_ready(ws_url: str, rest_url: str | None) -> None:
            self.url, self.rest_url = ws_url, rest_url
            ready.set()

        def on_started(server: Any) -> None:
            self.server = server

        options: dict[str, Any] = {
            "captures": self.captures or [demo_capture()],
            "port": 0,
            "speed": self.speed,
            "loop": self.loop,
            "faults": self.faults,
            "stop": self._stop,
            "signals": False,
            "ready": on_ready,
            "started": on_started,
        }
        private_pem = b""
        if self.venue == "kalshi":  # the private key stays in memory; the venue reads the public one
            private_pem, public_pem = await asyncio.to_thread(_key_pems)
            self._folder = tempfile.TemporaryDirectory(prefix="hadron-loopback-")
            public = Path(self._folder.name) / "loopback-key.pub.pem"
            public.write_bytes(public_pem)
            options["public_key"] = public
        else:
            options["rest_port"] = free_port()
            options["shift"] = self.shift
        self._task = asyncio.ensure_future(adapter.fake_venue(**options))
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED, timeout=60)
        if not ready.is_set():
            waiter.cancel()
            if self._task.done():
                self._cleanup()
                self._task.result()  # the venue could not start: its error
            await self.__aexit__(None, None, None)
            raise ConfigError(f"the loopback {self.venue} venue did not start within 60 s")
        self.markets = _played(self.server)
        if self.venue == "kalshi":
            kalshi = KalshiConfig(
                env="demo",
                api_key_id="hadron-loopback-key",
                private_key=Secret(private_pem.decode()),
                ws_url=self.url,
                transport="ws",
            )
            self.config = HadronConfig(kalshi=kalshi, source="hadron loopback")
        else:
            polymarket = PolymarketConfig(ws_url=self.url, rest_url=self.rest_url or "", gamma_url="", transport="ws")
            self.config = HadronConfig(polymarket=polymarket, source="hadron loopback")
        return self

    def _cleanup(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        try:
            if self._task is not None:
                await asyncio.gather(self._task, return_exceptions=True)
        finally:
            self._cleanup()


def _played(server: Any) -> list[str]:
    # The symbols a loopback venue's capture plays: Kalshi entries' tickers, Polymarket items' tokens
    found: dict[str, None] = {}
    for item in getattr(server, "timeline", ()):
        ticker = getattr(item, "ticker", "")
        if ticker:
            found[ticker] = None
        for asset in sorted(getattr(item, "assets", ())):
            found[asset] = None
    return list(found)


def loopback(
    venue: str = "kalshi",
    captures: PathArg | Iterable[PathArg] | None = None,
    *,
    speed: float = 0.0,
    loop: bool = False,
    shift: int = 0,
    faults: str = "",
) -> Loopback:
    """A loopback venue to try :func:`connect` without credentials or a network:
    ``async with hadron.loopback("kalshi") as venue:`` then ``hadron.connect("kalshi",
    venue.markets, config=venue.config)``.

    It is the venue of ``hadron fake-venue`` and ``hadron demo``: the real protocol (Kalshi:
    signed handshake, subscriptions, sids and seqs; Polymarket: the market channel and REST
    ``/book``), replaying ``captures``; the capture waits for the first subscription.

    Args:
        venue: ``"kalshi"`` or ``"polymarket"``.
        captures: what to play: Kalshi captures; for Polymarket, Polymarket frame files or Kalshi
            captures transcoded into a YES/NO token pair (default: the real Kalshi capture
            shipped with Hadron, ``hadron/demo``).
        speed: 1.0 plays at the captured pace, 0 as fast as the client reads.
        loop: play the capture again and again.
        shift: Polymarket: move a transcoded capture's YES prices by this much (int, 1/10,000 USD;
            the NO token's the other way), a cross-venue dislocation.
        faults: faults to inject, e.g. ``"drop@200,gap@400"`` (see ``hadron fake-venue --help``).

    Raises:
        ConfigError: an unknown venue, no playable frames in ``captures``, a bad fault spec, or
            the venue did not start (when entered).
    """
    name = _venue(venue)
    _default_logs()
    return Loopback(
        name,
        _paths(captures) if captures is not None else None,
        speed=speed,
        loop=loop,
        shift=shift,
        faults=faults,
    )


# -- books -----------------------------------------------------------------------------------


def apply_event(books: BookManager, event: MarketEvent, source: object = None) -> None:
    """Apply one event to ``books`` as a venue stream would: a :class:`BookSnapshot` replaces the
    book (it goes LIVE), a :class:`BookDelta` changes one level (dropped and counted while the
    book waits for a snapshot), a :class:`TickSizeChange` regrids it, a :class:`BookInvalidated`
    puts it back to AWAITING_SNAPSHOT; other events do not touch books.

    ``source`` ties deltas to the snapshot they follow (compared by identity): give the same
    object for one stream's snapshots and deltas (default ``None`` for all).

    Raises:
        BookError: a value the venue may not send (:class:`~hadron.errors.BadValue`: a size of
            0 or below, a price outside (0, 1) or off the tick); the book is then
            AWAITING_SNAPSHOT and ``books.stats`` counts it.
    """
    if type(event) is BookDelta:
        books.apply_delta(event, source)
    elif type(event) is BookSnapshot:
        books.apply_snapshot(event, source)
    elif type(event) is TickSizeChange:
        books.apply_tick_size_change(event)
    elif type(event) is BookInvalidated:
        books.invalidate(event.instrument, event.reason)


def top_of_book(book: L2Book) -> TopOfBook:
    """The book's best bid and ask as a :class:`TopOfBook`: prices int 1/10,000 USD (``None``
    for an empty side, its size then 0), sizes int 1/1,000,000, and the book's last update
    times (``ts_event``, ``ts_recv``, ns; 0 for a bare :class:`~hadron.book.L2Book`).

    Check ``book.state`` (:class:`BookState`) first: only a LIVE book is current.
    """
    bid, ask = book.best_bid, book.best_ask
    return TopOfBook(
        book.instrument,
        bid[0] if bid is not None else None,
        bid[1] if bid is not None else 0,
        ask[0] if ask is not None else None,
        ask[1] if ask is not None else 0,
        getattr(book, "ts_event", 0),
        getattr(book, "ts_recv", 0),
    )


def book_table(books: L2Book | Iterable[L2Book], *, depth: int | None = None) -> pa.Table:
    """Books as one Arrow table of their levels, both sides: columns ``instrument``,
    ``ts_event``, ``ts_recv`` (the book's last update, ns), ``side`` (``"bid"``/``"ask"``),
    ``level`` (0 = best), ``price`` (int64, 1/10,000 USD), ``size`` (int64, 1/1,000,000); per
    book its bids best (highest) first, then its asks best (lowest) first. The names are those
    of the tick store's ``book_snapshots``.

    Args:
        books: one book (``books.get("kalshi:…")``), or several (a :class:`BookManager`: all of them).
        depth: at most this many levels per side.

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    pa_: Any = require("pyarrow", "Arrow tables of books")
    items = [books] if isinstance(books, L2Book) else list(books)
    columns: list[list[Any]] = [[] for _ in range(7)]
    for book in items:
        ts_event, ts_recv = getattr(book, "ts_event", 0), getattr(book, "ts_recv", 0)
        for side, levels in (("bid", book.levels_bid(depth)), ("ask", book.levels_ask(depth))):
            for level, (price, size) in enumerate(levels):
                for column, value in zip(
                    columns, (book.instrument, ts_event, ts_recv, side, level, price, size), strict=True
                ):
                    column.append(value)
    schema = pa_.schema(
        [
            ("instrument", pa_.string()),
            ("ts_event", pa_.int64()),
            ("ts_recv", pa_.int64()),
            ("side", pa_.string()),
            ("level", pa_.int32()),
            ("price", pa_.int64()),
            ("size", pa_.int64()),
        ]
    )
    return pa_.Table.from_arrays(
        [pa_.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)], schema=schema
    )


def book_df(books: L2Book | Iterable[L2Book], *, depth: int | None = None) -> Any:
    """:func:`book_table` as a pandas ``DataFrame`` (same columns; ints stay int64).

    Raises:
        MissingExtra: pandas (the ``pandas`` extra) or pyarrow is not installed.
    """
    require("pandas", "DataFrames of books")
    return book_table(books, depth=depth).to_pandas()


# -- tick store ------------------------------------------------------------------------------


def _store_root(store: PathArg) -> Path:
    text = os.fspath(store)
    if text.startswith("parquet:"):
        from hadron.store.parquet import parse_store_url

        return parse_store_url(text)
    return Path(text)


def _ns(value: int | datetime, what: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{what}: a naive datetime; give its time zone (e.g. tzinfo=datetime.UTC)")
        return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: ns since the epoch (int) or an aware datetime, not {value!r}")
    return value


def _day(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%d")


def _in_order(table: pa.Table, name: str) -> pa.Table:
    # By receive time, then instrument (a stable sort: one instrument's rows of one time keep
    # their order, as a snapshot's levels do)
    keys = [("ts_recv", "ascending"), ("instrument", "ascending")]
    if name == "book_snapshots":
        keys.append(("snapshot", "ascending"))
    return table.sort_by(keys) if table.num_rows > 1 else table


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ValueError(f"table {table!r}: use one of {', '.join(TABLES)}")


def write_ticks(events: Iterable[MarketEvent], store: PathArg, *, batch_rows: int = 500_000) -> dict[str, int]:
    """Write events to a Parquet tick store (``hadron replay --store parquet:DIR``): trades,
    quotes (:class:`TopOfBook`), book deltas and snapshots, index prices; other events are skipped. New files
    are added beside any already there.

    Args:
        events: e.g. a :func:`replay` or an event list.
        store: the store's folder, or ``"parquet:DIR"``.
        batch_rows: rows buffered (all tables) before a batch of files is written.

    Returns:
        Rows written per table.

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    from hadron.store.parquet import ParquetTickStore

    ticks = ParquetTickStore(_store_root(store), batch_rows=batch_rows)
    try:
        for event in events:
            ticks.on_event(event)
    finally:
        ticks.close()
    return dict(ticks.rows)


def read_ticks(
    store: PathArg,
    table: str = "trades",
    *,
    venue: str | None = None,
    instrument: str | None = None,
    start: int | datetime | None = None,
    end: int | datetime | None = None,
) -> pa.Table:
    """Read one table of a Parquet tick store as an Arrow table, in receive-time order
    (``ts_recv``, then ``instrument``).

    Columns (see :mod:`hadron.store.parquet`; prices int64 1/10,000 USD, sizes int64
    1/1,000,000, times int64 ns), then the partition columns ``venue``, ``date`` (UTC day of
    ``ts_event``, ``"YYYY-MM-DD"``) and ``symbol`` (strings):

    * ``trades``: instrument, ts_event, ts_recv, price, size, aggressor, trade_id
    * ``quotes``: instrument, ts_event, ts_recv, bid_price, bid_size, ask_price, ask_size
      (prices null for an empty side)
    * ``book_deltas``: instrument, ts_event, ts_recv, side, price, size, action (``set``: the
      new size; ``change``: a signed change)
    * ``book_snapshots``: instrument, ts_event, ts_recv, snapshot (an id per snapshot), side,
      level (0 = best), price, size; an empty snapshot is one row with level -1
    * ``index_prices``: instrument (``kalshi:index:<id>``), ts_event, ts_recv, index, source
      (``cfbenchmarks``, ``pyth``), value, avg_60s (int64, 1/100,000,000 USD; avg_60s null when
      not sent); ``symbol`` is the index id with ``/`` as ``%2F``

    Args:
        store: the store's folder, or ``"parquet:DIR"``.
        table: one of :data:`TABLES`.
        venue: only this venue's rows. instrument: only this instrument's (``"kalshi:<ticker>"``).
        start / end: only rows with ``start <= ts_event < end`` (int ns, or aware datetimes);
            whole days outside are not read.

    Returns:
        A ``pyarrow.Table`` (empty, with the columns, when nothing matches or nothing was written).

    Raises:
        ConfigError: ``store`` is not a folder, or ``venue`` (or the instrument's) is not a known venue.
        ValueError: an unknown table, a naive datetime, or an instrument without its ``venue:`` prefix.
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    _check_table(table)
    if venue is not None:
        _venue(venue)
    if instrument is not None:
        name, colon, symbol = instrument.partition(":")
        if not colon or not symbol:
            raise ValueError(f"instrument {instrument!r}: give '<venue>:<symbol>', e.g. 'kalshi:{instrument}'")
        _venue(name)
    first = _ns(start, "start") if start is not None else None
    stop = _ns(end, "end") if end is not None else None
    from hadron.store.parquet import PARTITIONS, partition_symbol, table_schema

    ds: Any = require("pyarrow.dataset", "Arrow tables of ticks")
    pa_: Any = require("pyarrow", "Arrow tables of ticks")
    root = _store_root(store)
    if not root.is_dir():
        raise ConfigError(
            f"tick store {root}: no such folder (write one with hadron.write_ticks or --store parquet:DIR)"
        )
    schema = table_schema(table)
    folder = root / table
    if not folder.is_dir():
        return schema.empty_table()
    partitioning = ds.HivePartitioning(pa_.schema([schema.field(name) for name in PARTITIONS]), segment_encoding="none")
    condition = None

    def narrow(expression: Any) -> None:
        nonlocal condition
        condition = expression if condition is None else condition & expression

    if venue is not None:
        narrow(ds.field("venue") == venue)
    if instrument is not None:
        name = instrument.partition(":")[0]
        symbol = partition_symbol(instrument)
        narrow((ds.field("venue") == name) & (ds.field("symbol") == symbol) & (ds.field("instrument") == instrument))
    if first is not None:
        narrow((ds.field("date") >= _day(first)) & (ds.field("ts_event") >= first))
    if stop is not None:
        narrow((ds.field("date") <= _day(stop - 1)) & (ds.field("ts_event") < stop))
    dataset = ds.dataset(folder, format="parquet", partitioning=partitioning, schema=schema)
    return _in_order(dataset.to_table(filter=condition), table)


def read_ticks_df(
    store: PathArg,
    table: str = "trades",
    *,
    venue: str | None = None,
    instrument: str | None = None,
    start: int | datetime | None = None,
    end: int | datetime | None = None,
) -> Any:
    """:func:`read_ticks` as a pandas ``DataFrame`` (same columns; ints stay int64, a column with
    nulls, such as a quote's empty side, becomes float64 with NaN).

    Raises:
        MissingExtra: pandas (the ``pandas`` extra) or pyarrow is not installed; as :func:`read_ticks`.
    """
    require("pandas", "DataFrames of ticks")
    return read_ticks(store, table, venue=venue, instrument=instrument, start=start, end=end).to_pandas()


def events_tables(events: Iterable[MarketEvent]) -> dict[str, pa.Table]:
    """Events as the tick store's four tables, in memory (nothing is written): the tables
    :func:`read_ticks` would give after :func:`write_ticks` of the same events, keyed by name
    (every one of :data:`TABLES`, empty ones included), each in receive-time order (``ts_recv``,
    then ``instrument``).

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    from hadron.store.parquet import ParquetTickStore

    ticks = ParquetTickStore(Path("in-memory"), batch_rows=sys.maxsize)  # never flushed: nothing written
    for event in events:
        ticks.on_event(event)
    return {name: _in_order(table, name) for name, table in ticks.buffered().items()}


def events_table(events: Iterable[MarketEvent], table: str = "trades") -> pa.Table:
    """One table of :func:`events_tables` (``"trades"``, ``"quotes"``, ``"book_deltas"`` or
    ``"book_snapshots"``); the other events are read and left out.

    Raises:
        ValueError: an unknown table. MissingExtra: pyarrow is not installed.
    """
    _check_table(table)
    return events_tables(events)[table]


# -- pairs and arbitrage ---------------------------------------------------------------------


def read_pairs(path: PathArg) -> list[Pair]:
    """Every pair of a pairs file (proposed, approved and rejected; see
    :mod:`hadron.match.pairs`), in file order; ``pair.tradeable`` marks those the detector watches.

    Raises:
        ConfigError: unreadable, not TOML, or a pair with a missing or invalid field (named).
    """
    return _read_pairs(Path(path))


def load_pairs(path: PathArg, *, thresholds: Mapping[str, Any] | None = None) -> ArbConfig:
    """Read a pairs file for the detector: its approved pairs with their fee terms, its
    ``[[outcome_set]]`` tables and its ``[thresholds]`` (see
    :func:`hadron.arb.detector.load_arb_config`).

    Args:
        path: the reviewed pairs file (``hadron markets match`` / ``review``).
        thresholds: a ``[thresholds]`` table replacing the file's, money and sizes as decimal
            strings: ``{"min_profit": "0.05", "max_capital": "300", "max_age_s": 10}`` (keys
            ``min_edge``, ``min_profit``, ``min_size``, ``max_capital``, ``max_age_s``, ``lot``).

    Returns:
        An :class:`~hadron.arb.detector.ArbConfig`: ``pairs``, ``terms`` (fee models per pair),
        ``outcome_sets``, ``thresholds`` (:class:`Thresholds`, money int 1/10,000,000,000 USD).

    Raises:
        ConfigError: unreadable file, an invalid pair, an approved pair without its fee terms,
            an unknown threshold key, or a bad value (named).
    """
    where = Path(path)
    config = load_arb_config(where)
    if thresholds is not None:
        config = ArbConfig(config.pairs, config.terms, config.outcome_sets, _thresholds(dict(thresholds), where))
    return config


def arb_detector(
    books: BookManager,
    pairs: ArbConfig | PathArg,
    *,
    thresholds: Mapping[str, Any] | None = None,
    intra: bool = True,
    keep_closed: int | None = None,
) -> ArbDetector:
    """An arbitrage detector watching ``books`` (the one ``hadron replay --pairs`` and ``hadron run``
    build): build it before the books are fed (:func:`replay`, :func:`connect`,
    :func:`apply_event`); it re-evaluates a pair whenever the top of one of its books changes.

    Read it with ``detector.open`` (open opportunities by key), ``detector.results()`` (closed
    ones, then open ones, by opening time: :class:`Opportunity`), ``detector.summary()``, or
    ``detector.add_listener(fn)`` (``fn(opportunity, "opened" | "updated" | "closed")``, in order).
    Opportunities are reported only on trusted books: LIVE, not crossed, not older than
    ``max_age_s`` (``detector.suppressed`` counts the rest by reason).

    Args:
        books: the :class:`BookManager` to watch (e.g. ``feed.books``).
        pairs: an :class:`ArbConfig` (:func:`load_pairs`) or the path of a pairs file.
        thresholds: a ``[thresholds]`` table replacing the file's (see :func:`load_pairs`).
        intra: also look at Kalshi YES + NO of one market and at both tokens of one Polymarket market.
        keep_closed: keep only this many closed opportunities (``None``: all).

    Raises:
        ConfigError: as :func:`load_pairs`.
    """
    config = pairs if isinstance(pairs, ArbConfig) else load_pairs(pairs, thresholds=thresholds)
    if isinstance(pairs, ArbConfig) and thresholds is not None:
        config = ArbConfig(
            config.pairs, config.terms, config.outcome_sets, _thresholds(dict(thresholds), Path("[thresholds]"))
        )
    return ArbDetector.from_config(books, config, intra=intra, keep_closed=keep_closed)


def opportunities_table(opportunities: Iterable[Opportunity]) -> pa.Table:
    """Opportunities (``detector.results()``) as an Arrow table, one row each: ``id``, ``pair``,
    ``kind``, ``direction``, ``opened_ns``, ``last_ns``, ``closed_ns`` (null while open), ``size``
    (int64, 1/1,000,000 share per leg), ``cost`` (fees included), ``payout``, ``fees``, ``net``,
    ``peak_net`` (int64 money, 1/10,000,000,000 USD), ``updates``, ``close_reason`` and ``legs``
    (a list of ``{venue, instrument, outcome, size, cost, fee}``).

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    pa_: Any = require("pyarrow", "Arrow tables of opportunities")
    i64, text = pa_.int64(), pa_.string()
    leg = pa_.struct(
        [("venue", text), ("instrument", text), ("outcome", text), ("size", i64), ("cost", i64), ("fee", i64)]
    )
    fields = [
        ("id", text), ("pair", text), ("kind", text), ("direction", text), ("opened_ns", i64),
        ("last_ns", i64), ("closed_ns", i64), ("size", i64), ("cost", i64), ("payout", i64),
        ("fees", i64), ("net", i64), ("peak_net", i64), ("updates", i64), ("close_reason", text),
    ]  # fmt: skip
    schema = pa_.schema([*fields, ("legs", pa_.list_(leg))])
    rows = [
        {
            **{name: getattr(o, name) for name, _ in fields},
            "legs": [
                {
                    "venue": g.venue,
                    "instrument": g.instrument,
                    "outcome": g.outcome,
                    "size": g.size,
                    "cost": g.cost,
                    "fee": g.fee,
                }
                for g in o.legs
            ],
        }
        for o in opportunities
    ]
    return pa_.Table.from_pylist(rows, schema=schema)
