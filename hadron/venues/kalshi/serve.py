"""``hadron fake-venue kalshi``: serve the loopback Kalshi venue (signed WebSocket v2 and REST v2)
playing a real capture, with injected faults.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from hadron.errors import ConfigError
from hadron.venues.account_script import ScriptedOrder, play_timed
from hadron.venues.base import ExchangeOptions
from hadron.venues.kalshi.auth import load_public_key
from hadron.venues.kalshi.fake import FakeKalshiVenue, parse_faults
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fake_orders import KalshiExchangeAccount
from hadron.venues.kalshi.fake_rest import RestFaults, build_rest_app
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.signals import stop_on_signals


def split_faults(spec: str) -> tuple[str, RestFaults]:
    """Split a ``--faults`` spec into the WebSocket part and REST faults (``rest429:N``: every Nth
    REST request answers 429; ``rest503:N``: every Nth answers 503).

    Raises:
        ConfigError: a REST item without a whole number.
    """
    ws_items: list[str] = []
    rest = RestFaults()
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, every = item.partition(":")
        if kind in ("rest429", "rest503"):
            if not every.isdigit() or int(every) < 1:
                raise ConfigError(f"--faults item {item!r}: use {kind}:N with N a whole number ≥ 1")
            if kind == "rest429":
                rest.rate_limit_every = int(every)
            else:
                rest.server_error_every = int(every)
        else:
            ws_items.append(item)
    return ",".join(ws_items), rest


async def _public_keys(public_key: Path | Sequence[Path] | None) -> list[RSAPublicKey]:
    keys = []
    for path in [public_key] if isinstance(public_key, Path) else list(public_key or []):
        try:
            pem = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise ConfigError(f"--public-key {path}: cannot read ({exc.strerror or exc})") from exc
        keys.append(load_public_key(pem))
    return keys


async def _serve_rest(app: Any, host: str, port: int) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    # uvicorn on host:port (0: a free port); return the server, its task and the port it listens on
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.01)
    if port == 0 and server.servers:  # the port picked
        port = int(next(iter(server.servers[0].sockets)).getsockname()[1])
    return server, task, port


async def fake_venue(
    *,
    captures: Sequence[Path],
    port: int,
    public_key: Path | Sequence[Path] | None,
    speed: float = 1.0,
    faults: str = "",
    rest_port: int | None = None,
    metadata: Path | None = None,
    host: str = "127.0.0.1",
    stop: asyncio.Event | None = None,
    ready: Callable[[str, str | None], None] | None = None,
    started: Callable[[Any], None] | None = None,
    loop: bool = False,
    signals: bool = True,
    account_script: Sequence[ScriptedOrder] = (),
    burst: bool = False,
    exchange: ExchangeOptions | None = None,
    **_: Any,
) -> FakeKalshiVenue:
    """Serve the loopback Kalshi venue (WebSocket on ``port``, REST on ``rest_port``) until
    ``stop`` or SIGINT/SIGTERM (``signals``: install the handlers); ``ready(ws_url, rest_url)``
    is called once listening. ``loop`` plays the capture again and again. ``public_key``: the PEM
    file(s) of the keys whose signatures are accepted (several: a key pool; none: any client).
    ``account_script``: orders played on the private channels (see
    :mod:`hadron.venues.account_script`), the clock started by the first ``fill`` subscription.
    ``burst``: at speed 0, frames built and framed ahead, written in large chunks (see
    :class:`~hadron.venues.kalshi.fake.FakeKalshiVenue`).
    ``exchange``: take orders (:mod:`hadron.venues.kalshi.fake_orders`): the REST side gains the
    portfolio routes (served on ``rest_port``, or a free port when it is ``None``), the venue's
    ``exchange_account`` holds the account, and each order's private messages go to the signed
    clients subscribed to ``user_orders``/``fill``/``market_positions``.

    Raises:
        ConfigError: unreadable public key, bad fault spec, or no playable capture.
        DecodeError: a bad ``exchange.cash`` or starting position.
    """
    keys = await _public_keys(public_key)
    timeline = await asyncio.to_thread(load_capture, captures)
    if not timeline:
        raise ConfigError("--capture: no Kalshi book or trade frames found in the given files")
    exchange_state = FakeExchange()
    if metadata is not None:
        exchange_state.load_metadata(metadata)
    ws_faults, rest_faults = split_faults(faults)
    venue = FakeKalshiVenue(
        timeline, exchange_state, public_key=keys, speed=speed, faults=parse_faults(ws_faults), loop=loop, burst=burst
    )
    account: KalshiExchangeAccount | None = None
    if exchange is not None:
        account = KalshiExchangeAccount(venue.exchange, exchange)
        account.frames_sink = venue.play_private
        venue.exchange_account = account
        if rest_port is None:
            rest_port = 0  # orders need REST: a free port
    await venue.start(host, port)
    server: uvicorn.Server | None = None
    server_task: asyncio.Task[None] | None = None
    rest_url = None
    if rest_port is not None:
        app = build_rest_app(exchange_state, public_key=keys, faults=rest_faults, account=account)
        server, server_task, rest_port = await _serve_rest(app, host, rest_port)
        rest_url = f"http://{host}:{rest_port}/trade-api/v2"
    stop = stop or asyncio.Event()
    if signals:
        stop_on_signals(stop)
    if started is not None:
        started(venue)
    if ready is not None:
        ready(venue.url, rest_url)

    def subscribed() -> bool:  # a client subscribed to the private channels
        return any(c.by_channel("fill") for c in venue._clients)

    player = asyncio.create_task(play_timed(venue, account_script, "kalshi", stop, ready=subscribed))
    try:
        await stop.wait()
    finally:
        player.cancel()
        await asyncio.gather(player, return_exceptions=True)
        await venue.stop()
        if server is not None and server_task is not None:
            server.should_exit = True
            await server_task
    return venue
