"""Polymarket trading fees: taker-only, per market, in exact arithmetic.

A taker pays, in pUSD (``docs/protocols/polymarket.md#fees``; docs ``trading/fees``; official V2
SDK ``clob-client-v2:src/fees``)::

    fee = C × rate × (p × (1 − p)) ** exponent

``C`` is the number of shares, ``p`` the trade price in dollars, ``rate`` and ``exponent`` the
market's fee schedule (Gamma ``feeSchedule``, WS ``new_market.fee_schedule``, CLOB
``/clob-markets`` ``fd``). The fee is rounded to 5 decimals (half up), and a fee below
$0.00001 is 0. Makers are never charged. ``exponent`` is 1 in every current category; 0.5 and 2
were used in 2026-03 and are still computed (with ``Decimal`` at 60 digits) for replays.

Units: shares are sizes (int, 1/1,000,000 share), prices int, 1/10,000 USD; fees are int,
1/1,000,000 USD (6-decimal pUSD units), always a multiple of 10 (the 5-decimal rounding).

Worked examples, 100 shares at $0.50: rate 0.07 (crypto) → $1.75; 0.05 (sports, economics) →
$1.25; 0.04 (politics, finance) → $1.00; 0 (geopolitics) → $0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Final, Protocol

import msgspec

from hadron.errors import ConfigError, DecodeError
from hadron.model.units import PRICE_ONE, PRICE_SCALE, SIZE_SCALE
from hadron.venues.polymarket.messages import PolymarketNewMarket

FEE_SCALE: Final = 1_000_000
"""Fee units per dollar: fees are int, 1/1,000,000 USD (pUSD has 6 decimals)."""

FEE_STEP: Final = 10
"""The venue rounds fees to 5 decimals: one step is 10 fee units ($0.00001)."""

_STEPS_PER_DOLLAR = FEE_SCALE // FEE_STEP
_POWER_DIGITS = 60


def _check(rate: Decimal, exponent: Decimal) -> None:
    if not rate.is_finite() or rate < 0:
        raise ConfigError(f"Polymarket fee rate {rate} must be a finite number ≥ 0")
    if not exponent.is_finite() or exponent <= 0:
        raise ConfigError(f"Polymarket fee exponent {exponent} must be a finite number > 0")


def _steps_integer(shares: int, price: int, rate: Decimal, power: int) -> int:
    # Exact: C/1e6 × rate × (p(1−p)/1e8)^k dollars, counted in 1e-5 dollar steps.
    r_num, r_den = rate.as_integer_ratio()
    curve_num: int = (price * (PRICE_ONE - price)) ** power
    curve_den: int = (PRICE_SCALE * PRICE_SCALE) ** power
    numerator = shares * r_num * curve_num * _STEPS_PER_DOLLAR
    denominator = SIZE_SCALE * r_den * curve_den
    if numerator < denominator:
        return 0
    return (2 * numerator + denominator) // (2 * denominator)


def _steps_decimal(shares: int, price: int, rate: Decimal, exponent: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = _POWER_DIGITS
        curve = (Decimal(price * (PRICE_ONE - price)) / (PRICE_SCALE * PRICE_SCALE)) ** exponent
        steps = Decimal(shares) * rate * curve * _STEPS_PER_DOLLAR / SIZE_SCALE
        if steps < 1:
            return 0
        return int(steps.to_integral_value(rounding=ROUND_HALF_UP))


def fee_function(rate: Decimal, exponent: Decimal = Decimal(1)) -> Callable[[int, int], int]:
    """Return ``fee(shares, price)`` for one schedule, precomputed for hot loops.

    Same results as :func:`taker_fee` (int, 1/1,000,000 USD); whole exponents use integers only,
    with the rate's ratio worked out once. ``shares`` must be ≥ 0 and ``price`` within 0..1.

    Raises:
        ConfigError: a negative or non-finite rate, or an exponent that is not > 0.
    """
    _check(rate, exponent)
    if not rate:
        return lambda shares, price: 0
    if exponent != exponent.to_integral_value():
        return lambda shares, price: _fee(shares, price, rate, exponent)
    power = int(exponent)
    r_num, r_den = rate.as_integer_ratio()
    scale = r_num * _STEPS_PER_DOLLAR
    curve_den: int = (PRICE_SCALE * PRICE_SCALE) ** power
    denominator = SIZE_SCALE * r_den * curve_den

    def fee(shares: int, price: int) -> int:
        if shares <= 0 or price <= 0 or price >= PRICE_ONE:
            return 0
        curve: int = (price * (PRICE_ONE - price)) ** power
        numerator = shares * scale * curve
        if numerator < denominator:
            return 0
        return (2 * numerator + denominator) // (2 * denominator) * FEE_STEP

    return fee


def taker_fee(shares: int, price: int, *, rate: Decimal, exponent: Decimal = Decimal(1)) -> int:
    """Return the taker fee of one fill: ``C × rate × (p(1 − p))^exponent``, rounded.

    Args:
        shares: size filled, int, 1/1,000,000 share.
        price: fill price, int, 1/10,000 USD, within 0..10,000.
        rate: the market's ``feeSchedule.rate`` (``Decimal("0.07")``).
        exponent: the market's ``feeSchedule.exponent``; whole exponents are computed exactly
            with integers, others with ``Decimal`` at 60 significant digits.

    Returns:
        int, 1/1,000,000 USD, a multiple of 10: the fee rounded half up to $0.00001, or 0 when
        the exact fee is below $0.00001. ``taker_fee(100_000_000, 5_000, rate=Decimal("0.07"))``
        is ``1_750_000`` ($1.75).

    Raises:
        ValueError: negative shares, or a price outside $0..$1.
        ConfigError: a negative or non-finite rate, or an exponent that is not > 0.
    """
    _check(rate, exponent)
    return _fee(shares, price, rate, exponent)


def _fee(shares: int, price: int, rate: Decimal, exponent: Decimal) -> int:
    if shares < 0:
        raise ValueError(f"shares must be ≥ 0, got {shares}")
    if not 0 <= price <= PRICE_ONE:
        raise ValueError(f"price must be within 0..{PRICE_ONE} (1/10,000 USD), got {price}")
    if not rate or not shares or price in (0, PRICE_ONE):
        return 0
    if exponent == exponent.to_integral_value():
        steps = _steps_integer(shares, price, rate, int(exponent))
    else:
        steps = _steps_decimal(shares, price, rate, exponent)
    return steps * FEE_STEP


class PolymarketGammaFeeSchedule(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    """Gamma ``feeSchedule``: ``{"exponent":1,"rate":0.04,"takerOnly":true,"rebateRate":0.25}``.

    Gamma sends JSON numbers; they decode to exact ``Decimal``. ``rebate_rate`` is the share of
    the collected taker fees paid back to makers (daily, not per fill).
    """

    rate: Decimal = Decimal(0)
    exponent: Decimal = Decimal(1)
    taker_only: bool = True
    rebate_rate: Decimal = Decimal(0)


class GammaMarketFees(Protocol):
    """A Gamma market's fee fields (``feesEnabled``, ``feeSchedule``)."""

    @property
    def fees_enabled(self) -> bool | None: ...

    @property
    def fee_schedule(self) -> PolymarketGammaFeeSchedule | None: ...


def _decimal(text: str, what: str, default: Decimal) -> Decimal:
    if not text:
        return default
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise DecodeError(f"fee_schedule.{what} {text!r} is not a decimal") from exc
    if not value.is_finite():
        raise DecodeError(f"fee_schedule.{what} {text!r} is not a finite decimal")
    return value


@dataclass(frozen=True, slots=True)
class PolymarketFeeSchedule:
    """The fee rule of one Polymarket market.

    Attributes:
        rate: taker fee rate (``Decimal("0.04")``).
        exponent: the curve's exponent (1 today; 0.5 or 2 in 2026-03).
        taker_only: the venue's ``takerOnly`` (true on every market seen). When it is false the
            maker is charged the same curve, an assumption the venue has not documented.
        rebate_rate: share of taker fees returned to makers as daily rebates (not per fill).
        enabled: the market's ``feesEnabled``; a disabled schedule charges nothing.

    Raises:
        ConfigError: a negative or non-finite rate, or an exponent that is not > 0.
    """

    rate: Decimal
    exponent: Decimal = Decimal(1)
    taker_only: bool = True
    rebate_rate: Decimal = Decimal(0)
    enabled: bool = True

    def __post_init__(self) -> None:
        _check(self.rate, self.exponent)

    @classmethod
    def free(cls) -> PolymarketFeeSchedule:
        """Return the schedule of a fee-free market (``feesEnabled`` false)."""
        return cls(Decimal(0), enabled=False)

    @classmethod
    def from_gamma(cls, market: GammaMarketFees) -> PolymarketFeeSchedule:
        """Build the schedule of a Gamma market (``feesEnabled`` + ``feeSchedule``).

        A market whose ``feesEnabled`` is false or missing is fee-free.

        Raises:
            DecodeError: ``feesEnabled`` is true but there is no ``feeSchedule``.
            ConfigError: the schedule has a negative rate or an exponent that is not > 0.
        """
        if not market.fees_enabled:
            return cls.free()
        schedule = market.fee_schedule
        if schedule is None:
            raise DecodeError("Gamma market has feesEnabled true but no feeSchedule")
        return cls(schedule.rate, schedule.exponent, schedule.taker_only, schedule.rebate_rate)

    @classmethod
    def from_ws(cls, msg: PolymarketNewMarket) -> PolymarketFeeSchedule:
        """Build the schedule of a WS ``new_market`` (``fees_enabled`` + ``fee_schedule``, strings).

        A message whose ``fees_enabled`` is false or missing is fee-free.

        Raises:
            DecodeError: fees enabled without a ``fee_schedule``, or a value that is not a decimal.
            ConfigError: a negative rate or an exponent that is not > 0.
        """
        if not msg.fees_enabled:
            return cls.free()
        schedule = msg.fee_schedule
        if schedule is None:
            raise DecodeError(f"new_market {msg.market}: fees_enabled true but no fee_schedule")
        return cls(
            _decimal(schedule.rate, "rate", Decimal(0)),
            _decimal(schedule.exponent, "exponent", Decimal(1)),
            True if schedule.taker_only is None else schedule.taker_only,
            _decimal(schedule.rebate_rate, "rebate_rate", Decimal(0)),
        )

    def taker(self, shares: int, price: int) -> int:
        """Return the taker fee of a fill (int, 1/1,000,000 USD); see :func:`taker_fee`.

        Raises:
            ValueError: negative shares, or a price outside $0..$1.
        """
        if not self.enabled:
            return _fee(shares, price, Decimal(0), self.exponent)
        return _fee(shares, price, self.rate, self.exponent)

    def maker(self, shares: int, price: int) -> int:
        """Return the maker fee of a fill (int, 1/1,000,000 USD): 0 on a taker-only market, which
        every market is today; the taker curve when ``taker_only`` is false (an assumption).

        Raises:
            ValueError: negative shares, or a price outside $0..$1.
        """
        if self.enabled and not self.taker_only:
            return _fee(shares, price, self.rate, self.exponent)
        return _fee(shares, price, Decimal(0), self.exponent)


def _no_fee(shares: int, price: int) -> int:
    return 0


class PolymarketOrderFee:
    """Polymarket taker fee per order: each fill's rounded fee, summed (money units,
    1/10,000,000,000 USD). A :class:`~hadron.model.fees.FeeModel`."""

    def __init__(self, schedule: PolymarketFeeSchedule) -> None:
        self._one_fill = fee_function(schedule.rate, schedule.exponent) if schedule.enabled else _no_fee
        self._to_money = PRICE_SCALE * SIZE_SCALE // FEE_SCALE

    def fee(self, fills: Sequence[tuple[int, int]]) -> int:
        """Fee of one order made of ``fills`` ``(price, size)``, in money units."""
        one_fill = self._one_fill
        return sum(one_fill(size, price) for price, size in fills) * self._to_money


class PolymarketSegmentFee(PolymarketOrderFee):
    """:class:`PolymarketOrderFee` that is also a :class:`~hadron.model.fees.SegmentFee` (an
    integer exponent).

    The exact fee grows by ``C × rate × (p(1 − p))^exponent``; the growing fill's rounding (half
    up, zero below one step) moves it by at most 1.5 steps of $0.00001 (``rounding``).
    """

    def __init__(self, schedule: PolymarketFeeSchedule) -> None:
        super().__init__(schedule)
        self._power = int(schedule.exponent)
        rate = schedule.rate if schedule.enabled else Decimal(0)
        self._r_num, r_den = rate.as_integer_ratio()
        self.marginal_den = r_den * (PRICE_SCALE * PRICE_SCALE) ** self._power * SIZE_SCALE
        self.rounding = FEE_STEP * self._to_money * 3 // 2

    def marginal(self, price: int) -> int:
        """Exact fee growth per size unit at ``price`` (divide by ``marginal_den``)."""
        curve: int = (price * (PRICE_ONE - price)) ** self._power
        return self._r_num * curve * PRICE_SCALE * SIZE_SCALE

    def fill_raw(self, price: int, size: int) -> int:
        """One fill's rounded fee in fee units (summed over an order, then :meth:`order_fee`)."""
        return self._one_fill(size, price)

    def order_fee(self, raw: int) -> int:
        """The order's fee from the sum of its fills' :meth:`fill_raw`, in money units."""
        return raw * self._to_money


def order_fee_model(schedule: PolymarketFeeSchedule) -> PolymarketOrderFee:
    """The fee model of a market with ``schedule``: a :class:`PolymarketSegmentFee` when the
    exponent is an integer (walked a price level at a time), else a :class:`PolymarketOrderFee`
    (walked lot by lot)."""
    if schedule.exponent != schedule.exponent.to_integral_value():
        return PolymarketOrderFee(schedule)
    return PolymarketSegmentFee(schedule)
