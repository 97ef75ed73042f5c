"""The control plane over real sockets: `hadron demo` in its own process, then what a hostile web page
could send it (cross-site POSTs, DNS rebinding, a foreign WebSocket), all refused, then the CLI
(`hadron status`, `hadron paper …`, `hadron stop`) with no token flag, from another folder."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

HADRON = [sys.executable, "-m", "hadron"]
ATTACKER = "http://attacker.example"


def _free(port: int = 0) -> int | None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return None
        found: int = probe.getsockname()[1]
        return found


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HADRON_CONTROL_TOKEN"}
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "xdg")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp_path / "tmp")  # where the demo makes its temporary working folder
    return env


@pytest.fixture
def start_demo(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> Callable[[int | None], str]:
    """Starts `hadron demo` on a port (``None``: a free one), its files in a temporary folder of
    its own; returns the dashboard URL."""

    def start(port: int | None = None) -> str:
        port = port or _free()
        if port is None or _free(port) is None:
            pytest.skip(f"port {port} is taken")
        process = subprocess.Popen(
            [*HADRON, "demo", "--duration", "180", "--port", str(port), "--speed", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(tmp_path), cwd=tmp_path,
        )  # fmt: skip
        processes.append(process)
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            found = re.search(r"open (http://\S+)", line)
            if found:
                return found.group(1).rstrip("/")
            if not line:
                break
        raise AssertionError("the demo did not print its URL")

    return start


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return subprocess.run([*HADRON, *args], capture_output=True, text=True, env=_env(tmp_path), cwd=elsewhere)


def _stopped(processes: list[subprocess.Popen[str]]) -> str:
    out, _ = processes[-1].communicate(timeout=60)
    assert processes[-1].returncode == 0, out
    assert "demo stopped" in out
    return out


def test_a_hostile_page_cannot_drive_the_runtime_and_the_cli_still_can(
    start_demo: Callable[[int | None], str], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    demo = start_demo(None)
    port = int(demo.rpartition(":")[2])
    token_file = tmp_path / "xdg" / "hadron" / f"{port}.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    token = token_file.read_text().strip()
    seen: dict[str, int] = {}
    with httpx.Client(base_url=demo, timeout=5) as client:
        # what a page of http://attacker.example can make a browser send (a "simple" request: no preflight)
        for path in ("/api/stop", "/api/paper/kill", "/api/paper/resume"):
            sent = client.post(path, content=b"{}", headers={"Origin": ATTACKER, "Content-Type": "text/plain"})
            seen[f"POST {path} Origin attacker, text/plain"] = sent.status_code
            sent = client.post(path, content=b'{"reason": "x"}', headers={"Content-Type": "text/plain"})
            seen[f"POST {path} no Origin, text/plain"] = sent.status_code
            sent = client.post(path, json={})
            seen[f"POST {path} JSON, no token"] = sent.status_code
            sent = client.post(path, json={}, headers={"Origin": ATTACKER, "Authorization": f"Bearer {token}"})
            seen[f"POST {path} the token, Origin attacker"] = sent.status_code
        # DNS rebinding: rebind.attacker.example resolved to 127.0.0.1, the browser sends its own name
        for path in ("/api/snapshot", "/api/status", "/", "/metrics"):
            sent = client.get(path, headers={"Host": f"rebind.attacker.example:{port}"})
            seen[f"GET {path} Host rebind"] = sent.status_code
        sent = client.post("/api/stop", json={}, headers={"Host": "rebind.attacker.example", "Authorization": "x"})
        seen["POST /api/stop Host rebind"] = sent.status_code
        page = client.get("/")
        status = client.get("/api/status").json()
    # the dashboard's WebSocket: another page's is refused, the dashboard's own (and a plain client's) accepted
    ws = demo.replace("http://", "ws://") + "/ws"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws, origin=Origin(ATTACKER), open_timeout=5).close()
    seen["WS Origin attacker"] = refused.value.response.status_code
    with connect(ws, origin=Origin(demo), open_timeout=5) as socket_:
        assert '"status"' in str(socket_.recv(timeout=5))
    assert seen == {
        **{f"POST {p} Origin attacker, text/plain": 403 for p in ("/api/stop", "/api/paper/kill", "/api/paper/resume")},
        **{f"POST {p} no Origin, text/plain": 401 for p in ("/api/stop", "/api/paper/kill", "/api/paper/resume")},
        **{f"POST {p} JSON, no token": 401 for p in ("/api/stop", "/api/paper/kill", "/api/paper/resume")},
        **{f"POST {p} the token, Origin attacker": 403 for p in ("/api/stop", "/api/paper/kill", "/api/paper/resume")},
        **{f"GET {p} Host rebind": 421 for p in ("/api/snapshot", "/api/status", "/", "/metrics")},
        "POST /api/stop Host rebind": 421,
        "WS Origin attacker": 403,
    }
    assert status["state"] == "running"  # nothing above stopped it
    # the page (allowed Host only) carries the token for its buttons, uncached and unframeable
    assert f'content="{token}"' in page.text and page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # the CLI: no --token, no HADRON_CONTROL_TOKEN, another working folder; the token file does it
    result = _cli(tmp_path, "status", "--url", demo)
    assert result.returncode == 0 and '"state": "running"' in result.stdout, result.stderr
    result = _cli(tmp_path, "paper", "kill", "--url", demo, "--reason", "drill")
    assert result.returncode == 0 and "HTTP: drill" in result.stdout, result.stderr
    result = _cli(tmp_path, "paper", "resume", "--url", demo)
    assert result.returncode == 0 and "kill switch released" in result.stdout, result.stderr
    result = _cli(tmp_path, "stop", "--url", demo, "--token", "wrong")  # --token overrides the file
    assert result.returncode == 1 and "401" in result.stderr and token not in result.stderr
    result = _cli(tmp_path, "stop", "--url", demo)
    assert result.returncode == 0 and "stopping" in result.stdout, result.stderr
    out = _stopped(processes)
    assert token not in out and token not in result.stdout + result.stderr
    assert not token_file.exists()  # removed at stop


def test_hadron_stop_with_no_flags_stops_the_demo(
    start_demo: Callable[[int | None], str], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    demo = start_demo(8765)  # the default port of hadron demo and of hadron stop
    assert demo == "http://127.0.0.1:8765"
    refused = httpx.post(demo + "/api/stop", content=b"{}", headers={"Origin": ATTACKER, "Content-Type": "text/plain"})
    assert refused.status_code == 403
    result = _cli(tmp_path, "stop")  # the demo's files are in a temporary folder: the token file is per user
    assert result.returncode == 0 and "stopping" in result.stdout, result.stderr
    _stopped(processes)
    assert not (tmp_path / "xdg" / "hadron" / "8765.token").exists()
    assert list((tmp_path / "tmp").iterdir()) == []  # its files were in a temporary folder, removed at the end
