"""Reconciliation: the journal against the venue's own account, on start and after a reconnect.

For one venue, :func:`reconcile_venue`

1. asks the venue for every order the journal holds as not ended (by client order id, or the
   venue's id) and moves the journal to what the venue says (an order the venue does not know,
   sent more than a minute ago, is ``rejected``/``unknown at venue``);
2. reads the venue's fills since the oldest such order (or the last hour) and journals those of
   Hadron's orders it had not kept (a crash between a send and its fills);
3. compares positions: the **expected** position of each instrument is the venue's position when
   Hadron first traded on the account (the journal's baseline, taken at the first reconciliation)
   plus every journalled fill (a buy of the instrument's YES or token adds, a NO buy subtracts,
   sells the reverse); the venue's ``positions`` must equal it;
4. lists orders resting at the venue that the journal does not know.

Any difference in 3 or 4 is reported (``differences``) and the live engine halts new orders: a
difference is an alert, never silently fixed. The report also lists pair trades left with
unequal legs (``unhedged``: a crash between two legs), from the journal.
Sizes int, 1/1,000,000 (contracts or shares); times int, ns.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from hadron.exec.journal import Journal
from hadron.model.orders import TERMINAL, ExecFill, OrderState
from hadron.model.units import format_size
from hadron.store.state.records import ExecOrderRecord
from hadron.venues.base import OrderGateway

log = structlog.get_logger("hadron.exec.reconcile")

UNKNOWN_AFTER_NS = 60 * 10**9
"""An order the venue does not know this long after it was journalled was never placed."""


@dataclass(slots=True)
class ReconcileReport:
    """What one reconciliation of one venue found (see the module docstring)."""

    venue: str
    at_ns: int
    orders_checked: int = 0
    orders_updated: int = 0
    fills_added: int = 0
    baseline_taken: bool = False
    positions: dict[str, dict[str, int]] = field(default_factory=dict)
    """instrument → ``{"expected": …, "venue": …}`` (1/1,000,000)."""
    unknown_orders: list[str] = field(default_factory=list)
    unhedged: list[dict[str, Any]] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    error: str = ""
    at_start: bool = False
    """Run before any order of this process: every open order in the journal is a dead one's."""

    @property
    def ok(self) -> bool:
        """True when the venue and the journal agree."""
        return not self.differences and not self.error

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "venue": self.venue,
            "at_ns": self.at_ns,
            "ok": self.ok,
            "orders_checked": self.orders_checked,
            "orders_updated": self.orders_updated,
            "fills_added": self.fills_added,
            "baseline_taken": self.baseline_taken,
            "positions": self.positions,
            "unknown_orders": self.unknown_orders,
            "unhedged": self.unhedged,
            "differences": self.differences,
            "error": self.error,
            "at_start": self.at_start,
        }


def signed(record: ExecOrderRecord, size: int) -> int:
    """The position change of ``size`` filled on ``record``: + for a YES/token buy or a NO sell."""
    sign = 1 if record.side == "buy" else -1
    return sign * size if record.outcome == "yes" else -sign * size


def expected_positions(
    baseline: dict[str, int], orders: Iterable[ExecOrderRecord], fills: Iterable[tuple[str, ExecFill]]
) -> dict[str, int]:
    """Baseline plus every journalled fill of a journalled order (see :func:`signed`)."""
    by_id = {o.client_order_id: o for o in orders}
    by_venue_id = {(o.venue, o.venue_order_id): o for o in by_id.values() if o.venue_order_id}
    out = defaultdict(int, baseline)
    for venue, fill in fills:
        record: ExecOrderRecord | None = by_id.get(fill.client_order_id) or by_venue_id.get(
            (venue, fill.venue_order_id)
        )
        if record is not None:
            out[record.instrument] += signed(record, fill.size)
    return dict(out)


def unhedged_trades(orders: Iterable[ExecOrderRecord], fills: Iterable[tuple[str, ExecFill]]) -> list[dict[str, Any]]:
    """Pair trades whose legs hold unequal sizes (a crash between two legs, a failed unwind).

    ``orders`` and ``fills`` must hold every venue's (a trade's legs are at two venues); a trade is
    one run's (``run_id``, ``trade_id``): trade ids restart with each run."""
    by_id = {o.client_order_id: o for o in orders}
    held: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    legs: dict[tuple[str, str], set[int]] = defaultdict(set)
    for record in by_id.values():
        if record.trade_id:
            legs[(record.run_id, record.trade_id)].add(record.leg)
    for _, fill in fills:
        owner = by_id.get(fill.client_order_id)
        if owner is not None and owner.trade_id:
            record = owner
            held[(record.run_id, record.trade_id)][record.leg] += fill.size if record.side == "buy" else -fill.size
    out = []
    where = {(o.run_id, o.trade_id, o.leg): (o.venue, o.instrument) for o in by_id.values() if o.trade_id}
    for trade, leg_ids in legs.items():
        sizes = {leg: held[trade].get(leg, 0) for leg in sorted(leg_ids | {0, 1})}
        if len(set(sizes.values())) > 1:
            named = [
                {"leg": leg, "venue": where.get((*trade, leg), ("", ""))[0],
                 "instrument": where.get((*trade, leg), ("", ""))[1], "held": format_size(size)}
                for leg, size in sizes.items()
            ]  # fmt: skip
            out.append({"run_id": trade[0], "trade_id": trade[1], "held": {str(k): v for k, v in sizes.items()},
                        "legs": named})  # fmt: skip
    return out


async def reconcile_venue(
    gateway: OrderGateway,
    journal: Journal,
    *,
    instruments: Iterable[str] = (),
    now_ns: int | None = None,
    at_start: bool = False,
) -> ReconcileReport:
    """Reconcile ``gateway``'s venue with the journal (see the module docstring); never raises
    (a venue that cannot be asked gives a report with ``error`` set, which is not ok)."""
    venue = gateway.venue
    now = now_ns if now_ns is not None else time.time_ns()
    report = ReconcileReport(venue=venue, at_ns=now, at_start=at_start)
    try:
        await _reconcile(gateway, journal, report, set(instruments), now)
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
    if not report.ok:
        log.error("reconciliation found a difference", venue=venue, differences=report.differences, error=report.error)
    return report


async def _reconcile(
    gateway: OrderGateway, journal: Journal, report: ReconcileReport, wanted: set[str], now: int
) -> None:
    venue = gateway.venue
    open_orders = await journal.journal_orders(open_only=True, venue=venue)
    await _settle_open_orders(gateway, journal, report, open_orders, now)
    orders = await journal.journal_orders(venue=venue)  # with the venue ids just learnt
    await _read_fills(gateway, journal, report, open_orders, orders, now)
    await _compare(gateway, journal, report, wanted, orders, now)


async def _settle_open_orders(
    gateway: OrderGateway, journal: Journal, report: ReconcileReport, open_orders: list[ExecOrderRecord], now: int
) -> None:
    # Each order the journal holds as not ended: moved to what the venue says. One whose answer
    # was never journalled is looked for by the id the venue derives from it, where it does
    # (Polymarket's order hash); at start, one the venue does not know was never placed
    for record in open_orders:
        report.orders_checked += 1
        venue_order_id = record.venue_order_id or await gateway.recall(record.order_request())
        found = await gateway.order(record.client_order_id, venue_order_id)
        if found is None:
            if not report.at_start and now - record.created_ns < UNKNOWN_AFTER_NS:
                continue  # maybe still on its way (a reconnect while orders are in flight)
            updated = _replace(record, state=OrderState.REJECTED, reason="unknown at venue", updated_ns=now)
        else:
            updated = _replace(
                record, state=found.state, filled=found.filled, venue_order_id=found.venue_order_id, updated_ns=now
            )
        if updated != record:
            report.orders_updated += 1
            await journal.journal_order(updated)


async def _read_fills(
    gateway: OrderGateway,
    journal: Journal,
    report: ReconcileReport,
    open_orders: list[ExecOrderRecord],
    orders: list[ExecOrderRecord],
    now: int,
) -> None:
    # The venue's fills of Hadron's orders that the journal did not keep
    venue = gateway.venue
    oldest = min((o.created_ns for o in open_orders), default=now - 3600 * 10**9)
    by_id = {o.client_order_id for o in orders}
    by_venue_id = {o.venue_order_id: o.client_order_id for o in orders if o.venue_order_id}
    for fill in await gateway.fills(oldest - UNKNOWN_AFTER_NS):
        cid = fill.client_order_id if fill.client_order_id in by_id else by_venue_id.get(fill.venue_order_id, "")
        if not cid:
            continue  # not one of Hadron's orders: the positions check sees its effect
        if cid != fill.client_order_id:
            fill = ExecFill(**{**_fields(fill), "client_order_id": cid})
        if await journal.journal_fill(venue, fill, now):
            report.fills_added += 1


async def _compare(
    gateway: OrderGateway,
    journal: Journal,
    report: ReconcileReport,
    wanted: set[str],
    orders: list[ExecOrderRecord],
    now: int,
) -> None:
    # Positions against the baseline plus Hadron's fills; resting orders Hadron does not know
    venue = gateway.venue
    by_id = {o.client_order_id for o in orders}
    fills = await journal.journal_fills(venue=venue)
    instruments = wanted | {o.instrument for o in orders}
    baseline = await journal.baseline(venue)
    symbols = sorted(instruments)
    held = await gateway.positions(symbols) if symbols else {}
    if baseline is None:
        # the first reconciliation on this account: the venue's positions, less what Hadron's
        # journalled fills already explain, are what was there before Hadron traded
        mine = expected_positions({}, orders, fills)
        baseline = {i: held.get(i, 0) - mine.get(i, 0) for i in symbols}
        await journal.set_baseline(venue, baseline, now)
        report.baseline_taken = True
    expected = expected_positions(baseline, orders, fills)
    for instrument in sorted(set(expected) | set(held)):
        want, have = expected.get(instrument, 0), held.get(instrument, 0)
        report.positions[instrument] = {"expected": want, "venue": have}
        if want != have:
            expects, holds = format_size(want), format_size(have)
            report.differences.append(f"{instrument}: Hadron expects {expects}, the venue holds {holds} (contracts)")
    known = {o.venue_order_id for o in orders if o.venue_order_id}
    for order in await gateway.open_orders():
        if order.venue_order_id not in known and order.client_order_id not in by_id:
            report.unknown_orders.append(order.venue_order_id)
            report.differences.append(f"order {order.venue_order_id} rests at the venue, unknown to Hadron")
    # the trades with a leg at this venue, judged on both legs (every venue's orders and fills)
    here = {(o.run_id, o.trade_id) for o in orders if o.trade_id}
    everywhere = [o for o in await journal.journal_orders() if (o.run_id, o.trade_id) in here]
    report.unhedged = unhedged_trades(everywhere, await journal.journal_fills())


def _fields(fill: ExecFill) -> dict[str, Any]:
    return {name: getattr(fill, name) for name in fill.__struct_fields__}


def _replace(record: ExecOrderRecord, **changes: Any) -> ExecOrderRecord:
    import msgspec

    state = changes.get("state")
    if state is not None and OrderState(record.state) in TERMINAL:
        changes.pop("state")
    return msgspec.structs.replace(record, **changes)


async def held_by_hadron(journal: Journal, report: ReconcileReport) -> list[tuple[str, bool, int, int]]:
    """What Hadron's own fills (of every run) hold now at ``report``'s venue, from a reconciliation
    that found the venue agreeing: per instrument, the position beyond the baseline, as
    ``(instrument, no_side, size, average price)`` — ``no_side`` True for a Kalshi NO holding
    (a negative position); size 1/1,000,000; the average price (1/10,000 USD) of the journalled
    buys on that side. A restarted run's trader starts from these (its exposure and risk limits
    then count what earlier runs left), not from nothing."""
    if not report.ok:
        return []
    baseline = await journal.baseline(report.venue) or {}
    orders = {o.client_order_id: o for o in await journal.journal_orders(venue=report.venue)}
    fills = await journal.journal_fills(venue=report.venue)
    out: list[tuple[str, bool, int, int]] = []
    for instrument, position in sorted(report.positions.items()):
        mine = position["expected"] - baseline.get(instrument, 0)
        if mine == 0:
            continue
        no_side = mine < 0
        buys = [
            (fill.price, fill.size)
            for _, fill in fills
            if (order := orders.get(fill.client_order_id)) is not None
            and order.instrument == instrument
            and order.side == "buy"
            and (order.outcome == "no") == no_side
        ]
        bought = sum(size for _, size in buys)
        price = sum(p * s for p, s in buys) // bought if bought else 0
        out.append((instrument, no_side, abs(mine), price))
    return out
