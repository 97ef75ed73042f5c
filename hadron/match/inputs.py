"""Market listings from both venues, normalised for matching.

Reads the venues' own REST responses, saved (``load_*``) or live (``fetch_*``: through each
venue's REST client behind :class:`hadron.venues.base.CatalogVenue`, which hands its decoded
pages back to the same normalisers):

* Kalshi ``GET /events`` (with or without ``with_nested_markets``), ``GET /events/{ticker}``,
  ``GET /markets`` and ``GET /series``;
* Polymarket Gamma ``GET /events`` and ``GET /markets`` (whose ``outcomes`` and ``clobTokenIds``
  are JSON arrays encoded in a string).

A saved file may hold the raw response body, a bare list of objects, a wrapper such as
``{"response": …}`` / ``{"body": …}`` (the zkiihne captures), or NDJSON (one object a line).

Each Kalshi market becomes one :class:`~hadron.model.catalog.KalshiMarketInfo`; an event listed
without markets becomes one event-level record (``market_ticker == ""``). Likewise each Gamma
market becomes one :class:`~hadron.model.catalog.PolymarketMarketInfo`, and an event without
markets an event-level record (``condition_id == ""``). Strikes are :class:`~decimal.Decimal`,
never float.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from hadron.errors import ConfigError
from hadron.model.catalog import KalshiMarketInfo, MarketInfo, PolymarketMarketInfo, parse_time

if TYPE_CHECKING:
    from hadron.config import HadronConfig

KALSHI_BASE_URL = "https://api.elections.kalshi.com/trade-api/v2"
"""The Kalshi REST root ``hadron markets match`` lists by default."""
GAMMA_BASE_URL = "https://gamma-api.polymarket.com"
"""The Polymarket Gamma root ``hadron markets match`` lists by default."""


# ---------------------------------------------------------------------------------------------- wire


class _KSource(msgspec.Struct):
    name: str = ""
    url: str = ""


class _KMarket(msgspec.Struct):
    ticker: str
    event_ticker: str = ""
    title: str = ""
    subtitle: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    strike_type: str = ""
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    close_time: str = ""
    expected_expiration_time: str | None = None
    expiration_time: str = ""
    rules_primary: str = ""
    rules_secondary: str = ""


class _KEvent(msgspec.Struct):
    event_ticker: str
    series_ticker: str = ""
    title: str = ""
    sub_title: str = ""
    category: str = ""
    mutually_exclusive: bool = False
    strike_date: str | None = None
    settlement_sources: list[_KSource] | None = None
    markets: list[_KMarket] | None = None


class _KSeries(msgspec.Struct):
    ticker: str
    title: str = ""
    settlement_sources: list[_KSource] | None = None


class _GEventRef(msgspec.Struct):
    id: str = ""
    slug: str = ""
    title: str = ""
    negRisk: bool | None = None


class _GMarket(msgspec.Struct):
    id: str = ""
    question: str = ""
    conditionId: str = ""
    slug: str = ""
    outcomes: str | list[str] | None = None
    clobTokenIds: str | list[str] | None = None
    groupItemTitle: str | None = None
    sportsMarketType: str | None = None
    endDate: str | None = None
    gameStartTime: str | None = None
    resolutionSource: str | None = None
    description: str | None = None
    negRisk: bool | None = None
    events: list[_GEventRef] | None = None


class _GEvent(msgspec.Struct):
    id: str = ""
    slug: str = ""
    title: str = ""
    description: str | None = None
    resolutionSource: str | None = None
    endDate: str | None = None
    negRisk: bool | None = None
    markets: list[_GMarket] | None = None


def _json_list(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    try:
        decoded = json.loads(value) if value else []
    except json.JSONDecodeError:
        return ()
    return tuple(str(v) for v in decoded) if isinstance(decoded, list) else ()


def _sources(raw: list[_KSource] | None) -> tuple[str, ...]:
    return tuple(s.name or s.url for s in raw or () if s.name or s.url)


# --------------------------------------------------------------------------------------- documents


def _documents(path: Path) -> Iterator[Any]:
    """The JSON values in ``path``: one document, or NDJSON lines."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        yield json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not JSON or NDJSON ({exc.msg})") from exc


def _unwrap(doc: Any) -> Any:
    while isinstance(doc, dict) and len(doc) <= 6:
        inner = next((doc[k] for k in ("response", "body") if k in doc), None)
        if inner is None:
            break
        doc = json.loads(inner) if isinstance(inner, str) else inner
    return doc


def _objects(doc: Any, where: str) -> Iterator[dict[str, Any]]:
    """Flatten a response body into its objects (events, markets or series), tagged by list name."""
    doc = _unwrap(doc)
    if isinstance(doc, list):
        for item in doc:
            yield from _objects(item, where)
        return
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a JSON object or list, got {type(doc).__name__}")
    if "event" in doc and isinstance(doc["event"], dict):
        event = dict(doc["event"])
        if "markets" in doc and not event.get("markets"):
            event["markets"] = doc["markets"]
        yield event
        return
    for name in ("events", "markets", "series", "data"):
        if isinstance(doc.get(name), list) and not ("title" in doc or "question" in doc or "event_ticker" in doc):
            yield from _objects(doc[name], where)
            return
    yield doc


# ------------------------------------------------------------------------------------------ Kalshi


def _kalshi_market(market: _KMarket, event: _KEvent | None, sources: tuple[str, ...]) -> KalshiMarketInfo:
    multi = bool(event and event.mutually_exclusive and event.markets and len(event.markets) > 1)
    return KalshiMarketInfo(
        event_ticker=market.event_ticker or (event.event_ticker if event else ""),
        series_ticker=event.series_ticker if event else "",
        market_ticker=market.ticker,
        event_title=event.title if event else "",
        title=market.title,
        yes_sub_title=market.yes_sub_title or market.subtitle,
        no_sub_title=market.no_sub_title,
        strike_type=market.strike_type,
        floor_strike=market.floor_strike,
        cap_strike=market.cap_strike,
        close_time=parse_time(market.close_time),
        expiration_time=parse_time(market.expected_expiration_time) or parse_time(market.expiration_time),
        settlement_sources=sources,
        rules="\n".join(r for r in (market.rules_primary, market.rules_secondary) if r),
        multi_outcome=multi,
        category=event.category if event else "",
    )


def kalshi_records(objects: Iterable[dict[str, Any]], where: str = "input") -> list[KalshiMarketInfo]:
    """Normalise Kalshi event, market and series objects (as decoded JSON) into records.

    Series only contribute settlement sources to their events. Duplicates (same key) keep the first.

    Raises:
        ConfigError: an object that is none of a Kalshi event, market or series (named by ``where``).
    """
    series_sources: dict[str, tuple[str, ...]] = {}
    events: list[_KEvent] = []
    markets: list[_KMarket] = []
    try:
        for obj in objects:
            if "event_ticker" in obj and "ticker" not in obj:
                events.append(msgspec.convert(obj, _KEvent))
            elif "ticker" in obj and "event_ticker" in obj:
                markets.append(msgspec.convert(obj, _KMarket))
            elif "ticker" in obj:
                series = msgspec.convert(obj, _KSeries)
                series_sources[series.ticker] = _sources(series.settlement_sources)
            else:
                raise ConfigError(f"{where}: not a Kalshi event, market or series: keys {sorted(obj)[:8]}")
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    by_event = {e.event_ticker: e for e in events}
    out: dict[str, KalshiMarketInfo] = {}
    for event in events:
        sources = _sources(event.settlement_sources) or series_sources.get(event.series_ticker, ())
        if event.markets:
            for market in event.markets:
                out.setdefault(market.ticker, _kalshi_market(market, event, sources))
        else:
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
    for market in markets:
        parent = by_event.get(market.event_ticker)
        series_ticker = market.event_ticker.split("-", 1)[0]
        sources = _sources(parent.settlement_sources) if parent else series_sources.get(series_ticker, ())
        out.pop(market.event_ticker, None)
        out.setdefault(market.ticker, _kalshi_market(market, parent, sources))
    return list(out.values())


def load_kalshi(paths: Iterable[Path]) -> list[KalshiMarketInfo]:
    """Read saved Kalshi REST responses (events, markets, series) into records.

    Raises:
        ConfigError: a file that cannot be read or holds something else.
    """
    out: dict[str, KalshiMarketInfo] = {}
    for path in paths:
        objects = [obj for doc in _documents(path) for obj in _objects(doc, str(path))]
        for record in kalshi_records(objects, str(path)):
            out.setdefault(record.key, record)
    return list(out.values())


# ------------------------------------------------------------------------------------- Polymarket


def _poly_market(market: _GMarket, event: _GEvent | None, siblings: int) -> PolymarketMarketInfo:
    ref = market.events[0] if market.events else None
    neg_risk = bool(market.negRisk or (event and event.negRisk) or (ref and ref.negRisk))
    return PolymarketMarketInfo(
        event_id=event.id if event else (ref.id if ref else ""),
        event_slug=event.slug if event else (ref.slug if ref else ""),
        event_title=event.title if event else (ref.title if ref else ""),
        condition_id=market.conditionId,
        slug=market.slug,
        question=market.question,
        outcomes=_json_list(market.outcomes),
        token_ids=_json_list(market.clobTokenIds),
        group_item_title=market.groupItemTitle or "",
        sports_market_type=market.sportsMarketType or "",
        end_time=parse_time(market.endDate) or (parse_time(event.endDate) if event else None),
        game_start_time=parse_time(market.gameStartTime),
        resolution_source=market.resolutionSource or (event.resolutionSource or "" if event else ""),
        rules=market.description or (event.description or "" if event else ""),
        multi_outcome=neg_risk or siblings > 1,
    )


def polymarket_records(objects: Iterable[dict[str, Any]], where: str = "input") -> list[PolymarketMarketInfo]:
    """Normalise Gamma event and market objects (as decoded JSON) into records; duplicates keep the first.

    Raises:
        ConfigError: an object that is neither a Gamma event nor a Gamma market.
    """
    out: dict[str, PolymarketMarketInfo] = {}
    try:
        for obj in objects:
            if "question" in obj or "conditionId" in obj:
                market = msgspec.convert(obj, _GMarket, strict=False)
                record = _poly_market(market, None, 1)
                out.setdefault(record.key, record)
            elif "title" in obj or "markets" in obj:
                event = msgspec.convert(obj, _GEvent, strict=False)
                if event.markets:
                    for market in event.markets:
                        record = _poly_market(market, event, len(event.markets))
                        out.setdefault(record.key, record)
                else:
                    record = PolymarketMarketInfo(
                        event_id=event.id,
                        event_slug=event.slug,
                        event_title=event.title,
                        slug=event.slug,
                        question=event.title,
                        end_time=parse_time(event.endDate),
                        resolution_source=event.resolutionSource or "",
                        rules=event.description or "",
                        multi_outcome=bool(event.negRisk),
                    )
                    out.setdefault(record.key, record)
            else:
                raise ConfigError(f"{where}: not a Gamma event or market: keys {sorted(obj)[:8]}")
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return list(out.values())


def load_polymarket(paths: Iterable[Path]) -> list[PolymarketMarketInfo]:
    """Read saved Gamma ``/events`` or ``/markets`` responses into records.

    Raises:
        ConfigError: a file that cannot be read or holds something else.
    """
    out: dict[str, PolymarketMarketInfo] = {}
    for path in paths:
        objects = [obj for doc in _documents(path) for obj in _objects(doc, str(path))]
        for record in polymarket_records(objects, str(path)):
            out.setdefault(record.key, record)
    return list(out.values())


# ------------------------------------------------------------------------------------------- live


async def fetch_kalshi(
    base_url: str | None = KALSHI_BASE_URL, *, config: HadronConfig | None = None, max_pages: int = 50
) -> list[KalshiMarketInfo]:
    """Open Kalshi events with nested markets (``GET /events``, 200 a page, at most ``max_pages``)
    through the Kalshi venue's REST client: its read bucket (``kalshi.rate_tier``), retries and
    error mapping apply. ``base_url``: the REST root (``None``: the configured one).

    Raises:
        TransportError, RateLimited: Kalshi could not be reached, or kept refusing, after retries.
        RequestError, AuthError, DecodeError: the URL answered, but not as Kalshi's REST API.
            Each message names the venue, the URL and the fix.
        ConfigError: a bad setting (``kalshi.rate_tier``).
    """
    records = await _catalog("kalshi", config=config, base_url=base_url, max_pages=max_pages)
    return [record for record in records if isinstance(record, KalshiMarketInfo)]


async def fetch_polymarket(
    base_url: str | None = GAMMA_BASE_URL, *, config: HadronConfig | None = None, max_pages: int = 50
) -> list[PolymarketMarketInfo]:
    """Active, open Gamma events with their markets (``GET /events``, 100 a page, at most
    ``max_pages``) through the Polymarket venue's Gamma client: its rate limits, retries and error
    mapping apply. ``base_url``: the Gamma root (``None``: ``polymarket.gamma_url``).

    Raises:
        TransportError, RateLimited: Gamma could not be reached, or kept refusing, after retries.
        RequestError, AuthError, DecodeError: the URL answered, but not as the Gamma API. Each
            message names the venue, the URL and the fix.
    """
    records = await _catalog("polymarket", config=config, base_url=base_url, max_pages=max_pages)
    return [record for record in records if isinstance(record, PolymarketMarketInfo)]


async def _catalog(name: str, *, config: HadronConfig | None, base_url: str | None, max_pages: int) -> list[MarketInfo]:
    from hadron.venues.base import CatalogVenue, get_venue

    venue = get_venue(name)
    if not isinstance(venue, CatalogVenue):
        raise ConfigError(f"venue {name!r} cannot list its markets: match saved responses instead")
    return list(await venue.catalog(config=config, base_url=base_url, max_pages=max_pages))
