"""Writing frames to a client of a loopback venue: batched, one socket write per batch.

A loopback venue playing a capture as fast as possible would otherwise spend most of its time on
one ``send`` (and one system call) per frame, and a live-path benchmark would measure the venue
rather than the client.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from websockets.asyncio.server import ServerConnection

WRITE_BATCH = 256
"""Most frames written to a client's socket at once."""

T = TypeVar("T", bytes, str)


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
