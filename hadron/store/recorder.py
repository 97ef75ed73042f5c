"""Recording raw frames losslessly in Hadron's recording format.

One file per connection per rotation, ``<out>/<venue>/<conn>.<UTC start>.ndjson.zst``, holding
NDJSON lines::

    {"recv_ns": 1786410915524000000, "venue": "kalshi", "conn": "kalshi-0.1", "frame": "<raw text frame>"}

A REST response (the polling fallback) is a line with the request it answers::

    {"recv_ns": …, "venue": "kalshi", "conn": "kalshi-rest", "request": "GET /trade-api/v2/markets/T/orderbook",
     "frame": "<response body>"}

Each second's lines are closed as one zstd frame and flushed to the OS, so a process killed at
any moment leaves every earlier second readable (the replay reader reads across zstd frames
and reports a torn tail). A file rotates when it passes ``max_bytes`` (compressed) or
``max_seconds``. Frames that are not valid UTF-8 are kept as ``"frame_b64"``.

Only frames the venue sent are recorded: request headers and secrets never are.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import msgspec
import zstandard


class _Line(msgspec.Struct, gc=False):
    recv_ns: int
    venue: str
    conn: str
    frame: str


class _RestLine(msgspec.Struct, gc=False):
    recv_ns: int
    venue: str
    conn: str
    request: str
    frame: str


class _LineB64(msgspec.Struct, gc=False):
    recv_ns: int
    venue: str
    conn: str
    frame_b64: str


class FrameRecorder:
    """Appends one connection's raw frames to rotating zstd NDJSON files.

    Args:
        out_dir: the recording folder (a ``<venue>/`` sub-folder is used).
        venue: venue name written on every line.
        conn: connection name written on every line and used in file names.
        flush_interval: seconds between zstd frame ends (data durable up to then).
        max_bytes / max_seconds: rotation limits.
    """

    def __init__(
        self,
        out_dir: Path,
        venue: str,
        conn: str,
        *,
        flush_interval: float = 1.0,
        max_bytes: int = 256 * 1024 * 1024,
        max_seconds: float = 3600.0,
        level: int = 3,
    ) -> None:
        self.folder = out_dir / venue
        self.venue = venue
        self.conn = conn
        self.flush_interval = flush_interval
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.frames = 0
        self.files: list[Path] = []
        self._compressor = zstandard.ZstdCompressor(level=level)
        self._encoder = msgspec.json.Encoder()
        self._fh: IO[bytes] | None = None
        self._cobj: zstandard.ZstdCompressionObj | None = None
        self._opened = 0.0
        self._flushed = 0.0
        self._written = 0

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{self.conn}.{stamp}.ndjson.zst"
        self._fh = path.open("xb")
        self._cobj = self._compressor.compressobj()
        self._opened = self._flushed = time.monotonic()
        self._written = 0
        self.files.append(path)

    def write(self, recv_ns: int, frame: bytes, request: str | None = None) -> None:
        """Record one raw frame received at ``recv_ns`` (ns since the epoch).

        ``request`` marks a REST response body (``"GET /trade-api/v2/markets/T/orderbook"``)
        rather than a WebSocket frame.
        """
        if self._fh is None:
            self._open()
        try:
            text = frame.decode("utf-8")
            record = (
                _Line(recv_ns, self.venue, self.conn, text)
                if request is None
                else _RestLine(recv_ns, self.venue, self.conn, request, text)
            )
            line = self._encoder.encode(record)
        except UnicodeDecodeError:
            line = self._encoder.encode(
                _LineB64(recv_ns, self.venue, self.conn, base64.b64encode(frame).decode("ascii"))
            )
        assert self._cobj is not None and self._fh is not None
        out = self._cobj.compress(line + b"\n")
        if out:
            self._fh.write(out)
            self._written += len(out)
        self.frames += 1
        now = time.monotonic()
        if now - self._flushed >= self.flush_interval:
            self.flush()
            if self._written >= self.max_bytes or now - self._opened >= self.max_seconds:
                self.close()

    def flush(self) -> None:
        """End the current zstd frame and hand it to the OS: everything so far is readable."""
        if self._fh is None or self._cobj is None:
            return
        out = self._cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        self._fh.write(out)
        self._fh.flush()
        self._written += len(out)
        self._cobj = self._compressor.compressobj()
        self._flushed = time.monotonic()

    def close(self) -> None:
        """Flush and close the current file (the next frame opens a new one)."""
        if self._fh is None:
            return
        self.flush()
        self._fh.close()
        self._fh = None
        self._cobj = None
