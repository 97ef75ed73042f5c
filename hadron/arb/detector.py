"""The arbitrage detector: listens to the books, reports only what is executable on trusted books.

For every tradeable pair (see :attr:`hadron.match.pairs.Pair.tradeable`) it checks, whenever the
top of one of the pair's books changes (or one of them stops being trustworthy):

* ``cross``: buy Kalshi YES (the Kalshi book's asks, which are 1 − NO bids) and the Polymarket
  token that pays when Kalshi NO pays (``polymarket_no_token``'s asks), and the reverse: Kalshi NO
  (asks ``1 − YES bid``, derived from the bid ladder) with ``polymarket_yes_token``. The pair's
  tokens are named by what they pay in Kalshi terms, so a ``complement`` pair flips the outcome
  labels of the Polymarket legs (the token paying with Kalshi YES is its own market's NO).
* ``kalshi_yes_no``: Kalshi YES ask + NO ask < $1 on one market (``intra``).
* ``polymarket_outcomes``: both Polymarket tokens' asks < $1 together (``intra``).

Each candidate goes through :func:`hadron.arb.walk.best_size` with both legs' fee models and the
:class:`Thresholds`. A candidate that qualifies while a leg's book is not trusted (not LIVE,
resyncing, crossed, or older than ``max_age_ns``) is suppressed: counted in
:attr:`ArbDetector.suppressed` by reason, never reported, and it closes the open opportunity.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import InvalidOperation
from pathlib import Path

from hadron.arb.opportunity import Leg, Opportunity
from hadron.arb.walk import FeeModel, Limits, NoFee, WalkResult, best_size, no_ladder
from hadron.book.manager import BookManager, BookState, ManagedBook
from hadron.errors import ConfigError, DecodeError
from hadron.match.pairs import Pair, approved_pairs
from hadron.model.events import Level, TopOfBook
from hadron.model.instrument import instrument_id
from hadron.model.units import PRICE_ONE, SIZE_SCALE, parse_size
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
class PairTerms:
    """What the detector needs to know about one pair beyond :class:`Pair`.

    Attributes:
        kalshi_fee / polymarket_fee: the markets' taker :class:`FeeModel` (money units).
        polymarket_min_size: the Polymarket market's minimum order, int, 1/1,000,000 share.
        settle_ns: the later of the two settlements, ns since the epoch, when known.
    """

    kalshi_fee: FeeModel
    polymarket_fee: FeeModel
    polymarket_min_size: int = 0
    settle_ns: int | None = None


@dataclass(frozen=True, slots=True)
class _Side:
    venue: str
    instrument: str
    outcome: str
    fee: FeeModel
    ask_of_bids: bool  # the ladder is 1 − the book's bids (a NO ask from a YES book)


@dataclass(frozen=True, slots=True)
class _Candidate:
    key: str
    pair: str
    kind: str
    direction: str
    a: _Side
    b: _Side
    min_size: int
    settle_ns: int | None


def _ladder(book: ManagedBook | None, side: _Side) -> list[Level]:
    if book is None:
        return []
    return no_ladder(book.levels_bid()) if side.ask_of_bids else book.levels_ask()


def _best_ask(book: ManagedBook | None, side: _Side) -> int:
    # The side's best ask (PRICE_ONE when there is none), read from the book's top in O(1)
    if book is None:
        return PRICE_ONE
    return PRICE_ONE - book.best_bid_price if side.ask_of_bids else book.best_ask_price


def _untrusted(book: ManagedBook | None, now_ns: int, max_age_ns: int) -> str | None:
    if book is None:
        return "no_book"
    if book.state is BookState.AWAITING_SNAPSHOT:
        return "resyncing" if book.ever_live else "no_snapshot"
    if book.state is BookState.STALE:
        return "stale"
    if book.crossed:
        return "crossed"
    if now_ns - book.ts_recv > max_age_ns:
        return "too_old"
    return None


def _ids(pair: Pair) -> tuple[str, str, str]:
    # Book instrument ids of the Kalshi market and the two Polymarket tokens ("" when unknown)
    no = instrument_id("polymarket", pair.polymarket_no_token) if pair.polymarket_no_token else ""
    return instrument_id("kalshi", pair.kalshi_market), instrument_id("polymarket", pair.polymarket_yes_token), no


def _cross(pair: Pair, terms: PairTerms) -> list[_Candidate]:
    k, yes, no = _ids(pair)
    flip = pair.relation == "complement"
    yes_label, no_label = ("no", "yes") if flip else ("yes", "no")
    kalshi_yes = _Side("kalshi", k, "yes", terms.kalshi_fee, False)
    kalshi_no = _Side("kalshi", k, "no", terms.kalshi_fee, True)
    poly_yes = _Side("polymarket", yes, yes_label, terms.polymarket_fee, False)
    poly_no = (
        _Side("polymarket", no, no_label, terms.polymarket_fee, False)
        if no
        else _Side("polymarket", yes, no_label, terms.polymarket_fee, True)
    )
    out = []
    for a, b in ((kalshi_yes, poly_no), (kalshi_no, poly_yes)):
        direction = f"kalshi_{a.outcome}+polymarket_{b.outcome}"
        key = f"{pair.id}/cross/{direction}"
        out.append(_Candidate(key, pair.id, "cross", direction, a, b, terms.polymarket_min_size, terms.settle_ns))
    return out


def _intra(pair: Pair, terms: PairTerms) -> list[_Candidate]:
    k, yes, no = _ids(pair)
    out = [
        _Candidate(
            f"{k}/kalshi_yes_no",
            k,
            "kalshi_yes_no",
            "kalshi_yes+kalshi_no",
            _Side("kalshi", k, "yes", terms.kalshi_fee, False),
            _Side("kalshi", k, "no", terms.kalshi_fee, True),
            0,
            terms.settle_ns,
        )
    ]
    if no:
        out.append(
            _Candidate(
                f"{pair.polymarket_market or yes}/polymarket_outcomes",
                pair.polymarket_market or yes,
                "polymarket_outcomes",
                "polymarket_yes+polymarket_no",
                _Side("polymarket", yes, "yes", terms.polymarket_fee, False),
                _Side("polymarket", no, "no", terms.polymarket_fee, False),
                terms.polymarket_min_size,
                terms.settle_ns,
            )
        )
    return out


class ArbDetector:
    """Finds, gates and tracks arbitrage opportunities on a :class:`BookManager`'s books.

    Args:
        books: the books; the detector registers a top-of-book and an invalidation listener.
        pairs: the pairs; only :attr:`Pair.tradeable` ones are watched.
        terms: fee models and settlement per pair id; a pair without terms is charged no fee.
        thresholds: reporting thresholds and book age limit.
        clock: returns "now" in ns; ``None`` uses the triggering update's ``ts_recv`` (replay time).
        intra: also check ``kalshi_yes_no`` and ``polymarket_outcomes``.

    Attributes:
        suppressed: qualifying candidates not reported, by reason (``resyncing``, ``stale``, …).
        evaluations: candidate evaluations run. closed: closed opportunities, in closing order.
        open: open opportunities by candidate key.
    """

    def __init__(
        self,
        books: BookManager,
        pairs: Iterable[Pair],
        terms: dict[str, PairTerms] | None = None,
        thresholds: Thresholds | None = None,
        *,
        clock: Callable[[], int] | None = None,
        intra: bool = True,
    ) -> None:
        self.books = books
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self.suppressed: dict[str, int] = defaultdict(int)
        self.evaluations = 0
        self.closed: list[Opportunity] = []
        self.open: dict[str, Opportunity] = {}
        self._serial = 0
        self._by_instrument: dict[str, list[_Candidate]] = defaultdict(list)
        seen: set[str] = set()
        for pair in pairs:
            if not pair.tradeable:
                continue
            pair_terms = (terms or {}).get(pair.id) or PairTerms(kalshi_fee=NoFee(), polymarket_fee=NoFee())
            for candidate in _cross(pair, pair_terms) + (_intra(pair, pair_terms) if intra else []):
                if candidate.key in seen:
                    continue
                seen.add(candidate.key)
                for instrument in {candidate.a.instrument, candidate.b.instrument}:
                    self._by_instrument[instrument].append(candidate)
        books.add_top_listener(self.on_top)
        books.add_invalidation_listener(self.on_invalidated)

    # -- triggers ----------------------------------------------------------------------------

    def on_top(self, top: TopOfBook) -> None:
        """Re-evaluate the candidates of ``top.instrument`` (the top of its book changed)."""
        candidates = self._by_instrument.get(top.instrument)
        if candidates:
            now = self.clock() if self.clock is not None else top.ts_recv
            for candidate in candidates:
                self.evaluate(candidate, now)

    def on_invalidated(self, book: ManagedBook, reason: str) -> None:
        """Re-evaluate the candidates of ``book`` (it stopped being trustworthy)."""
        candidates = self._by_instrument.get(book.instrument)
        if candidates:
            now = self.clock() if self.clock is not None else book.ts_recv
            for candidate in candidates:
                self.evaluate(candidate, now)

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self, candidate: _Candidate, now_ns: int) -> None:
        """Walk ``candidate``'s books at ``now_ns`` and open, update or close its opportunity."""
        self.evaluations += 1
        th = self.thresholds
        book_a, book_b = self.books.get(candidate.a.instrument), self.books.get(candidate.b.instrument)
        if _best_ask(book_a, candidate.a) + _best_ask(book_b, candidate.b) >= PRICE_ONE:
            # no gross edge even at the top of both books: fees only take more away, nothing to walk
            self._close(candidate.key, now_ns, "gone")
            return
        limits = Limits(
            lot=th.lot,
            min_size=max(th.min_size, candidate.min_size),
            max_cost=th.max_capital,
            min_profit=th.min_profit,
            min_edge=th.min_edge,
        )
        result = best_size(
            _ladder(book_a, candidate.a), _ladder(book_b, candidate.b), candidate.a.fee, candidate.b.fee, limits
        )
        if result is None:
            self._close(candidate.key, now_ns, "gone")
            return
        reason = _untrusted(book_a, now_ns, th.max_age_ns) or _untrusted(book_b, now_ns, th.max_age_ns)
        if reason is not None:
            self.suppressed[reason] += 1
            self._close(candidate.key, now_ns, f"suppressed: {reason}")
            return
        self._upsert(candidate, result, now_ns)

    def _upsert(self, candidate: _Candidate, result: WalkResult, now_ns: int) -> None:
        legs = [
            Leg(
                venue=side.venue,
                instrument=side.instrument,
                outcome=side.outcome,
                fills=fills,
                cost=cost,
                fee=fee,
            )
            for side, fills, cost, fee in (
                (candidate.a, result.fills_a, result.cost_a, result.fee_a),
                (candidate.b, result.fills_b, result.cost_b, result.fee_b),
            )
        ]
        current = self.open.get(candidate.key)
        if current is None:
            self._serial += 1
            self.open[candidate.key] = Opportunity(
                id=f"{candidate.key}/{self._serial}",
                pair=candidate.pair,
                kind=candidate.kind,
                direction=candidate.direction,
                opened_ns=now_ns,
                last_ns=now_ns,
                legs=legs,
                size=result.size,
                cost=result.cost,
                payout=result.payout,
                fees=result.fees,
                net=result.net,
                peak_net=result.net,
                settle_ns=candidate.settle_ns,
            )
            return
        current.last_ns = now_ns
        if (current.size, current.cost, current.net) != (result.size, result.cost, result.net):
            current.updates += 1
        current.legs = legs
        current.size, current.cost, current.payout = result.size, result.cost, result.payout
        current.fees, current.net = result.fees, result.net
        current.peak_net = max(current.peak_net, result.net)

    def _close(self, key: str, now_ns: int, reason: str) -> None:
        current = self.open.pop(key, None)
        if current is not None:
            current.closed_ns = now_ns
            current.last_ns = now_ns
            current.close_reason = reason
            self.closed.append(current)

    # -- results -----------------------------------------------------------------------------

    def results(self) -> list[Opportunity]:
        """Closed opportunities, then those still open (``closed_ns`` ``None``), by opening time."""
        return sorted([*self.closed, *self.open.values()], key=lambda o: (o.opened_ns, o.id))

    def summary(self) -> dict[str, object]:
        """Counts for reports: opportunities, open ones, evaluations, suppressed by reason."""
        return {
            "opportunities": len(self.closed) + len(self.open),
            "open": len(self.open),
            "evaluations": self.evaluations,
            "suppressed": dict(sorted(self.suppressed.items())),
        }


def candidates_of(detector: ArbDetector) -> Sequence[str]:
    """Every candidate key the detector watches (for reports and tests)."""
    return sorted({c.key for cs in detector._by_instrument.values() for c in cs})


def load_pairs(path: Path) -> tuple[list[Pair], dict[str, PairTerms]]:
    """Read the tradeable pairs of a pairs file and their :class:`PairTerms`.

    Optional per-pair fields beyond :class:`Pair` (defaults in brackets): ``kalshi_fee_multiplier``
    (decimal string) [``"1"``], ``polymarket_fee_rate`` (decimal string) [``"0"``],
    ``polymarket_min_size`` (shares, decimal string) [``"0"``], ``settles_at`` (ISO 8601, the later
    settlement) [unknown]. Fee models come from the venues through :func:`hadron.venues.base.get_venue`.

    Raises:
        ConfigError: unreadable file, invalid pair, or an invalid extra field.
    """
    pairs = approved_pairs(path)
    raw = {p.get("id", ""): p for p in tomllib.loads(path.read_text()).get("pair", []) if isinstance(p, dict)}
    kalshi, polymarket = get_venue("kalshi"), get_venue("polymarket")
    if not isinstance(kalshi, FeeModelVenue) or not isinstance(polymarket, FeeModelVenue):
        raise ConfigError("the venues do not provide fee models")
    terms: dict[str, PairTerms] = {}
    for pair in pairs:
        extra = raw.get(pair.id, {})
        try:
            settles = extra.get("settles_at")
            settle_ns = None
            if settles:
                stamp = datetime.fromisoformat(str(settles).replace("Z", "+00:00"))
                settle_ns = int(stamp.timestamp()) * 10**9 + stamp.microsecond * 1000
            terms[pair.id] = PairTerms(
                kalshi_fee=kalshi.fee_model(multiplier=str(extra.get("kalshi_fee_multiplier", "1"))),
                polymarket_fee=polymarket.fee_model(rate=str(extra.get("polymarket_fee_rate", "0"))),
                polymarket_min_size=parse_size(str(extra.get("polymarket_min_size", "0"))),
                settle_ns=settle_ns,
            )
        except (ValueError, DecodeError, InvalidOperation) as exc:
            raise ConfigError(f"pairs file {path}, pair {pair.id}: {exc}") from exc
    return pairs, terms
