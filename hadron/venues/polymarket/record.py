"""``hadron record polymarket``: record the Polymarket market channel into Hadron recordings while
keeping books, with the freeze watchdog checking books over REST.

Reached through the venue adapter (:mod:`hadron.venues.polymarket.adapter`); nothing here is
imported by the core.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hadron.book.manager import BookManager
from hadron.config import load_config
from hadron.errors import ConfigError
from hadron.store.deadletter import DeadLetterFile
from hadron.store.recorder import Recordings
from hadron.venues.base import FeedStats
from hadron.venues.polymarket.live import market_metadata
from hadron.venues.polymarket.rest import (
    CLOB_URL,
    PolymarketClobClient,
)
from hadron.venues.polymarket.ws import MARKET_URL, PolymarketPool
from hadron.venues.signals import stop_on_signals


async def record(
    *,
    markets: Sequence[str],
    out: Path,
    duration: float | None,
    url: str | None = None,
    rest_url: str | None = None,
    gamma_url: str | None = None,
    freeze_window: float | None = None,
    store: str | None = None,
    stop: asyncio.Event | None = None,
    config: Path | None = None,
    transport: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Record the market channel for token ids ``markets`` into ``out`` while keeping books, with
    the freeze watchdog checking ``GET /book`` on ``rest_url``.

    ``url``, ``rest_url``, ``gamma_url`` and ``freeze_window`` default to the ``[polymarket]``
    settings of ``config`` (``--config``, ``$HADRON_CONFIG`` or ``./hadron.toml``; Polymarket's
    hosts without one). Market metadata from Gamma (``gamma_url``; ``""`` skips it) keeps each
    market's YES and NO tokens on one connection and lets every ``book`` hash be verified; without
    it the books are kept all the same, unverified. ``transport`` may be ``auto`` or ``ws``: a
    recording of Polymarket is the market channel's frames (``rest`` is refused).

    Returns a summary (frames, books, connection counters, files). ``failure`` is ``None``, or
    one line saying why the recording failed: a storage fault (``ENOSPC``… while writing a file:
    the recording stops at once, its files closed and marked in the manifest,
    ``recording_error`` says which), or no frame before the end.

    Raises:
        ConfigError: a token id is not a decimal string.
        VenueError: the market channel refused the connection for good.
    """
    bad = [t for t in markets if not t.isdigit()]
    if bad:
        raise ConfigError(f"--markets: Polymarket token ids are decimal strings, not {', '.join(bad[:3])}")
    if transport not in (None, "auto", "ws"):
        raise ConfigError(f"--transport {transport}: a Polymarket recording is the market channel's; use auto or ws")
    settings = load_config(config).polymarket
    url = url or settings.ws_url
    rest_url = rest_url or settings.rest_url
    gamma_url = settings.gamma_url if gamma_url is None else gamma_url
    freeze_window = float(settings.freeze_window_s) if freeze_window is None else freeze_window
    books = BookManager()
    stats = FeedStats()
    dead_letter = DeadLetterFile(out / "deadletter.ndjson")
    ticks = None
    if store:
        from hadron.store.parquet import ParquetTickStore, parse_store_url  # the [parquet] extra

        ticks = ParquetTickStore(parse_store_url(store))
    stop = stop or asyncio.Event()
    recordings = Recordings(out, "polymarket", on_error=lambda _: stop.set())  # a storage fault ends the recording
    stop_on_signals(stop)
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    started = time.monotonic()
    meta, groups = await market_metadata(gamma_url or None, markets)
    async with PolymarketClobClient(rest_url or CLOB_URL) as clob:
        pool = PolymarketPool(
            url or MARKET_URL,
            books,
            list(markets),
            groups=groups,
            meta=meta,
            stats=stats,
            dead_letter=dead_letter,
            recorder=recordings,
            on_event=ticks.on_event if ticks is not None else None,
            rest=clob,
            freeze_window=freeze_window,
        )
        try:
            await pool.run(stop)
        finally:
            dead_letter.close()
            if ticks is not None:
                ticks.close()
    elapsed = time.monotonic() - started
    if recordings.error is not None:
        failure: str | None = f"storage fault, recording stopped: {recordings.error}"
    else:
        failure = None if stats.frames else _nothing_recorded(pool, elapsed)
    return {
        "store": {"url": store, "rows": ticks.rows} if ticks is not None else None,
        "frames": stats.frames,
        "frames_per_s": round(stats.frames / elapsed) if elapsed > 0 else 0,
        "frames_by_type": dict(sorted(stats.frames_by_type.items())),
        "passed_on": stats.passed_on,
        "unconsumed": stats.unconsumed,
        "decode_errors": stats.decode_errors,
        "books": len(books),
        "books_synced": sum(1 for b in books if b.ever_live),
        "books_polled": 0,
        "resyncs": books.stats.resyncs,
        "bbo_checks": books.stats.bbo_checks,
        "bbo_mismatches": books.stats.bbo_mismatches,
        "hash_checks": stats.hash_checks,
        "hash_mismatches": stats.hash_mismatches,
        "pool": pool.report(),
        "fallback": None,
        "failure": failure,
        "recording_error": str(recordings.error) if recordings.error is not None else None,
        "files": sorted(str(p) for p in (out / "polymarket").glob("*.ndjson.zst")),
        "elapsed_s": round(elapsed, 3),
    }


def _nothing_recorded(pool: PolymarketPool, elapsed: float) -> str:
    # One line: why the market channel delivered nothing
    errors = [c.stats.last_error for c in pool.connections if c.stats.last_error]
    cause = errors[0] if errors else "no connection"
    return f"no frame in {elapsed:.0f} s: the market channel delivered nothing ({cause})"
