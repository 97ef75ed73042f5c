"""The state store's operations, each written once for both backends.

An operation is a generator that yields :class:`Query` (SQL with ``?`` placeholders) and receives
each one's :class:`Result`; a backend drives it inside its own transaction (``?`` becomes ``%s``
on PostgreSQL). This module holds every data statement and the operations made of several.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, NamedTuple, TypeVar

import msgspec

from hadron.errors import StoreError
from hadron.model.account import AccountEvent, AccountFill, OrderGroupUpdate, OrderUpdate, PositionUpdate
from hadron.store.state.records import INT64_MAX, INT64_MIN, Balance, Fill, Position, check_ns

_T = TypeVar("_T")


class Query(NamedTuple):
    """One statement: ``sql`` with ``?`` placeholders, run once with ``params`` or, when ``many``,
    once per row of ``params`` (``executemany``)."""

    sql: str
    params: Sequence[Any] = ()
    many: bool = False


class Result(NamedTuple):
    """What a statement gave: its rows (empty for a write) and the rows it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int


Op = Generator[Query, Result, _T]
"""An operation: yields queries, receives their results, returns its value."""


INSERT_RUN = "INSERT INTO runs (run_id, started_ns, ended_ns, mode, config_json, status) VALUES (?, ?, ?, ?, ?, ?)"
FINISH_RUN = "UPDATE runs SET ended_ns = ?, status = ? WHERE run_id = ?"
GET_RUN = "SELECT run_id, started_ns, ended_ns, mode, config_json, status FROM runs WHERE run_id = ?"
LIST_RUNS = "SELECT run_id, started_ns, ended_ns, mode, config_json, status FROM runs ORDER BY started_ns, run_id"

UPSERT_OPPORTUNITY = (
    "INSERT INTO opportunities (opportunity_id, run_id, pair_id, direction, state, edge, size, legs_json,"
    " opened_ns, updated_ns, closed_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (opportunity_id) DO UPDATE SET pair_id = excluded.pair_id, direction = excluded.direction,"
    " state = excluded.state, edge = excluded.edge, size = excluded.size, legs_json = excluded.legs_json,"
    " opened_ns = excluded.opened_ns, updated_ns = excluded.updated_ns, closed_ns = excluded.closed_ns"
    " WHERE opportunities.run_id = excluded.run_id"
)
LIST_OPPORTUNITIES = (
    "SELECT opportunity_id, run_id, pair_id, direction, state, edge, size, legs_json, opened_ns, updated_ns,"
    " closed_ns FROM opportunities WHERE run_id = ? ORDER BY opened_ns, opportunity_id"
)
LIST_OPPORTUNITIES_BY_STATE = (
    "SELECT opportunity_id, run_id, pair_id, direction, state, edge, size, legs_json, opened_ns, updated_ns,"
    " closed_ns FROM opportunities WHERE run_id = ? AND state = ? ORDER BY opened_ns, opportunity_id"
)

INSERT_ORDER = (
    "INSERT INTO paper_orders (order_id, run_id, opportunity_id, venue, instrument, side, price, size, status,"
    " created_ns, updated_ns, client_order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_ORDER_STATUS = "UPDATE paper_orders SET status = ?, updated_ns = ? WHERE order_id = ?"
GET_ORDER = (
    "SELECT order_id, run_id, opportunity_id, venue, instrument, side, price, size, status, created_ns,"
    " updated_ns, client_order_id FROM paper_orders WHERE order_id = ?"
)
LIST_ORDERS = (
    "SELECT order_id, run_id, opportunity_id, venue, instrument, side, price, size, status, created_ns,"
    " updated_ns, client_order_id FROM paper_orders WHERE run_id = ? ORDER BY created_ns, order_id"
)
LIST_ORDERS_BY_STATUS = (
    "SELECT order_id, run_id, opportunity_id, venue, instrument, side, price, size, status, created_ns,"
    " updated_ns, client_order_id FROM paper_orders WHERE run_id = ? AND status = ? ORDER BY created_ns, order_id"
)

INSERT_FILL = (
    "INSERT INTO fills (fill_id, order_id, run_id, venue, instrument, side, price, size, fee, liquidity, ts_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fill_id) DO NOTHING"
)
LIST_FILLS = (
    "SELECT fill_id, order_id, run_id, venue, instrument, side, price, size, fee, liquidity, ts_ns"
    " FROM fills WHERE run_id = ? ORDER BY ts_ns, fill_id"
)
LIST_FILLS_BY_ORDER = (
    "SELECT fill_id, order_id, run_id, venue, instrument, side, price, size, fee, liquidity, ts_ns"
    " FROM fills WHERE run_id = ? AND order_id = ? ORDER BY ts_ns, fill_id"
)

UPSERT_POSITION = (
    "INSERT INTO positions (run_id, venue, instrument, size, cost, realized_pnl, updated_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, venue, instrument) DO UPDATE SET size = excluded.size,"
    " cost = excluded.cost, realized_pnl = excluded.realized_pnl, updated_ns = excluded.updated_ns"
)
GET_POSITION = (
    "SELECT run_id, venue, instrument, size, cost, realized_pnl, updated_ns FROM positions"
    " WHERE run_id = ? AND venue = ? AND instrument = ?"
)
LIST_POSITIONS = (
    "SELECT run_id, venue, instrument, size, cost, realized_pnl, updated_ns FROM positions"
    " WHERE run_id = ? ORDER BY venue, instrument"
)

UPSERT_BALANCE = (
    "INSERT INTO balances (run_id, venue, currency, amount, updated_ns) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (run_id, venue, currency) DO UPDATE SET amount = excluded.amount, updated_ns = excluded.updated_ns"
)
LIST_BALANCES = (
    "SELECT run_id, venue, currency, amount, updated_ns FROM balances WHERE run_id = ? ORDER BY venue, currency"
)

_UPSERT_ACCOUNT_FILL = (
    "INSERT INTO account_fills (venue, fill_id, order_id, client_order_id, instrument, outcome, side, price, size,"
    " fee, liquidity, status, post_position, ts_event, ts_recv) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (venue, fill_id) DO UPDATE SET status = excluded.status"
)
_UPSERT_ACCOUNT_ORDER = (
    "INSERT INTO account_orders (venue, order_id, client_order_id, instrument, status, outcome, side, price,"
    " initial_size, filled_size, remaining_size, venue_status, ts_event, ts_recv)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (venue, order_id) DO UPDATE SET"
    " client_order_id = excluded.client_order_id, instrument = excluded.instrument, status = excluded.status,"
    " outcome = excluded.outcome, side = excluded.side, price = excluded.price,"
    " initial_size = excluded.initial_size, filled_size = excluded.filled_size,"
    " remaining_size = excluded.remaining_size, venue_status = excluded.venue_status,"
    " ts_event = excluded.ts_event, ts_recv = excluded.ts_recv WHERE account_orders.ts_event <= excluded.ts_event"
)
_UPSERT_ACCOUNT_POSITION = (
    "INSERT INTO account_positions (venue, instrument, position_size, cost, realized_pnl, fees_paid, volume,"
    " derived, ts_event, ts_recv) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (venue, instrument) DO UPDATE"
    " SET position_size = excluded.position_size, cost = excluded.cost, realized_pnl = excluded.realized_pnl,"
    " fees_paid = excluded.fees_paid, volume = excluded.volume, derived = excluded.derived,"
    " ts_event = excluded.ts_event, ts_recv = excluded.ts_recv"
)
_UPSERT_ACCOUNT_GROUP = (
    "INSERT INTO account_order_groups (venue, order_group_id, event, contracts_limit, ts_event, ts_recv)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (venue, order_group_id) DO UPDATE SET event = excluded.event,"
    " contracts_limit = COALESCE(excluded.contracts_limit, account_order_groups.contracts_limit),"
    " ts_event = excluded.ts_event, ts_recv = excluded.ts_recv"
)
LIST_ACCOUNT_FILLS = (
    "SELECT venue, instrument, fill_id, order_id, client_order_id, outcome, side, price, size, fee, liquidity,"
    " ts_event, ts_recv, post_position, status FROM account_fills ORDER BY ts_event, venue, fill_id"
)
LIST_ACCOUNT_ORDERS = (
    "SELECT venue, instrument, order_id, client_order_id, status, outcome, side, price, initial_size, filled_size,"
    " remaining_size, ts_event, ts_recv, venue_status FROM account_orders ORDER BY ts_event, venue, order_id"
)
LIST_ACCOUNT_POSITIONS = (
    "SELECT venue, instrument, position_size, cost, realized_pnl, fees_paid, ts_event, ts_recv, volume, derived"
    " FROM account_positions ORDER BY venue, instrument"
)
LIST_ACCOUNT_GROUPS = (
    "SELECT venue, order_group_id, event, contracts_limit, ts_event, ts_recv FROM account_order_groups"
    " ORDER BY venue, order_group_id"
)


def account_query(event: AccountEvent) -> Query:
    """The upsert of one account event (see :meth:`StateStore.record_account`)."""
    if isinstance(event, AccountFill):
        liquidity = "" if event.taker is None else "taker" if event.taker else "maker"
        return Query(
            _UPSERT_ACCOUNT_FILL,
            (event.venue, event.fill_id, event.order_id, event.client_order_id, event.instrument,
             event.outcome.value, event.side.value, event.price, event.size, event.fee, liquidity, event.status,
             event.post_position, event.ts_event, event.ts_recv),
        )  # fmt: skip
    if isinstance(event, OrderUpdate):
        return Query(
            _UPSERT_ACCOUNT_ORDER,
            (event.venue, event.order_id, event.client_order_id, event.instrument, event.status.value,
             event.outcome.value, event.side.value, event.price, event.initial, event.filled, event.remaining,
             event.venue_status, event.ts_event, event.ts_recv),
        )  # fmt: skip
    if isinstance(event, PositionUpdate):
        return Query(
            _UPSERT_ACCOUNT_POSITION,
            (event.venue, event.instrument, event.position, event.cost, event.realized_pnl, event.fees_paid,
             event.volume, int(event.derived), event.ts_event, event.ts_recv),
        )  # fmt: skip
    if isinstance(event, OrderGroupUpdate):
        return Query(
            _UPSERT_ACCOUNT_GROUP,
            (event.venue, event.order_group_id, event.event, event.contracts_limit, event.ts_event, event.ts_recv),
        )
    raise StoreError(f"not an account event: {type(event).__name__}")


def check_account(event: AccountEvent) -> None:
    # Every integer of the event must fit a signed 64-bit column (times: non-negative)
    for name in event.__struct_fields__:
        value = getattr(event, name)
        if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
            raise StoreError(f"{type(event).__name__}.{name} {value} does not fit a 64-bit integer")
    check_ns("ts_event", event.ts_event)
    check_ns("ts_recv", event.ts_recv)


def record_account_op(queries: list[Query]) -> Op[int]:
    for query in queries:
        _ = yield query
    return len(queries)


def one(query: Query) -> Op[Result]:
    return (yield query)


def record_fill_op(fill: Fill, position: Position, balance: Balance, order_status: str | None) -> Op[bool]:
    inserted = (yield Query(INSERT_FILL, msgspec.structs.astuple(fill))).rowcount
    if not inserted:
        return False
    yield Query(UPSERT_POSITION, msgspec.structs.astuple(position))
    yield Query(UPSERT_BALANCE, msgspec.structs.astuple(balance))
    if order_status is not None:
        yield Query(UPDATE_ORDER_STATUS, (order_status, fill.ts_ns, fill.order_id))
    return True
