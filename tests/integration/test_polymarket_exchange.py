"""The loopback Polymarket exchange over real sockets: the CLOB V2 order gateway against the
loopback venue playing the demo's transcoded Kalshi capture (its books held at the capture's first
snapshot: no market-channel client starts the playback), with the user channel listening."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from eth_account import Account

from hadron.app.demo import DEMO_MARKET, demo_capture, free_port
from hadron.config import HadronConfig, PolymarketConfig, Secret
from hadron.errors import AuthError, RateLimited, RequestError
from hadron.model.account import AccountEvent, AccountFill, OrderStatus, OrderUpdate
from hadron.model.orders import OrderRequest, OrderState, PlaceResult
from hadron.venues.base import ExchangeOptions, ExecutionVenue, FakeVenueHost, FakeVenueOptions, get_venue
from hadron.venues.polymarket.fake import FakePolymarketVenue
from hadron.venues.polymarket.fake_orders import PolymarketExchangeAccount
from hadron.venues.polymarket.fake_scenario import token_ids
from hadron.venues.polymarket.orders import PolymarketOrderGateway
from hadron.venues.polymarket.signing import ApiCredentials, order_amounts, order_salt
from hadron.venues.polymarket.user import PolymarketUserChannel

CREDS = (str(uuid.uuid4()), base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(), secrets.token_hex(32))
KEY = "0x" + "4c" * 32
OTHER_KEY = "0x" + "5d" * 32
_, YES, NO = token_ids(DEMO_MARKET)
INSTRUMENT = f"polymarket:{YES}"


@dataclass
class Loopback:
    venue: FakePolymarketVenue
    rest_url: str
    user_url: str
    events: list[AccountEvent] = field(default_factory=list)

    @property
    def account(self) -> PolymarketExchangeAccount:
        assert self.venue.exchange_account is not None
        return self.venue.exchange_account

    def gateway(self, key: str = KEY, **kwargs: Any) -> PolymarketOrderGateway:
        """A gateway with no API credentials configured: it derives them (L1)."""
        venue = get_venue("polymarket")
        assert isinstance(venue, ExecutionVenue)
        config = HadronConfig(polymarket=PolymarketConfig(private_key=Secret(key), rest_url=self.rest_url))
        if kwargs:
            return PolymarketOrderGateway(private_key=Secret(key), base_url=self.rest_url, **kwargs)
        gateway = venue.order_gateway(config)
        assert isinstance(gateway, PolymarketOrderGateway)
        return gateway

    def fill_ids(self) -> set[str]:
        return {e.fill_id for e in self.events if isinstance(e, AccountFill)}


@contextlib.asynccontextmanager
async def loopback(**options: Any) -> AsyncIterator[Loopback]:
    """The loopback venue with the exchange on, and a user-channel client connected to it."""
    host = get_venue("polymarket")
    assert isinstance(host, FakeVenueHost)
    stop, ready = asyncio.Event(), asyncio.Event()
    got: dict[str, Any] = {}

    def on_ready(ws_url: str, rest_url: str | None) -> None:
        got["urls"] = (ws_url, rest_url)
        ready.set()

    opts = FakeVenueOptions(
        captures=[demo_capture()], port=free_port(), rest_port=free_port(), signals=False, stop=stop, user_auth=CREDS,
        exchange=ExchangeOptions(**options), started=lambda v: got.setdefault("venue", v), ready=on_ready,
    )  # fmt: skip
    task = asyncio.create_task(host.fake_venue(opts))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiter], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    assert ready.is_set(), "the loopback venue did not start"
    ws_url, rest_url = got["urls"]
    assert rest_url is not None
    here = Loopback(got["venue"], rest_url, ws_url.replace("/ws/market", "/ws/user"))
    channel = PolymarketUserChannel(here.user_url, *CREDS, here.events.append)
    listening = asyncio.Event()
    reader = asyncio.create_task(channel.run(listening))
    try:
        for _ in range(400):  # until the channel's client is subscribed
            if here.venue._user_clients:
                break
            await asyncio.sleep(0.025)
        assert here.venue._user_clients, "the user channel did not connect"
        yield here
    finally:
        listening.set()
        await asyncio.wait_for(reader, 30)
        stop.set()
        await asyncio.wait_for(task, 30)


async def until(check: Any, rounds: int = 400) -> None:
    """Wait (polling) until ``check()`` holds; the assertion after it says what was missing."""
    for _ in range(rounds):
        if check():
            return
        await asyncio.sleep(0.025)


def order(client_order_id: str, side: str, price: int, size: int, tif: str, **kwargs: Any) -> OrderRequest:
    return OrderRequest(client_order_id=client_order_id, venue="polymarket", instrument=INSTRUMENT, symbol=YES,
                        outcome="yes", side=side, price=price, size=size, tif=tif,  # type: ignore[arg-type]
                        created_ns=time.time_ns(), **kwargs)  # fmt: skip


def asks(here: Loopback) -> list[tuple[int, int]]:
    return sorted(here.venue.exchange.books[YES].asks.items())


def whole(size: int) -> int:
    """A level size in whole shares (orders carry at most 2 decimals)."""
    return size // 1_000_000 * 1_000_000


@pytest.mark.asyncio
async def test_taker_orders_fill_at_book_prices_and_every_source_agrees() -> None:
    async with loopback(cash="1000") as here:
        gw = here.gateway()
        (p1, s1), (p2, _) = asks(here)[:2]
        # FAK through two levels: fills at each level's price, the whole size filled
        size = whole(s1) + 5_000_000
        (fak,) = await gw.place([order("fak-1", "buy", p2, size, "IOC")])
        assert fak.report.state is OrderState.FILLED and fak.report.filled == size
        assert [(f.price, f.size) for f in fak.fills] == [(p1, s1), (p2, size - s1)]
        assert all(f.taker and f.fee > 0 and f.client_order_id == "fak-1" for f in fak.fills)
        # FOK for more than the book has up to its limit: killed, nothing filled
        left = dict(asks(here)).get(p2, 0)
        (fok,) = await gw.place([order("fok-1", "buy", p2, whole(left) + 10_000_000, "FOK")])
        assert fok.report.state is OrderState.CANCELLED and fok.report.filled == 0 and not fok.fills
        assert here.account.rejected == {"killed": 1}
        (fok2,) = await gw.place([order("fok-2", "buy", p2, 5_000_000, "FOK")])
        assert fok2.report.state is OrderState.FILLED and [(f.price, f.size) for f in fok2.fills] == [(p2, 5_000_000)]
        # FAK for more than is there: a partial fill, the rest killed
        left = dict(asks(here)).get(p2, 0)
        (partial,) = await gw.place([order("fak-2", "buy", p2, whole(left) + 50_000_000, "IOC")])
        assert partial.report.state is OrderState.CANCELLED
        assert partial.report.filled == left and sum(f.size for f in partial.fills) == left > 0
        # a batch (POST /orders): a sale of some of the shares, a buy, and one refused here
        (b1, _) = sorted(here.venue.exchange.books[YES].bids.items())[-1]
        (p3, _) = asks(here)[0]
        sell, buy, empty = await gw.place([
            order("sell-1", "sell", b1, 6_000_000, "IOC"),
            order("fak-3", "buy", p3, 5_000_000, "IOC"),
            order("fak-4", "buy", p3, 0, "IOC"),
        ])  # fmt: skip
        assert sell.report.state is OrderState.FILLED and [(f.price, f.size) for f in sell.fills] == [(b1, 6_000_000)]
        assert buy.report.state is OrderState.FILLED and [(f.price, f.size) for f in buy.fills] == [(p3, 5_000_000)]
        assert empty.report.state is OrderState.REJECTED and empty.report.reason == "size"

        results: list[PlaceResult] = [fak, fok, fok2, partial, sell, buy]
        answered = {f.fill_id for r in results for f in r.fills}
        account = here.account
        assert answered == {t["id"] for t in account.trades}
        rest = await gw.fills(0)
        assert {f.fill_id for f in rest} == answered
        by_id = {f.fill_id: f for r in results for f in r.fills}
        assert all(by_id[f.fill_id] == f for f in rest)  # same prices, sizes, fees, orders
        await until(lambda: here.fill_ids() >= answered)
        assert here.fill_ids() == answered  # the user channel's trades carry the same ids
        shares = sum(f.size if r.report.client_order_id != "sell-1" else -f.size for r in results for f in r.fills)
        assert await gw.positions([YES]) == {INSTRUMENT: shares} == {INSTRUMENT: account.positions()[YES]}
        paid = sum(f.price * f.size * (1 if r.report.client_order_id != "sell-1" else -1) + f.fee
                   for r in results for f in r.fills)  # fmt: skip
        assert await gw.balance() == account.cash == (1000 * 10**10 - paid) // 10_000
        await gw.close()


@pytest.mark.asyncio
async def test_resting_orders_cancel_and_cancel_all() -> None:
    async with loopback(cash="1000") as here:
        gw = here.gateway()
        bid = sorted(here.venue.exchange.books[YES].bids)[-1]
        (g1,) = await gw.place([order("gtc-1", "buy", bid, 10_000_000, "GTC")])
        assert g1.report.state is OrderState.ACCEPTED and not g1.fills
        listed = await gw.open_orders()
        assert [(o.venue_order_id, o.client_order_id, o.price, o.size, o.state) for o in listed] == [
            (g1.report.venue_order_id, "gtc-1", bid, 10_000_000, OrderState.ACCEPTED)
        ]
        assert [o.order_id for o in here.account.open_orders()] == [g1.report.venue_order_id]
        found = await gw.order("gtc-1")
        assert found is not None and found.venue_order_id == g1.report.venue_order_id
        (cancelled,) = await gw.cancel([g1.report.venue_order_id])
        assert cancelled.state is OrderState.CANCELLED and cancelled.client_order_id == "gtc-1"
        (again,) = await gw.cancel([g1.report.venue_order_id])  # already canceled: the venue says so
        assert again.state is OrderState.CANCELLED and "already" in again.reason
        placed = await gw.place([order("gtc-2", "buy", bid - 100, 6_000_000, "GTC"),
                                 order("gtc-3", "buy", bid - 200, 7_000_000, "GTC")])  # fmt: skip
        assert [r.report.state for r in placed] == [OrderState.ACCEPTED, OrderState.ACCEPTED]
        assert sorted(await gw.cancel_all()) == sorted(r.report.venue_order_id for r in placed)
        assert await gw.open_orders() == [] and here.account.open_orders() == []
        gone = await gw.order("gtc-3")
        assert gone is not None and gone.state is OrderState.CANCELLED
        assert await gw.order("never-sent") is None
        ids = {r.report.venue_order_id for r in [g1, *placed]}
        await until(lambda: {e.order_id for e in here.events if isinstance(e, OrderUpdate)
                             and e.status is OrderStatus.CANCELED} >= ids)  # fmt: skip
        updates = [e for e in here.events if isinstance(e, OrderUpdate)]
        assert {e.order_id for e in updates if e.status is OrderStatus.CANCELED} == ids
        assert {e.order_id for e in updates if e.status is OrderStatus.OPEN} == ids
        # a resting order the replayed book crosses later fills as a maker, at its own price
        (g4,) = await gw.place([order("gtc-4", "buy", bid, 8_000_000, "GTC")])
        book = here.venue.exchange.books[YES]
        book.asks[bid] = 5_000_000  # the capture moves an ask down onto the bid
        here.account.on_market({YES})
        (maker,) = [f for f in await gw.fills(0) if f.venue_order_id == g4.report.venue_order_id]
        assert (maker.price, maker.size, maker.taker, maker.fee, maker.client_order_id) == (
            bid,
            5_000_000,
            False,
            0,
            "gtc-4",
        )
        assert maker.fill_id == f"{here.account.trades[-1]['id']}:{g4.report.venue_order_id}"
        await until(lambda: maker.fill_id in here.fill_ids())
        assert maker.fill_id in here.fill_ids()  # the user channel names the maker fill the same
        state = await gw.order("gtc-4")
        assert state is not None and state.state is OrderState.PARTIALLY_FILLED and state.filled == 5_000_000
        assert bid not in book.asks  # the level was taken
        await gw.close()


@pytest.mark.asyncio
async def test_rejects_balance_tick_and_size() -> None:
    async with loopback(cash="8") as here:
        gw = here.gateway()
        (p1, _) = asks(here)[0]
        (poor,) = await gw.place([order("poor", "buy", p1, 20_000_000, "IOC")])  # 20 × ≥ 0.51 > $8
        assert poor.report.state is OrderState.REJECTED and poor.report.reason == "balance"
        assert here.account.orders == {}  # refused before signing: nothing sent
        (off,) = await gw.place([order("off-tick", "buy", p1 + 50, 5_000_000, "IOC", tick=10)])  # 0.001 on a 0.01 book
        assert off.report.state is OrderState.REJECTED and "breaks minimum tick size rule: 0.01" in off.report.reason
        (small,) = await gw.place([order("small", "buy", p1, 2_000_000, "IOC")])
        assert small.report.state is OrderState.REJECTED and "lower than the minimum: 5" in small.report.reason
        assert here.account.rejected == {"tick": 1, "size": 1}
        (ok,) = await gw.place([order("ok", "buy", p1, 5_000_000, "IOC")])
        assert ok.report.state is OrderState.FILLED
        await gw.close()


@pytest.mark.asyncio
async def test_a_resend_is_the_same_order() -> None:
    async with loopback(cash="100") as here:
        (p1, _) = asks(here)[0]
        request = order("once", "buy", p1, 5_000_000, "IOC")
        first = here.gateway()
        (placed,) = await first.place([request])
        (same,) = await first.place([request])  # known by client_order_id: its report, not resent
        restarted = here.gateway()
        (resent,) = await restarted.place([request])  # unknown to this gateway: resent, refused as a duplicate
        assert placed.report.state is same.report.state is resent.report.state is OrderState.FILLED
        assert placed.report.venue_order_id == same.report.venue_order_id == resent.report.venue_order_id
        assert "Duplicated" in resent.report.reason and here.account.rejected == {"duplicate": 1}
        assert len(here.account.orders) == 1 and len(here.account.trades) == 1
        assert restarted.client_orders == {"once": placed.report.venue_order_id}
        await first.close()
        await restarted.close()


@pytest.mark.asyncio
async def test_forged_signatures_and_the_rate_limit() -> None:
    async with loopback(cash="100", max_orders_per_s=2) as here:
        owner = here.gateway()
        await owner.start()
        thief = here.gateway(OTHER_KEY)
        (p1, _) = asks(here)[0]
        # signed by another key, claiming the owner's address as signer and maker
        maker, taker = order_amounts("BUY", p1, 5_000_000, 100)
        signed = thief.signer.sign(token_id=YES, side="BUY", maker_amount=maker, taker_amount=taker,
                                   salt=order_salt("forged"), timestamp_ms=int(time.time() * 1000))  # fmt: skip
        payload = signed.payload(CREDS[0], "FAK")
        payload["order"].update(signer=owner.address, maker=owner.address)
        await thief.start()
        with pytest.raises(RequestError, match="invalid signature") as refused:
            await thief._http.call("POST", "/order", body=msgspec.json.encode(payload))
        assert refused.value.status == 400 and here.account.orders == {}
        # more orders in a second than the venue allows: 429 (no retries here)
        hasty = here.gateway(KEY, creds=None, max_retries=0)
        with pytest.raises(RateLimited):
            await hasty.place([order(f"r{i}", "buy", p1, 5_000_000, "IOC") for i in range(3)])
        assert here.account.rejected.get("rate") == 1 and here.account.orders == {}
        for gw in (owner, thief, hasty):
            await gw.close()


@pytest.mark.asyncio
async def test_only_the_configured_wallet_may_trade() -> None:
    allowed = Account.from_key(KEY).address
    async with loopback(cash="100", address=allowed) as here:
        (p1, _) = asks(here)[0]
        outsider = here.gateway(OTHER_KEY)
        with pytest.raises(AuthError):  # L1: the venue derives no credentials for another wallet
            await outsider.start()
        await outsider.close()
        thief = here.gateway(OTHER_KEY, creds=ApiCredentials(*CREDS), max_retries=0)
        (refused,) = await thief.place([order("theirs", "buy", p1, 5_000_000, "IOC")])
        assert refused.report.state is OrderState.REJECTED and refused.report.reason == "invalid signature"
        owner = here.gateway()
        (ok,) = await owner.place([order("mine", "buy", p1, 5_000_000, "IOC")])
        assert ok.report.state is OrderState.FILLED
        dry = here.gateway(KEY, dry_run=True)
        (shown,) = await dry.place([order("dry", "buy", p1, 5_000_000, "IOC")])
        assert shown.report.reason == "dry_run" and shown.request is not None
        assert len(here.account.orders) == 1 and here.account.rejected == {"signature": 1, "auth": 1}
        for gw in (thief, owner, dry):
            await gw.close()
