"""The paper trader: takes the detector's opportunities with both legs racing the real books.

For each opportunity it decides to take (opened, or updated after ``retake_ms``), the trader
asks the :class:`~hadron.paper.risk.RiskManager` for a size, then sends one order per leg. Each
order reaches its venue after that venue's latency (fixed or sampled with the seeded random
source) and fills there as a taker against the book **as it is at arrival** (the book manager's
event-time clock runs due orders before the next update is applied): IOC fills what the book
has up to the limit and cancels the rest, FOK fills all or nothing; the venue's exact fee model
prices every fill. Liquidity the trader has taken is not offered to it again until that book
changes.

When the legs fill unequal sizes, the unwind policy runs: ``retry`` sends the short leg again for
the difference (``retry_attempts`` times, each ``retry_slippage_ticks`` cents further), then sells
back whatever is still unhedged; ``sell_back`` sells the excess at the book at once; ``hold``
keeps it. Every unwind's cost is recorded against the pair.

A market that stops trading (the instrument registry sets its book's ``halted`` or ``close_ns``:
paused, closed, determined, settled) takes no new trade from that moment, and an order arriving
there after it is rejected with that reason (``market_closed``, …).

Settlement: a :class:`~hadron.model.events.MarketStatus` with a result (Kalshi
``market_lifecycle_v2``, Polymarket ``market_resolved``) settles the instrument when it arrives;
settlements from a file are applied at their time (or at the end). Money is int,
1/10,000,000,000 USD; sizes int, 1/1,000,000 share; prices int, 1/10,000 USD.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal

from hadron.arb.detector import ArbDetector
from hadron.arb.opportunity import Leg, Opportunity
from hadron.book.manager import BookManager, BookState
from hadron.exec.client import ExecutionClient, final_status
from hadron.exec.paper import PaperExecution
from hadron.model.events import Level, MarketStatus
from hadron.model.fees import FeeModel, NoFee
from hadron.model.orders import OrderState, OrderStateError, check_transition
from hadron.model.units import PRICE_ONE, SIZE_SCALE
from hadron.paper.config import PaperConfig, RiskLimits
from hadron.paper.orders import FillListener, OrderListener, PairTrade, PaperOrder, PaperStats, Role
from hadron.paper.portfolio import HoldingKey, PnLBreakdown, Portfolio
from hadron.paper.risk import Exposure, KillSwitch, LegAsk, RiskManager

CENT = 100
DAY_NS = 86_400 * 10**9
_END = 1 << 62  # settlements without a time are due when the run finishes


class PaperTrader:
    """Paper-trades a detector's opportunities on its books (see the module docstring).

    Args:
        books: the book manager (the trader listens to its event-time clock).
        detector: the arbitrage detector whose opportunities it takes.
        config: execution settings. limits: risk limits. kill: the kill switch (a new one by default).
        execution: where the orders go (:class:`~hadron.exec.client.ExecutionClient`); by default
            :class:`~hadron.exec.paper.PaperExecution` on ``books``. A live client
            (:class:`~hadron.exec.live.LiveExecution`) runs the same two-leg logic, unwind policy,
            risk limits and kill switch against the venues.
        client_prefix: the start of every client order id (live: unique per run, so the ids are
            unique per account).
        min_order_size: instrument id → its venue's minimum order (1/1,000,000); a trade the risk
            limits shrink below it, and retries and sales below it, are not sent (the venue would
            refuse them).
    """

    def __init__(
        self,
        books: BookManager,
        detector: ArbDetector,
        config: PaperConfig | None = None,
        limits: RiskLimits | None = None,
        *,
        kill: KillSwitch | None = None,
        execution: ExecutionClient | None = None,
        client_prefix: str = "",
        min_order_size: dict[str, int] | None = None,
    ) -> None:
        self.books = books
        self.min_order_size = dict(min_order_size or {})
        self.venue_cash: dict[str, int] = {}
        """Live: venue → the account's free cash there as the venue last said (money units),
        which the cash check uses instead of the portfolio's (a venue may free cash the paper
        model does not: Kalshi nets a YES and a NO of one market into $1)."""
        """Instrument id → the smallest order its venue takes (1/1,000,000; a Polymarket market's
        minimum): a trade shrunk below it, a retry or a sale below it is not sent."""
        self.config = config or PaperConfig()
        self.limits = limits or RiskLimits()
        self.kill = kill or KillSwitch(self.limits.kill_file)
        self.risk = RiskManager(self.limits, self.kill)
        self.portfolio = Portfolio(dict(self.config.initial_cash))
        self.stats = PaperStats()
        self.rng = random.Random(self.config.seed)  # noqa: S311 - a simulation, reproducible by seed
        self.lot = detector.thresholds.lot
        self.trades: list[PairTrade] = []
        self._trades_by_id: dict[str, PairTrade] = {}
        self.orders: list[PaperOrder] = []
        self.equity: list[tuple[int, int, int, int]] = []  # (ts_ns, equity, realized, unrealized)
        self.fill_listeners: list[FillListener] = []
        self.order_listeners: list[OrderListener] = []
        self.now_ns = 0
        self._queue: list[tuple[int, int, Any]] = []  # (due ns, seq, callback(due) or settlement)
        self._serial = 0
        self._taken_at: dict[str, int] = {}  # candidate key (opportunity id prefix) → last take
        self._busy: set[str] = set()  # candidate keys with a working trade
        self._taken: set[str] = set()
        self._consumed: dict[tuple[str, bool, str], tuple[int, dict[int, int]]] = {}
        self._marks: dict[tuple[str, bool], int] = {}
        self.client_prefix = client_prefix
        self.execution: ExecutionClient = execution or PaperExecution(books, self.kill, self._schedule)
        self.execution.bind(self)
        self._next_equity = 0
        self._day = -1
        self._day_start_equity = 0
        self.kill.add_listener(self._on_kill)
        detector.add_listener(self.on_opportunity)
        books.add_clock_listener(self.advance)

    # -- decisions ---------------------------------------------------------------------------

    def on_opportunity(self, opportunity: Opportunity, change: str) -> None:
        """Detector listener: take ``opportunity`` when it opens (or updates after ``retake_ms``)."""
        if change == "opened":
            self.stats.opportunities_seen += 1
        if change == "closed":
            # forget it: a long run must not grow with every opportunity it ever saw
            self._taken_at.pop(opportunity.id, None)
            self._taken.discard(opportunity.id)
            return
        key = opportunity.id.rsplit("/", 1)[0]
        if key in self._busy:
            return
        last = self._taken_at.get(opportunity.id)
        now = opportunity.last_ns
        if last is not None and now - last < self.config.retake_ms * 1_000_000:
            return
        self.stats.decisions += 1
        self._decide(opportunity, key, now)

    def _decide(self, opportunity: Opportunity, key: str, now: int) -> None:
        halted = self.execution.halted
        if halted is not None:
            self.stats.rejections["halted"] += 1  # new orders refused until the operator resumes
            return
        size = opportunity.size
        legs = opportunity.legs
        asks = []
        for leg in legs:
            book = self.books.get(leg.instrument)
            if book is not None and (book.halted is not None or now >= book.close_ns):
                self.stats.rejections[book.halted or "market_closed"] += 1  # not traded from its close on
                return
            live = book is not None and book.state is BookState.LIVE
            age = now - book.ts_recv if book is not None else 1 << 62
            per_share = (leg.cost + leg.fee) * SIZE_SCALE // max(1, leg.size)
            asks.append(LegAsk(leg.venue, leg.instrument, per_share, live, age, self._free_cash(leg.venue)))
        exposure = self._exposure(opportunity.pair)
        allowed, reason = self.risk.allowed_size(size, self.lot, asks, exposure, new_pair=True)
        if allowed < self.lot:
            why = reason or "below_minimum"
            self.stats.rejections[why] += 1
            return
        if not all(self._orderable(leg, allowed) for leg in legs):
            self.stats.rejections["below_min_order_size"] += 1  # shrunk below what a venue accepts
            return
        if reason is not None:
            self.stats.downsized[reason] += 1
        trade = PairTrade(
            trade_id=f"t{len(self.trades) + 1}",
            opportunity_id=opportunity.id,
            pair=opportunity.pair,
            kind=opportunity.kind,
            legs=list(legs),
            size=allowed,
            planned_net=opportunity.net * allowed // opportunity.size,
            created_ns=now,
            filled=[0] * len(legs),
            retries_left=self.config.retry_attempts if self.config.unwind == "retry" else 0,
        )
        self.trades.append(trade)
        self._trades_by_id[trade.trade_id] = trade
        self._busy.add(key)
        self._taken_at[opportunity.id] = now
        if opportunity.id not in self._taken:
            self._taken.add(opportunity.id)
            self.stats.opportunities_taken += 1
        slip = self.config.slippage_ticks * CENT
        for index, leg in enumerate(legs):
            worst = max(price for price, _ in leg.fills)
            self._send(trade, index, "entry", "buy", min(PRICE_ONE, worst + slip), allowed, now)

    # -- orders ------------------------------------------------------------------------------

    def _send(self, trade: PairTrade, index: int, role: Role, side: Literal["buy", "sell"], limit: int,
              size: int, now: int) -> PaperOrder:  # fmt: skip
        leg = trade.legs[index]
        latency = self.config.latency.get(leg.venue)
        arrival = now + (latency.sample_ns(self.rng) if latency is not None else 0)
        order = PaperOrder(
            order_id=f"{trade.trade_id}-{len(trade.orders) + 1}",
            trade_id=trade.trade_id,
            opportunity_id=trade.opportunity_id,
            role=role,
            leg=index,
            venue=leg.venue,
            instrument=leg.instrument,
            outcome=leg.outcome,
            from_bids=leg.from_bids,
            side=side,
            limit=limit,
            size=size,
            tif=self.config.tif if role == "entry" else "IOC",
            created_ns=now,
            arrival_ns=arrival,
            fee_model=leg.fee_model or NoFee(),
        )
        order.client_order_id = f"{self.client_prefix}{order.order_id}"
        trade.orders.append(order)
        self.orders.append(order)
        self.stats.orders += 1
        for listener in self.order_listeners:
            listener(order)
        self.execution.submit(order)
        return order

    def _schedule(self, due: int, callback: Callable[[int], None]) -> None:
        # The event-time clock runs ``callback(due)`` at ``due`` (paper orders' arrivals)
        heapq.heappush(self._queue, (due, self._next_seq(), callback))

    def _next_seq(self) -> int:
        self._serial += 1
        return self._serial

    def advance(self, now_ns: int) -> None:
        """The event-time clock: run every order and settlement due at or before ``now_ns``
        (against the books as they are, before the update at ``now_ns`` is applied)."""
        if now_ns > self.now_ns:
            self.now_ns = now_ns
        queue = self._queue
        while queue and queue[0][0] <= now_ns:
            due, _, item = heapq.heappop(queue)
            if callable(item):
                item(due)
            else:
                instrument, result = item
                self._settle(instrument, result, due)
        if now_ns >= self._next_equity:
            self._sample_equity(now_ns)

    def finish(self) -> None:
        """Run everything still queued: orders (and the retries and sales they lead to) at their
        arrival times, then settlements without a time; then take a last equity point."""
        queue = self._queue
        while queue:
            due, _, item = queue[0]
            if not callable(item) and not self._holds(item[0]):
                heapq.heappop(queue)  # a settlement of something not held: no time passes for it
                continue
            if due >= _END:
                _, _, (instrument, result) = heapq.heappop(queue)
                self._settle(instrument, result, self.now_ns)
                continue
            self.advance(max(self.now_ns, due))
        self._sample_equity(self.now_ns, force=True)

    # -- what the execution client reports (ExecutionSink) -------------------------------------

    def on_fills(self, order: PaperOrder, fills: list[Level], fee: int, now: int) -> None:
        """``order`` filled ``fills`` (``(price, size)`` in its outcome's terms) for ``fee``
        (1/10,000,000,000 USD) at ``now``: the portfolio, the trade's exposure, the listeners."""
        if not fills or order.status != "working":
            return
        filled = sum(size for _, size in fills)
        value = sum(price * size for price, size in fills)
        held = self.portfolio.holding(order.venue, order.instrument, order.outcome, order.from_bids)
        trade = self._trade(order.trade_id)
        if order.side == "buy":
            self.portfolio.buy(held, filled, value, fee)
            trade.exposure += value + fee
        else:
            filled = min(filled, held.size)
            pnl = self.portfolio.sell(held, filled, value, fee)
            trade.unwind_cost -= pnl
            trade.exposure = max(0, trade.exposure - (value - fee - pnl))
        order.filled += filled
        order.cost += value
        order.fee += fee
        order.fills.extend(fills)
        self._move(order, OrderState.PARTIALLY_FILLED if order.filled < order.size else order.state)
        self.stats.fills += len(fills)
        for listener in self.fill_listeners:
            for n, fill in enumerate(fills):
                listener(order, fill, fee if n == len(fills) - 1 else 0, now)
        self._sample_equity(max(now, self.now_ns), force=True)

    def on_done(self, order: PaperOrder, state: OrderState, reason: str, now: int) -> None:
        """``order`` ended in ``state`` (every fill reported before): the trade's race goes on."""
        if order.status != "working":
            return
        self._move(order, state)
        self._done(order, final_status(state, order.filled), reason, now)

    def on_accepted(self, order: PaperOrder) -> None:
        """The venue took ``order`` (live): pending → accepted."""
        if order.state is OrderState.PENDING:
            self._move(order, OrderState.ACCEPTED)

    def _move(self, order: PaperOrder, state: OrderState) -> None:
        if state is order.state and state is not OrderState.PARTIALLY_FILLED:
            return
        try:
            check_transition(order.state, state)
        except OrderStateError:
            return  # a late or repeated answer: the order keeps the state it reached
        order.state = state

    def _done(self, order: PaperOrder, status: str, reason: str, now: int) -> None:
        order.status, order.reason, order.done_ns = status, reason, now
        self.stats.orders_done[status] += 1
        for listener in self.order_listeners:
            listener(order)
        trade = self._trade(order.trade_id)
        if order.side == "buy":
            trade.filled[order.leg] += order.filled
        if order.role == "entry" and order.filled < order.size:
            trade.legs_failed += 1
        if order.role == "retry" and order.filled:
            planned = trade.legs[order.leg]
            planned_per = (planned.cost + planned.fee) * order.filled // max(1, planned.size)
            trade.unwind_cost += order.cost + order.fee - planned_per
        if all(o.status != "working" for o in trade.orders):
            self._resolve(trade, now)

    def _trade(self, trade_id: str) -> PairTrade:
        return self._trades_by_id[trade_id]

    def _resolve(self, trade: PairTrade, now: int) -> None:
        # Every order of the trade is done: hedged, or run the unwind policy
        held = [self._held_size(trade, i) for i in range(len(trade.legs))]
        high, low = max(held), min(held)
        if high == low:
            bought = any(o.filled for o in trade.orders if o.side == "buy")
            trade.state = "hedged" if high else ("unwound" if bought else "missed")
            self._release(trade)
            return
        if self.kill.engaged or self.config.unwind == "hold":
            trade.state = "imbalanced"
            self._release(trade)
            return
        short = [i for i, leg in enumerate(trade.legs) if held[i] < high and self._orderable(leg, high - held[i])]
        if trade.retries_left > 0 and short:
            trade.retries_left -= 1
            attempt = self.config.retry_attempts - trade.retries_left
            slip = (self.config.slippage_ticks + attempt * self.config.retry_slippage_ticks) * CENT
            for index in short:
                worst = max(price for price, _ in trade.legs[index].fills)
                self._send(trade, index, "retry", "buy", min(PRICE_ONE, worst + slip), high - held[index], now)
            return
        # sell back what is above the hedged size, at whatever the book bids (a size below the
        # venue's minimum order cannot be sold there: it stays, and the trade is imbalanced)
        excess = [i for i, leg in enumerate(trade.legs) if held[i] > low and self._orderable(leg, held[i] - low)]
        if trade.sold_back or not excess:
            trade.state = "imbalanced"
            self._release(trade)
            return
        trade.sold_back = True
        for index in excess:
            self._send(trade, index, "unwind", "sell", 0, held[index] - low, now)

    def _orderable(self, leg: Leg, size: int) -> bool:
        # The venue takes an order of ``size`` on this leg (at least its market's minimum order)
        return size >= self.min_order_size.get(leg.instrument, 0)

    def _held_size(self, trade: PairTrade, index: int) -> int:
        # Shares of leg ``index`` this trade still holds (bought minus sold back)
        bought = sum(o.filled for o in trade.orders if o.leg == index and o.side == "buy")
        sold = sum(o.filled for o in trade.orders if o.leg == index and o.side == "sell")
        return bought - sold

    def _release(self, trade: PairTrade) -> None:
        self._busy.discard(trade.opportunity_id.rsplit("/", 1)[0])

    def _on_kill(self, reason: str) -> None:
        # Cancel every working order (they never reach the venue)
        self.stats.cancelled_by_kill += self.cancel_working(f"kill_switch: {reason}")

    def cancel_working(self, reason: str) -> int:
        """Cancel every order still on its way (a shutdown, the kill switch) through the
        execution client (live: the venues' cancel-all too); return how many."""
        return self.execution.cancel_all(reason, self.now_ns)

    # -- exposure ----------------------------------------------------------------------------

    def _in_flight(self) -> list[PaperOrder]:
        return [o for o in self.orders if o.status == "working" and o.side == "buy"]

    def _free_cash(self, venue: str) -> int:
        reserved = sum(o.limit * o.size for o in self._in_flight() if o.venue == venue)
        cash = self.venue_cash.get(venue)
        return (self.portfolio.cash.get(venue, 0) if cash is None else cash) - reserved

    def _exposure(self, pair: str) -> Exposure:
        by_instrument: dict[str, int] = defaultdict(int)
        by_venue: dict[str, int] = defaultdict(int)
        for held in self.portfolio.holdings.values():
            if not held.settled and held.size:
                by_instrument[held.instrument] += held.cost
                by_venue[held.venue] += held.cost
        for order in self._in_flight():
            by_instrument[order.instrument] += order.limit * order.size
            by_venue[order.venue] += order.limit * order.size
        open_pairs = {t.pair for t in self.trades if self._trade_open(t)}
        unhedged = sum(self._unhedged(trade) for trade in self.trades if self._trade_open(trade))
        pair_exposure = sum(t.exposure for t in self.trades if t.pair == pair and self._trade_open(t))
        pair_exposure += sum(o.limit * o.size for o in self._in_flight() if self._trade(o.trade_id).pair == pair)
        return Exposure(
            pair=pair_exposure,
            by_instrument=by_instrument,
            by_venue=by_venue,
            open_pairs=len(open_pairs),
            unhedged=unhedged,
            day_pnl=self._day_pnl(),
        )

    def exposure_now(self) -> tuple[Exposure, dict[str, int]]:
        """What the risk limits see now, for views (the dashboard), not for the order path: the
        :class:`~hadron.paper.risk.Exposure` across every pair (its ``pair`` is 0) and the cost at
        risk per pair id (fills and fees of its open trades plus its buy orders in flight, money
        units), as :meth:`RiskManager.allowed_size` would count them for that pair."""
        by_pair: dict[str, int] = defaultdict(int)
        for trade in self.trades:
            if self._trade_open(trade):
                by_pair[trade.pair] += trade.exposure
        for order in self._in_flight():
            by_pair[self._trade(order.trade_id).pair] += order.limit * order.size
        return self._exposure(""), dict(by_pair)

    def _unhedged(self, trade: PairTrade) -> int:
        # Cost (money units) of the shares a trade holds beyond its hedged size
        sizes = [self._held_size(trade, i) for i in range(len(trade.legs))]
        low = min(sizes)
        out = 0
        for size, leg in zip(sizes, trade.legs, strict=True):
            out += (size - low) * (leg.cost + leg.fee) // max(1, leg.size)
        return out

    def _trade_open(self, trade: PairTrade) -> bool:
        if trade.state == "working":
            return True
        return any(
            not self.portfolio.holdings[(leg.instrument, leg.from_bids)].settled
            and self.portfolio.holdings[(leg.instrument, leg.from_bids)].size > 0
            for leg in trade.legs
            if (leg.instrument, leg.from_bids) in self.portfolio.holdings
        )

    def _day_pnl(self) -> int:
        return self._equity_now() - self._day_start_equity if self._day >= 0 else 0

    # -- settlement --------------------------------------------------------------------------

    def set_fee_model(self, instrument: str, model: FeeModel) -> None:
        """Charge every order on ``instrument`` that reaches its venue from now on with ``model``
        (a venue fee rule change, from :class:`hadron.arb.fees.FeeRegistry`, which first runs the
        orders due before it), whatever model the opportunity was priced with. Paper execution
        charges it; a live venue charges what it charges."""
        fee_models = getattr(self.execution, "fee_models", None)
        if fee_models is not None:
            fee_models[instrument] = model

    def on_event(self, event: object) -> None:
        """Event listener (replay or live): settle on a :class:`MarketStatus` carrying a result."""
        if isinstance(event, MarketStatus) and event.result in ("yes", "no"):
            self.settle_at(event.instrument, event.result, event.ts_recv)

    def settle_at(self, instrument: str, result: str, ts_ns: int | None) -> None:
        """Settle ``instrument`` with ``result`` (``"yes"``/``"no"``) at ``ts_ns`` (event time;
        ``None``: when the run finishes)."""
        due = ts_ns if ts_ns is not None else _END
        if due <= self.now_ns:
            self._settle(instrument, result, self.now_ns)
            return
        heapq.heappush(self._queue, (due, self._next_seq(), (instrument, result)))

    def _holds(self, instrument: str) -> bool:
        return any(h.instrument == instrument and not h.settled and h.size for h in self.portfolio.holdings.values())

    def _settle(self, instrument: str, result: str, now: int) -> None:
        held = [h for h in self.portfolio.holdings.values() if h.instrument == instrument and not h.settled]
        if not held:
            return  # nothing held: nothing to pay, no point on the equity curve
        self.portfolio.settle(instrument, result)
        self.stats.settlements += 1
        self._sample_equity(max(now, self.now_ns), force=True)

    # -- equity ------------------------------------------------------------------------------

    def hedges(self) -> list[tuple[tuple[HoldingKey, ...], int]]:
        """The hedged sets held: for each set of legs the trades bought (every kind of opportunity
        pays exactly $1 per share set at settlement), the shares held of all of them, netted over
        the trades on the same legs; legs already settled or not held are left out. Sizes int,
        1/1,000,000 share; ``(holding keys, shares)`` sorted by keys."""
        by_legs: dict[tuple[HoldingKey, ...], dict[HoldingKey, int]] = {}
        for trade in self.trades:
            legs = [(leg.instrument, leg.from_bids) for leg in trade.legs]
            held = by_legs.setdefault(tuple(sorted(legs)), {})
            for index, key in enumerate(legs):
                held[key] = held.get(key, 0) + self._held_size(trade, index)
        out: list[tuple[tuple[HoldingKey, ...], int]] = []
        holdings = self.portfolio.holdings
        for keys, held in sorted(by_legs.items()):
            if all(key in holdings and not holdings[key].settled for key in keys):
                shares = min(held.values())
                if shares > 0:
                    out.append((keys, shares))
        return out

    def pnl(self) -> PnLBreakdown:
        """Realized, locked and mark-to-market P&L now (see :class:`~hadron.paper.portfolio.PnLBreakdown`)."""
        return self.portfolio.breakdown(self.books, self.hedges(), self._marks)

    def _equity_now(self) -> int:
        return self.portfolio.total_cash() + self.portfolio.market_value(self.books, self._marks)

    def _sample_equity(self, now: int, *, force: bool = False) -> None:
        if not force and now < self._next_equity:
            return
        equity = self._equity_now()
        day = now // DAY_NS
        if day != self._day:
            self._day, self._day_start_equity = day, equity
        realized = self.portfolio.realized()
        unrealized = equity - self.portfolio.total_cash() - self.portfolio.open_cost()
        point = (now, equity, realized, unrealized)
        if self.equity and self.equity[-1][0] == now:
            self.equity[-1] = point
        else:
            self.equity.append(point)
        self._next_equity = now + int(self.config.equity_interval_s * 10**9)
