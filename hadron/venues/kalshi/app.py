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
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn

from hadron.arb.fees import FeeRule
from hadron.book.manager import BookManager
from hadron.config import TRANSPORTS, HadronConfig, load_config
from hadron.errors import AuthError, ConfigError, RecordingError, RequestError, TransportError, VenueError
from hadron.store.deadletter import DeadLetterFile
from hadron.store.recorder import FrameRecorder, Recordings, mark_health
from hadron.venues.account_script import ScriptedOrder, play_timed
from hadron.venues.base import AccountSink, DeadLetterSink, EventSink, FeedStats, VenueSink
from hadron.venues.common import latency_summary, measure_until_idle, pool_health
from hadron.venues.kalshi.account import account_hook
from hadron.venues.kalshi.auth import KalshiSigner, hosts_for, load_public_key, load_signers, mask_key_id
from hadron.venues.kalshi.fake import FakeKalshiVenue, load_capture, parse_faults
from hadron.venues.kalshi.fake_exchange import FakeExchange
from hadron.venues.kalshi.fake_rest import RestFaults, build_rest_app
from hadron.venues.kalshi.indices import index_subscriptions, references
from hadron.venues.kalshi.poll import KalshiPoller, KalshiPollStats
from hadron.venues.kalshi.rest import KalshiRestClient, KalshiSeries
from hadron.venues.kalshi.ws import (
    COMMUNICATIONS_CHANNELS,
    DEFAULT_CHANNELS,
    PRIVATE_CHANNELS,
    PUBLIC_CHANNELS,
    TICKER_CHANNELS,
    KalshiPool,
    recorder_factory,
)

if TYPE_CHECKING:
    from hadron.app.bench_live import BenchPlan

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
    known = (*PUBLIC_CHANNELS, *PRIVATE_CHANNELS, *COMMUNICATIONS_CHANNELS)
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


FALLBACK_GIVE_UP_CYCLES = 5
"""A live feed's REST fallback that has not delivered a single book in this many polling cycles
fails for good (see :class:`KalshiPoller`'s ``give_up_after``)."""


async def record(
    *,
    markets: Sequence[str],
    out: Path,
    channels: Sequence[str],
    duration: float | None,
    config: Path | None = None,
    url: str | None = None,
    rest_url: str | None = None,
    transport: str | None = None,
    connections: int | None = None,
    poll_interval: float | None = None,
    store: str | None = None,
    stop: asyncio.Event | None = None,
    gamma_url: str | None = None,
) -> dict[str, Any]:
    """Record Kalshi frames for ``markets`` into ``out`` (Hadron recordings) while keeping books,
    until ``duration`` seconds pass, ``stop`` is set, or SIGINT/SIGTERM.

    ``transport`` (default ``kalshi.transport``): ``ws`` streams over the WebSocket; ``rest``
    polls orderbooks over REST within the rate budget (recorded as REST responses; books are
    marked polled) every ``poll_interval`` seconds (default ``kalshi.poll_interval_s``); ``auto``
    streams and falls back to polling when the WebSocket cannot be used (handshake refused, or
    every connection failing 5 times in a row). Every key of the pool (:func:`load_signers`)
    signs: at least one connection each.

    Returns a summary (frames, books, connection, key and poll counters, files). ``failure`` is
    ``None``, or one line saying why the recording failed: a storage fault (``ENOSPC``… while
    writing a file: the recording stops at once, its files closed and marked in the manifest,
    ``recording_error`` says which), or nothing recorded (every source tried delivered no frame
    before the end: a fallback that never delivered is a failure too).

    Raises:
        ConfigError: missing or unreadable credentials (one line naming the variable), or a bad
            option.
        AuthError: Kalshi (or the loopback venue) refused the key on every transport tried (the
            message says so, naming both refusals).
    """
    if gamma_url is not None:
        raise ConfigError("--gamma-url is Polymarket's metadata host: not an option of a Kalshi recording")
    cfg = load_config(config)
    kalshi = cfg.kalshi
    transport = transport or kalshi.transport
    if transport not in TRANSPORTS:
        raise ConfigError(f"--transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
    channels = check_channels(channels)
    if not markets and (transport == "rest" or any(c in TICKER_CHANNELS for c in channels)):
        raise ConfigError(
            "--markets: give at least one market ticker (only firehose channels such as communications need none)"
        )
    signers = load_signers(kalshi)
    hosts = hosts_for(kalshi)
    books = BookManager()
    stats = FeedStats()
    dead_letter = DeadLetterFile(out / "deadletter.ndjson")
    ticks = None
    if store:
        from hadron.store.parquet import ParquetTickStore, parse_store_url  # the [parquet] extra

        ticks = ParquetTickStore(parse_store_url(store))
    on_event = ticks.on_event if ticks is not None else None
    stop = stop or asyncio.Event()
    recordings = Recordings(out, "kalshi", on_error=lambda _: stop.set())  # a storage fault ends the recording
    pool = KalshiPool(
        url or hosts.ws,
        signers,
        books,
        list(markets),
        connections=connections or max(kalshi.connections, len(signers)),
        max_markets_per_connection=kalshi.max_markets_per_connection,
        give_up_after=5 if transport == "auto" else None,
        channels=check_channels(channels),
        indices=index_subscriptions(kalshi.index_prices, markets),  # recorded with the books
        stats=stats,
        dead_letter=dead_letter,
        recorder=recordings,
        on_event=on_event,
    )
    polling = KalshiRestPolling(
        rest_url or hosts.rest,
        signers,
        kalshi.rate_tier,
        books,
        list(markets),
        interval=poll_interval or kalshi.poll_interval_s,
        stats=stats,
        record_dir=out,
        on_record_error=recordings.failed,
        on_event=on_event,
    )
    _stop_on_signals(stop)
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    started = time.monotonic()
    try:
        fallback = await stream_or_poll(transport, pool, polling, stop)
    finally:
        dead_letter.close()
        if ticks is not None:
            ticks.close()
    elapsed = time.monotonic() - started
    if recordings.error is not None:
        failure: str | None = f"storage fault, recording stopped: {recordings.error}"
    else:
        failure = None if stats.frames else _nothing_recorded(transport, pool, polling, fallback, elapsed)
    return {
        "store": {"url": store, "rows": ticks.rows} if ticks is not None else None,
        "frames": stats.frames,
        "frames_per_s": round(stats.frames / elapsed) if elapsed > 0 else 0,
        "frames_by_type": dict(sorted(stats.frames_by_type.items())),
        "passed_on": stats.passed_on,
        "unconsumed": stats.unconsumed,
        "decode_errors": stats.decode_errors,
        "seq_gaps": stats.seq_gaps,
        "books": len(books),
        "books_synced": sum(1 for b in books if b.ever_live),
        "books_polled": sum(1 for b in books if b.polled),
        "resyncs": books.stats.resyncs,
        "deltas_dropped": books.stats.deltas_dropped,
        "pool": pool.report(),
        "fallback": fallback or None,
        "polling": asdict(polling.stats) if polling.ran else None,
        "failure": failure,
        "recording_error": str(recordings.error) if recordings.error is not None else None,
        "files": sorted(str(p) for p in (out / "kalshi").glob("*.ndjson.zst")),
        "elapsed_s": round(elapsed, 3),
    }


def _nothing_recorded(
    transport: str, pool: KalshiPool, polling: KalshiRestPolling, fallback: str, elapsed: float
) -> str:
    # One line: why every source tried delivered nothing
    causes = []
    if fallback:
        causes.append(f"the WebSocket was unusable ({fallback})")
    elif transport != "rest":
        errors = [c.stats.last_error for c in pool.connections if c.stats.last_error]
        causes.append(f"the WebSocket delivered nothing ({errors[0] if errors else 'no connection'})")
    if polling.ran:
        causes.append(f"REST polling delivered no order book ({polling.stats.last_error or 'no answer'})")
    return f"no frame in {elapsed:.0f} s: " + "; ".join(causes)


async def stream_or_poll(transport: str, pool: KalshiPool, polling: KalshiRestPolling, stop: asyncio.Event) -> str:
    """Stream over ``pool`` and, per ``transport``, fall back to ``polling`` when the pool gives
    up (``auto``), or poll only (``rest``), until ``stop``; return why the socket was given up
    (``""``: it was not).

    Raises:
        AuthError, RequestError, TransportError: the socket failed for good with ``ws``; or, with
            ``auto``, the socket and then the fallback failed (one line naming both: an
            AuthError when either refused the key).
    """
    fallback = ""
    if transport != "rest":
        try:
            await pool.run(stop)
        except (AuthError, RequestError, TransportError) as exc:
            if transport == "ws" or stop.is_set():
                raise
            fallback = polling.reason = str(exc)
            log.warning("kalshi WebSocket unusable: polling REST instead", error=fallback)
            refused = {c.signer.key_id for c in pool.connections if c.signer and isinstance(c.fatal, AuthError)}
            polling.signers.sort(key=lambda signer: signer.key_id in refused)  # keys the socket took first
    if transport == "rest" or fallback:
        try:
            await polling.run(stop)
        except VenueError as exc:
            if not fallback:
                raise
            kind = AuthError if "refused" in fallback or isinstance(exc, AuthError) else TransportError
            raise kind(f"{fallback}; the REST fallback failed too: {exc}") from exc
    return fallback


class KalshiRestPolling:
    """The REST polling fallback of a Kalshi feed (or of ``hadron record``): a :class:`KalshiPoller`
    signed by the first key of ``signers`` REST accepts (a refused key passes to the next).

    Every response counts as a frame in ``stats`` (``rest_orderbook``) and, with ``record_dir``,
    is recorded as a REST line of connection ``kalshi-rest`` (``hadron replay`` reads it back as
    a polled snapshot); each book goes to ``books`` (polled) and to ``on_event``.

    Args:
        url: the REST base URL (``…/trade-api/v2``).
        signers: the key pool, in order of preference.
        rate_tier: the REST token-bucket tier.
        books / markets: where the books go, and the market tickers to poll.
        interval: seconds; a cycle starts at most this often.
        give_up_after: cycles without any book after which :meth:`run` fails (``None``: never).
        max_retries: retries of one request (the next cycle is a retry too).
        on_record_error: called once when recording a response meets a storage fault
            (:class:`~hadron.errors.RecordingError`): recording stops, polling goes on.
    """

    name = "kalshi-rest"

    def __init__(
        self,
        url: str,
        signers: Sequence[KalshiSigner],
        rate_tier: str,
        books: BookManager,
        markets: list[str],
        *,
        interval: float,
        stats: FeedStats,
        record_dir: Path | None = None,
        on_event: EventSink | None = None,
        give_up_after: int | None = None,
        max_retries: int = 2,
        on_record_error: Callable[[RecordingError], None] | None = None,
    ) -> None:
        self.url = url
        self.signers = list(signers)
        self.rate_tier = rate_tier
        self.books = books
        self.markets = markets
        self.interval = interval
        self.feed_stats = stats
        self.record_dir = record_dir
        self.on_event = on_event
        self.give_up_after = give_up_after
        self.max_retries = max_retries
        self.on_record_error = on_record_error
        self.record_error: RecordingError | None = None
        """The storage fault that stopped recording the responses (polling went on)."""
        self.stats = KalshiPollStats()
        self.ran = False
        self.active = False
        self.key = ""
        """The key id polling now (or last), masked."""
        self.reason = ""
        """Why it polls instead of streaming (the socket's failure; ``""``: polling was chosen)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``.

        Raises:
            AuthError: REST refused every key (one line naming each, masked).
            TransportError: ``give_up_after`` cycles delivered no book (naming the last failure).
        """
        self.ran = self.active = True
        recorder = FrameRecorder(self.record_dir, "kalshi", self.name) if self.record_dir is not None else None
        feed_stats = self.feed_stats

        def keep(request: str, body: bytes, ts_recv: int) -> None:
            feed_stats.frames += 1
            feed_stats.count("rest_orderbook")
            if recorder is not None and recorder.error is None:
                try:
                    recorder.write(ts_recv, body, request)
                except RecordingError as exc:
                    self._record_failed(exc)

        refusals: list[str] = []
        try:
            for signer in self.signers:
                self.key = mask_key_id(signer.key_id)
                try:
                    async with KalshiRestClient(
                        self.url, signer=signer, rate_tier=self.rate_tier, max_retries=self.max_retries
                    ) as rest:
                        poller = KalshiPoller(
                            rest, self.books, self.markets, interval=self.interval, on_event=self.on_event,
                            on_raw=keep, give_up_after=self.give_up_after, stats=self.stats,
                        )  # fmt: skip
                        await poller.run(stop)
                    return
                except AuthError as exc:
                    refusals.append(f"key {self.key}: {exc}")
                    log.warning("kalshi REST refused a key", key=self.key, error=str(exc))
            raise AuthError(f"Kalshi refused every key on REST ({'; '.join(refusals)})")
        finally:
            self.active = False
            if recorder is not None:
                try:
                    recorder.close()
                except RecordingError as exc:
                    self._record_failed(exc)

    def _record_failed(self, exc: RecordingError) -> None:
        # a storage fault while recording a response: recording stops (the file is closed), polling goes on
        if self.record_error is None:
            self.record_error = exc
            if self.on_record_error is not None:
                self.on_record_error(exc)

    def health(self) -> dict[str, Any]:
        """This fallback as one entry of a feed's ``connections`` (see ``LiveFeed.health``):
        connected while it polls and has delivered a book; ``frames`` = books polled."""
        stats = self.stats
        return {
            "name": self.name,
            "connected": self.active and stats.polls > 0,
            "frames": stats.polls,
            "last_frame_ns": stats.last_poll_ns,
            "reconnects": 0,
            "markets": len(self.markets),
            "last_error": stats.last_error,
            "key": self.key,
            "transport": "rest",
        }


async def fake_venue(
    *,
    captures: Sequence[Path],
    port: int,
    public_key: Path | Sequence[Path] | None,
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
    account_script: Sequence[ScriptedOrder] = (),
    burst: bool = False,
    **_: Any,
) -> FakeKalshiVenue:
    """Serve the loopback Kalshi venue (WebSocket on ``port``, REST on ``rest_port``) until
    ``stop`` or SIGINT/SIGTERM (``signals``: install the handlers); ``ready(ws_url, rest_url)``
    is called once listening. ``loop`` plays the capture again and again. ``public_key``: the PEM
    file(s) of the keys whose signatures are accepted (several: a key pool; none: any client).
    ``account_script``: orders played on the private channels (see
    :mod:`hadron.venues.account_script`), the clock started by the first ``fill`` subscription.
    ``burst``: at speed 0, frames built and framed ahead, written in large chunks (see
    :class:`~hadron.venues.kalshi.fake.FakeKalshiVenue`).

    Raises:
        ConfigError: unreadable public key, bad fault spec, or no playable capture.
    """
    keys = []
    for path in [public_key] if isinstance(public_key, Path) else list(public_key or []):
        try:
            pem = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise ConfigError(f"--public-key {path}: cannot read ({exc.strerror or exc})") from exc
        keys.append(load_public_key(pem))
    timeline = await asyncio.to_thread(load_capture, captures)
    if not timeline:
        raise ConfigError("--capture: no Kalshi book or trade frames found in the given files")
    exchange = FakeExchange()
    if metadata is not None:
        exchange.load_metadata(metadata)
    ws_faults, rest_faults = split_faults(faults)
    venue = FakeKalshiVenue(
        timeline, exchange, public_key=keys, speed=speed, faults=parse_faults(ws_faults), loop=loop, burst=burst
    )
    await venue.start(host, port)
    server: uvicorn.Server | None = None
    server_task: asyncio.Task[None] | None = None
    rest_url = None
    if rest_port is not None:
        app = build_rest_app(exchange, public_key=keys, faults=rest_faults)
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

    def subscribed() -> bool:  # a client subscribed to the private channels
        return any(c.by_channel("fill") for c in venue._clients)

    player = asyncio.create_task(play_timed(venue, account_script, "kalshi", stop, ready=subscribed))
    try:
        await stop.wait()
    finally:
        player.cancel()
        await asyncio.gather(player, return_exceptions=True)
        await venue.stop()
        if server is not None and server_task is not None:
            server.should_exit = True
            await server_task
    return venue


def bench_plan(capture: Path, folder: Path, *, burst: bool = True) -> BenchPlan:
    """How ``hadron bench live --path record|run`` measures Kalshi on ``capture``: the loopback
    venue in burst mode checking a throwaway key (written to ``folder``), the client given that key
    as a user gives it (``KALSHI_API_KEY_ID`` / ``KALSHI_PRIVATE_KEY_PATH``)."""
    import os

    from hadron.app.bench_live import BenchPlan, free_port
    from hadron.venues.kalshi.auth import generate_test_key

    _, private_pem, public_pem = generate_test_key()
    key, pub = folder / "bench.key", folder / "venue.pub"
    key.write_bytes(private_pem)
    key.chmod(0o600)
    pub.write_bytes(public_pem)
    port = free_port()
    tickers = sorted({e.ticker for e in load_capture([capture])})
    return BenchPlan(
        venue="kalshi",
        venue_args=[
            *("--capture", str(capture), "--port", str(port), "--public-key", str(pub)),
            *(["--speed", "0", "--burst"] if burst else ["--speed", "1"]),
        ],
        url=f"ws://127.0.0.1:{port}/trade-api/ws/v2",
        env={**os.environ, "KALSHI_API_KEY_ID": "bench", "KALSHI_PRIVATE_KEY_PATH": str(key)},
        instruments=tickers,
        pair_market=tickers[0],
        key_path=key,
    )


async def bench_live(
    capture: Path,
    *,
    record_to: Path | None = None,
    idle: float = 1.0,
    path: str = "pool",
    speed: float = 0.0,
    limit_s: float = 10.0,
) -> dict[str, Any]:
    """Frames/s through the live path (loopback venue → signed socket → stream → books) next
    to offline replay of the same capture.

    ``path``: ``pool`` measures the connection pool in this process (below); ``record`` and
    ``run`` measure ``hadron record`` / ``hadron run`` as users run them (see
    :mod:`hadron.app.bench_live` and :func:`bench_plan`).

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

    if path != "pool":
        from hadron.app.bench_live import bench_path

        return await bench_path(path, "kalshi", capture)
    if speed < 0:
        raise ConfigError(f"--speed {speed}: use 0 (as fast as the client takes it) or a positive pace")
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
            "--public-key", str(pub), *_pace(speed), "--log-level", "error",
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
        seen, live_s = await measure_until_idle(stats, idle, limit_s if speed > 0 else None)
        processing = latency_summary(pool.connections)
        from_read = latency_summary(pool.connections, "read_latency")
        stop.set()
        await task
        proc.terminate()
        await proc.wait()
    replay = Replay(dead_letter=Path("/dev/null"))
    replay.run([capture])
    offline = replay.report()
    return {
        "path": "connection pool"
        + (f", venue paced at {speed:g}× the captured rate for {limit_s:g} s" if speed else ""),
        "capture": str(capture),
        "frames_live": seen,
        "live_s": round(live_s, 3),
        "live_frames_per_s": round(seen / live_s),
        "live_processing_us": processing,
        "live_read_to_book_us": from_read,
        "offline_frames": offline["frames"],
        "offline_s": offline["elapsed_s"],
        "offline_frames_per_s": offline["frames_per_s"],
        "ratio_live_vs_offline": round(seen / live_s / offline["frames_per_s"], 3),
        "live_decode_errors": stats.decode_errors,
        "live_seq_gaps": stats.seq_gaps,
        "recorded": record_to is not None,
    }


class KalshiLiveFeed:
    """The runtime's Kalshi feed (a :class:`~hadron.venues.base.LiveFeed`): a :class:`KalshiPool`
    over every key of the pool (at least one connection each) and, per ``transport``, the REST
    polling fallback (:class:`KalshiRestPolling`) when the socket is unusable.

    A refused key fails only its own connections; their markets move to the others and the feed
    goes on. The feed fails for good (:meth:`run` raises) only when every source failed. A
    storage fault while recording (``recordings``) stops the recording only: the feed goes on,
    DEGRADED (see :meth:`health`).
    """

    venue = "kalshi"

    def __init__(
        self,
        pool: KalshiPool,
        stats: FeedStats,
        polling: KalshiRestPolling,
        transport: str = "auto",
        recordings: Recordings | None = None,
    ) -> None:
        self.pool = pool
        self.stats = stats
        self.polling = polling
        self.transport = transport
        self.recordings = recordings
        self.references: dict[str, list[str]] = {}
        """Market ticker → instrument ids of its reference prices (``kalshi:index:<id>``, see
        :func:`hadron.venues.kalshi.indices.references`): the dashboard shows them beside its pair."""

    async def run(self, stop: asyncio.Event) -> None:
        """Stream (and, per ``transport``, poll) until ``stop`` (see :func:`stream_or_poll`).

        Raises:
            AuthError: every key was refused (WebSocket and REST); the message says so.
            RequestError / TransportError: every source failed for good (named in one line).
        """
        await stream_or_poll(self.transport, self.pool, self.polling, stop)

    def health(self) -> dict[str, Any]:
        """Per-connection health for the dashboard and metrics (each entry with its ``key``,
        masked; the REST fallback as a ``kalshi-rest`` entry once it ran), ``keys``: per key, its
        connections (see :meth:`KalshiPool.keys`), and ``status`` (``"ok"``; ``"degraded"`` with
        ``recording_error`` after a storage fault stopped the recording: see
        :func:`~hadron.store.recorder.mark_health`)."""
        health = pool_health(self.pool.connections, shard="markets")
        for entry, conn in zip(health["connections"], self.pool.connections, strict=True):
            entry["key"] = mask_key_id(conn.signer.key_id) if conn.signer is not None else ""
        if self.polling.ran:
            health["connections"].append(self.polling.health())
        health["keys"] = self.pool.keys()
        health["fallback"] = self.polling.reason or None
        return mark_health(health, self.recordings)


def live_feed(
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
    """The runtime's Kalshi feed for market tickers ``instruments`` (see :class:`KalshiLiveFeed`):
    ``kalshi.transport``, every key of the pool (:func:`load_signers`), ``max(kalshi.connections,
    number of keys)`` connections, REST polling every ``kalshi.poll_interval_s`` when it falls back.
    With ``on_account`` and ``kalshi.account`` the connections also subscribe the private channels
    (:data:`~hadron.venues.kalshi.ws.PRIVATE_CHANNELS`, for the shard's markets) and hand each
    private message, normalized (:mod:`hadron.venues.kalshi.account`), to ``on_account``.

    Raises:
        ConfigError: missing or unreadable credentials (one line naming the setting).
    """
    kalshi = config.kalshi
    signers = load_signers(kalshi)
    stats = FeedStats()
    hosts = hosts_for(kalshi)
    recordings = Recordings(record_dir, "kalshi") if record_dir is not None else None
    channels = [*DEFAULT_CHANNELS, "market_lifecycle_v2"]  # results settle paper positions
    private = None
    if on_account is not None and kalshi.account and signers:
        channels += PRIVATE_CHANNELS  # the signed connections carry our own orders, fills, positions
        private = account_hook(on_account)
    pool = KalshiPool(
        hosts.ws,
        signers,
        books,
        list(instruments),
        connections=max(kalshi.connections, len(signers)),
        max_markets_per_connection=kalshi.max_markets_per_connection,
        give_up_after=5 if kalshi.transport == "auto" else None,
        stats=stats,
        dead_letter=dead_letter,
        recorder=recordings,
        on_event=on_event,
        on_venue=on_venue,
        channels=channels,
        on_private=private,
        indices=index_subscriptions(kalshi.index_prices, instruments),  # reference prices (IndexPrice)
    )
    polling = KalshiRestPolling(
        hosts.rest,
        signers,
        kalshi.rate_tier,
        books,
        list(instruments),
        interval=kalshi.poll_interval_s,
        stats=stats,
        record_dir=record_dir,
        on_record_error=recordings.failed if recordings is not None else None,
        on_event=on_event,
        give_up_after=FALLBACK_GIVE_UP_CYCLES,
    )
    feed = KalshiLiveFeed(pool, stats, polling, kalshi.transport, recordings)
    feed.references = references(kalshi.index_prices, instruments)
    return feed


async def market_results(tickers: list[str], *, config: HadronConfig) -> dict[str, str]:
    """Each market's result from REST (``GET /markets/{ticker}``): ``{ticker: "yes" | "no"}`` for
    the markets that have one (undetermined and voided markets are left out).

    Raises:
        ConfigError: missing credentials. VenueError: REST kept failing for a market.
    """
    kalshi = config.kalshi
    out: dict[str, str] = {}
    signer = load_signers(kalshi)[0]
    async with KalshiRestClient(hosts_for(kalshi).rest, signer=signer, rate_tier=kalshi.rate_tier) as rest:
        for ticker in tickers:
            market = await rest.get_market(ticker)
            if market.result in ("yes", "no"):
                out[ticker] = market.result
    return out


async def fee_rules(events: list[str], *, config: HadronConfig, transport: Any = None) -> list[FeeRule]:
    """The fee rules of Kalshi ``events`` from REST, each event and series fetched once through
    one rate-limited client: per event its ``base`` rule (``GET /series/{series_ticker}`` →
    ``fee_type``/``fee_multiplier``) and its ``override`` when set (``GET /events/{event_ticker}``
    → ``fee_type_override``/``fee_multiplier_override``).

    Not read (nothing returned) when ``kalshi.ws_url`` is set without ``kalshi.rest_url``: a
    venue of its own (a loopback one) that serves no REST.

    Public endpoints: signed with the first key of the pool when one is configured, else unsigned.
    An event (or series) REST could not give is left out: one warning line names them all (their
    markets keep the pairs file's terms). ``transport``: an httpx transport (tests).

    Raises:
        ConfigError: a bad ``kalshi.rate_tier``.
    """
    kalshi = config.kalshi
    if kalshi.ws_url and not kalshi.rest_url:  # a venue of its own (a loopback one) without REST
        log.info("kalshi fee rules not read: kalshi.ws_url is set without kalshi.rest_url", events=len(events))
        return []
    try:
        signer: KalshiSigner | None = load_signers(kalshi)[0]
    except ConfigError:
        signer = None  # the series and event records are public
    rules: list[FeeRule] = []
    failed: dict[str, str] = {}
    series_of: dict[str, KalshiSeries | None] = {}
    wanted = list(dict.fromkeys(events))
    async with KalshiRestClient(
        hosts_for(kalshi).rest, signer=signer, rate_tier=kalshi.rate_tier, transport=transport
    ) as rest:
        for event_ticker in wanted:
            try:
                event = await rest.get_event(event_ticker, with_nested_markets=False)
                series_ticker = event.series_ticker or event_ticker.split("-", 1)[0]
                if series_ticker not in series_of:
                    try:
                        series_of[series_ticker] = await rest.get_series(series_ticker)
                    except (VenueError, OSError) as exc:
                        series_of[series_ticker] = None
                        failed[f"series:{series_ticker}"] = str(exc)
            except (VenueError, OSError) as exc:
                failed[event_ticker] = str(exc)
                continue
            series = series_of[series_ticker]
            if series is None:
                failed.setdefault(event_ticker, f"series {series_ticker} not available")
            else:
                rules.append(
                    FeeRule(
                        "kalshi",
                        event_ticker,
                        "base",
                        series.fee_type,
                        series.fee_multiplier,
                        f"series:{series.ticker}",
                    )
                )
            if event.fee_type_override is not None or event.fee_multiplier_override is not None:
                rules.append(
                    FeeRule(
                        "kalshi",
                        event_ticker,
                        "override",
                        event.fee_type_override,
                        event.fee_multiplier_override,
                        f"event:{event_ticker}",
                    )
                )
    if failed:
        first = next(iter(failed.items()))
        log.warning(
            "kalshi fee rules not available: those markets keep the pairs file's terms",
            failed=len(failed),
            of=len(wanted),
            keys=sorted(failed)[:20],
            error=f"{first[0]}: {first[1]}",
        )
    return rules


def _pace(speed: float) -> list[str]:
    # the loopback venue's pace: 0 is burst mode (as fast as the client reads), else × captured rate
    return ["--speed", "0", "--burst"] if speed <= 0 else ["--speed", f"{speed:g}"]
