"""The runtime's Kalshi feed (:class:`~hadron.venues.base.LiveFeed`) and the REST reads a live run
makes: settled markets' results and events' fee rules.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import structlog

from hadron.book.manager import BookManager
from hadron.config import HadronConfig
from hadron.errors import ConfigError, VenueError
from hadron.model.fees import FeeRule
from hadron.store.recorder import Recordings, mark_health
from hadron.venues.base import AccountSink, DeadLetterSink, EventSink, FeedStats, VenueSink
from hadron.venues.kalshi.account import account_hook
from hadron.venues.kalshi.auth import KalshiSigner, hosts_for, load_signers, mask_key_id
from hadron.venues.kalshi.fallback import FALLBACK_GIVE_UP_CYCLES, KalshiRestPolling, stream_or_poll
from hadron.venues.kalshi.indices import index_subscriptions, references
from hadron.venues.kalshi.pool import KalshiPool
from hadron.venues.kalshi.rest import KalshiRestClient, KalshiSeries
from hadron.venues.kalshi.ws import DEFAULT_CHANNELS, PRIVATE_CHANNELS
from hadron.venues.session import pool_health

log = structlog.get_logger("hadron.kalshi.live")


class KalshiLiveFeed:
    """The runtime's Kalshi feed (a :class:`~hadron.venues.base.LiveFeed`): a :class:`KalshiPool`
    over every key of the pool (at least one connection each) and, per ``transport``, the REST
    polling fallback (:class:`KalshiRestPolling`) when the socket is unusable.

    A refused key fails only its own connections; their markets move to the others and the feed
    goes on. The feed fails for good (:meth:`run` raises) only when every source failed. A
    storage fault while recording (``recordings``) stops the recording only: the feed goes on,
    DEGRADED (see :meth:`health`).
    """

    venue = "kalshi"

    def __init__(
        self,
        pool: KalshiPool,
        stats: FeedStats,
        polling: KalshiRestPolling,
        transport: str = "auto",
        recordings: Recordings | None = None,
    ) -> None:
        self.pool = pool
        self.stats = stats
        self.polling = polling
        self.transport = transport
        self.recordings = recordings
        self.references: dict[str, list[str]] = {}
        """Market ticker → instrument ids of its reference prices (``kalshi:index:<id>``, see
        :func:`hadron.venues.kalshi.indices.references`): the dashboard shows them beside its pair."""

    async def run(self, stop: asyncio.Event) -> None:
        """Stream (and, per ``transport``, poll) until ``stop`` (see :func:`stream_or_poll`).

        Raises:
            AuthError: every key was refused (WebSocket and REST); the message says so.
            RequestError / TransportError: every source failed for good (named in one line).
        """
        await stream_or_poll(self.transport, self.pool, self.polling, stop)

    def health(self) -> dict[str, Any]:
        """Per-connection health for the dashboard and metrics (each entry with its ``key``,
        masked; the REST fallback as a ``kalshi-rest`` entry once it ran), ``keys``: per key, its
        connections (see :meth:`KalshiPool.keys`), and ``status`` (``"ok"``; ``"degraded"`` with
        ``recording_error`` after a storage fault stopped the recording: see
        :func:`~hadron.store.recorder.mark_health`)."""
        health = pool_health(self.pool.connections, shard="markets")
        for entry, conn in zip(health["connections"], self.pool.connections, strict=True):
            entry["key"] = mask_key_id(conn.signer.key_id) if conn.signer is not None else ""
        if self.polling.ran:
            health["connections"].append(self.polling.health())
        health["keys"] = self.pool.keys()
        health["fallback"] = self.polling.reason or None
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
) -> KalshiLiveFeed:
    """The runtime's Kalshi feed for market tickers ``instruments`` (see :class:`KalshiLiveFeed`):
    ``kalshi.transport``, every key of the pool (:func:`load_signers`), ``max(kalshi.connections,
    number of keys)`` connections, REST polling every ``kalshi.poll_interval_s`` when it falls back.
    With ``on_account`` and ``kalshi.account`` the connections also subscribe the private channels
    (:data:`~hadron.venues.kalshi.ws.PRIVATE_CHANNELS`, for the shard's markets) and hand each
    private message, normalized (:mod:`hadron.venues.kalshi.account`), to ``on_account``.

    Raises:
        ConfigError: missing or unreadable credentials (one line naming the setting).
    """
    kalshi = config.kalshi
    signers = load_signers(kalshi)
    stats = FeedStats()
    hosts = hosts_for(kalshi)
    recordings = Recordings(record_dir, "kalshi") if record_dir is not None else None
    channels = [*DEFAULT_CHANNELS, "market_lifecycle_v2"]  # results settle paper positions
    private = None
    if on_account is not None and kalshi.account and signers:
        channels += PRIVATE_CHANNELS  # the signed connections carry our own orders, fills, positions
        private = account_hook(on_account)
    pool = KalshiPool(
        hosts.ws,
        signers,
        books,
        list(instruments),
        connections=max(kalshi.connections, len(signers)),
        max_markets_per_connection=kalshi.max_markets_per_connection,
        give_up_after=5 if kalshi.transport == "auto" else None,
        stats=stats,
        dead_letter=dead_letter,
        recorder=recordings,
        on_event=on_event,
        on_venue=on_venue,
        channels=channels,
        on_private=private,
        indices=index_subscriptions(kalshi.index_prices, instruments),  # reference prices (IndexPrice)
    )
    polling = KalshiRestPolling(
        hosts.rest,
        signers,
        kalshi.rate_tier,
        books,
        list(instruments),
        interval=kalshi.poll_interval_s,
        stats=stats,
        record_dir=record_dir,
        on_record_error=recordings.failed if recordings is not None else None,
        on_event=on_event,
        give_up_after=FALLBACK_GIVE_UP_CYCLES,
    )
    feed = KalshiLiveFeed(pool, stats, polling, kalshi.transport, recordings)
    feed.references = references(kalshi.index_prices, instruments)
    return feed


async def market_results(tickers: list[str], *, config: HadronConfig) -> dict[str, str]:
    """Each market's result from REST (``GET /markets/{ticker}``): ``{ticker: "yes" | "no"}`` for
    the markets that have one (undetermined and voided markets are left out).

    Raises:
        ConfigError: missing credentials. VenueError: REST kept failing for a market.
    """
    kalshi = config.kalshi
    out: dict[str, str] = {}
    signer = load_signers(kalshi)[0]
    async with KalshiRestClient(hosts_for(kalshi).rest, signer=signer, rate_tier=kalshi.rate_tier) as rest:
        for ticker in tickers:
            market = await rest.get_market(ticker)
            if market.result in ("yes", "no"):
                out[ticker] = market.result
    return out


async def fee_rules(events: list[str], *, config: HadronConfig, transport: Any = None) -> list[FeeRule]:
    """The fee rules of Kalshi ``events`` from REST, each event and series fetched once through
    one rate-limited client: per event its ``base`` rule (``GET /series/{series_ticker}`` →
    ``fee_type``/``fee_multiplier``) and its ``override`` when set (``GET /events/{event_ticker}``
    → ``fee_type_override``/``fee_multiplier_override``).

    Not read (nothing returned) when ``kalshi.ws_url`` is set without ``kalshi.rest_url``: a
    venue of its own (a loopback one) that serves no REST.

    Public endpoints: signed with the first key of the pool when one is configured, else unsigned.
    An event (or series) REST could not give is left out: one warning line names them all (their
    markets keep the pairs file's terms). ``transport``: an httpx transport (tests).

    Raises:
        ConfigError: a bad ``kalshi.rate_tier``.
    """
    kalshi = config.kalshi
    if kalshi.ws_url and not kalshi.rest_url:  # a venue of its own (a loopback one) without REST
        log.info("kalshi fee rules not read: kalshi.ws_url is set without kalshi.rest_url", events=len(events))
        return []
    try:
        signer: KalshiSigner | None = load_signers(kalshi)[0]
    except ConfigError:
        signer = None  # the series and event records are public
    rules: list[FeeRule] = []
    failed: dict[str, str] = {}
    series_of: dict[str, KalshiSeries | None] = {}
    wanted = list(dict.fromkeys(events))
    async with KalshiRestClient(
        hosts_for(kalshi).rest, signer=signer, rate_tier=kalshi.rate_tier, transport=transport
    ) as rest:
        for event_ticker in wanted:
            try:
                event = await rest.get_event(event_ticker, with_nested_markets=False)
                series_ticker = event.series_ticker or event_ticker.split("-", 1)[0]
                if series_ticker not in series_of:
                    try:
                        series_of[series_ticker] = await rest.get_series(series_ticker)
                    except (VenueError, OSError) as exc:
                        series_of[series_ticker] = None
                        failed[f"series:{series_ticker}"] = str(exc)
            except (VenueError, OSError) as exc:
                failed[event_ticker] = str(exc)
                continue
            series = series_of[series_ticker]
            if series is None:
                failed.setdefault(event_ticker, f"series {series_ticker} not available")
            else:
                rules.append(
                    FeeRule(
                        "kalshi",
                        event_ticker,
                        "base",
                        series.fee_type,
                        series.fee_multiplier,
                        f"series:{series.ticker}",
                    )
                )
            if event.fee_type_override is not None or event.fee_multiplier_override is not None:
                rules.append(
                    FeeRule(
                        "kalshi",
                        event_ticker,
                        "override",
                        event.fee_type_override,
                        event.fee_multiplier_override,
                        f"event:{event_ticker}",
                    )
                )
    if failed:
        first = next(iter(failed.items()))
        log.warning(
            "kalshi fee rules not available: those markets keep the pairs file's terms",
            failed=len(failed),
            of=len(wanted),
            keys=sorted(failed)[:20],
            error=f"{first[0]}: {first[1]}",
        )
    return rules
