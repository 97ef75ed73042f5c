"""The state store's records: runs, opportunities, paper orders, fills, positions, balances and
the live order journal.

Frozen :mod:`msgspec` structs, one per table, in Hadron's units: prices int 1/10,000 USD, sizes
int 1/1,000,000 contract, cash int 1/1,000,000 USD, times int ns since the Unix epoch, ids text.
Every integer fits a signed 64-bit column; :func:`valid` checks a record against its declared
types and ranges before it reaches a database. The journal's fills are
:class:`hadron.model.orders.ExecFill` (fee int 1/10,000,000,000 USD), stored with their venue.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar, get_args

import msgspec

from hadron.errors import StoreError
from hadron.model.orders import ExecReport, OrderRequest, OrderState, OutcomeSide, TimeInForce

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Id = Annotated[str, msgspec.Meta(min_length=1)]
"""A non-empty identifier."""
Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
"""A signed 64-bit integer (money, signed sizes)."""
UInt63 = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
"""A non-negative integer that fits a signed 64-bit column (prices, sizes, timestamps)."""

RunMode = Literal["replay", "live", "paper"]
RunStatus = Literal["running", "finished", "failed", "stopped"]
OpportunityState = Literal["opened", "updated", "closed"]
Side = Literal["buy", "sell"]
OrderStatus = Literal["new", "partially_filled", "filled", "cancelled", "rejected"]
Liquidity = Literal["taker", "maker"]
ExecMode = Literal["live", "dry-run", "shadow"]
"""How a journaled order was handled: ``live`` sent to the venue, ``dry-run`` built and logged
but not sent, ``shadow`` decided beside a paper run and never sent."""


class Run(msgspec.Struct, frozen=True, gc=False):
    """One run of Hadron (a replay, a live capture, a paper-trading session).

    Attributes:
        run_id: unique id.
        started_ns / ended_ns: ns since the epoch; ``ended_ns`` is ``None`` while running.
        mode: ``"replay"``, ``"live"`` or ``"paper"``.
        config_json: the effective configuration as JSON text (secrets already masked).
        status: ``"running"``, ``"finished"``, ``"failed"`` or ``"stopped"``.
    """

    run_id: Id
    started_ns: UInt63
    ended_ns: UInt63 | None
    mode: RunMode
    config_json: str
    status: RunStatus


class Opportunity(msgspec.Struct, frozen=True, gc=False):
    """The latest state of one cross-venue arbitrage opportunity.

    Attributes:
        opportunity_id: unique across runs (the store refuses to move it to another run).
        run_id: the run that found it.
        pair_id: the approved market pair.
        direction: which leg is bought where, in the detector's own words.
        state: ``"opened"``, ``"updated"`` or ``"closed"``.
        edge: int, 1/10,000 USD per contract (negative allowed).
        size: int, 1/1,000,000 contract.
        legs_json: the legs (venue, instrument, side, price, size) as JSON text.
        opened_ns / updated_ns / closed_ns: ns since the epoch; ``closed_ns`` ``None`` until closed.
    """

    opportunity_id: Id
    run_id: Id
    pair_id: str
    direction: str
    state: OpportunityState
    edge: Int64
    size: UInt63
    legs_json: str
    opened_ns: UInt63
    updated_ns: UInt63
    closed_ns: UInt63 | None


class PaperOrder(msgspec.Struct, frozen=True, gc=False):
    """One simulated order.

    Attributes:
        order_id: unique across runs.
        run_id: the run that placed it.
        opportunity_id: the opportunity it trades, if any.
        venue / instrument: where and what.
        side: ``"buy"`` or ``"sell"``.
        price: limit price, int 1/10,000 USD.
        size: int, 1/1,000,000 contract.
        status: ``"new"``, ``"partially_filled"``, ``"filled"``, ``"cancelled"`` or ``"rejected"``.
        created_ns / updated_ns: ns since the epoch.
        client_order_id: the id a live venue would have been sent.
    """

    order_id: Id
    run_id: Id
    opportunity_id: str | None
    venue: Id
    instrument: Id
    side: Side
    price: UInt63
    size: UInt63
    status: OrderStatus
    created_ns: UInt63
    updated_ns: UInt63
    client_order_id: str


class Fill(msgspec.Struct, frozen=True, gc=False):
    """One (simulated) execution of part of a :class:`PaperOrder`.

    Attributes:
        fill_id: unique across runs; writing the same ``fill_id`` twice stores it once.
        order_id: the order it fills (must be stored already).
        run_id / venue / instrument / side: as on the order.
        price: int, 1/10,000 USD.
        size: int, 1/1,000,000 contract.
        fee: int, 1/1,000,000 USD (negative for a rebate).
        liquidity: ``"taker"`` or ``"maker"``.
        ts_ns: ns since the epoch.
    """

    fill_id: Id
    order_id: Id
    run_id: Id
    venue: Id
    instrument: Id
    side: Side
    price: UInt63
    size: UInt63
    fee: Int64
    liquidity: Liquidity
    ts_ns: UInt63


class Position(msgspec.Struct, frozen=True, gc=False):
    """The current position of one run in one instrument (absolute values, not changes).

    Attributes:
        run_id / venue / instrument: the key.
        size: signed int, 1/1,000,000 contract (negative is short).
        cost: int, 1/1,000,000 USD paid for the open size (signed).
        realized_pnl: int, 1/1,000,000 USD.
        updated_ns: ns since the epoch.
    """

    run_id: Id
    venue: Id
    instrument: Id
    size: Int64
    cost: Int64
    realized_pnl: Int64
    updated_ns: UInt63


class Balance(msgspec.Struct, frozen=True, gc=False):
    """The current cash balance of one run at one venue in one currency (absolute value).

    Attributes:
        run_id / venue / currency: the key (currency e.g. ``"USD"``, ``"USDC"``).
        amount: signed int, 1/1,000,000 of the currency.
        updated_ns: ns since the epoch.
    """

    run_id: Id
    venue: Id
    currency: Id
    amount: Int64
    updated_ns: UInt63


class ExecOrderRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One live order in the journal (table ``exec_orders``): written before it is sent, updated
    from every venue answer, read back on restart to reconcile with the venue.

    Attributes:
        client_order_id: Hadron's id for the order (the key; :attr:`OrderRequest.client_order_id`).
        venue: registered venue name. venue_order_id: the venue's id (``""`` until it answers).
        instrument / symbol / outcome / side / tif / trade_id / leg / role: as on the request.
        price: the limit, int 1/10,000 USD in the outcome's terms. size: int, 1/1,000,000.
        state: where the order is (:class:`~hadron.model.orders.OrderState`).
        filled: cumulative size filled, int 1/1,000,000.
        reason: why rejected or cancelled (the venue's words or Hadron's check; ``""``).
        mode: ``"live"``, ``"dry-run"`` or ``"shadow"`` (:data:`ExecMode`).
        run_id: the run that placed it (``""`` when none).
        created_ns / updated_ns: ns since the epoch (when decided; when last written).
        request: the request exactly as decided, ``msgspec.json.encode(OrderRequest)`` as text
            (:meth:`order_request` decodes it).
    """

    client_order_id: Id
    venue: Id
    venue_order_id: str
    instrument: Id
    symbol: str
    outcome: OutcomeSide
    side: Side
    price: UInt63
    size: UInt63
    tif: TimeInForce
    state: OrderState
    filled: UInt63
    reason: str
    trade_id: str
    leg: Int64
    role: str
    mode: ExecMode
    run_id: str
    created_ns: UInt63
    updated_ns: UInt63
    request: str

    @classmethod
    def from_request(
        cls,
        request: OrderRequest,
        *,
        mode: ExecMode,
        state: OrderState = OrderState.PENDING,
        run_id: str = "",
        venue_order_id: str = "",
        filled: int = 0,
        reason: str = "",
        updated_ns: int | None = None,
    ) -> ExecOrderRecord:
        """The journal row of ``request`` in ``state`` (``updated_ns`` defaults to the request's
        ``created_ns``); ``request`` is kept as its msgspec JSON."""
        return cls(
            client_order_id=request.client_order_id,
            venue=request.venue,
            venue_order_id=venue_order_id,
            instrument=request.instrument,
            symbol=request.symbol,
            outcome=request.outcome,
            side=request.side,
            price=request.price,
            size=request.size,
            tif=request.tif,
            state=state,
            filled=filled,
            reason=reason,
            trade_id=request.trade_id,
            leg=request.leg,
            role=request.role,
            mode=mode,
            run_id=run_id,
            created_ns=request.created_ns,
            updated_ns=request.created_ns if updated_ns is None else updated_ns,
            request=msgspec.json.encode(request).decode(),
        )

    def updated(self, report: ExecReport, *, updated_ns: int) -> ExecOrderRecord:
        """This row after the venue's ``report`` (state, cumulative filled, reason, and the venue's
        order id when the report has one), written at ``updated_ns``; the store still never moves
        a stored state backwards (:meth:`StateStore.journal_order`)."""
        return msgspec.structs.replace(
            self,
            venue_order_id=report.venue_order_id or self.venue_order_id,
            state=report.state,
            filled=report.filled,
            reason=report.reason or self.reason,
            updated_ns=updated_ns,
        )

    def order_request(self) -> OrderRequest:
        """The stored :class:`~hadron.model.orders.OrderRequest`, decoded from :attr:`request`.

        Raises:
            StoreError: the stored text is not an OrderRequest.
        """
        try:
            return msgspec.json.decode(self.request, type=OrderRequest)
        except msgspec.DecodeError as exc:
            raise StoreError(f"order {self.client_order_id!r}: the journaled request does not decode: {exc}") from exc


_R = TypeVar("_R", Run, Opportunity, PaperOrder, Fill, Position, Balance, ExecOrderRecord)

RUN_STATUSES: frozenset[str] = frozenset(get_args(RunStatus))
ORDER_STATUSES: frozenset[str] = frozenset(get_args(OrderStatus))


def valid(record: _R) -> _R:
    """Return ``record`` if every field has its declared type and range, else raise StoreError."""
    try:
        return msgspec.convert(msgspec.structs.asdict(record), type(record))
    except msgspec.ValidationError as exc:
        raise StoreError(f"invalid {type(record).__name__} {msgspec.structs.astuple(record)[0]!r}: {exc}") from exc


def check_ns(name: str, value: int) -> None:
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        raise StoreError(f"{name} must be an int of ns since the epoch, got {value!r}")
