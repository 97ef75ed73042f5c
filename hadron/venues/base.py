"""The seam between Hadron's core and its venues.

The core (model, book, store, app) never imports a venue package; it asks this registry for a
:class:`VenueAdapter` by name. A venue package registers one adapter; a third venue is one new
package plus one line in :data:`BUILTIN_VENUES`.

A venue adapter opens :class:`FeedStream` objects: one per connection (or, in replay, one per
recorded connection). A stream takes raw frames exactly as the socket delivered them, decodes
them with the venue's msgspec decoder, checks sequencing, normalizes them and applies them to
the shared :class:`~hadron.book.BookManager`. Live sessions and replay feed the same stream
class; only the frame source differs.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from enum import StrEnum, unique
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import msgspec

from hadron.book.manager import BookManager
from hadron.model.account import AccountEvent
from hadron.model.events import MarketEvent
from hadron.venues.account_script import ScriptedOrder as ScriptedOrder  # re-exported: the demo's script
from hadron.venues.account_script import load_script as load_script  # re-exported: --account-script
from hadron.venues.feedstats import FeedStats as FeedStats  # re-exported: the streams share it

if TYPE_CHECKING:
    from hadron.arb.fees import FeeRule
    from hadron.arb.walk import FeeModel


@unique
class SeqMode(StrEnum):
    """How a sequenced stream treats a jump in sequence numbers.

    * ``STRICT``: every jump is a gap; the books on that subscription go AWAITING_SNAPSHOT.
      Right for a live connection and for Hadron's own recordings, which keep every frame.
    * ``MONOTONIC``: a jump is expected (the capture kept only some markets of a shared
      subscription) and only counted; a regression still means a new session. Right for
      per-market extracts such as the Kalshi capture format.
    """

    STRICT = "strict"
    MONOTONIC = "monotonic"


class DeadLetterSink(Protocol):
    """Where a stream puts a frame it could not use, raw bytes and all."""

    def write(self, raw: bytes, error: str, conn: str) -> None:
        """Keep ``raw`` (the frame or line exactly as received) with the reason."""


EventSink = Callable[[MarketEvent], None]

AccountSink = Callable[[AccountEvent], None]
"""``on_account(event)``: one normalized account event (:data:`hadron.model.account.AccountEvent`)."""

VenueSink = Callable[[Any, int], None]
"""``on_venue(msg, recv_ns)``: a venue-native message (a venue-prefixed struct, e.g. Kalshi's
``KalshiEventFeeUpdate``, ``KalshiPythValue``, ``KalshiRfqCreated``) that the feed does not turn into a
market event, with its local receive time in ns. The core dispatches on the struct's ``type`` tag
(``type(msg).__struct_config__.tag``) or duck-types its fields, never importing the venue package.
See :data:`hadron.venues.kalshi.stream.VenueHook` for which Kalshi messages come this way."""


class FeedStream(Protocol):
    """One connection's frames in, normalized events and book updates out."""

    conn: str
    stats: FeedStats

    def on_frame(self, raw: bytes, recv_ns: int) -> None:
        """Process one raw frame (text frame bytes as the socket delivered them).

        Never raises for bad input: the frame is counted, logged and dead-lettered.
        """

    def on_capture_line(self, line: bytes) -> None:
        """Process one capture line ``{"recv_ms": int, "event": <frame>}`` (same guarantees)."""

    def on_rest(self, request: str, body: bytes, recv_ns: int) -> None:
        """Process one recorded REST response (``request`` is its request line; same guarantees)."""


class VenueAdapter(Protocol):
    """What a venue package gives the core."""

    name: str
    capture_decoder: msgspec.json.Decoder[Any]
    """The typed decoder of one capture line: the first stage of the pipeline on its own."""
    max_frame_bytes: int
    """The largest frame this venue's WebSocket accepts (``max_size``; a larger one closes the
    connection with 1009 and the session starts again); replay bounds a recording's lines by it
    (:func:`hadron.store.replay.max_line_bytes`)."""

    def sniff(self, frame: object) -> bool:
        """Return True if ``frame`` (a JSON-decoded frame) looks like this venue's."""

    def open_stream(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        seq_mode: SeqMode = SeqMode.STRICT,
        on_event: EventSink | None = None,
        on_venue: VenueSink | None = None,
    ) -> FeedStream:
        """Return a new stream for connection ``conn`` feeding ``books`` (venue-native messages to
        ``on_venue``, see :data:`VenueSink`)."""


@runtime_checkable
class RecordingVenue(Protocol):
    """A venue that can record its live frames (``hadron record``)."""

    async def record(self, **options: Any) -> dict[str, Any]:
        """Record until stopped; return a summary."""


@runtime_checkable
class FakeVenueHost(Protocol):
    """A venue with a loopback server (``hadron fake-venue``)."""

    async def fake_venue(self, **options: Any) -> object:
        """Serve until stopped."""


@runtime_checkable
class LiveBenchVenue(Protocol):
    """A venue whose live path can be benchmarked against its loopback server."""

    async def bench_live(self, capture: Any, **options: Any) -> dict[str, Any]:
        """Measure frames/s through the live path next to offline replay."""

    def bench_plan(self, capture: Any, folder: Any, **options: Any) -> Any:
        """The loopback venue and client settings for a capture (a
        :class:`hadron.app.bench_live.BenchPlan`; ``burst=False``: the venue at the captured pace)."""


BUILTIN_VENUES: dict[str, str] = {
    "kalshi": "hadron.venues.kalshi",
    "polymarket": "hadron.venues.polymarket",
}
"""Venue name → module whose ``ADAPTER`` attribute is its :class:`VenueAdapter`."""

_ADAPTERS: dict[str, VenueAdapter] = {}


def get_venue(name: str) -> VenueAdapter:
    """Return the adapter registered as ``name`` (importing the built-in venue on first use).

    Raises:
        KeyError: no such venue.
    """
    adapter = _ADAPTERS.get(name)
    if adapter is None:
        module = importlib.import_module(BUILTIN_VENUES[name])
        adapter = module.ADAPTER
        _ADAPTERS[name] = adapter
    return adapter


def all_venues() -> list[VenueAdapter]:
    """Return every built-in venue's adapter."""
    return [get_venue(name) for name in BUILTIN_VENUES]


@runtime_checkable
class FeeModelVenue(Protocol):
    """A venue that prices taker orders for the arbitrage engine (:mod:`hadron.arb`)."""

    def fee_model(self, **params: Any) -> FeeModel:
        """Return the :class:`~hadron.arb.walk.FeeModel` of one market built from ``params``
        (venue-specific: Kalshi ``multiplier``/``fee_type``, Polymarket ``rate``/``exponent``)."""


@runtime_checkable
class PairScenarioVenue(Protocol):
    """A venue whose loopback copy can mirror another venue's capture (benchmarks, demo, tests)."""

    def pair_scenario(
        self, captures: list[Path], out: Path, *, shift: int, fee_rate: str = "0.04", settles_at: str | None = None
    ) -> tuple[int, str]:
        """Write one time-ordered recording of ``captures`` and their copy on this venue, moved by
        ``shift`` (int, 1/10,000 USD), to ``out``; return ``(lines written, pairs file text)``."""

    def pairs_for(self, tickers: list[str], *, fee_rate: str = "0.04", settles_at: str | None = None) -> str:
        """The pairs file text approving each Kalshi market with its copy on this venue."""


class LiveFeed(Protocol):
    """One venue's live market data, feeding the shared books (see :class:`LiveVenue`)."""

    venue: str
    stats: FeedStats

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, subscribe and keep the books until ``stop`` (reconnecting on failures).

        Raises:
            HadronError: a failure that retrying cannot fix (refused credentials).
        """

    def health(self) -> dict[str, Any]:
        """Per-connection health: ``{"connections": [{"name", "connected", "frames",
        "last_frame_ns", "reconnects", ...}], "frozen": int, "latency": FrameLatency}``."""


@runtime_checkable
class LiveVenue(Protocol):
    """A venue the runtime can stream from."""

    def live_feed(
        self,
        books: BookManager,
        instruments: list[str],
        *,
        config: Any,
        on_event: EventSink | None = None,
        record_dir: Path | None = None,
        dead_letter: DeadLetterSink | None = None,
        on_venue: VenueSink | None = None,
        on_account: AccountSink | None = None,
    ) -> LiveFeed:
        """A :class:`LiveFeed` for ``instruments`` (venue symbols: Kalshi market tickers,
        Polymarket token ids) configured from ``config`` (a :class:`hadron.config.HadronConfig`).
        ``on_venue`` receives the venue-native messages (see :data:`VenueSink`); ``on_account``
        the account's events, normalized (:mod:`hadron.model.account`), when the venue's settings
        ask for them and its credentials are set (Kalshi ``kalshi.account``; Polymarket
        ``polymarket.api_*``).

        Raises:
            ConfigError: missing credentials or a bad setting (named).
        """


@runtime_checkable
class ResultsVenue(Protocol):
    """A venue that can say, over REST, how its markets resolved (paper settlement in live runs)."""

    async def market_results(self, tickers: list[str], *, config: Any) -> dict[str, str]:
        """``{symbol: "yes" | "no"}`` for the given markets that have resolved."""


@runtime_checkable
class FeeRulesVenue(Protocol):
    """A venue that can say, over REST, which fee rules are in force for events (read once at the
    start of a run: :meth:`hadron.arb.fees.FeeRegistry.apply_rules`)."""

    async def fee_rules(self, events: list[str], *, config: Any) -> list[FeeRule]:
        """The fee rules of ``events`` (venue event ids; Kalshi event tickers), each fetched once:
        per event its ``base`` rule (Kalshi: the series' ``fee_type``/``fee_multiplier``) and its
        ``override`` when one is set. An event that could not be fetched is left out (one warning
        line for all of them), never an exception.

        Raises:
            HadronError: the venue could not be asked at all (a bad setting).
        """
