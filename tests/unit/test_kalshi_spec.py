"""Kalshi's own AsyncAPI spec: every server message example decodes into its venue-prefixed struct
and goes through a :class:`KalshiStream` without a decode error, counted by type, and either
normalized into a market event, handled as a command reply, or passed on as a venue-native event.

The spec is ``../shared/kalshi-specs/asyncapi_docs-kalshi-com_*.yaml`` beside the repo (skipped,
saying why, when absent); real frames of the same types come from ``../shared/data``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, get_args

import msgspec
import pytest

from hadron.book.manager import BookManager
from hadron.venues.base import FeedStats, SeqMode
from hadron.venues.kalshi.messages import (
    COMMUNICATIONS_MESSAGES,
    FRAME_DECODER,
    INDEX_MESSAGES,
    LIST_ANSWERS,
    PRIVATE_MESSAGES,
    KalshiMessage,
)
from hadron.venues.kalshi.stream import KalshiStream
from tests.conftest import KALSHI_CAPTURE, REPO, SHARED_DATA, ListDeadLetter, shared_data

SPECS = REPO.parent / "shared" / "kalshi-specs"
REPLIES = {"subscribed", "unsubscribed", "ok", "error"}
"""Command replies: handled by the stream itself (sids, acks, errors)."""


def _tag(cls: type) -> str:
    return str(cls.__struct_config__.tag)  # type: ignore[attr-defined]


ALL_TYPES = {_tag(cls) for cls in get_args(KalshiMessage)}
PRIVATE = {_tag(cls) for cls in PRIVATE_MESSAGES}


def _spec() -> dict[str, Any]:
    import yaml

    files = sorted(SPECS.glob("asyncapi_*.yaml")) if SPECS.is_dir() else []
    if not files:
        pytest.skip(f"Kalshi AsyncAPI spec not available: no asyncapi_*.yaml in {SPECS} (../shared beside the repo)")
    spec: dict[str, Any] = yaml.safe_load(files[-1].read_text())
    return spec


def server_examples() -> list[tuple[str, dict[str, Any]]]:
    """``(message/example name, payload)`` of every example with a ``type``: the server's frames
    (commands have ``cmd``; ping/pong are control frames without a payload)."""
    out = []
    for name, message in _spec()["components"]["messages"].items():
        for example in message.get("examples") or []:
            payload = example.get("payload")
            if isinstance(payload, dict) and isinstance(payload.get("type"), str):
                out.append((f"{name}/{example.get('name')}", payload))
    return out


class Sinks:
    """Collects what a stream hands out: market events, venue-native messages, private ones."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.venue: list[tuple[object, int]] = []
        self.private: list[object] = []
        self.lists: list[object] = []


def make_stream(sinks: Sinks, *, private: bool = False, venue: bool = True) -> tuple[KalshiStream, ListDeadLetter]:
    dead = ListDeadLetter()
    stream = KalshiStream(
        BookManager(),
        "spec",
        stats=FeedStats(),
        dead_letter=dead,
        seq_mode=SeqMode.MONOTONIC,
        on_event=sinks.events.append,
        on_venue=(lambda msg, recv_ns: sinks.venue.append((msg, recv_ns))) if venue else None,
        on_private=(lambda msg, recv_ns: sinks.private.append(msg)) if private else None,
        on_list=sinks.lists.append,
    )
    return stream, dead


def _snapshot_for(payload: dict[str, Any]) -> bytes:
    # A delta applies to a snapshotted book only: an empty snapshot of its market, one seq before
    return json.dumps(
        {
            "type": "orderbook_snapshot",
            "sid": payload["sid"],
            "seq": payload["seq"] - 1,
            "msg": {"market_ticker": payload["msg"]["market_ticker"], "market_id": "", "yes_dollars_fp": []},
        }
    ).encode()


def test_the_spec_has_every_server_message_hadron_types() -> None:
    examples = server_examples()
    assert len(examples) == 34
    assert {payload["type"] for _, payload in examples} == ALL_TYPES


def test_every_spec_example_decodes_into_its_struct() -> None:
    errors = []
    for name, payload in server_examples():
        try:
            msg = FRAME_DECODER.decode(json.dumps(payload).encode())
        except msgspec.DecodeError as exc:
            errors.append(f"{name}: {exc}")
            continue
        assert _tag(type(msg)) == payload["type"], name
        assert type(msg).__name__.startswith("Kalshi"), name
    assert errors == []


def _through_stream(payload: dict[str, Any], *, private: bool, venue: bool = True) -> tuple[KalshiStream, Sinks]:
    sinks = Sinks()
    stream, dead = make_stream(sinks, private=private, venue=venue)
    if payload["type"] == "orderbook_delta":
        stream.on_frame(_snapshot_for(payload), 1)
        sinks.events.clear()
    stream.on_frame(json.dumps(payload).encode(), 1_000)
    assert dead.items == []
    return stream, sinks


@pytest.mark.parametrize("private", [False, True], ids=["on_venue", "on_private"])
def test_every_spec_example_goes_through_a_stream(private: bool) -> None:
    # Each example alone through a fresh stream: no decode error, counted by type, and handled:
    # normalized into market events, passed on as venue-native (private ones to on_private when
    # set), or a command reply the stream keeps (sids, acks, errors); never unconsumed
    for name, payload in server_examples():
        kind = payload["type"]
        stream, sinks = _through_stream(payload, private=private)
        assert stream.stats.decode_errors == 0, name
        assert stream.stats.frames_by_type.get(kind) == 1, name
        assert stream.stats.unconsumed == 0, name
        assert stream.stats.passed_on == len(sinks.venue) + len(sinks.private), name
        assert all(recv_ns == 1_000 for _, recv_ns in sinks.venue), name
        assert sinks.events or sinks.venue or sinks.private or kind in REPLIES, f"{name}: not handled"
        if kind in PRIVATE:
            assert (len(sinks.private), len(sinks.venue)) == ((1, 0) if private else (0, 1)), name
        if kind == "ok" and isinstance(payload["msg"], list):
            assert len(sinks.lists) == 1 and len(sinks.lists[0]) == len(payload["msg"])  # type: ignore[arg-type]


def test_messages_not_normalized_are_passed_on_as_their_typed_struct() -> None:
    for name, payload in server_examples():
        _, sinks = _through_stream(payload, private=False)
        for msg, _ in sinks.venue:
            assert type(msg) is type(FRAME_DECODER.decode(json.dumps(payload))), name
            assert type(msg).__name__.startswith("Kalshi"), name
    groups = (*INDEX_MESSAGES, *COMMUNICATIONS_MESSAGES, *LIST_ANSWERS)
    for name, payload in server_examples():
        if payload["type"] in {_tag(cls) for cls in groups}:
            _, sinks = _through_stream(payload, private=False)
            assert sinks.venue or sinks.events, name


def test_the_whole_spec_in_one_stream_without_hooks_counts_the_unconsumed() -> None:
    sinks = Sinks()
    stream, dead = make_stream(sinks, venue=False)
    examples = server_examples()
    for _, payload in examples:
        stream.on_frame(json.dumps(payload).encode(), 1)
    assert stream.stats.frames == len(examples)
    assert sum(stream.stats.frames_by_type.values()) == len(examples)
    assert set(stream.stats.frames_by_type) == ALL_TYPES
    # Nothing silently dropped: with no on_venue nor on_private, what would be passed on is
    # counted unconsumed; a delta without its book is rejected and dead-lettered, not lost
    with_hooks = 0
    for _, payload in examples:
        s, _ = _through_stream(payload, private=False)
        with_hooks += s.stats.passed_on
    assert stream.stats.unconsumed == with_hooks
    assert stream.stats.passed_on == 0
    assert all(reason.startswith("orderbook_delta") for _, reason, _ in dead.items)
    assert stream.stats.decode_errors == len(dead.items)


# -- real frames ---------------------------------------------------------------------------------


def _real_frames() -> list[tuple[str, bytes]]:
    # Every real Kalshi WebSocket frame of ../shared/data outside the big capture (the capture is
    # sampled below): the ssmd ticker frames (cents and fixed-point formats)
    out = []
    for path in sorted(SHARED_DATA.glob("aaronwald__ssmd/**/kalshi_*.jsonl")):
        out += [(path.name, line) for line in path.read_bytes().splitlines() if line.strip()]
    return out


@pytest.mark.data
def test_real_frames_of_spec_types_go_through_a_stream() -> None:
    shared_data(SHARED_DATA)
    frames = _real_frames()
    if not frames:
        pytest.skip(f"no real Kalshi frames under {SHARED_DATA / 'aaronwald__ssmd'}")
    sinks = Sinks()
    stream, dead = make_stream(sinks)
    for _, raw in frames:
        stream.on_frame(raw, 1)
    assert dead.items == [] and stream.stats.decode_errors == 0
    assert sum(stream.stats.frames_by_type.values()) == len(frames)
    assert set(stream.stats.frames_by_type) <= ALL_TYPES


@pytest.mark.data
def test_real_capture_files_count_every_type() -> None:
    capture = shared_data(KALSHI_CAPTURE)
    files = sorted(capture.glob("*/*.ndjson.gz"))[:3]
    sinks = Sinks()
    stats = FeedStats()
    total = 0
    for i, path in enumerate(files):
        dead = ListDeadLetter()
        stream = KalshiStream(BookManager(), f"c{i}", stats=stats, dead_letter=dead, seq_mode=SeqMode.MONOTONIC)
        stream.on_event = sinks.events.append
        with gzip.open(path, "rb") as fh:
            for line in fh:
                stream.on_capture_line(line.rstrip(b"\n"))
                total += 1
        assert dead.items == [], path
    assert stats.decode_errors == 0
    assert sum(stats.frames_by_type.values()) == total
    assert set(stats.frames_by_type) <= ALL_TYPES


def test_spec_dir_is_found_relative_to_the_repo() -> None:
    assert Path(SPECS).name == "kalshi-specs" and Path(SPECS).parent == REPO.parent / "shared"
