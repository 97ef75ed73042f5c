"""The consumer side of the NATS bus: one JetStream pull consumer and the task that drains it.

A :class:`NatsSubscription` is made by :meth:`hadron.bus.nats.NatsBus.subscribe`: it fetches
batches, decodes each message into an :class:`~hadron.bus.base.Envelope`, hands it to the
handler, and acks it once the handler returns. A handler that raises gets the message nak'd for
redelivery after ``nak_delay_s``; a message that is not an envelope is terminated (never
redelivered). Closing finishes the envelope in hand and naks the rest of the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from typing import TYPE_CHECKING

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from hadron.bus.base import BusDecodeError, Handler, decode_envelope
from hadron.errors import BusError

if TYPE_CHECKING:
    from hadron.bus.nats import NatsBus

NATS_ERRORS = (nats.errors.Error, OSError, TimeoutError)
"""What the NATS client raises when the server or the connection fails."""

log = structlog.get_logger("hadron.bus")


class NatsSubscription:
    """One pull consumer and the task that fetches, hands each envelope to the handler, and acks.

    Attributes:
        consumer: the JetStream consumer name (the durable name, or a generated one).
        durable: whether the consumer outlives this subscription.
    """

    def __init__(
        self,
        bus: NatsBus,
        psub: JetStreamContext.PullSubscription,
        handler: Handler,
        *,
        consumer: str,
        durable: bool,
        batch: int,
        fetch_timeout_s: float,
        nak_delay_s: float,
    ) -> None:
        self.bus = bus
        self.consumer = consumer
        self.durable = durable
        self._psub = psub
        self._handler = handler
        self._batch = batch
        self._fetch_timeout_s = fetch_timeout_s
        self._nak_delay_s = nak_delay_s
        self._delivered = 0
        self._failed = 0
        self._closing = False
        self._closed = False
        self._task = asyncio.create_task(self._run(), name=f"hadron-nats-sub-{consumer}")

    @property
    def delivered(self) -> int:
        """Envelopes handled and acked."""
        return self._delivered

    @property
    def failed(self) -> int:
        """Envelopes whose handler raised (nak'd for redelivery) or that could not be decoded
        (terminated: never redelivered)."""
        return self._failed

    async def pending(self) -> int:
        """Messages of the stream this consumer has not had acked yet (waiting + in flight).

        Raises:
            BusError: the server did not answer.
        """
        try:
            info = await self._psub.consumer_info()
        except NATS_ERRORS as exc:
            raise BusError(f"consumer info of {self.consumer}: {exc!r}") from None
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def close(self) -> None:
        """Finish the envelope in hand, nak the rest of the fetched batch (redelivered at once to
        the next subscriber), stop fetching, and delete the consumer unless it is durable."""
        if self._closed:
            return
        self._closed = True
        self._closing = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._fetch_timeout_s + 5.0)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*NATS_ERRORS):
            await self._psub.unsubscribe()
        if not self.durable:
            with contextlib.suppress(*NATS_ERRORS):
                await self.bus.js.delete_consumer(self.bus.stream, self.consumer)
        self.bus._forget(self)

    def _stopping(self) -> bool:
        return self._closing

    async def _run(self) -> None:
        failures = 0
        while not self._stopping():
            try:
                msgs = await self._psub.fetch(self._batch, timeout=self._fetch_timeout_s)
            except TimeoutError:
                failures = 0
                continue
            except Exception as exc:
                if self._stopping():
                    break
                failures += 1
                log.warning("bus fetch failed", consumer=self.consumer, error=repr(exc), failures=failures)
                await asyncio.sleep(min(5.0, 0.1 * 2 ** min(failures, 6)))
                continue
            failures = 0
            for i, msg in enumerate(msgs):
                if self._stopping():
                    await self._nak_all(msgs[i:])
                    break
                await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        try:
            envelope = decode_envelope(msg.data)
        except BusDecodeError as exc:
            self._failed += 1
            log.error("bus message is not an envelope", subject=msg.subject, error=str(exc))
            with contextlib.suppress(*NATS_ERRORS):
                await msg.term()
            return
        try:
            result = self._handler(envelope)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            self._failed += 1
            log.exception("bus handler failed", msg_id=envelope.msg_id, error=str(exc))
            with contextlib.suppress(*NATS_ERRORS):
                await msg.nak(delay=self._nak_delay_s)
            return
        try:
            await msg.ack()
        except NATS_ERRORS as exc:
            log.warning("bus ack failed (the message will be redelivered)", msg_id=envelope.msg_id, error=repr(exc))
        self._delivered += 1

    async def _nak_all(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            with contextlib.suppress(*NATS_ERRORS):
                await msg.nak()
