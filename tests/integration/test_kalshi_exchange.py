"""The loopback Kalshi exchange over real sockets: the venue replays the demo capture with order
entry on (``FakeVenueOptions.exchange``), :class:`KalshiOrderGateway` places, cancels and reads
over signed REST, and a signed WebSocket client subscribed to the private channels receives
each order's ``fill``/``user_order``/``market_position`` frames.

The capture is played at a pace so slow that only its first snapshot is applied while a test
runs: the book the orders meet is known (best YES bid 0.28 × 69, 0.27 × 9.9; best NO bid
0.49 × 22, 0.48 × 41.26, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import ClientConnection, connect

from hadron.app.demo import DEMO_MARKET, demo_capture
from hadron.config import HadronConfig, KalshiConfig
from hadron.errors import AuthError, ConfigError, RateLimited
from hadron.model.orders import OrderRequest, OrderState
from hadron.venues.base import ExchangeOptions, FakeVenueOptions, get_venue
from hadron.venues.kalshi.adapter import KalshiAdapter
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.orders import KalshiOrderGateway

INSTRUMENT = f"kalshi:{DEMO_MARKET}"
PATIENCE = 20.0
"""Seconds a wait for frames may take before the test fails (not a timing assertion)."""


@dataclass
class Loopback:
    """A running loopback Kalshi venue with order entry, and what a test needs to reach it."""

    venue: FakeKalshiVenue
    ws_url: str
    rest_url: str
    key: rsa.RSAPrivateKey
    key_path: Path
    frames: list[dict[str, Any]] = field(default_factory=list)

    def signer(self) -> KalshiSigner:
        return KalshiSigner("0b8c5b2e-test-key", self.key)

    def gateway(self, **kwargs: Any) -> KalshiOrderGateway:
        return KalshiOrderGateway(self.rest_url, self.signer(), **kwargs)

    def private(self, kind: str) -> list[dict[str, Any]]:
        return [f["msg"] for f in self.frames if f.get("type") == kind]

    async def wait_for(self, kind: str, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + PATIENCE
        while len(self.private(kind)) < count and time.monotonic() < deadline:  # noqa: ASYNC110 - frames list
            await asyncio.sleep(0.02)
        return self.private(kind)


async def _reader(ws: ClientConnection, out: list[dict[str, Any]]) -> None:
    with contextlib.suppress(Exception):
        async for message in ws:
            out.append(json.loads(message))


@contextlib.asynccontextmanager
async def loopback(tmp_path: Path, exchange: ExchangeOptions) -> AsyncIterator[Loopback]:
    """Start the venue through the adapter (as ``hadron fake-venue kalshi`` does), connect a
    signed WebSocket client subscribed to the private channels (which starts the capture)."""
    key, _, public_pem = generate_test_key()
    public = tmp_path / "venue.pub.pem"
    public.write_bytes(public_pem)
    started: list[FakeKalshiVenue] = []
    urls: list[tuple[str, str | None]] = []
    ready = asyncio.Event()
    stop = asyncio.Event()

    def on_ready(ws_url: str, rest_url: str | None) -> None:
        urls.append((ws_url, rest_url))
        ready.set()

    options = FakeVenueOptions(captures=[demo_capture()], port=0, speed=1e-7, signals=False, stop=stop,
                               public_key=public, ready=on_ready, started=started.append, exchange=exchange)  # fmt: skip
    adapter = get_venue("kalshi")
    assert isinstance(adapter, KalshiAdapter)
    task = asyncio.ensure_future(adapter.fake_venue(options))
    waiter = asyncio.ensure_future(ready.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED, timeout=60)
    if task.done():
        task.result()
    assert ready.is_set() and started
    ws_url, rest_url = urls[0]
    assert rest_url is not None  # order entry serves REST even without a rest_port
    venue = started[0]
    key_path = tmp_path / "kalshi.key"
    state = Loopback(venue, ws_url, rest_url, key, key_path)
    signer = state.signer()
    ws = await connect(ws_url, additional_headers=signer.ws_headers(), max_size=None)
    reader = asyncio.create_task(_reader(ws, state.frames))
    try:
        command = {"id": 1, "cmd": "subscribe", "params": {"channels": ["fill", "user_orders", "market_positions"]}}
        await ws.send(json.dumps(command))
        await state.wait_for("subscribed", 3)
        deadline = time.monotonic() + PATIENCE
        while not venue.exchange.books.get(DEMO_MARKET, None) or not venue.exchange.books[DEMO_MARKET].no:
            assert time.monotonic() < deadline, "the capture's first snapshot was not applied"
            await asyncio.sleep(0.01)
        yield state
    finally:
        await ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        stop.set()
        await asyncio.wait_for(task, 30)


def order(cid: str, outcome: str, side: str, price: int, size: int, tif: str, **kwargs: Any) -> OrderRequest:
    return OrderRequest(client_order_id=cid, venue="kalshi", instrument=INSTRUMENT, symbol=DEMO_MARKET,
                        outcome=outcome, side=side, price=price, size=size, tif=tif,  # type: ignore[arg-type]
                        created_ns=time.time_ns(), **kwargs)  # fmt: skip


@pytest.mark.asyncio
async def test_orders_fill_at_book_prices_and_reach_the_private_channels(tmp_path: Path) -> None:
    async with loopback(tmp_path, ExchangeOptions(cash="10000")) as lb:
        gateway = lb.gateway()
        await gateway.start()
        account = lb.venue.exchange_account
        assert account is not None
        try:
            # IOC buy YES 30 ≤ 0.52: 22 at 0.51 (NO bid 0.49) then 8 at 0.52 (NO bid 0.48)
            [ioc] = await gateway.place([order("ioc-1", "yes", "buy", 5200, 30_000_000, "IOC")])
            assert ioc.report.state is OrderState.FILLED and ioc.report.filled == 30_000_000
            assert ioc.fills == [] and ioc.report.venue_order_id
            # the 8 taken at 0.52 are gone from the exchange's view: 33.26 are left there, a partial fill
            [part] = await gateway.place([order("ioc-2", "yes", "buy", 5200, 100_000_000, "IOC")])
            assert part.report.state is OrderState.CANCELLED and part.report.filled == 33_260_000
            # FOK buy NO 100 ≤ 0.73: only 69 + 9.9 on offer → nothing; 50 ≤ 0.72 → all at 0.72
            fok_miss, fok_hit = await gateway.place(
                [
                    order("fok-1", "no", "buy", 7300, 100_000_000, "FOK"),
                    order("fok-2", "no", "buy", 7200, 50_000_000, "FOK"),
                ]
            )
            assert fok_miss.report.state is OrderState.CANCELLED and fok_miss.report.filled == 0
            assert fok_hit.report.state is OrderState.FILLED and fok_hit.report.filled == 50_000_000
            # GTC orders below the book rest
            rest_yes, rest_no = await gateway.place(
                [
                    order("gtc-1", "yes", "buy", 4000, 5_000_000, "GTC"),
                    order("gtc-2", "no", "buy", 3000, 7_000_000, "GTC"),
                ]
            )
            assert rest_yes.report.state is OrderState.ACCEPTED and rest_no.report.state is OrderState.ACCEPTED

            fills = await gateway.fills(0)
            assert [(f.price, f.size) for f in fills] == [
                (5100, 22_000_000), (5200, 8_000_000), (5200, 33_260_000), (7200, 50_000_000)
            ]  # fmt: skip
            assert [f.client_order_id for f in fills] == ["ioc-1", "ioc-1", "ioc-2", "fok-2"]
            assert sum(f.fee for f in fills) == sum(f.fee for f in account.fills) * 10_000
            assert {f.fill_id for f in fills} == {f.fill_id for f in account.fills}

            positions = await gateway.positions([INSTRUMENT])
            assert positions == {INSTRUMENT: 30_000_000 + 33_260_000 - 50_000_000}
            assert account.positions() == {DEMO_MARKET: 13_260_000}
            # paid 22 × 0.51 + 8 × 0.52 + 33.26 × 0.52, got 50 × 0.28 back (NO bought against YES held),
            # fees 0.39 + 0.14 + 0.59 + 0.71; the resting YES buy holds 5 × 0.40
            assert account.cash == 10_000_000_000 - 11_220_000 - 4_160_000 - 17_295_200 + 14_000_000 - 1_830_000
            assert await gateway.balance() == account.balance_cents() * 10_000 == 9_977_490_000

            resting = await gateway.open_orders()
            assert {o.client_order_id for o in resting} == {"gtc-1", "gtc-2"}
            no_order = next(o for o in resting if o.client_order_id == "gtc-2")
            assert (no_order.outcome, no_order.price, no_order.size) == ("no", 3000, 7_000_000)
            looked_up = await gateway.order("gtc-1")
            assert looked_up is not None and looked_up.state is OrderState.ACCEPTED

            [cancelled] = await gateway.cancel([rest_yes.report.venue_order_id])
            assert cancelled.state is OrderState.CANCELLED and cancelled.client_order_id == "gtc-1"
            assert await gateway.cancel_all() == [rest_no.report.venue_order_id]
            assert account.open_orders() == [] and await gateway.open_orders() == []

            # the private channels: every fill with its ids, the orders' states, the positions
            fill_frames = await lb.wait_for("fill", 4)
            assert [f["client_order_id"] for f in fill_frames] == ["ioc-1", "ioc-1", "ioc-2", "fok-2"]
            assert [f["yes_price_dollars"] for f in fill_frames] == ["0.5100", "0.5200", "0.5200", "0.2800"]
            assert [f["outcome_side"] for f in fill_frames] == ["yes", "yes", "yes", "no"]
            assert all(f["is_taker"] and f["order_id"] and f["trade_id"] for f in fill_frames)
            assert fill_frames[-1]["post_position_fp"] == "13.26" and fill_frames[0]["count_fp"] == "22.00"
            orders = await lb.wait_for("user_order", 8)
            assert [(o["client_order_id"], o["status"]) for o in orders] == [
                ("ioc-1", "executed"), ("ioc-2", "canceled"), ("fok-1", "canceled"), ("fok-2", "executed"),
                ("gtc-1", "resting"), ("gtc-2", "resting"), ("gtc-1", "canceled"), ("gtc-2", "canceled"),
            ]  # fmt: skip
            positions_seen = await lb.wait_for("market_position", 3)
            assert positions_seen[-1]["position_fp"] == "13.26"
        finally:
            await gateway.close()


@pytest.mark.asyncio
async def test_refusals_balance_tick_rate_limit_signature_and_duplicates(tmp_path: Path) -> None:
    async with loopback(tmp_path, ExchangeOptions(cash="20", max_orders_per_s=3)) as lb:
        gateway = lb.gateway(max_retries=0)
        account = lb.venue.exchange_account
        assert account is not None
        try:
            # 100 YES at ≤ 0.52 costs about 51 USD: only 20 in the account
            poor, off_tick = await gateway.place(
                [
                    order("big", "yes", "buy", 5200, 100_000_000, "IOC"),
                    order("tick", "yes", "buy", 5150, 1_000_000, "IOC"),
                ]
            )
            assert poor.report.state is OrderState.REJECTED and "insufficient_balance" in poor.report.reason
            assert off_tick.report.state is OrderState.REJECTED and "invalid_price" in off_tick.report.reason
            # a client order id seen before: the first order's report, no second order
            [first] = await gateway.place([order("dup", "yes", "buy", 5100, 1_000_000, "IOC")])
            assert account.refused.get("rate_limited", 0) == 0
            await asyncio.sleep(1.1)  # the rate window (3 orders a second) is empty again
            [again] = await gateway.place([order("dup", "yes", "buy", 5100, 1_000_000, "IOC")])
            assert again.report.venue_order_id == first.report.venue_order_id
            assert again.report.state is OrderState.FILLED
            assert sum(1 for o in account.orders.values() if o.client_order_id == "dup") == 1
            assert account.refused.get("order_already_exists") == 1
            # 4 orders in one batch against 3 a second: 429, raised after the (zero) retries
            await asyncio.sleep(1.1)
            with pytest.raises(RateLimited):
                await gateway.place([order(f"burst-{i}", "yes", "buy", 4000, 1_000_000, "GTC") for i in range(4)])
            assert account.refused["rate_limited"] == 1
            # a key the venue does not know: 401 on every request
            stranger, _, _ = generate_test_key()
            wrong = KalshiOrderGateway(lb.rest_url, KalshiSigner("0b8c5b2e-test-key", stranger), max_retries=0)
            try:
                with pytest.raises(AuthError, match="401"):
                    await wrong.balance()
                with pytest.raises(AuthError, match="401"):
                    await wrong.place([order("x", "yes", "buy", 5100, 1_000_000, "IOC")])
            finally:
                await wrong.close()
        finally:
            await gateway.close()


@pytest.mark.asyncio
async def test_adapter_gateway_order_group_and_config_errors(tmp_path: Path) -> None:
    adapter = get_venue("kalshi")
    assert isinstance(adapter, KalshiAdapter)
    with pytest.raises(ConfigError, match="KALSHI_API_KEY_ID"):
        adapter.order_gateway(HadronConfig(kalshi=KalshiConfig(env="demo")))
    async with loopback(tmp_path, ExchangeOptions()) as lb:
        from cryptography.hazmat.primitives import serialization

        pem = lb.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())  # fmt: skip
        lb.key_path.write_bytes(pem)
        lb.key_path.chmod(0o600)
        config = HadronConfig(kalshi=KalshiConfig(env="demo", api_key_id="0b8c5b2e-test-key",
                                                  private_key_path=str(lb.key_path), rest_url=lb.rest_url))  # fmt: skip
        gateway = adapter.order_gateway(config, contracts_limit=50)
        account = lb.venue.exchange_account
        assert account is not None
        try:
            await gateway.start()
            assert gateway.order_group_id in account.groups
            [placed] = await gateway.place([order("grouped", "yes", "buy", 4000, 2_000_000, "GTC")])
            assert account.orders[placed.report.venue_order_id].order_group_id == gateway.order_group_id
            assert await gateway.cancel_all() == [placed.report.venue_order_id]
            assert gateway.order_group_id == "" and account.groups == {}  # the group is deleted with the orders
        finally:
            await gateway.close()
