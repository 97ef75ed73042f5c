"""Polymarket instruments from REST: the REST book as a snapshot, and Gamma markets as instruments.

:func:`normalize_rest_book` turns a CLOB ``OrderBookSummary`` into a :class:`BookSnapshot`;
:class:`PolymarketInstrumentProvider` loads :class:`PolymarketInstrument` records from Gamma
``GET /markets`` (and CLOB ``GET /tick-size`` for a market Gamma gives no tick), Polymarket docs
``api-reference``; ``docs/protocols/polymarket.md#gamma-rest``, ``#fees``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import structlog

from hadron.errors import DecodeError
from hadron.model.events import BookSnapshot
from hadron.model.units import PRICE_SCALE
from hadron.venues.polymarket.fees import PolymarketFeeSchedule
from hadron.venues.polymarket.normalize import _levels, _tick, instrument_of, parse_ms
from hadron.venues.polymarket.rest.clob import PolymarketClobClient
from hadron.venues.polymarket.rest.gamma import PolymarketGammaClient
from hadron.venues.polymarket.rest.wire import PolymarketBookSummary, PolymarketGammaMarket

log = structlog.get_logger("hadron.polymarket.rest")

# -- normalization -----------------------------------------------------------------------------


def normalize_rest_book(summary: PolymarketBookSummary, ts_recv: int) -> BookSnapshot:
    """Turn a REST book into a :class:`BookSnapshot` of ``polymarket:<asset_id>``.

    Levels are re-sorted best first (the wire sends them worst first); zero-size levels are
    dropped (a negative size, or a price outside (0, 1) or off ``tick_size``, is kept: the book
    manager refuses it, BadValue). ``tick`` comes from ``tick_size`` (1/10,000 USD; 0 when
    absent); ``ts_event`` from ``timestamp`` (ms → ns); ``ts_recv`` in ns.

    Raises:
        DecodeError: a malformed token id, timestamp, price or size; BadValue: a ``tick_size``
            of zero.
    """
    bids = _levels(summary.bids or [])
    asks = _levels(summary.asks or [])
    bids.sort(reverse=True)
    asks.sort()
    return BookSnapshot(
        instrument_of(summary.asset_id),
        tuple(bids),
        tuple(asks),
        parse_ms(summary.timestamp),
        ts_recv,
        _tick(summary.tick_size),
    )


# -- instruments -------------------------------------------------------------------------------


def price_units(value: Decimal) -> int:
    """Return a dollar ``Decimal`` in 1/10,000 USD (``Decimal("0.001")`` → ``10``), exactly.

    Raises:
        DecodeError: not a finite, non-negative multiple of $0.0001.
    """
    if not value.is_finite() or value < 0:
        raise DecodeError(f"price {value} is not a finite non-negative number")
    units = value * PRICE_SCALE
    if units != units.to_integral_value():
        raise DecodeError(f"price {value} is finer than $0.0001")
    return int(units)


def size_text(value: Decimal) -> str:
    """Return a size as the CLOB writes it: plain digits, no exponent or trailing zeros
    (``Decimal("5")`` → ``"5"``, ``Decimal("14.960")`` → ``"14.96"``)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class PolymarketInstrument:
    """What Hadron needs to trade one Polymarket market (one condition, two or more tokens).

    Attributes:
        condition_id: ``0x`` + 64 hex.
        question / slug: the market's question and Gamma slug.
        tokens: ``((token_id, outcome), …)``, index 0 the YES/first outcome.
        tick: int, 1/10,000 USD (``10`` = $0.001); 0 when unknown.
        min_order_size: minimum order size, shares (exact ``Decimal``).
        neg_risk: whether the market trades on the neg-risk exchange.
        end_date: ISO 8601 (``"2028-11-07T00:00:00Z"``), ``""`` when unknown.
        active / closed / accepting_orders: the market's state when loaded.
        fees: the market's taker fee rule.
        market: the Gamma record as loaded.
    """

    condition_id: str
    question: str
    slug: str
    tokens: tuple[tuple[str, str], ...]
    tick: int
    min_order_size: Decimal
    neg_risk: bool
    end_date: str
    active: bool
    closed: bool
    accepting_orders: bool
    fees: PolymarketFeeSchedule
    market: PolymarketGammaMarket

    @property
    def token_ids(self) -> tuple[str, ...]:
        """The token ids, index 0 the YES/first outcome."""
        return tuple(token for token, _ in self.tokens)

    @property
    def instruments(self) -> tuple[str, ...]:
        """Hadron's instrument ids, ``polymarket:<token_id>``, in token order."""
        return tuple(instrument_of(token) for token, _ in self.tokens)

    @property
    def tradeable(self) -> bool:
        """Active, not closed, accepting orders, with an order book."""
        return self.active and not self.closed and self.accepting_orders and self.market.enable_order_book

    @property
    def hash_meta(self) -> tuple[str, bool]:
        """``(min_order_size, neg_risk)`` as the book hash needs them (``("5", True)``)."""
        return size_text(self.min_order_size), self.neg_risk


class PolymarketInstrumentProvider:
    """Loads :class:`PolymarketInstrument` records from Gamma (and the CLOB for missing ticks).

    Args:
        gamma: the Gamma client.
        clob: a CLOB client, asked for ``/tick-size`` when Gamma has no tick for a market.

    :attr:`instruments` keeps every instrument loaded so far by condition id;
    :meth:`meta` serves the stream's book-hash metadata by token id.
    """

    def __init__(self, gamma: PolymarketGammaClient, clob: PolymarketClobClient | None = None) -> None:
        self.gamma = gamma
        self.clob = clob
        self.instruments: dict[str, PolymarketInstrument] = {}
        self._by_token: dict[str, str] = {}

    def meta(self, token_id: str) -> tuple[str, bool] | None:
        """Return ``(min_order_size, neg_risk)`` of the token's market, or ``None`` if not loaded."""
        condition_id = self._by_token.get(token_id)
        return None if condition_id is None else self.instruments[condition_id].hash_meta

    async def _lookup(self, ids: list[str], *, by_token: bool) -> list[PolymarketGammaMarket]:
        # Gamma hides closed markets unless asked: look up the ones not found with closed=true.
        found: list[PolymarketGammaMarket] = []
        for closed in (None, True):
            if not ids:
                break
            if by_token:
                markets = await self.gamma.get_markets(clob_token_ids=ids, closed=closed)
            else:
                markets = await self.gamma.get_markets(condition_ids=ids, closed=closed)
            seen = {market.condition_id for market in markets}
            seen.update(token for market in markets for token in market.clob_token_ids)
            found += markets
            ids = [i for i in ids if i not in seen]
        return found

    async def load(
        self, *, condition_ids: Sequence[str] | None = None, token_ids: Sequence[str] | None = None
    ) -> dict[str, PolymarketInstrument]:
        """Load the markets of ``condition_ids`` and/or ``token_ids``; ids Gamma does not know
        are left out (and logged), as are markets without CLOB tokens.

        Returns:
            condition id → :class:`PolymarketInstrument`.

        Raises:
            DecodeError: a market whose outcomes and token ids do not pair up, or a tick finer
                than $0.0001. AuthError, RequestError, RateLimited, TransportError: as the REST
                calls raise them.
        """
        by_condition = list(dict.fromkeys(condition_ids or ()))
        by_token = list(dict.fromkeys(token_ids or ()))
        found: list[PolymarketGammaMarket] = []
        if by_condition:
            found += await self._lookup(by_condition, by_token=False)
        if by_token:
            found += await self._lookup(by_token, by_token=True)
        wanted = set(by_condition) | set(by_token)
        out: dict[str, PolymarketInstrument] = {}
        for market in found:
            if market.condition_id in out or wanted.isdisjoint((market.condition_id, *market.clob_token_ids)):
                continue
            instrument = await self._instrument(market)
            if instrument is not None:
                out[market.condition_id] = instrument
        known = set(out) | {token for inst in out.values() for token in inst.token_ids}
        missing = [i for i in (*by_condition, *by_token) if i not in known]
        if missing:
            log.warning("polymarket markets not found", count=len(missing), ids=missing[:20])
        self.instruments.update(out)
        for condition_id, instrument in out.items():
            self._by_token.update(dict.fromkeys(instrument.token_ids, condition_id))
        return out

    async def _instrument(self, market: PolymarketGammaMarket) -> PolymarketInstrument | None:
        tokens = market.clob_token_ids
        if not market.condition_id or not tokens:
            log.warning("polymarket market without CLOB tokens skipped", id=market.id, slug=market.slug)
            return None
        if len(market.outcomes) != len(tokens):
            raise DecodeError(
                f"Gamma market {market.id}: {len(market.outcomes)} outcomes for {len(tokens)} clobTokenIds"
            )
        for token in tokens:
            instrument_of(token)
        tick = 0
        if market.order_price_min_tick_size is not None:
            tick = price_units(market.order_price_min_tick_size)
        elif self.clob is not None:
            tick = price_units(await self.clob.get_tick_size(tokens[0]))
        return PolymarketInstrument(
            condition_id=market.condition_id,
            question=market.question,
            slug=market.slug,
            tokens=tuple(zip(tokens, market.outcomes, strict=True)),
            tick=tick,
            min_order_size=market.order_min_size if market.order_min_size is not None else Decimal(0),
            neg_risk=market.neg_risk,
            end_date=market.end_date,
            active=market.active,
            closed=market.closed,
            accepting_orders=market.accepting_orders,
            fees=PolymarketFeeSchedule.from_gamma(market),
            market=market,
        )
