"""An L2 book on a bounded tick grid with O(1) level updates.

Binary-outcome prices live in (0, 1) USD on a known increment, so each side of the book is a
ladder: a list of sizes indexed by ``price // tick``. Setting or changing a level is one list
store; the best bid/ask indices are kept incrementally and rescanned (towards worse prices)
only when the best level empties.

The grid adapts: the first tick comes from the venue (Polymarket ``tick_size``) or defaults to
one cent; a price off the grid (Kalshi sub-penny bands, a Polymarket tick change) re-grids the
ladder to the finer increment, an O(levels) step that happens at most a few times per book.
"""

from __future__ import annotations

from math import gcd

from hadron.errors import BookError
from hadron.model.events import Level, TopOfBook
from hadron.model.units import PRICE_ONE

DEFAULT_TICK = 100
"""One cent in 1/10,000 USD: the coarsest grid any binary venue uses."""

TOP_MOVED = 1
"""Bit of an update's result (:meth:`L2Book.set_bid` and the others): the best level of the
updated side changed, its price or its size."""
CROSSED = 2
"""Bit of an update's result: the book is crossed or locked afterwards (best bid ≥ best ask)."""
REFUSED = -1
"""An update's result when a change would take a level below zero (the book is untouched)."""

_ONE = PRICE_ONE  # a C constant once compiled (book/l2.pxd); level prices are 64-bit ints there
_TOP = TOP_MOVED
_CROSSED = CROSSED


class L2Book:
    """Aggregated bid and ask levels of one instrument.

    Prices: int, 1/10,000 USD, strictly between 0 and :data:`PRICE_ONE`. Sizes: int,
    1/1,000,000; a level with size 0 does not exist. The book does not judge integrity (that is
    :class:`~hadron.book.manager.BookManager`'s job) except that it refuses prices off (0, 1).
    """

    __slots__ = ("_asks", "_ba", "_bb", "_bids", "_n", "instrument", "tick")

    def __init__(self, instrument: str, tick: int = DEFAULT_TICK) -> None:
        self.instrument = instrument
        self._regrid_empty(tick)

    def _regrid_empty(self, tick: int) -> None:
        if tick <= 0 or PRICE_ONE % tick:
            tick = gcd(tick, PRICE_ONE) or 1
        self.tick = tick
        self._n = PRICE_ONE // tick + 1
        self._bids = [0] * self._n
        self._asks = [0] * self._n
        self._bb = -1
        self._ba = self._n

    def _fit(self, price: int) -> int:
        # Slow path: refuse a price off (0, 1); refine the grid for a price between its ticks
        if not 0 < price < PRICE_ONE:
            raise BookError(f"{self.instrument}: price {price} is outside (0, {PRICE_ONE})")
        if price % self.tick:
            self._regrid(gcd(self.tick, price))
        return self.tick

    def _index(self, price: int) -> int:
        tick = self.tick
        if not 0 < price < PRICE_ONE or price % tick:
            tick = self._fit(price)
        return price // tick

    def _regrid(self, tick: int) -> None:
        bids, asks = self.levels_bid(), self.levels_ask()
        self._regrid_empty(tick)
        self._load(bids, asks)

    def _load(self, bids: list[Level] | tuple[Level, ...], asks: list[Level] | tuple[Level, ...]) -> None:
        for price, size in bids:
            self.set_bid(price, size)
        for price, size in asks:
            self.set_ask(price, size)

    # -- updates ---------------------------------------------------------------------------

    def set_bid(self, price: int, size: int) -> int:
        """Set the bid level at ``price`` to ``size`` (0 removes it).

        Returns the update's bits: :data:`TOP_MOVED` when the best bid changed (price or size),
        :data:`CROSSED` when the book is crossed or locked afterwards."""
        tick = self.tick
        if not 0 < price < _ONE or price % tick:
            tick = self._fit(price)
        i = price // tick
        ladder = self._bids
        old = ladder[i]
        ladder[i] = size
        moved = 0
        if size:
            if i > self._bb:
                self._bb = i
                moved = _TOP
            elif i == self._bb and old != size:
                moved = _TOP
        elif i == self._bb:
            i -= 1
            while i >= 0 and not ladder[i]:
                i -= 1
            self._bb = i
            moved = _TOP
        return moved | _CROSSED if self._bb >= self._ba else moved

    def set_ask(self, price: int, size: int) -> int:
        """Set the ask level at ``price`` to ``size`` (0 removes it); returns the update's bits
        as :meth:`set_bid` (:data:`TOP_MOVED`: the best ask changed)."""
        tick = self.tick
        if not 0 < price < _ONE or price % tick:
            tick = self._fit(price)
        i = price // tick
        ladder = self._asks
        old = ladder[i]
        ladder[i] = size
        moved = 0
        if size:
            if i < self._ba:
                self._ba = i
                moved = _TOP
            elif i == self._ba and old != size:
                moved = _TOP
        elif i == self._ba:
            n = self._n
            i += 1
            while i < n and not ladder[i]:
                i += 1
            self._ba = i
            moved = _TOP
        return moved | _CROSSED if self._bb >= self._ba else moved

    def change_bid(self, price: int, change: int) -> int:
        """Add the signed ``change`` to the bid at ``price``.

        Returns the update's bits as :meth:`set_bid`, or :data:`REFUSED` when the level would go
        below zero (the book is untouched: the caller decides)."""
        tick = self.tick
        if not 0 < price < _ONE or price % tick:
            tick = self._fit(price)
        i = price // tick
        ladder = self._bids
        size = ladder[i] + change
        moved = 0
        if size > 0:
            ladder[i] = size
            if i > self._bb:
                self._bb = i
                moved = _TOP
            elif i == self._bb and change:
                moved = _TOP
        elif size == 0:
            ladder[i] = 0
            if i == self._bb:
                i -= 1
                while i >= 0 and not ladder[i]:
                    i -= 1
                self._bb = i
                moved = _TOP
        else:
            return REFUSED
        return moved | _CROSSED if self._bb >= self._ba else moved

    def change_ask(self, price: int, change: int) -> int:
        """Add the signed ``change`` to the ask at ``price``; returns as :meth:`change_bid`."""
        tick = self.tick
        if not 0 < price < _ONE or price % tick:
            tick = self._fit(price)
        i = price // tick
        ladder = self._asks
        size = ladder[i] + change
        moved = 0
        if size > 0:
            ladder[i] = size
            if i < self._ba:
                self._ba = i
                moved = _TOP
            elif i == self._ba and change:
                moved = _TOP
        elif size == 0:
            ladder[i] = 0
            if i == self._ba:
                n = self._n
                i += 1
                while i < n and not ladder[i]:
                    i += 1
                self._ba = i
                moved = _TOP
        else:
            return REFUSED
        return moved | _CROSSED if self._bb >= self._ba else moved

    def bid_size(self, price: int) -> int:
        """Return the size resting at bid ``price`` (0 when none)."""
        return self._bids[self._index(price)]

    def ask_size(self, price: int) -> int:
        """Return the size resting at ask ``price`` (0 when none)."""
        return self._asks[self._index(price)]

    def load(self, bids: tuple[Level, ...], asks: tuple[Level, ...], tick: int = 0) -> None:
        """Replace the whole book with ``bids`` and ``asks`` (``(price, size)`` pairs).

        ``tick``, when given, is the venue's increment; the grid is refined further if a level
        is off it. Raises :class:`BookError` for a price outside (0, 1).
        """
        grid = tick or DEFAULT_TICK
        for levels in (bids, asks):
            for price, _ in levels:
                if not 0 < price < PRICE_ONE:
                    raise BookError(f"{self.instrument}: price {price} is outside (0, {PRICE_ONE})")
                grid = gcd(grid, price)
        self._regrid_empty(grid)
        self._load(bids, asks)

    def clear(self) -> None:
        """Remove every level, keeping the grid."""
        self._regrid_empty(self.tick)

    # -- reads -----------------------------------------------------------------------------

    @property
    def best_bid(self) -> Level | None:
        """The best bid ``(price, size)``, or ``None`` when the bid side is empty."""
        i = self._bb
        return None if i < 0 else (i * self.tick, self._bids[i])

    @property
    def best_ask(self) -> Level | None:
        """The best ask ``(price, size)``, or ``None`` when the ask side is empty."""
        i = self._ba
        return None if i >= self._n else (i * self.tick, self._asks[i])

    @property
    def best_bid_price(self) -> int:
        """The best bid price, or 0 when the bid side is empty."""
        return self._bb * self.tick if self._bb >= 0 else 0

    @property
    def best_ask_price(self) -> int:
        """The best ask price, or :data:`PRICE_ONE` when the ask side is empty."""
        return self._ba * self.tick if self._ba < self._n else PRICE_ONE

    @property
    def is_crossed(self) -> bool:
        """True when both sides exist and best bid ≥ best ask (crossed or locked)."""
        return self._bb >= 0 and self._ba < self._n and self._bb >= self._ba

    @property
    def is_empty(self) -> bool:
        """True when neither side has a level."""
        return self._bb < 0 and self._ba >= self._n

    def top_matches(self, bid: int, ask: int) -> bool:
        """True when the best bid price is ``bid`` (0 for an empty side) and the best ask price
        ``ask`` (:data:`PRICE_ONE` for an empty side); a side given as -1 is not compared.
        Prices: int, 1/10,000 USD."""
        if bid >= 0 and bid != (self._bb * self.tick if self._bb >= 0 else 0):
            return False
        return ask < 0 or ask == (self._ba * self.tick if self._ba < self._n else _ONE)

    def top_of_book(self, ts_event: int, ts_recv: int) -> TopOfBook:
        """The best bid and ask as a :class:`TopOfBook` stamped ``ts_event`` / ``ts_recv`` (ns)."""
        bb, ba, tick = self._bb, self._ba, self.tick
        bid = bb >= 0
        ask = ba < self._n
        return TopOfBook(
            self.instrument,
            bb * tick if bid else None,
            self._bids[bb] if bid else 0,
            ba * tick if ask else None,
            self._asks[ba] if ask else 0,
            ts_event,
            ts_recv,
        )

    def levels_bid(self, depth: int | None = None, above: int | None = None) -> list[Level]:
        """Bid levels best (highest) first: at most ``depth`` of them, only prices > ``above``
        (int, 1/10,000 USD) when given."""
        out: list[Level] = []
        ladder, tick = self._bids, self.tick
        stop = -1 if above is None else max(-1, above // tick)
        for i in range(self._bb, stop, -1):
            size = ladder[i]
            if size:
                out.append((i * tick, size))
                if depth is not None and len(out) >= depth:
                    break
        return out

    def levels_ask(self, depth: int | None = None, below: int | None = None) -> list[Level]:
        """Ask levels best (lowest) first: at most ``depth`` of them, only prices < ``below``
        (int, 1/10,000 USD) when given."""
        out: list[Level] = []
        ladder, tick = self._asks, self.tick
        stop = self._n if below is None else min(self._n, max(0, -(-below // tick)))
        for i in range(self._ba, stop):
            size = ladder[i]
            if size:
                out.append((i * tick, size))
                if depth is not None and len(out) >= depth:
                    break
        return out
