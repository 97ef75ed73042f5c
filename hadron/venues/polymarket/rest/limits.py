"""Polymarket REST rate limits: the documented per-IP budgets and a sliding-window limiter.

Source: Polymarket docs ``api-reference/rate-limits`` (2026-08/10). Each endpoint family has its
own sliding window, and every request also counts against its API's ``general`` window; a
client waits in each family's :class:`PolymarketRateLimiter` before an attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from typing import Final

from hadron.venues.http import Clock, Sleep

CLOB_LIMITS: Final[Mapping[str, tuple[int, float]]] = {
    "general": (9_000, 10.0),
    "book": (1_500, 10.0),
    "books": (500, 10.0),
    "tick-size": (200, 10.0),
}
"""CLOB requests per window (count, seconds) per endpoint family (docs ``api-reference/rate-limits``,
2026-08/10; per IP, sliding windows). Every request also counts against ``general``."""

GAMMA_LIMITS: Final[Mapping[str, tuple[int, float]]] = {
    "general": (4_000, 10.0),
    "markets": (300, 10.0),
    "events": (500, 10.0),
    "listing": (900, 10.0),
}
"""Gamma requests per window per endpoint family; ``listing`` is the shared ``/markets`` +
``/events`` budget. Every request also counts against ``general``."""

CLOB_FAMILIES: Final[Mapping[str, tuple[str, ...]]] = {
    "/book": ("book", "general"),
    "/books": ("books", "general"),
    "/tick-size": ("tick-size", "general"),
}
GAMMA_FAMILIES: Final[Mapping[str, tuple[str, ...]]] = {
    "/markets": ("markets", "listing", "general"),
    "/events": ("events", "listing", "general"),
}
"""Request path → the limit families (of :data:`CLOB_LIMITS`, :data:`GAMMA_LIMITS`) it counts
against; a path not listed counts against ``general`` alone."""


class PolymarketRateLimiter:
    """A sliding-window limiter: at most ``limit`` requests in any ``window`` seconds.

    Args:
        limit: requests allowed per window.
        window: the window, seconds.
        clock: monotonic seconds (injectable for tests).
        sleep: ``await sleep(seconds)`` (injectable for tests).

    Raises:
        ValueError: a limit or window that is not positive.
    """

    def __init__(
        self, limit: int, window: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError(f"limit and window must be positive, got {limit} and {window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Total seconds callers have waited."""

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        while self._stamps and self._stamps[0] <= horizon:
            self._stamps.popleft()

    @property
    def in_window(self) -> int:
        """Requests counted in the current window."""
        self._expire(self._clock())
        return len(self._stamps)

    async def acquire(self) -> float:
        """Wait until one more request fits in the window, count it, and return the seconds waited.

        Callers are served first come, first served.
        """
        waited = 0.0
        async with self._lock:
            now = self._clock()
            self._expire(now)
            if len(self._stamps) >= self.limit:
                waited = max(0.0, self._stamps[0] + self.window - now)
                await self._sleep(waited)
                now = self._clock()
                self._expire(now)
                # the sleep covered the oldest request: clock rounding must not stall the caller
                while len(self._stamps) >= self.limit:
                    self._stamps.popleft()
            self._stamps.append(now)
        self.waited += waited
        return waited
