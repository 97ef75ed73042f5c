"""The pairs file and its review: round trip, decisions recorded, only approved pairs traded."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from hadron.errors import ConfigError
from hadron.match.pairs import Pair, approved_pairs, read_pairs, review, write_pairs
from hadron.match.review import decide, review_file

JOKIC_YES = "73768610008619570600930429495180540710817177537162503586781057110775077618432"


def pairs() -> list[Pair]:
    return [
        Pair(
            kalshi_event="KXNBAMVP-26",
            kalshi_market="KXNBAMVP-26-NJOK",
            polymarket_event="nba-mvp-2025-26",
            polymarket_market="0x" + "ab" * 32,
            polymarket_yes_token=JOKIC_YES,
            relation="identity",
            confidence=0.95,
            reasons=["same player: Nikola Jokić", "same season 2025-26"],
            warnings=['settlement: "announced by the NBA" vs "official NBA announcement"'],
        ),
        Pair(kalshi_event="KXSB-26", polymarket_event="super-bowl-2026", relation="overlap", confidence=0.61),
    ]


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "pairs.toml"
    write_pairs(path, pairs())
    assert read_pairs(path) == pairs()
    assert approved_pairs(path) == []  # nothing approved yet


def test_interactive_review_records_who_and_when_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "pairs.toml"
    write_pairs(path, pairs())
    out = io.StringIO()
    counts = review_file(path, "alice", console=Console(file=out, width=120), stream=io.StringIO("a\nr\n"))
    assert counts == {"approved": 1, "rejected": 1, "skipped": 0}
    first, second = read_pairs(path)
    assert (first.status, first.reviewed_by) == ("approved", "alice") and first.reviewed_at.endswith("Z")
    assert second.status == "rejected"
    assert "same player" in out.getvalue() and "warning" in out.getvalue()
    assert [p.id for p in approved_pairs(path)] == [first.id]
    # nothing left to review unless asked to revisit
    assert review_file(path, "bob", console=Console(file=io.StringIO()), stream=io.StringIO("")) == {
        "approved": 0,
        "rejected": 0,
        "skipped": 0,
    }


def test_only_market_level_identity_or_complement_pairs_are_tradeable(tmp_path: Path) -> None:
    path = tmp_path / "pairs.toml"
    write_pairs(path, pairs())
    decide(path, "ci", approve=[p.id for p in pairs()], reject=[])
    assert [p.kalshi_market for p in approved_pairs(path)] == ["KXNBAMVP-26-NJOK"]  # the event-level overlap is not


def test_bad_files_and_decisions_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "pairs.toml"
    path.write_text('[[pair]]\nkalshi_event = "E"\npolymarket_event = "s"\nrelation = "same"\nconfidence = 0.5\n')
    with pytest.raises(ConfigError, match="relation 'same'"):
        read_pairs(path)
    write_pairs(path, pairs())
    with pytest.raises(ConfigError, match="no pair with id nope"):
        decide(path, "ci", approve=["nope"], reject=[])
    with pytest.raises(ConfigError, match="reviewer"):
        review(pairs()[0], "approved", " ", now=datetime(2026, 11, 23, tzinfo=UTC))


def test_cli_review_scripted_and_interactive(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hadron.cli import app

    path = tmp_path / "pairs.toml"
    write_pairs(path, pairs())
    runner = CliRunner()
    first = pairs()[0].id
    result = runner.invoke(app, ["markets", "review", str(path), "--approve", first, "--reviewer", "carol"])
    assert result.exit_code == 0, result.output
    assert read_pairs(path)[0].reviewed_by == "carol"
    result = runner.invoke(app, ["markets", "review", str(path), "--reviewer", "dan"], input="r\n")
    assert result.exit_code == 0 and "[a]pprove" in result.output
    assert [p.status for p in read_pairs(path)] == ["approved", "rejected"]
    result = runner.invoke(app, ["markets", "review", str(path), "--reject", "missing-id"])
    assert result.exit_code == 2 and "no pair with id missing-id" in result.output
