"""``hadron soak``: the whole runtime under loopback flow for a long time, measured.

Both loopback venues play the demo capture in a loop at ``speed`` times its real rate; the runtime
(feeds, books, arbitrage, paper trading, state store, recorder, dashboard server) runs on them.
Measured:

* resident memory of the runtime, sampled every ``sample_s`` seconds: growth from the first
  sample after ``warmup_s`` to the end. The loopback venues run in a child process of their own
  (``multiprocessing``, spawned), so the figure is the runtime's alone; the venues' memory is
  reported beside it;
* lost frames: at the end the venues stop playing and drain, then the runtime stops; every frame
  each venue sent must be in the recording (``venue sent`` − ``recorded`` per venue);
* final state: the runtime's books at the end against an offline replay of its own recording,
  level for level.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hadron.app.demo import DEMO_MARKET, _config, _key_pair, _start_venues, demo_capture
from hadron.app.replay import Replay
from hadron.app.runtime import Runtime
from hadron.arb.terms import load_arb_config
from hadron.errors import ConfigError
from hadron.model.units import format_price, format_size
from hadron.store.reader import LineReader
from hadron.venues.base import PairScenarioVenue, get_venue


def _status_kib(pid: int | str) -> dict[str, int]:
    # The kB fields of /proc/<pid>/status (Linux); empty when the process is gone
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {name: int(value.split()[0]) for name, _, value in (ln.partition(":") for ln in lines) if "kB" in value}


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory of process ``pid`` (this one by default), MiB (Linux ``/proc/<pid>/status``)."""
    return _status_kib(pid).get("VmRSS", 0) / 1024


def rss_parts(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of process ``pid`` by kind, MiB: ``anon`` (heap), ``file`` (mapped files),
    ``shmem`` (shared memory) (Linux ``/proc/<pid>/status``)."""
    status = _status_kib(pid)
    return {
        name[3:].lower(): round(status[name] / 1024, 1) for name in ("RssAnon", "RssFile", "RssShmem") if name in status
    }


async def _serve_venues(conn: Connection, capture: str, public: str, speed: float, shift_cents: int) -> None:
    # The child process: both loopback venues; commands on ``conn``: "hold" (stop playing), "stop"
    stop = asyncio.Event()
    venues: dict[str, Any] = {}
    try:
        tasks, urls = await _start_venues(Path(capture), Path(public), speed, shift_cents, stop, venues)
    except Exception as exc:  # reported to the parent, which raises it as a ConfigError
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("urls", urls))
    while await asyncio.to_thread(conn.recv) == "hold":
        for venue in venues.values():
            venue.hold = True
        conn.send(("held", None))
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(("sent", {name: venue.stats.sent for name, venue in venues.items()}))


def _venues_main(conn: Connection, capture: str, public: str, speed: float, shift_cents: int) -> None:
    asyncio.run(_serve_venues(conn, capture, public, speed, shift_cents))


class VenueProcess:
    """Both loopback venues in a spawned child process, driven over a pipe.

    ``start()`` returns their ``{venue: (ws_url, rest_url)}``; ``hold()`` stops them playing
    (what was sent drains); ``stop()`` ends the process and returns frames sent per venue.

    Raises:
        ConfigError: the venues could not start (the child's error is in the message).
    """

    def __init__(self, capture: Path, public: Path, speed: float, shift_cents: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        args = (child, str(capture), str(public), speed, shift_cents)
        self.process = ctx.Process(target=_venues_main, args=args, name="hadron-soak-venues", daemon=True)

    async def _reply(self, expected: str, wait_s: float = 60.0) -> Any:
        if not await asyncio.to_thread(self._conn.poll, wait_s):
            raise ConfigError(f"the loopback venue process did not answer within {wait_s:.0f} s")
        try:
            kind, value = self._conn.recv()
        except EOFError:
            raise ConfigError(f"the loopback venue process ended (exit code {self.process.exitcode})") from None
        if kind != expected:
            raise ConfigError(f"the loopback venue process failed: {value}")
        return value

    async def start(self) -> dict[str, tuple[str, str | None]]:
        self.process.start()
        urls: dict[str, tuple[str, str | None]] = await self._reply("urls")
        return urls

    async def hold(self) -> None:
        self._conn.send("hold")
        await self._reply("held")

    async def stop(self) -> dict[str, int]:
        self._conn.send("stop")
        sent: dict[str, int] = await self._reply("sent")
        await asyncio.to_thread(self.process.join, 10)
        return sent

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()


def _books(books: Any) -> dict[str, Any]:
    return {
        b.instrument: {
            "bids": [[format_price(p), format_size(s)] for p, s in b.levels_bid()],
            "asks": [[format_price(p), format_size(s)] for p, s in b.levels_ask()],
        }
        for b in books
        if b.ever_live
    }


async def run_soak(
    *, duration_s: float, speed: float = 10.0, workdir: Path, warmup_s: float = 60.0, sample_s: float = 5.0
) -> dict[str, Any]:
    """Run the soak (see the module docstring) and return its figures.

    Raises:
        ConfigError: the loopback venues could not start.
    """
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    private, public = await asyncio.to_thread(_key_pair, workdir)
    polymarket = get_venue("polymarket")
    if not isinstance(polymarket, PairScenarioVenue):
        raise ConfigError("the polymarket venue cannot host a loopback copy")
    (workdir / "pairs.toml").write_text(polymarket.pairs_for([DEMO_MARKET]))
    venues = VenueProcess(demo_capture(), public, speed, -6)
    try:
        urls = await venues.start()
        base = _config(workdir, private, urls, "127.0.0.1", 0)
        record = workdir / "recording"
        cfg = replace(base, runtime=replace(base.runtime, record_dir=str(record)), source="hadron soak")
        runtime = Runtime(cfg, load_arb_config(workdir / "pairs.toml"))
        runner = asyncio.create_task(runtime.run(install_signals=False))
        started = time.monotonic()
        samples: list[tuple[float, float]] = []
        parts: list[dict[str, float]] = []
        venue_rss: list[float] = []
        while time.monotonic() - started < duration_s and not runner.done():
            await asyncio.sleep(sample_s)
            samples.append((round(time.monotonic() - started, 1), round(rss_mib(), 1)))
            parts.append(rss_parts())
            venue_rss.append(round(rss_mib(venues.process.pid or 0), 1))
        await venues.hold()  # stop playing; what was sent drains to the runtime
        await asyncio.sleep(3.0)
        live_books = _books(runtime.books)
        status = runtime.status()
        runtime.stop()
        await runner
        sent = await venues.stop()
    finally:
        venues.kill()
    recorded = {name: sum(sum(1 for _ in LineReader(p)) for p in sorted((record / name).glob("*.ndjson.zst")))
                for name in sent}  # fmt: skip
    replay = Replay(dead_letter=workdir / "replay.deadletter.ndjson")
    replay.run([record])
    offline = _books(replay.books)
    after = [rss for t, rss in samples if t >= warmup_s] or [rss for _, rss in samples]
    return {
        "duration_s": duration_s,
        "speed": speed,
        "frames": {v: f["frames"] for v, f in status["feeds"].items()},
        "rss_mib": {"first_after_warmup": after[0], "last": after[-1], "max": max(after)},
        "rss_growth": round((after[-1] - after[0]) / after[0], 4) if after else None,
        "venues_rss_mib": {"first": venue_rss[0], "last": venue_rss[-1]} if venue_rss else None,
        "venue_sent": sent,
        "recorded": recorded,
        "lost": {name: sent[name] - recorded.get(name, 0) for name in sent},
        "books_compared": len(live_books),
        "books_identical": live_books == offline,
        "paper": status["paper"],
        "opportunities": status["opportunities"],
        "errors": status["errors"],
        "rss_samples": samples,
        "rss_parts": {"first": parts[0], "last": parts[-1]} if parts else None,
    }
