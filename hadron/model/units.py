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
:mod:`hadron.accel`), the digits are read directly instead (:func:`scan_fixed`,
:func:`scan_digits`: a few nanoseconds, cheaper than hashing a fresh string for the cache), with
the parsers behind them for anything but a short plain decimal. The venue normalizers call
:func:`read_price`, :func:`read_size` and :func:`read_ms`, which take the faster way of the build
they run in, and the venue byte scanners :func:`match_at` and :func:`text_end`; this module is the
only one whose code differs between the two builds (:data:`COMPILED`).
"""

from __future__ import annotations

from hadron.errors import BadValue, DecodeError

try:
    import cython
except ImportError:  # no Cython here: plain Python
    from hadron import _nocython as cython

COMPILED: bool = cython.compiled
"""True in the compiled build of the hot modules (:mod:`hadron.accel`), False in plain Python."""

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


_INT64_MAX = 2**63 - 1
_NOT_PLAIN = -_INT64_MAX - 1  # -2**63: a C constant once compiled (model/units.pxd); NOT_PLAIN is its Python name
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


def read_price(text: str) -> int:
    """:func:`parse_price` by the faster way of this build: :func:`price_of` once compiled, a look-up
    in :data:`PRICE_CACHE` first in plain Python. The same int (1/10,000 USD) or DecodeError."""
    if cython.compiled:
        value = price_of(text)
    else:
        cached = PRICE_CACHE.get(text)
        value = parse_price(text) if cached is None else cached
    return value


def read_size(text: str) -> int:
    """:func:`parse_size` by the faster way of this build: :func:`scan_fixed` once compiled, a
    look-up in :data:`SIZE_CACHE` first in plain Python. The same int (1/1,000,000, signed) or
    DecodeError."""
    if cython.compiled:
        size = scan_fixed(text, SIZE_DECIMALS, True)
        value = parse_size(text) if size == _NOT_PLAIN else size
    else:
        cached = SIZE_CACHE.get(text)
        value = parse_size(text) if cached is None else cached
    return value


_MAX_MS = (2**63 - 1) // 1_000_000  # the last millisecond whose ns fit a signed 64-bit integer
_LAST_MS: list[tuple[str, int]] = [("", 0)]
"""Plain Python: the last string :func:`read_ms` read and its ns, as one tuple swapped whole (safe
to read from any thread; the list itself is never rebound)."""


def read_ms(text: str) -> int:
    """A venue's Unix milliseconds given as 1 to 18 ASCII digits → ns since the epoch, or
    :data:`NOT_PLAIN` for anything else, or a time past 2262 (never an exception: the caller
    parses the string itself then). Once compiled the digits are read in place; in plain Python
    the last string's value is remembered (a burst of changes shares its timestamp)."""
    if cython.compiled:
        ms = scan_digits(text)
        ns = ms * 1_000_000 if 0 <= ms <= _MAX_MS else _NOT_PLAIN
    else:
        last = _LAST_MS[0]
        if text == last[0]:
            ns = last[1]
        else:
            ms = scan_digits(text)
            ns = ms * 1_000_000 if 0 <= ms <= _MAX_MS else _NOT_PLAIN
            if ns >= 0:
                _LAST_MS[0] = (text, ns)
    return ns


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


# -- byte scanners ------------------------------------------------------------------------------
# A venue frame's bytes ``p`` of length ``n`` read in place (a C pointer into them once compiled, so
# every index is checked against ``n`` before it is read), eight bytes at a time where they can
# once compiled (_word: one 64-bit load), one by one otherwise.

_ONES = 0x0101010101010101  # eight bytes at once (SWAR): the constants of the byte tests
_HIGH_BITS = 0x8080808080808080
_SPACES = 0x2020202020202020
_QUOTES = 0x2222222222222222
_BACKSLASHES = 0x5C5C5C5C5C5C5C5C


def _word(u: bytes) -> int:
    # The eight bytes at ``u`` as one integer (once compiled: ``u`` a pointer, one 64-bit load)
    return (  # type: ignore[no-any-return]
        cython.cast(cython.ulonglong, u[0])
        | cython.cast(cython.ulonglong, u[1]) << 8
        | cython.cast(cython.ulonglong, u[2]) << 16
        | cython.cast(cython.ulonglong, u[3]) << 24
        | cython.cast(cython.ulonglong, u[4]) << 32
        | cython.cast(cython.ulonglong, u[5]) << 40
        | cython.cast(cython.ulonglong, u[6]) << 48
        | cython.cast(cython.ulonglong, u[7]) << 56
    )


def match_at(p: bytes, n: int, i: int, lit: bytes) -> int:
    """The index after ``lit`` when the frame ``p`` (``n`` bytes) holds it at ``i``, else -1 (also
    for ``i`` < 0: the result of a previous failed match can be passed on)."""
    m = len(lit)
    if i < 0 or i + m > n:
        return -1
    if cython.compiled:  # eight bytes at a time, then one by one
        b = p  # a pointer to the bytes once compiled
        u = b + i  # type: ignore[operator]
        q = lit
        k = 0
        while k + 8 <= m:
            if _word(u + k) != _word(q + k):  # type: ignore[operator]
                return -1
            k += 8
        while k < m:
            if u[k] != q[k]:
                return -1
            k += 1
        end = i + m
    else:
        end = i + m if p.startswith(lit, i) else -1
    return end


def text_end(p: bytes, n: int, i: int) -> int:
    """The index of the quote closing a JSON text that starts at ``p[i]``, else -1: the text must
    be printable ASCII (or DEL), without escapes (a control character, a backslash or a non-ASCII
    byte: -1)."""
    b = p  # a pointer to the bytes once compiled
    if cython.compiled:  # eight bytes at a time until one of them is a quote or suspect
        while i + 8 <= n:
            w = _word(b + i)  # type: ignore[operator]
            quotes = w ^ _QUOTES  # a zero byte where w has a quote
            slashes = w ^ _BACKSLASHES
            if (
                w  # a byte from 0x80 (non-ASCII)
                | ((w - _SPACES) & ~w)  # a byte below 0x20 (a control character)
                | ((quotes - _ONES) & ~quotes)
                | ((slashes - _ONES) & ~slashes)
            ) & _HIGH_BITS:
                break  # the byte loop below finds which
            i += 8
    while i < n:
        c = b[i]
        if c == 34:  # "
            return i
        if c < 32 or c > 127 or c == 92:  # a control character, non-ASCII, or \\ (an escape)
            return -1
        i += 1
    return -1


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
