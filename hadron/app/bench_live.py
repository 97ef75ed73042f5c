"""``hadron bench live --path record|run``: the live path as users run it, against a fast venue.

Each measurement starts the loopback venue in its own process (``hadron fake-venue <venue>
--speed 0 --burst``: the capture's frames for the subscriber built ahead and written to the socket
in large chunks, so the venue is not the bottleneck), then the user's command in another process,
exactly as typed at a shell:

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from hadron.app.replay import Replay
from hadron.errors import ConfigError
from hadron.store.replay import LineReader
from hadron.venues.base import LiveBenchVenue, PairScenarioVenue, get_venue

PATHS = ("record", "run")
"""The user commands ``hadron bench live --path`` can measure (``pool``: the connection pool alone)."""

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


@dataclass
class BenchPlan:
    """What a venue tells the harness to measure it (see its ``bench_live``).

    Attributes:
        venue: the venue name (``hadron record --venue``, ``hadron run --venue``).
        venue_args: ``hadron fake-venue`` arguments after the venue name (capture, port, key…;
            ``--speed 0 --burst`` included).
        url: the loopback venue's WebSocket URL.
        env: environment for the client (credentials as the user gives them).
        instruments: market tickers or token ids to record (``hadron record --markets``).
        record_args: more ``hadron record`` arguments.
        pair_market: the Kalshi market of the pair ``hadron run`` trades.
        key_path: a private key file the run's config names (``kalshi.private_key_path``).
    """

    venue: str
    venue_args: list[str]
    url: str
    env: dict[str, str]
    instruments: list[str]
    pair_market: str
    key_path: Path
    record_args: list[str] = field(default_factory=list)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    return _free_port()


async def _start_venue(plan: BenchPlan, cwd: Path) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hadron", "fake-venue", plan.venue, *plan.venue_args, "--log-level", "error",
        stdout=asyncio.subprocess.PIPE, cwd=cwd,
    )  # fmt: skip
    assert proc.stdout is not None
    await asyncio.wait_for(proc.stdout.readline(), timeout=120)  # the venue's "listening on" line
    return proc


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


def _plan(venue: str, capture: Path, folder: Path, *, burst: bool) -> BenchPlan:
    adapter = get_venue(venue)
    if not isinstance(adapter, LiveBenchVenue):
        raise ConfigError(f"{venue} has no live benchmark")
    folder.mkdir(parents=True, exist_ok=True)
    plan = adapter.bench_plan(capture, folder, burst=burst)
    assert isinstance(plan, BenchPlan)
    return plan


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
        plan = await asyncio.to_thread(_plan, venue, capture, tmp / venue, burst=True)
        plans = {venue: plan}
        if path == "run":
            other = "polymarket" if venue == "kalshi" else "kalshi"
            plans[other] = await asyncio.to_thread(_plan, other, capture, tmp / other, burst=False)
        venues = [await _start_venue(p, tmp) for p in plans.values()]
        try:
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
                proc.terminate()
                await proc.wait()
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
