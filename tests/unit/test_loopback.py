"""The loopback venues' batched writes: order kept, batches bounded."""

from __future__ import annotations

import asyncio

from hadron.venues.loopback import WRITE_BATCH, take_batch


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
