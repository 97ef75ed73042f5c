"""The arbitrage detector: listens to the books, reports only what is executable on trusted books.

For every tradeable pair (see :attr:`hadron.match.pairs.Pair.tradeable`) it checks, whenever the
top of one of the pair's books changes (or one of them stops being trustworthy):

Each pair has two legs (:attr:`hadron.match.pairs.Pair.legs`, leg A on the venue registered
first: Kalshi for a Kalshi–Polymarket pair), each a YES book and a NO book (its own, or ``1 −`` the
YES book's bids on a venue with one book per market, :mod:`hadron.model.venue`):

* ``cross``: buy leg A YES and leg B NO, and the reverse, leg A NO with leg B YES; directions are
  named ``<venue>_<outcome>+<venue>_<outcome>`` (``kalshi_yes+polymarket_no``). Leg B's books are
  named by what they pay in leg A's terms, so a ``complement`` pair flips leg B's outcome labels
  (the Polymarket token paying with Kalshi YES is its own market's NO).
* ``<venue>_yes_no``: one market's YES ask + NO ask < $1 on a venue with one book per market
  (``kalshi_yes_no``; ``intra``).
* ``<venue>_outcomes``: both outcome books' asks < $1 together (``polymarket_outcomes``;
  ``intra``), and for each :class:`OutcomeSet` (a Polymarket neg-risk event's YES tokens, every
  outcome listed) the YES asks of all outcomes < $1 together: exactly one outcome pays, so one
  share of each pays $1.

Each candidate goes through :func:`hadron.arb.walk.best_size_legs` with its legs' fee models and
the :class:`Thresholds`; each leg's ladder is read from its book only down to the price where the
legs' gross edge ends (``$1 −`` the other legs' best asks), so deep books cost nothing extra.
A candidate that qualifies while a leg's book is not trusted (not LIVE, resyncing, crossed, or
older than ``max_age_ns``) or its market is not trading (the instrument registry's
``market_paused``, ``market_closed``, ``market_determined``, ``market_settled``, or the book's
scheduled close passed: ``market_closed``) is suppressed: counted in
:attr:`ArbDetector.suppressed` by reason, never reported, and it closes the open opportunity.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from msgspec.structs import astuple

from hadron.arb.opportunity import Leg, Opportunity
from hadron.arb.terms import ArbConfig, LegTerms, OutcomeSet, PairTerms, Thresholds
from hadron.arb.walk import Limits, WalkResult, best_size_legs, no_ladder
from hadron.book.manager import BookManager, BookState, ManagedBook
from hadron.match.pairs import Pair, PairLeg
from hadron.model.events import Level, TopOfBook
from hadron.model.fees import FeeModel
from hadron.model.instrument import instrument_id
from hadron.model.units import PRICE_ONE
from hadron.model.venue import venue_info


@dataclass(frozen=True, slots=True)
class _Side:
    venue: str
    instrument: str
    outcome: str
    fee: FeeModel
    ask_of_bids: bool  # the ladder is 1 − the book's bids (a NO ask from a YES book)
    priced: bool = True  # False: the venue's fee rule in force cannot be priced (ArbDetector.set_fee)


@dataclass(frozen=True, slots=True)
class _Candidate:
    key: str
    pair: str
    kind: str
    direction: str
    legs: tuple[_Side, ...]
    min_size: int
    settle_ns: int | None
    unpriced: bool = False  # a leg's fee rule cannot be priced: suppressed (fee_unpriced), never reported

    @property
    def fees(self) -> list[FeeModel]:
        return [side.fee for side in self.legs]


def _ladder(book: ManagedBook | None, side: _Side, below: int) -> list[Level]:
    # The side's asks priced under ``below`` (levels at or above it cannot be part of an edge)
    if book is None:
        return []
    if side.ask_of_bids:
        return no_ladder(book.levels_bid(above=PRICE_ONE - below))
    return book.levels_ask(below=below)


def _best_ask(book: ManagedBook | None, side: _Side) -> int:
    # The side's best ask (PRICE_ONE when there is none), read from the book's top in O(1)
    if book is None:
        return PRICE_ONE
    return PRICE_ONE - book.best_bid_price if side.ask_of_bids else book.best_ask_price


_LIVE = BookState.LIVE  # enum members read through the class cost a look-up each (per top change here)
_AWAITING = BookState.AWAITING_SNAPSHOT
_STALE = BookState.STALE


def _untrusted(book: ManagedBook | None, now_ns: int, max_age_ns: int) -> str | None:
    if book is None:
        return "no_book"
    if book.halted is not None:  # the market is paused, closed or determined (instrument registry)
        return book.halted
    if now_ns >= book.close_ns:  # its scheduled close has passed
        return "market_closed"
    if book.state is _AWAITING:
        return "resyncing" if book.ever_live else "no_snapshot"
    if book.state is _STALE:
        return "stale"
    if book.crossed:
        return "crossed"
    if now_ns - book.ts_recv > max_age_ns:
        return "too_old"
    return None


def _sides(leg: PairLeg, terms: LegTerms, flip: bool = False) -> tuple[_Side, _Side]:
    # The leg's YES and NO sides (book instrument ids); ``flip``: the outcome labels swapped
    yes_label, no_label = ("no", "yes") if flip else ("yes", "no")
    yes = instrument_id(leg.venue, leg.yes)
    if leg.no:
        no = _Side(leg.venue, instrument_id(leg.venue, leg.no), no_label, terms.fee, False)
    else:
        no = _Side(leg.venue, yes, no_label, terms.fee, True)
    return _Side(leg.venue, yes, yes_label, terms.fee, False), no


def _cross(pair: Pair, terms: PairTerms) -> list[_Candidate]:
    leg_a, leg_b = pair.legs[:2]
    a_yes, a_no = _sides(leg_a, terms.leg(0))
    b_yes, b_no = _sides(leg_b, terms.leg(1), flip=pair.relation == "complement")
    min_size = max(terms.leg(0).min_size, terms.leg(1).min_size)
    out = []
    for a, b in ((a_yes, b_no), (a_no, b_yes)):
        direction = f"{a.venue}_{a.outcome}+{b.venue}_{b.outcome}"
        key = f"{pair.id}/cross/{direction}"
        out.append(_Candidate(key, pair.id, "cross", direction, (a, b), min_size, terms.settle_ns))
    return out


def intra_kind(venue: str, *, one_book: bool) -> str:
    """The opportunity kind of buying both outcomes of one market on ``venue``:
    ``<venue>_yes_no`` (YES ask + NO ask of one book, ``one_book``) or ``<venue>_outcomes`` (the
    outcomes' own books)."""
    return f"{venue}_yes_no" if one_book else f"{venue}_outcomes"


def _intra(pair: Pair, terms: PairTerms) -> list[_Candidate]:
    out = []
    for index, leg in enumerate(pair.legs[:2]):
        one_book = venue_info(leg.venue).one_book_per_market
        if not one_book and not leg.no:  # an outcome book's own NO is not known
            continue
        leg_terms = terms.leg(index)
        yes, no = _sides(leg, leg_terms)
        kind = intra_kind(leg.venue, one_book=one_book)
        name = yes.instrument if one_book else leg.market or yes.instrument
        out.append(
            _Candidate(
                f"{name}/{kind}",
                name,
                kind,
                f"{leg.venue}_yes+{leg.venue}_no",
                (yes, no),
                leg_terms.min_size,
                terms.settle_ns,
            )
        )
    return out


def _outcomes(outcome_set: OutcomeSet) -> _Candidate:
    venue = outcome_set.venue
    legs = tuple(
        _Side(venue, instrument_id(venue, token), "yes", outcome_set.fee, False) for token in outcome_set.tokens
    )
    kind = intra_kind(venue, one_book=False)
    return _Candidate(
        f"{outcome_set.id}/{kind}",
        outcome_set.id,
        kind,
        "+".join(f"{venue}_yes[{n}]" for n in range(len(legs))),
        legs,
        outcome_set.min_size,
        outcome_set.settle_ns,
    )


OpportunityListener = Callable[[Opportunity, str], None]
"""Called with an opportunity and what happened to it: ``"opened"``, ``"updated"`` or ``"closed"``."""


class ArbDetector:
    """Finds, gates and tracks arbitrage opportunities on a :class:`BookManager`'s books.

    Args:
        books: the books; the detector registers a top-of-book and an invalidation listener.
        pairs: the pairs; only :attr:`Pair.tradeable` ones are watched.
        terms: fee models and settlement per pair id; a pair without terms is charged no fee.
        thresholds: reporting thresholds and book age limit.
        clock: returns "now" in ns; ``None`` uses the triggering update's ``ts_recv`` (replay time).
        intra: also check each leg's own market (``kalshi_yes_no``, ``polymarket_outcomes``).
        outcome_sets: Polymarket neg-risk events to check as ``polymarket_outcomes``.
        keep_closed: keep only this many closed opportunities in memory (``None``: all, for replays).

    Attributes:
        suppressed: qualifying candidates not reported, by reason (``resyncing``, ``stale``, …).
        evaluations: candidate evaluations run. closed: closed opportunities, in closing order
            (the last ``keep_closed`` of them when that is set: a long-running process).
        closed_count: every opportunity closed so far.
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
        outcome_sets: Iterable[OutcomeSet] = (),
        keep_closed: int | None = None,
    ) -> None:
        self.books = books
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self.suppressed: dict[str, int] = defaultdict(int)
        self.evaluations = 0
        self.closed: deque[Opportunity] = deque(maxlen=keep_closed)
        self.closed_count = 0
        self.open: dict[str, Opportunity] = {}
        self._serial = 0
        self._listeners: list[OpportunityListener] = []
        self._limits: dict[int, Limits] = {}  # by candidate minimum size
        self._by_instrument: dict[str, list[_Candidate]] = {}
        self._by_side: dict[tuple[str, bool], list[_Candidate]] = {}  # (instrument, reads bids)
        self._tops: dict[str, tuple[int | None, int, int | None, int]] = {}
        seen: set[str] = set()
        for pair in pairs:
            if not pair.tradeable:
                continue
            pair_terms = (terms or {}).get(pair.id) or PairTerms()
            for candidate in _cross(pair, pair_terms) + (_intra(pair, pair_terms) if intra else []):
                self._watch(candidate, seen)
        for outcome_set in outcome_sets:
            self._watch(_outcomes(outcome_set), seen)
        books.add_top_listener(self.on_top)
        books.add_invalidation_listener(self.on_invalidated)

    @classmethod
    def from_config(cls, books: BookManager, config: ArbConfig, **options: Any) -> ArbDetector:
        """A detector on ``books`` for everything in ``config`` (see :func:`load_arb_config`)."""
        return cls(
            books,
            config.pairs,
            config.terms,
            config.thresholds,
            outcome_sets=config.outcome_sets,
            **options,
        )

    def _watch(self, candidate: _Candidate, seen: set[str]) -> None:
        if candidate.key in seen:
            return
        seen.add(candidate.key)
        for instrument in {side.instrument for side in candidate.legs}:
            self._by_instrument.setdefault(instrument, []).append(candidate)
        for key in {(side.instrument, side.ask_of_bids) for side in candidate.legs}:
            self._by_side.setdefault(key, []).append(candidate)

    def add_listener(self, listener: OpportunityListener) -> None:
        """Call ``listener(opportunity, "opened" | "updated" | "closed")`` on every change, in order
        (used to persist opportunities and publish them on the bus as they change)."""
        self._listeners.append(listener)

    def _notify(self, opportunity: Opportunity, change: str) -> None:
        for listener in self._listeners:
            listener(opportunity, change)

    # -- triggers ----------------------------------------------------------------------------

    def on_top(self, top: TopOfBook) -> None:
        """Re-evaluate the candidates of ``top.instrument`` (the top of its book changed).

        Only the candidates that read the side that changed are walked: a leg bought at the
        book's asks does not move when only its bids do (and a NO leg read from the bids does
        not move with the asks). A book that is not LIVE, or is crossed, re-evaluates everything.
        """
        instrument = top.instrument
        candidates = self._by_instrument.get(instrument)
        if not candidates:  # no pair reads this book (most books of a venue-wide feed)
            return
        # one C call reads every field (cheaper than five attribute reads once compiled)
        _, bid_price, bid_size, ask_price, ask_size, _, ts_recv = astuple(top)
        previous = self._tops.get(instrument)
        self._tops[instrument] = (bid_price, bid_size, ask_price, ask_size)
        if previous is not None:
            bids = previous[0] != bid_price or previous[1] != bid_size
            asks = previous[2] != ask_price or previous[3] != ask_size
            book = self.books.get(instrument)
            if bids != asks and book is not None and book.state is _LIVE and not book.crossed:
                candidates = self._by_side.get((instrument, bids))
        if candidates:
            now = self.clock() if self.clock is not None else ts_recv
            for candidate in candidates:
                self.evaluate(candidate, now)

    def on_market_status(self, instrument: str, now_ns: int) -> None:
        """Re-evaluate the candidates of ``instrument`` at ``now_ns`` (its market stopped or started
        trading: the instrument registry changed the book's ``halted``/``close_ns``): an open
        opportunity on a market that closed closes then (``suppressed: market_closed``)."""
        candidates = self._by_instrument.get(instrument)
        if candidates:
            now = self.clock() if self.clock is not None else now_ns
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
        legs = candidate.legs
        if len(legs) == 2:  # the common case, without building lists
            a, b = legs
            book_a, book_b = self.books.get(a.instrument), self.books.get(b.instrument)
            top_a, top_b = _best_ask(book_a, a), _best_ask(book_b, b)
            top_sum = top_a + top_b
            if top_sum >= PRICE_ONE:
                # no gross edge even at the top of the books: fees only take more away, nothing to walk
                if candidate.key in self.open:
                    self._close(candidate.key, now_ns, "gone")
                return
            books, tops = [book_a, book_b], [top_a, top_b]
        else:
            books = [self.books.get(side.instrument) for side in legs]
            tops = [_best_ask(book, side) for book, side in zip(books, legs, strict=True)]
            top_sum = sum(tops)
            if top_sum >= PRICE_ONE:
                self._close(candidate.key, now_ns, "gone")
                return
        limits = self._limits.get(candidate.min_size)
        if limits is None:
            limits = self._limits[candidate.min_size] = Limits(
                lot=th.lot,
                min_size=max(th.min_size, candidate.min_size),
                max_cost=th.max_capital,
                min_profit=th.min_profit,
                min_edge=th.min_edge,
            )
        ladders = [
            _ladder(book, side, PRICE_ONE - (top_sum - top))
            for book, side, top in zip(books, candidate.legs, tops, strict=True)
        ]
        result = best_size_legs(ladders, candidate.fees, limits)
        if result is None:
            self._close(candidate.key, now_ns, "gone")
            return
        if candidate.unpriced:  # never traded at an assumed fee (a venue fee rule Hadron cannot price)
            self.suppressed["fee_unpriced"] += 1
            self._close(candidate.key, now_ns, "suppressed: fee_unpriced")
            return
        for book in books:
            reason = _untrusted(book, now_ns, th.max_age_ns)
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
                from_bids=side.ask_of_bids,
                fee_model=side.fee,
            )
            for side, fills, cost, fee in zip(
                candidate.legs, result.leg_fills, result.leg_costs, result.leg_fees, strict=True
            )
        ]
        current = self.open.get(candidate.key)
        if current is None:
            self._serial += 1
            opened = Opportunity(
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
            self.open[candidate.key] = opened
            self._notify(opened, "opened")
            return
        current.last_ns = now_ns
        if (current.size, current.cost, current.net) == (result.size, result.cost, result.net):
            return
        current.updates += 1
        current.legs = legs
        current.size, current.cost, current.payout = result.size, result.cost, result.payout
        current.fees, current.net = result.fees, result.net
        current.peak_net = max(current.peak_net, result.net)
        self._notify(current, "updated")

    def _close(self, key: str, now_ns: int, reason: str) -> None:
        current = self.open.pop(key, None)
        if current is not None:
            current.closed_ns = now_ns
            current.last_ns = now_ns
            current.close_reason = reason
            self.closed.append(current)
            self.closed_count += 1
            self._notify(current, "closed")

    # -- fees --------------------------------------------------------------------------------

    def set_fee(self, instrument: str, fee: FeeModel | None, now_ns: int) -> int:
        """Price every leg on ``instrument`` with ``fee`` from ``now_ns`` on (a venue fee rule change,
        from :class:`hadron.arb.fees.FeeRegistry`); ``None``: the venue's rule cannot be priced, so
        the candidates with such a leg are suppressed (``fee_unpriced``) until a priced rule comes.

        The candidates are rebuilt once here (the hot path reads their fee models as before, with no
        look-up per evaluation) and re-evaluated at ``now_ns`` (the clock's time when the detector
        has one), so an open opportunity's fees and net change, or it closes, when the rule does.

        Returns:
            The number of candidates changed.
        """
        old = self._by_instrument.get(instrument)
        if not old:
            return 0
        swap: dict[int, _Candidate] = {}
        replaced = list(old)  # keeps the old candidates alive while their ids key ``swap``
        for candidate in replaced:
            legs = tuple(
                (replace(side, fee=fee, priced=True) if fee is not None else replace(side, priced=False))
                if side.instrument == instrument
                else side
                for side in candidate.legs
            )
            unpriced = not all(side.priced for side in legs)
            swap[id(candidate)] = replace(candidate, legs=legs, unpriced=unpriced)
        lists = [self._by_instrument[i] for i in {s.instrument for c in swap.values() for s in c.legs}]
        lists += [self._by_side[k] for k in {(s.instrument, s.ask_of_bids) for c in swap.values() for s in c.legs}]
        for candidates in lists:
            for n, candidate in enumerate(candidates):
                new = swap.get(id(candidate))
                if new is not None:
                    candidates[n] = new
        now = self.clock() if self.clock is not None else now_ns
        for new in list(swap.values()):
            self.evaluate(new, now)
        return len(swap)

    # -- results -----------------------------------------------------------------------------

    def candidates(self) -> list[_Candidate]:
        """Every candidate the detector watches, once each, in key order (cold: reports, the
        dashboard's edges; each has ``key``, ``pair``, ``kind``, ``direction``, ``legs``,
        ``min_size``)."""
        seen = {c.key: c for cs in self._by_instrument.values() for c in cs}
        return [seen[key] for key in sorted(seen)]

    def results(self) -> list[Opportunity]:
        """Closed opportunities, then those still open (``closed_ns`` ``None``), by opening time."""
        return sorted([*self.closed, *self.open.values()], key=lambda o: (o.opened_ns, o.id))

    def summary(self) -> dict[str, object]:
        """Counts for reports: opportunities, open ones, evaluations, suppressed by reason."""
        return {
            "opportunities": self.closed_count + len(self.open),
            "open": len(self.open),
            "evaluations": self.evaluations,
            "suppressed": dict(sorted(self.suppressed.items())),
        }


def candidates_of(detector: ArbDetector) -> Sequence[str]:
    """Every candidate key the detector watches (for reports and tests)."""
    return [c.key for c in detector.candidates()]
