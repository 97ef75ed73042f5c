"""Fixed-point units: every price and size in Hadron is an integer.

* price: ``int``, 1/10,000 USD (``PRICE_SCALE``). ``"0.4800"`` → ``4800``; ``1.0`` → ``PRICE_ONE``.
* size: ``int``, 1/1,000,000 contract or share (``SIZE_SCALE``). ``"46.02"`` → ``46_020_000``.

Values are parsed straight from the venue's decimal strings, never through ``float``. A string
with more precision than Hadron keeps (``"0.48001"`` as a price, seven decimals as a size) raises
:class:`~hadron.errors.DecodeError`; extra trailing zeros (``"0.480000"``) are accepted because
they are not finer precision.

The parsers are on the hot path, so each keeps a bounded cache of strings it has parsed: venue
books reuse a few thousand price and size strings over and over.
"""

from __future__ import annotations

from hadron.errors import DecodeError

PRICE_DECIMALS = 4
SIZE_DECIMALS = 6
PRICE_SCALE = 10_000
SIZE_SCALE = 1_000_000
PRICE_ONE = PRICE_SCALE
"""The price of a contract that pays $1 for sure: 1.0000 USD."""

_CACHE_LIMIT = 200_000
PRICE_CACHE: dict[str, int] = {}
"""Memo of :func:`parse_price` results by string (read-only for callers; bounded). Hot paths
may look a string up here first and call :func:`parse_price` on a miss."""
SIZE_CACHE: dict[str, int] = {}
"""Memo of :func:`parse_size` results by string (read-only for callers; bounded)."""
_DIGITS = frozenset("0123456789")
_POW10: list[int] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]


def _parse_fixed(text: str, decimals: int, what: str, signed: bool) -> int:
    if not isinstance(text, str):
        raise DecodeError(f"{what} must be a decimal string, got {type(text).__name__} {text!r}")
    body = text
    negative = False
    if body[:1] == "-":
        if not signed:
            raise DecodeError(f"{what} {text!r} is negative")
        negative = True
        body = body[1:]
    whole, dot, frac = body.partition(".")
    if (
        not (whole or frac)
        or (dot and not frac and not whole)
        or not _DIGITS.issuperset(whole)
        or not _DIGITS.issuperset(frac)
    ):
        raise DecodeError(f"{what} {text!r} is not a plain decimal string")
    if len(frac) > decimals:
        if frac[decimals:].strip("0"):
            raise DecodeError(f"{what} {text!r} has more than {decimals} decimals (finer than Hadron keeps)")
        frac = frac[:decimals]
    value = int(whole or "0") * _POW10[decimals] + int(frac.ljust(decimals, "0") or "0")
    return -value if negative else value


def parse_price(text: str) -> int:
    """Parse a price decimal string into 1/10,000 USD.

    Args:
        text: the venue's string, e.g. ``"0.4800"``, ``"0.48"`` or ``".48"``.

    Returns:
        int, 1/10,000 USD, never negative (``"0.4800"`` → ``4800``).

    Raises:
        DecodeError: not a plain non-negative decimal, or finer than $0.0001.
    """
    try:
        return PRICE_CACHE[text]
    except KeyError:
        value = _parse_fixed(text, PRICE_DECIMALS, "price", signed=False)
        if len(PRICE_CACHE) < _CACHE_LIMIT:
            PRICE_CACHE[text] = value
        return value
    except TypeError as exc:  # unhashable input
        raise DecodeError(f"price must be a decimal string, got {text!r}") from exc


def parse_size(text: str) -> int:
    """Parse a size (or a signed size change) decimal string into 1/1,000,000 units.

    Args:
        text: the venue's string, e.g. ``"46.02"``, ``"-15.82"``, ``"219.217767"``.

    Returns:
        int, 1/1,000,000 contract or share; negative only when ``text`` is.

    Raises:
        DecodeError: not a plain decimal, or finer than 1/1,000,000.
    """
    try:
        return SIZE_CACHE[text]
    except KeyError:
        value = _parse_fixed(text, SIZE_DECIMALS, "size", signed=True)
        if len(SIZE_CACHE) < _CACHE_LIMIT:
            SIZE_CACHE[text] = value
        return value
    except TypeError as exc:
        raise DecodeError(f"size must be a decimal string, got {text!r}") from exc


def _format_fixed(value: int, decimals: int, min_decimals: int) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), _POW10[decimals])
    digits = str(frac).rjust(decimals, "0").rstrip("0")
    digits = digits.ljust(min_decimals, "0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def format_price(price: int) -> str:
    """Format a price (1/10,000 USD) as a plain decimal string with 4 decimals: ``"0.4800"``."""
    return _format_fixed(price, PRICE_DECIMALS, PRICE_DECIMALS)


def format_size(size: int) -> str:
    """Format a size (1/1,000,000) as a plain decimal string with at least 2 decimals: ``"46.02"``."""
    return _format_fixed(size, SIZE_DECIMALS, 2)
