"""Cross-venue and intra-venue arbitrage: the depth walk, the detector and its opportunity records.

The package is venue-free: venue fee rules arrive as :class:`~hadron.arb.walk.FeeModel` objects
built by each venue adapter (``fee_model``), reached through :mod:`hadron.venues.base`.
"""
