"""Matching on real venue responses from ../shared/data (skipped, saying why, when absent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hadron.match.inputs import load_kalshi, load_polymarket, polymarket_records
from hadron.match.matcher import evaluate, match
from hadron.match.pairs import read_pairs, write_pairs
from hadron.match.parsers import parse_kalshi
from hadron.model.catalog import KalshiMarketInfo, PolymarketMarketInfo
from tests.conftest import SHARED_DATA, shared_data

# SOURCES.md §2: Kalshi ticker ↔ Polymarket YES / NO token ids (from the author's feed code).
MVP = {
    "Nikola Jokic": ("KXNBAMVP-26-NJOK", "73768610008619570600930429495180540710817177537162503586781057110775077618432", "88794755386871079853762415286654635832909423950620116774027006364873482091563"),
    "Luka Doncic": ("KXNBAMVP-26-LDON", "89110596788673536475065853727140488937259064164063660201050220270400840228269", "101506943049053276934626391886226570064171431948041761918666910024462041911155"),
    "Shai Gilgeous-Alexander": ("KXNBAMVP-26-SGIL", "29048360022556021389805670398008888482908398853670829781367251641936311260707", "114528627098181527180076013437205839368323282497361602702800503052375432480589"),
}  # fmt: skip


def _mvp_gamma_event(flip: set[str]) -> dict[str, object]:
    """A Gamma /events body carrying the real token ids; ``flip`` lists players whose outcomes are ("No", "Yes")."""
    markets = []
    for i, (name, (_, yes, no)) in enumerate(MVP.items()):
        outcomes, tokens = (["No", "Yes"], [no, yes]) if name in flip else (["Yes", "No"], [yes, no])
        markets.append({
            "id": str(i), "question": f"Will {name} win the 2025–2026 NBA MVP?", "conditionId": f"0xmvp{i}",
            "slug": f"will-{i}-win-mvp", "outcomes": json.dumps(outcomes), "clobTokenIds": json.dumps(tokens),
            "groupItemTitle": name, "negRisk": True,
        })  # fmt: skip
    return {"id": "1", "slug": "nba-mvp-694", "title": "NBA MVP 2025-26", "negRisk": True, "markets": markets}


def test_mvp_mapping_polarity(tmp_path: Path) -> None:
    shared_data(SHARED_DATA / "SagnikBhadra__Arbitrage-Betting")
    kalshi = [
        KalshiMarketInfo(event_ticker="KXNBAMVP-26", series_ticker="KXNBAMVP", market_ticker=ticker, event_title="Pro Basketball MVP",
                         title="Who will win Pro Basketball MVP?", yes_sub_title=name.replace("Doncic", "Dončić"), multi_outcome=True)
        for name, (ticker, _, _) in MVP.items()
    ]  # fmt: skip
    poly = polymarket_records([_mvp_gamma_event(flip={"Luka Doncic"})])
    pairs = [p for p in match(kalshi, poly) if p.relation == "identity"]
    got = {p.kalshi_market: (p.polymarket_yes_token, p.polymarket_no_token) for p in pairs}
    assert got == {ticker: (yes, no) for ticker, yes, no in MVP.values()}
    path = tmp_path / "pairs.toml"
    write_pairs(path, pairs)
    assert {p.kalshi_market: p.polymarket_yes_token for p in read_pairs(path)}["KXNBAMVP-26-NJOK"] == MVP[
        "Nikola Jokic"
    ][1]


def test_gabom26_pair() -> None:
    path = shared_data(SHARED_DATA / "GaboM26__poly-kalshi-sports-bot/python-backend/arbitrage_tracking_history.json")
    record = json.loads(path.read_text())["completed"][0]
    kalshi = [
        KalshiMarketInfo(
            event_ticker="KXNBAGAME-26JAN06ORLWAS", series_ticker="KXNBAGAME", market_ticker=t, yes_sub_title=s
        )
        for t, s in ((record["kalshi_market_id"], "Washington"), ("KXNBAGAME-26JAN06ORLWAS-ORL", "Orlando"))
    ]
    poly = [
        PolymarketMarketInfo(event_id="1", event_slug="nba-orl-was-2026-01-06", condition_id=record["polymarket_market_id"],
                             slug="nba-orl-was-2026-01-06", question="Magic vs. Wizards", outcomes=("Magic", "Wizards"),
                             token_ids=("tok-magic", "tok-wizards"), sports_market_type="moneyline"),
        PolymarketMarketInfo(event_id="2", event_slug="nba-orl-was-2026-01-08", condition_id="0xother",
                             slug="nba-orl-was-2026-01-08", question="Magic vs. Wizards", outcomes=("Magic", "Wizards"),
                             token_ids=("t1", "t2"), sports_market_type="moneyline"),
    ]  # fmt: skip
    pairs = {p.kalshi_market: p for p in match(kalshi, poly)}
    was = pairs[record["kalshi_market_id"]]
    assert was.polymarket_market == record["polymarket_market_id"] and was.polymarket_yes_token == "tok-wizards"
    assert pairs["KXNBAGAME-26JAN06ORLWAS-ORL"].polymarket_yes_token == "tok-magic"
    assert "0xother" not in {p.polymarket_market for p in pairs.values()}


def _dominik() -> tuple[list[KalshiMarketInfo], list[PolymarketMarketInfo], dict[tuple[str, str], bool]]:
    path = shared_data(
        SHARED_DATA / "DominikKrasovec__prediction-markets-arb/data/eval/xplat-equivalence/v1.todo.jsonl"
    )
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["context"]["platform_pair"] == "kalshi|polymarket"]

    def day(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text[:10]).replace(tzinfo=UTC) if text else None

    kalshi: dict[str, KalshiMarketInfo] = {}
    poly: dict[str, PolymarketMarketInfo] = {}
    labels: dict[tuple[str, str], bool] = {}
    for row in rows:
        a, b = row["side_a"], row["side_b"]
        ticker = a["platform_event_id"].split(":")[-1]
        kalshi[ticker] = KalshiMarketInfo(event_ticker=ticker, event_title=a["title"], title=a["title"],
                                          close_time=day(a.get("condition_date")), multi_outcome=a["child_count"] > 1)  # fmt: skip
        poly[b["platform_event_id"]] = PolymarketMarketInfo(event_id=b["platform_event_id"], event_title=b["title"], question=b["title"],
                                                            end_time=day(b.get("condition_date")), multi_outcome=b["child_count"] > 1)  # fmt: skip
        key = (ticker, b["platform_event_id"])
        labels[key] = labels.get(key, False) or bool(row["context"]["pipeline"]["same_semantic_event"])
    return list(kalshi.values()), list(poly.values()), labels


def test_dominik_event_level_precision_recall() -> None:
    kalshi, poly, labels = _dominik()
    pairs = match(kalshi, poly, min_confidence=0.6, per_record=1)
    assert all(not p.kalshi_market and not p.polymarket_market for p in pairs)  # events only → event-level pairs
    scores = evaluate(pairs, labels)
    print(f"Dominik kalshi|polymarket ({len(labels)} labelled event pairs, {sum(labels.values())} positive): {scores}")
    assert scores["recall"] >= 0.8 and scores["precision"] >= 0.4


def test_sagnik_events_parse() -> None:
    path = shared_data(SHARED_DATA / "SagnikBhadra__Arbitrage-Betting/statics/events.json")
    records = load_kalshi([path])
    assert len(records) == 7219 and all(not r.market_ticker for r in records)
    games = [r for r in records if (parsed := parse_kalshi(r)) is not None and parsed.family == "game"]
    print(f"Sagnik events.json: {len(records)} events, {len(games)} parsed as team games")
    assert games


def test_sagnik_statics_kalshi_side_parses() -> None:
    path = shared_data(SHARED_DATA / "SagnikBhadra__Arbitrage-Betting/statics/cross_exchange_statics.json")
    mapping = json.loads(path.read_text())["POLYMARKET_KALSHI_MAPPING"]
    rows = [row for group in mapping.values() for rows in group.values() for row in rows]
    parsed = 0
    for row in rows:
        for ticker in (row["kalshi_ticker"], row["other_kalshi_ticker"]):
            info = KalshiMarketInfo(event_ticker=ticker.rsplit("-", 1)[0], market_ticker=ticker)
            got = parse_kalshi(info)
            parsed += got is not None and got.family == "game" and got.side == ticker.rsplit("-", 1)[1]
    print(f"Sagnik statics: {parsed}/{2 * len(rows)} Kalshi tickers parsed as game markets with their side")
    assert parsed >= len(rows)


def test_gamma_and_kalshi_fixtures_load() -> None:
    base = shared_data(SHARED_DATA / "nautechsystems__nautilus_trader")
    files = [
        f for f in sorted((base / "crates/adapters/polymarket/test_data").glob("gamma_*.json")) if "tags" not in f.name
    ]
    files += [
        base / "tests/integration_tests/adapters/polymarket/resources/http_responses" / n
        for n in ("event.json", "events_list.json", "market_slug.json", "markets_list.json")
    ]
    poly = load_polymarket(files)
    assert len(poly) >= 20
    newsom = next(p for p in poly if "Gavin Newsom" in p.question)
    assert newsom.outcomes == ("Yes", "No") and len(newsom.token_ids) == 2 and newsom.multi_outcome
    gold = load_kalshi(sorted(shared_data(SHARED_DATA / "zkiihne__kalshi-gold15m-sample/metadata").glob("*.json")))
    assert len(gold) == 39 and all(g.strike_type == "greater_or_equal" and g.floor_strike is not None for g in gold)
    assert all(g.settlement_sources == ("Pyth - Gold",) for g in gold)
    assert match(gold, poly) == [] or all(p.relation != "identity" or p.confidence < 0.9 for p in match(gold, poly))
