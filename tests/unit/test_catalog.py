"""The venues' market catalogues (``hadron markets match`` live): REST clients behind the seam.

Each venue lists its open events through its own REST client (rate limits, retries, error
mapping) and hands back the matcher's records, the same records the saved-file reader makes of
the same JSON. Failures come out as venue errors naming the venue, the URL and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

import hadron.venues.kalshi.catalog as kalshi_catalog
import hadron.venues.polymarket.catalog as polymarket_catalog
from hadron.config import HadronConfig, KalshiConfig
from hadron.errors import ConfigError, DecodeError, RateLimited, RequestError, TransportError
from hadron.match import inputs
from hadron.model.catalog import KalshiMarketInfo, PolymarketMarketInfo, parse_time
from hadron.venues.base import CatalogVenue, get_venue
from hadron.venues.kalshi.rest import KalshiEvent
from hadron.venues.polymarket.rest import decode_gamma_events
from tests.conftest import SHARED_DATA, shared_data

KALSHI = "https://api.elections.kalshi.com/trade-api/v2"
GAMMA = "https://gamma-api.polymarket.com"

MARKET = {
    "ticker": "KXNBAGAME-26JAN06ORLWAS-WAS",
    "event_ticker": "KXNBAGAME-26JAN06ORLWAS",
    "title": "Orlando at Washington Winner?",
    "yes_sub_title": "Washington",
    "no_sub_title": "Washington",
    "strike_type": "structured",
    "floor_strike": 1.5,
    "close_time": "2026-01-21T00:00:00Z",
    "expected_expiration_time": None,
    "expiration_time": "2026-01-21T03:00:00Z",
    "rules_primary": "If Washington wins, YES.",
    "status": "active",
}
EVENTS_PAGE_1 = {
    "events": [
        {
            "event_ticker": "KXNBAGAME-26JAN06ORLWAS",
            "series_ticker": "KXNBAGAME",
            "title": "Orlando at Washington",
            "category": "Sports",
            "mutually_exclusive": True,
            "settlement_sources": [{"name": "NBA", "url": "https://www.nba.com"}],
            "markets": [MARKET, {**MARKET, "ticker": "KXNBAGAME-26JAN06ORLWAS-ORL", "yes_sub_title": "Orlando"}],
        }
    ],
    "cursor": "page-2",
}
EVENTS_PAGE_2 = {
    "events": [
        {"event_ticker": "KXGOLD-26", "series_ticker": "KXGOLD", "title": "Gold", "strike_date": "2026-12-31T00:00:00Z"}
    ],
    "cursor": "",
}
GAMMA_EVENT = {
    "id": "9",
    "slug": "nba-orl-was-2026-01-06",
    "title": "Magic vs. Wizards",
    "endDate": "2026-01-07T00:00:00Z",
    "negRisk": False,
    "description": "The event's rules.",
    "markets": [
        {
            "id": "1",
            "question": "Magic vs. Wizards",
            "conditionId": "0xabc",
            "slug": "nba-orl-was-2026-01-06",
            "outcomes": '["Magic", "Wizards"]',
            "clobTokenIds": '["111", "222"]',
            "sportsMarketType": "moneyline",
            "gameStartTime": "2026-01-07 00:00:00+00",
            "resolutionSource": "https://www.nba.com",
            "description": "The market's rules.",
        }
    ],
}


def _responder(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def _json(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


async def _no_sleep(seconds: float) -> None:
    return None


# -- Kalshi ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_kalshi_catalog_pages_open_events_unsigned_and_matches_the_saved_file_reader() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _json(EVENTS_PAGE_2 if request.url.params.get("cursor") == "page-2" else EVENTS_PAGE_1)

    records = await kalshi_catalog.catalog(base_url=KALSHI, transport=_responder(handler), sleep=_no_sleep)
    assert [r.url.path for r in seen] == ["/trade-api/v2/events"] * 2
    assert dict(seen[0].url.params) == {"limit": "200", "status": "open", "with_nested_markets": "true"}
    assert seen[1].url.params["cursor"] == "page-2"
    assert not any("KALSHI-ACCESS-KEY" in r.headers for r in seen)
    # the same JSON read as a saved response gives the same records
    assert records == inputs.kalshi_records([*EVENTS_PAGE_1["events"], *EVENTS_PAGE_2["events"]])
    was, orl, gold = records
    assert (was.market_ticker, was.yes_sub_title, was.settlement_sources) == (MARKET["ticker"], "Washington", ("NBA",))
    assert was.multi_outcome and was.expiration_time == parse_time("2026-01-21T03:00:00Z")
    assert str(was.floor_strike) == "1.5" and orl.yes_sub_title == "Orlando"
    assert (gold.market_ticker, gold.key, gold.close_time) == ("", "KXGOLD-26", parse_time("2026-12-31T00:00:00Z"))


@pytest.mark.asyncio
async def test_kalshi_catalog_stops_after_max_pages() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return _json(EVENTS_PAGE_1 | {"cursor": f"c{calls}"})

    records = await kalshi_catalog.catalog(base_url=KALSHI, max_pages=3, transport=_responder(handler), sleep=_no_sleep)
    assert calls == 3 and len(records) == 2


@pytest.mark.asyncio
async def test_kalshi_catalog_retries_a_rate_limit_then_succeeds() -> None:
    answers = iter([_json({"error": "too many requests"}, 429), _json(EVENTS_PAGE_2)])
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    records = await kalshi_catalog.catalog(base_url=KALSHI, transport=_responder(lambda r: next(answers)), sleep=sleep)
    assert [r.key for r in records] == ["KXGOLD-26"] and len(sleeps) == 1


@pytest.mark.asyncio
async def test_kalshi_catalog_network_failure_names_venue_url_and_fix_without_credentials() -> None:
    attempts = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransportError) as info:
        await kalshi_catalog.catalog(
            base_url="https://user:secret@kalshi.example/trade-api/v2", transport=_responder(refuse), sleep=_no_sleep
        )
    message = str(info.value)
    assert attempts == 6  # the client's retries applied
    assert message.startswith("kalshi: listing the open events at https://kalshi.example/trade-api/v2/events failed")
    assert "ConnectError" in message and "check the network connection" in message and "--kalshi-url" in message
    assert "secret" not in message and "user" not in message


@pytest.mark.asyncio
async def test_kalshi_catalog_wrong_url_is_a_request_or_decode_error() -> None:
    with pytest.raises(RequestError) as missing:
        await kalshi_catalog.catalog(base_url=KALSHI, transport=_responder(lambda r: _json({"code": "not_found"}, 404)))
    assert missing.value.status == 404 and "REST root, ending in /trade-api/v2" in str(missing.value)
    with pytest.raises(DecodeError, match=r"kalshi: .*REST root"):
        await kalshi_catalog.catalog(base_url=KALSHI, transport=_responder(lambda r: _json({"markets": []})))


@pytest.mark.asyncio
async def test_kalshi_catalog_bad_rate_tier_is_a_config_error() -> None:
    config = HadronConfig(kalshi=KalshiConfig(rate_tier="gold"))
    with pytest.raises(ConfigError, match=r"kalshi.rate_tier 'gold'"):
        await kalshi_catalog.catalog(config=config, base_url=KALSHI, transport=_responder(lambda r: _json({})))


# -- Polymarket ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_polymarket_catalog_pages_gamma_events_and_matches_the_saved_file_reader() -> None:
    seen: list[httpx.Request] = []
    empty_event = {"id": "10", "slug": "empty", "title": "Nothing yet", "negRisk": True}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _json([GAMMA_EVENT, empty_event] if request.url.params["offset"] == "0" else [])

    records = await polymarket_catalog.catalog(base_url=GAMMA, limit=2, transport=_responder(handler), sleep=_no_sleep)
    assert [dict(r.url.params) for r in seen] == [
        {"active": "true", "closed": "false", "limit": "2", "offset": str(offset)} for offset in (0, 2)
    ]
    assert records == inputs.polymarket_records([GAMMA_EVENT, empty_event])
    market, event = records
    assert (market.condition_id, market.outcomes, market.token_ids) == ("0xabc", ("Magic", "Wizards"), ("111", "222"))
    assert (market.sports_market_type, market.resolution_source, market.rules) == (
        "moneyline",
        "https://www.nba.com",
        "The market's rules.",
    )
    assert market.game_start_time == parse_time("2026-01-07T00:00:00Z") and not market.multi_outcome
    assert (event.key, event.condition_id, event.multi_outcome) == ("10", "", True)


@pytest.mark.asyncio
async def test_polymarket_catalog_failures_name_venue_url_and_fix() -> None:
    with pytest.raises(
        RateLimited, match=r"polymarket: listing the open events at https://gamma.example/events .*wait"
    ):
        await polymarket_catalog.catalog(
            base_url="https://gamma.example",
            transport=_responder(lambda r: _json({"error": "slow down"}, 429)),
            sleep=_no_sleep,
        )
    with pytest.raises(DecodeError, match=r"polymarket: .*Gamma API root"):
        await polymarket_catalog.catalog(base_url=GAMMA, transport=_responder(lambda r: _json({"not": "a list"})))


# -- through the seam ------------------------------------------------------------------------------


def test_both_venues_are_catalog_venues() -> None:
    assert isinstance(get_venue("kalshi"), CatalogVenue)
    assert isinstance(get_venue("polymarket"), CatalogVenue)


@pytest.mark.asyncio
async def test_match_inputs_fetch_through_the_venue_seam(monkeypatch: pytest.MonkeyPatch) -> None:
    def kalshi(request: httpx.Request) -> httpx.Response:
        return _json(EVENTS_PAGE_2)

    monkeypatch.setattr(
        kalshi_catalog, "catalog", partial(kalshi_catalog.catalog, transport=_responder(kalshi), sleep=_no_sleep)
    )
    monkeypatch.setattr(
        polymarket_catalog,
        "catalog",
        partial(polymarket_catalog.catalog, transport=_responder(lambda r: _json([GAMMA_EVENT])), sleep=_no_sleep),
    )
    k_records = await inputs.fetch_kalshi(KALSHI)
    p_records = await inputs.fetch_polymarket(GAMMA)
    assert [type(r) for r in k_records] == [KalshiMarketInfo] and k_records[0].key == "KXGOLD-26"
    assert [type(r) for r in p_records] == [PolymarketMarketInfo] and p_records[0].key == "0xabc"


@pytest.mark.asyncio
async def test_match_inputs_network_failure_is_a_venue_error_not_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(
        polymarket_catalog,
        "catalog",
        partial(polymarket_catalog.catalog, transport=_responder(refuse), sleep=_no_sleep),
    )
    with pytest.raises(TransportError, match=r"polymarket: .*gamma-api\.polymarket\.com/events") as info:
        await inputs.fetch_polymarket(GAMMA)
    assert not isinstance(info.value, ConfigError)


# -- real responses --------------------------------------------------------------------------------


@pytest.mark.data
def test_live_records_equal_saved_file_records_on_real_responses() -> None:
    # The live path (typed REST structs → records) and the saved-file reader agree on real events.
    gamma_dir = shared_data(SHARED_DATA / "nautechsystems__nautilus_trader/crates/adapters/polymarket/test_data")
    kalshi_dir = shared_data(SHARED_DATA / "zkiihne__kalshi-gold15m-sample/metadata")
    compared = 0
    for path in sorted(gamma_dir.glob("gamma_*.json")):
        objects = [obj for doc in inputs._documents(path) for obj in inputs._objects(doc, str(path))]
        events = [obj for obj in objects if "markets" in obj and "question" not in obj and "conditionId" not in obj]
        if events:
            typed = decode_gamma_events(json.dumps(events).encode())
            assert polymarket_catalog.catalog_records(typed) == inputs.polymarket_records(events, str(path))
            compared += 1
    decoder = msgspec.json.Decoder(KalshiEvent)
    for path in [
        *sorted(kalshi_dir.glob("*.json")),
        SHARED_DATA / "SagnikBhadra__Arbitrage-Betting/statics/events.json",
    ]:
        if not path.exists():
            continue
        objects = [obj for doc in inputs._documents(path) for obj in inputs._objects(doc, str(path))]
        events = [obj for obj in objects if "event_ticker" in obj and "ticker" not in obj]
        if events:
            typed = [decoder.decode(json.dumps(event).encode()) for event in events]
            assert kalshi_catalog.catalog_records(typed) == inputs.kalshi_records(events, str(path))
            compared += 1
    assert compared >= 2


def test_offline_mode_still_reads_saved_files(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text(json.dumps(EVENTS_PAGE_1))
    (tmp_path / "p.json").write_text(json.dumps({"response": [GAMMA_EVENT]}))
    assert [r.key for r in inputs.load_kalshi([tmp_path / "k.json"])] == [
        MARKET["ticker"],
        "KXNBAGAME-26JAN06ORLWAS-ORL",
    ]
    assert [r.key for r in inputs.load_polymarket([tmp_path / "p.json"])] == ["0xabc"]
