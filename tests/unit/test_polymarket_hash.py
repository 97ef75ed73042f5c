"""The Polymarket book hash reproduced on real WS and REST captures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hadron.venues.polymarket.hash import ZERO_HASH, book_hash, verify_book
from hadron.venues.polymarket.messages import ELEMENT_DECODER, PolymarketBook, PolymarketLevel
from hadron.venues.polymarket.rest import PolymarketBookSummary
from tests.conftest import FIXTURES, SHARED_DATA, shared_data

NAUTILUS = SHARED_DATA / "nautechsystems__nautilus_trader"
TEST_DATA = NAUTILUS / "crates" / "adapters" / "polymarket" / "test_data"
HTTP_RESPONSES = NAUTILUS / "tests" / "integration_tests" / "adapters" / "polymarket" / "resources" / "http_responses"
BURST = FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json"
BOOKS_2026 = FIXTURES / "polymarket" / "book_2026.jsonl"


def load(path: Path) -> Any:
    return json.loads(shared_data(path).read_bytes())


def reference_hash(body: dict[str, Any], min_order_size: str, neg_risk: bool) -> str:
    """The documented algorithm, spelled out with json.dumps (docs §5.2)."""
    payload = {
        "market": body["market"],
        "asset_id": body["asset_id"],
        "timestamp": body["timestamp"],
        "hash": "",
        "bids": [{"price": level["price"], "size": level["size"]} for level in body["bids"]],
        "asks": [{"price": level["price"], "size": level["size"]} for level in body["asks"]],
        "min_order_size": min_order_size,
        "tick_size": body["tick_size"],
        "neg_risk": neg_risk,
        "last_trade_price": body["last_trade_price"],
    }
    return hashlib.sha1(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def hash_of(body: dict[str, Any], min_order_size: str, neg_risk: bool) -> str:
    return book_hash(
        market=body["market"],
        asset_id=body["asset_id"],
        timestamp=body["timestamp"],
        bids=[(level["price"], level["size"]) for level in body["bids"]],
        asks=[(level["price"], level["size"]) for level in body["asks"]],
        min_order_size=min_order_size,
        tick_size=body["tick_size"],
        neg_risk=neg_risk,
        last_trade_price=body["last_trade_price"],
    )


# -- WS book -----------------------------------------------------------------------------------


@pytest.mark.data
def test_ws_captured_snapshot_reproduces_with_market_metadata() -> None:
    body = load(TEST_DATA / "ws_book_snapshot_captured.json")
    assert body["hash"] == "ed47eb91f3c7985fac1cb18cb7c19535eddd3c0a"
    assert (len(body["bids"]), len(body["asks"])) == (7, 57)
    # json.dumps and the msgspec encoder agree byte for byte on the real capture
    assert hash_of(body, "5", False) == reference_hash(body, "5", False) == body["hash"]
    msg = msgspec.json.decode(
        shared_data(TEST_DATA / "ws_book_snapshot_captured.json").read_bytes(), type=PolymarketBook
    )
    assert verify_book(msg, min_order_size="5", neg_risk=False) is True
    # the metadata matters: any other value is a mismatch, not a pass
    assert verify_book(msg, min_order_size="1", neg_risk=False) is False
    assert verify_book(msg, min_order_size="5.0", neg_risk=False) is False
    assert verify_book(msg, min_order_size="5", neg_risk=True) is False


@pytest.mark.data
def test_ws_snapshot_tampering_is_a_mismatch() -> None:
    msg = msgspec.json.decode(
        shared_data(TEST_DATA / "ws_book_snapshot_captured.json").read_bytes(), type=PolymarketBook
    )
    assert msg.bids is not None
    reordered = msgspec.structs.replace(msg, bids=list(reversed(msg.bids)))
    resized = msgspec.structs.replace(msg, bids=[*msg.bids[:-1], PolymarketLevel(msg.bids[-1].price, "1")])
    reformatted = msgspec.structs.replace(msg, last_trade_price="0.92")
    for bad in (reordered, resized, reformatted):
        assert verify_book(bad, min_order_size="5", neg_risk=False) is False
    # an upper-case hash from elsewhere still compares equal
    assert verify_book(msgspec.structs.replace(msg, hash=msg.hash.upper()), min_order_size="5", neg_risk=False)


@pytest.mark.data
def test_buys_sells_aliases_hash_like_bids_asks() -> None:
    body = load(TEST_DATA / "ws_book_snapshot_captured.json")
    aliased = {k: v for k, v in body.items() if k not in ("bids", "asks")} | {
        "buys": body["bids"],
        "sells": body["asks"],
    }
    msg = msgspec.convert(aliased, PolymarketBook)
    assert msg.bids is None
    assert verify_book(msg, min_order_size="5", neg_risk=False) is True


def test_fixture_books_of_2026_all_reproduce_with_5_and_false() -> None:
    lines = BOOKS_2026.read_bytes().splitlines()
    assert len(lines) == 10
    for line in lines:
        msg = ELEMENT_DECODER.decode(line)
        assert isinstance(msg, PolymarketBook)
        assert verify_book(msg, min_order_size="5", neg_risk=False) is True, msg.hash
        assert verify_book(msg, min_order_size="1", neg_risk=False) is False


# -- REST book ---------------------------------------------------------------------------------


@pytest.mark.data
def test_rest_empty_ask_body_verifies_with_its_own_metadata() -> None:
    raw = shared_data(TEST_DATA / "clob_book_response_empty_ask.json").read_bytes()
    body = json.loads(raw)
    assert body["hash"] == "d7df883ae546b09533a4f485bfae0810da1af04e"
    assert hash_of(body, "5", True) == reference_hash(body, "5", True) == body["hash"]
    summary = msgspec.json.decode(raw, type=PolymarketBookSummary)
    assert (summary.min_order_size, summary.neg_risk, summary.last_trade_price) == ("5", True, "")
    assert verify_book(summary) is True
    # the body's own min_order_size and neg_risk win over the caller's
    assert verify_book(summary, min_order_size="1", neg_risk=False) is True
    assert verify_book(msgspec.structs.replace(summary, neg_risk=False)) is False


@pytest.mark.data
def test_old_rest_book_without_tick_size_cannot_be_checked() -> None:
    raw = shared_data(HTTP_RESPONSES / "book.json").read_bytes()
    summary = msgspec.json.decode(raw, type=PolymarketBookSummary)
    assert summary.hash == "2fc4a3d6a98bc164e057589bcb74981852b87412"
    assert verify_book(summary, min_order_size="5", neg_risk=False) is None


# -- not checkable -----------------------------------------------------------------------------


@pytest.mark.data
def test_books_that_cannot_be_checked_give_none() -> None:
    msg = msgspec.json.decode(
        shared_data(TEST_DATA / "ws_book_snapshot_captured.json").read_bytes(), type=PolymarketBook
    )
    # docs §2.5: an unknown token's book has a zero hash
    assert verify_book(msgspec.structs.replace(msg, hash=ZERO_HASH), min_order_size="5", neg_risk=False) is None
    assert verify_book(msgspec.structs.replace(msg, hash=""), min_order_size="5", neg_risk=False) is None
    assert verify_book(msgspec.structs.replace(msg, tick_size=""), min_order_size="5", neg_risk=False) is None
    assert verify_book(msgspec.structs.replace(msg, last_trade_price=None), min_order_size="5", neg_risk=False) is None
    # a WS book carries neither: without the market's metadata there is nothing to check
    assert verify_book(msg) is None
    assert verify_book(msg, min_order_size="5") is None
    assert verify_book(msg, neg_risk=False) is None


# -- the crossing burst ------------------------------------------------------------------------


def burst_books() -> tuple[PolymarketBook, PolymarketBook]:
    frames = json.loads(BURST.read_bytes())
    first, last = (msgspec.convert(frames[i], PolymarketBook) for i in (0, -1))
    return first, last


def test_burst_first_book_reproduces_with_5_and_false() -> None:
    first, _ = burst_books()
    assert first.hash == "5511583ad6f3eb4678e0a374e0cc2bd3b1975d07"
    assert (first.tick_size, first.last_trade_price) == ("0.001", "0.255")
    assert verify_book(first, min_order_size="5", neg_risk=False) is True
    for mos, risk in (("1", False), ("5", True), ("1", True), ("10", False)):
        assert verify_book(first, min_order_size=mos, neg_risk=risk) is False


def test_burst_last_book_omits_fields_the_server_hashed() -> None:
    _, last = burst_books()
    assert last.hash == "78b396c8a7f4989f638fe6cf9b2e8ced15680ba7"
    # the closing snapshot has no tick_size and no last_trade_price: it cannot be checked as sent
    assert (last.tick_size, last.last_trade_price) == ("", None)
    assert verify_book(last, min_order_size="5", neg_risk=False) is None
    # The server hashed the tick carried over from the first book and the price of the trade the
    # burst ends with (a SELL at 0.301 filled the 0.311 and 0.301 bids at ts 1790658827000).
    completed = msgspec.structs.replace(last, tick_size="0.001", last_trade_price="0.301")
    assert verify_book(completed, min_order_size="5", neg_risk=False) is True
    assert (
        verify_book(msgspec.structs.replace(completed, last_trade_price="0.255"), min_order_size="5", neg_risk=False)
        is False
    )
    assert (
        verify_book(msgspec.structs.replace(completed, last_trade_price=""), min_order_size="5", neg_risk=False)
        is False
    )
