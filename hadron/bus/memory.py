"""The in-process bus: asyncio queues, one per subscriber, ordered delivery to every subscriber.

The default bus when ingest and strategy share one process. Envelopes are passed as objects (no
encoding). Each subscriber has a bounded queue drained by its own task; what happens when a
queue is full is the bus's ``overflow`` policy, and every overflow is counted:

* ``"block"`` (default): the publisher waits for room (back-pressure, nothing lost).
* ``"drop_oldest"``: the oldest queued envelope is discarded to make room (counted in ``dropped``).
* ``"drop_newest"``: the new envelope is not queued for that subscriber (counted in ``dropped``).

Message ids seen within the last ``duplicate_window`` envelopes are dropped on publish, as
JetStream does within its time window. ``durable`` names are accepted for symmetry with NATS but
nothing outlives the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import structlog

from hadron.bus.base import (
    DEFAULT_PREFIX,
    Envelope,
    Handler,
    PublishResult,
    subject_for,
    subject_matches,
    validate_durable,
    validate_filter,
)
from hadron.errors import BusError, ConfigError

Overflow = Literal["block", "drop_oldest", "drop_newest"]
OVERFLOW_POLICIES: tuple[Overflow, ...] = ("block", "drop_oldest", "drop_newest")

log = structlog.get_logger("hadron.bus")


@dataclass(slots=True)
class MemoryBusStats:
    """Counters of one :class:`InProcessBus` (plain ints).

    ``published``: envelopes accepted; ``duplicates``: envelopes dropped because their message id
    was seen within the window; ``overflows``: times a subscriber's queue was full when an
    envelope arrived; ``dropped``: envelopes a subscriber lost to a drop policy.
    """

    published: int = 0
    duplicates: int = 0
    overflows: int = 0
    dropped: int = 0


class MemorySubscription:
    """One subscriber of an :class:`InProcessBus`: its queue and the task that drains it.

    ``subjects`` is the full filter (prefix included).
    """

    def __init__(self, bus: InProcessBus, handler: Handler, subjects: str, durable: str | None, size: int) -> None:
        self.bus = bus
        self.handler = handler
        self.subjects = subjects
        self.durable = durable
        self.queue: asyncio.Queue[Envelope] = asyncio.Queue(size)
        self.everything = subjects == f"{bus.prefix}.>"
        self.dropped = 0
        self.overflows = 0
        self._delivered = 0
        self._failed = 0
        self._closed = False
        self._handling = 0
        self._task = asyncio.create_task(self._run(), name=f"hadron-bus-sub-{durable or id(self)}")

    @property
    def delivered(self) -> int:
        """Envelopes whose handler returned without raising."""
        return self._delivered

    @property
    def failed(self) -> int:
        """Envelopes whose handler raised (logged, then skipped)."""
        return self._failed

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def pending(self) -> int:
        """Envelopes queued for this subscriber or being handled right now."""
        return self.queue.qsize() + self._handling

    async def join(self) -> None:
        """Wait until every envelope queued so far has been handled."""
        if not self._closed:
            await self.queue.join()

    async def close(self) -> None:
        """Stop at once: envelopes still queued are discarded."""
        if self._closed:
            return
        self._closed = True
        self.bus._remove(self)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        queue, handler = self.queue, self.handler
        while True:
            envelope = await queue.get()
            self._handling = 1
            try:
                result = handler(envelope)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._failed += 1
                log.exception("bus handler failed", msg_id=envelope.msg_id, error=str(exc))
            else:
                self._delivered += 1
            finally:
                self._handling = 0
                queue.task_done()


class InProcessBus:
    """An :class:`~hadron.bus.base.EventBus` inside one asyncio loop.

    Args:
        prefix: subject prefix used to match subscription filters.
        queue_size: envelopes each subscriber's queue holds (≥ 1).
        overflow: what a full queue does (see the module docstring).
        duplicate_window: message ids remembered for de-duplication (0 disables it).
        close_timeout_s: how long :meth:`close` waits for subscribers to finish their queues.

    Raises:
        ConfigError: a bad ``queue_size`` or ``overflow``.
    """

    def __init__(
        self,
        *,
        prefix: str = DEFAULT_PREFIX,
        queue_size: int = 65_536,
        overflow: Overflow = "block",
        duplicate_window: int = 100_000,
        close_timeout_s: float = 5.0,
    ) -> None:
        if queue_size < 1:
            raise ConfigError(f"queue_size must be at least 1, not {queue_size}")
        if overflow not in OVERFLOW_POLICIES:
            raise ConfigError(f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}, not {overflow!r}")
        self.prefix = prefix
        self.queue_size = queue_size
        self.overflow: Overflow = overflow
        self.duplicate_window = duplicate_window
        self.close_timeout_s = close_timeout_s
        self.stats = MemoryBusStats()
        self._subs: list[MemorySubscription] = []
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._closed = False

    # -- publishing ----------------------------------------------------------------------------

    async def publish(self, envelope: Envelope) -> PublishResult:
        """Queue ``envelope`` for every matching subscriber (see the class for overflow).

        Raises:
            BusError: the bus is closed.
        """
        if self._closed:
            raise BusError("publish on a closed in-process bus")
        if not self._remember(envelope.msg_id):
            self.stats.duplicates += 1
            return PublishResult(0, 1)
        self.stats.published += 1
        subject: str | None = None
        for sub in self._subs:
            if not sub.everything:
                if subject is None:
                    subject = subject_for(envelope.event, self.prefix)
                if not subject_matches(sub.subjects, subject):
                    continue
            queue = sub.queue
            try:
                queue.put_nowait(envelope)
            except asyncio.QueueFull:
                await self._overflow(sub, envelope)
        return PublishResult(1, 0)

    async def publish_many(self, envelopes: Iterable[Envelope]) -> PublishResult:
        """Publish each envelope in order; return the totals.

        Raises:
            BusError: the bus is closed.
        """
        stored = duplicates = 0
        publish = self.publish
        for envelope in envelopes:
            result = await publish(envelope)
            stored += result.stored
            duplicates += result.duplicates
        return PublishResult(stored, duplicates)

    def _remember(self, msg_id: str) -> bool:
        if self.duplicate_window <= 0:
            return True
        seen = self._seen
        if msg_id in seen:
            return False
        seen.add(msg_id)
        order = self._seen_order
        order.append(msg_id)
        if len(order) > self.duplicate_window:
            seen.discard(order.popleft())
        return True

    async def _overflow(self, sub: MemorySubscription, envelope: Envelope) -> None:
        self.stats.overflows += 1
        sub.overflows += 1
        queue = sub.queue
        if self.overflow == "block":
            await queue.put(envelope)
            return
        self.stats.dropped += 1
        sub.dropped += 1
        if self.overflow == "drop_oldest":
            queue.get_nowait()
            queue.task_done()
            queue.put_nowait(envelope)

    # -- subscribing ---------------------------------------------------------------------------

    async def subscribe(
        self,
        handler: Handler,
        *,
        durable: str | None = None,
        subjects: str = ">",
    ) -> MemorySubscription:
        """Deliver every envelope published from now on that matches ``subjects`` to ``handler``.

        Raises:
            ConfigError: a bad ``durable`` name or ``subjects`` filter, or ``durable`` is in use.
            BusError: the bus is closed.
        """
        if self._closed:
            raise BusError("subscribe on a closed in-process bus")
        validate_filter(subjects)
        if durable is not None:
            validate_durable(durable)
            if any(s.durable == durable for s in self._subs):
                raise ConfigError(f"durable subscription {durable!r} is already active on this bus")
        sub = MemorySubscription(self, handler, f"{self.prefix}.{subjects}", durable, self.queue_size)
        self._subs.append(sub)
        return sub

    def _remove(self, sub: MemorySubscription) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(sub)

    async def drain(self) -> None:
        """Wait until every subscriber has handled everything published so far."""
        for sub in list(self._subs):
            await sub.join()

    async def close(self) -> None:
        """Refuse new publishes, let subscribers finish their queues (up to ``close_timeout_s``),
        then stop them."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self.drain(), self.close_timeout_s)
        except TimeoutError:
            log.warning("in-process bus closed with envelopes undelivered", timeout_s=self.close_timeout_s)
        for sub in list(self._subs):
            await sub.close()
