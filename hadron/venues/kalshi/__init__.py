"""Kalshi (Trade API v2; ``docs/protocols/kalshi.md``): wire messages, normalization, the sequenced
stream, signed WebSocket sessions, REST, fees, the account channels and the loopback venue.

:data:`ADAPTER` is what the venue registry hands the core (:func:`hadron.venues.base.get_venue`)."""

from hadron.venues.kalshi.adapter import KalshiAdapter
from hadron.venues.kalshi.stream import KalshiStream

ADAPTER = KalshiAdapter()

__all__ = ["ADAPTER", "KalshiAdapter", "KalshiStream"]
