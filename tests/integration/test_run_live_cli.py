"""`hadron run` in live execution as a user runs it: the loopback venues as exchanges in their own
processes (`hadron fake-venue kalshi|polymarket --exchange`), a hadron.toml with
`[execution] mode = "live"` (or "dry-run"), the keys from the environment, `hadron status` and
`hadron stop` (or SIGTERM), the run's `--report`, the state store's journal and the exchanges'
own accounts read back over their signed REST."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from hadron.app.demo import DEMO_MARKET, demo_capture
from hadron.venues.base import PairScenarioVenue, get_venue
from hadron.venues.kalshi.auth import KalshiSigner, generate_test_key
from hadron.venues.polymarket.signing import hmac_signature

HADRON = [sys.executable, "-m", "hadron"]
CASH = "1000"
KEY_ID = "loopback-key-id"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(
    args: list[str], log: Path, env: dict[str, str], processes: list[subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    # Output to a file, not a pipe: a long run's log never fills a pipe nobody reads
    with log.open("w") as out:
        process = subprocess.Popen([*HADRON, *args], stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    processes.append(process)
    return process


def _started(process: subprocess.Popen[str], log: Path, pattern: str) -> str:
    for _ in range(1200):
        found = re.search(pattern, log.read_text())
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {pattern!r} in {log.name}:\n{log.read_text()}")


class Exchanges:
    """Both loopback exchanges, started as a user starts them, and their accounts over REST."""

    def __init__(self, tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
        key, private_pem, public_pem = generate_test_key()
        self.private_pem = private_pem
        self.signer = KalshiSigner(KEY_ID, key)
        (tmp_path / "kalshi.pem").write_bytes(private_pem)
        (tmp_path / "kalshi.pem").chmod(0o600)
        (tmp_path / "kalshi.pub").write_bytes(public_pem)
        self.creds = (
            str(uuid.uuid4()),
            base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            secrets.token_hex(32),
        )
        self.wallet = "0x" + secrets.token_hex(32)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "POLYMARKET_", "HADRON_"))}
        self.env = {
            **base,
            "POLYMARKET_API_KEY": self.creds[0],
            "POLYMARKET_API_SECRET": self.creds[1],
            "POLYMARKET_API_PASSPHRASE": self.creds[2],
            "POLYMARKET_PRIVATE_KEY": self.wallet,
        }
        capture = str(demo_capture())
        kalshi = _start(
            ["fake-venue", "kalshi", "--capture", capture, "--port", str(_port()), "--rest-port", str(_port()),
             "--public-key", str(tmp_path / "kalshi.pub"), "--loop", "--speed", "2",
             "--exchange", "--cash", CASH, "--latency-ms", "20", "--max-orders-per-s", "50"],
            tmp_path / "kalshi.log", self.env, processes,
        )  # fmt: skip
        found = _started(kalshi, tmp_path / "kalshi.log", r"venue: (ws://\S+\s+REST \S+)")
        self.kalshi_ws, self.kalshi_rest = found.split()[0], found.split()[-1]
        poly = _start(
            ["fake-venue", "polymarket", "--capture", capture, "--port", str(_port()), "--rest-port", str(_port()),
             "--loop", "--speed", "2", "--shift", "-6",
             "--exchange", "--cash", CASH, "--latency-ms", "60", "--max-orders-per-s", "50"],
            tmp_path / "polymarket.log", self.env, processes,
        )  # fmt: skip
        found = _started(poly, tmp_path / "polymarket.log", r"venue: (ws://\S+\s+REST \S+)")
        self.poly_ws, self.poly_rest = found.split()[0], found.split()[-1]

    def config(self, tmp_path: Path, mode: str, port: int) -> Path:
        """hadron.toml for the two exchanges, ``[execution] mode = mode``; the pairs file beside it."""
        polymarket = get_venue("polymarket")
        assert isinstance(polymarket, PairScenarioVenue)
        (tmp_path / "pairs.toml").write_text(polymarket.pairs_for([DEMO_MARKET], fee_rate="0.04"))
        path = tmp_path / "hadron.toml"
        path.write_text(
            f"""[kalshi]
env = "demo"
api_key_id = "{KEY_ID}"
private_key_path = "{tmp_path / "kalshi.pem"}"
ws_url = "{self.kalshi_ws}"
rest_url = "{self.kalshi_rest}"

[polymarket]
ws_url = "{self.poly_ws}"
user_ws_url = "{self.poly_ws.replace("/ws/market", "/ws/user")}"
rest_url = "{self.poly_rest}"
gamma_url = ""

[runtime]
pairs = "{tmp_path / "pairs.toml"}"
state = "sqlite:///{tmp_path / "state.db"}"
dead_letter = "{tmp_path / "deadletter.ndjson"}"
port = {port}
settle_poll_s = 0

[paper]
latency_ms = 20

[thresholds]
min_profit = "0.05"
max_capital = "300"
max_age_s = 10

[risk]
max_notional_pair = "300"
max_open_pairs = 3
daily_loss_limit = "250"
max_data_age_ms = 5000

[execution]
mode = "{mode}"
max_order_notional = "100"
max_orders_per_s = 20
fill_timeout_s = 3
"""
        )
        return path

    def kalshi(self, path: str) -> Any:
        """GET a Kalshi portfolio route (``/portfolio/...``), RSA-PSS signed with the account's key."""
        root = httpx.URL(self.kalshi_rest)
        headers = self.signer.headers("GET", root.path + path)
        answer = httpx.get(self.kalshi_rest + path, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def polymarket(self, path: str, **params: str) -> Any:
        """GET a CLOB route of the Polymarket account, with the L2 headers."""
        key, secret, passphrase = self.creds
        stamp = str(int(time.time()))
        headers = {"POLY_API_KEY": key, "POLY_PASSPHRASE": passphrase, "POLY_TIMESTAMP": stamp,
                   "POLY_SIGNATURE": hmac_signature(secret, stamp, "GET", path, "")}  # fmt: skip
        answer = httpx.get(self.poly_rest + path, headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


def _execution_status(url: str, runtime: subprocess.Popen[str], log: Path, done: str) -> dict[str, Any]:
    # Poll `hadron status` until the run's execution section has ``done`` > 0 (the run still up)
    status: dict[str, Any] = {}
    for _ in range(900):
        assert runtime.poll() is None, log.read_text()
        result = subprocess.run([*HADRON, "status", "--url", url], capture_output=True, text=True)
        if result.returncode == 0:
            status = json.loads(result.stdout)
            execution = status.get("execution") or {}
            if execution.get(done, 0) > 0:
                return status
        time.sleep(0.2)
    raise AssertionError(f"no {done} in the run's status: {status.get('execution')}\n{log.read_text()}")


def test_live_needs_the_confirmation_then_trades_the_loopback_exchanges(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    venues = Exchanges(tmp_path, processes)
    port = _port()
    config = venues.config(tmp_path, "live", port)
    check = subprocess.run([*HADRON, "config", "check", str(config)], capture_output=True, text=True, env=venues.env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert 'execution.mode = "live" sends real orders: hadron run needs HADRON_LIVE=1' in check.stdout + check.stderr

    # a. without HADRON_LIVE=1 the run refuses to start, naming the switch
    refused = subprocess.run(
        [*HADRON, "run", "--config", str(config)], capture_output=True, text=True, env=venues.env, cwd=tmp_path
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "HADRON_LIVE=1" in refused.stderr
    assert not (tmp_path / "state.db").exists() or _journal(tmp_path)[0] == []
    # ... and a live mode without the trader (runtime.paper = false) is refused, not silently idle
    no_trader = tmp_path / "no-trader.toml"
    no_trader.write_text(config.read_text().replace("settle_poll_s = 0\n", "settle_poll_s = 0\npaper = false\n"))
    idle = subprocess.run(
        [*HADRON, "run", "--config", str(no_trader)],
        capture_output=True, text=True, env={**venues.env, "HADRON_LIVE": "1"}, cwd=tmp_path,
    )  # fmt: skip
    assert idle.returncode == 2, idle.stdout + idle.stderr
    assert "runtime.paper = false" in idle.stderr

    # b. with it, orders go to the exchanges and fill; `hadron stop` cancels and reconciles
    log = tmp_path / "run.log"
    runtime = _start(
        ["run", "--config", str(config), "--report", str(tmp_path / "report.json")],
        log, {**venues.env, "HADRON_LIVE": "1"}, processes,
    )  # fmt: skip
    url = _started(runtime, log, r"dashboard: (http://\S+)").rstrip("/")
    status = _execution_status(url, runtime, log, "fills")
    assert status["execution"]["mode"] == "live"
    stop = subprocess.run([*HADRON, "stop", "--url", url], capture_output=True, text=True)
    assert stop.returncode == 0, stop.stderr
    assert runtime.wait(timeout=60) == 0, log.read_text()
    assert "stopped: stopped; errors: none" in log.read_text()

    report = json.loads((tmp_path / "report.json").read_text())
    execution = report["execution"]
    assert execution["mode"] == "live"
    assert execution["accepted"] > 0 and execution["fills"] > 0
    assert execution["halted"] is None and execution["alerts"] == []
    assert execution["reconciliation"]["positions_reconciled"] is True
    assert set(execution["reconciliation"]["last"]) == {"kalshi", "polymarket"}
    assert execution["shutdown"]["still_resting"] == []

    # the journal (state store) holds every order ended and every fill, as the exchanges do
    orders, fills = _journal(tmp_path)
    assert orders and all(state in ("filled", "cancelled", "rejected", "expired") for _, state in orders)
    assert {venue for venue, _ in orders} == {"kalshi", "polymarket"}
    kalshi_fills = venues.kalshi("/portfolio/fills?limit=1000")["fills"]
    poly_trades = venues.polymarket("/data/trades")["data"]
    assert sorted(f["fill_id"] for f in kalshi_fills) == sorted(fid for v, fid in fills if v == "kalshi")
    assert sorted(t["id"] for t in poly_trades) == sorted(fid for v, fid in fills if v == "polymarket")
    assert venues.kalshi("/portfolio/orders?status=resting")["orders"] == []
    assert venues.polymarket("/data/orders")["data"] == []
    last = execution["reconciliation"]["last"]
    for venue in ("kalshi", "polymarket"):
        positions = last[venue]["positions"]
        assert positions and all(p["expected"] == p["venue"] for p in positions.values())


def _journal(tmp_path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    # (venue, state) of every journalled order, (venue, fill id) of every journalled fill
    with sqlite3.connect(tmp_path / "state.db") as db:
        orders = db.execute("SELECT venue, state FROM exec_orders").fetchall()
        fills = db.execute("SELECT venue, fill_id FROM exec_fills").fetchall()
    db.close()
    return [(v, s) for v, s in orders], [(v, f) for v, f in fills]


def test_dry_run_signs_and_logs_masked_requests_and_sends_nothing(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    venues = Exchanges(tmp_path, processes)
    config = venues.config(tmp_path, "dry-run", _port())
    log = tmp_path / "run.log"
    runtime = _start(["run", "--config", str(config), "--report", str(tmp_path / "report.json")], log, venues.env,
                     processes)  # fmt: skip
    url = _started(runtime, log, r"dashboard: (http://\S+)").rstrip("/")
    _execution_status(url, runtime, log, "dry_run_requests")
    runtime.send_signal(signal.SIGTERM)
    assert runtime.wait(timeout=60) == 0, log.read_text()

    execution = json.loads((tmp_path / "report.json").read_text())["execution"]
    assert execution["mode"] == "dry-run"
    assert execution["dry_run_requests"] > 0 and execution["accepted"] == 0 and execution["fills"] == 0
    assert set(execution["rejected"]) == {"dry_run"}

    # nothing reached either exchange: no order, no fill, the cash untouched
    assert venues.kalshi("/portfolio/orders?limit=1000")["orders"] == []
    assert venues.kalshi("/portfolio/fills?limit=1000")["fills"] == []
    assert venues.kalshi("/portfolio/balance")["balance"] == int(CASH) * 100
    assert venues.polymarket("/data/orders")["data"] == []
    assert venues.polymarket("/data/trades")["data"] == []
    collateral = venues.polymarket("/balance-allowance", asset_type="COLLATERAL")
    assert collateral["balance"] == str(int(CASH) * 10**6)

    # the signed requests are in the log, every secret and signature masked
    text = log.read_text()
    kalshi_lines = [line for line in text.splitlines() if "kalshi dry-run request" in line]
    poly_lines = [line for line in text.splitlines() if "polymarket dry-run request" in line]
    assert kalshi_lines and poly_lines, text
    for line in kalshi_lines:
        assert "/portfolio/orders" in line and "'KALSHI-ACCESS-SIGNATURE': '***'" in line
    for line in poly_lines:
        assert "'POLY_SIGNATURE': '***'" in line and "'POLY_PASSPHRASE': '***'" in line
        assert "'signature': '***'" in line and "'POLY_API_KEY': '***'" in line
    signatures = re.findall(r"'(?:KALSHI-ACCESS-SIGNATURE|POLY_SIGNATURE|signature)': '([^']*)'", text)
    assert signatures and set(signatures) == {"***"}
    pem_body = [line for line in venues.private_pem.decode().splitlines() if "-----" not in line]
    secrets_given = [*venues.creds, venues.wallet, venues.wallet.removeprefix("0x"), *pem_body]
    for secret in secrets_given:
        assert secret not in text


def test_an_exchange_missing_what_it_needs_is_a_one_line_error(tmp_path: Path) -> None:
    capture = str(demo_capture())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLYMARKET_", "HADRON_"))}
    creds = {"POLYMARKET_API_KEY": "k", "POLYMARKET_API_SECRET": "c2VjcmV0", "POLYMARKET_API_PASSPHRASE": "p"}
    cases = [
        (["polymarket", "--port", str(_port())], creds, "--exchange takes orders on REST: give --rest-port"),
        (["polymarket", "--port", str(_port()), "--rest-port", str(_port())], {}, "set POLYMARKET_API_KEY"),
        (["kalshi", "--port", str(_port()), "--cash", "-5"], {}, "--cash '-5': expected a USD amount"),
        (["kalshi", "--port", str(_port()), "--cash", "ten"], {}, "--cash 'ten': expected a USD amount"),
    ]
    for args, extra, message in cases:
        result = subprocess.run(
            [*HADRON, "fake-venue", args[0], "--capture", capture, *args[1:], "--exchange"],
            capture_output=True, text=True, env={**env, **extra}, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 2, result.stdout + result.stderr
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
