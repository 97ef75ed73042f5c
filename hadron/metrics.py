"""Process metrics: the per-frame latency histogram the feeds fill, and the Prometheus exposition.

The hot path only increments plain integers (:class:`FrameLatency`, the feeds' and the detector's
counters); the Prometheus side reads them when ``/metrics`` is scraped (``prometheus_client``
custom collectors, see :func:`build_registry`), so scraping costs the feeds nothing. Every metric,
its labels and the bound on their number are listed in ``docs/METRICS.md``.

Label values stay short and bounded: ``venue`` is a registered venue name (``kalshi``,
``polymarket``); ``instrument`` is a Kalshi market ticker, or for a Polymarket token the label of
the pair it belongs to with ``/yes`` or ``/no`` (see :func:`plan_series`), never a 77-digit token
id; per-instrument and
per-pair series exist for at most ``runtime.metrics_max_instruments`` instruments and pairs (the
rest are counted in ``hadron_book_series_dropped`` and ``hadron_pair_series_dropped``).
"""

from __future__ import annotations

import platform
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from hadron.book.manager import BookState
from hadron.errors import BAD_VALUE_REASONS

if TYPE_CHECKING:
    from hadron.venues.base import DeadLetterSink

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


# -- label values ---------------------------------------------------------------------------------

MAX_INSTRUMENTS = 500
"""Default ``runtime.metrics_max_instruments``: instruments (and pairs) with their own series."""

TOKEN_DIGITS = 12
"""A Polymarket token id (up to 78 digits) in a label value: its first 12 digits."""

CONDITION_CHARS = 10
"""A Polymarket condition id (``0x`` + 64 hex digits) in a label value: its first 10 characters."""

_LONG_HEX = re.compile(r"0x[0-9a-fA-F]{12,}")
_LONG_DIGITS = re.compile(r"[0-9]{20,}")


def short_id(text: str) -> str:
    """``text`` with the long Polymarket ids in it cut: a ``0x`` hex id of 12 or more hex digits
    (a condition id) to its first :data:`CONDITION_CHARS` characters, a run of 20 or more digits (a
    token id) to its first :data:`TOKEN_DIGITS`; anything else is left as it is."""
    text = _LONG_HEX.sub(lambda m: m.group()[:CONDITION_CHARS], text)
    return _LONG_DIGITS.sub(lambda m: m.group()[:TOKEN_DIGITS], text)


def _unique(labels: dict[str, tuple[str, str]]) -> dict[str, str]:
    # key → its short label, or its full label where two keys' short labels are the same
    counts = Counter(short for short, _ in labels.values())
    return {key: short if counts[short] == 1 else full for key, (short, full) in labels.items()}


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    """Which instruments and pairs get series of their own, and their label values.

    Attributes:
        instruments: instrument id → ``(venue, label)``, at most ``max_instruments`` of them.
        pairs: pair id → label, at most ``max_instruments`` of them.
        omitted: instruments followed but over the bound (no series of their own).
        pairs_dropped: pairs over the bound.
        max_instruments: the bound.
    """

    instruments: dict[str, tuple[str, str]] = field(default_factory=dict)
    pairs: dict[str, str] = field(default_factory=dict)
    omitted: tuple[str, ...] = ()
    pairs_dropped: int = 0
    max_instruments: int = MAX_INSTRUMENTS


def plan_series(
    pairs: Iterable[Any],
    outcome_sets: Iterable[Any] = (),
    *,
    streamed: Container[str] | None = None,
    max_instruments: int = MAX_INSTRUMENTS,
) -> SeriesPlan:
    """The :class:`SeriesPlan` of a run trading ``pairs`` (:class:`~hadron.match.pairs.Pair`, only
    the tradeable ones count) and ``outcome_sets`` (:class:`~hadron.arb.terms.OutcomeSet`).

    Instruments, in order: each tradeable pair's (by pair id) legs' books (a Kalshi market, a
    Polymarket YES token and NO token), then each outcome set's tokens (by set id); only those in ``streamed`` (the
    instrument ids this process streams; ``None``: all of them); the first ``max_instruments``
    get series. Labels: a pair's, its id with long Polymarket ids cut (:func:`short_id`); a Kalshi
    market's, its ticker; a Polymarket token's, ``<pair label>/yes`` or ``<pair label>/no`` (the
    pair's ``polymarket_yes_token`` / ``polymarket_no_token``, which pay when the Kalshi market
    resolves YES / NO), or, for a token in no pair, its first :data:`TOKEN_DIGITS` digits. A label
    two ids would share is replaced by the full id for both.
    """
    bound = max(0, max_instruments)
    tradeable = sorted((p for p in pairs if p.tradeable), key=lambda p: p.id)
    pair_labels = _unique({p.id: (short_id(p.id), p.id) for p in tradeable})
    order: list[str] = []
    candidates: dict[str, tuple[str, str, str]] = {}  # instrument → (venue, short label, full label)

    def add(venue: str, symbol: str, short: str) -> None:
        instrument = f"{venue}:{symbol}"
        if symbol and instrument not in candidates and (streamed is None or instrument in streamed):
            candidates[instrument] = (venue, short, symbol)
            order.append(instrument)

    for pair in tradeable:
        label = pair_labels[pair.id]
        for leg in pair.legs:
            if not leg.no:  # one book per market: its ticker
                add(leg.venue, leg.yes, leg.yes)
            else:
                add(leg.venue, leg.yes, f"{label}/yes")
                add(leg.venue, leg.no, f"{label}/no")
    for outcome_set in sorted(outcome_sets, key=lambda s: s.id):
        for token in outcome_set.tokens:
            add("polymarket", token, short_id(token))
    kept, omitted = order[:bound], tuple(order[bound:])
    instruments: dict[str, tuple[str, str]] = {}
    for venue in dict.fromkeys(candidates[i][0] for i in kept):
        mine = {i: candidates[i][1:] for i in kept if candidates[i][0] == venue}
        instruments.update((i, (venue, label)) for i, label in _unique(mine).items())
    instruments = {i: instruments[i] for i in kept}
    return SeriesPlan(
        instruments=instruments,
        pairs={p.id: pair_labels[p.id] for p in tradeable[:bound]},
        omitted=omitted,
        pairs_dropped=max(0, len(tradeable) - bound),
        max_instruments=bound,
    )


# -- rejections -----------------------------------------------------------------------------------

REJECT_REASONS = ("decode", "invalid", "unsupported", "oversize", "fault", *BAD_VALUE_REASONS)
"""Why a feed rejected (dead-lettered) a frame, as ``hadron_frames_rejected_total`` counts it
(see :func:`reject_reason`)."""

SUPPRESS_REASONS = (
    "no_book", "no_snapshot", "resyncing", "stale", "crossed", "too_old",
    "market_paused", "market_closed", "market_determined", "market_settled", "fee_unpriced",
)  # fmt: skip
"""Why the detector suppressed a qualifying candidate (``ArbDetector.suppressed``: a leg's book
missing, never LIVE, re-syncing, STALE, crossed, or older than ``max_age_s``; its market paused,
closed (by the venue or past its close time), determined or settled: :mod:`hadron.book.registry`;
a leg's fee rule Hadron cannot price: ``fee_unpriced``, :mod:`hadron.arb.fees`)."""

RISK_REASONS = (
    "kill_switch",
    "daily_loss_limit",
    "stale_data",
    "max_open_pairs",
    "max_leg_imbalance",
    "max_notional_pair",
    "max_notional_market",
    "max_notional_venue",
    "insufficient_cash",
    "below_minimum",
)
"""Why the paper trader's risk manager refused an opportunity (:meth:`RiskManager.allowed_size`;
``below_minimum``: what the limits left was under one lot)."""

DOWNSIZE_REASONS = ("max_notional_pair", "max_notional_market", "max_notional_venue", "insufficient_cash")
"""The limits that can shrink a paper trade (and not refuse it whole)."""

ORDER_STATUSES = ("filled", "partially_filled", "cancelled", "rejected")
"""How a paper order ends (:class:`~hadron.paper.orders.PaperOrder` ``status``)."""


def reject_reason(error: str) -> str:
    """The class of a feed's rejection ``error`` (the text it dead-letters), one of
    :data:`REJECT_REASONS`: a bad value the book manager refused (``negative_size``, ``zero_size``,
    ``price_range``, ``off_tick``, ``bad_tick``); ``decode`` (not valid JSON, or not the message's
    shape); ``fault`` (an unexpected exception while handling it, nesting past the decoder's
    limit); ``oversize`` (over the connection's frame limit); ``unsupported`` (a message or REST
    request the stream does not handle); ``invalid`` (decoded, but a field the normalizer refused)."""
    if error.endswith(")"):
        for reason in BAD_VALUE_REASONS:
            if error.endswith(f"({reason})"):
                return reason
    if error.startswith("decode"):
        return "decode"
    if "unexpected " in error or "RecursionError" in error:
        return "fault"
    if error.startswith("frame over the"):
        return "oversize"
    if error.startswith(("no REST replay", "unsupported", "unknown text frame")):
        return "unsupported"
    return "invalid"


class CountingDeadLetter:
    """A dead-letter sink that counts the frames it passes on to ``sink`` by :func:`reject_reason`
    (one venue's; the runtime gives each feed its own). Only rejected frames pass here: off the
    hot path."""

    def __init__(self, sink: DeadLetterSink) -> None:
        self.sink = sink
        self.by_reason: dict[str, int] = {}

    def write(self, raw: bytes, error: str, conn: str) -> None:
        """Count ``error``'s reason, then keep the frame in ``sink``."""
        reason = reject_reason(error)
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        self.sink.write(raw, error, conn)


# -- the collectors -------------------------------------------------------------------------------

Snapshot = Callable[[], dict[str, Any]]

BOOK_STATES = tuple(state.value for state in BookState)
"""The states ``hadron_book_state`` enumerates: ``live``, ``awaiting_snapshot``, ``stale``."""

_FEED_COUNTERS = {
    "frames": ("hadron_frames", "Frames received"),
    "decode_errors": ("hadron_decode_errors", "Frames that could not be used (kept in the dead-letter file)"),
    "seq_gaps": ("hadron_seq_gaps", "Sequence gaps detected"),
    "resyncs": ("hadron_resyncs", "Books the feed asked to re-sync after losing sync"),
    "reconnects": ("hadron_reconnects", "Reconnections"),
}
_DROPS = {"duplicate": "seq_duplicates", "stale": "stale_frames"}


def _by_reason(family: CounterMetricFamily | GaugeMetricFamily, prefix: Sequence[str], known: Iterable[str],
               counts: dict[str, int]) -> None:  # fmt: skip
    # One sample per known reason (0 until it happens), then any other reason seen
    for reason in dict.fromkeys([*known, *sorted(counts)]):
        family.add_metric([*prefix, reason], counts.get(reason, 0))


def _state_enum(states: Sequence[str], current: str) -> Iterator[tuple[str, int]]:
    return ((state, 1 if state == current else 0) for state in states)


class RuntimeCollector(Collector):
    """Exposes the runtime's counters as Prometheus metrics, read at scrape time (``docs/METRICS.md``).

    ``snapshot()`` returns a dict (every key optional; :meth:`Runtime.metrics_snapshot
    <hadron.app.runtime.Runtime.metrics_snapshot>` fills them all):

    * ``state``/``states``: the runtime's lifecycle state and the possible ones;
    * ``feeds``: ``{venue: {...}}``, the feed counters by name (``frames``, ``decode_errors``,
      ``seq_gaps``, ``resyncs``, ``reconnects``, ``seq_duplicates``, ``stale_frames``),
      ``connected`` (connections open), ``up`` (0 while the feed is DOWN), ``restarts`` and
      ``rejected`` (``{reason: frames}``, see :func:`reject_reason`);
    * ``latency``: ``{venue: FrameLatency}``;
    * ``books``: ``[{"venue", "instrument" (the label), "state", "updated_s"}]``, the books with
      series of their own (``updated_s``: Unix seconds of the last update, ``None`` before any);
      ``book_counts``: ``{venue: {state: books}}`` over every book; ``books_dropped``:
      ``{venue: books without series of their own}``; ``book_states``: the possible states;
    * ``arb``: the detector's ``opportunities``, ``open``, ``evaluations`` and ``suppressed``
      (``{reason: n}``); ``pairs``: ``{pair label: best net edge, USD per contract}``;
      ``pairs_dropped``: pairs without series of their own;
    * ``paper``: ``orders``, ``fills``, ``pnl`` (USD), ``pnl_parts`` (``{"realized", "locked",
      "mark_to_market"}``, USD), ``killed``, ``rejections`` and ``downsized`` (``{reason: n}``)
      and ``orders_done`` (``{status: n}``), or nothing without paper trading.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot()
        if s.get("states"):
            state = GaugeMetricFamily(
                "hadron_runtime_state", "The runtime's lifecycle state: 1 for the current one", labels=["state"]
            )
            for name, value in _state_enum(s["states"], s.get("state", "")):
                state.add_metric([name], value)
            yield state
        yield from self._feeds(s.get("feeds", {}), s.get("latency", {}))
        yield from self._books(s)
        yield from self._arb(s)
        yield from self._paper(s.get("paper", {}))

    def _feeds(self, feeds: dict[str, Any], latencies: dict[str, FrameLatency]) -> Iterator[Metric]:
        for key, (name, text) in _FEED_COUNTERS.items():
            family = CounterMetricFamily(name, text, labels=["venue"])
            for venue, feed in feeds.items():
                family.add_metric([venue], feed.get(key, 0))
            yield family
        rejected = CounterMetricFamily(
            "hadron_frames_rejected",
            "Frames rejected and dead-lettered, by reason (decode, invalid, unsupported, oversize, fault, or "
            "the bad value the book manager refused)",
            labels=["venue", "reason"],
        )
        dropped = CounterMetricFamily(
            "hadron_frames_dropped",
            "Frames dropped without being dead-lettered, by reason (duplicate: a sequence number seen already; "
            "stale: older than what the book holds)",
            labels=["venue", "reason"],
        )
        connected = GaugeMetricFamily("hadron_connections_open", "Connections currently open", labels=["venue"])
        up = GaugeMetricFamily(
            "hadron_feed_up", "1 while the venue's feed runs; 0 when it failed (DOWN, restarting)", labels=["venue"]
        )
        restarts = CounterMetricFamily(
            "hadron_feed_restarts", "Times the venue's feed failed unexpectedly and was run again", labels=["venue"]
        )
        for venue, feed in feeds.items():
            _by_reason(rejected, [venue], REJECT_REASONS, feed.get("rejected", {}))
            for reason, key in _DROPS.items():
                dropped.add_metric([venue, reason], feed.get(key, 0))
            connected.add_metric([venue], feed.get("connected", 0))
            up.add_metric([venue], feed.get("up", 1))
            restarts.add_metric([venue], feed.get("restarts", 0))
        yield from (rejected, dropped, connected, up, restarts)
        hist = HistogramMetricFamily(
            "hadron_frame_latency_seconds", "Per-frame processing time (decode to books)", labels=["venue"]
        )
        for venue, latency in latencies.items():
            buckets, cumulative = [], 0
            for bound, count in zip(LATENCY_BOUNDS_NS, latency.counts, strict=False):
                cumulative += count
                buckets.append((repr(bound / 1e9), cumulative))
            buckets.append(("+Inf", sum(latency.counts)))
            hist.add_metric([venue], buckets, latency.sum_ns / 1e9)
        yield hist

    def _books(self, s: dict[str, Any]) -> Iterator[Metric]:
        states: Sequence[str] = s.get("book_states") or BOOK_STATES
        counts = GaugeMetricFamily(
            "hadron_books", "Books held, by venue and state (every book, with or without series of its own)",
            labels=["venue", "state"],
        )  # fmt: skip
        for venue, by_state in s.get("book_counts", {}).items():
            for state in dict.fromkeys([*states, *sorted(by_state)]):
                counts.add_metric([venue, state], by_state.get(state, 0))
        yield counts
        state_family = GaugeMetricFamily(
            "hadron_book_state",
            "The book's integrity state: 1 for the current state, 0 for the others (live, awaiting_snapshot, stale)",
            labels=["venue", "instrument", "state"],
        )
        updated = GaugeMetricFamily(
            "hadron_book_last_update_timestamp_seconds",
            "When the book last changed: Unix time of the update's receipt (absent before the first one)",
            labels=["venue", "instrument"],
        )
        for book in s.get("books", []):
            labels = [book["venue"], book["instrument"]]
            for state, value in _state_enum(states, book["state"]):
                state_family.add_metric([*labels, state], value)
            if book.get("updated_s"):
                updated.add_metric(labels, book["updated_s"])
        yield state_family
        yield updated
        dropped = GaugeMetricFamily(
            "hadron_book_series_dropped",
            "Books (or instruments followed) without series of their own: not in an approved pair or outcome "
            "set, or over runtime.metrics_max_instruments; counted in hadron_books",
            labels=["venue"],
        )
        for venue, n in s.get("books_dropped", {}).items():
            dropped.add_metric([venue], n)
        yield dropped

    def _arb(self, s: dict[str, Any]) -> Iterator[Metric]:
        arb = s.get("arb", {})
        yield CounterMetricFamily("hadron_opportunities", "Opportunities opened", value=arb.get("opportunities", 0))
        yield GaugeMetricFamily("hadron_opportunities_open", "Opportunities open now", value=arb.get("open", 0))
        yield CounterMetricFamily(
            "hadron_opportunity_evaluations", "Candidate evaluations the detector ran", value=arb.get("evaluations", 0)
        )
        suppressed = CounterMetricFamily(
            "hadron_opportunities_suppressed",
            "Evaluations that qualified but were not reported because a leg's book was not trusted, by reason",
            labels=["reason"],
        )
        _by_reason(suppressed, [], SUPPRESS_REASONS, dict(arb.get("suppressed", {})))
        yield suppressed
        edge = GaugeMetricFamily(
            "hadron_pair_best_net_edge_usd",
            "The pair's best cross-venue net edge now, USD per contract, fees included: the open opportunity's, "
            "else the first lot's at the top of the LIVE books (negative: no edge)",
            labels=["pair"],
        )
        for pair, value in s.get("pairs", {}).items():
            edge.add_metric([pair], value)
        yield edge
        yield GaugeMetricFamily(
            "hadron_pair_series_dropped",
            "Approved pairs without series of their own (over runtime.metrics_max_instruments)",
            value=s.get("pairs_dropped", 0),
        )

    def _paper(self, paper: dict[str, Any]) -> Iterator[Metric]:
        yield CounterMetricFamily("hadron_paper_orders", "Paper orders sent", value=paper.get("orders", 0))
        yield CounterMetricFamily("hadron_paper_fills", "Paper fills", value=paper.get("fills", 0))
        yield GaugeMetricFamily("hadron_paper_pnl_usd", "Paper P&L, USD (cash + holdings at bid - initial)",
                                value=paper.get("pnl", 0.0))  # fmt: skip
        parts = GaugeMetricFamily(
            "hadron_paper_pnl_component_usd",
            "Paper P&L in parts, USD: realized; locked (hedged sets at their $1 settlement payout - cost - fees); "
            "mark_to_market (unhedged holdings at the bid - cost)",
            labels=["component"],
        )
        for component, value in paper.get("pnl_parts", {}).items():
            parts.add_metric([component], value)
        yield parts
        yield GaugeMetricFamily("hadron_kill_switch", "1 when the kill switch is engaged", value=paper.get("killed", 0))
        if not paper:
            return
        rejected = CounterMetricFamily(
            "hadron_opportunities_rejected",
            "Opportunities the paper trader's risk manager refused to trade, by reason (the limit that refused)",
            labels=["reason"],
        )
        _by_reason(rejected, [], RISK_REASONS, paper.get("rejections", {}))
        yield rejected
        downsized = CounterMetricFamily(
            "hadron_paper_trades_downsized",
            "Paper trades placed smaller than the opportunity, by the limit that shrank them",
            labels=["reason"],
        )
        _by_reason(downsized, [], DOWNSIZE_REASONS, paper.get("downsized", {}))
        yield downsized
        done = CounterMetricFamily(
            "hadron_paper_orders_done",
            "Paper orders finished, by status (rejected: its book was not LIVE when it arrived)",
            labels=["status"],
        )
        _by_reason(done, [], ORDER_STATUSES, paper.get("orders_done", {}))
        yield done


def build_labels() -> dict[str, str]:
    """``hadron_build_info``'s labels: ``version`` (:data:`hadron.__version__`), ``python``
    (``3.11.9``), ``implementation`` (``CPython``), ``build`` (``compiled``: every hot module is
    the Cython build; ``pure``: none is; ``partial``) and ``compiled_modules`` (``9/9``)."""
    from hadron._version import __version__
    from hadron.accel import compiled

    flags = compiled()
    count = sum(flags.values())
    build = "pure" if not count else "compiled" if count == len(flags) else "partial"
    return {
        "version": __version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": build,
        "compiled_modules": f"{count}/{len(flags)}",
    }


class BuildInfoCollector(Collector):
    """``hadron_build_info{version, python, implementation, build, compiled_modules} 1`` (read once)."""

    def __init__(self) -> None:
        self._labels: dict[str, str] | None = None

    def collect(self) -> Iterator[Metric]:
        if self._labels is None:
            self._labels = build_labels()
        info = InfoMetricFamily("hadron_build", "Hadron's version, Python and build (compiled hot modules or pure)")
        info.add_metric([], self._labels)
        yield info


def build_registry(snapshot: Snapshot) -> CollectorRegistry:
    """A registry for ``/metrics``: :class:`RuntimeCollector` on ``snapshot``, ``hadron_build_info``
    and prometheus_client's process (``process_*``: CPU, memory, file descriptors, start time;
    Linux), platform (``python_info``) and garbage-collector (``python_gc_*``) collectors."""
    registry = CollectorRegistry()
    registry.register(RuntimeCollector(snapshot))
    registry.register(BuildInfoCollector())
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
