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
from hadron.model.orders import ExecFill, OrderState
from hadron.store.state.records import INT64_MAX, INT64_MIN, Balance, ExecOrderRecord, Fill, Position, check_ns

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


_EXEC_ORDER_SELECT = (
    "SELECT client_order_id, venue, venue_order_id, instrument, symbol, outcome, side, price, size, tif, state,"
    " filled, reason, trade_id, leg, role, mode, run_id, created_ns, updated_ns, request FROM exec_orders"
)
EXEC_ORDER_COLUMNS: tuple[str, ...] = tuple(ExecOrderRecord.__struct_fields__)
"""The columns of ``exec_orders``, in the order of :class:`ExecOrderRecord`'s fields (every
statement below lists them in that order)."""

# How far along an order is: pending 0, accepted 1, partially_filled 2, terminal 3. The stored
# state is kept when it is terminal or further along than the update's.
UPSERT_EXEC_ORDER = """INSERT INTO exec_orders (client_order_id, venue, venue_order_id, instrument, symbol, outcome,
    side, price, size, tif, state, filled, reason, trade_id, leg, role, mode, run_id, created_ns, updated_ns, request)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (client_order_id) DO UPDATE SET
    venue_order_id = CASE WHEN excluded.venue_order_id = '' THEN exec_orders.venue_order_id
        ELSE excluded.venue_order_id END,
    state = CASE
        WHEN (CASE exec_orders.state WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1
                  WHEN 'partially_filled' THEN 2 ELSE 3 END) = 3
          OR (CASE excluded.state WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1
                  WHEN 'partially_filled' THEN 2 ELSE 3 END)
           < (CASE exec_orders.state WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1
                  WHEN 'partially_filled' THEN 2 ELSE 3 END)
        THEN exec_orders.state ELSE excluded.state END,
    filled = CASE WHEN excluded.filled > exec_orders.filled THEN excluded.filled ELSE exec_orders.filled END,
    reason = CASE
        WHEN excluded.reason = '' THEN exec_orders.reason
        WHEN exec_orders.reason <> ''
         AND ((CASE exec_orders.state WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1
                   WHEN 'partially_filled' THEN 2 ELSE 3 END) = 3
           OR (CASE excluded.state WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1
                   WHEN 'partially_filled' THEN 2 ELSE 3 END)
            < (CASE exec_orders.state WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1
                   WHEN 'partially_filled' THEN 2 ELSE 3 END))
        THEN exec_orders.reason ELSE excluded.reason END,
    updated_ns = CASE WHEN excluded.updated_ns > exec_orders.updated_ns THEN excluded.updated_ns
        ELSE exec_orders.updated_ns END
WHERE exec_orders.venue = excluded.venue"""
_OPEN = " WHERE state NOT IN ('filled', 'cancelled', 'rejected', 'expired')"
_EXEC_ORDERS_BY = " ORDER BY created_ns, client_order_id"
_LIST_EXEC_ORDERS: dict[tuple[bool, bool], str] = {
    (False, False): _EXEC_ORDER_SELECT + _EXEC_ORDERS_BY,
    (True, False): _EXEC_ORDER_SELECT + _OPEN + _EXEC_ORDERS_BY,
    (False, True): _EXEC_ORDER_SELECT + " WHERE venue = ?" + _EXEC_ORDERS_BY,
    (True, True): _EXEC_ORDER_SELECT + _OPEN + " AND venue = ?" + _EXEC_ORDERS_BY,
}
"""The ``exec_orders`` listings by (open only, one venue)."""

INSERT_EXEC_FILL = (
    "INSERT INTO exec_fills (venue, fill_id, client_order_id, venue_order_id, price, size, fee, taker, ts_event,"
    " recorded_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (venue, fill_id) DO NOTHING"
)
_EXEC_FILL_SELECT = (
    "SELECT venue, client_order_id, venue_order_id, fill_id, price, size, fee, ts_event, taker FROM exec_fills"
)
_EXEC_FILLS_BY = " ORDER BY ts_event, venue, fill_id"
_LIST_EXEC_FILLS: dict[tuple[bool, bool], str] = {
    (False, False): _EXEC_FILL_SELECT + _EXEC_FILLS_BY,
    (True, False): _EXEC_FILL_SELECT + " WHERE venue = ?" + _EXEC_FILLS_BY,
    (False, True): _EXEC_FILL_SELECT + " WHERE client_order_id = ?" + _EXEC_FILLS_BY,
    (True, True): _EXEC_FILL_SELECT + " WHERE venue = ? AND client_order_id = ?" + _EXEC_FILLS_BY,
}
"""The ``exec_fills`` listings by (one venue, one order)."""

BASELINE_MARK = ""
"""The ``instrument`` of the row that marks a venue's baseline as taken (an account with no
positions then has only that row)."""
INSERT_BASELINE = (
    "INSERT INTO exec_baselines (venue, instrument, position, ts_ns) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (venue, instrument) DO NOTHING"
)
GET_BASELINE = "SELECT instrument, position FROM exec_baselines WHERE venue = ? ORDER BY instrument"


def list_exec_orders_query(*, open_only: bool, venue: str | None) -> Query:
    """The ``exec_orders`` listing (see :meth:`StateStore.journal_orders`)."""
    return Query(_LIST_EXEC_ORDERS[open_only, venue is not None], () if venue is None else (venue,))


def exec_order_params(record: ExecOrderRecord) -> tuple[Any, ...]:
    """The ``exec_orders`` row of a (valid) record, enums as their text values."""
    row = msgspec.structs.astuple(record)
    return tuple(value.value if isinstance(value, OrderState) else value for value in row)


def exec_order_from_row(row: Sequence[Any]) -> ExecOrderRecord:
    """An :class:`ExecOrderRecord` from an ``exec_orders`` row (columns as :data:`EXEC_ORDER_COLUMNS`).

    Raises:
        StoreError: a stored value does not fit the record (a row written outside Hadron).
    """
    try:
        return msgspec.convert(dict(zip(EXEC_ORDER_COLUMNS, row, strict=True)), ExecOrderRecord)
    except msgspec.ValidationError as exc:
        raise StoreError(f"exec_orders row {row[0]!r} does not read back as an order: {exc}") from exc


def list_exec_fills_query(venue: str | None, client_order_id: str | None) -> Query:
    """The ``exec_fills`` listing (see :meth:`StateStore.journal_fills`)."""
    params = tuple(value for value in (venue, client_order_id) if value is not None)
    return Query(_LIST_EXEC_FILLS[venue is not None, client_order_id is not None], params)


def exec_fill_from_row(row: Sequence[Any]) -> tuple[str, ExecFill]:
    """``(venue, fill)`` from an ``exec_fills`` listing row."""
    venue, client_order_id, venue_order_id, fill_id, price, size, fee, ts_event, taker = row
    fill = ExecFill(
        client_order_id=client_order_id,
        venue_order_id=venue_order_id,
        fill_id=fill_id,
        price=int(price),
        size=int(size),
        fee=int(fee),
        ts_event=int(ts_event),
        taker=bool(taker),
    )
    return str(venue), fill


def check_exec_fill(venue: str, fill: ExecFill, recorded_ns: int) -> tuple[Any, ...]:
    """The ``exec_fills`` row of ``fill``, after checking it fits the table.

    Raises:
        StoreError: an empty venue or fill id, a field of the wrong type, a price or size below 0,
            an integer outside 64 bits, or a time that is not ns since the epoch.
    """
    what = f"fill {fill.fill_id!r} of {venue!r}"
    if not isinstance(venue, str) or not venue or not isinstance(fill.fill_id, str) or not fill.fill_id:
        raise StoreError(f"{what}: venue and fill_id must be non-empty text")
    if not isinstance(fill.client_order_id, str) or not isinstance(fill.venue_order_id, str):
        raise StoreError(f"{what}: client_order_id and venue_order_id must be text")
    for name in ("price", "size", "fee"):
        value = getattr(fill, name)
        low = INT64_MIN if name == "fee" else 0
        if type(value) is not int or not low <= value <= INT64_MAX:
            raise StoreError(f"{what}: {name} {value!r} must be an int in [{low}, {INT64_MAX}]")
    if type(fill.taker) is not bool:
        raise StoreError(f"{what}: taker {fill.taker!r} must be a bool")
    check_ns("ts_event", fill.ts_event)
    check_ns("recorded_ns", recorded_ns)
    return (venue, fill.fill_id, fill.client_order_id, fill.venue_order_id, fill.price, fill.size, fill.fee,
            int(fill.taker), fill.ts_event, recorded_ns)  # fmt: skip


def set_baseline_op(venue: str, positions: Sequence[tuple[str, int]], ts_ns: int) -> Op[bool]:
    """Store a venue's baseline unless it has one: the mark row first (its insert decides, so two
    writers at once store one baseline), then one row per instrument. Returns True when stored."""
    if not (yield Query(INSERT_BASELINE, (venue, BASELINE_MARK, 0, ts_ns))).rowcount:
        return False
    if positions:
        rows = [(venue, instrument, position, ts_ns) for instrument, position in positions]
        yield Query(INSERT_BASELINE, rows, many=True)
    return True


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
