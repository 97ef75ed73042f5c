"""One test per matching trap: dates, look-alike names, threshold direction/inclusivity, multi-outcome, polarity."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hadron.match.matcher import evaluate, match
from hadron.match.pairs import Pair
from hadron.match.parsers import same_person
from hadron.model.catalog import KalshiMarketInfo, PolymarketMarketInfo

YES, NO = "111", "222"
CLOSE = datetime(2026, 1, 6, 21, 0, tzinfo=UTC)


def _game(slug: str, outcomes: tuple[str, str] = ("Magic", "Wizards")) -> PolymarketMarketInfo:
    return PolymarketMarketInfo(
        event_id="1", event_slug=slug, event_title="Magic vs. Wizards", condition_id="0xabc", slug=slug,
        question="Magic vs. Wizards", outcomes=outcomes, token_ids=(YES, NO), sports_market_type="moneyline",
    )  # fmt: skip


def _kgame(ticker: str) -> KalshiMarketInfo:
    event = ticker.rsplit("-", 1)[0]
    return KalshiMarketInfo(
        event_ticker=event,
        series_ticker="KXNBAGAME",
        market_ticker=ticker,
        event_title="Orlando at Washington",
        title="Orlando at Washington Winner?",
        yes_sub_title="Washington",
    )


def test_same_teams_different_dates_is_no_identity() -> None:
    pairs = match([_kgame("KXNBAGAME-26JAN06ORLWAS-WAS")], [_game("nba-orl-was-2026-01-08")])
    assert not [p for p in pairs if p.relation == "identity"]


def test_same_teams_same_date_pairs_with_the_side_token() -> None:
    (pair,) = match([_kgame("KXNBAGAME-26JAN06ORLWAS-WAS")], [_game("nba-orl-was-2026-01-06")])
    assert pair.relation == "identity" and pair.polymarket_yes_token == NO  # "Wizards" is the second outcome
    (other,) = match([_kgame("KXNBAGAME-26JAN06ORLWAS-ORL")], [_game("nba-orl-was-2026-01-06")])
    assert other.polymarket_yes_token == YES


def _person_k(name: str, ticker: str) -> KalshiMarketInfo:
    return KalshiMarketInfo(
        event_ticker="KXPRESNOMR-28", market_ticker=ticker, event_title="Republican presidential nominee 2028",
        title="Who will be the Republican presidential nominee in 2028?", yes_sub_title=name, multi_outcome=True,
    )  # fmt: skip


def _person_p(name: str, cid: str) -> PolymarketMarketInfo:
    return PolymarketMarketInfo(
        event_id="9", event_slug="republican-presidential-nominee-2028", event_title="Republican Presidential Nominee 2028",
        condition_id=cid, question=f"Will {name} win the 2028 Republican presidential nomination?",
        outcomes=("Yes", "No"), token_ids=(cid + "y", cid + "n"), group_item_title=name, multi_outcome=True,
    )  # fmt: skip


def test_trump_is_not_trump_jr() -> None:
    assert not same_person(("donald", "trump"), ("donald", "trump", "jr"))
    kalshi = [_person_k("Donald Trump", "KXPRESNOMR-28-DTRU"), _person_k("Donald Trump Jr.", "KXPRESNOMR-28-DTRUJR")]
    poly = [_person_p("Donald Trump", "0x1"), _person_p("Donald Trump Jr.", "0x2")]
    got = {(p.kalshi_market, p.polymarket_market) for p in match(kalshi, poly) if p.relation == "identity"}
    assert got == {("KXPRESNOMR-28-DTRU", "0x1"), ("KXPRESNOMR-28-DTRUJR", "0x2")}


def _threshold_k(strike_type: str) -> KalshiMarketInfo:
    return KalshiMarketInfo(
        event_ticker="KXBTCD-26JAN0617", series_ticker="KXBTCD", market_ticker="KXBTCD-26JAN0617-T100000",
        event_title="Bitcoin price on Jan 6", title="Bitcoin price on Jan 6, 2026?", strike_type=strike_type,
        floor_strike=Decimal(100000), cap_strike=Decimal(100000), close_time=CLOSE,
    )  # fmt: skip


def _threshold_p(question: str) -> PolymarketMarketInfo:
    return PolymarketMarketInfo(
        event_id="5", event_slug="bitcoin-above-on-january-6", condition_id="0xbtc", question=question,
        outcomes=("Yes", "No"), token_ids=(YES, NO), end_time=CLOSE,
    )  # fmt: skip


def test_threshold_inclusivity_mismatch_is_not_identity() -> None:
    (pair,) = match([_threshold_k("greater_or_equal")], [_threshold_p("Will Bitcoin be above $100,000 on January 6?")])
    assert pair.relation != "identity"
    assert any("inclusivity" in w for w in pair.warnings)
    (same,) = match([_threshold_k("greater")], [_threshold_p("Will Bitcoin be above $100,000 on January 6?")])
    assert (
        same.relation == "identity"
        and same.polymarket_yes_token == YES
        and not any("inclusivity" in w for w in same.warnings)
    )


def test_threshold_opposite_direction_is_complement_with_the_no_token() -> None:
    (pair,) = match([_threshold_k("greater_or_equal")], [_threshold_p("Will Bitcoin be below $100,000 on January 6?")])
    assert pair.relation == "complement" and pair.polymarket_yes_token == NO and pair.polymarket_no_token == YES
    (strict,) = match([_threshold_k("greater")], [_threshold_p("Will Bitcoin be below $100,000 on January 6?")])
    assert strict.relation == "disjoint" and strict.warnings


def test_multi_outcome_event_vs_binary_market_is_subset() -> None:
    event = KalshiMarketInfo(
        event_ticker="KXNBAMVP-26", event_title="NBA MVP 2025-26", title="NBA MVP 2025-26", multi_outcome=True
    )
    binary = PolymarketMarketInfo(
        event_id="7", event_slug="will-jokic-win-mvp", condition_id="0xmvp", question="Will Nikola Jokic win NBA MVP 2025-26?",
        outcomes=("Yes", "No"), token_ids=(YES, NO),
    )  # fmt: skip
    pairs = match([event], [binary], min_confidence=0.5)
    assert pairs and all(p.relation == "subset" for p in pairs)
    assert not pairs[0].polymarket_yes_token  # event level: no token


def test_inverted_question_is_complement_with_the_no_token() -> None:
    kalshi = KalshiMarketInfo(
        event_ticker="KXGOVSHUT-26", market_ticker="KXGOVSHUT-26-JAN31", event_title="Government shutdown by January 31, 2026?",
        title="Will the US government shut down by January 31, 2026?", yes_sub_title="",
    )  # fmt: skip
    poly = PolymarketMarketInfo(
        event_id="8", event_slug="gov-shutdown", condition_id="0xgov", question="Will the US government not shut down by January 31, 2026?",
        outcomes=("Yes", "No"), token_ids=(YES, NO),
    )  # fmt: skip
    (pair,) = match([kalshi], [poly])
    assert pair.relation == "complement" and pair.polymarket_yes_token == NO


def test_no_yes_order_is_read_by_label_not_position() -> None:
    poly = _threshold_p("Will Bitcoin be above $100,000 on January 6?")
    flipped = PolymarketMarketInfo(
        **{**{f: getattr(poly, f) for f in poly.__struct_fields__}, "outcomes": ("No", "Yes")}
    )
    (pair,) = match([_threshold_k("greater")], [flipped])
    assert pair.polymarket_yes_token == NO


def test_evaluate_counts() -> None:
    pairs = [Pair(kalshi_event="A", polymarket_event="1", relation="identity", confidence=0.9),
             Pair(kalshi_event="B", polymarket_event="1", relation="identity", confidence=0.9)]  # fmt: skip
    got = evaluate(pairs, {("A", "1"): True, ("B", "1"): False, ("C", "2"): True})
    assert got["tp"] == 1 and got["fp"] == 1 and got["fn"] == 1 and got["precision"] == 0.5 and got["recall"] == 0.5
