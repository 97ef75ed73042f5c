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


def _usd(money: int) -> str:
    # money units (1/10,000,000,000 USD) as a USD string with 4 decimals, rounded toward zero
    sign = "-" if money < 0 else ""
    cents, _ = divmod(abs(money), 10**6)
    return f"{sign}{cents // 10**4}.{cents % 10**4:04d}"


def _pnl(trader: PaperTrader) -> int:
    # realized + locked + marked to market, 1/10,000,000,000 USD
    pnl = trader.pnl()
    return pnl.realized + pnl.locked + pnl.mark_to_market


def divergence(paper: PaperTrader, live: PaperTrader, execution: LiveExecution | None = None) -> dict[str, Any]:
    """Compare the shadow paper trader with the live one (see the module docstring).

    Returns ``{"trades_live", "trades_paper", "both", "only_live", "only_paper", "legs_diverged",
    "pnl": {"paper", "live"} (money units), "pnl_usd", "trades": [{"opportunity", "live_trade",
    "paper_trade", "live_state", "paper_state", "legs":
    [{"venue", "live", "paper", "diverged", "paper_latency_ms", "live_round_trip_ms", "why"}]}]}``.
    """
    # an opportunity may be taken more than once (retaken after retake_ms): the n-th trade of
    # each side on it are compared, and the rest counted on their side alone
    paper_on: dict[str, list[PairTrade]] = {}
    live_on: dict[str, list[PairTrade]] = {}
    for trade in paper.trades:
        paper_on.setdefault(trade.opportunity_id, []).append(trade)
    for trade in live.trades:
        live_on.setdefault(trade.opportunity_id, []).append(trade)
    pairs: list[tuple[str, PairTrade, PairTrade]] = []
    only_live: list[str] = []
    only_paper: list[str] = []
    for opp in sorted(set(paper_on) | set(live_on)):
        mine, theirs = live_on.get(opp, []), paper_on.get(opp, [])
        pairs += [(opp, p, q) for q, p in zip(mine, theirs, strict=False)]
        only_live += [f"{opp} ({t.trade_id})" for t in mine[len(theirs) :]]
        only_paper += [f"{opp} ({t.trade_id})" for t in theirs[len(mine) :]]
    trades = []
    diverged = 0
    for opp, p, q in pairs:
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
                    f"the live order was answered {max(live_ms, default=0):.1f} ms after sending, the paper one "
                    f"reached its venue {max(paper_ms, default=0):.1f} ms after deciding: each met the book at "
                    "another moment, and the book differed"
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
        trades.append({"opportunity": opp, "live_trade": q.trade_id, "paper_trade": p.trade_id,
                       "live_state": q.state, "paper_state": p.state, "legs": legs})  # fmt: skip
    return {
        "trades_live": len(live.trades),
        "trades_paper": len(paper.trades),
        "both": len(pairs),
        "only_live": only_live,
        "only_paper": only_paper,
        "legs_diverged": diverged,
        "pnl": {"paper": _pnl(paper), "live": _pnl(live)},
        "pnl_usd": {"paper": _usd(_pnl(paper)), "live": _usd(_pnl(live))},
        "trades": trades,
    }
