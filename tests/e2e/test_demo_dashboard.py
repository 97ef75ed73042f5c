"""The demo end to end, seen in a browser: `hadron demo` in its own process, the dashboard in
headless Chromium (Debian's package, driven by Playwright), the kill switch clicked, /metrics parsed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = os.environ.get("HADRON_DASHBOARD_SCREENSHOT")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """A running `hadron demo`; yields the dashboard URL; stops it with `hadron stop`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hadron", "demo", "--duration", "240", "--port", "0", "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    url = None
    deadline = time.monotonic() + 60
    lines: list[str] = []
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"open (http://\S+)", line)
        url = found.group(1) if found else None
    assert url, "the demo did not print its URL:\n" + "".join(lines)
    try:
        yield url
    finally:
        result = subprocess.run(
            [sys.executable, "-m", "hadron", "stop", "--url", url.rstrip("/")], capture_output=True, text=True
        )
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        lines.append(out)
        assert result.returncode == 0, result.stdout + result.stderr
        assert process.returncode == 0, "".join(lines)
        assert "demo stopped" in out


def test_dashboard_shows_the_system_working_and_the_kill_switch_blocks_orders(demo: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(demo)
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        # both venues' connections up
        page.wait_for_function(
            """() => ['kalshi', 'polymarket'].every(v =>
                 document.querySelector(`tr.conn[data-venue='${v}'][data-connected='true']`))""",
            timeout=30_000,
        )
        # books moving, an opportunity and a paper fill on screen
        page.wait_for_selector("tr.opp", timeout=90_000)
        page.wait_for_function("() => parseInt(document.getElementById('fill-count')?.textContent || '0') > 0",
                               timeout=90_000)  # fmt: skip
        assert page.locator("#pairs .book").count() == 3
        page.screenshot(path=str(tmp_path / "dashboard-running.png"), full_page=True)
        # the kill switch: engaged, working orders cancelled, new orders refused
        page.click("#kill-button")
        page.wait_for_selector("#kill-state[data-engaged='true']", timeout=10_000)
        status = json.loads(_get(demo + "api/paper/status"))
        assert status["kill_switch"]["engaged"] and status["orders_working"] == 0
        orders_at_kill = status["orders"]
        page.wait_for_function(
            "() => (document.getElementById('rejections')?.textContent || '').includes('kill_switch')", timeout=90_000
        )
        after = json.loads(_get(demo + "api/paper/status"))
        assert after["orders"] == orders_at_kill and after["rejections"]["kill_switch"] >= 1
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        if SCREENSHOT:
            Path(SCREENSHOT).write_bytes(shot.read_bytes())
        browser.close()
    assert shot.read_bytes().startswith(b"\x89PNG")
    # /metrics: Prometheus text that parses, with both feeds counted and the paper fills
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(_get(demo + "metrics").decode())}
    frames = {s.labels["venue"]: s.value for s in families["hadron_frames"].samples if s.name == "hadron_frames_total"}
    assert frames["kalshi"] > 0 and frames["polymarket"] > 0
    assert next(s.value for s in families["hadron_paper_fills"].samples) >= 1
    assert next(s.value for s in families["hadron_kill_switch"].samples) == 1
    latency = [s for s in families["hadron_frame_latency_seconds"].samples if s.name.endswith("_count")]
    assert latency and all(s.value > 0 for s in latency)
