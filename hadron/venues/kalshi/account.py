"""Kalshi's private channels normalized into account events (pure: no I/O).

``fill`` → :class:`~hadron.model.account.AccountFill`, ``user_order`` →
:class:`~hadron.model.account.OrderUpdate`, ``market_position`` →
:class:`~hadron.model.account.PositionUpdate`, ``order_group_updates`` →
:class:`~hadron.model.account.OrderGroupUpdate` (see Kalshi AsyncAPI ``fill``, ``userOrder``,
``marketPosition``, ``orderGroupUpdates``). Units as the venue sends them: ``*_dollars`` and
``fee_cost`` are USD decimal strings (→ cash, 1/1,000,000 USD), ``*_fp`` counts with 2 decimals
(→ 1/1,000,000 contract), ``yes_price_dollars`` USD with up to 4 decimals (→ 1/10,000 USD),
``ts_ms`` Unix milliseconds (→ ns; the deprecated ``ts`` is seconds). A message without a venue
time takes its receive time as ``ts_event``.

Direction: ``outcome_side`` (buy-YES and sell-NO are ``yes``; buy-NO and sell-YES are ``no``) is
the exposure; where only the deprecated ``side``/``action`` (or ``is_yes``) are sent, as in the
spec's own examples, it is derived from them the same way. A Kalshi account event is therefore
always a BUY of its ``outcome``; positions are signed +YES/−NO.
"""

from __future__ import annotations

from collections.abc import Callable

from hadron.errors import DecodeError
from hadron.model.account import (
    AccountEvent,
    AccountFill,
    OrderGroupUpdate,
    OrderSide,
    OrderStatus,
    OrderUpdate,
    Outcome,
    PositionUpdate,
    parse_cash,
)
from hadron.model.units import parse_price, parse_size
from hadron.venues.kalshi.messages import (
    MAX_MS,
    KalshiFill,
    KalshiMarketPosition,
    KalshiMessage,
    KalshiOrderGroupUpdate,
    KalshiUserOrder,
)

VENUE = "kalshi"
_PREFIX = "kalshi:"

_STATUS = {"resting": OrderStatus.OPEN, "canceled": OrderStatus.CANCELED, "executed": OrderStatus.FILLED}
"""Kalshi ``user_order`` ``status`` (AsyncAPI enum) → the common status."""


def _ns(ms: int, recv_ns: int, seconds: int = 0) -> int:
    # Venue ms (or deprecated seconds) → ns; none sent → the receive time
    if ms:
        if not 0 < ms <= MAX_MS:
            raise DecodeError(f"timestamp {ms} ms is out of range")
        return ms * 1_000_000
    if seconds:
        if not 0 < seconds <= MAX_MS // 1000:
            raise DecodeError(f"timestamp {seconds} s is out of range")
        return seconds * 1_000_000_000
    return recv_ns


def _outcome(outcome_side: str, book_side: str, side: str, action: str, is_yes: bool | None = None) -> Outcome:
    # The exposure: outcome_side, else book_side (bid = yes), else the deprecated side/action or is_yes
    if outcome_side in ("yes", "no"):
        return Outcome(outcome_side)
    if book_side in ("bid", "ask"):
        return Outcome.YES if book_side == "bid" else Outcome.NO
    if side not in ("yes", "no") and is_yes is not None:
        side = "yes" if is_yes else "no"
    if side in ("yes", "no"):
        if action == "sell":
            return Outcome.NO if side == "yes" else Outcome.YES
        return Outcome(side)
    raise DecodeError(f"no direction (outcome_side {outcome_side!r}, side {side!r})")


def _instrument(ticker: str) -> str:
    if not ticker:
        raise DecodeError("no market ticker")
    return _PREFIX + ticker


def normalize_fill(msg: KalshiFill, recv_ns: int) -> AccountFill:
    """``fill`` → :class:`AccountFill` (price in YES terms; ``post_position`` signed +YES/−NO).

    Raises:
        DecodeError: a bad price, count, fee or timestamp, or no direction.
    """
    m = msg.msg
    return AccountFill(
        venue=VENUE,
        instrument=_instrument(m.market_ticker),
        fill_id=m.trade_id,
        order_id=m.order_id,
        client_order_id=m.client_order_id,
        outcome=_outcome(m.outcome_side, m.book_side, m.side or m.purchased_side, m.action if m.side else ""),
        side=OrderSide.BUY,
        price=parse_price(m.yes_price_dollars),
        size=parse_size(m.count_fp),
        fee=parse_cash(m.fee_cost) if m.fee_cost else 0,
        taker=m.is_taker,
        ts_event=_ns(m.ts_ms, recv_ns, m.ts),
        ts_recv=recv_ns,
        post_position=parse_size(m.post_position_fp) if m.post_position_fp else None,
    )


def normalize_user_order(msg: KalshiUserOrder, recv_ns: int) -> OrderUpdate:
    """``user_order`` → :class:`OrderUpdate` (``ts_event``: ``last_updated_ts_ms``, else
    ``created_ts_ms``).

    Raises:
        DecodeError: an unknown status, a bad price, count or timestamp, or no direction.
    """
    m = msg.msg
    status = _STATUS.get(m.status)
    if status is None:
        raise DecodeError(f"user_order status {m.status!r} is not resting, canceled or executed")
    return OrderUpdate(
        venue=VENUE,
        instrument=_instrument(m.ticker),
        order_id=m.order_id,
        client_order_id=m.client_order_id,
        status=status,
        outcome=_outcome(m.outcome_side, m.book_side, m.side, m.action, m.is_yes),
        side=OrderSide.BUY,
        price=parse_price(m.yes_price_dollars),
        initial=parse_size(m.initial_count_fp) if m.initial_count_fp else 0,
        filled=parse_size(m.fill_count_fp) if m.fill_count_fp else 0,
        remaining=parse_size(m.remaining_count_fp) if m.remaining_count_fp else 0,
        ts_event=_ns(m.last_updated_ts_ms or m.created_ts_ms, recv_ns),
        ts_recv=recv_ns,
        venue_status=m.status,
    )


def normalize_position(msg: KalshiMarketPosition, recv_ns: int) -> PositionUpdate:
    """``market_position`` → :class:`PositionUpdate` (no venue time: ``ts_event`` is ``recv_ns``).

    Raises:
        DecodeError: a bad count or dollar string.
    """
    m = msg.msg
    return PositionUpdate(
        venue=VENUE,
        instrument=_instrument(m.market_ticker),
        position=parse_size(m.position_fp) if m.position_fp else 0,
        cost=parse_cash(m.position_cost_dollars) if m.position_cost_dollars else 0,
        realized_pnl=parse_cash(m.realized_pnl_dollars) if m.realized_pnl_dollars else 0,
        fees_paid=parse_cash(m.fees_paid_dollars) if m.fees_paid_dollars else 0,
        ts_event=recv_ns,
        ts_recv=recv_ns,
        volume=parse_size(m.volume_fp) if m.volume_fp else 0,
    )


def normalize_order_group(msg: KalshiOrderGroupUpdate, recv_ns: int) -> OrderGroupUpdate:
    """``order_group_updates`` → :class:`OrderGroupUpdate`.

    Raises:
        DecodeError: a bad limit or timestamp.
    """
    m = msg.msg
    return OrderGroupUpdate(
        venue=VENUE,
        order_group_id=m.order_group_id,
        event=m.event_type,
        contracts_limit=parse_size(m.contracts_limit_fp) if m.contracts_limit_fp else None,
        ts_event=_ns(m.ts_ms, recv_ns),
        ts_recv=recv_ns,
    )


def normalize_private(msg: KalshiMessage, recv_ns: int) -> AccountEvent | None:
    """Any private-channel message → its account event; ``None`` for any other type.

    Raises:
        DecodeError: as the normalizer of its type.
    """
    if isinstance(msg, KalshiFill):
        return normalize_fill(msg, recv_ns)
    if isinstance(msg, KalshiUserOrder):
        return normalize_user_order(msg, recv_ns)
    if isinstance(msg, KalshiMarketPosition):
        return normalize_position(msg, recv_ns)
    if isinstance(msg, KalshiOrderGroupUpdate):
        return normalize_order_group(msg, recv_ns)
    return None


def account_hook(on_account: Callable[[AccountEvent], None]) -> Callable[[KalshiMessage, int], None]:
    """A stream's ``on_private`` hook that normalizes each private message and hands it to
    ``on_account``. A bad value raises DecodeError, which the stream counts and dead-letters."""

    def on_private(msg: KalshiMessage, recv_ns: int) -> None:
        event = normalize_private(msg, recv_ns)
        if event is not None:
            on_account(event)

    return on_private
