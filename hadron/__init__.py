"""Hadron: prediction-market data and cross-venue arbitrage for Kalshi and Polymarket."""

__version__ = "0.1.0"
