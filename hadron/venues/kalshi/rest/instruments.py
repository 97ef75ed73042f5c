"""Kalshi instruments from REST: the REST order book as a snapshot, and markets as instruments.

:func:`normalize_rest_orderbook` turns ``GET /markets/{ticker}/orderbook`` into the YES book's
:class:`~hadron.model.events.BookSnapshot`; :class:`KalshiInstrumentProvider` loads
:class:`KalshiInstrument` records from ``GET /markets``, ``GET /events/{event_ticker}`` and
``GET /series/{series_ticker}`` (Kalshi OpenAPI; ``docs/protocols/kalshi.md#rest``).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from hadron.errors import DecodeError
from hadron.model.events import BookSnapshot
from hadron.model.units import parse_price
from hadron.venues.kalshi.fees import KalshiFeeSchedule
from hadron.venues.kalshi.messages import KalshiPriceRange
from hadron.venues.kalshi.normalize import _levels, instrument_of
from hadron.venues.kalshi.rest.client import KalshiRestClient
from hadron.venues.kalshi.rest.wire import KalshiEvent, KalshiMarket, KalshiOrderbookResponse, KalshiSeries

log = structlog.get_logger("hadron.kalshi.rest")


def normalize_rest_orderbook(
    ticker: str, resp: KalshiOrderbookResponse, ts_recv: int, *, tick: int = 0
) -> BookSnapshot:
    """Turn a REST order book into a :class:`BookSnapshot` of the YES book ``kalshi:<ticker>``.

    Bids are the YES bids; asks are the NO bids seen from the YES side (a NO bid at $p is a YES
    ask at $1 − p, same size). Levels best first; zero-size levels dropped (a negative size or a
    price outside (0, 1) is kept: the book manager refuses it, BadValue); ``ts_event`` equals
    ``ts_recv`` (ns; the response carries no timestamp). ``tick``: the market's increment in
    1/10,000 USD when known, else 0.

    Raises:
        DecodeError: an empty ticker, or a malformed price or size.
    """
    book = resp.orderbook_fp
    bids = _levels(book.yes_dollars or [], flip=False)
    asks = _levels(book.no_dollars or [], flip=True)
    bids.sort(reverse=True)
    asks.sort()
    return BookSnapshot(instrument_of(ticker), tuple(bids), tuple(asks), ts_recv, ts_recv, tick)


# -- instruments -------------------------------------------------------------------------------

DEFAULT_TICK = 100
"""A cent in 1/10,000 USD: the tick of a market whose grid is unknown (``linear_cent``)."""

_TICKERS_PER_REQUEST = 100


def tick_of(price_ranges: list[KalshiPriceRange] | tuple[KalshiPriceRange, ...] | None) -> int:
    """Return the smallest ``step`` of a price grid in 1/10,000 USD (100 when there is none).

    Raises:
        DecodeError: a step that is not a price Hadron can hold (finer than $0.0001) or is zero.
    """
    steps = [parse_price(band.step) for band in price_ranges or ()]
    if not steps:
        return DEFAULT_TICK
    tick = min(steps)
    if tick <= 0:
        raise DecodeError(f"price_ranges has a zero step: {price_ranges!r}")
    return tick


@dataclass(frozen=True, slots=True)
class KalshiInstrument:
    """What Hadron needs to trade one Kalshi market.

    Attributes:
        ticker / event_ticker / series_ticker: the venue's identifiers.
        status: the market's REST status (active, closed, finalized, …).
        tick: int, 1/10,000 USD, the smallest ``step`` of ``price_ranges`` (100 when absent).
        price_ranges: the price grid bands (dollar strings).
        fees: the series' fee rule with the event's overrides applied.
        market: the market record as loaded.
    """

    ticker: str
    event_ticker: str
    series_ticker: str
    status: str
    tick: int
    price_ranges: tuple[KalshiPriceRange, ...]
    fees: KalshiFeeSchedule
    market: KalshiMarket

    @property
    def instrument(self) -> str:
        """Hadron's instrument id, ``kalshi:<ticker>``."""
        return instrument_of(self.ticker)


class KalshiInstrumentProvider:
    """Loads :class:`KalshiInstrument` records from REST: markets, then their events and series.

    Events and series are cached for the provider's lifetime; :attr:`instruments` keeps every
    instrument loaded so far.
    """

    def __init__(self, rest: KalshiRestClient) -> None:
        self.rest = rest
        self.instruments: dict[str, KalshiInstrument] = {}
        self._events: dict[str, KalshiEvent] = {}
        self._series: dict[str, KalshiSeries] = {}

    async def _event(self, event_ticker: str) -> KalshiEvent:
        event = self._events.get(event_ticker)
        if event is None:
            event = self._events[event_ticker] = await self.rest.get_event(event_ticker, with_nested_markets=False)
        return event

    async def _series_of(self, series_ticker: str) -> KalshiSeries:
        series = self._series.get(series_ticker)
        if series is None:
            series = self._series[series_ticker] = await self.rest.get_series(series_ticker)
        return series

    async def load(self, tickers: list[str]) -> dict[str, KalshiInstrument]:
        """Load the instruments of ``tickers``; tickers the venue does not know are left out
        (and logged).

        Returns:
            ticker → :class:`KalshiInstrument`.

        Raises:
            ConfigError: a series (or event override) has a fee type Hadron cannot price.
            DecodeError: a market without an event, an event without a series, a bad grid.
            AuthError, RequestError, RateLimited, TransportError: as the REST calls raise them.
        """
        wanted = list(dict.fromkeys(tickers))
        markets: dict[str, KalshiMarket] = {}
        for start in range(0, len(wanted), _TICKERS_PER_REQUEST):
            chunk = wanted[start : start + _TICKERS_PER_REQUEST]
            markets.update((found.ticker, found) for found in await self.rest.get_markets(tickers=chunk))
        missing = [ticker for ticker in wanted if ticker not in markets]
        if missing:
            log.warning("kalshi markets not found", count=len(missing), tickers=missing[:20])
        out: dict[str, KalshiInstrument] = {}
        for ticker in wanted:
            market = markets.get(ticker)
            if market is None:
                continue
            if not market.event_ticker:
                raise DecodeError(f"market {ticker} has no event_ticker")
            event = await self._event(market.event_ticker)
            if not event.series_ticker:
                raise DecodeError(f"event {event.event_ticker} has no series_ticker")
            series = await self._series_of(event.series_ticker)
            ranges = tuple(market.price_ranges or ())
            out[ticker] = KalshiInstrument(
                ticker=ticker,
                event_ticker=market.event_ticker,
                series_ticker=event.series_ticker,
                status=market.status,
                tick=tick_of(ranges),
                price_ranges=ranges,
                fees=KalshiFeeSchedule.from_records(series, event),
                market=market,
            )
        self.instruments.update(out)
        return out
