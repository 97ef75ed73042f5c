"""Toy: a third venue built outside Hadron's package, plugged in through the venue registry.

Its wire format is small on purpose: JSON text frames tagged by ``"type"``, each about one
outcome token (Toy has one book per outcome, like Polymarket):

* ``{"type": "toy_book", "token": "T1", "ts_ms": 1786410915000, "bids": [["0.48", "10"]], "asks": [...]}``
* ``{"type": "toy_level", "token": "T1", "ts_ms": …, "side": "bid" | "ask", "price": "0.48", "size": "5"}``
  (the level's new aggregate size; ``"0"`` removes it)
* ``{"type": "toy_trade", "token": "T1", "ts_ms": …, "id": "x1", "price": "0.50", "size": "2", "taker": "buy" | "sell"}``

Fees: a flat fee per share bought (pairs file ``toy_fee_per_share``, USD decimal string).

:func:`register` puts it in the registry (:func:`hadron.model.venue.register_venue`); nothing under
``hadron/`` names it.
"""

from __future__ import annotations

from hadron.model.venue import VenueInfo, register_venue, unregister_venue
from tests.toyvenue.adapter import ToyAdapter

ADAPTER = ToyAdapter()

INFO = VenueInfo(
    name="toy",
    adapter=ADAPTER,
    one_book_per_market=False,
    fee_params=("per_share",),
    paper_latency_ms=20.0,
    initial_cash_usd=5_000,
)
"""Toy's registry entry: an outcome book per token, a flat fee per share, 20 ms to the venue."""


def register() -> VenueInfo:
    """Register Toy (idempotent) and return its entry."""
    return register_venue(INFO)


def unregister() -> None:
    """Take Toy out of the registry again."""
    unregister_venue(INFO.name)


__all__ = ["ADAPTER", "INFO", "ToyAdapter", "register", "unregister"]
