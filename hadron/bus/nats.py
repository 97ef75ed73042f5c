"""The NATS JetStream bus: normalized events spread over processes and machines.

:meth:`NatsBus.connect` creates (or updates) one JetStream stream holding ``<prefix>.>`` with
limits (age, bytes, duplicate window). Every envelope is published on its subject (see
:mod:`hadron.bus.base`) with the ``Nats-Msg-Id`` header set to its ``msg_id``: JetStream drops a
second message with the same id within ``duplicate_window_s``, so a restarted ingest process can
republish what it may already have published. :meth:`NatsBus.publish_many` pipelines publishes
with a bounded number of unacknowledged ones in flight.

:meth:`NatsBus.subscribe` reads through a JetStream pull consumer with explicit acks, acking each
message after its handler returns. A durable consumer (``durable=NAME``) starts at the beginning
of the stream the first time and, because the server remembers what was acked, a restarted
subscriber resumes where the last one stopped; without a name the consumer is ephemeral and sees
only what is published after it starts. A message whose handler raised is redelivered after
``nak_delay_s``, up to ``max_deliver`` times in all (the consumer's task:
:mod:`hadron.bus.nats_consumer`).

URLs: ``nats://host:4222`` (or ``tls://…``; several servers comma-separated;
``nats://user:pass@host`` for credentials), optionally followed by bus options as a query, e.g.
``nats://127.0.0.1:4222?stream=HADRON&prefix=hadron.v1&storage=memory`` (see :func:`open_bus`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import parse_qsl

import nats.errors
import nats.js.errors
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    PubAck,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from hadron.bus.base import (
    DEFAULT_PREFIX,
    Envelope,
    EventBus,
    Handler,
    PublishResult,
    encode_envelope,
    subject_for,
    validate_durable,
    validate_filter,
)
from hadron.bus.memory import InProcessBus
from hadron.bus.nats_consumer import NATS_ERRORS as _NATS_ERRORS
from hadron.bus.nats_consumer import NatsSubscription
from hadron.config import mask_url
from hadron.errors import BusError, ConfigError

MSG_ID_HEADER = "Nats-Msg-Id"
"""The JetStream header whose value it de-duplicates on."""

log = structlog.get_logger("hadron.bus")


def _mask(url: str) -> str:
    # A token (nats://tok@h), a password (nats://u:pw@h) or a token parameter, masked
    return mask_url(url)


class NatsBus:
    """An :class:`~hadron.bus.base.EventBus` on NATS JetStream; build it with :meth:`connect`.

    Attributes:
        nc: the NATS connection.
        js: its JetStream context.
        stream: the stream name.
        prefix: the subject prefix.
    """

    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        *,
        stream: str,
        prefix: str,
        max_in_flight: int,
        ack_timeout_s: float,
        ack_wait_s: float,
        max_deliver: int,
        max_ack_pending: int,
    ) -> None:
        self.nc = nc
        self.js = js
        self.stream = stream
        self.prefix = prefix
        self.max_in_flight = max_in_flight
        self.ack_timeout_s = ack_timeout_s
        self.ack_wait_s = ack_wait_s
        self.max_deliver = max_deliver
        self.max_ack_pending = max_ack_pending
        self.published = 0
        """Envelopes the stream stored (acked and not duplicates)."""
        self.duplicates = 0
        """Envelopes the stream acked as duplicates (same message id within its window)."""
        self.connection = _ConnectionEvents("")
        """Connection callbacks and their counters (``disconnects``, ``reconnects``)."""
        self._subs: list[NatsSubscription] = []
        self._closed = False

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        stream: str = "HADRON",
        prefix: str = DEFAULT_PREFIX,
        subjects: str | None = None,
        max_age_s: float = 86_400.0,
        max_bytes: int = 1 << 30,
        duplicate_window_s: float = 120.0,
        storage: Literal["file", "memory"] = "file",
        replicas: int = 1,
        max_in_flight: int = 1_024,
        ack_timeout_s: float = 10.0,
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
        max_ack_pending: int = 20_000,
        connect_timeout_s: float = 5.0,
        name: str | None = None,
    ) -> NatsBus:
        """Connect to NATS and create or update the stream.

        Args:
            url: ``nats://host:port`` (or ``tls://``), several comma-separated, credentials allowed.
            stream: JetStream stream name.
            prefix: subject prefix of events (``hadron.v1``); a different prefix keeps test or
                tenant traffic apart.
            subjects: the stream's subject filter; ``<prefix>.>`` by default.
            max_age_s: messages older than this many seconds are discarded (> 0).
            max_bytes: the stream keeps at most this many bytes, discarding the oldest (-1: no
                limit).
            duplicate_window_s: seconds during which a repeated ``Nats-Msg-Id`` is dropped
                (≤ ``max_age_s``); a restarted ingest must republish within it.
            storage: ``"file"`` or ``"memory"``.
            replicas: stream replicas (clustered servers).
            max_in_flight: unacknowledged publishes :meth:`publish_many` keeps in flight.
            ack_timeout_s: seconds to wait for one publish acknowledgement.
            ack_wait_s: seconds a consumer waits for a handler's ack before redelivering.
            max_deliver: deliveries of one message to a consumer before it gives up on it.
            max_ack_pending: unacked messages a consumer may have outstanding.
            connect_timeout_s: seconds to keep trying to reach a server at start; afterwards the
                connection reconnects forever.
            name: the client name shown by the server.

        Raises:
            ConfigError: a bad option, or the server refused the stream's configuration (e.g. its
                subjects overlap another stream's).
            BusError: no server answered within ``connect_timeout_s``, or JetStream is not enabled.
        """
        servers = [s.strip() for s in url.split(",") if s.strip()]
        if not servers or not all(s.startswith(("nats://", "tls://")) for s in servers):
            raise ConfigError(f"bus URL {_mask(url)!r}: expected nats://host:port or tls://host:port")
        _check_options(stream, max_age_s, duplicate_window_s, max_in_flight, storage)
        validate_filter(prefix)
        stream_subjects = validate_filter(subjects or f"{prefix}.>")
        nc = Client()
        events = _ConnectionEvents(_mask(url))
        try:
            await asyncio.wait_for(
                nc.connect(
                    servers=servers,
                    name=name,
                    connect_timeout=max(1, round(connect_timeout_s)),
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    error_cb=events.error,
                    disconnected_cb=events.disconnected,
                    reconnected_cb=events.reconnected,
                ),
                connect_timeout_s,
            )
        except (TimeoutError, *_NATS_ERRORS) as exc:
            events.closing = True
            await nc.close()
            cause = events.last_error or exc
            raise BusError(f"cannot reach NATS at {_mask(url)} within {connect_timeout_s} s: {cause!r}") from None
        events.connected = True
        js = nc.jetstream(timeout=ack_timeout_s, publish_async_max_pending=max_in_flight * 2)
        config = StreamConfig(
            name=stream,
            subjects=[stream_subjects],
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            max_age=max_age_s,
            max_bytes=max_bytes,
            duplicate_window=duplicate_window_s,
            storage=StorageType.FILE if storage == "file" else StorageType.MEMORY,
            num_replicas=replicas,
        )
        try:
            await _ensure_stream(js, config)
        except BaseException:
            events.closing = True
            await nc.close()
            raise
        log.info("bus connected", url=_mask(url), stream=stream, subjects=stream_subjects)
        bus = cls(
            nc,
            js,
            stream=stream,
            prefix=prefix,
            max_in_flight=max_in_flight,
            ack_timeout_s=ack_timeout_s,
            ack_wait_s=ack_wait_s,
            max_deliver=max_deliver,
            max_ack_pending=max_ack_pending,
        )
        bus.connection = events
        return bus

    # -- publishing ----------------------------------------------------------------------------

    def _headers(self, envelope: Envelope) -> dict[str, str]:
        return {MSG_ID_HEADER: envelope.msg_id}

    async def publish(self, envelope: Envelope) -> PublishResult:
        """Publish one envelope and wait for JetStream's acknowledgement.

        Raises:
            BusError: not acknowledged within ``ack_timeout_s``, or refused.
        """
        self._check_open()
        try:
            ack = await self.js.publish(
                subject_for(envelope.event, self.prefix),
                encode_envelope(envelope),
                timeout=self.ack_timeout_s,
                headers=self._headers(envelope),
            )
        except _NATS_ERRORS as exc:
            raise BusError(f"publish {envelope.msg_id}: {exc!r}") from None
        return self._tally(ack, PublishResult(0, 0))

    def _tally(self, ack: PubAck, result: PublishResult) -> PublishResult:
        if ack.duplicate:
            self.duplicates += 1
            return PublishResult(result.stored, result.duplicates + 1)
        self.published += 1
        return PublishResult(result.stored + 1, result.duplicates)

    async def publish_many(self, envelopes: Iterable[Envelope]) -> PublishResult:
        """Publish envelopes in order with at most ``max_in_flight`` unacknowledged, and wait
        for every acknowledgement.

        Raises:
            BusError: an acknowledgement did not come within ``ack_timeout_s`` or was a refusal.
                Envelopes before it are stored; publishing the whole batch again is safe.
        """
        self._check_open()
        js, prefix, encode, limit = self.js, self.prefix, encode_envelope, self.max_in_flight
        window: deque[tuple[str, asyncio.Future[PubAck]]] = deque()
        result = PublishResult(0, 0)
        try:
            for envelope in envelopes:
                if len(window) >= limit:
                    result = self._tally(await self._settle(*window.popleft()), result)
                    while window and window[0][1].done():
                        result = self._tally(self._done(*window.popleft()), result)
                future = await js.publish_async(
                    subject_for(envelope.event, prefix),
                    encode(envelope),
                    headers={MSG_ID_HEADER: envelope.msg_id},
                )
                window.append((envelope.msg_id, future))
            while window:
                result = self._tally(await self._settle(*window.popleft()), result)
        except _NATS_ERRORS as exc:
            raise BusError(f"publish: {exc!r}") from None
        finally:
            for _, future in window:
                if future.done() and not future.cancelled():
                    future.exception()
                else:
                    future.cancel()
        return result

    async def _settle(self, msg_id: str, future: asyncio.Future[PubAck]) -> PubAck:
        if not future.done():
            try:
                await asyncio.wait_for(asyncio.shield(future), self.ack_timeout_s)
            except TimeoutError:
                future.cancel()
                raise BusError(f"publish {msg_id}: no acknowledgement within {self.ack_timeout_s} s") from None
            except _NATS_ERRORS:
                pass
        return self._done(msg_id, future)

    @staticmethod
    def _done(msg_id: str, future: asyncio.Future[PubAck]) -> PubAck:
        exc = future.exception()
        if exc is not None:
            raise BusError(f"publish {msg_id}: {exc!r}")
        return future.result()

    # -- subscribing ---------------------------------------------------------------------------

    async def subscribe(
        self,
        handler: Handler,
        *,
        durable: str | None = None,
        subjects: str = ">",
        batch: int = 256,
        fetch_timeout_s: float = 0.5,
        nak_delay_s: float = 1.0,
    ) -> NatsSubscription:
        """Consume the stream through a pull consumer, calling ``handler`` once per envelope in
        order and acking after it returns.

        Args:
            handler: plain or ``async`` callable.
            durable: consumer name remembered by the server (resume after restart); ``None``:
                an ephemeral consumer that sees only messages published from now on.
            subjects: filter relative to the prefix (``">"``, ``"kalshi.>"``, ``"*.trade.>"``).
            batch: messages per fetch.
            fetch_timeout_s: how long one fetch waits for messages (also bounds :meth:`close`).
            nak_delay_s: redelivery delay after a handler raised.

        Raises:
            ConfigError: a bad name or filter, or the durable exists with another filter.
            BusError: the server did not answer.
        """
        self._check_open()
        filter_subject = validate_filter(f"{self.prefix}.{validate_filter(subjects)}")
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=self.max_deliver,
            max_ack_pending=self.max_ack_pending,
            filter_subject=filter_subject,
        )
        if durable is not None:
            validate_durable(durable)
            config.deliver_policy = DeliverPolicy.ALL
            await self._check_durable(durable, filter_subject)
        else:
            config.deliver_policy = DeliverPolicy.NEW
            config.inactive_threshold = max(30.0, 4 * fetch_timeout_s)
        try:
            psub = await self.js.pull_subscribe(filter_subject, durable=durable, stream=self.stream, config=config)
            consumer = durable or (await psub.consumer_info()).name
        except _NATS_ERRORS as exc:
            raise BusError(f"subscribe to {self.stream} ({filter_subject}): {exc!r}") from None
        sub = NatsSubscription(
            self,
            psub,
            handler,
            consumer=consumer,
            durable=durable is not None,
            batch=batch,
            fetch_timeout_s=fetch_timeout_s,
            nak_delay_s=nak_delay_s,
        )
        self._subs.append(sub)
        return sub

    async def _check_durable(self, durable: str, filter_subject: str) -> None:
        try:
            info = await self.js.consumer_info(self.stream, durable)
        except nats.js.errors.NotFoundError:
            return
        except _NATS_ERRORS as exc:
            raise BusError(f"consumer info of {durable}: {exc!r}") from None
        existing = info.config.filter_subject
        if existing != filter_subject:
            raise ConfigError(
                f"durable {durable!r} on stream {self.stream} filters {existing!r}, not {filter_subject!r}: "
                "use another name or delete the consumer"
            )

    def _forget(self, sub: NatsSubscription) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(sub)

    # -- admin ---------------------------------------------------------------------------------

    async def stream_messages(self) -> int:
        """Messages the stream holds now.

        Raises:
            BusError: the server did not answer.
        """
        try:
            info = await self.js.stream_info(self.stream)
        except _NATS_ERRORS as exc:
            raise BusError(f"stream info of {self.stream}: {exc!r}") from None
        return int(info.state.messages)

    async def delete_stream(self) -> None:
        """Delete the stream and everything in it (tests, benchmarks, tear-down).

        Raises:
            BusError: the server refused or did not answer.
        """
        try:
            await self.js.delete_stream(self.stream)
        except _NATS_ERRORS as exc:
            raise BusError(f"delete stream {self.stream}: {exc!r}") from None

    def _check_open(self) -> None:
        if self._closed:
            raise BusError("the NATS bus is closed")

    async def close(self) -> None:
        """Close every subscription (durable positions are kept), wait briefly for outstanding
        publish acknowledgements, and close the connection."""
        if self._closed:
            return
        self._closed = True
        for sub in list(self._subs):
            await sub.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.js.publish_async_completed(), self.ack_timeout_s)
        self.connection.closing = True
        await self.nc.close()


def _check_options(stream: str, max_age_s: float, duplicate_window_s: float, max_in_flight: int, storage: str) -> None:
    try:
        validate_durable(stream)
    except ConfigError:
        raise ConfigError(f"stream name {stream!r}: use letters, digits, '_' or '-'") from None
    if max_age_s <= 0:
        raise ConfigError(f"max_age_s must be > 0, not {max_age_s}")
    if not 0 < duplicate_window_s <= max_age_s:
        raise ConfigError(f"duplicate_window_s must be in (0, max_age_s={max_age_s}], not {duplicate_window_s}")
    if max_in_flight < 1:
        raise ConfigError(f"max_in_flight must be at least 1, not {max_in_flight}")
    if storage not in ("file", "memory"):
        raise ConfigError(f"storage must be 'file' or 'memory', not {storage!r}")


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        try:
            info = await js.stream_info(config.name)
        except nats.js.errors.NotFoundError:
            await js.add_stream(config)
            return
        current = info.config
        wanted = (config.subjects, config.max_age, config.max_bytes, config.duplicate_window, config.num_replicas)
        have = (current.subjects, current.max_age, current.max_bytes, current.duplicate_window, current.num_replicas)
        if wanted != have or current.storage != config.storage:
            await js.update_stream(config)
    except nats.js.errors.ServiceUnavailableError:
        raise BusError("JetStream is not enabled on the NATS server (start it with -js)") from None
    except nats.js.errors.APIError as exc:
        raise ConfigError(f"NATS refused stream {config.name!r}: {exc.description or exc!r}") from None
    except _NATS_ERRORS as exc:
        raise BusError(f"stream {config.name!r}: {exc!r}") from None


class _ConnectionEvents:
    """The connection's callbacks: errors, disconnects and reconnects go to the log (a disconnect
    caused by :meth:`NatsBus.close` is not worth a warning)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connected = False
        self.closing = False
        self.last_error: Exception | None = None
        self.disconnects = 0
        self.reconnects = 0

    async def error(self, exc: Exception) -> None:
        self.last_error = exc
        if self.connected and not self.closing:
            log.warning("nats error", url=self.url, error=repr(exc))
        else:
            log.debug("nats error", url=self.url, error=repr(exc))

    async def disconnected(self) -> None:
        if not self.closing:
            self.disconnects += 1
            log.warning("nats disconnected (reconnecting)", url=self.url)

    async def reconnected(self) -> None:
        self.reconnects += 1
        log.info("nats reconnected", url=self.url)


# -- factory -------------------------------------------------------------------------------------

_FLOAT_OPTIONS = ("max_age_s", "duplicate_window_s", "ack_timeout_s", "ack_wait_s", "connect_timeout_s")
_INT_OPTIONS = ("max_bytes", "replicas", "max_in_flight", "max_deliver", "max_ack_pending")
_STR_OPTIONS = ("stream", "prefix", "subjects", "storage", "name")


def parse_bus_options(query: str) -> dict[str, Any]:
    """Turn a bus URL's query (``stream=X&max_age_s=60``) into :meth:`NatsBus.connect` options.

    Raises:
        ConfigError: an unknown option or a value of the wrong type.
    """
    options: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        try:
            if key in _FLOAT_OPTIONS:
                options[key] = float(value)
            elif key in _INT_OPTIONS:
                options[key] = int(value)
            elif key in _STR_OPTIONS:
                options[key] = value
            else:
                known = ", ".join(sorted((*_FLOAT_OPTIONS, *_INT_OPTIONS, *_STR_OPTIONS)))
                raise ConfigError(f"bus URL option {key!r} is unknown (known: {known})")
        except ValueError:
            raise ConfigError(f"bus URL option {key}={value!r} is not a number") from None
    return options


async def open_bus(url: str | None, **options: Any) -> EventBus:
    """Open the bus a URL names.

    Args:
        url: ``None``, ``""`` or ``memory://`` → :class:`~hadron.bus.memory.InProcessBus`;
            ``nats://…`` or ``tls://…`` → :class:`NatsBus`, with :meth:`NatsBus.connect` options
            taken from the URL's query (``nats://h:4222?stream=HADRON&prefix=hadron.v1``).
        **options: more options for the bus's constructor; they override the URL's.

    Raises:
        ConfigError: any other scheme or a bad option.
        BusError: the NATS server could not be reached.
    """
    if url is None or url in ("", "memory://", "memory"):
        try:
            return InProcessBus(**options)
        except TypeError as exc:
            raise ConfigError(f"in-process bus: {exc}") from None
    base, _, query = url.partition("?")
    if not base.startswith(("nats://", "tls://")):
        raise ConfigError(f"bus URL {_mask(url)!r}: use memory:// or nats://host:port")
    merged = {**parse_bus_options(query), **options}
    try:
        return await NatsBus.connect(base, **merged)
    except TypeError as exc:
        raise ConfigError(f"NATS bus: {exc}") from None
