"""The counters every stream of one venue shares (a hot module: see :mod:`hadron.accel`)."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter_ns as _perf_ns

FEED_COUNTERS = (
    "frames",
    "decode_errors",
    "seq_gaps",
    "seq_jumps",
    "seq_resets",
    "seq_duplicates",
    "stale_frames",
    "trades",
    "hash_checks",
    "hash_mismatches",
    "resync_requests",
    "passed_on",
    "unconsumed",
)


class FeedStats:
    """Counters shared by every stream of one venue (all plain ints but ``frames_by_type``).

    ``frames``: frames received (a JSON array frame counts once); ``frames_by_type``: per venue
    message type (text frames by their text); ``decode_errors``: frames or array elements that
    could not be decoded or normalized (kept in the dead-letter file). ``seq_gaps``: jumps
    treated as gaps; ``seq_jumps``: jumps tolerated in MONOTONIC mode; ``seq_resets``: sequence
    regressions (a new session); ``seq_duplicates``: repeated sequence numbers, dropped.
    ``stale_frames``: frames older than what the book already holds, dropped. ``trades``: trades
    normalized. ``hash_checks``/``hash_mismatches``: snapshots whose venue checksum was verified
    / failed (a failure re-syncs the book). ``resync_requests``: books the stream asked to re-sync.
    ``passed_on``: venue-native messages (not normalized into market events) handed to a consumer
    hook (Kalshi ``on_venue``/``on_private``); ``unconsumed``: such messages no hook took (counted
    by type in ``frames_by_type`` too, recorded with the connection's frames, otherwise unused).
    """

    __slots__ = (*FEED_COUNTERS, "_by_type", "delta_frames", "delta_kind")  # typed once compiled (feedstats.pxd)

    def __init__(self) -> None:
        self.frames = 0
        self._by_type: dict[str, int] = {}
        self.delta_kind = ""
        """The venue's delta message type, counted in ``delta_frames`` (see :meth:`claim_deltas`)."""
        self.delta_frames = 0
        """Frames of ``delta_kind``: the hot path's own counter, merged into ``frames_by_type``."""
        self.decode_errors = 0
        self.seq_gaps = 0
        self.seq_jumps = 0
        self.seq_resets = 0
        self.seq_duplicates = 0
        self.stale_frames = 0
        self.trades = 0
        self.hash_checks = 0
        self.hash_mismatches = 0
        self.resync_requests = 0
        self.passed_on = 0
        self.unconsumed = 0

    def __repr__(self) -> str:
        return f"FeedStats({', '.join(f'{name}={getattr(self, name)}' for name in FEED_COUNTERS)})"

    @property
    def frames_by_type(self) -> dict[str, int]:
        """Frames per venue message type (text frames by their text), as a new dict."""
        out = dict(self._by_type)
        if self.delta_frames:
            out[self.delta_kind] = self.delta_frames
        return out

    def as_dict(self) -> dict[str, object]:
        """``frames``, ``frames_by_type``, then every other counter by name (ints)."""
        out: dict[str, object] = {"frames": self.frames, "frames_by_type": self.frames_by_type}
        out.update((name, getattr(self, name)) for name in FEED_COUNTERS[1:])
        return out

    def count(self, kind: str, n: int = 1) -> None:
        """Add ``n`` frames of ``kind`` to ``frames_by_type``."""
        if kind == self.delta_kind:
            self.delta_frames += n
        else:
            self._by_type[kind] = self._by_type.get(kind, 0) + n

    def claim_deltas(self, kind: str) -> None:
        """Count ``kind`` (the venue's delta message, one per update on the hot path) in the typed
        ``delta_frames`` from now on, unless another kind holds it already (then ``kind`` stays in
        the dict: one FeedStats shared across venues is counted right, only slower)."""
        if not self.delta_kind:
            self.delta_frames = self._by_type.pop(kind, 0)
            self.delta_kind = kind


class FrameSink:
    """The per-message work of a live session, called by the WebSocket client straight from the
    socket read (see :data:`hadron.venues.wsclient.MessageHandler`): ``sink(raw, recv_ns, read_ns)``.

    In order: ``on_pong()`` when the message is exactly ``PONG`` (Polymarket's text keepalive
    answer); ``write(recv_ns, raw)`` (the recorder's queue append) when recording; ``on_frame(raw,
    recv_ns)`` (decode → sid/seq → normalize → books → listeners). Then it counts, in C when
    compiled: the frame, its receive time, the processing time (``on_frame`` alone) and the time
    from the socket read (``read_ns``, ``time.perf_counter_ns``) to the books updated, per bucket of
    ``bounds`` (ns, ascending; a bucket holds the values up to its bound, the last one the rest).

    :meth:`flush` adds what was counted to ``stats`` (``frames`` += n, ``last_frame_ns``) and to
    the two :class:`hadron.metrics.FrameLatency` (``counts``, ``sum_ns``), then starts again; it
    runs every :data:`FLUSH_EVERY` frames and whenever the session asks (its once-a-second
    watchdog, its end), so readers of those objects are at most a second behind.
    """

    __slots__ = (
        "_bounds",
        "_lat",
        "_lat_sum",
        "_n_bounds",
        "_read",
        "_read_sum",
        "frames",
        "last_frame_ns",
        "latency",
        "on_frame",
        "on_pong",
        "read_latency",
        "stats",
        "write",
    )  # fmt: skip

    def __init__(
        self,
        on_frame: Callable[[bytes, int], object],
        stats: object,
        latency: object,
        read_latency: object,
        bounds: tuple[int, ...],
        write: Callable[[int, bytes], object] | None = None,
        on_pong: Callable[[], object] | None = None,
    ) -> None:
        if len(bounds) >= MAX_BOUNDS:
            raise ValueError(f"fewer than {MAX_BOUNDS} latency bounds")
        self.on_frame = on_frame
        self.write = write
        self.on_pong = on_pong
        self.stats = stats
        self.latency = latency
        self.read_latency = read_latency
        self.frames = 0
        """Frames counted since the last :meth:`flush`."""
        self.last_frame_ns = 0
        self._n_bounds = len(bounds)
        self._bounds = _padded(bounds)
        self._lat = _padded(())
        self._read = _padded(())
        self._lat_sum = 0
        self._read_sum = 0

    def __call__(self, raw: bytes, recv_ns: int, read_ns: int) -> None:
        if self.on_pong is not None and raw == b"PONG":
            self.on_pong()
        if self.write is not None:
            self.write(recv_ns, raw)
        started: int = _perf_ns()
        self.on_frame(raw, recv_ns)
        done: int = _perf_ns()
        ns = done - started
        self._lat[self._bucket(ns)] += 1
        self._lat_sum += ns
        ns = done - read_ns
        self._read[self._bucket(ns)] += 1
        self._read_sum += ns
        self.last_frame_ns = recv_ns
        self.frames += 1
        if self.frames >= FLUSH_EVERY:
            self.flush()

    def _bucket(self, ns: int) -> int:
        # the first bucket whose bound is ≥ ns (bisect_left), the last one past every bound
        i = 0
        while i < self._n_bounds and self._bounds[i] < ns:
            i += 1
        return i

    def flush(self) -> None:
        """Add the counts so far to ``stats``, ``latency`` and ``read_latency``; start again."""
        if self.frames == 0:
            return
        stats, latency, read_latency = self.stats, self.latency, self.read_latency
        stats.frames += self.frames  # type: ignore[attr-defined]
        stats.last_frame_ns = self.last_frame_ns  # type: ignore[attr-defined]
        counts, read_counts = latency.counts, read_latency.counts  # type: ignore[attr-defined]
        for i in range(self._n_bounds + 1):
            counts[i] += self._lat[i]
            read_counts[i] += self._read[i]
            self._lat[i] = 0
            self._read[i] = 0
        latency.sum_ns += self._lat_sum  # type: ignore[attr-defined]
        read_latency.sum_ns += self._read_sum  # type: ignore[attr-defined]
        self._lat_sum = self._read_sum = 0
        self.frames = 0


def _padded(values: tuple[int, ...]) -> list[int]:
    # ``values`` then zeros, MAX_BOUNDS in all (a C array of that size once compiled)
    return [*values, *(0 for _ in range(MAX_BOUNDS - len(values)))]


FLUSH_EVERY = 4096
"""Frames a :class:`FrameSink` counts before it adds them to its session's objects."""
MAX_BOUNDS = 16
"""Most histogram bucket bounds a :class:`FrameSink` takes."""
