"""The capture ``hadron demo`` plays: package data only (origin and content in ``SOURCES.md``)."""
