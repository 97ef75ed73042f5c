"""Paper-trading settings: execution (latency, time in force, unwind) and risk limits.

Both come from TOML tables (``[paper]`` and ``[risk]`` in a paper config file or in
``hadron.toml``); money is a USD decimal string, held as int money units (1/10,000,000,000 USD,
:data:`~hadron.model.fees.MONEY_SCALE`), durations are milliseconds or seconds as named. Every
error names the setting and what it accepts.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from hadron.errors import ConfigError
from hadron.model.fees import MONEY_SCALE
from hadron.model.venue import venue_info, venue_names

TimeInForce = Literal["IOC", "FOK"]
UnwindPolicy = Literal["retry", "sell_back", "hold"]


def money(value: object, setting: str) -> int:
    """Parse a USD decimal string (``"1000"``, ``"0.05"``) into money units.

    Raises:
        ConfigError: not a decimal, negative, or finer than 1/10,000,000,000 USD (names ``setting``).
    """
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f'{setting} = {value!r}: expected a USD amount as a decimal string, e.g. "1000"') from None
    units = amount * MONEY_SCALE
    if not amount.is_finite() or amount < 0 or units != units.to_integral_value():
        raise ConfigError(f"{setting} = {value!r}: expected a non-negative USD amount with at most 10 decimals")
    return int(units)


@dataclass(frozen=True, slots=True)
class Latency:
    """How long an order takes to reach a venue: ``fixed_ms`` plus, when ``jitter_ms`` > 0, a
    uniform draw in ``[0, jitter_ms]`` (from the trader's seeded random source), or a draw from
    ``samples_ms`` (observed latencies) when given."""

    fixed_ms: float = 50.0
    jitter_ms: float = 0.0
    samples_ms: tuple[float, ...] = ()

    def sample_ns(self, rng: random.Random) -> int:
        """One latency in ns."""
        if self.samples_ms:
            return int(rng.choice(self.samples_ms) * 1_000_000)
        jitter = rng.uniform(0.0, self.jitter_ms) if self.jitter_ms > 0 else 0.0
        return int((self.fixed_ms + jitter) * 1_000_000)


def _default_latency() -> dict[str, Latency]:
    return {name: Latency(venue_info(name).paper_latency_ms) for name in venue_names()}


def _default_cash() -> dict[str, int]:
    return {name: venue_info(name).initial_cash_usd * MONEY_SCALE for name in venue_names()}


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperConfig:
    """How the paper trader executes.

    Attributes:
        latency: per venue, the order's travel time (:class:`Latency`); by default each
            registered venue's ``paper_latency_ms`` (:mod:`hadron.model.venue`: Kalshi 50 ms,
            Polymarket 150 ms).
        tif: ``IOC`` (fill what the book has at the limit, cancel the rest) or ``FOK`` (all or nothing).
        slippage_ticks: how many cents above the opportunity's worst price the limit may go.
        unwind: when one leg fills more than the other: ``retry`` the short leg (up to
            ``retry_attempts`` more orders, each ``retry_slippage_ticks`` cents further), then sell
            back what is still unhedged; ``sell_back`` at once; or ``hold`` the imbalance.
        initial_cash: per venue, money units; by default each registered venue's
            ``initial_cash_usd`` ($10,000).
        retake_ms: after taking an opportunity, wait this long (event time) before taking it again.
        seed: the random source of latency draws (same seed, same run).
        equity_interval_s: the equity curve gets a point at least this often (event time).
    """

    latency: dict[str, Latency] = field(default_factory=_default_latency)
    tif: TimeInForce = "IOC"
    slippage_ticks: int = 0
    unwind: UnwindPolicy = "retry"
    retry_attempts: int = 2
    retry_slippage_ticks: int = 1
    initial_cash: dict[str, int] = field(default_factory=_default_cash)
    retake_ms: float = 1_000.0
    seed: int = 0
    equity_interval_s: float = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """Limits the risk manager enforces before every order (``None``: no limit).

    Attributes:
        max_notional_pair / max_notional_market / max_notional_venue: cost (fills and fees, money
            units) held in one pair, one instrument, one venue, counting what is in flight.
        max_open_pairs: pairs holding a position (not settled).
        max_leg_imbalance: unhedged cost (money units) across all pairs.
        daily_loss_limit: realized plus unrealized loss since 00:00 UTC (event time), money units.
        max_data_age_ms: a leg's book must have changed this recently (stale-data guard).
        kill_file: while this file exists the kill switch is engaged.
    """

    max_notional_pair: int | None = None
    max_notional_market: int | None = None
    max_notional_venue: int | None = None
    max_open_pairs: int | None = None
    max_leg_imbalance: int | None = None
    daily_loss_limit: int | None = None
    max_data_age_ms: float = 5_000.0
    kill_file: Path | None = None


_PAPER_KEYS = {
    "latency_ms", "jitter_ms", "latency_samples_ms", "tif", "slippage_ticks", "unwind", "retry_attempts",
    "retry_slippage_ticks", "initial_cash", "retake_ms", "seed", "equity_interval_s",
}  # fmt: skip
_RISK_KEYS = {
    "max_notional_pair", "max_notional_market", "max_notional_venue", "max_open_pairs", "max_leg_imbalance",
    "daily_loss_limit", "max_data_age_ms", "kill_file",
}  # fmt: skip


def _check_keys(table: dict[str, Any], known: set[str], name: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"[{name}] has unknown settings {unknown}; known: {', '.join(sorted(known))}")


def per_venue(value: object, setting: str, parse: Any) -> dict[str, Any]:
    """A setting given once for every registered venue (a scalar) or per venue (a table),
    each value parsed by ``parse(value, setting)``.

    Raises:
        ConfigError: a venue that is not registered (named with the registered ones), or what
            ``parse`` raises.
    """
    venues = venue_names()
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(venues))
        if unknown:
            raise ConfigError(f"{setting}: unknown venues {unknown} (use {', '.join(venues)})")
        return {venue: parse(v, f"{setting}.{venue}") for venue, v in value.items()}
    return {venue: parse(value, setting) for venue in venues}


def _number(value: object, setting: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{setting} = {value!r}: expected a number ≥ 0")
    return float(value)


def _count(value: object, setting: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{setting} = {value!r}: expected a whole number ≥ 0")
    return value


def paper_config(table: dict[str, Any]) -> PaperConfig:
    """Build :class:`PaperConfig` from a ``[paper]`` table.

    Keys: ``latency_ms`` and ``jitter_ms`` (a number, or a table per venue), ``latency_samples_ms``
    (a list, or a table per venue), ``tif`` (``"IOC"``/``"FOK"``), ``slippage_ticks``, ``unwind``
    (``"retry"``/``"sell_back"``/``"hold"``), ``retry_attempts``, ``retry_slippage_ticks``,
    ``initial_cash`` (USD string, or a table per venue), ``retake_ms``, ``seed``, ``equity_interval_s``.

    Raises:
        ConfigError: an unknown key or a bad value, named.
    """
    _check_keys(table, _PAPER_KEYS, "paper")
    defaults = PaperConfig()
    fixed = per_venue(table["latency_ms"], "paper.latency_ms", _number) if "latency_ms" in table else {}
    jitter = per_venue(table.get("jitter_ms", 0), "paper.jitter_ms", _number)
    samples: dict[str, tuple[float, ...]] = {}
    if "latency_samples_ms" in table:
        raw = table["latency_samples_ms"]

        def _samples(value: object, setting: str) -> tuple[float, ...]:
            if not isinstance(value, list) or not value:
                raise ConfigError(f"{setting}: expected a non-empty list of milliseconds")
            return tuple(_number(v, setting) for v in value)

        samples = per_venue(raw, "paper.latency_samples_ms", _samples)
    latency = {
        venue: Latency(
            fixed.get(venue, defaults.latency[venue].fixed_ms), jitter.get(venue, 0.0), samples.get(venue, ())
        )
        for venue in venue_names()
    }
    tif = table.get("tif", defaults.tif)
    if tif not in ("IOC", "FOK"):
        raise ConfigError(f'paper.tif = {tif!r}: expected "IOC" or "FOK"')
    unwind = table.get("unwind", defaults.unwind)
    if unwind not in ("retry", "sell_back", "hold"):
        raise ConfigError(f'paper.unwind = {unwind!r}: expected "retry", "sell_back" or "hold"')
    cash = dict(defaults.initial_cash)
    if "initial_cash" in table:
        cash.update(per_venue(table["initial_cash"], "paper.initial_cash", money))
    return PaperConfig(
        latency=latency,
        tif=tif,
        slippage_ticks=_count(table.get("slippage_ticks", 0), "paper.slippage_ticks"),
        unwind=unwind,
        retry_attempts=_count(table.get("retry_attempts", defaults.retry_attempts), "paper.retry_attempts"),
        retry_slippage_ticks=_count(
            table.get("retry_slippage_ticks", defaults.retry_slippage_ticks), "paper.retry_slippage_ticks"
        ),
        initial_cash=cash,
        retake_ms=_number(table.get("retake_ms", defaults.retake_ms), "paper.retake_ms"),
        seed=_count(table.get("seed", 0), "paper.seed"),
        equity_interval_s=_number(
            table.get("equity_interval_s", defaults.equity_interval_s), "paper.equity_interval_s"
        ),
    )


def risk_limits(table: dict[str, Any]) -> RiskLimits:
    """Build :class:`RiskLimits` from a ``[risk]`` table (USD strings for money; see the class).

    Raises:
        ConfigError: an unknown key or a bad value, named.
    """
    _check_keys(table, _RISK_KEYS, "risk")

    def opt_money(key: str) -> int | None:
        return money(table[key], f"risk.{key}") if key in table else None

    kill = table.get("kill_file")
    if kill is not None and not isinstance(kill, str):
        raise ConfigError(f"risk.kill_file = {kill!r}: expected a path string")
    return RiskLimits(
        max_notional_pair=opt_money("max_notional_pair"),
        max_notional_market=opt_money("max_notional_market"),
        max_notional_venue=opt_money("max_notional_venue"),
        max_open_pairs=_count(table["max_open_pairs"], "risk.max_open_pairs") if "max_open_pairs" in table else None,
        max_leg_imbalance=opt_money("max_leg_imbalance"),
        daily_loss_limit=opt_money("daily_loss_limit"),
        max_data_age_ms=_number(table.get("max_data_age_ms", 5_000.0), "risk.max_data_age_ms"),
        kill_file=Path(kill) if kill else None,
    )


def load_paper_file(path: Path) -> tuple[PaperConfig, RiskLimits]:
    """Read ``[paper]`` and ``[risk]`` from a TOML file (either may be absent: defaults).

    Raises:
        ConfigError: the file cannot be read or parsed, or a setting is bad.
    """
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"paper config {path}: {exc}") from exc
    paper, risk = document.get("paper", {}), document.get("risk", {})
    if not isinstance(paper, dict) or not isinstance(risk, dict):
        raise ConfigError(f"paper config {path}: [paper] and [risk] must be tables")
    return paper_config(paper), risk_limits(risk)
