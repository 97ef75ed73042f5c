"""The Python API (hadron.api, re-exported by the package): replay, books, ticks, pairs.

Live feeds over real sockets are in tests/integration/test_api_live.py; the examples of
docs/API.md run in tests/integration/test_api_docs.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

import hadron
import hadron.api
from hadron.app.demo import demo_capture
from hadron.app.replay import Replay, collect_events, dump_books
from hadron.arb.detector import ArbDetector
from hadron.arb.terms import load_arb_config
from hadron.extras import MissingExtra
from hadron.model.events import AggressorSide
from hadron.venues.polymarket.fake_scenario import pairs_toml, token_ids, transcode_kalshi, write_pair_recording
from tests.conftest import FIXTURES, REPO

KALSHI = FIXTURES / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
BURST = FIXTURES / "polymarket" / "ws_market_price_change_crossing_burst.json"
MIXED = FIXTURES / "polymarket" / "ws_market_mixed_known_unknown.json"
TICKER = "KXGOLD15M-26AUG102130-30"
GOLD = f"kalshi:{TICKER}"
_, YES, NO = token_ids(TICKER)


@pytest.fixture(autouse=True)
def _temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # default dead-letter files (created when a fixture frame is rejected) land in the test's folder
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _run(code: str, *, block: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter, with ``block`` made impossible to import (a core install without extras)
    blocker = textwrap.dedent(
        f"""
        import importlib.abc, sys
        BLOCKED = {set(block)!r}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.partition(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None
        sys.meta_path.insert(0, Block())
        """
    )
    return subprocess.run(
        [sys.executable, "-c", blocker + textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


# -- the package -----------------------------------------------------------------------------


def test_import_hadron_stays_light_and_the_api_loads_on_first_use() -> None:
    out = _run(
        """
        import sys, hadron
        print(sorted(m for m in sys.modules if m.startswith("hadron")))
        assert hadron.replay is hadron.api.replay and hadron.Trade is hadron.api.Trade
        print("hadron.app.replay" in sys.modules)
        """
    )
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()[:2]
    assert first == "['hadron', 'hadron._pure', 'hadron._version']"
    assert second == "True"


def test_the_package_re_exports_exactly_the_api() -> None:
    assert set(hadron._API_NAMES) == set(hadron.api.__all__)
    for name in hadron.api.__all__:
        assert getattr(hadron, name) is getattr(hadron.api, name)
    assert {"replay", "connect", "read_ticks"} <= set(dir(hadron))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = hadron.nope  # type: ignore[attr-defined]


def test_every_event_a_feed_or_the_account_gives_is_exported_and_documented() -> None:
    from hadron.model import account, events

    doc = (Path(hadron.__file__).parents[1] / "docs" / "API.md").read_text()
    names = ["IndexPrice", "FeeUpdate", "EventStatus", "AccountFill", "OrderUpdate", "PositionUpdate",
             "OrderGroupUpdate"]  # fmt: skip
    for name in names:
        assert name in hadron.api.__all__ and f"`{name}`" in doc, name
        assert getattr(hadron, name) is (getattr(events, name, None) or getattr(account, name))
    assert "1/100,000,000 USD" in doc and "1/1,000,000 USD" in doc


def test_without_the_extras_replay_works_and_tables_name_the_install() -> None:
    out = _run(
        f"""
        import hadron
        from hadron import logs
        logs.configure("error")
        events = list(hadron.replay({str(KALSHI)!r}))
        print(len(events))
        for call in (lambda: hadron.read_ticks("."), lambda: hadron.events_tables(events),
                     lambda: hadron.book_table(hadron.BookManager()), lambda: hadron.read_ticks_df(".")):
            try:
                call()
            except hadron.MissingExtra as exc:
                print(exc.extra, exc)
        """,
        block=("pyarrow", "duckdb", "pandas"),
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert int(lines[0]) > 300
    assert [line.split()[0] for line in lines[1:]] == ["parquet", "parquet", "parquet", "pandas"]
    assert "pip install 'hadron-markets[parquet]'" in lines[1]


# -- units -----------------------------------------------------------------------------------


def test_decimals_are_exact() -> None:
    assert hadron.price_decimal(4800) == Decimal("0.48") and str(hadron.price_decimal(4800)) == "0.4800"
    assert hadron.price_decimal(hadron.PRICE_ONE) == 1
    assert hadron.size_decimal(46_020_000) == Decimal("46.02")
    assert hadron.size_decimal(-1) == Decimal("-0.000001")
    assert hadron.money_decimal(12_500_000_000) == Decimal("1.25")
    assert hadron.money_decimal(1) * hadron.MONEY_SCALE == 1


# -- replay ----------------------------------------------------------------------------------


def test_replay_gives_the_events_the_replay_machinery_gives(tmp_path: Path) -> None:
    paths = [KALSHI, BURST, FIXTURES / "kalshi" / "trade.jsonl"]
    expected = collect_events(paths, tmp_path / "dl.ndjson")
    events = list(hadron.replay(paths))
    assert len(events) == len(expected) > 400
    assert events == expected  # bare frames included: their receive times follow a fixed rule
    assert {e.instrument.partition(":")[0] for e in events} == {"kalshi", "polymarket"}


def test_two_captures_are_merged_by_receive_time(tmp_path: Path) -> None:
    # the Kalshi capture and its Polymarket transcoding (a capture file of its own): one timeline
    poly = tmp_path / "polymarket.ndjson"
    with poly.open("wb") as out:
        for recv_ms, msg in transcode_kalshi([KALSHI]):
            out.write(msgspec.json.encode({"recv_ms": recv_ms + 1, "event": msg}) + b"\n")
    # (a BookInvalidated carries its book's last update times: left out)
    events = [e for e in hadron.replay([KALSHI, poly]) if not isinstance(e, hadron.BookInvalidated)]
    venues = [e.instrument.partition(":")[0] for e in events]
    # each input keeps its order (a line whose time goes back stays in place, at its
    # predecessor's time): merged, those running times never go back
    running = {"kalshi": 0, "polymarket": 0}
    merged = []
    for venue, event in zip(venues, events, strict=True):
        running[venue] = max(running[venue], event.ts_recv)
        merged.append(running[venue])
    assert merged == sorted(merged)
    assert venues.index("polymarket") < len(venues) - 1 - venues[::-1].index("kalshi")  # interleaved
    assert venues.count("polymarket") > venues.count("kalshi")  # two tokens of one market


def test_the_books_are_in_step_with_the_iteration() -> None:
    feed = hadron.replay([KALSHI, BURST], tops=True)
    mirror = hadron.BookManager()
    for seen, event in enumerate(feed, 1):
        if not isinstance(event, hadron.TopOfBook):
            hadron.apply_event(mirror, event)
        if seen in (40, 300):
            assert dump_books(feed.books) == dump_books(mirror)
            assert dump_books(feed.replay.books) != dump_books(feed.books)  # the streams' books run ahead
    assert dump_books(feed.books) == feed.dump_books() == dump_books(mirror)
    assert feed.books.states() == feed.replay.books.states()


def test_a_derived_top_follows_the_event_that_moved_it() -> None:
    feed = hadron.replay(KALSHI, tops=True)
    previous: hadron.MarketEvent | None = None
    tops = 0
    for event in feed:
        if isinstance(event, hadron.TopOfBook):
            tops += 1
            assert isinstance(previous, hadron.BookSnapshot | hadron.BookDelta | hadron.TopOfBook)
            book = feed.books.get(event.instrument)
            assert book is not None and hadron.top_of_book(book) == event
        previous = event
    assert tops > 50
    plain = list(hadron.replay(KALSHI))
    assert not any(isinstance(e, hadron.TopOfBook) for e in plain)  # the capture has no ticker frames


def test_filters_leave_events_out_but_the_books_whole(tmp_path: Path) -> None:
    everything = list(hadron.replay(FIXTURES))
    poly = hadron.replay(FIXTURES, venue="polymarket")
    events = list(poly)
    assert events and {e.instrument.partition(":")[0] for e in events} == {"polymarket"}
    assert all(f.venue != "kalshi" for f in poly.files)  # the Kalshi files were not read
    assert len(events) == sum(e.instrument.startswith("polymarket:") for e in everything)

    trades_only = list(hadron.replay(KALSHI, book_events=False))
    assert {type(e) for e in trades_only} == {hadron.Trade}
    one = hadron.replay([KALSHI, BURST], instruments=[GOLD], book_events=False)
    assert {e.instrument for e in one} == {GOLD}
    assert len(one.books) == 3  # every book kept, whatever is handed out
    assert len(hadron.replay(FIXTURES, venue=["kalshi", "polymarket"]).run().books) == len(
        hadron.replay(FIXTURES).run().books
    )


def test_bad_arguments_raise_when_called(tmp_path: Path) -> None:
    with pytest.raises(hadron.InputError, match="no such file"):
        hadron.replay(tmp_path / "absent.ndjson")
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(hadron.InputError, match="not a recognised recording"):
        hadron.replay(tmp_path / "notes.txt")
    with pytest.raises(hadron.ConfigError, match="unknown venue betfair"):
        hadron.replay(KALSHI, venue="betfair")
    with pytest.raises(hadron.ConfigError, match="seq_check"):
        hadron.replay(KALSHI, seq_check="loose")


def test_rejected_frames_go_to_the_dead_letter_file_and_the_report(tmp_path: Path) -> None:
    dead = tmp_path / "dl.ndjson"
    with hadron.replay(MIXED, dead_letter=dead) as feed:
        events = list(feed)
    assert len(events) == 2
    assert feed.report()["decode_errors"] == 1 and feed.report()["dead_letter"] == str(dead)
    assert "settlement_preview" in dead.read_text()
    clean = hadron.replay(KALSHI)
    clean.run()
    assert clean.dead_letter.count == 0 and not clean.dead_letter.path.exists()


def test_closing_early_stops_reading(tmp_path: Path) -> None:
    feed = hadron.replay(demo_capture())  # 16,000 frames
    first = next(feed)
    assert isinstance(first, hadron.BookSnapshot)
    feed.close()
    assert list(feed) == []
    assert feed.report()["frames"] < 16_000


# -- books -----------------------------------------------------------------------------------


def _snapshot(instrument: str = "kalshi:DEMO") -> hadron.BookSnapshot:
    return hadron.BookSnapshot(instrument, ((4800, 10_000_000), (4700, 5_000_000)), ((5100, 2_000_000),), 1, 10)


def test_apply_event_keeps_a_book_as_a_stream_would() -> None:
    books = hadron.BookManager()
    hadron.apply_event(books, _snapshot())
    book = books.get("kalshi:DEMO")
    assert book is not None and book.state is hadron.BookState.LIVE
    hadron.apply_event(
        books, hadron.BookDelta("kalshi:DEMO", hadron.BookSide.BID, 4800, -4_000_000, hadron.BookAction.CHANGE, 2, 20)
    )
    hadron.apply_event(books, hadron.Trade("kalshi:DEMO", 4800, 1, AggressorSide.BUY, "t", 3, 30))  # no book change
    assert hadron.top_of_book(book) == hadron.TopOfBook("kalshi:DEMO", 4800, 6_000_000, 5100, 2_000_000, 2, 20)
    hadron.apply_event(books, hadron.BookInvalidated("kalshi:DEMO", "gap", 2, 20))
    assert book.state is hadron.BookState.AWAITING_SNAPSHOT
    hadron.apply_event(books, _snapshot())
    hadron.apply_event(books, hadron.TickSizeChange("kalshi:DEMO", 100, 10, 4, 40))
    assert book.state is hadron.BookState.AWAITING_SNAPSHOT
    hadron.apply_event(books, _snapshot())
    with pytest.raises(hadron.BookError):
        hadron.apply_event(
            books, hadron.BookDelta("kalshi:DEMO", hadron.BookSide.ASK, 10_000, 1, hadron.BookAction.SET, 5, 50)
        )
    assert book.state is hadron.BookState.AWAITING_SNAPSHOT


def test_top_of_book_of_empty_sides() -> None:
    books = hadron.BookManager()
    hadron.apply_event(books, hadron.BookSnapshot("polymarket:1", (), ((3000, 1_000_000),), 5, 6))
    top = hadron.top_of_book(books.book("polymarket:1"))
    assert (top.bid_price, top.bid_size, top.ask_price, top.ask_size, top.ts_event, top.ts_recv) == (
        None, 0, 3000, 1_000_000, 5, 6,
    )  # fmt: skip
    assert hadron.top_of_book(books.book("polymarket:2")).ask_price is None  # a book with no snapshot


def test_book_table_holds_both_sides_best_first() -> None:
    pytest.importorskip("pyarrow")
    books = hadron.BookManager()
    hadron.apply_event(books, _snapshot("kalshi:A"))
    hadron.apply_event(books, hadron.BookSnapshot("kalshi:B", ((100, 1),), (), 7, 8))
    table = hadron.book_table(books)
    assert table.column_names == ["instrument", "ts_event", "ts_recv", "side", "level", "price", "size"]
    assert [(r["instrument"], r["side"], r["level"], r["price"], r["size"]) for r in table.to_pylist()] == [
        ("kalshi:A", "bid", 0, 4800, 10_000_000),
        ("kalshi:A", "bid", 1, 4700, 5_000_000),
        ("kalshi:A", "ask", 0, 5100, 2_000_000),
        ("kalshi:B", "bid", 0, 100, 1),
    ]
    assert hadron.book_table(books.book("kalshi:A"), depth=1).num_rows == 2
    assert hadron.book_table([]).num_rows == 0
    assert str(hadron.book_table(books).schema.field("price").type) == "int64"


def test_pandas_frames_of_books_and_ticks(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    feed = hadron.replay(KALSHI).run()
    frame = hadron.book_df(feed.books)
    assert list(frame.columns) == ["instrument", "ts_event", "ts_recv", "side", "level", "price", "size"]
    hadron.write_ticks(hadron.replay(KALSHI), tmp_path)
    trades = hadron.read_ticks_df(tmp_path, "trades")
    assert len(trades) == 13 and str(trades["price"].dtype) == "int64"


def test_pandas_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtra, match=r"hadron-markets\[pandas\]"):
        hadron.read_ticks_df(tmp_path)
    with pytest.raises(MissingExtra, match=r"hadron-markets\[pandas\]"):
        hadron.book_df(hadron.BookManager())


# -- tick store ------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    pytest.importorskip("pyarrow")
    events = list(hadron.replay([FIXTURES / "kalshi", FIXTURES / "polymarket"], tops=True))
    root = tmp_path / "ticks"
    rows = hadron.write_ticks(iter(events), root, batch_rows=100)  # several batches of files
    return root, {"events": events, "rows": rows}


def test_read_ticks_gives_back_what_was_written(store: tuple[Path, dict[str, object]]) -> None:
    root, data = store
    events = data["events"]
    assert isinstance(events, list)
    tables = hadron.events_tables(events)
    assert data["rows"] == {name: table.num_rows for name, table in tables.items()}
    from hadron.store.parquet import TABLES

    assert hadron.TABLES == TABLES  # kept here too: the store module needs pyarrow to import
    for name in hadron.TABLES:
        read = hadron.read_ticks(root, name)
        assert read.equals(tables[name]), name
        assert read.column_names[-3:] == ["venue", "date", "symbol"]
        times = read["ts_recv"].to_pylist()
        assert times == sorted(times)
    assert hadron.read_ticks(f"parquet:{root}", "quotes").equals(tables["quotes"])
    assert hadron.events_table(events, "book_deltas").equals(tables["book_deltas"])
    trades = tables["trades"].to_pylist()
    kalshi_trade = next(t for t in trades if t["instrument"] == GOLD)
    assert (
        kalshi_trade["venue"] == "kalshi" and kalshi_trade["symbol"] == TICKER and kalshi_trade["date"] == "2026-08-11"
    )


def test_read_ticks_filters(store: tuple[Path, dict[str, object]]) -> None:
    root, _ = store
    import pyarrow.compute as pc

    everything = hadron.read_ticks(root, "book_deltas")
    kalshi = hadron.read_ticks(root, "book_deltas", venue="kalshi")
    assert 0 < kalshi.num_rows < everything.num_rows and set(kalshi["venue"].to_pylist()) == {"kalshi"}
    poly = hadron.read_ticks(root, "book_deltas", instrument=f"polymarket:{YES}")
    assert poly.num_rows == 0  # the burst is another token
    burst_token = everything.filter(pc.equal(everything["venue"], "polymarket"))["instrument"][0].as_py()
    one = hadron.read_ticks(root, "book_deltas", instrument=burst_token)
    assert one.num_rows > 0 and set(one["instrument"].to_pylist()) == {burst_token}

    times = kalshi["ts_event"].to_pylist()
    middle = sorted(times)[len(times) // 2]
    later = hadron.read_ticks(root, "book_deltas", venue="kalshi", start=middle)
    earlier = hadron.read_ticks(root, "book_deltas", venue="kalshi", end=middle)
    assert later.num_rows + earlier.num_rows == kalshi.num_rows
    assert min(later["ts_event"].to_pylist()) == middle and max(earlier["ts_event"].to_pylist()) < middle
    as_datetime = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=middle // 1000)
    assert hadron.read_ticks(root, "book_deltas", venue="kalshi", start=as_datetime).num_rows >= later.num_rows
    assert hadron.read_ticks(root, "book_deltas", start=datetime(2030, 1, 1, tzinfo=UTC)).num_rows == 0


def test_read_ticks_errors_and_empty_tables(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    with pytest.raises(hadron.ConfigError, match="no such folder"):
        hadron.read_ticks(tmp_path / "absent")
    with pytest.raises(ValueError, match="table 'orders'"):
        hadron.read_ticks(tmp_path, "orders")
    with pytest.raises(ValueError, match="naive datetime"):
        hadron.read_ticks(tmp_path, start=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="ns since the epoch"):
        hadron.read_ticks(tmp_path, end="2026-01-01")  # type: ignore[arg-type]
    empty = hadron.read_ticks(tmp_path, "quotes")
    assert empty.num_rows == 0 and empty.column_names[:3] == ["instrument", "ts_event", "ts_recv"]
    assert hadron.events_tables([])["book_snapshots"].num_rows == 0
    with pytest.raises(ValueError, match="table"):
        hadron.events_table([], "orders")


# -- pairs and the detector ------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    recording = tmp_path / "both.ndjson"
    write_pair_recording([KALSHI], recording, shift=-2_500)
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(pairs_toml([TICKER], fee_rate="0.04", settles_at="2026-08-11T02:30:00Z"))
    return recording, pairs


def test_pairs_files_read_and_load(pair: tuple[Path, Path], tmp_path: Path) -> None:
    _, pairs = pair
    (found,) = hadron.read_pairs(pairs)
    assert found.id == TICKER and found.tradeable and found.polymarket_yes_token == YES
    config = hadron.load_pairs(str(pairs))
    assert [p.id for p in config.pairs] == [TICKER] and config.thresholds == hadron.Thresholds()
    tighter = hadron.load_pairs(pairs, thresholds={"min_profit": "0.05", "max_age_s": 10})
    assert tighter.thresholds.min_profit == 500_000_000 and tighter.thresholds.max_age_ns == 10**10
    with pytest.raises(hadron.ConfigError, match="unknown keys"):
        hadron.load_pairs(pairs, thresholds={"min_profits": "1"})
    bad = tmp_path / "bad.toml"
    bad.write_text(pairs.read_text().replace('polymarket_fee_rate = "0.04"\n', ""))
    with pytest.raises(hadron.ConfigError, match="polymarket_fee_rate"):
        hadron.arb_detector(hadron.BookManager(), bad)


def test_the_detector_finds_what_the_replay_command_finds(pair: tuple[Path, Path], tmp_path: Path) -> None:
    recording, pairs = pair
    # the machinery as `hadron replay --pairs` wires it: a detector on the streams' own books
    run = Replay(dead_letter=tmp_path / "dl.ndjson", seq_check="monotonic")
    reference = ArbDetector.from_config(run.books, load_arb_config(pairs))
    run.run([recording])
    # the API: a detector on the books in step with the iteration
    feed = hadron.replay(recording, seq_check="monotonic", book_events=False)
    detector = hadron.arb_detector(feed.books, hadron.load_pairs(pairs))
    changes: list[str] = []
    detector.add_listener(lambda opportunity, change: changes.append(change))
    for _ in feed:
        pass
    mine = [(o.id, o.opened_ns, o.closed_ns, o.size, o.net) for o in detector.results()]
    assert mine == [(o.id, o.opened_ns, o.closed_ns, o.size, o.net) for o in reference.results()]
    assert any(o.kind == "cross" for o in detector.results())
    assert changes.count("opened") == len(mine)

    table = hadron.opportunities_table(detector.results())
    assert table.num_rows == len(mine)
    first = table.to_pylist()[0]
    best = detector.results()[0]
    assert (first["id"], first["net"], first["size"]) == (best.id, best.net, best.size)
    assert [leg["venue"] for leg in first["legs"]] == [leg.venue for leg in best.legs]
    assert sum(leg["cost"] + leg["fee"] for leg in first["legs"]) == first["cost"]
    assert hadron.opportunities_table([]).num_rows == 0


def test_thresholds_given_to_the_detector_replace_the_files(pair: tuple[Path, Path]) -> None:
    recording, pairs = pair
    counts = []
    for thresholds in (None, {"min_profit": "1000"}):
        feed = hadron.replay(recording, seq_check="monotonic")
        detector = hadron.arb_detector(feed.books, hadron.load_pairs(pairs), thresholds=thresholds, intra=False)
        feed.run()
        counts.append(len(detector.results()))
    assert counts[0] > 0 and counts[1] == 0


def test_read_ticks_refuses_filters_that_could_only_match_nothing(tmp_path: Path) -> None:
    from hadron.errors import ConfigError

    pytest.importorskip("pyarrow")
    with pytest.raises(ValueError, match=r"give '<venue>:<symbol>', e\.g\. 'kalshi:KXGOLD'"):
        hadron.read_ticks(tmp_path, instrument="KXGOLD")
    with pytest.raises(ConfigError, match="unknown venue Kalshi"):
        hadron.read_ticks(tmp_path, venue="Kalshi")
    with pytest.raises(ConfigError, match="unknown venue kalsh"):
        hadron.read_ticks(tmp_path, instrument="kalsh:KXGOLD")
    assert hadron.read_ticks(tmp_path, venue="kalshi", instrument="kalshi:KXGOLD").num_rows == 0
