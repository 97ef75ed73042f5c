"""The depth walk: the best equal share count to buy on ask ladders that pay $1 together.

Legs that pay complementary outcomes (YES on one venue and NO on the other; YES and NO of one
market; or YES of every outcome of a mutually exclusive, exhaustive event) pay exactly $1 per
share set at settlement. Buying ``q`` shares on each leg, walking each ask ladder from its best
level, costs the sum of the fills plus each leg's fees; the net profit is

    net(q) = q × $1 − Σ_legs cost_i(q) − Σ_legs fee_i(fills_i(q))

Money in this module is an int in :data:`~hadron.model.fees.MONEY_SCALE` units per USD
(1/10,000,000,000 USD), which is exactly price (1/10,000 USD) × size (1/1,000,000 share): a
fill's cost ``price × size`` needs no rounding, and every venue fee (whole cents, or 1/1,000,000
USD) converts exactly.

What :func:`best_size` (two legs) and :func:`best_size_legs` (any number) implement: among the
sizes ``q`` that are multiples of ``lot``, at least ``min_size``, within every ladder's depth and
whose cost is at most ``max_cost``, the one with the **largest net profit** among those that
qualify (net > 0, net ≥ ``min_profit``, net per share ≥ ``min_edge``), the smallest such ``q`` on a
tie. Maximizing net (not size) is what a taker wants: past the point where the marginal share set
loses money, more size only gives back profit.

The search is exact, not a heuristic. It stops only when no larger size can do better: when the
next lot's gross edge ``$1 − Σ p_i`` is ≤ 0 (the ladders only get worse and fees never decrease
with size, so ``net`` can only fall and ``net / q`` with it), when the cost would exceed
``max_cost`` (cost only grows), or when a ladder runs out. Within a *segment* (the sizes over
which every leg stays on one price level) prices are constant and a fee's exact value grows
linearly; only its rounding wanders, within a bound the fee model states
(:class:`~hadron.model.fees.SegmentFee`). So per segment the walk solves the thresholds as linear inequalities in
the lot count, and evaluates exactly (real fills, real fee calls) only the sizes whose upper
bound can still beat the best so far: typically one or two per segment, instead of every lot.
Fee models that do not state their bound are walked lot by lot (same result, slower).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from hadron.model.events import Level
from hadron.model.fees import FeeModel, SegmentFee
from hadron.model.units import PRICE_ONE, SIZE_SCALE


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What a walk result must satisfy to qualify.

    Attributes:
        lot: size increment, int, 1/1,000,000 share (> 0); every leg trades a multiple of it.
        min_size: smallest size, int, 1/1,000,000 share (the largest of the legs' minimum orders).
        max_cost: largest cost including fees, int, money units; ``None`` for no limit.
        min_profit: smallest net profit, int, money units (a result must also be > 0).
        min_edge: smallest net profit per share, int, money units per whole share.
    """

    lot: int = SIZE_SCALE
    min_size: int = 0
    max_cost: int | None = None
    min_profit: int = 0
    min_edge: int = 0

    def __post_init__(self) -> None:
        if self.lot <= 0:
            raise ValueError(f"lot must be > 0, got {self.lot}")


@dataclass(frozen=True, slots=True)
class WalkResult:
    """The chosen size and its figures (money in money units, see :data:`~hadron.model.fees.MONEY_SCALE`).

    Attributes:
        size: shares bought on each leg, int, 1/1,000,000 share.
        leg_fills: each leg's fills ``(price, size)``, best price first; sizes sum to ``size``.
        leg_costs: each leg's fill cost, fees excluded.
        leg_fees: each leg's order fee.
        payout: ``size`` × $1, paid at settlement.
        net: ``payout − Σ leg_costs − Σ leg_fees`` (> 0).
    """

    size: int
    leg_fills: tuple[tuple[Level, ...], ...]
    leg_costs: tuple[int, ...]
    leg_fees: tuple[int, ...]
    payout: int
    net: int

    @property
    def fills_a(self) -> tuple[Level, ...]:
        """The first leg's fills."""
        return self.leg_fills[0]

    @property
    def fills_b(self) -> tuple[Level, ...]:
        """The second leg's fills."""
        return self.leg_fills[1]

    @property
    def cost_a(self) -> int:
        """The first leg's fill cost, money units."""
        return self.leg_costs[0]

    @property
    def cost_b(self) -> int:
        """The second leg's fill cost, money units."""
        return self.leg_costs[1]

    @property
    def fee_a(self) -> int:
        """The first leg's fee, money units."""
        return self.leg_fees[0]

    @property
    def fee_b(self) -> int:
        """The second leg's fee, money units."""
        return self.leg_fees[1]

    @property
    def cost(self) -> int:
        """Total outlay: every leg's fills and fees, money units."""
        return sum(self.leg_costs) + sum(self.leg_fees)

    @property
    def fees(self) -> int:
        """Every leg's fees, money units."""
        return sum(self.leg_fees)

    @property
    def edge(self) -> int:
        """Net profit per whole share, money units (floor of ``net × 1 share / size``)."""
        return self.net * SIZE_SCALE // self.size


def fills_for(ladder: Sequence[Level], size: int) -> tuple[tuple[Level, ...], int]:
    """Fill ``size`` against ``ladder`` (asks, best first).

    Args:
        ladder: ``(price, size)`` levels, best first; price 1/10,000 USD, size 1/1,000,000.
        size: int, 1/1,000,000 share, ≥ 0.

    Returns:
        ``(fills, cost)``: the fills (the last one partial if need be) and their cost in money units.

    Raises:
        ValueError: ``size`` exceeds the ladder's depth.
    """
    fills: list[Level] = []
    cost = 0
    left = size
    for price, available in ladder:
        if left <= 0:
            break
        take = min(left, available)
        fills.append((price, take))
        cost += price * take
        left -= take
    if left > 0:
        raise ValueError(f"size {size} exceeds the ladder's depth")
    return tuple(fills), cost


def net_for(ladder_a: Sequence[Level], ladder_b: Sequence[Level], fee_a: FeeModel, fee_b: FeeModel, size: int) -> int:
    """Return the net profit (money units) of buying ``size`` on both ladders; see the module doc."""
    return net_for_legs((ladder_a, ladder_b), (fee_a, fee_b), size)


def net_for_legs(ladders: Sequence[Sequence[Level]], fees: Sequence[FeeModel], size: int) -> int:
    """Return the net profit (money units) of buying ``size`` on every ladder; see the module doc."""
    net = size * PRICE_ONE
    for ladder, model in zip(ladders, fees, strict=True):
        fills, cost = fills_for(ladder, size)
        net -= cost + model.fee(fills)
    return net


def _qualifies(net: int, size: int, limits: Limits) -> bool:
    return net > 0 and net >= limits.min_profit and net * SIZE_SCALE >= limits.min_edge * size


def _first_size(limits: Limits) -> int:
    lot = limits.lot
    return max(lot, -(-limits.min_size // lot) * lot)


class _Cursor:
    """Fills an ask ladder a step at a time, keeping the fills and cost so far (O(1) per level).

    With a :class:`~hadron.model.fees.SegmentFee` it also keeps the raw fee of the levels it has used up, so the
    order's fee at any point of the current level costs O(1).
    """

    __slots__ = ("cost", "fills", "i", "ladder", "model", "raw", "used")

    def __init__(self, ladder: Sequence[Level], model: SegmentFee | None = None) -> None:
        self.ladder = ladder
        self.model = model
        self.i = 0
        self.used = 0
        self.cost = 0
        self.raw = 0
        self.fills: list[Level] = []

    def take(self, amount: int) -> bool:
        # Consume ``amount`` more; False when the ladder runs out first
        ladder = self.ladder
        while amount > 0:
            if self.i >= len(ladder):
                return False
            price, available = ladder[self.i]
            take = min(available - self.used, amount)
            if self.model is None:  # the segment walk needs no fills list (its fee is O(1))
                if self.used:
                    self.fills[-1] = (price, self.fills[-1][1] + take)
                else:
                    self.fills.append((price, take))
            self.cost += price * take
            self.used += take
            amount -= take
            if self.used == available:
                if self.model is not None:
                    self.raw += self.model.fill_raw(price, available)
                self.i += 1
                self.used = 0
        return True

    def next_price(self) -> int | None:
        # The price of the next unit to fill
        return self.ladder[self.i][0] if self.i < len(self.ladder) else None

    def room(self) -> int:
        # Size left on the current level
        return self.ladder[self.i][1] - self.used

    def total_with(self, extra: int) -> int:
        # Cost plus fee (money units) after ``extra`` more on the current level, without moving;
        # needs the SegmentFee model
        model = self.model
        assert model is not None
        size = self.used + extra
        if not size:
            return self.cost + model.order_fee(self.raw)
        price = self.ladder[self.i][0]
        return self.cost + price * extra + model.order_fee(self.raw + model.fill_raw(price, size))


def _k_range(lo: int, hi: int, alpha: int, beta: int) -> tuple[int, int]:
    # Narrow [lo, hi] to the integers k with alpha + beta × k ≥ 0
    if beta > 0:
        lo = max(lo, -(alpha // beta))
    elif beta < 0:
        hi = min(hi, alpha // -beta)
    elif alpha < 0:
        return 1, 0
    return lo, hi


@dataclass(slots=True)
class _Segments:
    """What a segment walk needs about its legs' fee models, worked out once per walk."""

    models: Sequence[SegmentFee]
    den: int  # common denominator of the marginal fees
    scales: list[int]  # den // each model's marginal_den
    width: int  # Σ rounding bounds, money units


def _segments(fees: Sequence[FeeModel]) -> _Segments | None:
    # The fee models as SegmentFee when every one is; None otherwise (walk lot by lot)
    if not all(hasattr(m, "fill_raw") and hasattr(m, "marginal") for m in fees):
        return None
    models = cast("list[SegmentFee]", list(fees))
    den = 1
    for model in models:
        den *= model.marginal_den
    return _Segments(models, den, [den // m.marginal_den for m in models], sum(m.rounding for m in models))


def _end_wins(seg: _Segments, limits: Limits, total: int, steps: int, slope: int) -> bool:
    # True when net rises by more than the rounding can hide at every lot (slope per size unit,
    # × den) and the segment's end (k = steps + 1) is affordable: the end, evaluated next, beats
    # every size inside
    den, lot, max_cost = seg.den, limits.lot, limits.max_cost
    if slope * lot <= 2 * seg.width * den or limits.min_edge:
        return False
    if max_cost is None:
        return True
    return (total + seg.width) * den + (steps + 1) * lot * (PRICE_ONE * den - slope) <= max_cost * den


def _candidate_range(
    seg: _Segments,
    limits: Limits,
    size: int,
    total: int,
    steps: int,
    slope: int,
    upper: int,
    best: tuple[int, int] | None,
) -> tuple[int, int]:
    # The k in 1..steps whose bounds pass every threshold and can reach the best so far
    den, lot, max_cost = seg.den, limits.lot, limits.max_cost
    per_lot = slope * lot
    lo, hi = _k_range(1, steps, upper - max(1, limits.min_profit) * den, per_lot)
    if limits.min_edge:
        # net per share ≥ min_edge: U(k) × SIZE_SCALE ≥ min_edge × (size + k × lot)
        edge_alpha = upper * SIZE_SCALE - limits.min_edge * size * den
        lo, hi = _k_range(lo, hi, edge_alpha, per_lot * SIZE_SCALE - limits.min_edge * lot * den)
    if max_cost is not None:
        # lower bound of the cost: total + k × lot × ($1 − slope) − width ≤ max_cost
        lo, hi = _k_range(lo, hi, (max_cost - total + seg.width) * den, -(PRICE_ONE * den - slope) * lot)
    if best is not None:
        lo, hi = _k_range(lo, hi, upper - best[0] * den, per_lot)
    return lo, hi


def _scan_segment(
    cursors: list[_Cursor],
    seg: _Segments,
    size: int,
    net: int,
    total: int,
    steps: int,
    limits: Limits,
    best: tuple[int, int] | None,
) -> tuple[int, int] | None:
    """Best (net, size) over ``size + k × lot`` for k in 1..steps, every leg on its current level.

    ``net`` and ``total`` are the exact figures at ``size``. Net there is
    ``net + k × lot × slope ± width``; the thresholds become ranges of k, and only the k whose
    upper bound reaches the best so far are evaluated exactly, best bound first.
    """
    lot = limits.lot
    den = seg.den
    # slope of net per size unit, × den: $1 − Σ prices − Σ marginal fees
    slope = PRICE_ONE * den
    for cursor, model, scale in zip(cursors, seg.models, seg.scales, strict=True):
        price = cursor.ladder[cursor.i][0]
        slope -= price * den + model.marginal(price) * scale
    if _end_wins(seg, limits, total, steps, slope):
        return best
    per_lot = slope * lot  # net growth per lot, × den
    upper = (net + seg.width) * den  # upper bound of net at k = 0, × den (then + k × per_lot)
    lo, hi = _candidate_range(seg, limits, size, total, steps, slope, upper, best)
    if lo > hi:
        return best
    max_cost = limits.max_cost
    descending = per_lot > 0
    for k in range(hi, lo - 1, -1) if descending else range(lo, hi + 1):
        if best is not None and upper + k * per_lot < best[0] * den:
            break
        extra = k * lot
        candidate_total = 0
        for cursor in cursors:
            candidate_total += cursor.total_with(extra)
        if max_cost is not None and candidate_total > max_cost:
            if descending:
                continue
            break
        q = size + extra
        candidate = q * PRICE_ONE - candidate_total
        if _qualifies(candidate, q, limits) and (
            best is None or candidate > best[0] or (candidate == best[0] and q < best[1])
        ):
            best = (candidate, q)
    return best


def _gross(cursors: Sequence[_Cursor]) -> int:
    # $1 minus the next unit's prices (0 when a ladder has run out)
    gross = PRICE_ONE
    for cursor in cursors:
        price = cursor.next_price()
        if price is None:
            return 0
        gross -= price
    return gross


def best_size(
    ladder_a: Sequence[Level],
    ladder_b: Sequence[Level],
    fee_a: FeeModel,
    fee_b: FeeModel,
    limits: Limits,
) -> WalkResult | None:
    """Return the qualifying size with the largest net profit on two legs, or ``None``.

    Args:
        ladder_a / ladder_b: the two legs' ask ladders ``(price, size)``, best (lowest) first.
        fee_a / fee_b: each leg's :class:`~hadron.model.fees.FeeModel`.
        limits: lot, minimum size, capital and profit thresholds (:class:`Limits`).

    Returns:
        The :class:`WalkResult` of the chosen size (see the module docstring for the rule).
    """
    return best_size_legs((ladder_a, ladder_b), (fee_a, fee_b), limits)


def best_size_legs(ladders: Sequence[Sequence[Level]], fees: Sequence[FeeModel], limits: Limits) -> WalkResult | None:
    """Return the qualifying size with the largest net profit over every leg, or ``None``.

    Each leg buys the same size; together the legs pay $1 per share set at settlement (the
    caller's promise: complementary outcomes, or every outcome of one exclusive event).

    Args:
        ladders: each leg's ask ladder ``(price, size)``, best (lowest) first.
        fees: each leg's :class:`~hadron.model.fees.FeeModel` (:class:`~hadron.model.fees.SegmentFee`
            ones are walked a level at a time).
        limits: lot, minimum size, capital and profit thresholds (:class:`Limits`).

    Returns:
        The :class:`WalkResult` of the chosen size (see the module docstring for the rule).

    Raises:
        ValueError: no legs, or ``ladders`` and ``fees`` of different lengths.
    """
    if not ladders or len(ladders) != len(fees):
        raise ValueError(f"need one fee model per ladder and at least one leg, got {len(ladders)} and {len(fees)}")
    size = _first_size(limits)
    seg = _segments(fees)
    if seg is None:
        best = _walk_lots(ladders, fees, limits, size)
    elif len(ladders) == 2:
        best = _walk_two(ladders[0], ladders[1], seg, limits, size)
    else:
        best = _walk_segments(ladders, seg, limits, size)
    if best is None:
        return None
    return _result(ladders, fees, best[1])


def _walk_lots(
    ladders: Sequence[Sequence[Level]], fees: Sequence[FeeModel], limits: Limits, size: int
) -> tuple[int, int] | None:
    # Every lot in turn, the fee of each leg recomputed over its fills
    lot, max_cost = limits.lot, limits.max_cost
    cursors = [_Cursor(ladder) for ladder in ladders]
    if not all(cursor.take(size) for cursor in cursors):
        return None
    best: tuple[int, int] | None = None  # (net, size)
    while True:
        total = 0
        for cursor, model in zip(cursors, fees, strict=True):
            total += cursor.cost + model.fee(cursor.fills)
        if max_cost is not None and total > max_cost:
            break
        net = size * PRICE_ONE - total
        if _qualifies(net, size, limits) and (best is None or net > best[0]):
            best = (net, size)
        if _gross(cursors) <= 0 or not all(cursor.take(lot) for cursor in cursors):
            break
        size += lot
    return best


def _walk_segments(
    ladders: Sequence[Sequence[Level]], seg: _Segments, limits: Limits, size: int
) -> tuple[int, int] | None:
    # A level at a time: exact figures at each segment's ends, the inside solved (_scan_segment)
    lot, max_cost = limits.lot, limits.max_cost
    cursors = [_Cursor(ladder, model) for ladder, model in zip(ladders, seg.models, strict=True)]
    if not all(cursor.take(size) for cursor in cursors):
        return None
    best: tuple[int, int] | None = None  # (net, size)
    while True:
        total = 0
        for cursor in cursors:
            total += cursor.total_with(0)
        if max_cost is not None and total > max_cost:
            break
        net = size * PRICE_ONE - total
        if _qualifies(net, size, limits) and (best is None or net > best[0]):
            best = (net, size)
        if _gross(cursors) <= 0:
            break
        steps = max(1, min(cursor.room() for cursor in cursors) // lot)
        if steps > 1:
            best = _scan_segment(cursors, seg, size, net, total, steps - 1, limits, best)
        if not all(cursor.take(steps * lot) for cursor in cursors):
            break
        size += steps * lot
    return best


def _advance(cursor: _Cursor, amount: int) -> bool:
    # cursor.take(amount), with the common cases (stay on the level, finish it) inline
    ladder, i = cursor.ladder, cursor.i
    if i < len(ladder):
        price, available = ladder[i]
        left = available - cursor.used
        if amount < left:
            cursor.used += amount
            cursor.cost += price * amount
            return True
        if amount == left:
            model = cursor.model
            assert model is not None
            cursor.raw += model.fill_raw(price, available)
            cursor.cost += price * amount
            cursor.i = i + 1
            cursor.used = 0
            return True
    return cursor.take(amount)


def _next_segment(a: _Cursor, b: _Cursor, seg: _Segments, lot: int, skip_ok: bool) -> tuple[int, int, int | None]:
    # (gross edge of the next unit, whole lots left on both current levels, slope × den per size
    # unit when the segment rises by more than rounding can hide at every lot, else None)
    ladder_a, ladder_b, ia, ib = a.ladder, b.ladder, a.i, b.i
    if ia >= len(ladder_a) or ib >= len(ladder_b):
        return 0, 0, None
    price_a, depth_a = ladder_a[ia]
    price_b, depth_b = ladder_b[ib]
    gross = PRICE_ONE - price_a - price_b
    steps = min(depth_a - a.used, depth_b - b.used) // lot
    if gross <= 0 or not skip_ok or not steps:
        return gross, steps, None
    model_a, model_b = seg.models
    slope = gross * seg.den - model_a.marginal(price_a) * seg.scales[0] - model_b.marginal(price_b) * seg.scales[1]
    return gross, steps, (slope if slope * lot > 2 * seg.width * seg.den else None)


def _walk_two(
    ladder_a: Sequence[Level], ladder_b: Sequence[Level], seg: _Segments, limits: Limits, size: int
) -> tuple[int, int] | None:
    # _walk_segments for two legs, the hot case (cross-venue pairs, YES + NO), with its steps
    # inline. While the next segment's net rises by more than the rounding can hide at every lot
    # (and no min_edge asks for a per-share test), a point is beaten by the next lot: its net is
    # not worked out, only its cost when a capital limit applies.
    lot, max_cost = limits.lot, limits.max_cost
    a, b = _Cursor(ladder_a, seg.models[0]), _Cursor(ladder_b, seg.models[1])
    if not (a.take(size) and b.take(size)):
        return None
    den, skip_ok = seg.den, not limits.min_edge
    best: tuple[int, int] | None = None  # (net, size)
    while True:
        gross, steps, slope = _next_segment(a, b, seg, lot, skip_ok)
        total = 0
        if slope is None or max_cost is not None:
            total = a.total_with(0) + b.total_with(0)
            if max_cost is not None and total > max_cost:
                break
            affordable = (
                max_cost is None or (total + seg.width) * den + lot * (PRICE_ONE * den - (slope or 0)) <= max_cost * den
            )
            if slope is not None and not affordable:
                slope = None  # the next lot would beat this point, but it is not affordable
            if slope is None:
                net = size * PRICE_ONE - total
                if net > 0 and _qualifies(net, size, limits) and (best is None or net > best[0]):
                    best = (net, size)
        if gross <= 0:
            break
        if steps > 1:
            if slope is None or max_cost is not None:
                best = _scan_segment([a, b], seg, size, size * PRICE_ONE - total, total, steps - 1, limits, best)
        else:
            steps = 1
        amount = steps * lot
        if not (_advance(a, amount) and _advance(b, amount)):
            break
        size += amount
    return best


def _result(ladders: Sequence[Sequence[Level]], fees: Sequence[FeeModel], size: int) -> WalkResult:
    leg_fills, leg_costs, leg_fees = [], [], []
    for ladder, model in zip(ladders, fees, strict=True):
        fills, cost = fills_for(ladder, size)
        leg_fills.append(fills)
        leg_costs.append(cost)
        leg_fees.append(model.fee(fills))
    payout = size * PRICE_ONE
    net = payout - sum(leg_costs) - sum(leg_fees)
    return WalkResult(size, tuple(leg_fills), tuple(leg_costs), tuple(leg_fees), payout, net)


def no_ladder(bids: Sequence[Level]) -> list[Level]:
    """The NO ask ladder implied by a YES bid ladder: NO at ``1 − bid`` for the bid's size.

    Args:
        bids: YES bids ``(price, size)``, best (highest) first.

    Returns:
        NO asks ``(PRICE_ONE − price, size)``, best (lowest) first.
    """
    return [(PRICE_ONE - price, size) for price, size in bids]


__all__ = [
    "Limits",
    "WalkResult",
    "best_size",
    "best_size_legs",
    "fills_for",
    "net_for",
    "net_for_legs",
    "no_ladder",
]
