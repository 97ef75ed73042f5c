"""A third venue from outside the package (tests/toyvenue) plugs in by one registry call.

One Hadron recording mixes a real Kalshi capture's frames with Toy frames; it replays through the
same pipeline as the built-in venues, the detector finds a Kalshi↔Toy cross opportunity net of
Toy's flat fee, and the paper trader takes it with Toy's latency from the registry.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import hadron
from hadron.arb.detector import ArbDetector
from hadron.arb.terms import load_arb_config
from hadron.book.manager import BookManager, BookState
from hadron.model.instrument import split_instrument_id
from hadron.model.venue import venue_info, venue_names
from hadron.paper.config import PaperConfig, RiskLimits
from hadron.paper.trader import PaperTrader
from hadron.venues.base import get_venue
from tests import toyvenue

FIXTURE = Path(__file__).parent.parent / "fixtures" / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
TICKER = "KXGOLD15M-26AUG102130-30"
KALSHI_LINES = 40
S = 1_000_000  # one share, size units
USD = hadron.MONEY_SCALE


@pytest.fixture
def toy() -> Iterator[None]:
    toyvenue.register()
    yield
    toyvenue.unregister()


def _recording(path: Path) -> None:
    # Kalshi's frames as recorded, then Toy's two outcome books right after the Kalshi snapshot:
    # Toy NO at 0.05 makes Kalshi YES + Toy NO far below $1; Toy YES at 0.99 makes the reverse lose.
    lines = []
    with gzip.open(FIXTURE, "rt") as fh:
        captured = [json.loads(line) for _, line in zip(range(KALSHI_LINES), fh, strict=False)]
    for n, record in enumerate(captured):
        recv_ns = record["recv_ms"] * 1_000_000
        lines.append({"recv_ns": recv_ns, "venue": "kalshi", "conn": "k1", "frame": json.dumps(record["event"])})
        if n == 0:
            ts_ms = record["recv_ms"] + 1
            for token, bids, asks in (
                ("TY", [["0.97", "50"]], [["0.99", "50"]]),
                ("TN", [["0.01", "50"]], [["0.05", "20"]]),
            ):
                frame = {"type": "toy_book", "token": token, "ts_ms": ts_ms, "bids": bids, "asks": asks}
                lines.append({"recv_ns": ts_ms * 1_000_000, "venue": "toy", "conn": "t1", "frame": json.dumps(frame)})
            trade = {"type": "toy_trade", "token": "TY", "ts_ms": ts_ms + 1, "id": "x1", "price": "0.99", "size": "2",
                     "taker": "buy"}  # fmt: skip
            lines.append({"recv_ns": (ts_ms + 1) * 1_000_000, "venue": "toy", "conn": "t1", "frame": json.dumps(trade)})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


PAIRS = f"""
[[pair]]
id = "gold~toy"
kalshi_event = "KXGOLD15M-26AUG102130"
kalshi_market = "{TICKER}"
toy_event = "gold-toy"
toy_market = "TOYGOLD"
toy_yes_token = "TY"
toy_no_token = "TN"
relation = "identity"
confidence = 1.0
status = "approved"
kalshi_fee_multiplier = "1"
toy_fee_per_share = "0.01"
toy_min_size = "1"
"""


def test_a_registered_venue_replays_arbitrages_and_paper_trades_beside_kalshi(tmp_path: Path, toy: None) -> None:
    assert venue_names()[-1] == "toy" and get_venue("toy") is toyvenue.ADAPTER
    assert split_instrument_id("toy:TY") == ("toy", "TY")
    recording = tmp_path / "mixed.ndjson"
    _recording(recording)
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(PAIRS)

    config = load_arb_config(pairs)
    (pair,) = config.pairs
    assert [leg.venue for leg in pair.legs] == ["kalshi", "toy"]
    assert config.terms[pair.id].legs[1].min_size == S
    books = BookManager()
    detector = ArbDetector.from_config(books, config)
    paper = PaperConfig()
    assert paper.latency["toy"].fixed_ms == venue_info("toy").paper_latency_ms == 20.0
    assert paper.initial_cash["toy"] == 5_000 * USD
    trader = PaperTrader(books, detector, paper, RiskLimits(max_data_age_ms=10**9))

    # (a) one replay, both venues, the same pipeline
    with hadron.replay(recording, books=books, seq_check="monotonic", book_events=False) as feed:
        events = list(feed)
        report = feed.report()
    assert any(e.instrument == "toy:TY" and type(e).__name__ == "Trade" for e in events)
    assert books.get(f"kalshi:{TICKER}") is not None
    for instrument in ("toy:TY", "toy:TN"):
        book = books.get(instrument)
        assert book is not None and book.state is BookState.LIVE
    assert report["decode_errors"] == 0, report

    # (b) Kalshi YES + Toy NO, net of both venues' fees
    found = [o for o in [*detector.closed, *detector.open.values()] if o.kind == "cross"]
    assert found, "Kalshi YES + Toy NO at 0.05 is well under $1"
    assert {o.direction for o in found} == {"kalshi_yes+toy_no"}
    opp = found[0]
    kalshi_leg, toy_leg = opp.legs
    assert (kalshi_leg.venue, toy_leg.venue, toy_leg.instrument) == ("kalshi", "toy", "toy:TN")
    assert toy_leg.fee == toy_leg.size * (USD // 100) // S  # $0.01 a share
    assert opp.net == opp.payout - opp.cost and opp.net > 0
    assert Decimal(opp.fees) == Decimal(kalshi_leg.fee + toy_leg.fee)

    # (c) the paper trader took it, each order travelling its venue's latency
    trader.finish()
    assert trader.trades, "the opportunity was paper-traded"
    orders = trader.trades[0].orders
    latency = {order.venue: order.arrival_ns - order.created_ns for order in orders}
    assert latency == {"kalshi": 50 * 1_000_000, "toy": 20 * 1_000_000}
    assert {order.venue for order in orders if order.filled} == {"kalshi", "toy"}


def test_a_registered_venues_capture_is_recognised_by_its_frames(tmp_path: Path, toy: None) -> None:
    from hadron.store.replay import RecordingFormat, detect

    capture = tmp_path / "toy.ndjson"
    frames = [
        {
            "type": "toy_book",
            "token": "TY",
            "ts_ms": 1_786_410_915_600,
            "bids": [["0.40", "5"]],
            "asks": [["0.45", "5"]],
        },
        {"type": "toy_level", "token": "TY", "ts_ms": 1_786_410_915_700, "side": "ask", "price": "0.44", "size": "3"},
    ]
    capture.write_text("".join(json.dumps({"recv_ms": f["ts_ms"], "event": f}) + "\n" for f in frames))
    detected = detect(capture)
    assert detected is not None and (detected.format, detected.venue) == (RecordingFormat.CAPTURE, "toy")
    with hadron.replay([FIXTURE, capture], seq_check="monotonic") as feed:
        events = list(feed)
        books = feed.books
    assert {e.instrument.partition(":")[0] for e in events} == {"kalshi", "toy"}
    book = books.get("toy:TY")
    assert book is not None and book.state is BookState.LIVE and book.levels_ask(1) == [(4400, 3 * S)]
