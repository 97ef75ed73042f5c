"""Kalshi REST rate limits: the read and write budgets of each usage tier and a token bucket.

Source: Kalshi docs ``rate_limits`` (2026-08): two independent buckets, Read (GETs) and Write
(orders, cancels, order groups). An ordinary request costs :data:`READ_COST` tokens (an order
:data:`WRITE_COST`, a cancel :data:`CANCEL_COST`; a batch is billed per item) from a bucket
refilled at the tier's rate (Basic 200 read / 100 write tokens/s) and holding
:attr:`RateTier.burst_s` seconds of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Self

from hadron.errors import ConfigError
from hadron.venues.http import Clock, Sleep

READ_COST = 10
"""Tokens one ordinary request costs (Kalshi ``rate_limits``; a few reads cost less)."""
WRITE_COST = 10
"""Write tokens one order costs (create; each order of a batch; order-group requests)."""
CANCEL_COST = 2
"""Write tokens one cancel costs (each order of a batch cancel; Kalshi ``rate_limits``)."""


@dataclass(frozen=True, slots=True)
class RateTier:
    """A tier's read budget: ``rate`` tokens/s, bucket holding ``burst_s`` seconds of it."""

    rate: int
    burst_s: int


RATE_TIERS: Final[Mapping[str, RateTier]] = {
    "basic": RateTier(200, 2),
    "advanced": RateTier(300, 2),
    "expert": RateTier(600, 1),
    "premier": RateTier(1000, 1),
    "paragon": RateTier(2000, 1),
    "prime": RateTier(4000, 1),
    "prestige": RateTier(10000, 1),
}
"""Read buckets per usage tier (Kalshi docs ``rate_limits``, 2026-08): Basic and Advanced hold
2 s of budget, the tiers above 1 s."""

WRITE_TIERS: Final[Mapping[str, RateTier]] = {
    "basic": RateTier(100, 1),
    "advanced": RateTier(300, 2),
    "expert": RateTier(600, 2),
    "premier": RateTier(1000, 2),
    "paragon": RateTier(2000, 2),
    "prime": RateTier(4000, 2),
    "prestige": RateTier(8000, 2),
}
"""Write buckets per usage tier (Kalshi docs ``rate_limits``, 2026-08): Basic holds 1 s of
budget (10 orders/s, 10 orders at most in one batch), the tiers above 2 s."""


class KalshiRateLimiter:
    """A token bucket: ``rate`` tokens/s, at most ``capacity`` tokens, starting full.

    Args:
        rate: refill, tokens per second.
        capacity: the most tokens the bucket holds (the burst).
        clock: monotonic seconds (injectable for tests).
        sleep: ``await sleep(seconds)`` (injectable for tests).

    Raises:
        ValueError: a rate or capacity that is not positive.
    """

    def __init__(
        self, rate: float, capacity: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError(f"rate and capacity must be positive, got {rate} and {capacity}")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Total seconds callers have waited for tokens."""

    @classmethod
    def for_tier(cls, tier: str, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> Self:
        """Return the read bucket of ``tier`` (see :data:`RATE_TIERS`).

        Raises:
            ConfigError: an unknown tier (the message lists the known ones).
        """
        spec = RATE_TIERS.get(tier.lower())
        if spec is None:
            raise ConfigError(f"kalshi.rate_tier {tier!r} is unknown: use one of {', '.join(RATE_TIERS)}")
        return cls(spec.rate, spec.rate * spec.burst_s, clock=clock, sleep=sleep)

    @classmethod
    def for_write_tier(cls, tier: str, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> Self:
        """Return the write bucket of ``tier`` (see :data:`WRITE_TIERS`).

        Raises:
            ConfigError: an unknown tier (the message lists the known ones).
        """
        spec = WRITE_TIERS.get(tier.lower())
        if spec is None:
            raise ConfigError(f"kalshi.rate_tier {tier!r} is unknown: use one of {', '.join(WRITE_TIERS)}")
        return cls(spec.rate, spec.rate * spec.burst_s, clock=clock, sleep=sleep)

    @property
    def tokens(self) -> float:
        """Tokens available now."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, cost: float = READ_COST) -> float:
        """Take ``cost`` tokens, waiting until the bucket has them; return the seconds waited.

        Callers are served first come, first served.

        Raises:
            ValueError: ``cost`` exceeds the capacity (it could never be served).
        """
        if cost > self.capacity:
            raise ValueError(f"cost {cost} exceeds the bucket capacity {self.capacity}")
        waited = 0.0
        async with self._lock:
            self._refill()
            if self._tokens < cost:
                waited = (cost - self._tokens) / self.rate
                await self._sleep(waited)
                self._refill()
                # the sleep covered the deficit: clock rounding must not leave the caller short
                self._tokens = max(self._tokens, cost)
            self._tokens -= cost
        self.waited += waited
        return waited
