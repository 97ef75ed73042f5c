"""Kalshi REST client on httpx.MockTransport: signing, pagination, retries, errors, limits, decoding."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hadron.book.manager import BookManager, BookState
from hadron.errors import AuthError, ConfigError, DecodeError, RateLimited, RequestError, TransportError
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key, verify_headers
from hadron.venues.kalshi.fees import KalshiFeeSchedule
from hadron.venues.kalshi.poll import POLLED, KalshiPoller
from hadron.venues.kalshi.rest import (
    KalshiInstrumentProvider,
    KalshiOrderbookResponse,
    KalshiRateLimiter,
    KalshiRestClient,
    normalize_rest_orderbook,
    parse_error_body,
    tick_of,
)

BASE = "https://external-api.demo.kalshi.co/trade-api/v2"

# Official example (docs orderbook_responses.md, docs/protocols/kalshi.md#rest)
ORDERBOOK = b'{"orderbook_fp":{"yes_dollars":[["0.0100","200.00"],["0.4200","13.00"]],"no_dollars":[["0.0100","100.00"],["0.5600","17.00"]]}}'
# Real 401 body (docs/protocols/kalshi.md#authentication), the OpenAPI ErrorResponse shape, and the 429 body
AUTH_BODY = b'{"error":{"code":"authentication_error","message":"authentication_error","details":"rpc error: code = Unauthenticated desc = INCORRECT_API_KEY_SIGNATURE"}}'
FLAT_BODY = b'{"code":"invalid_parameters","message":"invalid parameters","details":"limit must be at most 1000"}'
TOO_MANY = b'{"error":"too many requests"}'
# A market from a real GET /events/KXGOLD15M-26AUG050000 capture (trimmed)
MARKET = {
    "can_close_early": True,
    "close_time": "2026-08-05T04:00:00Z",
    "event_ticker": "KXGOLD15M-26AUG050000",
    "expected_expiration_time": "2026-08-05T04:05:00Z",
    "floor_strike": 4128.56,
    "last_price_dollars": "0.2800",
    "market_type": "binary",
    "open_interest_fp": "6556.98",
    "open_time": "2026-08-05T03:45:00Z",
    "price_level_structure": "linear_cent",
    "price_ranges": [{"end": "1.0000", "start": "0.0000", "step": "0.0100"}],
    "result": "no",
    "settlement_value_dollars": "0.0000",
    "status": "finalized",
    "strike_type": "greater_or_equal",
    "ticker": "KXGOLD15M-26AUG050000-00",
    "title": "Gold price up in next 15 mins?",
    "volume_fp": "23727.91",
    "yes_ask_dollars": "1.0000",
    "yes_bid_dollars": "0.0000",
    "yes_sub_title": "Target Price: $4,128.56",
}
EVENT = {"event_ticker": "KXGOLD15M-26AUG050000", "series_ticker": "KXGOLD15M", "title": "Gold 15 min"}

Handler = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(handler: Handler, fake: FakeTime | None = None, **kwargs: Any) -> KalshiRestClient:
    fake = fake or FakeTime()
    return KalshiRestClient(
        BASE,
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 0.5,
        **kwargs,
    )


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"Content-Type": "application/json", **(headers or {})})


# -- signing ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_requests_are_signed_over_the_path_without_query() -> None:
    key, _, _ = generate_test_key()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response({"markets": [MARKET], "cursor": ""})

    async with make_client(handler, signer=KalshiSigner("key-id", key)) as rest:
        await rest.get_markets(status="open", limit=5)
    request = seen[0]
    assert request.url.path == "/trade-api/v2/markets"
    assert request.url.params["limit"] == "5"
    assert request.url.params["status"] == "open"
    assert request.headers["KALSHI-ACCESS-KEY"] == "key-id"
    assert verify_headers(key.public_key(), request.headers, "GET", "/trade-api/v2/markets") is None
    assert verify_headers(key.public_key(), request.headers, "GET", str(request.url.raw_path.decode())) is None
    # the signature covers exactly the path: a different path does not verify
    assert verify_headers(key.public_key(), request.headers, "GET", "/trade-api/v2/events") is not None
    assert "?" not in request.url.path


@pytest.mark.asyncio
async def test_unsigned_client_sends_no_auth_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response({"exchange_active": True, "trading_active": False})

    async with make_client(handler) as rest:
        status = await rest.get_exchange_status()
    assert status.exchange_active and not status.trading_active
    assert "KALSHI-ACCESS-SIGNATURE" not in seen[0].headers


def test_signer_repr_hides_the_key() -> None:
    key, _, _ = generate_test_key()
    client = KalshiRestClient(
        BASE, signer=KalshiSigner("abc", key), transport=httpx.MockTransport(lambda r: json_response({}))
    )
    assert "**" in repr(client) and "PRIVATE" not in repr(client)
    asyncio.run(client.aclose())


# -- pagination ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_market_pagination_follows_cursors_until_empty() -> None:
    pages = {
        None: {"markets": [dict(MARKET, ticker="A")], "cursor": "c1"},
        "c1": {"markets": [dict(MARKET, ticker="B"), dict(MARKET, ticker="C")], "cursor": "c2"},
        "c2": {"markets": [], "cursor": ""},
    }
    cursors: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        cursors.append(cursor)
        assert request.url.params["tickers"] == "A,B,C"
        assert request.url.params["limit"] == "2"
        return json_response(pages[cursor])

    async with make_client(handler) as rest:
        markets = await rest.get_markets(tickers=["A", "B", "C"], limit=2)
        streamed = [m.ticker async for m in rest.iter_markets(tickers=["A", "B", "C"], limit=2)]
    assert [m.ticker for m in markets] == ["A", "B", "C"] == streamed
    assert cursors == [None, "c1", "c2"] * 2


@pytest.mark.asyncio
async def test_null_cursor_ends_and_null_lists_are_empty() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return json_response({"events": None, "cursor": None})
        return json_response({"trades": [{"ticker": "A", "count_fp": "1.00", "yes_price_dollars": "0.4200"}]})

    async with make_client(handler) as rest:
        assert await rest.get_events() == []
        trades = await rest.get_trades("A")
    assert [(t.ticker, t.count_fp, t.yes_price_dollars) for t in trades] == [("A", "1.00", "0.4200")]


@pytest.mark.asyncio
async def test_events_and_trades_paginate() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        second = params.get("cursor") == "next"
        if request.url.path.endswith("/events"):
            assert params["with_nested_markets"] == "true"
            assert params["series_ticker"] == "KXGOLD15M"
            event = dict(EVENT, event_ticker="E2" if second else "E1", markets=[MARKET])
            return json_response({"events": [event], "cursor": "" if second else "next"})
        assert params["ticker"] == "A"
        assert (params["min_ts"], params["max_ts"]) == ("100", "200")
        trade = {"trade_id": "t2" if second else "t1", "ticker": "A", "count_fp": "2.00", "yes_price_dollars": "0.5000"}
        return json_response({"trades": [trade], "cursor": "" if second else "next"})

    async with make_client(handler) as rest:
        events = await rest.get_events(series_ticker="KXGOLD15M", with_nested_markets=True)
        trades = await rest.get_trades("A", min_ts=100, max_ts=200)
    assert [e.event_ticker for e in events] == ["E1", "E2"]
    assert events[0].markets is not None and events[0].markets[0].ticker == MARKET["ticker"]
    assert [t.trade_id for t in trades] == ["t1", "t2"]


@pytest.mark.asyncio
async def test_a_repeated_cursor_is_a_decode_error() -> None:
    async with make_client(lambda r: json_response({"markets": [], "cursor": "same"})) as rest:
        with pytest.raises(DecodeError, match="twice"):
            await rest.get_markets()


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_429_is_retried_with_jittered_exponential_backoff() -> None:
    fake = FakeTime()
    statuses = iter([429, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return json_response(TOO_MANY if status == 429 else ORDERBOOK, status)

    async with make_client(handler, fake) as rest:
        book = await rest.get_orderbook("KXGOLD15M-26AUG050000-00")
        assert rest.retries == 2 and rest.requests == 3
    assert book.orderbook_fp.yes_dollars == [("0.0100", "200.00"), ("0.4200", "13.00")]
    # base 0.5 × 2**attempt, plus 25 % × random() (0.5) jitter; the rate limiter never waited
    assert fake.sleeps == [0.5625, 1.125]


@pytest.mark.asyncio
async def test_retry_after_is_honoured() -> None:
    fake = FakeTime()
    statuses = iter([429, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status == 200:
            return json_response(ORDERBOOK)
        return json_response(TOO_MANY, status, {"Retry-After": "3" if status == 429 else "7"})

    async with make_client(handler, fake) as rest:
        await rest.get_orderbook("X")
    assert fake.sleeps == [3.0, 7.0]


@pytest.mark.asyncio
async def test_backoff_is_capped() -> None:
    fake = FakeTime()
    async with make_client(lambda r: json_response(b"{}", 502), fake, max_retries=8, backoff_max=4.0) as rest:
        with pytest.raises(TransportError, match="502"):
            await rest.get_exchange_status()
        assert rest.requests == 9
    assert fake.sleeps == [0.5625, 1.125, 2.25, 4.5, 4.5, 4.5, 4.5, 4.5]


@pytest.mark.asyncio
async def test_5xx_is_retried_then_succeeds() -> None:
    statuses = iter([500, 503, 504, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return json_response({"market": MARKET} if status == 200 else b"upstream error", status)

    async with make_client(handler) as rest:
        market = await rest.get_market(MARKET["ticker"])
    assert market.floor_strike == Decimal("4128.56")


@pytest.mark.asyncio
async def test_exhausted_retries_raise_rate_limited_or_transport_error() -> None:
    fake = FakeTime()
    async with make_client(lambda r: json_response(TOO_MANY, 429), fake, max_retries=2) as rest:
        with pytest.raises(RateLimited, match="too many requests") as info:
            await rest.get_markets()
        assert rest.requests == 3
    assert info.value.retry_after is None
    assert len(fake.sleeps) == 2

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with make_client(refuse, max_retries=1) as rest:
        with pytest.raises(TransportError, match="ConnectError"):
            await rest.get_markets()
        assert rest.requests == 2


@pytest.mark.asyncio
async def test_timeouts_are_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return json_response({"series": {"ticker": "KXGOLD15M", "fee_type": "quadratic", "fee_multiplier": 1}})

    async with make_client(handler) as rest:
        series = await rest.get_series("KXGOLD15M")
    assert (series.fee_type, series.fee_multiplier) == ("quadratic", Decimal(1))
    assert calls == 2


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_are_not_retried(status: int) -> None:
    fake = FakeTime()
    async with make_client(lambda r: json_response(AUTH_BODY, status), fake) as rest:
        with pytest.raises(AuthError, match=r"authentication_error.*INCORRECT_API_KEY_SIGNATURE"):
            await rest.get_markets()
        assert rest.requests == 1
    assert fake.sleeps == []


@pytest.mark.asyncio
async def test_other_4xx_raise_request_error_with_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/orderbook"):
            return json_response({"error": {"code": "not_found", "message": "not found"}}, 404)
        return json_response(FLAT_BODY, 400)

    async with make_client(handler) as rest:
        with pytest.raises(RequestError) as missing:
            await rest.get_orderbook("NOPE")
        with pytest.raises(RequestError) as bad:
            await rest.get_markets(limit=5000)
        assert rest.requests == 2
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert (bad.value.status, bad.value.code) == (400, "invalid_parameters")
    assert "invalid parameters" in str(bad.value)


def test_the_three_error_body_shapes() -> None:
    nested = parse_error_body(AUTH_BODY)
    assert (nested.code, nested.message) == ("authentication_error", "authentication_error")
    assert nested.details.endswith("INCORRECT_API_KEY_SIGNATURE")
    flat = parse_error_body(FLAT_BODY)
    assert (flat.code, flat.message, flat.details) == (
        "invalid_parameters",
        "invalid parameters",
        "limit must be at most 1000",
    )
    string = parse_error_body(TOO_MANY)
    assert (string.code, string.message) == ("", "too many requests")
    other = parse_error_body(b"<html>502 Bad Gateway</html>")
    assert other.message == "<html>502 Bad Gateway</html>"


@pytest.mark.asyncio
async def test_malformed_bodies_raise_decode_error() -> None:
    bodies = iter(
        [
            b"{not json",
            b'{"markets": "many", "cursor": ""}',
            b'{"cursor": ""}',
            b'{"series": {"ticker": "S"}}',
            b'{"orderbook": {"yes": [[42, 13]], "no": null}}',
        ]
    )
    async with make_client(lambda r: json_response(next(bodies))) as rest:
        with pytest.raises(DecodeError, match="GET /markets"):
            await rest.get_markets()
        with pytest.raises(DecodeError, match="markets"):
            await rest.get_markets()
        with pytest.raises(DecodeError, match="markets"):
            await rest.get_markets()
        with pytest.raises(DecodeError, match="fee_type"):
            await rest.get_series("S")
        # the legacy integer-cent book must not read as an empty book
        with pytest.raises(DecodeError, match="orderbook_fp"):
            await rest.get_orderbook("T")


# -- rate limits -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rate_limiter_paces_requests() -> None:
    fake = FakeTime()
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(fake.now)
        return json_response({"exchange_active": True, "trading_active": True})

    async with make_client(handler, fake, rate_tier="basic") as rest:
        for _ in range(45):
            await rest.get_exchange_status()
        # basic: 200 tokens/s, 10 per read, bucket 2 s = 40 reads; then one read every 50 ms
        assert times[39] == 1000.0
        assert times[44] == pytest.approx(1000.25)
        assert rest.limiter.waited == pytest.approx(0.25)


@pytest.mark.asyncio
async def test_rate_limiter_serves_concurrent_callers_in_turn() -> None:
    fake = FakeTime()
    limiter = KalshiRateLimiter(100, 20, clock=fake.clock, sleep=fake.sleep)
    waits = await asyncio.gather(*(limiter.acquire(10) for _ in range(4)))
    assert waits == [0.0, 0.0, pytest.approx(0.1), pytest.approx(0.1)]
    assert fake.now == pytest.approx(1000.2)


def test_rate_tiers() -> None:
    assert (KalshiRateLimiter.for_tier("basic").rate, KalshiRateLimiter.for_tier("basic").capacity) == (200, 400)
    assert (KalshiRateLimiter.for_tier("Advanced").rate, KalshiRateLimiter.for_tier("advanced").capacity) == (300, 600)
    assert KalshiRateLimiter.for_tier("premier").capacity == 1000
    assert KalshiRateLimiter.for_tier("prime").capacity == 4000
    with pytest.raises(ConfigError, match="'gold'"):
        KalshiRateLimiter.for_tier("gold")
    with pytest.raises(ValueError, match="capacity"):
        asyncio.run(KalshiRateLimiter(1, 5).acquire(10))


# -- normalization, events, instruments ------------------------------------------------------


def test_normalize_rest_orderbook_official_example() -> None:
    import msgspec

    resp = msgspec.json.decode(ORDERBOOK, type=KalshiOrderbookResponse)
    snap = normalize_rest_orderbook("KXTEST-1", resp, 123)
    assert snap.instrument == "kalshi:KXTEST-1"
    assert snap.bids == ((4200, 13_000_000), (100, 200_000_000))
    assert snap.asks == ((4400, 17_000_000), (9900, 100_000_000))
    assert (snap.ts_event, snap.ts_recv, snap.tick) == (123, 123, 0)


def test_normalize_rest_orderbook_null_and_missing_sides() -> None:
    import msgspec

    for body in (
        b'{"orderbook_fp":{"yes_dollars":null,"no_dollars":[["0.5500","20.00"]]}}',
        b'{"orderbook_fp":{"no_dollars":[["0.5500","20.00"]]}}',
    ):
        snap = normalize_rest_orderbook("T", msgspec.json.decode(body, type=KalshiOrderbookResponse), 1, tick=100)
        assert snap.bids == ()
        assert snap.asks == ((4500, 20_000_000),)
        assert snap.tick == 100
    empty = normalize_rest_orderbook("T", msgspec.json.decode(b'{"orderbook_fp":{}}', type=KalshiOrderbookResponse), 1)
    assert empty.bids == () and empty.asks == ()


@pytest.mark.asyncio
async def test_get_event_takes_markets_from_the_top_level_list() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["with_nested_markets"] == "true"
        return json_response({"event": EVENT, "markets": [MARKET]})

    async with make_client(handler) as rest:
        event = await rest.get_event("KXGOLD15M-26AUG050000")
    assert event.series_ticker == "KXGOLD15M"
    assert event.markets is not None and [m.ticker for m in event.markets] == [MARKET["ticker"]]


def test_tick_of_price_grids() -> None:
    import msgspec

    from hadron.venues.kalshi.messages import KalshiPriceRange

    tapered = msgspec.json.decode(
        b'[{"start":"0.0000","end":"0.1000","step":"0.0010"},{"start":"0.1000","end":"0.9000","step":"0.0100"},{"start":"0.9000","end":"1.0000","step":"0.0010"}]',
        type=list[KalshiPriceRange],
    )
    assert tick_of(tapered) == 10
    assert tick_of(None) == tick_of([]) == 100
    with pytest.raises(DecodeError):
        tick_of([KalshiPriceRange("0", "1", "0.00001")])


@pytest.mark.asyncio
async def test_instrument_provider_applies_event_fee_overrides() -> None:
    deci = dict(
        MARKET,
        ticker="M2",
        price_level_structure="deci_cent",
        price_ranges=[{"start": "0.0000", "end": "1.0000", "step": "0.0010"}],
    )
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.path)
        path = request.url.path.removeprefix("/trade-api/v2")
        if path == "/markets":
            wanted = request.url.params["tickers"].split(",")
            return json_response({"markets": [m for m in (MARKET, deci) if m["ticker"] in wanted], "cursor": ""})
        if path.startswith("/events/"):
            assert request.url.params["with_nested_markets"] == "false"
            return json_response(
                {
                    "event": dict(EVENT, fee_type_override="quadratic_with_maker_fees", fee_multiplier_override=0.5),
                    "markets": [],
                }
            )
        assert path == "/series/KXGOLD15M"
        return json_response({"series": {"ticker": "KXGOLD15M", "fee_type": "quadratic", "fee_multiplier": 1}})

    async with make_client(handler) as rest:
        provider = KalshiInstrumentProvider(rest)
        loaded = await provider.load([MARKET["ticker"], "M2", "GONE", "M2"])
        again = await provider.load(["M2"])
    assert list(loaded) == [MARKET["ticker"], "M2"]
    assert requested.count("/trade-api/v2/markets") == 2
    first = loaded[MARKET["ticker"]]
    assert (first.tick, first.series_ticker, first.status, first.instrument) == (
        100,
        "KXGOLD15M",
        "finalized",
        f"kalshi:{MARKET['ticker']}",
    )
    assert loaded["M2"].tick == 10
    assert first.fees == KalshiFeeSchedule("quadratic_with_maker_fees", Decimal("0.5"))
    # events and series are fetched once and cached
    assert requested.count("/trade-api/v2/events/KXGOLD15M-26AUG050000") == 1
    assert requested.count("/trade-api/v2/series/KXGOLD15M") == 1
    assert again["M2"] == loaded["M2"]


# -- poller ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_poller_counts_failures_and_stops_on_auth_error() -> None:
    statuses = iter([200, 404, 500, 200, 401])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status == 200:
            return json_response(ORDERBOOK)
        return json_response(AUTH_BODY if status == 401 else {"error": {"code": "not_found", "message": "x"}}, status)

    books = BookManager()
    seen: list[str] = []
    async with make_client(handler, max_retries=0) as rest:
        poller = KalshiPoller(
            rest, books, ["A", "B", "C"], on_event=lambda snap: seen.append(snap.instrument), interval=0
        )
        await poller.poll_once()
        assert (
            poller.stats.polls,
            poller.stats.errors,
            poller.stats.request_errors,
            poller.stats.transport_errors,
        ) == (1, 2, 1, 1)
        assert poller.stats.cycles == 1
        assert seen == ["kalshi:A"]
        book = books.get("kalshi:A")
        assert book is not None and book.state is BookState.LIVE and book.polled and book.source is POLLED
        with pytest.raises(AuthError):
            await poller.run(asyncio.Event())
    assert poller.stats.polls == 2
