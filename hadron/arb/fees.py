"""Fees follow the venue: the fee rule in force for each traded market, updated at run time.

A pair's leg is priced from its pairs-file terms (``kalshi_fee_multiplier``: the series'
multiplier as a person wrote it in) until the venue says otherwise. The venue says so with a
:class:`~hadron.model.events.FeeUpdate` (Kalshi ``event_fee_update``, Kalshi AsyncAPI
``eventFeeUpdate``: an event's ``fee_type_override`` / ``fee_multiplier_override`` set, or
cleared with ``null``) or, at start, from REST (OpenAPI ``Series.fee_type`` /
``Series.fee_multiplier`` and ``Event.fee_type_override`` / ``Event.fee_multiplier_override``,
through :meth:`FeeRegistry.set_base` and :meth:`FeeRegistry.set_override`).

:class:`FeeRegistry` keeps, per ``(venue, event id)``, the override in force and, per market, its
base rule; when either changes it builds the market's new :class:`~hadron.model.fees.FeeModel`
through the venue adapter (:class:`~hadron.venues.base.FeeModelVenue` ``fee_model({"multiplier": …,
"fee_type": …})``), once, and hands it to

* the detector (:meth:`~hadron.arb.detector.ArbDetector.set_fee`): every candidate with a leg on
  that market is priced with it from that moment (the override's ``ts_recv``; replays are clocked
  by receive times, so a replay reproduces it), and re-evaluated at once;
* the paper trader (:meth:`~hadron.paper.trader.PaperTrader.set_fee_model`): every order that
  reaches the venue from that moment on is charged with it (orders due before it ran first).

A market's event: the leg's ``<venue>_event`` when the pairs file gives it, else the market
id without its last ``-`` segment (Kalshi's standard ``<event>-<market>`` form; :func:`event_of`).

A fee type Hadron cannot price (Kalshi ``flat``, Specific Trading Fees table; or a name it does
not know) is refused: counted in :attr:`FeeRegistry.refused`, logged (one warning line), never an
exception; the event's markets are then **not** traded (the detector suppresses their candidates
as ``fee_unpriced``) until a rule Hadron can price (or a cleared override) arrives: a pair is never
traded at an assumed fee. Orders already on their way keep the last rule Hadron could price. So
is a multiplier outside 0..10 (:data:`hadron.venues.kalshi.fees.MAX_MULTIPLIER`: Kalshi's
published multipliers are about 1 or below, so a negative one, ``1e308`` or the like is a typo
or a corrupt value, never applied).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from hadron.errors import ConfigError, DecodeError
from hadron.match.pairs import Pair, PairLeg
from hadron.model.events import FeeUpdate
from hadron.model.fees import FeeModel, FeeRule
from hadron.model.instrument import instrument_id
from hadron.venues.base import FeeModelVenue, get_venue

if TYPE_CHECKING:
    from hadron.arb.detector import ArbDetector
    from hadron.paper.trader import PaperTrader

log = structlog.get_logger("hadron.fees")


def event_of(leg: PairLeg) -> str:
    """The event id of ``leg``'s market: its ``<venue>_event`` when the pairs file gives it, else the
    market id without its last ``-`` segment (Kalshi's ``<event>-<market>`` form:
    ``KXGOLD-26AUG10-T3400`` → ``KXGOLD-26AUG10``)."""
    if leg.event:
        return leg.event
    return leg.market.rsplit("-", 1)[0]


@dataclass(frozen=True, slots=True)
class Override:
    """An event's fee override in force: ``fee_type`` / ``multiplier`` (``None``: not overridden,
    the series' own applies), since ``since_ns`` (the override's ``ts_recv``, ns since the epoch),
    from ``source`` (``"ws"``: ``event_fee_update``; ``"rest"``: the event record)."""

    fee_type: str | None
    multiplier: Decimal | None
    since_ns: int
    source: str = "ws"


@dataclass(slots=True)
class _Market:
    venue: str
    instrument: str
    event: str
    base: dict[str, str]  # the venue adapter's fee_model params (Kalshi: multiplier, fee_type)
    model: FeeModel | None = None  # the model in force (None: the base one from the pairs file)
    priced: bool = True


class FeeRegistry:
    """The fee rule in force per market (see the module docstring).

    Args:
        pairs: the tradeable pairs (the YES books of their legs are the markets followed).
        base: pair id → per leg (in :attr:`Pair.legs` order), the venue's ``fee_model`` params of
            its pairs-file terms (``[{"multiplier": "1"}, {"rate": "0.04"}]``; see
            :attr:`hadron.arb.terms.LegTerms.fee_params`).
        detector / trader: told of every change (either may be ``None``).

    Attributes:
        updates: :class:`FeeUpdate` events seen. applied: updates that changed the rule of at
            least one followed market. cleared: updates that cleared an override. refused:
            updates (and REST rules) with a fee rule Hadron cannot price. unfollowed: updates for
            an event none of whose markets is traded (the override is kept in ``overrides``).
        overrides: ``(venue, event id)`` → the :class:`Override` in force.
    """

    def __init__(
        self,
        pairs: Iterable[Pair],
        base: Mapping[str, Sequence[Mapping[str, str]]],
        *,
        detector: ArbDetector | None = None,
        trader: PaperTrader | None = None,
    ) -> None:
        self.detector = detector
        self.trader = trader
        self.updates = 0
        self.applied = 0
        self.cleared = 0
        self.refused = 0
        self.unfollowed = 0
        self.overrides: dict[tuple[str, str], Override] = {}
        self.bases: dict[tuple[str, str], FeeRule] = {}
        """``(venue, event id)`` → the base rule set from REST (:meth:`set_base`), for reports."""
        self._live: set[tuple[str, str]] = set()  # events with an event_fee_update seen (newer than REST)
        self._markets: dict[str, _Market] = {}
        self._by_event: dict[tuple[str, str], list[_Market]] = {}
        for pair in pairs:
            if not pair.tradeable:
                continue
            params = base.get(pair.id, ())
            for index, leg in enumerate(pair.legs):
                instrument = instrument_id(leg.venue, leg.yes)
                if instrument in self._markets:
                    continue
                market = _Market(
                    leg.venue, instrument, event_of(leg), dict(params[index] if index < len(params) else {})
                )
                self._markets[instrument] = market
                self._by_event.setdefault((leg.venue, market.event), []).append(market)

    def events(self, venue: str = "kalshi") -> list[str]:
        """The event ids whose markets are followed on ``venue`` (what to ask REST about at start)."""
        return sorted(event for v, event in self._by_event if v == venue)

    # -- inputs --------------------------------------------------------------------------------

    def on_event(self, event: object) -> None:
        """Event listener: apply a :class:`FeeUpdate`; anything else is ignored."""
        if type(event) is FeeUpdate:
            self.on_fee_update(event)

    def on_fee_update(self, update: FeeUpdate) -> None:
        """Apply ``update`` from its ``ts_recv`` on (never raises for a bad rule: refused, counted)."""
        self.updates += 1
        self._live.add((update.venue, update.id))
        if update.scope != "event":
            self._refuse(update.venue, update.id, f"fee scope {update.scope!r} is not supported", update.ts_recv)
            return
        if update.fee_type is None and update.multiplier is None:
            self.cleared += 1
        self.set_override(update.venue, update.id, update.fee_type, update.multiplier, update.ts_recv, source="ws")

    def set_override(
        self,
        venue: str,
        event: str,
        fee_type: str | None,
        multiplier: Decimal | None,
        now_ns: int,
        *,
        source: str = "rest",
    ) -> None:
        """Put ``event``'s override in force from ``now_ns`` on (``None`` for both clears it): Kalshi
        ``Event.fee_type_override`` / ``fee_multiplier_override``, or an ``event_fee_update``."""
        key = (venue, event)
        if fee_type is None and multiplier is None:
            self.overrides.pop(key, None)
        else:
            self.overrides[key] = Override(fee_type, multiplier, now_ns, source)
        markets = self._by_event.get(key)
        if not markets:
            self.unfollowed += 1
            self._check(venue, event, fee_type, multiplier, now_ns)
            return
        self._reprice(venue, event, markets, now_ns)

    def set_base(self, venue: str, event: str, fee_type: str | None, multiplier: Decimal | None, now_ns: int) -> None:
        """The series' own rule of ``event``'s markets (Kalshi ``Series.fee_type`` /
        ``fee_multiplier`` from REST at start), replacing the pairs file's terms for them."""
        self.bases[(venue, event)] = FeeRule(venue, event, "base", fee_type, multiplier)
        markets = self._by_event.get((venue, event))
        if not markets:
            return
        for market in markets:
            if fee_type is not None:
                market.base["fee_type"] = fee_type
            if multiplier is not None:
                market.base["multiplier"] = str(multiplier)
        self._reprice(venue, event, markets, now_ns)

    def apply_rules(self, rules: Iterable[FeeRule], now_ns: int) -> int:
        """Apply the rules a venue reported over REST at start (:class:`FeeRule`): each ``base``
        through :meth:`set_base`, then each ``override`` through :meth:`set_override` (source
        ``"rest"``), unless an ``event_fee_update`` for that event arrived first (the stream's is
        newer). Returns how many rules were applied. Never raises for a rule Hadron cannot price
        (refused, counted: the event's markets are not traded)."""
        ordered = sorted(rules, key=lambda rule: rule.kind != "base")  # the series' rule, then overrides
        applied = 0
        for rule in ordered:
            if rule.kind == "base":
                self.set_base(rule.venue, rule.event, rule.fee_type, rule.multiplier, now_ns)
                self.bases[(rule.venue, rule.event)] = rule
            elif rule.kind == "override":
                if (rule.venue, rule.event) in self._live:
                    continue
                self.set_override(rule.venue, rule.event, rule.fee_type, rule.multiplier, now_ns, source="rest")
            else:
                log.warning(
                    "fee rule of unknown kind ignored", venue=rule.venue, event_ticker=rule.event, kind=rule.kind
                )
                continue
            applied += 1
        return applied

    def rule_text(self, instrument: str) -> str | None:
        """The fee rule in force for ``instrument``, for the dashboard (``quadratic ×1``; ``unpriced``
        while its rule cannot be priced; ``None`` for a market not followed)."""
        market = self._markets.get(instrument)
        if market is None:
            return None
        if not market.priced:
            return "unpriced"
        params = self._params(market, self.overrides.get((market.venue, market.event)))
        return f"{params.get('fee_type', 'quadratic')} ×{params.get('multiplier', '1')}"

    # -- pricing -------------------------------------------------------------------------------

    def _params(self, market: _Market, override: Override | None) -> dict[str, str]:
        params = dict(market.base)
        if override is not None:
            if override.fee_type is not None:
                params["fee_type"] = override.fee_type
            if override.multiplier is not None:
                params["multiplier"] = str(override.multiplier)
        return params

    def _build(self, venue: str, params: Mapping[str, str]) -> FeeModel:
        adapter = get_venue(venue)
        if not isinstance(adapter, FeeModelVenue):
            raise ConfigError(f"venue {venue} does not price fees")
        return adapter.fee_model(params)

    def _check(self, venue: str, event: str, fee_type: str | None, multiplier: Decimal | None, now_ns: int) -> None:
        # An override for an event Hadron does not trade: still refuse (count) a rule it could not price
        params: dict[str, str] = {}
        if fee_type is not None:
            params["fee_type"] = fee_type
        if multiplier is not None:
            params["multiplier"] = str(multiplier)
        try:
            self._build(venue, params)
        except (ConfigError, DecodeError, ValueError, ArithmeticError) as exc:
            self._refuse(venue, event, str(exc), now_ns)

    def _reprice(self, venue: str, event: str, markets: list[_Market], now_ns: int) -> None:
        override = self.overrides.get((venue, event))
        for market in markets:
            params = self._params(market, override)
            try:
                model: FeeModel | None = self._build(venue, params)
            except (ConfigError, DecodeError, ValueError, ArithmeticError) as exc:
                if market is markets[0]:
                    self._refuse(venue, event, str(exc), now_ns)
                model = None
            self._put(market, model, now_ns)
        self.applied += 1
        log.info(
            "fee rule in force",
            venue=venue,
            event_ticker=event,
            fee_type=override.fee_type if override else None,
            multiplier=str(override.multiplier) if override and override.multiplier is not None else None,
            markets=len(markets),
            priced=all(m.priced for m in markets),
        )

    def _put(self, market: _Market, model: FeeModel | None, now_ns: int) -> None:
        trader = self.trader
        if trader is not None:
            trader.advance(now_ns)  # orders that reached the venue before the change pay the old fee
            if model is not None:
                trader.set_fee_model(market.instrument, model)
        market.priced = model is not None
        if model is not None:
            market.model = model
        if self.detector is not None:
            self.detector.set_fee(market.instrument, model, now_ns)

    def _refuse(self, venue: str, event: str, reason: str, now_ns: int) -> None:
        self.refused += 1
        log.warning("fee rule refused", venue=venue, event_ticker=event, reason=reason, ts_recv=now_ns)

    # -- results -------------------------------------------------------------------------------

    def model_of(self, instrument: str) -> FeeModel | None:
        """The fee model set by the venue for ``instrument`` (``None``: the pairs file's, or unpriced)."""
        market = self._markets.get(instrument)
        return market.model if market is not None and market.priced else None

    def priced(self, instrument: str) -> bool:
        """False while ``instrument``'s venue fee rule cannot be priced (its candidates are suppressed)."""
        market = self._markets.get(instrument)
        return market is None or market.priced

    def summary(self) -> dict[str, Any]:
        """For reports: the counters and the overrides in force, by ``<venue>:<event>``."""
        return {
            "updates": self.updates,
            "applied": self.applied,
            "cleared": self.cleared,
            "refused": self.refused,
            "unfollowed": self.unfollowed,
            "unpriced_markets": sorted(m.instrument for m in self._markets.values() if not m.priced),
            "base": {
                f"{venue}:{event}": {
                    "fee_type": rule.fee_type,
                    "multiplier": str(rule.multiplier) if rule.multiplier is not None else None,
                    "source": rule.source or "rest",
                }
                for (venue, event), rule in sorted(self.bases.items())
            },
            "overrides": {
                f"{venue}:{event}": {
                    "fee_type": o.fee_type,
                    "multiplier": str(o.multiplier) if o.multiplier is not None else None,
                    "since_ns": o.since_ns,
                    "source": o.source,
                }
                for (venue, event), o in sorted(self.overrides.items())
            },
        }
