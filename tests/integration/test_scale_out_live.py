"""Scale-out runs live: `hadron run --role ingest` streams both loopback venues and publishes every
normalized event on NATS JetStream; `hadron run --role strategy`, another process, consumes them
into its own books, detector and paper trader. The strategy's books must equal the ingest's.

Needs a NATS server with JetStream at nats://127.0.0.1:4222 (or $HADRON_TEST_NATS_URL): skipped,
with the reason, without one.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hadron.app.demo import DEMO_MARKET, demo_capture
from hadron.bus.nats import NatsBus
from hadron.venues.kalshi.auth import generate_test_key
from hadron.venues.polymarket.fake_scenario import pairs_toml
from tests.integration.test_bus_nats import NATS_URL, _reachable
from tests.integration.test_run_config_cli import HADRON, _port, _started

pytestmark = pytest.mark.skipif(not _reachable(NATS_URL), reason=f"no NATS server at {NATS_URL}")


@pytest.fixture
def bus() -> Iterator[str]:
    """A bus URL of the test's own in-memory stream (64 MiB at most), deleted afterwards."""
    tag = secrets.token_hex(4)
    stream, prefix = f"TEST_LIVE_{tag}", f"test{tag}.hadron.v1"
    yield f"{NATS_URL}?stream={stream}&prefix={prefix}&storage=memory&max_bytes=67108864"

    async def delete() -> None:
        admin = await NatsBus.connect(NATS_URL, stream=stream, prefix=prefix, storage="memory", max_bytes=67108864)
        try:
            await admin.delete_stream()
        finally:
            await admin.close()

    asyncio.run(delete())


def _status(url: str) -> dict[str, object]:
    result = subprocess.run([*HADRON, "status", "--url", url], capture_output=True, text=True)
    return json.loads(result.stdout) if result.returncode == 0 else {}


def _venues(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> tuple[str, str, str]:
    _, private_pem, public_pem = generate_test_key()
    (tmp_path / "key.pem").write_bytes(private_pem)
    (tmp_path / "key.pem").chmod(0o600)
    (tmp_path / "key.pub").write_bytes(public_pem)
    capture = str(demo_capture())
    kalshi = subprocess.Popen(
        [*HADRON, "fake-venue", "kalshi", "--capture", capture, "--port", str(_port()), "--public-key",
         str(tmp_path / "key.pub"), "--loop", "--speed", "4"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    processes.append(kalshi)
    kalshi_url = _started(kalshi, r"venue: (ws://\S+)")
    poly = subprocess.Popen(
        [*HADRON, "fake-venue", "polymarket", "--capture", capture, "--port", str(_port()), "--rest-port", str(_port()),
         "--loop", "--speed", "4", "--shift", "-6"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    processes.append(poly)
    found = _started(poly, r"venue: (ws://\S+\s+REST \S+)")
    return kalshi_url, found.split()[0], found.split()[-1]


def _config(tmp_path: Path, name: str, urls: tuple[str, str, str], bus: str, port: int, snapshot_s: int = 30) -> Path:
    kalshi_url, poly_ws, poly_rest = urls
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f"""[kalshi]
env = "demo"
api_key_id = "test-key-id"
private_key_path = "{tmp_path / "key.pem"}"
ws_url = "{kalshi_url}"

[polymarket]
ws_url = "{poly_ws}"
rest_url = "{poly_rest}"
gamma_url = ""

[runtime]
pairs = "{tmp_path / "pairs.toml"}"
state = "sqlite:///{tmp_path / f"{name}.db"}"
dead_letter = "{tmp_path / f"{name}.deadletter.ndjson"}"
port = {port}
settle_poll_s = 0
bus = "{bus}"
bus_snapshot_s = {snapshot_s}

[paper]
latency_ms = 20

[thresholds]
min_profit = "0.05"
max_capital = "300"
max_age_s = 10
"""
    )
    return path


@pytest.mark.parametrize(
    "shards",
    [[["--source-id", "ingest-test"]], [["--venue", "kalshi"], ["--venue", "polymarket"]]],
    ids=["one-ingest", "ingest-per-venue"],
)
def test_ingest_and_strategy_processes_over_nats(
    tmp_path: Path, processes: list[subprocess.Popen[str]], shards: list[list[str]], bus: str
) -> None:
    tag = secrets.token_hex(4)
    urls = _venues(tmp_path, processes)
    (tmp_path / "pairs.toml").write_text(pairs_toml([DEMO_MARKET], fee_rate="0.04"))
    strategy_cfg = _config(tmp_path, "strategy", urls, bus, _port())
    strategy = subprocess.Popen(
        [*HADRON, "run", "--config", str(strategy_cfg), "--role", "strategy", "--durable", f"strategy{tag}",
         "--report", str(tmp_path / "strategy.json"), "--opportunities", str(tmp_path / "opps.ndjson")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    processes.append(strategy)
    strategy_url = _started(strategy, r"dashboard: (http://\S+)").rstrip("/")
    ingests = []
    for i, args in enumerate(shards):
        ingest_cfg = _config(tmp_path, f"ingest{i}", urls, bus, _port())
        ingest = subprocess.Popen(
            [*HADRON, "run", "--config", str(ingest_cfg), "--role", "ingest", *args,
             "--report", str(tmp_path / f"ingest{i}.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        processes.append(ingest)
        _started(ingest, r"dashboard: (http://\S+)")
        ingests.append(ingest)

    time.sleep(20)  # the venues play the capture at 4×: both feeds stream, the strategy trades
    live = _status(strategy_url)
    assert live.get("role") == "strategy" and live.get("state") == "running", live
    published, books, reports = 0, {}, []
    for i, ingest in enumerate(ingests):
        ingest.send_signal(signal.SIGINT)
        out, _ = ingest.communicate(timeout=60)
        assert ingest.returncode == 0, out
        report = json.loads((tmp_path / f"ingest{i}.json").read_text())
        assert report["ingest"]["dropped"] == 0 and report["ingest"]["errors"] == 0
        published += report["ingest"]["published"]
        books.update(report["books_dump"])
        reports.append(report["ingest"])
    assert published > 1000

    deadline = time.monotonic() + 60
    consumed: dict[str, object] = {}
    while time.monotonic() < deadline:
        consumed = _status(strategy_url).get("consumed") or {}  # type: ignore[assignment]
        if consumed.get("events") == published:
            break
        time.sleep(0.5)
    assert consumed.get("events") == published, (consumed, published)
    stop = subprocess.run([*HADRON, "stop", "--url", strategy_url], capture_output=True, text=True)
    assert stop.returncode == 0, stop.stderr
    out, _ = strategy.communicate(timeout=60)
    assert strategy.returncode == 0, out
    strategy_report = json.loads((tmp_path / "strategy.json").read_text())

    assert set(books) == {f"kalshi:{DEMO_MARKET}", *(f"polymarket:{t}" for t in _tokens(tmp_path / "pairs.toml"))}
    assert strategy_report["books_dump"] == books
    consumer = strategy_report["strategy"]
    assert consumer["events"] == published and consumer["duplicates"] == 0 and consumer["missing"] == 0
    assert len(consumer["sources"]) == len(shards)
    assert strategy_report["arbitrage"]["opportunities"] > 0
    assert strategy_report["paper"]["orders"]["total"] > 0 and strategy_report["paper"]["fills"] > 0
    lags = [(r["source"], r["events_per_s"], r["lag_ms_p50"], r["lag_ms_p99"]) for r in reports]
    print(
        f"ingest published {published:,} events (source, events/s, publish lag p50/p99 ms: {lags}); "
        f"strategy consumed {consumer['events']:,}, receive→strategy lag {consumer['lag_ms']}; "
        f"{strategy_report['arbitrage']['opportunities']} opportunities, "
        f"{strategy_report['paper']['orders']['total']} paper orders"
    )


def test_a_restarted_strategy_resumes_and_its_books_catch_up(
    tmp_path: Path, processes: list[subprocess.Popen[str]], bus: str
) -> None:
    tag = secrets.token_hex(4)
    urls = _venues(tmp_path, processes)
    (tmp_path / "pairs.toml").write_text(pairs_toml([DEMO_MARKET], fee_rate="0.04"))
    strategy_cfg = _config(tmp_path, "strategy", urls, bus, _port())

    def start_strategy(name: str) -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [*HADRON, "run", "--config", str(strategy_cfg), "--role", "strategy", "--durable", f"strategy{tag}",
             "--report", str(tmp_path / f"{name}.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        processes.append(process)
        return process, _started(process, r"dashboard: (http://\S+)").rstrip("/")

    first, _ = start_strategy("first")
    ingest = subprocess.Popen(
        [*HADRON, "run", "--config", str(_config(tmp_path, "ingest", urls, bus, _port(), snapshot_s=2)),
         "--role", "ingest", "--report", str(tmp_path / "ingest.json")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    processes.append(ingest)
    _started(ingest, r"dashboard: (http://\S+)")
    time.sleep(8)
    first.send_signal(signal.SIGINT)  # the strategy restarts mid-stream; the ingest goes on
    out, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out
    time.sleep(2)
    second, second_url = start_strategy("second")
    time.sleep(10)
    ingest.send_signal(signal.SIGINT)
    out, _ = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, out
    ingest_report = json.loads((tmp_path / "ingest.json").read_text())
    last_seq = ingest_report["ingest"]["events"] - 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sources = (_status(second_url).get("consumed") or {}).get("last_seq")  # type: ignore[union-attr]
        if sources == last_seq:
            break
        time.sleep(0.5)
    subprocess.run([*HADRON, "stop", "--url", second_url], capture_output=True, text=True, check=True)
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0, out
    first_report = json.loads((tmp_path / "first.json").read_text())["strategy"]
    second_report = json.loads((tmp_path / "second.json").read_text())
    consumer = second_report["strategy"]
    (source,) = consumer["sources"].values()
    assert source["first_seq"] > 0 and source["last_seq"] == last_seq  # resumed where the durable left off
    assert first_report["events"] + consumer["events"] >= ingest_report["ingest"]["events"]
    assert ingest_report["ingest"]["checkpoints"] >= 5
    assert second_report["books_dump"] == ingest_report["books_dump"]
    print(
        f"first strategy {first_report['events']:,} events; second resumed at seq {source['first_seq']:,}, "
        f"{consumer['events']:,} events; books equal the ingest's after {ingest_report['ingest']['checkpoints']} "
        "checkpoints"
    )


def _tokens(pairs: Path) -> list[str]:
    import tomllib

    pair = tomllib.loads(pairs.read_text())["pair"][0]
    return [pair["polymarket_yes_token"], pair["polymarket_no_token"]]
