"""The seam between Hadron's core and its venues.

The core (model, book, store, app) never imports a venue package; it asks :func:`get_venue` for a
:class:`VenueAdapter` by name, resolved through the venue registry (:mod:`hadron.model.venue`). A
venue package gives one adapter; a third venue is one new package plus one
:func:`~hadron.model.venue.register_venue` call (``docs/ADDING_A_VENUE.md``).

A venue adapter opens :class:`FeedStream` objects: one per connection (or, in replay, one per
recorded connection). A stream takes raw frames exactly as the socket delivered them, decodes
them with the venue's msgspec decoder, checks sequencing, normalizes them and applies them to
the shared :class:`~hadron.book.BookManager`. Live sessions and replay feed the same stream
class; only the frame source differs.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum, unique
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import msgspec

from hadron.book.manager import BookManager
from hadron.errors import ConfigError
from hadron.model.account import AccountEvent
from hadron.model.events import MarketEvent
from hadron.model.orders import ExecFill, ExecReport, OrderRequest, PlaceResult, VenueOrder
from hadron.model.venue import VenueInfo, venue_info, venue_names
from hadron.venues.account_script import ScriptedOrder as ScriptedOrder  # re-exported: the demo's script
from hadron.venues.account_script import load_script as load_script  # re-exported: --account-script
from hadron.venues.feedstats import FeedStats as FeedStats  # re-exported: the streams share it

if TYPE_CHECKING:
    from hadron.config import HadronConfig
    from hadron.model.catalog import MarketInfo
    from hadron.model.fees import FeeModel, FeeRule


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
    (:func:`hadron.store.reader.max_line_bytes`)."""

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
class FrameClockVenue(Protocol):
    """A venue adapter that reads the venue's own time off a raw frame (an optional capability:
    replay stamps bare frames with it, :mod:`hadron.app.replay`)."""

    def frame_time_ns(self, raw: bytes) -> int | None:
        """The time the venue put in ``raw`` (one frame's text as the socket delivered it), in ns
        since the Unix epoch; ``None`` when it carries none. Cheap (every field but the time
        skipped, none built), and never raises: bytes that are not such a frame give ``None``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordOptions:
    """What ``hadron record`` asks of a :class:`RecordingVenue`. ``None`` means the venue's setting
    in ``config`` (or its default); a venue ignores what it has no use for, unless it names the
    option in a :class:`~hadron.errors.ConfigError`."""

    markets: Sequence[str]
    """Venue symbols: Kalshi market tickers, Polymarket token ids."""
    out: Path
    """The recording's folder."""
    channels: Sequence[str] = ()
    """Kalshi channel names (Polymarket has one market channel)."""
    duration: float | None = None
    """Seconds; ``None``: until ``stop`` or SIGINT/SIGTERM."""
    config: Path | None = None
    url: str | None = None
    """The WebSocket URL."""
    rest_url: str | None = None
    gamma_url: str | None = None
    """Polymarket's market metadata host (``""``: not read)."""
    transport: str | None = None
    """``ws``, ``rest`` or ``auto`` (:data:`hadron.config.TRANSPORTS`)."""
    connections: int | None = None
    poll_interval: float | None = None
    """Seconds between REST polling cycles."""
    freeze_window: float | None = None
    """Seconds without a change before a Polymarket book is checked over REST."""
    store: str | None = None
    """Also write normalized ticks (``parquet:DIR``)."""
    stop: asyncio.Event | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeVenueOptions:
    """How a :class:`FakeVenueHost` serves its loopback venue."""

    captures: Sequence[Path]
    """The recordings played (Polymarket also transcodes Kalshi captures)."""
    port: int
    """WebSocket port (0: any free one; ``ready`` gets the URL)."""
    speed: float = 1.0
    """× the captured pace; 0: as fast as the client reads."""
    faults: str = ""
    """The venue's fault spec (``--faults``)."""
    rest_port: int | None = None
    """Also serve REST on this port."""
    host: str = "127.0.0.1"
    loop: bool = False
    """Play the captures again and again."""
    burst: bool = False
    """At speed 0: frames built and framed ahead, written in large chunks."""
    signals: bool = True
    """Stop on SIGINT/SIGTERM."""
    stop: asyncio.Event | None = None
    ready: Callable[[str, str | None], None] | None = None
    """Called once listening, with the WebSocket URL and the REST one (``None``: no REST)."""
    started: Callable[[Any], None] | None = None
    """Called with the venue's server object once it started."""
    account_script: Sequence[ScriptedOrder] = ()
    """Orders played on the private channels (:mod:`hadron.venues.account_script`)."""
    public_key: Path | Sequence[Path] | None = None
    """Kalshi: the PEM file(s) of the keys whose signatures are accepted (none: any client)."""
    metadata: Path | None = None
    """Kalshi: a folder of real ``GET /events`` responses served over REST."""
    shift: int = 0
    """Polymarket: move a transcoded Kalshi capture's YES prices by this much (1/10,000 USD)."""
    user_auth: tuple[str, str, str] | None = None
    """Polymarket: the user channel's ``(key, secret, passphrase)`` (``None``: refuse every client)."""
    exchange: ExchangeOptions | None = None
    """Accept and match orders (the loopback exchange; ``None``: market data and scripts only)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeOptions:
    """How a loopback venue acts as an exchange for Hadron's live orders (``docs/EXECUTION.md``).

    It verifies every order (Kalshi: the RSA-PSS request signature; Polymarket: the L2 HMAC
    headers and the EIP-712 order signature, recovered to the signer), matches it as a taker
    against the book it replays (fills at the book's prices, partial fills, the rest of an IOC
    cancelled, a FOK all or nothing), keeps the account (cash, positions, orders, fills) and sends
    the private-channel updates (Kalshi ``user_orders``/``fill``/``market_positions``; Polymarket
    user channel ``order``/``trade``).
    """

    cash: str = "10000"
    """The account's starting cash, USD decimal string (a buy beyond it is rejected: balance)."""
    latency_ms: float = 0.0
    """Added before every order answer (the venue's round trip)."""
    max_orders_per_s: float = 0.0
    """Order-write rate limit (0: none); beyond it the venue answers 429."""
    positions: Mapping[str, str] = field(default_factory=dict)
    """Starting positions, venue symbol → signed size decimal string (+YES/−NO on Kalshi)."""
    address: str = ""
    """Polymarket: the wallet address whose EIP-712 signatures are accepted (``""``: any signer
    matching the order's ``signer`` field)."""


class BenchClient(Protocol):
    """A venue's connection pool as ``hadron bench live --path pool`` runs it (e.g. Kalshi's
    ``KalshiPool``, Polymarket's ``PolymarketPool``)."""

    @property
    def connections(self) -> Sequence[Any]:
        """The pool's connections, each with its ``latency`` and ``read_latency`` histograms
        (:class:`hadron.metrics.FrameLatency`, ns per frame)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, subscribe and keep the books until ``stop``."""


class BenchClientFactory(Protocol):
    """Builds a :class:`BenchClient` connected to the loopback venue of a :class:`BenchPlan`."""

    def __call__(
        self, books: BookManager, *, stats: FeedStats, dead_letter: DeadLetterSink, record_to: Path | None
    ) -> BenchClient:
        """A client of every instrument of the plan feeding ``books`` and counting in ``stats``;
        ``record_to``: also record its frames there (``None``, or a venue whose plan does not
        record: no recording)."""


BENCH_COUNTERS = ("seq_gaps", "bbo_mismatches")
"""The consistency counters a :class:`BenchPlan` may ask to be reported after a pool run, each
as ``live_<name>``: ``seq_gaps`` (:attr:`FeedStats.seq_gaps`, a sequenced feed) and
``bbo_mismatches`` (the books' ``stats.bbo_mismatches``, a feed that sends its own best
bid/offer)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchPlan:
    """How ``hadron bench live`` measures a venue on a capture: its loopback venue
    (``hadron fake-venue``) and the client's settings. The harness (:mod:`hadron.bench.live`)
    starts the venue, runs the client or the user's command, and measures.

    Attributes:
        venue: the venue name (``hadron fake-venue``, ``hadron record --venue``, ``hadron run``).
        venue_args: ``hadron fake-venue <venue>`` arguments (capture, port, key…), the pace
            (``--speed``, ``--burst``) left to the harness.
        url: the loopback venue's WebSocket URL.
        env: environment for a client process (credentials as the user gives them).
        instruments: market tickers or token ids to record (``hadron record --markets``).
        pair_market: the Kalshi market of the pair ``hadron run`` trades.
        key_path: a private key file a run's config names (``kalshi.private_key_path``).
        client: builds the connection pool measured by ``--path pool``, in the harness's process.
        offline: the file replayed offline next to the pool path, holding the frames the venue
            sends (``None``: the capture itself; e.g. Polymarket's transcoding of a Kalshi
            capture, written under the plan's folder).
        record_args: more ``hadron record`` arguments.
        counters: names from :data:`BENCH_COUNTERS` reported after a pool run.
        records: the client honours ``record_to`` (the pool result says ``recorded``).
    """

    venue: str
    venue_args: list[str]
    url: str
    env: dict[str, str]
    instruments: list[str]
    pair_market: str
    key_path: Path
    client: BenchClientFactory
    offline: Path | None = None
    record_args: list[str] = field(default_factory=list)
    counters: tuple[str, ...] = ()
    records: bool = False


@runtime_checkable
class RecordingVenue(Protocol):
    """A venue that can record its live frames (``hadron record``)."""

    async def record(self, options: RecordOptions) -> dict[str, Any]:
        """Record until stopped; return a summary (``frames``, ``frames_per_s``, ``books``,
        ``books_synced``, ``books_polled``, ``resyncs``, ``fallback``, ``failure``, ``files``...).

        Raises:
            ConfigError: a missing or bad setting (named). VenueError: the venue failed for good.
        """


class OrderGateway(Protocol):
    """One venue's order entry for one account (``docs/EXECUTION.md``): signed REST requests,
    rate-limited per the venue's write limits, answering in :mod:`hadron.model.orders` types.

    Every method raises :class:`~hadron.errors.VenueError` (or a subclass: ``AuthError``,
    ``RateLimited``, ``TransportError``) when the venue could not be asked or refused the
    request as a whole; a refusal of one order is an ``ExecReport`` with state ``rejected``.
    """

    venue: str
    dry_run: bool
    """Sign and log each order's exact request, send nothing (answers ``rejected``/``dry_run``)."""

    async def start(self) -> None:
        """Prepare (API credentials, market parameters, order groups); idempotent."""

    async def place(self, orders: Sequence[OrderRequest]) -> list[PlaceResult]:
        """Send ``orders`` (one batched request where the venue has one), one result per order
        in the same order. An order the venue already knows by ``client_order_id`` is not placed
        twice: its current report comes back."""

    async def cancel(self, venue_order_ids: Sequence[str]) -> list[ExecReport]:
        """Cancel these orders (batched where the venue can); one report per id."""

    async def cancel_all(self) -> list[str]:
        """Cancel every open order of the account (the venue's cancel-all where it has one);
        return the venue ids cancelled."""

    async def open_orders(self) -> list[VenueOrder]:
        """The account's resting orders, as the venue lists them."""

    async def order(self, client_order_id: str, venue_order_id: str = "") -> VenueOrder | None:
        """One order by our id (or the venue's), ``None`` when the venue does not know it."""

    async def recall(self, request: OrderRequest) -> str:
        """The venue's id of ``request`` when it follows from the request itself, remembered for
        :meth:`order` and :meth:`fills` (Polymarket: the order hash, whose salt and timestamp
        derive from the client order id and creation time: a restart finds an order whose answer
        it never saw); ``""`` where the venue assigns ids and finds orders by
        ``client_order_id`` (Kalshi)."""

    async def fills(self, since_ns: int) -> list[ExecFill]:
        """The account's fills since ``since_ns`` (ns), oldest first, in each order's terms when
        the order is known by id (``client_order_id`` may be ``""`` for fills of orders placed
        elsewhere)."""

    async def positions(self, symbols: Sequence[str]) -> dict[str, int]:
        """The account's positions in these instruments (Hadron instrument ids → signed size,
        1/1,000,000: +YES/−NO on Kalshi, token shares on Polymarket)."""

    async def balance(self) -> int:
        """Free cash, 1/1,000,000 USD."""

    async def close(self) -> None:
        """Release the HTTP client."""


@runtime_checkable
class ExecutionVenue(Protocol):
    """A venue Hadron can send orders to (``execution.mode = "live"``)."""

    def order_gateway(
        self, config: HadronConfig, *, base_url: str | None = None, dry_run: bool = False, contracts_limit: int = 0
    ) -> OrderGateway:
        """An :class:`OrderGateway` for the account in ``config`` (its credentials, REST host and
        limits; ``base_url`` overrides the host). ``contracts_limit`` (whole contracts; 0:
        none) is a venue-side cap where the venue has one (Kalshi order groups: contracts per
        rolling 15 s, beyond which the venue cancels the group's orders); others ignore it.

        Raises:
            ConfigError: missing credentials or a bad setting (named, with the fix).
        """


@runtime_checkable
class FakeVenueHost(Protocol):
    """A venue with a loopback server (``hadron fake-venue``)."""

    async def fake_venue(self, options: FakeVenueOptions) -> object:
        """Serve until ``options.stop`` (or a signal); return the venue's server object.

        Raises:
            ConfigError: an unreadable key, a bad fault spec, or no playable capture.
        """


@runtime_checkable
class LiveBenchVenue(Protocol):
    """A venue whose live path can be benchmarked against its loopback server
    (``hadron bench live``)."""

    def bench_plan(self, capture: Path, folder: Path) -> BenchPlan:
        """The loopback venue and client settings for ``capture`` (throwaway keys and any
        offline input go to ``folder``, which exists).

        Raises:
            ConfigError: the capture holds nothing this venue can play.
        """


_ADAPTERS: dict[str, tuple[VenueInfo, VenueAdapter]] = {}


def get_venue(name: str) -> VenueAdapter:
    """Return the adapter of the registered venue ``name`` (:mod:`hadron.model.venue`): the
    adapter object it was registered with, or its module's ``ADAPTER`` (imported on first use).

    Raises:
        KeyError: no such venue (the message lists the registered ones).
        ConfigError: the adapter calls itself by another name (a copied package whose adapter's
            ``name`` was not changed): instrument ids and pairs-file fields would not agree.
    """
    info = venue_info(name)
    cached = _ADAPTERS.get(name)
    if cached is not None and cached[0] is info:
        return cached[1]
    adapter: VenueAdapter = info.adapter if info.adapter is not None else importlib.import_module(info.module).ADAPTER
    if adapter.name != name:
        where = info.module or type(adapter).__module__
        raise ConfigError(
            f"venue {name!r} is registered with an adapter named {adapter.name!r} ({where}): set the adapter's "
            f"name to {name!r}"
        )
    _ADAPTERS[name] = (info, adapter)
    return adapter


def all_venues() -> list[VenueAdapter]:
    """Return every registered venue's adapter, in registration order (built-ins first)."""
    return [get_venue(name) for name in venue_names()]


@runtime_checkable
class FeeModelVenue(Protocol):
    """A venue that prices taker orders for the arbitrage engine (:mod:`hadron.arb`)."""

    def fee_model(self, params: Mapping[str, str]) -> FeeModel:
        """Return the :class:`~hadron.model.fees.FeeModel` of one market built from ``params``
        (decimal strings by name: the venue's registered ``fee_params``, e.g. Kalshi
        ``multiplier`` (and ``fee_type``), Polymarket ``rate`` (and ``exponent``); the pairs
        file writes each ``<venue>_fee_<param>``).

        Raises:
            ConfigError: a parameter is missing or not a valid number (named).
        """


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


@runtime_checkable
class CatalogVenue(Protocol):
    """A venue that can list its open markets over REST for the cross-venue matcher
    (``hadron markets match``; :mod:`hadron.match.inputs`)."""

    async def catalog(
        self, *, config: HadronConfig | None = None, base_url: str | None = None, max_pages: int = 50
    ) -> Sequence[MarketInfo]:
        """Every open market of the venue as the matcher's records (an event without markets as
        one event-level record), read through the venue's own REST client, so its rate limits,
        retries and error mapping apply: Kalshi ``GET /events`` with nested markets →
        :class:`~hadron.model.catalog.KalshiMarketInfo`; Polymarket Gamma ``GET /events`` →
        :class:`~hadron.model.catalog.PolymarketMarketInfo`.

        Args:
            config: the settings (REST host, rate tier); ``None``: the defaults.
            base_url: the REST root to ask instead of the configured one.
            max_pages: the most listing pages to read.

        Raises:
            TransportError, RateLimited: the venue could not be reached, or kept refusing, after
                retries. RequestError, AuthError, DecodeError: the URL answered, but not as the
                venue's API. Each message names the venue, the URL (never credentials) and the fix.
            ConfigError: a bad setting.
        """
