"""Fee rules read over REST at the start of a run: Kalshi ``GET /events/{e}`` and ``GET
/series/{s}`` → :class:`FeeRule` records → :meth:`FeeRegistry.apply_rules` → the detector."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from hadron.arb.detector import ArbDetector
from hadron.arb.fees import FeeRegistry
from hadron.arb.terms import LegTerms, PairTerms, Thresholds
from hadron.book.manager import BookManager
from hadron.config import HadronConfig, KalshiConfig, load_config
from hadron.errors import TransportError
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot, FeeUpdate
from hadron.model.fees import FeeRule
from hadron.venues.base import FeeModelVenue, FeeRulesVenue, get_venue
from hadron.venues.kalshi.fees import KalshiOrderFee
from hadron.venues.kalshi.live import fee_rules

S = 1_000_000
SERIES = "KXBTCD"
EVENT = f"{SERIES}-26MAY2018"
OTHER = f"{SERIES}-26MAY2019"
MARKET = f"{EVENT}-T100"
K, Y, N = f"kalshi:{MARKET}", "polymarket:Y", "polymarket:N"


def _venue(*, override: bool = True, missing: frozenset[str] = frozenset()) -> tuple[httpx.MockTransport, list[str]]:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/trade-api/v2", 1)[1]
        asked.append(path)
        name = path.rsplit("/", 1)[1]
        if name in missing:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "not found"}})
        if path.startswith("/series/"):
            body = {"ticker": name, "fee_type": "quadratic_with_maker_fees", "fee_multiplier": "0.5"}
            return httpx.Response(200, json={"series": body})
        event: dict[str, Any] = {"event_ticker": name, "series_ticker": SERIES}
        if override and name == EVENT:
            event |= {"fee_type_override": None, "fee_multiplier_override": "2"}
        return httpx.Response(200, json={"event": event, "markets": []})

    return httpx.MockTransport(handler), asked


def _config() -> HadronConfig:
    return HadronConfig(kalshi=KalshiConfig(rest_url="http://kalshi.test/trade-api/v2"))


def _kalshi(multiplier: str) -> Any:
    venue = get_venue("kalshi")
    assert isinstance(venue, FeeModelVenue)
    return venue.fee_model({"multiplier": multiplier})


def _setup() -> tuple[BookManager, ArbDetector, FeeRegistry]:
    pair = Pair(kalshi_event=EVENT, polymarket_event="P", relation="identity", confidence=1.0, kalshi_market=MARKET,
                polymarket_yes_token="Y", polymarket_no_token="N", status="approved", id="p")  # fmt: skip
    books = BookManager()
    terms = {
        "p": PairTerms(legs=(LegTerms(fee=_kalshi("1"), fee_params={"multiplier": "1"}), LegTerms(fee=_kalshi("0"))))
    }
    det = ArbDetector(books, [pair], terms, Thresholds(max_age_ns=10**12), intra=False)
    return books, det, FeeRegistry([pair], {"p": [{"multiplier": "1"}]}, detector=det)


def _cross(books: BookManager, t: int) -> None:
    books.apply_snapshot(BookSnapshot(K, ((4000, 10 * S),), ((4500, 10 * S),), t, t))
    books.apply_snapshot(BookSnapshot(Y, ((4800, 10 * S),), ((5000, 10 * S),), t + 1, t + 1))
    books.apply_snapshot(BookSnapshot(N, ((4000, 10 * S),), ((5000, 10 * S),), t + 2, t + 2))


def test_the_kalshi_venue_reports_each_events_series_rule_and_override_fetching_each_once() -> None:
    transport, asked = _venue()
    assert isinstance(get_venue("kalshi"), FeeRulesVenue)
    assert not isinstance(get_venue("polymarket"), FeeRulesVenue)  # its fees come from the pairs file
    rules = asyncio.run(fee_rules([EVENT, OTHER, EVENT], config=_config(), transport=transport))
    assert rules == [
        FeeRule("kalshi", EVENT, "base", "quadratic_with_maker_fees", Decimal("0.5"), f"series:{SERIES}"),
        FeeRule("kalshi", EVENT, "override", None, Decimal(2), f"event:{EVENT}"),
        FeeRule("kalshi", OTHER, "base", "quadratic_with_maker_fees", Decimal("0.5"), f"series:{SERIES}"),
    ]
    assert asked == [f"/events/{EVENT}", f"/series/{SERIES}", f"/events/{OTHER}"]  # de-duplicated


def test_the_rules_reach_the_detector_and_the_report() -> None:
    books, det, registry = _setup()
    transport, _ = _venue()
    rules = asyncio.run(fee_rules(registry.events(), config=_config(), transport=transport))
    assert registry.apply_rules(rules, 1) == 2
    _cross(books, 2)
    (opp,) = det.open.values()
    assert opp.legs[0].fee == KalshiOrderFee(Decimal(2)).fee([(4500, 10 * S)])  # the event's override
    summary = registry.summary()
    assert summary["base"] == {
        f"kalshi:{EVENT}": {"fee_type": "quadratic_with_maker_fees", "multiplier": "0.5", "source": f"series:{SERIES}"}
    }
    assert summary["overrides"][f"kalshi:{EVENT}"]["source"] == "rest"
    assert registry.rule_text(K) == "quadratic_with_maker_fees ×2"
    registry.on_fee_update(FeeUpdate(f"kalshi:event:{EVENT}", "event", EVENT, "kalshi", None, None, 10, 10))
    assert opp.legs[0].fee == KalshiOrderFee(Decimal("0.5")).fee([(4500, 10 * S)])  # cleared: the series' rule
    assert registry.rule_text(K) == "quadratic_with_maker_fees ×0.5"


def test_a_stream_update_seen_first_wins_over_the_rest_override() -> None:
    _books, _det, registry = _setup()
    registry.on_fee_update(FeeUpdate(f"kalshi:event:{EVENT}", "event", EVENT, "kalshi", None, None, 5, 5))
    applied = registry.apply_rules([FeeRule("kalshi", EVENT, "override", None, Decimal(3))], 6)
    assert applied == 0 and registry.summary()["overrides"] == {}


def test_a_series_rule_hadron_cannot_price_stops_the_pair() -> None:
    books, det, registry = _setup()
    registry.apply_rules([FeeRule("kalshi", EVENT, "base", "flat", Decimal(1))], 1)
    _cross(books, 2)
    assert not det.open and registry.refused == 1 and not registry.priced(K)
    assert registry.rule_text(K) == "unpriced"


def test_an_event_rest_cannot_give_is_one_warning_and_the_others_apply() -> None:
    transport, _ = _venue(missing=frozenset({OTHER}))
    with capture_logs() as logs:
        rules = asyncio.run(fee_rules([EVENT, OTHER], config=_config(), transport=transport))
    assert {(rule.event, rule.kind) for rule in rules} == {(EVENT, "base"), (EVENT, "override")}
    (warning,) = [entry for entry in logs if entry["log_level"] == "warning"]
    assert "fee rules not available" in warning["event"] and warning["keys"] == [OTHER] and warning["failed"] == 1


def test_a_loopback_ws_without_rest_is_not_asked() -> None:
    transport, asked = _venue()
    config = HadronConfig(kalshi=KalshiConfig(ws_url="ws://127.0.0.1:1/trade-api/ws/v2"))
    assert asyncio.run(fee_rules([EVENT], config=config, transport=transport)) == [] and not asked


def test_the_runtime_keeps_going_when_the_venue_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hadron.app.runtime import Runtime
    from hadron.venues.polymarket.fake_scenario import pairs_toml

    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([MARKET]))
    config = tmp_path / "hadron.toml"
    config.write_text(f'[runtime]\npairs = "{pairs}"\nport = 0\n')
    runtime = Runtime(load_config(config, environ={}, dotenv=None))
    asked: list[list[str]] = []

    async def failing(events: list[str], **_: Any) -> list[FeeRule]:
        asked.append(events)
        raise TransportError("connection refused")

    monkeypatch.setattr(get_venue("kalshi"), "fee_rules", failing, raising=False)
    with capture_logs() as logs:
        assert asyncio.run(runtime.load_fee_rules()) == 0
    assert asked == [[EVENT]] and runtime.fee_rule_errors == ["kalshi: connection refused"]
    assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == [
        "fee rules not available: the pairs file's terms stay"
    ]
    fees = runtime.strategy.fees
    assert fees is not None and fees.priced(K) and fees.summary()["base"] == {}  # the pairs file's terms stay
