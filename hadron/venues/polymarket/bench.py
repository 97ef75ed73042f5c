"""``hadron bench live`` for Polymarket: the loopback set-up the harness
(:mod:`hadron.bench.live`) measures, a market-channel connection pool against
``hadron fake-venue polymarket`` playing a capture (a Kalshi capture is transcoded into the market
channel).
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from hadron.book.manager import BookManager
from hadron.errors import ConfigError
from hadron.store.reader import LineReader
from hadron.venues.base import BenchClient, BenchPlan, DeadLetterSink, FeedStats
from hadron.venues.loopback import free_port
from hadron.venues.polymarket.fake_scenario import load_capture
from hadron.venues.polymarket.ws import PolymarketPool


def bench_plan(capture: Path, folder: Path) -> BenchPlan:
    """How ``hadron bench live`` measures Polymarket on ``capture`` (Polymarket frames, or a Kalshi
    capture the loopback venue transcodes into the market channel): the client subscribes the
    capture's tokens; ``hadron run`` trades the pair of the capture's Kalshi market.

    Writes to ``folder``: ``messages.ndjson``, the messages the venue sends as a capture
    (``{"recv_ms", "event"}`` lines), replayed offline next to the pool path; ``bench.key``, the
    throwaway Kalshi key a run's config names (its Kalshi leg).

    Raises:
        ConfigError: the capture holds no token.
    """
    timeline = load_capture([capture])
    tokens = sorted({a for item in timeline for a in item.assets})
    if not tokens:
        raise ConfigError(f"{capture}: no Polymarket token in the capture")
    offline = folder / "messages.ndjson"
    encode = msgspec.json.Encoder().encode
    with offline.open("wb") as fh:
        for item in timeline:
            fh.write(encode({"recv_ms": item.recv_ms, "event": item.msg}) + b"\n")
    key = folder / "bench.key"
    key.write_bytes(_throwaway_key())
    key.chmod(0o600)
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/market"

    def client(
        books: BookManager, *, stats: FeedStats, dead_letter: DeadLetterSink, record_to: Path | None
    ) -> BenchClient:
        return PolymarketPool(url, books, tokens, stats=stats, dead_letter=dead_letter)

    return BenchPlan(
        venue="polymarket",
        venue_args=["--capture", str(capture), "--port", str(port)],
        url=url,
        env=dict(os.environ),
        instruments=tokens,
        pair_market=_kalshi_market(capture),
        key_path=key,
        client=client,
        offline=offline,
        record_args=["--gamma-url", "", "--rest-url", ""],
        counters=("bbo_mismatches",),
    )


def _kalshi_market(capture: Path) -> str:
    # The Kalshi market a transcoded capture's tokens mirror ("": a Polymarket capture)
    for line in LineReader(capture):
        try:
            data = msgspec.json.decode(line)
        except msgspec.DecodeError:
            continue
        event = data.get("event") if isinstance(data, dict) else None
        msg = event.get("msg") if isinstance(event, dict) else None
        market = msg.get("market_ticker") if isinstance(msg, dict) else None
        if market:
            return str(market)
    return ""


def _throwaway_key() -> bytes:
    # hadron run's config names a Kalshi key even when only Polymarket streams
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
