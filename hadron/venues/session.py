"""What a venue's live session needs around its streams, none of it per frame: the reconnect
back-off and a connection pool's health. Plain Python (the per-frame code is
:mod:`hadron.venues.common`; the connection loop itself, dialling, reconnecting and failure
classification, is :mod:`hadron.venues.wsclient`)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from hadron.metrics import FrameLatency


class Backoff:
    """Jittered exponential back-off: ``min(max, base × factor^n)`` plus up to 25 % jitter.

    ``random`` is injectable so tests are deterministic.
    """

    def __init__(
        self,
        *,
        base: float = 0.5,
        factor: float = 2.0,
        max_delay: float = 30.0,
        random_fn: Callable[[], float] = random.random,
    ) -> None:
        self.base = base
        self.factor = factor
        self.max_delay = max_delay
        self.random = random_fn
        self.attempt = 0

    def next(self) -> float:
        """Return the next delay in seconds and move on."""
        delay = min(self.max_delay, self.base * self.factor**self.attempt)
        self.attempt += 1
        return delay + delay * 0.25 * self.random()

    def reset(self) -> None:
        """Start again from ``base`` (after a healthy connection)."""
        self.attempt = 0


def pool_health(connections: Sequence[Any], *, shard: str, frozen: int = 0) -> dict[str, Any]:
    """A pool's health for the runtime (see :meth:`hadron.venues.base.LiveFeed.health`):
    per connection its state and counters, and ``shard`` (``"markets"``/``"tokens"``) as the size
    of the connection's attribute of that name; the merged frame-latency histogram."""
    return {
        "connections": [
            {
                "name": c.name,
                "connected": c.connected.is_set(),
                "frames": c.stats.frames,
                "last_frame_ns": c.stats.last_frame_ns,
                "reconnects": c.stats.reconnects,
                shard: len(getattr(c, shard)),
                "last_error": c.stats.last_error,
            }
            for c in connections
        ],
        "frozen": frozen,
        "latency": FrameLatency().merge(c.latency for c in connections),
    }


__all__ = ["Backoff", "pool_health"]
