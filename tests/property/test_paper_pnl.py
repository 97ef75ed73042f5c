"""Paper P&L in parts: a hedged set's locked P&L is size × $1 − cost − fees exactly, and it becomes
the realized P&L at settlement; hedged and unhedged parts always add up to the open book's value."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from hadron.arb.detector import ArbDetector
from hadron.arb.terms import LegTerms, PairTerms, Thresholds
from hadron.book.manager import BookManager
from hadron.match.pairs import Pair
from hadron.model.events import BookSnapshot
from hadron.model.fees import FeeModel
from hadron.model.units import PRICE_ONE, SIZE_SCALE
from hadron.paper.config import Latency, PaperConfig, RiskLimits
from hadron.paper.portfolio import Portfolio
from hadron.paper.trader import PaperTrader
from hadron.venues.base import FeeModelVenue, get_venue

CENT = 100
USD = 10**10
K, YES, NO = "kalshi:K", "polymarket:Y", "polymarket:N"
A, B = (K, False), (NO, False)  # Kalshi YES and the token that pays when Kalshi NO pays

shares = st.integers(min_value=1, max_value=5_000 * 100).map(lambda hundredths: hundredths * SIZE_SCALE // 100)
cents = st.integers(min_value=1, max_value=99).map(lambda c: c * CENT)
multipliers = st.decimals(min_value=0, max_value=2, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=Decimal("0.1"), places=3, allow_nan=False, allow_infinity=False)


def _fees(multiplier: Decimal, rate: Decimal) -> tuple[FeeModel, FeeModel]:
    kalshi, polymarket = get_venue("kalshi"), get_venue("polymarket")
    assert isinstance(kalshi, FeeModelVenue) and isinstance(polymarket, FeeModelVenue)
    return kalshi.fee_model({"multiplier": str(multiplier)}), polymarket.fee_model({"rate": str(rate)})


@settings(max_examples=300, deadline=None)
@given(n=shares, pa=cents, pb=cents, multiplier=multipliers, rate=rates, kalshi_yes=st.booleans())
def test_locked_pnl_of_a_hedged_pair_is_size_times_a_dollar_less_cost_and_fees(
    n: int, pa: int, pb: int, multiplier: Decimal, rate: Decimal, kalshi_yes: bool
) -> None:
    kalshi_fee, poly_fee = _fees(multiplier, rate)
    fa, fb = kalshi_fee.fee([(pa, n)]), poly_fee.fee([(pb, n)])
    portfolio = Portfolio({"kalshi": 10**6 * USD, "polymarket": 10**6 * USD})
    portfolio.buy(portfolio.holding("kalshi", K, "yes", False), n, n * pa, fa)
    portfolio.buy(portfolio.holding("polymarket", NO, "no", False), n, n * pb, fb)
    parts = portfolio.breakdown(BookManager(), [((A, B), n)])
    assert parts.locked == n * PRICE_ONE - (n * pa + fa) - (n * pb + fb)  # exact, integer money
    assert (parts.realized, parts.mark_to_market, parts.hedged, parts.payout) == (0, 0, n, n * PRICE_ONE)
    # settlement pays exactly one leg: the locked P&L is then realized, to the money unit
    portfolio.settle(K, "yes" if kalshi_yes else "no")
    portfolio.settle(NO, "no" if kalshi_yes else "yes")
    after = portfolio.breakdown(BookManager(), [((A, B), n)])
    assert (after.realized, after.locked, after.mark_to_market) == (parts.locked, 0, 0)


@settings(max_examples=300, deadline=None)
@given(na=shares, nb=shares, pa=cents, pb=cents, bid_a=cents, bid_b=cents, multiplier=multipliers, rate=rates)
def test_unequal_legs_split_into_locked_and_marked_parts_that_add_up(
    na: int, nb: int, pa: int, pb: int, bid_a: int, bid_b: int, multiplier: Decimal, rate: Decimal
) -> None:
    kalshi_fee, poly_fee = _fees(multiplier, rate)
    cost_a = na * pa + kalshi_fee.fee([(pa, na)])
    cost_b = nb * pb + poly_fee.fee([(pb, nb)])
    portfolio = Portfolio({"kalshi": 10**6 * USD, "polymarket": 10**6 * USD})
    portfolio.buy(portfolio.holding("kalshi", K, "yes", False), na, na * pa, cost_a - na * pa)
    portfolio.buy(portfolio.holding("polymarket", NO, "no", False), nb, nb * pb, cost_b - nb * pb)
    hedged = min(na, nb)
    marks = {A: bid_a, B: bid_b}  # no LIVE book: the last known bids
    parts = portfolio.breakdown(BookManager(), [((A, B), max(na, nb))], marks)  # capped by what is held
    assert parts.hedged == hedged
    free = (na - hedged) * bid_a + (nb - hedged) * bid_b
    assert parts.locked + parts.mark_to_market == hedged * PRICE_ONE + free - cost_a - cost_b
    # the hedged part of a leg costs its basis pro rata, never less (the locked P&L is not overstated)
    assert (hedged * PRICE_ONE - parts.locked) * na * nb >= cost_a * hedged * nb + cost_b * hedged * na
    assert hedged * PRICE_ONE - parts.locked - (Fraction(cost_a * hedged, na) + Fraction(cost_b * hedged, nb)) < 2


@settings(max_examples=60, deadline=None)
@given(
    pk=st.integers(min_value=5, max_value=80).map(lambda c: c * CENT),
    extra=st.integers(min_value=0, max_value=60),
    depth_k=st.integers(min_value=1, max_value=40),
    depth_n=st.integers(min_value=1, max_value=40),
    multiplier=multipliers,
    rate=rates,
)
def test_every_hedged_paper_trade_locks_its_size_times_a_dollar_less_what_it_paid(
    pk: int, extra: int, depth_k: int, depth_n: int, multiplier: Decimal, rate: Decimal
) -> None:
    pn = max(2, 90 - pk // CENT - extra) * CENT  # Kalshi YES + Polymarket NO cost ≤ $0.90
    kalshi_fee, poly_fee = _fees(multiplier, rate)
    pair = Pair(kalshi_event="E", polymarket_event="P", relation="identity", confidence=1.0, kalshi_market="K",
                polymarket_yes_token="Y", polymarket_no_token="N", status="approved", id="p")  # fmt: skip
    books = BookManager()
    terms = {"p": PairTerms(legs=(LegTerms(fee=kalshi_fee), LegTerms(fee=poly_fee)))}
    detector = ArbDetector(books, [pair], terms, Thresholds(max_age_ns=10**12), intra=False)
    config = PaperConfig(latency={"kalshi": Latency(50.0), "polymarket": Latency(150.0)})
    trader = PaperTrader(books, detector, config, RiskLimits(max_data_age_ms=10**9))
    t = 1_786_000_000 * 10**9
    s = SIZE_SCALE
    books.apply_snapshot(BookSnapshot(K, ((pk - CENT, 10 * s),), ((pk, depth_k * s),), t, t))
    books.apply_snapshot(BookSnapshot(YES, ((CENT, 10 * s),), ((99 * CENT, 10 * s),), t, t))  # no reverse edge
    books.apply_snapshot(BookSnapshot(NO, ((pn - CENT, 10 * s),), ((pn, depth_n * s),), t + 1, t + 1))
    trader.finish()
    hedged = [trade for trade in trader.trades if trade.state == "hedged"]
    parts = trader.pnl()
    size = sum(trade.size for trade in hedged)
    paid = sum(o.cost + o.fee for trade in hedged for o in trade.orders)
    assert size and parts.hedged == size == min(depth_k, depth_n) * s
    assert parts.locked == size * PRICE_ONE - paid > 0 and parts.mark_to_market == 0
