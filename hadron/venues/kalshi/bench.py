"""``hadron bench live`` for Kalshi: the loopback set-up the harness (:mod:`hadron.bench.live`)
measures, a signed connection pool against ``hadron fake-venue kalshi`` playing a capture.
"""

from __future__ import annotations

import os
from pathlib import Path

from hadron.book.manager import BookManager
from hadron.errors import ConfigError
from hadron.venues.base import BenchClient, BenchPlan, DeadLetterSink, FeedStats
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.pool import KalshiPool
from hadron.venues.kalshi.ws import recorder_factory
from hadron.venues.loopback import free_port


def bench_plan(capture: Path, folder: Path) -> BenchPlan:
    """How ``hadron bench live`` measures Kalshi on ``capture`` (a Kalshi capture): the loopback
    venue checking a throwaway key (its public half written to ``folder``), the client signing
    with it: a ``hadron record``/``hadron run`` process given the key as a user gives it
    (``KALSHI_API_KEY_ID`` / ``KALSHI_PRIVATE_KEY_PATH``, the private half in ``folder``), or
    the pool path's :class:`~hadron.venues.kalshi.pool.KalshiPool` (recording when asked).
    Offline replay reads the capture itself.

    Raises:
        ConfigError: the capture holds no market.
    """
    private, private_pem, public_pem = generate_test_key()
    key, pub = folder / "bench.key", folder / "venue.pub"
    key.write_bytes(private_pem)
    key.chmod(0o600)
    pub.write_bytes(public_pem)
    port = free_port()
    url = f"ws://127.0.0.1:{port}/trade-api/ws/v2"
    tickers = sorted({e.ticker for e in load_capture([capture])})
    if not tickers:
        raise ConfigError(f"{capture}: no Kalshi market in the capture")

    def client(
        books: BookManager, *, stats: FeedStats, dead_letter: DeadLetterSink, record_to: Path | None
    ) -> BenchClient:
        return KalshiPool(
            url,
            [KalshiSigner("bench", private)],
            books,
            tickers,
            stats=stats,
            dead_letter=dead_letter,
            recorder=recorder_factory(record_to) if record_to is not None else None,
        )

    return BenchPlan(
        venue="kalshi",
        venue_args=["--capture", str(capture), "--port", str(port), "--public-key", str(pub)],
        url=url,
        env={**os.environ, "KALSHI_API_KEY_ID": "bench", "KALSHI_PRIVATE_KEY_PATH": str(key)},
        instruments=tickers,
        pair_market=tickers[0],
        key_path=key,
        client=client,
        counters=("seq_gaps",),
        records=True,
    )
