"""Orders Hadron sends, venue-free: the request, the venue's answers, and one state machine.

Paper and live execution share these types (``docs/EXECUTION.md``): the trader builds an
:class:`OrderRequest`, an execution client (paper: simulated against the books; live: a venue's
:class:`~hadron.venues.base.OrderGateway`) answers with :class:`ExecReport` (state changes) and
:class:`ExecFill` (executions), and every order moves through the same :class:`OrderState`
machine::

    pending ──► accepted ──► partially_filled ──► filled
       │           │               │
       │           ├──► filled     ├──► cancelled / expired   (an IOC's unfilled rest)
       │           ├──► cancelled / expired / rejected
       └──► rejected / cancelled / expired / filled / partially_filled

Units: price int, 1/10,000 USD **in the outcome's terms** (what one share of the outcome bought
or sold costs; a Kalshi NO buy at 0.55 is ``5500``); size int, 1/1,000,000 contract or share;
fee int, 1/10,000,000,000 USD (:data:`hadron.model.fees.MONEY_SCALE`, price × size); times int,
ns since the Unix epoch.
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Literal

import msgspec

from hadron.errors import HadronError


class OrderStateError(HadronError):
    """An order was asked to move to a state it cannot reach from where it is (a bug or a venue
    answer out of order); the order keeps its state."""


@unique
class OrderState(StrEnum):
    """Where an order is (see the module docstring for the allowed moves)."""

    PENDING = "pending"
    """Written to the journal, not yet acknowledged by the venue (maybe not yet sent)."""
    ACCEPTED = "accepted"
    """The venue took it; nothing filled yet."""
    PARTIALLY_FILLED = "partially_filled"
    """Some filled, the rest still working at the venue."""
    FILLED = "filled"
    """All filled (terminal)."""
    CANCELLED = "cancelled"
    """Ended by a cancel (ours, an IOC's unfilled rest, the kill switch) (terminal; may have fills)."""
    REJECTED = "rejected"
    """Refused by the venue or by Hadron's own checks before sending (terminal; no fills)."""
    EXPIRED = "expired"
    """Ended by its time in force or the venue (terminal; may have fills)."""

    @property
    def terminal(self) -> bool:
        """True for filled, cancelled, rejected and expired."""
        return self in TERMINAL


TERMINAL: frozenset[OrderState] = frozenset(
    {OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.EXPIRED}
)

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.PENDING: frozenset(
        {
            OrderState.ACCEPTED,
            OrderState.PARTIALLY_FILLED,
            OrderState.FILLED,
            OrderState.CANCELLED,
            OrderState.REJECTED,
            OrderState.EXPIRED,
        }
    ),
    OrderState.ACCEPTED: frozenset(
        {OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.EXPIRED}
    ),
    OrderState.PARTIALLY_FILLED: frozenset(
        {OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELLED, OrderState.EXPIRED}
    ),
    OrderState.FILLED: frozenset(),
    OrderState.CANCELLED: frozenset(),
    OrderState.REJECTED: frozenset(),
    OrderState.EXPIRED: frozenset(),
}
"""Every allowed move (a state to itself is allowed only for ``partially_filled``: more fills)."""


def check_transition(old: OrderState, new: OrderState) -> None:
    """Raise :class:`OrderStateError` unless ``old`` → ``new`` is allowed (:data:`TRANSITIONS`)."""
    if new not in TRANSITIONS[old]:
        raise OrderStateError(f"order state cannot move from {old.value} to {new.value}")


Side = Literal["buy", "sell"]
"""Buy or sell the outcome."""
OutcomeSide = Literal["yes", "no"]
"""Which outcome of the instrument's book: ``yes`` the instrument itself (a Kalshi market's YES,
a Polymarket token), ``no`` its complement on a one-book venue (a Kalshi market's NO)."""
TimeInForce = Literal["IOC", "FOK", "GTC"]
"""``IOC``: fill what the book has at the limit, cancel the rest; ``FOK``: all or nothing;
``GTC``: rest until cancelled (used by tests and the loopback exchanges' resting orders)."""


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One order Hadron wants at a venue.

    Attributes:
        client_order_id: Hadron's id for it, unique per account and stable across retries and
            restarts (a venue that sees it twice keeps one order: Kalshi ``client_order_id``;
            Polymarket has none, so the journal maps it to the venue's ``orderID``).
        venue: registered venue name. instrument: Hadron instrument id (``kalshi:<ticker>``,
            ``polymarket:<token id>``). symbol: the venue's own id (market ticker, token id).
        outcome / side: see :data:`OutcomeSide`, :data:`Side`.
        price: the limit, 1/10,000 USD in the outcome's terms (worst price accepted).
        size: 1/1,000,000 contract or share. tif: :data:`TimeInForce`.
        created_ns: when Hadron decided it (ns).
        market: the venue's grouping id where its API needs one (Polymarket condition id; ``""``).
        tick: the market's price step, 1/10,000 USD (0: the venue default).
        neg_risk: Polymarket neg-risk market (another exchange contract signs it).
        trade_id / leg / role: the pair trade it belongs to, for the journal and reports.
    """

    client_order_id: str
    venue: str
    instrument: str
    symbol: str
    outcome: OutcomeSide
    side: Side
    price: int
    size: int
    tif: TimeInForce
    created_ns: int
    market: str = ""
    tick: int = 0
    neg_risk: bool = False
    trade_id: str = ""
    leg: int = 0
    role: str = "entry"

    @property
    def notional(self) -> int:
        """Limit × size: 1/10,000,000,000 USD (the most a buy can cost before fees)."""
        return self.price * self.size


class ExecReport(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's answer about one order: its state and the size filled so far (cumulative).

    ``filled`` is what the venue says has filled in total (1/1,000,000); the fills themselves
    arrive as :class:`ExecFill` (in the same answer, on the private channel, or from REST on
    reconnect). ``reason``: why rejected/cancelled (the venue's words or Hadron's check).
    """

    client_order_id: str
    venue_order_id: str
    state: OrderState
    filled: int = 0
    reason: str = ""
    ts_event: int = 0


class ExecFill(msgspec.Struct, frozen=True, kw_only=True):
    """One execution of one of our orders, in the order's own terms.

    ``price``: 1/10,000 USD per share of the order's outcome; ``size``: 1/1,000,000; ``fee``:
    1/10,000,000,000 USD charged for this fill (0 when the venue charges it elsewhere);
    ``fill_id``: the venue's id (Kalshi ``trade_id``/``fill_id``, Polymarket trade ``id``),
    unique per venue, so a fill seen twice (response, channel, REST) counts once.
    """

    client_order_id: str
    venue_order_id: str
    fill_id: str
    price: int
    size: int
    fee: int
    ts_event: int
    taker: bool = True


class VenueOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the venue lists it over REST (reconciliation): ids, where it is, what filled."""

    venue_order_id: str
    client_order_id: str
    instrument: str
    outcome: OutcomeSide
    side: Side
    price: int
    size: int
    filled: int
    state: OrderState


class PlaceResult(msgspec.Struct, frozen=True, kw_only=True):
    """What placing one order gave: the venue's report and any fills its answer carried."""

    report: ExecReport
    fills: list[ExecFill] = msgspec.field(default_factory=list)
    request: dict[str, object] | None = None
    """In dry-run: the exact request that would have been sent (method, url, headers with every
    secret replaced by ``"***"``, body), for the log; None otherwise."""


__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "ExecFill",
    "ExecReport",
    "OrderRequest",
    "OrderState",
    "OrderStateError",
    "OutcomeSide",
    "PlaceResult",
    "Side",
    "TimeInForce",
    "VenueOrder",
    "check_transition",
]
