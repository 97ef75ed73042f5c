"""Books as data: :func:`apply_event` feeds a :class:`~hadron.book.BookManager`, :func:`top_of_book`
reads one, :func:`book_table` and :func:`book_df` lay levels out as Arrow tables and DataFrames.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hadron.book.l2 import L2Book
from hadron.book.manager import BookManager
from hadron.extras import require
from hadron.model.events import BookDelta, BookInvalidated, BookSnapshot, MarketEvent, TickSizeChange, TopOfBook

if TYPE_CHECKING:
    import pyarrow as pa


def apply_event(books: BookManager, event: MarketEvent, source: object = None) -> None:
    """Apply one event to ``books`` as a venue stream would: a :class:`BookSnapshot` replaces the
    book (it goes LIVE), a :class:`BookDelta` changes one level (dropped and counted while the
    book waits for a snapshot), a :class:`TickSizeChange` regrids it, a :class:`BookInvalidated`
    puts it back to AWAITING_SNAPSHOT; other events do not touch books.

    ``source`` ties deltas to the snapshot they follow (compared by identity): give the same
    object for one stream's snapshots and deltas (default ``None`` for all).

    Raises:
        BookError: a value the venue may not send (:class:`~hadron.errors.BadValue`: a size of
            0 or below, a price outside (0, 1) or off the tick); the book is then
            AWAITING_SNAPSHOT and ``books.stats`` counts it.
    """
    if type(event) is BookDelta:
        books.apply_delta(event, source)
    elif type(event) is BookSnapshot:
        books.apply_snapshot(event, source)
    elif type(event) is TickSizeChange:
        books.apply_tick_size_change(event)
    elif type(event) is BookInvalidated:
        books.invalidate(event.instrument, event.reason)


def top_of_book(book: L2Book) -> TopOfBook:
    """The book's best bid and ask as a :class:`TopOfBook`: prices int 1/10,000 USD (``None``
    for an empty side, its size then 0), sizes int 1/1,000,000, and the book's last update
    times (``ts_event``, ``ts_recv``, ns; 0 for a bare :class:`~hadron.book.L2Book`).

    Check ``book.state`` (:class:`BookState`) first: only a LIVE book is current.
    """
    bid, ask = book.best_bid, book.best_ask
    return TopOfBook(
        book.instrument,
        bid[0] if bid is not None else None,
        bid[1] if bid is not None else 0,
        ask[0] if ask is not None else None,
        ask[1] if ask is not None else 0,
        getattr(book, "ts_event", 0),
        getattr(book, "ts_recv", 0),
    )


def book_table(books: L2Book | Iterable[L2Book], *, depth: int | None = None) -> pa.Table:
    """Books as one Arrow table of their levels, both sides: columns ``instrument``,
    ``ts_event``, ``ts_recv`` (the book's last update, ns), ``side`` (``"bid"``/``"ask"``),
    ``level`` (0 = best), ``price`` (int64, 1/10,000 USD), ``size`` (int64, 1/1,000,000); per
    book its bids best (highest) first, then its asks best (lowest) first. The names are those
    of the tick store's ``book_snapshots``.

    Args:
        books: one book (``books.get("kalshi:…")``), or several (a :class:`BookManager`: all of them).
        depth: at most this many levels per side.

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    pa_: Any = require("pyarrow", "Arrow tables of books")
    items = [books] if isinstance(books, L2Book) else list(books)
    columns: list[list[Any]] = [[] for _ in range(7)]
    for book in items:
        ts_event, ts_recv = getattr(book, "ts_event", 0), getattr(book, "ts_recv", 0)
        for side, levels in (("bid", book.levels_bid(depth)), ("ask", book.levels_ask(depth))):
            for level, (price, size) in enumerate(levels):
                for column, value in zip(
                    columns, (book.instrument, ts_event, ts_recv, side, level, price, size), strict=True
                ):
                    column.append(value)
    schema = pa_.schema(
        [
            ("instrument", pa_.string()),
            ("ts_event", pa_.int64()),
            ("ts_recv", pa_.int64()),
            ("side", pa_.string()),
            ("level", pa_.int32()),
            ("price", pa_.int64()),
            ("size", pa_.int64()),
        ]
    )
    return pa_.Table.from_arrays(
        [pa_.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)], schema=schema
    )


def book_df(books: L2Book | Iterable[L2Book], *, depth: int | None = None) -> Any:
    """:func:`book_table` as a pandas ``DataFrame`` (same columns; ints stay int64).

    Raises:
        MissingExtra: pandas (the ``pandas`` extra) or pyarrow is not installed.
    """
    require("pandas", "DataFrames of books")
    return book_table(books, depth=depth).to_pandas()
