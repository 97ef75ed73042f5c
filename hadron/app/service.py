"""What the runtime's HTTP server reads and calls: the one interface between a running process and
its dashboard, control endpoint and ``/metrics`` (:mod:`hadron.app.dashboard`).

:class:`~hadron.app.runtime.Runtime` implements :class:`RuntimeService`; the server knows nothing
else of it, so that a test (or another process kind) can serve any object of this shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hadron.config import HadronConfig
    from hadron.paper.trader import PaperTrader


class RuntimeService(Protocol):
    """A running process as its HTTP server sees it.

    Attributes:
        config: the settings; the server reads ``config.runtime`` (``host``, ``port``,
            ``allowed_hosts``, ``control_token``).
        state: ``starting``, ``running``, ``stopping`` or ``stopped``
            (:data:`hadron.app.snapshot.STATES`); the WebSocket pushes while starting or running.
        trader: the paper trader, whose ``/api/paper/*`` routes are served; ``None`` without one.
    """

    @property
    def config(self) -> HadronConfig: ...

    @property
    def state(self) -> str: ...

    @property
    def trader(self) -> PaperTrader | None: ...

    def status(self) -> dict[str, Any]:
        """``GET /api/status``: the process's state as JSON-ready builtins."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """``/ws`` and ``GET /api/snapshot``: everything the dashboard shows, as JSON-ready builtins."""
        ...

    def metrics_snapshot(self) -> dict[str, Any]:
        """``GET /metrics``: the numbers :class:`hadron.metrics.RuntimeCollector` exposes."""
        ...

    def stop(self) -> None:
        """``POST /api/stop``: ask the process to stop gracefully (idempotent)."""
        ...
