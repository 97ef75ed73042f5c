"""The reviewed pairs file: which Kalshi market is which Polymarket market, and who said so.

TOML, one ``[[pair]]`` per candidate, meant to be read and edited by a person::

    [[pair]]
    id = "KXNBAMVP-26-NJOK~0x1b2c…"
    kalshi_event = "KXNBAMVP-26"
    kalshi_market = "KXNBAMVP-26-NJOK"
    polymarket_event = "nba-mvp-2025-26"
    polymarket_market = "0x1b2c…"                 # condition id
    polymarket_yes_token = "7376…8432"            # the token that pays when the Kalshi market's YES pays
    relation = "identity"                         # identity | complement | subset | overlap | disjoint
    confidence = 0.93
    reasons = ["same player", "same season"]
    warnings = ["settlement sources differ: NBA vs …"]
    status = "proposed"                           # proposed | approved | rejected
    reviewed_by = ""
    reviewed_at = ""                              # ISO 8601, UTC
    polymarket_fee_rate = "0.04"                  # added by a person: required to trade ("0": fee-free)
    kalshi_fee_multiplier = "1"                   # added by a person: required to trade

Only ``approved`` pairs are traded (:func:`approved_pairs`), and only with their :data:`FEE_TERMS`
(:func:`hadron.arb.detector.load_pairs` refuses an approved pair without them). Event-level pairs (no markets known)
leave ``kalshi_market``, ``polymarket_market`` and ``polymarket_yes_token`` empty.

The file belongs to the people who edit it: besides the fields above it holds what the detector
needs (``kalshi_fee_multiplier``, ``polymarket_fee_rate``, ``polymarket_min_size``,
``settles_at`` per pair, ``[thresholds]``, ``[[outcome_set]]``; see
:func:`hadron.arb.detector.load_arb_config`) and their comments. :func:`update_pairs` (a review)
and :func:`merge_pairs` (a new proposal onto an existing file) edit it in place with ``tomlkit``:
only the named fields of the named pairs change, every other byte stays as it was.
:func:`write_pairs` writes a new file from scratch.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import tomlkit
from tomlkit.items import AoT, Table

from hadron.errors import ConfigError

RELATIONS = ("identity", "complement", "subset", "overlap", "disjoint")
STATUSES = ("proposed", "approved", "rejected")
REVIEW_FIELDS = ("status", "reviewed_by", "reviewed_at")
"""The fields a review writes (:func:`update_pairs`)."""
MATCH_FIELDS = (
    "kalshi_event", "kalshi_market", "polymarket_event", "polymarket_market", "polymarket_yes_token",
    "polymarket_no_token", "relation", "confidence", "reasons", "warnings",
)  # fmt: skip
"""The fields the matcher owns: a new proposal refreshes them on a pair still ``proposed``."""
FEE_TERMS = ("polymarket_fee_rate", "kalshi_fee_multiplier")
"""The fee settings every tradeable pair must state (decimal strings; ``"0"`` is a valid rate)."""


class Pair(msgspec.Struct, kw_only=True):
    """One proposed (or reviewed) cross-venue pair; see the module docstring for the fields."""

    kalshi_event: str
    polymarket_event: str
    relation: str
    confidence: float
    kalshi_market: str = ""
    polymarket_market: str = ""
    polymarket_yes_token: str = ""
    polymarket_no_token: str = ""
    reasons: list[str] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)
    status: str = "proposed"
    reviewed_by: str = ""
    reviewed_at: str = ""
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = f"{self.kalshi_market or self.kalshi_event}~{self.polymarket_market or self.polymarket_event}"

    @property
    def tradeable(self) -> bool:
        """Approved, market-level, and an identity or complement (so each leg has a hedge)."""
        return (
            self.status == "approved"
            and bool(self.kalshi_market and self.polymarket_yes_token)
            and self.relation in ("identity", "complement")
        )


def _check(pair: Pair, where: str) -> None:
    if pair.relation not in RELATIONS:
        raise ConfigError(f"{where}: relation {pair.relation!r} is not one of {', '.join(RELATIONS)}")
    if pair.status not in STATUSES:
        raise ConfigError(f"{where}: status {pair.status!r} is not one of {', '.join(STATUSES)}")
    if not 0.0 <= pair.confidence <= 1.0:
        raise ConfigError(f"{where}: confidence {pair.confidence} is not between 0 and 1")


def _load(path: Path) -> tuple[str, dict[str, Any], list[Pair]]:
    # The file's text (newlines as written), its data and its pairs, checked
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"pairs file {path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"pairs file {path}: not UTF-8 ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"pairs file {path}: not valid TOML ({exc})") from exc
    pairs: list[Pair] = []
    for index, raw in enumerate(data.get("pair", [])):
        where = f"pairs file {path}, pair {index + 1}"
        try:
            pair = msgspec.convert(raw, type=Pair)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        _check(pair, where)
        pairs.append(pair)
    return text, data, pairs


def read_pairs(path: Path) -> list[Pair]:
    """Read a pairs file.

    Raises:
        ConfigError: unreadable, not TOML, or a pair with a missing or invalid field (named).
    """
    return _load(path)[2]


def read_pair_tables(path: Path) -> list[tuple[Pair, dict[str, Any]]]:
    """Read a pairs file: each pair with its whole ``[[pair]]`` table as written (fee terms and
    any other field :class:`Pair` does not hold), in file order.

    Raises:
        ConfigError: as :func:`read_pairs`.
    """
    _, data, pairs = _load(path)
    return list(zip(pairs, data.get("pair", []), strict=True))


def missing_fee_terms(table: Mapping[str, Any]) -> list[str]:
    """The :data:`FEE_TERMS` a pair's table does not state (absent or blank), in that order.

    An explicit ``"0"`` is stated (a fee-free market); only a missing value is missing.
    """
    return [name for name in FEE_TERMS if str(table.get(name, "")).strip() == ""]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return msgspec.json.encode(str(value)).decode()  # a JSON string is a valid TOML basic string


_ORDER = (
    "id", "kalshi_event", "kalshi_market", "polymarket_event", "polymarket_market", "polymarket_yes_token",
    "polymarket_no_token", "relation", "confidence", "reasons", "warnings", "status", "reviewed_by", "reviewed_at",
)  # fmt: skip
_HEADER = (
    "# Hadron pairs file: review with `hadron markets review FILE`; only approved pairs are traded.\n"
    '# A pair trades only with its fee terms: add polymarket_fee_rate (e.g. "0.04"; "0" when fee-free)\n'
    '# and kalshi_fee_multiplier (e.g. "1") to each pair you approve.\n'
)


def _pair_text(pair: Pair) -> str:
    return "\n".join(["[[pair]]"] + [f"{name} = {_toml_value(getattr(pair, name))}" for name in _ORDER]) + "\n"


def dumps_pairs(pairs: Iterable[Pair]) -> str:
    """Render pairs as TOML, one ``[[pair]]`` table each, fields in a reviewer-friendly order."""
    return "\n".join([_HEADER, *(_pair_text(pair) for pair in pairs)])


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(text.encode("utf-8"))
    tmp.replace(path)


def write_pairs(path: Path, pairs: Iterable[Pair]) -> None:
    """Write ``pairs`` to ``path`` as a new file, atomically (temp file, then rename).

    This replaces whatever ``path`` held; to change a file people have edited use
    :func:`update_pairs` or :func:`merge_pairs`.
    """
    _atomic_write(path, dumps_pairs(pairs))


def _written(value: object) -> Any:
    # ``value`` as it reads back once written (confidence to 3 decimals, strings as strings)
    return tomllib.loads(f"v = {_toml_value(value)}")["v"]


def _set_fields(table: Table, pair: Pair, fields: Sequence[str], expected: dict[str, Any]) -> bool:
    # Set ``fields`` of ``table`` to ``pair``'s values where they differ (a field the table lacks
    # is added only when it is not empty); return whether anything changed
    changed = False
    for name in fields:
        value = _written(getattr(pair, name))
        if name in table:
            current = table[name]
            if (current.unwrap() if hasattr(current, "unwrap") else current) == value:
                continue
        elif value in ("", []):
            continue
        table[name] = tomlkit.value(_toml_value(getattr(pair, name)))  # a key's comment stays
        expected[name] = value
        changed = True
    return changed


def _table_id(table: Table) -> str:
    return msgspec.convert(table.unwrap(), type=Pair).id


def _aot_is_last(document: tomlkit.TOMLDocument) -> bool:
    keys = [key.key for key, _ in document.body if key is not None]
    return bool(keys) and keys[-1] == "pair"


def _rewrite(path: Path, text: str, edits: Sequence[tuple[int, Pair, Sequence[str]]], new: Sequence[Pair]) -> bool:
    # Apply ``edits`` (the pair at that index of the file, the fields to take from ``pair``) and
    # append ``new`` pairs; write only when something changed. The result is read back and must
    # hold exactly the old data plus the changes, or nothing is written.
    document = tomlkit.parse(text)
    expected: dict[str, Any] = tomllib.loads(text)
    tables = document.get("pair")
    if tables is not None and not isinstance(tables, AoT):
        raise ConfigError(f"pairs file {path}: write the pairs as [[pair]] tables to have them edited; nothing written")
    changed = False
    for index, pair, fields in edits:
        if tables is None or index >= len(tables) or _table_id(tables[index]) != pair.id:
            raise ConfigError(
                f"pairs file {path}: pair {pair.id} is no longer pair {index + 1}; the file changed, retry"
            )
        changed |= _set_fields(tables[index], pair, fields, expected["pair"][index])
    rendered = tomlkit.dumps(document) if changed else text
    if new:
        added = "\n".join(_pair_text(pair) for pair in new)
        expected.setdefault("pair", []).extend(tomllib.loads(added)["pair"])
        if isinstance(tables, AoT) and not _aot_is_last(document):
            # the pairs are followed by other tables: append inside the array of tables
            previous = tables[-1].as_string() if len(tables) else "\n\n"
            for n, pair in enumerate(new):
                table = tomlkit.parse(_pair_text(pair))["pair"][0]
                if n == 0 and not previous.endswith("\n\n"):
                    table.trivia.indent = "\n"
                table.add(tomlkit.nl())
                tables.append(table)
            rendered = tomlkit.dumps(document)
        else:  # the pairs end the file (or there are none): append the text as it is
            newline = "\r\n" if "\r\n" in text else "\n"
            ending = rendered.replace("\r\n", "\n")
            gap = "" if ending.endswith("\n\n") or not ending else "\n" if ending.endswith("\n") else "\n\n"
            rendered = rendered + (gap + added).replace("\n", newline)
        changed = True
    if not changed:
        return False
    try:
        same = tomllib.loads(rendered) == expected
    except tomllib.TOMLDecodeError:
        same = False
    if not same:  # never write a file that lost or changed anything else
        raise ConfigError(f"pairs file {path}: cannot edit it without changing other content; nothing written")
    _atomic_write(path, rendered)
    return True


def update_pairs(path: Path, pairs: Mapping[int, Pair], fields: Sequence[str] = REVIEW_FIELDS) -> bool:
    """Write ``fields`` of each pair into its table of ``path``, in place: every other byte of the
    file (other fields, other pairs, ``[thresholds]``, ``[[outcome_set]]``, comments) stays.

    Args:
        path: the pairs file.
        pairs: by index in the file's ``[[pair]]`` array (0-based, as :func:`read_pairs` returns
            them), the pair with the new values (its ``id`` must still be that table's).
        fields: the :class:`Pair` fields to write (a review's by default); a value equal to the
            file's is left as written, an empty one is not added.

    Returns:
        Whether the file changed (written atomically).

    Raises:
        ConfigError: the file is invalid, or the pair at an index is no longer the one given
            (the file changed meanwhile).
    """
    text, _, _ = _load(path)
    return _rewrite(path, text, [(index, pair, fields) for index, pair in sorted(pairs.items())], [])


def merge_pairs(path: Path, proposed: Sequence[Pair]) -> dict[str, int]:
    """Merge a new proposal (``hadron markets match --out`` onto an existing file) into ``path``.

    A proposed pair whose ``id`` is new is appended; one the file holds still ``proposed`` gets
    the matcher's fields (:data:`MATCH_FIELDS`) refreshed in place; one already reviewed
    (approved or rejected) is left exactly as it is, since a decision was made on what it said.
    Pairs the proposal no longer has, fee terms, ``[thresholds]``, ``[[outcome_set]]`` and
    comments are kept byte for byte. Without a file at ``path``, this is :func:`write_pairs`.

    Returns:
        ``{"added", "refreshed", "unchanged", "kept_reviewed", "reviewed_differs", "not_proposed"}``:
        pair counts (``reviewed_differs``: reviewed pairs the new proposal disagrees with, left
        as reviewed; ``not_proposed``: pairs in the file the proposal does not have, kept).

    Raises:
        ConfigError: the existing file is invalid (it is not touched).
    """
    counts = dict.fromkeys(("added", "refreshed", "unchanged", "kept_reviewed", "reviewed_differs", "not_proposed"), 0)
    if not path.exists():
        write_pairs(path, proposed)
        counts["added"] = len(proposed)
        return counts
    text, _, existing = _load(path)
    where = {pair.id: index for index, pair in reversed(list(enumerate(existing)))}  # first one wins
    edits: list[tuple[int, Pair, Sequence[str]]] = []
    new: list[Pair] = []
    seen: set[str] = set()
    for pair in proposed:
        if pair.id in seen:
            continue
        seen.add(pair.id)
        index = where.get(pair.id)
        if index is None:
            new.append(pair)
            continue
        old = existing[index]
        differs = any(_written(getattr(old, f)) != _written(getattr(pair, f)) for f in MATCH_FIELDS)
        if old.status != "proposed":
            counts["kept_reviewed"] += 1
            counts["reviewed_differs"] += differs
        elif differs:
            edits.append((index, pair, MATCH_FIELDS))
            counts["refreshed"] += 1
        else:
            counts["unchanged"] += 1
    counts["added"] = len(new)
    counts["not_proposed"] = sum(1 for pair in existing if pair.id not in seen)
    _rewrite(path, text, edits, new)
    return counts


def review(pair: Pair, status: str, reviewer: str, *, now: datetime | None = None) -> Pair:
    """Record a decision on ``pair``: ``status`` by ``reviewer`` at ``now`` (UTC).

    Raises:
        ConfigError: an unknown status or an empty reviewer.
    """
    if status not in STATUSES:
        raise ConfigError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if not reviewer.strip():
        raise ConfigError("a review needs the reviewer's name (--reviewer or $USER)")
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return msgspec.structs.replace(pair, status=status, reviewed_by=reviewer.strip(), reviewed_at=stamp)


def approved_pairs(path: Path) -> list[Pair]:
    """The pairs of ``path`` the arbitrage engine may trade (see :attr:`Pair.tradeable`)."""
    return [p for p in read_pairs(path) if p.tradeable]
