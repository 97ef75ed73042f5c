"""Kalshi (Trade API v2): wire messages, normalization and the per-connection stream."""

from hadron.venues.kalshi.stream import KalshiAdapter, KalshiStream

ADAPTER = KalshiAdapter()

__all__ = ["ADAPTER", "KalshiAdapter", "KalshiStream"]
