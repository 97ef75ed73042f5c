"""Replay throughput and latency on the real Kalshi capture; same as ``hadron bench replay``."""

from __future__ import annotations

import sys

from hadron.cli import app

if __name__ == "__main__":
    app(["bench", "replay", *sys.argv[1:]])
