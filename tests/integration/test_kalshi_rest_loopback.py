"""Kalshi REST client against the loopback venue over real sockets (uvicorn on 127.0.0.1).

The venue serves the real ``GET /events/{ticker}`` captures in ../shared/data and books taken
from the real WebSocket snapshots of the same markets.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette

from hadron.book.manager import BookManager, BookState
from hadron.errors import AuthError, RequestError
from hadron.model.events import BookSnapshot
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fake_rest import RestFaults, build_rest_app
from hadron.venues.kalshi.fees import KalshiFeeSchedule
from hadron.venues.kalshi.messages import CAPTURE_DECODER, KalshiOrderbookSnapshot, KalshiTrade
from hadron.venues.kalshi.poll import POLLED, KalshiPoller
from hadron.venues.kalshi.rest import KalshiInstrumentProvider, KalshiRestClient, normalize_rest_orderbook
from tests.conftest import SHARED_DATA, shared_data

pytestmark = pytest.mark.data

SAMPLE = SHARED_DATA / "zkiihne__kalshi-gold15m-sample"
BOOKED = 3
"""How many markets get a real book (and trades) from the WebSocket capture."""


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    venue_key, _, _ = generate_test_key()
    other_key, _, _ = generate_test_key()
    return venue_key, other_key


def first_snapshot_and_trades(folder: Path) -> tuple[KalshiOrderbookSnapshot | None, list[KalshiTrade]]:
    snapshot: KalshiOrderbookSnapshot | None = None
    trades: list[KalshiTrade] = []
    for path in sorted(folder.glob("*.ndjson.gz")):
        with gzip.open(path, "rb") as fh:
            for line in fh:
                if b'"orderbook_snapshot"' not in line and b'"trade"' not in line:
                    continue
                event = CAPTURE_DECODER.decode(line).event
                if isinstance(event, KalshiOrderbookSnapshot) and snapshot is None:
                    snapshot = event
                elif isinstance(event, KalshiTrade) and len(trades) < 5:
                    trades.append(event)
                if snapshot is not None and len(trades) >= 5:
                    return snapshot, trades
    return snapshot, trades


@pytest.fixture(scope="module")
def exchange() -> FakeExchange:
    metadata = shared_data(SAMPLE / "metadata")
    venue = FakeExchange()
    assert venue.load_metadata(metadata) == 39
    for ticker in sorted(venue.markets)[:BOOKED]:
        snapshot, trades = first_snapshot_and_trades(shared_data(SAMPLE / "events" / ticker))
        assert snapshot is not None
        venue.book(ticker).load(snapshot.msg)
        for trade in trades:
            venue.record_trade(trade.msg)
    return venue


@contextlib.asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[str]:
    """Run ``app`` on a free port of 127.0.0.1; yield the REST base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                pytest.fail("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/trade-api/v2"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def loopback(
    exchange: FakeExchange,
    key: rsa.RSAPrivateKey,
    *,
    signer_key: rsa.RSAPrivateKey | None = None,
    faults: RestFaults | None = None,
    **kwargs: Any,
) -> AsyncIterator[KalshiRestClient]:
    app = build_rest_app(exchange, public_key=key.public_key(), faults=faults)
    async with serve(app) as url:
        signer = KalshiSigner("loopback-key", signer_key or key)
        async with KalshiRestClient(url, signer=signer, rate_tier="prime", **kwargs) as rest:
            yield rest


@pytest.mark.asyncio
async def test_market_pagination_returns_every_market_once(
    exchange: FakeExchange, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    async with loopback(exchange, keys[0]) as rest:
        markets = await rest.get_markets(limit=5)
        assert rest.requests == 8  # 39 markets, 5 a page
        one_event = await rest.get_markets(event_ticker="KXGOLD15M-26AUG050000")
        by_series = await rest.get_markets(series_ticker="KXGOLD15M", status="open", limit=1000)
        settled = await rest.get_markets(status="settled")
        some = await rest.get_markets(tickers=sorted(exchange.markets)[:3])
    tickers = [m.ticker for m in markets]
    assert len(tickers) == len(set(tickers)) == 39
    assert set(tickers) == set(exchange.markets)
    assert [m.ticker for m in one_event] == ["KXGOLD15M-26AUG050000-00"]
    assert len(by_series) == 39 and settled == []
    assert [m.ticker for m in some] == sorted(exchange.markets)[:3]
    first = next(m for m in markets if m.ticker == "KXGOLD15M-26AUG050000-00")
    raw = exchange.markets[first.ticker]
    assert first.floor_strike == Decimal(repr(raw["floor_strike"])) == Decimal("4128.56")
    assert (first.status, first.market_type, first.strike_type) == ("active", "binary", "greater_or_equal")
    assert first.price_ranges is not None and first.price_ranges[0].step == "0.0100"
    assert first.volume_fp == raw["volume_fp"] and first.can_close_early is True


@pytest.mark.asyncio
async def test_event_with_nested_markets_and_series_fees(
    exchange: FakeExchange, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    async with loopback(exchange, keys[0]) as rest:
        event = await rest.get_event("KXGOLD15M-26AUG050000")
        bare = await rest.get_event("KXGOLD15M-26AUG050000", with_nested_markets=False)
        events = await rest.get_events(series_ticker="KXGOLD15M", limit=10, with_nested_markets=True)
        series = await rest.get_series("KXGOLD15M")
        with pytest.raises(RequestError) as missing:
            await rest.get_series("NOPE")
    assert (event.series_ticker, event.category, event.title) == (
        "KXGOLD15M",
        "Commodities",
        "Gold 15 min · $4,128.56 target",
    )
    assert event.markets is not None and [m.ticker for m in event.markets] == ["KXGOLD15M-26AUG050000-00"]
    assert bare.markets is None
    assert len(events) == 39 and all(e.markets and len(e.markets) == 1 for e in events)
    assert (series.ticker, series.fee_type, series.fee_multiplier) == ("KXGOLD15M", "quadratic", Decimal(1))
    assert (missing.value.status, missing.value.code) == (404, "not_found")


@pytest.mark.asyncio
async def test_orderbook_equals_the_venue_book(
    exchange: FakeExchange, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    booked = sorted(exchange.books)
    async with loopback(exchange, keys[0]) as rest:
        for ticker in booked:
            for depth in (0, 3):
                resp = await rest.get_orderbook(ticker, depth=depth)
                wire = exchange.books[ticker].wire(depth)
                assert [list(level) for level in resp.orderbook_fp.yes_dollars or []] == wire.get("yes_dollars_fp", [])
                assert [list(level) for level in resp.orderbook_fp.no_dollars or []] == wire.get("no_dollars_fp", [])
        unbooked = sorted(set(exchange.markets) - set(booked))[0]
        empty = await rest.get_orderbook(unbooked)
        with pytest.raises(RequestError) as missing:
            await rest.get_orderbook("KXGOLD15M-NOPE")
        trades = await rest.get_trades(booked[0], limit=2)
        status = await rest.get_exchange_status()
    assert empty.orderbook_fp.yes_dollars == [] and empty.orderbook_fp.no_dollars == []
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert 1 <= len(trades) <= 5 and all(t.ticker == booked[0] and t.created_time.endswith("Z") for t in trades)
    assert status.exchange_active and status.trading_active


@pytest.mark.asyncio
async def test_rate_limited_venue_still_completes(
    exchange: FakeExchange, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    faults = RestFaults(rate_limit_every=2, fail_next=[503])
    async with loopback(exchange, keys[0], faults=faults, backoff_base=0.001, backoff_max=0.01) as rest:
        markets = await rest.get_markets(limit=10)
        assert rest.retries >= 3
    assert len({m.ticker for m in markets}) == 39
    assert faults.requests == 4 + 1 + 3 + 1  # 4 pages, the 503, and a 429 on every second request


@pytest.mark.asyncio
async def test_wrong_key_is_an_auth_error(
    exchange: FakeExchange, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    venue_key, other_key = keys
    async with loopback(exchange, venue_key, signer_key=other_key) as rest:
        with pytest.raises(AuthError, match="INCORRECT_API_KEY_SIGNATURE"):
            await rest.get_markets()
        assert rest.requests == 1
    app = build_rest_app(exchange, public_key=venue_key.public_key())
    async with serve(app) as url, KalshiRestClient(url) as unsigned:
        with pytest.raises(AuthError):
            await unsigned.get_exchange_status()


@pytest.mark.asyncio
async def test_instrument_provider_loads_linear_cent_markets(
    exchange: FakeExchange, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    tickers = sorted(exchange.markets)
    event_ticker = exchange.markets[tickers[-1]]["event_ticker"]
    overridden = dict(
        exchange.events[event_ticker], fee_type_override="quadratic_with_maker_fees", fee_multiplier_override=0.5
    )
    venue = FakeExchange(
        books=exchange.books,
        markets=exchange.markets,
        events=dict(exchange.events, **{event_ticker: overridden}),
        series=exchange.series,
    )
    async with loopback(venue, keys[0]) as rest:
        instruments = await KalshiInstrumentProvider(rest).load([*tickers, "KXGOLD15M-NOPE"])
    assert list(instruments) == tickers
    assert all(i.tick == 100 and i.market.price_level_structure == "linear_cent" for i in instruments.values())
    assert all(i.series_ticker == "KXGOLD15M" and i.status == "active" for i in instruments.values())
    assert instruments[tickers[0]].fees == KalshiFeeSchedule("quadratic", Decimal(1))
    assert instruments[tickers[-1]].fees == KalshiFeeSchedule("quadratic_with_maker_fees", Decimal("0.5"))


@pytest.mark.asyncio
async def test_poller_makes_polled_books_live(
    exchange: FakeExchange, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    booked = sorted(exchange.books)
    books = BookManager()
    seen: list[BookSnapshot] = []
    stop = asyncio.Event()

    def on_event(snap: BookSnapshot) -> None:
        seen.append(snap)
        if len(seen) >= 2 * len(booked):
            stop.set()

    async with loopback(exchange, keys[0]) as rest:
        poller = KalshiPoller(rest, books, booked, interval=0.05, on_event=on_event)
        await asyncio.wait_for(poller.run(stop), timeout=30)
        expected = {t: normalize_rest_orderbook(t, await rest.get_orderbook(t), 0) for t in booked}
    assert poller.stats.errors == 0 and poller.stats.polls == 2 * len(booked) and poller.stats.cycles == 2
    assert {s.instrument for s in seen} == {f"kalshi:{t}" for t in booked}
    for ticker in booked:
        book = books.get(f"kalshi:{ticker}")
        assert book is not None
        assert book.state is BookState.LIVE and book.polled is True and book.source is POLLED
        assert tuple(book.levels_bid()) == expected[ticker].bids
        assert tuple(book.levels_ask()) == expected[ticker].asks
