"""What the detector reads from a pairs file: thresholds, each pair's per-leg terms, outcome sets.

* :class:`Thresholds` (the ``[thresholds]`` table), :class:`LegTerms` / :class:`PairTerms` (each
  leg's fee model, minimum size and fee params; the later settlement), :class:`OutcomeSet`
  (``[[outcome_set]]``), :class:`ArbConfig` (all of it);
* :func:`load_pairs` / :func:`load_arb_config` read and check them; fee models are built by each
  leg's venue adapter (:class:`hadron.venues.base.FeeModelVenue`), never assumed.

Money is int, 1/10,000,000,000 USD (:data:`hadron.model.fees.MONEY_SCALE`); sizes int,
1/1,000,000 share. The detector itself is :mod:`hadron.arb.detector`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

from hadron.errors import ConfigError, DecodeError
from hadron.match.pairs import Pair, PairLeg, fee_terms, missing_fee_terms, read_pair_tables
from hadron.model.fees import MONEY_SCALE, FeeModel, NoFee
from hadron.model.units import SIZE_SCALE, parse_price, parse_size
from hadron.model.venue import is_venue, venue_names
from hadron.venues.base import FeeModelVenue, get_venue


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """When a candidate is reported.

    Attributes:
        min_edge: smallest net profit per share, int, money units (1/10,000,000,000 USD).
        min_profit: smallest net profit, int, money units (results must also be > 0).
        min_size: smallest size per leg, int, 1/1,000,000 share.
        max_capital: largest cost including fees, int, money units; ``None``: no limit.
        max_age_ns: a leg's book must have been updated within this many ns.
        lot: size increment of both legs, int, 1/1,000,000 share (default one share).
    """

    min_edge: int = 0
    min_profit: int = 0
    min_size: int = 0
    max_capital: int | None = None
    max_age_ns: int = 60 * 10**9
    lot: int = SIZE_SCALE


@dataclass(frozen=True, slots=True, kw_only=True)
class LegTerms:
    """What the detector needs to know about one leg of a pair.

    Attributes:
        fee: the leg's market's taker :class:`~hadron.model.fees.FeeModel` (money units).
        min_size: the venue market's minimum order, int, 1/1,000,000 share (0: none).
        fee_params: the venue adapter's ``fee_model`` params ``fee`` was built from
            (``{"multiplier": "1"}``), the base a venue fee override applies to
            (:class:`hadron.arb.fees.FeeRegistry`).
    """

    fee: FeeModel
    min_size: int = 0
    fee_params: dict[str, str] = field(default_factory=dict)


_FREE = LegTerms(fee=NoFee())


@dataclass(frozen=True, slots=True, kw_only=True)
class PairTerms:
    """What the detector needs to know about one pair beyond :class:`Pair`.

    Attributes:
        legs: per leg of :attr:`Pair.legs` (same order), its :class:`LegTerms`.
        settle_ns: the later of the two settlements, ns since the epoch, when known.
    """

    legs: tuple[LegTerms, ...] = (_FREE, _FREE)
    settle_ns: int | None = None

    def leg(self, index: int) -> LegTerms:
        """The terms of leg ``index`` (no fee and no minimum when not given)."""
        return self.legs[index] if index < len(self.legs) else _FREE


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeSet:
    """The YES tokens of every outcome of one mutually exclusive event on one venue (a Polymarket
    neg-risk event).

    Exactly one outcome resolves YES, so buying one YES share of each pays $1. The set must list
    every outcome of the event (an unlisted outcome that wins pays nothing).

    Attributes:
        id: a name for the set (the event slug or id). tokens: the outcomes' YES token ids.
        fee: the markets' taker :class:`FeeModel`. min_size: the largest minimum order, int,
            1/1,000,000 share. settle_ns: settlement time, ns since the epoch, when known.
        venue: the registered venue of the tokens (opportunities of kind ``<venue>_outcomes``).
    """

    id: str
    tokens: tuple[str, ...]
    fee: FeeModel
    min_size: int = 0
    settle_ns: int | None = None
    venue: str = "polymarket"


def _settle_ns(value: object) -> int | None:
    if not value:
        return None
    stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return int(stamp.timestamp()) * 10**9 + stamp.microsecond * 1000


def _money(value: object) -> int:
    # A USD decimal string → money units (exact; finer than 1/10,000,000,000 USD is refused)
    units = parse_price(str(value))  # 1/10,000 USD, exact
    return units * (MONEY_SCALE // 10_000)


def _fee_venue(venue: str) -> FeeModelVenue:
    adapter = get_venue(venue)
    if not isinstance(adapter, FeeModelVenue):
        raise ConfigError(f"venue {venue} does not provide fee models")
    return adapter


_FEE_HINTS = {
    "polymarket_fee_rate": 'polymarket_fee_rate = "<the market\'s taker fee rate, e.g. 0.04; 0 if fee-free>"',
    "kalshi_fee_multiplier": 'kalshi_fee_multiplier = "<the series\' fee multiplier, e.g. 1>"',
}


def _fee_hint(name: str) -> str:
    return _FEE_HINTS.get(name, f'{name} = "<the venue\'s fee parameter, a decimal string>"')


def leg_terms(leg: PairLeg) -> LegTerms:
    """The :class:`LegTerms` of ``leg``: its fee model built by its venue adapter from its fee
    params (:class:`~hadron.venues.base.FeeModelVenue`), and its minimum size.

    Raises:
        ConfigError: the venue has no fee models, or a fee param is invalid.
    """
    return LegTerms(
        fee=_fee_venue(leg.venue).fee_model(leg.fee_params), min_size=leg.min_size, fee_params=leg.fee_params
    )


def load_pairs(path: Path) -> tuple[list[Pair], dict[str, PairTerms]]:
    """Read the tradeable pairs of a pairs file and their :class:`PairTerms`.

    Per-pair fields beyond the legs' locators, for each leg's venue: ``<venue>_fee_<param>`` for
    each of the venue's registered fee params (Kalshi ``kalshi_fee_multiplier``, Polymarket
    ``polymarket_fee_rate``; decimal strings, required on every tradeable pair: ``"0"`` states a
    fee-free market, a missing value is an error, never a fee of 0), ``<venue>_min_size`` (shares,
    decimal string) [``"0"``]; and ``settles_at`` (ISO 8601, the later settlement) [unknown]. Fee
    models come from the venues through :func:`hadron.venues.base.get_venue`.

    Raises:
        ConfigError: unreadable file, invalid pair, a tradeable pair without its fee terms (the
            pair and the settings to add named), or an invalid extra field.
    """
    tables = read_pair_tables(path)
    pairs = [pair for pair, _ in tables if pair.tradeable]
    raw: dict[str, dict[str, Any]] = {}
    for pair, table in tables:
        raw.setdefault(pair.id, table)
    unpriced = {pair.id: missing for pair in pairs if (missing := missing_fee_terms(raw[pair.id]))}
    if unpriced:
        names = list(dict.fromkeys(name for missing in unpriced.values() for name in missing))
        add = " and ".join(_fee_hint(name) for name in names)
        if len(unpriced) == 1:
            ((pid, missing),) = unpriced.items()
            raise ConfigError(
                f"pairs file {path}, pair {pid}: approved without {' and '.join(missing)}; add {add} to its "
                "[[pair]] table (a pair is never traded at an assumed fee)"
            )
        listed = ", ".join(f"{pid} ({', '.join(missing)})" for pid, missing in unpriced.items())
        raise ConfigError(
            f"pairs file {path}: {len(unpriced)} approved pairs without fee terms: {listed}; add {add} to each "
            "[[pair]] table (a pair is never traded at an assumed fee)"
        )
    terms: dict[str, PairTerms] = {}
    for pair in pairs:
        try:
            terms[pair.id] = PairTerms(
                legs=tuple(leg_terms(leg) for leg in pair.legs),
                settle_ns=_settle_ns(raw[pair.id].get("settles_at")),
            )
        except (ValueError, DecodeError, InvalidOperation) as exc:
            raise ConfigError(f"pairs file {path}, pair {pair.id}: {exc}") from exc
    return pairs, terms


@dataclass(frozen=True, slots=True)
class ArbConfig:
    """Everything the detector reads from a pairs file (see :func:`load_arb_config`)."""

    pairs: list[Pair]
    terms: dict[str, PairTerms]
    outcome_sets: list[OutcomeSet]
    thresholds: Thresholds


_THRESHOLD_KEYS = ("min_edge", "min_profit", "min_size", "max_capital", "max_age_s", "lot")


def _thresholds(table: dict[str, Any], path: Path) -> Thresholds:
    unknown = sorted(set(table) - set(_THRESHOLD_KEYS))
    if unknown:
        raise ConfigError(
            f"pairs file {path}: [thresholds] has unknown keys {unknown} (known: {list(_THRESHOLD_KEYS)})"
        )
    try:
        defaults = Thresholds()
        return Thresholds(
            min_edge=_money(table.get("min_edge", "0")),
            min_profit=_money(table.get("min_profit", "0")),
            min_size=parse_size(str(table.get("min_size", "0"))),
            max_capital=_money(table["max_capital"]) if "max_capital" in table else None,
            max_age_ns=int(float(table["max_age_s"]) * 10**9) if "max_age_s" in table else defaults.max_age_ns,
            lot=parse_size(str(table.get("lot", "1"))),
        )
    except (ValueError, DecodeError, InvalidOperation) as exc:
        raise ConfigError(
            f'pairs file {path}, [thresholds]: {exc} (money and sizes are decimal strings, e.g. min_edge = "0.01")'
        ) from exc


def _outcome_sets(tables: list[Any], path: Path) -> list[OutcomeSet]:
    out = []
    for n, table in enumerate(tables):
        name = table.get("id") if isinstance(table, dict) else None
        tokens = table.get("tokens") if isinstance(table, dict) else None
        if not name or not isinstance(tokens, list) or len(tokens) < 2 or not all(isinstance(t, str) for t in tokens):
            raise ConfigError(
                f"pairs file {path}: [[outcome_set]] #{n + 1} needs an id and tokens = [at least two YES token ids]"
            )
        venue = str(table.get("venue", "polymarket"))
        if not is_venue(venue):
            known = ", ".join(venue_names())
            raise ConfigError(f"pairs file {path}, outcome set {name}: unknown venue {venue!r} (registered: {known})")
        missing = [term for term in fee_terms(venue) if str(table.get(term, "")).strip() == ""]
        if missing:
            add = " and ".join(_fee_hint(term) for term in missing)
            raise ConfigError(
                f"pairs file {path}, outcome set {name}: without {' and '.join(missing)}; add "
                f"{add} to its [[outcome_set]] table (never traded at an assumed fee)"
            )
        prefix = f"{venue}_fee_"
        params = {k[len(prefix) :]: str(v) for k, v in table.items() if k.startswith(prefix)}
        try:
            out.append(
                OutcomeSet(
                    id=str(name),
                    tokens=tuple(tokens),
                    fee=_fee_venue(venue).fee_model(params),
                    min_size=parse_size(str(table.get(f"{venue}_min_size", "0"))),
                    settle_ns=_settle_ns(table.get("settles_at")),
                    venue=venue,
                )
            )
        except (ValueError, DecodeError, InvalidOperation) as exc:
            raise ConfigError(f"pairs file {path}, outcome set {name}: {exc}") from exc
    return out


def load_arb_config(path: Path) -> ArbConfig:
    """Read a pairs file: approved pairs, their terms, outcome sets and thresholds.

    Beyond ``[[pair]]`` tables (see :func:`load_pairs`), the file may hold:

    * ``[thresholds]``: ``min_edge`` (USD per contract), ``min_profit`` (USD), ``min_size``
      (shares), ``max_capital`` (USD, cost including fees), ``max_age_s`` (a leg's book age),
      ``lot`` (shares); money and sizes as decimal strings.
    * ``[[outcome_set]]``: a mutually exclusive event (a Polymarket neg-risk event), ``id``,
      ``tokens`` (the YES token of every outcome), ``venue`` [``"polymarket"``], the venue's fee
      terms (``polymarket_fee_rate``: required, ``"0"`` when fee-free), ``<venue>_min_size``
      (``polymarket_min_size``), ``settles_at``.

    Raises:
        ConfigError: unreadable file, invalid pair, a tradeable pair or outcome set without its fee
            terms, unknown threshold key, or a bad value (named).
    """
    pairs, terms = load_pairs(path)
    document = tomllib.loads(path.read_text())
    table = document.get("thresholds", {})
    if not isinstance(table, dict):
        raise ConfigError(f"pairs file {path}: thresholds must be a table ([thresholds])")
    sets = document.get("outcome_set", [])
    if not isinstance(sets, list):
        raise ConfigError(f"pairs file {path}: outcome sets must be an array of tables ([[outcome_set]])")
    return ArbConfig(pairs, terms, _outcome_sets(sets, path), _thresholds(table, path))
