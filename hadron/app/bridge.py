"""A replay in a worker thread feeding the event loop: :class:`ReplayFeeder`.

The replay (decoding, normalizing, books) runs in its own thread; its events reach the loop in
chunks through an :class:`asyncio.Queue`, at most ``max_chunks`` waiting, so a slow publisher slows
the replay down instead of filling memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path

from hadron.app.replay import Replay
from hadron.model.events import MarketEvent


class _Stopped(Exception):
    pass


class ReplayFeeder:
    """Runs :class:`Replay` in a worker thread and hands its events to the event loop in chunks.

    At most ``max_chunks`` chunks wait in between, so a slow publisher slows the replay down
    instead of filling memory.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        dead_letter: Path,
        seq_check: str = "auto",
        chunk: int = 512,
        max_chunks: int = 8,
    ) -> None:
        self.paths = list(paths)
        self.dead_letter = dead_letter
        self.seq_check = seq_check
        self.chunk = chunk
        self.replay: Replay | None = None
        self.error: BaseException | None = None
        self._slots = threading.Semaphore(max_chunks)
        self._stop = threading.Event()
        self._queue: asyncio.Queue[list[MarketEvent] | None] = asyncio.Queue()
        self._finished = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="hadron-ingest-replay", daemon=True)

    async def chunks(self) -> AsyncGenerator[list[MarketEvent], None]:
        """Yield the replay's events in order, in chunks, until it ends.

        Raises:
            InputError: a recording cannot be read (raised by the replay).
        """
        self._thread.start()
        while True:
            chunk = await self._queue.get()
            if chunk is None:
                break
            self._slots.release()
            yield chunk
        if self.error is not None:
            raise self.error

    async def stop(self) -> None:
        """Stop the replay (if still running) and wait for its thread."""
        self._stop.set()
        if self._thread.is_alive():
            await self._finished.wait()

    def _run(self) -> None:
        buffer: list[MarketEvent] = []

        def on_event(event: MarketEvent) -> None:
            buffer.append(event)
            if len(buffer) >= self.chunk:
                self._send(buffer[:])
                buffer.clear()

        try:
            self.replay = Replay(dead_letter=self.dead_letter, seq_check=self.seq_check, on_event=on_event)
            self.replay.run(self.paths)
            if buffer:
                self._send(buffer[:])
        except _Stopped:
            pass
        except BaseException as exc:
            self.error = exc
        finally:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
                self._loop.call_soon_threadsafe(self._finished.set)

    def _send(self, chunk: list[MarketEvent]) -> None:
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                raise _Stopped
        if self._stop.is_set():
            raise _Stopped
        self._loop.call_soon_threadsafe(self._queue.put_nowait, chunk)
