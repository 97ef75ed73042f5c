"""Replay: recorded frames through the same streams and books the live runtime uses.

:class:`Replay` owns one :class:`~hadron.book.BookManager`, opens one venue stream per recorded
connection (through the venue registry, never a venue import), feeds it every frame in file
order, and builds the report ``hadron replay`` prints and writes.

Receive times. A Hadron recording gives each frame its ``recv_ns`` and a venue capture its
``recv_ms``; a replay stamps the frame with it. Bare frames (``frames-ndjson``, ``frames-json``:
raw venue frames with no receive time) are stamped by a fixed rule, never by the clock, so the
same file always replays to the same events, ``ts_recv`` included. Within one file, in file
order, a frame's receive time is the venue's own time the frame carries, when its venue adapter
reads one (:class:`~hadron.venues.base.FrameClockVenue`) and it is later than the previous
frame's; otherwise the previous frame's time plus :data:`BARE_STEP_NS` (1 µs), starting from 0
(the first frame without a venue time is at 1 µs). For merging with other inputs a bare file keeps the time 0, as
:meth:`Replay.steps` describes.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from hadron.book.manager import BookManager, BookState
from hadron.errors import InputError
from hadron.model.events import BookInvalidated, MarketEvent
from hadron.model.units import format_price, format_size
from hadron.store.deadletter import DeadLetterFile
from hadron.store.reader import LineReader, OversizedHook, max_line_bytes, read_all
from hadron.store.replay import (
    HADRON_LINE_DECODER,
    CorruptRecording,
    RecordingFile,
    RecordingFormat,
    capture_recv_ns,
    detect,
    expand_paths,
    json_frames,
)
from hadron.venues.base import EventSink, FeedStats, FeedStream, FrameClockVenue, SeqMode, VenueSink, get_venue

SEQ_CHECKS = ("auto", "strict", "monotonic")

SIDE_FILES = frozenset(
    {"manifest.json", "record-summary.json", "config.json", "pairs.toml", "paper.toml", "deadletter.ndjson"}
)
"""Files Hadron writes beside its recordings; a folder's are passed over without a mention."""

STEP_FRAMES = 4096
"""Frames between the pauses of :meth:`Replay.steps`."""

_MERGE_CHUNK = 1 << 18
"""Bytes each open input reads at a time."""

_NO_LIMIT = 1 << 63
_NOTED_LINES = 5
"""Over-long lines of one file named in its notes (every one is counted and dead-lettered)."""
_RECV_MS_PREFIX = b'{"recv_ms":'

BARE_STEP_NS = 1_000
"""The step, in ns, between the receive times of two bare frames without a venue time: 1 µs."""


class BareClock:
    """The receive times of one file of bare frames, in file order (see the module docs).

    Args:
        venue: the registry name of the file's venue.
        start_ns: the time before the file's first frame (0 for a file of its own).
    """

    __slots__ = ("last_ns", "venue_time")

    def __init__(self, venue: str, start_ns: int = 0) -> None:
        adapter = get_venue(venue)
        self.venue_time = adapter.frame_time_ns if isinstance(adapter, FrameClockVenue) else None
        self.last_ns = start_ns

    def __call__(self, raw: bytes) -> int:
        """The receive time of the next frame, ``raw``, in ns: never earlier than the last one."""
        venue_ns = self.venue_time(raw) if self.venue_time is not None else None
        last = self.last_ns
        self.last_ns = venue_ns if venue_ns is not None and venue_ns > last else last + BARE_STEP_NS
        return self.last_ns


def _limit_bytes(limit: int) -> bytes:
    # ``limit`` (ns) as the 13 digits of whole ms a capture line's time is compared with
    # (a line at ``ms`` is beyond it when ms × 10**6 > limit, i.e. ms > limit // 10**6)
    ms = max(limit, 0) // 1_000_000
    return b"%013d" % ms if ms < 10**13 else b"~"


class _Source:
    """One input of the merge: a file, or the rotated files of one recorded connection."""

    __slots__ = ("current", "files", "first_ns", "items", "last_ns", "played")

    def __init__(self, files: list[RecordingFile]) -> None:
        self.files = files
        self.first_ns = files[0].first_ns
        self.last_ns = 0
        self.played = 0
        self.current: Path = files[0].path
        self.items: Generator[int, int, None] | None = None


def _sources(plan: list[RecordingFile]) -> list[_Source]:
    # One input per file, except Hadron recordings: the files of one connection in one folder
    # (its rotations) are one input, in order of their first receive time, then name
    groups: dict[object, list[RecordingFile]] = {}
    for recording in plan:
        chained = recording.format is RecordingFormat.HADRON and recording.conn
        key: object = (recording.path.parent, recording.conn) if chained else recording.path
        groups.setdefault(key, []).append(recording)
    return [_Source(sorted(files, key=lambda f: (f.first_ns, str(f.path)))) for files in groups.values()]


def dump_books(books: BookManager) -> dict[str, dict[str, list[list[str]]]]:
    """Every book of ``books`` that was ever LIVE: ``{instrument: {"bids": [[price, size], …],
    "asks": […]}}``, best level first, prices and sizes as plain decimal strings (``hadron replay
    --dump-books``, and the strategy and runtime reports, so they compare directly)."""
    out: dict[str, dict[str, list[list[str]]]] = {}
    for book in sorted(books, key=lambda b: b.instrument):
        if book.ever_live:
            out[book.instrument] = {
                "bids": [[format_price(p), format_size(s)] for p, s in book.levels_bid()],
                "asks": [[format_price(p), format_size(s)] for p, s in book.levels_ask()],
            }
    return out


class Replay:
    """Replays recorded frames into books and counts what happened.

    Args:
        dead_letter: where rejected frames are written (created only if one is).
        seq_check: ``"auto"`` (MONOTONIC for capture files, which hold per-market extracts of
            shared subscriptions; STRICT for Hadron recordings and bare frames), ``"strict"`` or
            ``"monotonic"``.
        on_event: called with every normalized event, in order (and a :class:`BookInvalidated`
            whenever a book stops being trustworthy).
        books: the book manager to feed (default: a new one); a strategy built on it beforehand
            (:func:`hadron.app.pipeline.build_strategy`) sees every update.
        on_venue: called with every venue-native message (``(msg, recv_ns)``, see
            :data:`hadron.venues.base.VenueSink`), in order with the events; without it they are
            counted in the report's ``unconsumed``.
    """

    def __init__(
        self,
        *,
        dead_letter: Path,
        seq_check: str = "auto",
        on_event: EventSink | None = None,
        books: BookManager | None = None,
        on_venue: VenueSink | None = None,
    ) -> None:
        if seq_check not in SEQ_CHECKS:
            raise InputError(f"--seq-check must be one of {', '.join(SEQ_CHECKS)}, not {seq_check!r}")
        self.books = books if books is not None else BookManager()
        if on_event is not None:
            emit = on_event
            self.books.add_invalidation_listener(
                lambda book, reason: emit(BookInvalidated(book.instrument, reason, book.ts_event, book.ts_recv))
            )
        self.dead_letter = DeadLetterFile(dead_letter)
        self.seq_check = seq_check
        self.on_event = on_event
        self.on_venue = on_venue
        self.stats: dict[str, FeedStats] = {}
        self.files: list[RecordingFile] = []
        self.skipped: list[Path] = []
        self.corrupt: list[tuple[Path, str]] = []
        """Files found in folders that look like recordings but of which not one line could be
        read, with why (each also counts in ``decode_errors``)."""
        self.reader_errors = 0
        self.elapsed_s = 0.0
        self._streams: dict[tuple[str, str, str], FeedStream] = {}
        self.on_plan: Callable[[list[RecordingFile]], None] | None = None
        """Called with the files about to be replayed (progress bars)."""
        self.on_file: Callable[[RecordingFile], None] | None = None
        """Called after each file is replayed (progress bars)."""

    # -- running -----------------------------------------------------------------------------

    def plan(self, paths: Iterable[Path]) -> list[RecordingFile]:
        """Recognise every recorded-frames file under ``paths`` (files and folders).

        A file named directly that is not recorded frames raises :class:`InputError` (a corrupt one
        says where and why); one found while walking a folder is skipped and listed in the report
        (``files_skipped``), or, when it is corrupt (compressed data damaged from its start, a
        compression bomb, only over-long lines), listed in ``files_corrupt`` with the reason and
        counted as a decode error (``--strict`` fails).
        """
        named, found = expand_paths(list(paths))
        plan: list[RecordingFile] = []
        for path in named:
            detected = detect(path)
            if detected is None:
                raise InputError(f"{path}: not a recognised recording (see `hadron replay --help`)")
            plan.append(detected)
        for path in found:
            if path.name in SIDE_FILES:
                continue  # what Hadron writes beside its recordings: not frames, not worth a mention
            try:
                detected = detect(path)
            except CorruptRecording as exc:
                self.corrupt.append((path, str(exc)))
                self.reader_errors += 1
                continue
            if detected is None:
                self.skipped.append(path)
            else:
                plan.append(detected)
        return plan

    def run(self, paths: Iterable[Path]) -> None:
        """Replay every recorded-frames file under ``paths`` (files and folders), merged by
        receive time (see :meth:`steps`)."""
        for _ in self.steps(paths):
            pass

    async def run_async(self, paths: Iterable[Path]) -> None:
        """:meth:`run`, handing the event loop back every :data:`STEP_FRAMES` frames (so the
        sinks of a strategy keep draining while a long replay runs in the loop's thread)."""
        for _ in self.steps(paths):
            await asyncio.sleep(0)

    def steps(self, paths: Iterable[Path]) -> Iterator[None]:
        """Replay ``paths``, yielding after about every :data:`STEP_FRAMES` frames.

        Every input is merged by receive time in one streaming k-way merge: a venue capture's
        ``recv_ms``, a Hadron recording's ``recv_ns``. Each input keeps its own order (a line
        whose receive time goes backwards keeps its place, merged at its predecessor's time), the
        rotated files of one recorded connection are read one after the other as one input, and
        ties go to the input listed first (files named on the command line in their order, then
        the files found in folders, sorted): the same inputs always replay in the same order.
        Files with no receive times (bare frames) have the time 0 and replay first, in order
        (their frames are stamped as the module docs say).
        Only the inputs whose turn has come are open, each read through a small buffer: memory
        does not grow with the number of files.
        """
        plan = self.plan(paths)
        started = time.perf_counter()
        if self.on_plan is not None:
            self.on_plan(plan)
        heap = [(source.first_ns, rank, source) for rank, source in enumerate(_sources(plan))]
        heapq.heapify(heap)
        try:
            while heap:
                key, rank, source = heap[0]
                items = source.items
                if items is None:
                    items = source.items = self._play(source)
                    first = next(items, None)
                    if first is None:
                        heapq.heappop(heap)
                        continue
                    if first != key:
                        heapq.heapreplace(heap, (first, rank, source))
                        continue
                if len(heap) == 1:
                    limit = _NO_LIMIT
                else:
                    other = heap[1] if len(heap) == 2 or heap[1] < heap[2] else heap[2]
                    # play while the next frame's time is at most ``limit`` (ties: the lower rank first)
                    limit = other[0] if rank < other[1] else other[0] - 1
                self.dead_letter.source = str(source.current)
                try:
                    key = items.send(limit)
                except StopIteration:
                    heapq.heappop(heap)
                else:
                    heapq.heapreplace(heap, (key, rank, source))
                if source.played >= STEP_FRAMES:
                    source.played = 0
                    self.elapsed_s += time.perf_counter() - started
                    yield
                    started = time.perf_counter()
        finally:
            self.elapsed_s += time.perf_counter() - started
            for _, _, source in heap:
                if source.items is not None:
                    source.items.close()
            self.dead_letter.close()

    def _seq_mode(self, fmt: RecordingFormat) -> SeqMode:
        if self.seq_check == "auto":
            return SeqMode.MONOTONIC if fmt is RecordingFormat.CAPTURE else SeqMode.STRICT
        return SeqMode(self.seq_check)

    def stream(self, venue: str, conn: str, fmt: RecordingFormat, folder: str = "") -> FeedStream:
        """Return the stream of connection ``conn`` of ``venue`` (recorded in ``folder``: two
        recordings' connections of the same name are different streams), opening it on first use."""
        key = (venue, conn, folder)
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
                **({"on_venue": self.on_venue} if self.on_venue is not None else {}),
            )
            self._streams[key] = stream
        return stream

    def replay_file(self, recording: RecordingFile) -> None:
        """Feed one recognised file through its venue stream(s), on its own."""
        items = self._play(_Source([recording]))
        with contextlib.suppress(StopIteration):
            next(items)
            items.send(_NO_LIMIT)

    def _play(self, source: _Source) -> Generator[int, int, None]:
        # A generator over one input. ``next()`` gives the receive time (ns) of its first frame;
        # ``send(limit)`` plays every frame up to the first whose time is beyond ``limit`` and
        # gives that time (StopIteration: the input is done). Its files are read in turn.
        source.last_ns = source.first_ns
        limit = yield source.first_ns
        for recording in source.files:
            source.current = recording.path
            self.dead_letter.source = str(recording.path)
            self.files.append(recording)
            fmt = recording.format
            if fmt is RecordingFormat.FRAMES_JSON:
                if source.last_ns > limit:
                    limit = yield source.last_ns
                self._replay_json(recording)
            else:
                reader = LineReader(recording.path, _MERGE_CHUNK, max_line=max_line_bytes(recording.venue))
                reader.on_oversized = self._oversized(recording, reader.max_line)
                before = self.total_errors()
                if fmt is RecordingFormat.HADRON:
                    limit = yield from self._play_hadron(recording, reader, source, limit)
                elif fmt is RecordingFormat.CAPTURE:
                    limit = yield from self._play_capture(recording, reader, source, limit)
                else:
                    limit = yield from self._play_frames(recording, reader, source, limit)
                self._reader_notes(recording, reader, before)
            if self.on_file is not None:
                self.on_file(recording)

    def _oversized(self, recording: RecordingFile, limit: int) -> OversizedHook:
        # A line over the limit was skipped: counted, its first bytes dead-lettered, noted
        def skipped(offset: int, length: int, head: bytes, ended: bool) -> None:
            self.reader_errors += 1
            why = (
                f"line at byte {offset:,} of {recording.path} is {'' if ended else 'at least '}{length:,} bytes, "
                f"over the {limit:,}-byte limit of a recording line: skipped (its first {len(head):,} bytes kept)"
            )
            self.dead_letter.write(head, why, "")
            if sum(note.startswith("line at byte") for note in recording.notes) < _NOTED_LINES:
                recording.notes.append(why)

        return skipped

    def _reader_notes(self, recording: RecordingFile, reader: LineReader, errors_before: int) -> None:
        # What the reader met, in the file's notes: a cut, damage, a torn last line
        if reader.truncated:
            recording.notes.append(
                f"compressed stream ends early (file cut short at decompressed byte {reader.offset:,}): "
                "every complete line before the cut was replayed"
            )
        if reader.error:
            self.reader_errors += 1
            recording.notes.append(reader.error + "; every line before it was replayed")
        if reader.last_line_unterminated and self.total_errors() > errors_before:
            recording.torn_tail = True
            recording.notes.append("last line has no newline (torn write)")

    def _play_capture(
        self, recording: RecordingFile, reader: LineReader, source: _Source, limit: int
    ) -> Generator[int, int, int]:
        assert recording.venue is not None
        on_line = self.stream(recording.venue, str(recording.path), recording.format).on_capture_line
        last = source.last_ns
        # The venue captures write ``{"recv_ms":`` first, with 13 digits until the year 2286: such
        # a line's time is compared as those 13 bytes, without decoding it (same width, same order)
        last_b = b"%013d" % (last // 1_000_000)
        limit_b = _limit_bytes(limit)
        n = 0
        for line in reader:
            if line[24:25] == b"," and line[:11] == _RECV_MS_PREFIX:
                digits = line[11:24]
                if digits > last_b and digits.isdigit():
                    last_b = digits
                    last = int(digits) * 1_000_000
                    beyond = digits > limit_b
                elif n < STEP_FRAMES:
                    on_line(line)
                    n += 1
                    continue
                else:
                    beyond = False
            else:
                key = capture_recv_ns(line)
                if key > last:
                    last = key
                    last_b = b"%013d" % (key // 1_000_000)
                    beyond = key > limit
                elif n < STEP_FRAMES:
                    on_line(line)
                    n += 1
                    continue
                else:
                    beyond = False
            if beyond or n >= STEP_FRAMES:  # beyond the limit, or a pause for the caller
                source.last_ns = last
                source.played += n
                recording.frames += n
                n = 0
                limit = yield last
                limit_b = _limit_bytes(limit)
            on_line(line)
            n += 1
        source.last_ns = last
        source.played += n
        recording.frames += n
        return limit

    def _play_frames(
        self, recording: RecordingFile, reader: LineReader, source: _Source, limit: int
    ) -> Generator[int, int, int]:
        # Bare frames record no receive time: they are stamped by a BareClock, and merged at the
        # input's last receive time (0 at the start)
        assert recording.venue is not None
        on_frame = self.stream(recording.venue, str(recording.path), recording.format).on_frame
        clock = BareClock(recording.venue)
        if source.last_ns > limit:
            limit = yield source.last_ns
        n = 0
        for line in reader:
            if n >= STEP_FRAMES:  # a pause for the caller
                source.played += n
                recording.frames += n
                n = 0
                limit = yield source.last_ns
            on_frame(line, clock(line))
            n += 1
        source.played += n
        recording.frames += n
        return limit

    def _play_hadron(
        self, recording: RecordingFile, reader: LineReader, source: _Source, limit: int
    ) -> Generator[int, int, int]:
        folder = str(recording.path.parent)
        last = source.last_ns
        decode = HADRON_LINE_DECODER.decode
        for line in reader:
            try:
                record = decode(line)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
                recording.frames += 1
                source.played += 1
                self.reader_errors += 1
                self.dead_letter.write(line, f"recording line: {exc}", "")
                continue
            recv_ns = record.recv_ns
            if recv_ns > last:
                last = recv_ns
            if last > limit or source.played >= STEP_FRAMES:  # beyond the limit, or a pause for the caller
                source.last_ns = last
                limit = yield last
            recording.frames += 1
            source.played += 1
            try:
                stream = self.stream(record.venue, record.conn, RecordingFormat.HADRON, folder)
                frame = record.raw()
            except (KeyError, ValueError) as exc:
                self.reader_errors += 1
                self.dead_letter.write(line, f"recording line: {exc}", "")
                continue
            if record.request is None:
                stream.on_frame(frame, recv_ns)
            else:
                stream.on_rest(record.request, frame, recv_ns)
        source.last_ns = last
        return limit

    def _replay_json(self, recording: RecordingFile) -> None:
        assert recording.venue is not None
        stream = self.stream(recording.venue, str(recording.path), recording.format)
        try:
            content = read_all(recording.path)
        except InputError as exc:  # grew too big, damaged or cut short since it was detected
            self.reader_errors += 1
            recording.notes.append(str(exc))
            return
        try:
            elements = json_frames(content)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            self.reader_errors += 1
            self.dead_letter.write(content, f"frames file: {exc}", stream.conn)
            return
        clock = BareClock(recording.venue)
        for element in elements:
            frame = bytes(element)
            stream.on_frame(frame, clock(frame))
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
            for name in (
                "seq_gaps",
                "seq_jumps",
                "seq_resets",
                "seq_duplicates",
                "stale_frames",
                "trades",
                "passed_on",
                "unconsumed",
            ):
                setattr(totals, name, getattr(totals, name) + getattr(stats, name))
        book_stats = self.books.stats
        frames = totals.frames
        return {
            "frames": frames,
            "frames_by_type": dict(sorted(totals.frames_by_type.items())),
            "decode_errors": self.total_errors(),
            "passed_on": totals.passed_on,
            "unconsumed": totals.unconsumed,
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
            "files_corrupt": [{"path": str(p), "reason": why} for p, why in self.corrupt],
            "dead_letter": str(self.dead_letter.path) if self.dead_letter.count else None,
            "examples": book_stats.examples,
        }

    def dump_books(self) -> dict[str, dict[str, list[list[str]]]]:
        """Every book that was ever LIVE, as :func:`dump_books` gives them."""
        return dump_books(self.books)

    def unhealthy_books(self) -> list[tuple[str, BookState, str]]:
        """Books not LIVE at the end: ``(instrument, state, reason)``."""
        return [(b.instrument, b.state, b.reason) for b in self.books if b.state is not BookState.LIVE]


def collect_events(replay_paths: list[Path], dead_letter: Path) -> list[MarketEvent]:
    """Replay ``replay_paths`` and return every normalized event (for tests and notebooks)."""
    events: list[MarketEvent] = []
    Replay(dead_letter=dead_letter, on_event=events.append).run(replay_paths)
    return events
