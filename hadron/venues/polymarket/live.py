"""The runtime's Polymarket feed (:class:`~hadron.venues.base.LiveFeed`: market channel, REST
polling fallback, user channel) and the market metadata it reads from Gamma.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from hadron.book.manager import BookManager
from hadron.config import HadronConfig
from hadron.errors import AuthError, ConfigError, HadronError, RequestError, TransportError, VenueError
from hadron.store.recorder import Recordings, mark_health
from hadron.venues.base import AccountSink, DeadLetterSink, EventSink, FeedStats, VenueSink
from hadron.venues.polymarket.poll import PolymarketPoller
from hadron.venues.polymarket.rest import (
    PolymarketClobClient,
    PolymarketGammaClient,
    PolymarketInstrumentProvider,
)
from hadron.venues.polymarket.stream import MarketMeta
from hadron.venues.polymarket.user import PolymarketUserChannel
from hadron.venues.polymarket.ws import PolymarketPool
from hadron.venues.session import pool_health

log = structlog.get_logger("hadron.polymarket.live")


async def market_metadata(gamma_url: str | None, tokens: Sequence[str]) -> tuple[MarketMeta | None, dict[str, str]]:
    """The markets of ``tokens`` from Gamma (``gamma_url``; ``None``: not read): ``(meta, groups)``,
    ``meta`` the token's ``(min_order_size, neg_risk)`` for book hash checks (``None`` when not
    read) and ``groups`` token id → its market's condition id. A Gamma failure gives
    ``(None, {})`` and one warning line: book hashes are then not verified."""
    if gamma_url is None:
        return None, {}
    try:
        async with PolymarketGammaClient(gamma_url, max_retries=1, timeout=5.0) as gamma:
            provider = PolymarketInstrumentProvider(gamma)
            instruments = await provider.load(token_ids=list(tokens))
    except VenueError as exc:
        log.warning("no market metadata from Gamma: book hashes will not be verified", error=str(exc))
        return None, {}
    groups = {token: cid for cid, inst in instruments.items() for token in inst.token_ids}
    return provider.meta, groups


FALLBACK_GIVE_UP_CYCLES = 5
"""A live feed's REST fallback that has not delivered a single book in this many polling cycles
fails for good (see :class:`PolymarketPoller`'s ``give_up_after``)."""


class PolymarketLiveFeed:
    """The runtime's Polymarket feed (a :class:`~hadron.venues.base.LiveFeed`): a
    :class:`PolymarketPool` with the freeze watchdog on the CLOB REST ``/book`` and, per
    ``polymarket.transport``, the REST polling fallback (:class:`PolymarketPoller` over ``GET
    /book`` for every token, every ``polymarket.poll_interval_s``) when the market channel is
    unusable (``auto``: its handshake refused for good, or every connection failing 5 dials in a
    row), or polling only (``rest``).

    Polled books are not recorded (``hadron replay`` reads no Polymarket REST responses); they go
    to the books (marked polled) and to ``on_event``. A storage fault while recording stops the
    recording only: the feed goes on, DEGRADED (see :meth:`health`).
    """

    venue = "polymarket"

    def __init__(self, books: BookManager, tokens: list[str], config: HadronConfig, **kwargs: Any) -> None:
        self.books = books
        self.tokens = tokens
        self.config = config.polymarket
        self.stats = FeedStats()
        self.kwargs = kwargs
        recorder = kwargs.get("recorder")
        self.recordings: Recordings | None = recorder if isinstance(recorder, Recordings) else None
        self.pool: PolymarketPool | None = None
        self.poller: PolymarketPoller | None = None
        self.fallback = ""
        """Why the market channel was given up for REST polling (``""``: it was not)."""
        self.user: PolymarketUserChannel | None = None
        """The authenticated user channel (our orders and trades), when credentials are set."""

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch metadata (when a Gamma host is set), then stream (and, per ``transport``, poll)
        until ``stop``.

        Raises:
            AuthError / RequestError / TransportError: every source failed for good: the market
                channel (with ``ws``), or the channel and then the REST fallback (one line naming
                both), or REST polling alone (with ``rest``).
        """
        user = asyncio.create_task(self._user(stop)) if self.user is not None else None
        try:
            await self._run(stop)
        finally:
            if user is not None:
                user.cancel()
                await asyncio.gather(user, return_exceptions=True)

    async def _user(self, stop: asyncio.Event) -> None:
        # The user channel beside the market data: a failure is logged, never the feed's end
        assert self.user is not None
        try:
            await self.user.run(stop)
        except HadronError as exc:
            log.error("polymarket user channel failed: account events stop", error=str(exc))

    async def _run(self, stop: asyncio.Event) -> None:
        cfg = self.config
        transport = cfg.transport
        meta, groups = await market_metadata(cfg.gamma_url or None, self.tokens) if transport != "rest" else (None, {})
        async with PolymarketClobClient(cfg.rest_url) as clob:
            if transport != "rest":
                self.pool = PolymarketPool(
                    cfg.ws_url,
                    self.books,
                    self.tokens,
                    groups=groups,
                    meta=meta,
                    stats=self.stats,
                    rest=clob,
                    freeze_window=float(cfg.freeze_window_s),
                    give_up_after=5 if transport == "auto" else None,
                    **self.kwargs,
                )
                try:
                    await self.pool.run(stop)
                except (AuthError, RequestError, TransportError) as exc:
                    if transport == "ws" or stop.is_set():
                        raise
                    self.fallback = str(exc)
                    log.warning("polymarket market channel unusable: polling REST instead", error=self.fallback)
        if transport == "rest" or self.fallback:
            try:
                await self._poll(stop)
            except VenueError as exc:
                if not self.fallback:
                    raise
                kind = AuthError if isinstance(exc, AuthError) else TransportError
                raise kind(f"{self.fallback}; the REST fallback failed too: {exc}") from exc

    async def _poll(self, stop: asyncio.Event) -> None:
        on_event = self.kwargs.get("on_event")
        stats = self.stats

        def count(request: str, body: bytes, ts_recv: int) -> None:
            stats.frames += 1
            stats.count("rest_book")

        async with PolymarketClobClient(self.config.rest_url, max_retries=2) as clob:
            self.poller = PolymarketPoller(
                clob,
                self.books,
                self.tokens,
                interval=self.config.poll_interval_s,
                on_event=on_event,
                on_raw=count,
                give_up_after=FALLBACK_GIVE_UP_CYCLES,
            )
            await self.poller.run(stop)

    def health(self) -> dict[str, Any]:
        """Per-connection health for the dashboard and metrics; the REST fallback, once it ran,
        is a ``polymarket-rest`` entry (connected while it polls and has delivered a book;
        ``frames`` = books polled); ``status`` (``"ok"``; ``"degraded"`` with ``recording_error``
        after a storage fault stopped the recording: :func:`~hadron.store.recorder.mark_health`)."""
        pool = self.pool
        health = (
            pool_health([], shard="tokens")
            if pool is None
            else pool_health(pool.connections, shard="tokens", frozen=pool.freeze.frozen)
        )
        poller = self.poller
        if poller is not None:
            stats = poller.stats
            health["connections"].append(
                {
                    "name": "polymarket-rest",
                    "connected": poller.active and stats.polls > 0,
                    "frames": stats.polls,
                    "last_frame_ns": stats.last_poll_ns,
                    "reconnects": 0,
                    "tokens": len(poller.tokens),
                    "last_error": stats.last_error,
                    "transport": "rest",
                }
            )
        health["fallback"] = self.fallback or None
        if self.user is not None:
            health["user"] = self.user.health()
        return mark_health(health, self.recordings)


def live_feed(
    books: BookManager,
    instruments: list[str],
    *,
    config: HadronConfig,
    on_event: EventSink | None = None,
    record_dir: Path | None = None,
    dead_letter: DeadLetterSink | None = None,
    on_venue: VenueSink | None = None,
    on_account: AccountSink | None = None,
) -> PolymarketLiveFeed:
    """The runtime's Polymarket feed for token ids ``instruments`` (see :class:`PolymarketLiveFeed`).
    ``on_venue`` takes venue-native messages (none from the market channel yet); with
    ``on_account``, ``polymarket.account`` and the three ``polymarket.api_*`` credentials the feed also
    reads the user channel (:class:`~hadron.venues.polymarket.user.PolymarketUserChannel`).

    Raises:
        ConfigError: a token id is not a decimal string.
    """
    bad = [t for t in instruments if not t.isdigit()]
    if bad:
        raise ConfigError(f"Polymarket token ids are decimal strings, not {', '.join(bad[:3])}")
    feed = PolymarketLiveFeed(
        books,
        list(instruments),
        config,
        dead_letter=dead_letter,
        recorder=Recordings(record_dir, "polymarket") if record_dir is not None else None,
        on_event=on_event,
    )
    pm = config.polymarket
    if on_account is not None and pm.account and pm.has_credentials:
        feed.user = PolymarketUserChannel(
            pm.user_ws_url,
            pm.api_key.reveal(),
            pm.api_secret.reveal(),
            pm.api_passphrase.reveal(),
            on_account,
            dead_letter=dead_letter,
        )
    return feed
