"""``hadron demo`` leaves no temporary folder behind: its ``$TMPDIR/hadron-demo-*`` folder (a
throwaway private key, created 0600, the pairs file, the state store) is removed however the demo
ends (its duration, SIGINT, SIGTERM, while starting, an error); a ``--workdir`` is the user's and
stays, and nothing the demo prints at the end points into a removed folder."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

HADRON = [sys.executable, "-m", "hadron"]


def _env(tmp: Path) -> dict[str, str]:
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp)}


def _left(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("hadron-demo-*"))


def _wait_for(predicate: Callable[[], object], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_the_demo_removes_its_temporary_folder_at_the_end(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    result = subprocess.run(
        [*HADRON, "demo", "--duration", "3", "--port", "0", "--speed", "4"],
        capture_output=True, text=True, timeout=120, env=_env(tmp),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert _left(tmp) == []
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("demo stopped: ") and "temporary files are removed" in last
    assert str(tmp) not in last  # no path into the removed folder


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_running_removes_the_folder_and_the_key_was_private(tmp_path: Path, sig: int) -> None:
    tmp = tmp_path / "tmp"
    process = subprocess.Popen(
        [*HADRON, "demo", "--port", "0", "--speed", "4"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=_env(tmp),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "Hadron demo running" in line, line + process.stdout.read()
        (folder,) = tmp.glob("hadron-demo-*")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "demo-key.pem").stat().st_mode) == 0o600
        process.send_signal(sig)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "temporary files are removed" in output and "Traceback" not in output
    assert _left(tmp) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_starting_removes_the_folder(tmp_path: Path, sig: int) -> None:
    tmp = tmp_path / "tmp"
    process = subprocess.Popen(
        [*HADRON, "demo", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(tmp)
    )
    try:
        _wait_for(lambda: _left(tmp))  # the folder exists: the demo is starting
        process.send_signal(sig)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # interrupted while starting (130), or just after it had started (0): either way, clean
    assert process.returncode in (0, 130), output
    assert "Traceback" not in output
    assert _left(tmp) == []


def test_an_error_removes_the_folder_and_a_workdir_stays(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    result = subprocess.run(
        [*HADRON, "demo", "--duration", "3", "--port", "0", "--record", str(blocker / "rec")],
        capture_output=True, text=True, timeout=120, env=_env(tmp),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "runtime.record_dir" in result.stderr and "Traceback" not in result.stderr
    assert _left(tmp) == []

    workdir = tmp_path / "kept"
    result = subprocess.run(
        [*HADRON, "demo", "--duration", "2", "--port", "0", "--speed", "4", "--workdir", str(workdir)],
        capture_output=True, text=True, timeout=120, env=_env(tmp),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"files in {workdir}" in result.stdout
    assert {"demo-key.pem", "pairs.toml", "state.db"} <= {p.name for p in workdir.iterdir()}
    assert stat.S_IMODE((workdir / "demo-key.pem").stat().st_mode) == 0o600
    assert _left(tmp) == []
