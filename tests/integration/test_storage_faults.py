"""Issue 19 item 6: storage faults are storage faults.

A recording file on ``/dev/full`` (every write ends in ``ENOSPC``, the kernel's own disk-full
error, no root needed) or a write that raises an injected ``OSError``: the recorder stops at once
with a :class:`RecordingError` (a ``StoreError``, never a network error), its file is closed and
its manifest entry marked, the connection and its books are untouched until the session ends
(then invalidated as always), ``hadron record`` stops and exits 1 with the cause in one line and
``record-summary.json`` says so, and the runtime's feed health turns DEGRADED.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

from hadron.book.manager import BookManager, BookState
from hadron.config import HadronConfig
from hadron.errors import RecordingError, StoreError, TransportError, VenueError
from hadron.store.deadletter import DeadLetterFile
from hadron.store.recorder import MANIFEST, AsyncFrameRecorder, FrameRecorder, Recordings
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.auth import generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.fake_scenario import load_capture
from hadron.venues.kalshi.fallback import KalshiRestPolling
from hadron.venues.kalshi.live import KalshiLiveFeed
from hadron.venues.kalshi.pool import KalshiPool
from hadron.venues.kalshi.record import record
from hadron.venues.polymarket.fake import FakePolymarketVenue
from hadron.venues.polymarket.fake_scenario import load_capture as load_poly_capture
from hadron.venues.polymarket.fake_scenario import transcode_kalshi
from hadron.venues.polymarket.live import PolymarketLiveFeed
from hadron.venues.polymarket.ws import PolymarketPool
from hadron.venues.session import Backoff
from tests.conftest import FIXTURES

EXCERPT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
FRAME = b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price_dollars":"0.4000","delta_fp":"1.00","side":"yes"}}'


def dev_full(path: Path) -> IO[bytes]:
    return open("/dev/full", "wb")  # the recorder owns and closes it


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every recording file the recorder creates is /dev/full (writes fail with ENOSPC)."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    monkeypatch.setattr(FrameRecorder, "_create", staticmethod(dev_full))


def manifest_of(folder: Path) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = json.loads((folder / MANIFEST).read_text())["files"]
    return files


# -- the recorder itself --------------------------------------------------------------------------


def test_enospc_stops_the_recorder_as_a_storage_error(tmp_path: Path, disk_full: None) -> None:
    recorder = FrameRecorder(tmp_path, "kalshi", "c1", flush_interval=float("inf"))
    with pytest.raises(RecordingError) as info:
        for i in range(10_000):  # the write buffer fills: the kernel says ENOSPC
            recorder.write(i, FRAME)
        recorder.flush()
    err = info.value
    assert isinstance(err, StoreError) and not isinstance(err, VenueError | TransportError)
    assert err.errno == errno.ENOSPC and "\n" not in str(err) and str(err).endswith("(ENOSPC)")
    assert "No space left on device" in str(err) and err.path.endswith(".ndjson.zst")
    assert recorder.error is not None and recorder._fh is None  # the file is closed
    [entry] = manifest_of(tmp_path / "kalshi")
    assert entry["closed"] is True and entry["error"] == str(err)
    with pytest.raises(RecordingError):  # stopped: every later frame is refused
        recorder.write(1, FRAME)
    recorder.flush()
    recorder.close()  # nothing to do, no error


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO, errno.EDQUOT])
def test_an_injected_write_error_on_flush_is_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    recorder = FrameRecorder(tmp_path, "polymarket", "c1", flush_interval=float("inf"))
    recorder.write(1, FRAME)
    assert recorder._fh is not None
    fh = recorder._fh

    def refuse(data: bytes) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fh, "write", refuse)
    with pytest.raises(RecordingError) as info:
        recorder.flush()
    assert info.value.errno == code and f"({errno.errorcode[code]})" in str(info.value)
    assert fh.closed
    [entry] = manifest_of(tmp_path / "polymarket")
    assert entry["closed"] is True and errno.errorcode[code] in entry["error"]


@pytest.mark.asyncio
async def test_async_recorder_stops_reports_once_and_close_never_raises(tmp_path: Path, disk_full: None) -> None:
    errors: list[RecordingError] = []
    recorder = AsyncFrameRecorder(FrameRecorder(tmp_path, "kalshi", "c1"), flush_interval=0.05, on_error=errors.append)
    recorder.start()
    started = time.monotonic()
    while recorder.error is None and time.monotonic() - started < 5:
        recorder.write(time.time_ns(), FRAME)
        await asyncio.sleep(0.001)
    took = time.monotonic() - started
    for _ in range(100):  # after the fault: dropped and counted, never queued
        recorder.write(time.time_ns(), FRAME)
    await recorder.close()  # no exception: a session's clean-up always runs to its end
    assert recorder.error is not None and recorder.error.errno == errno.ENOSPC
    assert errors == [recorder.error] and took < 1.0
    assert recorder.dropped >= 100 and not recorder._queue


def test_dead_letters_on_a_full_disk_never_reach_the_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = DeadLetterFile(tmp_path / "dl.ndjson")
    dead.write(b"x", "bad", "c")
    assert dead._fh is not None

    def refuse(data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dead._fh, "write", refuse)
    dead.write(b"y", "bad", "c")  # no exception
    dead.write(b"z", "bad", "c")
    assert dead.count == 1 and dead.lost == 2 and dead.error is not None and "(ENOSPC)" in str(dead.error)


# -- live sessions (loopback venues, real sockets) --------------------------------------------------


def slice_capture(dest: Path, lines: int | None = None) -> Path:
    with gzip.open(EXCERPT, "rb") as fh:
        kept = list(itertools.islice(fh, lines))
    dest.write_bytes(b"".join(kept[:-2]))  # keep the book open
    return dest


@pytest.mark.asyncio
async def test_kalshi_session_keeps_its_connection_and_cleans_up_after_enospc(tmp_path: Path, disk_full: None) -> None:
    key, _, _ = generate_test_key()
    venue = FakeKalshiVenue(load_capture([slice_capture(tmp_path / "c.ndjson")]), public_key=key.public_key(), speed=1)
    await venue.start()
    books = BookManager()
    stop = asyncio.Event()
    recordings = Recordings(tmp_path / "rec", "kalshi", on_error=lambda _: stop.set())
    signer = _signer(key)
    tickers = sorted({e.ticker for e in venue.timeline})
    dead = DeadLetterFile(tmp_path / "dl.ndjson")
    pool = KalshiPool(
        venue.url, [signer], books, tickers, recorder=recordings, dead_letter=dead, backoff=Backoff(base=0.02)
    )
    started = time.monotonic()
    try:
        await asyncio.wait_for(pool.run(stop), timeout=30)
    finally:
        await venue.stop()
    took = time.monotonic() - started
    conn = pool.connections[0]
    assert recordings.error is not None and recordings.error.errno == errno.ENOSPC and took < 5
    assert conn.stats.failures == 0 and conn.stats.last_error == ""  # not a network error
    for ticker in tickers:  # the session's clean-up ran to its end
        book = books.get(f"kalshi:{ticker}")
        assert book is not None and book.state is BookState.AWAITING_SNAPSHOT and "ended" in book.reason
    [entry] = manifest_of(tmp_path / "rec" / "kalshi")
    assert entry["closed"] is True and "(ENOSPC)" in entry["error"]


def _signer(key: Any) -> Any:
    from hadron.venues.kalshi.auth import KalshiSigner

    return KalshiSigner("0b8c5b2e-test-key", key)


@pytest.mark.asyncio
async def test_polymarket_session_cleans_up_after_enospc(tmp_path: Path, disk_full: None) -> None:
    capture = slice_capture(tmp_path / "c.ndjson")
    messages = tmp_path / "poly.ndjson"
    messages.write_text(
        "".join(json.dumps({"recv_ms": ms, "event": msg}) + "\n" for ms, msg in transcode_kalshi([capture]))
    )
    venue = FakePolymarketVenue(load_poly_capture([messages]), speed=1)
    await venue.start()
    tokens = sorted({a for item in venue.timeline for a in item.assets})
    books = BookManager()
    stop = asyncio.Event()
    recordings = Recordings(tmp_path / "rec", "polymarket", on_error=lambda _: stop.set())
    dead = DeadLetterFile(tmp_path / "dl.ndjson")
    pool = PolymarketPool(venue.url, books, tokens, recorder=recordings, dead_letter=dead, backoff=Backoff(base=0.02))
    try:
        await asyncio.wait_for(pool.run(stop), timeout=30)
    finally:
        await venue.stop()
    conn = pool.connections[0]
    assert recordings.error is not None and recordings.error.errno == errno.ENOSPC
    assert conn.stats.failures == 0 and conn.stats.last_error == ""
    for token in tokens:
        book = books.get(f"polymarket:{token}")
        assert book is not None and book.state is BookState.AWAITING_SNAPSHOT
    [entry] = manifest_of(tmp_path / "rec" / "polymarket")
    assert entry["closed"] is True and "(ENOSPC)" in entry["error"]


@pytest.mark.asyncio
async def test_record_stops_at_once_with_the_storage_fault_as_its_failure(
    tmp_path: Path, disk_full: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, private_pem, _ = generate_test_key()
    _key_env(tmp_path, private_pem, monkeypatch)
    venue = FakeKalshiVenue(load_capture([slice_capture(tmp_path / "c.ndjson")]), public_key=key.public_key(), speed=1)
    await venue.start()
    tickers = sorted({e.ticker for e in venue.timeline})
    started = time.monotonic()
    try:
        summary = await record(
            markets=tickers,
            out=tmp_path / "rec",
            channels=["orderbook_delta"],
            duration=30,
            url=venue.url,
            transport="ws",
        )
    finally:
        await venue.stop()
    assert time.monotonic() - started < 5  # not at the end of the 30 s, nor "14 s later"
    assert summary["failure"].startswith("storage fault, recording stopped: recording ")
    assert summary["failure"].endswith("No space left on device (ENOSPC)")
    assert summary["recording_error"] and "\n" not in summary["failure"]
    assert summary["pool"]["connections"]["kalshi-0"]["last_error"] == ""


def _key_env(tmp_path: Path, private_pem: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    private = tmp_path / "kalshi.key"
    private.write_bytes(private_pem)
    private.chmod(0o600)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HADRON_CONFIG", raising=False)
    monkeypatch.delenv("KALSHI_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("KALSHI_API_KEY_ID", "0b8c5b2e-test-key")
    monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(private))


CLI_ON_DEV_FULL = """
import sys
from hadron.store.recorder import FrameRecorder
FrameRecorder._create = staticmethod(lambda path: open("/dev/full", "wb"))
from hadron.cli import main
sys.argv[0] = "hadron"
main()
"""


@pytest.mark.asyncio
async def test_cli_record_exits_1_with_the_cause_in_one_line(
    tmp_path: Path, disk_full: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, private_pem, _ = generate_test_key()
    _key_env(tmp_path, private_pem, monkeypatch)
    venue = FakeKalshiVenue(load_capture([slice_capture(tmp_path / "c.ndjson")]), public_key=key.public_key(), speed=1)
    await venue.start()
    tickers = sorted({e.ticker for e in venue.timeline})
    out = tmp_path / "rec"
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLI_ON_DEV_FULL, "record", "--venue", "kalshi", "--markets", ",".join(tickers),
            "--out", str(out), "--url", venue.url, "--duration", "30", "--transport", "ws",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        await venue.stop()
    assert proc.returncode == 1
    lines = [line for line in stderr.decode().splitlines() if line.startswith("hadron: ")]
    assert len(lines) == 1, stderr.decode()
    assert lines[0].startswith("hadron: kalshi: storage fault, recording stopped: recording ")
    assert lines[0].endswith("No space left on device (ENOSPC)")
    summary = json.loads((out / "record-summary.json").read_text())
    assert summary["failure"] == lines[0].removeprefix("hadron: kalshi: ")
    [entry] = manifest_of(out / "kalshi")
    assert entry["closed"] is True and entry["error"] == summary["recording_error"]


# -- the runtime's feed health ----------------------------------------------------------------------


def test_feed_health_is_degraded_after_a_storage_fault(tmp_path: Path) -> None:
    books = BookManager()
    fault = RecordingError("recording x: cannot write: No space left on device (ENOSPC)", errno=errno.ENOSPC)
    kalshi_rec = Recordings(tmp_path, "kalshi")
    dead = DeadLetterFile(tmp_path / "dl.ndjson")
    pool = KalshiPool("ws://127.0.0.1:9", [], books, ["T"], recorder=kalshi_rec, dead_letter=dead)
    polling = KalshiRestPolling("http://127.0.0.1:9", [], "basic", books, ["T"], interval=1.0, stats=FeedStats())
    kalshi = KalshiLiveFeed(pool, FeedStats(), polling, "ws", kalshi_rec)
    poly_rec = Recordings(tmp_path, "polymarket")
    poly = PolymarketLiveFeed(books, ["1"], HadronConfig(), recorder=poly_rec)
    for feed, recordings in ((kalshi, kalshi_rec), (poly, poly_rec)):
        assert feed.health()["status"] == "ok"
        recordings.failed(fault)
        health = feed.health()
        assert health["status"] == "degraded" and health["recording_error"] == str(fault)
        assert all(c["status"] == "degraded" for c in health["connections"])
        later = recordings("c9")  # a later dial's recorder is stopped from the start
        later.write(1, FRAME)
        assert later.error is fault and later.dropped == 1


def test_a_summary_that_cannot_be_written_leaves_no_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hadron.cli._common import write_json

    target = tmp_path / "record-summary.json"
    target.write_text('{"frames": 1}\n')  # an earlier summary stays whole

    def full(self: Path, data: bytes) -> int:
        with open(self, "wb") as fh:  # the file is created, then the disk is full
            fh.write(data[:0])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError):
        write_json(target, {"frames": 2})
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"frames": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record-summary.json"]
