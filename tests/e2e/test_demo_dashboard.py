"""The demo end to end, seen in a browser: `hadron demo` in its own process, the dashboard in
headless Chromium (Debian's package, driven by Playwright), what a trader reads on it checked
(chart axes, combined costs, timestamps, decimals, risk usage, full names on hover, the real
account the demo's script made, the market status), the kill switch clicked, /metrics parsed.

``HADRON_DASHBOARD_SCREENSHOT=docs/dashboard.png`` saves the running dashboard there (before the
kill switch is clicked).
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
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = os.environ.get("HADRON_DASHBOARD_SCREENSHOT")

# what the page shows: prices and $/contract edges USD with 4 decimals, money totals USD with 2
PRICE = r"-?\$\d+\.\d{4}"
MONEY = r"-?\$\d{1,3}(,\d{3})*\.\d{2}"
SIZE = r"\d{1,3}(,\d{3})*\.\d{2}"
CLOCK = r"\d{2}:\d{2}:\d{2}\.\d{3}"  # HH:MM:SS.mmm, UTC
PCT = r"\(\d+(\.\d)?%\)"

# every cell of the tables asked for, read in one go (the page re-renders twice a second)
CELLS = """(selector) => [...document.querySelectorAll(selector)].map(row =>
    Object.fromEntries([...row.querySelectorAll('td[class]')].flatMap(td =>
        td.className.split(' ').filter(Boolean).map(c => [c, td.innerText.trim()]))))"""

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
        _check_what_a_trader_reads(page, demo)
        _check_the_real_account_and_market_status(page, demo)
        if SCREENSHOT:  # for the docs: a few more seconds of data, several fills on the chart, the script played
            page.wait_for_function("() => document.querySelectorAll('#account-fills tr.account-fill').length >= 4",
                                   timeout=90_000)  # fmt: skip
            page.wait_for_function("() => parseInt(document.getElementById('fill-count')?.textContent || '0') >= 8",
                                   timeout=90_000)  # fmt: skip
            page.wait_for_timeout(1_000)
        running = tmp_path / "dashboard-running.png"
        page.screenshot(path=str(running), full_page=True)
        if SCREENSHOT:
            Path(SCREENSHOT).write_bytes(running.read_bytes())
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


def _check_what_a_trader_reads(page: Any, demo: str) -> None:
    """The equity chart's axes, each pair's combined cost, UTC timestamps, one decimal format per
    kind of figure, risk usage against each limit, and full names on hover."""
    # the equity chart: uPlot (served from /static), a UTC time axis, a USD axis, the legend under the plot
    assert page.evaluate("typeof uPlot") == "function"
    page.wait_for_function("() => parseInt(document.getElementById('equity')?.dataset.points || '0') >= 2",
                           timeout=90_000)  # fmt: skip
    page.wait_for_selector("#equity .uplot canvas")
    x_ticks = json.loads(page.get_attribute("#equity", "data-x-ticks") or "[]")
    y_ticks = json.loads(page.get_attribute("#equity", "data-y-ticks") or "[]")
    assert x_ticks and all(re.fullmatch(r"\d{2}:\d{2}:\d{2}", t) for t in x_ticks), x_ticks
    assert len(y_ticks) >= 2 and all(re.fullmatch(MONEY, t) for t in y_ticks), y_ticks
    legend = page.inner_text("#equity .u-legend")
    assert "time (UTC)" in legend and "net P&L" in legend
    assert re.search(CLOCK, legend) and re.search(MONEY, legend), legend  # the latest point, formatted
    plot, key = page.locator("#equity .u-wrap").bounding_box(), page.locator("#equity .u-legend").bounding_box()
    assert plot and key and key["y"] >= plot["y"] + plot["height"]  # nothing drawn in the plot crosses it
    # each pair's combined cost, both ways, at the best asks shown: the sum of its legs' asks
    rows = page.evaluate(CELLS, "#pairs tr.cross-row")
    assert len(rows) == 2, rows
    for row in rows:
        asks = re.findall(PRICE, row["legs"])
        assert re.fullmatch(PRICE, row["combined-cost"]), row
        assert len(asks) == 2 and _usd(asks[0]) + _usd(asks[1]) == _usd(row["combined-cost"]), row
        assert re.fullmatch(PRICE, row["gross-edge"]) and re.fullmatch(PRICE, row["net-edge"]), row
        assert _usd(row["gross-edge"]) == 1 - _usd(row["combined-cost"]), row
        assert re.fullmatch(PRICE, row["fees"]) and _usd(row["net-edge"]) <= _usd(row["gross-edge"]), row
    # books: prices with 4 decimals, sizes with 2
    for book_row in page.evaluate(
        "() => [...document.querySelectorAll('#pairs .book tbody tr')].map(r => [...r.cells].map(c => c.innerText))"
    ):
        size_bid, bid, ask, size_ask = book_row
        assert all(re.fullmatch(PRICE, v) for v in (bid, ask) if v), book_row
        assert all(re.fullmatch(SIZE, v) for v in (size_bid, size_ask) if v), book_row
    # opportunities: opened/closed in UTC, net $ with 2 decimals, $/contract with 4
    opportunities = page.evaluate(CELLS, "#opportunities tr.opp")
    assert opportunities
    for row in opportunities:
        assert re.fullmatch(CLOCK, row["opened"]) and re.fullmatch(CLOCK + "|–", row["closed"]), row
        assert re.fullmatch(MONEY, row["net"]) and re.fullmatch(MONEY, row["peak"]), row
        assert re.fullmatch(PRICE, row["edge"]), row
    # orders and fills: placed/done in UTC, average price with 4 decimals, fee with 2
    orders = page.evaluate(CELLS, "#orders tr.order")
    assert orders
    for row in orders:
        assert re.fullmatch(CLOCK, row["placed"]) and re.fullmatch(CLOCK + "|–", row["done"]), row
        assert re.fullmatch(PRICE + "|–", row["price"]) and re.fullmatch(MONEY, row["fee"]), row
    assert any(re.fullmatch(CLOCK, row["done"]) and re.fullmatch(PRICE, row["price"]) for row in orders)
    # the portfolio's money totals with 2 decimals
    for selector in ("#pnl", "#pnl-realized", "#pnl-locked", "#pnl-mtm"):
        assert re.fullmatch(MONEY, page.inner_text(selector)), selector
    # risk: used / limit (pct) and a bar for every limit the demo sets (demo.py's [risk])
    usage = {
        name: page.inner_text(f".risk-row[data-limit='{name}'] .usage")
        for name in ("max_notional_pair", "max_open_pairs", "daily_loss_limit", "max_data_age_ms")
    }
    assert re.fullmatch(rf"{MONEY} / \$300\.00 {PCT}", usage["max_notional_pair"]), usage
    assert re.fullmatch(rf"\d+ / 3 {PCT}", usage["max_open_pairs"]), usage
    assert re.fullmatch(rf"{MONEY} / \$250\.00 {PCT}", usage["daily_loss_limit"]), usage
    assert re.fullmatch(rf"[\d,]+ ms / 5,000 ms {PCT}", usage["max_data_age_ms"]), usage
    assert page.locator(".risk-row .meter").count() == 4
    # full names: every book's instrument and every order's in its title; the text is never cut
    snapshot = json.loads(_get(demo + "api/snapshot"))
    # the gold market's reference price (loopback Pyth Metal.XAU/USD) beside its pair, from the feed
    refs = [r for p in snapshot["pairs"] for r in p["references"]]
    assert refs and refs[0]["index"] == "Metal.XAU/USD" and refs[0]["value"] is not None, refs
    assert page.locator(".pair .reference-value").first.inner_text() not in ("", "–")
    instruments = {
        b["instrument"] for p in snapshot["pairs"] for b in (p["kalshi"], p["polymarket_yes"], p["polymarket_no"]) if b
    }
    names = page.evaluate(
        "() => [...document.querySelectorAll('#pairs .book h3 .name')].map(e => [e.title, e.textContent])"
    )
    assert {title for title, _ in names} == instruments
    assert all(title.split(":", 1)[1] == text for title, text in names), names
    for title, text in page.evaluate(
        "() => [...document.querySelectorAll('#orders .name, #opportunities .name')].map(e => [e.title, e.textContent])"
    ):
        assert title.endswith(text) and len(title) >= len(text) > 0
    assert re.search(r"^(kalshi|polymarket):", page.get_attribute("#orders td.instrument .name", "title") or "")
    text = page.inner_text("main")
    assert "…" not in text  # cut only by CSS (text-overflow), the whole name kept


def _check_the_real_account_and_market_status(page: Any, demo: str) -> None:
    """The demo's scripted account (hadron/app/demo.py demo_account_script) in the "Real account"
    panel: positions and open orders of both venues, each instrument's full name in its title; the
    demo market's status from the instrument registry beside its book."""
    page.wait_for_function(
        """() => ['kalshi', 'polymarket'].every(v =>
             [...document.querySelectorAll('#account-positions tr.account-position')].some(r => r.cells[0].innerText === v))
           && document.querySelectorAll('#account-orders tr.account-order').length >= 1""",
        timeout=60_000,
    )
    snapshot = json.loads(_get(demo + "api/snapshot"))
    account = snapshot["account"]
    for selector, rows in (("#account-positions tr.account-position", account["positions"]),
                           ("#account-orders tr.account-order", account["open_orders"])):  # fmt: skip
        shown = page.evaluate(
            f'() => [...document.querySelectorAll("{selector} td.instrument .name")].map(e => [e.title, e.textContent])'
        )
        assert shown, selector
        for title, text in shown:
            assert re.match(r"^(kalshi|polymarket):", title) and title.split(":", 1)[1] == text, (title, text)
        assert {title for title, _ in shown} <= {r["instrument"] for r in rows}, (shown, rows)
    # the page's decimals: money totals $x.xx, prices $0.xxxx, sizes x.xx; a pair's token named YES/NO
    cells = page.evaluate(
        """() => ({
          money: [...document.querySelectorAll('#account-positions tr.account-position td:nth-child(n+4):nth-child(-n+6)')].map(e => e.textContent),
          prices: [...document.querySelectorAll('#account-orders tr.account-order td:nth-child(5), #account-fills tr.account-fill td:nth-child(5)')].map(e => e.textContent),
          sizes: [...document.querySelectorAll('#account-positions tr.account-position td.position')].map(e => e.textContent),
          sides: [...document.querySelectorAll('#account-orders tr.account-order td:nth-child(4), #account-fills tr.account-fill td:nth-child(4)')].map(e => e.textContent),
        })"""
    )
    assert cells["money"] and all(re.fullmatch(r"-?\$[\d,]+\.\d{2}", t) for t in cells["money"]), cells
    assert cells["prices"] and all(re.fullmatch(r"\$\d\.\d{4}", t) for t in cells["prices"]), cells
    assert cells["sizes"] and all(re.fullmatch(r"-?[\d,]+\.\d{2}", t) for t in cells["sizes"]), cells
    assert all(re.fullmatch(r"(buy|sell) (YES|NO)", t) for t in cells["sides"]), cells
    kalshi = snapshot["pairs"][0]["kalshi"]["instrument"]
    status = page.locator(f"#pairs .book[data-instrument='{kalshi}'] .market-status")
    page.wait_for_function(
        f"() => document.querySelector(\"#pairs .book[data-instrument='{kalshi}'] .market-status\")?.textContent === 'open'",
        timeout=30_000,
    )
    assert status.inner_text() == "open" and status.get_attribute("data-status") == "open"
    assert snapshot["markets"].get(kalshi, {}).get("status") in (None, "open")


def _usd(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))
