"""The pairs file and its review: round trip, decisions recorded, only approved pairs traded."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from rich.console import Console

from hadron.errors import ConfigError
from hadron.match.pairs import Pair, approved_pairs, dumps_pairs, merge_pairs, read_pairs, review, write_pairs
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


# -- the file is a person's: a review or a new proposal changes only what it decides ----------

HAND_WRITTEN = """# Gold and MVP pairs: fee terms from the venues' schedules, reviewed weekly.
[thresholds]          # tuned on the August capture
min_edge = "0.01"
max_capital = "1000"

[[pair]]
id = "KXNBAMVP-26-NJOK~0xjokic"
kalshi_event = "KXNBAMVP-26"
kalshi_market = "KXNBAMVP-26-NJOK"
polymarket_event = "nba-mvp-2025-26"
polymarket_market = "0xjokic"
polymarket_yes_token = "111"
polymarket_no_token = "222"
relation = "identity"
confidence = 0.950
reasons = ["same player"]
warnings = []
status = "proposed"                           # proposed | approved | rejected
reviewed_by = ""
reviewed_at = ""
kalshi_fee_multiplier = "1"
polymarket_fee_rate = "0.04"   # Gamma feeSchedule.rate
polymarket_min_size = "5"
settles_at = "2026-08-11T01:30:00Z"

# written by hand: no review fields yet, no fee terms yet
[[pair]]
id = "KXNBAMVP-26-LDON~0xluka"
kalshi_event = "KXNBAMVP-26"
kalshi_market = "KXNBAMVP-26-LDON"
polymarket_event = "nba-mvp-2025-26"
polymarket_yes_token = "333"
relation = "identity"
confidence = 0.8
status = "proposed"

[[outcome_set]]   # neg-risk: every outcome listed
id = "fed-december"
tokens = ["1", "2", "3"]
polymarket_fee_rate = "0.04"
"""
JOKIC, LUKA = "KXNBAMVP-26-NJOK~0xjokic", "KXNBAMVP-26-LDON~0xluka"


def _reviewed(text: str, table: int, status: str, who: str, at: str, *, had_fields: bool) -> str:
    # ``text`` with the ``table``-th [[pair]]'s review recorded, nothing else changed
    head, *tables = text.split("[[pair]]\n")
    body = tables[table]
    if had_fields:
        body = body.replace('status = "proposed"  ', f'status = "{status}"  ', 1)
        body = body.replace('reviewed_by = ""', f'reviewed_by = "{who}"', 1)
        body = body.replace('reviewed_at = ""', f'reviewed_at = "{at}"', 1)
    else:
        line = 'status = "proposed"\n'
        body = body.replace(line, f'status = "{status}"\nreviewed_by = "{who}"\nreviewed_at = "{at}"\n', 1)
    tables[table] = body
    return "[[pair]]\n".join([head, *tables])


def test_review_changes_only_the_decided_pairs_review_fields(tmp_path: Path) -> None:
    from hadron.arb.terms import load_arb_config
    from hadron.model.fees import MONEY_SCALE

    path = tmp_path / "pairs.toml"
    path.write_text(HAND_WRITTEN)
    decide(path, "carol", approve=[JOKIC], reject=[])
    at = read_pairs(path)[0].reviewed_at
    expected = _reviewed(HAND_WRITTEN, 0, "approved", "carol", at, had_fields=True)
    assert path.read_text() == expected  # byte for byte: comments, thresholds, fee terms, outcome set
    # the detector still sees the thresholds, the pair's fee terms and the outcome set
    config = load_arb_config(path)
    assert [p.id for p in config.pairs] == [JOKIC]
    assert config.thresholds.min_edge == MONEY_SCALE // 100 and config.thresholds.max_capital == 1000 * MONEY_SCALE
    assert config.terms[JOKIC].legs[1].fee.fee([(5000, 10 * 1_000_000)]) > 0  # not a fee of 0
    assert config.terms[JOKIC].legs[1].min_size == 5 * 1_000_000 and config.terms[JOKIC].settle_ns
    assert [s.id for s in config.outcome_sets] == ["fed-december"]
    # interactively: the hand-written pair gains its review fields, the rest stays
    out = io.StringIO()
    review_file(path, "dan", console=Console(file=out, width=200), stream=io.StringIO("r\n"))
    at2 = read_pairs(path)[1].reviewed_at
    assert path.read_text() == _reviewed(expected, 1, "rejected", "dan", at2, had_fields=False)
    assert "polymarket_fee_rate, kalshi_fee_multiplier: add to the pair" in " ".join(out.getvalue().split())


def test_approving_a_pair_without_fee_terms_warns_and_it_is_refused_when_loaded(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hadron.arb.terms import load_arb_config
    from hadron.cli import app

    path = tmp_path / "pairs.toml"
    path.write_text(HAND_WRITTEN)
    result = CliRunner().invoke(app, ["markets", "review", str(path), "--approve", LUKA, "--reviewer", "erin"])
    assert result.exit_code == 0, result.output
    assert "approved without polymarket_fee_rate, kalshi_fee_multiplier" in " ".join(result.output.split())
    with pytest.raises(ConfigError, match=f"pair {LUKA}: approved without polymarket_fee_rate and kalshi_fee_mult"):
        load_arb_config(path)


def test_match_out_merges_into_an_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import hadron.match.inputs
    import hadron.match.matcher
    from hadron.cli import app

    path = tmp_path / "pairs.toml"
    path.write_text(HAND_WRITTEN)
    decide(path, "carol", approve=[JOKIC], reject=[])
    before = path.read_text()
    old = read_pairs(path)
    proposal = [
        msgspec.structs.replace(old[0], confidence=0.5, status="proposed", reviewed_by="", reviewed_at=""),
        msgspec.structs.replace(old[1], confidence=0.9, warnings=["settlement sources differ"]),
        Pair(kalshi_event="KXNBAMVP-26", kalshi_market="KXNBAMVP-26-SGIL", polymarket_event="nba-mvp-2025-26",
             polymarket_market="0xsga", polymarket_yes_token="555", relation="identity", confidence=0.91),
    ]  # fmt: skip
    monkeypatch.setattr(hadron.match.inputs, "load_kalshi", lambda paths: [])
    monkeypatch.setattr(hadron.match.inputs, "load_polymarket", lambda paths: [])
    monkeypatch.setattr(hadron.match.matcher, "match", lambda k, p, min_confidence: proposal)
    (tmp_path / "k.json").write_text("[]")
    args = ["markets", "match", "--kalshi", str(tmp_path / "k.json"), "--polymarket", str(tmp_path / "k.json")]
    result = CliRunner().invoke(app, [*args, "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 new, 1 refreshed, 0 unchanged, 1 already reviewed kept" in " ".join(result.output.split())
    new_table = "".join(dumps_pairs([proposal[2]]).partition("[[pair]]")[1:])
    luka = before.split("[[pair]]\n")[2].split("\n[[outcome_set]]")[0]
    refreshed = luka.replace("confidence = 0.8\n", "confidence = 0.900\n").replace(
        'status = "proposed"\n', 'status = "proposed"\nwarnings = ["settlement sources differ"]\n'
    )
    # the approved pair untouched, the proposed one refreshed in place, the new one appended to the pairs
    assert path.read_text() == before.replace(luka, refreshed + "\n" + new_table)
    assert [p.id for p in read_pairs(path)] == [JOKIC, LUKA, proposal[2].id]
    # the same proposal again changes nothing
    assert merge_pairs(path, proposal)["unchanged"] == 2 and path.read_text().count("[[pair]]") == 3
