"""The account: Kalshi's private messages (the AsyncAPI spec's own examples) normalized into
account events with exact fixed-point values, and the account view folding them."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from hadron.app.account import AccountView
from hadron.errors import DecodeError
from hadron.model.account import (
    ACCOUNT_DECODER,
    AccountFill,
    OrderGroupUpdate,
    OrderSide,
    OrderStatus,
    OrderUpdate,
    Outcome,
    PositionUpdate,
    format_cash,
    parse_cash,
)
from hadron.venues.kalshi.account import normalize_private
from hadron.venues.kalshi.messages import FRAME_DECODER, PRIVATE_MESSAGES
from tests.conftest import KALSHI_ASYNCAPI, SHARED_DATA

SPEC = KALSHI_ASYNCAPI
RECV = 1_800_000_000_000_000_000


def spec_example(name: str) -> dict[str, Any]:
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is absent")
    yaml = pytest.importorskip("yaml")
    messages = yaml.safe_load(SPEC.read_text())["components"]["messages"]
    payload: dict[str, Any] = messages[name]["examples"][0]["payload"]
    return payload


def decode(payload: dict[str, Any]) -> Any:
    msg = FRAME_DECODER.decode(msgspec.json.encode(payload))
    assert isinstance(msg, PRIVATE_MESSAGES)
    return msg


def test_cash_is_parsed_exactly() -> None:
    assert parse_cash("50.0000") == 50_000_000
    assert parse_cash("-1.25") == -1_250_000
    assert parse_cash("0.000123") == 123
    assert format_cash(-1_250_000) == "-1.25" and format_cash(123) == "0.000123"
    with pytest.raises(DecodeError):
        parse_cash("0.0000001")
    with pytest.raises(DecodeError):
        parse_cash("1e3")


def test_spec_fill() -> None:
    fill = normalize_private(decode(spec_example("fill")), RECV)
    assert fill == AccountFill(
        venue="kalshi",
        instrument="kalshi:HIGHNY-22DEC23-B53.5",
        fill_id="d91bc706-ee49-470d-82d8-11418bda6fed",
        order_id="ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        client_order_id="",
        outcome=Outcome.YES,  # side yes, action buy (the example has no outcome_side)
        side=OrderSide.BUY,
        price=7500,
        size=278_000_000,
        fee=0,
        taker=True,
        ts_event=1671899397000 * 1_000_000,
        ts_recv=RECV,
        post_position=500_000_000,
    )


def test_fill_direction_from_outcome_side_and_legacy_fields() -> None:
    payload = spec_example("fill")
    sold_yes = {**payload, "msg": {**payload["msg"], "action": "sell", "fee_cost": "0.0175"}}
    fill = normalize_private(decode(sold_yes), RECV)
    assert isinstance(fill, AccountFill) and fill.outcome is Outcome.NO and fill.fee == 17_500
    explicit = {**payload, "msg": {**payload["msg"], "outcome_side": "no", "book_side": "ask"}}
    assert normalize_private(decode(explicit), RECV).outcome is Outcome.NO  # type: ignore[union-attr]


def test_spec_market_position() -> None:
    position = normalize_private(decode(spec_example("marketPosition")), RECV)
    assert position == PositionUpdate(
        venue="kalshi",
        instrument="kalshi:FED-23DEC-T3.00",
        position=100_000_000,
        cost=50_000_000,
        realized_pnl=10_000_000,
        fees_paid=1_000_000,
        ts_event=RECV,
        ts_recv=RECV,
        volume=15_000_000,
    )


def test_spec_user_order() -> None:
    order = normalize_private(decode(spec_example("userOrder")), RECV)
    assert order == OrderUpdate(
        venue="kalshi",
        instrument="kalshi:FED-23DEC-T3.00",
        order_id="ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        client_order_id="my-order-1",
        status=OrderStatus.OPEN,
        outcome=Outcome.YES,
        side=OrderSide.BUY,
        price=3500,
        initial=10_000_000,
        filled=0,
        remaining=10_000_000,
        ts_event=1733047200000 * 1_000_000,
        ts_recv=RECV,
        venue_status="resting",
    )


def test_spec_order_group_update() -> None:
    group = normalize_private(decode(spec_example("orderGroupUpdates")), RECV)
    assert group == OrderGroupUpdate("kalshi", "og_123", "limit_updated", 150_000_000, RECV, RECV)


def test_bad_values_raise_decode_error() -> None:
    payload = spec_example("userOrder")
    with pytest.raises(DecodeError, match="status"):
        normalize_private(decode({**payload, "msg": {**payload["msg"], "status": "pending"}}), RECV)
    fill = spec_example("fill")
    with pytest.raises(DecodeError):
        normalize_private(decode({**fill, "msg": {**fill["msg"], "yes_price_dollars": "0.7.5"}}), RECV)


def test_events_round_trip_through_json() -> None:
    for name in ("fill", "marketPosition", "userOrder", "orderGroupUpdates"):
        event = normalize_private(decode(spec_example(name)), RECV)
        assert ACCOUNT_DECODER.decode(msgspec.json.encode(event)) == event


def order(order_id: str, status: OrderStatus, filled: int, remaining: int, ts: int) -> OrderUpdate:
    return OrderUpdate("kalshi", "kalshi:M", order_id, "", status, Outcome.YES, OrderSide.BUY, 4800,
                       filled + remaining, filled, remaining, ts, ts)  # fmt: skip


def token_fill(fill_id: str, side: OrderSide, price: int, size: int, status: str = "MATCHED") -> AccountFill:
    return AccountFill("polymarket", "polymarket:123", fill_id, "o", "", Outcome.TOKEN, side, price, size, 0,
                       True, RECV, RECV, None, status)  # fmt: skip


def test_view_keeps_latest_orders_and_venue_positions() -> None:
    seen: list[object] = []
    view = AccountView(on_event=seen.append)
    view.apply(order("a", OrderStatus.OPEN, 0, 10_000_000, 1))
    view.apply(order("b", OrderStatus.OPEN, 0, 5_000_000, 2))
    view.apply(order("a", OrderStatus.FILLED, 10_000_000, 0, 3))
    assert [o.order_id for o in view.open_orders()] == ["b"]
    view.apply(PositionUpdate("kalshi", "kalshi:M", 10_000_000, 4_800_000, 0, 70_000, 3, 3))
    snap = view.snapshot()
    assert snap["positions"] == [
        {"venue": "kalshi", "instrument": "kalshi:M", "position": "10.00", "cost": "4.80",
         "realized_pnl": "0.00", "fees_paid": "0.07", "derived": False}
    ]  # fmt: skip
    assert snap["open_orders"][0]["order_id"] == "b" and len(seen) == 4


def test_view_derives_token_positions_once_per_trade() -> None:
    view = AccountView()
    view.apply(token_fill("t1", OrderSide.BUY, 4000, 10_000_000))
    view.apply(token_fill("t1", OrderSide.BUY, 4000, 10_000_000, "MINED"))  # the same trade again
    view.apply(token_fill("t1", OrderSide.BUY, 4000, 10_000_000, "CONFIRMED"))
    view.apply(token_fill("t2", OrderSide.SELL, 5000, 4_000_000))
    p = view.positions[("polymarket", "polymarket:123")]
    assert (p.position, p.cost, p.realized_pnl, p.volume, p.derived) == (
        6_000_000,
        2_400_000,
        400_000,
        14_000_000,
        True,
    )
    view.apply(token_fill("t2", OrderSide.SELL, 5000, 4_000_000, "FAILED"))  # taken back
    p = view.positions[("polymarket", "polymarket:123")]
    assert (p.position, p.cost) == (10_000_000, 4_000_000)
    assert view.snapshot()["fills"][0]["status"] == "FAILED"


NAUTILUS_TRADE = SHARED_DATA / (
    "nautechsystems__nautilus_trader/tests/integration_tests/adapters/polymarket/resources/ws_messages/trades.json"
)


def test_polymarket_user_trade_from_a_real_frame() -> None:
    from hadron.venues.polymarket.user import USER_DECODER, normalize_user

    if not NAUTILUS_TRADE.is_file():
        pytest.skip(f"{NAUTILUS_TRADE} is absent (../shared/data)")
    frame = msgspec.json.decode(NAUTILUS_TRADE.read_bytes())
    frame["event_type"] = "trade"  # nautilus keeps the trade without its event_type tag
    msg = USER_DECODER.decode(msgspec.json.encode(frame))
    (fill,) = normalize_user(msg, RECV)  # type: ignore[arg-type]
    assert isinstance(fill, AccountFill)
    assert (fill.instrument, fill.side, fill.price, fill.size, fill.taker, fill.status) == (
        "polymarket:21742633143463906290569050155826241533067272736897614950488156847949938836455",
        OrderSide.BUY,
        4890,
        5_000_000,
        True,
        "CONFIRMED",
    )
    assert fill.ts_event == 1726043102 * 1_000_000_000  # match_time is seconds
    # as the maker: only the maker orders owned by our API key are ours
    maker = msgspec.json.encode({**frame, "trader_side": "MAKER"})
    (ours,) = normalize_user(USER_DECODER.decode(maker), RECV, "62880c97-4a03-c6fa-2665-e6072ffc6ae6")  # type: ignore[arg-type]
    assert (ours.order_id, ours.size, ours.taker) == (frame["maker_orders"][0]["order_id"], 5_000_000, False)  # type: ignore[union-attr]
    assert normalize_user(USER_DECODER.decode(maker), RECV, "someone-else") == []  # type: ignore[arg-type]


def test_polymarket_user_order_fok_kill_is_canceled() -> None:
    from hadron.venues.polymarket.user import USER_DECODER, normalize_user

    raw = (
        b'{"event_type":"order","id":"0xabc","asset_id":"123","side":"BUY","price":"0.5","original_size":"10",'
        b'"size_matched":"","status":"CANCELED_order couldn\'t be fully filled","type":"UPDATE","timestamp":"1726043102000"}'
    )
    (order,) = normalize_user(USER_DECODER.decode(raw), RECV)  # type: ignore[arg-type]
    assert isinstance(order, OrderUpdate)
    assert (order.status, order.filled, order.remaining, order.ts_event) == (
        OrderStatus.CANCELED,
        0,
        0,
        1726043102000 * 1_000_000,
    )


def test_polymarket_subscribe_frame_holds_the_credentials_only_when_built() -> None:
    from hadron.config import load_config

    cfg = load_config(
        None,
        environ={"POLYMARKET_API_KEY": "k-1", "POLYMARKET_API_SECRET": "s-2", "POLYMARKET_API_PASSPHRASE": "p-3"},
        dotenv=None,
    )
    assert cfg.polymarket.has_credentials
    shown = repr(cfg.polymarket)
    assert "s-2" not in shown and "p-3" not in shown and "k-1" not in shown


def test_a_bad_user_channel_frame_is_kept_without_the_api_key_and_the_session_goes_on() -> None:
    from hadron.venues.polymarket.user import PolymarketUserChannel
    from tests.conftest import ListDeadLetter

    key = "0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
    got: list[object] = []

    def sink(event: object) -> None:
        if len(got) == 0:
            got.append(event)
            raise RuntimeError("a consumer failed")  # not the frame's fault: still contained
        got.append(event)

    dead = ListDeadLetter()
    channel = PolymarketUserChannel("ws://unused", key, "secret", "pass", sink, dead_letter=dead)
    for frame in (
        NAUTILUS_TRADE.read_bytes() if NAUTILUS_TRADE.is_file() else b"",
        f'{{"event_type":"order","owner":"{key}"}}'.encode(),
    ):
        if frame:
            channel.on_frame(frame, 1)
    channel.on_frame(f'{{"event_type":"trade","id":"t","owner":"{key}","price":"abc"}}'.encode(), 2)
    assert channel.stats.decode_errors >= 2
    assert dead.items and all(key.encode() not in raw for raw, _, _ in dead.items)
    assert all(key not in error for _, error, _ in dead.items)
