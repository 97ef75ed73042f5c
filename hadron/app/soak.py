"""``hadron soak``: the whole runtime under loopback flow for a long time, measured.

Both loopback venues play the demo capture in a loop at ``speed`` times its real rate; the runtime
(feeds, books, arbitrage, paper trading, state store, recorder, dashboard server) runs on them.
Measured:

* resident memory, sampled every ``sample_s`` seconds: growth from the first sample after
  ``warmup_s`` to the end;
* lost frames: at the end the venues stop playing and drain, then the runtime stops; every frame
  each venue sent must be in the recording (``venue sent`` − ``recorded`` per venue);
* final state: the runtime's books at the end against an offline replay of its own recording,
  level for level.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from hadron.app.demo import DEMO_MARKET, _config, _key_pair, _start_venues, demo_capture
from hadron.app.replay import Replay
from hadron.app.runtime import Runtime
from hadron.arb.detector import load_arb_config
from hadron.errors import ConfigError
from hadron.model.units import format_price, format_size
from hadron.store.replay import LineReader
from hadron.venues.base import PairScenarioVenue, get_venue


def rss_mib() -> float:
    """This process's resident memory, MiB (Linux ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
    stop = asyncio.Event()
    venues: dict[str, Any] = {}
    tasks: list[asyncio.Task[Any]] = []
    try:
        tasks, urls = await _start_venues(demo_capture(), public, speed, -6, stop, venues)
        base = _config(workdir, private, urls, "127.0.0.1", 0)
        record = workdir / "recording"
        cfg = replace(base, runtime=replace(base.runtime, record_dir=str(record)), source="hadron soak")
        runtime = Runtime(cfg, load_arb_config(workdir / "pairs.toml"))
        runner = asyncio.create_task(runtime.run(install_signals=False))
        started = time.monotonic()
        samples: list[tuple[float, float]] = []
        while time.monotonic() - started < duration_s and not runner.done():
            await asyncio.sleep(sample_s)
            samples.append((round(time.monotonic() - started, 1), round(rss_mib(), 1)))
        for venue in venues.values():
            venue.hold = True  # stop playing; what was sent drains to the runtime
        await asyncio.sleep(3.0)
        live_books = _books(runtime.books)
        status = runtime.status()
        runtime.stop()
        await runner
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    sent = {name: venue.stats.sent for name, venue in venues.items()}
    recorded = {name: sum(sum(1 for _ in LineReader(p)) for p in sorted((record / name).glob("*.ndjson.zst")))
                for name in venues}  # fmt: skip
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
        "venue_sent": sent,
        "recorded": recorded,
        "lost": {name: sent[name] - recorded.get(name, 0) for name in sent},
        "books_compared": len(live_books),
        "books_identical": live_books == offline,
        "paper": status["paper"],
        "opportunities": status["opportunities"],
        "errors": status["errors"],
        "rss_samples": samples,
    }
