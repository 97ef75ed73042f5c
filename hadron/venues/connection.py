"""What every venue's WebSocket connection shares: each session's frames counted in C by a
:class:`~hadron.venues.feedstats.FrameSink`, and the connection's counters read through it.

A session's sink counts frames, their receive time and their latencies without touching Python
objects; it adds them to the connection's stats and :class:`~hadron.metrics.FrameLatency` every
:data:`~hadron.venues.feedstats.FLUSH_EVERY` frames, once a second (the session's watchdog) and at
the session's end. Reading :attr:`CountedConnection.stats`, :attr:`~CountedConnection.latency` or
:attr:`~CountedConnection.read_latency` flushes first, so a reader never sees counts behind the
socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from hadron.metrics import LATENCY_BOUNDS_NS, FrameLatency
from hadron.venues.feedstats import FrameSink


class SessionStats(Protocol):
    """The counters a :class:`FrameSink` adds to: ``frames`` and ``last_frame_ns`` (ns since the
    epoch, 0: none yet)."""

    frames: int
    last_frame_ns: int


class FrameWriter(Protocol):
    """Where a session records its frames (an :class:`~hadron.store.recorder.AsyncFrameRecorder`)."""

    def write(self, recv_ns: int, frame: bytes) -> None:
        """Queue ``frame``, received at ``recv_ns`` (ns since the epoch), for the recording."""


StatsT = TypeVar("StatsT", bound=SessionStats)


class CountedConnection(Generic[StatsT]):
    """Base of a venue's WebSocket connection: owns the connection's counters (``StatsT``, the
    venue's stats dataclass), its two latency histograms, and the current session's sink.

    Args:
        stats: the connection's counters, updated by every session's sink.
    """

    def __init__(self, stats: StatsT) -> None:
        self._stats = stats
        self._latency = FrameLatency()
        self._read_latency = FrameLatency()
        self._sink: FrameSink | None = None

    def _counted(self) -> None:
        # The session's sink counts in C: what it counted so far is added before anyone reads
        if self._sink is not None:
            self._sink.flush()

    @property
    def stats(self) -> StatsT:
        """What this connection has been through (the frames counted up to now included)."""
        self._counted()
        return self._stats

    @property
    def latency(self) -> FrameLatency:
        """Per-message processing time: decode → normalize → books → listeners."""
        self._counted()
        return self._latency

    @property
    def read_latency(self) -> FrameLatency:
        """Per-message time from the socket read that brought it to its books updated (the
        processing of the messages before it in the same read included)."""
        self._counted()
        return self._read_latency

    def _open_sink(
        self,
        on_frame: Callable[[bytes, int], object],
        recorder: FrameWriter | None,
        on_pong: Callable[[], object] | None = None,
    ) -> FrameSink:
        # The session's per-message work, called by the WebSocket client straight from the socket
        # read: record (a queue append), then ``on_frame`` (decode → normalize → books →
        # listeners), counted (frames, processing and read-to-book latency) in C
        self._sink = FrameSink(
            on_frame,
            self._stats,
            self._latency,
            self._read_latency,
            LATENCY_BOUNDS_NS,
            write=recorder.write if recorder is not None else None,
            on_pong=on_pong,
        )
        return self._sink

    def _close_sink(self) -> None:
        # The session ended: what its sink counted goes to the stats, and the sink goes
        if self._sink is not None:
            self._sink.flush()
            self._sink = None
