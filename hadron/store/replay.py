"""Reading recorded frames back: file discovery, compression, format detection, line splitting.

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

Compression is detected by magic bytes: gzip (``1f 8b``), zstd (``28 b5 2f fd``), else plain.
"""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum, unique
from pathlib import Path
from typing import IO, Any

import msgspec
import zstandard

from hadron.errors import InputError
from hadron.venues.base import all_venues

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20
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
    venue: str
    conn: str
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


def open_recording(path: Path, buffer_size: int = _CHUNK) -> IO[bytes]:
    """Open ``path`` for reading, decompressing gzip or zstd transparently (``buffer_size``:
    bytes of decompressed data buffered).

    Raises:
        InputError: the file cannot be opened.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    magic = raw.read(4)
    raw.seek(0)
    if magic[:2] == _GZIP_MAGIC:
        raw.close()
        return io.BufferedReader(gzip.GzipFile(path, mode="rb"), buffer_size=buffer_size)
    if magic == _ZSTD_MAGIC:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return io.BufferedReader(reader, buffer_size=buffer_size)
    return raw


def compression_of(path: Path) -> str:
    """Return ``"gzip"``, ``"zstd"`` or ``"none"`` from the file's magic bytes."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == _GZIP_MAGIC:
        return "gzip"
    return "zstd" if magic == _ZSTD_MAGIC else "none"


class LineReader:
    """Iterates the lines of a (possibly compressed) file as bytes, without line endings.

    Empty lines are skipped. After iteration, :attr:`last_line_unterminated` tells whether the
    file ended without a newline (a torn last line when that line is also undecodable); a
    compressed stream cut short sets :attr:`truncated`.
    """

    def __init__(self, path: Path, chunk: int = _CHUNK) -> None:
        self.path = path
        self.chunk = chunk
        self.last_line_unterminated = False
        self.truncated = False

    def __iter__(self) -> Iterator[bytes]:
        rest = b""
        with open_recording(self.path, self.chunk) as fh:
            while True:
                try:
                    chunk = fh.read(self.chunk)
                except (EOFError, OSError, zstandard.ZstdError):
                    self.truncated = True
                    chunk = b""
                if not chunk:
                    break
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line.endswith(b"\r"):
                        line = line[:-1]
                    if line:
                        yield line
        rest = rest.rstrip(b"\r")
        if rest.strip():
            self.last_line_unterminated = True
            yield rest


def _head(path: Path, limit: int = _SNIFF_LINES) -> tuple[bytes, list[bytes]]:
    """Return the first non-blank bytes and up to ``limit`` non-empty lines of ``path``."""
    lines: list[bytes] = []
    first = b""
    reader = iter(LineReader(path))
    try:
        for line in reader:
            if not first:
                first = line.lstrip()[:1]
            lines.append(line)
            if len(lines) >= limit:
                break
    except (OSError, EOFError, zstandard.ZstdError):
        pass
    finally:
        reader.close()  # type: ignore[attr-defined]
    return first, lines


def _sniff_venue(frame: object) -> str | None:
    for adapter in all_venues():
        if adapter.sniff(frame):
            return adapter.name
    return None


def detect(path: Path) -> RecordingFile | None:
    """Recognise ``path`` as recorded frames, or return ``None``.

    Raises:
        InputError: the file cannot be read at all.
    """
    compression = compression_of(path)
    first, lines = _head(path)
    if not lines:
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
    return _detect_whole(path, compression) if first == b"{" else None


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
    except (msgspec.DecodeError, UnicodeDecodeError):
        return 0
    return recv_ms * 1_000_000 if 0 < recv_ms < MAX_RECV_MS else 0


def json_frames(content: bytes) -> list[msgspec.Raw]:
    """Split a whole-file JSON value into frames: an array's elements, or the one object.

    Raises:
        msgspec.DecodeError: the content is not one JSON value.
    """
    if content.lstrip()[:1] == b"[":
        return msgspec.json.decode(content, type=list[msgspec.Raw])
    return [msgspec.json.decode(content, type=msgspec.Raw)]


def _detect_whole(path: Path, compression: str) -> RecordingFile | None:
    try:
        elements = json_frames(read_all(path))
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None  # perhaps NDJSON whose first frame is an array
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
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


def read_all(path: Path) -> bytes:
    """Return the whole (decompressed) content of ``path``."""
    with open_recording(path) as fh:
        return fh.read()


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders into ``(named files, files found in folders)``, sorted.

    Folders are walked recursively; hidden files and folders are skipped.

    Raises:
        InputError: a path does not exist or cannot be read; names the path.
    """
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
