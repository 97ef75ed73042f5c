"""The paper portfolio: cash per venue, holdings per instrument side, P&L through settlement.

Money is int, 1/10,000,000,000 USD (:data:`~hadron.model.fees.MONEY_SCALE`); sizes int,
1/1,000,000 share; prices int, 1/10,000 USD. A holding is keyed by ``(instrument, from_bids)``:
``from_bids`` is the side bought through the complement of the instrument's book (Kalshi NO on
the YES book, or a Polymarket NO bought through the YES token's book). At settlement an
instrument resolves ``"yes"`` (it paid $1) or ``"no"``; a holding pays $1 a share when
``(result == "yes") != from_bids``.

Cash is exact: it moves only by fills (cost and fee), sales and settlement payouts, so the final
cash of each venue reconciles exactly with the fills and the payouts.

P&L in three parts (:meth:`Portfolio.breakdown`), beside the liquidation view (every open holding
at its bid, :meth:`Portfolio.market_value`):

* **realized**: sales and settlements, done;
* **locked**: hedged sets (holdings one share of each of which pays exactly $1 at settlement,
  e.g. Kalshi YES + the Polymarket token paying with Kalshi NO) valued at that payout, less what
  they cost with fees: ``shares × $1 − cost − fees``, known once both legs are filled;
* **mark-to-market**: what is not hedged, at its best bid, less its cost with fees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hadron.book.manager import BookManager, BookState
from hadron.model.units import PRICE_ONE


@dataclass(slots=True)
class Holding:
    """What is held of one instrument side.

    Attributes:
        venue / instrument / outcome: where and what (``outcome`` in the instrument's market terms).
        from_bids: see the module docstring.
        size: shares held, int, 1/1,000,000. cost: cost basis of ``size`` (fills and buy fees).
        realized: P&L realized on this holding (sales and settlement), money units.
        settled: the instrument has resolved; ``result`` is its result.
    """

    venue: str
    instrument: str
    outcome: str
    from_bids: bool
    size: int = 0
    cost: int = 0
    realized: int = 0
    settled: bool = False
    result: str = ""


HoldingKey = tuple[str, bool]
"""``(instrument, from_bids)``: a holding (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class PnLBreakdown:
    """P&L in three parts; every amount int, money units (1/10,000,000,000 USD).

    Attributes:
        realized: realized by sales and settlements (:meth:`Portfolio.realized`).
        locked: hedged shares at their settlement payout ($1 per hedged set) less their cost and
            fees; a set's cost is its holdings' cost basis pro rata (exact when the whole holding
            is hedged; rounded up otherwise, so it is never overstated).
        mark_to_market: open shares not hedged at their best bid (the last known one when the book
            is not LIVE, else 0) less the rest of the cost basis.
        hedged: hedged sets held, int, 1/1,000,000 share. payout: what they pay at settlement.
    """

    realized: int = 0
    locked: int = 0
    mark_to_market: int = 0
    hedged: int = 0
    payout: int = 0

    @property
    def total(self) -> int:
        """``realized + locked + mark_to_market``: the P&L if every hedge is held to settlement."""
        return self.realized + self.locked + self.mark_to_market


@dataclass(slots=True)
class Portfolio:
    """Cash, holdings and P&L of one paper run.

    Attributes:
        cash: per venue, money units. initial_cash: the same at the start.
        holdings: by ``(instrument, from_bids)``.
        fees: every fee paid, money units. payouts: every settlement payout, money units.
    """

    cash: dict[str, int]
    initial_cash: dict[str, int] = field(default_factory=dict)
    holdings: dict[tuple[str, bool], Holding] = field(default_factory=dict)
    fees: int = 0
    payouts: int = 0

    def __post_init__(self) -> None:
        if not self.initial_cash:
            self.initial_cash = dict(self.cash)

    def holding(self, venue: str, instrument: str, outcome: str, from_bids: bool) -> Holding:
        """The holding of ``(instrument, from_bids)``, created empty if needed."""
        key = (instrument, from_bids)
        held = self.holdings.get(key)
        if held is None:
            held = self.holdings[key] = Holding(venue, instrument, outcome, from_bids)
        return held

    def buy(self, held: Holding, size: int, cost: int, fee: int) -> None:
        """Add a buy fill: ``size`` shares costing ``cost`` plus ``fee`` (money units)."""
        self.cash[held.venue] = self.cash.get(held.venue, 0) - cost - fee
        self.fees += fee
        held.size += size
        held.cost += cost + fee

    def sell(self, held: Holding, size: int, proceeds: int, fee: int) -> int:
        """Add a sell fill of ``size`` held shares for ``proceeds`` less ``fee``; return the realized P&L.

        Raises:
            ValueError: selling more than is held.
        """
        if size > held.size:
            raise ValueError(f"cannot sell {size} of {held.instrument}: {held.size} held")
        basis = held.cost * size // held.size if held.size else 0
        self.cash[held.venue] = self.cash.get(held.venue, 0) + proceeds - fee
        self.fees += fee
        held.size -= size
        held.cost -= basis
        pnl = proceeds - fee - basis
        held.realized += pnl
        return pnl

    def settle(self, instrument: str, result: str) -> int:
        """Resolve ``instrument`` (``"yes"``: it paid $1, ``"no"``: it did not); pay its holdings
        and return the payout, money units. Settling twice pays once."""
        payout = 0
        for from_bids in (False, True):
            held = self.holdings.get((instrument, from_bids))
            if held is None or held.settled:
                continue
            pays = (result == "yes") != from_bids
            amount = held.size * PRICE_ONE if pays else 0
            self.cash[held.venue] = self.cash.get(held.venue, 0) + amount
            held.realized += amount - held.cost
            held.size = 0
            held.cost = 0
            held.settled = True
            held.result = result
            payout += amount
        self.payouts += payout
        return payout

    # -- valuation ---------------------------------------------------------------------------

    @staticmethod
    def mark(books: BookManager, held: Holding) -> int | None:
        """The price one share of ``held`` sells for now (its best bid), or ``None`` without a LIVE book."""
        book = books.get(held.instrument)
        if book is None or book.state is not BookState.LIVE:
            return None
        if held.from_bids:
            ask = book.best_ask_price
            return PRICE_ONE - ask if ask < PRICE_ONE else 0
        return book.best_bid_price

    def market_value(self, books: BookManager, last_marks: dict[tuple[str, bool], int] | None = None) -> int:
        """Value of every open holding at its best bid (the last known mark when its book is not
        LIVE; ``last_marks`` is updated), money units."""
        total = 0
        for key, held in self.holdings.items():
            if held.settled or not held.size:
                continue
            price = self.mark(books, held)
            if price is None:
                price = last_marks.get(key, 0) if last_marks is not None else 0
            elif last_marks is not None:
                last_marks[key] = price
            total += held.size * price
        return total

    def breakdown(
        self,
        books: BookManager,
        hedges: Iterable[tuple[tuple[HoldingKey, ...], int]],
        last_marks: Mapping[HoldingKey, int] | None = None,
    ) -> PnLBreakdown:
        """Realized, locked and mark-to-market P&L (see :class:`PnLBreakdown`).

        Args:
            books: the books the unhedged holdings are marked on.
            hedges: ``(holding keys, shares)``: sets of open holdings of which one share each
                pays exactly $1 at settlement, and how many such sets are held (1/1,000,000
                share). A set is capped by what its holdings still hold (after earlier sets).
            last_marks: the last known mark of each holding, for books not LIVE (read only).
        """
        free = {key: held.size for key, held in self.holdings.items() if not held.settled and held.size > 0}
        hedged = payout = 0
        for keys, shares in hedges:
            if not keys or any(key not in free for key in keys):
                continue
            n = min(shares, *(free[key] for key in keys))
            if n <= 0:
                continue
            for key in keys:
                free[key] -= n
            hedged += n
            payout += n * PRICE_ONE
        locked_cost = mark_to_market = 0
        for key, left in free.items():
            held = self.holdings[key]
            cost_hedged = -(-held.cost * (held.size - left) // held.size)  # rounded up
            locked_cost += cost_hedged
            if left:
                price = self.mark(books, held)
                if price is None:
                    price = last_marks.get(key, 0) if last_marks is not None else 0
                mark_to_market += left * price - (held.cost - cost_hedged)
        return PnLBreakdown(
            realized=self.realized(),
            locked=payout - locked_cost,
            mark_to_market=mark_to_market,
            hedged=hedged,
            payout=payout,
        )

    def total_cash(self) -> int:
        """Cash over every venue, money units."""
        return sum(self.cash.values())

    def open_cost(self) -> int:
        """Cost basis of every open holding, money units."""
        return sum(h.cost for h in self.holdings.values() if not h.settled)

    def realized(self) -> int:
        """P&L realized by sales and settlements, money units."""
        return sum(h.realized for h in self.holdings.values())
