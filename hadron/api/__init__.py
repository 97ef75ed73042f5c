"""Hadron's Python API: replay recordings, stream live venues, read books, ticks and opportunities.

Everything here is re-exported by the package, lazily (``import hadron`` stays light)::

    import hadron

    for event in hadron.replay(["capture.ndjson.gz", "polymarket.json"]):
        ...                                         # Trade, TopOfBook, BookDelta, BookSnapshot, …

    async with hadron.connect("kalshi", ["KXGOLD15M-26AUG102130-30"]) as feed:
        async for event in feed:
            ...

The pieces are the ones the command line runs (``hadron replay``, ``hadron run``): the same venue
streams, :class:`~hadron.book.BookManager`, tick store and arbitrage detector. ``docs/API.md``
has a runnable example of each.

Units are the model's (:mod:`hadron.model.units`), never floats:

* price: ``int``, 1/10,000 USD (:data:`PRICE_SCALE`; ``4800`` is $0.48, :data:`PRICE_ONE` is $1);
* size: ``int``, 1/1,000,000 contract or share (:data:`SIZE_SCALE`);
* time: ``int``, nanoseconds since the Unix epoch (``ts_event``: the venue's, ``ts_recv``: Hadron's);
* money (opportunities): ``int``, 1/10,000,000,000 USD (:data:`MONEY_SCALE`).

:func:`price_decimal`, :func:`size_decimal` and :func:`money_decimal` give exact
:class:`~decimal.Decimal` values; :func:`format_price` and :func:`format_size` decimal strings.

Instruments are ``"<venue>:<venue symbol>"``: ``kalshi:<market ticker>`` (the market's YES
contract) or ``polymarket:<token id>``.

Arrow tables need the ``parquet`` extra (pyarrow), DataFrames the ``pandas`` extra: without them
those functions raise :class:`~hadron.extras.MissingExtra`, whose message is the ``pip install``
line to run.
"""

from __future__ import annotations

from hadron.api.books import apply_event, book_df, book_table, top_of_book
from hadron.api.fake_venues import Loopback, loopback
from hadron.api.live import Feed, connect
from hadron.api.pairs import arb_detector, load_pairs, opportunities_table, read_pairs
from hadron.api.recordings import ReplayFeed, replay
from hadron.api.ticks import TABLES, events_table, events_tables, read_ticks, read_ticks_df, write_ticks
from hadron.api.units import money_decimal, price_decimal, size_decimal
from hadron.arb.detector import ArbDetector
from hadron.arb.opportunity import Leg, Opportunity
from hadron.arb.terms import ArbConfig, Thresholds
from hadron.book.manager import BookManager, BookState, ManagedBook
from hadron.config import HadronConfig, load_config
from hadron.errors import BookError, ConfigError, HadronError, InputError
from hadron.extras import MissingExtra
from hadron.match.pairs import Pair
from hadron.model.account import AccountFill, OrderGroupUpdate, OrderUpdate, PositionUpdate
from hadron.model.events import (
    AggressorSide,
    BookAction,
    BookDelta,
    BookInvalidated,
    BookSide,
    BookSnapshot,
    EventStatus,
    FeeUpdate,
    IndexPrice,
    Level,
    MarketEvent,
    MarketState,
    MarketStatus,
    TickSizeChange,
    TopOfBook,
    Trade,
)
from hadron.model.fees import MONEY_SCALE
from hadron.model.units import PRICE_ONE, PRICE_SCALE, SIZE_SCALE, format_price, format_size, parse_price, parse_size

__all__ = [
    "MONEY_SCALE",
    "PRICE_ONE",
    "PRICE_SCALE",
    "SIZE_SCALE",
    "TABLES",
    "AccountFill",
    "AggressorSide",
    "ArbConfig",
    "ArbDetector",
    "BookAction",
    "BookDelta",
    "BookError",
    "BookInvalidated",
    "BookManager",
    "BookSide",
    "BookSnapshot",
    "BookState",
    "ConfigError",
    "EventStatus",
    "FeeUpdate",
    "Feed",
    "HadronConfig",
    "HadronError",
    "IndexPrice",
    "InputError",
    "Leg",
    "Level",
    "Loopback",
    "ManagedBook",
    "MarketEvent",
    "MarketState",
    "MarketStatus",
    "MissingExtra",
    "Opportunity",
    "OrderGroupUpdate",
    "OrderUpdate",
    "Pair",
    "PositionUpdate",
    "ReplayFeed",
    "Thresholds",
    "TickSizeChange",
    "TopOfBook",
    "Trade",
    "apply_event",
    "arb_detector",
    "book_df",
    "book_table",
    "connect",
    "events_table",
    "events_tables",
    "format_price",
    "format_size",
    "load_config",
    "load_pairs",
    "loopback",
    "money_decimal",
    "opportunities_table",
    "parse_price",
    "parse_size",
    "price_decimal",
    "read_pairs",
    "read_ticks",
    "read_ticks_df",
    "replay",
    "size_decimal",
    "top_of_book",
    "write_ticks",
]
