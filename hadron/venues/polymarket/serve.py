"""``hadron fake-venue polymarket``: serve the loopback Polymarket venue (market and user channels,
REST ``/book``) playing a real capture, with injected faults.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from hadron.errors import ConfigError
from hadron.venues.account_script import ScriptedOrder, play_timed
from hadron.venues.base import ExchangeOptions
from hadron.venues.polymarket.fake import FakePolymarketVenue, parse_faults
from hadron.venues.polymarket.fake_orders import PolymarketExchangeAccount
from hadron.venues.polymarket.fake_scenario import load_capture
from hadron.venues.signals import stop_on_signals


async def fake_venue(
    *,
    captures: Sequence[Path],
    port: int,
    speed: float = 1.0,
    faults: str = "",
    rest_port: int | None = None,
    host: str = "127.0.0.1",
    stop: asyncio.Event | None = None,
    ready: Callable[[str, str | None], None] | None = None,
    started: Callable[[Any], None] | None = None,
    loop: bool = False,
    shift: int = 0,
    signals: bool = True,
    account_script: Sequence[ScriptedOrder] = (),
    user_auth: tuple[str, str, str] | None = None,
    burst: bool = False,
    exchange: ExchangeOptions | None = None,
    **_: Any,
) -> FakePolymarketVenue:
    """Serve the loopback Polymarket venue (market channel on ``port``, REST ``/book`` on
    ``rest_port``) until ``stop`` or SIGINT/SIGTERM (``signals``: install the handlers).
    ``loop`` plays the capture again and again; ``shift`` (int, 1/10,000 USD) moves a
    transcoded Kalshi capture's YES prices (see :func:`~hadron.venues.polymarket.fake_scenario.dislocate`).
    ``user_auth``: the (api key, secret, passphrase) the user channel ``/ws/user`` accepts (none:
    it refuses every client); ``account_script``: orders played there (see
    :mod:`hadron.venues.account_script`), the clock started by the first authenticated client.
    ``burst``: at speed 0, frames built and framed ahead, written in large chunks (see
    :class:`~hadron.venues.polymarket.fake.FakePolymarketVenue`). ``exchange``: also take orders
    (the CLOB order routes on REST, matched against the replayed books, reported on the user
    channel; see :mod:`hadron.venues.polymarket.fake_orders`); the account is the returned
    venue's ``exchange_account``.

    Raises:
        ConfigError: a bad fault spec, or nothing playable in the captures.
    """
    timeline = await asyncio.to_thread(load_capture, captures, shift=shift)
    if not timeline:
        raise ConfigError("--capture: no Polymarket frames (or Kalshi frames to transcode) in the given files")
    venue = FakePolymarketVenue(timeline, speed=speed, faults=parse_faults(faults), loop=loop, burst=burst)
    venue.user_auth = user_auth
    if exchange is not None:
        venue.exchange_account = PolymarketExchangeAccount(
            venue.exchange, exchange, user_auth=user_auth, publish=venue.send_user
        )
    await venue.start(host, port)
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    rest_url = None
    if rest_port is not None:
        app = venue.exchange.rest_app()
        if venue.exchange_account is not None:
            app.router.routes.extend(venue.exchange_account.routes())
        config = uvicorn.Config(app, host=host, port=rest_port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        rest_url = f"http://{host}:{rest_port}"
    stop = stop or asyncio.Event()
    if signals:
        stop_on_signals(stop)
    if started is not None:
        started(venue)
    if ready is not None:
        ready(venue.url, rest_url)
    player = asyncio.create_task(
        play_timed(venue, account_script, "polymarket", stop, ready=lambda: bool(venue._user_clients))
    )
    try:
        await stop.wait()
    finally:
        player.cancel()
        await asyncio.gather(player, return_exceptions=True)
        await venue.stop()
        if server is not None and task is not None:
            server.should_exit = True
            await task
    return venue
