"""The cross-venue matcher's market records: one listed market (or event) of each venue.

A :class:`KalshiMarketInfo` is one Kalshi market, or a whole event when it is listed without
markets; a :class:`PolymarketMarketInfo` one Polymarket (Gamma) market, or a whole event. They are
filled from the venues' REST listings (Kalshi ``GET /events``, ``/markets``, ``/series``; Gamma
``GET /events``, ``/markets``), saved (:mod:`hadron.match.inputs`) or live (each venue's
:class:`~hadron.venues.base.CatalogVenue`), and read by :mod:`hadron.match`. Strikes are
:class:`~decimal.Decimal`, never float; times are timezone-aware ``datetime`` (UTC when the venue
names no zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeAlias

import msgspec


class KalshiMarketInfo(msgspec.Struct, kw_only=True, frozen=True):
    """One Kalshi market (or a whole event when ``market_ticker`` is empty).

    Attributes:
        event_ticker: e.g. ``KXNBAGAME-26JAN06ORLWAS``.
        series_ticker: e.g. ``KXNBAGAME`` ("" when unknown).
        market_ticker: e.g. ``KXNBAGAME-26JAN06ORLWAS-WAS``; "" for an event-level record.
        event_title: the event's title ("" when only ``/markets`` was read).
        title: the market's title (the event title for an event-level record).
        yes_sub_title: what YES means, e.g. a team or a person ("" when unknown).
        no_sub_title: what NO means.
        strike_type: ``greater``, ``greater_or_equal``, ``less``, ``less_or_equal``, ``between``, … ("" if none).
        floor_strike: lower strike in the market's unit (dollars, index points, …), or None.
        cap_strike: upper strike, or None.
        close_time: when trading stops (UTC), or None.
        expiration_time: expected expiration / settlement time (UTC), or None.
        settlement_sources: names or URLs of the settlement sources.
        rules: ``rules_primary`` then ``rules_secondary``.
        multi_outcome: the event is mutually exclusive with more than one market (e.g. an award or a nominee).
        category: Kalshi's category ("" when unknown).
    """

    event_ticker: str
    series_ticker: str = ""
    market_ticker: str = ""
    event_title: str = ""
    title: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    strike_type: str = ""
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    close_time: datetime | None = None
    expiration_time: datetime | None = None
    settlement_sources: tuple[str, ...] = ()
    rules: str = ""
    multi_outcome: bool = False
    category: str = ""

    @property
    def key(self) -> str:
        """The market ticker, or the event ticker for an event-level record."""
        return self.market_ticker or self.event_ticker


class PolymarketMarketInfo(msgspec.Struct, kw_only=True, frozen=True):
    """One Polymarket (Gamma) market, or a whole event when ``condition_id`` is empty.

    Attributes:
        event_id: Gamma event id ("" when only ``/markets`` was read and the market names no event).
        event_slug: e.g. ``nba-orl-was-2026-01-06``.
        event_title: the event's title.
        condition_id: the market's condition id (``0x…``); "" for an event-level record.
        slug: the market's slug (the event slug for an event-level record).
        question: the market's question (the event title for an event-level record).
        outcomes: outcome labels in token order, e.g. ``("Yes", "No")`` or ``("Magic", "Wizards")``.
        token_ids: CLOB token ids, same order as ``outcomes``.
        group_item_title: the outcome's short name inside a multi-outcome event, e.g. a person.
        sports_market_type: ``moneyline``, ``spreads``, ``totals``, … ("" when not a sports market).
        end_time: the market's end date (UTC), or None.
        game_start_time: a sports market's start time (UTC), or None.
        resolution_source: the stated resolution source ("" when none).
        rules: the market's description (its resolution rules).
        multi_outcome: the event holds more than one market, or is neg-risk.
    """

    event_id: str = ""
    event_slug: str = ""
    event_title: str = ""
    condition_id: str = ""
    slug: str = ""
    question: str = ""
    outcomes: tuple[str, ...] = ()
    token_ids: tuple[str, ...] = ()
    group_item_title: str = ""
    sports_market_type: str = ""
    end_time: datetime | None = None
    game_start_time: datetime | None = None
    resolution_source: str = ""
    rules: str = ""
    multi_outcome: bool = False

    @property
    def key(self) -> str:
        """The condition id, or the event id/slug for an event-level record."""
        return self.condition_id or self.event_id or self.event_slug


MarketInfo: TypeAlias = KalshiMarketInfo | PolymarketMarketInfo
"""A record of either venue's catalogue (what :class:`hadron.venues.base.CatalogVenue` returns)."""


def parse_time(text: str | None) -> datetime | None:
    """Read a venue timestamp into an aware ``datetime`` (UTC when it names no zone).

    Accepts ISO 8601 with ``Z``, an offset, or Gamma's ``"2026-01-07 00:00:00+00"``; returns
    ``None`` for ``None``, ``""``, the zero date (``0001-…``) or an unreadable text.
    """
    if not text or text.startswith("0001-"):
        return None
    text = text.strip().replace(" ", "T", 1)
    if text.endswith("+00"):
        text += ":00"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
