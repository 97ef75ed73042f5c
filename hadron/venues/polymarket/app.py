"""Polymarket commands: record the market channel, run the loopback venue, benchmark the live path.

Reached from the command line through the venue registry; nothing here is imported by the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn

from hadron.book.manager import BookManager
from hadron.config import HadronConfig, load_config
from hadron.errors import AuthError, ConfigError, HadronError, RequestError, TransportError, VenueError
from hadron.store.deadletter import DeadLetterFile
from hadron.store.recorder import Recordings, mark_health
from hadron.venues.account_script import ScriptedOrder, play_timed
from hadron.venues.base import AccountSink, DeadLetterSink, EventSink, FeedStats, VenueSink
from hadron.venues.common import latency_summary, measure_until_idle, pool_health
from hadron.venues.polymarket.fake import FakePolymarketVenue, load_capture, parse_faults
from hadron.venues.polymarket.poll import PolymarketPoller
from hadron.venues.polymarket.rest import (
    PolymarketClobClient,
    PolymarketGammaClient,
    PolymarketInstrumentProvider,
)
from hadron.venues.polymarket.stream import MarketMeta
from hadron.venues.polymarket.user import PolymarketUserChannel
from hadron.venues.polymarket.ws import MARKET_URL, PolymarketPool

CLOB_URL = "https://clob.polymarket.com"

if TYPE_CHECKING:
    from hadron.app.bench_live import BenchPlan

log = structlog.get_logger("hadron.polymarket.app")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def record(
    *,
    markets: Sequence[str],
    out: Path,
    duration: float | None,
    url: str | None = None,
    rest_url: str | None = None,
    gamma_url: str | None = None,
    freeze_window: float | None = None,
    store: str | None = None,
    stop: asyncio.Event | None = None,
    config: Path | None = None,
    transport: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Record the market channel for token ids ``markets`` into ``out`` while keeping books, with
    the freeze watchdog checking ``GET /book`` on ``rest_url``.

    ``url``, ``rest_url``, ``gamma_url`` and ``freeze_window`` default to the ``[polymarket]``
    settings of ``config`` (``--config``, ``$HADRON_CONFIG`` or ``./hadron.toml``; Polymarket's
    hosts without one). Market metadata from Gamma (``gamma_url``; ``""`` skips it) keeps each
    market's YES and NO tokens on one connection and lets every ``book`` hash be verified; without
    it the books are kept all the same, unverified. ``transport`` may be ``auto`` or ``ws``: a
    recording of Polymarket is the market channel's frames (``rest`` is refused).

    Returns a summary (frames, books, connection counters, files). ``failure`` is ``None``, or
    one line saying why the recording failed: a storage fault (``ENOSPC``… while writing a file:
    the recording stops at once, its files closed and marked in the manifest,
    ``recording_error`` says which), or no frame before the end.

    Raises:
        ConfigError: a token id is not a decimal string.
        VenueError: the market channel refused the connection for good.
    """
    bad = [t for t in markets if not t.isdigit()]
    if bad:
        raise ConfigError(f"--markets: Polymarket token ids are decimal strings, not {', '.join(bad[:3])}")
    if transport not in (None, "auto", "ws"):
        raise ConfigError(f"--transport {transport}: a Polymarket recording is the market channel's; use auto or ws")
    settings = load_config(config).polymarket
    url = url or settings.ws_url
    rest_url = rest_url or settings.rest_url
    gamma_url = settings.gamma_url if gamma_url is None else gamma_url
    freeze_window = float(settings.freeze_window_s) if freeze_window is None else freeze_window
    books = BookManager()
    stats = FeedStats()
    dead_letter = DeadLetterFile(out / "deadletter.ndjson")
    ticks = None
    if store:
        from hadron.store.parquet import ParquetTickStore, parse_store_url  # the [parquet] extra

        ticks = ParquetTickStore(parse_store_url(store))
    stop = stop or asyncio.Event()
    recordings = Recordings(out, "polymarket", on_error=lambda _: stop.set())  # a storage fault ends the recording
    _stop_on_signals(stop)
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    started = time.monotonic()
    meta, groups = await _metadata(gamma_url or None, markets)
    async with PolymarketClobClient(rest_url or CLOB_URL) as clob:
        pool = PolymarketPool(
            url or MARKET_URL,
            books,
            list(markets),
            groups=groups,
            meta=meta,
            stats=stats,
            dead_letter=dead_letter,
            recorder=recordings,
            on_event=ticks.on_event if ticks is not None else None,
            rest=clob,
            freeze_window=freeze_window,
        )
        try:
            await pool.run(stop)
        finally:
            dead_letter.close()
            if ticks is not None:
                ticks.close()
    elapsed = time.monotonic() - started
    if recordings.error is not None:
        failure: str | None = f"storage fault, recording stopped: {recordings.error}"
    else:
        failure = None if stats.frames else _nothing_recorded(pool, elapsed)
    return {
        "store": {"url": store, "rows": ticks.rows} if ticks is not None else None,
        "frames": stats.frames,
        "frames_per_s": round(stats.frames / elapsed) if elapsed > 0 else 0,
        "frames_by_type": dict(sorted(stats.frames_by_type.items())),
        "passed_on": stats.passed_on,
        "unconsumed": stats.unconsumed,
        "decode_errors": stats.decode_errors,
        "books": len(books),
        "books_synced": sum(1 for b in books if b.ever_live),
        "books_polled": 0,
        "resyncs": books.stats.resyncs,
        "bbo_checks": books.stats.bbo_checks,
        "bbo_mismatches": books.stats.bbo_mismatches,
        "hash_checks": stats.hash_checks,
        "hash_mismatches": stats.hash_mismatches,
        "pool": pool.report(),
        "fallback": None,
        "failure": failure,
        "recording_error": str(recordings.error) if recordings.error is not None else None,
        "files": sorted(str(p) for p in (out / "polymarket").glob("*.ndjson.zst")),
        "elapsed_s": round(elapsed, 3),
    }


def _nothing_recorded(pool: PolymarketPool, elapsed: float) -> str:
    # One line: why the market channel delivered nothing
    errors = [c.stats.last_error for c in pool.connections if c.stats.last_error]
    cause = errors[0] if errors else "no connection"
    return f"no frame in {elapsed:.0f} s: the market channel delivered nothing ({cause})"


async def _metadata(gamma_url: str | None, tokens: Sequence[str]) -> tuple[MarketMeta | None, dict[str, str]]:
    if gamma_url is None:
        return None, {}
    try:
        async with PolymarketGammaClient(gamma_url, max_retries=1, timeout=5.0) as gamma:
            provider = PolymarketInstrumentProvider(gamma)
            instruments = await provider.load(token_ids=list(tokens))
    except VenueError as exc:
        log.warning("no market metadata from Gamma: book hashes will not be verified", error=str(exc))
        return None, {}
    groups = {token: cid for cid, inst in instruments.items() for token in inst.token_ids}
    return provider.meta, groups


async def fake_venue(
    *,
    captures: Sequence[Path],
    port: int,
    speed: float = 1.0,
    faults: str = "",
    rest_port: int | None = None,
    host: str = "127.0.0.1",
    stop: asyncio.Event | None = None,
    ready: Callable[[str, str | None], None] | None = None,
    started: Callable[[Any], None] | None = None,
    loop: bool = False,
    shift: int = 0,
    signals: bool = True,
    account_script: Sequence[ScriptedOrder] = (),
    user_auth: tuple[str, str, str] | None = None,
    burst: bool = False,
    **_: Any,
) -> FakePolymarketVenue:
    """Serve the loopback Polymarket venue (market channel on ``port``, REST ``/book`` on
    ``rest_port``) until ``stop`` or SIGINT/SIGTERM (``signals``: install the handlers).
    ``loop`` plays the capture again and again; ``shift`` (int, 1/10,000 USD) moves a
    transcoded Kalshi capture's YES prices (see :func:`~hadron.venues.polymarket.fake.dislocate`).
    ``user_auth``: the (api key, secret, passphrase) the user channel ``/ws/user`` accepts (none:
    it refuses every client); ``account_script``: orders played there (see
    :mod:`hadron.venues.account_script`), the clock started by the first authenticated client.
    ``burst``: at speed 0, frames built and framed ahead, written in large chunks (see
    :class:`~hadron.venues.polymarket.fake.FakePolymarketVenue`).

    Raises:
        ConfigError: a bad fault spec, or nothing playable in the captures.
    """
    timeline = await asyncio.to_thread(load_capture, captures, shift=shift)
    if not timeline:
        raise ConfigError("--capture: no Polymarket frames (or Kalshi frames to transcode) in the given files")
    venue = FakePolymarketVenue(timeline, speed=speed, faults=parse_faults(faults), loop=loop, burst=burst)
    venue.user_auth = user_auth
    await venue.start(host, port)
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    rest_url = None
    if rest_port is not None:
        config = uvicorn.Config(
            venue.exchange.rest_app(), host=host, port=rest_port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        rest_url = f"http://{host}:{rest_port}"
    stop = stop or asyncio.Event()
    if signals:
        _stop_on_signals(stop)
    if started is not None:
        started(venue)
    if ready is not None:
        ready(venue.url, rest_url)
    player = asyncio.create_task(
        play_timed(venue, account_script, "polymarket", stop, ready=lambda: bool(venue._user_clients))
    )
    try:
        await stop.wait()
    finally:
        player.cancel()
        await asyncio.gather(player, return_exceptions=True)
        await venue.stop()
        if server is not None and task is not None:
            server.should_exit = True
            await task
    return venue


def bench_plan(capture: Path, folder: Path, *, burst: bool = True) -> BenchPlan:
    """How ``hadron bench live --path record|run`` measures Polymarket on ``capture`` (a Kalshi
    capture, transcoded by the loopback venue into the market channel): the venue in burst mode,
    the client subscribing the capture's tokens; ``hadron run`` trades the pair of the capture's
    Kalshi market (``folder`` gets the throwaway key its config names)."""
    import os

    import msgspec

    from hadron.app.bench_live import BenchPlan, free_port
    from hadron.store.replay import LineReader

    tokens = sorted({a for item in load_capture([capture]) for a in item.assets})
    market = ""
    for line in LineReader(capture):  # the Kalshi market the tokens mirror
        event = msgspec.json.decode(line).get("event") or {}
        market = str((event.get("msg") or {}).get("market_ticker") or "")
        if market:
            break
    key = folder / "bench.key"
    key.write_bytes(_throwaway_key())
    key.chmod(0o600)
    port = free_port()
    return BenchPlan(
        venue="polymarket",
        venue_args=[
            "--capture",
            str(capture),
            "--port",
            str(port),
            *(["--speed", "0", "--burst"] if burst else ["--speed", "1"]),
        ],
        url=f"ws://127.0.0.1:{port}/ws/market",
        env=dict(os.environ),
        instruments=tokens,
        pair_market=market,
        key_path=key,
        record_args=["--gamma-url", "", "--rest-url", ""],
    )


def _throwaway_key() -> bytes:
    # hadron run's config names a Kalshi key even when only Polymarket streams
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


async def bench_live(
    capture: Path, *, idle: float = 1.0, path: str = "pool", speed: float = 0.0, limit_s: float = 10.0, **_: Any
) -> dict[str, Any]:
    """Frames/s through the live path (loopback venue process → socket → stream → books) next to
    offline replay of the same messages (the capture, transcoded when it is a Kalshi capture).

    ``path``: ``pool`` measures the connection pool in this process (below); ``record`` and
    ``run`` measure ``hadron record`` / ``hadron run`` as users run them (see
    :mod:`hadron.app.bench_live` and :func:`bench_plan`).

    The venue writes frames to the socket in batches of up to 256 (see
    :mod:`hadron.venues.loopback`): the figure is the client's, not the venue's."""
    import socket

    import msgspec

    from hadron.app.replay import Replay

    if path != "pool":
        from hadron.app.bench_live import bench_path

        return await bench_path(path, "polymarket", capture)
    if speed < 0:
        raise ConfigError(f"--speed {speed}: use 0 (as fast as the client takes it) or a positive pace")
    timeline = await asyncio.to_thread(load_capture, [capture])
    tokens = sorted({a for item in timeline for a in item.assets})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        offline_file = Path(tmp) / "messages.ndjson"
        with offline_file.open("wb") as fh:
            for item in timeline:
                fh.write(msgspec.json.encode({"recv_ms": item.recv_ms, "event": item.msg}) + b"\n")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hadron", "fake-venue", "polymarket", "--capture", str(capture),
            "--port", str(port), *_pace(speed), "--log-level", "error", stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        books = BookManager()
        stats = FeedStats()
        pool = PolymarketPool(
            f"ws://127.0.0.1:{port}/ws/market", books, tokens, stats=stats, dead_letter=DeadLetterFile(Path(tmp) / "dl")
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
        replay = Replay(dead_letter=Path(tmp) / "dl2")
        replay.run([offline_file])
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
        "ratio_live_vs_offline": round(seen / live_s / max(offline["frames_per_s"], 1), 3),
        "live_decode_errors": stats.decode_errors,
        "live_bbo_mismatches": books.stats.bbo_mismatches,
    }


FALLBACK_GIVE_UP_CYCLES = 5
"""A live feed's REST fallback that has not delivered a single book in this many polling cycles
fails for good (see :class:`PolymarketPoller`'s ``give_up_after``)."""


class PolymarketLiveFeed:
    """The runtime's Polymarket feed (a :class:`~hadron.venues.base.LiveFeed`): a
    :class:`PolymarketPool` with the freeze watchdog on the CLOB REST ``/book`` and, per
    ``polymarket.transport``, the REST polling fallback (:class:`PolymarketPoller` over ``GET
    /book`` for every token, every ``polymarket.poll_interval_s``) when the market channel is
    unusable (``auto``: its handshake refused for good, or every connection failing 5 dials in a
    row), or polling only (``rest``).

    Polled books are not recorded (``hadron replay`` reads no Polymarket REST responses); they go
    to the books (marked polled) and to ``on_event``. A storage fault while recording stops the
    recording only: the feed goes on, DEGRADED (see :meth:`health`).
    """

    venue = "polymarket"

    def __init__(self, books: BookManager, tokens: list[str], config: HadronConfig, **kwargs: Any) -> None:
        self.books = books
        self.tokens = tokens
        self.config = config.polymarket
        self.stats = FeedStats()
        self.kwargs = kwargs
        recorder = kwargs.get("recorder")
        self.recordings: Recordings | None = recorder if isinstance(recorder, Recordings) else None
        self.pool: PolymarketPool | None = None
        self.poller: PolymarketPoller | None = None
        self.fallback = ""
        """Why the market channel was given up for REST polling (``""``: it was not)."""
        self.user: PolymarketUserChannel | None = None
        """The authenticated user channel (our orders and trades), when credentials are set."""

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch metadata (when a Gamma host is set), then stream (and, per ``transport``, poll)
        until ``stop``.

        Raises:
            AuthError / RequestError / TransportError: every source failed for good: the market
                channel (with ``ws``), or the channel and then the REST fallback (one line naming
                both), or REST polling alone (with ``rest``).
        """
        user = asyncio.create_task(self._user(stop)) if self.user is not None else None
        try:
            await self._run(stop)
        finally:
            if user is not None:
                user.cancel()
                await asyncio.gather(user, return_exceptions=True)

    async def _user(self, stop: asyncio.Event) -> None:
        # The user channel beside the market data: a failure is logged, never the feed's end
        assert self.user is not None
        try:
            await self.user.run(stop)
        except HadronError as exc:
            log.error("polymarket user channel failed: account events stop", error=str(exc))

    async def _run(self, stop: asyncio.Event) -> None:
        cfg = self.config
        transport = cfg.transport
        meta, groups = await _metadata(cfg.gamma_url or None, self.tokens) if transport != "rest" else (None, {})
        async with PolymarketClobClient(cfg.rest_url) as clob:
            if transport != "rest":
                self.pool = PolymarketPool(
                    cfg.ws_url,
                    self.books,
                    self.tokens,
                    groups=groups,
                    meta=meta,
                    stats=self.stats,
                    rest=clob,
                    freeze_window=float(cfg.freeze_window_s),
                    give_up_after=5 if transport == "auto" else None,
                    **self.kwargs,
                )
                try:
                    await self.pool.run(stop)
                except (AuthError, RequestError, TransportError) as exc:
                    if transport == "ws" or stop.is_set():
                        raise
                    self.fallback = str(exc)
                    log.warning("polymarket market channel unusable: polling REST instead", error=self.fallback)
        if transport == "rest" or self.fallback:
            try:
                await self._poll(stop)
            except VenueError as exc:
                if not self.fallback:
                    raise
                kind = AuthError if isinstance(exc, AuthError) else TransportError
                raise kind(f"{self.fallback}; the REST fallback failed too: {exc}") from exc

    async def _poll(self, stop: asyncio.Event) -> None:
        on_event = self.kwargs.get("on_event")
        stats = self.stats

        def count(request: str, body: bytes, ts_recv: int) -> None:
            stats.frames += 1
            stats.count("rest_book")

        async with PolymarketClobClient(self.config.rest_url, max_retries=2) as clob:
            self.poller = PolymarketPoller(
                clob,
                self.books,
                self.tokens,
                interval=self.config.poll_interval_s,
                on_event=on_event,
                on_raw=count,
                give_up_after=FALLBACK_GIVE_UP_CYCLES,
            )
            await self.poller.run(stop)

    def health(self) -> dict[str, Any]:
        """Per-connection health for the dashboard and metrics; the REST fallback, once it ran,
        is a ``polymarket-rest`` entry (connected while it polls and has delivered a book;
        ``frames`` = books polled); ``status`` (``"ok"``; ``"degraded"`` with ``recording_error``
        after a storage fault stopped the recording: :func:`~hadron.store.recorder.mark_health`)."""
        pool = self.pool
        health = (
            pool_health([], shard="tokens")
            if pool is None
            else pool_health(pool.connections, shard="tokens", frozen=pool.freeze.frozen)
        )
        poller = self.poller
        if poller is not None:
            stats = poller.stats
            health["connections"].append(
                {
                    "name": "polymarket-rest",
                    "connected": poller.active and stats.polls > 0,
                    "frames": stats.polls,
                    "last_frame_ns": stats.last_poll_ns,
                    "reconnects": 0,
                    "tokens": len(poller.tokens),
                    "last_error": stats.last_error,
                    "transport": "rest",
                }
            )
        health["fallback"] = self.fallback or None
        if self.user is not None:
            health["user"] = self.user.health()
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
) -> PolymarketLiveFeed:
    """The runtime's Polymarket feed for token ids ``instruments`` (see :class:`PolymarketLiveFeed`).
    ``on_venue`` takes venue-native messages (none from the market channel yet); with
    ``on_account``, ``polymarket.account`` and the three ``polymarket.api_*`` credentials the feed also
    reads the user channel (:class:`~hadron.venues.polymarket.user.PolymarketUserChannel`).

    Raises:
        ConfigError: a token id is not a decimal string.
    """
    bad = [t for t in instruments if not t.isdigit()]
    if bad:
        raise ConfigError(f"Polymarket token ids are decimal strings, not {', '.join(bad[:3])}")
    feed = PolymarketLiveFeed(
        books,
        list(instruments),
        config,
        dead_letter=dead_letter,
        recorder=Recordings(record_dir, "polymarket") if record_dir is not None else None,
        on_event=on_event,
    )
    pm = config.polymarket
    if on_account is not None and pm.account and pm.has_credentials:
        feed.user = PolymarketUserChannel(
            pm.user_ws_url,
            pm.api_key.reveal(),
            pm.api_secret.reveal(),
            pm.api_passphrase.reveal(),
            on_account,
            dead_letter=dead_letter,
        )
    return feed


def _pace(speed: float) -> list[str]:
    # the loopback venue's pace: 0 is burst mode (as fast as the client reads), else × captured rate
    return ["--speed", "0", "--burst"] if speed <= 0 else ["--speed", f"{speed:g}"]
