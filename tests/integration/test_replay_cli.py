"""``hadron replay`` end to end: real fixture files in, report, books and dead letters out."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import msgspec
import zstandard
from typer.testing import CliRunner

from hadron.cli import app
from tests.conftest import FIXTURES

RECONNECT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
BURST = FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json"
REPORT_KEYS = {
    "frames",
    "frames_by_type",
    "decode_errors",
    "books",
    "snapshot_checks",
    "snapshot_mismatches",
    "snapshot_clears",
    "bbo_checks",
    "bbo_mismatches",
    "negative_levels",
    "crossed_books",
    "seq_gaps",
    "resyncs",
    "deltas_dropped",
    "elapsed_s",
    "frames_per_s",
}

runner = CliRunner()


def replay(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["replay", *map(str, args)])
    return result.exit_code, result.output


def test_kalshi_reconnect_file(tmp_path: Path) -> None:
    code, output = replay(RECONNECT, "--report", tmp_path / "r.json", "--dump-books", tmp_path / "b.json")
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report.keys() >= REPORT_KEYS
    assert report["frames"] == 344
    assert report["frames_by_type"] == {"orderbook_delta": 327, "orderbook_snapshot": 4, "trade": 13}
    assert (report["decode_errors"], report["snapshot_mismatches"], report["negative_levels"]) == (0, 0, 0)
    assert (report["resyncs"], report["seq_resets"], report["snapshot_clears"]) == (1, 2, 2)
    assert report["files"][0]["format"] == "capture" and report["files"][0]["compression"] == "gzip"
    books = json.loads((tmp_path / "b.json").read_text())
    assert books == {"kalshi:KXGOLD15M-26AUG102130-30": {"bids": [], "asks": []}}  # cleared at close
    assert "replayed 344 frames" in output


def test_polymarket_burst_final_book_equals_the_closing_snapshot(tmp_path: Path) -> None:
    code, output = replay(BURST, "--report", tmp_path / "r.json", "--dump-books", tmp_path / "b.json")
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["bbo_checks"], report["bbo_mismatches"]) == (49, 2)
    assert (report["snapshot_checks"], report["snapshot_mismatches"]) == (1, 0)
    closing = json.loads(BURST.read_text())[-1]
    dumped = json.loads((tmp_path / "b.json").read_text())
    assert list(dumped) == [f"polymarket:{closing['asset_id']}"]
    book = dumped[f"polymarket:{closing['asset_id']}"]

    def exact(levels: list[dict[str, str]], best_first_desc: bool) -> list[tuple[Decimal, Decimal]]:
        return sorted(((Decimal(x["price"]), Decimal(x["size"])) for x in levels), reverse=best_first_desc)

    assert [(Decimal(p), Decimal(s)) for p, s in book["bids"]] == exact(closing["bids"], True)
    assert [(Decimal(p), Decimal(s)) for p, s in book["asks"]] == exact(closing["asks"], False)
    assert book["bids"][0][0] == "0.2900" and book["asks"][0][0] == "0.3010"


BAD_LINES = [
    b'{"recv_ms":1,"event":{"type":"orderbook_delta","sid":1,"seq":5,"msg":{"market_ticker":"T"',  # truncated JSON
    b'{"recv_ms":2,"event":{"type":"teleport","sid":1,"seq":6,"msg":{}}}',  # unknown type
    b'{"recv_ms":3,"event":{"type":"orderbook_delta","sid":1,"seq":7,"msg":{"market_ticker":"T"}}}',  # missing fields
    b'{"recv_ms":"4","event":{"type":"trade","sid":2,"seq":1,"msg":{"market_ticker":"T","yes_price_dollars":"0.5","count_fp":"1"}}}',  # wrong type
    b'{"recv_ms":5,"event":{"type":"trade","sid":2,"seq":2,"msg":{"market_ticker":"T\xff","yes_price_dollars":"0.5","count_fp":"1"}}}',  # not UTF-8
]


def bad_capture(tmp_path: Path) -> Path:
    good = gzip.decompress(RECONNECT.read_bytes()).splitlines()
    lines = good[:50] + BAD_LINES + good[50:]
    path = tmp_path / "bad.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_bad_input_is_counted_and_dead_lettered_and_processing_continues(tmp_path: Path) -> None:
    path = bad_capture(tmp_path)
    code, output = replay(path, "--report", tmp_path / "out" / "r.json")
    assert code == 0, output
    report = json.loads((tmp_path / "out" / "r.json").read_text())
    assert report["decode_errors"] == len(BAD_LINES)
    assert report["frames"] == 344 + len(BAD_LINES)
    assert report["frames_by_type"]["orderbook_delta"] == 327  # every good frame still processed
    dead = tmp_path / "out" / "r.deadletter.ndjson"
    assert report["dead_letter"] == str(dead)
    records = [json.loads(line) for line in dead.read_bytes().splitlines()]
    assert len(records) == len(BAD_LINES)
    kept = [r["raw"].encode() if "raw" in r else __import__("base64").b64decode(r["raw_b64"]) for r in records]
    assert kept == BAD_LINES  # byte for byte, non-UTF-8 included
    assert all(r["error"] and r["source"] == str(path) for r in records)


def test_strict_fails_on_bad_input(tmp_path: Path) -> None:
    code, _ = replay(bad_capture(tmp_path), "--strict", "--dead-letter", tmp_path / "dl.ndjson")
    assert code == 1
    code, _ = replay(RECONNECT, "--strict", "--dead-letter", tmp_path / "dl2.ndjson")
    assert code == 0


def test_missing_path_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ndjson.gz"
    result = subprocess.run(
        [sys.executable, "-m", "hadron", "replay", str(missing)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"hadron: {missing}: no such file or folder"]


def test_unrecognised_file_named_directly_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    code, output = replay(path)
    assert code == 2
    assert "not a recognised recording" in output


def test_folder_walk_skips_files_that_are_not_recordings(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "kalshi").mkdir(parents=True)
    (folder / "kalshi" / "a.ndjson.gz").write_bytes(RECONNECT.read_bytes())
    (folder / "MANIFEST.csv").write_text("window,file\n")
    (folder / "polymarket.json").write_bytes(BURST.read_bytes())
    code, output = replay(folder, "--report", tmp_path / "r.json")
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["frames"] == 344 + 51
    assert report["files_skipped"] == [str(folder / "MANIFEST.csv")]
    assert set(report["venues"]) == {"kalshi", "polymarket"}


def test_hadron_recording_format_zstd_with_a_torn_last_line(tmp_path: Path) -> None:
    # Hadron's own format: one zstd NDJSON file per connection; the last write was cut short
    encoder = msgspec.json.Encoder()
    frames = [json.loads(line)["event"] for line in gzip.decompress(RECONNECT.read_bytes()).splitlines()]
    records = [
        encoder.encode({"recv_ns": 1_000 + i, "venue": "kalshi", "conn": "kalshi-1", "frame": json.dumps(f)})
        for i, f in enumerate(frames[:150])
    ]
    body = b"\n".join(records) + b"\n" + records[150 - 1][:40]  # torn tail
    path = tmp_path / "kalshi-1.ndjson.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(body))
    code, output = replay(path, "--report", tmp_path / "r.json", "--seq-check", "strict")
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["files"][0]["format"] == "hadron" and report["files"][0]["compression"] == "zstd"
    assert report["files"][0]["torn_tail"] is True
    assert report["decode_errors"] == 1
    # the excerpt's first 150 frames are one market's extract of a shared sid: strict mode sees gaps
    assert report["seq_gaps"] > 0 and report["snapshots"] == 1


def test_polymarket_ndjson_wrapped_like_the_kalshi_capture(tmp_path: Path) -> None:
    frames = json.loads(BURST.read_text())
    path = tmp_path / "pm.ndjson"
    path.write_text(
        "".join(json.dumps({"recv_ms": 1790658661300 + i, "event": f}) + "\n" for i, f in enumerate(frames))
    )
    code, output = replay(path, "--report", tmp_path / "r.json")
    assert code == 0, output
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["frames"], report["bbo_checks"], report["bbo_mismatches"]) == (51, 49, 2)
    assert report["files"][0]["format"] == "capture" and report["files"][0]["venue"] == "polymarket"


def test_console_script_and_module_entry_point() -> None:
    result = subprocess.run([sys.executable, "-m", "hadron", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("hadron-markets ")
