"""A fee override over a real socket: the loopback Kalshi venue sends ``event_fee_update`` on
``market_lifecycle_v2`` (as the AsyncAPI spec's examples: set, then a rule Hadron cannot price,
then cleared); the signed client normalizes it, and the strategy pipeline's fee registry reprices
the pair's Kalshi legs in the detector."""

from __future__ import annotations

import asyncio
import gzip
import itertools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from hadron.app.pipeline import StrategyOptions, build_strategy
from hadron.book.manager import BookManager, BookState
from hadron.model.events import FeeUpdate
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.fees import KalshiOrderFee
from hadron.venues.kalshi.ws import KalshiConnection
from hadron.venues.polymarket.fake_scenario import pairs_toml
from tests.conftest import FIXTURES, ListDeadLetter

EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
TICKER = "KXGOLD15M-26AUG102130-30"
EVENT = "KXGOLD15M-26AUG102130"


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(500):  # 10 s
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


@pytest.mark.asyncio
async def test_event_fee_update_over_the_socket_reprices_the_detector(tmp_path: Path) -> None:
    key, _, _ = generate_test_key()
    capture = tmp_path / "capture.ndjson"
    with gzip.open(EXCERPT, "rb") as fh:
        capture.write_bytes(b"".join(itertools.islice(fh, 20)))
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([TICKER], fee_rate="0.04"))
    venue = FakeKalshiVenue(load_capture([capture]), public_key=key.public_key(), speed=0, start_on_subscribe=False)
    await venue.start()
    await asyncio.wait_for(venue.finished.wait(), timeout=10)
    books = BookManager()
    strategy = build_strategy(books, StrategyOptions(pairs=pairs), mode="replay")
    assert strategy.wants_events and strategy.fees is not None and strategy.detector is not None
    seen: list[FeeUpdate] = []

    def on_event(event: object) -> None:
        if isinstance(event, FeeUpdate):
            seen.append(event)
        strategy.on_event(event)  # type: ignore[arg-type]

    conn = KalshiConnection(
        "c",
        venue.url,
        KalshiSigner("k", key),
        books,
        [TICKER],
        channels=["orderbook_delta", "market_lifecycle_v2"],
        stats=FeedStats(),
        dead_letter=ListDeadLetter(),
        on_event=on_event,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(conn.run(stop))
    try:
        await asyncio.wait_for(conn.connected.wait(), timeout=10)
        await _until(lambda: (b := books.get(f"kalshi:{TICKER}")) is not None and b.state is BookState.LIVE)
        await _until(lambda: conn.feed_stats.frames_by_type.get("subscribed", 0) == 2)
        detector, fees = strategy.detector, strategy.fees

        def kalshi_fees() -> set[object]:
            return {side.fee for c in detector.candidates() for side in c.legs if side.venue == "kalshi"}  # fmt: skip

        base = kalshi_fees()
        assert venue.play_fee_update(EVENT, "quadratic_with_maker_fees", Decimal("0.5")) == 1
        await _until(lambda: fees.updates == 1)
        (half,) = kalshi_fees()
        assert half not in base and isinstance(half, KalshiOrderFee)
        assert half.fee([(5_000, 100_000_000)]) == KalshiOrderFee(Decimal("0.5")).fee([(5_000, 100_000_000)])
        assert venue.play_fee_update(EVENT, "flat", Decimal(1)) == 1  # refused: not traded, never a crash
        await _until(lambda: fees.updates == 2)
        assert fees.refused == 1 and not fees.priced(f"kalshi:{TICKER}")
        assert venue.play_fee_update(EVENT, None, None) == 1  # cleared: the pairs file's multiplier again
        await _until(lambda: fees.updates == 3)
        assert fees.priced(f"kalshi:{TICKER}") and fees.overrides == {}
        (again,) = kalshi_fees()
        assert again.fee([(5_000, 100_000_000)]) == KalshiOrderFee(Decimal(1)).fee([(5_000, 100_000_000)])
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await venue.stop()
    assert [(e.id, e.fee_type, e.multiplier) for e in seen] == [
        (EVENT, "quadratic_with_maker_fees", Decimal("0.5")),
        (EVENT, "flat", Decimal(1)),
        (EVENT, None, None),
    ]
    stats = conn.feed_stats
    assert stats.frames_by_type["event_fee_update"] == 3 and stats.decode_errors == 0 and stats.seq_gaps == 0
