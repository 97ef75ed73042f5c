"""The instrument registry: what each market is and whether it trades, from normalized events only.

Venue-free (it reads :class:`~hadron.model.events.MarketStatus`,
:class:`~hadron.model.events.TickSizeChange` and :class:`~hadron.model.events.EventStatus`, never a
venue message). Per instrument it keeps an :class:`InstrumentInfo`: state, open and close times,
result and settlement value, event and title, strike, price level structure, bands and tick;
per event an :class:`EventInfo`.

What it changes: the :class:`~hadron.book.manager.BookManager`'s trading flags
(:meth:`~hadron.book.manager.BookManager.set_trading`), so the detector and the paper trader stop
trading a market the moment its status arrives, without a look-up per evaluation:

* PAUSED, CLOSED, DETERMINED, SETTLED → the book is ``halted`` (``market_paused``,
  ``market_closed``, ``market_determined``, ``market_settled``); OPEN (an activation, or a
  ``deactivated`` with ``is_deactivated: false``) lifts a pause; CREATED and UPDATED keep the state
  (a Polymarket ``new_market`` trades at once);
* a close time (``created``, ``close_date_updated``) becomes the book's ``close_ns``: from then on
  it is not traded (Kalshi sends no message when a market closes on schedule).

Then listeners (:meth:`InstrumentRegistry.add_listener`) hear of every change: the strategy
pipeline re-evaluates the detector's candidates on that market at the event's ``ts_recv`` and
settles paper positions on a result. Times are ns since the epoch; prices 1/10,000 USD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hadron.book.manager import NEVER, BookManager
from hadron.model.events import EventStatus, MarketState, MarketStatus, PriceRange, TickSizeChange
from hadron.model.units import format_price

_HALTS = {
    MarketState.PAUSED: "market_paused",
    MarketState.CLOSED: "market_closed",
    MarketState.DETERMINED: "market_determined",
    MarketState.SETTLED: "market_settled",
}
"""States in which a market is not traded → the reason the detector and the trader count."""

_FINAL = (MarketState.DETERMINED, MarketState.SETTLED)


@dataclass(slots=True)
class InstrumentInfo:
    """One market as the registry knows it (see the module docstring for units).

    ``state`` is the last state the venue stated (UPDATED never replaces one); ``halted`` why it
    is not traded (``None``: it trades until ``close_ns``); ``updated_ns`` the ``ts_recv`` of the
    last change; ``detail`` the venue's last event name; ``changes`` how many events it took.
    """

    instrument: str
    state: MarketState = MarketState.OPEN
    halted: str | None = None
    open_ns: int | None = None
    close_ns: int | None = None
    result: str | None = None
    settlement_value: int | None = None
    event: str = ""
    title: str = ""
    strike_type: str = ""
    floor_strike: str = ""
    cap_strike: str = ""
    price_level_structure: str = ""
    price_ranges: tuple[PriceRange, ...] = ()
    tick: int = 0
    detail: str = ""
    updated_ns: int = 0
    changes: int = 0

    def status(self, now_ns: int) -> str:
        """The market's status at ``now_ns``: ``closed`` once its close time passed while it was
        open (or paused), else its state (``open``, ``paused``, ``determined``, ``settled``, …)."""
        if self.state not in _FINAL and self.close_ns is not None and now_ns >= self.close_ns:
            return MarketState.CLOSED.value
        return self.state.value

    def trading(self, now_ns: int) -> bool:
        """True when the market can be traded at ``now_ns`` (not halted, not past its close)."""
        return self.halted is None and (self.close_ns is None or now_ns < self.close_ns)

    def to_json(self, now_ns: int) -> dict[str, Any]:
        """A JSON-ready view: times in ns, prices as dollar strings (the dashboard, ``/state``)."""
        return {
            "instrument": self.instrument,
            "status": self.status(now_ns),
            "trading": self.trading(now_ns),
            "halted": self.halted,
            "open_ns": self.open_ns,
            "close_ns": self.close_ns,
            "result": self.result,
            "settlement_value": None if self.settlement_value is None else format_price(self.settlement_value),
            "event": self.event,
            "title": self.title,
            "strike": {"type": self.strike_type, "floor": self.floor_strike, "cap": self.cap_strike},
            "price_level_structure": self.price_level_structure,
            "tick": format_price(self.tick) if self.tick else None,
            "detail": self.detail,
            "updated_ns": self.updated_ns,
        }


@dataclass(slots=True)
class EventInfo:
    """One event (a group of markets) as the registry knows it (:class:`EventStatus`)."""

    event: str
    title: str = ""
    subtitle: str = ""
    series: str = ""
    collateral_return_type: str = ""
    strike_ns: int | None = None
    strike_period: str = ""
    updated_ns: int = 0


RegistryListener = Callable[[InstrumentInfo, MarketStatus | TickSizeChange], None]
"""``listener(info, event)``: ``info`` (already updated) changed because of ``event``."""


@dataclass(slots=True)
class RegistryStats:
    """Counts: events taken by kind, halts set, trading resumed, tick changes."""

    by_kind: dict[str, int] = field(default_factory=dict)
    halts: int = 0
    resumed: int = 0
    tick_changes: int = 0


class InstrumentRegistry:
    """Instrument id → :class:`InstrumentInfo`, event id → :class:`EventInfo` (module docstring).

    Args:
        books: whose trading flags it sets (``None``: it only keeps the registry).
    """

    def __init__(self, books: BookManager | None = None) -> None:
        self.books = books
        self.instruments: dict[str, InstrumentInfo] = {}
        self.events: dict[str, EventInfo] = {}
        self.stats = RegistryStats()
        self._listeners: list[RegistryListener] = []

    def add_listener(self, listener: RegistryListener) -> None:
        """Call ``listener(info, event)`` after every market status or tick change is applied."""
        self._listeners.append(listener)

    def get(self, instrument: str) -> InstrumentInfo | None:
        """The instrument's info, or ``None`` when no event named it."""
        return self.instruments.get(instrument)

    def on_event(self, event: object) -> bool:
        """Apply ``event`` if it is a registry event; return whether it was one (others are ignored)."""
        kind = type(event)
        if kind is MarketStatus:
            self.apply_status(event)  # type: ignore[arg-type]
        elif kind is TickSizeChange:
            self.apply_tick(event)  # type: ignore[arg-type]
        elif kind is EventStatus:
            self.apply_event_status(event)  # type: ignore[arg-type]
        else:
            return False
        return True

    def _info(self, instrument: str) -> InstrumentInfo:
        info = self.instruments.get(instrument)
        if info is None:
            info = self.instruments[instrument] = InstrumentInfo(instrument)
        return info

    def _count(self, kind: str) -> None:
        self.stats.by_kind[kind] = self.stats.by_kind.get(kind, 0) + 1

    def apply_status(self, status: MarketStatus) -> InstrumentInfo:
        """Update the market of ``status`` and its book's trading flags; tell the listeners."""
        self._count("market_status")
        info = self._info(status.instrument)
        was = info.halted, info.close_ns
        state = status.state
        if info.state in _FINAL and state not in _FINAL:
            state = MarketState.UPDATED  # a determined or settled market never trades again
        if state is not MarketState.UPDATED and not (state is MarketState.CREATED and info.changes):
            info.state = state
        if state in _HALTS:
            info.halted = _HALTS[state]
        elif state is MarketState.OPEN:
            info.halted = None
        info.open_ns = status.open_ns if status.open_ns is not None else info.open_ns
        info.close_ns = status.close_ns if status.close_ns is not None else info.close_ns
        if status.result is not None:
            info.result = status.result
        if status.settlement_value is not None:
            info.settlement_value = status.settlement_value
        info.event = status.event or info.event
        info.title = status.title or info.title
        info.strike_type = status.strike_type or info.strike_type
        info.floor_strike = status.floor_strike or info.floor_strike
        info.cap_strike = status.cap_strike or info.cap_strike
        info.price_level_structure = status.price_level_structure or info.price_level_structure
        if status.price_ranges:
            info.price_ranges = status.price_ranges
        if status.tick and status.tick != info.tick:
            if info.tick:
                self.stats.tick_changes += 1
            info.tick = status.tick
        info.detail = status.detail
        info.updated_ns = status.ts_recv
        info.changes += 1
        self._flags(info, was)
        for listener in self._listeners:
            listener(info, status)
        return info

    def apply_tick(self, change: TickSizeChange) -> InstrumentInfo:
        """Record the instrument's new tick (the book manager re-snapshots the book itself)."""
        self._count("tick_size_change")
        info = self._info(change.instrument)
        info.tick = change.new_tick
        info.detail = "tick_size_change"
        info.updated_ns = change.ts_recv
        info.changes += 1
        self.stats.tick_changes += 1
        for listener in self._listeners:
            listener(info, change)
        return info

    def apply_event_status(self, status: EventStatus) -> EventInfo:
        """Record an event's title, series and strike date."""
        self._count("event_status")
        info = self.events.get(status.instrument)
        if info is None:
            info = self.events[status.instrument] = EventInfo(status.instrument)
        info.title = status.title or info.title
        info.subtitle = status.subtitle or info.subtitle
        info.series = status.series or info.series
        info.collateral_return_type = status.collateral_return_type or info.collateral_return_type
        info.strike_ns = status.strike_ns if status.strike_ns is not None else info.strike_ns
        info.strike_period = status.strike_period or info.strike_period
        info.updated_ns = status.ts_recv
        return info

    def _flags(self, info: InstrumentInfo, was: tuple[str | None, int | None]) -> None:
        if (info.halted, info.close_ns) == was:
            return
        if info.halted is not None and was[0] is None:
            self.stats.halts += 1
        elif info.halted is None and was[0] is not None:
            self.stats.resumed += 1
        if self.books is not None:
            self.books.set_trading(info.instrument, info.halted, info.close_ns)

    def snapshot(self, now_ns: int, instruments: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """``{instrument: InstrumentInfo.to_json(now_ns)}``, for ``instruments`` (those known) or all."""
        names = self.instruments if instruments is None else [i for i in instruments if i in self.instruments]
        return {name: self.instruments[name].to_json(now_ns) for name in names}

    def summary(self) -> dict[str, Any]:
        """Counts for reports: instruments and events known, by status (at the last update), events
        taken by kind, halts and resumptions, tick changes."""
        by_state: dict[str, int] = {}
        last = max((i.updated_ns for i in self.instruments.values()), default=0)
        for info in self.instruments.values():
            status = info.status(last)
            by_state[status] = by_state.get(status, 0) + 1
        return {
            "instruments": len(self.instruments),
            "events": len(self.events),
            "by_status": dict(sorted(by_state.items())),
            "taken": dict(sorted(self.stats.by_kind.items())),
            "halts": self.stats.halts,
            "resumed": self.stats.resumed,
            "tick_changes": self.stats.tick_changes,
        }


__all__ = ["NEVER", "EventInfo", "InstrumentInfo", "InstrumentRegistry", "RegistryListener", "RegistryStats"]
