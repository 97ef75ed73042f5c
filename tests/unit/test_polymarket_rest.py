"""Polymarket CLOB and Gamma clients on httpx.MockTransport serving real captured bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from hadron.errors import AuthError, DecodeError, RateLimited, RequestError, TransportError
from hadron.venues.polymarket.fees import PolymarketFeeSchedule
from hadron.venues.polymarket.hash import verify_book
from hadron.venues.polymarket.rest import (
    CLOB_LIMITS,
    END_CURSOR,
    GAMMA_LIMITS,
    START_CURSOR,
    PolymarketClobClient,
    PolymarketGammaClient,
    PolymarketInstrumentProvider,
    PolymarketRateLimiter,
    decode_book,
    decode_gamma_markets,
    normalize_rest_book,
    parse_error_body,
    price_units,
    size_text,
)
from tests.conftest import SHARED_DATA, shared_data

NAUTILUS = SHARED_DATA / "nautechsystems__nautilus_trader"
TEST_DATA = NAUTILUS / "crates" / "adapters" / "polymarket" / "test_data"
HTTP_RESPONSES = NAUTILUS / "tests" / "integration_tests" / "adapters" / "polymarket" / "resources" / "http_responses"

# the real REST token of clob_book_response_empty_ask.json
EMPTY_ASK_TOKEN = "72610532355343625199299853218161700546393390326785971247545541945337255643692"
# gamma_market_live.json
LIVE_CONDITION = "0x0f49db97f71c68b1e42a6d16e3de93d85dbf7d4148e3f018eb79e88554be9f75"
LIVE_YES = "54533043819946592547517511176940999955633860128497669742211153063842200957669"
LIVE_NO = "87854174148074652060467921081181402357467303721471806610111179101805869578687"
# CLOB error bodies as documented (docs §7)
NO_BOOK = b'{"error":"No orderbook exists for the requested token id"}'
INVALID_TOKEN = b'{"error":"Invalid token id"}'

Handler = Callable[[httpx.Request], httpx.Response]


def read(path: Path) -> bytes:
    return shared_data(path).read_bytes()


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


def clob(handler: Handler, fake: FakeTime | None = None, **kwargs: Any) -> PolymarketClobClient:
    fake = fake or FakeTime()
    return PolymarketClobClient(
        transport=httpx.MockTransport(handler), sleep=fake.sleep, clock=fake.clock, random=lambda: 0.5, **kwargs
    )


def gamma(handler: Handler, fake: FakeTime | None = None, **kwargs: Any) -> PolymarketGammaClient:
    fake = fake or FakeTime()
    return PolymarketGammaClient(
        transport=httpx.MockTransport(handler), sleep=fake.sleep, clock=fake.clock, random=lambda: 0.5, **kwargs
    )


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"Content-Type": "application/json", **(headers or {})})


# -- CLOB: markets -----------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.asyncio
async def test_clob_market_pages_follow_next_cursor_until_lte() -> None:
    page = json.loads(read(HTTP_RESPONSES / "markets.json"))
    assert page["next_cursor"] == "MTAw" and len(page["data"]) == 100
    last = page | {"next_cursor": END_CURSOR, "data": page["data"][:3]}
    cursors: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/markets"
        cursor = request.url.params["next_cursor"]
        cursors.append(cursor)
        return respond(page if cursor == START_CURSOR else last)

    async with clob(handler) as rest:
        markets = await rest.get_markets()
        streamed = [m.condition_id async for m in rest.iter_markets()]
    assert cursors == ["MA==", "MTAw"] * 2
    assert len(markets) == 103 == len(streamed)
    first = markets[0]
    assert first.condition_id == "0x12a0cb60174abc437bf1178367c72d11f069e1a3add20b148fb0ab4279b772b2"
    assert [t.outcome for t in first.tokens] == ["Yes", "No"]
    assert first.tokens[0].token_id == "10715043962341292242163832255523703116280692082153281340642602592290195499485"
    assert first.tokens[1].winner and first.tokens[1].price == 1
    # JSON numbers decode to exact decimals, never floats
    assert {m.minimum_tick_size for m in markets} == {Decimal("0.01"), Decimal("0.001")}
    assert Decimal("14.96") in {m.minimum_order_size for m in markets}
    assert all(isinstance(m.minimum_tick_size, Decimal) for m in markets)
    assert all(isinstance(t.token_id, str) and len(t.token_id) <= 78 for m in markets for t in m.tokens)


@pytest.mark.asyncio
async def test_a_repeated_or_empty_cursor() -> None:
    async with clob(lambda r: respond({"data": [], "next_cursor": "MTAw"})) as rest:
        with pytest.raises(DecodeError, match="twice"):
            await rest.get_markets()
    async with clob(lambda r: respond({"data": [], "next_cursor": ""})) as rest:
        assert await rest.get_markets() == []
        assert rest.requests == 1


@pytest.mark.data
@pytest.mark.asyncio
async def test_get_market_by_condition_id() -> None:
    body = read(HTTP_RESPONSES / "market.json")
    condition_id = json.loads(body)["condition_id"]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/markets/{condition_id}"
        return respond(body)

    async with clob(handler) as rest:
        market = await rest.get_market(condition_id)
    assert market.question == "Will Donald Trump win the 2024 US Presidential Election?"
    assert (market.minimum_tick_size, market.minimum_order_size) == (Decimal("0.001"), Decimal(5))
    assert market.accepting_orders and market.enable_order_book and not market.closed


# -- CLOB: books -------------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.asyncio
async def test_get_book_on_the_real_empty_ask_body() -> None:
    body = read(TEST_DATA / "clob_book_response_empty_ask.json")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET" and request.url.path == "/book"
        assert request.url.params["token_id"] == EMPTY_ASK_TOKEN
        return respond(body)

    async with clob(handler) as rest:
        book = await rest.get_book(EMPTY_ASK_TOKEN)
        line, raw = await rest.get_book_raw(EMPTY_ASK_TOKEN)
    assert (book.tick_size, book.min_order_size, book.neg_risk, book.last_trade_price) == ("0.001", "5", True, "")
    assert book.bids is not None and [b.price for b in book.bids] == ["0.001", "0.002"]  # worst first, as sent
    assert verify_book(book) is True
    assert line == f"GET /book?token_id={EMPTY_ASK_TOKEN}"
    assert raw == body and decode_book(raw) == book

    snap = normalize_rest_book(book, ts_recv=1_785_734_468_600_000_000)
    assert snap.instrument == f"polymarket:{EMPTY_ASK_TOKEN}"
    assert snap.bids == ((20, 6_990_000), (10, 667_120_000))  # best bid 0.002 first
    assert snap.asks == ()
    assert (snap.tick, snap.ts_event, snap.ts_recv) == (10, 1_785_734_468_581_000_000, 1_785_734_468_600_000_000)


@pytest.mark.data
@pytest.mark.asyncio
async def test_old_book_body_normalizes_best_first() -> None:
    async with clob(lambda r: respond(read(HTTP_RESPONSES / "book.json"))) as rest:
        book = await rest.get_book("23360939988679364027624185518382759743328544433592111535569478055890815567848")
    snap = normalize_rest_book(book, 1)
    assert snap.bids[0] == (1000, 125_000_000) and snap.bids[-1] == (100, 1_000_000_000)
    assert snap.asks[0] == (1400, 705_000_000) and snap.asks[-1] == (9800, 5_000_000_000)
    assert snap.tick == 0  # the 2024 body has no tick_size
    assert verify_book(book, min_order_size="5", neg_risk=False) is None


@pytest.mark.data
@pytest.mark.asyncio
async def test_get_books_posts_batches_of_100() -> None:
    template = json.loads(read(TEST_DATA / "clob_book_response_empty_ask.json"))
    bodies: list[list[dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/books"
        assert request.headers["Content-Type"] == "application/json"
        wanted = json.loads(request.content)
        bodies.append(wanted)
        return respond([template | {"asset_id": item["token_id"]} for item in wanted])

    tokens = [str(10**76 + i) for i in range(250)]
    async with clob(handler) as rest:
        books = await rest.get_books(tokens)
        assert await rest.get_books([]) == []
        assert rest.requests == 3
    assert [len(b) for b in bodies] == [100, 100, 50]
    assert bodies[0][0] == {"token_id": tokens[0]}
    assert [b.asset_id for b in books] == tokens


# -- CLOB: fee rate and tick size --------------------------------------------------------------


@pytest.mark.data
@pytest.mark.asyncio
async def test_fee_rate_and_tick_size() -> None:
    bodies = iter([read(TEST_DATA / "clob_fee_rate_response_nonzero.json"), b'{"base_fee":30}', b'{"base_fee":"x"}'])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["token_id"] == LIVE_YES
        if request.url.path == "/tick-size":
            return respond(b'{"minimum_tick_size":0.01}')
        assert request.url.path == "/fee-rate"
        return respond(next(bodies))

    async with clob(handler) as rest:
        assert await rest.get_fee_rate(LIVE_YES) == 150  # the real body sends a string
        assert await rest.get_fee_rate(LIVE_YES) == 30  # the documented number
        with pytest.raises(DecodeError, match="base_fee"):
            await rest.get_fee_rate(LIVE_YES)
        tick = await rest.get_tick_size(LIVE_YES)
    assert tick == Decimal("0.01") and isinstance(tick, Decimal)


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.asyncio
async def test_429_is_retried_with_jittered_exponential_backoff() -> None:
    fake = FakeTime()
    statuses = iter([429, 429, 200])
    body = read(TEST_DATA / "clob_book_response_empty_ask.json")

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return respond(b'{"error":"Too Many Requests"}' if status == 429 else body, status)

    async with clob(handler, fake) as rest:
        book = await rest.get_book(EMPTY_ASK_TOKEN)
        assert (rest.retries, rest.requests) == (2, 3)
    assert book.asset_id == EMPTY_ASK_TOKEN
    # 0.5 × 2**attempt plus 25 % × random() (0.5) jitter; the limiters never waited
    assert fake.sleeps == [0.5625, 1.125]


@pytest.mark.asyncio
async def test_retry_after_header_and_body_are_honoured() -> None:
    fake = FakeTime()
    replies = iter(
        [
            respond(b'{"error":"slow down"}', 429, {"Retry-After": "3"}),
            respond(b'{"error":"slow down","retry_after_seconds":7}', 429),
            respond(b'{"error":"restarting"}', 425, {"Retry-After": "2"}),
            respond({"minimum_tick_size": "0.001"}),
        ]
    )
    async with clob(lambda r: next(replies), fake) as rest:
        assert await rest.get_tick_size("1") == Decimal("0.001")
    assert fake.sleeps == [3.0, 7.0, 2.0]


@pytest.mark.asyncio
async def test_425_5xx_and_network_failures_are_retried() -> None:
    fake = FakeTime()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if calls == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        if calls <= 5:
            return respond(b"<html>bad gateway</html>", [425, 502, 503][calls - 3])
        return respond({"base_fee": 0})

    async with clob(handler, fake) as rest:
        assert await rest.get_fee_rate("1") == 0
        assert rest.retries == 5
    assert fake.sleeps == [0.5625, 1.125, 2.25, 4.5, 9.0]


@pytest.mark.asyncio
async def test_exhausted_retries_raise_the_last_failure() -> None:
    fake = FakeTime()
    async with clob(lambda r: respond(b'{"error":"Too Many Requests"}', 429), fake, max_retries=2) as rest:
        with pytest.raises(RateLimited, match="Too Many Requests") as info:
            await rest.get_book("1")
        assert rest.requests == 3
    assert info.value.retry_after is None
    async with clob(lambda r: respond(b"upstream", 500), max_retries=3, backoff_max=1.0) as rest:
        with pytest.raises(TransportError, match="HTTP 500"):
            await rest.get_book("1")
        assert rest.requests == 4

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with clob(refuse, max_retries=0) as rest:
        with pytest.raises(TransportError, match="ConnectError"):
            await rest.get_book("1")


@pytest.mark.asyncio
async def test_backoff_is_capped() -> None:
    fake = FakeTime()
    async with gamma(lambda r: respond(b"{}", 503), fake, max_retries=6, backoff_max=4.0) as rest:
        with pytest.raises(TransportError, match="503"):
            await rest.get_markets()
    assert fake.sleeps == [0.5625, 1.125, 2.25, 4.5, 4.5, 4.5]


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_are_not_retried(status: int) -> None:
    fake = FakeTime()
    async with clob(lambda r: respond(b'{"error":"Unauthorized/Invalid api key"}', status), fake) as rest:
        with pytest.raises(AuthError, match="Invalid api key"):
            await rest.get_book("1")
        assert rest.requests == 1
    assert fake.sleeps == []


@pytest.mark.asyncio
async def test_other_4xx_raise_request_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["token_id"] == "404":
            return respond(NO_BOOK, 404)
        return respond(b'{"error":"Invalid token id","code":"INVALID_TOKEN"}', 400)

    async with clob(handler) as rest:
        with pytest.raises(RequestError, match="No orderbook exists") as missing:
            await rest.get_book("404")
        with pytest.raises(RequestError) as invalid:
            await rest.get_book("abc")
        assert rest.requests == 2
    assert (missing.value.status, missing.value.code) == (404, "")
    assert (invalid.value.status, invalid.value.code) == (400, "INVALID_TOKEN")


def test_error_body_shapes() -> None:
    assert parse_error_body(NO_BOOK).message == "No orderbook exists for the requested token id"
    limited = parse_error_body(b'{"error":"rate limited","code":429,"retry_after_seconds":1.5}')
    assert (limited.code, limited.retry_after) == ("429", 1.5)
    assert parse_error_body(b'{"message":"not found"}').message == "not found"
    assert parse_error_body(b"<html>502 Bad Gateway</html>").message == "<html>502 Bad Gateway</html>"


@pytest.mark.asyncio
async def test_malformed_bodies_raise_decode_error() -> None:
    bodies = iter(
        [
            b"{not json",
            b'{"bids": []}',
            b'{"data": "many", "next_cursor": "LTE="}',
            b'{"minimum_tick_size": "fine"}',
            b'{"market": "0x1", "asset_id": "1", "timestamp": "17"}',
        ]
    )
    async with clob(lambda r: respond(next(bodies))) as rest:
        with pytest.raises(DecodeError, match="GET /book"):
            await rest.get_book("1")
        with pytest.raises(DecodeError, match="market"):
            await rest.get_book("1")
        with pytest.raises(DecodeError, match="data"):
            await rest.get_markets()
        with pytest.raises(DecodeError, match="minimum_tick_size"):
            await rest.get_tick_size("1")
        with pytest.raises(DecodeError, match="POST /books"):
            await rest.get_books(["1"])
    with pytest.raises(DecodeError):
        decode_book(b"\xff\xfe")


# -- rate limits -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rate_limiter_paces_book_requests_with_an_injected_clock() -> None:
    fake = FakeTime()
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(fake.now)
        if request.url.path == "/tick-size":
            return respond({"minimum_tick_size": 0.01})
        return respond({"market": "0x1", "asset_id": "1", "timestamp": "1", "bids": [], "asks": []})

    limits = {"general": (4, 10.0), "book": (3, 10.0)}
    async with clob(handler, fake, limits=limits) as rest:
        for _ in range(4):
            await rest.get_book("1")
        # /book allowed 3 in 10 s: the 4th waited for the first to leave the window
        assert times == [1000.0, 1000.0, 1000.0, 1010.0]
        # every request also counts in the general window (4 per 10 s): at 1010 it holds one
        for _ in range(4):
            await rest.get_tick_size("1")
        assert times[4:] == [1010.0, 1010.0, 1010.0, 1020.0]
        assert rest.limiters["book"].waited == 10.0
        assert rest.limiters["general"].waited == 10.0
    assert sum(fake.sleeps) == 20.0


def test_documented_limits() -> None:
    assert CLOB_LIMITS == {
        "general": (9000, 10.0),
        "book": (1500, 10.0),
        "books": (500, 10.0),
        "tick-size": (200, 10.0),
    }
    assert GAMMA_LIMITS["general"] == (4000, 10.0)
    assert (GAMMA_LIMITS["markets"], GAMMA_LIMITS["events"]) == ((300, 10.0), (500, 10.0))
    client = PolymarketClobClient(transport=httpx.MockTransport(lambda r: respond({})))
    assert (client.limiters["book"].limit, client.limiters["general"].window) == (1500, 10.0)
    asyncio.run(client.aclose())
    with pytest.raises(ValueError, match="general"):
        PolymarketGammaClient(limits={"markets": (1, 1.0)})
    with pytest.raises(ValueError, match="positive"):
        PolymarketRateLimiter(0, 10.0)


@pytest.mark.asyncio
async def test_limiter_serves_concurrent_callers_in_turn() -> None:
    fake = FakeTime()
    limiter = PolymarketRateLimiter(2, 1.0, clock=fake.clock, sleep=fake.sleep)
    waits = await asyncio.gather(*(limiter.acquire() for _ in range(5)))
    assert waits == [0.0, 0.0, 1.0, 0.0, 1.0]
    assert fake.now == 1002.0
    assert limiter.in_window == 1


@pytest.mark.asyncio
async def test_gamma_markets_and_events_share_the_listing_budget() -> None:
    fake = FakeTime()
    limits = {"general": (100, 10.0), "markets": (100, 10.0), "events": (100, 10.0), "listing": (2, 10.0)}
    async with gamma(lambda r: respond([]), fake, limits=limits) as rest:
        await rest.get_markets()
        await rest.get_events()
        await rest.get_markets()
    assert fake.sleeps == [10.0]


# -- Gamma -------------------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.asyncio
async def test_gamma_market_json_in_string_fields_and_exact_numbers() -> None:
    body = read(TEST_DATA / "gamma_market_live.json")
    seen: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/markets"
        seen.append(request.url.params)
        return respond(b"[" + body + b"]")

    async with gamma(handler) as rest:
        (market,) = await rest.get_markets(condition_ids=[LIVE_CONDITION], active=True)
    assert seen[0].get_list("condition_ids") == [LIVE_CONDITION]
    assert (seen[0]["active"], seen[0]["limit"], seen[0]["offset"]) == ("true", "100", "0")
    assert "closed" not in seen[0]
    assert market.outcomes == ("Yes", "No")
    assert market.outcome_prices == (Decimal("0.2325"), Decimal("0.7675"))
    assert market.clob_token_ids == (LIVE_YES, LIVE_NO)
    assert market.order_price_min_tick_size == Decimal("0.001")
    assert market.order_min_size == Decimal(5)
    assert isinstance(market.order_price_min_tick_size, Decimal) and isinstance(market.best_bid, Decimal)
    assert (market.best_bid, market.best_ask) == (Decimal("0.232"), Decimal("0.233"))
    assert market.neg_risk and market.neg_risk_market_id.startswith("0x2c3d7e0e")
    assert market.question_id.startswith("0x2c3d7e0e")
    assert market.fee_schedule is not None and market.fee_schedule.rate == Decimal("0.04")
    assert market.events is not None and market.events[0].neg_risk_augmented
    assert (market.end_date, market.end_date_iso) == ("2028-11-07T00:00:00Z", "2028-11-07")


@pytest.mark.asyncio
async def test_gamma_offset_pagination_and_id_batches() -> None:
    requests: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        requests.append(params)
        ids = params.get_list("clob_token_ids")
        offset, limit = int(params["offset"]), int(params["limit"])
        markets = [{"id": token, "conditionId": f"0x{token}", "clobTokenIds": json.dumps([token])} for token in ids]
        return respond(markets[offset : offset + limit])

    tokens = [str(i) for i in range(150)]
    async with gamma(handler) as rest:
        markets = await rest.get_markets(clob_token_ids=tokens, closed=True, limit=60)
    assert [m.clob_token_ids[0] for m in markets] == tokens
    # 100 ids then 50, each batch paged by 60: offsets 0, 60 (100 found) then 0 (50 found)
    assert [(len(r.get_list("clob_token_ids")), r["offset"]) for r in requests] == [(100, "0"), (100, "60"), (50, "0")]
    assert all(r["closed"] == "true" for r in requests)


@pytest.mark.asyncio
async def test_gamma_rejects_a_page_served_twice_and_bad_limits() -> None:
    async with gamma(lambda r: respond([{"id": "1"}])) as rest:
        with pytest.raises(DecodeError, match="previous page"):
            await rest.get_markets(limit=1)
        with pytest.raises(ValueError, match="limit"):
            await rest.get_markets(limit=0)


@pytest.mark.data
@pytest.mark.asyncio
async def test_gamma_events_with_nested_markets() -> None:
    body = read(TEST_DATA / "gamma_event.json")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/events"
        assert request.url.params.get_list("slug") == ["democratic-presidential-nominee-2028"]
        return respond(body)

    async with gamma(handler) as rest:
        (event,) = await rest.get_events(slugs=["democratic-presidential-nominee-2028"])
    assert (event.id, event.neg_risk, event.neg_risk_augmented) == ("30829", True, True)
    assert event.tags is not None and "politics" in {tag.slug for tag in event.tags}
    assert len(event.markets) == 2
    first = event.markets[0]
    assert first.outcomes == ("Yes", "No") and len(first.clob_token_ids) == 2
    assert first.clob_token_ids[0] == "60590045489347122735554346200880179420435533609307820342798544098823516727807"
    assert first.order_price_min_tick_size == Decimal("0.001")
    assert PolymarketFeeSchedule.from_gamma(first) == PolymarketFeeSchedule.free()


@pytest.mark.parametrize(
    "field",
    [
        '"outcomes": "[\\"Yes\\", \\"No\\""',
        '"clobTokenIds": "[1, 2]"',
        '"outcomePrices": "[\\"cheap\\"]"',
        '"clobTokenIds": 7',
    ],
)
def test_malformed_json_in_string_fields_are_decode_errors(field: str) -> None:
    with pytest.raises(DecodeError):
        decode_gamma_markets(f'[{{"id": "1", {field}}}]'.encode())


def test_real_lists_and_missing_strings_are_accepted() -> None:
    (listed, empty) = decode_gamma_markets(
        b'[{"id":"1","clobTokenIds":["11","22"],"outcomes":["Up","Down"]},{"id":"2","outcomes":"","clobTokenIds":null}]'
    )
    assert (listed.clob_token_ids, listed.outcomes) == (("11", "22"), ("Up", "Down"))
    assert (empty.clob_token_ids, empty.outcomes, empty.outcome_prices) == ((), (), ())


# -- instruments -------------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.asyncio
async def test_instrument_provider_on_the_live_gamma_market() -> None:
    body = json.loads(read(TEST_DATA / "gamma_market_live.json"))
    requests: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        requests.append(params)
        wanted = set(params.get_list("condition_ids")) | set(params.get_list("clob_token_ids"))
        known = wanted & {LIVE_CONDITION, LIVE_YES, LIVE_NO}
        return respond([body] if known and "closed" not in params else [])

    async with gamma(handler) as rest:
        provider = PolymarketInstrumentProvider(rest)
        loaded = await provider.load(condition_ids=[LIVE_CONDITION, "0xgone", LIVE_CONDITION])
        by_token = await provider.load(token_ids=[LIVE_NO])
    assert list(loaded) == [LIVE_CONDITION]
    inst = loaded[LIVE_CONDITION]
    assert inst.tokens == ((LIVE_YES, "Yes"), (LIVE_NO, "No"))
    assert inst.instruments == (f"polymarket:{LIVE_YES}", f"polymarket:{LIVE_NO}")
    assert (inst.tick, inst.min_order_size, inst.neg_risk) == (10, Decimal(5), True)
    assert inst.fees == PolymarketFeeSchedule(Decimal("0.04"), Decimal(1), True, Decimal("0.25"))
    assert inst.fees.taker(100_000_000, 5_000) == 1_000_000
    assert (inst.end_date, inst.active, inst.closed, inst.accepting_orders, inst.tradeable) == (
        "2028-11-07T00:00:00Z",
        True,
        False,
        True,
        True,
    )
    assert inst.question.startswith("Will Gavin Newsom")
    assert inst.hash_meta == ("5", True)
    assert provider.meta(LIVE_YES) == provider.meta(LIVE_NO) == ("5", True)
    assert provider.meta("123") is None
    assert by_token[LIVE_CONDITION] == inst
    # an id not found among open markets is looked up again among closed ones
    assert [(r.get_list("condition_ids"), r.get("closed")) for r in requests[:2]] == [
        ([LIVE_CONDITION, "0xgone"], None),
        (["0xgone"], "true"),
    ]
    assert requests[2].get_list("clob_token_ids") == [LIVE_NO] and len(requests) == 3


@pytest.mark.asyncio
async def test_instrument_provider_batches_ids_and_asks_the_clob_for_missing_ticks() -> None:
    gamma_requests: list[list[str]] = []

    def gamma_handler(request: httpx.Request) -> httpx.Response:
        ids = request.url.params.get_list("condition_ids")
        gamma_requests.append(ids)
        if request.url.params.get("closed") == "true":
            return respond([])
        markets: list[dict[str, Any]] = [
            {
                "id": cid,
                "conditionId": cid,
                "outcomes": '["Up", "Down"]',
                "clobTokenIds": json.dumps([f"{i}1", f"{i}2"]),
                "orderMinSize": 15,
            }
            for i, cid in enumerate(ids)
            if cid not in ("0x7", "0x9")
        ]
        markets.append({"id": "no-book", "conditionId": "0x9"})  # no CLOB tokens: skipped
        if len(ids) < 100:  # a market nobody asked for: ignored
            markets.append({"id": "x", "conditionId": "0xother", "outcomes": '["Yes"]', "clobTokenIds": '["9"]'})
        return respond(markets)

    def clob_handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/tick-size"
        return respond({"minimum_tick_size": "0.01"})

    conditions = [f"0x{i}" for i in range(150)]
    async with gamma(gamma_handler) as g, clob(clob_handler) as c:
        provider = PolymarketInstrumentProvider(g, c)
        loaded = await provider.load(condition_ids=conditions)
        assert c.requests == 148
    assert [len(ids) for ids in gamma_requests] == [100, 50, 1]
    assert gamma_requests[2] == ["0x7"]
    assert len(loaded) == 148 and not {"0x7", "0x9", "0xother"} & set(loaded)
    inst = loaded["0x3"]
    assert (inst.tick, inst.min_order_size, inst.hash_meta) == (100, Decimal(15), ("15", False))
    assert inst.tokens == (("31", "Up"), ("32", "Down"))
    assert inst.fees == PolymarketFeeSchedule.free()


@pytest.mark.asyncio
async def test_instrument_provider_refuses_unpaired_outcomes() -> None:
    market = {"id": "1", "conditionId": "0x1", "outcomes": '["Yes"]', "clobTokenIds": '["1", "2"]'}
    async with gamma(lambda r: respond([market])) as rest:
        with pytest.raises(DecodeError, match="1 outcomes for 2 clobTokenIds"):
            await PolymarketInstrumentProvider(rest).load(condition_ids=["0x1"])


def test_unit_helpers() -> None:
    assert price_units(Decimal("0.001")) == 10 and price_units(Decimal("0.0025")) == 25
    with pytest.raises(DecodeError):
        price_units(Decimal("0.00001"))
    with pytest.raises(DecodeError):
        price_units(Decimal("-0.01"))
    assert size_text(Decimal(5)) == "5" and size_text(Decimal("5.0")) == "5"
    assert size_text(Decimal("14.960")) == "14.96" and size_text(Decimal(100)) == "100"


def test_clients_repr_and_close() -> None:
    client = PolymarketGammaClient(transport=httpx.MockTransport(lambda r: respond([])))
    assert repr(client) == "PolymarketGammaClient('https://gamma-api.polymarket.com')"
    asyncio.run(client.aclose())
