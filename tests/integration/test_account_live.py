"""The real account over real sockets: the loopback Kalshi venue plays a script of orders on its
private channels to the signed runtime feed (``kalshi.account``); the account view, the dashboard
snapshot and the state store show the positions and open orders the script made."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hadron.app.account import AccountView
from hadron.app.demo import DEMO_MARKET, demo_capture
from hadron.app.runtime import Runtime
from hadron.arb.terms import load_arb_config
from hadron.book.manager import BookManager
from hadron.config import HadronConfig, KalshiConfig, PolymarketConfig, RuntimeConfig
from hadron.model.account import OrderSide, OrderStatus, Outcome
from hadron.venues.account_script import ScriptedOrder
from hadron.venues.base import get_venue
from hadron.venues.kalshi.auth import generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.live import live_feed
from hadron.venues.polymarket.fake import FakePolymarketVenue
from hadron.venues.polymarket.user import PolymarketUserChannel
from tests.conftest import ListDeadLetter

SCRIPT = [
    ScriptedOrder(DEMO_MARKET, "yes", "0.4800", "10.00", fill="10.00"),  # filled: +10 YES
    ScriptedOrder(DEMO_MARKET, "no", "0.4500", "4.00", fill="1.50"),  # part filled: −1.5, rests 2.5
    ScriptedOrder(DEMO_MARKET, "yes", "0.3000", "5.00"),  # rests
]


def kalshi_config(tmp_path: Path, url: str, *, account: bool = True) -> tuple[HadronConfig, Any]:
    key, private_pem, _ = generate_test_key()
    private = tmp_path / "kalshi.key"
    private.write_bytes(private_pem)
    private.chmod(0o600)
    kalshi = KalshiConfig(env="demo", api_key_id="0b8c5b2e-test-key", private_key_path=str(private), ws_url=url,
                          transport="ws", account=account)  # fmt: skip
    return HadronConfig(kalshi=kalshi), key


async def run_feed(tmp_path: Path, *, account: bool) -> tuple[AccountView, FakeKalshiVenue, int]:
    config, key = kalshi_config(tmp_path, "", account=account)
    venue = FakeKalshiVenue(load_capture([demo_capture()]), public_key=key.public_key(), speed=1.0)
    await venue.start()
    config = HadronConfig(kalshi=replace(config.kalshi, ws_url=venue.url))
    view = AccountView()
    feed = live_feed(BookManager(), [DEMO_MARKET], config=config, on_account=view.apply,
                     dead_letter=ListDeadLetter())  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        for _ in range(200):  # until the private subscriptions are in
            if any(c.by_channel("fill") for c in venue._clients) or (not account and feed.stats.frames > 10):
                break
            await asyncio.sleep(0.05)
        sent = venue.play_account(SCRIPT)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await venue.stop()
    return view, venue, sent


@pytest.mark.asyncio
async def test_scripted_orders_reach_the_account_view(tmp_path: Path) -> None:
    view, _, sent = await run_feed(tmp_path, account=True)
    assert sent == 9  # 3 orders resting, then 2 fills, each with its order's new state and the position
    position = view.positions[("kalshi", f"kalshi:{DEMO_MARKET}")]
    assert position.position == 8_500_000  # +10 YES − 1.5 NO
    assert position.cost == 4_800_000 + 825_000  # 10 × 0.48 + 1.5 × (1 − 0.45), 1/1,000,000 USD
    assert position.volume == 11_500_000 and not position.derived
    open_orders = view.open_orders()
    assert sorted((o.outcome, o.price, o.filled, o.remaining) for o in open_orders) == [
        (Outcome.NO, 4500, 1_500_000, 2_500_000),
        (Outcome.YES, 3000, 0, 5_000_000),
    ]  # enum order: no < yes
    assert all(o.status is OrderStatus.OPEN for o in open_orders)
    assert [(f.outcome, f.size, f.post_position) for f in view.fills] == [
        (Outcome.YES, 10_000_000, 10_000_000),
        (Outcome.NO, 1_500_000, 8_500_000),
    ]
    fee = view.fills[0].fee  # 0.07 × 10 × 0.48 × 0.52 = 0.17472 → 0.18: rounded up to the cent, as Kalshi does
    assert fee == 180_000
    snap = view.snapshot()
    assert snap["positions"][0]["position"] == "8.50" and len(snap["open_orders"]) == 2


@pytest.mark.asyncio
async def test_without_account_the_private_channels_are_not_subscribed(tmp_path: Path) -> None:
    view, _venue, sent = await run_feed(tmp_path, account=False)
    assert sent == 0 and view.counts == {}


@pytest.mark.asyncio
async def test_runtime_snapshot_and_state_store_hold_the_account(tmp_path: Path) -> None:
    polymarket = get_venue("polymarket")
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(polymarket.pairs_for([DEMO_MARKET], fee_rate="0.04"))  # type: ignore[attr-defined]
    config = HadronConfig(
        kalshi=KalshiConfig(env="demo", api_key_id="k", private_key_path=str(tmp_path / "none.pem")),
        polymarket=PolymarketConfig(gamma_url=""),
        runtime=RuntimeConfig(
            pairs=str(pairs),
            state=f"sqlite:///{tmp_path / 'state.db'}",
            port=0,
            dead_letter=str(tmp_path / "dl.ndjson"),
        ),
    )
    runtime = Runtime(config, load_arb_config(pairs))
    await runtime.strategy.open()
    try:
        import msgspec

        from hadron.venues.kalshi.account import normalize_private
        from hadron.venues.kalshi.fake_account import KalshiAccountScript
        from hadron.venues.kalshi.messages import FRAME_DECODER

        script = KalshiAccountScript()
        for order in SCRIPT:
            for channel, msg in script.frames(order, 1_786_000_000_000):
                kind = {"user_orders": "user_order", "fill": "fill", "market_positions": "market_position"}[channel]
                frame = FRAME_DECODER.decode(msgspec.json.encode({"type": kind, "sid": 1, "msg": msg}))
                event = normalize_private(frame, 1_786_000_000_000_000_000)
                assert event is not None
                runtime.account.apply(event)
        account = runtime.snapshot()["account"]
        assert [p["position"] for p in account["positions"]] == ["8.50"]
        assert len(account["open_orders"]) == 2 and len(account["fills"]) == 2
        assert await runtime.flush_account() == 9
        store = runtime.strategy.store
        assert store is not None
        assert [p.position for p in await store.list_account_positions()] == [8_500_000]
        assert len(await store.list_account_orders()) == 3
    finally:
        await runtime.strategy.close(finish=True, status="finished")


POLY_TOKEN = "21742633143463906290569050155826241533067272736897614950488156847949938836455"
CREDS = ("0b8c5b2e-api-key", "c2VjcmV0LXNlY3JldA==", "pass-phrase")


async def run_user_channel(creds: tuple[str, str, str]) -> tuple[AccountView, FakePolymarketVenue, int]:
    venue = FakePolymarketVenue([], speed=0)
    venue.user_auth = CREDS
    await venue.start()
    view = AccountView()
    dead = ListDeadLetter()
    channel = PolymarketUserChannel(venue.url.replace("/ws/market", "/ws/user"), *creds, view.apply, dead_letter=dead)
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop))
    try:
        for _ in range(100):
            if venue._user_clients or venue.stats.user_auth_failures:
                break
            await asyncio.sleep(0.02)
        sent = venue.play_account(
            [
                ScriptedOrder(POLY_TOKEN, "BUY", "0.489", "10", fill="10", market="0xdd22"),
                ScriptedOrder(POLY_TOKEN, "SELL", "0.52", "6", fill="2", market="0xdd22"),
                ScriptedOrder(POLY_TOKEN, "BUY", "0.40", "5", market="0xdd22"),
            ]
        )
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await venue.stop()
    return view, venue, sent


@pytest.mark.asyncio
async def test_polymarket_user_channel_feeds_the_account_view() -> None:
    view, venue, sent = await run_user_channel(CREDS)
    assert sent == 9 and venue.stats.user_auth_failures == 0
    position = view.positions[("polymarket", f"polymarket:{POLY_TOKEN}")]
    # bought 10 at 0.489, sold 2 at 0.52: 8 shares at 0.489, realized 2 × 0.031
    assert (position.position, position.cost, position.realized_pnl, position.derived) == (
        8_000_000,
        3_912_000,
        62_000,
        True,
    )
    assert len(view.fills) == 2  # MATCHED then CONFIRMED: one fill per trade
    assert [f["status"] for f in view.snapshot()["fills"]] == ["CONFIRMED", "CONFIRMED"]
    assert sorted((o.side, o.price, o.filled, o.remaining) for o in view.open_orders()) == [
        (OrderSide.BUY, 4000, 0, 5_000_000),
        (OrderSide.SELL, 5200, 2_000_000, 4_000_000),
    ]


@pytest.mark.asyncio
async def test_polymarket_user_channel_refuses_wrong_credentials() -> None:
    view, venue, sent = await run_user_channel((CREDS[0], "wrong", CREDS[2]))
    assert venue.stats.user_auth_failures >= 1 and sent == 0 and view.counts == {}
