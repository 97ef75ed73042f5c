"""The venue adapter: what :func:`hadron.venues.base.get_venue` returns for the venue.

It implements :class:`hadron.venues.base.VenueAdapter` (``name``, ``capture_decoder``,
``max_frame_bytes``, ``sniff``, ``open_stream``) and, as the venue grows, the capability
protocols of :mod:`hadron.venues.base` the core checks with ``isinstance``:
:class:`~hadron.venues.base.FeeModelVenue` (arbitrage), :class:`~hadron.venues.base.LiveVenue`
(``hadron run``), :class:`~hadron.venues.base.RecordingVenue` (``hadron record``),
:class:`~hadron.venues.base.FakeVenueHost` (``hadron fake-venue``),
:class:`~hadron.venues.base.ResultsVenue` (paper settlement). Keep it cold: import the session,
REST and loopback code inside the methods, so a replay imports no network code.

Milestone: ``get_venue("<venue>")`` returns it once registered, and ``hadron replay`` recognises
the venue's recordings by :meth:`TemplateAdapter.sniff` (see ``tests/unit/test_venue_registry.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from hadron.book.manager import BookManager
from hadron.model.fees import FeeModel
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats, SeqMode, VenueSink

from .messages import CAPTURE_DECODER, MAX_FRAME_BYTES
from .stream import TemplateStream


class TemplateAdapter:
    """The venue's adapter (rename to ``<Venue>Adapter``)."""

    name = "template"
    capture_decoder: msgspec.json.Decoder[Any] = CAPTURE_DECODER
    max_frame_bytes = MAX_FRAME_BYTES

    def sniff(self, frame: object) -> bool:
        """Return True when ``frame`` (a JSON-decoded frame) is this venue's: check a field only it
        sends, cheaply and without false positives on the other venues' frames
        (``VenueAdapter.sniff``)."""
        raise NotImplementedError("TemplateAdapter.sniff: VenueAdapter.sniff")

    def open_stream(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        seq_mode: SeqMode = SeqMode.STRICT,
        on_event: EventSink | None = None,
        on_venue: VenueSink | None = None,
    ) -> TemplateStream:
        """Return a new :class:`~hadron.venues._template.stream.TemplateStream` for connection
        ``conn`` feeding ``books`` (``VenueAdapter.open_stream``); venue-native messages that are
        not market events go to ``on_venue``."""
        raise NotImplementedError("TemplateAdapter.open_stream: VenueAdapter.open_stream")

    def fee_model(self, params: Mapping[str, str]) -> FeeModel:
        """Return one market's taker fee model from its ``<venue>_fee_<param>`` values
        (``FeeModelVenue.fee_model``; see :mod:`.fees`).

        Raises:
            ConfigError: a parameter missing or invalid.
        """
        raise NotImplementedError("TemplateAdapter.fee_model: FeeModelVenue.fee_model")
