"""The runtime's live feeds over real sockets: the Kalshi key pool, the REST polling fallbacks, and
honest failures (a run or a recording whose every source failed exits 1 with the cause in one line).

The loopback Kalshi venue accepts a pool of public keys and counts handshakes per key id; its REST
side serves the same exchange. The loopback Polymarket venue serves REST ``/book``.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.types import ASGIApp

from hadron.book.manager import BookManager, BookState
from hadron.config import load_config
from hadron.errors import AuthError
from hadron.model.events import BookSnapshot, MarketEvent
from hadron.store.deadletter import DeadLetterFile
from hadron.venues.kalshi.auth import generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.fake_rest import build_rest_app
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.live import KalshiLiveFeed, live_feed
from hadron.venues.polymarket.fake import FakePolymarketVenue
from hadron.venues.polymarket.fake_scenario import load_capture as load_polymarket_capture
from hadron.venues.polymarket.live import PolymarketLiveFeed
from hadron.venues.session import Backoff
from tests.conftest import FIXTURES

EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
BUSY = "KXGOLD15M-26AUG102130-30"
MARKETS = [BUSY, "KXGOLD15M-QUIET-A", "KXGOLD15M-QUIET-B", "KXGOLD15M-QUIET-C"]
KEY_A = "0b8c5b2e-aaaa-key-1111"
KEY_B = "7f3d9c41-bbbb-key-2222"


def _capture(tmp: Path, lines: int | None = None) -> Path:
    with gzip.open(EXCERPT, "rb") as fh:
        kept = list(itertools.islice(fh, lines))
    path = tmp / "capture.ndjson"
    path.write_bytes(b"".join(kept[:-2] if lines is None else kept))  # keep the book open
    return path


def _key(tmp: Path, name: str) -> tuple[rsa.RSAPrivateKey, Path]:
    key, private_pem, _ = generate_test_key()
    path = tmp / f"{name}.pem"
    path.write_bytes(private_pem)
    path.chmod(0o600)
    return key, path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _config(tmp: Path, text: str) -> Any:
    path = tmp / "hadron.toml"
    path.write_text(text)
    return load_config(path, environ={}, dotenv=None)


def _pool_toml(key_a: Path, key_b: Path, ws_url: str, rest_url: str = "", extra: str = "") -> str:
    return f"""[kalshi]
api_key_id = "{KEY_A}"
private_key_path = "{key_a}"
ws_url = "{ws_url}"
rest_url = "{rest_url}"
poll_interval_s = 0.2
{extra}
[[kalshi.keys]]
api_key_id = "{KEY_B}"
private_key_path = "{key_b}"
"""


class _Server:
    """A uvicorn server for an ASGI app on a free port of 127.0.0.1."""

    def __init__(self, app: ASGIApp) -> None:
        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Server:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


async def _wait_for(predicate: Any, patience: float = 20.0) -> None:
    deadline = time.monotonic() + patience
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def _run_feed(feed: Any, until: Any, patience: float = 30.0) -> dict[str, Any]:
    """Run ``feed`` until ``until()``; return its health and its books' states just before the
    stop (a connection's end invalidates its books)."""
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    seen: dict[str, Any] = {}
    try:
        await _wait_for(lambda: until() or task.done(), patience)
        seen = {"health": feed.health(), "states": {b.instrument: b.state for b in feed_books(feed)}}
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
    return seen


def feed_books(feed: Any) -> list[Any]:
    books = feed.pool.books if isinstance(feed, KalshiLiveFeed) else feed.books
    return list(books)


@pytest.fixture
def kalshi_venue(tmp_path: Path) -> dict[str, Any]:
    """Two key files (A and B) and a slice of the real capture."""
    key_a, path_a = _key(tmp_path, "a")
    key_b, path_b = _key(tmp_path, "b")
    return {"key_a": key_a, "key_b": key_b, "path_a": path_a, "path_b": path_b, "capture": _capture(tmp_path)}


@pytest.mark.asyncio
async def test_two_working_keys_are_both_used(tmp_path: Path, kalshi_venue: dict[str, Any]) -> None:
    v = kalshi_venue
    venue = FakeKalshiVenue(
        load_capture([v["capture"]]), public_key=[v["key_a"].public_key(), v["key_b"].public_key()], speed=0
    )
    await venue.start()
    books = BookManager()
    events: list[MarketEvent] = []
    config = _config(tmp_path, _pool_toml(v["path_a"], v["path_b"], venue.url))
    feed = live_feed(books, MARKETS, config=config, on_event=events.append, dead_letter=DeadLetterFile(tmp_path / "dl"))
    assert isinstance(feed, KalshiLiveFeed) and len(feed.pool.connections) == 2  # kalshi.connections = 1, 2 keys

    def all_live() -> bool:
        return venue.finished.is_set() and all(
            (b := books.get(f"kalshi:{m}")) is not None and b.state is BookState.LIVE for m in MARKETS
        )

    try:
        seen = await _run_feed(feed, all_live)
    finally:
        await venue.stop()
    health = seen["health"]
    assert venue.stats.handshakes == {KEY_A: 1, KEY_B: 1} and venue.stats.auth_failures == 0
    assert {k: (e["connections"], e["connects"], e["markets"]) for k, e in health["keys"].items()} == {
        "…1111": (1, 1, 2),
        "…2222": (1, 1, 2),
    }
    assert [(c["name"], c["key"]) for c in health["connections"]] == [("kalshi-0", "…1111"), ("kalshi-1", "…2222")]
    assert all(c["frames"] > 0 for c in health["connections"])
    assert seen["states"] == {f"kalshi:{m}": BookState.LIVE for m in MARKETS}
    assert any(isinstance(e, BookSnapshot) for e in events)
    assert KEY_A not in repr(health) and KEY_B not in repr(health)  # key ids only by their last 4
    print(f"handshakes per key id: {venue.stats.handshakes}; per key in the feed: {health['keys']}")


@pytest.mark.asyncio
async def test_a_refused_key_moves_its_markets_and_the_books_stay_live(
    tmp_path: Path, kalshi_venue: dict[str, Any]
) -> None:
    v = kalshi_venue
    venue = FakeKalshiVenue(load_capture([v["capture"]]), public_key=[v["key_a"].public_key()], speed=0)  # B revoked
    await venue.start()
    books = BookManager()
    config = _config(tmp_path, _pool_toml(v["path_a"], v["path_b"], venue.url))
    feed = live_feed(books, MARKETS, config=config, dead_letter=DeadLetterFile(tmp_path / "dl"))

    def all_live() -> bool:
        return (
            venue.finished.is_set()
            and feed.pool.moves == 1
            and all((b := books.get(f"kalshi:{m}")) is not None and b.state is BookState.LIVE for m in MARKETS)
        )

    try:
        seen = await _run_feed(feed, all_live)
    finally:
        await venue.stop()
    health, live = seen["health"], seen["states"]
    assert venue.stats.handshakes == {KEY_A: 1} and venue.stats.refused == {KEY_B: 1}
    assert feed.pool.moves == 1 and sorted(feed.pool.connections[0].markets) == sorted(MARKETS)
    assert isinstance(feed.pool.connections[1].fatal, AuthError)
    assert health["keys"]["…2222"]["refused"] and health["keys"]["…2222"]["markets"] == 0
    assert health["keys"]["…1111"]["markets"] == 4 and not health["keys"]["…1111"]["refused"]
    assert set(live.values()) == {BookState.LIVE}
    assert health["fallback"] is None  # one key still streams: no fallback
    print(f"refused key: {health['keys']}; books {live}")


@pytest.mark.asyncio
async def test_kalshi_feed_falls_back_to_rest_polling_and_feeds_the_strategy(
    tmp_path: Path, kalshi_venue: dict[str, Any]
) -> None:
    from hadron.app.replay import Replay

    v = kalshi_venue
    ws_only, _, _ = generate_test_key()  # the socket knows another key: every handshake is refused
    venue = FakeKalshiVenue(
        load_capture([v["capture"]]), public_key=ws_only.public_key(), speed=0, start_on_subscribe=False
    )
    await venue.start()
    await asyncio.wait_for(venue.finished.wait(), 30)
    books = BookManager()
    events: list[MarketEvent] = []
    async with _Server(build_rest_app(venue.exchange, public_key=[v["key_a"].public_key()])) as rest:
        rest_url = f"http://127.0.0.1:{rest.port}/trade-api/v2"
        config = _config(tmp_path, _pool_toml(v["path_a"], v["path_b"], venue.url, rest_url))
        feed = live_feed(
            books, [BUSY], config=config, on_event=events.append, record_dir=tmp_path / "rec",
            dead_letter=DeadLetterFile(tmp_path / "dl"),
        )  # fmt: skip
        try:
            seen = await _run_feed(feed, lambda: feed.polling.stats.polls >= 3)
        finally:
            await venue.stop()
    health = seen["health"]
    rest_entry = next(c for c in health["connections"] if c["name"] == "kalshi-rest")
    polls = feed.polling.stats.polls
    assert health["fallback"] and "refused" in health["fallback"]
    assert venue.stats.refused == {KEY_A: 1, KEY_B: 1}  # both keys refused by the socket
    assert rest_entry["connected"] and rest_entry["key"] == "…1111"  # REST took key A
    assert rest_entry["frames"] >= 3 and polls >= rest_entry["frames"]
    assert feed.stats.frames == polls  # every poll is a frame of the feed
    assert seen["states"] == {f"kalshi:{BUSY}": BookState.LIVE} and books.book(f"kalshi:{BUSY}").polled
    assert [e for e in events if isinstance(e, BookSnapshot)] and len(events) == polls  # the strategy saw them
    replay = Replay(dead_letter=tmp_path / "replay-dl.ndjson")
    replay.run([tmp_path / "rec"])
    assert replay.report()["frames_by_type"]["rest_orderbook"] == polls  # recorded as REST responses
    print(f"fallback: {polls} books polled, {len(events)} events to the strategy; REST entry {rest_entry}")


@pytest.mark.asyncio
async def test_kalshi_feed_with_every_key_refused_fails_in_one_line(
    tmp_path: Path, kalshi_venue: dict[str, Any]
) -> None:
    v = kalshi_venue
    other, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([v["capture"]]), public_key=other.public_key(), speed=0)
    await venue.start()
    async with _Server(build_rest_app(venue.exchange, public_key=other.public_key())) as rest:
        rest_url = f"http://127.0.0.1:{rest.port}/trade-api/v2"
        config = _config(tmp_path, _pool_toml(v["path_a"], v["path_b"], venue.url, rest_url))
        feed = live_feed(BookManager(), MARKETS, config=config, dead_letter=DeadLetterFile(tmp_path / "dl"))
        started = time.monotonic()
        try:
            with pytest.raises(AuthError) as refused:
                await asyncio.wait_for(feed.run(asyncio.Event()), 20)
        finally:
            await venue.stop()
    message = str(refused.value)
    assert "\n" not in message and "refused the WebSocket handshake (401)" in message
    assert "Kalshi refused every key on REST (key …1111: " in message and "key …2222: " in message
    assert KEY_A not in message and KEY_B not in message
    assert time.monotonic() - started < 10
    print(f"every key refused: {message}")


@pytest.mark.asyncio
async def test_polymarket_feed_falls_back_to_polling_rest_book(tmp_path: Path) -> None:
    capture = _capture(tmp_path)
    venue = FakePolymarketVenue(load_polymarket_capture([capture]), speed=0, start_on_subscribe=False)
    await venue.start()
    await asyncio.wait_for(venue.finished.wait(), 30)
    tokens = sorted(venue.exchange.books)
    closed = _free_port()  # nothing listens there: every dial fails
    books = BookManager()
    events: list[MarketEvent] = []
    async with _Server(venue.exchange.rest_app()) as rest:
        config = _config(
            tmp_path,
            f'[polymarket]\nws_url = "ws://127.0.0.1:{closed}/ws/market"\nrest_url = "http://127.0.0.1:{rest.port}"\n'
            'gamma_url = ""\npoll_interval_s = 0.2\n',
        )
        feed = PolymarketLiveFeed(
            books, tokens, config, dead_letter=DeadLetterFile(tmp_path / "dl"), on_event=events.append,
            backoff=Backoff(base=0.01, max_delay=0.02),
        )  # fmt: skip
        try:
            seen = await _run_feed(feed, lambda: feed.poller is not None and feed.poller.stats.cycles >= 3)
        finally:
            await venue.stop()
    health = seen["health"]
    rest_entry = next(c for c in health["connections"] if c["name"] == "polymarket-rest")
    assert feed.fallback == "every Polymarket connection failed 5 times in a row"
    assert feed.pool is not None and feed.pool.connections[0].stats.failures >= 5
    assert len(tokens) == 2 and rest_entry["frames"] >= 2 * 3 and rest_entry["tokens"] == 2 and rest_entry["connected"]
    assert seen["states"] == {f"polymarket:{t}": BookState.LIVE for t in tokens}
    for token in tokens:
        book = books.book(f"polymarket:{token}")
        assert book.polled
        venue_book = venue.exchange.books[token]
        assert book.levels_bid() == sorted(venue_book.bids.items(), reverse=True)  # the venue's own book
    assert feed.poller is not None and len(events) == feed.poller.stats.polls  # the strategy saw each
    print(f"polymarket fallback: {health['connections']}")


@pytest.mark.asyncio
async def test_polymarket_pool_gives_up_only_with_give_up_after(tmp_path: Path) -> None:
    from hadron.errors import TransportError
    from hadron.venues.polymarket.ws import PolymarketPool

    closed = _free_port()
    pool = PolymarketPool(
        f"ws://127.0.0.1:{closed}/ws/market", BookManager(), ["1", "2"], dead_letter=DeadLetterFile(tmp_path / "dl"),
        backoff=Backoff(base=0.01, max_delay=0.02), give_up_after=3,
    )  # fmt: skip
    started = time.monotonic()
    with pytest.raises(TransportError, match="every Polymarket connection failed 3 times in a row"):
        await asyncio.wait_for(pool.run(asyncio.Event()), 10)
    assert time.monotonic() - started < 5
    forever = PolymarketPool(
        f"ws://127.0.0.1:{closed}/ws/market", BookManager(), ["1"], dead_letter=DeadLetterFile(tmp_path / "dl2"),
        backoff=Backoff(base=0.01, max_delay=0.02),
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(forever.run(stop))
    await asyncio.sleep(2.0)
    assert not task.done() and forever.connections[0].stats.failures > 3  # no rule: it keeps dialling
    stop.set()
    await asyncio.wait_for(task, 10)


# -- the command line: exit status and the one-line cause -------------------------------------------


async def _hadron(
    *args: str, cwd: Path, env: dict[str, str] | None = None, patience: float = 90
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hadron", *args, cwd=cwd, env=env or dict(os.environ),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), patience)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _record_env(key: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "HADRON_"))}
    return env | {"KALSHI_API_KEY_ID": KEY_A, "KALSHI_PRIVATE_KEY_PATH": str(key)}


@pytest.mark.asyncio
async def test_record_auto_with_a_refused_key_exits_1_saying_refused(tmp_path: Path) -> None:
    _, path = _key(tmp_path, "mine")
    other, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([_capture(tmp_path, 50)]), public_key=other.public_key(), speed=0)
    await venue.start()
    try:
        async with _Server(build_rest_app(venue.exchange, public_key=other.public_key())) as rest:
            code, out, err = await _hadron(
                "record", "--venue", "kalshi", "--markets", BUSY, "--out", str(tmp_path / "rec"), "--url", venue.url,
                "--rest-url", f"http://127.0.0.1:{rest.port}/trade-api/v2", "--duration", "20",
                cwd=tmp_path, env=_record_env(path),
            )  # fmt: skip
    finally:
        await venue.stop()
    last = err.strip().splitlines()[-1]
    assert code == 1, out + err
    assert last.startswith("hadron: kalshi: Kalshi refused the WebSocket handshake (401)")
    assert "the REST fallback failed too: Kalshi refused every key on REST (key …1111: " in last and "HTTP 401" in last
    assert KEY_A not in out + err
    print(f"exit {code}: {last}")


@pytest.mark.asyncio
async def test_record_whose_fallback_never_delivered_exits_1_naming_the_cause(tmp_path: Path) -> None:
    _, path = _key(tmp_path, "mine")
    other, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([_capture(tmp_path, 50)]), public_key=other.public_key(), speed=0)
    await venue.start()
    closed = _free_port()  # the REST host is unreachable
    started = time.monotonic()
    try:
        code, out, err = await _hadron(
            "record", "--venue", "kalshi", "--markets", BUSY, "--out", str(tmp_path / "rec"), "--url", venue.url,
            "--rest-url", f"http://127.0.0.1:{closed}/trade-api/v2", "--duration", "3",
            cwd=tmp_path, env=_record_env(path),
        )  # fmt: skip
    finally:
        await venue.stop()
    elapsed = time.monotonic() - started
    last = err.strip().splitlines()[-1]
    assert code == 1, out + err
    assert re.match(r"hadron: kalshi: no frame in \d+ s: the WebSocket was unusable \(Kalshi refused", last)
    assert "; REST polling delivered no order book (" in last and "ConnectError" in last
    assert out.startswith("recorded 0 frames")
    assert elapsed < 15  # a retried request does not outlive --duration
    print(f"exit {code} after {elapsed:.1f} s: {last}")


@pytest.mark.asyncio
async def test_run_whose_feed_failed_for_good_stops_by_itself_and_exits_1(tmp_path: Path) -> None:
    from hadron.venues.polymarket.fake_scenario import pairs_toml

    _, path = _key(tmp_path, "mine")
    other, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([_capture(tmp_path, 50)]), public_key=other.public_key(), speed=0)
    await venue.start()
    (tmp_path / "pairs.toml").write_text(pairs_toml([BUSY]))
    try:
        async with _Server(build_rest_app(venue.exchange, public_key=other.public_key())) as rest:
            # Kalshi refuses the key on both transports; Polymarket's channel and /book are not
            # there (the Kalshi REST host answers 403 to the upgrade and 404 to /book)
            (tmp_path / "hadron.toml").write_text(
                f"""[kalshi]
api_key_id = "{KEY_A}"
private_key_path = "{path}"
ws_url = "{venue.url}"
rest_url = "http://127.0.0.1:{rest.port}/trade-api/v2"

[polymarket]
ws_url = "ws://127.0.0.1:{rest.port}/ws/market"
rest_url = "http://127.0.0.1:{rest.port}"
gamma_url = ""
poll_interval_s = 0.2

[runtime]
pairs = "{tmp_path / "pairs.toml"}"
state = ""
dead_letter = "{tmp_path / "dl.ndjson"}"
port = 0
settle_poll_s = 0
"""
            )
            started = time.monotonic()
            code, out, err = await _hadron("run", "--config", str(tmp_path / "hadron.toml"), cwd=tmp_path, patience=60)
            elapsed = time.monotonic() - started
    finally:
        await venue.stop()
    last = err.strip().splitlines()[-1]
    assert code == 1, out + err
    assert "stopped: stopped" in out  # it stopped by itself
    # the first feed to fail for good stops the run (every pair needs both venues)
    assert last.startswith("hadron: kalshi: Kalshi refused the WebSocket handshake (401)")
    assert "REST fallback failed too" in last and elapsed < 30
    assert KEY_A not in out + err
    print(f"exit {code} after {elapsed:.1f} s: {last}")
