"""``hadron record kalshi``: record live Kalshi frames (WebSocket pool, REST polling fallback) into
Hadron recordings while keeping books.

Reached through the venue adapter (:mod:`hadron.venues.kalshi.adapter`); nothing here is imported
by the core.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hadron.book.manager import BookManager
from hadron.config import TRANSPORTS, load_config
from hadron.errors import ConfigError
from hadron.store.deadletter import DeadLetterFile
from hadron.store.recorder import Recordings
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.auth import hosts_for, load_signers
from hadron.venues.kalshi.fallback import KalshiRestPolling, stream_or_poll
from hadron.venues.kalshi.indices import index_subscriptions
from hadron.venues.kalshi.pool import KalshiPool
from hadron.venues.kalshi.ws import COMMUNICATIONS_CHANNELS, PRIVATE_CHANNELS, PUBLIC_CHANNELS, TICKER_CHANNELS
from hadron.venues.signals import stop_on_signals


def check_channels(channels: Sequence[str]) -> list[str]:
    """Validate channel names.

    Raises:
        ConfigError: an unknown channel, naming the known ones.
    """
    known = (*PUBLIC_CHANNELS, *PRIVATE_CHANNELS, *COMMUNICATIONS_CHANNELS)
    bad = [c for c in channels if c not in known]
    if bad:
        raise ConfigError(f"--channels: unknown {', '.join(bad)} (known: {', '.join(known)})")
    return list(channels)


async def record(
    *,
    markets: Sequence[str],
    out: Path,
    channels: Sequence[str],
    duration: float | None,
    config: Path | None = None,
    url: str | None = None,
    rest_url: str | None = None,
    transport: str | None = None,
    connections: int | None = None,
    poll_interval: float | None = None,
    store: str | None = None,
    stop: asyncio.Event | None = None,
    gamma_url: str | None = None,
) -> dict[str, Any]:
    """Record Kalshi frames for ``markets`` into ``out`` (Hadron recordings) while keeping books,
    until ``duration`` seconds pass, ``stop`` is set, or SIGINT/SIGTERM.

    ``transport`` (default ``kalshi.transport``): ``ws`` streams over the WebSocket; ``rest``
    polls orderbooks over REST within the rate budget (recorded as REST responses; books are
    marked polled) every ``poll_interval`` seconds (default ``kalshi.poll_interval_s``); ``auto``
    streams and falls back to polling when the WebSocket cannot be used (handshake refused, or
    every connection failing 5 times in a row). Every key of the pool (:func:`load_signers`)
    signs: at least one connection each.

    Returns a summary (frames, books, connection, key and poll counters, files). ``failure`` is
    ``None``, or one line saying why the recording failed: a storage fault (``ENOSPC``… while
    writing a file: the recording stops at once, its files closed and marked in the manifest,
    ``recording_error`` says which), or nothing recorded (every source tried delivered no frame
    before the end: a fallback that never delivered is a failure too).

    Raises:
        ConfigError: missing or unreadable credentials (one line naming the variable), or a bad
            option.
        AuthError: Kalshi (or the loopback venue) refused the key on every transport tried (the
            message says so, naming both refusals).
    """
    if gamma_url is not None:
        raise ConfigError("--gamma-url is Polymarket's metadata host: not an option of a Kalshi recording")
    cfg = load_config(config)
    kalshi = cfg.kalshi
    transport = transport or kalshi.transport
    if transport not in TRANSPORTS:
        raise ConfigError(f"--transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
    channels = check_channels(channels)
    if not markets and (transport == "rest" or any(c in TICKER_CHANNELS for c in channels)):
        raise ConfigError(
            "--markets: give at least one market ticker (only firehose channels such as communications need none)"
        )
    signers = load_signers(kalshi)
    hosts = hosts_for(kalshi)
    books = BookManager()
    stats = FeedStats()
    dead_letter = DeadLetterFile(out / "deadletter.ndjson")
    ticks = None
    if store:
        from hadron.store.parquet import ParquetTickStore, parse_store_url  # the [parquet] extra

        ticks = ParquetTickStore(parse_store_url(store))
    on_event = ticks.on_event if ticks is not None else None
    stop = stop or asyncio.Event()
    recordings = Recordings(out, "kalshi", on_error=lambda _: stop.set())  # a storage fault ends the recording
    pool = KalshiPool(
        url or hosts.ws,
        signers,
        books,
        list(markets),
        connections=connections or max(kalshi.connections, len(signers)),
        max_markets_per_connection=kalshi.max_markets_per_connection,
        give_up_after=5 if transport == "auto" else None,
        channels=check_channels(channels),
        indices=index_subscriptions(kalshi.index_prices, markets),  # recorded with the books
        stats=stats,
        dead_letter=dead_letter,
        recorder=recordings,
        on_event=on_event,
    )
    polling = KalshiRestPolling(
        rest_url or hosts.rest,
        signers,
        kalshi.rate_tier,
        books,
        list(markets),
        interval=poll_interval or kalshi.poll_interval_s,
        stats=stats,
        record_dir=out,
        on_record_error=recordings.failed,
        on_event=on_event,
    )
    stop_on_signals(stop)
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    started = time.monotonic()
    try:
        fallback = await stream_or_poll(transport, pool, polling, stop)
    finally:
        dead_letter.close()
        if ticks is not None:
            ticks.close()
    elapsed = time.monotonic() - started
    if recordings.error is not None:
        failure: str | None = f"storage fault, recording stopped: {recordings.error}"
    else:
        failure = None if stats.frames else _nothing_recorded(transport, pool, polling, fallback, elapsed)
    return {
        "store": {"url": store, "rows": ticks.rows} if ticks is not None else None,
        "frames": stats.frames,
        "frames_per_s": round(stats.frames / elapsed) if elapsed > 0 else 0,
        "frames_by_type": dict(sorted(stats.frames_by_type.items())),
        "passed_on": stats.passed_on,
        "unconsumed": stats.unconsumed,
        "decode_errors": stats.decode_errors,
        "seq_gaps": stats.seq_gaps,
        "books": len(books),
        "books_synced": sum(1 for b in books if b.ever_live),
        "books_polled": sum(1 for b in books if b.polled),
        "resyncs": books.stats.resyncs,
        "deltas_dropped": books.stats.deltas_dropped,
        "pool": pool.report(),
        "fallback": fallback or None,
        "polling": asdict(polling.stats) if polling.ran else None,
        "failure": failure,
        "recording_error": str(recordings.error) if recordings.error is not None else None,
        "files": sorted(str(p) for p in (out / "kalshi").glob("*.ndjson.zst")),
        "elapsed_s": round(elapsed, 3),
    }


def _nothing_recorded(
    transport: str, pool: KalshiPool, polling: KalshiRestPolling, fallback: str, elapsed: float
) -> str:
    # One line: why every source tried delivered nothing
    causes = []
    if fallback:
        causes.append(f"the WebSocket was unusable ({fallback})")
    elif transport != "rest":
        errors = [c.stats.last_error for c in pool.connections if c.stats.last_error]
        causes.append(f"the WebSocket delivered nothing ({errors[0] if errors else 'no connection'})")
    if polling.ran:
        causes.append(f"REST polling delivered no order book ({polling.stats.last_error or 'no answer'})")
    return f"no frame in {elapsed:.0f} s: " + "; ".join(causes)
