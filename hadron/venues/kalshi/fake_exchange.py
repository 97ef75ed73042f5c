"""The loopback Kalshi venue's market state: books, markets, events, series and trades.

The loopback venue (:mod:`hadron.venues.kalshi.fake`) plays a real capture as the exchange's own
truth: every captured snapshot and delta updates :class:`FakeExchange`, which then answers the
WebSocket (snapshots for new subscribers, ``get_snapshot``) and REST (orderbook, markets, trades)
from it. Market, event and series records come from real REST captures
(``metadata/<event>.json``, the verbatim ``GET /events/{ticker}`` response) when given, else are
synthesized from the tickers seen.

Books are kept on the wire's own terms: YES and NO bid ladders, ``price_dollars`` strings →
``count_fp`` strings, exactly as the capture had them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hadron.model.units import format_price, parse_price, parse_size
from hadron.venues.kalshi.messages import KalshiOrderbookDeltaMsg, KalshiOrderbookSnapshotMsg, KalshiTradeMsg

_CENTS = Decimal("0.01")


def count_fp(size: int) -> str:
    """Format a size (1/1,000,000) as Kalshi's ``_fp`` string: 2 decimals, more only if needed."""
    text = str(Decimal(size) / 1_000_000)
    value = Decimal(text)
    return f"{value.quantize(_CENTS)}" if value == value.quantize(_CENTS) else text


TRADE_TAPE = 10_000
"""Trades the REST tape keeps (the most recent ones; a looping capture would grow it forever)."""


@dataclass
class FakeBook:
    """YES and NO bid ladders of one market: price (1/10,000 USD) → size (1/1,000,000)."""

    yes: dict[int, int] = field(default_factory=dict)
    no: dict[int, int] = field(default_factory=dict)

    def load(self, msg: KalshiOrderbookSnapshotMsg) -> None:
        """Replace both ladders with a captured snapshot."""
        self.yes = {parse_price(p): parse_size(s) for p, s in msg.yes_dollars_fp}
        self.no = {parse_price(p): parse_size(s) for p, s in msg.no_dollars_fp}

    def apply(self, msg: KalshiOrderbookDeltaMsg) -> int:
        """Apply a captured delta; return the new size (a negative result is kept at 0)."""
        ladder = self.yes if msg.side == "yes" else self.no
        price = parse_price(msg.price_dollars)
        size = ladder.get(price, 0) + parse_size(msg.delta_fp)
        if size > 0:
            ladder[price] = size
        else:
            ladder.pop(price, None)
        return size

    def wire(self, depth: int = 0) -> dict[str, list[list[str]]]:
        """Return ``{"yes_dollars_fp": [[price, count], …], "no_dollars_fp": […]}`` ascending, as
        Kalshi sends them (a side with no levels is left out). ``depth`` > 0 keeps the best levels."""
        out: dict[str, list[list[str]]] = {}
        for key, ladder in (("yes_dollars_fp", self.yes), ("no_dollars_fp", self.no)):
            levels = sorted(ladder.items())
            if depth > 0:
                levels = levels[-depth:]
            if levels:
                out[key] = [[format_price(p), count_fp(s)] for p, s in levels]
        return out

    def diff(self, other: FakeBook) -> list[tuple[str, int, int]]:
        """Return the ``(side, price, change)`` deltas that turn this book into ``other``."""
        changes: list[tuple[str, int, int]] = []
        for side, mine, theirs in (("yes", self.yes, other.yes), ("no", self.no, other.no)):
            for price in sorted(mine.keys() | theirs.keys()):
                change = theirs.get(price, 0) - mine.get(price, 0)
                if change:
                    changes.append((side, price, change))
        return changes


@dataclass
class FakeExchange:
    """Everything the loopback venue knows, updated as the capture plays."""

    books: dict[str, FakeBook] = field(default_factory=dict)
    markets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """ticker → REST ``Market`` object."""
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    """event ticker → REST ``Event`` object (without nested markets)."""
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    """series ticker → REST ``Series`` object (with ``fee_type`` and ``fee_multiplier``)."""
    trades: list[dict[str, Any]] = field(default_factory=list)
    """REST ``Trade`` objects, oldest first."""

    def book(self, ticker: str) -> FakeBook:
        """Return the book of ``ticker`` (created empty)."""
        book = self.books.get(ticker)
        if book is None:
            book = self.books[ticker] = FakeBook()
            self.ensure_market(ticker)
        return book

    def ensure_market(self, ticker: str) -> dict[str, Any]:
        """Return the REST market record of ``ticker``, synthesizing one if none was loaded."""
        market = self.markets.get(ticker)
        if market is None:
            event_ticker = ticker.rsplit("-", 1)[0] if "-" in ticker else ticker
            series_ticker = event_ticker.split("-", 1)[0]
            market = self.markets[ticker] = {
                "ticker": ticker,
                "event_ticker": event_ticker,
                "market_type": "binary",
                "status": "active",
                "price_level_structure": "linear_cent",
                "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
                "notional_value_dollars": "1.0000",
            }
            self.events.setdefault(event_ticker, {"event_ticker": event_ticker, "series_ticker": series_ticker})
            self.series.setdefault(
                series_ticker, {"ticker": series_ticker, "fee_type": "quadratic", "fee_multiplier": 1}
            )
        return market

    def record_trade(self, msg: KalshiTradeMsg) -> None:
        """Add a captured public trade to the REST tape."""
        self.trades.append(
            {
                "trade_id": msg.trade_id,
                "ticker": msg.market_ticker,
                "count_fp": msg.count_fp,
                "yes_price_dollars": msg.yes_price_dollars,
                "no_price_dollars": msg.no_price_dollars,
                "taker_outcome_side": msg.taker_outcome_side or msg.taker_side,
                "taker_book_side": msg.taker_book_side,
                "is_block_trade": msg.is_block_trade,
                "created_time_ms": msg.ts_ms,
            }
        )
        if len(self.trades) > 2 * TRADE_TAPE:  # a looping venue keeps the recent tape only
            del self.trades[:TRADE_TAPE]

    def load_metadata(self, folder: Path) -> int:
        """Load real ``GET /events/{ticker}`` captures (``{"response": {"event", "markets"}}``) from
        ``folder``; return how many markets were loaded. Markets are re-opened (status active) so
        the replayed session can trade them."""
        count = 0
        for path in sorted(folder.glob("*.json")):
            body = json.loads(path.read_text()).get("response") or {}
            event = body.get("event")
            if not isinstance(event, dict):
                continue
            self.events[event["event_ticker"]] = event
            series_ticker = event.get("series_ticker", "")
            self.series.setdefault(
                series_ticker, {"ticker": series_ticker, "fee_type": "quadratic", "fee_multiplier": 1}
            )
            for market in body.get("markets", []):
                self.markets[market["ticker"]] = dict(market, status="active", result="")
                count += 1
        return count
