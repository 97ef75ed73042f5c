"""`hadron run --role all --pairs`: the strategy process runs arbitrage on the books it keeps."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hadron.cli import app
from tests.integration.test_arb_replay import _write_inputs


def test_strategy_role_finds_the_same_opportunities_as_replay(tmp_path: Path) -> None:
    both, pairs = _write_inputs(tmp_path)
    runner = CliRunner()
    report = tmp_path / "run.json"
    result = runner.invoke(
        app,
        ["run", "--role", "all", "--source", str(both), "--pairs", str(pairs), "--seq-check", "monotonic",
         "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = json.loads(report.read_text())
    found = run["strategy"]["arbitrage"]["opportunities_found"]
    # the strategy's input is the ingest's events alone, never its own opportunities echoed by the bus
    assert list(run["strategy"]["sources"]) == [run["ingest"]["source"]], run["strategy"]["sources"]
    assert "opportunity" not in run["strategy"]["by_kind"]
    opps = tmp_path / "replay.ndjson"
    result = runner.invoke(
        app,
        ["replay", str(both), "--seq-check", "monotonic", "--pairs", str(pairs), "--opportunities", str(opps),
         "--dead-letter", str(tmp_path / "dl.ndjson")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    offline = [json.loads(line) for line in opps.read_text().splitlines()]
    assert [(o["kind"], o["size"], o["net_edge"]) for o in found] == [
        (o["kind"], o["size"], o["net_edge"]) for o in offline
    ]
    assert any(o["kind"] == "cross" for o in found)


def test_opportunities_reach_the_bus_and_the_state_store_as_they_change(tmp_path: Path) -> None:
    from hadron.app.roles import run_role
    from hadron.store.state import open_state_store

    both, pairs = _write_inputs(tmp_path)
    db = f"sqlite:///{tmp_path / 'state.db'}"

    async def main() -> tuple[dict[str, Any], list[Any]]:
        report = await run_role(
            "all", bus_url="memory://", paths=[both], pairs=pairs, state_url=db, seq_check="monotonic",
            dead_letter=tmp_path / "dl.ndjson",
        )  # fmt: skip
        run_id = report["strategy"]["arbitrage"]["state_run"]
        async with await open_state_store(db) as store:
            return report, await store.list_opportunities(run_id)

    report, stored = asyncio.run(main())
    arb = report["strategy"]["arbitrage"]
    found = arb["opportunities_found"]
    published = arb["published"]
    assert published["changes"] == published["published"] == published["stored"] > len(found) >= 2
    assert published["dropped"] == published["errors"] == 0
    assert len(stored) == len(found)
    assert sorted(o.state for o in stored) == sorted("closed" if o["closed_ns"] else "opened" for o in found) or all(
        o.state in ("closed", "opened", "updated") for o in stored
    )
    assert {o.size for o in stored} == {int(Decimal(o["size"]) * 1_000_000) for o in found}


def test_sink_publishes_every_change_in_order_on_the_bus(tmp_path: Path) -> None:
    from hadron.app.replay import Replay
    from hadron.arb.detector import ArbDetector
    from hadron.arb.persist import OpportunitySink
    from hadron.arb.terms import load_arb_config
    from hadron.bus.base import Envelope
    from hadron.bus.memory import InProcessBus
    from hadron.model.events import OpportunityUpdate

    both, pairs = _write_inputs(tmp_path)

    async def main() -> tuple[list[Envelope], OpportunitySink, ArbDetector]:
        bus = InProcessBus()
        got: list[Envelope] = []
        await bus.subscribe(got.append, subjects="*.opportunity.>")
        run = Replay(dead_letter=tmp_path / "dl.ndjson", seq_check="monotonic")
        detector = ArbDetector.from_config(run.books, load_arb_config(pairs))
        sink = OpportunitySink(bus=bus, source="strategy-test")
        detector.add_listener(sink.on_change)
        task = asyncio.create_task(sink.run())
        run.run([both])
        await sink.close()
        await task
        await bus.close()  # delivers what is queued first
        return got, sink, detector

    got, sink, detector = asyncio.run(main())
    assert [e.seq for e in got] == list(range(sink.stats.changes))
    updates = [e.event for e in got]
    assert all(isinstance(u, OpportunityUpdate) for u in updates)
    by_id: dict[str, list[str]] = {}
    for u in updates:
        assert isinstance(u, OpportunityUpdate)
        by_id.setdefault(u.id, []).append(u.change)
    assert sorted(by_id) == sorted(o.id for o in detector.results())
    for changes in by_id.values():
        assert changes[0] == "opened" and all(c == "updated" for c in changes[1:-1])
    closed = {o.id for o in detector.results() if o.closed_ns is not None}
    assert {i for i, c in by_id.items() if c[-1] == "closed"} == closed
