"""Opportunity records and their NDJSON file.

Money is int, 1/10,000,000,000 USD (:data:`~hadron.model.fees.MONEY_SCALE`) inside Hadron and a
plain decimal string (``"1.2345"``) in the file; sizes are int, 1/1,000,000 share, written as
decimal strings too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from hadron.model.fees import MONEY_SCALE, FeeModel
from hadron.model.units import SIZE_SCALE, format_size

CROSS = "cross"
"""The kind of an opportunity across two venues. The other kinds are one venue's own market,
named after the venue: ``<venue>_yes_no`` (YES + NO of one book, ``kalshi_yes_no``) and
``<venue>_outcomes`` (the outcomes' own books, ``polymarket_outcomes``; see
:func:`hadron.arb.detector.intra_kind`)."""

_PRICE_QUANTUM = Decimal("0.00000001")


def money_text(money: int) -> str:
    """Format money (int, 1/10,000,000,000 USD) as an exact decimal string: ``12_500_000_000`` → ``"1.25"``."""
    text = str(Decimal(money).scaleb(-10).normalize())
    if "E" in text:
        text = f"{Decimal(money).scaleb(-10):f}".rstrip("0").rstrip(".") or "0"
    return text


def average_price_text(cost: int, size: int) -> str:
    """Average price per share in USD of ``size`` (1/1,000,000 share) costing ``cost`` (money units),
    rounded half-even to 8 decimals."""
    if size <= 0:
        return "0"
    value = Decimal(cost * SIZE_SCALE) / Decimal(size) / MONEY_SCALE
    return f"{value.quantize(_PRICE_QUANTUM).normalize():f}"


@dataclass(slots=True, kw_only=True)
class Leg:
    """One leg: ``size`` bought on ``venue`` of ``instrument`` paying on ``outcome``.

    Attributes:
        venue: the registered venue name (``"kalshi"``, ``"polymarket"``).
        instrument: the book's instrument id (``kalshi:<ticker>``, ``polymarket:<token id>``).
        outcome: ``"yes"`` or ``"no"``, in the instrument's own market's terms.
        fills: ``(price, size)`` fills, price int 1/10,000 USD, size int 1/1,000,000 share.
        cost: int, money units, fills only. fee: int, money units, the order's fee.
        from_bids: the leg's asks are ``1 −`` the instrument book's bids (Kalshi NO, or a
            Polymarket NO bought through the YES token's book); selling it hits ``1 −`` the asks.
        fee_model: the venue market's taker :class:`~hadron.model.fees.FeeModel` (for execution).
    """

    venue: str
    instrument: str
    outcome: str
    fills: tuple[tuple[int, int], ...]
    cost: int
    fee: int
    from_bids: bool = False
    fee_model: FeeModel | None = None

    @property
    def size(self) -> int:
        """Shares bought, int, 1/1,000,000."""
        return sum(s for _, s in self.fills)

    def to_json(self) -> dict[str, Any]:
        """The leg as JSON-ready builtins (money and sizes as decimal strings)."""
        return {
            "venue": self.venue,
            "instrument": self.instrument,
            "outcome": self.outcome,
            "price": average_price_text(self.cost, self.size),
            "size": format_size(self.size),
            "cost": money_text(self.cost),
            "fee": money_text(self.fee),
        }


@dataclass(slots=True, kw_only=True)
class Opportunity:
    """One opportunity from open to close; the figures are those of its latest evaluation.

    Attributes:
        id: unique within a detector (``"<pair>/<kind>/<direction>/<n>"``).
        pair: the pair id (or, intra-venue, the instrument).
        kind: :data:`CROSS` or a venue's own-market kind (``kalshi_yes_no``).
        direction: which legs, e.g. ``"kalshi_yes+polymarket_no"``.
        opened_ns / last_ns / closed_ns: ns since the epoch (``closed_ns`` ``None`` while open).
        legs: the two :class:`Leg` records; size: shares per leg (int, 1/1,000,000).
        cost / payout / fees / net: int, money units; ``cost`` includes fees.
        peak_net: the largest ``net`` seen; updates: evaluations that changed the figures.
        settle_ns: the later settlement of the legs (ns) when known.
    """

    id: str
    pair: str
    kind: str
    direction: str
    opened_ns: int
    last_ns: int
    legs: list[Leg]
    size: int
    cost: int
    payout: int
    fees: int
    net: int
    peak_net: int
    settle_ns: int | None = None
    closed_ns: int | None = None
    updates: int = 0
    close_reason: str = ""

    @property
    def edge(self) -> int:
        """Net profit per whole share, money units."""
        return self.net * SIZE_SCALE // self.size if self.size else 0

    def annualized_return(self, now_ns: int | None = None) -> str | None:
        """``net / cost`` scaled to a year over the time left to settlement, as a decimal string
        (8 decimals), or ``None`` when the settlement time is unknown or not after ``now_ns``
        (default: when the opportunity opened)."""
        start = self.opened_ns if now_ns is None else now_ns
        if self.settle_ns is None or self.settle_ns <= start or self.cost <= 0:
            return None
        year_ns = 365 * 24 * 3600 * 10**9
        value = Decimal(self.net) * year_ns / (Decimal(self.cost) * (self.settle_ns - start))
        return f"{value.quantize(_PRICE_QUANTUM):f}"

    def to_json(self) -> dict[str, Any]:
        """The NDJSON record (money as decimal strings; see ``hadron replay --help``)."""
        return {
            "id": self.id,
            "pair": self.pair,
            "kind": self.kind,
            "direction": self.direction,
            "opened_ns": self.opened_ns,
            "closed_ns": self.closed_ns,
            "duration_ns": (self.closed_ns if self.closed_ns is not None else self.last_ns) - self.opened_ns,
            "legs": [leg.to_json() for leg in self.legs],
            "size": format_size(self.size),
            "cost": money_text(self.cost),
            "payout": money_text(self.payout),
            "fees": money_text(self.fees),
            "net_edge": money_text(self.net),
            "net_edge_per_contract": money_text(self.edge),
            "peak_net_edge": money_text(self.peak_net),
            "annualized_return": self.annualized_return(),
            "updates": self.updates,
            "close_reason": self.close_reason,
        }


def write_ndjson(path: Path, opportunities: list[Opportunity]) -> int:
    """Write one JSON object per opportunity to ``path`` (replaced); return how many.

    Raises:
        OSError: the file cannot be written.
    """
    encoder = msgspec.json.Encoder()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for opportunity in opportunities:
            out.write(encoder.encode(opportunity.to_json()) + b"\n")
    return len(opportunities)
