"""The depth walk: the best equal share count to buy on two ask ladders that pay $1 together.

Two legs that pay complementary outcomes (YES on one venue, NO on the other; or YES and NO of one
market) pay exactly $1 per share pair at settlement. Buying ``q`` shares of each, walking each ask
ladder from its best level, costs the sum of the fills plus each leg's fees; the net profit is

    net(q) = q × $1 − cost_a(q) − cost_b(q) − fee_a(fills_a(q)) − fee_b(fills_b(q))

Money in this module is an int in :data:`MONEY_SCALE` units per USD (1/10,000,000,000 USD), which
is exactly price (1/10,000 USD) × size (1/1,000,000 share): a fill's cost ``price × size`` needs
no rounding, and every venue fee (whole cents, or 1/1,000,000 USD) converts exactly.

What :func:`best_size` implements: among the sizes ``q`` that are multiples of ``lot``, at least
``min_size``, within both ladders' depth and whose cost is at most ``max_cost``, it returns the one
with the **largest net profit** among those that qualify (net > 0, net ≥ ``min_profit``, net per
share ≥ ``min_edge``), the smallest such ``q`` on a tie. Maximizing net (not size) is what a
taker wants: past the point where the marginal share pair loses money, more size only gives back
profit. The search is exact, not a heuristic: it evaluates every lot multiple in order (with running
fills and costs, so each step is cheap) and stops
only when no larger size can do better, i.e. when the next lot's gross edge ``$1 − p_a − p_b`` is
≤ 0 (the ladders only get worse and fees never decrease with size, so ``net`` can only fall and
``net / q`` with it), when the cost would exceed ``max_cost`` (cost only grows), or when a ladder
runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hadron.model.events import Level
from hadron.model.units import PRICE_ONE, PRICE_SCALE, SIZE_SCALE

MONEY_SCALE = PRICE_SCALE * SIZE_SCALE
"""Money units per USD: money is int, 1/10,000,000,000 USD (= price unit × size unit)."""


@runtime_checkable
class FeeModel(Protocol):
    """The taker fee of one order on one venue.

    ``fee(fills)``: ``fills`` are the order's ``(price, size)`` fills (price int, 1/10,000 USD;
    size int, 1/1,000,000 share), in the order they fill. Returns the whole order's fee, int,
    money units (:data:`MONEY_SCALE` per USD), never negative and never smaller for more fills.
    """

    def fee(self, fills: Sequence[Level]) -> int:
        """Return the fee of an order filled as ``fills``, in money units."""


class NoFee:
    """A :class:`FeeModel` that charges nothing (fee-free markets, tests)."""

    def fee(self, fills: Sequence[Level]) -> int:
        """Return 0."""
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What a walk result must satisfy to qualify.

    Attributes:
        lot: size increment, int, 1/1,000,000 share (> 0); both legs trade a multiple of it.
        min_size: smallest size, int, 1/1,000,000 share (the larger of the legs' minimum orders).
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
    """The chosen size and its figures (money in money units, see :data:`MONEY_SCALE`).

    Attributes:
        size: shares bought on each leg, int, 1/1,000,000 share.
        fills_a / fills_b: each leg's fills ``(price, size)``, best price first; sizes sum to ``size``.
        cost_a / cost_b: each leg's fill cost, fees excluded.
        fee_a / fee_b: each leg's order fee.
        payout: ``size`` × $1, paid at settlement.
        net: ``payout − cost_a − cost_b − fee_a − fee_b`` (> 0).
    """

    size: int
    fills_a: tuple[Level, ...]
    fills_b: tuple[Level, ...]
    cost_a: int
    cost_b: int
    fee_a: int
    fee_b: int
    payout: int
    net: int

    @property
    def cost(self) -> int:
        """Total outlay: both legs' fills and fees, money units."""
        return self.cost_a + self.cost_b + self.fee_a + self.fee_b

    @property
    def fees(self) -> int:
        """Both legs' fees, money units."""
        return self.fee_a + self.fee_b

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
    fills_a, cost_a = fills_for(ladder_a, size)
    fills_b, cost_b = fills_for(ladder_b, size)
    return size * PRICE_ONE - cost_a - cost_b - fee_a.fee(fills_a) - fee_b.fee(fills_b)


def _qualifies(net: int, size: int, limits: Limits) -> bool:
    return net > 0 and net >= limits.min_profit and net * SIZE_SCALE >= limits.min_edge * size


def _first_size(limits: Limits) -> int:
    lot = limits.lot
    return max(lot, -(-limits.min_size // lot) * lot)


def _price_at(ladder: Sequence[Level], size: int) -> int | None:
    # Price of the share that brings the filled size from ``size − 1 unit`` to ``size``
    depth = 0
    for price, available in ladder:
        depth += available
        if depth >= size:
            return price
    return None


class _Cursor:
    """Fills an ask ladder one lot at a time, keeping the fills and cost so far (O(1) per lot)."""

    __slots__ = ("cost", "fills", "i", "ladder", "used")

    def __init__(self, ladder: Sequence[Level]) -> None:
        self.ladder = ladder
        self.i = 0
        self.used = 0
        self.cost = 0
        self.fills: list[Level] = []

    def take(self, amount: int) -> bool:
        # Consume ``amount`` more; False when the ladder runs out first
        ladder = self.ladder
        while amount > 0:
            if self.i >= len(ladder):
                return False
            price, available = ladder[self.i]
            take = min(available - self.used, amount)
            if self.used:
                self.fills[-1] = (price, self.fills[-1][1] + take)
            else:
                self.fills.append((price, take))
            self.cost += price * take
            self.used += take
            amount -= take
            if self.used == available:
                self.i += 1
                self.used = 0
        return True

    def next_price(self) -> int | None:
        # The price of the next unit to fill
        return self.ladder[self.i][0] if self.i < len(self.ladder) else None


def best_size(
    ladder_a: Sequence[Level],
    ladder_b: Sequence[Level],
    fee_a: FeeModel,
    fee_b: FeeModel,
    limits: Limits,
) -> WalkResult | None:
    """Return the qualifying size with the largest net profit, or ``None`` if none qualifies.

    The walk keeps running fills and costs (each lot costs O(1) plus the two fee calls over the
    few fills touched so far), so its cost grows with the size walked, not with size × depth.

    Args:
        ladder_a / ladder_b: the two legs' ask ladders ``(price, size)``, best (lowest) first.
        fee_a / fee_b: each leg's :class:`FeeModel`.
        limits: lot, minimum size, capital and profit thresholds (:class:`Limits`).

    Returns:
        The :class:`WalkResult` of the chosen size (see the module docstring for the rule).
    """
    lot = limits.lot
    size = _first_size(limits)
    a, b = _Cursor(ladder_a), _Cursor(ladder_b)
    if not (a.take(size) and b.take(size)):
        return None
    best: tuple[int, int] | None = None  # (net, size)
    while True:
        fees = fee_a.fee(a.fills) + fee_b.fee(b.fills)
        if limits.max_cost is not None and a.cost + b.cost + fees > limits.max_cost:
            break
        net = size * PRICE_ONE - a.cost - b.cost - fees
        if _qualifies(net, size, limits) and (best is None or net > best[0]):
            best = (net, size)
        next_a, next_b = a.next_price(), b.next_price()
        if next_a is None or next_b is None or next_a + next_b >= PRICE_ONE:
            break
        if not (a.take(lot) and b.take(lot)):
            break
        size += lot
    if best is None:
        return None
    return _result(ladder_a, ladder_b, fee_a, fee_b, best[1])


def _result(
    ladder_a: Sequence[Level], ladder_b: Sequence[Level], fee_a: FeeModel, fee_b: FeeModel, size: int
) -> WalkResult:
    fills_a, cost_a = fills_for(ladder_a, size)
    fills_b, cost_b = fills_for(ladder_b, size)
    fa, fb = fee_a.fee(fills_a), fee_b.fee(fills_b)
    payout = size * PRICE_ONE
    return WalkResult(size, fills_a, fills_b, cost_a, cost_b, fa, fb, payout, payout - cost_a - cost_b - fa - fb)


def no_ladder(bids: Sequence[Level]) -> list[Level]:
    """The NO ask ladder implied by a YES bid ladder: NO at ``1 − bid`` for the bid's size.

    Args:
        bids: YES bids ``(price, size)``, best (highest) first.

    Returns:
        NO asks ``(PRICE_ONE − price, size)``, best (lowest) first.
    """
    return [(PRICE_ONE - price, size) for price, size in bids]


__all__ = ["MONEY_SCALE", "FeeModel", "Limits", "NoFee", "WalkResult", "best_size", "fills_for", "net_for", "no_ladder"]
