"""Toy's adapter: a :class:`~hadron.venues.base.VenueAdapter` and
:class:`~hadron.venues.base.FeeModelVenue`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from hadron.book.manager import BookManager
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats, SeqMode, VenueSink
from tests.toyvenue import fees
from tests.toyvenue.messages import CAPTURE_DECODER, MAX_FRAME_BYTES
from tests.toyvenue.stream import ToyStream


class ToyAdapter:
    """What Toy gives the core."""

    name = "toy"
    capture_decoder: msgspec.json.Decoder[Any] = CAPTURE_DECODER
    max_frame_bytes = MAX_FRAME_BYTES

    def sniff(self, frame: object) -> bool:
        """A JSON object whose ``type`` starts with ``toy_``."""
        return isinstance(frame, dict) and str(frame.get("type", "")).startswith("toy_")

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
    ) -> ToyStream:
        """A new :class:`ToyStream` (Toy has no sequence numbers: ``seq_mode`` does not apply)."""
        return ToyStream(books, conn, stats=stats, dead_letter=dead_letter, on_event=on_event)

    def fee_model(self, params: Mapping[str, str]) -> fees.ToyFlatFee:
        """The flat per-share fee of one Toy market (``{"per_share": "0.01"}``)."""
        return fees.fee_model(params)
