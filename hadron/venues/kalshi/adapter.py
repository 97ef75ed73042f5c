"""The Kalshi venue adapter: what :func:`hadron.venues.base.get_venue` returns for ``"kalshi"``.

Cold code: it opens the compiled :class:`~hadron.venues.kalshi.stream.KalshiStream` and reaches
the commands (record, loopback venue, benchmarks, live feed) on first use only, so replay imports
no network code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from hadron.book.manager import BookManager
from hadron.venues.base import (
    AccountSink,
    DeadLetterSink,
    EventSink,
    FakeVenueOptions,
    FeedStats,
    RecordOptions,
    SeqMode,
    VenueSink,
)
from hadron.venues.kalshi.messages import CAPTURE_DECODER, FRAME_TYPES, MAX_FRAME_BYTES
from hadron.venues.kalshi.stream import KalshiStream, VenueHook

if TYPE_CHECKING:
    from pathlib import Path

    from hadron.config import HadronConfig
    from hadron.model.catalog import MarketInfo
    from hadron.model.fees import FeeModel, FeeRule
    from hadron.venues.base import BenchPlan
    from hadron.venues.kalshi.fake import FakeKalshiVenue
    from hadron.venues.kalshi.live import KalshiLiveFeed
    from hadron.venues.kalshi.orders import KalshiOrderGateway


class _TimedMsg(msgspec.Struct, gc=False):
    ts_ms: Any = None
    ts: Any = None


class _TimedFrame(msgspec.Struct, gc=False):
    msg: _TimedMsg | None = None


_TIMED_FRAME = msgspec.json.Decoder(_TimedFrame)
_MAX_MS = 10**13
"""Venue times at or beyond this many ms since the epoch (the year 2286) are not times."""


def _positive_int(value: object, below: int) -> int | None:
    return value if type(value) is int and 0 < value < below else None


class KalshiAdapter:
    """The Kalshi :class:`~hadron.venues.base.VenueAdapter` (also a recording venue, a
    loopback-venue host and a live-path benchmark)."""

    name = "kalshi"
    capture_decoder = CAPTURE_DECODER
    max_frame_bytes = MAX_FRAME_BYTES

    def sniff(self, frame: object) -> bool:
        """Kalshi frames are objects with a ``type`` that is one of Kalshi's message types, or
        (a type Hadron does not know yet) that carries its data in ``msg``; another venue's
        frame with a ``type`` of its own is not Kalshi's."""
        if not isinstance(frame, dict) or "event_type" in frame:
            return False
        kind = frame.get("type")
        return isinstance(kind, str) and (kind in FRAME_TYPES or "msg" in frame)

    def frame_time_ns(self, raw: bytes) -> int | None:
        """The venue's time in a frame (:class:`~hadron.venues.base.FrameClockVenue`), in ns:
        ``msg.ts_ms`` (int ms: ``orderbook_delta``, ``ticker``, ``trade``, ``fill``,
        ``order_group_updates``), else the deprecated ``msg.ts`` when it is an int (s: ``ticker``,
        ``trade``, ``fill`` of older captures; the RFC 3339 ``ts`` of a delta is not read).
        ``None``: no such time (``orderbook_snapshot``, replies, errors), or not a Kalshi frame."""
        try:
            msg = _TIMED_FRAME.decode(raw).msg
        except (msgspec.MsgspecError, ValueError, TypeError, RecursionError):
            return None
        if msg is None:
            return None
        ms = _positive_int(msg.ts_ms, _MAX_MS)
        if ms is not None:
            return ms * 1_000_000
        seconds = _positive_int(msg.ts, _MAX_MS // 1000)
        return seconds * 1_000_000_000 if seconds is not None else None

    def open_stream(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        seq_mode: SeqMode = SeqMode.STRICT,
        on_event: EventSink | None = None,
        on_venue: VenueHook | None = None,
    ) -> KalshiStream:
        """Return a :class:`KalshiStream` for connection ``conn`` (``on_venue``: see :data:`VenueHook`)."""
        return KalshiStream(
            books, conn, stats=stats, dead_letter=dead_letter, seq_mode=seq_mode, on_event=on_event, on_venue=on_venue
        )

    async def record(self, options: RecordOptions) -> dict[str, Any]:
        """Record live frames; see :func:`hadron.venues.kalshi.record.record` (``freeze_window`` is
        Polymarket's: not used)."""
        from hadron.venues.kalshi.record import record

        return await record(
            markets=options.markets,
            out=options.out,
            channels=options.channels,
            duration=options.duration,
            config=options.config,
            url=options.url,
            rest_url=options.rest_url,
            gamma_url=options.gamma_url,
            transport=options.transport,
            connections=options.connections,
            poll_interval=options.poll_interval,
            store=options.store,
            stop=options.stop,
        )

    def bench_plan(self, capture: Path, folder: Path) -> BenchPlan:
        """The loopback set-up ``hadron bench live`` measures; see
        :func:`hadron.venues.kalshi.bench.bench_plan`."""
        from hadron.venues.kalshi.bench import bench_plan

        return bench_plan(capture, folder)

    async def fake_venue(self, options: FakeVenueOptions) -> FakeKalshiVenue:
        """Serve the loopback venue; see :func:`hadron.venues.kalshi.serve.fake_venue` (``shift``
        and ``user_auth`` are Polymarket's: not used)."""
        from hadron.venues.kalshi.serve import fake_venue

        return await fake_venue(
            captures=options.captures,
            port=options.port,
            public_key=options.public_key,
            speed=options.speed,
            faults=options.faults,
            rest_port=options.rest_port,
            metadata=options.metadata,
            host=options.host,
            stop=options.stop,
            ready=options.ready,
            started=options.started,
            loop=options.loop,
            signals=options.signals,
            account_script=options.account_script,
            burst=options.burst,
            exchange=options.exchange,
        )

    def order_gateway(
        self, config: HadronConfig, *, base_url: str | None = None, dry_run: bool = False, contracts_limit: int = 0
    ) -> KalshiOrderGateway:
        """Order entry for the account in ``config.kalshi`` (an
        :class:`~hadron.venues.base.ExecutionVenue`); see
        :class:`~hadron.venues.kalshi.orders.KalshiOrderGateway`.

        Args:
            config: ``kalshi.api_key_id`` with ``private_key_path`` or ``private_key`` (also from
                ``KALSHI_API_KEY_ID``, ``KALSHI_PRIVATE_KEY_PATH``, ``KALSHI_PRIVATE_KEY``),
                ``rest_url``/``env`` (the REST host) and ``rate_tier`` (the token buckets).
            base_url: the REST root to use instead (including ``/trade-api/v2``).
            dry_run: sign and log every request, send nothing.
            contracts_limit: the order group's cap, whole contracts per rolling 15 s (0: no group).

        Raises:
            ConfigError: missing or unreadable credentials (naming the setting and the fix), or an
                unknown ``kalshi.rate_tier``.
        """
        from hadron.errors import ConfigError
        from hadron.venues.kalshi.auth import hosts_for, load_signer
        from hadron.venues.kalshi.orders import KalshiOrderGateway

        try:
            signer = load_signer(config.kalshi)
        except ConfigError as exc:
            raise ConfigError(f"Kalshi live orders need an API key: {exc}") from exc
        return KalshiOrderGateway(
            base_url or hosts_for(config.kalshi).rest,
            signer,
            rate_tier=config.kalshi.rate_tier,
            dry_run=dry_run,
            contracts_limit=contracts_limit,
        )

    async def market_results(self, tickers: list[str], *, config: HadronConfig) -> dict[str, str]:
        """Results of settled markets from REST; see :func:`hadron.venues.kalshi.live.market_results`."""
        from hadron.venues.kalshi.live import market_results

        return await market_results(tickers, config=config)

    async def fee_rules(self, events: list[str], *, config: HadronConfig) -> list[FeeRule]:
        """The events' fee rules from REST (series rule, event override); see
        :func:`hadron.venues.kalshi.live.fee_rules`."""
        from hadron.venues.kalshi.live import fee_rules

        return await fee_rules(events, config=config)

    def live_feed(
        self,
        books: BookManager,
        instruments: list[str],
        *,
        config: HadronConfig,
        on_event: EventSink | None = None,
        record_dir: Path | None = None,
        dead_letter: DeadLetterSink | None = None,
        on_venue: VenueSink | None = None,
        on_account: AccountSink | None = None,
    ) -> KalshiLiveFeed:
        """The runtime's live feed; see :func:`hadron.venues.kalshi.live.live_feed`."""
        from hadron.venues.kalshi.live import live_feed

        return live_feed(
            books,
            instruments,
            config=config,
            on_event=on_event,
            record_dir=record_dir,
            dead_letter=dead_letter,
            on_venue=on_venue,
            on_account=on_account,
        )

    def fee_model(self, params: Mapping[str, str]) -> FeeModel:
        """Return the taker fee model of one Kalshi market (a :class:`~hadron.model.fees.FeeModel`).

        The fee of an order is ``ceil_to_cent(0.07 × M × Σ C × P × (1 − P))`` over the order's
        fills, rounded up to the cent once per order, in money units (1/10,000,000,000 USD).

        Args:
            params: by name, decimal strings: ``multiplier``, the fee multiplier ``M`` (default 1);
                ``fee_type``, the series' fee type (default ``quadratic``; every type has the same
                taker rate). The pairs file writes them ``kalshi_fee_multiplier``, ``kalshi_fee_type``.

        Raises:
            ConfigError: an unsupported fee type, or a negative or non-finite multiplier.
        """
        from decimal import Decimal

        from hadron.venues.kalshi.fees import KalshiFeeSchedule, KalshiOrderFee

        schedule = KalshiFeeSchedule(
            str(params.get("fee_type", "quadratic")), Decimal(str(params.get("multiplier", 1)))
        )
        return KalshiOrderFee(schedule.multiplier)

    async def catalog(
        self, *, config: HadronConfig | None = None, base_url: str | None = None, max_pages: int = 50
    ) -> list[MarketInfo]:
        """Kalshi's open markets (``GET /events`` with nested markets) as the matcher's
        records, through the venue's REST client; see :func:`hadron.venues.kalshi.catalog.catalog`."""
        from hadron.venues.kalshi.catalog import catalog

        return list(await catalog(config=config, base_url=base_url, max_pages=max_pages))
