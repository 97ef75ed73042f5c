"""Toy's wire messages: frozen msgspec structs tagged on the frame's ``"type"``."""

from __future__ import annotations

from typing import Literal

import msgspec


class ToyBook(msgspec.Struct, tag="toy_book", tag_field="type", frozen=True):
    """A token's whole book: ``bids`` / ``asks`` as ``[price, size]`` decimal strings, best first."""

    token: str
    ts_ms: int
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


class ToyLevel(msgspec.Struct, tag="toy_level", tag_field="type", frozen=True):
    """One level's new aggregate size (``"0"`` removes it)."""

    token: str
    ts_ms: int
    side: Literal["bid", "ask"]
    price: str
    size: str


class ToyTrade(msgspec.Struct, tag="toy_trade", tag_field="type", frozen=True):
    """One print: ``size`` at ``price``; ``taker`` is the aggressor's side."""

    token: str
    ts_ms: int
    id: str
    price: str
    size: str
    taker: Literal["buy", "sell"]


ToyMessage = ToyBook | ToyLevel | ToyTrade

FRAME_DECODER = msgspec.json.Decoder(ToyMessage)
"""Decodes one text frame."""


class ToyCaptureLine(msgspec.Struct, frozen=True):
    """One capture line ``{"recv_ms": int, "event": <frame>}``."""

    recv_ms: int
    event: ToyMessage


CAPTURE_DECODER = msgspec.json.Decoder(ToyCaptureLine)
"""Decodes one capture line."""

MAX_FRAME_BYTES = 1 << 20
"""The largest frame Toy sends."""
