"""The recorder off the hot path: batches are written as the same lines, flushes stay durable, and
a storage fault in the middle of a batch is counted frame for frame."""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import os
import random
from pathlib import Path
from typing import IO, Any

import msgspec
import pytest
import zstandard

from hadron.errors import RecordingError
from hadron.store.reader import LineReader
from hadron.store.recorder import MANIFEST, AsyncFrameRecorder, FrameRecorder, Manifest, Recordings
from hadron.store.replay import HADRON_LINE_DECODER

DELTA = b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price_dollars":"0.4000","delta_fp":"1.00","side":"yes"}}'
ODD = [
    DELTA,
    b"\xff\xfe not UTF-8 \x80",  # frame_b64
    "caf\u00e9 \u2028 \U0001f600 \u00ff".encode(),  # UTF-8 beyond ASCII: kept as is
    b'quotes " and \\ backslashes \\" and \x00\x01\x1f\t\r\n controls \x7f',
    b"",
    b"PONG",
]


def _frames(count: int, seed: int = 7) -> list[tuple[int, bytes, str | None]]:
    rng = random.Random(seed)
    out: list[tuple[int, bytes, str | None]] = []
    for i in range(count):
        raw = ODD[i % len(ODD)] if i % 97 == 0 else DELTA.replace(b"0.4000", f"0.{rng.randrange(10**4):04d}".encode())
        if i % 1000 == 500:
            raw = (
                b'{"type":"orderbook_snapshot","msg":{"yes":['
                + b",".join(b'["0.01","5"]' for _ in range(2000))
                + b"]}}"
            )
        request = "GET /trade-api/v2/markets/T/orderbook" if i % 31 == 0 else None
        out.append((1_786_410_915_524_000_000 + i * 1000, raw, request))
    return out


def _content(path: Path) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()


def _manifest(folder: Path) -> Manifest:
    return msgspec.json.decode((folder / MANIFEST).read_bytes(), type=Manifest)


def test_a_batch_is_written_as_the_lines_write_writes_one_by_one(tmp_path: Path) -> None:
    frames = _frames(12_000)  # several chunks, sizes from 4 bytes to 26 KiB
    one = FrameRecorder(tmp_path / "one", "kalshi", "kalshi-0.1", flush_interval=float("inf"))
    for recv_ns, raw, request in frames:
        one.write(recv_ns, raw, request)
    one.close()
    batched = FrameRecorder(tmp_path / "batch", "kalshi", "kalshi-0.1", flush_interval=float("inf"))
    for start in range(0, len(frames), 5000):
        batched.write_batch(frames[start : start + 5000])
    batched.close()
    assert _content(batched.files[0]) == _content(one.files[0])
    assert batched.frames == one.frames == len(frames) and batched.bytes_in == one.bytes_in
    entry = _manifest(tmp_path / "batch" / "kalshi").files[0]
    assert entry.frames == entry.flushed_frames == len(frames) and entry.closed
    assert (entry.first_recv_ns, entry.last_recv_ns) == (frames[0][0], frames[-1][0])
    lines = list(LineReader(batched.files[0]))
    assert [HADRON_LINE_DECODER.decode(line).raw() for line in lines] == [raw for _, raw, _ in frames]


def test_batch_lines_keep_the_recording_format(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, "kalshi", "kalshi-0.1")
    frames: list[tuple[int, bytes, str | None]] = [
        (1, b'{"a":"x"}', None),
        (2, b'{"b":1}', "GET /trade-api/v2/markets/T/orderbook"),
        (3, b"\xff\x00", None),
        (4, b"\xc3\xa9\n", "GET /x"),  # UTF-8 with a request: a REST line
    ]
    expected = (
        b'{"recv_ns":1,"venue":"kalshi","conn":"kalshi-0.1","frame":"{\\"a\\":\\"x\\"}"}\n'
        b'{"recv_ns":2,"venue":"kalshi","conn":"kalshi-0.1","request":"GET /trade-api/v2/markets/T/orderbook",'
        b'"frame":"{\\"b\\":1}"}\n'
        b'{"recv_ns":3,"venue":"kalshi","conn":"kalshi-0.1","frame_b64":"' + base64.b64encode(b"\xff\x00") + b'"}\n'
        b'{"recv_ns":4,"venue":"kalshi","conn":"kalshi-0.1","request":"GET /x","frame":"\xc3\xa9\\n"}\n'
    )
    assert recorder.encode_lines(frames) == expected
    assert recorder.encode_lines(frames[:2]) + recorder.encode_lines(frames[2:]) == expected
    assert recorder.encode_lines([]) == b""


def test_after_flush_the_flushed_frames_are_readable_while_the_file_is_open(tmp_path: Path) -> None:
    frames = _frames(3000)
    recorder = FrameRecorder(tmp_path, "kalshi", "c1", flush_interval=float("inf"))
    recorder.write_batch(frames[:2000])
    recorder.flush()
    recorder.write_batch(frames[2000:])  # not flushed: an open zstd frame after the flushed one
    [entry] = _manifest(tmp_path / "kalshi").files
    assert entry.flushed_frames == 2000 and not entry.closed
    reader = LineReader(recorder.files[0])
    got = [HADRON_LINE_DECODER.decode(line).raw() for line in reader]
    assert len(got) >= entry.flushed_frames and got == [raw for _, raw, _ in frames[: len(got)]]
    recorder.close()


@pytest.mark.asyncio
async def test_the_writer_thread_flushes_on_time_and_lines_stay_in_order(tmp_path: Path) -> None:
    frames = _frames(5000)
    recorder = AsyncFrameRecorder(FrameRecorder(tmp_path, "kalshi", "c1"), flush_interval=0.05, batch_interval=0.005)
    recorder.start()
    for recv_ns, raw, request in frames:
        recorder.write(recv_ns, raw, request)
    for _ in range(400):  # no close: the timed flush alone makes them durable
        await asyncio.sleep(0.01)
        files = _manifest(tmp_path / "kalshi").files if (tmp_path / "kalshi" / MANIFEST).exists() else []
        if files and files[0].flushed_frames == len(frames):
            break
    [entry] = _manifest(tmp_path / "kalshi").files
    assert entry.flushed_frames == len(frames) and not entry.closed
    path = tmp_path / "kalshi" / entry.file
    got = [HADRON_LINE_DECODER.decode(line) for line in LineReader(path)]
    assert [(line.recv_ns, line.raw(), line.request) for line in got] == [
        (recv_ns, raw, request if line.frame_b64 is None else None)  # a frame_b64 line has no request
        for (recv_ns, raw, request), line in zip(frames, got, strict=True)
    ]
    await recorder.close()
    assert recorder.frames == len(frames) and recorder.dropped == 0 and recorder.error is None
    assert _manifest(tmp_path / "kalshi").files[0].closed
    assert recorder._thread is not None and not recorder._thread.is_alive()


class _FailingFile:
    """A recording file whose ``ok``-th later write fails with ENOSPC (as a disk filling up)."""

    def __init__(self, fh: IO[bytes], ok: int) -> None:
        self.fh, self.ok, self.writes = fh, ok, 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self.writes > self.ok:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def _fail_after(monkeypatch: pytest.MonkeyPatch, ok: int) -> list[_FailingFile]:
    made: list[_FailingFile] = []

    def create(path: Path) -> Any:
        made.append(_FailingFile(path.open("xb"), ok))
        return made[-1]

    monkeypatch.setattr(FrameRecorder, "_create", staticmethod(create))
    return made


def test_a_fault_in_the_middle_of_a_batch_counts_the_chunks_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _fail_after(monkeypatch, ok=2)
    frames = _frames(8000)
    recorder = FrameRecorder(tmp_path, "kalshi", "c1", flush_interval=float("inf"))
    with pytest.raises(RecordingError) as info:
        recorder.write_batch(frames)
    assert info.value.errno == errno.ENOSPC and str(info.value).endswith("(ENOSPC)")
    assert 0 < recorder.frames < len(frames)  # the chunks before the failing write, not the rest
    assert made[0].fh.closed and recorder.error is not None
    [entry] = json.loads((tmp_path / "kalshi" / MANIFEST).read_text())["files"]
    assert entry["closed"] is True and "(ENOSPC)" in entry["error"] and entry["frames"] == recorder.frames
    with pytest.raises(RecordingError):
        recorder.write_batch(frames[:1])


@pytest.mark.asyncio
async def test_async_fault_mid_batch_drops_and_counts_every_frame_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_after(monkeypatch, ok=2)
    frames = _frames(20_000)
    errors: list[RecordingError] = []
    recorder = AsyncFrameRecorder(FrameRecorder(tmp_path, "kalshi", "c1"), on_error=errors.append)
    for recv_ns, raw, request in frames:  # queued before the writer starts: it takes BATCH_MAX at once
        recorder.write(recv_ns, raw, request)
    recorder.start()
    for _ in range(500):
        if recorder.error is not None:
            break
        await asyncio.sleep(0.01)
    for recv_ns, raw, request in frames[:100]:  # after the fault: dropped and counted
        recorder.write(recv_ns, raw, request)
    await recorder.close()  # never raises
    assert recorder.error is not None and recorder.error.errno == errno.ENOSPC and errors == [recorder.error]
    assert 0 < recorder.frames < AsyncFrameRecorder.BATCH_MAX  # the fault came in the first batch
    assert recorder.frames + recorder.dropped == len(frames) + 100 and not recorder._queue
    [entry] = _manifest(tmp_path / "kalshi").files
    assert entry.closed and "(ENOSPC)" in entry.error and entry.frames == recorder.frames


@pytest.mark.asyncio
async def test_a_siblings_fault_stops_a_recorder_and_closes_its_file_cleanly(tmp_path: Path) -> None:
    faults: list[RecordingError] = []
    recordings = Recordings(tmp_path, "kalshi", on_error=faults.append)
    healthy = recordings("kalshi-0.1")
    healthy.start()
    for recv_ns, raw, request in _frames(3000):
        healthy.write(recv_ns, raw, request)
    for _ in range(500):  # the writer takes them (within its 20 ms)
        if healthy.frames == 3000:
            break
        await asyncio.sleep(0.01)
    for recv_ns, raw, request in _frames(1000):  # queued when the fault comes: dropped
        healthy.write(recv_ns, raw, request)
    fault = RecordingError("recording x: cannot write: No space left on device (ENOSPC)", errno=errno.ENOSPC)
    recordings.failed(fault)  # the other connection's disk write failed
    healthy.write(1, DELTA)
    await healthy.close()
    assert healthy.error is fault and faults == [fault]
    assert healthy.frames + healthy.dropped == 4001 and healthy.frames >= 3000 and healthy.dropped >= 1
    [entry] = _manifest(tmp_path / "kalshi").files
    assert entry.closed and entry.error == "" and entry.frames == entry.flushed_frames == healthy.frames
    lines = list(LineReader(tmp_path / "kalshi" / entry.file))
    assert len(lines) == healthy.frames  # what it wrote before the stop is whole on disk


@pytest.mark.asyncio
async def test_write_only_appends_and_a_full_queue_drops(tmp_path: Path) -> None:
    recorder = AsyncFrameRecorder(FrameRecorder(tmp_path, "kalshi", "c1"), max_queue=10, batch_interval=60)
    for i in range(25):  # the writer is not started: nothing leaves the queue
        recorder.write(i, DELTA)
    assert len(recorder._queue) == 10 and recorder.dropped == 15
    assert not (tmp_path / "kalshi").exists()  # no I/O in write()
    await recorder.close()  # the queued ten are written even though the writer never ran
    assert recorder.frames == 10 and recorder.dropped == 15 and recorder.error is None
    assert len(list(LineReader(FrameRecorder(tmp_path, "kalshi", "c1").folder.joinpath(
        _manifest(tmp_path / "kalshi").files[0].file)))) == 10  # fmt: skip


def test_a_recorder_whose_loop_ends_without_close_still_ends_its_file(tmp_path: Path) -> None:
    recorder = AsyncFrameRecorder(FrameRecorder(tmp_path, "kalshi", "c1"), batch_interval=0.005)

    async def session() -> None:  # a session that never reaches its clean-up
        recorder.start()
        for recv_ns, raw, request in _frames(500):
            recorder.write(recv_ns, raw, request)
        await asyncio.sleep(0.05)

    asyncio.run(session())
    assert recorder._thread is not None
    recorder._thread.join(timeout=5)
    assert not recorder._thread.is_alive()
    recorder._kick_pending = False
    recorder.write(1, DELTA)  # never raises, even with its loop closed
    [entry] = _manifest(tmp_path / "kalshi").files
    assert entry.closed and entry.frames == entry.flushed_frames == 500


def test_the_queue_is_bounded_in_bytes_too(tmp_path: Path) -> None:
    recorder = AsyncFrameRecorder(FrameRecorder(tmp_path, "kalshi", "b1"), max_queue_bytes=10)
    recorder.write(1, b"123456")
    recorder.write(2, b"123456")  # 6 bytes queued, under 10: kept
    recorder.write(3, b"1")  # 12 bytes queued: over the bound, dropped
    assert recorder.dropped == 1 and len(recorder._queue) == 2
    recorder._take()  # the writer took them: room again
    recorder.write(4, b"123456")
    assert recorder.dropped == 1 and len(recorder._queue) == 1
