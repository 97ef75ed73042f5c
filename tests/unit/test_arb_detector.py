"""ArbDetector: gating reasons, lifecycle, complement labels, evaluation only on top changes."""

from __future__ import annotations

from hadron.arb.detector import ArbDetector, Thresholds
from hadron.book.manager import BookManager
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot

S = 1_000_000
K, Y, N = "kalshi:K", "polymarket:Y", "polymarket:N"


def _pair(relation: str = "identity") -> Pair:
    return Pair(kalshi_event="E", polymarket_event="P", relation=relation, confidence=1.0, kalshi_market="K",
                polymarket_yes_token="Y", polymarket_no_token="N", status="approved", id="p")  # fmt: skip


def _snap(
    books: BookManager, inst: str, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...], t: int
) -> None:
    books.apply_snapshot(BookSnapshot(inst, bids, asks, t, t))


def _setup(relation: str = "identity", max_age: int = 10**12) -> tuple[BookManager, ArbDetector]:
    books = BookManager()
    det = ArbDetector(books, [_pair(relation)], thresholds=Thresholds(max_age_ns=max_age), intra=False)
    return books, det


def test_lifecycle_open_update_close() -> None:
    books, det = _setup()
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), 1)
    _snap(books, Y, ((4800, 10 * S),), ((5000, 10 * S),), 2)
    _snap(books, N, ((4000, 10 * S),), ((5000, 5 * S),), 3)  # Kalshi YES 0.45 + NO token 0.50
    (opp,) = det.open.values()
    assert opp.direction == "kalshi_yes+polymarket_no" and opp.size == 5 * S and opp.opened_ns == 3
    assert opp.net == 5 * S * 500 and opp.legs[1].outcome == "no"
    _snap(books, N, ((4000, 10 * S),), ((5000, 8 * S),), 4)
    assert opp.size == 8 * S and opp.updates == 1 and opp.peak_net == 8 * S * 500
    _snap(books, N, ((4000, 10 * S),), ((5600, 8 * S),), 5)
    assert not det.open and det.closed[0].closed_ns == 5 and det.closed[0].peak_net == 8 * S * 500


def test_complement_flips_polymarket_labels() -> None:
    books, det = _setup("complement")
    _snap(books, K, ((4000, S),), ((4500, S),), 1)
    _snap(books, Y, ((4800, S),), ((5000, S),), 2)
    _snap(books, N, ((4000, S),), ((5000, S),), 3)
    (opp,) = det.open.values()
    assert opp.direction == "kalshi_yes+polymarket_yes" and opp.legs[1].instrument == N


def test_gating_reasons_are_counted_not_reported() -> None:
    books, det = _setup(max_age=5)
    _snap(books, K, ((4000, S),), ((4500, S),), 1)
    _snap(books, Y, ((4800, S),), ((5000, S),), 2)
    _snap(books, N, ((4000, S),), ((5000, S),), 30)  # the Kalshi book is 29 ns old
    assert not det.open and det.suppressed == {"too_old": 1}
    _snap(books, K, ((4000, S),), ((4500, 2 * S),), 31)
    assert det.open
    books.invalidate(N, "gap")
    assert not det.open and det.closed[0].close_reason == "suppressed: resyncing"


def test_only_top_changes_trigger() -> None:
    books, det = _setup()
    _snap(books, "kalshi:OTHER", ((4000, S),), ((4500, S),), 1)
    assert det.evaluations == 0
    _snap(books, K, ((4000, S),), ((4500, S),), 2)
    assert det.evaluations == 2  # both directions of the one pair
