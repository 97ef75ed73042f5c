"""Property tests of the depth walk: brute force over every size agrees with it."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hadron.arb.walk import MONEY_SCALE, FeeModel, Limits, NoFee, best_size, fills_for, net_for
from hadron.model.units import PRICE_ONE, SIZE_SCALE
from hadron.venues.base import get_venue

LOT = SIZE_SCALE


def ladder() -> st.SearchStrategy[list[tuple[int, int]]]:
    level = st.tuples(st.integers(1, 99).map(lambda c: c * 100), st.integers(1, 8).map(lambda n: n * LOT))
    return st.lists(level, min_size=0, max_size=5, unique_by=lambda lv: lv[0]).map(sorted)


FEE_MODELS: list[FeeModel] = [
    *(get_venue("kalshi").fee_model(multiplier=m) for m in ("1", "0.5", "2")),
    *(get_venue("polymarket").fee_model(rate=r) for r in ("0", "0.04", "0.07")),
    NoFee(),
]


def fee_models() -> st.SearchStrategy[FeeModel]:
    return st.sampled_from(FEE_MODELS)


limits = st.builds(
    Limits,
    lot=st.just(LOT),
    min_size=st.integers(0, 4).map(lambda n: n * LOT),
    max_cost=st.one_of(st.none(), st.integers(1, 20).map(lambda d: d * MONEY_SCALE)),
    min_profit=st.integers(0, 3).map(lambda c: c * MONEY_SCALE // 100),
    min_edge=st.integers(0, 3).map(lambda c: c * MONEY_SCALE // 100),
)


def brute(
    a: list[tuple[int, int]], b: list[tuple[int, int]], fa: FeeModel, fb: FeeModel, lim: Limits
) -> list[tuple[int, int]]:
    depth = min(sum(s for _, s in a), sum(s for _, s in b))
    out = []
    for size in range(LOT, depth + 1, LOT):
        if size < lim.min_size:
            continue
        fills_a, cost_a = fills_for(a, size)
        fills_b, cost_b = fills_for(b, size)
        fees = fa.fee(fills_a) + fb.fee(fills_b)
        net = size * PRICE_ONE - cost_a - cost_b - fees
        if lim.max_cost is not None and cost_a + cost_b + fees > lim.max_cost:
            continue
        if net > 0 and net >= lim.min_profit and net * SIZE_SCALE >= lim.min_edge * size:
            out.append((net, size))
    return out


@settings(max_examples=400, deadline=None)
@given(ladder(), ladder(), fee_models(), fee_models(), limits)
def test_walk_matches_brute_force(
    a: list[tuple[int, int]], b: list[tuple[int, int]], fa: FeeModel, fb: FeeModel, lim: Limits
) -> None:
    result = best_size(a, b, fa, fb, lim)
    qualifying = brute(a, b, fa, fb, lim)
    if not qualifying:
        assert result is None
        return
    best_net = max(n for n, _ in qualifying)
    best = min(s for n, s in qualifying if n == best_net)
    assert result is not None
    assert (result.net, result.size) == (best_net, best)
    assert sum(s for _, s in result.fills_a) == sum(s for _, s in result.fills_b) == result.size
    assert result.net == net_for(a, b, fa, fb, result.size) > 0
    assert result.payout - result.cost == result.net
    assert result.fee_a == fa.fee(result.fills_a) and result.fee_b == fb.fee(result.fills_b)


@settings(max_examples=200, deadline=None)
@given(ladder(), ladder())
def test_feeless_crossing_is_found(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    result = best_size(a, b, NoFee(), NoFee(), Limits())
    crossing = bool(a and b and a[0][0] + b[0][0] < PRICE_ONE)
    assert (result is not None) == crossing


def test_published_fee_examples() -> None:
    kalshi = get_venue("kalshi").fee_model()
    assert kalshi.fee([(5000, SIZE_SCALE)]) == MONEY_SCALE * 2 // 100
    assert kalshi.fee([(5000, 100 * SIZE_SCALE)]) == MONEY_SCALE * 175 // 100
    assert kalshi.fee([(5000, 50 * SIZE_SCALE), (5000, 50 * SIZE_SCALE)]) == MONEY_SCALE * 175 // 100
    for rate, dollars in (("0.07", "1.75"), ("0.05", "1.25"), ("0.04", "1.00"), ("0", "0")):
        poly = get_venue("polymarket").fee_model(rate=rate)
        assert poly.fee([(5000, 100 * SIZE_SCALE)]) == int(Decimal(dollars) * MONEY_SCALE)
