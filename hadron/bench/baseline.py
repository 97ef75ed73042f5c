"""The naive baseline ``hadron bench compare`` times Hadron against, on the same frames.

A typical hobby implementation of the two venues' order books: every frame ``json.loads``-ed
into dicts, prices and sizes as ``Decimal`` keys and values, the best bid and ask recomputed with
``max``/``min`` after every update. Each function consumes a list of raw frames (bytes) and
returns the per-frame latency samples in ns when given a ``clock`` (``time.perf_counter_ns``),
else an empty array. Written plainly on purpose: it is the yardstick, not a model.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable
from decimal import Decimal

Lines = list[bytes]


def hobby_kalshi(lines: Lines, clock: Callable[[], int] | None = None) -> array[int]:
    """Kalshi capture lines through ``json`` + ``Decimal`` dict books, best prices recomputed."""
    books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
    samples: array[int] = array("q")
    one = Decimal(1)
    for line in lines:
        t0 = clock() if clock is not None else 0
        event = json.loads(line)["event"]
        kind = event.get("type")
        msg = event.get("msg") or {}
        if kind == "orderbook_snapshot":
            book = books[msg["market_ticker"]] = {
                "yes": {Decimal(p): Decimal(s) for p, s in msg.get("yes_dollars_fp") or []},
                "no": {Decimal(p): Decimal(s) for p, s in msg.get("no_dollars_fp") or []},
            }
        elif kind == "orderbook_delta":
            book = books.setdefault(msg["market_ticker"], {"yes": {}, "no": {}})
            side = book[msg["side"]]
            price = Decimal(msg["price_dollars"])
            size = side.get(price, Decimal(0)) + Decimal(msg["delta_fp"])
            if size > 0:
                side[price] = size
            else:
                side.pop(price, None)
        else:
            if clock is not None:
                samples.append(clock() - t0)
            continue
        best_bid = max(book["yes"]) if book["yes"] else None
        best_ask = one - max(book["no"]) if book["no"] else None
        _ = (best_bid, best_ask)
        if clock is not None:
            samples.append(clock() - t0)
    return samples


def hobby_polymarket(frames: Lines, clock: Callable[[], int] | None = None) -> array[int]:
    """Polymarket market-channel frames through ``json`` + ``Decimal`` dict books."""
    books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
    samples: array[int] = array("q")
    for frame in frames:
        t0 = clock() if clock is not None else 0
        value = json.loads(frame)
        touched: list[str] = []
        for msg in value if isinstance(value, list) else [value]:
            kind = msg.get("event_type")
            if kind == "book":
                books[msg["asset_id"]] = {
                    "bids": {Decimal(lv["price"]): Decimal(lv["size"]) for lv in msg["bids"]},
                    "asks": {Decimal(lv["price"]): Decimal(lv["size"]) for lv in msg["asks"]},
                }
                touched.append(msg["asset_id"])
            elif kind == "price_change":
                for change in msg["price_changes"]:
                    book = books.setdefault(change["asset_id"], {"bids": {}, "asks": {}})
                    side = book["bids" if change["side"] == "BUY" else "asks"]
                    price, size = Decimal(change["price"]), Decimal(change["size"])
                    if size:
                        side[price] = size
                    else:
                        side.pop(price, None)
                    touched.append(change["asset_id"])
        for asset in touched:
            book = books[asset]
            _ = (max(book["bids"]) if book["bids"] else None, min(book["asks"]) if book["asks"] else None)
        if clock is not None:
            samples.append(clock() - t0)
    return samples
