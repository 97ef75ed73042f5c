"""The paper trader's HTTP control endpoint: status, kill switch, resume.

Routes (JSON), mounted by the runtime's control server and the dashboard:

* ``GET  /api/paper/status``: kill switch, orders working, P&L, rejections.
* ``POST /api/paper/kill``: engage the kill switch (body ``{"reason": "…"}`` optional); working
  orders are cancelled and new ones blocked.
* ``POST /api/paper/resume``: release it (refused with 409 while the kill file exists), and a
  live execution's halt after a reconciliation difference (the operator checked the account).

Access is the server's job (:class:`hadron.app.control.ControlGuard`): the ``Host`` and ``Origin``
must be the server's, and a ``POST`` needs the control token as ``Authorization: Bearer <token>``
and a JSON object body sent as ``application/json``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hadron.arb.opportunity import money_text
from hadron.paper.trader import PaperTrader


def status(trader: PaperTrader) -> dict[str, Any]:
    """The trader's state as JSON-ready builtins (money as decimal strings): ``net_pnl`` (every
    open holding at its bid) and its parts ``realized_pnl``, ``locked_pnl`` (hedged sets at their
    $1 settlement payout − cost − fees) and ``mark_to_market_pnl`` (unhedged holdings at the bid)."""
    equity = trader.equity[-1][1] if trader.equity else trader.portfolio.total_cash()
    initial = sum(trader.portfolio.initial_cash.values())
    parts = trader.pnl()
    return {
        "kill_switch": {"engaged": trader.kill.engaged, "reason": trader.kill.reason},
        "execution": {"mode": trader.execution.mode, "halted": trader.execution.halted},
        "orders_working": sum(1 for o in trader.orders if o.status == "working"),
        "orders": len(trader.orders),
        "fills": trader.stats.fills,
        "pairs": len(trader.trades),
        "equity": money_text(equity),
        "net_pnl": money_text(equity - initial),
        "realized_pnl": money_text(parts.realized),
        "locked_pnl": money_text(parts.locked),
        "mark_to_market_pnl": money_text(parts.mark_to_market),
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
        resume_execution = getattr(trader.execution, "resume", None)
        if resume_execution is not None:  # live: a reconciliation halt is released by the operator too
            resume_execution()
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
