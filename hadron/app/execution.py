"""Live execution assembled for a run: gateways, the live engine, reconciliation, shadow paper.

:class:`LiveDesk` is what :class:`~hadron.app.pipeline.StrategyPipeline` holds when
``[execution] mode`` is ``live``, ``dry-run`` or ``shadow`` (``docs/EXECUTION.md``):

* one :class:`~hadron.venues.base.OrderGateway` per venue of the approved pairs, from the venue's
  adapter (:class:`~hadron.venues.base.ExecutionVenue`) and the run's settings;
* the :class:`~hadron.exec.live.LiveExecution` the trader sends through, journalling into the
  run's state store (a live run without a state store is refused: the journal is what a restart
  reconciles from);
* a reconciliation of every venue when the run opens (before any order: a difference halts new
  orders), after a feed reconnects (:meth:`reconcile_soon`), and when it closes (after the
  cancel-all), kept for the report;
* in ``shadow`` mode, a second trader with paper execution on the same books and opportunities,
  whose divergence from the live one the report gives (:mod:`hadron.exec.shadow`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

from hadron.errors import ConfigError
from hadron.exec.config import ExecutionConfig
from hadron.exec.journal import MemoryJournal
from hadron.exec.live import CASH_TO_MONEY, LiveExecution
from hadron.exec.reconcile import ReconcileReport, reconcile_venue
from hadron.venues.base import ExecutionVenue, OrderGateway, get_venue

if TYPE_CHECKING:
    from hadron.config import HadronConfig
    from hadron.paper.risk import KillSwitch
    from hadron.paper.trader import PaperTrader
    from hadron.store.state import StateStore

log = structlog.get_logger("hadron.exec")


class LiveDesk:
    """Gateways, the live engine and its reconciliations for one run (see the module docstring).

    Args:
        execution: the ``[execution]`` settings (``mode`` other than ``paper``).
        config: the run's settings (venue credentials and hosts).
        instruments: venue → the Hadron instrument ids the run may trade (the pairs' legs).
        run_id: the state-store run. kill: the trader's kill switch.
        env: the environment the confirmation is read from (default ``os.environ``).

    Raises:
        ConfigError: no confirmation for ``live``/``shadow``, a venue that cannot execute, or a
            venue's missing credentials (named, with the fix).
    """

    def __init__(
        self,
        execution: ExecutionConfig,
        config: HadronConfig,
        instruments: Mapping[str, list[str]],
        *,
        run_id: str,
        kill: KillSwitch | None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        execution.check(os.environ if env is None else env)
        self.execution = execution
        self.instruments = {venue: list(ids) for venue, ids in instruments.items()}
        gateways: dict[str, OrderGateway] = {}
        for venue in self.instruments:
            adapter = get_venue(venue)
            if not isinstance(adapter, ExecutionVenue):
                raise ConfigError(f'execution.mode = "{execution.mode}": venue {venue} cannot take orders')
            gateways[venue] = adapter.order_gateway(
                config, dry_run=execution.mode == "dry-run", contracts_limit=execution.order_group_limit
            )
        self.live = LiveExecution(gateways, execution, MemoryJournal(), run_id=run_id, kill=kill)
        self.reconciliations: list[ReconcileReport] = []
        self.shadow: PaperTrader | None = None
        self.shutdown_report: dict[str, Any] = {}
        self._reconnects: dict[str, int] = {}
        self._reconciling: set[str] = set()

    async def open(self, store: StateStore | None) -> None:
        """Journal into ``store``, start the gateways and reconcile every venue (a difference
        halts new orders).

        Raises:
            ConfigError: no state store. VenueError: a venue refused the credentials.
        """
        if store is None:
            raise ConfigError(
                f'execution.mode = "{self.execution.mode}" journals every order before sending it: '
                'set runtime.state (e.g. "sqlite:///hadron-state.db") or --state'
            )
        self.live.journal = store
        await self.live.start()
        if self.live.mode == "live":
            for venue in self.instruments:
                await self.reconcile(venue, "start")
            await self._cash_from_venues()

    async def _cash_from_venues(self) -> None:
        # The trader's cash per venue is the account's free cash there (its P&L and the risk
        # limits' cash checks then speak of the real account, not [paper] initial_cash)
        trader = self.live.sink
        portfolio = getattr(trader, "portfolio", None)
        if portfolio is None:
            return
        for venue, gateway in self.live.gateways.items():
            try:
                cash = await gateway.balance() * CASH_TO_MONEY
            except Exception as exc:
                log.warning("venue balance not read: [paper] initial_cash stays", venue=venue, error=str(exc))
                continue
            portfolio.cash[venue] = cash
            portfolio.initial_cash[venue] = cash

    async def reconcile(self, venue: str, why: str) -> ReconcileReport:
        """Reconcile ``venue`` now; a difference halts new orders (an alert)."""
        report = await reconcile_venue(
            self.live.gateways[venue],
            self.live.journal,
            instruments=self.instruments.get(venue, []),
            at_start=why == "start",
        )
        self.reconciliations.append(report)
        log.info("reconciled", venue=venue, why=why, ok=report.ok, fills_added=report.fills_added)
        if not report.ok:
            self.live.halt(f"reconciliation ({why}) on {venue}: {'; '.join(report.differences) or report.error}")
        return report

    def reconcile_soon(self, venue: str, reconnects: int) -> None:
        """A venue's feed reconnected (``reconnects`` in all): reconcile it in the background."""
        if self.live.mode != "live" or venue not in self.live.gateways:
            return
        seen = self._reconnects.setdefault(venue, reconnects)
        if reconnects <= seen or venue in self._reconciling:
            return
        self._reconnects[venue] = reconnects
        self._reconciling.add(venue)

        async def run() -> None:
            try:
                await self.reconcile(venue, "reconnect")
            finally:
                self._reconciling.discard(venue)

        asyncio.get_running_loop().create_task(run())

    async def close(self) -> None:
        """Cancel what rests (``cancel_on_shutdown``), say what still rests, reconcile once more."""
        self.shutdown_report = await self.live.shutdown("shutdown", close=False)
        try:
            if self.live.mode == "live":
                for venue in self.instruments:
                    await self.reconcile(venue, "stop")
        finally:
            await self.live.close()

    def report(self) -> dict[str, Any]:
        """The ``execution`` section of the run's report: mode, orders, fills, rejects, round
        trips, alerts, the reconciliations (the last one per venue says whether Hadron's
        positions equal the venue's) and, in shadow mode, the paper/live divergence."""
        out: dict[str, Any] = {**self.live.summary(), "mode": self.execution.mode}  # shadow: not "live"
        out["units"] = {
            "size": "int, 1/1,000,000 contract or share (positions: +YES/-NO on Kalshi, token shares on Polymarket)",
            "price": "int, 1/10,000 USD",
            "money": "int, 1/10,000,000,000 USD (fees, P&L)",
            "time": "int, ns since the Unix epoch",
        }
        last: dict[str, ReconcileReport] = {}
        for report in self.reconciliations:
            last[report.venue] = report
        out["reconciliation"] = {
            "runs": len(self.reconciliations),
            "differences": sum(len(r.differences) for r in self.reconciliations),
            "last": {venue: report.to_json() for venue, report in last.items()},
            "positions_reconciled": bool(last) and all(r.ok for r in last.values()),
        }
        out["shutdown"] = self.shutdown_report
        if self.shadow is not None:
            from hadron.exec.shadow import divergence

            trader = self.live.sink
            if trader is not None:
                out["shadow"] = divergence(self.shadow, trader, self.live)  # type: ignore[arg-type]
        return out
