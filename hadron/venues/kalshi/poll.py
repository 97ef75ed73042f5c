"""REST polling fallback: Kalshi order books fetched on a timer when no stream can be had.

:class:`KalshiPoller` reads every ticker's ``GET /markets/{ticker}/orderbook`` once per cycle
(at most one cycle per ``interval``; the client's rate limiter paces the requests within the
account's read budget), turns each response into a :class:`BookSnapshot` and applies it to the
:class:`BookManager` as a polled snapshot bound to :data:`POLLED`. A polled book is as fresh as
its ``ts_recv``; it gets no deltas in between.

Failures of one request (network, 429 after the client's retries, 4xx for one ticker, a bad
body, a book the manager refuses) are logged and counted in :class:`KalshiPollStats`; the
poller moves on. Only :class:`~hadron.errors.AuthError` ends :meth:`KalshiPoller.run`, and,
with ``give_up_after``, a poller that has not delivered a single book in that many cycles
(:class:`~hadron.errors.TransportError`): a fallback that never delivers is a failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import structlog

from hadron.book.manager import BookManager
from hadron.errors import AuthError, BookError, DecodeError, RateLimited, TransportError, VenueError
from hadron.model.events import BookSnapshot
from hadron.venues.kalshi.rest import KalshiRestClient, decode_orderbook, normalize_rest_orderbook
from hadron.venues.polling import pause, until_stopped

log = structlog.get_logger("hadron.kalshi.poll")

_LOG_FIRST = 20
_LOG_EVERY = 100


class _PolledSource:
    __slots__ = ()

    def __repr__(self) -> str:
        return "POLLED"


POLLED: Final[object] = _PolledSource()
"""The ``source`` token of every book the poller writes (``BookManager.apply_snapshot``)."""


@dataclass(slots=True, kw_only=True)
class KalshiPollStats:
    """Counters of one poller (plain ints).

    ``cycles``: passes over every ticker; ``polls``: books fetched and applied; ``errors``: polls
    that failed, of which ``transport_errors`` (network, 5xx), ``rate_limited`` (429 after the
    client's retries), ``request_errors`` (other 4xx), ``decode_errors`` (bad body) and
    ``book_errors`` (the manager refused the book). ``last_error``: the latest message.
    ``last_poll_ns``: wall-clock receive time of the latest book applied (0: none yet).
    """

    cycles: int = 0
    polls: int = 0
    last_poll_ns: int = 0
    errors: int = 0
    transport_errors: int = 0
    rate_limited: int = 0
    request_errors: int = 0
    decode_errors: int = 0
    book_errors: int = 0
    last_error: str = ""


class KalshiPoller:
    """Polls Kalshi order books over REST into a :class:`BookManager`.

    Args:
        rest: an open :class:`KalshiRestClient` (its limiter paces the requests).
        books: the manager the snapshots go to (source :data:`POLLED`, ``polled=True``).
        tickers: the markets to poll.
        interval: seconds; a cycle starts at most this often.
        on_event: called with each :class:`BookSnapshot` after it is applied.
        on_raw: called with ``(request line, response body, ts_recv)`` of every poll, before
            decoding (lossless recording).
        depth: levels per side to ask for (0 = all).
        give_up_after: cycles without a single book delivered (ever) after which :meth:`run`
            raises TransportError; ``None``: poll for ever.
        stats: counters to add to (several pollers in turn can share them); default fresh.
        clock: monotonic seconds (injectable for tests).
        now_ns: wall clock, ns, for ``ts_recv`` (injectable for tests).
    """

    def __init__(
        self,
        rest: KalshiRestClient,
        books: BookManager,
        tickers: list[str],
        *,
        interval: float = 1.0,
        on_event: Callable[[BookSnapshot], None] | None = None,
        on_raw: Callable[[str, bytes, int], None] | None = None,
        depth: int = 0,
        give_up_after: int | None = None,
        stats: KalshiPollStats | None = None,
        clock: Callable[[], float] = time.monotonic,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.rest = rest
        self.books = books
        self.tickers = list(dict.fromkeys(tickers))
        self.interval = interval
        self.on_event = on_event
        self.on_raw = on_raw
        self.depth = depth
        self.give_up_after = give_up_after
        self.stats = stats if stats is not None else KalshiPollStats()
        self._clock = clock
        self._now_ns = now_ns

    async def poll(self, ticker: str) -> BookSnapshot:
        """Fetch, normalize and apply one ticker's book; return the snapshot.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError: from the request.
            BookError: the manager refused the book.
        """
        request, body = await self.rest.get_orderbook_raw(ticker, self.depth)
        ts_recv = self._now_ns()
        if self.on_raw is not None:
            self.on_raw(request, body, ts_recv)
        snap = normalize_rest_orderbook(ticker, decode_orderbook(body), ts_recv)
        self.books.apply_snapshot(snap, source=POLLED, polled=True)
        self.stats.polls += 1
        self.stats.last_poll_ns = ts_recv
        if self.on_event is not None:
            self.on_event(snap)
        return snap

    async def poll_once(self, stop: asyncio.Event | None = None) -> None:
        """Poll every ticker once (stopping early when ``stop`` is set), counting failures.

        Raises:
            AuthError: the venue refused the credentials; polling cannot go on.
        """
        for ticker in self.tickers:
            if stop is not None and stop.is_set():
                return
            try:
                await self.poll(ticker)
            except AuthError:
                raise
            except (VenueError, BookError) as exc:
                self._failed(ticker, exc)
        self.stats.cycles += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Poll in cycles until ``stop`` is set (a request under way is abandoned then); a cycle
        starts at most once per ``interval``.

        Raises:
            AuthError: the venue refused the credentials (every other failure is counted).
            TransportError: ``give_up_after`` cycles passed and not one book was delivered; the
                message names the last failure.
        """
        log.info("kalshi polling started", tickers=len(self.tickers), interval=self.interval, depth=self.depth)
        empty_cycles = 0
        while not stop.is_set():
            started = self._clock()
            await until_stopped(self.poll_once(stop), stop)
            if self.stats.polls == 0 and not stop.is_set():
                empty_cycles += 1
                if self.give_up_after is not None and empty_cycles >= self.give_up_after:
                    raise TransportError(
                        f"REST polling delivered no order book in {empty_cycles} cycles: "
                        f"{self.stats.last_error or 'no answer'}"
                    )
            await pause(self.interval - (self._clock() - started), stop)
        log.info("kalshi polling stopped", cycles=self.stats.cycles, polls=self.stats.polls, errors=self.stats.errors)

    def _failed(self, ticker: str, exc: VenueError | BookError) -> None:
        stats = self.stats
        stats.errors += 1
        if isinstance(exc, RateLimited):
            stats.rate_limited += 1
        elif isinstance(exc, TransportError):
            stats.transport_errors += 1
        elif isinstance(exc, DecodeError):
            stats.decode_errors += 1
        elif isinstance(exc, BookError):
            stats.book_errors += 1
        else:
            stats.request_errors += 1
        stats.last_error = f"{ticker}: {exc}"
        if stats.errors <= _LOG_FIRST or stats.errors % _LOG_EVERY == 0:
            log.warning(
                "kalshi poll failed", ticker=ticker, error=str(exc), kind=type(exc).__name__, errors=stats.errors
            )
