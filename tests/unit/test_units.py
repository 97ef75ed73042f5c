from __future__ import annotations

import pytest

from hadron.errors import DecodeError
from hadron.model.units import PRICE_ONE, format_price, format_size, parse_price, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.4800", 4800),
        ("0.48", 4800),
        (".48", 4800),
        ("1.0000", PRICE_ONE),
        ("0", 0),
        ("0.0001", 1),
        ("0.480000", 4800),
    ],
)
def test_parse_price_reads_venue_strings(text: str, expected: int) -> None:
    assert parse_price(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("46.02", 46_020_000), ("-15.82", -15_820_000), ("219.217767", 219_217_767), ("5", 5_000_000), ("0.00", 0)],
)
def test_parse_size_reads_venue_strings(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["0.48001", "0.00005", "1.23456"])
def test_parse_price_rejects_finer_precision(text: str) -> None:
    with pytest.raises(DecodeError, match="finer"):
        parse_price(text)


def test_parse_size_rejects_finer_precision() -> None:
    with pytest.raises(DecodeError, match="finer"):
        parse_size("1.0000001")


@pytest.mark.parametrize("text", ["", ".", "-0.48", "1e-2", "0,48", "+0.48", " 0.48", "nan", "0.4.8", "٠.٤٨", "0x10"])
def test_parse_price_rejects_what_is_not_a_plain_decimal(text: str) -> None:
    with pytest.raises(DecodeError):
        parse_price(text)


def test_parsers_reject_non_strings() -> None:
    with pytest.raises(DecodeError):
        parse_price(0.48)  # type: ignore[arg-type]
    with pytest.raises(DecodeError):
        parse_size(["1"])  # type: ignore[arg-type]


def test_format_gives_plain_decimal_strings() -> None:
    assert format_price(4800) == "0.4800"
    assert format_price(PRICE_ONE) == "1.0000"
    assert format_size(46_020_000) == "46.02"
    assert format_size(219_217_767) == "219.217767"
    assert format_size(5_000_000) == "5.00"
    assert format_size(-15_820_000) == "-15.82"


def test_parsers_reject_values_out_of_64_bit_range() -> None:
    # every parsed price and size fits a signed 64-bit integer (the compiled hot path's type)
    with pytest.raises(DecodeError, match="out of range"):
        parse_price("99999999999999999999")
    with pytest.raises(DecodeError, match="out of range"):
        parse_size("-9999999999999")
    assert parse_size("4611686018427.387903") == 2**62 - 1
