"""A small script of orders the loopback venues play on their private channels.

Each :class:`ScriptedOrder` is one order of a team trading by hand: placed ``at`` seconds after
the script starts, filled by ``fill`` of its ``count`` (all of it, part of it, or none: it stays
resting / live), its rest optionally canceled ``cancel_at`` seconds after the start, and reported
on the venue's own private channels (Kalshi ``user_orders``, ``fill``, ``market_positions``;
Polymarket's user channel ``order`` and ``trade``), in the venue's wire format. Prices and counts
are the venue's decimal strings.

A script file (``hadron demo --account-script FILE``, ``hadron fake-venue … --account-script
FILE``) is a JSON list of such objects; ``venue`` says which loopback venue plays each one (empty:
any venue that is given the file). For example (``account-script.example.json``)::

    [
      {"venue": "kalshi", "at": 2, "instrument": "KXGOLD15M-26AUG102130-30",
       "side": "yes", "price": "0.4800", "count": "10.00", "fill": "10.00"},
      {"venue": "kalshi", "at": 6, "instrument": "KXGOLD15M-26AUG102130-30",
       "side": "no", "price": "0.5500", "count": "8.00", "fill": "3.00", "cancel_at": 14},
      {"venue": "polymarket", "at": 4, "instrument": "<YES token id>", "market": "<condition id>",
       "side": "BUY", "price": "0.42", "count": "25", "fill": "25"}
    ]

The scripted orders are played once each, only to clients already subscribed (the demo waits for
the runtime's private subscriptions before it starts the clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import structlog

from hadron.errors import DecodeError
from hadron.model.units import PRICE_ONE, SIZE_SCALE, parse_price, parse_size

log = structlog.get_logger("hadron.account_script")


class ScriptedOrder(msgspec.Struct, frozen=True):
    """One scripted order.

    Attributes:
        instrument: the Kalshi market ticker or the Polymarket token id.
        side: Kalshi ``yes``/``no`` (the outcome bought); Polymarket ``BUY``/``SELL``.
        price: the venue's price string (``"0.4800"``; YES terms on Kalshi).
        count: contracts or shares ordered (``"10.00"``).
        fill: how many of them fill (``"0"``: none; the order rests).
        market: Polymarket's condition id (``""`` on Kalshi).
        order_id: the venue's order id (made up from the script's position when empty).
        at: seconds after the script starts when the order is placed (and fills).
        venue: ``kalshi`` or ``polymarket``: the loopback venue that plays it (``""``: any).
        cancel_at: seconds after the start when the order's rest is canceled (``None``: never;
            it must be after ``at``).
        cancel: set on the cancellation entry :func:`timeline` makes (not written in files).
    """

    instrument: str
    side: str
    price: str
    count: str
    fill: str = "0"
    market: str = ""
    order_id: str = ""
    at: float = 0.0
    venue: str = ""
    cancel_at: float | None = None
    cancel: bool = False


SIDES = {"kalshi": ("yes", "no"), "polymarket": ("BUY", "SELL")}
"""The sides each venue plays (Kalshi: the outcome bought; Polymarket: the order's side)."""


def _check_sizes(i: int, order: ScriptedOrder) -> None:
    # count a positive, fill a non-negative size (2 decimals at most on Kalshi); fill <= count
    sizes: dict[str, int] = {}
    for name, text in (("count", order.count), ("fill", order.fill)):
        try:
            sizes[name] = parse_size(text)
        except DecodeError:
            sizes[name] = -1
        if sizes[name] < 0 or (name == "count" and sizes[name] == 0):
            kind = "a positive" if name == "count" else "a non-negative"
            raise ValueError(f"order {i}: {name} {text!r} must be {kind} decimal (at most 6 decimals), e.g. '10.00'")
        if order.venue == "kalshi" and sizes[name] % (SIZE_SCALE // 100):
            raise ValueError(f"order {i}: {name} {text!r} is finer than Kalshi's 0.01 contract; round it to 2 decimals")
    if sizes["fill"] > sizes["count"]:
        raise ValueError(f"order {i}: fill {order.fill!r} is more than count {order.count!r}; fill at most the count")


def _check_order(i: int, order: ScriptedOrder) -> None:
    """Raise a one-line ``ValueError`` naming order ``i``'s bad field and the fix."""
    if order.venue not in ("", *SIDES):
        raise ValueError(f"order {i}: venue {order.venue!r} is not kalshi or polymarket (or empty: any)")
    sides = SIDES.get(order.venue) or SIDES["kalshi"] + SIDES["polymarket"]
    if order.side not in sides:
        raise ValueError(f"order {i}: side {order.side!r} must be one of {', '.join(sides)}")
    if not order.instrument:
        raise ValueError(f"order {i}: instrument is empty; give the Kalshi ticker or the Polymarket token id")
    try:
        price = parse_price(order.price)
    except DecodeError:
        price = -1
    if not 0 < price < PRICE_ONE:
        raise ValueError(
            f"order {i}: price {order.price!r} must be a decimal in (0, 1) on a 0.0001 tick, e.g. '0.4800'"
        )
    _check_sizes(i, order)
    if not math.isfinite(order.at) or order.at < 0:
        raise ValueError(f"order {i}: at {order.at!r} must be a number of seconds >= 0")
    if order.cancel_at is not None and not (math.isfinite(order.cancel_at) and order.cancel_at > order.at):
        raise ValueError(f"order {i}: cancel_at {order.cancel_at!r} must be after at ({order.at!r}), or left out")


def check_script(orders: Sequence[ScriptedOrder]) -> None:
    """Check every field of every order (see :func:`load_script`).

    Raises:
        ValueError: one line naming the order index, the field and the fix.
    """
    for i, order in enumerate(orders):
        _check_order(i, order)


def load_script(path: Path) -> list[ScriptedOrder]:
    """Read a script file (a JSON list of :class:`ScriptedOrder` objects) and check every field:
    ``venue`` known, ``side`` one of the venue's (:data:`SIDES`; either venue's when ``venue`` is
    empty), ``price`` a decimal in (0, 1) on a 0.0001 tick (the finest price unit Hadron keeps),
    ``count`` a positive and ``fill`` a non-negative decimal of at most 6 decimals (2 on Kalshi),
    ``fill`` ≤ ``count``, ``at`` ≥ 0 and ``cancel_at`` after ``at``.

    Raises:
        msgspec.ValidationError / msgspec.DecodeError: not such a list.
        ValueError: a bad field (one line naming the order index and the field).
    """
    orders = msgspec.json.decode(path.read_bytes(), type=list[ScriptedOrder])
    check_script(orders)
    return orders


def _order_id(venue: str, index: int, order: ScriptedOrder) -> str:
    # a stable id in the venue's style (Kalshi: a UUID; Polymarket: 0x + 64 hex digits)
    digest = hashlib.sha256(f"{venue}:{index}:{order.instrument}:{order.at}".encode()).hexdigest()
    if venue == "polymarket":
        return "0x" + digest
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def timeline(orders: Iterable[ScriptedOrder], venue: str) -> list[tuple[float, ScriptedOrder]]:
    """``venue``'s orders (its own and those with no venue) as ``(seconds, entry)`` in time order:
    each placement, and for a ``cancel_at`` a ``cancel=True`` copy then; orders without an id get
    a stable one, so the cancellation names the order it cancels."""
    out: list[tuple[float, ScriptedOrder]] = []
    for i, order in enumerate(orders):
        if order.venue not in ("", venue):
            continue
        order = msgspec.structs.replace(order, order_id=order.order_id or _order_id(venue, i, order))
        out.append((order.at, order))
        if order.cancel_at is not None:
            out.append((order.cancel_at, msgspec.structs.replace(order, cancel=True)))
    out.sort(key=lambda item: item[0])  # stable: a placement stays before a cancel at the same time
    return out


async def play_timed(
    venue: Any,
    orders: Sequence[ScriptedOrder],
    name: str,
    stop: asyncio.Event,
    *,
    ready: Callable[[], bool] | None = None,
    ready_timeout: float | None = None,
) -> int:
    """Play ``name``'s entries of ``orders`` on ``venue`` (a loopback venue with ``play_account``)
    at their times. The clock starts once ``ready()`` is true (the client's private subscriptions
    are in) or ``ready_timeout`` seconds passed (``None``: no limit); ``stop`` ends it early.
    Return the frames sent."""
    loop = asyncio.get_running_loop()
    entries = timeline(orders, name)
    if not entries:
        return 0
    if ready is not None:
        deadline = loop.time() + ready_timeout if ready_timeout is not None else float("inf")
        while not ready() and loop.time() < deadline and not stop.is_set():  # noqa: ASYNC110 - polled state
            await asyncio.sleep(0.05)
    start, sent = loop.time(), 0
    for at, order in entries:
        wait = start + at - loop.time()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
        if stop.is_set():
            break
        try:
            sent += int(venue.play_account([order]))
        except Exception as exc:  # a bad order must not end the script: log it, play the next one
            log.warning("account script order not played", venue=name, order_id=order.order_id,
                        instrument=order.instrument, error=f"{type(exc).__name__}: {exc}")  # fmt: skip
    return sent
