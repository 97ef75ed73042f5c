"""Polymarket fees: taker-only, 5-decimal half-up rounding, symmetric in p ↔ 1 − p, monotone in shares."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hadron.errors import ConfigError, DecodeError
from hadron.model.units import PRICE_ONE, PRICE_SCALE, SIZE_SCALE
from hadron.venues.polymarket.fees import FEE_SCALE, FEE_STEP, PolymarketFeeSchedule, taker_fee
from hadron.venues.polymarket.messages import ELEMENT_DECODER, PolymarketNewMarket
from hadron.venues.polymarket.rest import PolymarketGammaMarket, decode_gamma_markets
from tests.conftest import SHARED_DATA, shared_data

TEST_DATA = SHARED_DATA / "nautechsystems__nautilus_trader" / "crates" / "adapters" / "polymarket" / "test_data"

shares_st = st.integers(min_value=0, max_value=1_000_000 * SIZE_SCALE)
prices = st.integers(min_value=0, max_value=PRICE_ONE)
rates = st.decimals(min_value=0, max_value=Decimal("0.25"), places=4, allow_nan=False, allow_infinity=False)
whole_exponents = st.sampled_from([Decimal(1), Decimal(2), Decimal("1.0")])
exponents = st.sampled_from([Decimal(1), Decimal(2), Decimal("0.5"), Decimal("1.5")])
HALF_STEP = Fraction(FEE_STEP, 2)


def exact(shares: int, price: int, rate: Decimal, power: int) -> Fraction:
    """The unrounded fee in 1/1,000,000 USD."""
    p = Fraction(price, PRICE_SCALE)
    return Fraction(shares, SIZE_SCALE) * Fraction(rate) * (p * (1 - p)) ** power * FEE_SCALE


@given(shares_st, prices, rates, whole_exponents)
def test_fee_is_the_exact_fee_rounded_half_up_to_5_decimals(c: int, p: int, r: Decimal, e: Decimal) -> None:
    fee = taker_fee(c, p, rate=r, exponent=e)
    assert fee % FEE_STEP == 0
    value = exact(c, p, r, int(e))
    if value < FEE_STEP:
        assert fee == 0
    else:
        assert value - HALF_STEP < fee <= value + HALF_STEP
        # half up: a value exactly between two steps goes to the upper one
        assert fee != value - HALF_STEP


@given(shares_st, prices, rates, exponents)
def test_fee_is_symmetric_in_price(c: int, p: int, r: Decimal, e: Decimal) -> None:
    assert taker_fee(c, p, rate=r, exponent=e) == taker_fee(c, PRICE_ONE - p, rate=r, exponent=e)


@given(shares_st, shares_st, prices, rates, exponents)
def test_fee_grows_with_shares(a: int, b: int, p: int, r: Decimal, e: Decimal) -> None:
    small, large = sorted((a, b))
    assert 0 <= taker_fee(small, p, rate=r, exponent=e) <= taker_fee(large, p, rate=r, exponent=e)


@given(shares_st, rates, exponents)
def test_fee_is_zero_at_the_edges(c: int, r: Decimal, e: Decimal) -> None:
    assert taker_fee(c, 0, rate=r, exponent=e) == 0
    assert taker_fee(c, PRICE_ONE, rate=r, exponent=e) == 0


@given(shares_st, prices, rates, st.sampled_from([Decimal("0.5"), Decimal("1.5")]))
def test_fractional_exponents_stay_within_half_a_step(c: int, p: int, r: Decimal, e: Decimal) -> None:
    # (p(1−p))^0.5 is irrational in general: compare with a float bound, for the test only
    fee = taker_fee(c, p, rate=r, exponent=e)
    assert fee % FEE_STEP == 0 and fee >= 0
    curve = (p * (PRICE_ONE - p) / PRICE_SCALE**2) ** float(e)
    value = c / SIZE_SCALE * float(r) * curve * FEE_SCALE
    if value < FEE_STEP * 0.999:
        assert fee == 0
    elif value > FEE_STEP * 1.001:
        assert abs(fee - value) <= FEE_STEP / 2 + 1e-6 * max(1.0, value)


@given(shares_st, prices, rates)
def test_maker_pays_nothing_and_disabled_schedules_charge_nothing(c: int, p: int, r: Decimal) -> None:
    schedule = PolymarketFeeSchedule(r)
    assert schedule.maker(c, p) == 0
    assert schedule.taker(c, p) == taker_fee(c, p, rate=r)
    assert PolymarketFeeSchedule(r, enabled=False).taker(c, p) == 0
    assert PolymarketFeeSchedule.free().taker(c, p) == 0


def test_worked_examples_from_the_docs_table() -> None:
    hundred = 100 * SIZE_SCALE
    assert taker_fee(hundred, 5_000, rate=Decimal("0.07")) == 1_750_000  # crypto $1.75
    assert taker_fee(hundred, 5_000, rate=Decimal("0.05")) == 1_250_000  # sports, economics $1.25
    assert taker_fee(hundred, 5_000, rate=Decimal("0.04")) == 1_000_000  # politics, finance $1.00
    assert taker_fee(hundred, 5_000, rate=Decimal(0)) == 0  # geopolitics
    # Feb 2026 crypto (rate 0.25, exponent 2): 100 × 0.25 × 0.0625 = $1.5625
    assert taker_fee(hundred, 5_000, rate=Decimal("0.25"), exponent=Decimal(2)) == 1_562_500
    # exponent 0.5 at p = 0.5: 100 × 0.05 × 0.5 = $2.50
    assert taker_fee(hundred, 5_000, rate=Decimal("0.05"), exponent=Decimal("0.5")) == 2_500_000


def test_rounding_to_five_decimals_and_the_minimum() -> None:
    # 1 share at $0.01, rate 0.07: 0.07 × 0.0099 = $0.000693 → $0.00069
    assert taker_fee(SIZE_SCALE, 100, rate=Decimal("0.07")) == 690
    # 0.1 share at $0.50, rate 0.0002: $0.000005 is below the $0.00001 minimum
    assert taker_fee(100_000, 5_000, rate=Decimal("0.0002")) == 0
    # exactly $0.00001 is charged
    assert taker_fee(200_000, 5_000, rate=Decimal("0.0002")) == 10
    # $0.000015 rounds half up to $0.00002
    assert taker_fee(300_000, 5_000, rate=Decimal("0.0002")) == 20


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="price"):
        taker_fee(SIZE_SCALE, PRICE_ONE + 1, rate=Decimal("0.04"))
    with pytest.raises(ValueError, match="shares"):
        taker_fee(-1, 5_000, rate=Decimal("0.04"))
    with pytest.raises(ConfigError, match="rate"):
        taker_fee(SIZE_SCALE, 5_000, rate=Decimal("-0.01"))
    with pytest.raises(ConfigError, match="exponent"):
        PolymarketFeeSchedule(Decimal("0.04"), Decimal(0))
    with pytest.raises(ConfigError, match="rate"):
        PolymarketFeeSchedule(Decimal("NaN"))


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "rate", "enabled"),
    [
        ("gamma_market_fee_crypto.json", Decimal("0.07"), True),
        ("gamma_market_fee_sports.json", Decimal("0.05"), True),
        ("gamma_market_fee_politics.json", Decimal("0.04"), True),
        ("gamma_market_fee_free.json", Decimal(0), False),
        ("gamma_market_live.json", Decimal("0.04"), True),
    ],
)
def test_schedule_from_real_gamma_markets(name: str, rate: Decimal, enabled: bool) -> None:
    body = shared_data(TEST_DATA / name).read_bytes()
    (market,) = decode_gamma_markets(b"[" + body + b"]")
    schedule = PolymarketFeeSchedule.from_gamma(market)
    assert (schedule.rate, schedule.exponent, schedule.enabled) == (rate, Decimal(1), enabled)
    assert schedule.maker(100 * SIZE_SCALE, 5_000) == 0
    assert schedule.taker(100 * SIZE_SCALE, 5_000) == int(rate * 25 * FEE_SCALE)
    if name == "gamma_market_live.json":
        assert (schedule.taker_only, schedule.rebate_rate) == (True, Decimal("0.25"))


def test_gamma_fees_enabled_without_a_schedule_is_a_decode_error() -> None:
    market = PolymarketGammaMarket(id="1", fees_enabled=True)
    with pytest.raises(DecodeError, match="feeSchedule"):
        PolymarketFeeSchedule.from_gamma(market)
    assert PolymarketFeeSchedule.from_gamma(PolymarketGammaMarket(id="2")) == PolymarketFeeSchedule.free()


# docs §3.6: live new_market capture, 2026-10-02 (marcasite), trimmed
NEW_MARKET = (
    b'{"id":"5196322","question":"Bitcoin Up or Down - October 2, 10:30PM-10:35PM ET",'
    b'"market":"0x9691dbea9f392aea399936926ff9d3013de1550381454b9579124df96168f54a","slug":"btc-updown-5m-1790994600",'
    b'"assets_ids":["29481957761527484935929705986029508274880234386196526574483297319946400380223",'
    b'"110300735535035853449236273459359802664768005831731803586170232203839099968893"],'
    b'"outcomes":["Up","Down"],"timestamp":"1790908720778","event_type":"new_market","tags":[],'
    b'"active":false,"order_price_min_tick_size":"0.01","taker_base_fee":"1000","fees_enabled":true,'
    b'"fee_schedule":{"exponent":"1","rate":"0.07","taker_only":true,"rebate_rate":"0.2"}}'
)


def test_schedule_from_a_ws_new_market() -> None:
    msg = ELEMENT_DECODER.decode(NEW_MARKET)
    assert isinstance(msg, PolymarketNewMarket)
    schedule = PolymarketFeeSchedule.from_ws(msg)
    assert schedule == PolymarketFeeSchedule(Decimal("0.07"), Decimal(1), True, Decimal("0.2"))
    assert schedule.taker(100 * SIZE_SCALE, 5_000) == 1_750_000
    assert schedule.maker(100 * SIZE_SCALE, 5_000) == 0


@pytest.mark.data
def test_ws_new_market_without_fee_fields_is_fee_free() -> None:
    msg = ELEMENT_DECODER.decode(shared_data(TEST_DATA / "ws_market_new_market_msg.json").read_bytes())
    assert isinstance(msg, PolymarketNewMarket)
    assert msg.fees_enabled is None
    assert PolymarketFeeSchedule.from_ws(msg) == PolymarketFeeSchedule.free()


def test_ws_fee_schedule_errors() -> None:
    fields = json.loads(NEW_MARKET)
    no_schedule = msgspec.convert(fields | {"fee_schedule": None}, PolymarketNewMarket)
    with pytest.raises(DecodeError, match="fee_schedule"):
        PolymarketFeeSchedule.from_ws(no_schedule)
    bad_rate = msgspec.convert(fields | {"fee_schedule": {"rate": "seven"}}, PolymarketNewMarket)
    with pytest.raises(DecodeError, match="rate"):
        PolymarketFeeSchedule.from_ws(bad_rate)
    infinite = msgspec.convert(fields | {"fee_schedule": {"rate": "Infinity"}}, PolymarketNewMarket)
    with pytest.raises(DecodeError, match="finite"):
        PolymarketFeeSchedule.from_ws(infinite)
    disabled = msgspec.convert(fields | {"fees_enabled": False}, PolymarketNewMarket)
    assert PolymarketFeeSchedule.from_ws(disabled).taker(100 * SIZE_SCALE, 5_000) == 0
    defaults = msgspec.convert(fields | {"fee_schedule": {"rate": "0.05"}}, PolymarketNewMarket)
    assert PolymarketFeeSchedule.from_ws(defaults) == PolymarketFeeSchedule(Decimal("0.05"))


@given(
    st.integers(0, 10**12),
    st.integers(0, 10_000),
    st.sampled_from(["0", "0.04", "0.05", "0.07", "0.25"]),
    st.sampled_from(["1", "2", "0.5"]),
)
def test_precomputed_fee_function_equals_taker_fee(shares: int, price: int, rate: str, exponent: str) -> None:
    from decimal import Decimal

    from hadron.venues.polymarket.fees import fee_function, taker_fee

    f = fee_function(Decimal(rate), Decimal(exponent))
    assert f(shares, price) == taker_fee(shares, price, rate=Decimal(rate), exponent=Decimal(exponent))
