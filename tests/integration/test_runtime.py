"""The live runtime against the loopback venues: lifecycle, control endpoint, token, config check."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hadron.app.demo import run_demo
from hadron.cli import app
from hadron.config import Secret, load_config
from hadron.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _check_metrics(text: str, pair: str) -> None:
    """The demo's /metrics follows the conventions docs/METRICS.md states (parsed, not grepped)."""
    import math
    import time

    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(text)}
    states: dict[tuple[str, str], dict[str, float]] = {}
    for s in families["hadron_book_state"].samples:
        states.setdefault((s.labels["venue"], s.labels["instrument"]), {})[s.labels["state"]] = s.value
    # the pair's three books, by venue, with short labels (no 77-digit token id), one state each
    assert set(states) == {("kalshi", pair), ("polymarket", f"{pair}/yes"), ("polymarket", f"{pair}/no")}
    assert all(sum(by_state.values()) == 1 for by_state in states.values())
    updated = [s.value for s in families["hadron_book_last_update_timestamp_seconds"].samples]
    assert updated and all(time.time() - 600 < value <= time.time() + 1 for value in updated)  # Unix seconds
    assert "hadron_book_live" not in families and "hadron_book_age_seconds" not in families
    edges = families.get("hadron_pair_best_net_edge_usd")
    for s in edges.samples if edges is not None else []:  # absent while a leg's book is not LIVE
        assert s.labels == {"pair": pair} and math.isfinite(s.value)
    (info,) = families["hadron_build_info"].samples
    assert info.labels["build"] in ("compiled", "pure", "partial") and info.value == 1
    assert "python_info" in families and "process_cpu_seconds" in families
    rejected = {s.labels["venue"] for s in families["hadron_frames_rejected"].samples}
    assert rejected == {"kalshi", "polymarket"}
    counters = [f for f in families.values() if f.type == "counter" and f.samples]
    assert counters and all(s.name.endswith(("_total", "_created")) for f in counters for s in f.samples)


def test_demo_runs_and_stops_through_the_control_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hadron.app.control import read_token_file, token_file

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    seen: dict[str, Any] = {}

    async def main() -> dict[str, Any]:
        ready = asyncio.Event()
        urls: list[str] = []

        def on_ready(url: str) -> None:
            urls.append(url)
            ready.set()

        demo = asyncio.create_task(
            run_demo(duration=120, port=0, speed=2.0, workdir=tmp_path, on_ready=on_ready, install_signals=False)
        )
        await asyncio.wait_for(ready.wait(), 60)
        base = urls[0].rstrip("/")
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(300):
                status = (await client.get("/api/status")).json()
                if status["paper"]["fills"] and all(f["connected"] for f in status["feeds"].values()):
                    break
                await asyncio.sleep(0.2)
            seen["status"] = status
            seen["snapshot"] = (await client.get("/api/snapshot")).json()
            seen["metrics"] = (await client.get("/metrics")).text
            openmetrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
            seen["openmetrics"] = (openmetrics.headers["content-type"], openmetrics.text)
            seen["page"] = (await client.get("/")).text
            port = int(base.rpartition(":")[2])
            seen["token_file"] = token_file(port)
            token = read_token_file(port)
            assert token and stat.S_IMODE(seen["token_file"].stat().st_mode) == 0o600
            assert (await client.post("/api/stop", json={})).status_code == 401  # no token
            stopped = await client.post("/api/stop", json={}, headers={"Authorization": f"Bearer {token}"})
            assert stopped.json() == {"state": "stopping"}
        return await asyncio.wait_for(demo, 60)

    final = asyncio.run(main())
    status = seen["status"]
    assert status["state"] == "running" and status["paper"]["fills"] >= 1
    assert {v: f["connected"] for v, f in status["feeds"].items()} == {"kalshi": 1, "polymarket": 1}
    snapshot = seen["snapshot"]
    assert len(snapshot["pairs"]) == 1 and snapshot["pairs"][0]["kalshi"]["state"] == "live"
    assert snapshot["opportunities"]["opportunities"] >= 1
    assert "hadron_frames_total" in seen["metrics"] and "HADRON" in seen["page"]
    content_type, openmetrics = seen["openmetrics"]
    assert content_type.startswith("application/openmetrics-text")
    assert openmetrics.rstrip().endswith("# EOF") and "hadron_build_info" in openmetrics
    # P&L in parts, beside the net P&L: on the dashboard, in the status and in /metrics
    paper = snapshot["paper"]
    assert {"net_pnl", "realized_pnl", "locked_pnl", "mark_to_market_pnl"} <= set(paper)
    assert 'id="pnl-locked"' in seen["page"]
    for component in ("realized", "locked", "mark_to_market"):
        assert f'hadron_paper_pnl_component_usd{{component="{component}"}}' in seen["metrics"]
    _check_metrics(seen["metrics"], snapshot["pairs"][0]["id"])
    assert final["state"] == "stopped" and not final["errors"]
    assert not seen["token_file"].exists()  # removed at stop
    # the state store holds the run, marked stopped, with its orders and fills
    from hadron.store.state import open_state_store

    async def stored() -> tuple[Any, int, int]:
        async with await open_state_store(f"sqlite:///{tmp_path / 'state.db'}") as store:
            run = await store.get_run(final["run_id"])
            return run, len(await store.list_orders(final["run_id"])), len(await store.list_fills(final["run_id"]))

    run, orders, fills = asyncio.run(stored())
    assert run is not None and run.status == "stopped" and run.mode == "paper"
    assert orders >= 1 and fills >= 1
    # no secret reaches the files the run wrote
    key = (tmp_path / "demo-key.pem").read_text()
    body = key.split("-----")[2].strip().splitlines()[1]
    for path in tmp_path.rglob("*"):
        if path.name != "demo-key.pem" and path.is_file():
            data = path.read_bytes()
            assert body.encode() not in data and b"hadron-demo-key" not in data, path
    assert stat.S_IMODE((tmp_path / "demo-key.pem").stat().st_mode) == 0o600
    # nor any response of the dashboard: the key, its id
    responses = json.dumps([seen["status"], seen["snapshot"]]) + seen["metrics"] + seen["page"]
    assert body not in responses and "hadron-demo-key" not in responses


def test_a_server_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    from hadron.app.runtime import Runtime

    pairs = tmp_path / "pairs.toml"
    from hadron.venues.polymarket.fake_scenario import pairs_toml

    pairs.write_text(pairs_toml(["KXGOLD15M-26AUG102130-30"]))
    config = tmp_path / "hadron.toml"
    config.write_text(f'[runtime]\npairs = "{pairs}"\nhost = "0.0.0.0"\n')
    with pytest.raises(ConfigError, match="control_token"):
        Runtime(load_config(config, environ={}, dotenv=None))
    cfg = load_config(config, environ={"HADRON_CONTROL_TOKEN": "s3cret-token"}, dotenv=None)
    assert isinstance(cfg.runtime.control_token, Secret) and "s3cret" not in repr(cfg)
    Runtime(cfg)  # accepted with a token


def test_the_token_guards_every_route(tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from hadron.app.control import ControlGuard

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/metrics", hello)])
    guarded = ControlGuard(app, token="tok", port=80, allowed_hosts=["test"], token_for_reads=True)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=guarded)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [
                (await client.get("/metrics")).status_code,
                (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code,
                (await client.get("/metrics", headers={"Authorization": "Bearer tok"})).status_code,
                (await client.get("/metrics?token=tok")).status_code,
            ]

    assert asyncio.run(main()) == [401, 401, 200, 200]


def test_config_check_validates_the_example_and_masks_secrets(tmp_path: Path) -> None:
    from hadron.venues.polymarket.fake_scenario import pairs_toml

    (tmp_path / "pairs.toml").write_text(pairs_toml(["KXGOLD15M-26AUG102130-30"]))
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIsecretmaterial\n-----END PRIVATE KEY-----\n")
    key.chmod(0o644)
    text = (REPO / "hadron.example.toml").read_text()
    text = text.replace('pairs = "pairs.example.toml"', f'pairs = "{tmp_path / "pairs.toml"}"')
    text = text.replace('private_key_path = ""', f'private_key_path = "{key}"', 1)  # [kalshi]'s
    text = text.replace('control_token = ""', 'control_token = "tok-123456"')
    config = tmp_path / "hadron.toml"
    config.write_text(text)
    result = CliRunner().invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 0, result.output
    printed = result.output[: result.output.rindex("}") + 1]
    effective = json.loads(printed)
    assert effective["runtime"]["control_token"] == "Secret('**********')"
    assert "tok-123456" not in result.output and "MIIsecret" not in result.output
    assert "pairs: 1 approved" in result.output and "readable by group or others" in result.output
    config.write_text(text.replace('tif = "IOC"', 'tif = "GTC"'))
    result = CliRunner().invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 2 and "paper.tif" in result.output
    config.write_text(text + "\n[mystery]\nx = 1\n")
    result = CliRunner().invoke(app, ["config", "check", str(config)])
    assert result.exit_code == 2 and "mystery" in result.output


def test_short_soak_loses_no_frame_and_ends_where_an_offline_replay_ends(tmp_path: Path) -> None:
    from hadron.bench.soak import run_soak

    result = asyncio.run(run_soak(duration_s=15, speed=10.0, workdir=tmp_path, warmup_s=5, sample_s=1))
    assert result["lost"] == {"kalshi": 0, "polymarket": 0}
    assert all(n > 0 for n in result["recorded"].values())
    assert result["books_identical"] and result["books_compared"] == 3
    assert not result["errors"]


def test_held_markets_settle_from_rest_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hadron.app.runtime import Runtime
    from hadron.venues.base import get_venue
    from hadron.venues.polymarket.fake_scenario import pairs_toml, token_ids

    ticker = "KXGOLD15M-26AUG102130-30"
    _, yes, _no = token_ids(ticker)
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([ticker]))
    config = tmp_path / "hadron.toml"
    config.write_text(f'[runtime]\npairs = "{pairs}"\nport = 0\n')
    runtime = Runtime(load_config(config, environ={}, dotenv=None))
    trader = runtime.trader
    assert trader is not None
    portfolio = trader.portfolio
    portfolio.buy(portfolio.holding("kalshi", f"kalshi:{ticker}", "no", True), 10_000_000, 10_000_000 * 7000, 0)
    portfolio.buy(portfolio.holding("polymarket", f"polymarket:{yes}", "yes", False), 10_000_000, 10_000_000 * 2500, 0)
    asked: list[list[str]] = []

    async def results(tickers: list[str], **_: Any) -> dict[str, str]:
        asked.append(tickers)
        return {ticker: "yes"}

    monkeypatch.setattr(get_venue("kalshi"), "market_results", results, raising=False)
    settled = asyncio.run(runtime.settle_held())
    assert asked == [[ticker]] and settled == 3  # the market and both of its paired tokens
    assert portfolio.payouts == 10_000_000 * 10_000  # the Polymarket YES token paid, Kalshi NO did not
    assert all(h.settled for h in portfolio.holdings.values())


def test_demo_plays_its_account_script_on_both_private_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's built-in script reaches the real account: positions, open orders, a cancel, fills
    on both venues; the Polymarket credentials made for the run reach no response; the registry
    has the demo market's status."""
    import hadron.app.demo as demo_module

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    made: list[tuple[str, str, str]] = []
    original = demo_module._user_credentials

    def credentials() -> tuple[str, str, str]:
        made.append(original())
        return made[-1]

    monkeypatch.setattr(demo_module, "_user_credentials", credentials)
    seen: dict[str, Any] = {}

    async def main() -> dict[str, Any]:
        ready = asyncio.Event()
        urls: list[str] = []
        demo = asyncio.create_task(
            run_demo(
                duration=90,
                port=0,
                workdir=tmp_path,
                install_signals=False,
                on_ready=lambda url: (urls.append(url), ready.set()),
            )
        )
        await asyncio.wait_for(ready.wait(), 60)
        async with httpx.AsyncClient(base_url=urls[0].rstrip("/"), timeout=5) as client:
            for _ in range(200):  # the script's last step (a cancel) is at 18 s
                snapshot = (await client.get("/api/snapshot")).json()
                account = snapshot["account"]
                held = sorted(p["position"] for p in account["positions"])
                done = held == ["16.00", "60.00"] and len(account["open_orders"]) == 2 and len(account["fills"]) == 4
                if done and snapshot["markets"]:
                    break
                await asyncio.sleep(0.25)
            seen["snapshot"] = snapshot
            seen["status"] = (await client.get("/api/status")).json()
            seen["page"] = (await client.get("/")).text
        demo.cancel()
        await asyncio.gather(demo, return_exceptions=True)
        return snapshot

    snapshot = asyncio.run(main())
    pair = snapshot["pairs"][0]
    kalshi, yes_token = pair["kalshi"]["instrument"], pair["polymarket_yes"]["instrument"]
    account = snapshot["account"]
    positions = {(p["venue"], p["instrument"]): p for p in account["positions"]}
    # Kalshi: +20 YES, then 4 NO of a 10 NO order whose rest was canceled: +16; Polymarket: 50 + 10 shares
    assert positions[("kalshi", kalshi)]["position"] == "16.00" and not positions[("kalshi", kalshi)]["derived"]
    assert positions[("polymarket", yes_token)]["position"] == "60.00"
    orders = sorted((o["venue"], o["side"], o["price"], o["remaining"]) for o in account["open_orders"])
    assert orders == [("kalshi", "buy", "0.2500", "15.00"), ("polymarket", "sell", "0.3000", "20.00")], orders
    assert {f["venue"] for f in account["fills"]} == {"kalshi", "polymarket"} and len(account["fills"]) == 4
    assert snapshot["markets"][kalshi]["status"] == "open"
    assert len(made) == 1
    text = json.dumps([seen["snapshot"], seen["status"]]) + seen["page"]
    assert all(secret not in text for secret in made[0])
