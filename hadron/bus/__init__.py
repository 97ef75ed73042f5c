"""The event bus: normalized events between ingest and strategy processes.

:class:`InProcessBus` is the default (one process); :class:`hadron.bus.nats.NatsBus` spreads
ingest over processes and machines through NATS JetStream. :func:`open_bus` picks one from a URL.
Subjects, message ids and the wire format are described in :mod:`hadron.bus.base`.
"""

from __future__ import annotations

from typing import Any

from hadron.bus.base import (
    DEFAULT_PREFIX,
    EVENT_KINDS,
    BusDecodeError,
    Envelope,
    EventBus,
    Handler,
    PublishResult,
    Subscription,
    decode_envelope,
    decode_token,
    encode_envelope,
    encode_token,
    make_envelope,
    message_id,
    parse_subject,
    subject_for,
    subject_matches,
)
from hadron.bus.memory import InProcessBus, MemoryBusStats, MemorySubscription
from hadron.errors import BusError, ConfigError
from hadron.extras import require


async def open_bus(url: str | None, **options: Any) -> EventBus:
    """Open the bus ``url`` names: ``None``/``memory://`` in-process, ``nats://…`` JetStream.

    See :func:`hadron.bus.nats.open_bus` (imported on first use) for the options and errors;
    ``nats://`` needs the ``[nats]`` extra (:class:`~hadron.extras.MissingExtra` without it).
    """
    if url is None or url in ("", "memory://", "memory"):
        try:
            return InProcessBus(**options)
        except TypeError as exc:
            raise ConfigError(f"in-process bus: {exc}") from None
    require("nats", "the NATS bus")
    from hadron.bus.nats import open_bus as open_nats_or_memory

    return await open_nats_or_memory(url, **options)


__all__ = [
    "DEFAULT_PREFIX",
    "EVENT_KINDS",
    "BusDecodeError",
    "BusError",
    "Envelope",
    "EventBus",
    "Handler",
    "InProcessBus",
    "MemoryBusStats",
    "MemorySubscription",
    "PublishResult",
    "Subscription",
    "decode_envelope",
    "decode_token",
    "encode_envelope",
    "encode_token",
    "make_envelope",
    "message_id",
    "open_bus",
    "parse_subject",
    "subject_for",
    "subject_matches",
]
