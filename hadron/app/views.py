"""What the dashboard shows beyond the raw books: each pair's combined cost, risk usage, reference prices.

Computed when a snapshot is taken (twice a second, for ``/ws`` and ``/api/snapshot``), never on
the hot path: each reads the top of a few books and the paper trader's state.

Units, as everywhere in Hadron: prices int 1/10,000 USD, sizes int 1/1,000,000 contract, money
int 1/10,000,000,000 USD (:data:`~hadron.model.fees.MONEY_SCALE`); the views send prices with
:func:`~hadron.model.units.format_price`, sizes with :func:`~hadron.model.units.format_size` and
money with :func:`~hadron.arb.opportunity.money_text` (exact decimal strings: the page rounds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hadron.arb.opportunity import Opportunity, money_text
from hadron.book.manager import BookManager
from hadron.match.pairs import Pair, PairLeg
from hadron.model.events import IndexPrice
from hadron.model.fees import MONEY_SCALE, FeeModel, NoFee
from hadron.model.instrument import instrument_id
from hadron.model.units import PRICE_ONE, SIZE_SCALE, format_index_value, format_price, format_size

if TYPE_CHECKING:
    from hadron.arb.terms import PairTerms
    from hadron.paper.trader import PaperTrader


def _best_ask(books: BookManager, instrument: str, from_bids: bool) -> tuple[int, int] | None:
    # The best ask (price, size) of an outcome: the book's own, or 1 − its best bid (a NO ask read
    # from a YES book); None when that side is empty or there is no book
    book = books.get(instrument)
    if book is None:
        return None
    levels = book.levels_bid(1) if from_bids else book.levels_ask(1)
    if not levels:
        return None
    price, size = levels[0]
    return (PRICE_ONE - price, size) if from_bids else (price, size)


_Outcome = tuple[str, str, str, bool, FeeModel]
"""(venue, outcome label, instrument, ask read from the bids, fee model)"""


def _outcomes(leg: PairLeg, fee: FeeModel, *, flip: bool) -> tuple[_Outcome, _Outcome]:
    # A leg's YES and NO outcomes; ``flip``: the labels swapped (a complement pair's second leg)
    yes_label, no_label = ("no", "yes") if flip else ("yes", "no")
    yes = instrument_id(leg.venue, leg.yes)
    no = instrument_id(leg.venue, leg.no) if leg.no else yes
    return (leg.venue, yes_label, yes, False, fee), (leg.venue, no_label, no, not leg.no, fee)


def pair_costs(
    pair: Pair,
    terms: PairTerms | None,
    books: BookManager,
    open_opportunities: Mapping[str, Opportunity],
    fees_in_force: Mapping[str, Sequence[FeeModel]] | None = None,
) -> list[dict[str, Any]]:
    """The two cross-venue directions of ``pair`` at the best asks, per contract.

    ``<venue A>_yes+<venue B>_…`` (``kalshi_yes+polymarket_no``): leg A's YES (its ask) with the
    leg B outcome that pays when leg A's NO does (its NO book's ask, or 1 − its YES book's bid);
    ``<venue A>_no+<venue B>_…``: leg A's NO (its NO book's ask, or 1 − its YES bid) with leg B's
    YES. Direction names and opportunity keys are the detector's
    (:class:`~hadron.arb.detector.ArbDetector`).

    Each: ``direction``; ``legs`` (``venue``, ``outcome``, ``instrument``, ``ask``, ``ask_size``);
    ``cost``: the asks' sum (a price, USD; ``None`` when a leg has no ask); ``gross_edge``:
    $1 − ``cost``; ``fees``: both legs' fees on a one-contract order (money); ``net_edge``:
    $1 − cost − fees, one contract (money); ``opportunity``: the detector's open opportunity in
    that direction (``size``, ``net``, ``net_per_contract``: its net edge after fees at that
    size) or ``None``. ``fees_in_force``: the detector's fee models per direction key
    (:func:`hadron.arb.edges.cross_fees`: what the fee registry put in force), else ``terms``'.
    """
    leg_a, leg_b = pair.legs[:2]
    fee_a: FeeModel = terms.leg(0).fee if terms is not None else NoFee()
    fee_b: FeeModel = terms.leg(1).fee if terms is not None else NoFee()
    a_yes, a_no = _outcomes(leg_a, fee_a, flip=False)
    b_yes, b_no = _outcomes(leg_b, fee_b, flip=pair.relation == "complement")
    out = []
    for a, b in ((a_yes, b_no), (a_no, b_yes)):
        direction = f"{a[0]}_{a[1]}+{b[0]}_{b[1]}"
        models = (fees_in_force or {}).get(f"{pair.id}/cross/{direction}") or (a[4], b[4])
        legs = []
        asks: list[int] = []
        fees = 0
        for (venue, outcome, instrument, from_bids, _), model in zip((a, b), models, strict=True):
            best = _best_ask(books, instrument, from_bids)
            legs.append(
                {
                    "venue": venue,
                    "outcome": outcome,
                    "instrument": instrument,
                    "ask": format_price(best[0]) if best else None,
                    "ask_size": format_size(best[1]) if best else None,
                }
            )
            if best is not None:
                asks.append(best[0])
                fees += model.fee([(best[0], SIZE_SCALE)])
        complete = len(asks) == 2
        cost = sum(asks)
        opportunity = open_opportunities.get(f"{pair.id}/cross/{direction}")
        out.append(
            {
                "direction": direction,
                "legs": legs,
                "cost": format_price(cost) if complete else None,
                "gross_edge": format_price(PRICE_ONE - cost) if complete else None,
                "fees": money_text(fees) if complete else None,
                "net_edge": money_text(MONEY_SCALE - cost * SIZE_SCALE - fees) if complete else None,
                "opportunity": None
                if opportunity is None
                else {
                    "id": opportunity.id,
                    "size": format_size(opportunity.size),
                    "net": money_text(opportunity.net),
                    "net_per_contract": money_text(opportunity.edge),
                },
            }
        )
    return out


def _usage(name: str, label: str, unit: str, used: int | float, limit: int | float | None,
           detail: str = "") -> dict[str, Any]:  # fmt: skip
    money = unit == "usd"
    return {
        "name": name,
        "label": label,
        "unit": unit,
        "used": money_text(int(used)) if money else used,
        "limit": None if limit is None else (money_text(int(limit)) if money else limit),
        "fraction": round(used / limit, 4) if limit else None,
        "detail": detail,
    }


def risk_usage(
    trader: PaperTrader, books: BookManager, instruments: Iterable[str], now_ns: int
) -> list[dict[str, Any]]:
    """How much of each ``[risk]`` limit is used now, as the risk manager counts it.

    One row per limit (a limit that is not set has ``limit`` ``None``): ``name`` (the ``[risk]``
    key), ``label``, ``unit`` (``usd``: ``used``/``limit`` are money strings; ``count``; ``ms``),
    ``used``, ``limit``, ``fraction`` (used / limit) and ``detail`` (which pair, market or venue
    uses the most). Notional limits count cost held in open trades plus buy orders in flight; the
    daily loss is the loss since 00:00 UTC (0 when up); the data age is the oldest book among
    ``instruments`` (the legs traded), against ``max_data_age_ms``.
    """
    limits = trader.limits
    exposure, by_pair = trader.exposure_now()
    pair, pair_used = max(by_pair.items(), key=lambda kv: kv[1], default=("", 0))
    market, market_used = max((exposure.by_instrument or {}).items(), key=lambda kv: kv[1], default=("", 0))
    venue, venue_used = max((exposure.by_venue or {}).items(), key=lambda kv: kv[1], default=("", 0))
    ages = [
        (now_ns - book.ts_recv) / 1e6
        for book in (books.get(i) for i in instruments)
        if book is not None and book.ts_recv
    ]
    age = round(max(ages, default=0.0), 1)
    return [
        _usage("max_notional_pair", "notional in one pair", "usd", pair_used, limits.max_notional_pair, pair),
        _usage("max_notional_market", "notional in one market", "usd", market_used, limits.max_notional_market, market),
        _usage("max_notional_venue", "notional on one venue", "usd", venue_used, limits.max_notional_venue, venue),
        _usage("max_open_pairs", "open pairs", "count", exposure.open_pairs, limits.max_open_pairs),
        _usage("max_leg_imbalance", "unhedged cost", "usd", exposure.unhedged, limits.max_leg_imbalance),
        _usage("daily_loss_limit", "loss today (UTC)", "usd", max(0, -exposure.day_pnl), limits.daily_loss_limit),
        _usage("max_data_age_ms", "oldest leg book", "ms", age, limits.max_data_age_ms),
    ]


def pair_instruments(pairs: Iterable[Pair]) -> list[str]:
    """The book instruments of the tradeable ``pairs``' legs, in leg order (a Kalshi market, a
    Polymarket YES token and NO token)."""
    out: list[str] = []
    for pair in pairs:
        if pair.tradeable:
            out += [instrument_id(leg.venue, symbol) for leg in pair.legs for symbol in (leg.yes, leg.no) if symbol]
    return out


def index_view(price: IndexPrice | None, instrument: str, now_ns: int) -> dict[str, Any]:
    """One reference price for the dashboard: ``{instrument, index, source, value, avg_60s,
    ts_event_ms, age_s}``; ``value``/``avg_60s`` exact decimal strings in USD
    (:func:`~hadron.model.units.format_index_value`; ``None`` when nothing arrived yet),
    ``ts_event_ms`` the source's time in ms, ``age_s`` seconds since it was received."""
    if price is None:
        index = instrument.split(":", 2)[-1]
        return {"instrument": instrument, "index": index, "source": "", "value": None, "avg_60s": None,
                "ts_event_ms": None, "age_s": None}  # fmt: skip
    return {
        "instrument": instrument,
        "index": price.index,
        "source": price.source,
        "value": format_index_value(price.value),
        "avg_60s": format_index_value(price.avg_60s) if price.avg_60s is not None else None,
        "ts_event_ms": price.ts_event // 1_000_000,
        "age_s": round((now_ns - price.ts_recv) / 1e9, 2),
    }
