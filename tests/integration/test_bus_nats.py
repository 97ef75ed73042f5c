"""The NATS JetStream bus against a real server (nats://127.0.0.1:4222, or $HADRON_TEST_NATS_URL).

Every test uses its own stream and subject prefix (random suffix) and deletes the stream after.
The multi-process test runs `python -m hadron run` processes: two ingest shards replaying two
captures and one strategy; one ingest shard is killed with SIGKILL mid-stream and restarted.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from hadron.app.replay import Replay, collect_events
from hadron.app.strategy import TopPath
from hadron.bench.store import bench_publish
from hadron.bus import EVENT_KINDS, BusError, Envelope, make_envelope, open_bus
from hadron.bus.nats import NatsBus
from hadron.errors import ConfigError
from hadron.model.events import AggressorSide, BookAction, BookDelta, BookSide, Trade
from tests.conftest import FIXTURES, REPO

NATS_URL = os.environ.get("HADRON_TEST_NATS_URL", "nats://127.0.0.1:4222")
KALSHI = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
POLY = FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json"
TS = 1_786_410_987_242_000_000


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _reachable(NATS_URL), reason=f"no NATS server at {NATS_URL}")

Connect = Callable[..., Awaitable[NatsBus]]


@pytest_asyncio.fixture
async def names() -> AsyncIterator[tuple[str, str]]:
    """A unique (stream, prefix); the stream is deleted afterwards."""
    tag = secrets.token_hex(4)
    stream, prefix = f"TEST_{tag}", f"test{tag}.hadron.v1"
    yield stream, prefix
    admin = await NatsBus.connect(NATS_URL, stream=stream, prefix=prefix, storage="memory")
    try:
        await admin.delete_stream()
    finally:
        await admin.close()


@pytest_asyncio.fixture
async def connect(names: tuple[str, str]) -> AsyncIterator[Connect]:
    """Connect buses to the test's stream; every one is closed afterwards."""
    stream, prefix = names
    opened: list[NatsBus] = []

    async def make(**options: Any) -> NatsBus:
        bus = await NatsBus.connect(NATS_URL, stream=stream, prefix=prefix, storage="memory", **options)
        opened.append(bus)
        return bus

    yield make
    for bus in opened:
        await bus.close()


def deltas(n: int, source: str = "src", start: int = 0) -> list[Envelope]:
    return [
        make_envelope(
            source,
            seq,
            BookDelta(
                "kalshi:KXHIGHNY-24DEC12-B45.5", BookSide.BID, 4000 + seq % 50, 1_000_000, BookAction.SET, TS, TS
            ),
        )
        for seq in range(start, start + n)
    ]


async def wait_for(predicate: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {within} s")


# -- the bus -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_publish_subscribe_round_trip_on_the_right_subjects(connect: Connect) -> None:
    bus = await connect()
    subjects: list[str] = []

    async def on_raw(msg: Any) -> None:
        subjects.append(msg.subject)

    raw = await bus.nc.subscribe(f"{bus.prefix}.>", cb=on_raw)
    got: list[Envelope] = []
    sub = await bus.subscribe(got.append, durable="rt")
    token = "76670567130917723816490572615540605537878462672464291990940067659127658071111"
    sent = [
        *deltas(200),
        make_envelope("src", 200, Trade(f"polymarket:{token}", 4800, 1, AggressorSide.BUY, "t", TS, TS)),
    ]
    assert await bus.publish_many(sent) == (201, 0)
    await wait_for(lambda: len(got) == 201 and len(subjects) == 201)
    assert got == sent
    assert subjects[0] == f"{bus.prefix}.kalshi.book_delta.KXHIGHNY-24DEC12-B45_2E5"
    assert subjects[-1] == f"{bus.prefix}.polymarket.trade.{token}"
    await wait_for(lambda: sub.delivered == 201)
    await raw.unsubscribe()
    assert await sub.pending() == 0


@pytest.mark.asyncio
async def test_same_message_id_is_stored_once(connect: Connect) -> None:
    bus = await connect()
    batch = deltas(50)
    assert await bus.publish_many(batch) == (50, 0)
    assert await bus.publish_many(batch) == (0, 50)
    assert await bus.publish(batch[7]) == (0, 1)
    assert await bus.publish(deltas(1, start=50)[0]) == (1, 0)
    assert await bus.stream_messages() == 51
    got: list[Envelope] = []
    await bus.subscribe(got.append, durable="dedupe")
    await wait_for(lambda: len(got) == 51)
    await asyncio.sleep(0.2)
    assert [e.seq for e in got] == list(range(51))


@pytest.mark.asyncio
async def test_durable_consumer_resumes_after_reconnect(connect: Connect) -> None:
    first = await connect()
    await first.publish_many(deltas(10))
    got: list[Envelope] = []
    sub = await first.subscribe(got.append, durable="resume")
    await wait_for(lambda: sub.delivered == 10)
    await first.close()  # the connection goes away; the server keeps the consumer's position

    publisher = await connect()
    await publisher.publish_many(deltas(10, start=10))
    again: list[Envelope] = []
    second = await connect()
    sub2 = await second.subscribe(again.append, durable="resume")
    await wait_for(lambda: len(again) == 10)
    await asyncio.sleep(0.3)
    assert [e.seq for e in got] == list(range(10))
    assert [e.seq for e in again] == list(range(10, 20))  # nothing redelivered, nothing lost
    assert await sub2.pending() == 0


@pytest.mark.asyncio
async def test_ephemeral_subscription_sees_only_new_events_and_filters(connect: Connect) -> None:
    bus = await connect()
    await bus.publish_many(deltas(5))
    kalshi: list[Envelope] = []
    trades: list[Envelope] = []
    await bus.subscribe(kalshi.append, subjects="kalshi.>")
    await bus.subscribe(trades.append, subjects="*.trade.>")
    trade = make_envelope("src", 10, Trade("kalshi:KX", 4800, 1, AggressorSide.BUY, "t", TS, TS))
    await bus.publish_many([*deltas(3, start=5), trade])
    await wait_for(lambda: len(kalshi) == 4 and len(trades) == 1)
    assert [e.seq for e in kalshi] == [5, 6, 7, 10] and trades == [trade]


@pytest.mark.asyncio
async def test_a_handler_that_raises_gets_the_message_again(connect: Connect) -> None:
    bus = await connect()
    failed_once: set[int] = set()
    got: list[int] = []

    def flaky(envelope: Envelope) -> None:
        if envelope.seq == 3 and envelope.seq not in failed_once:
            failed_once.add(envelope.seq)
            raise RuntimeError("transient")
        got.append(envelope.seq)

    sub = await bus.subscribe(flaky, durable="flaky", nak_delay_s=0.1)
    await bus.publish_many(deltas(6))
    await wait_for(lambda: len(got) == 6)
    assert sorted(got) == list(range(6)) and sub.failed == 1


@pytest.mark.asyncio
async def test_configuration_errors(connect: Connect, names: tuple[str, str]) -> None:
    bus = await connect()
    await bus.subscribe(lambda e: None, durable="filtered", subjects="kalshi.>")
    await bus.close()
    other = await connect()
    with pytest.raises(ConfigError, match="filters"):
        await other.subscribe(lambda e: None, durable="filtered", subjects="polymarket.>")
    stream, prefix = names
    with pytest.raises(ConfigError):  # the same subjects in a second stream overlap the first
        await NatsBus.connect(NATS_URL, stream=stream + "_2", prefix=prefix, storage="memory")
    with pytest.raises(BusError, match="cannot reach"):
        await NatsBus.connect("nats://127.0.0.1:1", connect_timeout_s=1)
    url_bus = await open_bus(f"{NATS_URL}?stream={stream}&prefix={prefix}&storage=memory")
    assert isinstance(url_bus, NatsBus) and url_bus.stream == stream
    await url_bus.close()
    with pytest.raises(BusError):
        await url_bus.publish(deltas(1)[0])


def test_bench_publish_reports_rates_and_sizes() -> None:
    result = bench_publish(NATS_URL, n=2_000, storage="memory")
    assert result["events"] == result["duplicates_dropped"] == 2_000
    assert result["events_per_s"] > 0 and 50 < result["bytes_per_event"] < result["wire_bytes_per_event"]


# -- processes -----------------------------------------------------------------------------------


async def spawn(tmp: Path, name: str, *args: str) -> asyncio.subprocess.Process:
    out = (tmp / f"{name}.out").open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hadron", "run", *args, cwd=REPO, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        out.close()


async def finish(proc: asyncio.subprocess.Process, tmp: Path, name: str, within: float = 60.0) -> None:
    try:
        code = await asyncio.wait_for(proc.wait(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert code == 0, f"{name} exited {code}: {(tmp / f'{name}.out').read_text()}"


async def kalshi_stored(bus: NatsBus) -> int:
    info = await bus.js.stream_info(bus.stream, subjects_filter=f"{bus.prefix}.kalshi.>")
    return sum((info.state.subjects or {}).values())


@pytest.mark.asyncio
async def test_two_ingest_processes_one_killed_and_restarted_lose_and_duplicate_nothing(
    tmp_path: Path, connect: Connect, names: tuple[str, str]
) -> None:
    stream, prefix = names
    url = f"{NATS_URL}?stream={stream}&prefix={prefix}&storage=memory"
    expected = {
        "kalshi-reconnect": len(collect_events([KALSHI], tmp_path / "k.dl")),
        "poly-burst": len(collect_events([POLY], tmp_path / "p.dl")),
    }
    tops = TopPath()
    direct = Replay(dead_letter=tmp_path / "direct.dl")
    direct.books.add_top_listener(tops.on_top)
    direct.run([KALSHI, POLY])
    watcher = await connect()  # creates the stream; counts what the kalshi shard stored

    strategy_args = ["--role", "strategy", "--bus", url, "--durable", "strategy-1", "--until-idle", "6"]
    strategy = await spawn(tmp_path, "strategy", *strategy_args, "--report", str(tmp_path / "strategy.json"))
    kalshi_args = ["--role", "ingest", "--bus", url, "--source", str(KALSHI), "--source-id", "kalshi-reconnect"]
    poly = await spawn(
        tmp_path,
        "poly",
        "--role",
        "ingest",
        "--bus",
        url,
        "--source",
        str(POLY),
        "--source-id",
        "poly-burst",
        "--rate",
        "50",
    )
    kalshi = await spawn(tmp_path, "kalshi-1", *kalshi_args, "--rate", "100")

    for _ in range(600):
        if await kalshi_stored(watcher) >= 60:
            break
        await asyncio.sleep(0.05)
    kalshi.kill()  # SIGKILL: no clean-up, acks in flight are lost
    await kalshi.wait()
    before_kill = await kalshi_stored(watcher)
    assert 60 <= before_kill < expected["kalshi-reconnect"], "the ingest was not killed mid-stream"

    restarted = await spawn(tmp_path, "kalshi-2", *kalshi_args, "--rate", "200", "--report", str(tmp_path / "k2.json"))
    await finish(restarted, tmp_path, "kalshi-2")
    await finish(poly, tmp_path, "poly")
    await finish(strategy, tmp_path, "strategy", within=90)

    assert await watcher.stream_messages() == sum(expected.values())
    second = json.loads((tmp_path / "k2.json").read_text())
    assert second["complete"] and second["events"] == expected["kalshi-reconnect"]
    assert second["duplicates"] == before_kill  # JetStream dropped what the killed shard had stored
    assert second["stored"] == expected["kalshi-reconnect"] - before_kill

    report = json.loads((tmp_path / "strategy.json").read_text())
    assert report["stopped"] == "idle"
    assert (report["duplicates"], report["gaps"], report["missing"]) == (0, 0, 0)
    assert report["received"] == report["events"] == sum(expected.values())
    for source, n in expected.items():
        got = report["sources"][source]
        assert got["seqs"] == [[0, n - 1]], source  # every (source, seq) exactly once
        assert (got["events"], got["received"], got["duplicates"], got["gaps"]) == (n, n, 0, 0)
    kinds = {kind: 0 for kind in EVENT_KINDS.values()}
    for event in collect_events([KALSHI, POLY], tmp_path / "all.dl"):
        kinds[EVENT_KINDS[type(event)]] += 1
    assert report["by_kind"] == {k: v for k, v in kinds.items() if v}
    assert report["books"] == direct.dump_books()
    assert report["tops"] == tops.report()  # the same top-of-book path, change by change
