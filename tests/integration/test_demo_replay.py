"""What the live runtime saw, replay reproduces: ``hadron demo --record DIR --opportunities F``, then
``hadron replay DIR --pairs DIR/pairs.toml --opportunities F2``.

The demo runs the runtime against both loopback venues (real sockets, the shipped capture); its
recording holds both venues' raw frames, the pairs file as traded and the effective configuration.
Every opportunity the replay closed must be in the live file with the same id, kind, size, net
edge and opening and closing times (the detector is clocked by receive times, which the
recording keeps).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KEYS = ("id", "kind", "size", "net_edge", "opened_ns", "closed_ns")


def _opportunities(path: Path) -> dict[str, tuple[object, ...]]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["id"]: tuple(r[k] for k in KEYS) for r in records}


def test_demo_recording_replays_to_the_live_opportunities(tmp_path: Path) -> None:
    record, live = tmp_path / "rec", tmp_path / "live.ndjson"
    demo = subprocess.run(
        [sys.executable, "-m", "hadron", "demo", "--duration", "25", "--speed", "4", "--port", "0",
         "--workdir", str(tmp_path / "wd"), "--record", str(record), "--opportunities", str(live)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert sorted(p.name for p in record.iterdir()) == [
        "config.json",
        "kalshi",
        "pairs.toml",
        "paper.toml",
        "polymarket",
    ]
    config = json.loads((record / "config.json").read_text())
    assert config["runtime"]["paper"] is True and "thresholds" in config
    assert "[thresholds]" in (record / "pairs.toml").read_text()  # the run's thresholds travel with the pairs

    replayed = tmp_path / "replay.ndjson"
    replay = subprocess.run(
        [sys.executable, "-m", "hadron", "replay", str(record), "--pairs", str(record / "pairs.toml"),
         "--opportunities", str(replayed), "--report", str(tmp_path / "replay.json"), "--paper", "--paper-config",
         str(record / "paper.toml")],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "skipped" not in replay.stdout  # the files beside the frames are passed over quietly
    paper = json.loads((tmp_path / "replay.json").read_text())["paper"]
    assert paper["config"]["latency_ms"] == {"kalshi": [50.0, 20.0], "polymarket": [150.0, 20.0]}  # the run's [paper]
    live_opps, replay_opps = _opportunities(live), _opportunities(replayed)
    closed = {i: o for i, o in replay_opps.items() if o[-1] is not None}
    assert len(closed) >= 10, f"the demo must open and close opportunities: {len(closed)}"
    differ = {i: (live_opps.get(i), o) for i, o in closed.items() if live_opps.get(i) != o}
    assert not differ, differ
    print(f"live {len(live_opps)} opportunities; replayed {len(replay_opps)}, {len(closed)} closed, all identical")
