"""``hadron bench live``: the live path against a fast loopback venue, next to offline replay of the
same frames.

Each measurement starts the venue's loopback server in its own process (``hadron fake-venue
<venue> --speed 0 --burst``: the capture's frames for the subscriber built ahead and written to the
socket in large chunks, so the venue is not the bottleneck), set up as the venue's
:class:`~hadron.venues.base.BenchPlan` says, then the client:

* ``pool``: the venue's connection pool in this process, with its books (:func:`bench_pool`); the
  rate is frames over the time from the first frame to the last, and offline replay reads the
  frames the venue sent (the plan's ``offline`` input, else the capture).

or the user's command in another process, exactly as typed at a shell (:func:`bench_path`):

* ``record``: ``hadron record --venue V --out DIR --url … --markets …`` (recording on, books kept);
* ``run``: ``hadron run --config cfg.toml --venue V --record DIR`` (books, arbitrage detector,
  paper trader, state store, dashboard and /metrics served, every frame recorded).

The command is stopped (SIGINT) once its recording has stopped growing. Its rate is read off the
recording itself: the frames from the first book frame (a Kalshi ``orderbook_snapshot``, a
Polymarket ``book``) to the last, over the span of their receive times (``recv_ns``, stamped by the
client at the socket read). The offline figure is ``hadron replay`` of that same recording, in
this process: the ratio compares the same frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from hadron.app.replay import Replay
from hadron.book.manager import BookManager
from hadron.errors import ConfigError, HadronError
from hadron.metrics import FrameLatency
from hadron.store.deadletter import DeadLetterFile
from hadron.store.reader import LineReader
from hadron.venues.base import BENCH_COUNTERS, BenchPlan, FeedStats, LiveBenchVenue, PairScenarioVenue, get_venue

PATHS = ("record", "run")
"""The user commands ``hadron bench live --path`` can measure (``pool``: the connection pool alone)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveBenchOptions:
    """What ``hadron bench live`` measures on one venue."""

    path: str = "pool"
    """``pool`` (the connection pool in this process), ``record`` or ``run`` (the commands as
    users run them)."""
    record_to: Path | None = None
    """``pool``: also record the frames here (a venue whose plan records: Kalshi)."""
    idle: float = 1.0
    """``pool``: seconds without a frame that end the measurement."""
    speed: float = 0.0
    """``pool``: 0, the venue as fast as the client reads; N, N × the captured pace for ``limit_s``."""
    limit_s: float = 10.0
    """``pool``: seconds measured at a set pace."""


_BOOK_MARKERS = (b'"type":"orderbook_snapshot"', b'"event_type":"book"')
_MARKET_DATA = (
    b'"type":"orderbook_delta"', b'"type":"orderbook_snapshot"', b'"type":"trade"',
    b'"event_type":"book"', b'"event_type":"price_change"', b'"event_type":"last_trade_price"',
    b'"event_type":"tick_size_change"', b'"event_type":"best_bid_ask"',
)  # fmt: skip
"""The capture's frames (books and trades): the rate counts these only, not what comes at its own
pace after the capture is played (reference prices every half second, keepalive answers, the
minutely ``list_subscriptions`` reply)."""
_TRICKLE = 10
"""Frames per idle period under which a recording counts as no longer growing."""


class _Line(msgspec.Struct):
    recv_ns: int
    frame: str = ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def recording_rate(folder: Path) -> dict[str, Any]:
    """Frames/s a client received, read off its recording ``folder``: the frames from the first
    book frame to the last over the span of their ``recv_ns`` (frames sharing one socket read
    share one ``recv_ns``), per file (connection); the busiest file is reported. Only book and
    trade frames count (see :data:`_MARKET_DATA`).

    Raises:
        ConfigError: the folder holds no recording with a book frame.
    """
    decode = msgspec.json.Decoder(_Line).decode
    best: dict[str, Any] | None = None
    for path in sorted(folder.rglob("*.ndjson.zst")):
        stamps: list[int] = []
        started = False
        for raw in LineReader(path):
            line = decode(raw)
            frame = line.frame.encode()
            if not started:
                started = any(marker in frame for marker in _BOOK_MARKERS)
            if started and any(marker in frame for marker in _MARKET_DATA):
                stamps.append(line.recv_ns)
        if len(stamps) < 2:
            continue
        span = (stamps[-1] - stamps[0]) / 1e9
        entry = {"file": path.name, "frames": len(stamps), "seconds": round(span, 4)}
        entry["frames_per_s"] = round(len(stamps) / span) if span > 0 else 0
        if best is None or entry["frames"] > best["frames"]:
            best = entry
    if best is None:
        raise ConfigError(f"{folder}: no recording with a book frame")
    return best


def _recorded_frames(folder: Path) -> int:
    total = 0
    for manifest in folder.rglob("manifest.json"):
        with contextlib.suppress(OSError, msgspec.DecodeError):
            files = msgspec.json.decode(manifest.read_bytes()).get("files", [])
            total += sum(int(f.get("frames", 0)) for f in files)
    return total


async def _wait_idle(folder: Path, proc: asyncio.subprocess.Process, *, idle: float, limit_s: float) -> int:
    # The recording's frame count (manifests, rewritten at every flush) until it grows by fewer
    # than _TRICKLE frames in ``idle`` seconds (reference prices and keepalives go on)
    deadline = time.monotonic() + limit_s
    seen, since = 0, time.monotonic()
    while time.monotonic() < deadline and proc.returncode is None:
        await asyncio.sleep(0.25)
        frames = _recorded_frames(folder)
        if frames - seen >= _TRICKLE:
            seen, since = frames, time.monotonic()
        elif frames > 100 and time.monotonic() - since >= idle:
            break
    return seen


def _pace(speed: float) -> list[str]:
    # The loopback venue's pace: 0 is burst mode (as fast as the client reads), else × captured rate
    return ["--speed", "0", "--burst"] if speed <= 0 else ["--speed", f"{speed:g}"]


async def _start_venue(plan: BenchPlan, cwd: Path, speed: float) -> asyncio.subprocess.Process:
    # The venue's loopback server in its own process (its errors on this process's stderr), once
    # listening
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hadron", "fake-venue", plan.venue, *plan.venue_args, *_pace(speed),
        "--log-level", "error", stdout=asyncio.subprocess.PIPE, cwd=cwd,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)  # its "listening on" line
    except TimeoutError:
        line = b""
    if not line:
        await _stop_venue(proc)
        raise ConfigError(f"hadron fake-venue {plan.venue} did not start (exit code {proc.returncode})")
    return proc


async def _stop_venue(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
    await proc.wait()


async def measure_until_idle(stats: FeedStats, idle: float, limit: float | None = None) -> tuple[int, float]:
    """Watch ``stats.frames`` until no frame arrived for ``idle`` seconds (after the first one), or
    ``limit`` seconds passed since the first one; return ``(frames, seconds from the first frame
    seen to the last)``."""
    first = last = 0.0
    seen = 0
    while True:
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        if stats.frames != seen:
            first = first or now
            seen, last = stats.frames, now
        elif seen and now - last > idle:
            return seen, max(last - first, 1e-9)
        if limit is not None and seen and now - first >= limit:
            return seen, max(last - first, 1e-9)


def latency_summary(connections: Sequence[Any], attribute: str = "latency") -> dict[str, float | None]:
    """Per-frame time in the live path over ``connections``' histograms named ``attribute``:
    ``latency``, the processing (decode → normalize → books → listeners), or ``read_latency``, from
    the socket read that brought the frame to its books updated. Exact mean, and p50/p99/p99.9 as
    their bucket's upper bound (µs)."""
    merged = FrameLatency().merge(getattr(c, attribute) for c in connections)
    frames = sum(merged.counts)
    return {
        "mean_us": round(merged.sum_ns / frames / 1000, 2) if frames else None,
        "p50_le_us": merged.quantile(0.5),
        "p99_le_us": merged.quantile(0.99),
        "p99_9_le_us": merged.quantile(0.999),
    }


def _recorder_dropped(summary: Path) -> int | None:
    # Frames hadron record's recorders dropped (a full queue), from its record-summary.json
    try:
        data = msgspec.json.decode(summary.read_bytes())
    except (OSError, msgspec.DecodeError):
        return None
    connections = ((data.get("pool") or {}).get("connections") or {}).values()
    return sum(int(c.get("recorder_dropped", 0)) for c in connections)


async def _replay_strategy(recording: Path, tmp: Path) -> dict[str, Any]:
    # `hadron replay` of a run's recording with its pairs, paper trading and a state store, as a
    # user replays a day: its report's frames and frames/s
    report = tmp / "offline.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hadron", "replay", str(recording), "--pairs", str(tmp / "pairs.toml"), "--paper",
        "--state", f"sqlite:///{tmp / 'offline.db'}", "--report", str(report), "--log-level", "error",
        cwd=tmp, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await proc.communicate()
    if proc.returncode != 0 or not report.exists():
        raise ConfigError(f"hadron replay of the run's recording failed: {stderr.decode(errors='replace')[-400:]}")
    data = msgspec.json.decode(report.read_bytes())
    return {"frames": data["frames"], "frames_per_s": data["frames_per_s"]}


def _plan(venue: str, capture: Path, folder: Path) -> BenchPlan:
    adapter = get_venue(venue)
    if not isinstance(adapter, LiveBenchVenue):
        raise ConfigError(f"{venue} has no live benchmark")
    folder.mkdir(parents=True, exist_ok=True)
    plan = adapter.bench_plan(capture.resolve(), folder)
    unknown = sorted(set(plan.counters) - set(BENCH_COUNTERS))
    if unknown:
        raise ConfigError(f"{venue}: unknown bench counters {unknown} (known: {', '.join(BENCH_COUNTERS)})")
    return plan


async def bench_pool(venue: str, capture: Path, options: LiveBenchOptions | None = None) -> dict[str, Any]:
    """Frames/s through ``venue``'s connection pool in this process (loopback venue → socket →
    stream → books), next to offline replay of the same frames (:class:`hadron.app.replay.Replay`).

    The venue's loopback server plays ``capture`` in its own process, as fast as the client takes
    it (``options.speed`` 0, burst mode) or at ``speed`` × the captured pace for
    ``options.limit_s`` seconds; the client is the plan's (:attr:`BenchPlan.client`). The rate is
    frames over the time from the first frame to the last (the stream ends when ``options.idle``
    seconds pass without a frame). ``options.record_to`` also records the frames (a venue whose
    plan records).

    Returns:
        ``path``, ``capture``, ``frames_live``, ``live_s``, ``live_frames_per_s``,
        ``live_processing_us`` and ``live_read_to_book_us`` (see :func:`latency_summary`),
        ``offline_frames``, ``offline_s``, ``offline_frames_per_s``, ``ratio_live_vs_offline``,
        ``live_decode_errors``, then ``live_<counter>`` for each of the plan's counters and
        ``recorded`` when the plan records.

    Raises:
        ConfigError: a negative speed, a venue without a live benchmark, or its loopback venue
            did not start.
    """
    options = options or LiveBenchOptions()
    speed, limit_s = options.speed, options.limit_s
    if speed < 0:
        raise ConfigError(f"--speed {speed}: use 0 (as fast as the client takes it) or a positive pace")
    with tempfile.TemporaryDirectory(prefix="hadron-bench-pool-") as name:
        tmp = Path(name)
        plan = await asyncio.to_thread(_plan, venue, capture, tmp / venue)
        proc = await _start_venue(plan, tmp, speed)
        try:
            books = BookManager()
            stats = FeedStats()
            client = plan.client(
                books,
                stats=stats,
                dead_letter=DeadLetterFile(tmp / "live.deadletter.ndjson"),
                record_to=options.record_to if plan.records else None,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(client.run(stop))
            try:
                seen, live_s = await measure_until_idle(stats, options.idle, limit_s if speed > 0 else None)
                processing = latency_summary(client.connections)
                from_read = latency_summary(client.connections, "read_latency")
            finally:
                stop.set()
                await task
        finally:
            await _stop_venue(proc)
        replay = Replay(dead_letter=tmp / "offline.deadletter.ndjson")
        await asyncio.to_thread(replay.run, [plan.offline or capture])
        offline = replay.report()
    counters = {"seq_gaps": stats.seq_gaps, "bbo_mismatches": books.stats.bbo_mismatches}
    result: dict[str, Any] = {
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
    }
    result.update({f"live_{name}": counters[name] for name in plan.counters})
    if plan.records:
        result["recorded"] = options.record_to is not None
    return result


def _run_config(tmp: Path, plans: dict[str, BenchPlan], market: str) -> Path:
    # hadron run's settings against the loopback venues: paper trading on, a SQLite state store,
    # the dashboard on a free port; the pair of the capture's market approved
    scenario = get_venue("polymarket")
    if not isinstance(scenario, PairScenarioVenue):
        raise ConfigError("the polymarket venue cannot write a pairs file")
    (tmp / "pairs.toml").write_text(scenario.pairs_for([market], fee_rate="0.04"))
    config = tmp / "hadron.toml"
    config.write_text(
        f"""[kalshi]
env = "demo"
api_key_id = "bench"
private_key_path = "{plans["kalshi"].key_path}"
ws_url = "{plans["kalshi"].url}"
rest_url = ""

[polymarket]
ws_url = "{plans["polymarket"].url}"
rest_url = ""
gamma_url = ""

[runtime]
pairs = "{tmp / "pairs.toml"}"
state = "sqlite:///{tmp / "state.db"}"
dead_letter = "{tmp / "deadletter.ndjson"}"
port = {_free_port()}
paper = true
settle_poll_s = 0
"""
    )
    return config


async def bench_path(
    path: str, venue: str, capture: Path, *, idle: float = 3.0, limit_s: float = 300.0
) -> dict[str, Any]:
    """Measure ``hadron <path>`` (``record`` or ``run``) on ``venue`` against its fast loopback
    venue playing ``capture`` (see the venue's ``bench_plan``); return frames/s live (from the
    recording), offline (replay of the same recording) and their ratio. ``run`` streams both
    venues, as it always does: the other one plays the capture at its captured pace (the pair's
    other leg), the measured one as fast as the client takes it. The command is stopped once its
    recording grows by fewer than 10 frames in ``idle`` s, or after ``limit_s``.

    Raises:
        ConfigError: an unknown path or venue, or the command recorded nothing.
    """
    if path not in PATHS:
        raise ConfigError(f"--path must be one of pool, {', '.join(PATHS)}, not {path!r}")
    with tempfile.TemporaryDirectory(prefix="hadron-bench-live-") as name:
        tmp = Path(name)
        out = tmp / "recording"
        plan = await asyncio.to_thread(_plan, venue, capture, tmp / venue)
        plans = {venue: plan}
        if path == "run":
            other = "polymarket" if venue == "kalshi" else "kalshi"
            plans[other] = await asyncio.to_thread(_plan, other, capture, tmp / other)
        venues: list[asyncio.subprocess.Process] = []
        try:
            for each in plans.values():  # the measured venue in burst mode, the other at the captured pace
                started = await _start_venue(each, tmp, 0.0 if each is plan else 1.0)
                venues.append(started)
            if path == "record":
                args = ["record", "--venue", plan.venue, "--out", str(out), "--url", plan.url,
                        "--markets", ",".join(plan.instruments), "--log-level", "error", *plan.record_args]  # fmt: skip
            else:
                market = plan.pair_market
                config = _run_config(tmp, plans, market)
                args = ["run", "--config", str(config), "--record", str(out)]
            env = {**plans["kalshi"].env, **plan.env} if "kalshi" in plans else plan.env
            client = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hadron", *args, cwd=tmp, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                await _wait_idle(out, client, idle=idle, limit_s=limit_s)
            finally:
                if client.returncode is None:
                    client.send_signal(signal.SIGINT)
                try:
                    _, stderr = await asyncio.wait_for(client.communicate(), timeout=60)
                except TimeoutError:
                    client.kill()
                    _, stderr = await client.communicate()
        finally:
            for proc in venues:
                await _stop_venue(proc)
        if not out.exists():
            raise ConfigError(f"hadron {path} recorded nothing: {stderr.decode(errors='replace')[-400:]}")
        live = await asyncio.to_thread(recording_rate, out / venue)
        dropped = _recorder_dropped(out / "record-summary.json")
        if path == "record":  # hadron replay of the same recording, in this process
            replay = Replay(dead_letter=tmp / "offline.deadletter.ndjson")
            await asyncio.to_thread(replay.run, [out / venue])
            offline = replay.report()
        else:  # hadron replay of the same recording (both venues) through the same strategy
            offline = await _replay_strategy(out, tmp)
    return {
        "path": f"hadron {path}",
        "venue": plan.venue,
        "live_frames": live["frames"],
        "live_s": live["seconds"],
        "live_frames_per_s": live["frames_per_s"],
        "recorder_dropped": dropped,
        "offline_frames": offline["frames"],
        "offline_frames_per_s": offline["frames_per_s"],
        "offline": "hadron replay" + (" --pairs --paper --state (the same strategy)" if path == "run" else ""),
        "ratio_live_vs_offline": round(live["frames_per_s"] / max(offline["frames_per_s"], 1), 3),
        "exit_code": client.returncode,
    }


MIN_WINDOW_S = 0.2
"""The shortest live window a rate is given for: a capture the venue sends in less (a small
fixture arrives in one or two socket reads) has no measurable rate."""


def too_short(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its live rate and ratio set to ``None`` (and ``too_short`` saying why) when
    its live window (``live_s``) was under :data:`MIN_WINDOW_S`; unchanged otherwise."""
    live_s = result.get("live_s")
    if not isinstance(live_s, int | float) or live_s >= MIN_WINDOW_S:
        return result
    return {
        **result,
        "live_frames_per_s": None,
        "ratio_live_vs_offline": None,
        "too_short": f"the live window was {live_s * 1000:.1f} ms (under {MIN_WINDOW_S * 1000:.0f} ms): no rate is "
        "measurable; give a larger capture (the default, the busiest KXGOLD15M market, is ~200,000 frames)",
    }


def run_benches(
    adapters: dict[str, LiveBenchVenue],
    capture: Path,
    paths: list[str],
    *,
    record_to: Path | None = None,
    speed: float = 0.0,
    limit_s: float = 10.0,
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``hadron bench live``: each venue of ``adapters`` measured on each of ``paths`` (``pool``,
    ``record``, ``run``), one after the other, on the same ``capture``, as the venue's
    ``bench_plan`` sets its loopback venue up.

    ``pool`` is :func:`bench_pool` (``record_to``, ``speed`` and ``limit_s`` are its options,
    :class:`LiveBenchOptions`); ``record`` and ``run`` are :func:`bench_path`'s.

    Yields:
        ``(venue, path, result)`` as each measurement ends; ``result`` holds the figures
        (frames/s live and offline, ``ratio_live_vs_offline``…).

    Raises:
        HadronError: a measurement failed; the message starts with the venue and the path.
    """
    for name in adapters:
        for mode in paths:
            options = LiveBenchOptions(path=mode, record_to=record_to, speed=speed, limit_s=limit_s)
            try:
                if mode in PATHS:
                    result = asyncio.run(bench_path(mode, name, capture))
                else:
                    result = asyncio.run(bench_pool(name, capture, options))
            except HadronError as exc:
                raise HadronError(f"{name} {mode}: {exc}") from exc
            result = too_short(result)
            yield name, mode, result
