"""Hadron's exception tree.

Every error Hadron raises on purpose derives from :class:`HadronError`; library errors are
translated at the boundary (inside the venue package that called the library)::

    HadronError
    ├── ConfigError            a setting is missing or wrong; the message names it and the fix
    ├── InputError             a path or file given on the command line cannot be used
    ├── VenueError             anything a venue sent or refused
    │   ├── DecodeError        a frame that is not valid for its venue (bad JSON, unknown type,
    │   │   │                  missing field, wrong type, finer precision than Hadron keeps)
    │   │   └── BadValue       a well-formed value the venue may not send (a negative size, a
    │   │                      price outside (0, 1) or off the market's tick): also a BookError
    │   ├── AuthError          the venue refused our credentials (401/403): fatal, never retried
    │   ├── RequestError       the venue refused the request itself (other 4xx): fatal
    │   ├── RateLimited        429: retried after a back-off
    │   └── TransportError     network failure, timeout, 5xx: retried
    ├── BookError              a book integrity problem (BadValue is one)
    ├── StoreError             the state store or its database refused an operation
    │   ├── SchemaVersionError the database is newer than the code (hadron.store.state)
    │   └── RecordingError     the recorder could not write its files (disk full, I/O error)
    └── BusError               the event bus could not publish, deliver or reach its server
        └── BusDecodeError     a bus message is not a valid envelope (hadron.bus.base)
"""

from __future__ import annotations


class HadronError(Exception):
    """Base class of every error Hadron raises on purpose."""


class ConfigError(HadronError):
    """A configuration setting is missing or invalid; the message names the setting and the fix."""


class InputError(HadronError):
    """A path or input file given by the user cannot be read or recognised."""


class VenueError(HadronError):
    """Something a venue sent or refused."""


class DecodeError(VenueError):
    """A frame (or a field inside it) is not valid for its venue.

    Raised by the venue decoders and by the fixed-point parsers in :mod:`hadron.model.units`.
    The stream that hit it counts it, logs it and keeps the raw bytes in a dead-letter file;
    it never ends the stream.
    """


class AuthError(VenueError):
    """The venue refused our credentials (HTTP 401/403, or a refused WebSocket handshake)."""


class RequestError(VenueError):
    """The venue refused the request itself (a 4xx other than 401/403/429): not retried.

    ``status`` is the HTTP status, ``code`` the venue's error code when it sent one.
    """

    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class RateLimited(VenueError):
    """The venue said 429; ``retry_after`` is its hint in seconds when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransportError(VenueError):
    """The network, a timeout, or a 5xx: worth retrying with back-off."""


class BookError(HadronError):
    """A book was asked to hold something it cannot (a price outside its grid, a bad value).

    A sequence gap, a reconnect or a delta that would take a level below zero is not raised: the
    book manager counts it and puts the book back to AWAITING_SNAPSHOT (see
    :class:`hadron.book.BookState`, ``BookStats``).
    """


BAD_VALUE_REASONS = ("negative_size", "zero_size", "price_range", "off_tick", "bad_tick")
"""Why a value is bad (:class:`BadValue`): a size below zero; a size of zero where a level must
hold something (a snapshot level); a price outside (0, 1) USD; a price off the tick the venue
declared for the market; a tick that is not a valid increment."""


class BadValue(DecodeError, BookError):
    """A field that parsed but holds a value its venue may not send, raised before it reaches a book.

    ``reason`` is one of :data:`BAD_VALUE_REASONS` (``"negative_size"``, ``"zero_size"``,
    ``"price_range"``, ``"off_tick"``, ``"bad_tick"``); ``instrument`` is the book it targeted
    (``None`` when it targets none, e.g. a trade). The book manager counts it in
    ``BookStats.bad_values`` and puts the book back to AWAITING_SNAPSHOT (a lost update) before
    raising it; the stream dead-letters the frame. It is also a :class:`BookError`, so callers of
    the book manager that catch book errors catch it too.
    """

    def __init__(self, reason: str, message: str, instrument: str | None = None) -> None:
        super().__init__(f"{message} ({reason})")
        self.reason = reason
        self.instrument = instrument


class StoreError(HadronError):
    """The state store or its database refused an operation; the message says which and why."""


class RecordingError(StoreError):
    """The frame recorder could not write (``ENOSPC``: disk full, ``EIO``, ``EACCES``…): a storage
    fault, never a network one. ``errno`` is the OS error number (0 when unknown); ``path`` is the
    file it was writing. The recorder that raised it is stopped (file closed, manifest marked)."""

    def __init__(self, message: str, *, errno: int = 0, path: str = "") -> None:
        super().__init__(message)
        self.errno = errno
        self.path = path


class BusError(HadronError):
    """The bus could not do what was asked: the server is unreachable, a publish was not
    acknowledged in time, or the stream refused a message. Publishing the same envelopes again is
    safe (they carry their message ids)."""
