"""Fees follow the venue: event_fee_update → FeeUpdate → FeeRegistry → detector and paper trader.

The frames are the Kalshi AsyncAPI spec's own ``eventFeeUpdate`` examples (set, then cleared).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from hadron.arb.detector import ArbDetector
from hadron.arb.fees import FeeRegistry, event_of
from hadron.arb.terms import LegTerms, PairTerms, Thresholds
from hadron.book.manager import BookManager
from hadron.bus.base import EVENT_KINDS, Envelope, decode_envelope, encode_envelope, subject_for
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot, FeeUpdate
from hadron.paper.trader import PaperTrader
from hadron.venues.base import FeedStats, FeeModelVenue, get_venue
from hadron.venues.kalshi.fees import KalshiOrderFee
from hadron.venues.kalshi.stream import KalshiStream
from tests.conftest import KALSHI_ASYNCAPI

SPEC = KALSHI_ASYNCAPI
S = 1_000_000
EVENT = "KXBTCD-26MAY2018"
MARKET = f"{EVENT}-T100"
K, Y, N = f"kalshi:{MARKET}", "polymarket:Y", "polymarket:N"


class _NoDeadLetter:
    def write(self, raw: bytes, error: str, conn: str) -> None:
        raise AssertionError(f"dead-lettered: {error}")


def _spec_examples() -> list[dict[str, Any]]:
    if not SPEC.exists():
        pytest.skip(f"{SPEC} is absent (the Kalshi AsyncAPI spec, ../shared/kalshi-specs)")
    spec = yaml.safe_load(SPEC.read_text())
    return [example["payload"] for example in spec["components"]["messages"]["eventFeeUpdate"]["examples"]]


def _kalshi(multiplier: str, fee_type: str = "quadratic") -> Any:
    venue = get_venue("kalshi")
    assert isinstance(venue, FeeModelVenue)
    return venue.fee_model({"multiplier": multiplier, "fee_type": fee_type})


def _pair() -> Pair:
    return Pair(kalshi_event=EVENT, polymarket_event="P", relation="identity", confidence=1.0, kalshi_market=MARKET,
                polymarket_yes_token="Y", polymarket_no_token="N", status="approved", id="p")  # fmt: skip


def _update(fee_type: str | None, multiplier: str | None, t: int, event: str = EVENT) -> FeeUpdate:
    return FeeUpdate(
        f"kalshi:event:{event}", "event", event, "kalshi", fee_type, Decimal(multiplier) if multiplier else None, t, t
    )


def _setup(*, trader: bool = False) -> tuple[BookManager, ArbDetector, FeeRegistry, PaperTrader | None]:
    books = BookManager()
    terms = {
        "p": PairTerms(legs=(LegTerms(fee=_kalshi("1"), fee_params={"multiplier": "1"}), LegTerms(fee=_kalshi("0"))))
    }
    det = ArbDetector(books, [_pair()], terms, Thresholds(max_age_ns=10**12), intra=False)
    paper = None
    if trader:
        paper = PaperTrader(books, det)  # default latencies: Kalshi 50 ms, Polymarket 150 ms
    registry = FeeRegistry([_pair()], {"p": [{"multiplier": "1"}]}, detector=det, trader=paper)
    return books, det, registry, paper


def _snap(books: BookManager, inst: str, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...], t: int) -> None:  # fmt: skip
    books.apply_snapshot(BookSnapshot(inst, bids, asks, t, t))


def _cross(books: BookManager, t: int) -> None:
    # Kalshi YES ask 0.45 (10) + the NO token's ask 0.50 (10): 5¢ gross per share set
    _snap(books, K, ((4000, 10 * S),), ((4500, 10 * S),), t)
    _snap(books, Y, ((4800, 10 * S),), ((5000, 10 * S),), t + 1)
    _snap(books, N, ((4000, 10 * S),), ((5000, 10 * S),), t + 2)


def test_spec_examples_normalize_to_fee_updates_and_cross_the_bus() -> None:
    events: list[object] = []
    stream = KalshiStream(BookManager(), "k", stats=FeedStats(), dead_letter=_NoDeadLetter(), on_event=events.append)
    for n, payload in enumerate(_spec_examples()):
        stream.on_frame(json.dumps(payload).encode(), 1_000 + n)
    assert stream.stats.decode_errors == 0
    set_, cleared = events
    assert set_ == FeeUpdate(
        f"kalshi:event:{EVENT}", "event", EVENT, "kalshi", "quadratic", Decimal(1), 1_000, 1_000
    )  # no venue time in the frame: ts_event is the receive time
    assert cleared == FeeUpdate(f"kalshi:event:{EVENT}", "event", EVENT, "kalshi", None, None, 1_001, 1_001)
    assert isinstance(set_, FeeUpdate) and EVENT_KINDS[FeeUpdate] == "fee_update"
    assert subject_for(set_) == f"hadron.v1.kalshi.fee_update.event_3A{EVENT}"
    envelope = Envelope("s:0", "s", 0, _update("quadratic_with_maker_fees", "0.5", 7))
    assert decode_envelope(encode_envelope(envelope)) == envelope  # the multiplier stays an exact Decimal


def test_event_of_a_market() -> None:
    assert event_of(_pair().legs[0]) == EVENT
    bare = Pair(kalshi_event="", polymarket_event="P", relation="identity", confidence=1.0,
                kalshi_market="KXGOLD15M-26AUG102130-30", polymarket_yes_token="Y")  # fmt: skip
    assert event_of(bare.legs[0]) == "KXGOLD15M-26AUG102130"


def test_override_reprices_the_open_opportunity_then_clearing_restores_it() -> None:
    books, det, registry, _ = _setup()
    _cross(books, 1)
    (opp,) = det.open.values()
    base_fee = KalshiOrderFee(Decimal(1)).fee([(4500, 10 * S)])
    assert opp.legs[0].fee == base_fee and opp.net == 10 * S * 500 - base_fee
    registry.on_event(_update("quadratic", "0.5", 10))  # the moment it arrives: re-evaluated, cheaper
    half = KalshiOrderFee(Decimal("0.5")).fee([(4500, 10 * S)])
    assert half < base_fee and opp.legs[0].fee == half and opp.net == 10 * S * 500 - half and opp.last_ns == 10
    registry.on_event(_update("quadratic", "3", 11))  # 3×: 0.07 × 3 × 0.45 × 0.55 = 5.2¢ > 5¢ of edge
    assert not det.open and det.closed[0].close_reason == "gone" and det.closed[0].closed_ns == 11
    registry.on_event(_update(None, None, 12))  # cleared: the pairs file's multiplier again
    (again,) = det.open.values()
    assert again.opened_ns == 12 and again.legs[0].fee == base_fee
    summary = registry.summary()
    assert summary["updates"] == 3 and summary["cleared"] == 1 and summary["refused"] == 0
    assert summary["overrides"] == {}


def test_a_fee_type_hadron_cannot_price_is_refused_and_stops_trading(caplog: pytest.LogCaptureFixture) -> None:
    books, det, registry, _ = _setup()
    _cross(books, 1)
    assert det.open
    registry.on_event(_update("flat", "1", 10))  # Kalshi's Specific Trading Fees table: not priceable here
    assert registry.refused == 1 and not det.open and det.closed[0].close_reason == "suppressed: fee_unpriced"
    assert registry.summary()["unpriced_markets"] == [K] and not registry.priced(K)
    _snap(books, N, ((4000, 10 * S),), ((4900, 10 * S),), 20)  # a better edge: still not traded
    assert not det.open and det.suppressed["fee_unpriced"] >= 1
    registry.on_event(_update("no_such_type", None, 21))  # unknown: refused the same way, never raises
    registry.on_event(_update("quadratic_with_maker_fees", "-1", 22))  # a negative multiplier too
    assert registry.refused == 3 and not det.open
    registry.on_event(_update("quadratic_with_maker_fees", "1", 30))  # priceable again: traded again
    (opp,) = det.open.values()
    assert opp.opened_ns == 30 and registry.priced(K)
    registry.on_event(_update("flat", None, 40, event="OTHER-EVENT"))  # not traded here: counted only
    assert registry.refused == 4 and registry.unfollowed == 1 and det.open


@pytest.mark.parametrize("multiplier", ["1e308", "10.0001", "-0.5"])
def test_a_multiplier_outside_0_to_10_is_refused_logged_and_never_applied(multiplier: str) -> None:
    from structlog.testing import capture_logs

    books, det, registry, _ = _setup()
    _cross(books, 1)
    assert det.open
    with capture_logs() as logs:
        registry.on_event(_update("quadratic", multiplier, 10))
    refused = [e for e in logs if e["event"] == "fee rule refused"]
    assert registry.refused == 1 and not registry.priced(K) and not det.open
    assert len(refused) == 1 and "fee_multiplier" in refused[0]["reason"] and "0..10" in refused[0]["reason"]
    assert "\n" not in refused[0]["reason"]
    registry.on_event(_update("quadratic", "10", 20))  # the bound itself is accepted
    assert registry.refused == 1 and registry.priced(K)


def test_paper_orders_pay_the_fee_in_force_when_they_reach_the_venue() -> None:
    books, _det, registry, trader = _setup(trader=True)
    assert trader is not None
    _cross(books, 10**9)
    trader.advance(10**9 + 2 * 10**8)  # both legs reach their venues and fill
    (first,) = [o for o in trader.orders if o.venue == "kalshi"]
    assert first.fee == KalshiOrderFee(Decimal(1)).fee(first.fills)
    _snap(books, N, ((4000, 10 * S),), ((6000, 10 * S),), 15 * 10**8)  # the edge goes: closed
    registry.on_event(_update("quadratic", "0.5", 2 * 10**9))
    _cross(books, 3 * 10**9)  # the books move again: a new opportunity, new orders
    trader.advance(3 * 10**9 + 2 * 10**8)
    second = [o for o in trader.orders if o.venue == "kalshi"][-1]
    assert second is not first and second.filled, dict(trader.stats.rejections)
    assert second.fee == KalshiOrderFee(Decimal("0.5")).fee(second.fills) < KalshiOrderFee(Decimal(1)).fee(second.fills)


def test_the_bus_strategy_role_applies_fee_updates(tmp_path: Path) -> None:
    from hadron.app.pipeline import StrategyOptions, build_strategy
    from hadron.app.roles import _market_event
    from hadron.app.strategy import Strategy
    from hadron.venues.polymarket.fake_scenario import pairs_toml

    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([MARKET], fee_rate="0.04"))
    strategy = Strategy()
    pipeline = build_strategy(strategy.books, StrategyOptions(pairs=pairs), mode="replay", role="strategy")
    assert pipeline.wants_events and pipeline.fees is not None
    strategy.on_event.append(lambda envelope, books: _market_event(pipeline, envelope))
    wire = encode_envelope(Envelope("ingest:0", "ingest", 0, _update("quadratic", "0.5", 5)))
    strategy.handle(decode_envelope(wire))
    assert strategy.hook_errors == 0 and strategy.by_kind == {"fee_update": 1}
    assert pipeline.fees.summary()["overrides"][f"kalshi:{EVENT}"]["multiplier"] == "0.5"
    assert pipeline.report()["arbitrage"]["fees"]["applied"] == 1


def test_rest_rules_at_start_are_the_base_a_cleared_override_returns_to() -> None:
    books, det, registry, _ = _setup()
    # GET /series/{t}: fee_type quadratic_with_maker_fees, fee_multiplier 0.5; GET /events/{e}: override 2
    registry.set_base("kalshi", EVENT, "quadratic_with_maker_fees", Decimal("0.5"), 1)
    registry.set_override("kalshi", EVENT, None, Decimal(2), 1)
    assert registry.summary()["overrides"][f"kalshi:{EVENT}"]["source"] == "rest"
    _cross(books, 2)
    (opp,) = det.open.values()
    assert opp.legs[0].fee == KalshiOrderFee(Decimal(2)).fee([(4500, 10 * S)])
    registry.on_event(_update(None, None, 10))  # the venue clears the override: the series' 0.5, not the file's 1
    assert opp.legs[0].fee == KalshiOrderFee(Decimal("0.5")).fee([(4500, 10 * S)])
