"""Which reference prices (index levels, underlying prices) a Kalshi feed subscribes to.

Kalshi relays two reference feeds on its WebSocket (see Kalshi AsyncAPI ``cfbenchmarks_value``
and ``pyth_value``, and ``docs/protocols/kalshi.md#cfbenchmarks_value``): CF Benchmarks indices (channel
``cfbenchmarks_value``, ids such as ``BRTI``, subscribed with ``index_ids``) and Pyth prices
(channel ``pyth_value``, underlyings such as ``Metal.XAU/USD``, subscribed with
``underlying_tickers``). Both normalize to :class:`~hadron.model.events.IndexPrice`.

The setting ``kalshi.index_prices`` (a list of strings) chooses them:

* ``"auto"`` (the default, ``["auto"]``): the underlyings of the streamed markets, from their
  series by :data:`SERIES_UNDERLYINGS`;
* ``"cfbenchmarks:<index id>"`` / ``"pyth:<underlying>"``: that one, whatever the markets;
* ``[]``: none.

Explicit entries replace the automatic choice unless ``"auto"`` is listed too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from hadron.errors import ConfigError

CF_CHANNEL = "cfbenchmarks_value"
PYTH_CHANNEL = "pyth_value"
INDEX_CHANNELS = (CF_CHANNEL, PYTH_CHANNEL)
SOURCES = {"cfbenchmarks": CF_CHANNEL, "pyth": PYTH_CHANNEL}
"""``source`` of an :class:`~hadron.model.events.IndexPrice` → its Kalshi channel."""
PARAMS = {CF_CHANNEL: "index_ids", PYTH_CHANNEL: "underlying_tickers"}
"""The ``subscribe`` parameter of each index channel (AsyncAPI ``subscribeCommand`` examples
``subscribeCFBenchmarksValue`` and ``subscribePythValue``)."""

SERIES_UNDERLYINGS: dict[str, tuple[str, str]] = {
    "KXBTC": ("cfbenchmarks", "BRTI"),
    "KXETH": ("cfbenchmarks", "ETHUSD_RTI"),
    "KXSOL": ("cfbenchmarks", "SOLUSD_RTI"),
    "KXGOLD": ("pyth", "Metal.XAU/USD"),
    "KXSILVER": ("pyth", "Metal.XAG/USD"),
}
"""Series root → ``(source, index id or underlying)`` a market of the series settles on.

A market's series is its ticker up to the first ``-``; it matches a root followed only by a
period code (digits and ``D``, ``H``, ``M``, ``W``, ``Y``: ``KXBTCD``, ``KXGOLD15M``). The CF
Benchmarks ids follow the real-time index names (``BRTI``, ``ETHUSD_RTI`` in Kalshi's AsyncAPI
examples, ``SOLUSD_RTI`` by CF's naming); the Pyth underlyings are the AsyncAPI's ``Metal.XAU/USD``
and ``Metal.XAG/USD``. A market's own rules are the authority: name the index explicitly in
``kalshi.index_prices`` when they differ."""

_PERIOD = re.compile(r"[0-9DHMWY]*")


def underlying_of(market_ticker: str) -> tuple[str, str] | None:
    """``(source, index id)`` of a market's underlying by :data:`SERIES_UNDERLYINGS`, or ``None``."""
    series = market_ticker.partition("-")[0].upper()
    for root, underlying in SERIES_UNDERLYINGS.items():
        if series.startswith(root) and _PERIOD.fullmatch(series[len(root) :]):
            return underlying
    return None


def parse_entry(entry: str) -> tuple[str, str] | None:
    """``"auto"`` → ``None``; ``"<source>:<id>"`` → ``(source, id)``.

    Raises:
        ConfigError: anything else (the message shows the accepted forms).
    """
    if entry == "auto":
        return None
    source, sep, index = entry.partition(":")
    if not sep or source not in SOURCES or not index.strip():
        raise ConfigError(
            f'kalshi.index_prices entry {entry!r}: use "auto", "cfbenchmarks:<index id>" (e.g. BRTI) '
            f'or "pyth:<underlying>" (e.g. Metal.XAU/USD)'
        )
    return source, index


def index_subscriptions(setting: Sequence[str], market_tickers: Iterable[str]) -> dict[str, list[str]]:
    """The index subscriptions of a feed: channel → ids, in first-seen order (channels without
    ids left out).

    Args:
        setting: ``kalshi.index_prices`` (see the module docstring).
        market_tickers: the markets the feed streams (for ``"auto"``).

    Raises:
        ConfigError: a malformed entry.
    """
    wanted: list[tuple[str, str]] = []
    for entry in setting:
        parsed = parse_entry(entry)
        if parsed is not None:
            wanted.append(parsed)
        else:
            wanted.extend(u for u in map(underlying_of, market_tickers) if u is not None)
    out: dict[str, list[str]] = {}
    for source, index in dict.fromkeys(wanted):
        out.setdefault(SOURCES[source], []).append(index)
    return out


def references(setting: Sequence[str], market_tickers: Iterable[str]) -> dict[str, list[str]]:
    """Market ticker → the instrument ids (``kalshi:index:<id>``) of its reference prices: its
    own underlying (when subscribed), else every explicitly configured one (the dashboard shows
    them beside the market's pair)."""
    tickers = list(market_tickers)
    subscribed = {i for ids in index_subscriptions(setting, tickers).values() for i in ids}
    explicit = [p[1] for p in map(parse_entry, setting) if p is not None]
    out: dict[str, list[str]] = {}
    for ticker in tickers:
        own = underlying_of(ticker)
        ids = [own[1]] if own is not None and own[1] in subscribed else explicit
        if ids:
            out[ticker] = [f"kalshi:index:{i}" for i in dict.fromkeys(ids)]
    return out
