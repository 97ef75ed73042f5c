"""Shadow mode: paper beside live on the same opportunities, and how far apart they ended.

In ``shadow`` mode (``[execution] mode = "shadow"``) two traders listen to the same detector on
the same books: one sends live, one fills on paper (with the paper latencies of ``[paper]``).
:func:`divergence` pairs their trades by opportunity and, per leg, sets the live fills beside the
paper ones: size filled, average price, fees, and the time each order took to reach its venue
(paper: the configured latency; live: the measured round trip). A leg that filled differently is
explained by those times: the live order met the book at another moment than the paper one.

Sizes int, 1/1,000,000; prices 1/10,000 USD (average: rounded down); fees and P&L
1/10,000,000,000 USD; times ms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hadron.exec.live import LiveExecution
    from hadron.paper.orders import PairTrade, PaperOrder
    from hadron.paper.trader import PaperTrader


def _leg(orders: list[PaperOrder], leg: int) -> dict[str, Any]:
    mine = [o for o in orders if o.leg == leg and o.side == "buy"]
    filled = sum(o.filled for o in mine)
    cost = sum(o.cost for o in mine)
    return {
        "filled": filled,
        "avg_price": cost // filled if filled else None,
        "fee": sum(o.fee for o in mine),
        "orders": len(mine),
        "status": [o.status for o in mine],
    }


def _pnl(trader: PaperTrader) -> int:
    # realized + locked + marked to market, 1/10,000,000,000 USD
    pnl = trader.pnl()
    return pnl.realized + pnl.locked + pnl.mark_to_market


def divergence(paper: PaperTrader, live: PaperTrader, execution: LiveExecution | None = None) -> dict[str, Any]:
    """Compare the shadow paper trader with the live one (see the module docstring).

    Returns ``{"trades_live", "trades_paper", "both", "only_live", "only_paper", "legs_diverged",
    "pnl": {"paper", "live"}, "trades": [{"opportunity", "live_state", "paper_state", "legs":
    [{"venue", "live", "paper", "diverged", "paper_latency_ms", "live_round_trip_ms", "why"}]}]}``.
    """
    by_opp_paper: dict[str, PairTrade] = {t.opportunity_id: t for t in paper.trades}
    by_opp_live: dict[str, PairTrade] = {t.opportunity_id: t for t in live.trades}
    both = sorted(set(by_opp_paper) & set(by_opp_live))
    trades = []
    diverged = 0
    for opp in both:
        p, q = by_opp_paper[opp], by_opp_live[opp]
        legs = []
        for index, leg in enumerate(q.legs):
            a, b = _leg(q.orders, index), _leg(p.orders, index)
            differs = a["filled"] != b["filled"] or a["avg_price"] != b["avg_price"]
            diverged += differs
            paper_ms = [(o.arrival_ns - o.created_ns) / 1e6 for o in p.orders if o.leg == index]
            live_ms: list[float] = []
            if execution is not None:
                for o in q.orders:
                    sent = execution.orders.get(o.client_order_id)
                    if o.leg == index and sent is not None and sent.ack_ns:
                        live_ms.append((sent.ack_ns - sent.sent_ns) / 1e6)
            why = ""
            if differs:
                why = (
                    f"the live order met the book {max(live_ms, default=0):.1f} ms after sending, the paper one "
                    f"{max(paper_ms, default=0):.1f} ms after deciding: the book differed between the two moments"
                )
            legs.append({
                "venue": leg.venue,
                "instrument": leg.instrument,
                "live": a,
                "paper": b,
                "diverged": differs,
                "paper_latency_ms": paper_ms,
                "live_round_trip_ms": live_ms,
                "why": why,
            })  # fmt: skip
        trades.append({"opportunity": opp, "live_state": q.state, "paper_state": p.state, "legs": legs})
    return {
        "trades_live": len(live.trades),
        "trades_paper": len(paper.trades),
        "both": len(both),
        "only_live": sorted(set(by_opp_live) - set(by_opp_paper)),
        "only_paper": sorted(set(by_opp_paper) - set(by_opp_live)),
        "legs_diverged": diverged,
        "pnl": {"paper": _pnl(paper), "live": _pnl(live)},
        "trades": trades,
    }
