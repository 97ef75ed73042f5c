"""Writing frames to a client of a loopback venue: batched, one socket write per batch.

A loopback venue playing a capture as fast as possible would otherwise spend most of its time on
one ``send`` (and one system call) per frame, and a live-path benchmark would measure the venue
rather than the client.

Burst mode (``hadron fake-venue … --speed 0 --burst``) goes further: a client's frames are framed
ahead as they are built (:class:`FramedStream`: unmasked server text frames, RFC 6455 §5.2, cut
into chunks of whole frames) and each chunk goes to the socket in one write
(:func:`write_framed`), bypassing websockets' per-frame framing; only for connections without a
negotiated extension (the loopback servers never negotiate compression).

:func:`free_port` picks the port of a loopback venue started in another process.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

WRITE_BATCH = 256
"""Most frames written to a client's socket at once."""
BURST_CHUNK = 256 * 1024
"""Bytes of whole frames a :class:`FramedStream` gathers into one chunk (one socket write)."""

T = TypeVar("T", bytes, str)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now (bound and released at once: another process may still take
    it before the loopback venue does)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def take_batch(queue: asyncio.Queue[T], first: T, limit: int = WRITE_BATCH) -> list[T]:
    """``first`` and whatever else ``queue`` already holds, up to ``limit`` frames, in order."""
    frames = [first]
    while len(frames) < limit:
        try:
            frames.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return frames


async def send_text_frames(ws: ServerConnection, frames: list[bytes] | list[str]) -> None:
    """Send each of ``frames`` as its own text message, written to the socket in one go.

    Raises ``websockets.ConnectionClosed`` when the connection is (or gets) closed, as ``send`` does.
    """
    async with ws.send_context():  # websockets' documented way to write through the protocol
        protocol = ws.protocol
        for frame in frames:
            protocol.send_text(frame if isinstance(frame, bytes) else frame.encode())
        ws.transport.writelines(protocol.data_to_send())


_SHORT_HEADERS = [bytes((0x81, n)) for n in range(126)]
_HEADER_16 = struct.Struct("!BBH").pack
_HEADER_64 = struct.Struct("!BBQ").pack


def text_frame_header(size: int) -> bytes:
    """The header of an unmasked, final text frame carrying ``size`` payload bytes (RFC 6455 §5.2)."""
    if size < 126:
        return _SHORT_HEADERS[size]
    if size < 1 << 16:
        return _HEADER_16(0x81, 126, size)
    return _HEADER_64(0x81, 127, size)


class FramedStream:
    """One client's outgoing text frames, framed ahead and cut into chunks of whole frames.

    :meth:`append` frames a payload into the open chunk; a chunk of at least ``chunk`` bytes is
    sealed. :meth:`take` hands out the oldest chunk (sealing the open one when it is the last), so
    a chunk never ends inside a frame and websockets' own writes (pong, close) can go between two.
    ``wake`` is set for the writer when there is something to write.
    """

    __slots__ = ("_chunk", "_open", "_open_frames", "_sealed", "frames", "size", "wake")

    def __init__(self, chunk: int = BURST_CHUNK) -> None:
        self._chunk = chunk
        self._sealed: deque[tuple[bytearray, int]] = deque()
        self._open = bytearray()
        self._open_frames = 0
        self.frames = 0
        """Frames not taken yet."""
        self.size = 0
        """Bytes (framed) not taken yet."""
        self.wake = asyncio.Event()

    def append(self, payload: bytes) -> None:
        """Frame ``payload`` as one text frame, after every frame appended before."""
        header = text_frame_header(len(payload))
        chunk = self._open
        chunk += header
        chunk += payload
        self._open_frames += 1
        self.frames += 1
        self.size += len(header) + len(payload)
        if len(chunk) >= self._chunk:
            self._seal()

    def _seal(self) -> None:
        self._sealed.append((self._open, self._open_frames))
        self._open = bytearray()
        self._open_frames = 0

    def take(self) -> tuple[bytearray, int] | None:
        """The oldest chunk not taken and how many frames it holds; ``None``: nothing pending."""
        if not self._sealed:
            if not self._open_frames:
                return None
            self._seal()
        chunk, frames = self._sealed.popleft()
        self.frames -= frames
        self.size -= len(chunk)
        return chunk, frames


async def write_framed(ws: ServerConnection, chunk: bytes | bytearray) -> None:
    """Write ``chunk`` (whole frames from a :class:`FramedStream`) to the socket as it is, then wait
    until the transport's buffer has drained below its low-water mark (backpressure).

    Raises ``websockets.ConnectionClosed`` when the connection is (or gets) closed, as ``send`` does.
    """
    async with ws.send_context():  # checks the state; on exit, flushes websockets' data and drains
        ws.transport.write(chunk)


class BurstGate:
    """Burst mode's gate over a loopback venue's clients: while a round of the capture is being
    built (from the first subscription on) the frames built are held in each client's
    :class:`FramedStream`; once open, they go out (:func:`write_burst`).

    Args:
        enabled: burst mode is on (off: never holding).
        started: set once the capture started playing (the first subscription).
    """

    __slots__ = ("_open", "_started", "enabled")

    def __init__(self, enabled: bool, started: asyncio.Event) -> None:
        self.enabled = enabled
        self._started = started
        self._open = False

    @property
    def holding(self) -> bool:
        """The frames built must wait (a round is being built)."""
        return self.enabled and self._started.is_set() and not self._open

    def set_open(self, is_open: bool, outs: Iterable[FramedStream | None]) -> None:
        """Let the frames built go out (waking the writers of ``outs`` with frames pending), or
        hold them again."""
        self._open = is_open
        if is_open:
            for out in outs:
                if out is not None and out.frames:
                    out.wake.set()


async def write_burst(
    ws: ServerConnection,
    out: FramedStream,
    gate: BurstGate,
    sent: Callable[[int], object],
    lost: Callable[[int], bool] | None = None,
) -> None:
    """Burst mode's writer of one client: each time ``out.wake`` is set, the chunks ``out`` holds,
    one socket write each (:func:`write_framed`), while ``gate`` is not holding; ``sent(frames)``
    after each chunk. ``lost(frames)`` returning True drops a chunk instead (frames lost on the
    way, counted by the caller). Returns when the connection closes or the task is cancelled."""
    try:
        while True:
            await out.wake.wait()
            out.wake.clear()
            while not gate.holding and (taken := out.take()) is not None:
                if lost is not None and lost(taken[1]):
                    continue
                await write_framed(ws, taken[0])
                sent(taken[1])
    except (ConnectionClosed, asyncio.CancelledError):
        return
