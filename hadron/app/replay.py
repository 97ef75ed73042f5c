"""Replay: recorded frames through the same streams and books the live runtime uses.

:class:`Replay` owns one :class:`~hadron.book.BookManager`, opens one venue stream per recorded
connection (through the venue registry, never a venue import), feeds it every frame in file
order, and builds the report ``hadron replay`` prints and writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from hadron.book.manager import BookManager, BookState
from hadron.errors import InputError
from hadron.model.events import BookInvalidated, MarketEvent
from hadron.model.units import format_price, format_size
from hadron.store.deadletter import DeadLetterFile
from hadron.store.replay import (
    HADRON_LINE_DECODER,
    LineReader,
    RecordingFile,
    RecordingFormat,
    detect,
    expand_paths,
    json_frames,
    read_all,
)
from hadron.venues.base import EventSink, FeedStats, FeedStream, SeqMode, get_venue

SEQ_CHECKS = ("auto", "strict", "monotonic")


class Replay:
    """Replays recorded frames into books and counts what happened.

    Args:
        dead_letter: where rejected frames are written (created only if one is).
        seq_check: ``"auto"`` (MONOTONIC for capture files, which hold per-market extracts of
            shared subscriptions; STRICT for Hadron recordings and bare frames), ``"strict"`` or
            ``"monotonic"``.
        on_event: called with every normalized event, in order (and a :class:`BookInvalidated`
            whenever a book stops being trustworthy).
    """

    def __init__(
        self,
        *,
        dead_letter: Path,
        seq_check: str = "auto",
        on_event: EventSink | None = None,
    ) -> None:
        if seq_check not in SEQ_CHECKS:
            raise InputError(f"--seq-check must be one of {', '.join(SEQ_CHECKS)}, not {seq_check!r}")
        self.books = BookManager()
        if on_event is not None:
            emit = on_event
            self.books.add_invalidation_listener(
                lambda book, reason: emit(BookInvalidated(book.instrument, reason, book.ts_event, book.ts_recv))
            )
        self.dead_letter = DeadLetterFile(dead_letter)
        self.seq_check = seq_check
        self.on_event = on_event
        self.stats: dict[str, FeedStats] = {}
        self.files: list[RecordingFile] = []
        self.skipped: list[Path] = []
        self.reader_errors = 0
        self.elapsed_s = 0.0
        self._streams: dict[tuple[str, str], FeedStream] = {}
        self.on_plan: Callable[[list[RecordingFile]], None] | None = None
        """Called with the files about to be replayed (progress bars)."""
        self.on_file: Callable[[RecordingFile], None] | None = None
        """Called after each file is replayed (progress bars)."""

    # -- running -----------------------------------------------------------------------------

    def run(self, paths: Iterable[Path]) -> None:
        """Replay every recorded-frames file under ``paths`` (files and folders), in order.

        A file named directly that is not recorded frames raises :class:`InputError`; one found
        while walking a folder is skipped and listed in the report.
        """
        named, found = expand_paths(list(paths))
        plan: list[RecordingFile] = []
        for path in named:
            detected = detect(path)
            if detected is None:
                raise InputError(f"{path}: not a recognised recording (see `hadron replay --help`)")
            plan.append(detected)
        for path in found:
            detected = detect(path)
            if detected is None:
                self.skipped.append(path)
            else:
                plan.append(detected)
        started = time.perf_counter()
        if self.on_plan is not None:
            self.on_plan(plan)
        try:
            for recording in plan:
                self.replay_file(recording)
                if self.on_file is not None:
                    self.on_file(recording)
        finally:
            self.elapsed_s += time.perf_counter() - started
            self.dead_letter.close()

    def _seq_mode(self, fmt: RecordingFormat) -> SeqMode:
        if self.seq_check == "auto":
            return SeqMode.MONOTONIC if fmt is RecordingFormat.CAPTURE else SeqMode.STRICT
        return SeqMode(self.seq_check)

    def stream(self, venue: str, conn: str, fmt: RecordingFormat) -> FeedStream:
        """Return the stream of ``(venue, conn)``, opening it on first use."""
        key = (venue, conn)
        stream = self._streams.get(key)
        if stream is None:
            stats = self.stats.setdefault(venue, FeedStats())
            stream = get_venue(venue).open_stream(
                self.books,
                conn,
                stats=stats,
                dead_letter=self.dead_letter,
                seq_mode=self._seq_mode(fmt),
                on_event=self.on_event,
            )
            self._streams[key] = stream
        return stream

    def replay_file(self, recording: RecordingFile) -> None:
        """Feed one recognised file through its venue stream(s)."""
        self.files.append(recording)
        self.dead_letter.source = str(recording.path)
        fmt = recording.format
        if fmt is RecordingFormat.FRAMES_JSON:
            self._replay_json(recording)
            return
        reader = LineReader(recording.path)
        before = self.total_errors()
        if fmt is RecordingFormat.HADRON:
            self._replay_hadron(recording, reader)
        else:
            assert recording.venue is not None
            stream = self.stream(recording.venue, str(recording.path), fmt)
            n = 0
            if fmt is RecordingFormat.CAPTURE:
                on_line = stream.on_capture_line
                for n, line in enumerate(reader, 1):  # noqa: B007 - n is the count afterwards
                    on_line(line)
            else:
                on_frame, clock = stream.on_frame, time.time_ns
                for n, line in enumerate(reader, 1):  # noqa: B007
                    on_frame(line, clock())
            recording.frames += n
        if reader.truncated:
            recording.notes.append("compressed stream ends early (file cut short)")
        if reader.last_line_unterminated and self.total_errors() > before:
            recording.torn_tail = True
            recording.notes.append("last line has no newline (torn write)")

    def _replay_hadron(self, recording: RecordingFile, reader: LineReader) -> None:
        for line in reader:
            recording.frames += 1
            try:
                record = HADRON_LINE_DECODER.decode(line)
                stream = self.stream(record.venue, record.conn, RecordingFormat.HADRON)
                frame = record.raw()
            except (msgspec.DecodeError, UnicodeDecodeError, KeyError, ValueError) as exc:
                self.reader_errors += 1
                self.dead_letter.write(line, f"recording line: {exc}", "")
                continue
            if record.request is None:
                stream.on_frame(frame, record.recv_ns)
            else:
                stream.on_rest(record.request, frame, record.recv_ns)

    def _replay_json(self, recording: RecordingFile) -> None:
        assert recording.venue is not None
        stream = self.stream(recording.venue, str(recording.path), recording.format)
        content = read_all(recording.path)
        try:
            elements = json_frames(content)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self.reader_errors += 1
            self.dead_letter.write(content, f"frames file: {exc}", stream.conn)
            return
        for element in elements:
            stream.on_frame(bytes(element), time.time_ns())
            recording.frames += 1

    # -- results -----------------------------------------------------------------------------

    def total_errors(self) -> int:
        """Decode errors so far, over every venue and the file readers."""
        return self.reader_errors + sum(s.decode_errors for s in self.stats.values())

    def report(self) -> dict[str, Any]:
        """Return the replay report (see ``hadron replay --help`` for the keys)."""
        totals = FeedStats()
        for stats in self.stats.values():
            totals.frames += stats.frames
            for kind, n in stats.frames_by_type.items():
                totals.count(kind, n)
            for name in ("seq_gaps", "seq_jumps", "seq_resets", "seq_duplicates", "stale_frames", "trades"):
                setattr(totals, name, getattr(totals, name) + getattr(stats, name))
        book_stats = self.books.stats
        frames = totals.frames
        return {
            "frames": frames,
            "frames_by_type": dict(sorted(totals.frames_by_type.items())),
            "decode_errors": self.total_errors(),
            "books": len(self.books),
            "books_by_state": self.books.states(),
            "snapshots": book_stats.snapshots,
            "snapshot_checks": book_stats.snapshot_checks,
            "snapshot_mismatches": book_stats.snapshot_mismatches,
            "snapshot_clears": book_stats.snapshot_clears,
            "bbo_checks": book_stats.bbo_checks,
            "bbo_mismatches": book_stats.bbo_mismatches,
            "negative_levels": book_stats.negative_levels,
            "crossed_books": book_stats.crossed_books,
            "crossed_updates": book_stats.crossed_updates,
            "seq_gaps": totals.seq_gaps,
            "seq_jumps": totals.seq_jumps,
            "seq_resets": totals.seq_resets,
            "seq_duplicates": totals.seq_duplicates,
            "resyncs": book_stats.resyncs,
            "resync_levels_changed": book_stats.resync_levels_changed,
            "invalidations": book_stats.invalidations,
            "deltas_applied": book_stats.deltas_applied,
            "deltas_dropped": book_stats.deltas_dropped,
            "stale_frames": totals.stale_frames,
            "trades": totals.trades,
            "elapsed_s": round(self.elapsed_s, 3),
            "frames_per_s": round(frames / self.elapsed_s) if self.elapsed_s > 0 else 0,
            "seq_check": self.seq_check,
            "venues": {name: stats.as_dict() for name, stats in sorted(self.stats.items())},
            "files": [
                {
                    "path": str(f.path),
                    "format": f.format.value,
                    "venue": f.venue,
                    "compression": f.compression,
                    "frames": f.frames,
                    "torn_tail": f.torn_tail,
                    **({"notes": f.notes} if f.notes else {}),
                }
                for f in self.files
            ],
            "files_skipped": [str(p) for p in self.skipped],
            "dead_letter": str(self.dead_letter.path) if self.dead_letter.count else None,
            "examples": book_stats.examples,
        }

    def dump_books(self) -> dict[str, dict[str, list[list[str]]]]:
        """Return every book that was ever LIVE: ``{instrument: {"bids": [[price, size], …],
        "asks": […]}}``, best level first, prices and sizes as plain decimal strings."""
        out: dict[str, dict[str, list[list[str]]]] = {}
        for book in sorted(self.books, key=lambda b: b.instrument):
            if not book.ever_live:
                continue
            out[book.instrument] = {
                "bids": [[format_price(p), format_size(s)] for p, s in book.levels_bid()],
                "asks": [[format_price(p), format_size(s)] for p, s in book.levels_ask()],
            }
        return out

    def unhealthy_books(self) -> list[tuple[str, BookState, str]]:
        """Books not LIVE at the end: ``(instrument, state, reason)``."""
        return [(b.instrument, b.state, b.reason) for b in self.books if b.state is not BookState.LIVE]


def collect_events(replay_paths: list[Path], dead_letter: Path) -> list[MarketEvent]:
    """Replay ``replay_paths`` and return every normalized event (for tests and notebooks)."""
    events: list[MarketEvent] = []
    Replay(dead_letter=dead_letter, on_event=events.append).run(replay_paths)
    return events
