"""Polymarket: every market-channel event type, the three price_change formats, frame shapes."""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
import pytest

from hadron.book.manager import BookManager, BookState
from hadron.model.events import AggressorSide, BookAction, BookSide, MarketState, TickSizeChange, TopOfBook
from hadron.venues.base import FeedStats
from hadron.venues.polymarket.messages import (
    ELEMENT_DECODER,
    PolymarketBook,
    PolymarketPriceChange,
)
from hadron.venues.polymarket.normalize import (
    normalize_best_bid_ask,
    normalize_book,
    normalize_last_trade,
    normalize_market_resolved,
    normalize_new_market,
    normalize_price_change,
    normalize_tick_size_change,
    trade_id_of,
)
from hadron.venues.polymarket.stream import PolymarketStream
from tests.conftest import FIXTURES, ListDeadLetter

PM = FIXTURES / "polymarket"


def load(name: str) -> bytes:
    return (PM / name).read_bytes()


def stream(books: BookManager, dead: ListDeadLetter) -> tuple[PolymarketStream, list[object]]:
    events: list[object] = []
    return PolymarketStream(books, "t", stats=FeedStats(), dead_letter=dead, on_event=events.append), events


def test_real_book_snapshot_is_sorted_best_first() -> None:
    msg = ELEMENT_DECODER.decode(load("ws_book_snapshot_captured.json"))
    assert isinstance(msg, PolymarketBook)
    snap = normalize_book(msg, ts_recv=1)
    assert len(snap.bids) == 7 and len(snap.asks) == 57
    assert snap.bids[0][0] == 700 and snap.asks[0][0] == 800  # best bid 0.07, best ask 0.08
    assert [p for p, _ in snap.bids] == sorted((p for p, _ in snap.bids), reverse=True)
    assert [p for p, _ in snap.asks] == sorted(p for p, _ in snap.asks)
    assert snap.tick == 100 and snap.ts_event == int(msg.timestamp) * 1_000_000


def test_2026_book_frames_decode() -> None:
    for line in load("book_2026.jsonl").splitlines():
        snap = normalize_book(ELEMENT_DECODER.decode(line), 1)  # type: ignore[arg-type]
        assert snap.instrument.startswith("polymarket:")


def test_current_price_change_carries_the_venue_top() -> None:
    deltas = normalize_price_change(ELEMENT_DECODER.decode(load("ws_market_price_change_msg.json")), 1)  # type: ignore[arg-type]
    assert len(deltas) == 1
    d = deltas[0]
    assert (d.side, d.price, d.size, d.action) == (BookSide.BID, 5100, 150_000_000, BookAction.SET)
    assert (d.venue_bid, d.venue_ask) == (5100, 5200)


def test_legacy_changes_price_change_format() -> None:
    raw = b'{"asset_id":"7132","changes":[{"price":"0.4","side":"SELL","size":"3300"},{"price":"0.39","side":"BUY","size":"0"}],"event_type":"price_change","market":"0x5f65","timestamp":"1729084877448","hash":"3cd4d61e"}'
    deltas = normalize_price_change(ELEMENT_DECODER.decode(raw), 1)  # type: ignore[arg-type]
    assert [(d.instrument, d.side, d.price, d.size) for d in deltas] == [
        ("polymarket:7132", BookSide.ASK, 4000, 3_300_000_000),
        ("polymarket:7132", BookSide.BID, 3900, 0),
    ]
    assert all(d.venue_bid is None for d in deltas)


def test_flat_2024_price_change_format() -> None:
    deltas = normalize_price_change(ELEMENT_DECODER.decode(load("price_change_flat_2024.json")), 1)  # type: ignore[arg-type]
    assert [(d.side, d.price, d.size) for d in deltas] == [(BookSide.ASK, 5140, 21_574_080_000)]


def test_price_change_without_changes_is_a_decode_error() -> None:
    msg = ELEMENT_DECODER.decode(b'{"event_type":"price_change","market":"0x1","timestamp":"1"}')
    assert isinstance(msg, PolymarketPriceChange)
    with pytest.raises(Exception, match="price_change"):
        normalize_price_change(msg, 1)


def test_last_trade_price_becomes_a_trade_with_a_deterministic_id() -> None:
    for line in load("last_trade_price_2026.jsonl").splitlines():
        msg = ELEMENT_DECODER.decode(line)
        trade = normalize_last_trade(msg, 1)  # type: ignore[arg-type]
        assert trade.trade_id.startswith("0x")
    msg = ELEMENT_DECODER.decode(load("ws_market_last_trade_msg.json"))
    trade = normalize_last_trade(msg, 1)  # type: ignore[arg-type]
    assert (trade.price, trade.size, trade.aggressor) == (5100, 25_000_000, AggressorSide.BUY)
    assert trade.trade_id == trade_id_of(msg) and len(trade.trade_id) == 24  # type: ignore[arg-type]


def test_tick_size_change_best_bid_ask_new_market_resolved() -> None:
    tick = normalize_tick_size_change(ELEMENT_DECODER.decode(load("ws_market_tick_size_msg.json")), 1)  # type: ignore[arg-type]
    assert (tick.old_tick, tick.new_tick) == (1000, 100)
    top = normalize_best_bid_ask(ELEMENT_DECODER.decode(load("ws_market_best_bid_ask_msg.json")), 1)  # type: ignore[arg-type]
    assert (top.bid_price, top.ask_price) == (7300, 7700)
    created = normalize_new_market(ELEMENT_DECODER.decode(load("ws_market_new_market_msg.json")), 1)  # type: ignore[arg-type]
    assert [s.state for s in created] == [MarketState.CREATED] * 2
    resolved = normalize_market_resolved(ELEMENT_DECODER.decode(load("ws_market_resolved_msg.json")), 1)  # type: ignore[arg-type]
    assert [s.result for s in resolved] == ["yes", "no"]


def test_empty_sides_of_best_bid_ask() -> None:
    raw = b'{"event_type":"best_bid_ask","market":"0x1","asset_id":"1","best_bid":"","best_ask":"1","timestamp":"1"}'
    top = normalize_best_bid_ask(ELEMENT_DECODER.decode(raw), 1)  # type: ignore[arg-type]
    assert (top.bid_price, top.ask_price) == (None, None)


def test_array_frames_text_frames_and_empty_arrays(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s, _ = stream(books, dead_letter)
    initial = b"[" + load("ws_market_book_msg.json") + b"," + load("ws_book_snapshot_captured.json") + b"]"
    s.on_frame(initial, 1)
    for text in (b"PONG", b"NO NEW ASSETS", b"INVALID OPERATION", b"[]"):
        s.on_frame(text, 2)
    assert s.stats.frames_by_type == {
        "book": 2,
        "PONG": 1,
        "NO NEW ASSETS": 1,
        "INVALID OPERATION": 1,
        "empty_array": 1,
    }
    assert s.invalid_operations == 1
    assert len(books) == 2 and all(b.state is BookState.LIVE for b in books)
    assert dead_letter.items == []


def test_one_unknown_element_does_not_drop_its_neighbours(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s, _ = stream(books, dead_letter)
    s.on_frame(load("ws_market_mixed_known_unknown.json"), 1)
    assert s.stats.frames_by_type == {"price_change": 1, "last_trade_price": 1}
    assert s.stats.decode_errors == 1
    assert b"settlement_preview" in dead_letter.items[0][0]
    assert s.stats.trades == 1


@pytest.mark.parametrize("raw", [b"HELLO", b'{"event_type":"book"', b"\xff\xfe", b'{"event_type":"book","asset_id":1}'])
def test_bad_frames_are_rejected_and_kept(raw: bytes, books: BookManager, dead_letter: ListDeadLetter) -> None:
    s, _ = stream(books, dead_letter)
    s.on_frame(raw, 1)
    assert s.stats.decode_errors == 1
    assert dead_letter.items[0][0] == raw


def test_deltas_wait_for_a_snapshot_and_stale_books_are_dropped(
    books: BookManager, dead_letter: ListDeadLetter
) -> None:
    s, _ = stream(books, dead_letter)
    s.on_frame(load("ws_market_price_change_msg.json"), 1)
    assert books.stats.deltas_dropped == 1
    book = json.loads(load("ws_market_book_msg.json"))
    s.on_frame(json.dumps(book).encode(), 2)
    older = dict(book, timestamp=str(int(book["timestamp"]) - 1), bids=[])
    s.on_frame(json.dumps(older).encode(), 3)
    assert s.stats.stale_frames == 1
    inst = "polymarket:" + book["asset_id"]
    assert books.book(inst).best_bid == (5000, 200_000_000)


def test_tick_size_change_sends_the_book_back_to_awaiting(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s, events = stream(books, dead_letter)
    s.on_frame(load("ws_market_book_msg.json"), 1)
    s.on_frame(load("ws_market_tick_size_msg.json"), 2)
    inst = "polymarket:71321045679252212594626385532706912750332728571942532289631379312455583992563"
    assert books.book(inst).state is BookState.AWAITING_SNAPSHOT
    assert any(isinstance(e, TickSizeChange) for e in events)


def test_crossing_burst_matches_the_venue_except_its_transient_cross(
    books: BookManager, dead_letter: ListDeadLetter
) -> None:
    s, _ = stream(books, dead_letter)
    tops: list[TopOfBook] = []
    books.add_top_listener(tops.append)
    frames = msgspec.json.decode(load("ws_market_price_change_crossing_burst.json"), type=list[msgspec.Raw])
    for raw in frames:
        s.on_frame(bytes(raw), 1)
    stats = books.stats
    # asset A has the snapshots: 49 entries checked, 2 mismatched while the venue's own removal
    # of the two crossed bids (0.311, 0.301) is still in flight (frames 47 and 48)
    assert (stats.bbo_checks, stats.bbo_mismatches) == (49, 2)
    assert (stats.crossed_books, stats.crossed_updates) == (1, 2)
    # asset B never had a snapshot in the burst: its 49 entries wait
    assert stats.deltas_dropped == 49
    # the closing re-snapshot equals the book built from the deltas
    assert (stats.snapshot_checks, stats.snapshot_mismatches) == (1, 0)
    last = json.loads(bytes(frames[-1]))
    book = books.book("polymarket:" + last["asset_id"])
    assert book.levels_bid() == sorted(map(exact, last["bids"]), reverse=True)
    assert book.levels_ask() == sorted(map(exact, last["asks"]))
    assert tops and (tops[-1].bid_price, tops[-1].ask_price) == (2900, 3010)


def exact(level: dict[str, str]) -> tuple[int, int]:
    return int(Decimal(level["price"]) * 10_000), int(Decimal(level["size"]) * 1_000_000)


def test_a_persistent_best_bid_ask_disagreement_resyncs_but_the_real_transient_cross_does_not(
    books: BookManager, dead_letter: ListDeadLetter
) -> None:
    asked: list[tuple[list[str], str]] = []
    s = PolymarketStream(
        books, "t", stats=FeedStats(), dead_letter=dead_letter, on_resync=lambda t, r: asked.append((t, r))
    )
    for raw in msgspec.json.decode(load("ws_market_price_change_crossing_burst.json"), type=list[msgspec.Raw]):
        s.on_frame(bytes(raw), 1)
    assert asked == []  # two disagreements in a row: the venue's own transient cross
    book = json.loads(load("ws_market_book_msg.json"))
    s.on_frame(json.dumps(book).encode(), 2)
    wrong = {
        "event_type": "price_change",
        "market": book["market"],
        "timestamp": str(int(book["timestamp"]) + 1),
        "price_changes": [
            {
                "asset_id": book["asset_id"],
                "price": "0.48",
                "size": "1",
                "side": "BUY",
                "best_bid": "0.47",
                "best_ask": "0.51",
            }
        ],
    }
    for _ in range(3):
        s.on_frame(json.dumps(wrong).encode(), 3)
    assert asked == [([book["asset_id"]], "persistent best bid/ask disagreement")]
    assert books.book("polymarket:" + book["asset_id"]).state is BookState.AWAITING_SNAPSHOT


def test_book_hash_is_verified_when_the_market_metadata_is_known(
    books: BookManager, dead_letter: ListDeadLetter
) -> None:
    asked: list[str] = []
    s = PolymarketStream(
        books,
        "t",
        stats=FeedStats(),
        dead_letter=dead_letter,
        meta=lambda token: ("5", False),
        on_resync=lambda t, r: asked.append(r),
    )
    real = load("ws_book_snapshot_captured.json")
    s.on_frame(real, 1)
    assert (s.stats.hash_checks, s.stats.hash_mismatches) == (1, 0)
    tampered = json.loads(real)
    tampered["bids"][0]["size"] = "1"
    s.on_frame(json.dumps(tampered).encode(), 2)
    assert (s.stats.hash_checks, s.stats.hash_mismatches) == (2, 1)
    assert asked == ["book hash mismatch"]
    assert books.book("polymarket:" + tampered["asset_id"]).state is BookState.AWAITING_SNAPSHOT


def test_price_change_frames_decode_the_same_with_or_without_the_fast_path(
    books: BookManager, dead_letter: ListDeadLetter
) -> None:
    # The venue sends the tag last ("event_type":"price_change"}): the stream decodes such frames
    # as price_change directly; any other order goes through the union. Both give the same events.
    frames = json.loads(load("ws_market_price_change_crossing_burst.json"))
    tag_last = [json.dumps(f, separators=(",", ":")).encode() for f in frames]
    tag_first = [json.dumps({"event_type": f.pop("event_type"), **f}, separators=(",", ":")).encode() for f in frames]
    assert sum(raw.endswith(b'"price_change"}') for raw in tag_last) == 49
    seen = []
    for raws in (tag_last, tag_first):
        s, events = stream(BookManager(), dead_letter)
        for i, raw in enumerate(raws):
            s.on_frame(raw, i)
        seen.append((events, s.stats.frames_by_type))
    assert seen[0] == seen[1]
    assert seen[0][1] == {"book": 2, "price_change": 49}
    assert dead_letter.items == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"event_type":"last_trade_price","asset_id":"1","market":"m","price":"0.5","size":"1","side":"BUY",'
        b'"timestamp":"1","note":"price_change"}',
        b'{"market":"m","timestamp":"1","event_type":"price_change"}',
        b'{"market":"m","timestamp":"x","price_changes":[],"event_type":"price_change"}',
    ],
)
def test_frames_that_only_look_like_price_change_get_the_general_decoder_verdict(
    raw: bytes, books: BookManager, dead_letter: ListDeadLetter
) -> None:
    s, events = stream(books, dead_letter)
    s.on_frame(raw, 1)
    if b"last_trade_price" in raw:  # not a price_change: the union decodes it for what it is
        assert s.stats.frames_by_type == {"last_trade_price": 1} and s.stats.trades == 1
        assert dead_letter.items == []
    else:  # a price_change without changes or with a bad timestamp: rejected, kept, counted
        assert s.stats.decode_errors == 1
        assert dead_letter.items[0][0] == raw
        assert events == []


def test_feed_counters_merge_the_hot_paths_delta_count(books: BookManager, dead_letter: ListDeadLetter) -> None:
    stats = FeedStats()
    stats.count("price_change")
    stats.count("book")
    # the first stream claims the typed delta counter (what was counted moves into it) ...
    s = PolymarketStream(books, "pm", stats=stats, dead_letter=dead_letter)
    assert stats.delta_kind == "price_change" and stats.delta_frames == 1
    s.on_frame(load("ws_market_price_change_msg.json"), 1)
    # ... a stream of another kind sharing the counters counts in the dict
    stats.claim_deltas("orderbook_delta")
    stats.count("orderbook_delta")
    assert stats.delta_kind == "price_change"
    assert stats.frames_by_type == {"price_change": 2, "book": 1, "orderbook_delta": 1}
    assert stats.as_dict()["frames_by_type"] == stats.frames_by_type
