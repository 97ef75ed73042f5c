"""Live execution: the trader's orders sent to the venues, journalled, and followed to their end.

For each order the trader submits, :class:`LiveExecution`

1. checks its own switches: a halt (a reconciliation difference), the kill switch, the venue's
   per-order notional cap and order rate (``[execution]``); a refused order ends ``rejected``
   with the setting named, and nothing is sent;
2. writes the order to the journal (the state store) as ``pending`` — **before** sending: an
   order the journal could not keep is not sent;
3. sends it through the venue's :class:`~hadron.venues.base.OrderGateway` (orders submitted in
   the same loop turn to the same venue go in one batch), and updates the journal from the answer;
4. learns its fills from the answer, the venue's private channel (:meth:`on_account`: Kalshi
   ``fill``/``user_orders``, Polymarket user ``trade``/``order``) and, when an ended order's fills
   have not all arrived within ``fill_timeout_s``, from REST — each fill counted once
   (``fill_id``) — and tells the trader (fills, then the end).

A venue error while sending leaves the order's fate unknown: it is asked for by id; if the venue
cannot say, new orders halt until a reconciliation (:mod:`hadron.exec.reconcile`) settles it.
:meth:`shutdown` (and the kill switch through :meth:`cancel_all`) cancels every resting order
with the venues' cancel-all and says what is still resting.

Times are wall-clock ns (the live books' clock); prices 1/10,000 USD in the order's outcome
terms; sizes 1/1,000,000; fees 1/10,000,000,000 USD.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from hadron.exec.client import ExecutionSink
from hadron.exec.config import ExecutionConfig
from hadron.exec.journal import Journal
from hadron.model.account import AccountEvent, AccountFill, OrderStatus, OrderUpdate, Outcome
from hadron.model.instrument import split_instrument_id
from hadron.model.orders import ExecFill, ExecReport, OrderRequest, OrderState, PlaceResult
from hadron.model.units import PRICE_ONE
from hadron.store.state.records import ExecMode, ExecOrderRecord
from hadron.venues.base import OrderGateway

if TYPE_CHECKING:
    from hadron.paper.orders import PaperOrder
    from hadron.paper.risk import KillSwitch

log = structlog.get_logger("hadron.exec")

CASH_TO_MONEY = 10_000
"""Cash (1/1,000,000 USD) → money (1/10,000,000,000 USD)."""

MIN_LIMIT = 100
"""The limit sent for the trader's "any price" orders (0.01 USD, 1/10,000 USD): a sell at limit 0
(the unwind policy's sell-back at whatever the book bids) goes out at 0.01 and a buy at limit 1
at 0.99, the widest limits the venues accept (Kalshi's and Polymarket's prices lie in (0, 1))."""


@dataclass(slots=True)
class LiveOrder:
    """One order in flight and what is known of it."""

    order: PaperOrder
    request: OrderRequest
    venue_order_id: str = ""
    reported_filled: int = 0
    fill_total: int = 0
    terminal: tuple[OrderState, str] | None = None
    done: bool = False
    sent_ns: int = 0
    ack_ns: int = 0
    fill_ids: set[str] = field(default_factory=set)
    waiting: bool = False
    acked: bool = False


@dataclass(slots=True)
class LiveStats:
    """Counts for the run's report."""

    sent: int = 0
    """Orders whose request left for a venue (dry-run: none)."""
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fills: int = 0
    fills_from: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Where each fill was first learnt: ``answer``, ``channel``, ``rest``."""
    batches: int = 0
    dry_run: int = 0
    venue_errors: int = 0
    cancel_all: int = 0
    still_resting: list[str] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """venue → round trips (sent → the venue's answer), ms."""


class LiveExecution:
    """Sends the trader's orders to the venues (see the module docstring).

    Args:
        gateways: venue → its :class:`~hadron.venues.base.OrderGateway`.
        config: the ``[execution]`` settings (caps, rates, timeouts).
        journal: where orders and fills are written (the state store).
        run_id: the state-store run the orders belong to.
        kill: the kill switch (checked before every send).
        clock: wall-clock ns.
    """

    def __init__(
        self,
        gateways: Mapping[str, OrderGateway],
        config: ExecutionConfig,
        journal: Journal,
        *,
        run_id: str = "",
        kill: KillSwitch | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.gateways = dict(gateways)
        self.config = config
        self.journal = journal
        self.run_id = run_id
        self.kill = kill
        self.clock = clock
        self.mode: ExecMode = "dry-run" if config.mode == "dry-run" else "live"
        self.sink: ExecutionSink | None = None
        self.stats = LiveStats()
        self.orders: dict[str, LiveOrder] = {}
        """client order id → the order (every order this run sent)."""
        self._by_venue_id: dict[tuple[str, str], str] = {}
        self._orphans: dict[tuple[str, str], list[AccountEvent]] = defaultdict(list)
        self._seen_fills: set[tuple[str, str]] = set()
        self._batches: dict[str, list[LiveOrder]] = defaultdict(list)
        self._flush_scheduled: set[str] = set()
        self._sends: dict[str, deque[int]] = defaultdict(deque)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._halted: str | None = None
        self._cancelling = False
        self.alerts: list[str] = []
        self.dry_run_requests: list[dict[str, object]] = []

    # -- ExecutionClient ---------------------------------------------------------------------

    def bind(self, sink: ExecutionSink) -> None:
        """Report to ``sink`` (the trader)."""
        self.sink = sink

    @property
    def halted(self) -> str | None:
        """Why new orders are refused, or None."""
        return self._halted

    def halt(self, reason: str) -> None:
        """Refuse new orders until :meth:`resume` (an alert, logged once per reason)."""
        if self._halted != reason:
            log.error("live execution halted: new orders refused", reason=reason)
            self.alerts.append(reason)
        self._halted = reason

    def resume(self) -> None:
        """Accept new orders again (the operator checked the venue's account)."""
        self._halted = None

    def submit(self, order: PaperOrder) -> None:
        """Check, journal and send ``order`` (see the module docstring); never raises."""
        now = self.clock()
        refusal = self._refusal(order, now)
        if refusal is not None:
            self.stats.rejected[refusal.split(":")[0]] += 1
            log.warning(
                "order refused before sending", venue=order.venue, client_order_id=order.client_order_id, reason=refusal
            )
            self._finish_now(order, OrderState.REJECTED, refusal, now)
            return
        _, symbol = split_instrument_id(order.instrument)
        request = OrderRequest(
            client_order_id=order.client_order_id,
            venue=order.venue,
            instrument=order.instrument,
            symbol=symbol,
            outcome="no" if order.from_bids else "yes",
            side=order.side,
            price=_venue_limit(order.limit),
            size=order.size,
            tif="FOK" if order.tif == "FOK" else "IOC",
            created_ns=now,
            trade_id=order.trade_id,
            leg=order.leg,
            role=order.role,
        )
        live = LiveOrder(order=order, request=request)
        self.orders[order.client_order_id] = live
        self._sends[order.venue].append(now)
        self._batches[order.venue].append(live)
        if order.venue not in self._flush_scheduled:
            self._flush_scheduled.add(order.venue)
            asyncio.get_running_loop().call_soon(self._flush, order.venue)

    def cancel_all(self, reason: str, now: int) -> int:
        """Cancel what has not been sent yet and, with ``cancel_on_shutdown``, ask every venue to
        cancel its resting orders (in the background; :meth:`shutdown` waits and reports)."""
        count = 0
        for venue, batch in list(self._batches.items()):
            for live in batch:
                self._finish_now(live.order, OrderState.CANCELLED, f"{reason} (not sent)", now)
                count += 1
            self._batches[venue] = []
        count += sum(1 for live in self.orders.values() if not live.done)
        log.warning("cancelling every order", reason=reason, not_done=count)
        if self.config.cancel_on_shutdown and not self._cancelling:
            self._cancelling = True
            self._spawn(self._cancel_everywhere(reason))
        return count

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every gateway (credentials, order groups).

        Raises:
            VenueError / ConfigError: a venue refused the credentials or a setting.
        """
        for gateway in self.gateways.values():
            await gateway.start()

    async def drain(self, within_s: float = 10.0) -> None:
        """Wait (up to ``within_s`` seconds) for the sends and fill checks in flight."""
        deadline = asyncio.get_running_loop().time() + within_s
        while self._tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.01, deadline - asyncio.get_running_loop().time()))

    async def shutdown(self, reason: str = "shutdown", *, close: bool = True) -> dict[str, Any]:
        """Drain, cancel every resting order (``cancel_on_shutdown``), list what is still resting,
        close the gateways (``close``; else :meth:`close` later); return ``{"cancelled": [...ids],
        "still_resting": [...]}``."""
        await self.drain()
        cancelled: list[str] = []
        if self.config.cancel_on_shutdown and self.mode == "live":
            cancelled = await self._cancel_everywhere(reason)
        await self.drain(within_s=2.0)
        resting = list(self.stats.still_resting)
        if close:
            await self.close()
        return {"cancelled": cancelled, "still_resting": resting}

    async def close(self) -> None:
        """Close the gateways' HTTP clients."""
        for gateway in self.gateways.values():
            with contextlib.suppress(Exception):
                await gateway.close()

    async def _cancel_everywhere(self, reason: str) -> list[str]:
        # Every venue's cancel-all, then what still rests there (logged and kept for the report)
        cancelled: list[str] = []
        if self.mode != "live":
            return cancelled
        resting: list[str] = []
        self._cancelling = True
        for venue, gateway in self.gateways.items():
            try:
                ids = await gateway.cancel_all()
                self.stats.cancel_all += 1
                cancelled += [f"{venue}:{i}" for i in ids]
                resting += [f"{venue}:{o.venue_order_id}" for o in await gateway.open_orders()]
            except Exception as exc:
                log.error("cancel-all failed", venue=venue, reason=reason, error=str(exc))
                resting.append(f"{venue}: unknown ({exc})")
        self.stats.still_resting = resting
        self._cancelling = False
        (log.warning if cancelled or resting else log.info)(
            "cancel-all done", reason=reason, cancelled=cancelled, still_resting=resting
        )
        return cancelled

    # -- sending -----------------------------------------------------------------------------

    def _refusal(self, order: PaperOrder, now: int) -> str | None:
        if self._halted is not None:
            return f"halted: {self._halted}"
        if self.kill is not None and self.kill.check():
            return f"kill_switch: {self.kill.reason}"
        if order.venue not in self.gateways:
            return f"no_gateway: no order gateway for {order.venue}"
        cap = self.config.notional_cap(order.venue)
        if order.limit * order.size > cap:
            return f"max_order_notional: {order.limit * order.size / 10**10:.2f} USD above execution.max_order_notional"
        rate = self.config.max_orders_per_s.get(order.venue, 0.0)
        if rate > 0 and order.role == "entry":  # a retry or sale reduces risk: never held back by Hadron's cap
            sends = self._sends[order.venue]
            while sends and now - sends[0] >= 1_000_000_000:
                sends.popleft()
            if len(sends) >= rate:
                return "rate: execution.max_orders_per_s reached"
        return None

    def _flush(self, venue: str) -> None:
        self._flush_scheduled.discard(venue)
        batch, self._batches[venue] = self._batches[venue], []
        if batch:
            self._spawn(self._place(venue, batch))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _record(self, live: LiveOrder, state: OrderState, reason: str = "") -> ExecOrderRecord:
        req = live.request
        return ExecOrderRecord.from_request(
            req,
            state=state,
            venue_order_id=live.venue_order_id,
            filled=max(live.fill_total, live.reported_filled),
            reason=reason,
            mode=self.mode,
            run_id=self.run_id,
            updated_ns=self.clock(),
        )

    async def _place(self, venue: str, batch: list[LiveOrder]) -> None:
        ready: list[LiveOrder] = []
        for live in batch:
            try:
                await self.journal.journal_order(self._record(live, OrderState.PENDING))
            except Exception as exc:
                log.error(
                    "order not journalled: not sent", client_order_id=live.request.client_order_id, error=str(exc)
                )
                self._finish_now(live.order, OrderState.REJECTED, f"journal: {exc}", self.clock())
                continue
            ready.append(live)
        if not ready:
            return
        gateway = self.gateways[venue]
        sent = self.clock()
        for live in ready:
            live.sent_ns = sent
        self.stats.batches += 1
        if self.mode == "live":
            self.stats.sent += len(ready)  # dry-run: signed and logged, counted in dry_run_requests
        try:
            results = await gateway.place([live.request for live in ready])
        except Exception as exc:
            self.stats.venue_errors += 1
            log.error("order send failed: asking the venue", venue=venue, orders=len(ready), error=str(exc))
            for live in ready:
                await self._recover(live, str(exc))
            return
        answered = self.clock()
        for live, result in zip(ready, results, strict=False):
            live.ack_ns = answered
            self.stats.latencies_ms[venue].append((answered - sent) / 1e6)
            self._apply_result(live, result)

    async def _recover(self, live: LiveOrder, error: str) -> None:
        try:
            found = await self.gateways[live.order.venue].order(live.request.client_order_id, live.venue_order_id)
        except Exception as exc:
            self.halt(f"order {live.request.client_order_id} state unknown after a venue error ({error}; {exc})")
            return
        if found is None:
            self.stats.rejected["venue_error"] += 1
            self._apply_report(live, ExecReport(client_order_id=live.request.client_order_id, venue_order_id="",
                                                state=OrderState.REJECTED, reason=f"venue_error: {error}"))  # fmt: skip
            return
        self._apply_report(live, ExecReport(client_order_id=found.client_order_id, venue_order_id=found.venue_order_id,
                                            state=found.state, filled=found.filled))  # fmt: skip

    def _apply_result(self, live: LiveOrder, result: PlaceResult) -> None:
        if result.request is not None:
            self.stats.dry_run += 1
            self.dry_run_requests.append(result.request)
        for fill in result.fills:
            self._apply_fill(live, fill, "answer")
        self._apply_report(live, result.report)

    # -- answers -----------------------------------------------------------------------------

    def _apply_report(self, live: LiveOrder, report: ExecReport) -> None:
        venue = live.order.venue
        if report.venue_order_id and not live.venue_order_id:
            live.venue_order_id = report.venue_order_id
            live.order.venue_order_id = report.venue_order_id
            self._by_venue_id[(venue, report.venue_order_id)] = live.request.client_order_id
            for event in self._orphans.pop((venue, report.venue_order_id), []):
                self.on_account(event)
        live.reported_filled = max(live.reported_filled, report.filled)
        if report.state is OrderState.REJECTED:
            self.stats.rejected[_reason_key(report.reason)] += 1
            if report.reason != "dry_run" and not live.done:
                log.warning("order rejected", venue=venue, client_order_id=live.request.client_order_id,
                            reason=report.reason)  # fmt: skip
        elif report.state is not OrderState.PENDING and not live.done and self.sink is not None:
            if not live.acked:
                live.acked = True
                self.stats.accepted += 1
            on_accepted = getattr(self.sink, "on_accepted", None)
            if on_accepted is not None:
                on_accepted(live.order)
        if report.state.terminal and live.terminal is None:
            live.terminal = (report.state, report.reason)
        self._journal(live)
        self._maybe_done(live)

    def _apply_fill(self, live: LiveOrder, fill: ExecFill, source: str) -> None:
        key = (live.order.venue, fill.fill_id)
        if key in self._seen_fills or live.done:
            return
        self._seen_fills.add(key)
        live.fill_ids.add(fill.fill_id)
        live.fill_total += fill.size
        self.stats.fills += 1
        self.stats.fills_from[source] += 1
        self._spawn(self._journal_fill(live.order.venue, fill))
        if self.sink is not None:
            self.sink.on_fills(live.order, [(fill.price, fill.size)], fill.fee, max(fill.ts_event, live.sent_ns))
        self._maybe_done(live)

    async def _journal_fill(self, venue: str, fill: ExecFill) -> None:
        try:
            await self.journal.journal_fill(venue, fill, self.clock())
        except Exception as exc:
            log.error("fill not journalled", venue=venue, fill_id=fill.fill_id, error=str(exc))

    def _journal(self, live: LiveOrder) -> None:
        state = live.terminal[0] if live.terminal is not None else live.order.state
        reason = live.terminal[1] if live.terminal is not None else ""
        record = self._record(live, state, reason)

        async def write() -> None:
            try:
                await self.journal.journal_order(record)
            except Exception as exc:
                log.error("order update not journalled", client_order_id=record.client_order_id, error=str(exc))

        self._spawn(write())

    def _maybe_done(self, live: LiveOrder) -> None:
        if live.done or live.terminal is None:
            return
        if live.fill_total >= live.reported_filled:
            state, reason = live.terminal
            if state is OrderState.FILLED and live.fill_total < live.order.size:
                state = OrderState.CANCELLED
            if state is not OrderState.FILLED and live.fill_total >= live.order.size > 0:
                state = OrderState.FILLED
            live.done = True
            if self.sink is not None:
                self.sink.on_done(live.order, state, reason, self.clock())
            return
        if not live.waiting:
            live.waiting = True
            self._spawn(self._await_fills(live))

    async def _await_fills(self, live: LiveOrder) -> None:
        # The venue said N filled; wait for the fills, then ask its REST for them
        await asyncio.sleep(self.config.fill_timeout_s)
        if live.done:
            return
        venue = live.order.venue
        try:
            fills = await self.gateways[venue].fills(live.request.created_ns - 60 * 10**9)
        except Exception as exc:
            fills = []
            log.error("fills not read from REST", venue=venue, error=str(exc))
        for fill in fills:
            if fill.client_order_id == live.request.client_order_id or (
                live.venue_order_id and fill.venue_order_id == live.venue_order_id
            ):
                self._apply_fill(live, fill, "rest")
        if not live.done:
            missing = live.reported_filled - live.fill_total
            self.halt(f"order {live.request.client_order_id}: the venue reports {missing} more filled than its fills")
            live.reported_filled = live.fill_total
            self._maybe_done(live)

    def _finish_now(self, order: PaperOrder, state: OrderState, reason: str, now: int) -> None:
        if self.sink is None:
            return
        loop = _running_loop()
        if loop is None:
            self.sink.on_done(order, state, reason, now)
        else:  # never inside the trader's own submit call: it is still building the trade
            loop.call_soon(self.sink.on_done, order, state, reason, now)

    # -- private channels --------------------------------------------------------------------

    def on_account(self, event: AccountEvent) -> None:
        """A venue's account event (:mod:`hadron.model.account`): a fill or an order update of one
        of our orders moves it on; anything else (orders placed elsewhere) is not ours."""
        if isinstance(event, AccountFill):
            live = self._find(event.venue, event.client_order_id, event.order_id, event)
            if live is None:
                return
            price = (
                PRICE_ONE - event.price
                if live.request.outcome == "no" and event.outcome is not Outcome.TOKEN
                else event.price
            )
            fill = ExecFill(
                client_order_id=live.request.client_order_id,
                venue_order_id=event.order_id,
                fill_id=event.fill_id,
                price=price,
                size=event.size,
                fee=event.fee * CASH_TO_MONEY,
                ts_event=event.ts_event,
                taker=event.taker is not False,
            )
            if event.status == "FAILED":
                return  # a trade the chain refused: not a fill (reconciliation sees the position)
            self._apply_fill(live, fill, "channel")
        elif isinstance(event, OrderUpdate):
            live = self._find(event.venue, event.client_order_id, event.order_id, event)
            if live is None or event.status is OrderStatus.OPEN:
                return
            state = OrderState.FILLED if event.status is OrderStatus.FILLED else OrderState.CANCELLED
            report = ExecReport(
                client_order_id=live.request.client_order_id,
                venue_order_id=event.order_id,
                state=state,
                filled=event.filled,
                ts_event=event.ts_event,
            )
            self._apply_report(live, report)

    def _find(self, venue: str, client_order_id: str, order_id: str, event: AccountEvent) -> LiveOrder | None:
        live = self.orders.get(client_order_id) if client_order_id else None
        if live is not None and live.order.venue == venue:
            return live
        cid = self._by_venue_id.get((venue, order_id))
        if cid is not None:
            return self.orders.get(cid)
        if order_id and any(
            not o.done and o.order.venue == venue and not o.venue_order_id for o in self.orders.values()
        ):
            self._orphans[(venue, order_id)].append(event)  # before the place answer named it
        return None

    # -- report ------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts for the run's report: orders sent, accepted, rejected (by reason), fills (by
        source), round trips per venue (ms: mean, max), alerts, halt, what is still resting."""
        latency = {
            venue: {"n": len(ms), "mean_ms": round(sum(ms) / len(ms), 3), "max_ms": round(max(ms), 3)}
            for venue, ms in self.stats.latencies_ms.items()
            if ms
        }
        return {
            "mode": self.mode,
            "orders_sent": self.stats.sent,
            "batches": self.stats.batches,
            "accepted": self.stats.accepted,
            "cancel_all_requests": self.stats.cancel_all,
            "rejected": dict(self.stats.rejected),
            "fills": self.stats.fills,
            "fills_from": dict(self.stats.fills_from),
            "dry_run_requests": self.stats.dry_run,
            "venue_errors": self.stats.venue_errors,
            "round_trip": latency,
            "halted": self._halted,
            "alerts": list(self.alerts),
            "still_resting": list(self.stats.still_resting),
        }


_FIGURES = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?")


def _reason_key(reason: str) -> str:
    # The report's key for a venue's refusal: its code ("balance", "dry_run", Kalshi's
    # "code: message" → the code), or a venue's sentence with its ids and figures blanked, so that
    # refusals of one kind count together ("order … is invalid. Size (…) lower than the minimum")
    head = reason.split(":")[0].strip()
    return (_FIGURES.sub("…", head) if " " in head else head) or "venue"


def _venue_limit(limit: int) -> int:
    # A limit outside (0, 1) USD means "any price" to the trader; a venue refuses it (MIN_LIMIT)
    if limit <= 0:
        return MIN_LIMIT
    return PRICE_ONE - MIN_LIMIT if limit >= PRICE_ONE else limit


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
