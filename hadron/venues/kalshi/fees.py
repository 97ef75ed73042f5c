"""Kalshi trading fees, in exact fixed-point arithmetic.

Kalshi charges a fee per fill, rounded up to the whole cent (``docs/protocols/kalshi.md#fees``;
Kalshi fee schedule; OpenAPI ``Series.fee_type``/``fee_multiplier``)::

    taker = ceil_to_cent(0.07   × M × C × P × (1 − P))   every quadratic fee type
    maker = ceil_to_cent(0.0175 × M × C × P × (1 − P))   fee_type quadratic_with_maker_fees
    maker = ceil_to_cent(0.035  × M × C × P × (1 − P))   fee_type quadratic_with_combo_maker_fees
    maker = 0                                             fee_type quadratic

``C`` is the number of contracts, ``P`` the price in dollars and ``M`` the fee multiplier (the
series' ``fee_multiplier``, or the event's ``fee_multiplier_override``). In Hadron's units:
contracts are sizes (int, 1/1,000,000 contract), prices and fees are int, 1/10,000 USD; a fee is
always a multiple of 100 (a whole cent). No float is involved: the multiplier is a ``Decimal``
taken apart into an exact integer ratio.

Worked examples: 1 contract at $0.50 costs $0.02 taker; 100 contracts at $0.50 cost $1.75 taker
and $0.44 maker (``quadratic_with_maker_fees``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from hadron.errors import ConfigError
from hadron.model.units import PRICE_ONE, PRICE_SCALE, SIZE_SCALE

CENT = PRICE_SCALE // 100
"""One cent in price units (1/10,000 USD): fees are multiples of it."""

TAKER_RATE = (7, 100)
"""0.07 as an exact ratio."""

MAKER_RATES: dict[str, tuple[int, int]] = {
    "quadratic": (0, 1),
    "quadratic_with_maker_fees": (7, 400),
    "quadratic_with_combo_maker_fees": (7, 200),
}
"""Maker rate per supported ``fee_type`` as an exact ratio (0, 0.0175, 0.035)."""

FEE_TYPES = frozenset(MAKER_RATES)
"""The fee types Hadron can price. ``flat`` (Kalshi's Specific Trading Fees table) is not one."""

# C (1/1e6) × P (1/1e4) × (1 − P) (1/1e4) is in 1/1e14 USD; a cent is 1/1e2 USD
_CENT_DENOMINATOR = SIZE_SCALE * PRICE_SCALE * PRICE_SCALE // 100


def _check_fee_type(fee_type: str) -> None:
    if fee_type not in MAKER_RATES:
        raise ConfigError(
            f"Kalshi fee_type {fee_type!r} is not supported (supported: {', '.join(sorted(MAKER_RATES))})"
        )


MAX_MULTIPLIER = Decimal(10)
"""The largest fee multiplier accepted. Kalshi's published multipliers are about 1 or below
(1 on most series, less on some); 10 leaves ample room for a new schedule while refusing a
typo or a corrupt value (``1e308`` would price every order at an absurd fee, or overflow)."""


def _check_multiplier(multiplier: Decimal) -> None:
    if not multiplier.is_finite() or not 0 <= multiplier <= MAX_MULTIPLIER:
        raise ConfigError(
            f"Kalshi fee_multiplier {multiplier} must be a finite number within 0..{MAX_MULTIPLIER} "
            "(Kalshi's published multipliers are about 1 or below)"
        )


def _fee(rate: tuple[int, int], multiplier: Decimal, contracts: int, price: int) -> int:
    if contracts < 0:
        raise ValueError(f"contracts must be ≥ 0, got {contracts}")
    if not 0 <= price <= PRICE_ONE:
        raise ValueError(f"price must be within 0..{PRICE_ONE} (1/10,000 USD), got {price}")
    m_num, m_den = multiplier.as_integer_ratio()
    numerator = rate[0] * m_num * contracts * price * (PRICE_ONE - price)
    denominator = rate[1] * m_den * _CENT_DENOMINATOR
    cents = -(-numerator // denominator)
    return cents * CENT


def taker_fee(contracts: int, price: int, *, multiplier: Decimal = Decimal(1)) -> int:
    """Return the taker fee of one fill: ``ceil_to_cent(0.07 × M × C × P × (1 − P))``.

    Args:
        contracts: size filled, int, 1/1,000,000 contract.
        price: fill price, int, 1/10,000 USD, within 0..10,000.
        multiplier: the fee multiplier ``M`` (series ``fee_multiplier`` or event override).

    Returns:
        int, 1/10,000 USD, a multiple of 100 (whole cents). ``taker_fee(1_000_000, 5_000)`` is
        ``200`` ($0.02).

    Raises:
        ValueError: negative contracts, or a price outside $0..$1.
        ConfigError: a negative or non-finite multiplier.
    """
    _check_multiplier(multiplier)
    return _fee(TAKER_RATE, multiplier, contracts, price)


def maker_fee(
    contracts: int, price: int, *, multiplier: Decimal = Decimal(1), fee_type: str = "quadratic_with_maker_fees"
) -> int:
    """Return the maker fee of one fill; zero for ``fee_type`` ``quadratic``.

    The rate is 0.0175 for ``quadratic_with_maker_fees`` and 0.035 for
    ``quadratic_with_combo_maker_fees``. Units as :func:`taker_fee`.

    Raises:
        ValueError: negative contracts, or a price outside $0..$1.
        ConfigError: an unsupported ``fee_type`` (e.g. ``flat``), or a bad multiplier.
    """
    _check_fee_type(fee_type)
    _check_multiplier(multiplier)
    return _fee(MAKER_RATES[fee_type], multiplier, contracts, price)


class SeriesFees(Protocol):
    """What a series record says about fees (``KalshiSeries``; OpenAPI ``Series``)."""

    @property
    def fee_type(self) -> str: ...

    @property
    def fee_multiplier(self) -> Decimal: ...


class EventFees(Protocol):
    """An event's fee overrides (``KalshiEvent``, WS ``event_fee_update``); ``None`` = no override."""

    @property
    def fee_type_override(self) -> str | None: ...

    @property
    def fee_multiplier_override(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class KalshiFeeSchedule:
    """The fee rule of one market: ``fee_type`` and multiplier ``M``.

    Attributes:
        fee_type: ``quadratic``, ``quadratic_with_maker_fees`` or
            ``quadratic_with_combo_maker_fees``.
        multiplier: ``M``, exact (e.g. ``Decimal("0.5")``).

    Raises:
        ConfigError: an unsupported ``fee_type`` (the message names it), or a negative multiplier.
    """

    fee_type: str = "quadratic"
    multiplier: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        _check_fee_type(self.fee_type)
        _check_multiplier(self.multiplier)

    @classmethod
    def from_records(cls, series: SeriesFees, event: EventFees | None = None) -> KalshiFeeSchedule:
        """Build the schedule of a series, with the event's overrides applied when it has them.

        Args:
            series: the series record (``GET /series/{series_ticker}`` → ``fee_type``,
                ``fee_multiplier``).
            event: the event record (``GET /events/{event_ticker}`` → ``fee_type_override``,
                ``fee_multiplier_override``), or ``None``.

        Raises:
            ConfigError: the resulting fee type is not supported.
        """
        fee_type = series.fee_type
        multiplier = series.fee_multiplier
        if event is not None:
            if event.fee_type_override:
                fee_type = event.fee_type_override
            if event.fee_multiplier_override is not None:
                multiplier = event.fee_multiplier_override
        return cls(fee_type, multiplier)

    def taker(self, contracts: int, price: int) -> int:
        """Return the taker fee of a fill (int, 1/10,000 USD, whole cents); see :func:`taker_fee`."""
        return _fee(TAKER_RATE, self.multiplier, contracts, price)

    def maker(self, contracts: int, price: int) -> int:
        """Return the maker fee of a fill (int, 1/10,000 USD, whole cents); see :func:`maker_fee`."""
        return _fee(MAKER_RATES[self.fee_type], self.multiplier, contracts, price)


class KalshiOrderFee:
    """Kalshi taker fee per order, rounded up to the cent once (money units, 1/10,000,000,000 USD).

    Also a :class:`~hadron.model.fees.SegmentFee`: the exact growth per size unit at ``price`` is
    ``marginal(price) / marginal_den`` money units; rounding moves it by under a cent
    (``rounding``). ``multiplier`` is the series' fee multiplier ``M``.
    """

    def __init__(self, multiplier: Decimal = Decimal(1)) -> None:
        _check_multiplier(multiplier)
        m_num, m_den = multiplier.as_integer_ratio()
        self._numerator = TAKER_RATE[0] * m_num
        self.marginal_den = TAKER_RATE[1] * m_den * _CENT_DENOMINATOR
        self._cent_money = CENT * SIZE_SCALE
        self.rounding = self._cent_money

    def fee(self, fills: Sequence[tuple[int, int]]) -> int:
        """Fee of one order made of ``fills`` ``(price, size)``, in money units."""
        total = sum(size * price * (PRICE_ONE - price) for price, size in fills)
        return -(-(self._numerator * total) // self.marginal_den) * self._cent_money

    def marginal(self, price: int) -> int:
        """Exact fee growth per size unit at ``price`` (divide by ``marginal_den``)."""
        return self._numerator * price * (PRICE_ONE - price) * self._cent_money

    def fill_raw(self, price: int, size: int) -> int:
        """One fill's unrounded fee term (summed over an order, then :meth:`order_fee`)."""
        return size * price * (PRICE_ONE - price)

    def order_fee(self, raw: int) -> int:
        """The order's fee from the sum of its fills' :meth:`fill_raw`, in money units."""
        return -(-(self._numerator * raw) // self.marginal_den) * self._cent_money
