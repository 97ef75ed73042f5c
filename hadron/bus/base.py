"""The event bus seam: envelopes, subjects, message ids, the wire codec and the bus protocol.

Ingest processes wrap every normalized event in an :class:`Envelope` and publish it; strategy,
recorder and dashboard processes subscribe. Two implementations share :class:`EventBus`:
:class:`~hadron.bus.memory.InProcessBus` (one process, the default) and
:class:`~hadron.bus.nats.NatsBus` (NATS JetStream, for ingest spread over machines).

Subjects
    ``<prefix>.<venue>.<kind>.<symbol>``, prefix ``hadron.v1`` by default, e.g.
    ``hadron.v1.kalshi.book_delta.KXHIGHNY-24DEC12-B45_2E5`` or
    ``hadron.v1.polymarket.trade.7667…1111``. ``kind`` is the event's struct tag
    (``book_snapshot``, ``book_delta``, ``trade``, ``top_of_book``, ``market_status``,
    ``tick_size_change``, ``index_price``: symbol ``index:<index id>``; ``fee_update``: symbol
    ``event:<event ticker>``). ``symbol`` is the instrument's venue symbol made into one NATS token
    by :func:`encode_token`: ASCII letters, digits and ``-`` stay as they are; every other byte of
    its UTF-8 form (``.``, ``_``, ``*``, ``>``, whitespace, ``:``, anything non-ASCII) becomes
    ``_`` plus two upper-case hex digits (``.`` → ``_2E``, ``_`` → ``_5F``). The rule is
    reversible (:func:`decode_token`) and leaves Kalshi tickers without dots and Polymarket token
    ids unchanged.

Message ids
    :func:`message_id` is ``"<source>:<seq>"``: ``source`` names one ingest shard and ``seq`` is
    the event's index in what that shard publishes. A restarted shard that republishes the same
    input produces the same ids, so JetStream (within its duplicate window) and every consumer
    (by ``(source, seq)``) can drop what it already has. Two shards must never share a source id.

Wire format
    One msgpack message per envelope (:func:`encode_envelope`): an array
    ``[msg_id, source, seq, event]`` where ``event`` is the event struct as a msgpack map tagged
    by ``kind`` (see :mod:`hadron.model.events`). The ``v1`` in the subject versions it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import NamedTuple, Protocol

import msgspec

from hadron.errors import BusError, ConfigError
from hadron.model.events import (
    BookDelta,
    BookInvalidated,
    BookSnapshot,
    BusEvent,
    EventStatus,
    FeeUpdate,
    IndexPrice,
    MarketStatus,
    OpportunityUpdate,
    TickSizeChange,
    TopOfBook,
    Trade,
)
from hadron.model.instrument import split_instrument_id

DEFAULT_PREFIX = "hadron.v1"
"""Subject prefix of normalized events (the ``v1`` is the envelope format's version)."""

EVENT_KINDS: dict[type[BusEvent], str] = {
    BookSnapshot: "book_snapshot",
    BookDelta: "book_delta",
    Trade: "trade",
    TopOfBook: "top_of_book",
    MarketStatus: "market_status",
    TickSizeChange: "tick_size_change",
    BookInvalidated: "book_invalidated",
    EventStatus: "event_status",
    IndexPrice: "index_price",
    FeeUpdate: "fee_update",
    OpportunityUpdate: "opportunity",
}
"""Event struct → its ``kind`` tag (the third subject token)."""


class BusDecodeError(BusError):
    """A bus message is not a valid :class:`Envelope` (the bytes are kept in the message)."""

    def __init__(self, message: str, data: bytes) -> None:
        super().__init__(message)
        self.data = data


class Envelope(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One normalized event as it travels on the bus.

    Attributes:
        msg_id: ``message_id(source, seq)``, the de-duplication key.
        source: the ingest shard that published it (see :func:`validate_source`).
        seq: the event's index in that shard's output, from 0, without holes.
        event: the normalized event.
    """

    msg_id: str
    source: str
    seq: int
    event: BusEvent


class PublishResult(NamedTuple):
    """What a publish did: ``stored`` envelopes are new, ``duplicates`` were already held (same
    message id within the duplicate window) and dropped by the bus."""

    stored: int
    duplicates: int


Handler = Callable[[Envelope], Awaitable[None] | None]
"""A subscriber's callback: plain or ``async``; it is called once per envelope, in order."""


class Subscription(Protocol):
    """One subscriber's delivery, as :meth:`EventBus.subscribe` returns it."""

    @property
    def delivered(self) -> int:
        """Envelopes handed to the handler that returned without raising."""

    @property
    def failed(self) -> int:
        """Envelopes whose handler raised (or that could not be decoded)."""

    async def pending(self) -> int:
        """Envelopes published on the subscribed subjects that the handler has not finished yet."""

    async def close(self) -> None:
        """Stop delivering; a durable subscription keeps its position for the next subscriber."""


class EventBus(Protocol):
    """Publish envelopes; deliver them, in publish order, to every subscription."""

    async def publish(self, envelope: Envelope) -> PublishResult:
        """Publish one envelope and wait until the bus holds it.

        Raises:
            BusError: not acknowledged in time, or refused.
        """

    async def publish_many(self, envelopes: Iterable[Envelope]) -> PublishResult:
        """Publish envelopes in order, pipelined, and wait until the bus holds them all.

        Raises:
            BusError: any of them was not acknowledged in time or was refused (publishing the same
                batch again is safe).
        """

    async def subscribe(
        self,
        handler: Handler,
        *,
        durable: str | None = None,
        subjects: str = ">",
    ) -> Subscription:
        """Call ``handler`` with every envelope published on ``subjects``.

        Args:
            handler: called once per envelope, in order; the next one waits until it returns.
            durable: a name under which the bus remembers how far this subscriber got, so a
                restarted one resumes there (NATS); ``None`` sees only envelopes published from
                now on.
            subjects: a NATS subject filter relative to the bus prefix: ``">"`` (everything),
                ``"kalshi.>"``, ``"*.book_delta.>"``.

        Raises:
            ConfigError: a bad ``durable`` name or ``subjects`` filter.
        """

    async def close(self) -> None:
        """Finish delivering what can be delivered, then release every resource."""


# -- subjects ------------------------------------------------------------------------------------

_SAFE = re.compile(r"[A-Za-z0-9-]+")
_ESCAPE = re.compile(r"_([0-9A-F]{2})")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_SUBJECT_CACHE: dict[tuple[str, str, str], str] = {}
_SUBJECT_CACHE_LIMIT = 100_000


def encode_token(text: str) -> str:
    """Return ``text`` as one NATS subject token (reversible; see the module docstring).

    Raises:
        ValueError: ``text`` is empty.
    """
    if not text:
        raise ValueError("an empty string cannot be a subject token")
    if _SAFE.fullmatch(text):
        return text
    out: list[str] = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch == "-"):
            out.append(ch)
        else:
            out.extend(f"_{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out)


def decode_token(token: str) -> str:
    """Invert :func:`encode_token`.

    Raises:
        ValueError: ``token`` is not something :func:`encode_token` returns.
    """
    if not _TOKEN.fullmatch(token) or _ESCAPE.sub("", token).count("_"):
        raise ValueError(f"{token!r} is not an encoded subject token")
    data = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(token):
        data += token[pos : match.start()].encode("ascii")
        data.append(int(match.group(1), 16))
        pos = match.end()
    data += token[pos:].encode("ascii")
    return data.decode("utf-8")


def subject_for(event: BusEvent, prefix: str = DEFAULT_PREFIX) -> str:
    """Return the subject of ``event``: ``<prefix>.<venue>.<kind>.<encoded symbol>``.

    Raises:
        ValueError: the instrument id is not ``<known venue>:<symbol>``.
    """
    instrument = event.instrument
    kind = EVENT_KINDS[type(event)]
    key = (prefix, kind, instrument)
    subject = _SUBJECT_CACHE.get(key)
    if subject is None:
        venue, symbol = split_instrument_id(instrument)
        subject = f"{prefix}.{venue}.{kind}.{encode_token(symbol)}"
        if len(_SUBJECT_CACHE) >= _SUBJECT_CACHE_LIMIT:
            _SUBJECT_CACHE.clear()
        _SUBJECT_CACHE[key] = subject
    return subject


def parse_subject(subject: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str, str]:
    """Split a subject from :func:`subject_for` into ``(venue, kind, instrument id)``.

    Raises:
        ValueError: not ``<prefix>.<venue>.<kind>.<token>``.
    """
    head = prefix + "."
    if not subject.startswith(head):
        raise ValueError(f"subject {subject!r} does not start with {head!r}")
    parts = subject[len(head) :].split(".")
    if len(parts) != 3:
        raise ValueError(f"subject {subject!r} is not {head}<venue>.<kind>.<symbol>")
    venue, kind, token = parts
    return venue, kind, f"{venue}:{decode_token(token)}"


def validate_filter(subjects: str) -> str:
    """Return ``subjects`` if it is a valid NATS subject filter (tokens separated by ``.``; ``*``
    matches one token, ``>`` the rest and only last).

    Raises:
        ConfigError: empty tokens, whitespace, or ``>`` before the last token.
    """
    words = subjects.split(".")
    for i, word in enumerate(words):
        if not word or any(c.isspace() for c in word):
            raise ConfigError(f"subject filter {subjects!r}: empty token or whitespace")
        if word == ">" and i != len(words) - 1:
            raise ConfigError(f"subject filter {subjects!r}: '>' must be the last token")
        if word not in ("*", ">") and ("*" in word or ">" in word):
            raise ConfigError(f"subject filter {subjects!r}: wildcards must be whole tokens")
    return subjects


def subject_matches(subjects: str, subject: str) -> bool:
    """Return whether ``subject`` matches the NATS filter ``subjects`` (``*`` and ``>``)."""
    pattern = subjects.split(".")
    parts = subject.split(".")
    for i, word in enumerate(pattern):
        if word == ">":
            return len(parts) > i
        if i >= len(parts) or (word != "*" and word != parts[i]):
            return False
    return len(parts) == len(pattern)


_NAME = re.compile(r"[A-Za-z0-9_-]{1,200}")


def validate_durable(name: str) -> str:
    """Return ``name`` if it can name a durable subscription (letters, digits, ``_``, ``-``).

    Raises:
        ConfigError: anything else.
    """
    if not _NAME.fullmatch(name):
        raise ConfigError(f"durable name {name!r}: use 1-200 letters, digits, '_' or '-'")
    return name


# -- identity ------------------------------------------------------------------------------------

_SOURCE = re.compile(r"[\x21-\x7e]{1,200}")


def validate_source(source: str) -> str:
    """Return ``source`` if it can name an ingest shard: 1-200 printable ASCII characters, no
    whitespace.

    Raises:
        ConfigError: anything else.
    """
    if not _SOURCE.fullmatch(source):
        raise ConfigError(f"source id {source!r}: use 1-200 printable ASCII characters without spaces")
    return source


def message_id(source: str, seq: int) -> str:
    """Return the de-duplication id of event ``seq`` of ``source``: ``"<source>:<seq>"``.

    The same ``(source, seq)`` gives the same id in every process and after every restart.
    """
    return f"{source}:{seq}"


def make_envelope(source: str, seq: int, event: BusEvent) -> Envelope:
    """Wrap ``event`` as event ``seq`` of ``source`` (``msg_id`` from :func:`message_id`)."""
    return Envelope(f"{source}:{seq}", source, seq, event)


# -- codec ---------------------------------------------------------------------------------------

ENCODER = msgspec.msgpack.Encoder()
"""The one msgpack encoder of envelopes (reused: no per-call set-up)."""
DECODER = msgspec.msgpack.Decoder(Envelope)
"""The one typed msgpack decoder of envelopes."""


def encode_envelope(envelope: Envelope) -> bytes:
    """Return the wire bytes of ``envelope`` (see the module docstring)."""
    return ENCODER.encode(envelope)


def decode_envelope(data: bytes) -> Envelope:
    """Decode wire bytes into an :class:`Envelope`.

    Raises:
        BusDecodeError: not a valid envelope (the bytes are kept on the exception).
    """
    try:
        return DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise BusDecodeError(f"bad envelope: {exc}", bytes(data)) from None
