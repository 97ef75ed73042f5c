"""Kalshi deltas scanned in place (``KalshiStream.scan``) give exactly what the typed decoder gives.

Every frame goes through two streams, one scanning ``orderbook_delta`` frames, one decoding every
frame (:class:`tests.kalshi_twin.Twin`): the events of each frame, the dead letters, the counters,
the books and the sequencing state must be the same. On the real KXGOLD15M capture in
../shared/data (every file in the compiled build; one market's file in plain Python, where the
byte-by-byte scanner is slow), on the excerpt in ``tests/fixtures`` (always), both as capture lines
(replay) and as raw frames (the live path), and on frames edited by hand around each rule of the
scanner. ``tests/property/test_kalshi_scan_props.py`` mutates frames at random.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hadron import accel
from hadron.venues.base import SeqMode
from hadron.venues.kalshi.messages import MAX_MS
from hadron.venues.kalshi.stream import KalshiStream
from tests.conftest import FIXTURES, KALSHI_CAPTURE, shared_data
from tests.kalshi_twin import Twin, frame_of

COMPILED = accel.compiled()["hadron.venues.kalshi.stream"]
RECONNECT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
ONE_MARKET = "KXGOLD15M-26AUG102130-30"
"""The market of the fixture excerpt (a reconnect mid-file: seq resets, resyncs)."""


def _lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()]


FIXTURE_LINES = _lines(RECONNECT)
DELTAS = sum(b'"type":"orderbook_delta"' in line for line in FIXTURE_LINES)
SNAPSHOT = next(line for line in FIXTURE_LINES if b'"type":"orderbook_snapshot"' in line)
DELTA = next(line for line in FIXTURE_LINES if b'"type":"orderbook_delta"' in line)


def _all_deltas_scanned(twin: Twin, lines: list[bytes]) -> None:
    deltas = sum(b'"type":"orderbook_delta"' in line for line in lines)
    assert twin.scanned == deltas > 0, "the scanner must take every real delta (else the test proves little)"


# -- the real capture ----------------------------------------------------------------------------


@pytest.mark.data
def test_every_real_frame_gives_the_same_through_the_scanner_and_the_decoder() -> None:
    """Every capture line of the real capture (one market's file without the compiled build), file
    by file as a replay reads them, through both paths: identical events, books and counters."""
    capture = shared_data(KALSHI_CAPTURE)
    files = sorted(capture.rglob("*.ndjson.gz"))
    if not COMPILED:
        files = [f for f in files if f.parent.name == ONE_MARKET]
    assert files
    twin = Twin(seq_mode=SeqMode.MONOTONIC)  # as Replay reads capture files (per-market extracts)
    started = time.perf_counter()
    deltas = 0
    for path in files:
        lines = _lines(path)
        for line in lines:
            twin.line(line, conn=str(path))
        deltas += sum(b'"type":"orderbook_delta"' in line[:60] for line in lines)
    twin.assert_same()
    assert twin.scanned == deltas > 0
    assert twin.dead_letters == 0
    if COMPILED:
        assert twin.frames > 1_800_000, "the whole KXGOLD15M capture"
    print(f"{twin.frames:,} frames, {twin.events:,} events in {time.perf_counter() - started:.1f} s")


@pytest.mark.data
def test_a_real_market_as_live_frames_gives_the_same() -> None:
    """The live path (``on_frame``): one market's raw frames, strict sequencing (its per-market
    extract has seq jumps: gaps, resync requests, books waiting for snapshots)."""
    path = next(shared_data(KALSHI_CAPTURE / ONE_MARKET).glob("*.ndjson.gz"))
    lines = _lines(path)
    for mode in (SeqMode.STRICT, SeqMode.MONOTONIC):
        twin = Twin(seq_mode=mode)
        for line in lines:
            twin.frame(*frame_of(line))
        twin.assert_same()
        _all_deltas_scanned(twin, lines)


# -- the fixture excerpt (always runs) -----------------------------------------------------------


@pytest.mark.parametrize("mode", [SeqMode.MONOTONIC, SeqMode.STRICT])
@pytest.mark.parametrize("yes_price", [False, True])
def test_fixture_lines_give_the_same(mode: SeqMode, yes_price: bool) -> None:
    twin = Twin(seq_mode=mode, yes_price=yes_price)
    for line in FIXTURE_LINES:
        twin.line(line)
    twin.assert_same()
    _all_deltas_scanned(twin, FIXTURE_LINES)
    assert DELTAS == 327


@pytest.mark.parametrize("mode", [SeqMode.MONOTONIC, SeqMode.STRICT])
def test_fixture_frames_give_the_same(mode: SeqMode) -> None:
    twin = Twin(seq_mode=mode)
    for line in FIXTURE_LINES:
        twin.frame(*frame_of(line))
    twin.assert_same()
    _all_deltas_scanned(twin, FIXTURE_LINES)


def test_stale_sids_duplicates_and_replays_give_the_same() -> None:
    """A live session's active sids (sid 1 dropped half-way: its deltas are stale), every frame
    twice (duplicates), then the whole excerpt again (seq resets)."""
    twin = Twin(seq_mode=SeqMode.STRICT, active_sids={1, 2})
    for n, line in enumerate(FIXTURE_LINES * 2):
        if n == len(FIXTURE_LINES) // 2:
            for side in (twin.fast, twin.slow):
                side.stream("twin").active_sids = {2}
        twin.line(line)
        twin.line(line)
    twin.assert_same()
    assert twin.fast.stats.stale_frames > 0 and twin.fast.stats.seq_duplicates > 0


def test_hooks_that_raise_are_contained_the_same_way() -> None:
    """A sink or listener that raises: the frame is dead-lettered as a fault (or, for a decode
    error raised by a hook, as a decode error) the same way on both paths."""
    for exc in (
        RuntimeError("sink broke"),
        ValueError("bad"),
        msgspec.DecodeError("a hook decoding"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "a hook decoding"),
    ):
        twin = Twin()
        twin.line(SNAPSHOT)

        def boom(event: object, exc: Exception = exc) -> None:
            raise exc

        for side in (twin.fast, twin.slow):
            side.books.add_top_listener(boom)
        for line in FIXTURE_LINES[:40]:
            twin.line(line)
        twin.assert_same()
        assert twin.dead_letters > 0


def test_a_hook_feeding_the_stream_again_gives_the_same() -> None:
    """A hook that feeds the stream a frame while one is handled (``on_resync`` on a gap, in
    strict mode): the outer delta keeps its own fields, as a decoded message would."""
    twin = Twin(seq_mode=SeqMode.STRICT)
    twin.line(SNAPSHOT)
    outer = _delta(2_399_900, TAKEN["price .48"])  # a gap after the snapshot's seq: on_resync
    inner = _delta(2_399_901, TAKEN["yes"].replace(b'"-40.00"', b'"7.00"'))
    for side in (twin.fast, twin.slow):
        stream, events = side.stream("twin"), side.events

        def feed(
            sid: int, tickers: list[str], kind: str, stream: KalshiStream = stream, events: list[Any] = events
        ) -> None:
            events.append(("resync", sid, tickers, kind))
            stream.on_frame(inner, 5)

        stream.on_resync = feed
    twin.frame(outer, 1_786_410_915_579_000_000)
    twin.assert_same()
    assert twin.scanned == 2
    assert twin.fast.stats.seq_gaps == 1


# -- frames edited around each rule of the scanner -------------------------------------------------

_RECV = b'{"recv_ms":1786410915579,"event":'
_HEAD = b'{"type":"orderbook_delta","sid":1,"seq":%s,"msg":{"market_ticker":"KXGOLD15M-26AUG102130-30"'
_REST = (
    b',"market_id":"31185e50-0bd0-4bd6-8be5-0e1b1a4b2a8f","price_dollars":"0.4800","delta_fp":"-40.00",'
    b'"side":"no","ts":"2026-08-11T01:15:15.566273Z","ts_ms":1786410915566}}'
)


def _delta(seq: int, rest: bytes = _REST, head: bytes = _HEAD) -> bytes:
    return head % str(seq).encode() + rest


TAKEN = {
    "as sent": _REST,
    "no market_id": _REST.replace(b',"market_id":"31185e50-0bd0-4bd6-8be5-0e1b1a4b2a8f"', b""),
    "no ts": _REST.replace(b',"ts":"2026-08-11T01:15:15.566273Z"', b""),
    "no ts_ms": _REST.replace(b',"ts_ms":1786410915566', b""),
    "ts_ms 0": _REST.replace(b"1786410915566", b"0"),
    "ts_ms at the bound": _REST.replace(b"1786410915566", str(MAX_MS).encode()),
    "yes": _REST.replace(b'"side":"no"', b'"side":"yes"'),
    "price .48": _REST.replace(b'"0.4800"', b'".48"'),
    "price 0.480000": _REST.replace(b'"0.4800"', b'"0.480000"'),
    "price 0.0001": _REST.replace(b'"0.4800"', b'"0.0001"'),
    "price 0.9999": _REST.replace(b'"0.4800"', b'"0.9999"'),
    "size 0": _REST.replace(b'"-40.00"', b'"0"'),
    "size -0": _REST.replace(b'"-40.00"', b'"-0"'),
    "size 5.": _REST.replace(b'"-40.00"', b'"5."'),
    "size 12 chars": _REST.replace(b'"-40.00"', b'"-99999999.99"'),
    "size 1e-6": _REST.replace(b'"-40.00"', b'"0.000001"'),
    "size in a book that would go negative": _REST.replace(b'"-40.00"', b'"-99999.00"'),
    "DEL in market_id": _REST.replace(b"31185e50", b"31185e5\x7f"),
    "empty market_id and ts": _REST.replace(b"31185e50-0bd0-4bd6-8be5-0e1b1a4b2a8f", b"").replace(
        b"2026-08-11T01:15:15.566273Z", b""
    ),
}
"""Frames the scanner takes (and must agree on)."""

DECLINED = {
    "space after a colon": _REST.replace(b'"side":"no"', b'"side": "no"'),
    "newline at the end": _REST + b"\n",
    "keys reordered": _REST.replace(
        b'"price_dollars":"0.4800","delta_fp":"-40.00"', b'"delta_fp":"-40.00","price_dollars":"0.4800"'
    ),
    "escaped key": _REST.replace(b'"side"', b'"sid\\u0065"'),
    "escaped value": _REST.replace(b'"no"', b'"n\\u006f"'),
    "escape in market_id": _REST.replace(b"31185e50", b"31185e5\\n"),
    "non-ASCII in ts": _REST.replace(b"2026-08-11T", "2026-08-11\u00e9".encode()),
    "control character in ts": _REST.replace(b"2026-08-11T", b"2026-08-11\x01"),
    "client_order_id": _REST.replace(b',"ts_ms"', b',"client_order_id":"abc","ts_ms"'),
    "subaccount": _REST.replace(b"1786410915566}}", b'1786410915566,"subaccount":2}}'),
    "unknown key": _REST.replace(b"1786410915566}}", b'1786410915566,"x":null}}'),
    "duplicate ts_ms": _REST.replace(b"1786410915566}}", b'1786410915566,"ts_ms":1}}'),
    "ts_ms over the bound": _REST.replace(b"1786410915566", str(MAX_MS + 1).encode()),
    "ts_ms negative": _REST.replace(b"1786410915566", b"-1"),
    "ts_ms float": _REST.replace(b"1786410915566", b"1786410915566.0"),
    "ts_ms exponent": _REST.replace(b"1786410915566", b"17e11"),
    "ts_ms leading zero": _REST.replace(b"1786410915566", b"01786410915566"),
    "ts_ms string": _REST.replace(b"1786410915566", b'"1786410915566"'),
    "ts_ms huge": _REST.replace(b"1786410915566", b"9" * 400),
    "price 0": _REST.replace(b'"0.4800"', b'"0.0000"'),
    "price 1": _REST.replace(b'"0.4800"', b'"1.0000"'),
    "price 1.5": _REST.replace(b'"0.4800"', b'"1.5"'),
    "price finer": _REST.replace(b'"0.4800"', b'"0.48001"'),
    "price negative": _REST.replace(b'"0.4800"', b'"-0.48"'),
    "price empty": _REST.replace(b'"0.4800"', b'""'),
    "price dot": _REST.replace(b'"0.4800"', b'"."'),
    "price word": _REST.replace(b'"0.4800"', b'"NaN"'),
    "price number": _REST.replace(b'"0.4800"', b"0.48"),
    "price 13 chars": _REST.replace(b'"0.4800"', b'"0.48000000000"'),
    "size finer": _REST.replace(b'"-40.00"', b'"0.0000001"'),
    "size 13 chars": _REST.replace(b'"-40.00"', b'"-999999999.99"'),
    "size exponent": _REST.replace(b'"-40.00"', b'"1e3"'),
    "size plus": _REST.replace(b'"-40.00"', b'"+40"'),
    "size two dots": _REST.replace(b'"-40.00"', b'"4.0.0"'),
    "size two signs": _REST.replace(b'"-40.00"', b'"--40"'),
    "side other": _REST.replace(b'"side":"no"', b'"side":"maybe"'),
    "side upper": _REST.replace(b'"side":"no"', b'"side":"NO"'),
    "side missing": _REST.replace(b'"side":"no",', b""),
    "price missing": _REST.replace(b'"price_dollars":"0.4800",', b""),
    "truncated": _REST[:-1],
    "trailing garbage": _REST + b"x",
    "not closed": _REST[:-2],
}
"""Frames the scanner leaves to the decoder (which accepts some and rejects others)."""


def _twin_with_a_live_book() -> Twin:
    twin = Twin()
    twin.line(SNAPSHOT)  # the market's book is LIVE: deltas are applied
    return twin


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_frames_the_scanner_takes_give_the_same(name: str) -> None:
    twin = _twin_with_a_live_book()
    before = twin.scanned
    line = _RECV + _delta(2_399_900, TAKEN[name]) + b"}"
    twin.line(line)
    twin.frame(*frame_of(line))
    twin.line(DELTA)
    twin.assert_same()
    assert twin.scanned - before == 3


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_frames_the_scanner_declines_give_the_same(name: str) -> None:
    twin = _twin_with_a_live_book()
    before = twin.scanned
    frame = _delta(2_399_900, DECLINED[name])
    twin.line(_RECV + frame + b"}")
    twin.frame(frame, 1_786_410_915_579_000_000)
    assert twin.scanned == before
    twin.line(DELTA)
    twin.assert_same()


HEADS = {
    "sid 0": (_HEAD.replace(b'"sid":1', b'"sid":0'), True),
    "sid 18 digits": (_HEAD.replace(b'"sid":1', b'"sid":999999999999999999'), True),
    "sid 19 digits": (_HEAD.replace(b'"sid":1', b'"sid":9223372036854775807'), False),
    "sid over 64 bits": (_HEAD.replace(b'"sid":1', b'"sid":18446744073709551616'), False),
    "sid negative": (_HEAD.replace(b'"sid":1', b'"sid":-1'), False),
    "sid leading zero": (_HEAD.replace(b'"sid":1', b'"sid":01'), False),
    "ticker empty": (_HEAD.replace(b"KXGOLD15M-26AUG102130-30", b""), False),
    "ticker at the bound": (_HEAD.replace(b"KXGOLD15M-26AUG102130-30", b"T" * 256), True),
    "ticker over the bound": (_HEAD.replace(b"KXGOLD15M-26AUG102130-30", b"T" * 257), False),
    "ticker with a space": (_HEAD.replace(b"KXGOLD15M-26AUG", b"KXGOLD15M 26AUG"), True),
    "ticker escaped": (_HEAD.replace(b"KXGOLD15M", b"KXGOLD15\\u004d"), False),
    "ticker non-ASCII": (_HEAD.replace(b"KXGOLD15M", "KXGOLD15\u00d1".encode()), False),
    "type other": (_HEAD.replace(b"orderbook_delta", b"orderbook_deltas"), False),
    "type first missing": (_HEAD.replace(b'"type":"orderbook_delta",', b""), False),
    "msg first": (_HEAD.replace(b'"sid":1,"seq":%s,', b"") + b"}", False),
}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_frame_heads_give_the_same(name: str) -> None:
    head, taken = HEADS[name]
    twin = _twin_with_a_live_book()
    before = twin.scanned
    line = _RECV + (head % b"2399900" if b"%s" in head else head) + _REST + b"}"
    twin.line(line)
    twin.frame(line[len(_RECV) : -1], 1_786_410_915_579_000_000)
    twin.line(DELTA)
    twin.assert_same()
    assert (twin.scanned - before > 1) is taken


WRAPPERS = {
    "recv_ms at the bound": (_RECV.replace(b"1786410915579", str(MAX_MS).encode()), b"}", True),
    "recv_ms over the bound": (_RECV.replace(b"1786410915579", str(MAX_MS + 1).encode()), b"}", False),
    "recv_ms 0": (_RECV.replace(b"1786410915579", b"0"), b"}", True),
    "recv_ms leading zero": (_RECV.replace(b"1786410915579", b"01786410915579"), b"}", False),
    "recv_ms negative": (_RECV.replace(b"1786410915579", b"-1786410915579"), b"}", False),
    "event first": (b'{"event":', b',"recv_ms":1786410915579}', False),
    "space": (_RECV.replace(b'"event":', b'"event": '), b"}", False),
    "newline": (_RECV, b"}\n", False),
    "extra key": (_RECV, b',"x":1}', False),
    "not closed": (_RECV, b"", False),
}


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_capture_wrappers_give_the_same(name: str) -> None:
    head, tail, taken = WRAPPERS[name]
    twin = _twin_with_a_live_book()
    before = twin.scanned
    twin.line(head + _delta(2_399_900) + tail)
    twin.line(DELTA)
    twin.assert_same()
    assert (twin.scanned - before == 2) is taken


@pytest.mark.parametrize("kind", [bytearray, memoryview, bytes.decode])
def test_other_inputs_give_the_same(kind: Callable[[bytes], Any]) -> None:
    """Input that is not ``bytes`` never reaches the scanner (the decoder's answer, whatever it is).

    Only inputs the decoder accepts: a rejected ``memoryview`` or ``str`` fails in
    ``StreamBase.reject``'s log line (it slices and ``.decode()``s the raw frame) on either path."""
    twin = _twin_with_a_live_book()
    frame, recv_ns = frame_of(DELTA)
    twin.line(kind(DELTA))
    twin.frame(kind(frame.replace(b'"seq":', b'"seq":1')), recv_ns)
    twin.assert_same()
    assert twin.scanned == 0
    twin.line(bytearray(b"{"))
    twin.frame(bytearray(b""), recv_ns)
    twin.assert_same()
    assert twin.dead_letters == 2


def test_scan_reports_where_a_frame_ends_and_declines_without_a_change() -> None:
    stream = Twin().fast.stream("s")
    frame = _delta(7)
    assert stream.scan(frame, 0) == len(frame)
    assert stream.scan(b"xx" + frame, 2) == len(frame) + 2
    for i in (-1, 1, len(frame), len(frame) + 5):
        assert stream.scan(frame, i) == -1
    assert stream.scan(frame[:-1], 0) == -1
    assert stream.scanned == 0  # scan only reads: the stream took nothing


def test_the_scanner_is_on_where_it_is_compiled() -> None:
    stream = Twin().fast.stream("s")
    fresh = KalshiStream(stream.books, "fresh", stats=stream.stats, dead_letter=stream.dead_letter)
    assert fresh.scan_deltas is COMPILED
    assert fresh.scanned == 0
