"""Cross-venue and intra-venue arbitrage on the approved pairs: the depth walk, the detector, the fee
registry that keeps each leg's fee rule current, the opportunity records and where they go.

It imports no venue package: each venue's fee rules arrive as :class:`~hadron.model.fees.FeeModel`
objects built by its adapter (``fee_model``), reached by name through :mod:`hadron.venues.base`.
The pairs still name their venues (``kalshi_yes+polymarket_no``, the pairs file's fee terms,
Polymarket outcome sets).
"""
