"""Replay merges every input by receive time: separate recordings of two venues replay as one stream.

The shipped demo capture (real Kalshi frames) and its dislocated Polymarket copy are written as
one time-ordered Hadron recording, then split into one recording per venue (two folders, as two
``hadron record`` runs would leave them). Replaying the two folders together must give the same
opportunities and paper fills as replaying the single merged file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from hadron.app.demo import DEMO_MARKET, demo_capture
from hadron.app.replay import Replay
from hadron.cli import app
from hadron.model.events import MarketEvent
from hadron.venues.polymarket.fake_scenario import pairs_toml, write_pair_recording


def _split(merged: Path, out: Path) -> tuple[Path, Path]:
    kalshi, poly = out / "k" / "kalshi", out / "p" / "polymarket"
    kalshi.mkdir(parents=True)
    poly.mkdir(parents=True)
    with (kalshi / "k.ndjson").open("wb") as k, gzip.open(poly / "pm.ndjson.gz", "wb") as p:
        for line in merged.read_bytes().splitlines(keepends=True):
            (k if json.loads(line)["venue"] == "kalshi" else p).write(line)
    return out / "k", out / "p"


def _replay(tmp: Path, name: str, *paths: Path) -> tuple[list[dict[str, object]], list[dict[str, object]], dict]:
    pairs = tmp / "pairs.toml"
    opps, report, paper = tmp / f"{name}.opps.ndjson", tmp / f"{name}.json", tmp / f"{name}-paper"
    result = CliRunner().invoke(
        app,
        ["replay", *map(str, paths), "--seq-check", "monotonic", "--pairs", str(pairs), "--opportunities", str(opps), "--report", str(report),
         "--paper", "--paper-report", str(paper), "--seed", "3", "--dead-letter", str(tmp / f"{name}.dl.ndjson")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in opps.read_text().splitlines()]
    fills = [json.loads(line) for line in (paper / "fills.ndjson").read_text().splitlines()]
    return records, fills, json.loads(report.read_text())


def test_two_venues_recorded_apart_replay_as_one_stream(tmp_path: Path) -> None:
    merged = tmp_path / "merged.ndjson"
    write_pair_recording([demo_capture()], merged, shift=-600)
    thresholds = '[thresholds]\nmin_profit = "0.05"\nmax_capital = "300"\nmax_age_s = 10\n\n'
    (tmp_path / "pairs.toml").write_text(thresholds + pairs_toml([DEMO_MARKET], fee_rate="0.04"))
    k, p = _split(merged, tmp_path / "apart")

    one, one_fills, one_report = _replay(tmp_path, "merged", merged)
    apart, apart_fills, apart_report = _replay(tmp_path, "apart", k, p)

    assert len(one) > 20, "the 6¢ dislocation of the demo capture must produce opportunities"
    assert [o["id"] for o in apart] == [o["id"] for o in one]
    assert apart == one  # every figure: kind, size, net edge, opened/closed times
    assert len(one_fills) > 0
    assert apart_fills == one_fills
    assert apart_report["frames"] == one_report["frames"]
    assert apart_report["books_by_state"] == one_report["books_by_state"]
    assert [f["frames"] for f in apart_report["files"]] and sum(f["frames"] for f in apart_report["files"]) == (
        one_report["frames"]
    )
    # a folder holding both recordings (walked, sorted) gives the same as naming them
    both, _, _ = _replay(tmp_path, "folder", tmp_path / "apart")
    assert both == one


def _capture_line(recv_ms: int, seq: int, ticker: str) -> bytes:
    frame = {
        "type": "orderbook_delta",
        "sid": 1,
        "seq": seq,
        "msg": {"market_ticker": ticker, "price_dollars": "0.5000", "delta_fp": "1.00", "side": "yes"},
    }
    return msgspec.json.encode({"recv_ms": recv_ms, "event": frame}) + b"\n"


def _order(tmp_path: Path, files: dict[str, list[tuple[int, int]]], *names: str) -> list[tuple[str, int]]:
    for name, lines in files.items():
        (tmp_path / name).write_bytes(b"".join(_capture_line(ms, seq, f"T-{name[0].upper()}") for ms, seq in lines))
    events: list[MarketEvent] = []
    Replay(dead_letter=tmp_path / "dl.ndjson", on_event=events.append).run([tmp_path / n for n in names])
    return [(e.instrument, e.ts_recv // 1_000_000) for e in events]


def test_merge_interleaves_by_receive_time_keeping_each_file_in_order(tmp_path: Path) -> None:
    files = {
        "a.ndjson": [(100, 1), (300, 2), (250, 3), (500, 4)],  # 250 after 300: keeps its place, merged at 300
        "b.ndjson": [(200, 1), (300, 2), (400, 3)],
    }
    order = _order(tmp_path, files, "a.ndjson", "b.ndjson")
    assert [(i[-1], t) for i, t in order if True] == [
        ("A", 100), ("B", 200), ("A", 300), ("A", 250), ("B", 300), ("B", 400), ("A", 500),
    ]  # fmt: skip
    # ties go to the input named first: swapping the arguments moves B's 300 ahead of A's
    swapped = _order(tmp_path, files, "b.ndjson", "a.ndjson")
    assert [(i[-1], t) for i, t in swapped] == [
        ("A", 100), ("B", 200), ("B", 300), ("A", 300), ("A", 250), ("B", 400), ("A", 500),
    ]  # fmt: skip
    assert _order(tmp_path, files, "b.ndjson", "a.ndjson") == swapped  # deterministic


def test_rotated_files_of_one_connection_play_in_turn(tmp_path: Path) -> None:
    folder = tmp_path / "rec" / "kalshi"
    folder.mkdir(parents=True)
    frames = [_capture_line(1000 + i, i + 1, "T-R") for i in range(6)]

    def hadron_line(raw: bytes) -> bytes:
        cap = json.loads(raw)
        record = {"recv_ns": cap["recv_ms"] * 1_000_000, "venue": "kalshi", "conn": "kalshi-0.1",
                  "frame": json.dumps(cap["event"])}  # fmt: skip
        return json.dumps(record).encode() + b"\n"

    # the second rotation is named so it sorts first; its first receive time is later
    (folder / "kalshi-0.1.b.ndjson").write_bytes(b"".join(hadron_line(f) for f in frames[:3]))
    (folder / "kalshi-0.1.a.ndjson").write_bytes(b"".join(hadron_line(f) for f in frames[3:]))
    run = Replay(dead_letter=tmp_path / "dl.ndjson")
    run.run([tmp_path / "rec"])
    report = run.report()
    assert report["seq_gaps"] == 0 and report["frames"] == 6
    assert [Path(f["path"]).name for f in report["files"]] == ["kalshi-0.1.b.ndjson", "kalshi-0.1.a.ndjson"]
