"""Reference prices for the loopback Kalshi venue: synthetic, spec-shaped index streams.

A seeded random walk per index (gold around 2365 USD, bitcoin around 68000 USD), sent as Kalshi
sends them (AsyncAPI ``cfbenchmarksValue`` and ``pythValue`` examples): ``cfbenchmarks_value``
with CF Benchmarks' own frame as a JSON string in ``data`` and a trailing 60-second average;
``pyth_value`` with ``value_usd`` to 8 decimals. Values are made in integers of 1e-8 USD and
written as decimal strings (never floats). Synthetic: not market data.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import msgspec

from hadron.model.units import INDEX_SCALE

STARTS: dict[str, tuple[str, int]] = {
    "Metal.XAU/USD": ("pyth_value", 2_365_12345000),
    "Metal.XAG/USD": ("pyth_value", 29_87654321),
    "BRTI": ("cfbenchmarks_value", 68_000_12000000),
    "ETHUSD_RTI": ("cfbenchmarks_value", 3_500_00000000),
}
"""Index id → (channel, first value in 1e-8 USD): the indices the loopback venue serves."""


def _text(value: int, decimals: int = 8) -> str:
    whole, frac = divmod(value, INDEX_SCALE)
    text = str(frac).rjust(8, "0")[:decimals]
    return f"{whole}.{text}"


class IndexWalk:
    """One synthetic index: a seeded random walk of ±2 basis points a step, and the frames of it."""

    def __init__(self, index: str, seed: int = 7) -> None:
        self.index = index
        self.channel, self.value = STARTS[index]
        self._rng = random.Random(f"{seed}:{index}")  # noqa: S311 - a synthetic walk, not a secret
        self._window: deque[tuple[int, int]] = deque()

    def step(self, now_ms: int) -> dict[str, Any]:
        """Move the walk and return the ``msg`` of its next frame at venue time ``now_ms``."""
        move = self._rng.randint(-2, 2) * self.value // 10_000
        self.value = max(INDEX_SCALE, self.value + move)
        if self.channel == "cfbenchmarks_value":  # CF Benchmarks prints cents
            self.value -= self.value % (INDEX_SCALE // 100)
        if self.channel == "pyth_value":
            return {
                "underlying_ticker": self.index,
                "value_usd": _text(self.value),
                "source_ts_ms": now_ms - 20,
                "received_at": now_ms,
            }
        while self._window and self._window[0][0] <= now_ms - 60_000:
            self._window.popleft()
        prior = len(self._window)
        average = sum(v for _, v in self._window) // prior if prior else self.value
        self._window.append((now_ms, self.value))
        data = {"type": "value", "id": self.index, "time": now_ms, "value": _text(self.value, 2)}
        return {
            "index_id": self.index,
            "received_at": now_ms,
            "data": msgspec.json.encode(data).decode(),
            "avg_60s_data": {
                "value": _text(average),
                "window_size": prior,
                "window_start_ts_ms": now_ms - 60_000,
                "window_end_ts_exclusive": now_ms,
            },
        }
