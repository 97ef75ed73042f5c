"""Kalshi commands: record live frames, and run the loopback venue.

Reached from the command line through the venue registry (``get_venue("kalshi")``); nothing
here is imported by the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import structlog
import uvicorn

from hadron.book.manager import BookManager
from hadron.config import HadronConfig, load_config
from hadron.errors import AuthError, ConfigError, RequestError, TransportError
from hadron.store.deadletter import DeadLetterFile
from hadron.store.parquet import ParquetTickStore, parse_store_url
from hadron.store.recorder import FrameRecorder
from hadron.venues.base import DeadLetterSink, EventSink, FeedStats
from hadron.venues.common import latency_summary, measure_until_idle, pool_health
from hadron.venues.kalshi.auth import KalshiSigner, hosts_for, load_public_key, load_signer
from hadron.venues.kalshi.fake import FakeKalshiVenue, load_capture, parse_faults
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fake_rest import RestFaults, build_rest_app
from hadron.venues.kalshi.poll import KalshiPoller
from hadron.venues.kalshi.rest import KalshiRestClient
from hadron.venues.kalshi.ws import DEFAULT_CHANNELS, PRIVATE_CHANNELS, PUBLIC_CHANNELS, KalshiPool, recorder_factory

log = structlog.get_logger("hadron.kalshi.app")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def check_channels(channels: Sequence[str]) -> list[str]:
    """Validate channel names.

    Raises:
        ConfigError: an unknown channel, naming the known ones.
    """
    known = (*PUBLIC_CHANNELS, *PRIVATE_CHANNELS)
    bad = [c for c in channels if c not in known]
    if bad:
        raise ConfigError(f"--channels: unknown {', '.join(bad)} (known: {', '.join(known)})")
    return list(channels)


def split_faults(spec: str) -> tuple[str, RestFaults]:
    """Split a ``--faults`` spec into the WebSocket part and REST faults (``rest429:N``: every Nth
    REST request answers 429; ``rest503:N``: every Nth answers 503).

    Raises:
        ConfigError: a REST item without a whole number.
    """
    ws_items: list[str] = []
    rest = RestFaults()
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, every = item.partition(":")
        if kind in ("rest429", "rest503"):
            if not every.isdigit() or int(every) < 1:
                raise ConfigError(f"--faults item {item!r}: use {kind}:N with N a whole number ≥ 1")
            if kind == "rest429":
                rest.rate_limit_every = int(every)
            else:
                rest.server_error_every = int(every)
        else:
            ws_items.append(item)
    return ",".join(ws_items), rest


TRANSPORTS = ("auto", "ws", "rest")


async def record(
    *,
    markets: Sequence[str],
    out: Path,
    channels: Sequence[str],
    duration: float | None,
    config: Path | None = None,
    url: str | None = None,
    rest_url: str | None = None,
    transport: str = "auto",
    connections: int | None = None,
    poll_interval: float = 1.0,
    store: str | None = None,
    stop: asyncio.Event | None = None,
) -> dict[str, Any]:
    """Record Kalshi frames for ``markets`` into ``out`` (Hadron recordings) while keeping books,
    until ``duration`` seconds pass, ``stop`` is set, or SIGINT/SIGTERM.

    ``transport``: ``ws`` streams over the WebSocket; ``rest`` polls orderbooks over REST within
    the rate budget (recorded as REST responses; books are marked polled); ``auto`` streams and
    falls back to polling when the WebSocket cannot be used (handshake refused, or every
    connection failing 5 times in a row).

    Returns a summary (frames, books, connection and poll counters, files).

    Raises:
        ConfigError: missing or unreadable credentials (one line naming the variable), or a bad
            option.
        AuthError: Kalshi (or the loopback venue) refused the key on every transport tried.
    """
    if transport not in TRANSPORTS:
        raise ConfigError(f"--transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
    cfg = load_config(config)
    kalshi = cfg.kalshi
    signer = load_signer(kalshi)
    hosts = hosts_for(kalshi)
    books = BookManager()
    stats = FeedStats()
    dead_letter = DeadLetterFile(out / "deadletter.ndjson")
    ticks = ParquetTickStore(parse_store_url(store)) if store else None
    pool = KalshiPool(
        url or hosts.ws,
        [signer],
        books,
        list(markets),
        connections=connections or kalshi.connections,
        max_markets_per_connection=kalshi.max_markets_per_connection,
        give_up_after=5 if transport == "auto" else None,
        channels=check_channels(channels),
        stats=stats,
        dead_letter=dead_letter,
        recorder=recorder_factory(out),
        on_event=ticks.on_event if ticks is not None else None,
    )
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    started = time.monotonic()
    fallback = ""
    poll_stats: dict[str, Any] | None = None
    try:
        if transport != "rest":
            try:
                await pool.run(stop)
            except (AuthError, RequestError, TransportError) as exc:
                if transport == "ws" or stop.is_set():
                    raise
                fallback = str(exc)
                log.warning("kalshi WebSocket unusable: polling REST instead", error=fallback)
        if transport == "rest" or fallback:
            poll_stats = await _poll(
                rest_url or hosts.rest, signer, kalshi.rate_tier, books, markets, out, poll_interval, stop
            )
    finally:
        dead_letter.close()
        if ticks is not None:
            ticks.close()
    elapsed = time.monotonic() - started
    return {
        "store": {"url": store, "rows": ticks.rows} if ticks is not None else None,
        "frames": stats.frames,
        "frames_per_s": round(stats.frames / elapsed) if elapsed > 0 else 0,
        "decode_errors": stats.decode_errors,
        "seq_gaps": stats.seq_gaps,
        "books": len(books),
        "books_synced": sum(1 for b in books if b.ever_live),
        "books_polled": sum(1 for b in books if b.polled),
        "resyncs": books.stats.resyncs,
        "deltas_dropped": books.stats.deltas_dropped,
        "pool": pool.report(),
        "fallback": fallback or None,
        "polling": poll_stats,
        "files": sorted(str(p) for p in (out / "kalshi").glob("*.ndjson.zst")),
        "elapsed_s": round(elapsed, 3),
    }


async def _poll(
    rest_url: str,
    signer: KalshiSigner,
    rate_tier: str,
    books: BookManager,
    markets: Sequence[str],
    out: Path,
    interval: float,
    stop: asyncio.Event,
) -> dict[str, Any]:
    recorder = FrameRecorder(out, "kalshi", "kalshi-rest")

    def keep(request: str, body: bytes, ts_recv: int) -> None:
        recorder.write(ts_recv, body, request)

    try:
        async with KalshiRestClient(rest_url, signer=signer, rate_tier=rate_tier) as rest:
            poller = KalshiPoller(rest, books, list(markets), interval=interval, on_raw=keep)
            await poller.run(stop)
    finally:
        recorder.close()
    return asdict(poller.stats)


async def fake_venue(
    *,
    captures: Sequence[Path],
    port: int,
    public_key: Path | None,
    speed: float = 1.0,
    faults: str = "",
    rest_port: int | None = None,
    metadata: Path | None = None,
    host: str = "127.0.0.1",
    stop: asyncio.Event | None = None,
    ready: Callable[[str, str | None], None] | None = None,
    started: Callable[[Any], None] | None = None,
    loop: bool = False,
    signals: bool = True,
    **_: Any,
) -> FakeKalshiVenue:
    """Serve the loopback Kalshi venue (WebSocket on ``port``, REST on ``rest_port``) until
    ``stop`` or SIGINT/SIGTERM (``signals``: install the handlers); ``ready(ws_url, rest_url)``
    is called once listening. ``loop`` plays the capture again and again.

    Raises:
        ConfigError: unreadable public key, bad fault spec, or no playable capture.
    """
    key = None
    if public_key is not None:
        try:
            pem = await asyncio.to_thread(public_key.read_bytes)
        except OSError as exc:
            raise ConfigError(f"--public-key {public_key}: cannot read ({exc.strerror or exc})") from exc
        key = load_public_key(pem)
    timeline = await asyncio.to_thread(load_capture, captures)
    if not timeline:
        raise ConfigError("--capture: no Kalshi book or trade frames found in the given files")
    exchange = FakeExchange()
    if metadata is not None:
        exchange.load_metadata(metadata)
    ws_faults, rest_faults = split_faults(faults)
    venue = FakeKalshiVenue(timeline, exchange, public_key=key, speed=speed, faults=parse_faults(ws_faults), loop=loop)
    await venue.start(host, port)
    server: uvicorn.Server | None = None
    server_task: asyncio.Task[None] | None = None
    rest_url = None
    if rest_port is not None:
        app = build_rest_app(exchange, public_key=key, faults=rest_faults)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=rest_port, log_level="warning", lifespan="off"))
        server_task = asyncio.create_task(server.serve())
        while not server.started and not server_task.done():  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        rest_url = f"http://{host}:{rest_port}/trade-api/v2"
    stop = stop or asyncio.Event()
    if signals:
        _stop_on_signals(stop)
    if started is not None:
        started(venue)
    if ready is not None:
        ready(venue.url, rest_url)
    try:
        await stop.wait()
    finally:
        await venue.stop()
        if server is not None and server_task is not None:
            server.should_exit = True
            await server_task
    return venue


async def bench_live(capture: Path, *, record_to: Path | None = None, idle: float = 1.0) -> dict[str, Any]:
    """Frames/s through the live path (loopback venue → signed socket → stream → books) next
    to offline replay of the same capture.

    The loopback venue runs in its own process (``hadron fake-venue kalshi --speed 0``), playing
    the capture as fast as the client takes it (frames written to the socket in batches of up to
    256, see :mod:`hadron.venues.loopback`, so the figure is the client's, not the venue's); the
    client runs here with its books. The rate is frames over the time from the first frame to the
    last (the stream ends when ``idle`` seconds pass without a frame). ``record_to`` also records
    the frames, as ``hadron record`` does.
    """
    import socket
    import sys
    import tempfile

    from hadron.app.replay import Replay
    from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key

    key, _, public_pem = generate_test_key()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tickers = sorted({e.ticker for e in await asyncio.to_thread(load_capture, [capture])})
    with tempfile.TemporaryDirectory() as tmp:
        pub = Path(tmp) / "venue.pub"
        pub.write_bytes(public_pem)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hadron", "fake-venue", "kalshi", "--capture", str(capture), "--port", str(port),
            "--public-key", str(pub), "--speed", "0", "--log-level", "error",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        url = line.decode().split()[-1] if b"ws://" in line else f"ws://127.0.0.1:{port}/trade-api/ws/v2"
        books = BookManager()
        stats = FeedStats()
        pool = KalshiPool(
            url,
            [KalshiSigner("bench", key)],
            books,
            tickers,
            stats=stats,
            dead_letter=DeadLetterFile(Path(tmp) / "dl.ndjson"),
            recorder=recorder_factory(record_to) if record_to is not None else None,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(pool.run(stop))
        seen, live_s = await measure_until_idle(stats, idle)
        processing = latency_summary(pool.connections)
        stop.set()
        await task
        proc.terminate()
        await proc.wait()
    replay = Replay(dead_letter=Path("/dev/null"))
    replay.run([capture])
    offline = replay.report()
    return {
        "capture": str(capture),
        "frames_live": seen,
        "live_s": round(live_s, 3),
        "live_frames_per_s": round(seen / live_s),
        "live_processing_us": processing,
        "offline_frames": offline["frames"],
        "offline_s": offline["elapsed_s"],
        "offline_frames_per_s": offline["frames_per_s"],
        "ratio_live_vs_offline": round(seen / live_s / offline["frames_per_s"], 3),
        "live_decode_errors": stats.decode_errors,
        "live_seq_gaps": stats.seq_gaps,
        "recorded": record_to is not None,
    }


class KalshiLiveFeed:
    """The runtime's Kalshi feed: a :class:`KalshiPool` over the configured connections and key
    (a :class:`~hadron.venues.base.LiveFeed`)."""

    venue = "kalshi"

    def __init__(self, pool: KalshiPool, stats: FeedStats) -> None:
        self.pool = pool
        self.stats = stats

    async def run(self, stop: asyncio.Event) -> None:
        """Run the pool until ``stop`` (see :meth:`KalshiPool.run`)."""
        await self.pool.run(stop)

    def health(self) -> dict[str, Any]:
        """Per-connection health for the dashboard and metrics."""
        return pool_health(self.pool.connections, shard="markets")


def live_feed(
    books: BookManager,
    instruments: list[str],
    *,
    config: HadronConfig,
    on_event: EventSink | None = None,
    record_dir: Path | None = None,
    dead_letter: DeadLetterSink | None = None,
) -> KalshiLiveFeed:
    """The runtime's Kalshi feed for market tickers ``instruments`` (see :class:`KalshiLiveFeed`).

    Raises:
        ConfigError: missing or unreadable credentials (one line naming the variable).
    """
    kalshi = config.kalshi
    signer = load_signer(kalshi)
    stats = FeedStats()
    pool = KalshiPool(
        hosts_for(kalshi).ws,
        [signer],
        books,
        list(instruments),
        connections=kalshi.connections,
        max_markets_per_connection=kalshi.max_markets_per_connection,
        stats=stats,
        dead_letter=dead_letter,
        recorder=recorder_factory(record_dir) if record_dir is not None else None,
        on_event=on_event,
        channels=[*DEFAULT_CHANNELS, "market_lifecycle_v2"],  # results settle paper positions
    )
    return KalshiLiveFeed(pool, stats)


async def market_results(tickers: list[str], *, config: HadronConfig) -> dict[str, str]:
    """Each market's result from REST (``GET /markets/{ticker}``): ``{ticker: "yes" | "no"}`` for
    the markets that have one (undetermined and voided markets are left out).

    Raises:
        ConfigError: missing credentials. VenueError: REST kept failing for a market.
    """
    kalshi = config.kalshi
    out: dict[str, str] = {}
    async with KalshiRestClient(hosts_for(kalshi).rest, signer=load_signer(kalshi), rate_tier=kalshi.rate_tier) as rest:
        for ticker in tickers:
            market = await rest.get_market(ticker)
            if market.result in ("yes", "no"):
                out[ticker] = market.result
    return out
