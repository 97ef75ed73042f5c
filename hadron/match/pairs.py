"""The reviewed pairs file: which market on one venue is which market on another, and who said so.

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
(:func:`hadron.arb.terms.load_pairs` refuses an approved pair without them). Event-level pairs (no markets known)
leave ``kalshi_market``, ``polymarket_market`` and ``polymarket_yes_token`` empty.

Each pair has two legs (:class:`PairLeg`), one per venue, read from fields named
``<venue>_<field>`` for any registered venue (:mod:`hadron.model.venue`): ``<venue>_event``,
``<venue>_market``, ``<venue>_yes_token`` / ``<venue>_no_token`` (a venue with a book per outcome;
a venue whose market is its YES book, like Kalshi, needs only ``<venue>_market``),
``<venue>_min_size`` (shares, decimal string) and ``<venue>_fee_<param>`` (the venue's fee
parameters, decimal strings: ``kalshi_fee_multiplier``, ``polymarket_fee_rate``). The first leg is
the venue registered first (Kalshi, then Polymarket, then venues registered at run time).

The file belongs to the people who edit it: besides the fields above it holds what the detector
needs (``kalshi_fee_multiplier``, ``polymarket_fee_rate``, ``polymarket_min_size``,
``settles_at`` per pair, ``[thresholds]``, ``[[outcome_set]]``; see
:func:`hadron.arb.terms.load_arb_config`) and their comments. :func:`update_pairs` (a review)
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
from hadron.model.units import parse_size
from hadron.model.venue import PAIR_FIELDS, is_venue, venue_info, venue_names

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
"""The fee settings every tradeable Kalshi–Polymarket pair must state (decimal strings; ``"0"`` is
a valid rate); in general each leg's :func:`fee_terms`."""

_LOCATORS = ("event", "market", "yes_token", "no_token")


def fee_terms(venue: str) -> tuple[str, ...]:
    """The pairs-file fee fields a tradeable pair's leg on ``venue`` must state:
    ``<venue>_fee_<param>`` for each of the venue's registered ``fee_params``.

    Raises:
        KeyError: ``venue`` is not registered.
    """
    return tuple(f"{venue}_fee_{param}" for param in venue_info(venue).fee_params)


def _venue_field(name: str) -> tuple[str, str] | None:
    # ``"<venue>_<field>"`` of a registered venue → (venue, field), else None
    venue, sep, rest = name.partition("_")
    if not sep or not rest or not is_venue(venue):
        return None
    if rest in PAIR_FIELDS or rest.startswith("fee_"):
        return venue, rest
    return None


class PairLeg(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's side of a pair.

    Attributes:
        venue: the registered venue name (``"kalshi"``).
        event / market: the venue's event and market ids as the pairs file gives them.
        yes: the venue symbol of the book that pays when the leg's YES pays (a Kalshi market
            ticker; a Polymarket YES token id); ``""`` when unknown (an event-level pair).
        no: the symbol of the book that pays when it does not, or ``""`` when NO is bought as
            ``1 −`` the YES book's bids (a venue with one book per market, Kalshi).
        fee_params: the venue's fee parameters (``<venue>_fee_<param>``; decimal strings).
        min_size: the venue market's minimum order, int, 1/1,000,000 share (0: none).
    """

    venue: str
    event: str = ""
    market: str = ""
    yes: str = ""
    no: str = ""
    fee_params: dict[str, str] = msgspec.field(default_factory=dict)
    min_size: int = 0


class Pair(msgspec.Struct, kw_only=True):
    """One proposed (or reviewed) cross-venue pair; see the module docstring for the fields.

    The Kalshi and Polymarket locator fields are attributes; every other ``<venue>_<field>`` of
    the pair's table (fee terms, minimum sizes, a registered third venue's fields) is kept, as
    written, in ``venue_fields``. :attr:`legs` reads both.
    """

    relation: str
    confidence: float
    kalshi_event: str = ""
    polymarket_event: str = ""
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
    venue_fields: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            venues = self.venues
            if len(venues) < 2:
                venues = ("kalshi", "polymarket")
            a, b = (self.value(f"{v}_market") or self.value(f"{v}_event") for v in venues[:2])
            self.id = f"{a}~{b}"

    def value(self, name: str) -> Any:
        """The pair's field ``name`` (an attribute, or a ``<venue>_<field>`` of ``venue_fields``;
        ``""`` when absent)."""
        if name in _ATTRIBUTES:
            return getattr(self, name)
        return self.venue_fields.get(name, "")

    @property
    def venues(self) -> tuple[str, ...]:
        """The registered venues the pair names (an event, market or token), in registry order."""
        return tuple(v for v in venue_names() if any(self.value(f"{v}_{f}") for f in _LOCATORS))

    @property
    def legs(self) -> tuple[PairLeg, ...]:
        """One :class:`PairLeg` per venue of :attr:`venues` (two for a tradeable pair).

        Raises:
            DecodeError: a ``<venue>_min_size`` that is not a decimal share count.
        """
        out = []
        for venue in self.venues:
            market = str(self.value(f"{venue}_market"))
            if venue_info(venue).one_book_per_market:
                yes, no = market, ""
            else:
                yes, no = str(self.value(f"{venue}_yes_token")), str(self.value(f"{venue}_no_token"))
            prefix = f"{venue}_fee_"
            fees = {k[len(prefix) :]: str(v) for k, v in self.venue_fields.items() if k.startswith(prefix)}
            size = str(self.value(f"{venue}_min_size")).strip()
            out.append(
                PairLeg(
                    venue=venue,
                    event=str(self.value(f"{venue}_event")),
                    market=market,
                    yes=yes,
                    no=no,
                    fee_params=fees,
                    min_size=parse_size(size) if size else 0,
                )
            )
        return tuple(out)

    @property
    def tradeable(self) -> bool:
        """Approved, market-level on two venues, and an identity or complement (so each leg has a
        hedge)."""
        if self.status != "approved" or self.relation not in ("identity", "complement"):
            return False
        venues = self.venues
        if len(venues) != 2:
            return False
        return all(self._yes_symbol(v) for v in venues)

    def _yes_symbol(self, venue: str) -> str:
        field = "market" if venue_info(venue).one_book_per_market else "yes_token"
        return str(self.value(f"{venue}_{field}"))


_ATTRIBUTES = frozenset(Pair.__struct_fields__)


def pair_from_table(table: Mapping[str, Any]) -> Pair:
    """A :class:`Pair` from one ``[[pair]]`` table (its ``<venue>_<field>`` values that are not
    attributes go to ``venue_fields``).

    Raises:
        msgspec.ValidationError: a missing or mistyped field.
    """
    extra = {k: v for k, v in table.items() if k not in _ATTRIBUTES and _venue_field(k) is not None}
    data = {k: v for k, v in table.items() if k != "venue_fields"}
    data["venue_fields"] = extra
    return msgspec.convert(data, type=Pair)


def _check(pair: Pair, where: str) -> None:
    if pair.relation not in RELATIONS:
        raise ConfigError(f"{where}: relation {pair.relation!r} is not one of {', '.join(RELATIONS)}")
    if pair.status not in STATUSES:
        raise ConfigError(f"{where}: status {pair.status!r} is not one of {', '.join(STATUSES)}")
    if not 0.0 <= pair.confidence <= 1.0:
        raise ConfigError(f"{where}: confidence {pair.confidence} is not between 0 and 1")
    if not pair.venues:
        raise ConfigError(
            f"{where}: names no venue (<venue>_event or <venue>_market; venues: {', '.join(venue_names())})"
        )


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
            pair = pair_from_table(raw)
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
    """The fee fields a pair's table does not state (absent or blank): each named venue's
    :func:`fee_terms` (:data:`FEE_TERMS` for a Kalshi–Polymarket pair), in leg order.

    An explicit ``"0"`` is stated (a fee-free market); only a missing value is missing.
    """
    try:
        venues = pair_from_table(table).venues
    except msgspec.ValidationError:
        venues = ("kalshi", "polymarket")
    names = [name for venue in venues for name in fee_terms(venue)]
    if set(venues) == {"kalshi", "polymarket"}:
        names = list(FEE_TERMS)
    return [name for name in names if str(table.get(name, "")).strip() == ""]


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
    lines = [f"{name} = {_toml_value(getattr(pair, name))}" for name in _ORDER]
    lines += [f"{name} = {_toml_value(value)}" for name, value in pair.venue_fields.items()]
    return "\n".join(["[[pair]]", *lines]) + "\n"


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
        value = _written(pair.value(name))
        if name in table:
            current = table[name]
            if (current.unwrap() if hasattr(current, "unwrap") else current) == value:
                continue
        elif value in ("", []):
            continue
        table[name] = tomlkit.value(_toml_value(pair.value(name)))  # a key's comment stays
        expected[name] = value
        changed = True
    return changed


def _table_id(table: Table) -> str:
    return pair_from_table(table.unwrap()).id


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
        differs = any(_written(old.value(f)) != _written(pair.value(f)) for f in MATCH_FIELDS)
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
