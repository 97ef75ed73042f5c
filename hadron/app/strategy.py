"""The strategy role's consumer: envelopes from the bus into books, de-duplicated and accounted.

:class:`Strategy` drops any envelope whose ``(source, seq)`` it has already applied, applies book
events to its own :class:`~hadron.book.BookManager`, counts events per source and kind, detects
gaps and duplicates per source (:class:`~hadron.app.sequence.SeqTracker`) and calls its
:attr:`Strategy.on_event` hooks, where arbitrage detection and paper trading plug in;
:func:`consume` subscribes it to a bus. :class:`TopPath` digests each instrument's top-of-book
path, to compare two processes' books.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import structlog

from hadron.app.replay import dump_books
from hadron.app.sequence import SeqTracker
from hadron.book.manager import BookManager
from hadron.bus import EVENT_KINDS, Envelope, EventBus
from hadron.errors import BookError
from hadron.model.events import (
    BookDelta,
    BookInvalidated,
    BookSnapshot,
    BusEvent,
    OpportunityUpdate,
    TickSizeChange,
    TopOfBook,
)

log = structlog.get_logger("hadron.roles")


class TopPath:
    """Digests of each instrument's top-of-book path: feed it :class:`TopOfBook` events (it is a
    :meth:`BookManager.add_top_listener` listener) and compare :meth:`report` between processes.

    Only prices and sizes enter the digest (clocks differ between a live run and a replay).
    """

    def __init__(self) -> None:
        self._digests: dict[str, Any] = {}
        self._changes: dict[str, int] = {}

    def on_top(self, top: TopOfBook) -> None:
        """Add one top of book to its instrument's path."""
        digest = self._digests.get(top.instrument)
        if digest is None:
            digest = self._digests[top.instrument] = hashlib.blake2b(digest_size=16)
            self._changes[top.instrument] = 0
        digest.update(f"{top.bid_price},{top.bid_size},{top.ask_price},{top.ask_size};".encode())
        self._changes[top.instrument] += 1

    def report(self) -> dict[str, dict[str, Any]]:
        """``{instrument: {"changes": int, "digest": hex str}}``, sorted by instrument."""
        return {
            inst: {"changes": self._changes[inst], "digest": self._digests[inst].hexdigest()}
            for inst in sorted(self._digests)
        }


StrategyHook = Callable[[Envelope, BookManager], None]
"""Called with every new envelope after its book event was applied: ``(envelope, books)``."""


class Strategy:
    """Consumes envelopes: de-duplicates by ``(source, seq)``, keeps books, counts, calls hooks.

    Args:
        on_event: hooks called, in order, with every envelope applied for the first time and the
            book manager; arbitrage detection and paper trading plug in here. A hook that raises
            is logged and counted in ``hook_errors``; the envelope still counts as handled.
    """

    def __init__(self, on_event: Sequence[StrategyHook] = ()) -> None:
        self.books = BookManager()
        self.on_event: list[StrategyHook] = list(on_event)
        self.sources: dict[str, SeqTracker] = {}
        self.by_source_kind: dict[str, dict[str, int]] = {}
        self.by_kind: dict[str, int] = {}
        self.received = 0
        self.book_errors = 0
        self.hook_errors = 0
        self.last_activity = time.monotonic()
        self.started = time.monotonic()
        self._tokens: dict[str, str] = {}
        self.tops = TopPath()
        self.books.add_top_listener(self.tops.on_top)
        self.lags_ns: collections.deque[int] = collections.deque(maxlen=4096)
        """Receive (at the venue's feed) to handled here, ns, of one event in 64."""

    def handle(self, envelope: Envelope) -> None:
        """Apply one envelope (the bus handler). Never raises."""
        self.received += 1
        self.last_activity = time.monotonic()
        source = envelope.source
        tracker = self.sources.get(source)
        if tracker is None:
            tracker = self.sources[source] = SeqTracker()
            self._tokens[source] = source
            self.by_source_kind[source] = {}
        if not tracker.see(envelope.seq):
            return
        event = envelope.event
        if not self.received & 63:
            lag = time.time_ns() - event.ts_recv
            if 0 <= lag < 3_600 * 10**9:
                self.lags_ns.append(lag)
        kind = EVENT_KINDS[type(event)]
        counts = self.by_source_kind[source]
        counts[kind] = counts.get(kind, 0) + 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        self._apply(event, self._tokens[source])
        for hook in self.on_event:
            try:
                hook(envelope, self.books)
            except Exception as exc:
                self.hook_errors += 1
                log.exception("strategy hook failed", hook=getattr(hook, "__name__", repr(hook)), error=str(exc))

    def _apply(self, event: BusEvent, token: str) -> None:
        try:
            if type(event) is BookDelta:
                self.books.apply_delta(event, token)
            elif type(event) is BookSnapshot:
                self.books.apply_snapshot(event, token)
            elif type(event) is TickSizeChange:
                self.books.apply_tick_size_change(event)
            elif type(event) is BookInvalidated:
                self.books.invalidate(event.instrument, f"upstream: {event.reason}")
        except BookError as exc:
            self.book_errors += 1
            log.warning("book event rejected", instrument=event.instrument, error=str(exc))

    def dump_books(self) -> dict[str, dict[str, list[list[str]]]]:
        """Every book that was ever LIVE, in the format of :meth:`Replay.dump_books`."""
        return dump_books(self.books)

    def report(self) -> dict[str, Any]:
        """The strategy report: counts, per-source seq accounting, books and integrity."""
        elapsed = time.monotonic() - self.started
        stats = self.books.stats.as_dict()
        stats.pop("examples")
        unique = sum(t.unique for t in self.sources.values())
        return {
            "role": "strategy",
            "events": unique,
            "received": self.received,
            "duplicates": sum(t.duplicates for t in self.sources.values()),
            "gaps": sum(t.gaps for t in self.sources.values()),
            "missing": sum(t.missing for t in self.sources.values()),
            "by_kind": dict(sorted(self.by_kind.items())),
            "sources": {
                source: {
                    "events": t.unique,
                    "received": t.received,
                    "duplicates": t.duplicates,
                    "gaps": t.gaps,
                    "missing": t.missing,
                    "first_seq": t.first_seq,
                    "last_seq": t.max_seq,
                    "seqs": t.ranges(),
                    "by_kind": dict(sorted(self.by_source_kind[source].items())),
                }
                for source, t in sorted(self.sources.items())
            },
            "books": self.dump_books(),
            "books_by_state": self.books.states(),
            "book_states": {b.instrument: b.state.value for b in sorted(self.books, key=lambda b: b.instrument)},
            "tops": self.tops.report(),
            "book_integrity": stats,
            "book_errors": self.book_errors,
            "hook_errors": self.hook_errors,
            "elapsed_s": round(elapsed, 3),
            "events_per_s": round(unique / elapsed) if elapsed > 0 else 0,
            "lag_ms": _quantiles(self.lags_ns),
        }


def _quantiles(values: Iterable[int]) -> dict[str, float] | None:
    # p50/p99/max of ns values, in ms
    ordered = sorted(values)
    if not ordered:
        return None
    return {
        "p50": round(ordered[len(ordered) // 2] / 1e6, 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6, 3),
        "max": round(ordered[-1] / 1e6, 3),
    }


def market_handler(strategy: Strategy) -> Callable[[Envelope], None]:
    """``strategy.handle`` for every envelope but ``opportunity`` events (which strategies, this
    one included, publish on the same bus: a strategy never reads its own echoes as input)."""

    def handle(envelope: Envelope) -> None:
        if type(envelope.event) is not OpportunityUpdate:
            strategy.handle(envelope)

    return handle


async def consume(
    bus: EventBus,
    strategy: Strategy,
    *,
    durable: str | None = None,
    subjects: str = ">",
    until_idle: float | None = None,
    stop: asyncio.Event | None = None,
    market_only: bool = False,
) -> str:
    """Feed ``strategy`` from ``bus`` until told to stop; return why it stopped.

    Args:
        bus: where envelopes come from.
        strategy: what handles them.
        durable: durable subscription name (resume after restart); ``None``: from now on.
        subjects: subject filter relative to the bus prefix.
        until_idle: stop after this many seconds without an envelope (``None``: never).
        stop: stop when set (signals).
        market_only: skip the ``opportunity`` events other strategies (and this one) publish.

    Returns:
        ``"idle"`` or ``"signal"``.

    Raises:
        ConfigError: a bad durable name or filter.
        BusError: the bus refused the subscription.
    """
    stop = stop or asyncio.Event()
    strategy.last_activity = time.monotonic()
    handle = market_handler(strategy) if market_only else strategy.handle
    sub = await bus.subscribe(handle, durable=durable, subjects=subjects)
    try:
        while True:
            if stop.is_set():
                return "signal"
            if until_idle is not None and time.monotonic() - strategy.last_activity >= until_idle:
                return "idle"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
    finally:
        await sub.close()
