"""Property tests of the depth walk: brute force over every size agrees with it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hadron.arb.walk import (
    Limits,
    best_size,
    best_size_legs,
    fills_for,
    net_for,
    net_for_legs,
)
from hadron.model.fees import MONEY_SCALE, FeeModel, NoFee
from hadron.model.units import PRICE_ONE, SIZE_SCALE
from hadron.venues.base import get_venue

LOT = SIZE_SCALE


def ladder() -> st.SearchStrategy[list[tuple[int, int]]]:
    level = st.tuples(st.integers(1, 99).map(lambda c: c * 100), st.integers(1, 8).map(lambda n: n * LOT))
    return st.lists(level, min_size=0, max_size=5, unique_by=lambda lv: lv[0]).map(sorted)


FEE_MODELS: list[FeeModel] = [
    *(get_venue("kalshi").fee_model({"multiplier": m}) for m in ("1", "0.5", "2")),
    *(get_venue("polymarket").fee_model({"rate": r}) for r in ("0", "0.04", "0.07")),
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
    kalshi = get_venue("kalshi").fee_model({})
    assert kalshi.fee([(5000, SIZE_SCALE)]) == MONEY_SCALE * 2 // 100
    assert kalshi.fee([(5000, 100 * SIZE_SCALE)]) == MONEY_SCALE * 175 // 100
    assert kalshi.fee([(5000, 50 * SIZE_SCALE), (5000, 50 * SIZE_SCALE)]) == MONEY_SCALE * 175 // 100
    for rate, dollars in (("0.07", "1.75"), ("0.05", "1.25"), ("0.04", "1.00"), ("0", "0")):
        poly = get_venue("polymarket").fee_model({"rate": rate})
        assert poly.fee([(5000, 100 * SIZE_SCALE)]) == int(Decimal(dollars) * MONEY_SCALE)


class _LotByLot:
    """A fee model without the segment bound: the walk must step lot by lot over it."""

    def __init__(self, inner: FeeModel) -> None:
        self.inner = inner

    def fee(self, fills: Sequence[tuple[int, int]]) -> int:
        return self.inner.fee(fills)


def deep_ladder() -> st.SearchStrategy[list[tuple[int, int]]]:
    level = st.tuples(st.integers(1, 99).map(lambda c: c * 100), st.integers(1, 400).map(lambda n: n * LOT))
    return st.lists(level, min_size=1, max_size=4, unique_by=lambda lv: lv[0]).map(sorted)


deep_limits = st.builds(
    Limits,
    lot=st.sampled_from([LOT, 5 * LOT]),
    min_size=st.integers(0, 20).map(lambda n: n * LOT),
    max_cost=st.one_of(st.none(), st.integers(1, 300).map(lambda d: d * MONEY_SCALE)),
    min_profit=st.integers(0, 300).map(lambda c: c * MONEY_SCALE // 100),
    min_edge=st.integers(0, 30).map(lambda c: c * MONEY_SCALE // 1000),
)


@settings(max_examples=300, deadline=None)
@given(deep_ladder(), deep_ladder(), fee_models(), fee_models(), deep_limits)
def test_segment_walk_equals_lot_by_lot_walk_on_deep_books(
    a: list[tuple[int, int]], b: list[tuple[int, int]], fa: FeeModel, fb: FeeModel, lim: Limits
) -> None:
    fast = best_size(a, b, fa, fb, lim)
    slow = best_size(a, b, _LotByLot(fa), _LotByLot(fb), lim)
    assert fast == slow
    if fast is not None:
        assert fast.net == net_for(a, b, fa, fb, fast.size)
        assert fast.size % lim.lot == 0 and fast.size >= lim.min_size


def brute_legs(ladders: list[list[tuple[int, int]]], fees: list[FeeModel], lim: Limits) -> list[tuple[int, int]]:
    depth = min(sum(s for _, s in lad) for lad in ladders)
    out = []
    for size in range(lim.lot, depth + 1, lim.lot):
        if size < lim.min_size:
            continue
        net = net_for_legs(ladders, fees, size)
        cost = size * PRICE_ONE - net
        if lim.max_cost is not None and cost > lim.max_cost:
            continue
        if net > 0 and net >= lim.min_profit and net * SIZE_SCALE >= lim.min_edge * size:
            out.append((net, size))
    return out


def cheap_ladder() -> st.SearchStrategy[list[tuple[int, int]]]:
    level = st.tuples(st.integers(1, 40).map(lambda c: c * 100), st.integers(1, 12).map(lambda n: n * LOT))
    return st.lists(level, min_size=0, max_size=4, unique_by=lambda lv: lv[0]).map(sorted)


@settings(max_examples=300, deadline=None)
@given(st.lists(cheap_ladder(), min_size=3, max_size=5), fee_models(), limits)
def test_outcome_set_walk_matches_brute_force(ladders: list[list[tuple[int, int]]], fee: FeeModel, lim: Limits) -> None:
    fees = [fee] * len(ladders)
    result = best_size_legs(ladders, fees, lim)
    qualifying = brute_legs(ladders, fees, lim)
    if not qualifying:
        assert result is None
        return
    best_net = max(n for n, _ in qualifying)
    assert result is not None
    assert (result.net, result.size) == (best_net, min(s for n, s in qualifying if n == best_net))
    assert all(sum(s for _, s in fills) == result.size for fills in result.leg_fills)
    assert result.payout - result.cost == result.net > 0
