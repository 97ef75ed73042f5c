"""Phase 7: the venue's taker fee, as a :class:`hadron.model.fees.FeeModel`.

``fee(fills)`` returns the whole order's fee in money units (1/10,000,000,000 USD,
:data:`hadron.model.fees.MONEY_SCALE`), never negative and never smaller for more fills, rounded
exactly as the venue rounds. A model that is also a :class:`hadron.model.fees.SegmentFee` (linear
within a price level, with a stated rounding bound) is walked a level at a time by the detector.

The parameters come from the pairs file as ``<venue>_fee_<param>`` (decimal strings); list their
names in the venue's registry entry (``VenueInfo.fee_params``) so a pair without them is refused.

Milestone: the model's fee equals the venue's published examples to the cent (see
``tests/property/test_arb_walk.py`` and ``tests/toyvenue/fees.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hadron.model.events import Level


class TemplateFee:
    """The venue's taker fee of one market."""

    def fee(self, fills: Sequence[Level]) -> int:
        """Return the fee of an order filled as ``fills`` (``(price, size)`` ints), money units."""
        raise NotImplementedError("TemplateFee.fee: FeeModel.fee")


def fee_model(params: Mapping[str, str]) -> TemplateFee:
    """Build one market's fee model from its parameters (``FeeModelVenue.fee_model``).

    Raises:
        ConfigError: a parameter missing or invalid (named as ``<venue>_fee_<param>``).
    """
    raise NotImplementedError("fees.fee_model: FeeModelVenue.fee_model")
