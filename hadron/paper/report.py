"""Paper-trading reports: fills (NDJSON), a summary (JSON) and the equity curve (PNG).

Everything in them comes from event time and the run's own counters, so a replay with the same
inputs and seed writes byte-identical files. Money is written as decimal strings in USD, sizes
as decimal strings in shares, times as ns since the epoch.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import structlog

from hadron.arb.opportunity import money_text
from hadron.extras import MissingExtra, available, require
from hadron.model.units import format_price, format_size
from hadron.paper.orders import PaperOrder
from hadron.paper.trader import PaperTrader

log = structlog.get_logger("hadron.paper.report")

_ENCODER = msgspec.json.Encoder(order="sorted")


def fill_records(trader: PaperTrader) -> list[dict[str, Any]]:
    """One record per fill, in execution order; an order's fee sits on its last fill."""
    out: list[dict[str, Any]] = []
    for order in sorted((o for o in trader.orders if o.fills), key=lambda o: (o.done_ns, o.order_id)):
        for n, (price, size) in enumerate(order.fills):
            out.append(
                {
                    "fill_id": f"{order.order_id}-f{n + 1}",
                    "order_id": order.order_id,
                    "trade_id": order.trade_id,
                    "opportunity_id": order.opportunity_id,
                    "role": order.role,
                    "venue": order.venue,
                    "instrument": order.instrument,
                    "outcome": order.outcome,
                    "side": order.side,
                    "price": format_price(price),
                    "size": format_size(size),
                    "fee": money_text(order.fee if n == len(order.fills) - 1 else 0),
                    "ts_ns": order.done_ns,
                    "latency_ns": order.arrival_ns - order.created_ns,
                }
            )
    return out


def _order_counts(orders: list[PaperOrder]) -> dict[str, Any]:
    return {
        "total": len(orders),
        "by_role": dict(sorted(Counter(o.role for o in orders).items())),
        "by_status": dict(sorted(Counter(o.status for o in orders).items())),
    }


def _by_pair(trader: PaperTrader) -> dict[str, Any]:
    # Per pair: trades, how they ended, shares bought per leg, money paid (fills and fees), unwind cost
    out: dict[str, Any] = {}
    for trade in trader.trades:
        entry = out.setdefault(trade.pair, {"trades": 0, "states": Counter(), "shares": Counter(), "paid": 0,
                                            "unwind_cost": 0})  # fmt: skip
        entry["trades"] += 1
        entry["states"][trade.state] += 1
        for order in trade.orders:
            leg = f"{order.venue}:{order.outcome}"
            sign = 1 if order.side == "buy" else -1
            entry["shares"][leg] += sign * order.filled
            entry["paid"] += sign * order.cost + order.fee
        entry["unwind_cost"] += trade.unwind_cost
    return {
        pair: {
            "trades": e["trades"],
            "states": dict(sorted(e["states"].items())),
            "shares": {leg: format_size(n) for leg, n in sorted(e["shares"].items())},
            "paid": money_text(e["paid"]),
            "unwind_cost": money_text(e["unwind_cost"]),
        }
        for pair, e in sorted(out.items())
    }


def summary(trader: PaperTrader) -> dict[str, Any]:
    """The run's summary: orders, fills, pairs, failures, unwinds, fees, P&L, opportunities.

    P&L (USD decimal strings): ``net_pnl`` (equity − initial cash, every open holding at its
    bid) = ``realized_pnl`` + ``unrealized_pnl``; and, in three parts, ``realized_pnl``,
    ``locked_pnl`` (hedged sets at their $1 settlement payout − cost − fees) and
    ``mark_to_market_pnl`` (unhedged holdings at the bid − their cost), with ``hedged_shares``
    (see :class:`~hadron.paper.portfolio.PnLBreakdown`).
    """
    p = trader.portfolio
    parts = trader.pnl()
    stats = trader.stats
    equity = trader.equity[-1][1] if trader.equity else p.total_cash()
    initial = sum(p.initial_cash.values())
    market_value = equity - p.total_cash()
    unrealized = market_value - p.open_cost()
    trades = trader.trades
    states = Counter(t.state for t in trades)
    captured = {t.opportunity_id for t in trades if t.state == "hedged"}
    return {
        "orders": _order_counts(trader.orders),
        "fills": stats.fills,
        "pairs_opened": sum(1 for t in trades if any(o.filled for o in t.orders)),
        "pairs": dict(sorted(states.items())),
        "legs_failed": sum(t.legs_failed for t in trades),
        "unwinds": sum(1 for o in trader.orders if o.role != "entry"),
        "unwind_cost": money_text(sum(t.unwind_cost for t in trades)),
        "fees": money_text(p.fees),
        "realized_pnl": money_text(p.realized()),
        "unrealized_pnl": money_text(unrealized),
        "locked_pnl": money_text(parts.locked),
        "mark_to_market_pnl": money_text(parts.mark_to_market),
        "hedged_shares": format_size(parts.hedged),
        "net_pnl": money_text(equity - initial),
        "equity": money_text(equity),
        "cash": {venue: money_text(amount) for venue, amount in sorted(p.cash.items())},
        "initial_cash": {venue: money_text(amount) for venue, amount in sorted(p.initial_cash.items())},
        "payouts": money_text(p.payouts),
        "settlements": stats.settlements,
        "open_positions": [
            {
                "venue": h.venue,
                "instrument": h.instrument,
                "outcome": h.outcome,
                "from_bids": h.from_bids,
                "size": format_size(h.size),
                "cost": money_text(h.cost),
            }
            for h in sorted(p.holdings.values(), key=lambda h: (h.instrument, h.from_bids))
            if h.size and not h.settled
        ],
        "by_pair": _by_pair(trader),
        "opportunities": {
            "seen": stats.opportunities_seen,
            "taken": stats.opportunities_taken,
            "captured": len(captured),
            "decisions": stats.decisions,
        },
        "rejections": dict(sorted(stats.rejections.items())),
        "downsized": dict(sorted(stats.downsized.items())),
        "kill_switch": {
            "engaged": trader.kill.engaged,
            "reason": trader.kill.reason,
            "orders_cancelled": stats.cancelled_by_kill,
        },
        "config": {
            "seed": trader.config.seed,
            "tif": trader.config.tif,
            "unwind": trader.config.unwind,
            "latency_ms": {v: [lat.fixed_ms, lat.jitter_ms] for v, lat in sorted(trader.config.latency.items())},
        },
    }


def plot_equity(trader: PaperTrader, path: Path) -> None:
    """Draw P&L (equity minus initial cash) and realized P&L over event time to ``path`` (PNG).

    Raises:
        MissingExtra: matplotlib is not installed (the ``[plot]`` extra).
    """
    matplotlib: Any = require("matplotlib", "the equity chart")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    initial = sum(trader.portfolio.initial_cash.values())
    points = trader.equity or [(0, initial, 0, 0)]
    # matplotlib's date axis counts days since 1970-01-01 (UTC)
    times = [t / 86_400e9 for t, _, _, _ in points]
    pnl = [(e - initial) / 1e10 for _, e, _, _ in points]
    realized = [r / 1e10 for _, _, r, _ in points]
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    ax.step(times, pnl, where="post", label="P&L (cash + holdings at best bid − initial cash)", color="#1f77b4")
    ax.step(times, realized, where="post", label="realized P&L", color="#2ca02c", linestyle="--")
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.xaxis_date()
    ax.set_ylabel("USD")
    ax.set_xlabel("event time (UTC)")
    s = trader.stats
    ax.set_title(f"Hadron paper trading: {s.opportunities_taken} opportunities taken, {s.fills} fills")
    ax.legend(loc="best")
    ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def write_reports(trader: PaperTrader, folder: Path) -> dict[str, str]:
    """Write ``fills.ndjson``, ``summary.json`` and ``equity.png`` into ``folder``; return their paths.

    ``equity.png`` needs the ``[plot]`` extra (matplotlib); without it the chart is left out (no
    ``"equity"`` key) and everything else is written.

    Raises:
        OSError: the folder or a file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fills_path, summary_path, png_path = folder / "fills.ndjson", folder / "summary.json", folder / "equity.png"
    with fills_path.open("wb") as out:
        for record in fill_records(trader):
            out.write(_ENCODER.encode(record) + b"\n")
    summary_path.write_bytes(msgspec.json.format(_ENCODER.encode(summary(trader)), indent=2) + b"\n")
    paths = {"fills": str(fills_path), "summary": str(summary_path)}
    if available("matplotlib"):
        plot_equity(trader, png_path)
        paths["equity"] = str(png_path)
    else:
        log.warning(f"{png_path.name} not written: {MissingExtra('matplotlib', 'the equity chart')}")
    return paths
