"""Wiring: replay, benchmarks, and (later) the live runtime and dashboard."""
