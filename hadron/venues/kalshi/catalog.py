"""Kalshi's open markets as the cross-venue matcher's records (``hadron markets match``).

:func:`catalog` lists the open events with their nested markets through
:class:`~hadron.venues.kalshi.rest.KalshiRestClient` (Kalshi OpenAPI ``GET /events`` with
``status=open&with_nested_markets=true``, :data:`EVENTS_PAGE` a page, following ``cursor``), so
the read bucket, retries and error mapping of every Kalshi REST call apply, and turns them into
:class:`~hadron.model.catalog.KalshiMarketInfo` records (:func:`catalog_records`) exactly as
:func:`hadron.match.inputs.kalshi_records` reads saved ``/events`` responses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx

from hadron.config import HadronConfig
from hadron.errors import AuthError, DecodeError, RateLimited, RequestError, VenueError
from hadron.model.catalog import KalshiMarketInfo, parse_time
from hadron.venues.http import Sleep, display_url, reworded
from hadron.venues.kalshi.auth import hosts_for
from hadron.venues.kalshi.rest import KalshiEvent, KalshiMarket, KalshiRestClient, KalshiSettlementSource

EVENTS_PAGE = 200
"""Events per ``GET /events`` page (the venue's maximum)."""
TIMEOUT_S = 30.0
"""Seconds for each page request: a page of events with their markets runs to megabytes."""


def _sources(raw: list[KalshiSettlementSource] | None) -> tuple[str, ...]:
    return tuple(source.name or source.url for source in raw or () if source.name or source.url)


def _market_record(market: KalshiMarket, event: KalshiEvent, sources: tuple[str, ...]) -> KalshiMarketInfo:
    return KalshiMarketInfo(
        event_ticker=market.event_ticker or event.event_ticker,
        series_ticker=event.series_ticker,
        market_ticker=market.ticker,
        event_title=event.title,
        title=market.title,
        yes_sub_title=market.yes_sub_title or market.subtitle,
        no_sub_title=market.no_sub_title,
        strike_type=market.strike_type,
        floor_strike=market.floor_strike,
        cap_strike=market.cap_strike,
        close_time=parse_time(market.close_time),
        expiration_time=parse_time(market.expected_expiration_time) or parse_time(market.expiration_time),
        settlement_sources=sources,
        rules="\n".join(rule for rule in (market.rules_primary, market.rules_secondary) if rule),
        multi_outcome=bool(event.mutually_exclusive and event.markets and len(event.markets) > 1),
        category=event.category,
    )


def catalog_records(events: Iterable[KalshiEvent]) -> list[KalshiMarketInfo]:
    """Turn events (with nested markets) into records: one per market, one event-level record
    (``market_ticker == ""``) per event without markets; a repeated key keeps the first.

    ``settlement_sources`` are the event's; ``multi_outcome`` marks the markets of a mutually
    exclusive event with more than one market; ``expiration_time`` is the expected expiration,
    else the expiration time.
    """
    out: dict[str, KalshiMarketInfo] = {}
    for event in events:
        sources = _sources(event.settlement_sources)
        if event.markets:
            for market in event.markets:
                out.setdefault(market.ticker, _market_record(market, event, sources))
            continue
        out.setdefault(
            event.event_ticker,
            KalshiMarketInfo(
                event_ticker=event.event_ticker,
                series_ticker=event.series_ticker,
                event_title=event.title,
                title=event.title,
                yes_sub_title=event.sub_title,
                close_time=parse_time(event.strike_date),
                settlement_sources=sources,
                multi_outcome=event.mutually_exclusive,
                category=event.category,
            ),
        )
    return list(out.values())


def _fix(exc: VenueError) -> str:
    if isinstance(exc, RateLimited):
        return "Kalshi is rate limiting this address: wait a minute and run the command again"
    if isinstance(exc, AuthError | RequestError | DecodeError):
        return "check that the URL (kalshi.rest_url, --kalshi-url) is Kalshi's REST root, ending in /trade-api/v2"
    return "check the network connection and the URL (kalshi.rest_url, --kalshi-url)"


async def catalog(
    *,
    config: HadronConfig | None = None,
    base_url: str | None = None,
    max_pages: int = 50,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
) -> list[KalshiMarketInfo]:
    """Return every open Kalshi market (an event without markets as one event-level record).

    Args:
        config: the settings (``kalshi.rate_tier`` paces the requests; ``kalshi.env`` and
            ``kalshi.rest_url`` give the host); ``None``: the defaults.
        base_url: the REST root to ask instead (``…/trade-api/v2``).
        max_pages: the most ``GET /events`` pages to read.
        transport / sleep: an httpx transport and ``asyncio.sleep`` stand-in (tests).

    Requests are unsigned: the events are public.

    Raises:
        TransportError, RateLimited: Kalshi could not be reached, or kept refusing, after the
            client's retries. RequestError, AuthError, DecodeError: the URL answered, but not as
            Kalshi's REST API. Each names the venue, the URL (without credentials) and the fix.
        ConfigError: an unknown ``kalshi.rate_tier``.
    """
    kalshi = (config or HadronConfig()).kalshi
    url = (base_url or hosts_for(kalshi).rest).rstrip("/")
    where = f"{display_url(url)}/events"
    client = KalshiRestClient(url, rate_tier=kalshi.rate_tier, transport=transport, sleep=sleep, timeout=TIMEOUT_S)
    async with client as rest:
        try:
            events = await rest.get_events(
                status="open", with_nested_markets=True, limit=EVENTS_PAGE, max_pages=max_pages
            )
        except VenueError as exc:
            raise reworded(exc, f"kalshi: listing the open events at {where} failed ({exc}): {_fix(exc)}") from exc
    return catalog_records(events)
