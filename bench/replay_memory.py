"""Peak memory of ``hadron replay`` as the number of input files grows, on the same real frames.

The KXGOLD15M capture (``../shared/data/zkiihne__kalshi-gold15m-sample/events``, 1.9 M frames in 34
gzipped files, one per market) is replayed in three layouts holding the same lines:

* ``1 file``: the 34 files' gzip members concatenated (one gzip file, read as one input);
* ``34 files``: the capture as published;
* ``340 files``: each file cut into 10 consecutive parts (each part its own input).

Each replay runs in a child process (``hadron replay … --report``) and the figure is that process's
peak resident set (``VmHWM``, which, unlike ``ru_maxrss``, does not carry the parent's peak across
``exec``), next to its frames/s. The merge keeps only the inputs whose turn
has come open, each behind a 256 KiB buffer, so the peak should not grow with the file count.

Usage: ``python bench/replay_memory.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CAPTURE = Path(__file__).resolve().parent.parent.parent / "shared/data/zkiihne__kalshi-gold15m-sample/events"


def _layouts(root: Path) -> dict[str, Path]:
    files = sorted(CAPTURE.rglob("*.ndjson.gz"))
    one = root / "one"
    one.mkdir()
    with (one / "all.ndjson.gz").open("wb") as out:
        for path in files:
            out.write(path.read_bytes())  # concatenated gzip members: one valid gzip file
    split = root / "split"
    split.mkdir()
    for i, path in enumerate(files):
        lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
        step = -(-len(lines) // 10)
        for part in range(10):
            chunk = lines[part * step : (part + 1) * step]
            if chunk:
                (split / f"{i:02d}-{part}.ndjson.gz").write_bytes(gzip.compress(b"".join(chunk), 1))
    return {"1 file": one, f"{len(files)} files": CAPTURE, f"{len(list(split.iterdir()))} files": split}


def _measure(path: Path, report: Path) -> dict[str, float]:
    code = (
        "import resource, sys\n"
        "from hadron.cli import main\n"
        "sys.argv = ['hadron', 'replay', sys.argv[1], '--report', sys.argv[2], '--dead-letter', '/dev/null']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(report)], capture_output=True, text=True, check=True
    )
    peak_kib = int(done.stdout.strip().splitlines()[-1])
    result = json.loads(report.read_text())
    return {
        "frames": result["frames"],
        "files": len(result["files"]),
        "frames_per_s": result["frames_per_s"],
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if not CAPTURE.exists():
        sys.exit(f"skipped: the real capture is absent ({CAPTURE})")
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in _layouts(Path(tmp)).items():
            rows[name] = _measure(path, Path(tmp) / "report.json")
            print(f"{name:>10}: {rows[name]}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
