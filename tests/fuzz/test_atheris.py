"""Runs the atheris harness for each venue (a bounded number of runs) when atheris is installed."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

HARNESS = Path(__file__).with_name("atheris_streams.py")
RUNS = int(os.environ.get("HADRON_FUZZ_RUNS", "50000"))

pytestmark = pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")


def _corpus(venue: str, folder: Path) -> Path:
    folder.mkdir()
    if venue.startswith("kalshi"):
        compact = {"separators": (",", ":")} if venue == "kalshi-scan" else {}  # as Kalshi sends them
        with gzip.open(FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz", "rt") as capture:
            frames = [json.dumps(json.loads(line)["event"], **compact) for line in capture][:60]
    else:
        frames = [
            json.dumps(f)
            for f in json.loads((FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json").read_text())
        ]
        frames += [p.read_text() for p in sorted((FIXTURES / "polymarket").glob("ws_market_*_msg.json"))]
    for n, frame in enumerate(frames):
        (folder / f"seed-{n}").write_text(frame)
    return folder


@pytest.mark.parametrize("venue", ["kalshi", "polymarket", "kalshi-scan"])
def test_atheris_finds_no_crash(venue: str, tmp_path: Path) -> None:
    corpus = _corpus(venue, tmp_path / "corpus")
    pure = {"HADRON_PURE": "1"} if venue == "kalshi-scan" else {}  # the scanner as Python: instrumented
    result = subprocess.run(
        [sys.executable, str(HARNESS), str(corpus), f"-runs={RUNS}", "-max_len=4096", "-rss_limit_mb=2048"],
        env={**os.environ, "HADRON_FUZZ_VENUE": venue, **pure},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    done = [line for line in result.stderr.splitlines() if line.startswith("Done")]
    assert done, result.stderr[-2000:]
    print(f"{venue}: {done[-1]}")
