"""Polymarket CLOB V2 signing and the order gateway's mapping, without a network.

The expected signatures were computed with the official ``py_clob_client_v2`` (1.2.1) builder
for fixed keys, salts and times; the published vector is the one of the official client's own
tests (``tests/order_utils/test_exchange_order_builder_v2.py``, POLY_1271 on Amoy) and
``tests/signing/test_hmac.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from py_clob_client_v2.clob_types import ApiCreds, RequestArgs  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.config import get_contract_config  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.headers.headers import create_level_2_headers  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG, OrderBuilder  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import (  # type: ignore[import-untyped,unused-ignore]
    ExchangeOrderBuilderV2,
)
from py_clob_client_v2.order_utils.model.order_data_v2 import OrderDataV2  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.order_utils.model.side import Side  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.order_utils.model.signature_type_v2 import SignatureTypeV2  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.signer import Signer  # type: ignore[import-untyped,unused-ignore]
from py_clob_client_v2.signing.hmac import build_hmac_signature  # type: ignore[import-untyped,unused-ignore]
from structlog.testing import capture_logs

from hadron.config import HadronConfig, PolymarketConfig, Secret
from hadron.errors import ConfigError
from hadron.model.orders import OrderRequest, OrderState
from hadron.venues.base import ExecutionVenue, OrderGateway, get_venue
from hadron.venues.polymarket.orders import PolymarketOrderGateway, fills_of, order_gateway, redact_request
from hadron.venues.polymarket.signing import (
    ApiCredentials,
    OrderSigner,
    exchange_address,
    hmac_signature,
    order_amounts,
    order_hash,
    order_salt,
    order_typed_data,
    recover_clob_auth,
    recover_order_signer,
)

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"""The publicly known first key of local Ethereum dev chains (hardhat/anvil)."""
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
SALT = 479249096354
TIMESTAMP_MS = 1710000000000
EXPECTED_SIGNATURE = (
    "0x42c7b4857d51e344045fcfde17b37cf1290d784471ffe618c22aa56ea5ddcf00"
    "09015b87ffb299813f5597e86d4ad56f40d634558d915edb719e6fc71dbc0d891c"
)
EXPECTED_HASH = "0x10124949f84e9f7438c88d02bfd546ceb27ed6eb1fdb0175137af535b6e2513d"
EXPECTED_NEG_RISK_SIGNATURE = (
    "0x79d82a92bd020329c6b9afad40b742c8cfaebdd992219b57e4282b6cfd53a66f"
    "2c97471d3297fa001f3eac2ead5f709c6e266893f19cef37633511420542a63b1b"
)
PUBLISHED_POLY_1271 = (
    "0xa3a093c83b6c20c83355c16ce94c92e6e9fcbdeb840618cc74f6c57a42ad145b"
    "2b98db73d2c73cbf1f2b6af288566ae81960ddbc3a13921027358a8bff3be6ff1c"
)
"""The first 65 bytes (the ECDSA part) of py-clob-client-v2's published POLY_1271 vector."""
PUBLISHED_POLY_1271_HASH = "0x2afca94626db91b2d556c351584a4cd93e13da32e377dc48c7983e43afa5ab47"
SECRET = base64.urlsafe_b64encode(b"s" * 32).decode()
CREDS = ApiCredentials("0b8c5b2e-api-key", SECRET, "passphrase-1234")
TOKEN = "1234"


def sign_fixed(chain_id: int = 137, neg_risk: bool = False) -> dict[str, Any]:
    signed = OrderSigner(KEY, chain_id).sign(
        token_id=TOKEN, side="BUY", maker_amount=100_000_000, taker_amount=50_000_000, salt=SALT,
        timestamp_ms=TIMESTAMP_MS, neg_risk=neg_risk,
    )  # fmt: skip
    assert signed.signer == ADDRESS and signed.maker == ADDRESS
    order: dict[str, Any] = signed.payload("owner", "GTC")["order"]
    assert order["signature"] == signed.signature
    return {"order": order, "hash": signed.order_hash, "exchange": signed.exchange}


def test_order_signature_equals_the_official_builder() -> None:
    signed = sign_fixed()
    assert signed["order"]["signature"] == EXPECTED_SIGNATURE
    assert signed["hash"] == EXPECTED_HASH
    # the same order through the official builder directly
    config = get_contract_config(137)
    builder = ExchangeOrderBuilderV2(config.exchange_v2, 137, Signer(KEY, 137), generate_salt=lambda: str(SALT))
    data = OrderDataV2(maker=ADDRESS, signer=ADDRESS, tokenId=TOKEN, makerAmount="100000000", takerAmount="50000000",
                       side=Side.BUY, signatureType=SignatureTypeV2.EOA, timestamp=str(TIMESTAMP_MS))  # fmt: skip
    official = builder.build_signed_order(data)
    assert official.signature == EXPECTED_SIGNATURE
    assert builder.build_order_hash(builder.build_order_typed_data(official)) == EXPECTED_HASH


def test_the_published_vector_reproduces_with_the_installed_builder() -> None:
    # py-clob-client-v2's own test vector (POLY_1271 deposit wallet on Amoy): the installed
    # builder, domain and contracts give the published signature and hash
    config = get_contract_config(80002)
    builder = ExchangeOrderBuilderV2(config.exchange_v2, 80002, Signer(KEY, 80002), generate_salt=lambda: str(SALT))
    wallet = "0x1111111111111111111111111111111111111111"
    data = OrderDataV2(maker=wallet, signer=wallet, tokenId=TOKEN, makerAmount="100000000", takerAmount="50000000",
                       side=Side.BUY, signatureType=SignatureTypeV2.POLY_1271, timestamp=str(TIMESTAMP_MS),
                       metadata="0x" + "0" * 64, builder="0x" + "0" * 64)  # fmt: skip
    signed = builder.build_signed_order(data)
    assert signed.signature.startswith(PUBLISHED_POLY_1271)
    assert builder.build_order_hash(builder.build_order_typed_data(signed)) == PUBLISHED_POLY_1271_HASH


def test_the_v2_domain_and_recovery() -> None:
    signed = sign_fixed()
    typed = order_typed_data(signed["order"], chain_id=137, neg_risk=False)
    assert typed["domain"] == {
        "name": "Polymarket CTF Exchange", "version": "2", "chainId": 137,
        "verifyingContract": "0xE111180000d2663C0091e4f400237545B87B996B",
    }  # fmt: skip
    assert [f["name"] for f in typed["types"]["Order"]] == [
        "salt", "maker", "signer", "tokenId", "makerAmount", "takerAmount", "side", "signatureType", "timestamp",
        "metadata", "builder",
    ]  # fmt: skip
    assert recover_order_signer(signed["order"], chain_id=137, neg_risk=False) == ADDRESS
    assert order_hash(signed["order"], chain_id=137, neg_risk=False) == EXPECTED_HASH
    recovered = Account.recover_message(encode_typed_data(full_message=typed), signature=signed["order"]["signature"])
    assert recovered == ADDRESS
    tampered = {**signed["order"], "makerAmount": "100000001"}
    assert recover_order_signer(tampered, chain_id=137, neg_risk=False) != ADDRESS
    assert recover_order_signer(signed["order"], chain_id=80002, neg_risk=False) != ADDRESS


def test_neg_risk_orders_are_verified_by_the_other_exchange() -> None:
    plain, neg = sign_fixed(), sign_fixed(neg_risk=True)
    assert plain["exchange"] == exchange_address(137, False) == "0xE111180000d2663C0091e4f400237545B87B996B"
    assert neg["exchange"] == exchange_address(137, True) == "0xe2222d279d744050d28e00520010520000310F59"
    assert neg["order"]["signature"] == EXPECTED_NEG_RISK_SIGNATURE != plain["order"]["signature"]
    typed = order_typed_data(neg["order"], chain_id=137, neg_risk=True)
    assert typed["domain"]["verifyingContract"] == "0xe2222d279d744050d28e00520010520000310F59"
    assert recover_order_signer(neg["order"], chain_id=137, neg_risk=True) == ADDRESS
    assert recover_order_signer(neg["order"], chain_id=137, neg_risk=False) != ADDRESS


@pytest.mark.parametrize(
    ("side", "price", "size", "tick", "expected"),
    [
        ("BUY", 4_800, 10_000_000, 100, (4_800_000, 10_000_000)),  # 10 × 0.48
        ("SELL", 4_800, 10_000_000, 100, (10_000_000, 4_800_000)),
        ("BUY", 4_800, 10_129_999, 100, (4_857_600, 10_120_000)),  # size rounded down to 2 decimals
        ("BUY", 4_850, 7_000_000, 10, (3_395_000, 7_000_000)),  # tick 0.001
        ("SELL", 1_234, 5_000_000, 1, (5_000_000, 617_000)),  # tick 0.0001
        ("BUY", 4_750, 3_330_000, 50, (1_581_750, 3_330_000)),  # tick 0.005
        ("BUY", 1_025, 8_000_000, 25, (820_000, 8_000_000)),  # tick 0.0025
    ],
)
def test_amounts_per_tick_are_the_official_builders(
    side: str, price: int, size: int, tick: int, expected: tuple[int, int]
) -> None:
    assert order_amounts(side, price, size, tick) == expected  # type: ignore[arg-type]
    tick_text = {100: "0.01", 10: "0.001", 1: "0.0001", 50: "0.005", 25: "0.0025"}[tick]
    _, maker, taker = OrderBuilder(signer=None).get_order_amounts(
        side, size / 1_000_000, price / 10_000, ROUNDING_CONFIG[tick_text]
    )
    assert (maker, taker) == expected
    with pytest.raises(ValueError, match="tick"):
        order_amounts("BUY", 4_800, 10_000_000, 200)


def test_l2_headers_are_the_official_hmac() -> None:
    signer = OrderSigner(KEY, 137)
    body = '{"orderID":"0xabc"}'
    headers = signer.l2_headers(CREDS, "DELETE", "/order", body, 1_700_000_000)
    assert headers["POLY_SIGNATURE"] == build_hmac_signature(SECRET, 1_700_000_000, "DELETE", "/order", body)
    assert headers["POLY_SIGNATURE"] == hmac_signature(SECRET, "1700000000", "DELETE", "/order", body)
    official = create_level_2_headers(
        Signer(KEY, 137), ApiCreds(CREDS.api_key, SECRET, CREDS.passphrase),
        RequestArgs("DELETE", "/order", body, body), timestamp=1_700_000_000,
    )  # fmt: skip
    assert headers == official
    assert headers["POLY_ADDRESS"] == ADDRESS and headers["POLY_API_KEY"] == CREDS.api_key
    # the official client's published HMAC vector (tests/signing/test_hmac.py)
    vector = hmac_signature("A" * 43 + "=", "1000000", "test-sign", "/orders", '{"hash": "0x123"}')
    assert vector == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="


def test_l1_headers_recover_to_the_wallet() -> None:
    headers = OrderSigner(KEY, 137).l1_headers(1_700_000_000, nonce=3)
    assert headers["POLY_ADDRESS"] == ADDRESS and headers["POLY_NONCE"] == "3"
    recovered = recover_clob_auth(ADDRESS, headers["POLY_TIMESTAMP"], 3, headers["POLY_SIGNATURE"], chain_id=137)
    assert recovered == ADDRESS
    assert recover_clob_auth(ADDRESS, headers["POLY_TIMESTAMP"], 4, headers["POLY_SIGNATURE"], chain_id=137) != ADDRESS


def test_salt_is_derived_from_the_client_order_id() -> None:
    assert order_salt("hadron-1") == order_salt("hadron-1")
    assert order_salt("hadron-1") != order_salt("hadron-2")
    assert all(0 <= order_salt(f"c{i}") < 2**53 for i in range(200))


def request(client_order_id: str = "c-1", **kwargs: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "client_order_id": client_order_id, "venue": "polymarket", "instrument": f"polymarket:{TOKEN}",
        "symbol": TOKEN, "outcome": "yes", "side": "buy", "price": 4_800, "size": 10_000_000, "tif": "IOC",
        "created_ns": 1_710_000_000_123_000_000, "tick": 100,
    }  # fmt: skip
    fields.update(kwargs)
    return OrderRequest(**fields)


class Venue:
    """A scripted CLOB behind httpx.MockTransport: records every request."""

    def __init__(self, **answers: Any) -> None:
        self.answers: dict[str, Any] = {"GET /neg-risk": (200, {"neg_risk": False}), **answers}
        self.requests: list[httpx.Request] = []

    def __call__(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        key = f"{req.method} {req.url.path}"
        answer = self.answers.get(key)
        if answer is None:
            return httpx.Response(404, json={"error": f"not scripted: {key}"})
        status, body = answer(req) if callable(answer) else answer
        return httpx.Response(status, json=body)


def gateway(venue: Venue, *, dry_run: bool = False) -> PolymarketOrderGateway:
    return PolymarketOrderGateway(private_key=Secret(KEY), creds=CREDS, base_url="https://clob.test", dry_run=dry_run,
                                  transport=httpx.MockTransport(venue), max_retries=0)  # fmt: skip


@pytest.mark.asyncio
async def test_dry_run_signs_logs_redacted_and_sends_nothing() -> None:
    venue = Venue()
    gw = gateway(venue, dry_run=True)
    with capture_logs() as logs:
        results = await gw.place([request()])
    await gw.close()
    assert venue.requests == []
    (result,) = results
    assert result.report.state is OrderState.REJECTED and result.report.reason == "dry_run"
    assert result.request is not None
    sent: dict[str, Any] = result.request
    assert sent["method"] == "POST" and sent["url"] == "https://clob.test/order"
    headers = sent["headers"]
    assert headers["POLY_API_KEY"] == headers["POLY_PASSPHRASE"] == headers["POLY_SIGNATURE"] == "***"
    assert headers["POLY_ADDRESS"] == ADDRESS and headers["Content-Type"] == "application/json"
    body = sent["body"]
    assert body["order"]["signature"] == "***" and body["owner"] == "***" and body["orderType"] == "FAK"
    assert body["order"]["makerAmount"] == "4800000" and body["order"]["takerAmount"] == "10000000"
    assert body["order"]["salt"] == order_salt("c-1") and body["order"]["timestamp"] == "1710000000123"
    text = json.dumps(logs)
    assert CREDS.api_key not in text and CREDS.passphrase not in text and SECRET not in text and KEY[2:] not in text
    assert any(entry["event"] == "polymarket dry-run request, not sent" for entry in logs)
    redacted = redact_request({"method": "POST", "url": "u", "headers": {"POLY_API_KEY": "k"}, "body": None})
    assert redacted["headers"] == {"POLY_API_KEY": "***"}


@pytest.mark.asyncio
async def test_refused_before_signing_for_balance_allowance_and_tick() -> None:
    balances = {"COLLATERAL": ("3000000", "100000000"), "CONDITIONAL": ("1000000", "9000000")}

    def balance(req: httpx.Request) -> tuple[int, Any]:
        money, allowed = balances[req.url.params["asset_type"]]
        return 200, {"balance": money, "allowances": {"0xE111180000d2663C0091e4f400237545B87B996B": allowed}}

    venue = Venue(**{"GET /balance-allowance": balance})
    gw = gateway(venue)
    results = await gw.place([
        request("a"),  # 4.80 pUSD > 3.00
        request("b", side="sell"),  # 10 shares > 1
        request("c", price=4_850),  # off the 0.01 tick
        request("d", price=0),
    ])  # fmt: skip
    assert [r.report.reason for r in results] == ["balance", "balance", "tick", "tick"]
    assert all(r.report.state is OrderState.REJECTED for r in results)
    balances["COLLATERAL"] = ("90000000", "1000000")
    (result,) = await gw.place([request("e")])
    assert result.report.reason == "allowance"
    assert not [r for r in venue.requests if r.method == "POST"]
    await gw.close()


@pytest.mark.asyncio
async def test_a_matched_answer_resolves_its_trades_and_a_resend_is_the_same_order() -> None:
    trade = {"id": "t-1", "taker_order_id": "", "side": "BUY", "size": "10", "price": "0.47", "trader_side": "TAKER",
             "match_time": "1710000001", "fee": "0.09964", "maker_orders": []}  # fmt: skip
    posted: list[dict[str, Any]] = []

    def post(req: httpx.Request) -> tuple[int, Any]:
        body = json.loads(req.content)
        order_id = order_hash(body["order"], chain_id=137, neg_risk=False)
        if posted:
            return 400, {"error": f"order {order_id} is invalid. Duplicated."}
        posted.append(body)
        trade["taker_order_id"] = order_id
        return 200, {"success": True, "errorMsg": "", "orderID": order_id, "status": "matched", "makingAmount": "4.7",
                     "takingAmount": "10", "tradeIDs": ["t-1"]}  # fmt: skip

    def get_order(req: httpx.Request) -> tuple[int, Any]:
        return 200, {"id": req.url.path.rsplit("/", 1)[1], "status": "MATCHED", "asset_id": TOKEN, "side": "BUY",
                     "price": "0.48", "original_size": "10", "size_matched": "10"}  # fmt: skip

    venue = Venue(**{
        "GET /balance-allowance": (200, {"balance": "100000000", "allowance": "100000000"}),
        "POST /order": post, "GET /data/trades": (200, {"data": [trade], "next_cursor": "LTE="}),
    })  # fmt: skip
    gw = gateway(venue)
    (result,) = await gw.place([request()])
    assert result.report.state is OrderState.FILLED and result.report.filled == 10_000_000
    (fill,) = result.fills
    assert (fill.fill_id, fill.price, fill.size, fill.client_order_id) == ("t-1", 4_700, 10_000_000, "c-1")
    assert fill.fee == 99_640 * 10_000  # $0.09964 in 1/10,000,000,000 USD
    order_id = result.report.venue_order_id
    assert gw.client_orders == {"c-1": order_id}
    venue.answers[f"GET /data/order/{order_id}"] = get_order
    # a restart: a new gateway, the same request → the same order hash, the duplicate mapped to it
    again = gateway(venue)
    (second,) = await again.place([request()])
    assert second.report.venue_order_id == order_id and second.report.state is OrderState.FILLED
    assert "Duplicated" in second.report.reason and len(posted) == 1
    await gw.close()
    await again.close()


@pytest.mark.asyncio
async def test_a_killed_fak_is_cancelled_and_a_partial_fak_cancels_its_rest() -> None:
    answers = iter([
        (400, {"error": "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
                        "match is found."}),
        (200, {"success": True, "orderID": "0xo2", "status": "matched", "makingAmount": "1.92", "takingAmount": "4"}),
    ])  # fmt: skip
    venue = Venue(**{
        "GET /balance-allowance": (200, {"balance": "100000000"}),
        "POST /order": lambda req: next(answers),
    })  # fmt: skip
    gw = gateway(venue)
    (killed,) = await gw.place([request("k")])
    assert killed.report.state is OrderState.CANCELLED and killed.report.filled == 0 and not killed.fills
    (partial,) = await gw.place([request("p")])
    assert partial.report.state is OrderState.CANCELLED and partial.report.filled == 4_000_000
    (fill,) = partial.fills  # no trade ids: one fill at the average price, id <orderID>:0
    assert (fill.fill_id, fill.price, fill.size) == ("0xo2:0", 4_800, 4_000_000)
    await gw.close()


def test_maker_fills_use_the_user_channels_ids() -> None:
    trade = {"id": "t-9", "trader_side": "MAKER", "side": "SELL", "price": "0.52", "size": "5", "match_time": "1",
             "maker_orders": [{"order_id": "0xmine", "owner": "k", "matched_amount": "5", "price": "0.52",
                               "side": "BUY"}, {"order_id": "0xother", "owner": "z", "matched_amount": "1"}]}  # fmt: skip
    (fill,) = fills_of(trade, our_orders=lambda _: None, api_key="k")
    assert (fill.fill_id, fill.price, fill.size, fill.taker, fill.fee) == ("t-9:0xmine", 5_200, 5_000_000, False, 0)


def test_the_adapter_builds_the_gateway_and_names_missing_settings() -> None:
    venue = get_venue("polymarket")
    assert isinstance(venue, ExecutionVenue)
    with pytest.raises(ConfigError, match="private_key"):
        venue.order_gateway(HadronConfig())
    partial = HadronConfig(polymarket=PolymarketConfig(private_key=Secret(KEY), api_key=Secret("k")))
    with pytest.raises(ConfigError, match="api_secret"):
        order_gateway(partial)
    gw = venue.order_gateway(HadronConfig(polymarket=PolymarketConfig(private_key=Secret(KEY))), dry_run=True)
    assert gw.dry_run and gw.venue == "polymarket"
    direct: OrderGateway = order_gateway(HadronConfig(polymarket=PolymarketConfig(private_key=Secret(KEY))))
    assert isinstance(direct, PolymarketOrderGateway) and direct.address == ADDRESS and not direct.dry_run
    assert KEY[2:] not in repr(gw)


def test_the_signing_libraries_leave_the_recursion_limit_alone() -> None:
    # py_ecc (under eth_account) raises it to 100,000 on import; the decoders' depth bound is the
    # interpreter's own, so a hostile, deeply nested frame is dead-lettered, not a C stack overflow
    import subprocess
    import sys

    code = (
        "import sys; before = sys.getrecursionlimit(); import hadron.venues.polymarket.orders; "
        "import hadron.venues.polymarket.fake_orders; print(before, sys.getrecursionlimit())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1]
