"""REST polling fallback: Polymarket order books fetched on a timer when the market channel is
unusable.

:class:`PolymarketPoller` reads every token's CLOB ``GET /book?token_id=`` once per cycle (at
most one cycle per ``interval``; the client's rate limiters pace the requests), turns each
response into a :class:`BookSnapshot` (:func:`~hadron.venues.polymarket.rest.normalize_rest_book`)
and applies it to the :class:`BookManager` as a polled snapshot bound to :data:`POLLED`, in
order: a REST book older (``timestamp``) than the book already held is dropped and counted
(``stale``). A polled book is as fresh as its ``ts_recv``; it gets no deltas in between.

Failures of one request (network, 429 after the client's retries, 4xx for one token, a bad
body, a book the manager refuses) are logged and counted in :class:`PolymarketPollStats`; the
poller moves on. :class:`~hadron.errors.AuthError` ends :meth:`PolymarketPoller.run`, and, with
``give_up_after``, so does a poller that has not delivered a single book in that many cycles
(:class:`~hadron.errors.TransportError`): a fallback that never delivers is a failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import structlog

from hadron.book.manager import ApplyOutcome, BookManager
from hadron.errors import AuthError, BookError, DecodeError, RateLimited, TransportError, VenueError
from hadron.model.events import BookSnapshot
from hadron.venues.polling import pause, until_stopped
from hadron.venues.polymarket.rest import PolymarketClobClient, decode_book, normalize_rest_book

log = structlog.get_logger("hadron.polymarket.poll")

_LOG_FIRST = 20
_LOG_EVERY = 100


class _PolledSource:
    __slots__ = ()

    def __repr__(self) -> str:
        return "POLYMARKET_POLLED"


POLLED: Final[object] = _PolledSource()
"""The ``source`` token of every book the poller writes (``BookManager.apply_snapshot``)."""


@dataclass(slots=True, kw_only=True)
class PolymarketPollStats:
    """Counters of one poller (plain ints).

    ``cycles``: passes over every token; ``polls``: books fetched and applied; ``stale``: books
    fetched but older than the one held (not applied); ``errors``: polls that failed, of which
    ``transport_errors`` (network, 5xx), ``rate_limited`` (429 after the client's retries),
    ``request_errors`` (other 4xx, e.g. 404 for a token without a book), ``decode_errors`` (bad
    body) and ``book_errors`` (the manager refused the book). ``last_error``: the latest message;
    ``last_poll_ns``: wall-clock receive time of the latest book applied (0: none yet).
    """

    cycles: int = 0
    polls: int = 0
    stale: int = 0
    last_poll_ns: int = 0
    errors: int = 0
    transport_errors: int = 0
    rate_limited: int = 0
    request_errors: int = 0
    decode_errors: int = 0
    book_errors: int = 0
    last_error: str = ""


class PolymarketPoller:
    """Polls Polymarket token books over the CLOB REST API into a :class:`BookManager`.

    Args:
        rest: an open :class:`PolymarketClobClient` (its limiters pace the requests).
        books: the manager the snapshots go to (source :data:`POLLED`, ``polled=True``).
        tokens: the token ids to poll (decimal strings).
        interval: seconds; a cycle starts at most this often.
        on_event: called with each :class:`BookSnapshot` after it is applied.
        on_raw: called with ``(request line, response body, ts_recv)`` of every poll, before
            decoding.
        give_up_after: cycles without a single book delivered (ever) after which :meth:`run`
            raises TransportError; ``None``: poll for ever.
        clock: monotonic seconds (injectable for tests).
        now_ns: wall clock, ns, for ``ts_recv`` (injectable for tests).
    """

    def __init__(
        self,
        rest: PolymarketClobClient,
        books: BookManager,
        tokens: list[str],
        *,
        interval: float = 1.0,
        on_event: Callable[[BookSnapshot], None] | None = None,
        on_raw: Callable[[str, bytes, int], None] | None = None,
        give_up_after: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.rest = rest
        self.books = books
        self.tokens = list(dict.fromkeys(tokens))
        self.interval = interval
        self.on_event = on_event
        self.on_raw = on_raw
        self.give_up_after = give_up_after
        self.stats = PolymarketPollStats()
        self.active = False
        """True while :meth:`run` polls."""
        self._clock = clock
        self._now_ns = now_ns

    async def poll(self, token: str) -> BookSnapshot | None:
        """Fetch, normalize and apply one token's book; return the snapshot (``None``: it was
        older than the book held, and dropped).

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError: from the request.
            BookError: the manager refused the book.
        """
        request, body = await self.rest.get_book_raw(token)
        ts_recv = self._now_ns()
        if self.on_raw is not None:
            self.on_raw(request, body, ts_recv)
        snap = normalize_rest_book(decode_book(body), ts_recv)
        if self.books.apply_snapshot(snap, source=POLLED, polled=True, in_order=True) == ApplyOutcome.STALE:
            self.stats.stale += 1
            return None
        self.stats.polls += 1
        self.stats.last_poll_ns = ts_recv
        if self.on_event is not None:
            self.on_event(snap)
        return snap

    async def poll_once(self, stop: asyncio.Event | None = None) -> None:
        """Poll every token once (stopping early when ``stop`` is set), counting failures.

        Raises:
            AuthError: the venue refused the request; polling cannot go on.
        """
        for token in self.tokens:
            if stop is not None and stop.is_set():
                return
            try:
                await self.poll(token)
            except AuthError:
                raise
            except (VenueError, BookError) as exc:
                self._failed(token, exc)
        self.stats.cycles += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Poll in cycles until ``stop`` is set (a request under way is abandoned then); a cycle
        starts at most once per ``interval``.

        Raises:
            AuthError: the venue refused the requests (every other failure is counted).
            TransportError: ``give_up_after`` cycles passed and not one book was delivered; the
                message names the last failure.
        """
        log.info("polymarket polling started", tokens=len(self.tokens), interval=self.interval)
        self.active = True
        empty_cycles = 0
        try:
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
        finally:
            self.active = False
        log.info("polymarket polling stopped", cycles=self.stats.cycles, polls=self.stats.polls)

    def _failed(self, token: str, exc: VenueError | BookError) -> None:
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
        stats.last_error = f"{token[:12]}…: {exc}" if len(token) > 16 else f"{token}: {exc}"
        if stats.errors <= _LOG_FIRST or stats.errors % _LOG_EVERY == 0:
            log.warning(
                "polymarket poll failed", token=token, error=str(exc), kind=type(exc).__name__, errors=stats.errors
            )
