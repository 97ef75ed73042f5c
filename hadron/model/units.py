"""Fixed-point units: every price and size in Hadron is an integer.

* price: ``int``, 1/10,000 USD (``PRICE_SCALE``). ``"0.4800"`` → ``4800``; ``1.0`` → ``PRICE_ONE``.
* size: ``int``, 1/1,000,000 contract or share (``SIZE_SCALE``). ``"46.02"`` → ``46_020_000``.
* reference price (an index level): ``int``, 1/100,000,000 USD (``INDEX_SCALE``).
  ``"68000.12"`` → ``6_800_012_000_000`` (:func:`parse_index_value`).

Values are parsed straight from the venue's decimal strings, never through ``float``. A string
with more precision than Hadron keeps (``"0.48001"`` as a price, seven decimals as a size) raises
:class:`~hadron.errors.DecodeError`; extra trailing zeros (``"0.480000"``) are accepted because
they are not finer precision.

The parsers are on the hot path, so each keeps a bounded cache of strings it has parsed: venue
books reuse a few thousand price and size strings over and over. Once compiled (see
:mod:`hadron.accel`), the venue normalizers read the digits directly instead
(:func:`scan_fixed`, :func:`scan_digits`: a few nanoseconds, cheaper than hashing a fresh string
for the cache) and fall back to the parsers for anything but a short plain decimal.
"""

from __future__ import annotations

from hadron.errors import BadValue, DecodeError

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
FIXED_LIMIT = 2**62
"""Parsed values are below this in magnitude (a 64-bit integer where the hot path is compiled);
a larger one is not a price or size but a malformed field: DecodeError."""
_DIGITS = frozenset("0123456789")
_POW10: list[int] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]


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
    if value >= FIXED_LIMIT:
        raise DecodeError(f"{what} {text!r} is out of range")
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


INDEX_DECIMALS = 8
INDEX_SCALE = 100_000_000
"""Reference prices (an index level, an underlying's price: :class:`~hadron.model.events.IndexPrice`)
are int, 1/100,000,000 USD: Kalshi sends them with 8 decimals (``"2365.12345000"``), and a level of
92 billion USD still fits a signed 64-bit integer."""


def parse_index_value(text: str) -> int:
    """Parse a reference price (an index level) decimal string into 1/100,000,000 USD.

    Args:
        text: the venue's string, e.g. ``"68000.12"`` (CF Benchmarks ``value``) or
            ``"2365.12345000"`` (Pyth ``value_usd``); a leading ``-`` is accepted (an index
            may go below zero, as oil futures did).

    Returns:
        int, 1/100,000,000 USD (``"68000.12"`` → ``6_800_012_000_000``).

    Raises:
        DecodeError: not a plain decimal string, finer than 1e-8 USD, or of magnitude
            :data:`FIXED_LIMIT` or more (not a 64-bit value: bad input, never clipped).
    """
    if isinstance(text, str) and len(text) > 64:  # far past 64 bits: refused before int() reads it
        raise DecodeError(f"index value {text[:24]!r}… is out of range")
    return _parse_fixed(text, INDEX_DECIMALS, "index value", signed=True)


def format_index_value(value: int) -> str:
    """Format a reference price (1/100,000,000 USD) with at least 2 decimals: ``"68000.12"``."""
    return _format_fixed(value, INDEX_DECIMALS, 2)


_NOT_PLAIN = -(2**63)  # a C constant once compiled (model/units.pxd); NOT_PLAIN is its Python name
NOT_PLAIN = _NOT_PLAIN
"""What :func:`scan_fixed` and :func:`scan_digits` return for a string they do not take (the
caller then uses :func:`parse_price` / :func:`parse_size`, which raise or handle it)."""

_SCAN_MAX_CHARS = 12
SCAN_MAX_CHARS = _SCAN_MAX_CHARS
"""The longest string :func:`scan_fixed` takes (12 characters: at most 18 significant digits with
six decimals, inside a signed 64-bit integer once compiled)."""


def scan_fixed(text: str, decimals: int, signed: bool) -> int:
    """The value of a short plain decimal string in units of 10^-``decimals``, or :data:`NOT_PLAIN`.

    Takes exactly what :func:`parse_price` (``decimals`` 4, unsigned) and :func:`parse_size`
    (``decimals`` 6, signed) accept and returns the same int, for strings of at most
    :data:`SCAN_MAX_CHARS` characters; anything else (longer, malformed, finer than
    ``decimals``) is :data:`NOT_PLAIN`, never an exception. Reads the characters one by one:
    the compiled build's hot path (no string hashing, no cache); in plain Python the parsers'
    caches are faster.
    """
    if len(text) > _SCAN_MAX_CHARS:
        return _NOT_PLAIN
    value = 0
    digits = 0
    places = 0
    dot = False
    negative = False
    first = True
    for ch in text:
        if "0" <= ch <= "9":
            digits += 1
            if dot:
                if places == decimals:  # beyond Hadron's precision: only zeros may follow
                    if ch != "0":
                        return _NOT_PLAIN
                    continue
                places += 1
            value = value * 10 + (ord(ch) - 48)
        elif ch == "." and not dot:
            dot = True
        elif ch == "-" and first and signed:
            negative = True
        else:
            return _NOT_PLAIN
        first = False
    if digits == 0:
        return _NOT_PLAIN
    while places < decimals:
        value *= 10
        places += 1
    return -value if negative else value


_PRICE_INTS: tuple[int, ...] = tuple(range(PRICE_ONE + 1))  # one int object per price in [0, 1] USD
_ONE = PRICE_ONE  # a C constant once compiled (model/units.pxd)


def price_of(text: str) -> int:
    """:func:`parse_price` for the compiled hot path: the digits read in place (:func:`scan_fixed`)
    and, for a price from 0 to 1 USD, a shared int object (no allocation per parse); anything
    else goes to :func:`parse_price` (so the same value, or its DecodeError)."""
    value = scan_fixed(text, PRICE_DECIMALS, False)
    if 0 <= value <= _ONE:
        return _PRICE_INTS[value]
    return parse_price(text)


def scan_digits(text: str) -> int:
    """The value of a string of 1 to 18 ASCII digits (a venue's Unix milliseconds), or
    :data:`NOT_PLAIN` for anything else (never an exception)."""
    if not 0 < len(text) <= 18:
        return _NOT_PLAIN
    value = 0
    for ch in text:
        if not "0" <= ch <= "9":
            return _NOT_PLAIN
        value = value * 10 + (ord(ch) - 48)
    return value


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


def check_trade(price: int, size: int) -> None:
    """Refuse a print that cannot have happened: ``size`` (1/1,000,000) ≤ 0, or ``price``
    (1/10,000 USD) outside (0, 1).

    Raises:
        BadValue: ``zero_size``, ``negative_size`` or ``price_range`` (no book targeted).
    """
    if size <= 0:
        raise BadValue("negative_size" if size < 0 else "zero_size", f"trade of size {format_size(size)}")
    if not 0 < price < PRICE_ONE:
        raise BadValue("price_range", f"trade at price {format_price(price)}, outside (0, 1)")


def check_tick(tick: int, instrument: str | None = None) -> int:
    """Return ``tick`` (1/10,000 USD) when it is a market increment: inside (0, 1) and dividing 1 USD
    (Polymarket's 0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001; Kalshi's bands).

    Raises:
        BadValue: ``bad_tick`` (``instrument``: the book it was for).
    """
    if not 0 < tick < PRICE_ONE or PRICE_ONE % tick:
        raise BadValue("bad_tick", f"tick {format_price(tick)} is not an increment of 1 USD", instrument)
    return tick
