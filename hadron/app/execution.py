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
from hadron.exec.reconcile import ReconcileReport, held_by_hadron, reconcile_venue
from hadron.model.units import format_price, format_size
from hadron.venues.base import ExecutionVenue, OrderGateway, get_venue

if TYPE_CHECKING:
    from hadron.config import HadronConfig
    from hadron.paper.risk import KillSwitch
    from hadron.paper.trader import PaperTrader
    from hadron.store.state import StateStore

log = structlog.get_logger("hadron.exec")

BALANCE_POLL_S = 2.0
"""How often the accounts' free cash is read for the trader's cash check (live)."""


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
        self.trader: PaperTrader | None = None
        """The trader sending through :attr:`live` (set by the pipeline)."""
        self.shutdown_report: dict[str, Any] = {}
        self._reconnects: dict[str, int] = {}
        self._poller: asyncio.Task[None] | None = None
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
                report = await self.reconcile(venue, "start")
                await self._carry_positions(report)
            await self._cash_from_venues()

    async def _carry_positions(self, report: ReconcileReport) -> None:
        # What earlier runs left at this venue becomes the trader's holdings (so exposure and the
        # risk limits count it), and a trade left unhedged is said now, not only in the report
        trader = self.trader
        if trader is None:
            return
        for instrument, no_side, size, price in await held_by_hadron(self.live.journal, report):
            held = trader.portfolio.holding(report.venue, instrument, "no" if no_side else "yes", no_side)
            trader.portfolio.buy(held, size, price * size, 0)
            log.warning("holding carried from earlier runs", instrument=instrument, side="no" if no_side else "yes",
                        contracts=format_size(size), average_price=format_price(price))  # fmt: skip
        for entry in report.unhedged:
            legs = ", ".join(f"{leg['venue']} {leg['held']}" for leg in entry.get("legs", []))
            log.warning("trade left unhedged by an earlier run", run_id=entry["run_id"], trade_id=entry["trade_id"],
                        held=legs)  # fmt: skip

    async def _cash_from_venues(self) -> None:
        # The trader's cash per venue is the account's free cash there (its P&L and the risk
        # limits' cash checks then speak of the real account, not [paper] initial_cash)
        trader = self.trader
        if trader is None:
            return
        portfolio = trader.portfolio
        for venue, gateway in self.live.gateways.items():
            try:
                cash = await gateway.balance() * CASH_TO_MONEY
            except Exception as exc:
                log.warning("venue balance not read: [paper] initial_cash stays", venue=venue, error=str(exc))
                continue
            carried = sum(h.cost for h in portfolio.holdings.values() if h.venue == venue and h.size and not h.settled)
            portfolio.cash[venue] = cash
            portfolio.initial_cash[venue] = cash + carried  # P&L from the start: carried holdings at cost
            trader.venue_cash[venue] = cash
        self._poller = asyncio.get_running_loop().create_task(self._poll_cash(trader))

    async def _poll_cash(self, trader: PaperTrader) -> None:
        # The accounts' free cash, every BALANCE_POLL_S, for the trader's cash check
        while True:
            await asyncio.sleep(BALANCE_POLL_S)
            for venue, gateway in self.live.gateways.items():
                try:
                    trader.venue_cash[venue] = await gateway.balance() * CASH_TO_MONEY
                except Exception as exc:
                    log.info("venue balance not read", venue=venue, error=str(exc))

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
        if self._poller is not None:
            self._poller.cancel()
        self.shutdown_report = await self.live.shutdown("shutdown", close=False)
        try:
            if self.live.mode == "live":
                for venue in self.instruments:
                    await self.reconcile(venue, "stop")
        finally:
            await self.live.close()

    def status(self) -> dict[str, Any]:
        """What ``hadron status`` and the dashboard show: the engine's counts
        (:meth:`LiveExecution.summary`) and the last reconciliations' verdict, differences and
        unhedged trades."""
        last: dict[str, ReconcileReport] = {r.venue: r for r in self.reconciliations}
        return {
            **self.live.summary(),
            "mode": self.execution.mode,
            "positions_reconciled": bool(last) and all(r.ok for r in last.values()),
            "differences": [d for r in last.values() for d in r.differences],
            "unhedged": sorted({(u["run_id"], u["trade_id"]) for r in last.values() for u in r.unhedged}),
        }

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
        unhedged: dict[tuple[str, str], dict[str, Any]] = {}
        for report in last.values():
            for entry in report.unhedged:
                unhedged[(entry["run_id"], entry["trade_id"])] = entry
        out["reconciliation"] = {
            "runs": len(self.reconciliations),
            "differences": sum(len(r.differences) for r in last.values()),
            "differences_seen": sum(len(r.differences) for r in self.reconciliations),
            "unhedged": [unhedged[key] for key in sorted(unhedged)],
            "last": {venue: report.to_json() for venue, report in last.items()},
            "positions_reconciled": bool(last) and all(r.ok for r in last.values()),
        }
        if self.trader is not None:
            pnl = self.trader.pnl()
            out["fees"] = sum(o.fee for o in self.trader.orders)
            out["pnl"] = {"realized": pnl.realized, "locked": pnl.locked, "mark_to_market": pnl.mark_to_market}
        out["shutdown"] = self.shutdown_report
        if self.shadow is not None:
            from hadron.exec.shadow import divergence

            if self.trader is not None:
                out["shadow"] = divergence(self.shadow, self.trader, self.live)
        return out
