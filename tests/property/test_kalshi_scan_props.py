"""Mutated Kalshi delta frames give the same results through the scanner and the decoder: the
scanner either declines a frame (the decoder handles it) or agrees with the decoder exactly.

Mutations of real deltas (``tests/fixtures/kalshi``): bytes replaced, inserted or deleted; keys
reordered, dropped or added; escapes in keys and values; numbers out of range, signed, with
leading zeros, as floats; prices and sizes from a decimal-ish alphabet; whitespace. Each goes
through :class:`tests.kalshi_twin.Twin` on a LIVE book, as a capture line and as a raw frame,
followed by a real delta (the stream still agrees afterwards). ``BookManager.apply_change``, the
scanner's book update, is checked against ``apply_delta`` on random updates too.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadron.book.manager import BookManager
from hadron.errors import BookError
from hadron.model.events import BookAction, BookDelta, BookSide, BookSnapshot
from tests.conftest import FIXTURES
from tests.kalshi_twin import Twin, frame_of

with gzip.open(FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz", "rb") as capture:
    LINES = [line.rstrip(b"\n") for line in capture if line.strip()]
DELTA_LINES = [line for line in LINES if b'"type":"orderbook_delta"' in line]
SNAPSHOT = next(line for line in LINES if b'"type":"orderbook_snapshot"' in line)
COUNTS = {"examples": 0, "taken": 0}

INTERESTING = b' "\\,:{}[]0123456789.-+eE\x00\x01\x1f\x7f\x80\xc3\xff'
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -1, 9_223_372_036_854, 9_223_372_036_855]),
    st.floats(allow_nan=False, allow_infinity=False),
)
DECIMALS = st.text(alphabet="0123456789.-+e ", max_size=16) | st.sampled_from(
    ["0.4800", ".48", "0.48", "1.0000", "0.0000", "0.00001", "-0.48", "12345678.123", "123456789.123", "-0", "5."]
)


def _edit_bytes(raw: bytes, data: st.DataObject) -> bytes:
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(out)))
        byte = data.draw(st.sampled_from(list(INTERESTING)) | st.integers(0, 255))
        action = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "insert" or at == len(out):
            out.insert(at, byte)
        elif action == "replace":
            out[at] = byte
        else:
            del out[at]
    return bytes(out)


def _escape(text: str, data: st.DataObject) -> str:
    # One character of a JSON text written as a \\u escape (the same string, decoded)
    if not text:
        return text
    at = data.draw(st.integers(0, len(text) - 1))
    return text[:at] + f"\\u{ord(text[at]):04x}" + text[at + 1 :]


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _mutate_json(event: dict[str, Any], data: st.DataObject) -> bytes:
    msg = dict(event["msg"])
    frame = {k: v for k, v in event.items() if k != "msg"}
    kind = data.draw(
        st.sampled_from(["reorder", "drop", "add", "number", "decimal", "side", "ticker", "escape", "space"])
    )
    if kind == "reorder":
        keys = data.draw(st.permutations(list(msg)))
        msg = {k: msg[k] for k in keys}
        top = data.draw(st.permutations([*frame, "msg"]))
        return _dump({k: (msg if k == "msg" else frame[k]) for k in top}).encode()
    if kind == "drop":
        key = data.draw(st.sampled_from(sorted(msg)))
        del msg[key]
    elif kind == "add":
        key = data.draw(st.sampled_from(["client_order_id", "subaccount", "x", "ts", "market_id", "sid"]))
        msg[key] = data.draw(st.none() | st.integers(-5, 5) | st.text(max_size=5))
    elif kind == "number":
        where = data.draw(st.sampled_from(["sid", "seq", "ts_ms"]))
        (frame if where != "ts_ms" else msg)[where] = data.draw(NUMBERS)
    elif kind == "decimal":
        msg[data.draw(st.sampled_from(["price_dollars", "delta_fp"]))] = data.draw(DECIMALS)
    elif kind == "side":
        msg["side"] = data.draw(st.sampled_from(["yes", "no", "Yes", "", "n", "noo", "maybe"]) | st.text(max_size=4))
    elif kind == "ticker":
        msg["market_ticker"] = data.draw(
            st.text(max_size=8) | st.sampled_from(["", "T" * 256, "T" * 257, "K\u00e9", "A B", "A\x7fB"])
        )
    text = _dump({**frame, "msg": msg})
    if kind == "escape":  # one character of one string (a key or a value) escaped
        spans = [(i, text.index('"', i + 1)) for i, c in enumerate(text) if c == '"' and text.count('"', 0, i) % 2 == 0]
        start, end = data.draw(st.sampled_from(spans))
        text = text[: start + 1] + _escape(text[start + 1 : end], data) + text[end:]
    elif kind == "space":
        marks = [i for i, c in enumerate(text) if c in ",:{}"]
        at = data.draw(st.sampled_from(marks)) + 1
        text = text[:at] + data.draw(st.sampled_from([" ", "\n", "\t", "\r\n"])) + text[at:]
    return text.encode()


def _mutated(data: st.DataObject) -> tuple[bytes, int]:
    line = data.draw(st.sampled_from(DELTA_LINES))
    frame, recv_ns = frame_of(line)
    if data.draw(st.booleans()):
        return _edit_bytes(frame, data), recv_ns
    return _mutate_json(json.loads(frame), data), recv_ns


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_deltas_give_the_same_through_the_scanner_and_the_decoder(data: st.DataObject) -> None:
    twin = Twin()
    twin.line(SNAPSHOT)
    frame, recv_ns = _mutated(data)
    recv_ms = data.draw(st.sampled_from([recv_ns // 1_000_000, 0, 9_223_372_036_854, 9_223_372_036_855]))
    before = twin.scanned
    twin.line(b'{"recv_ms":%d,"event":' % recv_ms + frame + b"}")
    twin.frame(frame, recv_ns)
    twin.line(data.draw(st.sampled_from(DELTA_LINES)))
    twin.assert_same()
    COUNTS["examples"] += 1
    COUNTS["taken"] += twin.scanned - before > 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_stream_of_mutated_and_real_deltas_gives_the_same(data: st.DataObject) -> None:
    """Several frames in a row (real, mutated, repeated), so sequencing and books carry over."""
    twin = Twin()
    twin.line(SNAPSHOT)
    for _ in range(data.draw(st.integers(1, 12))):
        choice = data.draw(st.sampled_from(["real", "mutated", "again"]))
        if choice == "mutated":
            frame, recv_ns = _mutated(data)
            twin.frame(frame, recv_ns)
        else:
            line = data.draw(st.sampled_from(DELTA_LINES if choice == "real" else LINES[:40]))
            twin.line(line)
    twin.assert_same()


def test_the_mutations_leave_the_scanner_some_frames() -> None:
    """Not every mutation is declined: some still have the usual shape and are scanned (so the
    properties above check agreement, not only the fallback)."""
    assert COUNTS["examples"] == 0 or 0 < COUNTS["taken"] < COUNTS["examples"]


# -- the scanner's book update ---------------------------------------------------------------------

INSTRUMENTS = ["kalshi:A", "kalshi:B"]
UPDATE = st.tuples(
    st.sampled_from([*INSTRUMENTS, "kalshi:C"]),
    st.booleans(),
    st.one_of(st.integers(-100, 10_100), st.sampled_from([0, 1, 50, 5_000, 9_999, 10_000])),
    st.integers(-5_000_000, 5_000_000),
    st.sampled_from(["same", "other", None]),
)


def _manager() -> tuple[BookManager, list[Any], object]:
    books = BookManager()
    seen: list[Any] = []
    books.add_top_listener(seen.append)
    books.add_invalidation_listener(lambda book, reason: seen.append((book.instrument, reason)))
    source = ("c", 1, 1)
    for n, instrument in enumerate(INSTRUMENTS):
        bids = ((4_000, 3_000_000), (3_900, 1_000_000))
        asks = ((6_000 + n * 50, 2_000_000),)
        books.apply_snapshot(BookSnapshot(instrument, bids, asks, 1, 1), source)
    return books, seen, source


@settings(max_examples=300, deadline=None)
@given(st.lists(UPDATE, max_size=30))
def test_apply_change_is_apply_delta_without_the_event(ops: list[Any]) -> None:
    fast, fast_seen, fast_source = _manager()
    slow, slow_seen, slow_source = _manager()
    for n, (instrument, bid, price, change, which) in enumerate(ops):
        results = []
        for books, source, use_change in ((fast, fast_source, True), (slow, slow_source, False)):
            src = source if which == "same" else (("c", 2, 1) if which == "other" else None)
            try:
                if use_change:
                    out: object = books.apply_change(instrument, bid, price, change, 10 + n, 20 + n, src)
                else:
                    side = BookSide.BID if bid else BookSide.ASK
                    delta = BookDelta(instrument, side, price, change, BookAction.CHANGE, 10 + n, 20 + n)
                    out = books.apply_delta(delta, src)
            except BookError as exc:
                out = (type(exc).__name__, str(exc))
            results.append(out)
        assert results[0] == results[1]
        assert fast_seen == slow_seen
    assert fast.stats.as_dict() == slow.stats.as_dict()
    for instrument in [*INSTRUMENTS, "kalshi:C"]:
        a, b = fast.get(instrument), slow.get(instrument)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert (a.levels_bid(), a.levels_ask(), a.state, a.reason, a.tick, a.ts_event, a.ts_recv) == (
                b.levels_bid(),
                b.levels_ask(),
                b.state,
                b.reason,
                b.tick,
                b.ts_event,
                b.ts_recv,
            )
