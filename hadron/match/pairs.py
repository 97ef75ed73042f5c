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

Only ``approved`` pairs are traded (:func:`approved_pairs`). Event-level pairs (no markets known)
leave ``kalshi_market``, ``polymarket_market`` and ``polymarket_yes_token`` empty.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from hadron.errors import ConfigError

RELATIONS = ("identity", "complement", "subset", "overlap", "disjoint")
STATUSES = ("proposed", "approved", "rejected")


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


def read_pairs(path: Path) -> list[Pair]:
    """Read a pairs file.

    Raises:
        ConfigError: unreadable, not TOML, or a pair with a missing or invalid field (named).
    """
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"pairs file {path}: cannot read ({exc.strerror or exc})") from exc
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
    return pairs


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return msgspec.json.encode(str(value)).decode()  # a JSON string is a valid TOML basic string


def dumps_pairs(pairs: Iterable[Pair]) -> str:
    """Render pairs as TOML, one ``[[pair]]`` table each, fields in a reviewer-friendly order."""
    order = (
        "id", "kalshi_event", "kalshi_market", "polymarket_event", "polymarket_market", "polymarket_yes_token",
        "polymarket_no_token", "relation", "confidence", "reasons", "warnings", "status", "reviewed_by", "reviewed_at",
    )  # fmt: skip
    chunks = ["# Hadron pairs file: review with `hadron markets review FILE`; only approved pairs are traded.\n"]
    for pair in pairs:
        lines = ["[[pair]]"] + [f"{name} = {_toml_value(getattr(pair, name))}" for name in order]
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


def write_pairs(path: Path, pairs: Iterable[Pair]) -> None:
    """Write ``pairs`` to ``path`` atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dumps_pairs(pairs))
    tmp.replace(path)


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
