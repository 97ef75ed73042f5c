"""Kalshi fees: whole cents, never below the exact fee, under a cent above it, symmetric in P ↔ 1 − P."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hadron.errors import ConfigError
from hadron.model.units import PRICE_ONE, PRICE_SCALE, SIZE_SCALE
from hadron.venues.kalshi.fees import KalshiFeeSchedule, maker_fee, taker_fee
from hadron.venues.kalshi.messages import KalshiEventFeeUpdateMsg

CENT = 100
contracts = st.integers(min_value=0, max_value=10_000 * SIZE_SCALE)
prices = st.integers(min_value=0, max_value=PRICE_ONE)
multipliers = st.decimals(min_value=0, max_value=5, places=4, allow_nan=False, allow_infinity=False)
RATES = {
    "taker": Fraction(7, 100),
    "quadratic": Fraction(0),
    "quadratic_with_maker_fees": Fraction(7, 400),
    "quadratic_with_combo_maker_fees": Fraction(7, 200),
}
fee_types = st.sampled_from(["quadratic", "quadratic_with_maker_fees", "quadratic_with_combo_maker_fees"])


def exact(rate: Fraction, multiplier: Decimal, c: int, p: int) -> Fraction:
    """The unrounded fee in 1/10,000 USD."""
    dollars = (
        rate
        * Fraction(multiplier)
        * Fraction(c, SIZE_SCALE)
        * Fraction(p, PRICE_SCALE)
        * (1 - Fraction(p, PRICE_SCALE))
    )
    return dollars * PRICE_SCALE


@given(contracts, prices, multipliers)
def test_taker_fee_is_the_exact_fee_rounded_up_to_a_cent(c: int, p: int, m: Decimal) -> None:
    fee = taker_fee(c, p, multiplier=m)
    assert fee % CENT == 0
    assert exact(RATES["taker"], m, c, p) <= fee < exact(RATES["taker"], m, c, p) + CENT


@given(contracts, prices, multipliers, fee_types)
def test_maker_fee_is_the_exact_fee_rounded_up_to_a_cent(c: int, p: int, m: Decimal, fee_type: str) -> None:
    schedule = KalshiFeeSchedule(fee_type, m)
    fee = schedule.maker(c, p)
    assert fee == maker_fee(c, p, multiplier=m, fee_type=fee_type)
    assert fee % CENT == 0
    assert exact(RATES[fee_type], m, c, p) <= fee < exact(RATES[fee_type], m, c, p) + CENT
    assert schedule.taker(c, p) == taker_fee(c, p, multiplier=m)


@given(contracts, prices, multipliers, fee_types)
def test_fees_are_symmetric_in_price(c: int, p: int, m: Decimal, fee_type: str) -> None:
    schedule = KalshiFeeSchedule(fee_type, m)
    assert schedule.taker(c, p) == schedule.taker(c, PRICE_ONE - p)
    assert schedule.maker(c, p) == schedule.maker(c, PRICE_ONE - p)


@given(contracts, contracts, prices, multipliers)
def test_fees_grow_with_contracts(a: int, b: int, p: int, m: Decimal) -> None:
    small, large = sorted((a, b))
    schedule = KalshiFeeSchedule("quadratic_with_maker_fees", m)
    assert schedule.taker(small, p) <= schedule.taker(large, p)
    assert schedule.maker(small, p) <= schedule.maker(large, p)


@given(contracts, multipliers, fee_types)
def test_fees_are_zero_at_price_zero_and_one(c: int, m: Decimal, fee_type: str) -> None:
    schedule = KalshiFeeSchedule(fee_type, m)
    for p in (0, PRICE_ONE):
        assert schedule.taker(c, p) == 0
        assert schedule.maker(c, p) == 0


def test_worked_examples() -> None:
    # docs/protocols/kalshi.md#fees: $0.02, $1.75 taker, $0.44 maker
    assert taker_fee(1 * SIZE_SCALE, 5_000) == 200
    assert taker_fee(100 * SIZE_SCALE, 5_000) == 17_500
    assert maker_fee(100 * SIZE_SCALE, 5_000, fee_type="quadratic_with_maker_fees") == 4_400
    assert KalshiFeeSchedule("quadratic_with_maker_fees", Decimal(1)).maker(100 * SIZE_SCALE, 5_000) == 4_400
    assert KalshiFeeSchedule("quadratic", Decimal(1)).maker(100 * SIZE_SCALE, 5_000) == 0
    # combo makers pay half the taker rate: 0.035 × 100 × 0.25 = $0.875 → $0.88
    assert KalshiFeeSchedule("quadratic_with_combo_maker_fees", Decimal(1)).maker(100 * SIZE_SCALE, 5_000) == 8_800
    # half-rate series (multiplier 0.5): 0.035 × 100 × 0.25 = $0.875 → $0.88
    assert taker_fee(100 * SIZE_SCALE, 5_000, multiplier=Decimal("0.5")) == 8_800
    # a fraction of a contract still pays a whole cent
    assert taker_fee(10_000, 5_000) == 100


def test_unknown_fee_type_is_named() -> None:
    with pytest.raises(ConfigError, match="'flat'"):
        KalshiFeeSchedule("flat", Decimal(1))
    with pytest.raises(ConfigError, match="'flat'"):
        maker_fee(SIZE_SCALE, 5_000, fee_type="flat")
    with pytest.raises(ConfigError, match="fee_multiplier"):
        KalshiFeeSchedule("quadratic", Decimal(-1))


def test_out_of_range_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="price"):
        taker_fee(SIZE_SCALE, PRICE_ONE + 1)
    with pytest.raises(ValueError, match="contracts"):
        taker_fee(-1, 5_000)


class Series(msgspec.Struct, frozen=True):
    fee_type: str
    fee_multiplier: Decimal


class Event(msgspec.Struct, frozen=True):
    fee_type_override: str | None = None
    fee_multiplier_override: Decimal | None = None


def test_schedule_from_series_with_event_overrides() -> None:
    series = msgspec.json.decode(b'{"fee_type":"quadratic","fee_multiplier":0.5}', type=Series)
    assert series.fee_multiplier == Decimal("0.5")
    assert KalshiFeeSchedule.from_records(series) == KalshiFeeSchedule("quadratic", Decimal("0.5"))
    assert KalshiFeeSchedule.from_records(series, Event()) == KalshiFeeSchedule("quadratic", Decimal("0.5"))
    override = Event("quadratic_with_maker_fees", Decimal(1))
    assert KalshiFeeSchedule.from_records(series, override) == KalshiFeeSchedule(
        "quadratic_with_maker_fees", Decimal(1)
    )
    only_multiplier = Event(None, Decimal("0.25"))
    assert KalshiFeeSchedule.from_records(series, only_multiplier) == KalshiFeeSchedule("quadratic", Decimal("0.25"))
    # the WS event_fee_update message carries the same fields
    live = KalshiEventFeeUpdateMsg("KXFED-26DEC", "quadratic_with_combo_maker_fees", Decimal(2))
    assert KalshiFeeSchedule.from_records(series, live).multiplier == 2
    with pytest.raises(ConfigError, match="'flat'"):
        KalshiFeeSchedule.from_records(series, Event("flat"))
