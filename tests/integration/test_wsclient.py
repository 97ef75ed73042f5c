"""The sessions' WebSocket connection over both client libraries, on real sockets: whole messages
(fragmented ones joined), the size limit (1009), closes from either side, pings, a handler's bug,
handshake refusals classified the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from hadron.errors import AuthError, ConfigError, TransportError
from hadron.venues.session import Backoff
from hadron.venues.wsclient import CLIENTS, WsConnection, classify_failure, default_client, dial, reconnect_loop

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("client", CLIENTS)]

Handler = Callable[[ServerConnection], Awaitable[None]]


async def _server(handler: Handler, **options: Any) -> tuple[Any, str]:
    server = await serve(handler, "127.0.0.1", 0, compression=None, **options)
    port = next(iter(server.sockets)).getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/ws"


async def _collect(url: str, client: str, *, max_size: int = 1 << 20) -> tuple[list[bytes], int | None]:
    got: list[bytes] = []
    async with dial(url, client=client, headers=None, max_size=max_size, open_timeout=5) as ws:
        ws.on_message(lambda raw, recv_ns, read_ns: got.append(raw))
        await asyncio.wait_for(ws.wait_closed(), 10)
        return got, ws.close_sent_code


async def test_messages_arrive_whole_and_in_order_fragmented_ones_joined(client: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("one")
        await ws.send(["fr", "ag", "mented"])  # one text message in three frames
        await ws.send(b"\x00binary")
        await ws.send("x" * 100_000)
        await ws.close()

    server, url = await _server(handler)
    async with server:
        got, sent = await _collect(url, client)
    assert got == [b"one", b"fragmented", b"\x00binary", b"x" * 100_000]
    assert sent != 1009


async def test_a_message_over_the_limit_closes_with_1009_even_in_fragments(client: str) -> None:
    async def whole(ws: ServerConnection) -> None:
        await ws.send("ok")
        await ws.send("y" * 5000)
        await ws.wait_closed()

    async def fragments(ws: ServerConnection) -> None:
        await ws.send("ok")
        await ws.send(["y" * 3000, "y" * 3000])  # each fragment under the limit, the message over
        await ws.wait_closed()

    for handler in (whole, fragments):
        server, url = await _server(handler)
        async with server:
            got, sent = await _collect(url, client, max_size=4096)
        assert got == [b"ok"], handler.__name__
        assert sent == 1009, handler.__name__


async def test_messages_before_the_handler_are_kept_and_commands_are_sent(client: str) -> None:
    heard: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send("early")
        async for message in ws:
            heard.append(str(message))
            await ws.send(f"echo {message}")
            if message == "bye":
                await ws.close()

    server, url = await _server(handler)
    async with server:
        got: list[bytes] = []
        async with dial(url, client=client, headers=None, max_size=1 << 20, open_timeout=5) as ws:
            await asyncio.sleep(0.2)  # "early" arrives before anyone listens
            ws.on_message(lambda raw, recv_ns, read_ns: got.append(raw))
            await ws.send('{"cmd":"subscribe"}')
            await ws.send("bye")
            await asyncio.wait_for(ws.wait_closed(), 10)
            with pytest.raises(TransportError):
                await ws.send("after the close")
    assert got == [b"early", b'echo {"cmd":"subscribe"}', b"echo bye"]
    assert heard == ['{"cmd":"subscribe"}', "bye"]


async def test_close_and_abort_end_the_session(client: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    server, url = await _server(handler)
    async with server:
        for polite in (True, False):
            async with dial(url, client=client, headers=None, max_size=1 << 20, open_timeout=5) as ws:
                ws.on_message(lambda raw, recv_ns, read_ns: None)
                if polite:
                    await ws.close(1.0)
                else:
                    ws.abort()
                await asyncio.wait_for(ws.wait_closed(), 5)


async def test_a_bug_in_the_handler_ends_the_session_and_is_raised(client: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("boom")
        await ws.wait_closed()

    def explode(raw: bytes, recv_ns: int, read_ns: int) -> None:
        raise RuntimeError("a bug")

    server, url = await _server(handler)
    async with server, dial(url, client=client, headers=None, max_size=1 << 20, open_timeout=5) as ws:
        ws.on_message(explode)
        with pytest.raises(RuntimeError, match="a bug"):
            await asyncio.wait_for(ws.wait_closed(), 5)


async def test_pings_from_the_venue_are_answered(client: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        latency = await asyncio.wait_for(await ws.ping(b"heartbeat"), 5)
        await ws.send(f"pong after {latency:.3f}")
        await ws.close()

    server, url = await _server(handler)
    async with server:
        got, _ = await _collect(url, client)
    assert len(got) == 1 and got[0].startswith(b"pong after")


async def test_receive_times_and_read_stamps(client: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        for i in range(50):
            await ws.send(str(i))
        await ws.close()

    seen: list[tuple[int, int]] = []
    server, url = await _server(handler)
    async with server, dial(url, client=client, headers=None, max_size=1 << 20, open_timeout=5) as ws:
        ws.on_message(lambda raw, recv_ns, read_ns: seen.append((recv_ns, read_ns)))
        await asyncio.wait_for(ws.wait_closed(), 5)
    assert len(seen) == 50
    assert all(r > 1_700_000_000 * 10**9 for r, _ in seen)  # ns since the epoch
    assert [p for _, p in seen] == sorted(p for _, p in seen)


async def test_refusals_are_classified_alike(client: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(connection: Any, request: Any) -> Response:
        return Response(401, "Unauthorized", Headers(), b"authentication_error: bad signature\n")

    server, url = await _server(lambda ws: asyncio.sleep(0), process_request=refuse)

    class Stats:
        dials = connects = reconnects = failures = 0
        last_error = ""

    async def session(ws: WsConnection, stop: asyncio.Event) -> None:
        raise AssertionError("never connected")

    async with server:
        with pytest.raises(AuthError, match=r"401.*bad signature"):
            await reconnect_loop(venue="Kalshi", name="k", url=url, stop=asyncio.Event(), stats=Stats(),
                                 backoff=Backoff(base=0.01), healthy_after=30, session=session, max_size=1 << 20,
                                 client=client)  # fmt: skip
        stop = asyncio.Event()
        stats = Stats()
        task = asyncio.create_task(
            reconnect_loop(venue="Polymarket", name="p", url=url, stop=stop, stats=stats, backoff=Backoff(base=0.01),
                           healthy_after=30, session=session, max_size=1 << 20, public=True, client=client)
        )  # fmt: skip
        while stats.dials < 3:  # noqa: ASYNC110 - the loop's counters, polled
            await asyncio.sleep(0.01)
        stop.set()
        await task
        assert "public channel" in stats.last_error and stats.failures >= 2
    assert isinstance(classify_failure(ConnectionRefusedError(111, "refused"), "Kalshi"), TransportError)


async def test_unknown_client_and_bad_url_are_config_errors(client: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HADRON_WS_CLIENT", "curl")
    with pytest.raises(ConfigError, match="HADRON_WS_CLIENT"):
        default_client()
    monkeypatch.setenv("HADRON_WS_CLIENT", client)
    assert default_client() == client

    async def session(ws: WsConnection, stop: asyncio.Event) -> None:
        raise AssertionError("never connected")

    class Stats:
        dials = connects = reconnects = failures = 0
        last_error = ""

    with pytest.raises(ConfigError, match="not valid"):
        await reconnect_loop(venue="Kalshi", name="k", url="http//nowhere", stop=asyncio.Event(), stats=Stats(),
                             backoff=Backoff(base=0.01), healthy_after=30, session=session, max_size=1024)  # fmt: skip
