"""Kalshi: decoding real frames, normalization, and the per-connection stream's sequencing."""

from __future__ import annotations

import gzip
import json

import msgspec
import pytest

from hadron.book.manager import BookManager, BookState
from hadron.model.events import AggressorSide, BookAction, BookSide, MarketState, Trade
from hadron.model.units import PRICE_ONE
from hadron.venues.base import FeedStats, SeqMode
from hadron.venues.kalshi.messages import (
    CAPTURE_DECODER,
    FRAME_DECODER,
    KalshiError,
    KalshiOk,
    KalshiOrderbookDelta,
    KalshiOrderbookSnapshot,
    KalshiSubscribed,
    KalshiTicker,
    KalshiTrade,
    KalshiUnsubscribed,
)
from hadron.venues.kalshi.normalize import (
    normalize_delta,
    normalize_lifecycle,
    normalize_snapshot,
    normalize_ticker,
    normalize_trade,
)
from hadron.venues.kalshi.stream import KalshiStream
from tests.conftest import FIXTURES, ListDeadLetter

RECONNECT = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
TICKER = "KXGOLD15M-26AUG102130-30"
INST = f"kalshi:{TICKER}"

# Verbatim live frames quoted in docs/protocols/kalshi.md#messages (demo, 2026-08-27) and the AsyncAPI examples
SNAPSHOT = b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"KXGOLDH-26AUG2711-T4615.99","market_id":"ef793c45-beed-4096-8a3a-1c70af894be7","yes_dollars_fp":[["0.0100","1410.00"]],"no_dollars_fp":[["0.0100","100.00"],["0.0200","2500.00"]]}}'
DELTA = b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"KXGOLDH-26AUG2711-T4615.99","market_id":"ef793c45-beed-4096-8a3a-1c70af894be7","price_dollars":"0.0100","delta_fp":"10.00","side":"yes","ts":"2026-08-27T13:56:23.996443Z","ts_ms":1787838983996}}'
EMPTY_SNAPSHOT = b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"KXBTCD-25AUG2617-T112999.99","market_id":""}}'
SUBSCRIBED = b'{"type":"subscribed","id":1,"msg":{"channel":"orderbook_delta","sid":1}}'
OK_TICKERS = b'{"type":"ok","id":2,"sid":1,"seq":108,"msg":{"market_tickers":["KXGOLDH-26AUG2711-T4615.99","KXGOLDH-26AUG2711-T4617.99"]}}'
OK_LIST = b'{"id":3,"type":"ok","msg":[{"channel":"orderbook_delta","sid":1},{"channel":"ticker","sid":2},{"channel":"fill","sid":3}]}'
UNSUBSCRIBED = b'{"id":102,"sid":2,"seq":7,"type":"unsubscribed"}'
ERROR = b'{"type":"error","id":3,"msg":{"code":8,"msg":"Unknown channel name"}}'
TICKER_LIVE = b'{"type":"ticker","sid":4,"msg":{"market_id":"ef793c45-beed-4096-8a3a-1c70af894be7","market_ticker":"KXGOLDH-26AUG2711-T4615.99","price_dollars":"0.0000","yes_bid_dollars":"0.0100","yes_ask_dollars":"0.9800","volume_fp":"0.00","open_interest_fp":"0.00","yes_bid_size_fp":"1410.00","yes_ask_size_fp":"2500.00","last_trade_size_fp":"0.00","ts":1787838990,"ts_ms":1787838990880}}'
LIFECYCLE_DETERMINED = b'{"type":"market_lifecycle_v2","sid":13,"seq":3,"msg":{"market_ticker":"INXD-23SEP14-B4487","event_type":"determined","determination_ts":1694721700,"result":"yes","settlement_value":"1.0000"}}'


def capture_lines() -> list[bytes]:
    with gzip.open(RECONNECT, "rb") as fh:
        return [line.rstrip(b"\n") for line in fh]


def stream(books: BookManager, dead: ListDeadLetter, mode: SeqMode = SeqMode.STRICT) -> KalshiStream:
    return KalshiStream(books, "test", stats=FeedStats(), dead_letter=dead, seq_mode=mode)


def frame(kind: str, sid: int, seq: int, **msg: object) -> bytes:
    return json.dumps({"type": kind, "sid": sid, "seq": seq, "msg": msg}).encode()


def delta(seq: int, price: str, change: str, side: str = "yes", sid: int = 1, ticker: str = "T") -> bytes:
    return frame(
        "orderbook_delta", sid, seq, market_ticker=ticker, price_dollars=price, delta_fp=change, side=side, ts_ms=5
    )


def snapshot(seq: int, yes: list[list[str]] | None = None, no: list[list[str]] | None = None, sid: int = 1) -> bytes:
    msg: dict[str, object] = {"market_ticker": "T"}
    if yes is not None:
        msg["yes_dollars_fp"] = yes
    if no is not None:
        msg["no_dollars_fp"] = no
    return frame("orderbook_snapshot", sid, seq, **msg)


# -- decoding --------------------------------------------------------------------------------


def test_every_line_of_the_real_capture_excerpt_decodes() -> None:
    kinds = [type(CAPTURE_DECODER.decode(line).event) for line in capture_lines()]
    assert kinds.count(KalshiOrderbookSnapshot) == 4
    assert kinds.count(KalshiOrderbookDelta) == 327
    assert kinds.count(KalshiTrade) == 13


def test_control_frames_decode_to_their_types() -> None:
    sub = FRAME_DECODER.decode(SUBSCRIBED)
    assert isinstance(sub, KalshiSubscribed) and (sub.id, sub.msg.channel, sub.msg.sid) == (1, "orderbook_delta", 1)
    ok = FRAME_DECODER.decode(OK_TICKERS)
    assert isinstance(ok, KalshiOk) and ok.seq == 108
    listed = FRAME_DECODER.decode(OK_LIST)
    assert isinstance(listed, KalshiOk) and isinstance(listed.msg, list) and [s.sid for s in listed.msg] == [1, 2, 3]
    assert isinstance(FRAME_DECODER.decode(UNSUBSCRIBED), KalshiUnsubscribed)
    err = FRAME_DECODER.decode(ERROR)
    assert isinstance(err, KalshiError) and err.msg.code == 8


def test_unknown_fields_are_ignored_and_missing_optional_fields_are_fine() -> None:
    # the 2026-02 ticker frames carry legacy cent fields and an undocumented "Clock"
    lines = (FIXTURES / "kalshi" / "ticker.jsonl").read_bytes().splitlines()
    tickers = [FRAME_DECODER.decode(line) for line in lines]
    assert all(isinstance(t, KalshiTicker) for t in tickers)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T"}}',  # missing fields
        b'{"type":"orderbook_delta","sid":"1","seq":2,"msg":{"market_ticker":"T","price_dollars":"0.1","delta_fp":"1","side":"yes"}}',
        b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price_dollars":"0.1","delta_fp":"1","side":"maybe"}}',
        b'{"type":"quote_teleported","sid":1,"seq":2,"msg":{}}',  # unknown type
        b'{"type":"orderbook_delta","sid":1,',  # truncated
        # a time whose nanoseconds do not fit 64 bits (the compiled hot path computes them so)
        b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price_dollars":"0.1","delta_fp":"1",'
        b'"side":"yes","ts_ms":9223372036855}}',
        b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price_dollars":"0.1","delta_fp":"1",'
        b'"side":"yes","ts_ms":-1}}',
    ],
)
def test_malformed_frames_raise_decode_errors(raw: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        FRAME_DECODER.decode(raw)


# -- normalization ---------------------------------------------------------------------------


def test_snapshot_becomes_a_yes_book_with_asks_from_no_bids() -> None:
    snap = normalize_snapshot(FRAME_DECODER.decode(SNAPSHOT), ts_recv=7)  # type: ignore[arg-type]
    assert snap.instrument == "kalshi:KXGOLDH-26AUG2711-T4615.99"
    assert snap.bids == ((100, 1_410_000_000),)
    # NO bids at 0.02 and 0.01 are YES asks at 0.98 and 0.99, best (lowest) first
    assert snap.asks == ((9800, 2_500_000_000), (9900, 100_000_000))
    assert snap.ts_event == snap.ts_recv == 7


def test_snapshot_with_missing_keys_is_an_empty_book() -> None:
    snap = normalize_snapshot(FRAME_DECODER.decode(EMPTY_SNAPSHOT), ts_recv=1)  # type: ignore[arg-type]
    assert snap.bids == () and snap.asks == ()


def test_snapshot_in_yes_price_terms_is_not_flipped() -> None:
    snap = normalize_snapshot(FRAME_DECODER.decode(SNAPSHOT), 1, yes_price=True)  # type: ignore[arg-type]
    assert snap.asks == ((100, 100_000_000), (200, 2_500_000_000))


def test_delta_carries_venue_time_and_signed_change() -> None:
    d = normalize_delta(FRAME_DECODER.decode(DELTA), ts_recv=9)  # type: ignore[arg-type]
    assert (d.side, d.price, d.size, d.action) == (BookSide.BID, 100, 10_000_000, BookAction.CHANGE)
    assert d.ts_event == 1787838983996 * 1_000_000 and d.ts_recv == 9
    no = normalize_delta(FRAME_DECODER.decode(delta(3, "0.4800", "-40.00", side="no")), 1)  # type: ignore[arg-type]
    assert (no.side, no.price, no.size) == (BookSide.ASK, PRICE_ONE - 4800, -40_000_000)


def test_trade_is_priced_in_yes_terms_with_the_taker_as_aggressor() -> None:
    line = (FIXTURES / "kalshi" / "trade.jsonl").read_bytes().splitlines()[0]
    trade = normalize_trade(FRAME_DECODER.decode(line), ts_recv=1)  # type: ignore[arg-type]
    assert trade == Trade(
        "kalshi:KXSOLD-26FEB1217-T79.9999",
        7700,
        75_000_000,
        AggressorSide.BUY,
        "f851595a-6d92-424e-09f8-0d2669de70ae",
        1770897981 * 10**9,
        1,
    )


def test_ticker_becomes_the_venue_top_of_book() -> None:
    top = normalize_ticker(FRAME_DECODER.decode(TICKER_LIVE), 1)  # type: ignore[arg-type]
    assert (top.bid_price, top.bid_size, top.ask_price, top.ask_size) == (100, 1_410_000_000, 9800, 2_500_000_000)
    # an ask of 1.0000 is no ask at all
    no_ask = FRAME_DECODER.decode((FIXTURES / "kalshi" / "ticker.jsonl").read_bytes().splitlines()[1])
    assert normalize_ticker(no_ask, 1).ask_price is None  # type: ignore[arg-type]


def test_lifecycle_determined_carries_the_result() -> None:
    status = normalize_lifecycle(FRAME_DECODER.decode(LIFECYCLE_DETERMINED), 1)  # type: ignore[arg-type]
    assert (status.state, status.result, status.ts_event) == (MarketState.DETERMINED, "yes", 1694721700 * 10**9)


# -- the stream ------------------------------------------------------------------------------


def test_reconnect_excerpt_rebases_on_the_fresh_snapshot(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter, SeqMode.MONOTONIC)
    for line in capture_lines():
        s.on_capture_line(line)
    assert s.stats.seq_resets == 2  # sid 1 (book) and sid 2 (trades) restart
    assert books.stats.resyncs == 1
    assert books.stats.snapshot_clears == 2
    assert books.stats.negative_levels == 0 and books.stats.crossed_books == 0
    assert dead_letter.items == []
    assert books.book(INST).state is BookState.LIVE and books.book(INST).is_empty


def test_acks_consume_sequence_numbers(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter)
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 1)
    s.on_frame(b'{"type":"ok","id":2,"sid":1,"seq":2,"msg":{"market_tickers":["T"]}}', 2)
    s.on_frame(delta(3, "0.4000", "5.00"), 3)
    assert s.stats.seq_gaps == 0
    assert books.book("kalshi:T").best_bid == (4000, 15_000_000)


def test_gap_in_strict_mode_waits_for_a_snapshot_and_asks_for_one(
    books: BookManager, dead_letter: ListDeadLetter
) -> None:
    asked: list[tuple[int, list[str]]] = []
    s = KalshiStream(
        books,
        "c",
        stats=FeedStats(),
        dead_letter=dead_letter,
        on_resync=lambda sid, tickers, _: asked.append((sid, tickers)),
    )
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 1)
    s.on_frame(delta(5, "0.4000", "5.00"), 2)  # 2..4 lost
    s.on_frame(delta(6, "0.4000", "5.00"), 3)
    assert s.stats.seq_gaps == 1
    assert asked == [(1, ["T"])]
    assert books.book("kalshi:T").state is BookState.AWAITING_SNAPSHOT
    assert books.stats.deltas_dropped == 2
    s.on_frame(snapshot(7, yes=[["0.4000", "20.00"]]), 4)
    s.on_frame(delta(8, "0.4000", "1.00"), 5)
    assert books.book("kalshi:T").state is BookState.LIVE
    assert books.book("kalshi:T").best_bid == (4000, 21_000_000)
    assert books.stats.resyncs == 1


def test_jumps_are_tolerated_in_monotonic_mode(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter, SeqMode.MONOTONIC)
    s.on_frame(snapshot(10, yes=[["0.4000", "10.00"]]), 1)
    s.on_frame(delta(15, "0.4000", "5.00"), 2)
    assert (s.stats.seq_gaps, s.stats.seq_jumps) == (0, 1)
    assert books.book("kalshi:T").best_bid == (4000, 15_000_000)


def test_duplicate_seq_is_dropped(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter)
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 1)
    s.on_frame(delta(2, "0.4000", "5.00"), 2)
    s.on_frame(delta(2, "0.4000", "5.00"), 3)
    assert s.stats.seq_duplicates == 1
    assert books.book("kalshi:T").best_bid == (4000, 15_000_000)


def test_a_new_connection_does_not_apply_deltas_to_a_book_it_did_not_snapshot(books: BookManager) -> None:
    first = stream(books, ListDeadLetter())
    first.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 1)
    second = KalshiStream(books, "other", stats=FeedStats(), dead_letter=ListDeadLetter())
    second.on_frame(delta(1, "0.4000", "5.00"), 2)
    assert books.book("kalshi:T").state is BookState.AWAITING_SNAPSHOT
    assert books.stats.deltas_dropped == 1


def test_negative_level_invalidates_the_book(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter)
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 1)
    s.on_frame(delta(2, "0.4000", "-10.01"), 2)
    assert books.stats.negative_levels == 1
    assert books.book("kalshi:T").state is BookState.AWAITING_SNAPSHOT


def test_terminal_error_on_a_subscription_asks_for_resync(books: BookManager, dead_letter: ListDeadLetter) -> None:
    asked: list[str] = []
    s = KalshiStream(
        books, "c", stats=FeedStats(), dead_letter=dead_letter, on_resync=lambda sid, t, why: asked.append(why)
    )
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 1)
    s.on_frame(b'{"type":"error","sid":1,"seq":2,"msg":{"code":25,"msg":"Subscription buffer overflow"}}', 2)
    assert asked == ["terminal"]
    assert books.book("kalshi:T").state is BookState.AWAITING_SNAPSHOT


def test_bad_frames_are_counted_and_dead_lettered_without_stopping(
    books: BookManager, dead_letter: ListDeadLetter
) -> None:
    s = stream(books, dead_letter)
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 1)
    s.on_frame(b'{"type":"orderbook_delta","sid":1,', 2)
    s.on_frame(b"\xff\xfe not utf-8", 3)
    s.on_frame(delta(2, "0.40001", "1.00"), 4)  # finer than $0.0001: the book lost an update
    assert s.stats.decode_errors == 3
    assert [raw for raw, _, _ in dead_letter.items][:2] == [
        b'{"type":"orderbook_delta","sid":1,',
        b"\xff\xfe not utf-8",
    ]
    assert books.book("kalshi:T").state is BookState.AWAITING_SNAPSHOT
    s.on_frame(snapshot(3, yes=[["0.3000", "1.00"]]), 5)
    assert books.book("kalshi:T").best_bid == (3000, 1_000_000)


def test_crossed_book_is_counted(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter)
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]], no=[["0.5000", "10.00"]]), 1)  # ask 0.50
    s.on_frame(delta(2, "0.5500", "1.00"), 2)  # bid 0.55 > ask 0.50
    assert books.stats.crossed_books == 1


def test_frames_of_a_replaced_sid_are_ignored(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter)
    s.active_sids = set()
    s.on_frame(b'{"type":"subscribed","id":1,"msg":{"channel":"orderbook_delta","sid":1}}', 1)
    s.on_frame(snapshot(1, yes=[["0.4000", "10.00"]]), 2)
    s.on_frame(b'{"type":"subscribed","id":2,"msg":{"channel":"orderbook_delta","sid":3}}', 3)
    s.on_frame(delta(2, "0.4000", "5.00", sid=1), 4)  # the old sid keeps talking
    assert s.stats.stale_frames == 1
    assert s.sid_of("orderbook_delta") == 3
    assert books.book("kalshi:T").state is BookState.AWAITING_SNAPSHOT  # built on the replaced sid
    s.on_frame(snapshot(1, yes=[["0.4000", "12.00"]], sid=3), 5)
    s.on_frame(delta(2, "0.4000", "1.00", sid=3), 6)
    assert books.book("kalshi:T").best_bid == (4000, 13_000_000)


def test_retry_classifier_and_backoff() -> None:
    from websockets.datastructures import Headers
    from websockets.exceptions import InvalidStatus
    from websockets.http11 import Response

    from hadron.errors import AuthError, RequestError, TransportError
    from hadron.venues.kalshi.messages import KalshiErrorCode, error_name
    from hadron.venues.kalshi.ws import Backoff, classify, is_retryable

    def refused(status: int) -> InvalidStatus:
        return InvalidStatus(Response(status, "x", Headers(), b"nope"))

    assert isinstance(classify(refused(401)), AuthError) and not is_retryable(classify(refused(401)))
    assert isinstance(classify(refused(404)), RequestError) and not is_retryable(classify(refused(404)))
    for retried in (refused(429), refused(503), ConnectionRefusedError(), TimeoutError()):
        assert isinstance(classify(retried), TransportError) and is_retryable(classify(retried))
    backoff = Backoff(base=1.0, factor=2.0, max_delay=5.0, random_fn=lambda: 0.0)
    assert [backoff.next() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next() == 1.0
    assert Backoff(base=1.0, random_fn=lambda: 1.0).next() == 1.25  # up to 25 % jitter
    assert error_name(25) == "BUFFER_OVERFLOW" == KalshiErrorCode(25).name and error_name(99) == "UNKNOWN_99"


def test_a_capture_line_out_of_time_range_is_dead_lettered(books: BookManager, dead_letter: ListDeadLetter) -> None:
    s = stream(books, dead_letter)
    s.on_capture_line(b'{"recv_ms":9223372036855,"event":' + SNAPSHOT + b"}")
    s.on_capture_line(b'{"recv_ms":1787838983999,"event":' + SNAPSHOT + b"}")
    assert s.stats.decode_errors == 1 and len(dead_letter.items) == 1
    assert books.book(f"kalshi:{json.loads(SNAPSHOT)['msg']['market_ticker']}").state is BookState.LIVE
