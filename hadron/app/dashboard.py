"""The runtime's HTTP server: the dashboard, its WebSocket, the control endpoint and ``/metrics``.

Routes:

* ``GET /``: the dashboard (one HTML page, no build step; it renders what ``/ws`` pushes), with
  the control token embedded for its buttons.
* ``GET /static/<name>``: the page's vendored files (:data:`STATIC_FILES`: uPlot, its CSS and
  licence; origin and versions in ``hadron/app/static/VENDORED.md``), package data. With
  ``runtime.control_token`` set the page links them with ``?token=``, like its WebSocket.
* ``WS /ws``: a JSON snapshot (:meth:`~hadron.app.service.RuntimeService.snapshot`) twice a second.
* ``GET /api/status``, ``GET /api/snapshot``; ``POST /api/stop`` stops the runtime gracefully.
* ``GET /api/paper/status``, ``POST /api/paper/kill``, ``POST /api/paper/resume`` (paper mode).
* ``GET /metrics``: Prometheus text format (:func:`~hadron.metrics.build_registry`: the runtime's
  metrics, ``hadron_build_info``, ``process_*`` and ``python_*``; every metric in ``docs/METRICS.md``).

Every request passes :class:`~hadron.app.control.ControlGuard`: the ``Host`` must name this
server (421), an ``Origin`` must be this server's (403), a ``POST`` needs ``Authorization: Bearer
<token>`` (401) and a JSON object body sent as ``application/json`` (415/400). With
``runtime.control_token`` set every request (the page, the socket, the API, the metrics) needs the
token (or ``?token=<token>``); a server bound beyond loopback cannot start without one. Without it
each run makes its own token, written to :func:`~hadron.app.control.token_file` while serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import structlog
import uvicorn
from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket, WebSocketDisconnect

from hadron.app.control import ControlGuard, new_token, remove_token_file, write_token_file
from hadron.app.service import RuntimeService
from hadron.errors import ConfigError
from hadron.metrics import build_registry
from hadron.paper.control import routes as paper_routes

log = structlog.get_logger("hadron.dashboard")

PUSH_INTERVAL_S = 0.5

META_PLACEHOLDER = '<meta name="hadron-control-token" content="">'
"""The placeholder of ``dashboard.html`` that :func:`page` fills with the control token."""

STATIC_QUERY_PLACEHOLDER = "{{static_query}}"
"""Where ``dashboard.html`` links a static file, the query :func:`page` appends (``?token=…``, or nothing)."""

STATIC_FILES = {
    "uPlot.iife.min.js": "text/javascript; charset=utf-8",
    "uPlot.min.css": "text/css; charset=utf-8",
    "uPlot.LICENSE": "text/plain; charset=utf-8",
}
"""The files served under ``/static/`` (from ``hadron/app/static``), with their media types; nothing else is."""

STATIC_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
"""The page holds the token: never cached, never framed by another page."""


def page(token: str = "", *, token_in_links: bool = False) -> str:
    """The dashboard's HTML, with ``token`` (HTML-escaped) in its ``hadron-control-token`` meta tag;
    ``token_in_links``: its static files are linked with ``?token=<token>`` (every read needs the
    token: ``runtime.control_token`` is set)."""
    text = resources.files("hadron.app").joinpath("dashboard.html").read_text()
    filled = f'<meta name="hadron-control-token" content="{html.escape(token, quote=True)}">'
    query = "?token=" + quote(token, safe="") if token_in_links and token else ""
    return text.replace(META_PLACEHOLDER, filled).replace(STATIC_QUERY_PLACEHOLDER, html.escape(query, quote=True))


@functools.cache
def static_file(name: str) -> bytes:
    """The bytes of the vendored static file ``name`` (one of :data:`STATIC_FILES`).

    Raises:
        KeyError: ``name`` is not one of them.
    """
    if name not in STATIC_FILES:
        raise KeyError(name)
    return resources.files("hadron.app").joinpath("static", name).read_bytes()


async def static(request: Request) -> Response:
    """``GET /static/<name>``: one of :data:`STATIC_FILES` (404 for any other name)."""
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        return JSONResponse({"error": "not found"}, status_code=404)
    return Response(static_file(name), media_type=STATIC_FILES[name], headers=STATIC_HEADERS)


def control_token(runtime: RuntimeService) -> str:
    """The token of ``runtime``'s server: ``runtime.control_token`` when configured, else a new one."""
    configured = runtime.config.runtime.control_token
    return configured.reveal() if configured else new_token()


def build_app(runtime: RuntimeService, token: str | None = None) -> ASGIApp:
    """The Starlette app serving ``runtime`` behind its :class:`~hadron.app.control.ControlGuard`
    (see the module docstring); ``token``: the control token (default :func:`control_token`)."""
    registry = build_registry(runtime.metrics_snapshot)
    encoder = msgspec.json.Encoder()
    rt = runtime.config.runtime
    token = token or control_token(runtime)

    async def index(request: Request) -> Response:
        return HTMLResponse(page(token, token_in_links=bool(rt.control_token)), headers=PAGE_HEADERS)

    async def status(request: Request) -> Response:
        return JSONResponse(runtime.status())

    async def snapshot(request: Request) -> Response:
        return Response(encoder.encode(runtime.snapshot()), media_type="application/json")

    async def stop(request: Request) -> Response:
        runtime.stop()
        return JSONResponse({"state": "stopping"})

    async def metrics(request: Request) -> Response:
        # the text format, or OpenMetrics when the scraper's Accept asks for it
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(registry), headers={"Content-Type": content_type})

    async def push(socket: WebSocket) -> None:
        await socket.accept()
        try:
            while runtime.state in ("starting", "running"):
                await socket.send_text(encoder.encode(runtime.snapshot()).decode())
                await asyncio.sleep(PUSH_INTERVAL_S)
        except (WebSocketDisconnect, RuntimeError):
            return
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the client may be gone already
            await socket.close()

    routes: list[Any] = [
        Route("/", index),
        Route("/static/{name}", static),  # behind the guard like every route: with a token for reads, ?token=
        Route("/api/status", status),
        Route("/api/snapshot", snapshot),
        Route("/api/stop", stop, methods=["POST"]),
        Route("/metrics", metrics),
        WebSocketRoute("/ws", push),
    ]
    if runtime.trader is not None:
        routes += paper_routes(runtime.trader)
    return ControlGuard(
        Starlette(routes=routes),
        token=token,
        port=rt.port,
        host=rt.host,
        allowed_hosts=rt.allowed_hosts,
        token_for_reads=bool(rt.control_token),
    )


class DashboardServer:
    """The uvicorn server running the app in the runtime's event loop.

    Attributes:
        token_file: where the control token was written (``None``: it could not be).
    """

    def __init__(
        self, server: uvicorn.Server, task: asyncio.Task[None], token: str = "", token_file: Path | None = None
    ) -> None:
        self.server = server
        self.task = task
        self.token = token
        self.token_file = token_file

    async def close(self) -> None:
        """Stop serving, wait for the server to finish and remove the token file."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=5)
        if self.token_file is not None:
            remove_token_file(self.token_file, self.token)


async def serve(runtime: RuntimeService) -> DashboardServer:
    """Start serving ``runtime`` on ``runtime.host:port``; return once listening, with the control
    token written to :func:`~hadron.app.control.token_file` (a file that cannot be written is
    logged and skipped: ``hadron stop`` then needs ``--token``, or SIGTERM stops the runtime).

    Raises:
        ConfigError: the port cannot be bound (taken between the command's check and now).
    """
    rt = runtime.config.runtime
    token = control_token(runtime)
    config = uvicorn.Config(build_app(runtime, token), host=rt.host, port=rt.port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment] # the runtime owns signals
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            with contextlib.suppress(SystemExit, OSError):  # uvicorn exits when it cannot bind
                task.result()
            raise ConfigError(
                f"runtime.port is {rt.port}: {rt.host}:{rt.port} could not be bound (already in use?): "
                "stop the other process, or choose another port"
            )
        await asyncio.sleep(0.01)
    if rt.host in ("0.0.0.0", "::") and not rt.allowed_hosts:  # noqa: S104 (a comparison)
        log.warning("bound to every interface: only loopback Host names are answered (421 otherwise); "
                    "name this machine in runtime.allowed_hosts", host=rt.host)  # fmt: skip
    path: Path | None = None
    try:  # only once listening: a server that could not bind leaves the running one's file alone
        path = await asyncio.to_thread(write_token_file, rt.port, token)
        log.info("control token file written", path=str(path), mode="0600")
    except ConfigError as exc:
        log.warning("control token file not written: hadron stop needs --token", error=str(exc))
    return DashboardServer(server, task, token, path)
