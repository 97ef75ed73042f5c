"""Fuzzing every decoder and normalizer through the streams: bad frames never escape as exceptions,
each is counted and dead-lettered byte for byte, and the stream keeps going (a real frame after
them still lands in the book)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadron.book.manager import BookManager
from hadron.venues.base import FeedStats, SeqMode, get_venue
from tests.conftest import FIXTURES

with gzip.open(FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz", "rt") as capture:
    KALSHI_LINES = [json.loads(line) for line in capture]
KALSHI_FRAMES = [line["event"] for line in KALSHI_LINES]
POLY_FRAMES: list[Any] = json.loads(
    (FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json").read_text()
)
POLY_SAMPLES = [json.loads(p.read_text()) for p in sorted((FIXTURES / "polymarket").glob("ws_market_*_msg.json"))]

COUNTS = {"kalshi": 0, "polymarket": 0}


class Letters:
    def __init__(self) -> None:
        self.kept: list[bytes] = []

    def write(self, raw: bytes, error: str, conn: str) -> None:
        assert error  # every rejection names its reason
        self.kept.append(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _mutate(frame: Any, data: st.DataObject) -> Any:
    # Replace, drop or add one field somewhere in a real frame
    if isinstance(frame, dict) and frame:
        key = data.draw(st.sampled_from(sorted(frame)))
        action = data.draw(st.sampled_from(["replace", "drop", "recurse", "add"]))
        out = dict(frame)
        if action == "replace":
            out[key] = data.draw(json_values)
        elif action == "drop":
            del out[key]
        elif action == "add":
            out[data.draw(st.text(max_size=6))] = data.draw(json_values)
        else:
            out[key] = _mutate(out[key], data)
        return out
    if isinstance(frame, list) and frame:
        index = data.draw(st.integers(0, len(frame) - 1))
        out_list = list(frame)
        out_list[index] = _mutate(out_list[index], data)
        return out_list
    return data.draw(json_values)


def _frame(data: st.DataObject, real: list[Any]) -> bytes:
    kind = data.draw(st.sampled_from(["bytes", "json", "mutated", "truncated"]))
    if kind == "bytes":
        return data.draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(data.draw(json_values)).encode()
    original = json.dumps(data.draw(st.sampled_from(real))).encode()
    if kind == "truncated":
        return original[: data.draw(st.integers(0, max(0, len(original) - 1)))]
    return json.dumps(_mutate(json.loads(original), data)).encode()


def _run(venue: str, frames: list[bytes], closing: list[bytes]) -> tuple[FeedStats, Letters, BookManager]:
    books = BookManager()
    stats = FeedStats()
    letters = Letters()
    stream = get_venue(venue).open_stream(books, "fuzz", stats=stats, dead_letter=letters, seq_mode=SeqMode.MONOTONIC)
    for n, frame in enumerate(frames):
        stream.on_frame(frame, 1_786_410_900_000_000_000 + n)  # must never raise
    for frame in closing:
        stream.on_frame(frame, 1_786_410_999_000_000_000)
    return stats, letters, books


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_kalshi_stream_survives_anything(data: st.DataObject) -> None:
    frames = [_frame(data, KALSHI_FRAMES) for _ in range(data.draw(st.integers(1, 8)))]
    snapshot = next(f for f in KALSHI_FRAMES if f["type"] == "orderbook_snapshot")
    closing = [json.dumps({**snapshot, "sid": 99, "seq": 1}).encode()]
    stats, letters, books = _run("kalshi", frames, closing)
    COUNTS["kalshi"] += len(frames)
    assert stats.decode_errors == len(letters.kept)
    assert all(raw in frames for raw in letters.kept)  # kept byte for byte
    book = books.get("kalshi:" + snapshot["msg"]["market_ticker"])
    assert book is not None and book.ever_live  # the stream still works after the garbage


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_polymarket_stream_survives_anything(data: st.DataObject) -> None:
    real = [*POLY_FRAMES, *POLY_SAMPLES]
    frames = [_frame(data, real) for _ in range(data.draw(st.integers(1, 8)))]
    book = next(f for f in real if isinstance(f, dict) and f.get("event_type") == "book")
    closing = [json.dumps({**book, "timestamp": "9999999999999"}).encode()]
    stats, letters, books = _run("polymarket", frames, closing)
    COUNTS["polymarket"] += len(frames)
    assert stats.decode_errors == len(letters.kept)
    # kept byte for byte: the frame, or the array element that failed, exactly as it came
    assert all(any(raw in frame for frame in frames) for raw in letters.kept)
    assert books.get("polymarket:" + book["asset_id"]) is not None


def test_capture_lines_survive_garbage(tmp_path: Path) -> None:
    books = BookManager()
    letters = Letters()
    stats = FeedStats()
    stream = get_venue("kalshi").open_stream(books, "cap", stats=stats, dead_letter=letters, seq_mode=SeqMode.MONOTONIC)
    for line in (b"", b"{", b'{"recv_ms": "x"}', b'{"recv_ms": 1, "event": 5}', b"\xff\xfe", b"[1,2]"):
        stream.on_capture_line(line)
    assert stats.decode_errors == len(letters.kept) == 6
