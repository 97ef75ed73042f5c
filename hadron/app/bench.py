"""``hadron bench replay``: the replay pipeline against msgspec decoding alone, same frames.

Every measurement runs in the same process over the same in-memory capture lines, so the ratios
compare work, not I/O:

* ``decode_untyped``: ``msgspec.json.decode(line)`` into dicts, the least any consumer does;
* ``decode_typed``: the Kalshi capture decoder into Hadron's msgspec structs (the first stage
  of the pipeline, on its own);
* ``pipeline``: the full replay path per line: typed decode, sid/seq check, normalization to
  fixed-point events, book update, integrity checks;
* ``decode_from_disk``: the files read, decompressed, split into lines and decoded with
  ``msgspec.json.decode``: decoding alone, end to end from the same files;
* ``replay_from_disk``: ``Replay.run`` on the files: the whole replay, end to end.

Throughput keeps the best of ``repeat`` runs. Latency is measured in a separate pass (one
``perf_counter_ns`` pair around each frame), so the timer's own cost stays out of throughput.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from hadron.app.replay import Replay
from hadron.errors import InputError
from hadron.store.replay import LineReader, RecordingFormat, detect, expand_paths
from hadron.venues.base import get_venue

DEFAULT_CAPTURE = Path("shared/data/zkiihne__kalshi-gold15m-sample/events")


def default_capture() -> Path | None:
    """Return the KXGOLD15M capture folder in ``../shared/data`` (from the cwd or the package)."""
    env = os.environ.get("HADRON_SHARED_DATA")
    candidates = [Path(env) / DEFAULT_CAPTURE.relative_to("shared/data")] if env else []
    here = Path(__file__).resolve()
    candidates += [Path.cwd().parent / DEFAULT_CAPTURE, here.parents[3] / DEFAULT_CAPTURE]
    return next((c for c in candidates if c.is_dir()), None)


def _load(target: Path) -> list[tuple[Path, list[bytes]]]:
    named, found = expand_paths([target])
    files: list[tuple[Path, list[bytes]]] = []
    for path in named + found:
        rec = detect(path)
        if rec is None or rec.format is not RecordingFormat.CAPTURE or rec.venue != "kalshi":
            continue
        files.append((path, list(LineReader(path))))
    if not files:
        raise InputError(f"{target}: no Kalshi capture files (NDJSON {{recv_ms, event}}) found")
    return files


def _best(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _percentiles(samples: array[int]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(n - 1, int(p / 100 * n))] / 1000

    return {
        "p50_us": pct(50),
        "p90_us": pct(90),
        "p99_us": pct(99),
        "p99_9_us": pct(99.9),
        "max_us": ordered[-1] / 1000,
        "mean_us": sum(ordered) / n / 1000,
    }


def _decode_untyped(lines: list[bytes]) -> None:
    decode = msgspec.json.decode
    for line in lines:
        decode(line)


def _decode_typed(lines: list[bytes]) -> None:
    decode = get_venue("kalshi").capture_decoder.decode
    for line in lines:
        decode(line)


def _pipeline(
    files: list[tuple[Path, list[bytes]]],
    clock: Callable[[], int] | None = None,
    on_books: Callable[[Replay], object] | None = None,
) -> tuple[Replay, array[int]]:
    # The replay pipeline over in-memory lines; with ``clock``, time each frame (latency pass);
    # ``on_books`` attaches more to the books first (the arbitrage detector)
    run = Replay(dead_letter=Path(os.devnull))
    if on_books is not None:
        on_books(run)
    samples: array[int] = array("q")
    for path, file_lines in files:
        on_line = run.stream("kalshi", str(path), RecordingFormat.CAPTURE).on_capture_line
        if clock is None:
            for line in file_lines:
                on_line(line)
        else:
            for line in file_lines:
                t0 = clock()
                on_line(line)
                samples.append(clock() - t0)
    return run, samples


def _decode_from_disk(files: list[tuple[Path, list[bytes]]]) -> None:
    decode = msgspec.json.decode
    for path, _ in files:
        for line in LineReader(path):
            decode(line)


def run_replay_bench(target: Path, *, repeat: int = 3) -> dict[str, Any]:
    """Measure decode-only and end-to-end replay over the Kalshi capture at ``target``.

    Returns a dict of frames, seconds, frames/s, ratios and latency percentiles (µs).

    Raises:
        InputError: ``target`` holds no Kalshi capture file.
    """
    files = _load(target)
    lines = [line for _, file_lines in files for line in file_lines]
    frames = len(lines)
    seconds = {
        "decode_untyped": _best(repeat, lambda: _decode_untyped(lines)),
        "decode_typed": _best(repeat, lambda: _decode_typed(lines)),
        "pipeline": _best(repeat, lambda: _pipeline(files)),
        "decode_from_disk": _best(repeat, lambda: _decode_from_disk(files)),
        "replay_from_disk": _best(repeat, lambda: Replay(dead_letter=Path(os.devnull)).run([target])),
    }
    gc.collect()
    latency_run, samples = _pipeline(files, time.perf_counter_ns)
    report = latency_run.report()
    rates = {name: frames / s for name, s in seconds.items()}
    return {
        "target": str(target),
        "files": len(files),
        "frames": frames,
        "bytes": sum(len(line) for line in lines),
        "repeat": repeat,
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "frames_per_s": {k: round(v) for k, v in rates.items()},
        "ns_per_frame": {k: round(s / frames * 1e9, 1) for k, s in seconds.items()},
        "ratio_from_disk_vs_decode_from_disk": round(rates["replay_from_disk"] / rates["decode_from_disk"], 3),
        "ratio_pipeline_vs_decode_untyped": round(rates["pipeline"] / rates["decode_untyped"], 3),
        "ratio_pipeline_vs_decode_typed": round(rates["pipeline"] / rates["decode_typed"], 3),
        "latency_pipeline": _percentiles(samples),
        "integrity": {
            k: report[k]
            for k in ("decode_errors", "snapshot_mismatches", "negative_levels", "crossed_books", "resyncs")
        },
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "msgspec": msgspec.__version__,
    }


def print_results(results: dict[str, Any], console: Console) -> None:
    """Print ``results`` as a table plus the ratios."""
    table = Table(title=f"hadron bench replay: {results['frames']:,} Kalshi frames, {results['files']} files")
    table.add_column("measurement")
    table.add_column("seconds", justify="right")
    table.add_column("frames/s", justify="right")
    table.add_column("ns/frame", justify="right")
    for name, secs in results["seconds"].items():
        table.add_row(name, f"{secs:.3f}", f"{results['frames_per_s'][name]:,}", f"{results['ns_per_frame'][name]:,}")
    console.print(table)
    console.print("throughput ratios, replay / msgspec decoding alone, same frames:")
    console.print(
        f"  end to end from the files: {results['ratio_from_disk_vs_decode_from_disk']:.3f}   "
        f"in memory: {results['ratio_pipeline_vs_decode_untyped']:.3f} (vs untyped decode), "
        f"{results['ratio_pipeline_vs_decode_typed']:.3f} (vs typed decode)"
    )
    lat = results["latency_pipeline"]
    console.print(
        "pipeline latency per frame (µs): " + ", ".join(f"{k.removesuffix('_us')} {v:.2f}" for k, v in lat.items())
    )
    console.print(f"integrity: {results['integrity']}")


class _CaptureFrame(msgspec.Struct):
    recv_ms: int
    event: msgspec.Raw


def run_store_bench(target: Path, *, limit: int = 500_000) -> dict[str, Any]:
    """Recorder frames/s and bytes per frame, and Parquet tick-store rows/s, on the same capture.

    Raises:
        InputError: ``target`` holds no Kalshi capture file.
    """
    import tempfile

    from hadron.store.parquet import ParquetTickStore
    from hadron.store.recorder import FrameRecorder

    files = _load(target)
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
