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
``write`` only appends ``(recv_ns, frame, request)`` to a bounded queue (a full queue drops the
frame and counts it; no lock, no I/O), and one long-lived writer thread per recorder writes what
is queued with :meth:`FrameRecorder.write_batch`: one msgspec ``encode_lines`` call and one zstd
``compress`` call (which releases the GIL) per chunk of about 16 KiB of lines, instead of an
encode and a compress call per frame. The writer runs at most every ``batch_interval`` (2 ms),
woken by the event loop once it is done with a burst of frames (so it mostly holds the GIL while
the loop waits for the socket), and flushes at least every second even when no frame arrives.
The lines are byte for byte those :meth:`FrameRecorder.write` writes one at a time
(``bench/recorder.py`` measures both). :class:`Recordings` makes one per connection (dial) of a
venue.

Storage faults: any ``OSError`` while writing (``ENOSPC`` disk full, ``EIO``, ``EDQUOT``,
``EACCES``…) is a :class:`~hadron.errors.RecordingError` (a ``StoreError``, never a network
error). The recorder stops at once: its file is closed, its manifest entry marked closed with the
``error``, later frames are dropped (counted), and the failure is reported once (``on_error``):
``hadron record`` stops and exits 1 with the cause, the runtime's feed turns DEGRADED and keeps
its books. The connection itself is not touched.

Only frames the venue sent are recorded: request headers and secrets never are.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno as errnos
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import repeat, starmap
from pathlib import Path
from typing import IO, Any

import msgspec
import structlog
import zstandard

from hadron.errors import RecordingError

MANIFEST = "manifest.json"

MAX_QUEUE = 2_000_000
"""Frames an :class:`AsyncFrameRecorder` holds for its writer before it drops (a whole burst of a
busy market's capture, ~200,000 frames, fits ten times)."""
MAX_QUEUE_BYTES = 512 * 1024 * 1024
"""Frame bytes an :class:`AsyncFrameRecorder` holds for its writer before it drops (the memory
bound of a burst; frames and their tuples take about twice that in the process)."""

QueuedFrame = tuple[int, bytes, str | None]
"""One frame waiting to be written: ``(recv_ns, raw frame, request or None)``."""

CHUNK_BYTES = 16 * 1024
"""About how many bytes of NDJSON :meth:`FrameRecorder.write_batch` encodes and compresses per
call. The GIL is held while a chunk is encoded (~40 µs for 16 KiB, ~45 Kalshi frames), and a
read loop that wakes meanwhile waits for it: smaller chunks bound that wait, larger ones cost
fewer calls (64 KiB: ~4 % less writer CPU, ~150 µs stretches)."""

log = structlog.get_logger("hadron.recorder")


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
    error: str = ""
    """Why the recorder stopped writing this file (a storage fault), ``""`` when it did not."""


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
        try:
            tmp.write_bytes(msgspec.json.format(msgspec.json.encode(manifest), indent=2))
            tmp.replace(path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()  # a full disk leaves no half-written temp file behind
            raise


def storage_error(exc: OSError, path: Path | str, doing: str) -> RecordingError:
    """Turn an ``OSError`` met while ``doing`` something to ``path`` into a one-line
    :class:`~hadron.errors.RecordingError`: ``"recording <path>: <doing>: No space left on device
    (ENOSPC)"``."""
    code = exc.errno or 0
    name = errnos.errorcode.get(code, "")
    text = exc.strerror or str(exc) or type(exc).__name__
    return RecordingError(
        f"recording {path}: {doing}: {text}" + (f" ({name})" if name else ""), errno=code, path=str(path)
    )


class FrameRecorder:
    """Appends one connection's raw frames to rotating zstd NDJSON files (synchronous).

    Args:
        out_dir: the recording folder (a ``<venue>/`` sub-folder is used).
        venue: venue name written on every line.
        conn: connection name written on every line and used in file names.
        flush_interval: seconds between flushes (data durable up to the last one).
        max_bytes / max_seconds: rotation limits.
        level: zstd level.

    :meth:`write` records one frame (an encode and a compress call: the REST poller's pace);
    :meth:`write_batch` records many with one encode and one compress call per ~16 KiB chunk
    (the live writer thread's path). Both write the same lines.

    A storage fault (any ``OSError`` while opening, writing, flushing or closing a file, or
    writing the manifest) stops the recorder: the file is closed, its manifest entry is marked
    ``closed`` with the ``error`` (when the manifest can still be written), :attr:`error` is set,
    and :class:`~hadron.errors.RecordingError` is raised; every later :meth:`write` raises it
    again, :meth:`flush` and :meth:`close` do nothing.
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
        self._chunk = 64  # frames per encode/compress call in write_batch, adapted to CHUNK_BYTES
        self._fh: IO[bytes] | None = None
        self._cobj: zstandard.ZstdCompressionObj | None = None
        self._entry: ManifestEntry | None = None
        self._opened = 0.0
        self._flushed = 0.0
        self.error: RecordingError | None = None
        """The storage fault that stopped this recorder (``None`` while it writes)."""

    @staticmethod
    def _create(path: Path) -> IO[bytes]:
        # a new recording file (exclusive: never overwrite one)
        return path.open("xb")

    def _open(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{self.conn}.{stamp}.ndjson.zst"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fh = self._create(path)
        except OSError as exc:
            raise self._stop(storage_error(exc, path, "cannot create the file")) from exc
        self._cobj = self._compressor.compressobj()
        self._opened = self._flushed = time.monotonic()
        self._entry = ManifestEntry(path.name, self.venue, self.conn)
        self.files.append(path)
        self._manifest("cannot write the manifest")

    def _path(self) -> Path:
        return self.folder / self._entry.file if self._entry is not None else self.folder

    def _manifest(self, doing: str) -> None:
        assert self._entry is not None
        try:
            update_manifest(self.folder, self._entry)
        except OSError as exc:
            raise self._stop(storage_error(exc, self.folder / MANIFEST, doing)) from exc

    def _stop(self, err: RecordingError) -> RecordingError:
        # A storage fault: close the file (whatever is still buffered is lost), mark the manifest
        # entry when the manifest can still be written, and remember why; return the error to raise
        self.error = err
        fh, self._fh, self._cobj = self._fh, None, None
        if fh is not None:
            with contextlib.suppress(OSError):
                fh.close()  # a failing flush inside close still closes the descriptor
        entry, self._entry = self._entry, None
        if entry is not None:
            entry.closed = True
            entry.error = str(err)
            with contextlib.suppress(OSError):
                update_manifest(self.folder, entry)
        log.error("recording stopped: storage fault", venue=self.venue, conn=self.conn, error=str(err))
        return err

    def _failed(self) -> RecordingError:
        assert self.error is not None
        return RecordingError(str(self.error), errno=self.error.errno, path=self.error.path)

    def _record(self, recv_ns: int, frame: bytes, request: str | None) -> Any:
        # One line's struct: ``frame`` as text, or ``frame_b64`` when it is not valid UTF-8
        try:
            text = frame.decode("utf-8")
        except UnicodeDecodeError:
            return _LineB64(recv_ns, self.venue, self.conn, base64.b64encode(frame).decode("ascii"))
        if request is None:
            return _Line(recv_ns, self.venue, self.conn, text)
        return _RestLine(recv_ns, self.venue, self.conn, request, text)

    def encode_lines(self, frames: Sequence[QueuedFrame]) -> bytes:
        """Return the NDJSON lines of ``frames`` (``(recv_ns, frame, request)`` each), every line
        ending in ``\\n``, byte for byte what :meth:`write` writes for each: one msgspec call."""
        venue, conn = self.venue, self.conn
        try:  # the common case, every frame UTF-8: no per-frame method call
            records: list[Any] = [
                _Line(ns, venue, conn, frame.decode()) if request is None
                else _RestLine(ns, venue, conn, request, frame.decode())
                for ns, frame, request in frames
            ]  # fmt: skip
        except UnicodeDecodeError:  # some frame is not UTF-8: frame_b64 for that one
            records = [self._record(ns, frame, request) for ns, frame, request in frames]
        return self._encoder.encode_lines(records)

    def _append(self, data: bytes, count: int, first_ns: int, last_ns: int) -> None:
        # Compress ``data`` (``count`` lines received from ``first_ns`` to ``last_ns``) into the open
        # zstd frame and hand what comes out to the file; the frames count as written
        assert self._cobj is not None and self._fh is not None and self._entry is not None
        out = self._cobj.compress(data)  # releases the GIL while zstd runs
        entry = self._entry
        if out:
            try:
                self._fh.write(out)
            except OSError as exc:
                raise self._stop(storage_error(exc, self._path(), "cannot write")) from exc
            entry.bytes += len(out)
        entry.frames += count
        entry.first_recv_ns = entry.first_recv_ns or first_ns
        entry.last_recv_ns = last_ns
        self.frames += count
        self.bytes_in += len(data)

    def write(self, recv_ns: int, frame: bytes, request: str | None = None) -> None:
        """Record one raw frame received at ``recv_ns`` (ns since the epoch).

        ``request`` marks a REST response body (``"GET /trade-api/v2/markets/T/orderbook"``)
        rather than a WebSocket frame.

        Raises:
            RecordingError: a storage fault now or before (the recorder is stopped).
        """
        if self.error is not None:
            raise self._failed()
        if self._fh is None:
            self._open()
        self._append(self._encoder.encode(self._record(recv_ns, frame, request)) + b"\n", 1, recv_ns, recv_ns)
        if time.monotonic() - self._flushed >= self.flush_interval:
            self.flush()

    def write_batch(self, frames: Sequence[QueuedFrame]) -> None:
        """Record ``frames`` (``(recv_ns, frame, request)`` each, in order), as :meth:`write` for
        each would (same lines, same file), but with one msgspec encode and one zstd compress call
        per chunk of about :data:`CHUNK_BYTES` of lines. Flushes afterwards when
        ``flush_interval`` has passed (checked once per batch, not per frame).

        Raises:
            RecordingError: a storage fault now or before (the recorder is stopped). The chunks
                written before it count in :attr:`frames`; the rest of the batch does not.
        """
        if self.error is not None:
            raise self._failed()
        if not frames:
            return
        if self._fh is None:
            self._open()
        start, total, size = 0, len(frames), self._chunk
        while start < total:
            chunk = frames[start : start + size]
            data = self.encode_lines(chunk)
            self._append(data, len(chunk), chunk[0][0], chunk[-1][0])
            start += len(chunk)
            size = max(16, min(4096, size * CHUNK_BYTES // max(len(data), 1)))
        self._chunk = size
        if time.monotonic() - self._flushed >= self.flush_interval:
            self.flush()

    def flush(self) -> None:
        """End the current zstd frame and hand it to the OS: everything so far is readable.

        Rotates the file afterwards when it passed ``max_bytes`` or ``max_seconds``.

        Raises:
            RecordingError: a storage fault (the recorder is stopped).
        """
        if self._fh is None or self._cobj is None or self._entry is None:
            return
        out = self._cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        try:
            self._fh.write(out)
            self._fh.flush()
        except OSError as exc:
            raise self._stop(storage_error(exc, self._path(), "cannot flush")) from exc
        self._entry.bytes += len(out)
        self._entry.flushed_frames = self._entry.frames
        self._cobj = self._compressor.compressobj()
        self._flushed = time.monotonic()
        self._manifest("cannot write the manifest")
        if self._entry.bytes >= self.max_bytes or self._flushed - self._opened >= self.max_seconds:
            self.close()

    def close(self) -> None:
        """Flush and close the current file (the next frame opens a new one).

        Raises:
            RecordingError: a storage fault (the recorder is stopped); nothing after one.
        """
        if self._fh is None or self._entry is None:
            return
        out = self._cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH) if self._cobj is not None else b""
        try:
            self._fh.write(out)
            self._fh.close()
        except OSError as exc:
            raise self._stop(storage_error(exc, self._path(), "cannot close")) from exc
        entry = self._entry
        self._entry = None
        self._fh = None
        self._cobj = None
        entry.bytes += len(out)
        entry.flushed_frames = entry.frames
        entry.closed = True
        try:
            update_manifest(self.folder, entry)
        except OSError as exc:
            raise self._stop(storage_error(exc, self.folder / MANIFEST, "cannot write the manifest")) from exc


class AsyncFrameRecorder:
    """A :class:`FrameRecorder` fed through a bounded queue, written by its own writer thread.

    ``write`` is all the read loop pays: it never blocks, never does I/O, never takes a lock and
    never raises; it appends ``(recv_ns, frame, request)`` to a deque, and the first frame after
    each writer pass schedules a wake-up of the writer (``loop.call_soon``: it runs once the loop
    is done with the current burst of frames). When ``max_queue`` frames or ``max_queue_bytes``
    bytes of frames are waiting (a burst the writer has not caught up with: the venue writing
    faster than zstd compresses), or once the recorder stopped on a storage fault, the frame is
    dropped and counted in :attr:`dropped` (the books are unaffected; the recording has a hole,
    reported).

    The writer thread (started by :meth:`start`, one per recorder, ended by :meth:`close`) takes
    up to 2,048 queued frames per pass and writes them with :meth:`FrameRecorder.write_batch`
    (one encode and one compress call per ~16 KiB chunk: the GIL is held for the encoding only),
    then rests ``batch_interval`` seconds and waits for the loop's wake-up (at most 20 ms when
    frames wait; no pause when it is behind). It flushes at least every ``flush_interval``
    seconds, even when no frame arrives: ``flushed_frames`` in the manifest are the frames on
    disk, each flush a complete zstd frame.

    A storage fault (:class:`~hadron.errors.RecordingError`) stops it: the file is closed and its
    manifest entry marked, the frames of the batch not written and those still queued are dropped
    (counted), :attr:`error` is set and ``on_error(error)`` is called once, on the event loop.
    :meth:`close` never raises it, so a session's clean-up (books invalidated, socket closed)
    always runs to its end. :meth:`stop` (a fault in a sibling recorder) drops what is queued
    and closes this recorder's file after the batch being written.

    Use it as an async context manager, or call :meth:`start` and :meth:`close`.
    """

    BATCH_MAX = 2048
    """Frames the writer takes from the queue per pass (the take holds the GIL: ~40 µs)."""

    def __init__(
        self,
        recorder: FrameRecorder,
        *,
        max_queue: int = MAX_QUEUE,
        flush_interval: float = 1.0,
        on_error: Callable[[RecordingError], None] | None = None,
        batch_interval: float = 0.002,
        max_queue_bytes: int = MAX_QUEUE_BYTES,
    ) -> None:
        self.recorder = recorder
        self.max_queue = max_queue
        self.max_queue_bytes = max_queue_bytes
        self._bytes_in = 0  # frame bytes queued so far (read loop only)
        self._bytes_out = 0  # frame bytes taken so far (writer thread only)
        self.flush_interval = flush_interval
        self.batch_interval = batch_interval
        """Seconds the writer rests after a pass (at most one pass per interval while it keeps up;
        frames wait that long or a little more in the queue)."""
        self.on_error = on_error
        self.dropped = 0
        """Frames not recorded: the queue was full, or the recorder had stopped (:attr:`error`)."""
        self.error: RecordingError | None = None
        """The storage fault that stopped the recording (``None`` while it records)."""
        self._queue: deque[QueuedFrame] = deque()
        self._lock = threading.Lock()  # the writer's take vs stop()'s drop; write() never takes it
        self._wake = threading.Event()  # set by close() and stop(): the writer stops sleeping
        self._kick = threading.Lock()  # held; released (on the loop) to wake the writer
        self._kick.acquire()
        self._kick_pending = False  # a kick is scheduled (reset by the writer when it re-arms)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None
        self._closing = False
        recorder.flush_interval = float("inf")  # flushing is driven from here

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self.recorder.frames

    def start(self) -> None:
        """Start the writer thread (call on the running event loop, where ``on_error`` will run)."""
        if self._thread is None and self.error is None:
            self._loop = asyncio.get_running_loop()
            self._done = self._loop.create_future()
            self._thread = threading.Thread(target=self._writer, name=f"recorder-{self.recorder.conn}", daemon=True)
            self._thread.start()

    def write(self, recv_ns: int, frame: bytes, request: str | None = None) -> None:
        """Queue one frame; drops (and counts) it when the queue is full or the recorder stopped."""
        if (
            self.error is not None
            or len(self._queue) >= self.max_queue
            or self._bytes_in - self._bytes_out >= self.max_queue_bytes
        ):
            self.dropped += 1
            return
        self._bytes_in += len(frame)
        self._queue.append((recv_ns, frame, request))
        if not self._kick_pending and self._loop is not None:  # once per writer pass
            self._kick_pending = True
            with contextlib.suppress(RuntimeError):  # its loop is closed: the writer ends anyway
                self._loop.call_soon(self._wake_writer)  # runs once the loop is done with this burst

    def stop(self, error: RecordingError) -> None:
        """Stop recording because of ``error`` (a storage fault here or in a sibling recorder):
        queued and later frames are dropped and counted; ``on_error`` is called the first time.
        Call it on the event loop."""
        if self.error is not None:
            return
        self.error = error
        with self._lock:
            self.dropped += len(self._queue)
            self._queue.clear()
        self._wake.set()
        self._wake_writer()
        if self.on_error is not None:
            self.on_error(error)

    # -- the writer thread ----------------------------------------------------------------------

    def _take(self) -> list[QueuedFrame]:
        # Up to BATCH_MAX frames from the head of the queue (each popleft is atomic: write() may
        # append meanwhile; the lock keeps stop() from clearing between the count and the pops)
        queue = self._queue
        with self._lock:
            batch = list(starmap(queue.popleft, repeat((), min(len(queue), self.BATCH_MAX))))
        self._bytes_out += sum(len(frame) for _, frame, _ in batch)
        return batch

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        # Run ``callback(*args)`` on the event loop (from the writer thread)
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            self._loop.call_soon_threadsafe(callback, *args)

    def _writer(self) -> None:
        recorder = self.recorder
        batch: list[QueuedFrame] = []
        written = 0
        last_flush = time.monotonic()
        try:
            while self.error is None:
                closing = self._closing
                batch, written = self._take(), 0
                if batch:
                    before = recorder.frames
                    try:
                        recorder.write_batch(batch)
                    finally:
                        written = recorder.frames - before
                now = time.monotonic()
                if now - last_flush >= self.flush_interval:
                    recorder.flush()
                    last_flush = now
                if (closing and not self._queue) or (self._loop is not None and self._loop.is_closed()):
                    break  # closed, or its loop is gone without closing it: end the file
                if len(self._queue) < self.BATCH_MAX:  # keeping up: let the next batch gather
                    self._wake.wait(self.batch_interval)  # at most a pass per batch_interval
                    self._kick.acquire(blocking=False)  # a kick from before the pause is stale
                    self._kick_pending = False  # re-armed: the next frame's write schedules a kick
                    if not self._closing and self.error is None:
                        # the loop's wake-up: after the next burst of frames (at most 20 ms while
                        # frames wait; when none do, until the next flush is due, 1 s at most)
                        due = max(0.0, last_flush + self.flush_interval - time.monotonic())
                        self._kick.acquire(timeout=min(due, 0.02 if self._queue else 1.0))
            batch, written = [], 0
            if recorder.error is None:  # closing, or stopped by a sibling's fault: end the file
                recorder.close()
        except RecordingError as exc:
            self._call(self._fault, exc, len(batch) - written)
        except Exception as exc:  # a bug: stop recording, reported as a fault, never silently
            log.exception("recorder writer failed", venue=recorder.venue, conn=recorder.conn)
            err = RecordingError(f"recording {recorder._path()}: writer failed: {exc!r}", path=str(recorder._path()))
            recorder._stop(err)
            self._call(self._fault, err, len(batch) - written)
        finally:
            self._call(self._finished)

    def _wake_writer(self) -> None:
        # On the loop (the only thread that releases the lock; the writer only acquires it)
        if self._kick.locked():
            self._kick.release()

    def _fault(self, error: RecordingError, lost: int) -> None:
        # On the loop: the writer met ``error``; ``lost`` frames of its batch were not written
        self.dropped += lost
        self.stop(error)

    def _finished(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    async def close(self) -> None:
        """Write what is queued, flush, and close the file (the writer thread ends). Never raises
        a storage fault: see :attr:`error` (set, and ``on_error`` called, if the last writes met
        one)."""
        self._closing = True
        self._wake.set()
        self._wake_writer()
        self.start()  # never started: the thread writes what is queued and closes
        if self._done is not None:
            await self._done
        if self._thread is not None:
            self._thread.join(timeout=1.0)  # it only has to return: its last act was to call back
        if self._queue:  # queued after the writer's last pass, or never to be written
            self.dropped += len(self._queue)
            self._queue.clear()
        if self.recorder.error is not None:
            self.stop(self.recorder.error)

    async def __aenter__(self) -> AsyncFrameRecorder:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Recordings:
    """The recorders of one venue under ``out_dir``: call it with a connection name (once per
    dial) for a started-later :class:`AsyncFrameRecorder` (a sessions' ``recorder`` factory).

    The first storage fault of any of them stops recording for the whole venue: :attr:`error` is
    set, ``on_error(error)`` is called once (``hadron record`` stops; the runtime reports its feed
    DEGRADED), and every recorder made afterwards is stopped from the start (its frames are
    dropped and counted, nothing is written). :meth:`failed` reports a fault met elsewhere (the
    REST poller's synchronous recorder).

    Args:
        out_dir: the recording folder (files go to ``out_dir/<venue>/``).
        venue: the venue name on every line.
        on_error: called once with the first :class:`~hadron.errors.RecordingError`.
        max_queue: each recorder's queue bound (frames; its bytes are bounded by
            :data:`MAX_QUEUE_BYTES`).
    """

    def __init__(
        self,
        out_dir: Path,
        venue: str,
        *,
        on_error: Callable[[RecordingError], None] | None = None,
        max_queue: int = MAX_QUEUE,
    ) -> None:
        self.out_dir = out_dir
        self.venue = venue
        self.on_error = on_error
        self.max_queue = max_queue
        self.error: RecordingError | None = None
        """The first storage fault (``None``: recording is healthy)."""
        self._recorders: list[AsyncFrameRecorder] = []

    def __call__(self, conn: str) -> AsyncFrameRecorder:
        recorder = AsyncFrameRecorder(
            FrameRecorder(self.out_dir, self.venue, conn), max_queue=self.max_queue, on_error=self.failed
        )
        self._recorders = [r for r in self._recorders if r.error is None and not r._closing] + [recorder]
        if self.error is not None:
            recorder.error = self.error  # stopped from the start: nothing is written
        return recorder

    def failed(self, error: RecordingError) -> None:
        """Record ``error`` as the venue's storage fault (the first one wins) and stop every
        recorder still writing."""
        if self.error is not None:
            return
        self.error = error
        for recorder in self._recorders:
            recorder.stop(error)
        if self.on_error is not None:
            self.on_error(error)

    @property
    def status(self) -> str:
        """``"ok"`` while recording, ``"degraded"`` after a storage fault."""
        return "ok" if self.error is None else "degraded"


def mark_health(health: dict[str, Any], recordings: Recordings | None) -> dict[str, Any]:
    """Add the recording's state to a live feed's ``health`` (see ``LiveFeed.health``) and return
    it: ``status`` is ``"degraded"`` after a storage fault stopped the recording (the books are
    still kept), else ``"ok"``, on the feed and on each of its connections, with ``recording_error``
    (the one-line cause, or ``None``)."""
    error = str(recordings.error) if recordings is not None and recordings.error is not None else None
    status = "degraded" if error is not None else "ok"
    health["status"] = status
    health["recording_error"] = error
    for entry in health.get("connections", []):
        entry["status"] = status
        entry["recording_error"] = error
    return health
