"""The loopback venues' batched writes: order kept, batches bounded; burst mode's framing."""

from __future__ import annotations

import asyncio

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from hadron.venues.loopback import WRITE_BATCH, FramedStream, take_batch


def test_take_batch_keeps_order_and_stops_at_the_limit_or_an_empty_queue() -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for i in range(1, WRITE_BATCH + 44):
        queue.put_nowait(b"%d" % i)
    first = take_batch(queue, b"0")
    assert first == [b"%d" % i for i in range(WRITE_BATCH)]
    rest = take_batch(queue, queue.get_nowait())
    assert rest == [b"%d" % i for i in range(WRITE_BATCH, WRITE_BATCH + 44)]
    assert queue.empty()
    assert take_batch(queue, b"x", limit=1) == [b"x"]


def test_framed_stream_frames_parse_back_with_websockets_in_chunks_of_whole_frames() -> None:
    payloads = [b"", b"x" * 125, b"y" * 126, b"z" * 65_535, b"w" * 65_536, *(b'{"n":%d}' % i for i in range(3_000))]
    stream = FramedStream(chunk=4_096)
    for payload in payloads:
        stream.append(payload)
    assert stream.frames == len(payloads)
    framed = stream.size
    client = ClientProtocol(parse_uri("ws://127.0.0.1/"), state=State.OPEN, max_size=None)
    got: list[bytes] = []
    taken_frames = taken_bytes = 0
    while (taken := stream.take()) is not None:
        chunk, frames = taken
        client.receive_data(bytes(chunk))
        events = client.events_received()  # a chunk holds whole frames: all of them parse at once
        assert len(events) == frames
        assert all(isinstance(e, Frame) and e.opcode is Opcode.TEXT and e.fin for e in events)
        got.extend(bytes(e.data) for e in events if isinstance(e, Frame))
        taken_frames += frames
        taken_bytes += len(chunk)
    assert got == payloads
    assert (taken_frames, taken_bytes) == (len(payloads), framed)
    assert (stream.frames, stream.size) == (0, 0)
    assert client.data_to_send() == []  # server frames are unmasked: nothing to complain about
