"""The paper trader's HTTP control endpoint: status, kill switch, resume.

Routes (JSON), mounted by the runtime's control server and the dashboard:

* ``GET  /api/paper/status``: kill switch, orders working, P&L, rejections.
* ``POST /api/paper/kill``: engage the kill switch (body ``{"reason": "…"}`` optional); working
  orders are cancelled and new ones blocked.
* ``POST /api/paper/resume``: release it (refused with 409 while the kill file exists).

Authentication is the server's job (:func:`token_guard`): a server bound beyond loopback must be
given a token, sent as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hadron.arb.opportunity import money_text
from hadron.paper.trader import PaperTrader


def status(trader: PaperTrader) -> dict[str, Any]:
    """The trader's state as JSON-ready builtins (money as decimal strings)."""
    equity = trader.equity[-1][1] if trader.equity else trader.portfolio.total_cash()
    initial = sum(trader.portfolio.initial_cash.values())
    return {
        "kill_switch": {"engaged": trader.kill.engaged, "reason": trader.kill.reason},
        "orders_working": sum(1 for o in trader.orders if o.status == "working"),
        "orders": len(trader.orders),
        "fills": trader.stats.fills,
        "pairs": len(trader.trades),
        "equity": money_text(equity),
        "net_pnl": money_text(equity - initial),
        "rejections": dict(sorted(trader.stats.rejections.items())),
    }


def routes(trader: PaperTrader) -> list[Route]:
    """The control routes of ``trader`` (see the module docstring)."""

    async def get_status(request: Request) -> Response:
        return JSONResponse(status(trader))

    async def kill(request: Request) -> Response:
        reason = "HTTP control endpoint"
        if await request.body():
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({"error": 'body must be JSON, e.g. {"reason": "…"}'}, status_code=400)
            if isinstance(body, dict) and isinstance(body.get("reason"), str) and body["reason"]:
                reason = f"HTTP: {body['reason'][:200]}"
        trader.kill.engage(reason)
        return JSONResponse(status(trader))

    async def resume(request: Request) -> Response:
        trader.kill.release()
        if trader.kill.check():
            return JSONResponse(
                {"error": f"kill file {trader.kill.file} still exists", **status(trader)}, status_code=409
            )
        return JSONResponse(status(trader))

    return [
        Route("/api/paper/status", get_status, methods=["GET"]),
        Route("/api/paper/kill", kill, methods=["POST"]),
        Route("/api/paper/resume", resume, methods=["POST"]),
    ]


Endpoint = Callable[[Request], Awaitable[Response]]


def token_guard(token: str | None) -> Callable[[Request], Response | None]:
    """A check for every request: ``None`` to let it through, or a 401 response.

    With ``token`` ``None`` everything passes (the server is on loopback); otherwise the request
    needs ``Authorization: Bearer <token>`` (compared in constant time) or ``?token=<token>``.
    """

    def check(request: Request) -> Response | None:
        if token is None:
            return None
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.query_params.get("token", "")
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return None
        return JSONResponse({"error": "unauthorized: send Authorization: Bearer <token>"}, status_code=401)

    return check
