"""Venue-free types: fixed-point units, instrument ids and the normalized event family."""

from hadron.model.events import (
    AggressorSide,
    BookAction,
    BookDelta,
    BookSide,
    BookSnapshot,
    HadronTick,
    Level,
    MarketEvent,
    MarketState,
    MarketStatus,
    TickSizeChange,
    TopOfBook,
    Trade,
)
from hadron.model.instrument import Venue, instrument_id, split_instrument_id
from hadron.model.units import (
    PRICE_ONE,
    PRICE_SCALE,
    SIZE_SCALE,
    format_price,
    format_size,
    parse_price,
    parse_size,
)

__all__ = [
    "PRICE_ONE",
    "PRICE_SCALE",
    "SIZE_SCALE",
    "AggressorSide",
    "BookAction",
    "BookDelta",
    "BookSide",
    "BookSnapshot",
    "HadronTick",
    "Level",
    "MarketEvent",
    "MarketState",
    "MarketStatus",
    "TickSizeChange",
    "TopOfBook",
    "Trade",
    "Venue",
    "format_price",
    "format_size",
    "instrument_id",
    "parse_price",
    "parse_size",
    "split_instrument_id",
]
