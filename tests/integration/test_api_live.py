"""hadron.connect over real sockets: the loopback venues (hadron.loopback) replaying real captures.

What the feed hands out, and the books it keeps, must be what replaying the same capture gives.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
from pathlib import Path

import pytest

import hadron
from hadron.app.replay import dump_books
from hadron.config import Secret
from hadron.errors import AuthError
from hadron.venues.kalshi.auth import generate_test_key
from hadron.venues.polymarket.fake_scenario import pairs_toml, token_ids
from tests.conftest import FIXTURES

EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
TICKER = "KXGOLD15M-26AUG102130-30"
_, YES, NO = token_ids(TICKER)


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    """The Kalshi excerpt without its two closing snapshots (the book stays open)."""
    with gzip.open(EXCERPT, "rb") as fh:
        lines = fh.readlines()
    path = tmp_path / "capture.ndjson"
    path.write_bytes(b"".join(lines[:-2]))
    return path


async def _drain(feed: hadron.Feed, venue: hadron.Loopback, events: list[hadron.MarketEvent]) -> None:
    # Consume until the loopback venue has sent its whole capture and the feed is quiet
    async def consume() -> None:
        async for event in feed:
            events.append(event)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(venue.drained(), timeout=60)
    count = -1
    while count != len(events):  # the feed has no idle event: wait for it to go quiet
        count = len(events)
        await asyncio.sleep(0.3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.mark.asyncio
async def test_a_kalshi_feed_gives_the_books_and_events_of_a_replay(capture: Path) -> None:
    replayed = hadron.replay(capture).run()
    events: list[hadron.MarketEvent] = []
    async with hadron.loopback("kalshi", capture) as venue:
        assert venue.markets == [TICKER] and venue.url.startswith("ws://127.0.0.1:")
        async with hadron.connect("kalshi", [f"kalshi:{TICKER}"], config=venue.config) as feed:
            assert feed.markets == [TICKER]
            await _drain(feed, venue, events)
            health = feed.health()["connections"][0]
            assert health["connected"] and health["reconnects"] == 0
            live_books = dump_books(feed.books)
        assert feed.stats.frames > 300 and feed.stats.decode_errors == 0
    assert live_books == replayed.dump_books()
    assert live_books[f"kalshi:{TICKER}"]["bids"]
    trades = [e for e in events if isinstance(e, hadron.Trade)]
    assert [(t.price, t.size, t.trade_id) for t in trades] == [
        (t.price, t.size, t.trade_id) for t in hadron.replay(capture) if isinstance(t, hadron.Trade)
    ]
    assert isinstance(events[0], hadron.BookSnapshot)
    # closed: the iteration is over, and the books wait for a snapshot
    assert [e async for e in feed] == []
    assert feed.books.states()["awaiting_snapshot"] == 1


@pytest.mark.asyncio
async def test_a_polymarket_feed_keeps_the_token_pair(capture: Path) -> None:
    kalshi_book = hadron.replay(capture).run().dump_books()[f"kalshi:{TICKER}"]
    events: list[hadron.MarketEvent] = []
    async with (
        hadron.loopback("polymarket", capture) as venue,
        hadron.connect("polymarket", venue.markets, config=venue.config, tops=True, book_events=False) as feed,
    ):
        assert sorted(venue.markets) == sorted([YES, NO])
        await _drain(feed, venue, events)
        books = dump_books(feed.books)
    assert books[f"polymarket:{YES}"] == kalshi_book  # the YES token's book is the Kalshi book
    assert {type(e) for e in events} == {hadron.TopOfBook, hadron.Trade}
    last_top = next(e for e in reversed(events) if isinstance(e, hadron.TopOfBook) and e.instrument.endswith(YES))
    yes_bids = kalshi_book["bids"]
    assert hadron.format_price(last_top.bid_price or 0) == yes_bids[0][0]


@pytest.mark.asyncio
async def test_two_feeds_share_books_under_one_detector(capture: Path, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([TICKER], fee_rate="0.04"))
    books = hadron.BookManager()
    detector = hadron.arb_detector(books, pairs)
    async with (
        hadron.loopback("kalshi", capture) as kalshi,
        hadron.loopback("polymarket", capture, shift=-2_500) as polymarket,  # YES 25¢ cheaper there
        hadron.connect("kalshi", kalshi.markets, config=kalshi.config, books=books, book_events=False) as one,
        hadron.connect("polymarket", polymarket.markets, config=polymarket.config, books=books) as two,
    ):
        await asyncio.gather(_drain(one, kalshi, []), _drain(two, polymarket, []))
        assert books.states()["live"] == 3
        assert detector.evaluations > 0
        assert any(o.kind == "cross" for o in detector.results())


@pytest.mark.asyncio
async def test_a_refused_key_ends_the_iteration_with_the_error(capture: Path) -> None:
    _, other, _ = generate_test_key()
    async with hadron.loopback("kalshi", capture) as venue:
        kalshi = dataclasses.replace(venue.config.kalshi, private_key=Secret(other.decode()))
        config = dataclasses.replace(venue.config, kalshi=kalshi)
        async with hadron.connect("kalshi", venue.markets, config=config) as feed:
            with pytest.raises(AuthError, match="401"):
                async for _ in feed:
                    pass
            assert isinstance(feed.error, AuthError)
        # not iterated: closing raises it instead
        feed = hadron.connect("kalshi", venue.markets, config=config)
        with pytest.raises(AuthError):
            async with feed:
                while feed.error is None:  # noqa: ASYNC110 - the feed has no failed event
                    await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_a_slow_loop_loses_events_past_max_pending_but_never_the_books(capture: Path) -> None:
    replayed = hadron.replay(capture).run().dump_books()
    async with (
        hadron.loopback("kalshi", capture) as venue,
        hadron.connect("kalshi", venue.markets, config=venue.config, max_pending=10) as feed,
    ):
        await asyncio.wait_for(venue.drained(), timeout=60)
        await asyncio.sleep(0.5)  # nobody iterates meanwhile
        assert feed.dropped > 300
        kept = [await anext(feed) for _ in range(10)]
        assert len(kept) == 10
        assert dump_books(feed.books) == replayed


def test_connect_and_loopback_check_their_arguments() -> None:
    with pytest.raises(hadron.ConfigError, match="unknown venue"):
        hadron.connect("betfair", ["X"])
    with pytest.raises(hadron.ConfigError, match="give the markets"):
        hadron.connect("kalshi", [])
    with pytest.raises(hadron.ConfigError, match="unknown venue"):
        hadron.loopback("betfair")
    assert hadron.connect("polymarket", "123").markets == ["123"]


@pytest.mark.asyncio
async def test_missing_credentials_are_named_when_the_feed_starts(tmp_path: Path) -> None:
    config = hadron.HadronConfig()
    feed = hadron.connect("kalshi", [TICKER], config=config, dead_letter=tmp_path / "dl.ndjson")
    with pytest.raises(hadron.ConfigError, match="KALSHI_API_KEY_ID"):
        await feed.start()
    await feed.close()
