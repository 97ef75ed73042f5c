"""Process metrics: the per-frame latency histogram the feeds fill, and the Prometheus exposition.

The hot path only increments plain integers (:class:`FrameLatency`); the Prometheus side reads
them when ``/metrics`` is scraped (a ``prometheus_client`` custom collector), so scraping costs
the feeds nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BOUNDS_NS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 5_000_000)
"""Histogram bucket upper bounds, ns: 1 µs … 5 ms."""


class FrameLatency:
    """A histogram of per-frame processing time (decode → normalize → books → listeners), ns."""

    __slots__ = ("counts", "sum_ns")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BOUNDS_NS) + 1)
        self.sum_ns = 0

    def observe(self, ns: int) -> None:
        """Count one frame that took ``ns``."""
        self.counts[bisect_left(LATENCY_BOUNDS_NS, ns)] += 1
        self.sum_ns += ns

    def merge(self, others: Iterable[FrameLatency]) -> FrameLatency:
        """Add ``others`` into this one; return it."""
        for other in others:
            self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
            self.sum_ns += other.sum_ns
        return self

    def quantile(self, q: float) -> float | None:
        """The upper bound (µs) of the bucket holding quantile ``q``, or ``None`` without data."""
        total = sum(self.counts)
        if not total:
            return None
        rank, seen = q * total, 0
        for bound, count in zip((*LATENCY_BOUNDS_NS, LATENCY_BOUNDS_NS[-1] * 10), self.counts, strict=True):
            seen += count
            if seen >= rank:
                return bound / 1000
        return None


Snapshot = Callable[[], dict[str, Any]]


class RuntimeCollector(Collector):
    """Exposes the runtime's counters as Prometheus metrics, read at scrape time.

    ``snapshot()`` returns ``{"feeds": {venue: {...}}, "latency": {venue: FrameLatency},
    "books": [{"instrument", "venue", "age_s", "state"}], "arb": {...}, "paper": {...}}``; a feed
    holds the counters by name, ``connected`` (connections open), ``up`` (0 while the feed is
    DOWN) and ``restarts``; ``paper`` holds ``orders``, ``fills``, ``pnl`` (USD), ``pnl_parts``
    (``{"realized", "locked", "mark_to_market"}``, USD) and ``killed``, or nothing without paper
    trading.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot()
        counters = {
            "frames": "Frames received",
            "decode_errors": "Frames that could not be decoded (kept in the dead-letter file)",
            "seq_gaps": "Sequence gaps detected",
            "resyncs": "Books re-snapshotted after losing sync",
            "reconnects": "Reconnections",
        }
        for key, text in counters.items():
            family = CounterMetricFamily(f"hadron_{key}", text, labels=["venue"])
            for venue, feed in s["feeds"].items():
                family.add_metric([venue], feed.get(key, 0))
            yield family
        connected = GaugeMetricFamily("hadron_connections_up", "Connections currently open", labels=["venue"])
        for venue, feed in s["feeds"].items():
            connected.add_metric([venue], feed.get("connected", 0))
        yield connected
        up = GaugeMetricFamily(
            "hadron_feed_up", "1 while the venue's feed runs; 0 when it failed (DOWN, restarting)", labels=["venue"]
        )
        restarts = CounterMetricFamily(
            "hadron_feed_restarts", "Times the venue's feed failed unexpectedly and was run again", labels=["venue"]
        )
        for venue, feed in s["feeds"].items():
            up.add_metric([venue], feed.get("up", 1))
            restarts.add_metric([venue], feed.get("restarts", 0))
        yield up
        yield restarts
        age = GaugeMetricFamily(
            "hadron_book_age_seconds", "Seconds since the book's last update", labels=["instrument"]
        )
        live = GaugeMetricFamily("hadron_book_live", "1 when the book is LIVE", labels=["instrument"])
        for book in s["books"]:
            age.add_metric([book["instrument"]], book["age_s"])
            live.add_metric([book["instrument"]], 1 if book["state"] == "live" else 0)
        yield age
        yield live
        hist = HistogramMetricFamily(
            "hadron_frame_latency_seconds", "Per-frame processing time (decode to books)", labels=["venue"]
        )
        for venue, latency in s["latency"].items():
            buckets, cumulative = [], 0
            for bound, count in zip(LATENCY_BOUNDS_NS, latency.counts, strict=False):
                cumulative += count
                buckets.append((repr(bound / 1e9), cumulative))
            buckets.append(("+Inf", sum(latency.counts)))
            hist.add_metric([venue], buckets, latency.sum_ns / 1e9)
        yield hist
        arb = s["arb"]
        yield CounterMetricFamily("hadron_opportunities", "Opportunities opened", value=arb.get("opportunities", 0))
        yield GaugeMetricFamily("hadron_opportunities_open", "Opportunities open now", value=arb.get("open", 0))
        paper = s["paper"]
        yield CounterMetricFamily("hadron_paper_orders", "Paper orders sent", value=paper.get("orders", 0))
        yield CounterMetricFamily("hadron_paper_fills", "Paper fills", value=paper.get("fills", 0))
        yield GaugeMetricFamily("hadron_paper_pnl_usd", "Paper P&L, USD (cash + holdings at bid − initial)",
                                value=paper.get("pnl", 0.0))  # fmt: skip
        parts = GaugeMetricFamily(
            "hadron_paper_pnl_component_usd",
            "Paper P&L in parts, USD: realized; locked (hedged sets at their $1 settlement payout − cost − fees); "
            "mark_to_market (unhedged holdings at the bid − cost)",
            labels=["component"],
        )
        for component, value in paper.get("pnl_parts", {}).items():
            parts.add_metric([component], value)
        yield parts
        yield GaugeMetricFamily("hadron_kill_switch", "1 when the kill switch is engaged", value=paper.get("killed", 0))
