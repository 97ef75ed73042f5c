"""Recording raw frames losslessly in Hadron's recording format.

One file per connection per rotation, ``<out>/<venue>/<conn>.<UTC start>.ndjson.zst``, holding
NDJSON lines::

    {"recv_ns": 1786410915524000000, "venue": "kalshi", "conn": "kalshi-0.1", "frame": "<raw text frame>"}

A REST response (the polling fallback) is a line with the request it answers::

    {"recv_ns": …, "venue": "kalshi", "conn": "kalshi-rest", "request": "GET /trade-api/v2/markets/T/orderbook",
     "frame": "<response body>"}

Frames that are not valid UTF-8 are kept as ``"frame_b64"``.

Crash safety: each flush closes the current zstd frame and hands it to the OS, so a process
killed at any moment (SIGKILL included) leaves every earlier flush readable; the replay reader
reads across zstd frames and reports a torn tail. A file rotates when it passes ``max_bytes``
(compressed) or ``max_seconds``. Every folder has a ``manifest.json`` (files, connection,
frames, bytes, first/last receive time, open or closed), rewritten atomically at each flush.

:class:`FrameRecorder` does the writing; :class:`AsyncFrameRecorder` keeps it off the hot path:
``write`` only appends to a bounded queue (a full queue drops the frame and counts it), and a
task compresses and writes batches in a worker thread, flushing at least every second even
when no frame arrives.

Only frames the venue sent are recorded: request headers and secrets never are.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec
import zstandard

MANIFEST = "manifest.json"


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


class ManifestEntry(msgspec.Struct):
    """One recording file as listed in a folder's ``manifest.json``."""

    file: str
    venue: str
    conn: str
    frames: int = 0
    bytes: int = 0
    first_recv_ns: int = 0
    last_recv_ns: int = 0
    flushed_frames: int = 0
    """Frames durable on disk (written before the last flush)."""
    closed: bool = False


class Manifest(msgspec.Struct):
    """A recording folder's ``manifest.json``: ``{"format": "hadron-recording/1", "files": [...]}``."""

    format: str = "hadron-recording/1"
    files: list[ManifestEntry] = msgspec.field(default_factory=list)


_MANIFEST_LOCK = threading.Lock()


def update_manifest(folder: Path, entry: ManifestEntry) -> None:
    """Insert or replace ``entry`` in ``folder/manifest.json`` (written to a temp file, renamed)."""
    path = folder / MANIFEST
    with _MANIFEST_LOCK:
        try:
            manifest = msgspec.json.decode(path.read_bytes(), type=Manifest)
        except (OSError, msgspec.DecodeError):
            manifest = Manifest()
        files = [f for f in manifest.files if f.file != entry.file] + [entry]
        manifest.files = sorted(files, key=lambda f: f.file)
        tmp = folder / f".{MANIFEST}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_bytes(msgspec.json.format(msgspec.json.encode(manifest), indent=2))
        tmp.replace(path)


class FrameRecorder:
    """Appends one connection's raw frames to rotating zstd NDJSON files (synchronous).

    Args:
        out_dir: the recording folder (a ``<venue>/`` sub-folder is used).
        venue: venue name written on every line.
        conn: connection name written on every line and used in file names.
        flush_interval: seconds between flushes (data durable up to the last one).
        max_bytes / max_seconds: rotation limits.
        level: zstd level.
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
        self.bytes_in = 0
        """Uncompressed bytes of NDJSON written."""
        self.files: list[Path] = []
        self._compressor = zstandard.ZstdCompressor(level=level)
        self._encoder = msgspec.json.Encoder()
        self._fh: IO[bytes] | None = None
        self._cobj: zstandard.ZstdCompressionObj | None = None
        self._entry: ManifestEntry | None = None
        self._opened = 0.0
        self._flushed = 0.0

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{self.conn}.{stamp}.ndjson.zst"
        self._fh = path.open("xb")
        self._cobj = self._compressor.compressobj()
        self._opened = self._flushed = time.monotonic()
        self._entry = ManifestEntry(path.name, self.venue, self.conn)
        self.files.append(path)
        update_manifest(self.folder, self._entry)

    def _encode(self, recv_ns: int, frame: bytes, request: str | None) -> bytes:
        try:
            text = frame.decode("utf-8")
            record: Any = (
                _Line(recv_ns, self.venue, self.conn, text)
                if request is None
                else _RestLine(recv_ns, self.venue, self.conn, request, text)
            )
        except UnicodeDecodeError:
            record = _LineB64(recv_ns, self.venue, self.conn, base64.b64encode(frame).decode("ascii"))
        return self._encoder.encode(record)

    def write(self, recv_ns: int, frame: bytes, request: str | None = None) -> None:
        """Record one raw frame received at ``recv_ns`` (ns since the epoch).

        ``request`` marks a REST response body (``"GET /trade-api/v2/markets/T/orderbook"``)
        rather than a WebSocket frame.
        """
        if self._fh is None:
            self._open()
        assert self._cobj is not None and self._fh is not None and self._entry is not None
        line = self._encode(recv_ns, frame, request) + b"\n"
        out = self._cobj.compress(line)
        if out:
            self._fh.write(out)
            self._entry.bytes += len(out)
        entry = self._entry
        entry.frames += 1
        entry.first_recv_ns = entry.first_recv_ns or recv_ns
        entry.last_recv_ns = recv_ns
        self.frames += 1
        self.bytes_in += len(line)
        if time.monotonic() - self._flushed >= self.flush_interval:
            self.flush()

    def flush(self) -> None:
        """End the current zstd frame and hand it to the OS: everything so far is readable.

        Rotates the file afterwards when it passed ``max_bytes`` or ``max_seconds``.
        """
        if self._fh is None or self._cobj is None or self._entry is None:
            return
        out = self._cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        self._fh.write(out)
        self._fh.flush()
        self._entry.bytes += len(out)
        self._entry.flushed_frames = self._entry.frames
        self._cobj = self._compressor.compressobj()
        self._flushed = time.monotonic()
        update_manifest(self.folder, self._entry)
        if self._entry.bytes >= self.max_bytes or self._flushed - self._opened >= self.max_seconds:
            self.close()

    def close(self) -> None:
        """Flush and close the current file (the next frame opens a new one)."""
        if self._fh is None or self._entry is None:
            return
        entry = self._entry
        self._entry = None
        out = self._cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH) if self._cobj is not None else b""
        self._fh.write(out)
        self._fh.close()
        self._fh = None
        self._cobj = None
        entry.bytes += len(out)
        entry.flushed_frames = entry.frames
        entry.closed = True
        update_manifest(self.folder, entry)


class AsyncFrameRecorder:
    """A :class:`FrameRecorder` fed through a bounded queue, written by a background task.

    ``write`` never blocks and never does I/O: when ``max_queue`` frames are waiting, the frame
    is dropped and counted in :attr:`dropped` (the books are unaffected; the recording has a
    hole, reported). Batches are compressed and written in a worker thread, and flushed at
    least every ``flush_interval`` seconds.

    Use it as an async context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(self, recorder: FrameRecorder, *, max_queue: int = 100_000, flush_interval: float = 1.0) -> None:
        self.recorder = recorder
        self.max_queue = max_queue
        self.flush_interval = flush_interval
        self.dropped = 0
        self._queue: deque[tuple[int, bytes, str | None]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        recorder.flush_interval = float("inf")  # flushing is driven from here

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self.recorder.frames

    def start(self) -> None:
        """Start the writer task (on the running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def write(self, recv_ns: int, frame: bytes, request: str | None = None) -> None:
        """Queue one frame; drops (and counts) it when the queue is full."""
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            return
        self._queue.append((recv_ns, frame, request))
        if len(self._queue) == 1:
            self._wake.set()

    def _write_batch(self, batch: list[tuple[int, bytes, str | None]], flush: bool) -> None:
        for recv_ns, frame, request in batch:
            self.recorder.write(recv_ns, frame, request)
        if flush:
            self.recorder.flush()

    async def _run(self) -> None:
        last_flush = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_interval)
            self._wake.clear()
            batch = list(self._queue)
            self._queue.clear()
            due = time.monotonic() - last_flush >= self.flush_interval
            if batch or due:
                await asyncio.to_thread(self._write_batch, batch, due)
                if due:
                    last_flush = time.monotonic()
            if self._closing and not self._queue:
                return

    async def close(self) -> None:
        """Write what is queued, flush, and close the file."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._queue:
            self._write_batch(list(self._queue), False)
            self._queue.clear()
        await asyncio.to_thread(self.recorder.close)

    async def __aenter__(self) -> AsyncFrameRecorder:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
