"""The event bus without a server: subjects, message ids, the codec, the in-process bus, seq accounting."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hadron.app.publisher import default_source_id
from hadron.app.sequence import SeqTracker
from hadron.app.strategy import Strategy
from hadron.bus import (
    EVENT_KINDS,
    BusDecodeError,
    BusError,
    Envelope,
    InProcessBus,
    decode_envelope,
    decode_token,
    encode_envelope,
    encode_token,
    make_envelope,
    message_id,
    open_bus,
    parse_subject,
    subject_for,
    subject_matches,
)
from hadron.bus.base import validate_filter
from hadron.bus.nats import parse_bus_options
from hadron.errors import ConfigError
from hadron.model.events import (
    AggressorSide,
    BookAction,
    BookDelta,
    BookInvalidated,
    BookSide,
    BookSnapshot,
    BusEvent,
    EventStatus,
    FeeUpdate,
    MarketEvent,
    MarketState,
    MarketStatus,
    OpportunityLeg,
    OpportunityUpdate,
    TickSizeChange,
    TopOfBook,
    Trade,
)

TOKEN = "76670567130917723816490572615540605537878462672464291990940067659127658071111"
DOTTED = "KXHIGHNY-24DEC12-B45.5"
TS = 1_786_410_987_242_000_000


def every_kind() -> list[BusEvent]:
    poly = f"polymarket:{TOKEN}"
    kalshi = f"kalshi:{DOTTED}"
    return [
        BookSnapshot(kalshi, ((4800, 46_020_000), (4700, 1_000_000)), ((5200, 10_000),), TS, TS + 1, tick=100),
        BookSnapshot(poly, (), (), TS, TS),
        BookDelta(kalshi, BookSide.BID, 4800, -1_000_000, BookAction.CHANGE, TS, TS + 5),
        BookDelta(poly, BookSide.ASK, 3010, 0, BookAction.SET, TS, TS, venue_bid=2900, venue_ask=3010),
        Trade(kalshi, 4800, 5_000_000, AggressorSide.SELL, "9f3c-trade", TS, TS + 9),
        TopOfBook(poly, None, 0, 3010, 7_000_000, TS, TS),
        TopOfBook(kalshi, 4800, 1, 5200, 2, TS, TS),
        MarketStatus(kalshi, MarketState.DETERMINED, TS, TS, result="yes", detail="determined"),
        MarketStatus(poly, MarketState.OPEN, TS, TS),
        TickSizeChange(poly, 100, 10, TS, TS),
        EventStatus("kalshi:KXEVENT-26", "An event", TS, TS, series="KXEVENT", strike_ns=TS),
        BookInvalidated(kalshi, "seq gap on sid 1: expected 8, got 9", TS, TS),
        FeeUpdate(
            "kalshi:event:KXHIGHNY-24DEC12", "event", "KXHIGHNY-24DEC12", "kalshi", "quadratic", Decimal("0.5"), TS, TS
        ),
        OpportunityUpdate(
            kalshi,
            "p/cross/kalshi_no+polymarket_yes/1",
            "p",
            "cross",
            "kalshi_no+polymarket_yes",
            "opened",
            (
                OpportunityLeg("kalshi", kalshi, "no", 22_000_000, 154_000_000_000, 3_300_000_000),
                OpportunityLeg("polymarket", poly, "yes", 22_000_000, 55_000_000_000, 1_650_000_000),
            ),
            22_000_000,
            213_950_000_000,
            220_000_000_000,
            4_950_000_000,
            6_050_000_000,
            6_050_000_000,
            TS,
            None,
            TS,
            TS,
        ),
    ]


# -- subjects ------------------------------------------------------------------------------------


def test_subjects_carry_venue_kind_and_a_subject_safe_symbol() -> None:
    delta = BookDelta(f"kalshi:{DOTTED}", BookSide.BID, 4800, 1, BookAction.SET, TS, TS)
    assert subject_for(delta) == "hadron.v1.kalshi.book_delta.KXHIGHNY-24DEC12-B45_2E5"
    trade = Trade(f"polymarket:{TOKEN}", 4800, 1, AggressorSide.BUY, "t", TS, TS)
    assert subject_for(trade) == f"hadron.v1.polymarket.trade.{TOKEN}"  # 78 digits, unchanged
    plain = TopOfBook("kalshi:KXGOLD15M-26AUG102130-30", None, 0, None, 0, TS, TS)
    assert subject_for(plain, "t1.hadron.v1") == "t1.hadron.v1.kalshi.top_of_book.KXGOLD15M-26AUG102130-30"


def test_every_kind_maps_to_its_struct_tag_and_parses_back() -> None:
    for event in every_kind():
        subject = subject_for(event)
        venue, kind, instrument = parse_subject(subject)
        assert kind == EVENT_KINDS[type(event)] == type(event).__struct_config__.tag
        assert instrument == event.instrument
        assert venue == event.instrument.split(":")[0]
        assert len(subject.split(".")) == 5
        assert not any(c in subject for c in "*> \t")
    assert set(EVENT_KINDS.values()) == {
        "book_delta",
        "book_snapshot",
        "trade",
        "top_of_book",
        "market_status",
        "tick_size_change",
        "book_invalidated",
        "event_status",
        "index_price",
        "fee_update",
        "opportunity",
    }


def test_token_escaping_is_reversible_and_escapes_the_escape_character() -> None:
    assert encode_token("A.B") == "A_2EB"
    assert encode_token("A_2EB") == "A_5F2EB"  # a literal "_2E" is not mistaken for an escaped dot
    assert decode_token("A_5F2EB") == "A_2EB"
    assert encode_token("a b*c>d") == "a_20b_2Ac_3Ed"
    assert encode_token("é") == "_C3_A9"
    with pytest.raises(ValueError):
        encode_token("")
    for bad in ("A.B", "A_2", "A_zz", "A__41"):
        with pytest.raises(ValueError):
            decode_token(bad)


@given(st.text(min_size=1, max_size=60))
def test_any_symbol_round_trips_through_one_token(symbol: str) -> None:
    token = encode_token(symbol)
    assert token and "." not in token and "*" not in token and ">" not in token
    assert not any(c.isspace() for c in token) and token.isascii()
    assert decode_token(token) == symbol


def test_unknown_venue_has_no_subject() -> None:
    with pytest.raises(ValueError):
        subject_for(Trade("nasdaq:AAPL", 1, 1, AggressorSide.BUY, "t", TS, TS))


def test_subject_filters_match_like_nats() -> None:
    subject = "hadron.v1.kalshi.book_delta.KX"
    assert subject_matches(">", "kalshi")
    assert subject_matches("hadron.v1.>", subject)
    assert subject_matches("hadron.v1.*.book_delta.*", subject)
    assert subject_matches("hadron.v1.kalshi.>", subject)
    assert not subject_matches("hadron.v1.polymarket.>", subject)
    assert not subject_matches("hadron.v1.*.trade.>", subject)
    assert not subject_matches("hadron.v1.kalshi", subject)
    assert not subject_matches("hadron.v1.kalshi.book_delta.KX.>", subject)
    for bad in ("", "a..b", ">.a", "a*.b", "a b"):
        with pytest.raises(ConfigError):
            validate_filter(bad)


# -- ids and codec -------------------------------------------------------------------------------


def test_message_ids_are_deterministic_per_source_and_seq() -> None:
    event = every_kind()[0]
    assert message_id("kalshi-a", 17) == "kalshi-a:17" == make_envelope("kalshi-a", 17, event).msg_id
    assert message_id("kalshi-a", 17) != message_id("kalshi-a", 18) != message_id("kalshi-b", 17)


@pytest.mark.parametrize("event", every_kind(), ids=lambda e: f"{type(e).__name__}")
def test_codec_round_trips_every_event_kind(event: MarketEvent) -> None:
    envelope = make_envelope("src", 42, event)
    data = encode_envelope(envelope)
    back = decode_envelope(data)
    assert back == envelope and type(back.event) is type(event)
    assert isinstance(back.event.instrument, str)
    wire = msgspec.msgpack.decode(data)
    assert wire[:3] == ["src:42", "src", 42] and wire[3]["kind"] == EVENT_KINDS[type(event)]


def test_bad_bytes_are_a_bus_decode_error_that_keeps_them() -> None:
    for data in (b"\x93\xa1a\xa1b\x01", b"not msgpack", msgspec.msgpack.encode(["id", "s", 1, {"kind": "nope"}])):
        with pytest.raises(BusDecodeError) as caught:
            decode_envelope(data)
        assert caught.value.data == data


# -- in-process bus ------------------------------------------------------------------------------


def envelopes(n: int, source: str = "s", start: int = 0) -> list[Envelope]:
    kinds = every_kind()
    return [make_envelope(source, seq, kinds[seq % len(kinds)]) for seq in range(start, start + n)]


@pytest.mark.asyncio
async def test_in_process_bus_delivers_in_order_to_every_subscriber() -> None:
    bus = InProcessBus()
    plain: list[Envelope] = []
    awaited: list[Envelope] = []

    async def slow(envelope: Envelope) -> None:
        await asyncio.sleep(0)
        awaited.append(envelope)

    await bus.subscribe(plain.append)
    await bus.subscribe(slow, durable="strategy")
    sent = envelopes(500)
    assert await bus.publish_many(sent) == (500, 0)
    await bus.drain()
    assert plain == sent and awaited == sent
    await bus.close()
    with pytest.raises(BusError):
        await bus.publish(sent[0])


@pytest.mark.asyncio
async def test_in_process_bus_filters_subjects_and_drops_duplicate_ids() -> None:
    bus = InProcessBus()
    kalshi: list[Envelope] = []
    deltas: list[Envelope] = []
    await bus.subscribe(kalshi.append, subjects="kalshi.>")
    await bus.subscribe(deltas.append, subjects="*.book_delta.*")
    sent = envelopes(40)
    await bus.publish_many(sent)
    assert await bus.publish_many(sent[:5]) == (0, 5)
    assert await bus.publish(sent[0]) == (0, 1)
    await bus.drain()
    assert kalshi == [e for e in sent if e.event.instrument.startswith("kalshi:")]
    assert deltas == [e for e in sent if type(e.event) is BookDelta]
    assert (bus.stats.published, bus.stats.duplicates) == (40, 6)
    await bus.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(("policy", "kept"), [("drop_oldest", [0, 8, 9]), ("drop_newest", [0, 1, 2])])
async def test_in_process_bus_overflow_drops_are_counted(policy: str, kept: list[int]) -> None:
    bus = InProcessBus(queue_size=2, overflow=policy)  # type: ignore[arg-type]
    gate = asyncio.Event()
    got: list[int] = []

    async def blocked(envelope: Envelope) -> None:
        await gate.wait()
        got.append(envelope.seq)

    sub = await bus.subscribe(blocked)
    await bus.publish(envelopes(1)[0])
    await asyncio.sleep(0)  # the subscriber holds seq 0 in its handler; the queue is empty
    await bus.publish_many(envelopes(9, start=1))
    assert await sub.pending() == 3
    gate.set()
    await bus.drain()
    assert got == kept
    assert (bus.stats.overflows, bus.stats.dropped, sub.dropped) == (7, 7, 7)
    await bus.close()


@pytest.mark.asyncio
async def test_in_process_bus_blocking_overflow_loses_nothing() -> None:
    bus = InProcessBus(queue_size=4)
    got: list[int] = []

    async def slow(envelope: Envelope) -> None:
        await asyncio.sleep(0)
        got.append(envelope.seq)

    await bus.subscribe(slow)
    await bus.publish_many(envelopes(300))
    await bus.close()  # drains first
    assert got == list(range(300))
    assert bus.stats.overflows > 0 and bus.stats.dropped == 0


@pytest.mark.asyncio
async def test_in_process_handler_errors_are_counted_and_delivery_goes_on() -> None:
    bus = InProcessBus()
    got: list[int] = []

    def picky(envelope: Envelope) -> None:
        if envelope.seq == 3:
            raise RuntimeError("boom")
        got.append(envelope.seq)

    sub = await bus.subscribe(picky)
    await bus.publish_many(envelopes(6))
    await bus.drain()
    assert got == [0, 1, 2, 4, 5]
    assert (sub.delivered, sub.failed) == (5, 1)
    await sub.close()
    await bus.publish_many(envelopes(3, start=10))  # nobody listens any more
    await bus.close()


@pytest.mark.asyncio
async def test_in_process_bus_rejects_bad_settings() -> None:
    with pytest.raises(ConfigError):
        InProcessBus(queue_size=0)
    with pytest.raises(ConfigError):
        InProcessBus(overflow="spill")  # type: ignore[arg-type]
    bus = InProcessBus()
    await bus.subscribe(lambda e: None, durable="one")
    with pytest.raises(ConfigError):
        await bus.subscribe(lambda e: None, durable="one")
    with pytest.raises(ConfigError):
        await bus.subscribe(lambda e: None, durable="has.dot")
    with pytest.raises(ConfigError):
        await bus.subscribe(lambda e: None, subjects="a..b")
    await bus.close()


@pytest.mark.asyncio
async def test_open_bus_picks_by_scheme() -> None:
    for url in (None, "memory://"):
        bus = await open_bus(url)
        assert isinstance(bus, InProcessBus)
        await bus.close()
    for url in ("redis://localhost", "http://x", "nats://h:4222?colour=blue", "nats://h:4222?max_bytes=lots"):
        with pytest.raises(ConfigError):
            await open_bus(url)
    assert parse_bus_options("stream=T1&max_age_s=60&replicas=3") == {"stream": "T1", "max_age_s": 60.0, "replicas": 3}


# -- seq accounting and the strategy -------------------------------------------------------------


def test_seq_tracker_counts_duplicates_gaps_and_holes() -> None:
    t = SeqTracker()
    for seq in (0, 1, 2, 2, 5, 3, 0, 7):
        t.see(seq)
    assert (t.received, t.unique, t.duplicates, t.gaps, t.missing) == (8, 6, 2, 2, 2)
    assert t.ranges() == [[0, 3], [5, 5], [7, 7]]
    t.see(4)
    t.see(6)
    assert t.ranges() == [[0, 7]] and t.missing == 0 and not t.ahead


def test_seq_tracker_bounds_what_it_holds_above_a_hole() -> None:
    t = SeqTracker(max_ahead=3)
    for seq in (0, 2, 3, 4, 5, 6):
        t.see(seq)
    assert t.ranges() == [[0, 0], [2, 6]] and t.missing == 1 and not t.ahead
    assert not t.see(1)  # given up on: counted as a duplicate, never applied twice
    late = SeqTracker()
    assert late.first_seq == -1
    for seq in (40, 41, 43):
        late.see(seq)
    assert late.first_seq == 40 and late.missing == 41 and late.ranges() == [[40, 41], [43, 43]]


def test_strategy_applies_each_seq_once_and_keeps_books() -> None:
    strategy = Strategy()
    seen: list[int] = []
    strategy.on_event.append(lambda envelope, books: seen.append(envelope.seq))
    inst = "kalshi:KX"
    snap = BookSnapshot(inst, ((4000, 10),), ((6000, 5),), TS, TS)
    delta = BookDelta(inst, BookSide.BID, 4000, 5, BookAction.CHANGE, TS, TS)
    for envelope in (make_envelope("a", 0, snap), make_envelope("a", 1, delta), make_envelope("a", 1, delta)):
        strategy.handle(envelope)
    report = strategy.report()
    assert seen == [0, 1]
    assert report["books"] == {inst: {"bids": [["0.4000", "0.000015"]], "asks": [["0.6000", "0.000005"]]}}
    assert (report["events"], report["received"], report["duplicates"]) == (2, 3, 1)
    assert report["sources"]["a"]["by_kind"] == {"book_delta": 1, "book_snapshot": 1}
    assert report["tops"][inst]["changes"] == 2


def test_strategy_hook_errors_do_not_stop_it() -> None:
    def broken(envelope: Envelope, books: object) -> None:
        raise RuntimeError("not yet")

    strategy = Strategy(on_event=[broken])
    strategy.handle(make_envelope("a", 0, every_kind()[4]))
    assert strategy.hook_errors == 1 and strategy.report()["events"] == 1


def test_default_source_id_is_stable_and_path_specific(tmp_path: Path) -> None:
    a, b = tmp_path / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz", tmp_path / "burst.json"
    first = default_source_id([a])
    assert first == default_source_id([a]) and first.startswith("KXGOLD15M-26AUG102130-30_reconnect-")
    assert default_source_id([b]) != first and default_source_id([a, b]) != first
