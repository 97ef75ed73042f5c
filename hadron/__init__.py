"""Hadron: prediction-market data and cross-venue arbitrage for Kalshi and Polymarket."""

from hadron._pure import install_pure_finder as _install_pure_finder
from hadron._pure import pure_requested as _pure_requested

__version__ = "0.1.0"

if _pure_requested():
    # pure Python even where compiled hot modules exist (see hadron.accel)
    _install_pure_finder()
