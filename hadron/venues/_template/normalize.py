"""Phase 2: wire structs → Hadron's normalized events (:mod:`hadron.model.events`).

Instrument ids are ``<venue>:<symbol>`` (:func:`hadron.model.instrument.instrument_id`); prices
are ints in 1/10,000 USD (:func:`hadron.model.units.parse_price`), sizes ints in 1/1,000,000
share (:func:`hadron.model.units.parse_size`); ``ts_event`` is the venue's time and ``ts_recv``
the local receive time, both ns since the epoch. Bad values raise
:class:`~hadron.errors.DecodeError` (the stream dead-letters the frame).

Milestone: a snapshot and a few deltas of a real capture give the books the venue shows (see
``tests/unit/test_kalshi.py``, ``test_snapshot_becomes_a_yes_book_with_asks_from_no_bids``;
``tests/unit/test_polymarket.py``; ``tests/toyvenue/normalize.py``).
"""

from __future__ import annotations

from hadron.model.events import BookDelta, BookSnapshot, Trade

from .messages import TemplateBook


def snapshot(msg: TemplateBook, recv_ns: int) -> BookSnapshot:
    """Return the :class:`~hadron.model.events.BookSnapshot` of ``msg``: bids best (highest)
    first, asks best (lowest) first, ``(price, size)`` ints.

    Raises:
        DecodeError: a price or size that is not a valid decimal.
    """
    raise NotImplementedError("normalize.snapshot: turn the venue's book message into a BookSnapshot")


def delta(msg: object, recv_ns: int) -> BookDelta:
    """Return the :class:`~hadron.model.events.BookDelta` of one level change (``BookAction.SET``
    when the venue sends the new aggregate size, ``CHANGE`` when it sends a signed change).

    Raises:
        DecodeError: a bad value.
    """
    raise NotImplementedError("normalize.delta: turn the venue's level change into a BookDelta")


def trade(msg: object, recv_ns: int) -> Trade:
    """Return the :class:`~hadron.model.events.Trade` of one print (aggressor in the instrument's
    own terms).

    Raises:
        DecodeError: a bad value.
    """
    raise NotImplementedError("normalize.trade: turn the venue's print into a Trade")
