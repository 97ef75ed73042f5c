"""Instrument identity: one string per tradable book, ``<venue>:<venue symbol>``.

* ``kalshi:<market ticker>``: the market's YES contract (its asks are 1 − NO bids),
  e.g. ``kalshi:KXGOLD15M-26AUG102130-30``. Tickers are opaque and case-sensitive.
* ``polymarket:<token id>``: one outcome token, e.g. ``polymarket:7667…1111`` (token ids are
  78-digit decimal strings, kept as strings everywhere).

Ids are built and split only here.
"""

from __future__ import annotations

from enum import StrEnum, unique

from hadron.errors import DecodeError


@unique
class Venue(StrEnum):
    """Venues Hadron knows; the value is the instrument-id prefix."""

    KALSHI = "kalshi"
    POLYMARKET = "polymarket"


def instrument_id(venue: Venue | str, symbol: str) -> str:
    """Return the instrument id ``"<venue>:<symbol>"``.

    Raises:
        DecodeError: ``symbol`` is empty.
    """
    if not symbol:
        raise DecodeError(f"empty {venue} symbol")
    return f"{venue}:{symbol}"


def split_instrument_id(instrument: str) -> tuple[Venue, str]:
    """Split ``"<venue>:<symbol>"`` into ``(Venue, symbol)``.

    Raises:
        ValueError: not a known venue prefix or no symbol.
    """
    venue, sep, symbol = instrument.partition(":")
    if not sep or not symbol:
        raise ValueError(f"instrument id {instrument!r} is not '<venue>:<symbol>'")
    return Venue(venue), symbol
