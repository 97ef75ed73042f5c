"""Money and fees: the fixed-point money scale and the taker fee-model protocol.

Money is an int in :data:`MONEY_SCALE` units per USD (1/10,000,000,000 USD), which is exactly
price (1/10,000 USD) × size (1/1,000,000 share): a fill's cost ``price × size`` needs no rounding,
and every venue fee (whole cents, or 1/1,000,000 USD) converts exactly.

A venue states its taker fee as a :class:`FeeModel` (built by its adapter's ``fee_model``,
:class:`hadron.venues.base.FeeModelVenue`); the depth walk (:mod:`hadron.arb.walk`) walks
:class:`SegmentFee` models a price level at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from hadron.model.events import Level
from hadron.model.units import PRICE_SCALE, SIZE_SCALE

MONEY_SCALE = PRICE_SCALE * SIZE_SCALE
"""Money units per USD: money is int, 1/10,000,000,000 USD (= price unit × size unit)."""


@runtime_checkable
class FeeModel(Protocol):
    """The taker fee of one order on one venue.

    ``fee(fills)``: ``fills`` are the order's ``(price, size)`` fills (price int, 1/10,000 USD;
    size int, 1/1,000,000 share), in the order they fill. Returns the whole order's fee, int,
    money units (:data:`MONEY_SCALE` per USD), never negative and never smaller for more fills.
    """

    def fee(self, fills: Sequence[Level]) -> int:
        """Return the fee of an order filled as ``fills``, in money units."""


@runtime_checkable
class SegmentFee(FeeModel, Protocol):
    """A :class:`FeeModel` made of additive per-fill amounts, linear within a price level.

    ``fee(fills) == order_fee(Σ fill_raw(price, size))``: each fill contributes a raw amount (an
    int in the model's own units) and the order's fee settles their sum (e.g. rounds it up to the
    cent). For an order whose last fill grows at one price ``p`` (earlier fills fixed), the fee's
    exact (unrounded) value grows by ``marginal(p) / marginal_den`` money units per size unit
    (1/1,000,000 share), and the settled fee differs from ``fee(start) + exact growth`` by at most
    ``rounding`` money units either way; ``p + marginal(p) / marginal_den`` never falls as ``p``
    rises. Kalshi (rounded up to the cent once per order): ``rounding`` is one cent; Polymarket
    (each fill rounded half up to $0.00001, zero below it): 1.5 steps of $0.00001.
    """

    marginal_den: int
    rounding: int

    def marginal(self, price: int) -> int:
        """Numerator of the exact fee per size unit at ``price`` (1/10,000 USD), over ``marginal_den``."""

    def fill_raw(self, price: int, size: int) -> int:
        """The raw amount one fill adds (model units)."""

    def order_fee(self, raw: int) -> int:
        """The order's fee, money units, from the sum of its fills' raw amounts."""


class NoFee:
    """A :class:`FeeModel` that charges nothing (fee-free markets, tests)."""

    marginal_den = 1
    rounding = 0

    def fee(self, fills: Sequence[Level]) -> int:
        """Return 0."""
        return 0

    def marginal(self, price: int) -> int:
        """Return 0: no fee grows with size."""
        return 0

    def fill_raw(self, price: int, size: int) -> int:
        """Return 0."""
        return 0

    def order_fee(self, raw: int) -> int:
        """Return 0."""
        return 0


@dataclass(frozen=True, slots=True)
class FeeRule:
    """One fee rule a venue reports over REST at start (venue-neutral; see
    :meth:`hadron.venues.base.FeeRulesVenue.fee_rules` and :meth:`hadron.arb.fees.FeeRegistry.apply_rules`).

    Attributes:
        venue / event: the venue and the event id the rule applies to (Kalshi event ticker).
        kind: ``"base"``: the series' own rule (Kalshi ``Series.fee_type`` / ``fee_multiplier``);
            ``"override"``: the event's override (``Event.fee_type_override`` /
            ``fee_multiplier_override``; only reported when set).
        fee_type / multiplier: the rule (``None``: not given; the multiplier is exact).
        source: where it came from, for reports (``"series:KXGOLD"``, ``"event:KXGOLD-26AUG10"``).
    """

    venue: str
    event: str
    kind: str
    fee_type: str | None
    multiplier: Decimal | None
    source: str = ""


__all__ = ["MONEY_SCALE", "FeeModel", "FeeRule", "NoFee", "SegmentFee"]
