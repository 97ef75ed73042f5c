"""Property tests: the fixed-point parsers agree with exact decimal arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hadron.errors import DecodeError
from hadron.model.units import (
    NOT_PLAIN,
    PRICE_DECIMALS,
    PRICE_SCALE,
    SCAN_MAX_CHARS,
    SIZE_DECIMALS,
    SIZE_SCALE,
    format_price,
    format_size,
    parse_price,
    parse_size,
    scan_digits,
    scan_fixed,
)

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


def _parsed(parse: Callable[[str], int], text: str) -> int | None:
    try:
        return parse(text)
    except DecodeError:
        return None


_DECIMAL_TEXT = st.one_of(
    st.text(alphabet="0123456789.-", max_size=14),  # mostly plain decimals and near misses
    st.text(max_size=14),
    st.from_regex(r"-?[0-9]{0,8}\.?[0-9]{0,9}", fullmatch=True),
)


@given(_DECIMAL_TEXT)
def test_scan_fixed_takes_what_the_parsers_take(text: str) -> None:
    # The compiled hot path reads digits in place: same value as the parsers, or NOT_PLAIN
    # (then the parser runs and raises or handles it), never a different number
    for decimals, signed, parse in ((PRICE_DECIMALS, False, parse_price), (SIZE_DECIMALS, True, parse_size)):
        scanned = scan_fixed(text, decimals, signed)
        expected = _parsed(parse, text)
        if scanned == NOT_PLAIN:
            assert expected is None or len(text) > SCAN_MAX_CHARS
        else:
            assert scanned == expected
    size = scan_fixed(text, SIZE_DECIMALS, False)  # unsigned: a negative size is not taken
    assert size == NOT_PLAIN or size >= 0


@given(st.one_of(st.text(alphabet="0123456789", max_size=20), st.text(max_size=20)))
def test_scan_digits_takes_unix_milliseconds_only(text: str) -> None:
    value = scan_digits(text)
    if text and len(text) <= 18 and text.isascii() and text.isdigit():
        assert value == int(text)
    else:
        assert value == NOT_PLAIN
