"""Recorded-frames files: their formats, how a file's format is recognised, and finding them.

Formats, detected from a file's content (never its name):

* ``capture``: NDJSON lines ``{"recv_ms": int, "event": <frame>}``, gzipped or not: the Kalshi
  capture format (one file = one connection's stream, with its own sid/seq space); the same
  wrapper around Polymarket frames is accepted too.
* ``hadron``: Hadron's recording format, NDJSON lines ``{"recv_ns": int, "venue": "kalshi",
  "conn": "…", "frame": "<raw text frame>"}``, zstd-compressed (or gzip, or plain); files of
  the same ``conn`` continue one stream across rotations.
* ``frames-ndjson``: bare frames, one per line.
* ``frames-json``: the whole file is one JSON value: an array whose elements are frames
  (Polymarket test captures), or a single (possibly pretty-printed) frame.

Files are read (decompressed, split into lines, bounded) by :mod:`hadron.store.reader`; a file
of which not one line can be read is a :class:`CorruptRecording`. :func:`expand_paths` turns the
files and folders named on a command line into the files to try.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum, unique
from pathlib import Path
from typing import Annotated, Any

import msgspec

from hadron.errors import InputError
from hadron.store.reader import LineReader, compression_of, read_all
from hadron.venues.base import all_venues

_SNIFF_LINES = 50


@unique
class RecordingFormat(StrEnum):
    """A recorded-frames file format (see the module docstring)."""

    CAPTURE = "capture"
    HADRON = "hadron"
    FRAMES_NDJSON = "frames-ndjson"
    FRAMES_JSON = "frames-json"


@dataclass
class RecordingFile:
    """A file recognised as recorded frames.

    ``venue`` is the venue of its frames (``None`` for the Hadron format, where each line names
    its own). ``compression`` is ``"gzip"``, ``"zstd"`` or ``"none"``.
    """

    path: Path
    format: RecordingFormat
    venue: str | None
    compression: str
    first_ns: int = 0
    """Receive time of the first frame, ns (0: the format records none, or unreadable)."""
    conn: str = ""
    """Hadron recordings: the connection of the first line."""
    frames: int = 0
    torn_tail: bool = False
    """The last line had no newline and could not be decoded (a write cut short)."""
    notes: list[str] = field(default_factory=list)


class HadronRecordLine(msgspec.Struct, frozen=True, gc=False):
    """One line of Hadron's recording format (see ARCHITECTURE.md, Recording format)."""

    recv_ns: int
    venue: Annotated[str, msgspec.Meta(max_length=64)]
    conn: Annotated[str, msgspec.Meta(max_length=256)]
    """Bounded (as ``venue``) so a hostile line cannot make a stream with a name of megabytes."""
    frame: str | None = None
    frame_b64: str | None = None
    """A frame that was not valid UTF-8, base64-encoded."""
    request: str | None = None
    """Set when the frame is a REST response body: the request line it answers."""

    def raw(self) -> bytes:
        """Return the frame's bytes exactly as received.

        Raises:
            ValueError: the line has neither ``frame`` nor a valid ``frame_b64``.
        """
        if self.frame is not None:
            return self.frame.encode()
        if self.frame_b64 is not None:
            return base64.b64decode(self.frame_b64, validate=True)
        raise ValueError("recording line has no frame")


HADRON_LINE_DECODER: msgspec.json.Decoder[HadronRecordLine] = msgspec.json.Decoder(HadronRecordLine)


class CorruptRecording(InputError):
    """A file that looks like a recording (compressed, or lines of JSON) but of which not one line
    can be read: corrupt compressed data, a compression bomb, or only over-long lines. The message
    names the file, the offset and why."""


def _head(path: Path, limit: int = _SNIFF_LINES) -> tuple[bytes, list[bytes], LineReader]:
    """Return the first non-blank bytes, up to ``limit`` non-empty lines of ``path`` and the reader
    (its ``error``/``oversized`` say why there may be none)."""
    lines: list[bytes] = []
    first = b""
    reader = LineReader(path)
    it = iter(reader)
    try:
        for line in it:
            if not first:
                first = line.lstrip()[:1]
            lines.append(line)
            if len(lines) >= limit:
                break
    finally:
        it.close()  # type: ignore[attr-defined]
    return first, lines, reader


def _sniff_venue(frame: object) -> str | None:
    for adapter in all_venues():
        if adapter.sniff(frame):
            return adapter.name
    return None


def detect(path: Path) -> RecordingFile | None:
    """Recognise ``path`` as recorded frames, or return ``None``.

    Raises:
        InputError: the file cannot be read at all.
        CorruptRecording: not one line of it could be read (corrupt compressed data, a
            compression bomb, only over-long lines); the message says where and why.
    """
    compression = compression_of(path)
    first, lines, reader = _head(path)
    if not lines:
        if reader.error:
            raise CorruptRecording(f"{path}: {reader.error}")
        if reader.oversized:
            raise CorruptRecording(
                f"{path}: no line of it is shorter than the {reader.max_line:,}-byte limit of a recording line"
            )
        if reader.truncated:
            raise CorruptRecording(f"{path}: the {compression} stream is cut short before its first line ends")
        return None
    if first == b"[":
        detected = _detect_whole(path, compression)
        if detected is not None:
            return detected
    for line in lines:
        obj = _loads(line)
        detected = _detect_line(path, compression, obj)
        if detected is not None:
            if isinstance(obj, dict):
                _first_time(detected, obj)
            return detected
    detected = _detect_whole(path, compression) if first == b"{" else None
    if detected is None and reader.error:
        raise CorruptRecording(f"{path}: {reader.error}")
    return detected


def _first_time(detected: RecordingFile, obj: dict[str, Any]) -> None:
    # The receive time (and connection) of the line that identified the file
    if detected.format is RecordingFormat.HADRON:
        recv_ns, conn = obj.get("recv_ns"), obj.get("conn")
        detected.first_ns = recv_ns if type(recv_ns) is int and recv_ns > 0 else 0
        detected.conn = conn if isinstance(conn, str) else ""
    elif detected.format is RecordingFormat.CAPTURE:
        recv_ms = obj.get("recv_ms")
        detected.first_ns = recv_ms * 1_000_000 if type(recv_ms) is int and 0 < recv_ms < MAX_RECV_MS else 0


MAX_RECV_MS = 1 << 52
"""Largest receive time in ms accepted as a merge key (beyond it the line keeps its neighbour's)."""


class _RecvMs(msgspec.Struct, gc=False):
    recv_ms: int


_RECV_MS_DECODER = msgspec.json.Decoder(_RecvMs)
_RECV_MS_PREFIX = b'{"recv_ms":'


def capture_recv_ns(line: bytes) -> int:
    """The receive time of a capture line ``{"recv_ms": int, …}`` in ns, or 0 when it has none.

    The venue captures write ``recv_ms`` first; such lines are read without decoding the frame.
    """
    if line.startswith(_RECV_MS_PREFIX):
        end = line.find(b",", 11, 40)
        if end > 0:
            digits = line[11:end].strip()
            if digits.isdigit() and len(digits) < 16:
                return int(digits) * 1_000_000
    try:
        recv_ms = _RECV_MS_DECODER.decode(line).recv_ms
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return 0
    return recv_ms * 1_000_000 if 0 < recv_ms < MAX_RECV_MS else 0


def json_frames(content: bytes) -> list[msgspec.Raw]:
    """Split a whole-file JSON value into frames: an array's elements, or the one object.

    Raises:
        msgspec.DecodeError: the content is not one JSON value (or is nested deeper than the
            decoder can follow: about 1,000 levels, the interpreter's recursion limit).
    """
    try:
        if content.lstrip()[:1] == b"[":
            return msgspec.json.decode(content, type=list[msgspec.Raw])
        return [msgspec.json.decode(content, type=msgspec.Raw)]
    except RecursionError as exc:
        raise msgspec.DecodeError("JSON nested deeper than the decoder follows") from exc


def _detect_whole(path: Path, compression: str) -> RecordingFile | None:
    try:
        elements = json_frames(read_all(path))
    except (msgspec.DecodeError, UnicodeDecodeError, InputError):
        return None  # perhaps NDJSON whose first frame is an array (or a file too big to be one value)
    for element in elements:
        venue = _sniff_venue(_loads(bytes(element)))
        if venue:
            return RecordingFile(path, RecordingFormat.FRAMES_JSON, venue, compression)
    return None


def _detect_line(path: Path, compression: str, obj: object) -> RecordingFile | None:
    if isinstance(obj, dict):
        if {"recv_ns", "venue", "conn"} <= obj.keys() and ("frame" in obj or "frame_b64" in obj):
            return RecordingFile(path, RecordingFormat.HADRON, None, compression)
        if {"recv_ms", "event"} <= obj.keys():
            venue = _sniff_venue(obj["event"])
            return RecordingFile(path, RecordingFormat.CAPTURE, venue, compression) if venue else None
    venue = _sniff_venue(obj)
    return RecordingFile(path, RecordingFormat.FRAMES_NDJSON, venue, compression) if venue else None


def _loads(data: bytes) -> object:
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders into ``(named files, files found in folders)``, sorted.

    Folders are walked recursively; hidden files and folders are skipped. A file reached twice
    (named twice, named and inside a folder given, or in two nested folders given) is read once,
    where it is first reached: its frames are never replayed twice.

    Raises:
        InputError: a path does not exist or cannot be read; names the path.
    """
    named, found = _expand(paths)
    seen: set[Path] = set()

    def first(files: list[Path]) -> list[Path]:
        out = []
        for file in files:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                out.append(file)
        return out

    return first(named), first(found)


def _expand(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    named: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            try:
                children = sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            except OSError as exc:
                raise InputError(f"{path}: cannot list folder ({exc.strerror or exc})") from exc
            found.extend(children)
        else:
            try:
                with path.open("rb"):
                    pass
            except OSError as exc:
                raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
            named.append(path)
    return named, found
