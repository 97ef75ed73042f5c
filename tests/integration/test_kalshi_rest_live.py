"""Kalshi REST client against the real demo environment (read-only market data).

Deselected by default (``-m "not live"``); run with ``pytest -m live`` when ``KALSHI_API_KEY_ID``
and ``KALSHI_PRIVATE_KEY_PATH`` (or ``KALSHI_PRIVATE_KEY``) hold a demo key.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator

import pytest

from hadron.book.manager import BookManager, BookState
from hadron.config import KalshiConfig, Secret
from hadron.venues.kalshi.auth import HOSTS, load_signer
from hadron.venues.kalshi.poll import KalshiPoller
from hadron.venues.kalshi.rest import KalshiInstrumentProvider, KalshiMarket, KalshiRestClient, normalize_rest_orderbook

pytestmark = pytest.mark.live


@contextlib.asynccontextmanager
async def demo() -> AsyncIterator[KalshiRestClient]:
    key_id = os.environ.get("KALSHI_API_KEY_ID", "")
    key_path = os.environ.get("KALSHI_PRIVATE_KEY_PATH", "")
    key_pem = os.environ.get("KALSHI_PRIVATE_KEY", "")
    if not key_id or not (key_path or key_pem):
        pytest.skip(
            "demo credentials not set: export KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (or KALSHI_PRIVATE_KEY)"
        )
    signer = load_signer(
        KalshiConfig(env="demo", api_key_id=key_id, private_key_path=key_path, private_key=Secret(key_pem))
    )
    async with KalshiRestClient(HOSTS["demo"].rest, signer=signer) as rest:
        yield rest


async def open_markets(rest: KalshiRestClient, count: int) -> list[KalshiMarket]:
    markets: list[KalshiMarket] = []
    async with contextlib.aclosing(rest.iter_markets(status="open", mve_filter="exclude", limit=count)) as stream:
        async for market in stream:
            markets.append(market)
            if len(markets) >= count:
                break
    if not markets:
        pytest.skip("the demo exchange lists no open markets right now")
    return markets


@pytest.mark.asyncio
async def test_demo_market_data_reads() -> None:
    async with demo() as rest:
        status = await rest.get_exchange_status()
        markets = await open_markets(rest, 5)
        market = await rest.get_market(markets[0].ticker)
        book = await rest.get_orderbook(market.ticker, depth=10)
        event = await rest.get_event(market.event_ticker)
        series = await rest.get_series(event.series_ticker)
        trades = []
        async with contextlib.aclosing(rest.iter_trades(market.ticker, limit=10)) as stream:
            async for trade in stream:
                trades.append(trade)
                if len(trades) >= 10:
                    break
    assert isinstance(status.exchange_active, bool)
    assert market.ticker == markets[0].ticker and market.status == "active"
    snap = normalize_rest_orderbook(market.ticker, book, time.time_ns())
    assert all(0 < price < 10_000 for price, _ in snap.bids + snap.asks)
    assert event.markets and market.ticker in {m.ticker for m in event.markets}
    assert series.ticker == event.series_ticker and series.fee_type
    assert all(t.ticker == market.ticker for t in trades)


@pytest.mark.asyncio
async def test_demo_instruments_and_one_poll_cycle() -> None:
    async with demo() as rest:
        markets = await open_markets(rest, 3)
        tickers = [m.ticker for m in markets]
        instruments = await KalshiInstrumentProvider(rest).load(tickers)
        books = BookManager()
        poller = KalshiPoller(rest, books, tickers)
        await poller.poll_once()
    assert set(instruments) == set(tickers)
    assert all(i.tick in (1, 10, 20, 50, 100) for i in instruments.values())
    assert poller.stats.errors == 0
    for ticker in tickers:
        book = books.get(f"kalshi:{ticker}")
        assert book is not None and book.state is BookState.LIVE and book.polled
