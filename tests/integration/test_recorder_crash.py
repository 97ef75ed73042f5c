"""The recorder under SIGKILL: what is on disk replays in order, byte for byte, up to the last flush."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import os
import signal
import sys
from pathlib import Path

import msgspec
import pytest

from hadron.app.replay import Replay
from hadron.store.reader import LineReader
from hadron.store.recorder import MANIFEST, Manifest
from hadron.store.replay import HADRON_LINE_DECODER
from hadron.venues.kalshi.auth import generate_test_key
from hadron.venues.kalshi.fake import FakeKalshiVenue
from hadron.venues.kalshi.fake_scenario import load_capture
from tests.conftest import KALSHI_CAPTURE, shared_data

BUSY = "KXGOLD15M-26AUG102130-30"


@pytest.mark.asyncio
@pytest.mark.data
async def test_sigkill_mid_stream_leaves_every_flushed_frame_readable(tmp_path: Path) -> None:
    source = shared_data(next((KALSHI_CAPTURE / BUSY).glob("*.ndjson.gz"), KALSHI_CAPTURE / "absent"))
    capture = tmp_path / "capture.ndjson"
    with gzip.open(source, "rb") as fh:
        capture.write_bytes(b"".join(itertools.islice(fh, 150_000)))
    key, private_pem, _ = generate_test_key()
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(private_pem)
    key_file.chmod(0o600)
    # 100 × the captured pace (567 s of frames in ~6 s): at full speed the venue, writing in batches,
    # would send the whole capture before the kill, faster than a recorder is meant to keep up with
    venue = FakeKalshiVenue(load_capture([capture]), public_key=key.public_key(), speed=100)
    venue.transcript = []
    await venue.start()
    out = tmp_path / "rec"
    env = {**os.environ, "KALSHI_API_KEY_ID": "crash-test", "KALSHI_PRIVATE_KEY_PATH": str(key_file)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hadron", "record", "--venue", "kalshi", "--markets", BUSY, "--out", str(out),
        "--url", venue.url, "--transport", "ws", "--channels", "orderbook_delta", env=env, cwd=tmp_path,
    )  # fmt: skip
    manifest_path = out / "kalshi" / MANIFEST
    try:
        for _ in range(600):  # wait for a first flush, then kill in the middle of the stream
            if manifest_path.exists():
                files = msgspec.json.decode(manifest_path.read_bytes(), type=Manifest).files
                if files and files[0].flushed_frames > 0:
                    break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        mid_stream = not venue.finished.is_set()
    finally:
        await venue.stop()
    assert proc.returncode == -signal.SIGKILL
    assert mid_stream, "the venue had played the whole capture before the kill"
    entries = msgspec.json.decode(manifest_path.read_bytes(), type=Manifest).files
    (entry,) = entries
    path = out / "kalshi" / entry.file
    reader = LineReader(path)
    lines = list(reader)
    frames = []
    for index, line in enumerate(lines):
        try:
            frames.append(HADRON_LINE_DECODER.decode(line).raw())
        except msgspec.DecodeError:
            assert index == len(lines) - 1  # only the very last line may be torn
    torn = len(frames) < len(lines)
    sent = venue.transcript
    assert 0 < entry.flushed_frames <= len(frames) <= len(sent)  # nothing flushed was lost
    assert frames == sent[: len(frames)]  # in order, byte for byte
    run = Replay(dead_letter=tmp_path / "dl.ndjson")
    run.run([out])
    report = run.report()
    assert report["frames"] == len(frames) and report["decode_errors"] == int(torn)  # the torn line, said so
    assert report["files"][0]["torn_tail"] is torn
    print(
        f"sigkill: {len(frames)} of {len(sent)} sent on disk; {entry.flushed_frames} at the last manifest; torn {torn}"
    )
