"""ArbDetector: gating reasons, lifecycle, complement labels, evaluation only on top changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hadron.arb.detector import ArbDetector
from hadron.arb.terms import OutcomeSet, Thresholds, load_arb_config
from hadron.book.manager import BookManager
from hadron.errors import ConfigError
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot
from hadron.model.fees import MONEY_SCALE as MONEY
from hadron.model.fees import NoFee
from hadron.venues.base import get_venue

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


def test_listeners_see_open_update_close_in_order() -> None:
    books, det = _setup()
    seen: list[tuple[str, int]] = []
    det.add_listener(lambda opp, change: seen.append((change, opp.size)))
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), 1)
    _snap(books, Y, ((4800, 10 * S),), ((5000, 10 * S),), 2)
    _snap(books, N, ((4000, 10 * S),), ((5000, 5 * S),), 3)
    _snap(books, N, ((4000, 10 * S),), ((5000, 8 * S),), 4)
    _snap(books, N, ((4000, 10 * S),), ((5600, 8 * S),), 5)
    assert seen == [("opened", 5 * S), ("updated", 8 * S), ("closed", 8 * S)]


def test_outcome_set_buys_every_outcome_once() -> None:
    books = BookManager()
    fee = get_venue("polymarket").fee_model({"rate": "0.04"})
    tokens = ("A", "B", "C")
    det = ArbDetector(books, [], outcome_sets=[OutcomeSet(id="ev", tokens=tokens, fee=fee, min_size=5 * S)])
    for t, (token, ask) in enumerate(zip(tokens, (3000, 3000, 3500), strict=True)):
        _snap(books, f"polymarket:{token}", ((ask - 100, 10 * S),), ((ask, 10 * S),), t + 1)
    (opp,) = det.open.values()
    assert opp.kind == "polymarket_outcomes" and len(opp.legs) == 3 and opp.size == 10 * S
    fees = sum(leg.fee for leg in opp.legs)
    assert opp.net == 10 * S * (10_000 - 9_500) - fees > 0
    assert [leg.fee for leg in opp.legs] == [fee.fee([(p, 10 * S)]) for p in (3000, 3000, 3500)]
    _snap(books, "polymarket:C", ((3900, 10 * S),), ((4000, 10 * S),), 9)  # asks now sum to $1.00
    assert not det.open and det.closed[0].close_reason == "gone"


def test_outcome_set_respects_minimum_order() -> None:
    books = BookManager()
    det = ArbDetector(books, [], outcome_sets=[OutcomeSet(id="ev", tokens=("A", "B"), fee=NoFee(), min_size=5 * S)])
    _snap(books, "polymarket:A", ((3900, S),), ((4000, 4 * S),), 1)
    _snap(books, "polymarket:B", ((3900, S),), ((4000, 10 * S),), 2)
    assert not det.open  # only 4 shares at the edge, the minimum order is 5


def test_pairs_file_thresholds_and_outcome_sets(tmp_path: Path) -> None:
    path = tmp_path / "pairs.toml"
    path.write_text(
        """[thresholds]
min_edge = "0.01"
min_profit = "0.5"
min_size = "2"
max_capital = "1000"
max_age_s = 5

[[outcome_set]]
id = "fed"
tokens = ["1", "2", "3"]
polymarket_fee_rate = "0.04"
polymarket_min_size = "5"
"""
    )
    config = load_arb_config(path)
    th = config.thresholds
    assert (th.min_edge, th.min_profit, th.min_size) == (MONEY // 100, MONEY // 2, 2 * S)
    assert th.max_capital == 1000 * MONEY and th.max_age_ns == 5 * 10**9
    (outcomes,) = config.outcome_sets
    assert outcomes.tokens == ("1", "2", "3") and outcomes.min_size == 5 * S
    path.write_text('[thresholds]\nmin_edg = "0.01"\n')
    with pytest.raises(ConfigError, match="min_edg"):
        load_arb_config(path)
    path.write_text('[[outcome_set]]\nid = "x"\ntokens = ["1"]\n')
    with pytest.raises(ConfigError, match="at least two"):
        load_arb_config(path)


def test_a_tradeable_pair_or_outcome_set_without_fee_terms_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pairs.toml"
    pair = """[[pair]]
id = "gold"
kalshi_event = "KXGOLD"
kalshi_market = "KXGOLD-1"
polymarket_event = "gold"
polymarket_yes_token = "Y"
polymarket_no_token = "N"
relation = "identity"
confidence = 1.0
status = "approved"
"""
    path.write_text(pair)  # no fee terms at all: never read as a fee of 0
    with pytest.raises(ConfigError) as refused:
        load_arb_config(path)
    message = str(refused.value)
    assert message.startswith(f"pairs file {path}, pair gold: approved without polymarket_fee_rate and kalshi_fee_")
    assert 'add polymarket_fee_rate = "<' in message and 'kalshi_fee_multiplier = "<' in message
    path.write_text(pair + 'kalshi_fee_multiplier = "1"\npolymarket_fee_rate = ""\n')  # blank is missing too
    with pytest.raises(ConfigError, match="pair gold: approved without polymarket_fee_rate; add polymarket_fee_rate"):
        load_arb_config(path)
    second = pair.replace('"gold"', '"silver"').replace("KXGOLD-1", "KXGOLD-2")
    path.write_text(pair + 'polymarket_fee_rate = "0"\n\n' + second + 'kalshi_fee_multiplier = "1"\n')
    with pytest.raises(ConfigError, match=r"2 approved pairs without fee terms: gold \(kalshi_fee_multiplier\), "
                       r"silver \(polymarket_fee_rate\)"):  # fmt: skip
        load_arb_config(path)
    # an explicit "0" is a fee-free market; a pair not approved needs nothing
    path.write_text(
        pair + 'kalshi_fee_multiplier = "1"\npolymarket_fee_rate = "0"\n\n' + second.replace("approved", "proposed")
    )
    config = load_arb_config(path)
    assert [p.id for p in config.pairs] == ["gold"] and config.terms["gold"].legs[1].fee.fee([(5000, S)]) == 0
    path.write_text('[[outcome_set]]\nid = "fed"\ntokens = ["1", "2"]\n')
    with pytest.raises(ConfigError, match="outcome set fed: without polymarket_fee_rate; add polymarket_fee_rate"):
        load_arb_config(path)
