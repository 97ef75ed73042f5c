"""The recorder's cost to the read loop, old vs new, side by side on the real Kalshi capture.

Every frame of the busiest capture (each line's ``event`` byte for byte, as a live session would
receive it) goes through two recorder implementations in the same run: ``old``, the recorder
as of ``--baseline`` (loaded from git: an asyncio task handing each batch to ``asyncio.to_thread``,
one msgspec encode and one zstd compress call per frame) and ``new``, the working tree's
``hadron/store/recorder.py`` (a writer thread, one encode and one compress call per ~16 KiB).
Rows:

* ``write()``: what ``AsyncFrameRecorder.write`` costs the read loop per frame (a tight loop
  over the frames, writer idle, loop overhead subtracted);
* ``writer alone``: the writer's whole work per frame, synchronously in one thread: wrap,
  encode, compress, write, flush every 20,000 frames (wall and CPU time); ``old`` is
  ``FrameRecorder.write`` per frame, ``new`` ``FrameRecorder.write_batch`` per 2,048;
* ``of which``: the two steps timed apart on the same frames: encoding alone (wrap, decode,
  serialise: the GIL is held) and zstd alone, called as the implementation calls it; the GIL is
  held for the writer's CPU time minus the compression (for ``old`` a lower bound: each of its
  per-line zstd calls also holds the GIL for the call itself);
* ``read loop at full speed``: an asyncio read loop fed through a socket by a venue process
  (every frame one line, written as fast as the socket takes them). Per frame, as a session:
  ``recorder.write(time.time_ns(), raw)`` then the Kalshi wire decode (the stream's first
  step); the recorder started and writing meanwhile; ``no recorder`` is the same loop without
  one. Frames/s, the loop thread's CPU time, the time it waited for the GIL (wall minus on-CPU
  minus waiting for a CPU, from ``/proc/self/task/<tid>/schedstat``: the loop always has data,
  so off-CPU is waiting for the GIL another thread holds), the other threads' CPU time (the
  writer), the drain after the last frame (``close``) and frames dropped;
* ``read loop at R frames/s`` (each ``--rate``, by default 5,000, about twice the capture's
  busiest second, and 25,000): the same, paced (written every 0.2 ms) for ``--paced-seconds``:
  each frame's latency from the venue's write to the end of its processing (``CLOCK_MONOTONIC``,
  shared by the two processes), p50, p99, p99.9 and max, and the loop's CPU per frame: what the
  recorder costs the hot path at a pace it keeps up with.

Median of ``--repeat`` interleaved rounds (the machine's load moves wall-clock figures). The files
the two writers wrote are checked to hold the same lines. Not part of the test suite::

    PYTHONPATH=. .venv/bin/python bench/recorder.py [--frames N] [--rate R ...] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import importlib.util
import json
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import zstandard

import hadron.store.recorder as new_recorder

REPO = Path(__file__).resolve().parents[1]
CAPTURE = (
    REPO.parent / "shared/data/zkiihne__kalshi-gold15m-sample/events/KXGOLD15M-26AUG102130-30/2026-08-11.ndjson.gz"
)
BASELINE = "188f945b4bd6a0eb24a3dd308020f45222694011"  # the last commit that changed recorder.py before
FLUSH_EVERY = 20_000  # frames between flushes in "writer alone" (~ a busy second)
BATCH = 2_048  # frames per write_batch in "writer alone" (a writer pass at ~100k frames/s)

Frames = list[tuple[int, bytes]]


class _CaptureLine(msgspec.Struct):
    recv_ms: int
    event: msgspec.Raw


def load_frames(path: Path, limit: int | None) -> Frames:
    """``(recv_ns, raw frame)`` of the capture's lines: each ``event`` byte for byte as captured."""
    decode = msgspec.json.Decoder(_CaptureLine).decode
    frames: Frames = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            if limit is not None and len(frames) >= limit:
                break
            if line.strip():
                item = decode(line)
                frames.append((item.recv_ms * 1_000_000, bytes(item.event)))
    return frames


def load_baseline(rev: str) -> ModuleType:
    """``hadron/store/recorder.py`` as of ``rev`` (git show), imported as ``_recorder_baseline``."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:hadron/store/recorder.py"],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="recorder-baseline-") as folder:
        path = Path(folder) / "_recorder_baseline.py"
        path.write_bytes(source)
        spec = importlib.util.spec_from_file_location("_recorder_baseline", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # msgspec resolves the structs' annotations through it
        spec.loader.exec_module(module)
    return module


def schedstat() -> tuple[int, int] | None:
    """This thread's (ns on a CPU, ns waiting for a CPU), or ``None`` without schedstat."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as fh:
            on_cpu, waiting, _ = fh.read().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu), int(waiting)


# -- measurements ---------------------------------------------------------------------------------


def measure_write(mod: ModuleType, frames: Frames, folder: Path) -> float:
    """ns per ``AsyncFrameRecorder.write`` call (writer not running), loop overhead subtracted."""
    recorder = mod.AsyncFrameRecorder(mod.FrameRecorder(folder, "kalshi", "w"), max_queue=len(frames) + 1)
    write = recorder.write
    gc.disable()
    try:
        started = time.perf_counter_ns()
        for _ns, _raw in frames:
            pass
        empty = time.perf_counter_ns() - started
        started = time.perf_counter_ns()
        for ns, raw in frames:
            write(ns, raw)
        took = time.perf_counter_ns() - started
    finally:
        gc.enable()
    assert len(recorder._queue) == len(frames)
    recorder._queue.clear()
    return (took - empty) / len(frames)


def measure_writer(mod: ModuleType, frames: Frames, folder: Path) -> dict[str, Any]:
    """The writer's work per frame, synchronously: wall and CPU ns, and the file it wrote."""
    recorder = mod.FrameRecorder(folder, "kalshi", "writer", flush_interval=float("inf"))
    wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
    if hasattr(recorder, "write_batch"):
        queued = [(ns, raw, None) for ns, raw in frames]
        for start in range(0, len(queued), BATCH):
            recorder.write_batch(queued[start : start + BATCH])
            if (start + BATCH) // FLUSH_EVERY != start // FLUSH_EVERY:
                recorder.flush()
    else:
        write, flush = recorder.write, recorder.flush
        for index, (ns, raw) in enumerate(frames):
            write(ns, raw)
            if index % FLUSH_EVERY == FLUSH_EVERY - 1:
                flush()
    recorder.close()
    wall, cpu = time.perf_counter_ns() - wall, time.thread_time_ns() - cpu
    n = len(frames)
    return {"wall_ns": wall / n, "cpu_ns": cpu / n, "file": recorder.files[0], "bytes_in": recorder.bytes_in}


def measure_parts(mod: ModuleType, frames: Frames, folder: Path) -> dict[str, float]:
    """The writer's two steps apart, CPU ns/frame: encoding (wrap and serialise: the GIL is held
    throughout) and zstd compression of the same lines, called as the implementation calls it
    (per line for ``old``, per ~16 KiB for ``new``; zstd releases the GIL inside each call).
    Both run block by block (2,048 frames), as the writer does, so memory stays small."""
    recorder = mod.FrameRecorder(folder, "kalshi", "parts")
    batched = hasattr(recorder, "encode_lines")
    queued = [(ns, raw, None) for ns, raw in frames]
    size = max(16, mod.CHUNK_BYTES * len(frames) // (sum(len(raw) + 80 for _, raw in frames) or 1)) if batched else 1
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    compress, clock = compressor.compress, time.thread_time_ns
    encoded = compressed = 0
    for block in range(0, len(queued), BATCH):
        started = clock()
        if batched:
            pieces = [
                recorder.encode_lines(queued[i : i + size]) for i in range(block, min(block + BATCH, len(queued)), size)
            ]
        else:
            pieces = [recorder._encode(ns, raw, None) + b"\n" for ns, raw, _ in queued[block : block + BATCH]]
        middle = clock()
        for piece in pieces:
            compress(piece)
        encoded, compressed = encoded + middle - started, compressed + clock() - middle
    compressor.flush()
    return {"encode_ns": encoded / len(frames), "compress_ns": compressed / len(frames)}


class _Reader(asyncio.Protocol):
    """The read loop: lines ``b"<send monotonic ns> <frame>"`` from the feeder, one call per frame."""

    def __init__(self, on_frame: Callable[[bytes], None], done: asyncio.Future[None]) -> None:
        self.on_frame = on_frame
        self.done = done
        self.rest = b""
        self.started = 0

    def data_received(self, data: bytes) -> None:
        if not self.started:
            self.started = time.perf_counter_ns()
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        on_frame = self.on_frame
        for line in lines:
            on_frame(line)

    def eof_received(self) -> bool:
        self.done.set_result(None)
        return False


def _feed(sock: socket.socket, frames: Frames, rate: float) -> None:
    # The venue, in its own process: every frame as a line stamped with its send time
    # (CLOCK_MONOTONIC, shared by the processes), as fast as the socket takes them (rate 0)
    # or ``rate`` frames a second, written every 0.2 ms
    lines = [raw + b"\n" for _, raw in frames]
    if rate <= 0:
        sock.sendall(b"".join(b"0 " + line for line in lines))
    else:
        started, sent = time.monotonic_ns(), 0
        while sent < len(lines):
            due = min(len(lines), int((time.monotonic_ns() - started) * rate / 1e9) + 1)
            if due > sent:
                stamp = b"%d " % time.monotonic_ns()
                sock.sendall(b"".join(stamp + line for line in lines[sent:due]))
                sent = due
            else:
                time.sleep(0.0002)
    sock.shutdown(socket.SHUT_WR)
    sock.close()


async def _read_loop(
    mod: ModuleType | None, sock: socket.socket, folder: Path, decode: Callable[[bytes], Any], paced: bool
) -> dict[str, Any]:
    recorder = mod.AsyncFrameRecorder(mod.FrameRecorder(folder, "kalshi", "loop")) if mod is not None else None
    if recorder is not None:
        recorder.start()
    write = recorder.write if recorder is not None else None
    latencies = array("q")
    note, now_ns, monotonic_ns = latencies.append, time.time_ns, time.monotonic_ns

    def on_frame(line: bytes) -> None:  # what a session does per frame: record, then the stream
        sent, _, raw = line.partition(b" ")
        if write is not None:
            write(now_ns(), raw)
        decode(raw)
        if paced:
            note(monotonic_ns() - int(sent))

    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    sched0, cpu0, proc0 = schedstat(), time.thread_time_ns(), time.process_time_ns()
    transport, reader = await loop.connect_accepted_socket(lambda: _Reader(on_frame, done), sock)
    await done
    ended = time.perf_counter_ns()
    sched1, cpu1 = schedstat(), time.thread_time_ns()
    transport.close()
    if recorder is not None:
        await recorder.close()
    drained, proc2 = time.perf_counter_ns(), time.process_time_ns()
    n = len(latencies) if paced else None
    wall = ended - reader.started
    result: dict[str, Any] = {
        "wall_s": wall / 1e9,
        "loop_cpu_s": (cpu1 - cpu0) / 1e9,
        "gil_wait_s": None,
        "writer_cpu_s": ((proc2 - proc0) - (cpu1 - cpu0)) / 1e9,  # the other threads: the writer
        "drain_ms": (drained - ended) / 1e6,
        "dropped": recorder.dropped if recorder is not None else 0,
        "recorded": recorder.frames if recorder is not None else 0,
    }
    if sched0 is not None and sched1 is not None and not paced:  # always runnable: off CPU = GIL
        result["gil_wait_s"] = max(0, wall - (sched1[0] - sched0[0]) - (sched1[1] - sched0[1])) / 1e9
    if n:
        ordered = sorted(latencies)
        for name, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
            result[f"lat_{name}_us"] = ordered[min(n - 1, int(q * n))] / 1e3
        result["lat_max_us"] = ordered[-1] / 1e3
    return result


def measure_loop(
    mod: ModuleType | None, frames: Frames, folder: Path, decode: Callable[[bytes], Any], rate: float
) -> dict[str, Any]:
    """The read loop fed by a venue process (full speed when ``rate`` is 0) with ``mod``'s recorder
    (``None``: no recorder)."""
    ours, theirs = socket.socketpair()
    feeder = multiprocessing.get_context("fork").Process(target=_feed, args=(theirs, frames, rate))
    feeder.start()
    theirs.close()
    try:
        result = asyncio.run(_read_loop(mod, ours, folder, decode, paced=rate > 0))
    finally:
        feeder.join()
    n = len(frames)
    result.update(
        frames_per_s=n / result["wall_s"],
        loop_cpu_ns=result["loop_cpu_s"] * 1e9 / n,
        writer_cpu_ns=result["writer_cpu_s"] * 1e9 / n,
        gil_wait_ns=result["gil_wait_s"] * 1e9 / n if result["gil_wait_s"] is not None else None,
    )
    return result


def file_lines(path: Path) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()


def kalshi_decoder() -> Callable[[bytes], Any]:
    # the Kalshi wire decoder stands for the stream's per-frame work in the read loop
    from hadron.venues.kalshi.messages import FRAME_DECODER  # noqa: TID251

    return FRAME_DECODER.decode


# -- report ---------------------------------------------------------------------------------------


def median(values: list[Any]) -> Any:
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def summarize(rounds: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """The median of the rounds, per implementation and measure."""
    out: dict[str, Any] = {}
    for impl, parts in rounds.items():
        out[impl] = {
            part: {key: median([r[key] for r in runs]) for key in runs[0]} for part, runs in parts.items() if runs
        }
    for impl in ("none", "old", "new"):
        full = out[impl]["full"]
        full["gil_wait_pct"] = 100 * full["gil_wait_s"] / full["wall_s"] if full["gil_wait_s"] is not None else None
    return out


def fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def table(summary: dict[str, Any], rates: list[float]) -> str:
    """The figures as a markdown table: old, new, old/new, and the loop without a recorder."""
    old, new, none = summary["old"], summary["new"], summary["none"]
    rows: list[tuple[str, str, str, int, bool]] = [
        ("`write()` in the read loop, ns/frame", "write", "ns", 0, True),
        ("writer alone (encode+compress+write), wall ns/frame", "writer", "wall_ns", 0, True),
        ("writer alone, CPU ns/frame", "writer", "cpu_ns", 0, True),
        ("  of which encoding (GIL held), ns/frame", "writer", "encode_ns", 0, True),
        ("  of which zstd compress (GIL released inside), ns/frame", "writer", "compress_ns", 0, True),
        ("  GIL held ≈ CPU − compress, ns/frame", "writer", "gil_held_ns", 0, True),
        ("  GIL held, % of the writer's CPU", "writer", "gil_held_pct", 0, False),
        ("read loop at full speed: frames/s", "full", "frames_per_s", 0, False),
        ("  loop CPU, ns/frame", "full", "loop_cpu_ns", 0, True),
        ("  loop waiting for the GIL, ns/frame", "full", "gil_wait_ns", 0, True),
        ("  loop waiting for the GIL, % of its time", "full", "gil_wait_pct", 1, False),
        ("  writer CPU (other threads), ns/frame", "full", "writer_cpu_ns", 0, True),
        ("  drain after the last frame, ms", "full", "drain_ms", 0, True),
        ("  frames dropped (queue full)", "full", "dropped", 0, False),
    ]
    for rate in rates:
        part = f"paced_{rate:.0f}"
        rows += [
            (f"read loop at {rate:,.0f} frames/s: latency p50, µs", part, "lat_p50_us", 0, True),
            ("  latency p99, µs", part, "lat_p99_us", 0, True),
            ("  latency p99.9, µs", part, "lat_p999_us", 0, True),
            ("  latency max, µs", part, "lat_max_us", 0, True),
            ("  loop CPU, ns/frame", part, "loop_cpu_ns", 0, True),
        ]
    lines = ["| measure | old | new | old/new | no recorder |", "|---|---:|---:|---:|---:|"]
    for label, part, key, digits, lower_better in rows:
        a = old.get(part, {}).get(key)
        b = new.get(part, {}).get(key)
        c = none.get(part, {}).get(key)
        r = f"{a / b:.2f}×" if lower_better and a and b else ""
        lines.append(
            f"| {label} | {fmt(a, digits)} | {fmt(b, digits)} | {r} | {fmt(c, digits) if c is not None else ''} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--capture", type=Path, default=CAPTURE, help="a Kalshi {recv_ms, event} NDJSON(.gz) capture")
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames (default: all)")
    parser.add_argument("--rate", type=float, action="append", help="frames/s of a paced read loop (repeatable)")
    parser.add_argument("--paced-seconds", type=float, default=2.4, help="length of each paced read loop")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the median is kept")
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the old recorder.py")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    if not args.capture.exists():
        print(f"no capture at {args.capture}", file=sys.stderr)
        return 2
    frames = load_frames(args.capture, args.frames)
    rates: list[float] = args.rate or [5_000, 25_000]
    old = load_baseline(args.baseline)
    impls: dict[str, ModuleType | None] = {"none": None, "old": old, "new": new_recorder}
    decode = kalshi_decoder()
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {"write": [], "writer": [], "full": [], **{f"paced_{r:.0f}": [] for r in rates}} for name in impls
    }
    identical = True
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as tmp:
        for round_no in range(args.repeat):
            written: dict[str, bytes] = {}
            for name, mod in impls.items():
                folder = Path(tmp) / f"{round_no}-{name}"
                if mod is not None:
                    rounds[name]["write"].append({"ns": measure_write(mod, frames, folder / "write")})
                    result = measure_writer(mod, frames, folder / "writer")
                    written[name] = file_lines(result.pop("file"))
                    result.update(measure_parts(mod, frames, folder / "parts"))
                    result["gil_held_ns"] = result["cpu_ns"] - result["compress_ns"]
                    result["gil_held_pct"] = 100 * result["gil_held_ns"] / result["cpu_ns"]
                    rounds[name]["writer"].append(result)
                gc.collect()
                rounds[name]["full"].append(measure_loop(mod, frames, folder / "full", decode, 0))
                gc.collect()
                for rate in rates:
                    paced = frames[: int(rate * args.paced_seconds)]
                    rounds[name][f"paced_{rate:.0f}"].append(
                        measure_loop(mod, paced, folder / f"p{rate:.0f}", decode, rate)
                    )
                    gc.collect()
            identical = identical and written["old"] == written["new"]
            print(f"round {round_no + 1}/{args.repeat} done", file=sys.stderr)
    summary = summarize(rounds)
    meta = {
        "capture": str(args.capture),
        "frames": len(frames),
        "rates": rates,
        "paced_seconds": args.paced_seconds,
        "frame_bytes_mean": round(sum(len(f) for _, f in frames) / len(frames), 1),
        "baseline": args.baseline,
        "lines_identical": identical,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "msgspec": msgspec.__version__,
        "zstandard": zstandard.__version__,
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
    }
    print(
        f"{meta['frames']:,} frames ({meta['frame_bytes_mean']} bytes on average) of {args.capture.name}; "
        f"old = recorder.py @ {args.baseline[:10]}, new = working tree; median of {args.repeat}; "
        f"{meta['cpus']} CPUs, load {meta['loadavg'][0]:.2f}; same lines: {'yes' if identical else 'NO'}"
    )
    print(table(summary, rates))
    if args.json is not None:
        args.json.write_text(json.dumps({"meta": meta, "results": summary}, indent=2) + "\n")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
