"""`hadron run --config hadron.toml` as a user runs it: loopback venues in their own processes
(`hadron fake-venue …`), the runtime from a config file, `hadron status` and `hadron stop`."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from hadron.app.demo import DEMO_MARKET, demo_capture
from hadron.venues.kalshi.auth import generate_test_key
from hadron.venues.polymarket.fake_scenario import pairs_toml

HADRON = [sys.executable, "-m", "hadron"]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _started(process: subprocess.Popen[str], pattern: str, timeout: float = 60) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        found = re.search(pattern, line)
        if found:
            return found.group(1)
    raise AssertionError(f"no {pattern!r} from {process.args}")


def test_run_from_a_config_file_then_status_and_stop(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    _, private_pem, public_pem = generate_test_key()
    (tmp_path / "key.pem").write_bytes(private_pem)
    (tmp_path / "key.pem").chmod(0o600)
    (tmp_path / "key.pub").write_bytes(public_pem)
    capture = str(demo_capture())
    kalshi = subprocess.Popen(
        [*HADRON, "fake-venue", "kalshi", "--capture", capture, "--port", str(_port()), "--public-key",
         str(tmp_path / "key.pub"), "--loop", "--speed", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    processes.append(kalshi)
    kalshi_url = _started(kalshi, r"venue: (ws://\S+)")
    poly = subprocess.Popen(
        [*HADRON, "fake-venue", "polymarket", "--capture", capture, "--port", str(_port()), "--rest-port", str(_port()),
         "--loop", "--speed", "2", "--shift", "-6"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    processes.append(poly)
    found = _started(poly, r"venue: (ws://\S+\s+REST \S+)")
    poly_ws, poly_rest = found.split()[0], found.split()[-1]
    (tmp_path / "pairs.toml").write_text(pairs_toml([DEMO_MARKET]))
    port = _port()
    (tmp_path / "hadron.toml").write_text(
        f"""[kalshi]
env = "demo"
api_key_id = "test-key-id"
private_key_path = "{tmp_path / "key.pem"}"
ws_url = "{kalshi_url}"

[polymarket]
ws_url = "{poly_ws}"
rest_url = "{poly_rest}"
gamma_url = ""

[runtime]
pairs = "{tmp_path / "pairs.toml"}"
state = "sqlite:///{tmp_path / "state.db"}"
record_dir = "{tmp_path / "recording"}"
dead_letter = "{tmp_path / "deadletter.ndjson"}"
port = {port}
settle_poll_s = 0

[paper]
latency_ms = 20
"""
    )
    check = subprocess.run([*HADRON, "config", "check", str(tmp_path / "hadron.toml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    runtime = subprocess.Popen([*HADRON, "run", "--config", str(tmp_path / "hadron.toml")], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=tmp_path)  # fmt: skip
    processes.append(runtime)
    url = _started(runtime, r"dashboard: (http://\S+)").rstrip("/")
    status: dict[str, object] = {}
    for _ in range(150):
        result = subprocess.run([*HADRON, "status", "--url", url], capture_output=True, text=True)
        if result.returncode == 0:
            status = json.loads(result.stdout)
            feeds = status["feeds"]
            if isinstance(feeds, dict) and len(feeds) == 2 and all(f["connected"] == 1 for f in feeds.values()):
                break
        time.sleep(0.2)
    assert status.get("state") == "running", status
    stop = subprocess.run([*HADRON, "stop", "--url", url], capture_output=True, text=True)
    assert stop.returncode == 0, stop.stderr
    out, _ = runtime.communicate(timeout=30)
    assert runtime.returncode == 0, out
    assert "stopped: stopped" in out
    assert sorted(p.name for p in (tmp_path / "recording").iterdir()) == [
        "config.json", "kalshi", "pairs.toml", "paper.toml", "polymarket",
    ]  # fmt: skip
    assert (tmp_path / "recording" / "pairs.toml").read_text() == (tmp_path / "pairs.toml").read_text()
    recorded_config = json.loads((tmp_path / "recording" / "config.json").read_text())
    assert recorded_config["kalshi"]["api_key_id"] == "…y-id"  # the key id cut to its last 4 characters
