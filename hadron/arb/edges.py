"""Each pair's best net edge now, for ``/metrics`` (read at scrape time, never on the hot path).

The detector keeps only what qualifies (its open opportunities); a gauge of how close each pair
is to an opportunity also needs a figure when nothing qualifies. :func:`best_net_edges` gives,
per tradeable pair, the best of its two cross-venue directions (Kalshi YES + the Polymarket token
paying on Kalshi NO, and the reverse), each:

* when the detector holds an open opportunity for that direction: its net profit per contract
  (its latest evaluation: fees included, averaged over the size the walk chose);
* otherwise the net profit per contract of the direction's first size (the lot, or the legs'
  minimum order when larger) at the top of its LIVE books, fees included: ≤ 0 when there is no
  edge, or above 0 but below the thresholds (or on a book the detector does not trust yet);
* nothing when a leg's book is missing, not LIVE, or too thin for that first size.

A pair with no figure in either direction is left out. Intra-venue candidates
(``kalshi_yes_no``, ``polymarket_outcomes``) and outcome sets are not part of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hadron.arb.detector import ArbDetector
from hadron.arb.walk import net_for_legs, no_ladder
from hadron.book.manager import BookState
from hadron.model.fees import MONEY_SCALE
from hadron.model.units import SIZE_SCALE

DEPTH = 20
"""Levels read per leg for the first size (the first size is one lot: the top level nearly always holds it)."""


def _cross_candidates(detector: ArbDetector) -> dict[str, list[Any]]:
    # pair id → its cross candidates, in key order
    out: dict[str, list[Any]] = {}
    for candidate in detector.candidates():
        if candidate.kind == "cross":
            out.setdefault(candidate.pair, []).append(candidate)
    return out


def _first_size(detector: ArbDetector, candidate: Any) -> int:
    lot: int = detector.thresholds.lot
    minimum: int = max(detector.thresholds.min_size, candidate.min_size)
    return max(lot, -(-minimum // lot) * lot)


def candidate_edge(detector: ArbDetector, candidate: Any) -> float | None:
    """One candidate's net edge, USD per contract (see the module docstring), or ``None``."""
    opportunity = detector.open.get(candidate.key)
    if opportunity is not None and opportunity.size > 0:
        return opportunity.net * SIZE_SCALE / opportunity.size / MONEY_SCALE
    ladders = []
    for side in candidate.legs:
        book = detector.books.get(side.instrument)
        if book is None or book.state != BookState.LIVE:
            return None
        ladders.append(no_ladder(book.levels_bid(DEPTH)) if side.ask_of_bids else book.levels_ask(DEPTH))
    size = _first_size(detector, candidate)
    try:
        net = net_for_legs(ladders, candidate.fees, size)
    except ValueError:  # a ladder too thin for the first size
        return None
    return net * SIZE_SCALE / size / MONEY_SCALE


def cross_fees(detector: ArbDetector) -> dict[str, list[Any]]:
    """Each cross candidate's key (``<pair>/cross/<direction>``) → its legs' fee models in force
    (the fee registry replaces a candidate when a venue's fee changes: read them when needed)."""
    return {c.key: c.fees for candidates in _cross_candidates(detector).values() for c in candidates}


class PairEdges:
    """Each pair's best net edge from ``detector`` (its candidates read at each call: a fee change
    replaces them)."""

    def __init__(self, detector: ArbDetector) -> None:
        self.detector = detector

    @property
    def by_pair(self) -> dict[str, list[Any]]:
        """Pair id → its cross candidates, as the detector holds them now."""
        return _cross_candidates(self.detector)

    def best(self, pairs: Iterable[str] | None = None) -> dict[str, float]:
        """``{pair id: best net edge, USD per contract}`` for those of ``pairs`` (default: every
        pair the detector watches) that have one."""
        out: dict[str, float] = {}
        by_pair = self.by_pair
        for pair in by_pair if pairs is None else pairs:
            candidates = by_pair.get(pair, ())
            edges = [e for c in candidates if (e := candidate_edge(self.detector, c)) is not None]
            if edges:
                out[pair] = max(edges)
        return out
