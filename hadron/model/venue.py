"""The venue registry: every venue Hadron knows, with what the core needs to know about it.

One :class:`VenueInfo` per venue, registered by name (the instrument-id prefix, the pairs-file
field prefix ``<venue>_…`` and the config section ``[<venue>]``). The core reads venues only from
here: instrument ids (:mod:`hadron.model.instrument`), pairs-file legs
(:mod:`hadron.match.pairs`), the paper trader's default latency and cash
(:mod:`hadron.paper.config`), and adapters (:func:`hadron.venues.base.get_venue`).

Kalshi and Polymarket are registered built in. A venue package outside Hadron plugs in with one
call, :func:`register_venue`, giving its adapter object (see ``docs/ADDING_A_VENUE.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueInfo:
    """What the core knows about one venue.

    Attributes:
        name: the venue name, lower case (``"kalshi"``): instrument-id prefix, pairs-file field
            prefix, config section name.
        module: the module whose ``ADAPTER`` attribute is the venue's
            :class:`~hadron.venues.base.VenueAdapter` (imported on first use); ``""`` when
            ``adapter`` is given.
        adapter: the adapter object itself (a venue registered at run time), or ``None``.
        one_book_per_market: the venue has one book per market, its YES book (Kalshi): a pair's
            YES symbol is the market and NO is bought as ``1 −`` the YES book's bids. ``False``:
            each outcome is its own book (Polymarket tokens, pairs-file ``<venue>_yes_token``
            and ``<venue>_no_token``).
        fee_params: the fee parameters a tradeable pair must state for this venue, each written
            ``<venue>_fee_<param>`` in the pairs file (decimal strings) and passed to the
            adapter's ``fee_model`` (:class:`~hadron.venues.base.FeeModelVenue`).
        paper_latency_ms: the paper trader's default order latency on this venue, ms.
        initial_cash_usd: the paper trader's default starting cash on this venue, whole USD.
    """

    name: str
    module: str = ""
    adapter: Any = None
    one_book_per_market: bool = False
    fee_params: tuple[str, ...] = ()
    paper_latency_ms: float = 50.0
    initial_cash_usd: int = 10_000


_VENUES: dict[str, VenueInfo] = {}

PAIR_FIELDS = ("event", "market", "yes_token", "no_token", "min_size")
"""The per-venue pairs-file fields besides fees, each written ``<venue>_<field>``."""


def register_venue(info: VenueInfo) -> VenueInfo:
    """Register ``info`` under ``info.name`` (replacing a venue of that name) and return it.

    Raises:
        ValueError: the name is empty, not lower case, or holds ``:`` or ``_`` (it prefixes
            instrument ids and pairs-file fields); or neither ``module`` nor ``adapter`` is given.
    """
    name = info.name
    if not name or name != name.lower() or ":" in name or "_" in name or not name.isidentifier():
        raise ValueError(f"venue name {name!r}: use a lower-case identifier without '_' or ':'")
    if not info.module and info.adapter is None:
        raise ValueError(f"venue {name!r}: give its adapter module or its adapter")
    _VENUES[name] = info
    return info


def unregister_venue(name: str) -> None:
    """Forget the venue ``name`` (a venue registered at run time, e.g. by a test); no-op if unknown."""
    _VENUES.pop(name, None)


def venue_names() -> tuple[str, ...]:
    """The registered venue names, built-ins first, then in registration order."""
    return tuple(_VENUES)


def venue_info(name: str) -> VenueInfo:
    """Return the registered venue ``name``.

    Raises:
        KeyError: no such venue (the message lists the registered ones).
    """
    info = _VENUES.get(name)
    if info is None:
        raise KeyError(f"unknown venue {name!r} (registered: {', '.join(_VENUES)})")
    return info


def is_venue(name: str) -> bool:
    """Whether ``name`` is a registered venue."""
    return name in _VENUES


register_venue(
    VenueInfo(
        name="kalshi",
        module="hadron.venues.kalshi",
        one_book_per_market=True,
        fee_params=("multiplier",),
        paper_latency_ms=50.0,
    )
)
register_venue(
    VenueInfo(
        name="polymarket",
        module="hadron.venues.polymarket",
        fee_params=("rate",),
        paper_latency_ms=150.0,
    )
)

__all__ = [
    "PAIR_FIELDS",
    "VenueInfo",
    "is_venue",
    "register_venue",
    "unregister_venue",
    "venue_info",
    "venue_names",
]
