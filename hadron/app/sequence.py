"""Sequence accounting of one bus source: which ``seq`` numbers arrived, the duplicates, gaps and holes.

A strategy process keeps one :class:`SeqTracker` per ``source`` of the envelopes it consumes
(:class:`hadron.app.strategy.Strategy`); seqs are expected from 0 without holes.
"""

from __future__ import annotations


class SeqTracker:
    """Which ``seq`` numbers of one source arrived: duplicates, gaps and holes.

    Seqs are expected from 0 without holes. Everything in ``[floor, watermark)`` arrived; seqs
    above the watermark that arrived early wait in a set until the holes before them fill. If that
    set outgrows ``max_ahead`` the watermark jumps over the oldest hole, whose seqs stay missing
    (one arriving later counts as a duplicate).
    """

    __slots__ = ("ahead", "duplicates", "floor", "gaps", "max_ahead", "max_seq", "received", "runs", "watermark")

    def __init__(self, max_ahead: int = 1_000_000) -> None:
        self.floor = 0
        self.watermark = 0
        self.runs: list[list[int]] = []
        self.ahead: set[int] = set()
        self.received = 0
        self.duplicates = 0
        self.gaps = 0
        self.max_seq = -1
        self.max_ahead = max_ahead

    def see(self, seq: int) -> bool:
        """Record ``seq``; return False if it arrived before (a duplicate)."""
        self.received += 1
        if seq < self.watermark or seq in self.ahead:
            self.duplicates += 1
            return False
        if seq > self.max_seq:
            if seq > self.max_seq + 1:
                self.gaps += 1
            self.max_seq = seq
        if seq == self.watermark:
            self._advance(seq + 1)
        else:
            self.ahead.add(seq)
            if len(self.ahead) > self.max_ahead:
                if self.watermark > self.floor:
                    self.runs.append([self.floor, self.watermark - 1])
                self.floor = min(self.ahead)
                self.ahead.remove(self.floor)
                self._advance(self.floor + 1)
        return True

    def _advance(self, watermark: int) -> None:
        ahead = self.ahead
        while watermark in ahead:
            ahead.remove(watermark)
            watermark += 1
        self.watermark = watermark

    @property
    def first_seq(self) -> int:
        """Lowest seq that arrived (-1: none yet)."""
        if self.runs:
            return self.runs[0][0]
        if self.watermark > self.floor:
            return self.floor
        return min(self.ahead) if self.ahead else -1

    @property
    def unique(self) -> int:
        """Distinct seqs that arrived."""
        return self.received - self.duplicates

    @property
    def missing(self) -> int:
        """Seqs in ``[0, max_seq]`` that have not arrived."""
        return self.max_seq + 1 - self.unique

    def ranges(self) -> list[list[int]]:
        """The seqs that arrived as inclusive ``[first, last]`` runs, ascending."""
        out = [list(run) for run in self.runs]
        if self.watermark > self.floor:
            out.append([self.floor, self.watermark - 1])
        for seq in sorted(self.ahead):
            if out and seq == out[-1][1] + 1:
                out[-1][1] = seq
            else:
                out.append([seq, seq])
        return out
