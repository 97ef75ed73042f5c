"""How the benchmarks time: the best of several runs, and latency percentiles.

Throughput keeps the fastest of ``repeat`` runs (:func:`best_of`); latency is measured in a
separate pass, one ``perf_counter_ns`` pair around each frame, and summarized by
:func:`percentiles`, so the timer's own cost stays out of throughput.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Callable


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """Run ``run`` ``repeat`` times (a garbage collection before each); the fastest, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def percentiles(samples: array[int]) -> dict[str, float]:
    """Latency ``samples`` (ns, at least one) as p50, p90, p99, p99.9, max and mean, in µs."""
    ordered = sorted(samples)
    n = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(n - 1, int(p / 100 * n))] / 1000

    return {
        "p50_us": pct(50),
        "p90_us": pct(90),
        "p99_us": pct(99),
        "p99_9_us": pct(99.9),
        "max_us": ordered[-1] / 1000,
        "mean_us": sum(ordered) / n / 1000,
    }
