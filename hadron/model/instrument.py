"""Instrument identity: one string per tradable book, ``<venue>:<venue symbol>``.

``<venue>`` is a registered venue's name (:mod:`hadron.model.venue`); the built-ins:

* ``kalshi:<market ticker>``: the market's YES contract (its asks are 1 − NO bids),
  e.g. ``kalshi:KXGOLD15M-26AUG102130-30``. Tickers are opaque and case-sensitive.
* ``polymarket:<token id>``: one outcome token, e.g. ``polymarket:7667…1111`` (token ids are
  78-digit decimal strings, kept as strings everywhere).

Ids are built and split only here.
"""

from __future__ import annotations

from hadron.errors import DecodeError
from hadron.model.venue import is_venue, venue_names


def instrument_id(venue: str, symbol: str) -> str:
    """Return the instrument id ``"<venue>:<symbol>"``.

    Raises:
        DecodeError: ``symbol`` is empty.
    """
    if not symbol:
        raise DecodeError(f"empty {venue} symbol")
    return f"{venue}:{symbol}"


def split_instrument_id(instrument: str) -> tuple[str, str]:
    """Split ``"<venue>:<symbol>"`` into ``(venue, symbol)``.

    Raises:
        ValueError: no symbol, or the prefix is not a registered venue (the message lists them).
    """
    venue, sep, symbol = instrument.partition(":")
    if not sep or not symbol:
        raise ValueError(f"instrument id {instrument!r} is not '<venue>:<symbol>'")
    if not is_venue(venue):
        known = ", ".join(venue_names())
        raise ValueError(f"instrument id {instrument!r}: unknown venue {venue!r} (registered: {known})")
    return venue, symbol
