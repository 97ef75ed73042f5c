"""Polymarket CLOB (``docs/protocols/polymarket.md``): market-channel messages, normalization, the
stream, the sharded connection pool, the book hash, the user channel, CLOB and Gamma REST, fees and
the loopback venue.

:data:`ADAPTER` is what the venue registry hands the core (:func:`hadron.venues.base.get_venue`)."""

from hadron.venues.polymarket.adapter import PolymarketAdapter
from hadron.venues.polymarket.stream import PolymarketStream

ADAPTER = PolymarketAdapter()

__all__ = ["ADAPTER", "PolymarketAdapter", "PolymarketStream"]
