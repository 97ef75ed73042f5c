"""Phase 1: the venue's wire messages, as frozen msgspec structs.

One struct per message type the venue sends, tagged on the venue's own discriminator field
(``tag_field``), named with the venue prefix (``<Venue>Book``, ``<Venue>Trade``). Prices and sizes
stay the venue's strings here; :mod:`.normalize` turns them into fixed-point ints. Decoding is the
first stage of the pipeline: a frame that does not decode is dead-lettered by the stream.

Milestone: every frame of a real capture decodes (see ``tests/unit/test_kalshi.py``,
``test_every_line_of_the_real_capture_excerpt_decodes``; ``tests/unit/test_kalshi_spec.py``; the
Toy venue's ``tests/toyvenue/messages.py``).
"""

from __future__ import annotations

from typing import Any

import msgspec

MAX_FRAME_BYTES = 1 << 20
"""The largest frame the venue's WebSocket accepts (``VenueAdapter.max_frame_bytes``)."""


class TemplateBook(msgspec.Struct, tag="book", tag_field="type", frozen=True):
    """A whole book of one instrument, as the venue sends it (fill in the venue's fields)."""

    symbol: str
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


class TemplateCaptureLine(msgspec.Struct, frozen=True):
    """One capture line ``{"recv_ms": int, "event": <frame>}``."""

    recv_ms: int
    event: TemplateBook


FRAME_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder(TemplateBook)
"""Decodes one text frame into its struct (a union of every message struct, once there are several)."""

CAPTURE_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder(TemplateCaptureLine)
"""Decodes one capture line (``VenueAdapter.capture_decoder``)."""
