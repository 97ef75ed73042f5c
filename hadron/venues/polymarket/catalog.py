"""Polymarket's live markets as the cross-venue matcher's records (``hadron markets match``).

:func:`catalog` lists the active, open Gamma events with their markets through
:class:`~hadron.venues.polymarket.rest.PolymarketGammaClient` (Gamma ``GET /events`` with
``active=true&closed=false``, ``limit``/``offset`` pages; Polymarket docs ``api-reference``), so
the Gamma rate limits, retries and error mapping of every Polymarket REST call apply, and turns
them into :class:`~hadron.model.catalog.PolymarketMarketInfo` records (:func:`catalog_records`)
exactly as :func:`hadron.match.inputs.polymarket_records` reads saved ``/events`` responses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx

from hadron.config import HadronConfig
from hadron.errors import AuthError, DecodeError, RateLimited, RequestError, VenueError
from hadron.model.catalog import PolymarketMarketInfo, parse_time
from hadron.venues.http import Sleep, display_url, reworded
from hadron.venues.polymarket.rest import GAMMA_URL, PolymarketGammaClient, PolymarketGammaEvent, PolymarketGammaMarket

EVENTS_PAGE = 100
"""Events per Gamma ``GET /events`` page."""
TIMEOUT_S = 30.0
"""Seconds for each page request: a page of events with their markets runs to megabytes."""


def _market_record(market: PolymarketGammaMarket, event: PolymarketGammaEvent) -> PolymarketMarketInfo:
    ref = market.events[0] if market.events else None
    neg_risk = market.neg_risk or event.neg_risk or (ref is not None and ref.neg_risk)
    return PolymarketMarketInfo(
        event_id=event.id,
        event_slug=event.slug,
        event_title=event.title,
        condition_id=market.condition_id,
        slug=market.slug,
        question=market.question,
        outcomes=market.outcomes,
        token_ids=market.clob_token_ids,
        group_item_title=market.group_item_title,
        sports_market_type=market.sports_market_type or "",
        end_time=parse_time(market.end_date) or parse_time(event.end_date),
        game_start_time=parse_time(market.game_start_time),
        resolution_source=market.resolution_source or event.resolution_source or "",
        rules=market.description or event.description or "",
        multi_outcome=neg_risk or len(event.markets) > 1,
    )


def catalog_records(events: Iterable[PolymarketGammaEvent]) -> list[PolymarketMarketInfo]:
    """Turn Gamma events (with their markets) into records: one per market, one event-level
    record (``condition_id == ""``) per event without markets; a repeated key keeps the first.

    ``multi_outcome`` marks the markets of a neg-risk event or of an event with more than one
    market; ``rules`` is the market's description, else the event's.
    """
    out: dict[str, PolymarketMarketInfo] = {}
    for event in events:
        for market in event.markets:
            record = _market_record(market, event)
            out.setdefault(record.key, record)
        if not event.markets:
            record = PolymarketMarketInfo(
                event_id=event.id,
                event_slug=event.slug,
                event_title=event.title,
                slug=event.slug,
                question=event.title,
                end_time=parse_time(event.end_date),
                resolution_source=event.resolution_source or "",
                rules=event.description or "",
                multi_outcome=event.neg_risk,
            )
            out.setdefault(record.key, record)
    return list(out.values())


def _fix(exc: VenueError) -> str:
    if isinstance(exc, RateLimited):
        return "Polymarket is rate limiting this address: wait a minute and run the command again"
    if isinstance(exc, AuthError | RequestError | DecodeError):
        return "check that the URL (polymarket.gamma_url, --gamma-url) is the Gamma API root"
    return "check the network connection and the URL (polymarket.gamma_url, --gamma-url)"


async def catalog(
    *,
    config: HadronConfig | None = None,
    base_url: str | None = None,
    max_pages: int = 50,
    limit: int = EVENTS_PAGE,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
) -> list[PolymarketMarketInfo]:
    """Return every market of the active, open Gamma events (an event without markets as one
    event-level record).

    Args:
        config: the settings (``polymarket.gamma_url`` gives the host; empty: :data:`GAMMA_URL`);
            ``None``: the defaults.
        base_url: the Gamma root to ask instead.
        max_pages: the most pages to read. limit: events per page.
        transport / sleep: an httpx transport and ``asyncio.sleep`` stand-in (tests).

    Raises:
        TransportError, RateLimited: Gamma could not be reached, or kept refusing, after the
            client's retries. RequestError, AuthError, DecodeError: the URL answered, but not as
            the Gamma API. Each names the venue, the URL (without credentials) and the fix.
        ValueError: ``limit`` not positive.
    """
    settings = (config or HadronConfig()).polymarket
    url = (base_url or settings.gamma_url or GAMMA_URL).rstrip("/")
    where = f"{display_url(url)}/events"
    async with PolymarketGammaClient(url, transport=transport, sleep=sleep, timeout=TIMEOUT_S) as gamma:
        try:
            events = await gamma.get_events(active=True, closed=False, limit=limit, max_pages=max_pages)
        except VenueError as exc:
            raise reworded(exc, f"polymarket: listing the open events at {where} failed ({exc}): {_fix(exc)}") from exc
    return catalog_records(events)
