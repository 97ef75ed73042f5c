"""The Kalshi live path over real sockets: loopback venue → signed client → recording → replay.

Every test generates its own RSA key. The loopback venue replays a real capture; the client
records what it receives; replaying that recording must give the same books as replaying the
capture itself, with and without injected faults.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hadron.app.replay import Replay
from hadron.book.manager import BookManager, BookState
from hadron.errors import AuthError
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue, parse_faults
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.pool import KalshiPool
from hadron.venues.kalshi.record import record
from hadron.venues.kalshi.ws import Backoff
from tests.conftest import FIXTURES, KALSHI_CAPTURE, ListDeadLetter, shared_data

EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
BUSY = "KXGOLD15M-26AUG102130-30"


@pytest.fixture
def key_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path, Path]:
    key, private_pem, public_pem = generate_test_key()
    private = tmp_path / "kalshi.key"
    private.write_bytes(private_pem)
    private.chmod(0o600)
    public = tmp_path / "kalshi.pub"
    public.write_bytes(public_pem)
    monkeypatch.chdir(tmp_path)  # no stray .env or hadron.toml
    monkeypatch.delenv("HADRON_CONFIG", raising=False)
    monkeypatch.delenv("KALSHI_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("KALSHI_API_KEY_ID", "0b8c5b2e-test-key")
    monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(private))
    return key, private, public


def slice_capture(source: Path, dest: Path, lines: int | None = None, drop_last: int = 0) -> Path:
    """Write the first ``lines`` lines of a real capture (minus the last ``drop_last``) to ``dest``."""
    with gzip.open(source, "rb") as fh:
        kept = list(itertools.islice(fh, lines))
    dest.write_bytes(b"".join(kept[: len(kept) - drop_last]))
    return dest


async def record_from_venue(
    capture: Path, out: Path, key: Any, *, faults: str = "", grace: float = 1.0
) -> tuple[dict[str, Any], FakeKalshiVenue]:
    venue = FakeKalshiVenue(load_capture([capture]), public_key=key.public_key(), speed=0, faults=parse_faults(faults))
    await venue.start()
    tickers = sorted({e.ticker for e in venue.timeline})
    stop = asyncio.Event()
    task = asyncio.create_task(
        record(markets=tickers, out=out, channels=["orderbook_delta", "trade"], duration=None, url=venue.url, stop=stop)
    )
    await asyncio.wait_for(venue.drained(), timeout=120)
    await asyncio.sleep(grace)
    stop.set()
    summary = await asyncio.wait_for(task, timeout=30)
    await venue.stop()
    return summary, venue


def books_of(paths: list[Path], tmp: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    run = Replay(dead_letter=tmp / f"dl-{time.monotonic_ns()}.ndjson")
    run.run(paths)
    return run.dump_books(), run.report()


@pytest.mark.asyncio
async def test_recording_from_the_loopback_venue_replays_to_the_same_books(
    tmp_path: Path, key_files: tuple[Any, Path, Path]
) -> None:
    key, private, _ = key_files
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", drop_last=2)  # keep the book open
    summary, venue = await record_from_venue(capture, tmp_path / "rec", key)
    assert venue.stats.auth_failures == 0 and summary["frames"] > 300
    recorded, report = books_of([tmp_path / "rec"], tmp_path)
    original, _ = books_of([capture], tmp_path)
    assert recorded == original
    assert recorded[f"kalshi:{BUSY}"]["bids"]  # a real, non-empty book
    assert report["decode_errors"] == 0 and report["seq_gaps"] == 0 and report["snapshot_mismatches"] == 0
    # the secret never reaches a file Hadron wrote
    secret = private.read_bytes().split(b"\n")[1]
    for path in (tmp_path / "rec").rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes()


@pytest.mark.asyncio
@pytest.mark.data
async def test_same_books_through_drops_gap_malformed_frame_and_silence(
    tmp_path: Path, key_files: tuple[Any, Path, Path]
) -> None:
    key, _, _ = key_files
    source = shared_data(next((KALSHI_CAPTURE / BUSY).glob("*.ndjson.gz"), KALSHI_CAPTURE / BUSY / "absent"))
    capture = slice_capture(source, tmp_path / "capture.ndjson", lines=30_000)
    faults = "drop@4000,drop@12000,drop@20000,gap@8000,malformed@16000,silence@24000:10"
    started = time.monotonic()
    summary, venue = await record_from_venue(capture, tmp_path / "rec", key, faults=faults)
    assert time.monotonic() - started >= 10  # the silence happened
    assert venue.stats.faults == [
        "drop@4000",
        "gap@8000",
        "drop@12000",
        "malformed@16000",
        "drop@20000",
        "silence@24000",
    ]
    conn = summary["pool"]["connections"]["kalshi-0"]
    assert conn["reconnects"] == 3
    assert conn["resync_requests"] >= 1
    recorded, report = books_of([tmp_path / "rec"], tmp_path)
    original, _ = books_of([capture], tmp_path)
    assert recorded == original
    assert report["seq_gaps"] == 1 and report["decode_errors"] == 1
    assert report["resyncs"] >= 4  # three reconnects and the gap
    print(f"faults: reconnects {conn['reconnects']}, resync requests {conn['resync_requests']}, replay {report}")


@pytest.mark.asyncio
async def test_wrong_key_is_refused_at_the_handshake(tmp_path: Path, key_files: tuple[Any, Path, Path]) -> None:
    other, _, _ = generate_test_key()
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", lines=50)
    venue = FakeKalshiVenue(load_capture([capture]), public_key=other.public_key(), speed=0)
    await venue.start()
    try:
        with pytest.raises(AuthError, match="401"):
            await record(
                markets=[BUSY],
                out=tmp_path / "rec",
                channels=["orderbook_delta"],
                duration=5,
                url=venue.url,
                transport="ws",
            )
    finally:
        await venue.stop()
    assert venue.stats.auth_failures == 1


@pytest.mark.asyncio
async def test_cli_wrong_key_is_a_one_line_error_and_leaks_no_secret(
    tmp_path: Path, key_files: tuple[Any, Path, Path]
) -> None:
    _, private, _ = key_files
    other, _, _ = generate_test_key()
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", lines=50)
    venue = FakeKalshiVenue(load_capture([capture]), public_key=other.public_key(), speed=0)
    await venue.start()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hadron", "record", "--venue", "kalshi", "--markets", BUSY,
            "--out", str(tmp_path / "rec"), "--url", venue.url, "--duration", "5", "--log-level", "debug",
            "--transport", "ws",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        await venue.stop()
    assert proc.returncode == 1
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith("hadron: kalshi: Kalshi refused the WebSocket handshake (401)")
    secret_lines = [line for line in private.read_bytes().splitlines() if line and not line.startswith(b"-----")]
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p != private]  # noqa: ASYNC240
    for blob in [stdout, stderr, *written]:
        assert not any(line in blob for line in secret_lines)


def test_cli_missing_key_id_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "HADRON_"))}
    result = subprocess.run(
        [sys.executable, "-m", "hadron", "record", "--venue", "kalshi", "--markets", BUSY, "--out", "rec"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hadron: KALSHI_API_KEY_ID is not set: export it, put it in .env, or set kalshi.api_key_id"
    ]


@pytest.mark.asyncio
async def test_pool_moves_markets_off_a_connection_whose_key_is_refused(tmp_path: Path) -> None:
    good, _, _ = generate_test_key()
    bad, _, _ = generate_test_key()
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", drop_last=2)
    venue = FakeKalshiVenue(load_capture([capture]), public_key=good.public_key(), speed=0)
    await venue.start()
    books = BookManager()
    markets = [BUSY, "KXGOLD15M-QUIET-A", "KXGOLD15M-QUIET-B", "KXGOLD15M-QUIET-C"]
    pool = KalshiPool(
        venue.url,
        [KalshiSigner("good", good), KalshiSigner("revoked", bad)],
        books,
        markets,
        connections=2,
        dead_letter=ListDeadLetter(),
        backoff=Backoff(base=0.01, max_delay=0.05),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pool.run(stop))
    await asyncio.wait_for(venue.drained(), timeout=60)
    await asyncio.sleep(0.5)
    live = {m: books.book(f"kalshi:{m}").state for m in markets}
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    await venue.stop()
    assert pool.moves == 1
    assert sorted(pool.connections[0].markets) == sorted(markets)
    assert set(live.values()) == {BookState.LIVE}
    assert isinstance(pool.connections[1].fatal, AuthError)


@pytest.mark.asyncio
async def test_terminal_error_resubscribes_and_books_still_match(
    tmp_path: Path, key_files: tuple[Any, Path, Path]
) -> None:
    key, _, _ = key_files
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", drop_last=2)
    summary, _ = await record_from_venue(capture, tmp_path / "rec", key, faults="error@200:25")
    conn = summary["pool"]["connections"]["kalshi-0"]
    assert conn["resubscribes"] == 1 and conn["reconnects"] == 0
    recorded, _ = books_of([tmp_path / "rec"], tmp_path)
    original, _ = books_of([capture], tmp_path)
    assert recorded == original


@pytest.mark.asyncio
async def test_commands_and_replies_over_the_socket(tmp_path: Path) -> None:
    from hadron.venues.base import FeedStats
    from hadron.venues.kalshi.ws import KalshiConnection

    key, _, _ = generate_test_key()
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", lines=20)
    venue = FakeKalshiVenue(load_capture([capture]), public_key=key.public_key(), speed=0, start_on_subscribe=False)
    await venue.start()
    await asyncio.wait_for(venue.finished.wait(), timeout=10)
    frames: list[object] = []
    books = BookManager()
    conn = KalshiConnection(
        "c",
        venue.url,
        KalshiSigner("k", key),
        books,
        [BUSY],
        channels=["orderbook_delta", "ticker", "market_lifecycle_v2"],
        stats=FeedStats(),
        dead_letter=ListDeadLetter(),
        on_event=frames.append,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(conn.run(stop))
    await asyncio.wait_for(conn.connected.wait(), timeout=10)
    for _ in range(100):
        if books.get(f"kalshi:{BUSY}") is not None and books.book(f"kalshi:{BUSY}").state is BookState.LIVE:
            break
        await asyncio.sleep(0.02)
    await conn.add_markets(["KXGOLD15M-OTHER"])
    await conn.list_subscriptions()
    await conn.remove_markets(["KXGOLD15M-OTHER"])
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    await venue.stop()
    stats = conn.feed_stats
    assert stats.frames_by_type["subscribed"] == 3
    assert stats.frames_by_type["ok"] >= 3  # add_markets, list_subscriptions, delete_markets
    assert stats.frames_by_type["orderbook_snapshot"] == 2  # the subscribed market, then the added one
    assert stats.seq_gaps == 0 and stats.decode_errors == 0
    assert books.book("kalshi:KXGOLD15M-OTHER").state is BookState.LIVE


@pytest.mark.asyncio
async def test_auto_transport_falls_back_to_rest_polling_when_the_socket_refuses(
    tmp_path: Path, key_files: tuple[Any, Path, Path]
) -> None:
    import uvicorn

    from hadron.venues.kalshi.fake_rest import build_rest_app

    key, _, _ = key_files
    ws_only_key, _, _ = generate_test_key()  # the socket knows another key: the handshake is refused
    capture = slice_capture(EXCERPT, tmp_path / "capture.ndjson", drop_last=2)
    venue = FakeKalshiVenue(
        load_capture([capture]), public_key=ws_only_key.public_key(), speed=0, start_on_subscribe=False
    )
    await venue.start()
    await asyncio.wait_for(venue.finished.wait(), timeout=30)
    app = build_rest_app(venue.exchange, public_key=key.public_key())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.01)
    rest_url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/trade-api/v2"
    try:
        summary = await record(
            markets=[BUSY], out=tmp_path / "rec", channels=["orderbook_delta"], duration=1.5,
            url=venue.url, rest_url=rest_url, poll_interval=0.2,
        )  # fmt: skip
    finally:
        server.should_exit = True
        await serving
        await venue.stop()
    assert summary["fallback"] and "401" in summary["fallback"]
    assert summary["polling"]["polls"] >= 2 and summary["books_polled"] == 1
    recorded, report = books_of([tmp_path / "rec"], tmp_path)
    original, _ = books_of([capture], tmp_path)
    assert recorded == original  # the polled book is the venue's book
    assert report["frames_by_type"]["rest_orderbook"] == summary["polling"]["polls"]
