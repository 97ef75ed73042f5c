"""The dashboard serves any object shaped like :class:`hadron.app.service.RuntimeService`, not only a Runtime."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from hadron.app.dashboard import build_app
from hadron.app.service import RuntimeService
from hadron.config import HadronConfig
from hadron.paper.trader import PaperTrader


class _Service:
    def __init__(self) -> None:
        self.config = HadronConfig()
        self.state = "running"
        self.trader: PaperTrader | None = None
        self.stopped = 0

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "run_id": "r1"}

    def snapshot(self) -> dict[str, Any]:
        return {"status": self.status(), "pairs": []}

    def metrics_snapshot(self) -> dict[str, Any]:
        return {}

    def stop(self) -> None:
        self.stopped += 1
        self.state = "stopping"


def test_the_server_reads_and_stops_a_service_through_its_interface() -> None:
    service = _Service()
    typed: RuntimeService = service  # the structural check mypy makes of the runtime too
    transport = httpx.ASGITransport(app=build_app(typed, token="secret-token"))

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as client:
            assert (await client.get("/api/status")).json() == {"state": "running", "run_id": "r1"}
            assert (await client.get("/api/snapshot")).json()["pairs"] == []
            refused = await client.post("/api/stop", json={})
            assert refused.status_code == 401 and service.stopped == 0
            auth = {"Authorization": "Bearer secret-token"}
            assert (await client.post("/api/stop", headers=auth, json={})).json() == {"state": "stopping"}
            assert service.stopped == 1

    asyncio.run(main())
