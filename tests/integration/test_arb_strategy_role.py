"""`hadron run --role all --pairs`: the strategy process runs arbitrage on the books it keeps."""

from __future__ import annotations

import json
from pathlib import Path

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
    found = json.loads(report.read_text())["strategy"]["arbitrage"]["opportunities_found"]
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
