"""Venue packages; the core reaches them only through :mod:`hadron.venues.base`."""
