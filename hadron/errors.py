"""Hadron's exception tree.

Every error Hadron raises on purpose derives from :class:`HadronError`; library errors are
translated at the boundary (inside the venue package that called the library)::

    HadronError
    ├── ConfigError            a setting is missing or wrong; the message names it and the fix
    ├── InputError             a path or file given on the command line cannot be used
    ├── VenueError             anything a venue sent or refused
    │   └── DecodeError        a frame that is not valid for its venue (bad JSON, unknown type,
    │                          missing field, wrong type, finer precision than Hadron keeps)
    └── BookError              a book integrity problem
        ├── SequenceGap        a sequenced stream skipped numbers
        └── NegativeLevel      a delta would take a level below zero
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


class BookError(HadronError):
    """A book integrity problem (see :class:`hadron.book.BookState`)."""


class SequenceGap(BookError):
    """A sequenced stream skipped numbers: ``expected`` was due, ``received`` arrived."""

    def __init__(self, stream: str, expected: int, received: int) -> None:
        super().__init__(f"{stream}: expected seq {expected}, received {received}")
        self.stream = stream
        self.expected = expected
        self.received = received


class NegativeLevel(BookError):
    """A delta would take a book level below zero: the local book has diverged from the venue."""
