"""Kalshi order entry on httpx.MockTransport: request bodies against Kalshi's OpenAPI schemas,
RSA-PSS signatures over each request's own method, outcome-terms prices, dry-run redaction, the
duplicate ``client_order_id`` path, batching and the write bucket.

The OpenAPI spec is ``../shared/kalshi-specs/openapi_v3.13.0_*.yaml`` beside the repo (the schema
tests skip, saying why, when it is absent).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from hadron.errors import RateLimited
from hadron.model.orders import OrderRequest, OrderState
from hadron.venues.base import ExecutionVenue, OrderGateway
from hadron.venues.kalshi.adapter import KalshiAdapter
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key, signing_message, verify_headers
from hadron.venues.kalshi.orders import KalshiOrderGateway, create_body, fill_of, venue_order_of
from hadron.venues.kalshi.rest.limits import WRITE_TIERS, KalshiRateLimiter
from hadron.venues.kalshi.rest.portfolio import KalshiOrder, KalshiRestFill
from tests.conftest import REPO

SPECS = REPO.parent / "shared" / "kalshi-specs"
BASE = "https://kalshi.test/trade-api/v2"
KEY, _, _ = generate_test_key()
KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
TICKER = "KXGOLD15M-26AUG102130-30"


def _spec() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    files = sorted(SPECS.glob("openapi_v3*.yaml")) if SPECS.is_dir() else []
    if not files:
        pytest.skip(f"Kalshi OpenAPI spec not available: no openapi_v3*.yaml in {SPECS} (../shared beside the repo)")
    spec: dict[str, Any] = yaml.safe_load(files[-1].read_text())
    return spec


_FORMATS = {
    "FixedPointDollars": re.compile(r"^\d+\.\d{1,6}$"),
    "FixedPointCount": re.compile(r"^\d+(\.\d{1,2})?$"),
}


def check(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str) -> None:
    """Check ``value`` against an OpenAPI schema: refs, allOf, nullable, enums, types, required
    and unknown properties, and the fixed-point string formats."""
    if "$ref" in schema:
        if value is None and schema.get("nullable"):
            return
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in _FORMATS:
            assert isinstance(value, str) and _FORMATS[name].match(value), f"{where}: {value!r} is not {name}"
        check(value, spec["components"]["schemas"][name], spec, where)
        return
    if "allOf" in schema:
        if value is None and schema.get("nullable"):
            return
        for part in schema["allOf"]:
            check(value, part, spec, where)
        return
    if value is None:
        assert schema.get("nullable"), f"{where}: null is not allowed"
        return
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    kind = schema.get("type")
    if kind == "object":
        check_object(value, schema, spec, where)
    elif kind == "array":
        assert isinstance(value, list), f"{where}: not an array"
        for i, item in enumerate(value):
            check(item, schema["items"], spec, f"{where}[{i}]")
    else:
        check_scalar(value, schema, where)


def check_scalar(value: Any, schema: dict[str, Any], where: str) -> None:
    """A string, an integer (at or above its minimum) or a boolean, as the schema says."""
    kind = schema.get("type")
    if kind == "string":
        assert isinstance(value, str), f"{where}: not a string"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: not an integer"
        assert value >= schema.get("minimum", value), f"{where}: below the minimum"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{where}: not a boolean"


def check_object(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str) -> None:
    """Every required property present, none outside the schema, each checked."""
    assert isinstance(value, dict), f"{where}: not an object"
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        assert name in value, f"{where}: required {name!r} missing"
    for name, item in value.items():
        assert name in props, f"{where}: {name!r} is not in the schema"
        check(item, props[name], spec, f"{where}.{name}")


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def req(cid: str = "c-1", outcome: str = "yes", side: str = "buy", price: int = 4800, size: int = 10_000_000,
        tif: str = "IOC", **kwargs: Any) -> OrderRequest:  # fmt: skip
    return OrderRequest(client_order_id=cid, venue="kalshi", instrument=f"kalshi:{TICKER}", symbol=TICKER,
                        outcome=outcome, side=side, price=price, size=size, tif=tif,  # type: ignore[arg-type]
                        created_ns=1, **kwargs)  # fmt: skip


def order_json(cid: str = "c-1", status: str = "executed", side: str = "yes", filled: str = "10.00",
               order_id: str = "o-1", **extra: Any) -> dict[str, Any]:  # fmt: skip
    yes = "0.4800" if side == "yes" else "0.5200"
    return {
        "order_id": order_id, "user_id": "u", "client_order_id": cid, "ticker": TICKER, "side": side,
        "action": "buy", "type": "limit", "status": status, "yes_price_dollars": yes,
        "no_price_dollars": "0.5200" if side == "yes" else "0.4800",
        "fill_count_fp": filled, "remaining_count_fp": "0.00", "initial_count_fp": "10.00",
        "taker_fees_dollars": "0.1800", "maker_fees_dollars": "0.0000", "taker_fill_cost_dollars": "4.8000",
        "maker_fill_cost_dollars": "0.0000", "created_time": "2026-08-10T21:15:00.123Z", **extra,
    }  # fmt: skip


Handler = Callable[[httpx.Request], httpx.Response]


def gateway(handler: Handler, **kwargs: Any) -> tuple[KalshiOrderGateway, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def no_sleep(_: float) -> None:
        return None

    gw = KalshiOrderGateway(BASE, KalshiSigner(KEY_ID, KEY), transport=httpx.MockTransport(record), sleep=no_sleep,
                            **kwargs)  # fmt: skip
    return gw, seen


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


# -- bodies against the OpenAPI schemas --------------------------------------------------------------


def test_create_bodies_follow_the_openapi_schema() -> None:
    spec = _spec()
    yes = msgspec_json(create_body(req(tif="IOC"), "og-1"))
    no = msgspec_json(create_body(req(outcome="no", side="sell", price=5500, size=2_500_000, tif="FOK")))
    gtc = msgspec_json(create_body(req(tif="GTC")))
    for item in (yes, no, gtc):
        check(item, schema(spec, "CreateOrderRequest"), spec, "CreateOrderRequest")
    assert yes == {"ticker": TICKER, "side": "yes", "action": "buy", "client_order_id": "c-1",
                   "count_fp": "10.00", "yes_price_dollars": "0.4800", "time_in_force": "immediate_or_cancel",
                   "order_group_id": "og-1"}  # fmt: skip
    # a NO order's limit is the NO price, in its own field; sizes to the hundredth
    assert no["no_price_dollars"] == "0.5500" and "yes_price_dollars" not in no
    assert (no["count_fp"], no["action"], no["time_in_force"]) == ("2.50", "sell", "fill_or_kill")
    assert gtc["time_in_force"] == "good_till_canceled" and "order_group_id" not in gtc


@pytest.mark.asyncio
async def test_batch_cancel_and_group_bodies_follow_the_openapi_schema() -> None:
    spec = _spec()

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/order_groups/create"):
            return httpx.Response(201, json={"order_group_id": "og-9"})
        if path.endswith("/orders/batched") and request.method == "POST":
            items = [{"client_order_id": o["client_order_id"], "order": order_json(o["client_order_id"],
                      order_id=f"o-{i}"), "error": None} for i, o in enumerate(body(request)["orders"])]  # fmt: skip
            return httpx.Response(201, json={"orders": items})
        if path.endswith("/orders/batched"):
            items = [{"order_id": o["order_id"], "order": order_json(status="canceled", order_id=o["order_id"]),
                      "reduced_by_fp": "0.00", "error": None} for o in body(request)["orders"]]  # fmt: skip
            return httpx.Response(200, json={"orders": items})
        raise AssertionError(f"unexpected {request.method} {path}")

    gw, seen = gateway(handler, contracts_limit=40)
    await gw.start()
    results = await gw.place([req("a"), req("b", outcome="no", price=5200)])
    reports = await gw.cancel(["o-0", "o-1"])
    await gw.close()
    group, batch, cancel = (body(r) for r in seen)
    check(group, schema(spec, "CreateOrderGroupRequest"), spec, "CreateOrderGroupRequest")
    check(batch, schema(spec, "BatchCreateOrdersRequest"), spec, "BatchCreateOrdersRequest")
    check(cancel, schema(spec, "BatchCancelOrdersRequest"), spec, "BatchCancelOrdersRequest")
    assert group == {"contracts_limit": 40}
    assert [o["order_group_id"] for o in batch["orders"]] == ["og-9", "og-9"]
    assert cancel == {"orders": [{"order_id": "o-0"}, {"order_id": "o-1"}]}
    assert [r.report.venue_order_id for r in results] == ["o-0", "o-1"]
    assert [r.state for r in reports] == [OrderState.CANCELLED, OrderState.CANCELLED]


def test_response_examples_decode_as_the_schema_says() -> None:
    spec = _spec()
    example = order_json()
    check(example, schema(spec, "Order"), spec, "Order")  # the test's own answers are spec-shaped
    report = venue_order_of(KalshiOrder(**{k: v for k, v in example.items()}))
    assert (report.price, report.size, report.filled, report.state) == (4800, 10_000_000, 10_000_000, OrderState.FILLED)


def msgspec_json(value: Any) -> dict[str, Any]:
    import msgspec

    decoded: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(value))
    return decoded


# -- signatures ------------------------------------------------------------------------------------


def test_the_signed_message_is_kalshis_documented_example() -> None:
    # docs/protocols/kalshi.md#authentication (Kalshi api_keys): ts + METHOD + path, no query
    assert signing_message("1703123456789", "GET", "/trade-api/v2/portfolio/balance") == (
        b"1703123456789GET/trade-api/v2/portfolio/balance"
    )
    assert signing_message("1703123456789", "get", "/trade-api/v2/portfolio/orders?limit=5") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )
    assert (
        signing_message("1", "delete", "/trade-api/v2/portfolio/orders/o-1")
        == b"1DELETE/trade-api/v2/portfolio/orders/o-1"
    )


@pytest.mark.asyncio
async def test_post_and_delete_are_signed_over_their_own_method() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json={"order": order_json(status="resting", filled="0.00")})
        if request.method == "DELETE":
            return httpx.Response(200, json={"order": order_json(status="canceled", filled="0.00"),
                                             "reduced_by_fp": "10.00"})  # fmt: skip
        return httpx.Response(200, json={"orders": [], "cursor": ""})

    gw, seen = gateway(handler)
    [placed] = await gw.place([req(tif="GTC")])
    [cancelled] = await gw.cancel([placed.report.venue_order_id])
    await gw.open_orders()
    await gw.close()
    assert placed.report.state is OrderState.ACCEPTED and cancelled.state is OrderState.CANCELLED
    public = KEY.public_key()
    for request in seen:
        path = request.url.path
        assert verify_headers(public, request.headers, request.method, path) is None
        other = "GET" if request.method != "GET" else "POST"
        assert verify_headers(public, request.headers, other, path) == "INCORRECT_API_KEY_SIGNATURE"
    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", "/trade-api/v2/portfolio/orders"),
        ("DELETE", "/trade-api/v2/portfolio/orders/o-1"),
        ("GET", "/trade-api/v2/portfolio/orders"),
    ]
    assert seen[2].url.params["status"] == "resting"


# -- prices, fills, positions, balance -------------------------------------------------------------


def test_fill_prices_are_in_the_orders_outcome_terms() -> None:
    base: dict[str, Any] = {"fill_id": "f-1", "trade_id": "f-1", "order_id": "o-1", "ticker": TICKER, "action": "buy",
            "count_fp": "2.50", "is_taker": True, "created_time": "2026-08-10T21:15:00.5Z"}  # fmt: skip
    yes = fill_of(KalshiRestFill(**base, side="yes", yes_price_dollars="0.2800", no_price_dollars="0.7200",
                                 fee_cost="0.0200"), "c-1")  # fmt: skip
    no = fill_of(KalshiRestFill(**base, side="no", yes_price_dollars="0.2800", no_price_dollars="0.7200",
                                fee_cost="0.0100"))  # fmt: skip
    only_yes = fill_of(KalshiRestFill(**base, side="no", yes_price_dollars="0.2800"))
    assert (yes.price, yes.size, yes.fee, yes.client_order_id) == (2800, 2_500_000, 200_000_000, "c-1")
    assert (no.price, no.fee) == (7200, 100_000_000)  # fee: 1/10,000,000,000 USD
    assert only_yes.price == 10_000 - 2800 and only_yes.fee == 0
    assert yes.ts_event == 1_786_396_500_500_000_000


@pytest.mark.asyncio
async def test_fills_positions_and_balance_read_every_page() -> None:
    fill = {"fill_id": "f-1", "trade_id": "f-1", "order_id": "o-1", "ticker": TICKER, "market_ticker": TICKER,
            "side": "no", "action": "buy", "count_fp": "3.00", "yes_price_dollars": "0.4000",
            "no_price_dollars": "0.6000", "is_taker": True, "fee_cost": "0.0500",
            "created_time": "2026-08-10T21:15:00Z"}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        path, cursor = request.url.path, request.url.params.get("cursor", "")
        if path.endswith("/fills"):
            fills = [fill] if not cursor else [dict(fill, fill_id="f-2", created_time="2026-08-10T21:14:00Z")]
            return httpx.Response(200, json={"fills": fills, "cursor": "" if cursor else "p2"})
        if path.endswith("/positions"):
            return httpx.Response(200, json={"market_positions": [{"ticker": TICKER, "position_fp": "-3.00"}],
                                             "event_positions": [], "cursor": ""})  # fmt: skip
        return httpx.Response(200, json={"balance": 123456, "portfolio_value": 0, "updated_ts": 1})

    gw, seen = gateway(handler)
    fills = await gw.fills(0)
    positions = await gw.positions([f"kalshi:{TICKER}", "kalshi:OTHER"])
    cash = await gw.balance()
    await gw.close()
    assert [f.fill_id for f in fills] == ["f-2", "f-1"]  # oldest first
    assert fills[0].price == 6000
    assert positions == {f"kalshi:{TICKER}": -3_000_000, "kalshi:OTHER": 0}
    assert cash == 1_234_560_000  # $1,234.56 in 1/1,000,000 USD
    assert seen[1].url.params["cursor"] == "p2"


# -- dry run ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_dry_run_signs_logs_redacted_and_sends_nothing() -> None:
    gw, seen = gateway(lambda r: httpx.Response(500), dry_run=True, contracts_limit=10)
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))  # whatever ran before
    try:
        with capture_logs() as logs:
            await gw.start()
            one = await gw.place([req("dry-1", outcome="no", price=5500)])
            many = await gw.place([req("dry-2"), req("dry-3")])
            await gw.cancel(["o-1"])
    finally:
        structlog.configure(**saved)
    await gw.close()
    assert seen == []  # nothing left the process
    assert [r.report.state for r in one + many] == [OrderState.REJECTED] * 3
    assert {r.report.reason for r in one + many} == {"dry_run"}
    request = one[0].request
    assert request is not None
    assert request["method"] == "POST" and request["url"] == f"{BASE}/portfolio/orders"
    headers = request["headers"]
    assert isinstance(headers, dict)
    assert headers["KALSHI-ACCESS-SIGNATURE"] == "***" and headers["KALSHI-ACCESS-KEY"] == "***"
    assert headers["KALSHI-ACCESS-TIMESTAMP"].isdigit()
    assert request["body"] == {"ticker": TICKER, "side": "no", "action": "buy",
                               "client_order_id": "dry-1", "count_fp": "10.00", "no_price_dollars": "0.5500",
                               "time_in_force": "immediate_or_cancel"}  # fmt: skip
    batch = many[0].request
    assert batch is not None and batch is many[1].request and batch["url"] == f"{BASE}/portfolio/orders/batched"
    assert len(logs) == 4  # the order group, the order, the batch, the cancel
    text = repr(logs) + repr([r.request for r in one + many])
    assert KEY_ID not in text
    # no signature escaped: a real one is 344 base64 characters
    assert not re.search(r"[A-Za-z0-9+/]{300,}={0,2}", text)


# -- idempotency, refusals, batching, limits -------------------------------------------------------


@pytest.mark.asyncio
async def test_a_duplicate_client_order_id_returns_the_existing_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"error": {"code": "order_already_exists", "message": "exists"}})
        assert request.url.params["ticker"] == TICKER
        others = [order_json("someone-else", order_id="o-0"), order_json("c-1", status="resting", filled="4.00",
                                                                          order_id="o-7")]  # fmt: skip
        return httpx.Response(200, json={"orders": others, "cursor": ""})

    gw, seen = gateway(handler)
    [result] = await gw.place([req("c-1")])
    await gw.close()
    assert [r.method for r in seen] == ["POST", "GET"]  # placed once, then looked up
    assert result.report.venue_order_id == "o-7"
    assert (result.report.state, result.report.filled) == (OrderState.PARTIALLY_FILLED, 4_000_000)


@pytest.mark.asyncio
async def test_refusals_become_rejected_reports() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"code": "insufficient_balance", "message": "not enough cash"}})

    gw, seen = gateway(handler)
    [poor] = await gw.place([req()])
    local = await gw.place([req(size=0), req(price=10_000), req(size=1_234_567), req(price=4850, tick=100)])
    await gw.close()
    assert poor.report.state is OrderState.REJECTED and poor.report.reason == "insufficient_balance: not enough cash"
    assert all(r.report.state is OrderState.REJECTED and r.report.reason.startswith("hadron:") for r in local)
    assert len(seen) == 1  # Hadron's own checks sent nothing


@pytest.mark.asyncio
async def test_batches_split_to_the_write_bucket_and_429_raises() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        orders = body(request)["orders"]
        sizes.append(len(orders))
        items = [{"client_order_id": o["client_order_id"], "order": None,
                  "error": {"code": "invalid_price", "message": "off the grid"}} for o in orders]  # fmt: skip
        return httpx.Response(201, json={"orders": items})

    now = [0.0]
    gw, _ = gateway(handler, clock=lambda: now[0])
    assert gw.max_batch == 10  # Basic: a 100-token write bucket, 10 tokens an order
    results = await gw.place([req(f"c-{i}") for i in range(25)])
    await gw.close()
    assert sizes == [10, 10, 5]
    assert {r.report.reason for r in results} == {"invalid_price: off the grid"}
    assert gw.write_limiter.waited > 0  # 250 tokens through a 100-token bucket
    limited, _ = gateway(lambda r: httpx.Response(429, json={"error": "too many requests"}), max_retries=0)
    with pytest.raises(RateLimited):
        await limited.place([req()])
    await limited.close()


@pytest.mark.asyncio
async def test_write_buckets_per_tier() -> None:
    assert (WRITE_TIERS["basic"].rate, WRITE_TIERS["prestige"].rate) == (100, 8000)
    basic = KalshiRateLimiter.for_write_tier("Basic")
    advanced = KalshiRateLimiter.for_write_tier("advanced")
    assert (basic.rate, basic.capacity, advanced.capacity) == (100, 100, 600)
    premier = KalshiOrderGateway(BASE, KalshiSigner(KEY_ID, KEY), rate_tier="premier")
    assert premier.max_batch == 20 and premier.read_limiter.capacity == 1000
    seam: OrderGateway = premier  # mypy checks the protocol; the venue registry checks the adapter
    assert seam.venue == "kalshi" and not seam.dry_run and isinstance(KalshiAdapter(), ExecutionVenue)
    await premier.close()


@pytest.mark.asyncio
async def test_an_unknown_order_is_none_and_a_refused_cancel_reports_the_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/o-gone"):
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "not found"}})
        if request.method == "DELETE":
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "order is executed"}})
        return httpx.Response(200, json={"order": order_json(order_id="o-1")})

    gw, _ = gateway(handler)
    assert await gw.order("", "o-gone") is None
    [refused] = await gw.cancel(["o-1"])
    [unknown] = await gw.cancel(["o-gone"])
    await gw.close()
    assert (refused.state, refused.reason) == (OrderState.FILLED, "not_found: order is executed")
    assert unknown.state is OrderState.REJECTED and unknown.reason.startswith("not_found")


# -- the loopback exchange's answers and frames ------------------------------------------------------


@pytest.mark.asyncio
async def test_the_loopback_exchange_answers_in_the_openapi_shapes() -> None:
    from hadron.venues.base import ExchangeOptions
    from hadron.venues.kalshi.account import normalize_private
    from hadron.venues.kalshi.fake_exchange import FakeExchange
    from hadron.venues.kalshi.fake_orders import KalshiExchangeAccount
    from hadron.venues.kalshi.messages import FRAME_DECODER, KalshiOrderbookSnapshotMsg

    spec = _spec()
    exchange = FakeExchange()
    snapshot = KalshiOrderbookSnapshotMsg(TICKER, "m", [("0.2800", "69.00")], [("0.4900", "22.00")])
    exchange.book(TICKER).load(snapshot)
    account = KalshiExchangeAccount(exchange, ExchangeOptions(cash="100"))
    status, created, frames = await account.create_order(
        {"ticker": TICKER, "side": "yes", "action": "buy", "count_fp": "30.00", "yes_price_dollars": "0.5200",
         "client_order_id": "a", "time_in_force": "immediate_or_cancel"}
    )  # fmt: skip
    assert status == 201 and created["order"]["status"] == "canceled" and created["order"]["fill_count_fp"] == "22.00"
    check(created, schema(spec, "CreateOrderResponse"), spec, "CreateOrderResponse")
    _, batch, more = await account.batch_create({"orders": [
        {"ticker": TICKER, "side": "no", "action": "buy", "count_fp": "5", "no_price_dollars": "0.3000",
         "client_order_id": "b"},
        {"ticker": TICKER, "side": "no", "action": "buy", "count_fp": "5", "no_price_dollars": "0.3050",
         "client_order_id": "c"},
        {"ticker": "NOPE", "side": "no", "action": "buy", "count_fp": "5", "no_price_dollars": "0.30"},
    ]})  # fmt: skip
    check(batch, schema(spec, "BatchCreateOrdersResponse"), spec, "BatchCreateOrdersResponse")
    assert [i["error"]["code"] if i["error"] else i["order"]["status"] for i in batch["orders"]] == [
        "resting", "invalid_price", "market_not_found"
    ]  # fmt: skip
    resting = batch["orders"][0]["order"]["order_id"]
    _, cancelled, last = await account.cancel_order(resting)
    check(cancelled, schema(spec, "CancelOrderResponse"), spec, "CancelOrderResponse")
    _, cancels, _ = await account.batch_cancel({"orders": [{"order_id": resting}]})
    check(cancels, schema(spec, "BatchCancelOrdersResponse"), spec, "BatchCancelOrdersResponse")
    assert cancels["orders"][0]["error"]["code"] == "not_found"
    for answer, name in (
        (account.get_orders({}), "GetOrdersResponse"),
        (account.get_order(resting), "GetOrderResponse"),
        (account.get_fills({}), "GetFillsResponse"),
        (account.get_positions({}), "GetPositionsResponse"),
        (account.get_balance(), "GetBalanceResponse"),
    ):
        assert answer[0] == 200
        check(answer[1], schema(spec, name), spec, name)
    _, group, _ = await account.create_order_group({"contracts_limit": 5})
    check(group, schema(spec, "CreateOrderGroupResponse"), spec, "CreateOrderGroupResponse")
    # 22 YES at 0.51: 11.22 paid and a 0.39 fee
    assert account.cash == 100_000_000 - 11_220_000 - 390_000 and account.positions() == {TICKER: 22_000_000}
    # every private message decodes as Kalshi's and normalizes into an account event
    kinds = {"user_orders": "user_order", "fill": "fill", "market_positions": "market_position"}
    for channel, msg in frames + more + last:
        raw = json.dumps({"type": kinds[channel], "sid": 1, "msg": msg}).encode()
        assert normalize_private(FRAME_DECODER.decode(raw), 1) is not None
    assert [c for c, _ in frames] == ["fill", "user_orders", "market_positions"]
