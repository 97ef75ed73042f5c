"""What a running :class:`~hadron.app.runtime.Runtime` shows: its status (``hadron status``,
``/api/status``), the dashboard's snapshot (``/ws``, ``/api/snapshot``), the final report of
``hadron run --report`` and the numbers behind ``/metrics``.

Each is built from the runtime's parts when asked (twice a second for the dashboard, once a scrape
for ``/metrics``), never on the hot path. Prices go out as :func:`~hadron.model.units.format_price`
strings, sizes as :func:`~hadron.model.units.format_size`, money as
:func:`~hadron.arb.opportunity.money_text` (exact decimals); ages in seconds, times in ms since the
epoch.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hadron.app.replay import dump_books
from hadron.app.views import index_view, pair_costs, pair_instruments, risk_usage
from hadron.arb.edges import PairEdges, cross_fees
from hadron.arb.opportunity import money_text
from hadron.book.manager import BookManager, BookState
from hadron.config import mask_url
from hadron.metrics import FrameLatency
from hadron.model.units import format_price, format_size
from hadron.paper.control import status as paper_status

if TYPE_CHECKING:
    from hadron.app.runtime import Runtime

STATES = ("starting", "running", "stopping", "stopped")
"""A runtime's lifecycle, in order."""


def book_view(books: BookManager, instrument: str, depth: int = 5) -> dict[str, Any]:
    book = books.get(instrument)
    if book is None:
        return {"instrument": instrument, "state": "none", "bids": [], "asks": [], "age_s": None}
    now = time.time_ns()
    return {
        "instrument": instrument,
        "state": book.state.value,
        "bids": [[format_price(p), format_size(s)] for p, s in book.levels_bid(depth)],
        "asks": [[format_price(p), format_size(s)] for p, s in book.levels_ask(depth)],
        "age_s": round((now - book.ts_recv) / 1e9, 3) if book.ts_recv else None,
    }


def arb_summary(rt: Runtime) -> dict[str, Any]:
    """The detector's counts (zeros in an ingest process, which runs none)."""
    if rt.detector is None:
        return {"opportunities": 0, "open": 0, "evaluations": 0, "suppressed": {}}
    return dict(rt.detector.summary())


def feeds_view(rt: Runtime) -> dict[str, Any]:
    """Feed health per venue and connection."""
    now = time.time_ns()
    out: dict[str, Any] = {}
    for feed in rt.feeds:
        health = feed.health()
        stats = feed.stats
        connections = [
            {
                **c,
                "fps": round(rt.frame_rates.get(c["name"], 0.0), 1),
                "last_frame_age_s": round((now - c["last_frame_ns"]) / 1e9, 2) if c["last_frame_ns"] else None,
            }
            for c in health["connections"]
        ]
        latency: FrameLatency = health["latency"]
        out[feed.venue] = {
            "state": "down" if feed.venue in rt.feed_down else "up",
            "down_reason": rt.feed_down.get(feed.venue),
            "restarts": rt.feed_restarts.get(feed.venue, 0),
            "connected": sum(1 for c in connections if c["connected"]),
            "connections": connections,
            "frames": stats.frames,
            "decode_errors": stats.decode_errors,
            "gaps": stats.seq_gaps,
            "resyncs": stats.resync_requests,
            "reconnects": sum(c["reconnects"] for c in connections),
            "frozen": health["frozen"],
            "latency_p50_us": latency.quantile(0.5),
            "latency_p99_us": latency.quantile(0.99),
        }
    return out


def pairs_view(rt: Runtime) -> list[dict[str, Any]]:
    """Each tradeable pair with its books side by side (top 5 levels) and its combined cost
    both ways at the best asks (``cross``: :func:`hadron.app.views.pair_costs`). ``legs`` lists
    each leg venue-neutrally (``venue``, ``market``, ``yes``/``no`` book views, ``no`` None when
    NO is bought as ``1 −`` the YES bids, ``fee`` the rule in force); the ``kalshi`` /
    ``polymarket_*`` keys are the dashboard's views of the two built-in venues' legs."""
    references: dict[str, list[str]] = {}
    for feed in rt.feeds:  # market ticker → its reference prices' instrument ids (Kalshi's feed says)
        references.update(getattr(feed, "references", None) or {})
    now = time.time_ns()
    out = []
    open_opportunities = rt.detector.open if rt.detector is not None else {}
    in_force = cross_fees(rt.detector) if rt.detector is not None else {}
    fees = rt.strategy.fees  # the fee rule in force per Kalshi market (``quadratic ×1``)
    for pair in rt.arb.pairs:
        if not pair.tradeable:
            continue
        out.append(
            {
                "id": pair.id,
                "relation": pair.relation,
                "cross": pair_costs(pair, rt.arb.terms.get(pair.id), rt.books, open_opportunities, in_force),
                "kalshi": book_view(rt.books, f"kalshi:{pair.kalshi_market}"),
                "kalshi_fee": fees.rule_text(f"kalshi:{pair.kalshi_market}") if fees is not None else None,
                "polymarket_yes": book_view(rt.books, f"polymarket:{pair.polymarket_yes_token}"),
                "polymarket_no": book_view(rt.books, f"polymarket:{pair.polymarket_no_token}")
                if pair.polymarket_no_token
                else None,
                "references": [
                    index_view(rt.index_prices.get(instrument), instrument, now)
                    for instrument in references.get(pair.kalshi_market, [])
                ],
                "legs": [
                    {
                        "venue": leg.venue,
                        "market": leg.market,
                        "yes": book_view(rt.books, f"{leg.venue}:{leg.yes}") if leg.yes else None,
                        "no": book_view(rt.books, f"{leg.venue}:{leg.no}") if leg.no else None,
                        "fee": fees.rule_text(f"{leg.venue}:{leg.yes}") if fees is not None and leg.yes else None,
                    }
                    for leg in pair.legs
                ],
            }
        )
    return out


def opportunities_view(rt: Runtime) -> dict[str, Any]:
    """Open opportunities and the last closed ones."""
    now = time.time_ns()

    def view(o: Any) -> dict[str, Any]:
        return {
            "id": o.id,
            "pair": o.pair,
            "kind": o.kind,
            "direction": o.direction,
            "legs": [leg.instrument for leg in o.legs],
            "opened_ms": o.opened_ns // 1_000_000,  # ms since the epoch (a JS number holds it exactly)
            "closed_ms": o.closed_ns // 1_000_000 if o.closed_ns is not None else None,
            "size": format_size(o.size),
            "net": money_text(o.net),
            "edge": money_text(o.edge),
            "peak": money_text(o.peak_net),
            "cost": money_text(o.cost),
            "age_s": round(((o.closed_ns or now) - o.opened_ns) / 1e9, 2),
            "closed": o.closed_ns is not None,
            "close_reason": o.close_reason,
        }

    return {
        **arb_summary(rt),
        "open": [view(o) for o in rt.detector.open.values()] if rt.detector else [],
        "closed": [view(o) for o in list(rt.detector.closed)[-10:]][::-1] if rt.detector else [],
    }


def paper_view(rt: Runtime) -> dict[str, Any] | None:
    """The paper portfolio, its P&L and equity curve, risk state and recent fills."""
    trader = rt.trader
    if trader is None:
        return None
    p = trader.portfolio
    initial = sum(p.initial_cash.values())
    curve = [[t // 1_000_000, round((e - initial) / 1e10, 4)] for t, e, _, _ in trader.equity[-300:]]
    fills = [
        {
            "order_id": o.order_id,
            "role": o.role,
            "venue": o.venue,
            "instrument": o.instrument,
            "outcome": o.outcome,
            "created_ms": o.created_ns // 1_000_000,
            "done_ms": o.done_ns // 1_000_000 if o.done_ns else None,
            "side": o.side,
            "size": format_size(o.filled),
            "price": format_price(o.cost // o.filled) if o.filled else "",
            "fee": money_text(o.fee),
            "status": o.status,
        }
        for o in trader.orders[-12:][::-1]
    ]
    limits = trader.limits
    return {
        **paper_status(trader),
        "cash": {v: money_text(c) for v, c in sorted(p.cash.items())},
        "realized": money_text(p.realized()),
        "positions": [
            {
                "instrument": h.instrument,
                "outcome": h.outcome,
                "size": format_size(h.size),
                "cost": money_text(h.cost),
            }
            for h in p.holdings.values()
            if h.size and not h.settled
        ],
        "equity_curve": curve,
        "recent_orders": fills,
        "risk": {
            "max_notional_pair": money_text(limits.max_notional_pair) if limits.max_notional_pair else None,
            "max_open_pairs": limits.max_open_pairs,
            "daily_loss_limit": money_text(limits.daily_loss_limit) if limits.daily_loss_limit else None,
            "max_data_age_ms": limits.max_data_age_ms,
        },
        "risk_usage": risk_usage(trader, rt.books, pair_instruments(rt.arb.pairs), time.time_ns()),
    }


def status(rt: Runtime) -> dict[str, Any]:
    """The runtime's state, for ``hadron status`` and the dashboard."""
    return {
        "state": rt.state,
        "run_id": rt.run_id,
        "uptime_s": round((time.time_ns() - rt.started_ns) / 1e9, 1),
        "url": rt.url,
        "errors": [mask_url(error) for error in rt.errors],  # a venue's or the bus's URL, credentials masked
        "books": rt.books.states(),
        "feeds": feeds_view(rt),
        "role": rt.role,
        "opportunities": arb_summary(rt),
        "bus": rt.publisher.report() if rt.publisher is not None else None,
        "consumed": None
        if rt.consumer is None
        else {
            "events": sum(t.unique for t in rt.consumer.sources.values()),
            "duplicates": sum(t.duplicates for t in rt.consumer.sources.values()),
            "gaps": sum(t.gaps for t in rt.consumer.sources.values()),
            "last_seq": max((t.max_seq for t in rt.consumer.sources.values()), default=-1),
        },
        "paper": None if rt.trader is None else {"fills": rt.trader.stats.fills, "orders": len(rt.trader.orders)},
        "execution": {"mode": "paper"} if rt.strategy.desk is None else rt.strategy.desk.status(),
    }


def final_report(rt: Runtime, status: dict[str, Any]) -> dict[str, Any]:
    """What ``hadron run --report`` writes at the end: the final status, the books (every
    book that was ever LIVE, best level first, as :meth:`hadron.app.replay.Replay.dump_books`),
    the bus publisher's or consumer's report and the strategy's sections."""
    return {
        **status,
        "books_dump": dump_books(rt.books),
        "book_states": {b.instrument: b.state.value for b in sorted(rt.books, key=lambda b: b.instrument)},
        "ingest": rt.publisher.report() if rt.publisher is not None else None,
        "strategy": rt.consumer.report() if rt.consumer is not None else None,
        **rt.strategy.report(),
    }


def snapshot(rt: Runtime) -> dict[str, Any]:
    """Everything the dashboard shows, as JSON-ready builtins."""
    now = time.time_ns()
    return {
        "status": status(rt),
        "pairs": pairs_view(rt),
        "opportunities": opportunities_view(rt),
        "paper": paper_view(rt),
        "account": rt.account.snapshot(),
        "markets": rt.strategy.registry.snapshot(now, pair_instruments(rt.arb.pairs)),
        "index_prices": [index_view(p, p.instrument, now) for _, p in sorted(rt.index_prices.items())],
    }


def metrics_snapshot(rt: Runtime) -> dict[str, Any]:
    """What ``/metrics`` exposes (see :class:`hadron.metrics.RuntimeCollector` and ``docs/METRICS.md``)."""
    feeds: dict[str, Any] = {}
    latency: dict[str, FrameLatency] = {}
    for feed in rt.feeds:
        health = feed.health()
        counting = rt.rejected.get(feed.venue)
        feeds[feed.venue] = {
            "frames": feed.stats.frames,
            "decode_errors": feed.stats.decode_errors,
            "seq_gaps": feed.stats.seq_gaps,
            "resyncs": feed.stats.resync_requests,
            "reconnects": sum(c["reconnects"] for c in health["connections"]),
            "seq_duplicates": feed.stats.seq_duplicates,
            "stale_frames": feed.stats.stale_frames,
            "rejected": dict(counting.by_reason) if counting is not None else {},
            "connected": sum(1 for c in health["connections"] if c["connected"]),
            "up": 0 if feed.venue in rt.feed_down else 1,
            "restarts": rt.feed_restarts.get(feed.venue, 0),
        }
        latency[feed.venue] = health["latency"]
    plan = rt.series_plan()
    book_counts: dict[str, dict[str, int]] = {}
    dropped: dict[str, int] = {venue: 0 for venue in ("kalshi", "polymarket")}
    seen: dict[str, tuple[str, float | None]] = {}
    for book in rt.books:
        venue = book.instrument.partition(":")[0]
        state = book.state.value
        by_state = book_counts.setdefault(venue, {})
        by_state[state] = by_state.get(state, 0) + 1
        if book.instrument in plan.instruments:
            seen[book.instrument] = (state, book.ts_recv / 1e9 if book.ts_recv else None)
        else:
            dropped[venue] = dropped.get(venue, 0) + 1
    for instrument in plan.omitted:  # followed, over the bound, no book yet
        if rt.books.get(instrument) is None:
            venue = instrument.partition(":")[0]
            dropped[venue] = dropped.get(venue, 0) + 1
    books = []
    for instrument, (venue, label) in plan.instruments.items():
        state, updated = seen.get(instrument, (BookState.AWAITING_SNAPSHOT.value, None))
        books.append({"venue": venue, "instrument": label, "state": state, "updated_s": updated})
    pairs: dict[str, float] = {}
    if rt.detector is not None:
        if rt.edges is None:
            rt.edges = PairEdges(rt.detector)
        edges = rt.edges.best(plan.pairs)
        pairs = {plan.pairs[pair]: value for pair, value in edges.items()}
    paper: dict[str, Any] = {}
    if rt.trader is not None:
        t = rt.trader
        equity = t.equity[-1][1] if t.equity else t.portfolio.total_cash()
        parts = t.pnl()
        paper = {
            "orders": len(t.orders),
            "fills": t.stats.fills,
            "pnl": (equity - sum(t.portfolio.initial_cash.values())) / 1e10,
            "pnl_parts": {
                "realized": parts.realized / 1e10,
                "locked": parts.locked / 1e10,
                "mark_to_market": parts.mark_to_market / 1e10,
            },
            "killed": 1 if t.kill.engaged else 0,
            "rejections": dict(t.stats.rejections),
            "downsized": dict(t.stats.downsized),
            "orders_done": dict(t.stats.orders_done),
        }
    return {
        "state": rt.state,
        "states": STATES,
        "feeds": feeds,
        "latency": latency,
        "books": books,
        "book_counts": book_counts,
        "books_dropped": dropped,
        "arb": arb_summary(rt),
        "pairs": pairs,
        "pairs_dropped": plan.pairs_dropped,
        "paper": paper,
    }
