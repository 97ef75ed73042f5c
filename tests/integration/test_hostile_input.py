"""Issue 19 (items 2 and 8) over real sockets and real files: hostile frames and recordings never
end a feed or a replay, a 403 on Polymarket's public channel is retried, a dead Polymarket
connection's tokens move, and damaged or hostile recordings are replayed as far as they can be and
reported, never passed over."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import time
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pytest
import zstandard
from typer.testing import CliRunner

from hadron.app.replay import Replay
from hadron.book.manager import BookManager, BookState
from hadron.cli import app
from hadron.store.reader import max_line_bytes
from hadron.store.recorder import FrameRecorder
from hadron.venues.polymarket.fake import FakePolymarketVenue, parse_faults
from hadron.venues.polymarket.fake_scenario import load_capture, transcode_kalshi
from hadron.venues.polymarket.ws import PolymarketPool
from hadron.venues.session import Backoff
from tests.conftest import FIXTURES, ListDeadLetter

RECONNECT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
DEMO = Path(__file__).resolve().parents[2] / "hadron" / "demo" / "KXGOLD15M-26AUG102130-30_16k.ndjson.gz"
runner = CliRunner()


def _replay_cli(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["replay", *map(str, args)])
    return result.exit_code, result.output


def _lines(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).splitlines()


# -- the Polymarket live path ------------------------------------------------------------------


def _transcoded(tmp: Path) -> tuple[Path, Path]:
    capture = tmp / "kalshi.ndjson"
    capture.write_bytes(b"\n".join(_lines(RECONNECT)[:-2]) + b"\n")  # keep the book open
    messages = tmp / "polymarket.ndjson"
    with messages.open("wb") as fh:
        for recv_ms, msg in transcode_kalshi([capture]):
            fh.write(msgspec.json.encode({"recv_ms": recv_ms, "event": msg}) + b"\n")
    return capture, messages


def _offline(messages: Path, tmp: Path) -> dict[str, Any]:
    run = Replay(dead_letter=tmp / f"offline-{time.monotonic_ns()}.ndjson")
    run.run([messages])
    return run.dump_books()


async def _stream(venue: FakePolymarketVenue, pool: PolymarketPool) -> list[BookState]:
    """Run ``pool`` until the venue played everything; return the books' states before stopping
    (a stopped connection sends its books back to AWAITING_SNAPSHOT)."""
    stop = asyncio.Event()
    task = asyncio.create_task(pool.run(stop))
    await asyncio.wait_for(venue.drained(), timeout=60)
    await asyncio.sleep(0.5)
    states = [b.state for b in pool.books]
    stop.set()
    await asyncio.wait_for(task, timeout=30)  # raised (RecursionError, AuthError) before
    return states


@pytest.mark.asyncio
async def test_polymarket_survives_deep_and_oversized_frames_and_a_403_storm(tmp_path: Path) -> None:
    capture, messages = _transcoded(tmp_path)
    # a frame nested 1,000 deep; a 17 MiB frame (over the 16 MiB max_size: closed 1009, redialled);
    # three handshakes answered 403 after a drop (a CDN's rule on the public channel: retried)
    faults = "deep@40:1000,huge@80:17,forbid@200:3,drop@200"
    venue = FakePolymarketVenue(load_capture([capture]), speed=0, faults=parse_faults(faults))
    await venue.start()
    tokens = sorted({a for item in venue.timeline for a in item.assets})
    books, dead = BookManager(), ListDeadLetter()
    pool = PolymarketPool(venue.url, books, tokens, dead_letter=dead, backoff=Backoff(base=0.02, max_delay=0.1))
    states = await _stream(venue, pool)
    await venue.stop()
    assert states == [BookState.LIVE, BookState.LIVE]
    assert _dump(books) == _offline(messages, tmp_path)
    errors = [error for _, error, _ in dead.items]
    assert any("nested deeper" in e for e in errors) and any("over the 16,777,216-byte limit" in e for e in errors)
    assert venue.stats.refused == {403: 3}
    assert pool.connections[0].stats.reconnects >= 1  # dialled again after the 403s (and the 1009 close)


def _dump(books: BookManager) -> dict[str, Any]:
    from hadron.model.units import format_price, format_size

    return {
        b.instrument: {
            "bids": [[format_price(p), format_size(s)] for p, s in b.levels_bid()],
            "asks": [[format_price(p), format_size(s)] for p, s in b.levels_ask()],
        }
        for b in books
        if b.ever_live
    }


@pytest.mark.asyncio
async def test_a_dead_polymarket_connections_tokens_move_to_a_healthy_one(tmp_path: Path) -> None:
    capture, messages = _transcoded(tmp_path)
    venue = FakePolymarketVenue(load_capture([capture]), speed=0)
    await venue.start()
    tokens = sorted({a for item in venue.timeline for a in item.assets})
    books = BookManager()
    pool = PolymarketPool(venue.url, books, tokens, max_tokens_per_connection=1, dead_letter=ListDeadLetter(),
                          backoff=Backoff(base=0.02, max_delay=0.1))  # fmt: skip
    assert [len(c.tokens) for c in pool.connections] == [1, 1]
    dead = pool.connections[1]
    dead.url = venue.url.replace("/ws/market", "/ws/gone")  # answered 404: this connection fails for good
    states = await _stream(venue, pool)
    await venue.stop()
    assert venue.stats.refused == {404: 1} and "404" in dead.stats.last_error
    assert states == [BookState.LIVE, BookState.LIVE]  # the moved token's book too (never LIVE before)
    assert pool.moves == 1 and dead.tokens == [] and sorted(pool.connections[0].tokens) == tokens
    assert _dump(books) == _offline(messages, tmp_path)


@pytest.mark.asyncio
async def test_hadron_record_keeps_recording_past_a_frame_nested_a_thousand_deep(tmp_path: Path) -> None:
    import os
    import sys

    from hadron.venues.kalshi.auth import generate_test_key
    from hadron.venues.kalshi.fake import FakeKalshiVenue
    from hadron.venues.kalshi.fake import parse_faults as kalshi_faults
    from hadron.venues.kalshi.fake_scenario import load_capture as load_kalshi

    key, private_pem, _ = generate_test_key()
    (tmp_path / "k.pem").write_bytes(private_pem)
    (tmp_path / "k.pem").chmod(0o600)
    venue = FakeKalshiVenue(load_kalshi([RECONNECT]), public_key=key.public_key(), speed=0,
                            faults=kalshi_faults("deep@100:1000"))  # fmt: skip
    await venue.start()
    out = tmp_path / "rec"
    env = {**os.environ, "KALSHI_API_KEY_ID": "hostile", "KALSHI_PRIVATE_KEY_PATH": str(tmp_path / "k.pem")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hadron", "record", "--venue", "kalshi", "--markets", "KXGOLD15M-26AUG102130-30",
        "--out", str(out), "--url", venue.url, "--transport", "ws", "--channels", "orderbook_delta",
        "--duration", "4", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await proc.communicate()
    await venue.stop()
    assert proc.returncode == 0, stderr.decode()[-2000:]  # died with a RecursionError traceback before
    summary = json.loads((out / "record-summary.json").read_text())
    assert summary["decode_errors"] == 1 and summary["frames"] > 300
    by_type = summary["frames_by_type"]  # as docs/protocols/kalshi.md says (and the replay report has)
    assert by_type["orderbook_delta"] > 300 and sum(by_type.values()) <= summary["frames"]
    assert isinstance(summary["passed_on"], int) and isinstance(summary["unconsumed"], int)
    run = Replay(dead_letter=tmp_path / "replayed.deadletter.ndjson")
    run.run([out / "kalshi"])
    assert run.report()["decode_errors"] == 1  # the recording kept it; its replay dead-letters it too


# -- replay: hostile and damaged recordings ---------------------------------------------------


def test_a_line_nested_a_thousand_deep_is_dead_lettered_and_the_replay_goes_on(tmp_path: Path) -> None:
    lines = _lines(RECONNECT)
    deep = b'{"recv_ms":1786397400000,"event":{"type":"orderbook_delta","sid":1,"seq":5,"msg":' + (
        b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}}"
    )
    first = b"[" * 1000 + b"]" * 1000  # one in the lines read to detect the format, too
    path = tmp_path / "deep.ndjson"
    path.write_bytes(b"\n".join([first, *lines[:100], deep, *lines[100:]]) + b"\n")
    code, output = _replay_cli(path, "--report", tmp_path / "r.json")  # exit 1, a traceback, no report before
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["frames"] == len(lines) + 2 and report["decode_errors"] == 2
    kept = [json.loads(line) for line in (tmp_path / "r.deadletter.ndjson").read_text().splitlines()]
    assert [k["raw"].encode() for k in kept] == [first, deep]


def test_a_line_over_the_limit_is_skipped_without_being_held_and_never_becomes_a_book(tmp_path: Path) -> None:
    lines = _lines(RECONNECT)
    limit = max_line_bytes("kalshi")
    huge = b'{"recv_ms":1786397400000,"event":{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":' + (
        b'{"market_ticker":"' + b"B" * (limit + 1) + b'","yes_dollars_fp":[["0.5000","10.00"]]}}}'
    )
    path = tmp_path / "huge.ndjson"
    path.write_bytes(b"\n".join([*lines[:10], huge, *lines[10:]]) + b"\n")
    code, output = _replay_cli(path, "--report", tmp_path / "r.json", "--dump-books", tmp_path / "b.json")
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["frames"] == len(lines) and report["decode_errors"] == 1
    offset = sum(len(line) + 1 for line in lines[:10])
    assert f"line at byte {offset:,} of {path} is {len(huge):,} bytes, over the {limit:,}-byte limit" in output
    assert list(json.loads((tmp_path / "b.json").read_text())) == ["kalshi:KXGOLD15M-26AUG102130-30"]
    (kept,) = [json.loads(line) for line in (tmp_path / "r.deadletter.ndjson").read_text().splitlines()]
    assert kept["raw"].encode() == huge[: 64 << 10]  # its first 64 KiB, the rest never held


def _bomb(path: Path, size: int, before: list[bytes] | None = None) -> None:
    """A small gzip whose last line inflates to ``size`` bytes of one ticker."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [c.compress(b"".join(line + b"\n" for line in before or []))]
    parts.append(c.compress(b'{"recv_ms":1786397400000,"event":{"type":"orderbook_snapshot","msg":{"market_ticker":"'))
    block = b"A" * (1 << 20)
    parts += [c.compress(block) for _ in range(size >> 20)]
    parts += [c.compress(b'"}}}\n'), c.flush()]
    path.write_bytes(b"".join(parts))


def test_a_gzip_bomb_stops_at_its_budget_and_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _bomb(folder / "bomb.ndjson.gz", 1 << 30)  # 1 GiB in one line from about 1 MB
    (folder / "good.ndjson.gz").write_bytes(RECONNECT.read_bytes())
    started = time.monotonic()
    code, output = _replay_cli(folder, "--report", tmp_path / "r.json", "--strict")
    elapsed = time.monotonic() - started
    report = json.loads((tmp_path / "r.json").read_text())
    assert elapsed < 10  # ran past 60 s and 600 MiB before
    assert code == 1 and report["decode_errors"] == 1 and report["frames"] == 344  # the good file, whole
    (corrupt,) = report["files_corrupt"]
    assert corrupt["path"] == str(folder / "bomb.ndjson.gz") and "compression bomb" in corrupt["reason"]
    code, output = _replay_cli(folder / "bomb.ndjson.gz")
    assert code == 2 and "bomb.ndjson.gz: decompression stopped at byte" in output
    # after good lines, the file is replayed up to the bomb and noted
    _bomb(tmp_path / "late.ndjson.gz", 300 << 20, before=_lines(RECONNECT))
    code, output = _replay_cli(tmp_path / "late.ndjson.gz", "--report", tmp_path / "late.json")
    late = json.loads((tmp_path / "late.json").read_text())
    assert code == 0 and late["frames"] == 344 and late["decode_errors"] == 2  # the cut line, the budget
    notes = late["files"][0]["notes"]
    assert "is at least" in notes[0] and "compression bomb" in notes[1]


@pytest.mark.parametrize("lines", [2_000, 16_000], ids=["under 1 MiB inflated", "4.7 MB inflated"])
def test_a_truncated_gzip_gives_back_every_complete_line_and_says_so(tmp_path: Path, lines: int) -> None:
    body = b"".join(line + b"\n" for line in itertools.islice(_lines(DEMO), lines))
    packed = gzip.compress(body)
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(packed[: len(packed) * 8 // 10])
    d = zlib.decompressobj(31)
    complete = d.decompress(path.read_bytes()).count(b"\n")  # every line the cut left whole
    code, output = _replay_cli(path, "--report", tmp_path / "r.json")
    assert code == 0, output  # the small one was "not a recognised recording" before
    report = json.loads((tmp_path / "r.json").read_text())
    (f,) = report["files"]
    assert f["frames"] == complete + 1 and f["torn_tail"]  # the last, torn line: dead-lettered
    assert f["notes"][0].startswith("compressed stream ends early")


def _breaking_flip(data: bytes, start: int) -> int:
    # The first byte from ``start`` whose flip zstd detects (a flip in literals can decode silently:
    # the recorder writes no checksum)
    for where in range(start, start + 5000):
        damaged = bytearray(data)
        damaged[where] ^= 0xFF
        try:
            zstandard.ZstdDecompressor().stream_reader(bytes(damaged), read_across_frames=True).read()
        except zstandard.ZstdError:
            return where
    raise AssertionError("no detectable flip")


def _recording(folder: Path) -> Path:
    recorder = FrameRecorder(folder, "kalshi", "kalshi-0", flush_interval=1e9)
    for index, line in enumerate(_lines(DEMO)[:4000]):
        obj = msgspec.json.decode(line)
        recorder.write(obj["recv_ms"] * 1_000_000, msgspec.json.encode(obj["event"]))
        if index % 1000 == 999:
            recorder.flush()  # one zstd frame a flush, as a live recording
    recorder.close()
    return recorder.files[0]


def test_zstd_cut_short_or_corrupt_is_replayed_as_far_as_it_goes_and_reported(tmp_path: Path) -> None:
    good = _recording(tmp_path / "rec")
    data = good.read_bytes()
    cut = tmp_path / "cut" / "kalshi" / good.name
    cut.parent.mkdir(parents=True)
    cut.write_bytes(data[: len(data) * 6 // 10])
    code, _ = _replay_cli(tmp_path / "cut", "--report", tmp_path / "cut.json")
    report = json.loads((tmp_path / "cut.json").read_text())
    assert code == 0 and report["files"][0]["notes"][0].startswith("compressed stream ends early")  # silent before
    reader = zstandard.ZstdDecompressor().stream_reader(cut.read_bytes(), read_across_frames=True)
    assert report["frames"] == reader.read().count(b"\n")
    for name, where, frames in (("head", 11, 0), ("middle", _breaking_flip(data, len(data) // 2), None)):
        folder = tmp_path / name / "kalshi"
        folder.mkdir(parents=True)
        damaged = bytearray(data)
        damaged[where] ^= 0xFF
        (folder / good.name).write_bytes(bytes(damaged))
        (folder.parent / "good.ndjson.gz").write_bytes(RECONNECT.read_bytes())
        code, _ = _replay_cli(folder.parent, "--report", tmp_path / f"{name}.json", "--strict")
        report = json.loads((tmp_path / f"{name}.json").read_text())
        assert code == 1 and report["decode_errors"] >= 1, name  # exit 0, the file skipped in silence before
        if frames == 0:
            (corrupt,) = report["files_corrupt"]
            assert "corrupt zstd data after decompressed byte 0" in corrupt["reason"]
            assert report["files_skipped"] == [] and report["frames"] == 344
        else:
            damaged_file = next(f for f in report["files"] if f["path"].endswith(".zst"))
            assert 0 < damaged_file["frames"] < 4000 and "corrupt zstd data" in damaged_file["notes"][0]
