"""Reading a recording file safely: decompression, line splitting, limits, damage.

Compression is detected by magic bytes: gzip (``1f 8b``), zstd (``28 b5 2f fd``), else plain
(:func:`open_recording`, :func:`compression_of`).

Damaged or hostile files never stop a replay and are never passed over in silence (see
:class:`Inflater` and :class:`LineReader`): a compressed stream cut short gives back every
complete line before the cut (``truncated``); corrupt compressed data gives back every line
before the damage and says where it is (``error``); decompression stops past
:data:`MAX_EXPANSION` times the file's size (a compression bomb); a line longer than the
venue's frame limit allows (:func:`max_line_bytes`) is skipped without being held in memory
and reported with its offset. :func:`read_all` reads a whole-file JSON recording, bounded.

What the lines hold, and which format a file is in: :mod:`hadron.store.replay`.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import zstandard

from hadron.errors import InputError
from hadron.venues.base import all_venues

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20
_GZIP_PIECE = 1 << 16
"""Compressed bytes of a gzip file read at a time (zlib bounds each call's output itself)."""
_ZSTD_PIECE = 1 << 10
"""Compressed bytes of a zstd file fed at a time: zstd's streaming decompressor cannot bound one
call's output, and a zstd block can grow 32,768 times (a 3-byte RLE block of 128 KiB), so one
piece gives at most 32 MiB."""

MAX_EXPANSION = 200
"""Decompressed bytes a compressed file may give per byte of its size (with at least
:data:`MIN_EXPANSION_BUDGET`): Hadron's recordings (zstd level 3) and the Kalshi captures (gzip)
give 22 (the demo capture, 6.1 MB from 270 KB); gzip cannot pass 1,032 and zstd can reach about
32,000, which only a compression bomb does. Reading stops there and the report says so."""
MIN_EXPANSION_BUDGET = 64 << 20
"""Decompressed bytes any compressed file may give, however small it is."""
OVERSIZED_HEAD = 64 << 10
"""Bytes of an over-long line kept in the dead-letter file (the rest is never held in memory)."""
MAX_JSON_FILE_BYTES = 256 << 20
"""Largest whole-file JSON recording (``frames-json``) read, after decompression: the format is
read into memory at once (the Polymarket test captures it serves are a few MB)."""


class Inflater:
    """Reads a gzip or zstd file as its decompressed bytes, in bounded steps, never raising for
    what the file holds.

    Args:
        path: the file.
        kind: ``"gzip"`` or ``"zstd"``.
        budget: decompressed bytes after which reading stops (``None``: ``MAX_EXPANSION`` times the
            file's size, at least ``MIN_EXPANSION_BUDGET``).

    :meth:`read` returns about ``n`` bytes (``b""`` at the end; one zstd piece can add up to
    32 MiB). Concatenated gzip members and zstd frames are read one after the other (zero padding
    between gzip members is skipped). After the end: :attr:`truncated` is True when the input
    ended inside a gzip member or a zstd frame (what came before it was returned, up to the
    cut); :attr:`error` says why reading stopped early (corrupt compressed data, with the
    decompressed offset where it was found, or the budget), ``""`` when it did not.

    Raises:
        InputError: the file cannot be opened (in the constructor).
    """

    def __init__(self, path: Path, kind: str, budget: int | None = None) -> None:
        if kind not in ("gzip", "zstd"):
            raise ValueError(f"kind must be gzip or zstd, not {kind!r}")
        try:
            self._fh = path.open("rb")
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        self.path = path
        self.kind = kind
        self.budget = budget if budget is not None else max(MIN_EXPANSION_BUDGET, MAX_EXPANSION * size)
        self.size = size
        self.produced = 0
        """Decompressed bytes returned so far."""
        self.truncated = False
        self.error = ""
        self._gzip = kind == "gzip"
        self._piece = _GZIP_PIECE if self._gzip else _ZSTD_PIECE
        self._zstd = zstandard.ZstdDecompressor()
        self._obj: Any = self._new()
        self._started = False  # the current member/frame has taken input
        self._tail = b""  # compressed input not taken yet
        self._done = False

    def _new(self) -> Any:
        return zlib.decompressobj(31) if self._gzip else self._zstd.decompressobj()

    def __enter__(self) -> Inflater:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def read(self, n: int = -1) -> bytes:
        """Return the next decompressed bytes: about ``n`` of them (all that is left when ``n`` < 0),
        ``b""`` at the end."""
        out: list[bytes] = []
        got = 0
        while (n < 0 or got < n) and not self._done:
            data = self._step(n - got if n >= 0 else 1 << 20)
            if data:
                if self.produced + len(data) > self.budget:
                    data = data[: self.budget - self.produced]
                    self.error = (
                        f"decompression stopped at byte {self.budget:,}, "
                        f"{self.budget / max(self.size, 1):,.0f} times the file's {self.size:,} bytes "
                        f"(a compression bomb?): the rest of the file was not read"
                    )
                    self._done = True
                self.produced += len(data)
                out.append(data)
                got += len(data)
        return b"".join(out)

    def _input(self) -> bytes:
        # Compressed bytes to feed next; b"" once the file is done
        if not self._tail:
            self._tail = self._fh.read(self._piece)
        if not self._started and self._gzip:
            # Between gzip members: zero padding is allowed, anything else must be a member
            while self._tail and self._tail[:1] == b"\0":
                self._tail = self._tail.lstrip(b"\0") or self._fh.read(self._piece)
            if len(self._tail) == 1:
                self._tail += self._fh.read(self._piece)
            if self._tail and self._tail[:2] != _GZIP_MAGIC and self.produced:
                self._corrupt("data after the last gzip member is not gzip")
                return b""
        return self._tail

    def _corrupt(self, why: str) -> None:
        self.error = f"corrupt {self.kind} data after decompressed byte {self.produced:,}: {why}"
        self._done = True

    def _step(self, want: int) -> bytes:
        data = self._input()
        if self._done:
            return b""
        if not data:
            self.truncated = self._started
            self._done = True
            return b""
        obj = self._obj
        try:
            if self._gzip:
                out: bytes = obj.decompress(data, max(want, 1))
                self._tail = obj.unconsumed_tail
            else:
                out = obj.decompress(data)
                self._tail = b""
        except (zlib.error, zstandard.ZstdError) as exc:
            self._corrupt(str(exc))
            return b""
        self._started = True
        if obj.eof:  # the member or frame is complete: what follows it starts a new one
            # (zlib keeps the input left after the member's end in unused_data, and with a
            # max_length in unconsumed_tail as well: take it once)
            self._tail = obj.unused_data
            self._obj = self._new()
            self._started = False
        return out


def open_recording(path: Path, buffer_size: int = _CHUNK) -> IO[bytes] | Inflater:
    """Open ``path`` for reading, decompressing gzip or zstd transparently (an :class:`Inflater`:
    bounded, and never raising for damaged data; see its ``truncated`` and ``error``).
    ``buffer_size`` is kept for callers; reads are bounded by the caller's ``read(n)``.

    Raises:
        InputError: the file cannot be opened.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    magic = raw.read(4)
    if magic[:2] == _GZIP_MAGIC or magic == _ZSTD_MAGIC:
        raw.close()
        return Inflater(path, "gzip" if magic[:2] == _GZIP_MAGIC else "zstd")
    raw.seek(0)
    return raw


def compression_of(path: Path) -> str:
    """Return ``"gzip"``, ``"zstd"`` or ``"none"`` from the file's magic bytes."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == _GZIP_MAGIC:
        return "gzip"
    return "zstd" if magic == _ZSTD_MAGIC else "none"


def line_limit(max_frame_bytes: int) -> int:
    """The longest recording line a frame of ``max_frame_bytes`` can make: twice the frame (a
    Hadron recording line escapes the frame's quotes as ``\\"``; a non-UTF-8 frame is base64, 4/3
    of it) plus 64 KiB for the line's own fields."""
    return 2 * max_frame_bytes + (64 << 10)


@functools.cache
def max_line_bytes(venue: str | None = None) -> int:
    """The longest line accepted from a recording of ``venue`` (``None``: of any venue, as in a
    Hadron recording, whose lines name their venue): :func:`line_limit` of the venue's
    ``max_frame_bytes`` (the largest frame its WebSocket accepts)."""
    sizes = [a.max_frame_bytes for a in all_venues() if venue is None or a.name == venue]
    return line_limit(max(sizes, default=16 << 20))


def _first_bytes(parts: list[bytes], n: int) -> bytes:
    # The first ``n`` bytes of ``parts`` joined, without joining them all
    taken: list[bytes] = []
    size = 0
    for part in parts:
        taken.append(part[: n - size])
        size += len(taken[-1])
        if size >= n:
            break
    return b"".join(taken)


OversizedHook = Callable[[int, int, bytes, bool], None]
"""``on_oversized(offset, length, head, ended)``: a line of ``length`` bytes starting at
decompressed byte ``offset`` was skipped; ``head`` is its first :data:`OVERSIZED_HEAD` bytes;
``ended`` is False when the file (or the reading) stopped inside it: ``length`` is then a floor."""


class LineReader:
    """Iterates the lines of a (possibly compressed) file as bytes, without line endings.

    Empty lines are skipped. A line longer than ``max_line`` (default: :func:`max_line_bytes` of
    any venue) is skipped without being held in memory: ``on_oversized`` is called with its
    offset, length and first bytes, and :attr:`oversized` counts them. After iteration:
    :attr:`last_line_unterminated` tells whether the file ended without a newline (a torn last
    line when that line is also undecodable); :attr:`truncated` whether a compressed stream was
    cut short (every complete line before the cut was given); :attr:`error` why reading stopped
    early (corrupt compressed data, or the decompression budget: see :class:`Inflater`), ``""``
    when it did not; :attr:`offset` the decompressed bytes read.
    """

    def __init__(
        self,
        path: Path,
        chunk: int = _CHUNK,
        *,
        max_line: int | None = None,
        on_oversized: OversizedHook | None = None,
    ) -> None:
        self.path = path
        self.max_line = max_line if max_line is not None else max_line_bytes()
        self.chunk = max(1, min(chunk, self.max_line))
        self.on_oversized = on_oversized
        self.last_line_unterminated = False
        self.truncated = False
        self.error = ""
        self.oversized = 0
        self.offset = 0
        self._parts: list[bytes] = []  # the line running over chunks
        self._pending = 0  # its length so far
        self._start = 0  # its offset
        self._skipping = False  # it is over the limit: only its length is counted
        self._part_head = b""  # then its first bytes

    def _skipped(self, offset: int, length: int, head: bytes, ended: bool = True) -> None:
        self.oversized += 1
        if self.on_oversized is not None:
            self.on_oversized(offset, length, head, ended)

    def _carry(self, chunk: bytes) -> tuple[int, bytes]:
        # The line pending from earlier chunks goes on into ``chunk``: return where the rest of the
        # chunk starts (-1: the line goes on after it) and the line when it ended here (b"" when
        # it ended over the limit, reported and dropped)
        nl = chunk.find(b"\n")
        if nl < 0:
            self._pending += len(chunk)
            if not self._skipping:
                if self._pending > self.max_line:  # from here only its length is kept
                    self._skipping, self._part_head = True, _first_bytes(self._parts, OVERSIZED_HEAD)
                    self._parts = []
                else:
                    self._parts.append(chunk)
            return -1, b""
        self._pending += nl
        line = b""
        if self._skipping or self._pending > self.max_line:
            head = self._part_head or (b"".join(self._parts) + chunk[:nl])[:OVERSIZED_HEAD]
            self._skipped(self._start, self._pending, head)
        else:
            self._parts.append(chunk[:nl])
            line = b"".join(self._parts)
            if line.endswith(b"\r"):
                line = line[:-1]
        self._parts, self._pending, self._skipping, self._part_head = [], 0, False, b""
        return nl + 1, line

    def _last(self) -> bytes:
        # The file ended: the line still pending (b"": none, or over the limit and reported)
        if self._skipping:
            self._skipped(self._start, self._pending, self._part_head, ended=False)
            return b""
        rest = b"".join(self._parts).rstrip(b"\r")
        self._parts, self._pending = [], 0
        if not rest.strip():
            return b""
        self.last_line_unterminated = True
        return rest

    def __iter__(self) -> Iterator[bytes]:
        size = self.chunk
        self._parts, self._pending, self._skipping, self._part_head = [], 0, False, b""
        pos = 0  # offset of the current chunk
        fh = open_recording(self.path, size)
        try:
            read = fh.read
            while True:
                chunk = read(size)
                if not chunk:
                    break
                cut = 0
                if self._pending or self._skipping:
                    cut, line = self._carry(chunk)
                    if cut < 0:
                        pos += len(chunk)
                        continue
                    if line:
                        yield line
                lines = (chunk[cut:] if cut else chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line.endswith(b"\r"):
                        line = line[:-1]
                    if line:
                        yield line
                if rest:
                    self._parts, self._pending, self._start = [rest], len(rest), pos + len(chunk) - len(rest)
                pos += len(chunk)
        finally:
            self.offset = pos
            self.truncated = bool(getattr(fh, "truncated", False))
            self.error = str(getattr(fh, "error", ""))
            fh.close()
        rest = self._last()
        if rest:
            yield rest


def read_all(path: Path, limit: int = MAX_JSON_FILE_BYTES) -> bytes:
    """Return the whole (decompressed) content of ``path``.

    Raises:
        InputError: it cannot be read, it holds more than ``limit`` bytes, or its compressed data
            is corrupt or cut short (the message says which, and where).
    """
    fh = open_recording(path)
    try:
        content = fh.read(limit + 1)
    finally:
        fh.close()
    if len(content) > limit:
        raise InputError(f"{path}: more than {limit:,} bytes: too big to read as one JSON value")
    problem = getattr(fh, "error", "") or (
        "the compressed stream is cut short" if getattr(fh, "truncated", False) else ""
    )
    if problem:
        raise InputError(f"{path}: {problem}")
    return content
