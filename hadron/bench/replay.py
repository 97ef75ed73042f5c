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
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from hadron.app.replay import Replay
from hadron.bench.capture import load_capture, replay_lines
from hadron.bench.timing import best_of, percentiles
from hadron.store.reader import LineReader
from hadron.venues.base import get_venue


def _decode_untyped(lines: list[bytes]) -> None:
    decode = msgspec.json.decode
    for line in lines:
        decode(line)


def _decode_typed(lines: list[bytes]) -> None:
    decode = get_venue("kalshi").capture_decoder.decode
    for line in lines:
        decode(line)


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
    files = load_capture(target)
    lines = [line for _, file_lines in files for line in file_lines]
    frames = len(lines)
    seconds = {
        "decode_untyped": best_of(repeat, lambda: _decode_untyped(lines)),
        "decode_typed": best_of(repeat, lambda: _decode_typed(lines)),
        "pipeline": best_of(repeat, lambda: replay_lines(files)),
        "decode_from_disk": best_of(repeat, lambda: _decode_from_disk(files)),
        "replay_from_disk": best_of(repeat, lambda: Replay(dead_letter=Path(os.devnull)).run([target])),
    }
    gc.collect()
    latency_run, samples = replay_lines(files, time.perf_counter_ns)
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
        "latency_pipeline": percentiles(samples),
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
