"""Settlements for replays: which instrument resolved how, and when, from a file.

A settlements file is CSV (with a header) or NDJSON. Each row names an instrument in one of the
columns ``instrument`` (``kalshi:<ticker>``, ``polymarket:<token id>``), ``market_ticker``,
``ticker`` or ``window`` (Kalshi tickers), ``token_id`` (Polymarket), a ``result`` (``yes`` or
``no``: whether that contract or token paid $1) and optionally its time in ``settlement_ts``,
``settled_at`` or ``ts_ns`` (ISO 8601 or ns since the epoch). Rows without a yes/no result (a
market not determined, voided or scalar) are skipped and counted. Kalshi's own market list
(``GET /markets``, or the capture's ``MARKETS.csv``) is such a file as it is.

With the approved pairs, a result of a pair's first leg also settles the second leg's books that
the file does not name (:func:`derived_settlements`): a Kalshi result settles the pair's
Polymarket tokens, ``polymarket_yes_token`` paying exactly when Kalshi YES pays.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec

from hadron.errors import InputError
from hadron.match.pairs import Pair
from hadron.model.instrument import instrument_id

_ID_COLUMNS = (
    ("instrument", None),
    ("market_ticker", "kalshi"),
    ("ticker", "kalshi"),
    ("window", "kalshi"),
    ("token_id", "polymarket"),
)
_TIME_COLUMNS = ("settlement_ts", "settled_at", "ts_ns")


@dataclass(frozen=True, slots=True)
class Settlement:
    """``instrument`` resolved ``result`` (``"yes"``: it paid $1) at ``ts_ns`` (``None``: unknown)."""

    instrument: str
    result: str
    ts_ns: int | None
    derived: bool = False


def _time(value: object) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(stamp.timestamp()) * 10**9 + stamp.microsecond * 1000


def _row(row: dict[str, object], where: str) -> Settlement | None:
    instrument = None
    for column, venue in _ID_COLUMNS:
        value = row.get(column)
        if value:
            text = str(value)
            instrument = text if venue is None else instrument_id(venue, text)
            break
    if instrument is None:
        raise InputError(f"{where}: no instrument column ({', '.join(c for c, _ in _ID_COLUMNS)})")
    result = str(row.get("result") or "").strip().lower()
    if result not in ("yes", "no"):
        return None
    ts = None
    for column in _TIME_COLUMNS:
        if row.get(column):
            try:
                ts = _time(row[column])
            except ValueError as exc:
                raise InputError(f"{where}: bad {column} {row[column]!r}: {exc}") from None
            break
    return Settlement(instrument, result, ts)


def load_settlements(path: Path, pairs: Iterable[Pair] = ()) -> tuple[list[Settlement], int]:
    """Read ``path`` (CSV or NDJSON, see the module docstring); return ``(settlements, skipped)``.

    Raises:
        InputError: unreadable file, a row without an instrument column, or a bad time.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"settlements file {path}: {exc}") from exc
    out: list[Settlement] = []
    skipped = 0
    if text.lstrip().startswith("{"):
        rows: Iterable[dict[str, object]] = (msgspec.json.decode(line) for line in text.splitlines() if line.strip())
    else:
        rows = csv.DictReader(io.StringIO(text))
    try:
        for n, row in enumerate(rows, 1):
            settlement = _row(row, f"{path}, row {n}")
            if settlement is None:
                skipped += 1
            else:
                out.append(settlement)
    except msgspec.DecodeError as exc:
        raise InputError(f"settlements file {path}: {exc}") from exc
    return out + derived_settlements(out, pairs), skipped


def derived_settlements(settlements: Iterable[Settlement], pairs: Iterable[Pair]) -> list[Settlement]:
    """The settlements of a pair's second leg implied by its first leg's result (a Polymarket
    token's from its Kalshi market's), through approved pairs (only for instruments that
    ``settlements`` does not name): the second leg's YES book pays exactly when the first leg's
    YES pays, its NO book when it does not."""
    by_instrument = {s.instrument: s for s in settlements}
    out: list[Settlement] = []
    for pair in pairs:
        legs = pair.legs
        if len(legs) < 2 or not legs[0].yes:
            continue
        first = by_instrument.get(instrument_id(legs[0].venue, legs[0].yes))
        if first is None:
            continue
        other = legs[1]
        for symbol, pays_with_yes in ((other.yes, True), (other.no, False)):
            if not symbol:
                continue
            instrument = instrument_id(other.venue, symbol)
            if instrument in by_instrument:
                continue
            result = "yes" if (first.result == "yes") == pays_with_yes else "no"
            out.append(Settlement(instrument, result, first.ts_ns, derived=True))
    return out
