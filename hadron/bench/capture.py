"""The real frames the benchmarks run on: the KXGOLD15M Kalshi capture in ``../shared/data``.

:func:`default_capture` finds the capture folder (``$HADRON_SHARED_DATA``, or ``shared/data``
beside the working folder or the checkout), :func:`default_market_capture` its busiest market's
file, :func:`load_capture` reads capture files into memory, and :func:`replay_lines` feeds those
lines through the replay pipeline, so a measurement times work, not I/O.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable
from pathlib import Path

from hadron.app.replay import Replay
from hadron.errors import InputError
from hadron.store.reader import LineReader
from hadron.store.replay import RecordingFormat, detect, expand_paths

DEFAULT_CAPTURE = Path("shared/data/zkiihne__kalshi-gold15m-sample/events")


def default_capture() -> Path | None:
    """Return the KXGOLD15M capture folder in ``../shared/data`` (from the cwd or the package)."""
    env = os.environ.get("HADRON_SHARED_DATA")
    candidates = [Path(env) / DEFAULT_CAPTURE.relative_to("shared/data")] if env else []
    here = Path(__file__).resolve()
    candidates += [Path.cwd().parent / DEFAULT_CAPTURE, here.parents[3] / DEFAULT_CAPTURE]
    return next((c for c in candidates if c.is_dir()), None)


DEFAULT_MARKET = "KXGOLD15M-26AUG102130-30"
"""The capture's busiest market (``hadron bench arb``, ``compare`` and ``live`` default to it)."""


def default_market_capture() -> Path | None:
    """Return the busiest KXGOLD15M market's capture file (:data:`DEFAULT_MARKET`, 2026-08-11) in
    ``../shared/data``, or None when it is not there (see :func:`default_capture`)."""
    root = default_capture()
    found = root / DEFAULT_MARKET / "2026-08-11.ndjson.gz" if root is not None else None
    return found if found is not None and found.is_file() else None


def load_capture(target: Path) -> list[tuple[Path, list[bytes]]]:
    """Read the Kalshi capture files at ``target`` (a file or a folder) into memory: each file
    with its raw lines (NDJSON ``{recv_ms, event}``), in the order :func:`expand_paths` gives.

    Raises:
        InputError: ``target`` holds no Kalshi capture file.
    """
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


def replay_lines(
    files: list[tuple[Path, list[bytes]]],
    clock: Callable[[], int] | None = None,
    on_books: Callable[[Replay], object] | None = None,
) -> tuple[Replay, array[int]]:
    """Feed in-memory capture lines (:func:`load_capture`) through the replay pipeline: typed
    decode, sid/seq check, normalization, books, integrity checks.

    With ``clock`` (``time.perf_counter_ns``) each frame is timed; ``on_books`` attaches more to
    the books first (the arbitrage detector).

    Returns:
        The replay (its ``report()``) and the per-frame latencies in ns (empty without ``clock``).
    """
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
