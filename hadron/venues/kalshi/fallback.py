"""The REST polling fallback of a Kalshi feed: polling orderbooks over REST when the WebSocket is
unusable (or chosen: ``transport = "rest"``), with the key pool and the recording of responses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import structlog

from hadron.book.manager import BookManager
from hadron.errors import AuthError, RecordingError, RequestError, TransportError, VenueError
from hadron.store.recorder import FrameRecorder
from hadron.venues.base import EventSink, FeedStats
from hadron.venues.kalshi.auth import KalshiSigner, mask_key_id
from hadron.venues.kalshi.poll import KalshiPoller, KalshiPollStats
from hadron.venues.kalshi.pool import KalshiPool
from hadron.venues.kalshi.rest import KalshiRestClient

log = structlog.get_logger("hadron.kalshi.fallback")


FALLBACK_GIVE_UP_CYCLES = 5
"""A live feed's REST fallback that has not delivered a single book in this many polling cycles
fails for good (see :class:`KalshiPoller`'s ``give_up_after``)."""


async def stream_or_poll(transport: str, pool: KalshiPool, polling: KalshiRestPolling, stop: asyncio.Event) -> str:
    """Stream over ``pool`` and, per ``transport``, fall back to ``polling`` when the pool gives
    up (``auto``), or poll only (``rest``), until ``stop``; return why the socket was given up
    (``""``: it was not).

    Raises:
        AuthError, RequestError, TransportError: the socket failed for good with ``ws``; or, with
            ``auto``, the socket and then the fallback failed (one line naming both: an
            AuthError when either refused the key).
    """
    fallback = ""
    if transport != "rest":
        try:
            await pool.run(stop)
        except (AuthError, RequestError, TransportError) as exc:
            if transport == "ws" or stop.is_set():
                raise
            fallback = polling.reason = str(exc)
            log.warning("kalshi WebSocket unusable: polling REST instead", error=fallback)
            refused = {c.signer.key_id for c in pool.connections if c.signer and isinstance(c.fatal, AuthError)}
            polling.signers.sort(key=lambda signer: signer.key_id in refused)  # keys the socket took first
    if transport == "rest" or fallback:
        try:
            await polling.run(stop)
        except VenueError as exc:
            if not fallback:
                raise
            kind = AuthError if "refused" in fallback or isinstance(exc, AuthError) else TransportError
            raise kind(f"{fallback}; the REST fallback failed too: {exc}") from exc
    return fallback


class KalshiRestPolling:
    """The REST polling fallback of a Kalshi feed (or of ``hadron record``): a :class:`KalshiPoller`
    signed by the first key of ``signers`` REST accepts (a refused key passes to the next).

    Every response counts as a frame in ``stats`` (``rest_orderbook``) and, with ``record_dir``,
    is recorded as a REST line of connection ``kalshi-rest`` (``hadron replay`` reads it back as
    a polled snapshot); each book goes to ``books`` (polled) and to ``on_event``.

    Args:
        url: the REST base URL (``…/trade-api/v2``).
        signers: the key pool, in order of preference.
        rate_tier: the REST token-bucket tier.
        books / markets: where the books go, and the market tickers to poll.
        interval: seconds; a cycle starts at most this often.
        give_up_after: cycles without any book after which :meth:`run` fails (``None``: never).
        max_retries: retries of one request (the next cycle is a retry too).
        on_record_error: called once when recording a response meets a storage fault
            (:class:`~hadron.errors.RecordingError`): recording stops, polling goes on.
    """

    name = "kalshi-rest"

    def __init__(
        self,
        url: str,
        signers: Sequence[KalshiSigner],
        rate_tier: str,
        books: BookManager,
        markets: list[str],
        *,
        interval: float,
        stats: FeedStats,
        record_dir: Path | None = None,
        on_event: EventSink | None = None,
        give_up_after: int | None = None,
        max_retries: int = 2,
        on_record_error: Callable[[RecordingError], None] | None = None,
    ) -> None:
        self.url = url
        self.signers = list(signers)
        self.rate_tier = rate_tier
        self.books = books
        self.markets = markets
        self.interval = interval
        self.feed_stats = stats
        self.record_dir = record_dir
        self.on_event = on_event
        self.give_up_after = give_up_after
        self.max_retries = max_retries
        self.on_record_error = on_record_error
        self.record_error: RecordingError | None = None
        """The storage fault that stopped recording the responses (polling went on)."""
        self.stats = KalshiPollStats()
        self.ran = False
        self.active = False
        self.key = ""
        """The key id polling now (or last), masked."""
        self.reason = ""
        """Why it polls instead of streaming (the socket's failure; ``""``: polling was chosen)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``.

        Raises:
            AuthError: REST refused every key (one line naming each, masked).
            TransportError: ``give_up_after`` cycles delivered no book (naming the last failure).
        """
        self.ran = self.active = True
        recorder = FrameRecorder(self.record_dir, "kalshi", self.name) if self.record_dir is not None else None
        feed_stats = self.feed_stats

        def keep(request: str, body: bytes, ts_recv: int) -> None:
            feed_stats.frames += 1
            feed_stats.count("rest_orderbook")
            if recorder is not None and recorder.error is None:
                try:
                    recorder.write(ts_recv, body, request)
                except RecordingError as exc:
                    self._record_failed(exc)

        refusals: list[str] = []
        try:
            for signer in self.signers:
                self.key = mask_key_id(signer.key_id)
                try:
                    async with KalshiRestClient(
                        self.url, signer=signer, rate_tier=self.rate_tier, max_retries=self.max_retries
                    ) as rest:
                        poller = KalshiPoller(
                            rest, self.books, self.markets, interval=self.interval, on_event=self.on_event,
                            on_raw=keep, give_up_after=self.give_up_after, stats=self.stats,
                        )  # fmt: skip
                        await poller.run(stop)
                    return
                except AuthError as exc:
                    refusals.append(f"key {self.key}: {exc}")
                    log.warning("kalshi REST refused a key", key=self.key, error=str(exc))
            raise AuthError(f"Kalshi refused every key on REST ({'; '.join(refusals)})")
        finally:
            self.active = False
            if recorder is not None:
                try:
                    recorder.close()
                except RecordingError as exc:
                    self._record_failed(exc)

    def _record_failed(self, exc: RecordingError) -> None:
        # a storage fault while recording a response: recording stops (the file is closed), polling goes on
        if self.record_error is None:
            self.record_error = exc
            if self.on_record_error is not None:
                self.on_record_error(exc)

    def health(self) -> dict[str, Any]:
        """This fallback as one entry of a feed's ``connections`` (see ``LiveFeed.health``):
        connected while it polls and has delivered a book; ``frames`` = books polled."""
        stats = self.stats
        return {
            "name": self.name,
            "connected": self.active and stats.polls > 0,
            "frames": stats.polls,
            "last_frame_ns": stats.last_poll_ns,
            "reconnects": 0,
            "markets": len(self.markets),
            "last_error": stats.last_error,
            "key": self.key,
            "transport": "rest",
        }
