"""The loopback Polymarket venue's order books: the exchange's truth the capture builds, in
Polymarket's wire form (``book`` messages with their hash) and served over REST (``GET /book``,
``POST /books``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hadron.model.units import PRICE_ONE, parse_price, parse_size
from hadron.venues.polymarket.hash import book_hash

MIN_ORDER_SIZE = "5"

ZERO_HASH = "0" * 40


def _decimal_text(value: int, scale: int) -> str:
    text = format(Decimal(value) / scale, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def price_text(price: int) -> str:
    """Polymarket's price string: ``4800`` → ``"0.48"``."""
    return _decimal_text(price, PRICE_ONE)


def size_text(size: int) -> str:
    """Polymarket's size string: ``45_830_000`` → ``"45.83"``."""
    return _decimal_text(size, 1_000_000)


@dataclass
class FakePolyBook:
    """One token's book: price (1/10,000 USD) → size (1/1,000,000), and its metadata."""

    market: str
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    timestamp_ms: int = 0
    tick_size: str = "0.01"
    last_trade_price: str = ""

    def set(self, side: str, price: int, size: int) -> None:
        """Set one level (``side`` BUY = bid, SELL = ask); size 0 removes it."""
        ladder = self.bids if side == "BUY" else self.asks
        if size > 0:
            ladder[price] = size
        else:
            ladder.pop(price, None)

    def best(self) -> tuple[str, str]:
        """The ``best_bid``/``best_ask`` strings a ``price_change`` entry carries."""
        bid = max(self.bids) if self.bids else 0
        ask = min(self.asks) if self.asks else PRICE_ONE
        return price_text(bid), price_text(ask)

    def levels(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """Bids ascending and asks descending (worst first), as the venue sends them."""
        bids = [{"price": price_text(p), "size": size_text(s)} for p, s in sorted(self.bids.items())]
        asks = [{"price": price_text(p), "size": size_text(s)} for p, s in sorted(self.asks.items(), reverse=True)]
        return bids, asks

    def message(self, asset_id: str) -> dict[str, Any]:
        """The ``book`` message for this token, with its hash."""
        bids, asks = self.levels()
        stamp = str(self.timestamp_ms)
        digest = book_hash(
            market=self.market,
            asset_id=asset_id,
            timestamp=stamp,
            bids=[(b["price"], b["size"]) for b in bids],
            asks=[(a["price"], a["size"]) for a in asks],
            min_order_size=MIN_ORDER_SIZE,
            tick_size=self.tick_size,
            neg_risk=False,
            last_trade_price=self.last_trade_price,
        )
        return {
            "market": self.market,
            "asset_id": asset_id,
            "timestamp": stamp,
            "hash": digest,
            "bids": bids,
            "asks": asks,
            "tick_size": self.tick_size,
            "event_type": "book",
            "last_trade_price": self.last_trade_price,
        }

    def summary(self, asset_id: str) -> dict[str, Any]:
        """The REST ``GET /book`` body (OrderBookSummary)."""
        msg = self.message(asset_id)
        msg.pop("event_type")
        return {**msg, "min_order_size": MIN_ORDER_SIZE, "neg_risk": False}


@dataclass
class FakePolyExchange:
    """Every token's book, updated as the capture plays."""

    books: dict[str, FakePolyBook] = field(default_factory=dict)

    def book(self, asset_id: str, market: str = "") -> FakePolyBook:
        """Return the token's book (created empty, with its market's tick when a sibling token
        already has one: the tick is the market's, both tokens share it)."""
        book = self.books.get(asset_id)
        if book is None:
            sibling = next((b for b in self.books.values() if market and b.market == market), None)
            book = self.books[asset_id] = FakePolyBook(market)
            if sibling is not None:
                book.tick_size = sibling.tick_size
        return book

    def _set_tick(self, book: FakePolyBook, tick_size: str) -> None:
        # A market's tick changes for all its tokens (the venue's book and tick_size_change say it per token)
        for other in self.books.values():
            if other is book or (book.market and other.market == book.market):
                other.tick_size = tick_size

    def apply(self, msg: dict[str, Any]) -> None:
        """Apply one market-channel message to the books."""
        kind = msg.get("event_type")
        if kind == "book":
            book = self.book(msg["asset_id"], msg.get("market", ""))
            book.bids = {parse_price(x["price"]): parse_size(x["size"]) for x in msg.get("bids") or []}
            book.asks = {parse_price(x["price"]): parse_size(x["size"]) for x in msg.get("asks") or []}
            book.bids = {p: s for p, s in book.bids.items() if s}
            book.asks = {p: s for p, s in book.asks.items() if s}
            book.timestamp_ms = int(msg["timestamp"])
            if msg.get("tick_size"):
                self._set_tick(book, msg["tick_size"])
            if msg.get("last_trade_price") is not None:
                book.last_trade_price = msg["last_trade_price"]
        elif kind == "price_change":
            for change in msg.get("price_changes") or []:
                book = self.book(change["asset_id"], msg.get("market", ""))
                book.set(change["side"], parse_price(change["price"]), parse_size(change["size"]))
                book.timestamp_ms = int(msg["timestamp"])
        elif kind == "last_trade_price":
            book = self.book(msg["asset_id"], msg.get("market", ""))
            book.last_trade_price = msg["price"]
        elif kind == "tick_size_change":
            self._set_tick(self.book(msg["asset_id"], msg.get("market", "")), msg["new_tick_size"])

    def rest_app(self) -> Starlette:
        """REST ``GET /book?token_id=`` and ``POST /books`` over these books."""

        async def get_book(request: Request) -> Response:
            token = request.query_params.get("token_id", "")
            if not token.isdigit():
                return JSONResponse({"error": "Invalid token id"}, status_code=400)
            book = self.books.get(token)
            if book is None:
                return JSONResponse({"error": "No orderbook exists for the requested token id"}, status_code=404)
            return JSONResponse(book.summary(token))

        async def post_books(request: Request) -> Response:
            body = await request.json()
            if not isinstance(body, list):
                return JSONResponse({"error": "body must be a list of {token_id}"}, status_code=400)
            tokens = [item.get("token_id", "") for item in body if isinstance(item, dict)]
            return JSONResponse([self.books[t].summary(t) for t in tokens if t in self.books])

        return Starlette(routes=[Route("/book", get_book), Route("/books", post_books, methods=["POST"])])
