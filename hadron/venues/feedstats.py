"""The counters every stream of one venue shares (a hot module: see :mod:`hadron.accel`)."""

from __future__ import annotations

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
