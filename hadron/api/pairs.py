"""Pairs and arbitrage from Python: :func:`read_pairs`, :func:`load_pairs`, :func:`arb_detector` and
:func:`opportunities_table`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hadron.api._shared import PathArg
from hadron.arb.detector import ArbDetector
from hadron.arb.opportunity import Opportunity
from hadron.arb.terms import ArbConfig, _thresholds, load_arb_config
from hadron.book.manager import BookManager
from hadron.extras import require
from hadron.match.pairs import Pair
from hadron.match.pairs import read_pairs as _read_pairs

if TYPE_CHECKING:
    import pyarrow as pa


def read_pairs(path: PathArg) -> list[Pair]:
    """Every pair of a pairs file (proposed, approved and rejected; see
    :mod:`hadron.match.pairs`), in file order; ``pair.tradeable`` marks those the detector watches.

    Raises:
        ConfigError: unreadable, not TOML, or a pair with a missing or invalid field (named).
    """
    return _read_pairs(Path(path))


def load_pairs(path: PathArg, *, thresholds: Mapping[str, Any] | None = None) -> ArbConfig:
    """Read a pairs file for the detector: its approved pairs with their fee terms, its
    ``[[outcome_set]]`` tables and its ``[thresholds]`` (see
    :func:`hadron.arb.terms.load_arb_config`).

    Args:
        path: the reviewed pairs file (``hadron markets match`` / ``review``).
        thresholds: a ``[thresholds]`` table replacing the file's, money and sizes as decimal
            strings: ``{"min_profit": "0.05", "max_capital": "300", "max_age_s": 10}`` (keys
            ``min_edge``, ``min_profit``, ``min_size``, ``max_capital``, ``max_age_s``, ``lot``).

    Returns:
        An :class:`~hadron.arb.terms.ArbConfig`: ``pairs``, ``terms`` (fee models per pair),
        ``outcome_sets``, ``thresholds`` (:class:`Thresholds`, money int 1/10,000,000,000 USD).

    Raises:
        ConfigError: unreadable file, an invalid pair, an approved pair without its fee terms,
            an unknown threshold key, or a bad value (named).
    """
    where = Path(path)
    config = load_arb_config(where)
    if thresholds is not None:
        config = ArbConfig(config.pairs, config.terms, config.outcome_sets, _thresholds(dict(thresholds), where))
    return config


def arb_detector(
    books: BookManager,
    pairs: ArbConfig | PathArg,
    *,
    thresholds: Mapping[str, Any] | None = None,
    intra: bool = True,
    keep_closed: int | None = None,
) -> ArbDetector:
    """An arbitrage detector watching ``books`` (the one ``hadron replay --pairs`` and ``hadron run``
    build): build it before the books are fed (:func:`replay`, :func:`connect`,
    :func:`apply_event`); it re-evaluates a pair whenever the top of one of its books changes.

    Read it with ``detector.open`` (open opportunities by key), ``detector.results()`` (closed
    ones, then open ones, by opening time: :class:`Opportunity`), ``detector.summary()``, or
    ``detector.add_listener(fn)`` (``fn(opportunity, "opened" | "updated" | "closed")``, in order).
    Opportunities are reported only on trusted books: LIVE, not crossed, not older than
    ``max_age_s`` (``detector.suppressed`` counts the rest by reason).

    Args:
        books: the :class:`BookManager` to watch (e.g. ``feed.books``).
        pairs: an :class:`ArbConfig` (:func:`load_pairs`) or the path of a pairs file.
        thresholds: a ``[thresholds]`` table replacing the file's (see :func:`load_pairs`).
        intra: also look at Kalshi YES + NO of one market and at both tokens of one Polymarket market.
        keep_closed: keep only this many closed opportunities (``None``: all).

    Raises:
        ConfigError: as :func:`load_pairs`.
    """
    config = pairs if isinstance(pairs, ArbConfig) else load_pairs(pairs, thresholds=thresholds)
    if isinstance(pairs, ArbConfig) and thresholds is not None:
        config = ArbConfig(
            config.pairs, config.terms, config.outcome_sets, _thresholds(dict(thresholds), Path("[thresholds]"))
        )
    return ArbDetector.from_config(books, config, intra=intra, keep_closed=keep_closed)


def opportunities_table(opportunities: Iterable[Opportunity]) -> pa.Table:
    """Opportunities (``detector.results()``) as an Arrow table, one row each: ``id``, ``pair``,
    ``kind``, ``direction``, ``opened_ns``, ``last_ns``, ``closed_ns`` (null while open), ``size``
    (int64, 1/1,000,000 share per leg), ``cost`` (fees included), ``payout``, ``fees``, ``net``,
    ``peak_net`` (int64 money, 1/10,000,000,000 USD), ``updates``, ``close_reason`` and ``legs``
    (a list of ``{venue, instrument, outcome, size, cost, fee}``).

    Raises:
        MissingExtra: pyarrow is not installed (the ``parquet`` extra).
    """
    pa_: Any = require("pyarrow", "Arrow tables of opportunities")
    i64, text = pa_.int64(), pa_.string()
    leg = pa_.struct(
        [("venue", text), ("instrument", text), ("outcome", text), ("size", i64), ("cost", i64), ("fee", i64)]
    )
    fields = [
        ("id", text), ("pair", text), ("kind", text), ("direction", text), ("opened_ns", i64),
        ("last_ns", i64), ("closed_ns", i64), ("size", i64), ("cost", i64), ("payout", i64),
        ("fees", i64), ("net", i64), ("peak_net", i64), ("updates", i64), ("close_reason", text),
    ]  # fmt: skip
    schema = pa_.schema([*fields, ("legs", pa_.list_(leg))])
    rows = [
        {
            **{name: getattr(o, name) for name, _ in fields},
            "legs": [
                {
                    "venue": g.venue,
                    "instrument": g.instrument,
                    "outcome": g.outcome,
                    "size": g.size,
                    "cost": g.cost,
                    "fee": g.fee,
                }
                for g in o.legs
            ],
        }
        for o in opportunities
    ]
    return pa_.Table.from_pylist(rows, schema=schema)
