"""Hadron: prediction-market data and cross-venue arbitrage for Kalshi and Polymarket."""

from typing import TYPE_CHECKING, Any

from hadron._pure import install_pure_finder as _install_pure_finder
from hadron._pure import pure_requested as _pure_requested
from hadron._version import __version__ as __version__

if TYPE_CHECKING:  # the Python API's names for type checkers; at run time __getattr__ imports them
    from hadron.api import *  # noqa: F403

if _pure_requested():
    # pure Python even where compiled hot modules exist (see hadron.accel)
    _install_pure_finder()

_API_NAMES = frozenset(
    {
        "MONEY_SCALE", "PRICE_ONE", "PRICE_SCALE", "SIZE_SCALE", "TABLES", "AccountFill", "AggressorSide", "ArbConfig",
        "ArbDetector", "EventStatus", "FeeUpdate", "IndexPrice", "OrderGroupUpdate", "OrderUpdate", "PositionUpdate",
        "BookAction", "BookDelta", "BookError", "BookInvalidated", "BookManager", "BookSide", "BookSnapshot",
        "BookState", "ConfigError", "Feed", "HadronConfig", "HadronError", "InputError", "Leg", "Level", "Loopback",
        "ManagedBook", "MarketEvent", "MarketState", "MarketStatus", "MissingExtra", "Opportunity", "Pair",
        "ReplayFeed", "Thresholds", "TickSizeChange", "TopOfBook", "Trade", "apply_event", "arb_detector", "book_df",
        "book_table", "connect", "events_table", "events_tables", "format_price", "format_size", "load_config",
        "load_pairs", "loopback", "money_decimal", "opportunities_table", "parse_price", "parse_size",
        "price_decimal", "read_pairs", "read_ticks", "read_ticks_df", "replay", "size_decimal", "top_of_book",
        "write_ticks",
    }
)  # fmt: skip
"""``hadron.api.__all__``: the Python API, re-exported here on first use (``hadron.replay``, ``hadron.connect``…)."""


def __getattr__(name: str) -> Any:
    # A name of the Python API, imported on first use so that ``import hadron`` stays light
    if name in _API_NAMES:
        from hadron import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hadron' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API_NAMES})
