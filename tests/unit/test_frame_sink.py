"""The live sessions' per-message sink: order of work, counters flushed to the session's objects."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hadron.metrics import LATENCY_BOUNDS_NS, FrameLatency
from hadron.venues.feedstats import FLUSH_EVERY, FrameSink


@dataclass
class _Stats:
    frames: int = 0
    last_frame_ns: int = 0


def test_each_message_is_recorded_then_handled_and_counted_on_flush() -> None:
    calls: list[tuple[str, object]] = []
    pongs: list[int] = []
    stats, latency, read_latency = _Stats(), FrameLatency(), FrameLatency()
    sink = FrameSink(
        lambda raw, ns: calls.append(("frame", raw)),
        stats,
        latency,
        read_latency,
        LATENCY_BOUNDS_NS,
        write=lambda ns, raw: calls.append(("write", raw)),
        on_pong=lambda: pongs.append(1),
    )
    sink(b'{"a":1}', 10, 0)
    sink(b"PONG", 20, 0)
    assert calls == [("write", b'{"a":1}'), ("frame", b'{"a":1}'), ("write", b"PONG"), ("frame", b"PONG")]
    assert pongs == [1]
    assert stats.frames == 0  # counted in the sink until a flush
    sink.flush()
    assert (stats.frames, stats.last_frame_ns) == (2, 20)
    assert sum(latency.counts) == sum(read_latency.counts) == 2
    assert read_latency.counts[-1] == 2  # read_ns 0: far past the last bound
    assert read_latency.sum_ns >= latency.sum_ns > 0
    sink.flush()  # nothing new: nothing added
    assert stats.frames == 2 and sum(latency.counts) == 2


def test_counts_reach_the_session_every_flush_every_frames() -> None:
    stats, latency = _Stats(), FrameLatency()
    sink = FrameSink(lambda raw, ns: None, stats, latency, FrameLatency(), LATENCY_BOUNDS_NS)
    for i in range(FLUSH_EVERY + 5):
        sink(b"x", i, 0)
    assert stats.frames == FLUSH_EVERY
    sink.flush()
    assert stats.frames == FLUSH_EVERY + 5 == sum(latency.counts)


def test_buckets_match_frame_latency() -> None:
    # a handler whose processing time is known: the read stamp is set so read-to-book ≈ the value
    import time

    for value in (0, 999, 1_000, 1_001, 4_999, 5_000_000, 10**10):
        expected = FrameLatency()
        expected.observe(value)
        read = FrameLatency()
        sink = FrameSink(lambda raw, ns: None, _Stats(), FrameLatency(), read, LATENCY_BOUNDS_NS)
        sink(b"x", 1, time.perf_counter_ns() - value)
        sink.flush()
        got = read.counts.index(1)
        # the sink adds its own time (a few hundred ns; more on a loaded machine, so no upper
        # bound is asserted: this is not a timing test): never a bucket below the known value's
        assert got >= expected.counts.index(1)


def test_too_many_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="bounds"):
        FrameSink(lambda raw, ns: None, _Stats(), FrameLatency(), FrameLatency(), tuple(range(1, 40)))
