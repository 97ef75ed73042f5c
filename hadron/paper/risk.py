"""The risk manager in front of every paper order, and the kill switch.

Every decision returns a reason when it refuses (or shrinks) an order; reasons are counted by the
trader and shown in its summary. The kill switch is engaged by code (:meth:`KillSwitch.engage`),
the CLI (``hadron paper kill``), the HTTP control endpoint (:mod:`hadron.paper.control`) or a
file (``[risk] kill_file``): engaging cancels every working order and blocks new ones until it is
released (and the file removed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hadron.paper.config import RiskLimits

KillListener = Callable[[str], None]


class KillSwitch:
    """Engaged or not, with the reason; listeners run once when it engages.

    Args:
        file: while this file exists the switch is engaged (checked by :meth:`check`).
    """

    def __init__(self, file: Path | None = None) -> None:
        self.file = file
        self.engaged = False
        self.reason = ""
        self.engaged_count = 0
        self._listeners: list[KillListener] = []

    def add_listener(self, listener: KillListener) -> None:
        """Call ``listener(reason)`` whenever the switch engages."""
        self._listeners.append(listener)

    def engage(self, reason: str) -> None:
        """Engage (idempotent): block new orders and cancel working ones."""
        if self.engaged:
            return
        self.engaged = True
        self.reason = reason
        self.engaged_count += 1
        for listener in self._listeners:
            listener(reason)

    def release(self) -> None:
        """Release the switch (the kill file, if any, must be gone too, or it re-engages)."""
        self.engaged = False
        self.reason = ""

    def check(self) -> bool:
        """Engage if the kill file exists; return whether the switch is engaged."""
        if not self.engaged and self.file is not None and os.path.exists(self.file):
            self.engage(f"kill file {self.file} exists")
        return self.engaged


@dataclass(slots=True)
class Exposure:
    """What is at risk now, money units: cost basis held plus orders in flight."""

    pair: int = 0
    by_instrument: dict[str, int] | None = None
    by_venue: dict[str, int] | None = None
    open_pairs: int = 0
    unhedged: int = 0
    day_pnl: int = 0


@dataclass(frozen=True, slots=True)
class LegAsk:
    """One leg of an order the trader wants to place: the instrument, venue and cost per share
    (fills and fees, money units per whole share) and the book's age and state."""

    venue: str
    instrument: str
    cost_per_share: int
    book_live: bool
    book_age_ns: int
    cash: int


class RiskManager:
    """Checks a pair order against :class:`RiskLimits` and the kill switch.

    :meth:`allowed_size` returns the largest size (a multiple of ``lot``, at most the asked size)
    that fits every limit, with the reason of the tightest limit when that is less than asked.
    """

    def __init__(self, limits: RiskLimits, kill: KillSwitch) -> None:
        self.limits = limits
        self.kill = kill

    def allowed_size(
        self, size: int, lot: int, legs: list[LegAsk], exposure: Exposure, *, new_pair: bool
    ) -> tuple[int, str | None]:
        """Return ``(size allowed, reason)``; ``reason`` is ``None`` when ``size`` is allowed whole.

        Reasons: ``kill_switch``, ``daily_loss_limit``, ``stale_data``, ``max_open_pairs``,
        ``max_leg_imbalance``, ``max_notional_pair``, ``max_notional_market``,
        ``max_notional_venue``, ``insufficient_cash``.
        """
        lim = self.limits
        if self.kill.check():
            return 0, "kill_switch"
        if lim.daily_loss_limit is not None and exposure.day_pnl <= -lim.daily_loss_limit:
            return 0, "daily_loss_limit"
        max_age = int(lim.max_data_age_ms * 1_000_000)
        if any(not leg.book_live or leg.book_age_ns > max_age for leg in legs):
            return 0, "stale_data"
        if new_pair and lim.max_open_pairs is not None and exposure.open_pairs >= lim.max_open_pairs:
            return 0, "max_open_pairs"
        if lim.max_leg_imbalance is not None and exposure.unhedged > lim.max_leg_imbalance:
            return 0, "max_leg_imbalance"
        caps = self._caps(legs, exposure)
        allowed, reason = size, None
        for cap, why in caps:
            cap = cap // lot * lot
            if cap < allowed:
                allowed, reason = max(0, cap), why
        return allowed, reason

    def _caps(self, legs: list[LegAsk], exposure: Exposure) -> list[tuple[int, str]]:
        # (largest size, limit name) for every notional and cash limit
        lim = self.limits
        caps: list[tuple[int, str]] = []
        if lim.max_notional_pair is not None:
            per_share = sum(leg.cost_per_share for leg in legs)
            caps.append((_shares(lim.max_notional_pair - exposure.pair, per_share), "max_notional_pair"))
        by_instrument = exposure.by_instrument or {}
        by_venue = exposure.by_venue or {}
        venue_need: dict[str, int] = {}
        for leg in legs:
            venue_need[leg.venue] = venue_need.get(leg.venue, 0) + leg.cost_per_share
            if lim.max_notional_market is not None:
                room = lim.max_notional_market - by_instrument.get(leg.instrument, 0)
                caps.append((_shares(room, leg.cost_per_share), "max_notional_market"))
        cash = {leg.venue: leg.cash for leg in legs}
        for venue, need in venue_need.items():
            if lim.max_notional_venue is not None:
                caps.append((_shares(lim.max_notional_venue - by_venue.get(venue, 0), need), "max_notional_venue"))
            caps.append((_shares(cash[venue], need), "insufficient_cash"))
        return caps


def _shares(room: int, per_share: int) -> int:
    # Whole size units (1/1,000,000 share) that ``room`` money buys at ``per_share`` money per share
    if per_share <= 0:
        return 1 << 62
    return max(0, room) * 1_000_000 // per_share
