"""The runtime's HTTP server: the dashboard, its WebSocket, the control endpoint and ``/metrics``.

Routes:

* ``GET /``: the dashboard (one HTML page, no build step; it renders what ``/ws`` pushes).
* ``WS /ws``: a JSON snapshot (:meth:`~hadron.app.runtime.Runtime.snapshot`) twice a second.
* ``GET /api/status``, ``GET /api/snapshot``; ``POST /api/stop`` stops the runtime gracefully.
* ``GET /api/paper/status``, ``POST /api/paper/kill``, ``POST /api/paper/resume`` (paper mode).
* ``GET /metrics``: Prometheus text format (:class:`~hadron.metrics.RuntimeCollector`).

With ``runtime.control_token`` set every request (the page, the socket, the API, the metrics)
needs ``Authorization: Bearer <token>`` or ``?token=<token>``; a server bound beyond loopback
cannot start without one.
"""

from __future__ import annotations

import asyncio
import contextlib
from importlib import resources
from typing import TYPE_CHECKING, Any

import msgspec
import uvicorn
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from hadron.metrics import RuntimeCollector
from hadron.paper.control import routes as paper_routes
from hadron.paper.control import token_guard

if TYPE_CHECKING:
    from hadron.app.runtime import Runtime

PUSH_INTERVAL_S = 0.5


class _Guard:
    """ASGI middleware: every HTTP request and WebSocket needs the token (when one is set)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.check = token_guard(token)
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            refused = self.check(Request(scope))
            if refused is not None:
                await refused(scope, receive, send)
                return
        else:
            socket = WebSocket(scope, receive, send)
            if self.check(Request(scope)) is not None:
                await socket.close(code=1008, reason="unauthorized")
                return
        await self.app(scope, receive, send)


def page() -> str:
    """The dashboard's HTML."""
    return resources.files("hadron.app").joinpath("dashboard.html").read_text()


def build_app(runtime: Runtime) -> ASGIApp:
    """The Starlette app serving ``runtime`` (see the module docstring)."""
    registry = CollectorRegistry()
    registry.register(RuntimeCollector(runtime.metrics_snapshot))
    encoder = msgspec.json.Encoder()

    async def index(request: Request) -> Response:
        return HTMLResponse(page())

    async def status(request: Request) -> Response:
        return JSONResponse(runtime.status())

    async def snapshot(request: Request) -> Response:
        return Response(encoder.encode(runtime.snapshot()), media_type="application/json")

    async def stop(request: Request) -> Response:
        runtime.stop()
        return JSONResponse({"state": "stopping"})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def push(socket: WebSocket) -> None:
        await socket.accept()
        try:
            while runtime.state in ("starting", "running"):
                await socket.send_text(encoder.encode(runtime.snapshot()).decode())
                await asyncio.sleep(PUSH_INTERVAL_S)
        except (WebSocketDisconnect, RuntimeError):
            return
        with contextlib.suppress(RuntimeError):
            await socket.close()

    routes: list[Any] = [
        Route("/", index),
        Route("/api/status", status),
        Route("/api/snapshot", snapshot),
        Route("/api/stop", stop, methods=["POST"]),
        Route("/metrics", metrics),
        WebSocketRoute("/ws", push),
    ]
    if runtime.trader is not None:
        routes += paper_routes(runtime.trader)
    token = runtime.config.runtime.control_token
    return _Guard(Starlette(routes=routes), token.reveal() if token else None)


class DashboardServer:
    """The uvicorn server running the app in the runtime's event loop."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.server = server
        self.task = task

    async def close(self) -> None:
        """Stop serving and wait for the server to finish."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=5)


async def serve(runtime: Runtime) -> DashboardServer:
    """Start serving ``runtime`` on ``runtime.host:port``; return once listening.

    Raises:
        OSError: the port cannot be bound.
    """
    rt = runtime.config.runtime
    config = uvicorn.Config(build_app(runtime), host=rt.host, port=rt.port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment] # the runtime owns signals
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise OSError(f"dashboard: could not listen on {rt.host}:{rt.port}")
        await asyncio.sleep(0.01)
    return DashboardServer(server, task)
