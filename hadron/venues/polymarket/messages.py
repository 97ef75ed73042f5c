"""Polymarket CLOB market-channel wire messages as msgspec structs.

Frames are a JSON object or a JSON array of objects, each tagged by ``event_type`` (see the
market-channel AsyncAPI at ``docs.polymarket.com/api-reference/wss/market``), or one of the
plain-text frames in :data:`TEXT_FRAMES`. Every number is a decimal string and every
``timestamp`` a string of Unix milliseconds; token ids (``asset_id``) are 78-digit strings and
stay strings. Unknown fields are ignored.

Decode with :data:`FRAME_DECODER` (an object or an array); when one element of an array is not
valid, decode the elements one by one with :data:`ELEMENT_DECODER` so the others survive.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

MAX_FRAME_BYTES = 16 << 20
"""The largest frame the market channel accepts (16 MiB; ``max_size``, a larger one closes the
connection with 1009 and the session starts again). The largest frame is the initial dump, one
array with a ``book`` per subscribed token: 200 tokens a connection (``MAX_TOKENS_PER_CONNECTION``)
with full 0.001-tick books (999 levels a side of ``{"price":"0.001","size":"1000000"}``) come to
about 14.4 MB; a real captured book is 2.7 KB (nautilus ``ws_book_snapshot_captured.json``)."""

MAX_ID_LENGTH = 128
"""Longest token id (``asset_id``) or condition id (``market``) accepted (characters): token ids are
uint256 in decimal (78 digits at most), condition ids ``0x`` + 64 hex digits; a longer one is a bad
frame, never a book."""

TokenId = Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)]
"""A token or condition id, at most :data:`MAX_ID_LENGTH` characters."""

TEXT_FRAMES = frozenset({b"PONG", b"PING", b"INVALID OPERATION", b"NO NEW ASSETS"})
"""Plain-text frames the market channel sends (``PING`` only ever echoes in tests)."""


class PolymarketLevel(msgspec.Struct, frozen=True, gc=False):
    """One aggregated level ``{"price": "0.48", "size": "30"}``."""

    price: str
    size: str


class PolymarketBook(msgspec.Struct, frozen=True, gc=False, tag="book", tag_field="event_type"):
    """Full L2 snapshot of one token. Levels arrive worst first (bids ascending, asks
    descending); ``buys``/``sells`` are accepted as aliases. ``tick_size`` and
    ``last_trade_price`` are sent live but are not in the spec. Example::

        {"event_type":"book","market":"0x8a9f…","asset_id":"9875…","timestamp":"1790908667676",
         "hash":"9e4f…","bids":[{"price":"0.01","size":"112689"}],
         "asks":[{"price":"0.99","size":"37677.02"}],"tick_size":"0.01","last_trade_price":"0.140"}
    """

    asset_id: TokenId
    market: TokenId
    timestamp: str
    bids: list[PolymarketLevel] | None = None
    asks: list[PolymarketLevel] | None = None
    buys: list[PolymarketLevel] | None = None
    sells: list[PolymarketLevel] | None = None
    hash: str = ""
    tick_size: str = ""
    last_trade_price: str | None = None
    min_order_size: str = ""
    neg_risk: bool | None = None


class PolymarketPriceChangeEntry(msgspec.Struct, frozen=True, gc=False):
    """One level change inside a current-format ``price_change``: ``size`` is the new total at
    the level (``"0"`` removes it); ``best_bid``/``best_ask`` are the token's top afterwards.

    The entry's ``hash`` (of the venue's book after the change) is skipped by the decoder: only
    the ``book`` snapshot's hash can be checked (see :mod:`hadron.venues.polymarket.hash`), and the
    recorder keeps the raw frame."""

    asset_id: TokenId
    price: str
    size: str
    side: Literal["BUY", "SELL"]
    best_bid: str | None = None
    best_ask: str | None = None


class PolymarketPriceChangeLevels(msgspec.Struct, frozen=True, gc=False, tag="price_change", tag_field="event_type"):
    """A current-format ``price_change`` as the hot path decodes it (:data:`PRICE_CHANGE_DECODER`):
    only what normalization reads, ``timestamp`` and the changes; ``market`` and the changes'
    hashes are skipped (the recorder keeps the raw frame). A frame it does not fit (an older
    format) is decoded as :class:`PolymarketPriceChange`."""

    timestamp: str
    price_changes: list[PolymarketPriceChangeEntry]


class PolymarketLegacyChange(msgspec.Struct, frozen=True, gc=False):
    """One level change inside a 2024–2025 ``price_change`` (``changes`` array)."""

    price: str
    size: str
    side: Literal["BUY", "SELL"]


class PolymarketPriceChange(msgspec.Struct, frozen=True, gc=False, tag="price_change", tag_field="event_type"):
    """Level changes, in any of the three wire formats the channel has used:

    * current (since 2025-09-15): ``{market, price_changes: [{asset_id, price, size, side, hash,
      best_bid, best_ask}], timestamp}``;
    * 2024–2025: ``{asset_id, market, changes: [{price, side, size}], timestamp, hash}``;
    * before that: flat ``{asset_id, market, price, side, size, timestamp}``.
    """

    market: TokenId
    timestamp: str
    price_changes: list[PolymarketPriceChangeEntry] | None = None
    changes: list[PolymarketLegacyChange] | None = None
    asset_id: TokenId | None = None
    price: str | None = None
    size: str | None = None
    side: Literal["BUY", "SELL"] | None = None
    hash: str = ""


class PolymarketLastTradePrice(msgspec.Struct, frozen=True, gc=False, tag="last_trade_price", tag_field="event_type"):
    """One trade print; ``side`` is the taker's. ``fee_rate_bps`` is not reliable for fees."""

    asset_id: TokenId
    market: TokenId
    price: str
    size: str
    side: Literal["BUY", "SELL"]
    timestamp: str
    fee_rate_bps: str = ""
    transaction_hash: str = ""


class PolymarketTickSizeChange(msgspec.Struct, frozen=True, gc=False, tag="tick_size_change", tag_field="event_type"):
    """The token's minimum tick changed; its book must be re-snapshotted."""

    asset_id: TokenId
    market: TokenId
    old_tick_size: str
    new_tick_size: str
    timestamp: str


class PolymarketBestBidAsk(msgspec.Struct, frozen=True, gc=False, tag="best_bid_ask", tag_field="event_type"):
    """Top of book of one token (``custom_feature_enabled``); ``""`` is an empty side."""

    asset_id: TokenId
    market: TokenId
    timestamp: str
    best_bid: str = ""
    best_ask: str = ""
    spread: str = ""


class PolymarketFeeSchedule(msgspec.Struct, frozen=True, gc=False):
    """Taker fee curve of a market: ``fee = shares × rate × (p(1−p))^exponent``."""

    exponent: str = ""
    rate: str = ""
    taker_only: bool | None = None
    rebate_rate: str = ""


class PolymarketNewMarket(msgspec.Struct, frozen=True, gc=False, tag="new_market", tag_field="event_type"):
    """A market was created (broadcast with ``custom_feature_enabled``)."""

    id: str
    market: TokenId
    assets_ids: list[TokenId]
    timestamp: str
    question: str = ""
    slug: str = ""
    outcomes: list[str] = []
    active: bool | None = None
    order_price_min_tick_size: str = ""
    fees_enabled: bool | None = None
    fee_schedule: PolymarketFeeSchedule | None = None


class PolymarketMarketResolved(msgspec.Struct, frozen=True, gc=False, tag="market_resolved", tag_field="event_type"):
    """A market resolved (broadcast with ``custom_feature_enabled``; not reliably sent)."""

    market: TokenId
    assets_ids: list[TokenId]
    winning_asset_id: TokenId
    timestamp: str
    id: str = ""
    winning_outcome: str = ""


PolymarketMessage = (
    PolymarketBook
    | PolymarketPriceChange
    | PolymarketLastTradePrice
    | PolymarketTickSizeChange
    | PolymarketBestBidAsk
    | PolymarketNewMarket
    | PolymarketMarketResolved
)
"""Every market-channel event Hadron understands."""

PolymarketFrame = PolymarketMessage | list[PolymarketMessage]

FRAME_DECODER: msgspec.json.Decoder[PolymarketFrame] = msgspec.json.Decoder(PolymarketFrame)
ELEMENT_DECODER: msgspec.json.Decoder[PolymarketMessage] = msgspec.json.Decoder(PolymarketMessage)
PRICE_CHANGE_DECODER: msgspec.json.Decoder[PolymarketPriceChangeLevels] = msgspec.json.Decoder(
    PolymarketPriceChangeLevels
)
"""A current-format ``price_change`` alone: no search for the tag, which the venue sends last (see
PRICE_CHANGE_END), and only the fields normalization reads."""
PRICE_CHANGE_END = b'"price_change"}'
"""How a ``price_change`` frame ends as the venue sends it (``…,"event_type":"price_change"}``): a
hint to try :data:`PRICE_CHANGE_DECODER` first; :data:`FRAME_DECODER` decides when it fails."""
RAW_ARRAY_DECODER: msgspec.json.Decoder[list[msgspec.Raw]] = msgspec.json.Decoder(list[msgspec.Raw])


class PolymarketCaptureLine(msgspec.Struct, frozen=True, gc=False):
    """One line of a wrapped capture: ``{"recv_ms": <local ms>, "event": <frame>}``."""

    recv_ms: int
    event: msgspec.Raw


CAPTURE_DECODER: msgspec.json.Decoder[PolymarketCaptureLine] = msgspec.json.Decoder(PolymarketCaptureLine)
