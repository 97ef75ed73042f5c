"""Polymarket CLOB market channel: wire messages, normalization and the per-connection stream."""

from hadron.venues.polymarket.stream import PolymarketAdapter, PolymarketStream

ADAPTER = PolymarketAdapter()

__all__ = ["ADAPTER", "PolymarketAdapter", "PolymarketStream"]
