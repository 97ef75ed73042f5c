"""Toy messages → Hadron's normalized events (instrument ``toy:<token>``, fixed-point units)."""

from __future__ import annotations

from hadron.model.events import AggressorSide, BookAction, BookDelta, BookSide, BookSnapshot, Level, Trade
from hadron.model.instrument import instrument_id
from hadron.model.units import parse_price, parse_size
from tests.toyvenue.messages import ToyBook, ToyLevel, ToyTrade

VENUE = "toy"


def _levels(rows: list[tuple[str, str]]) -> tuple[Level, ...]:
    return tuple((parse_price(price), parse_size(size)) for price, size in rows)


def snapshot(msg: ToyBook, recv_ns: int) -> BookSnapshot:
    """The token's whole book (bids descending, asks ascending, as Toy sends them)."""
    return BookSnapshot(
        instrument_id(VENUE, msg.token), _levels(msg.bids), _levels(msg.asks), msg.ts_ms * 1_000_000, recv_ns
    )


def delta(msg: ToyLevel, recv_ns: int) -> BookDelta:
    """One level set to its new aggregate size (``BookAction.SET``)."""
    return BookDelta(
        instrument_id(VENUE, msg.token),
        BookSide.BID if msg.side == "bid" else BookSide.ASK,
        parse_price(msg.price),
        parse_size(msg.size),
        BookAction.SET,
        msg.ts_ms * 1_000_000,
        recv_ns,
    )


def trade(msg: ToyTrade, recv_ns: int) -> Trade:
    """One print on the tape."""
    return Trade(
        instrument_id(VENUE, msg.token),
        parse_price(msg.price),
        parse_size(msg.size),
        AggressorSide.BUY if msg.taker == "buy" else AggressorSide.SELL,
        msg.id,
        msg.ts_ms * 1_000_000,
        recv_ns,
    )
