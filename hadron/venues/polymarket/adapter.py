"""The Polymarket venue adapter: what :func:`hadron.venues.base.get_venue` returns for ``"polymarket"``.

Cold code: it opens the compiled :class:`~hadron.venues.polymarket.stream.PolymarketStream` and
reaches the commands (record, loopback venue, benchmarks, live feed) on first use only, so replay
imports no network code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from hadron.book.manager import BookManager
from hadron.model.units import read_ms
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
from hadron.venues.polymarket.messages import CAPTURE_DECODER, MAX_FRAME_BYTES
from hadron.venues.polymarket.stream import PolymarketStream

if TYPE_CHECKING:
    from hadron.config import HadronConfig
    from hadron.model.catalog import MarketInfo
    from hadron.model.fees import FeeModel
    from hadron.venues.base import BenchPlan
    from hadron.venues.polymarket.fake import FakePolymarketVenue
    from hadron.venues.polymarket.live import PolymarketLiveFeed
    from hadron.venues.polymarket.orders import PolymarketOrderGateway


class _TimedMessage(msgspec.Struct, gc=False):
    timestamp: Any = None


_TIMED_FRAME = msgspec.json.Decoder(_TimedMessage | list[_TimedMessage])
_MAX_NS = 10**13 * 1_000_000
"""Venue times at or beyond this (the year 2286) are not times."""


def _timestamp_ns(value: object) -> int | None:
    # A market-channel ``timestamp`` (Unix ms, a decimal string; an int accepted) → ns, read as the
    # normalizer reads it (hadron.model.units.read_ms)
    if type(value) is int:
        ns = value * 1_000_000 if 0 < value < _MAX_NS // 1_000_000 else 0
    elif type(value) is str and value.isascii():
        ns = read_ms(value)
    else:
        return None
    return ns if 0 < ns < _MAX_NS else None


class PolymarketAdapter:
    """The Polymarket :class:`~hadron.venues.base.VenueAdapter` (also a recording venue, a
    loopback-venue host and a live-path benchmark)."""

    name = "polymarket"
    capture_decoder = CAPTURE_DECODER
    max_frame_bytes = MAX_FRAME_BYTES

    def sniff(self, frame: object) -> bool:
        """Polymarket frames are objects with ``event_type`` (or arrays of them)."""
        if isinstance(frame, list):
            return bool(frame) and all(isinstance(f, dict) and "event_type" in f for f in frame)
        return isinstance(frame, dict) and "event_type" in frame

    def frame_time_ns(self, raw: bytes) -> int | None:
        """The venue's time in a market-channel frame (:class:`~hadron.venues.base.FrameClockVenue`),
        in ns: its ``timestamp`` (ms since the epoch, a decimal string: ``book``,
        ``price_change``, ``last_trade_price``, ``tick_size_change``, ``best_bid_ask``…); of an
        array of messages, the first that has one. ``None``: no such time, or not a market-channel
        frame (``PONG``, subscription replies)."""
        try:
            frame = _TIMED_FRAME.decode(raw)
        except (msgspec.MsgspecError, ValueError, TypeError, RecursionError):
            return None
        for message in frame if isinstance(frame, list) else (frame,):
            ns = _timestamp_ns(message.timestamp)
            if ns is not None:
                return ns
        return None

    def open_stream(
        self,
        books: BookManager,
        conn: str,
        *,
        stats: FeedStats,
        dead_letter: DeadLetterSink,
        seq_mode: SeqMode = SeqMode.STRICT,
        on_event: EventSink | None = None,
        on_venue: Callable[[Any, int], None] | None = None,
    ) -> PolymarketStream:
        """Return a :class:`PolymarketStream` (``seq_mode`` is moot: no sequence numbers;
        ``on_venue`` is accepted for the protocol: the market channel has no venue-native messages)."""
        return PolymarketStream(books, conn, stats=stats, dead_letter=dead_letter, on_event=on_event)

    async def record(self, options: RecordOptions) -> dict[str, Any]:
        """Record the market channel; see :func:`hadron.venues.polymarket.record.record`
        (``channels``, ``connections`` and ``poll_interval`` are Kalshi's: not used)."""
        from hadron.venues.polymarket.record import record

        return await record(
            markets=options.markets,
            out=options.out,
            duration=options.duration,
            url=options.url,
            rest_url=options.rest_url,
            gamma_url=options.gamma_url,
            freeze_window=options.freeze_window,
            store=options.store,
            stop=options.stop,
            config=options.config,
            transport=options.transport,
        )

    async def fake_venue(self, options: FakeVenueOptions) -> FakePolymarketVenue:
        """Serve the loopback venue; see :func:`hadron.venues.polymarket.serve.fake_venue`
        (``public_key`` and ``metadata`` are Kalshi's: not used; ``exchange`` turns on order
        entry, :mod:`hadron.venues.polymarket.fake_orders`)."""
        from hadron.venues.polymarket.serve import fake_venue

        return await fake_venue(
            captures=options.captures,
            port=options.port,
            speed=options.speed,
            faults=options.faults,
            rest_port=options.rest_port,
            host=options.host,
            stop=options.stop,
            ready=options.ready,
            started=options.started,
            loop=options.loop,
            shift=options.shift,
            signals=options.signals,
            account_script=options.account_script,
            user_auth=options.user_auth,
            burst=options.burst,
            exchange=options.exchange,
        )

    def order_gateway(
        self, config: HadronConfig, *, base_url: str | None = None, dry_run: bool = False, contracts_limit: int = 0
    ) -> PolymarketOrderGateway:
        """The CLOB V2 order gateway of ``config.polymarket`` (an
        :class:`~hadron.venues.base.ExecutionVenue`); see
        :func:`hadron.venues.polymarket.orders.order_gateway`.

        ``contracts_limit`` is ignored: Polymarket has no venue-side order group.

        Raises:
            ConfigError: no wallet key, or a partial set of API credentials.
        """
        from hadron.venues.polymarket.orders import order_gateway

        return order_gateway(config, base_url=base_url, dry_run=dry_run)

    def bench_plan(self, capture: Path, folder: Path) -> BenchPlan:
        """The loopback set-up ``hadron bench live`` measures; see
        :func:`hadron.venues.polymarket.bench.bench_plan`."""
        from hadron.venues.polymarket.bench import bench_plan

        return bench_plan(capture, folder)

    def pair_scenario(
        self, captures: list[Path], out: Path, *, shift: int, fee_rate: str = "0.04", settles_at: str | None = None
    ) -> tuple[int, str]:
        """Pair Kalshi captures with their dislocated Polymarket transcoding.

        Writes one time-ordered Hadron recording of both (see
        :func:`hadron.venues.polymarket.fake_scenario.write_pair_recording`) and returns ``(lines, pairs
        file text)`` approving each Kalshi market with its token pair.
        """
        from hadron.store.reader import LineReader
        from hadron.venues.polymarket.fake_scenario import pairs_toml, write_pair_recording

        tickers: dict[str, None] = {}
        for capture in captures:
            for raw in LineReader(capture):
                ticker = msgspec.json.decode(raw).get("event", {}).get("msg", {}).get("market_ticker")
                if ticker:
                    tickers[ticker] = None
                    break
        lines = write_pair_recording(captures, out, shift=shift)
        return lines, pairs_toml(tickers, fee_rate=fee_rate, settles_at=settles_at)

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
    ) -> PolymarketLiveFeed:
        """The runtime's live feed; see :func:`hadron.venues.polymarket.live.live_feed`."""
        from hadron.venues.polymarket.live import live_feed

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

    def pairs_for(self, tickers: list[str], *, fee_rate: str = "0.04", settles_at: str | None = None) -> str:
        """The pairs file approving each Kalshi market with its transcoded token pair; see
        :func:`hadron.venues.polymarket.fake_scenario.pairs_toml`."""
        from hadron.venues.polymarket.fake_scenario import pairs_toml

        return pairs_toml(tickers, fee_rate=fee_rate, settles_at=settles_at)

    def fee_model(self, params: Mapping[str, str]) -> FeeModel:
        """Return the taker fee model of one Polymarket market (a :class:`~hadron.model.fees.FeeModel`).

        The fee of an order is the sum over its fills of ``C × rate × (p(1 − p))^exponent``, each
        rounded as :func:`hadron.venues.polymarket.fees.taker_fee` does, in money units
        (1/10,000,000,000 USD).

        Args:
            params: by name, decimal strings: ``rate``, the market's taker fee rate (default 0);
                ``exponent``, the curve's exponent (default 1). The pairs file writes them
                ``polymarket_fee_rate``, ``polymarket_fee_exponent``.

        Raises:
            ConfigError: a negative rate or an exponent that is not > 0.
        """
        from decimal import Decimal

        from hadron.venues.polymarket.fees import PolymarketFeeSchedule, order_fee_model

        schedule = PolymarketFeeSchedule(Decimal(str(params.get("rate", 0))), Decimal(str(params.get("exponent", 1))))
        return order_fee_model(schedule)

    async def catalog(
        self, *, config: HadronConfig | None = None, base_url: str | None = None, max_pages: int = 50
    ) -> list[MarketInfo]:
        """Polymarket's active, open markets (Gamma ``GET /events``) as the matcher's records,
        through the venue's REST client; see :func:`hadron.venues.polymarket.catalog.catalog`."""
        from hadron.venues.polymarket.catalog import catalog

        return list(await catalog(config=config, base_url=base_url, max_pages=max_pages))
