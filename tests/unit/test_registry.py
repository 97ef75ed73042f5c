"""The instrument registry: every Kalshi lifecycle type (spec examples and the spec's other event
types) through the normalizer into the registry, and a market that closes mid-stream stops being
traded by the detector and the paper trader at that receive time."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from hadron.app.pipeline import StrategyOptions, StrategyPipeline
from hadron.arb.terms import ArbConfig, LegTerms, PairTerms, Thresholds
from hadron.book.manager import NEVER, BookManager
from hadron.book.registry import InstrumentRegistry
from hadron.bus.base import decode_envelope, encode_envelope, make_envelope
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot, EventStatus, MarketState, MarketStatus
from hadron.model.fees import NoFee
from hadron.venues.kalshi.messages import FRAME_DECODER
from hadron.venues.kalshi.normalize import normalize_event_lifecycle, normalize_lifecycle
from tests.conftest import KALSHI_ASYNCAPI

SPEC = KALSHI_ASYNCAPI
S = 1_000_000
MS = 1_000_000
T0 = 1_786_000_000 * 10**9
K, Y, N = "kalshi:K", "polymarket:Y", "polymarket:N"


def _frame(msg: dict[str, Any], kind: str = "market_lifecycle_v2", sid: int = 13) -> Any:
    return FRAME_DECODER.decode(msgspec.json.encode({"type": kind, "sid": sid, "msg": msg}))


def _spec_examples() -> list[tuple[str, dict[str, Any]]]:
    yaml = pytest.importorskip("yaml")
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is absent (the Kalshi AsyncAPI spec)")
    messages = yaml.safe_load(SPEC.read_text())["components"]["messages"]
    return [
        (name, example["payload"])
        for name in ("marketLifecycleV2", "eventLifecycle", "multivariateMarketLifecycle")
        for example in messages[name]["examples"]
    ]


def test_every_spec_lifecycle_example_updates_the_registry() -> None:
    books = BookManager()
    registry = InstrumentRegistry(books)
    examples = _spec_examples()
    assert len(examples) >= 6
    for name, payload in examples:
        frame = FRAME_DECODER.decode(msgspec.json.encode(payload))
        event = normalize_event_lifecycle(frame, T0) if name == "eventLifecycle" else normalize_lifecycle(frame, T0)
        assert registry.on_event(event)
    created = registry.instruments["kalshi:INXD-23SEP14-B4487"]
    assert created.state is MarketState.CREATED
    assert (created.open_ns, created.close_ns) == (1694635200 * 10**9, 1694721600 * 10**9)
    assert (created.event, created.strike_type, created.floor_strike) == ("kalshi:INXD-23SEP14", "greater", "4487")
    assert created.price_level_structure == "deci_cent"  # then price_level_structure_updated
    assert created.price_ranges == ((0, 10_000, 10),) and created.tick == 10
    strike = registry.instruments["kalshi:KXBTC-25APR30-T0915-B95000"]
    assert (strike.strike_type, strike.floor_strike, strike.cap_strike) == ("between", "95000", "95250")
    mve = registry.instruments["kalshi:KXMVE-TEST-EVENT-M1"]
    assert (mve.state, mve.event, mve.title) == (MarketState.CREATED, "kalshi:KXMVE-TEST-EVENT", "Market 1")
    event = registry.events["kalshi:KXQUICKSETTLE-26JAN25H2150"]
    assert (event.series, event.collateral_return_type) == ("KXQUICKSETTLE", "MECNET")
    assert event.title == "What will 1+1 equal on Jan 25 at 21:50?"
    # the created market closed in 2023: not traded now, and its book (made later) knows it
    assert created.status(T0) == "closed" and not created.trading(T0)
    assert books.book("kalshi:INXD-23SEP14-B4487").close_ns == 1694721600 * 10**9


def test_every_market_lifecycle_event_type_moves_the_state_and_the_book_flags() -> None:
    books = BookManager()
    book = books.book("kalshi:M")
    registry = InstrumentRegistry(books)
    seen: list[tuple[str, str | None]] = []
    registry.add_listener(lambda info, event: seen.append((info.status(T0), info.halted)))

    def apply(msg: dict[str, Any], kind: str = "market_lifecycle_v2") -> MarketStatus:
        status = normalize_lifecycle(_frame({"market_ticker": "M", **msg}, kind), T0)
        registry.on_event(status)
        return status

    apply({"event_type": "created", "open_ts": 1_785_000_000, "close_ts": 1_787_000_000})
    assert (book.halted, book.close_ns) == (None, 1_787_000_000 * 10**9)
    apply({"event_type": "activated"})
    apply({"event_type": "deactivated", "is_deactivated": True})
    assert book.halted == "market_paused"
    apply({"event_type": "deactivated", "is_deactivated": False})  # un-paused
    assert book.halted is None
    apply({"event_type": "close_date_updated", "close_ts": 1_785_500_000})  # closes early: before T0
    assert book.close_ns == 1_785_500_000 * 10**9 and registry.instruments["kalshi:M"].status(T0) == "closed"
    apply({"event_type": "price_level_structure_updated", "price_level_structure": "tapered_deci_cent",
           "price_ranges": [{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
                            {"start": "0.1000", "end": "0.9000", "step": "0.0100"}]})  # fmt: skip
    apply({"event_type": "metadata_updated", "strike_type": "greater", "floor_strike": 2950.5})
    status = apply({"event_type": "determined", "determination_ts": 1_786_000_100, "result": "yes",
                    "settlement_value": "1.0000"})  # fmt: skip
    assert (status.state, status.result, status.settlement_value) == (MarketState.DETERMINED, "yes", 10_000)
    assert book.halted == "market_determined"
    apply({"event_type": "activated"})  # a final market does not trade again
    assert book.halted == "market_determined"
    apply({"event_type": "settled", "settled_ts": 1_786_000_200})
    info = registry.instruments["kalshi:M"]
    assert (info.state, info.halted, info.result, info.settlement_value) == (
        MarketState.SETTLED, "market_settled", "yes", 10_000)  # fmt: skip
    assert (info.tick, info.floor_strike, info.price_level_structure) == (10, "2950.5", "tapered_deci_cent")
    assert [h for _, h in seen] == [None, None, "market_paused", None, None, None, None,
                                    "market_determined", "market_determined", "market_settled"]  # fmt: skip
    assert registry.summary()["halts"] == 2 and registry.summary()["resumed"] == 1


def test_the_multivariate_and_event_lifecycles_reach_the_registry_through_the_stream() -> None:
    from hadron.venues.base import FeedStats
    from hadron.venues.kalshi.stream import KalshiStream

    events: list[object] = []

    class _Sink:
        def write(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("nothing is rejected")

    stream = KalshiStream(BookManager(), "c", stats=FeedStats(), dead_letter=_Sink(), on_event=events.append)  # type: ignore[arg-type]
    lines = [
        {"type": "event_lifecycle", "sid": 5, "seq": 1, "msg": {"event_ticker": "E1", "exchange_index": 0,
         "title": "T", "subtitle": "", "collateral_return_type": "", "series_ticker": "S", "strike_date": 1786000000}},
        {"type": "multivariate_market_lifecycle", "sid": 14, "seq": 1,
         "msg": {"market_ticker": "MV-1", "event_type": "determined", "result": "no", "determination_ts": 1786000000}},
    ]  # fmt: skip
    for line in lines:
        stream.on_frame(msgspec.json.encode(line), T0)
    event, status = events
    assert isinstance(event, EventStatus) and event.instrument == "kalshi:E1" and event.strike_ns == 1786 * 10**15
    assert isinstance(status, MarketStatus) and (status.instrument, status.result) == ("kalshi:MV-1", "no")


def test_registry_events_travel_on_the_bus() -> None:
    status = normalize_lifecycle(
        _frame({"market_ticker": "M", "event_type": "price_level_structure_updated",
                "price_ranges": [{"start": "0", "end": "1", "step": "0.001"}]}), T0)  # fmt: skip
    event = EventStatus("kalshi:E", "title", T0, T0, series="S")
    for item in (status, event):
        assert decode_envelope(encode_envelope(make_envelope("src", 0, item))).event == item


# -- a market that closes mid-stream -----------------------------------------------------------


def _pipeline(paper: bool) -> tuple[BookManager, StrategyPipeline]:
    pair = Pair(kalshi_event="E", polymarket_event="P", relation="identity", confidence=1.0, kalshi_market="K",
                polymarket_yes_token="Y", polymarket_no_token="N", status="approved", id="p")  # fmt: skip
    arb = ArbConfig([pair], {"p": PairTerms(legs=(LegTerms(fee=NoFee()), LegTerms(fee=NoFee())))}, [],
                    Thresholds(max_age_ns=10**12))  # fmt: skip
    tables = {"paper": {"latency_ms": {"kalshi": 50, "polymarket": 150}}, "risk": {"max_data_age_ms": 10**9}}
    books = BookManager()
    return books, StrategyPipeline(books, StrategyOptions(arb=arb, paper=paper, paper_tables=tables), mode="replay")


def _feed(books: BookManager, pipeline: StrategyPipeline, event: Any) -> None:
    # what a replay does with each normalized event: the books apply it, then the strategy sees it
    if isinstance(event, BookSnapshot):
        books.apply_snapshot(event)
    pipeline.on_event(event)


def _open(books: BookManager, pipeline: StrategyPipeline, t: int) -> None:
    # Kalshi YES ask 0.45 and Polymarket NO ask 0.50: $0.95 for $1
    for n, (inst, bid, ask) in enumerate(((K, 4000, 4500), (Y, 4800, 5000), (N, 4000, 5000))):
        _feed(books, pipeline, BookSnapshot(inst, ((bid, 10 * S),), ((ask, 10 * S),), t + n, t + n))


def _close_frame(t: int) -> MarketStatus:
    return normalize_lifecycle(_frame({"market_ticker": "K", "event_type": "close_date_updated",
                                       "close_ts": t // 10**9}), t)  # fmt: skip


def test_a_market_that_closes_mid_stream_stops_being_traded_by_the_detector() -> None:
    books, pipeline = _pipeline(paper=False)
    detector = pipeline.detector
    assert detector is not None
    _open(books, pipeline, T0)
    assert len(detector.open) == 1
    close_at = T0 + 10 * 10**9
    _feed(books, pipeline, _close_frame(close_at))  # the close arrives (its close time is now)
    assert not detector.open
    (closed,) = detector.closed
    assert (closed.closed_ns, closed.close_reason) == (close_at, "suppressed: market_closed")
    _open(books, pipeline, close_at + 10**9)  # the books still move: nothing opens on the closed market
    assert not detector.open and detector.suppressed["market_closed"] >= 1
    assert pipeline.report()["arbitrage"]["markets"]["by_status"] == {"closed": 1}
    # the venue reopens it (a later close date): traded again
    _feed(books, pipeline, _close_frame(close_at + 3600 * 10**9))
    _open(books, pipeline, close_at + 2 * 10**9)
    assert len(detector.open) == 1


def test_a_paper_order_arriving_after_the_close_is_rejected_and_a_result_settles() -> None:
    books, pipeline = _pipeline(paper=True)
    trader = pipeline.trader
    assert trader is not None
    _open(books, pipeline, T0)
    (trade,) = trader.trades
    # the market pauses 10 ms after the decision: the Kalshi leg (50 ms) and the Polymarket leg arrive after it
    pause = normalize_lifecycle(_frame({"market_ticker": "K", "event_type": "deactivated", "is_deactivated": True}),
                                T0 + 10 * MS)  # fmt: skip
    _feed(books, pipeline, pause)
    trader.advance(T0 + 200 * MS)
    kalshi = trade.orders[0]
    assert (kalshi.status, kalshi.reason) == ("rejected", "market_paused")
    _open(books, pipeline, T0 + 300 * MS)  # no new trade on a paused market
    assert len(trader.trades) == 1
    # Polymarket's leg filled; its market resolves: the registry settles the position at that time
    resolved = MarketStatus(N, MarketState.DETERMINED, T0 + 10**9, T0 + 10**9, "yes", "market_resolved")
    _feed(books, pipeline, resolved)
    trader.advance(T0 + 10**9)  # the next update's clock
    assert trader.stats.settlements == 1 and trader.portfolio.payouts > 0
    assert books.get(N) is not None and books.get(N).halted == "market_determined"  # type: ignore[union-attr]
    assert books.get(Y).close_ns == NEVER  # type: ignore[union-attr]


def test_a_kalshi_result_settles_both_legs_of_the_hedged_pair() -> None:
    # the pair's Kalshi leg and its Polymarket token settle from the one Kalshi result (the token
    # through the approved pair), so a hedged set pays $1 and its P&L is locked, not lost
    books, pipeline = _pipeline(paper=True)
    trader = pipeline.trader
    assert trader is not None
    _open(books, pipeline, T0)
    trader.advance(T0 + 500 * MS)  # both legs filled
    held = {h.instrument for h in trader.portfolio.holdings.values() if h.size}
    assert held == {K, N}, held
    determined = normalize_lifecycle(
        _frame(
            {"market_ticker": "K", "event_type": "determined", "result": "yes", "determination_ts": T0 // 10**9 + 1}
        ),
        T0 + 10**9,
    )
    _feed(books, pipeline, determined)
    trader.advance(T0 + 2 * 10**9)
    assert not [h for h in trader.portfolio.holdings.values() if h.size and not h.settled]
    assert trader.stats.settlements == 2
    assert trader.portfolio.payouts > 0  # the Kalshi YES paid; the Polymarket NO token settled at 0
