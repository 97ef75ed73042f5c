"""The recorder and tick-store half of ``hadron bench store``: frames/s, bytes per frame, rows/s.

The same in-memory Kalshi capture is written by :class:`hadron.store.recorder.FrameRecorder`
(zstd NDJSON, as ``hadron record`` writes) and replayed into the Parquet tick store
(:class:`hadron.store.parquet.ParquetTickStore`), each in a scratch folder removed afterwards.
The state-store and bus halves are in :mod:`hadron.bench.store`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import msgspec

from hadron.app.replay import Replay
from hadron.bench.capture import load_capture
from hadron.store.replay import RecordingFormat


class _CaptureFrame(msgspec.Struct):
    recv_ms: int
    event: msgspec.Raw


def run_recording_bench(target: Path, *, limit: int = 500_000) -> dict[str, Any]:
    """Recorder frames/s and bytes per frame, and Parquet tick-store rows/s, on the same capture.

    Raises:
        InputError: ``target`` holds no Kalshi capture file.
    """
    import tempfile

    from hadron.store.parquet import ParquetTickStore
    from hadron.store.recorder import FrameRecorder

    files = load_capture(target)
    decoder = msgspec.json.Decoder(_CaptureFrame)
    frames = [(c.recv_ms * 1_000_000, bytes(c.event)) for c in map(decoder.decode, (ln for _, f in files for ln in f))]
    frames = frames[:limit]
    results: dict[str, Any] = {"target": str(target), "frames": len(frames)}
    with tempfile.TemporaryDirectory() as tmp:
        recorder = FrameRecorder(Path(tmp) / "rec", "kalshi", "bench", flush_interval=1.0)
        started = time.perf_counter()
        for recv_ns, frame in frames:
            recorder.write(recv_ns, frame)
        recorder.close()
        seconds = time.perf_counter() - started
        on_disk = sum(p.stat().st_size for p in recorder.files)
        raw = sum(len(f) for _, f in frames)
        results["recorder"] = {
            "frames_per_s": round(len(frames) / seconds),
            "raw_bytes_per_frame": round(raw / len(frames), 1),
            "line_bytes_per_frame": round(recorder.bytes_in / len(frames), 1),
            "stored_bytes_per_frame": round(on_disk / len(frames), 1),
            "compression_ratio": round(recorder.bytes_in / on_disk, 1),
        }
        store = ParquetTickStore(Path(tmp) / "ticks")
        run = Replay(dead_letter=Path(os.devnull), on_event=store.on_event)
        started = time.perf_counter()
        for path, file_lines in files:
            on_line = run.stream("kalshi", str(path), RecordingFormat.CAPTURE).on_capture_line
            for line in file_lines:
                on_line(line)
        store.close()
        seconds = time.perf_counter() - started
        rows = sum(store.rows.values())
        results["parquet"] = {
            "rows": rows,
            "rows_per_s_end_to_end": round(rows / seconds),
            "rows_per_s_writing": round(rows / store.write_s) if store.write_s else 0,
            "files": store.files,
            "bytes_per_row": round(sum(p.stat().st_size for p in (Path(tmp) / "ticks").rglob("*.parquet")) / rows, 1),
        }
    return results
