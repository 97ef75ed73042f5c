"""The account: a venue's own view of *our* orders, fills and positions, normalized.

These are the events of a venue's authenticated channels (Kalshi ``fill``, ``user_orders``,
``market_positions``, ``order_group_updates``; Polymarket's user channel ``order`` and ``trade``),
venue-free and in fixed-point units:

* price: int, 1/10,000 USD (YES terms on Kalshi, the token's own price on Polymarket);
* size: int, 1/1,000,000 contract or share (:mod:`hadron.model.units`);
* cash (costs, fees, P&L): int, 1/1,000,000 USD (:data:`CASH_SCALE`), parsed straight from the
  venue's decimal strings by :func:`parse_cash`, never through a float.

Each carries ``venue`` (``"kalshi"``/``"polymarket"``), ``instrument`` (the Hadron instrument id,
``kalshi:<ticker>`` or ``polymarket:<token id>``) and the two clocks ``ts_event`` (venue time)
and ``ts_recv`` (local receipt), int ns since the Unix epoch. They are what a team trading by
hand beside Hadron did on its real account; the paper trader never reads them.
"""

from __future__ import annotations

from enum import StrEnum, unique

import msgspec

from hadron.errors import DecodeError
from hadron.model.units import _parse_fixed

CASH_SCALE = 1_000_000
"""Cash units per USD: account cash amounts are int, 1/1,000,000 USD."""


def parse_cash(text: str) -> int:
    """Parse a signed USD decimal string (``"50.0000"``, ``"-1.25"``, ``"0.000123"``) into
    1/1,000,000 USD.

    Raises:
        DecodeError: not a plain decimal string, or finer than $0.000001.
    """
    return _parse_fixed(text, 6, "cash", signed=True)


def format_cash(cash: int) -> str:
    """Format cash (1/1,000,000 USD) as a plain decimal string with 2 to 6 decimals: ``-1250000`` → ``"-1.25"``."""
    sign = "-" if cash < 0 else ""
    whole, frac = divmod(abs(cash), CASH_SCALE)
    digits = f"{frac:06d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"


@unique
class Outcome(StrEnum):
    """Which outcome an account event is exposed to (Kalshi YES/NO; a Polymarket token is ``TOKEN``)."""

    YES = "yes"
    NO = "no"
    TOKEN = "token"  # noqa: S105 - an outcome, not a credential


@unique
class OrderSide(StrEnum):
    """Buy or sell, in the instrument's own terms (on Kalshi: of the outcome ``outcome``)."""

    BUY = "buy"
    SELL = "sell"


@unique
class OrderStatus(StrEnum):
    """An order's state, common to both venues (Kalshi ``resting``/``canceled``/``executed``;
    Polymarket PLACEMENT/UPDATE/CANCELLATION and its ``status`` strings)."""

    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"


class AccountFill(msgspec.Struct, frozen=True, gc=False, tag="account_fill", tag_field="kind"):
    """One execution of one of our orders.

    ``outcome``/``side``: the exposure the fill gave (Kalshi ``outcome_side``: buy-YES and sell-NO
    are ``yes``; Polymarket: ``token`` and the order's BUY/SELL). ``price``: 1/10,000 USD in YES
    terms on Kalshi (``yes_price_dollars``), the token's price on Polymarket. ``size``:
    1/1,000,000 contract. ``fee``: cash, 1/1,000,000 USD (0 when the venue did not say).
    ``taker``: True taker, False maker, None unknown. ``status``: the venue's settlement state
    (Polymarket MATCHED/MINED/CONFIRMED/RETRYING/FAILED; Kalshi fills are final: ``""``).
    """

    venue: str
    instrument: str
    fill_id: str
    order_id: str
    client_order_id: str
    outcome: Outcome
    side: OrderSide
    price: int
    size: int
    fee: int
    taker: bool | None
    ts_event: int
    ts_recv: int
    post_position: int | None = None
    """The signed position after the fill (1/1,000,000 contract; +YES/−NO on Kalshi), when sent."""
    status: str = ""


class OrderUpdate(msgspec.Struct, frozen=True, gc=False, tag="order_update", tag_field="kind"):
    """The state of one of our orders after a change (placed, partly filled, filled, cancelled).

    ``price``: 1/10,000 USD (YES terms on Kalshi). ``initial``/``filled``/``remaining``:
    1/1,000,000 contract. ``ts_event``: the venue's time of the change (its creation time when the
    venue sends no other)."""

    venue: str
    instrument: str
    order_id: str
    client_order_id: str
    status: OrderStatus
    outcome: Outcome
    side: OrderSide
    price: int
    initial: int
    filled: int
    remaining: int
    ts_event: int
    ts_recv: int
    venue_status: str = ""
    """The venue's own status string (``resting``, ``PLACEMENT``/``LIVE``…), kept for display."""


class PositionUpdate(msgspec.Struct, frozen=True, gc=False, tag="position_update", tag_field="kind"):
    """Our position in one instrument as the venue states it.

    ``position``: signed, 1/1,000,000 contract (+YES/−NO on Kalshi; token shares on Polymarket).
    ``cost``, ``realized_pnl``, ``fees_paid``: cash, 1/1,000,000 USD. ``volume``: 1/1,000,000
    contract traded in total (0 when not sent). ``derived``: True when Hadron computed it from
    fills (Polymarket sends no positions), False when the venue sent it."""

    venue: str
    instrument: str
    position: int
    cost: int
    realized_pnl: int
    fees_paid: int
    ts_event: int
    ts_recv: int
    volume: int = 0
    derived: bool = False


class OrderGroupUpdate(msgspec.Struct, frozen=True, gc=False, tag="order_group_update", tag_field="kind"):
    """A change to an order group (Kalshi ``order_group_updates``): ``event`` is ``created``,
    ``triggered``, ``reset``, ``deleted`` or ``limit_updated``; ``contracts_limit`` 1/1,000,000
    contract when sent (created, limit_updated), else None."""

    venue: str
    order_group_id: str
    event: str
    contracts_limit: int | None
    ts_event: int
    ts_recv: int


AccountEvent = AccountFill | OrderUpdate | PositionUpdate | OrderGroupUpdate
"""Any normalized account event."""

ACCOUNT_DECODER: msgspec.json.Decoder[AccountEvent] = msgspec.json.Decoder(AccountEvent)
"""Decodes one account event from its JSON (``kind``-tagged), as the state store keeps it."""

__all__ = [
    "ACCOUNT_DECODER",
    "CASH_SCALE",
    "AccountEvent",
    "AccountFill",
    "DecodeError",
    "OrderGroupUpdate",
    "OrderSide",
    "OrderStatus",
    "OrderUpdate",
    "Outcome",
    "PositionUpdate",
    "format_cash",
    "parse_cash",
]
