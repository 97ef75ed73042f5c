"""Property tests: the fixed-point parsers agree with exact decimal arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hadron.errors import DecodeError
from hadron.model.units import PRICE_SCALE, SIZE_SCALE, format_price, format_size, parse_price, parse_size

prices = st.integers(min_value=0, max_value=PRICE_SCALE)
sizes = st.integers(min_value=-(10**15), max_value=10**15)


@given(prices)
def test_price_round_trips(price: int) -> None:
    assert parse_price(format_price(price)) == price


@given(sizes)
def test_size_round_trips(size: int) -> None:
    assert parse_size(format_size(size)) == size


@given(st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False))
def test_price_equals_exact_decimal(value: Decimal) -> None:
    assert parse_price(f"{value:f}") == int(value * PRICE_SCALE)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_size_equals_exact_decimal(value: Decimal) -> None:
    assert parse_size(f"{value:f}") == int(value * SIZE_SCALE)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=9), st.integers(1, 6))
def test_finer_precision_is_rejected(whole: int, last_digit: int, extra: int) -> None:
    text = f"{whole}.{'0' * (3 + extra)}{last_digit}"  # a non-zero digit past the 4th decimal
    with pytest.raises(DecodeError):
        parse_price(text)


@given(st.text(max_size=12))
def test_arbitrary_text_parses_exactly_or_raises(text: str) -> None:
    try:
        value = parse_size(text)
    except DecodeError:
        return
    assert Decimal(text) * SIZE_SCALE == value
