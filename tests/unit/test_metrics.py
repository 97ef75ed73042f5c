"""/metrics: Prometheus conventions (names, units, labels, enums, `_total`), the bound on label
cardinality, build info and process collectors, rejections by reason and each pair's best net edge."""

from __future__ import annotations

import platform
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

import hadron
from hadron.app.runtime import Runtime
from hadron.arb.detector import ArbDetector
from hadron.arb.edges import PairEdges
from hadron.arb.terms import OutcomeSet, Thresholds
from hadron.book.manager import BookManager
from hadron.config import load_config
from hadron.match.pairs import Pair
from hadron.metrics import (
    BOOK_STATES,
    REJECT_REASONS,
    RISK_REASONS,
    SUPPRESS_REASONS,
    CountingDeadLetter,
    RuntimeCollector,
    build_labels,
    build_registry,
    plan_series,
    reject_reason,
    short_id,
)
from hadron.model.events import BookSnapshot
from hadron.model.fees import NoFee
from hadron.venues.base import FeedStats
from hadron.venues.polymarket.stream import PolymarketStream
from tests.conftest import ListDeadLetter

S = 1_000_000  # one contract, size units
T0 = 1_790_000_000_123_456_789  # ns since the epoch

TICKERS = ("KXA-26-X", "KXB-26-Y", "KXC-26-Z")


def _condition(n: int) -> str:
    return "0x" + f"{n:02x}" * 32


def _tokens(n: int) -> tuple[str, str]:
    # 77-digit token ids (Polymarket's are up to 78): the first 12 digits tell the pairs apart
    return f"{n}1{n}" * 25 + f"{n}1", f"{n}2{n}" * 25 + f"{n}2"


def _pairs_toml(kalshi_fee: str = "0", poly_fee: str = "0") -> str:
    out = []
    for n, ticker in enumerate(TICKERS, 1):
        yes, no = _tokens(n)
        out.append(
            f'[[pair]]\nkalshi_event = "KX{n}"\nkalshi_market = "{ticker}"\npolymarket_event = "event-{n}"\n'
            f'polymarket_market = "{_condition(n)}"\npolymarket_yes_token = "{yes}"\npolymarket_no_token = "{no}"\n'
            f'relation = "identity"\nconfidence = 1.0\nstatus = "approved"\n'
            f'kalshi_fee_multiplier = "{kalshi_fee}"\npolymarket_fee_rate = "{poly_fee}"\n'
        )
    return "\n".join(out)


def _runtime(tmp_path: Path, extra: str = "", **fees: str) -> Runtime:
    (tmp_path / "pairs.toml").write_text(_pairs_toml(**fees))
    (tmp_path / "hadron.toml").write_text(
        f'[runtime]\npairs = "{tmp_path / "pairs.toml"}"\nport = 0\nstate = ""\n{extra}'
    )
    return Runtime(load_config(tmp_path / "hadron.toml", environ={}, dotenv=None))


def _scrape(runtime: Runtime) -> tuple[str, dict[str, Any]]:
    text = generate_latest(build_registry(runtime.metrics_snapshot)).decode()
    return text, {f.name: f for f in text_string_to_metric_families(text)}


def _samples(families: dict[str, Any], name: str) -> list[Sample]:
    return list(families[name].samples) if name in families else []


def _snap(books: BookManager, instrument: str, bid: int, ask: int, ts: int, size: int = 10 * S) -> None:
    books.apply_snapshot(BookSnapshot(instrument, ((bid, size),), ((ask, size),), ts, ts))


# -- books ------------------------------------------------------------------------------------------


def test_book_series_carry_venue_a_short_instrument_a_state_enum_and_the_last_update(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    yes, no = _tokens(1)
    _snap(runtime.books, "kalshi:KXA-26-X", 4000, 4500, T0)
    _snap(runtime.books, f"polymarket:{yes}", 4800, 5200, T0 + 10**9)
    _snap(runtime.books, f"polymarket:{no}", 4600, 5300, T0 + 2 * 10**9)
    runtime.books.mark_stale(T0 + 3 * 10**9, 10**8, [f"polymarket:{no}"])
    text, families = _scrape(runtime)
    assert "hadron_book_live" not in text and "hadron_book_age_seconds" not in text  # replaced
    states: dict[tuple[str, str], dict[str, float]] = {}
    for sample in _samples(families, "hadron_book_state"):
        key = (sample.labels["venue"], sample.labels["instrument"])
        states.setdefault(key, {})[sample.labels["state"]] = sample.value
    label = f"KXA-26-X~{_condition(1)[:10]}"
    assert states[("kalshi", "KXA-26-X")] == {"live": 1, "awaiting_snapshot": 0, "stale": 0}
    assert states[("polymarket", f"{label}/yes")] == {"live": 1, "awaiting_snapshot": 0, "stale": 0}
    assert states[("polymarket", f"{label}/no")] == {"live": 0, "awaiting_snapshot": 0, "stale": 1}
    # every instrument of every approved pair has its series (one per possible state), one at 1
    assert len(states) == 9 and all(set(s) == set(BOOK_STATES) and sum(s.values()) == 1 for s in states.values())
    assert states[("kalshi", "KXB-26-Y")]["awaiting_snapshot"] == 1  # no book yet
    updated = {
        (s.labels["venue"], s.labels["instrument"]): s.value
        for s in _samples(families, "hadron_book_last_update_timestamp_seconds")
    }
    assert updated == {
        ("kalshi", "KXA-26-X"): pytest.approx(T0 / 1e9),
        ("polymarket", f"{label}/yes"): pytest.approx(T0 / 1e9 + 1),
        ("polymarket", f"{label}/no"): pytest.approx(T0 / 1e9 + 2),
    }  # Unix seconds; absent for the books never updated
    counts = {(s.labels["venue"], s.labels["state"]): s.value for s in _samples(families, "hadron_books")}
    assert counts[("kalshi", "live")] == 1 and counts[("polymarket", "live")] == 1
    assert counts[("polymarket", "stale")] == 1 and counts[("kalshi", "stale")] == 0


def test_every_label_value_is_short_and_every_book_and_feed_series_has_a_venue(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    for n in (1, 2, 3):
        yes, no = _tokens(n)
        _snap(runtime.books, f"kalshi:{TICKERS[n - 1]}", 4000, 4500, T0)
        _snap(runtime.books, f"polymarket:{yes}", 4800, 5200, T0)
        _snap(runtime.books, f"polymarket:{no}", 4600, 5300, T0)
    _, families = _scrape(runtime)
    hadron_families = [f for name, f in families.items() if name.startswith("hadron_")]
    for family in hadron_families:
        for sample in family.samples:
            for value in sample.labels.values():
                assert len(value) <= 64 and not re.search(r"[0-9]{20}", value), (family.name, value)
    per_venue = [f for f in hadron_families if f.name.startswith(("hadron_book", "hadron_frame", "hadron_feed"))]
    assert {f.name for f in per_venue} >= {
        "hadron_books",
        "hadron_book_state",
        "hadron_book_last_update_timestamp_seconds",
        "hadron_book_series_dropped",
        "hadron_frame_latency_seconds",
        "hadron_frames_rejected",
        "hadron_feed_up",
    }
    for family in per_venue:
        assert all("venue" in s.labels for s in family.samples), family.name


def test_per_instrument_and_per_pair_series_are_bounded_and_the_rest_counted(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "metrics_max_instruments = 2\n")
    for n in (1, 2, 3):
        yes, no = _tokens(n)
        _snap(runtime.books, f"kalshi:{TICKERS[n - 1]}", 4000, 4500, T0)
        _snap(runtime.books, f"polymarket:{yes}", 4800, 5200, T0)
        _snap(runtime.books, f"polymarket:{no}", 4600, 5300, T0)
    _snap(runtime.books, "polymarket:" + "9" * 77, 4000, 6000, T0)  # a book no pair reads
    _, families = _scrape(runtime)
    with_series = {(s.labels["venue"], s.labels["instrument"]) for s in _samples(families, "hadron_book_state")}
    assert with_series == {("kalshi", "KXA-26-X"), ("polymarket", f"KXA-26-X~{_condition(1)[:10]}/yes")}
    assert len(_samples(families, "hadron_book_last_update_timestamp_seconds")) == 2
    dropped = {s.labels["venue"]: s.value for s in _samples(families, "hadron_book_series_dropped")}
    assert dropped == {"kalshi": 2, "polymarket": 6}  # 10 books, 2 with series
    assert sum(s.value for s in _samples(families, "hadron_books")) == 10  # every book still counted
    pairs = {s.labels["pair"] for s in _samples(families, "hadron_pair_best_net_edge_usd")}
    assert pairs <= {f"KXA-26-X~{_condition(1)[:10]}", f"KXB-26-Y~{_condition(2)[:10]}"}
    assert next(s.value for s in _samples(families, "hadron_pair_series_dropped")) == 1


def test_plan_series_labels_pair_tokens_by_pair_cuts_other_ids_and_keeps_colliding_ones_whole() -> None:
    pair = Pair(kalshi_event="E", polymarket_event="P", relation="identity", confidence=1.0, kalshi_market="KXM",
                polymarket_market=_condition(7), polymarket_yes_token="1" * 77, polymarket_no_token="2" * 77,
                status="approved")  # fmt: skip
    twin_a, twin_b = "3" * 12 + "4" * 65, "3" * 12 + "5" * 65  # same first 12 digits
    lone = "6" * 78
    sets = [OutcomeSet(id="event", tokens=(twin_a, twin_b, lone), fee=NoFee())]
    plan = plan_series([pair], sets)
    assert plan.pairs == {pair.id: f"KXM~{_condition(7)[:10]}"}
    assert plan.instruments == {
        "kalshi:KXM": ("kalshi", "KXM"),
        "polymarket:" + "1" * 77: ("polymarket", f"KXM~{_condition(7)[:10]}/yes"),
        "polymarket:" + "2" * 77: ("polymarket", f"KXM~{_condition(7)[:10]}/no"),
        f"polymarket:{twin_a}": ("polymarket", twin_a),  # the 12-digit prefix would be shared: whole
        f"polymarket:{twin_b}": ("polymarket", twin_b),
        f"polymarket:{lone}": ("polymarket", "6" * 12),
    }
    # only what this process streams, and no more than the bound
    streamed = {"kalshi:KXM", f"polymarket:{lone}"}
    assert list(plan_series([pair], sets, streamed=streamed).instruments) == ["kalshi:KXM", f"polymarket:{lone}"]
    bounded = plan_series([pair], sets, max_instruments=1)
    assert list(bounded.instruments) == ["kalshi:KXM"] and len(bounded.omitted) == 5
    assert short_id("KX-1~0x" + "ab" * 32) == "KX-1~0xabababab" and short_id("KXBTC-26JAN01-B100000") == (
        "KXBTC-26JAN01-B100000"
    )


# -- build, process, conventions ---------------------------------------------------------------------


def test_build_info_process_and_python_collectors_and_counter_names(tmp_path: Path) -> None:
    from hadron.accel import compiled

    text, families = _scrape(_runtime(tmp_path))
    (info,) = _samples(families, "hadron_build_info")
    flags = compiled()
    expected = "compiled" if all(flags.values()) else "pure" if not any(flags.values()) else "partial"
    assert info.value == 1 and info.labels == {
        "version": hadron.__version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": expected,
        "compiled_modules": f"{sum(flags.values())}/{len(flags)}",
    }
    assert _samples(families, "python_info") and _samples(families, "python_gc_objects_collected")
    if Path("/proc/self/stat").exists():
        assert _samples(families, "process_cpu_seconds") and _samples(families, "process_resident_memory_bytes")
        assert _samples(families, "process_start_time_seconds")
    # counters end with _total, in the exposition and once parsed
    for name in re.findall(r"^# TYPE (\S+) counter$", text, flags=re.MULTILINE):
        assert name.endswith("_total"), name
    for family in families.values():
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family.name
    runtime_state = {s.labels["state"]: s.value for s in _samples(families, "hadron_runtime_state")}
    assert runtime_state == {"starting": 1, "running": 0, "stopping": 0, "stopped": 0}


@pytest.mark.parametrize(("flags", "build"), [((True, True), "compiled"), ((False, False), "pure"),
                                              ((True, False), "partial")])  # fmt: skip
def test_build_label_says_compiled_pure_or_partial(
    monkeypatch: pytest.MonkeyPatch, flags: tuple[bool, bool], build: str
) -> None:
    import hadron.accel

    monkeypatch.setattr(hadron.accel, "compiled", lambda: {"a": flags[0], "b": flags[1]})
    labels = build_labels()
    assert labels["build"] == build and labels["compiled_modules"] == f"{sum(flags)}/2"


# -- rejections ------------------------------------------------------------------------------------


def test_rejected_frames_are_counted_per_venue_by_reason(tmp_path: Path) -> None:
    import msgspec

    kept = ListDeadLetter()
    dead = CountingDeadLetter(kept)
    books, stats = BookManager(), FeedStats()
    stream = PolymarketStream(books, "c", stats=stats, dead_letter=dead)
    token = "7" * 77
    book = {"event_type": "book", "asset_id": token, "market": "0xabc", "timestamp": "1000", "tick_size": "0.01",
            "bids": [{"price": "0.40", "size": "10"}], "asks": [{"price": "0.60", "size": "10"}]}  # fmt: skip
    change = {"event_type": "price_change", "market": "0xabc", "timestamp": "1001",
              "price_changes": [{"asset_id": token, "price": "1.5", "size": "5", "side": "BUY", "hash": "h"}]}  # fmt: skip
    stream.on_frame(msgspec.json.encode(book), 1)
    stream.on_frame(msgspec.json.encode(change), 2)  # a price outside (0, 1): refused by the book manager
    stream.on_frame(b'{"event_type": "book", "asset_id": ', 3)  # not JSON
    stream.on_frame(b"HELLO", 4)  # an unknown text frame
    stream.on_frame(b"[" * 1000 + b"]" * 1000, 5)  # nested past the decoder's limit
    assert dead.by_reason == {"price_range": 1, "decode": 1, "unsupported": 1, "fault": 1}
    assert len(kept.items) == 4 == stats.decode_errors  # still dead-lettered, byte for byte
    # in /metrics, per venue, every known reason present (0 until it happens)
    runtime = _runtime(tmp_path)
    runtime.rejected["polymarket"] = dead
    runtime.feeds = [_Feed("polymarket", stats)]  # type: ignore[list-item]  # counters and health only
    _, families = _scrape(runtime)
    rejected = {
        (s.labels["venue"], s.labels["reason"]): s.value
        for s in _samples(families, "hadron_frames_rejected")
        if s.name == "hadron_frames_rejected_total"
    }
    assert rejected == {("polymarket", r): {"price_range": 1, "decode": 1, "unsupported": 1, "fault": 1}.get(r, 0)
                        for r in REJECT_REASONS}  # fmt: skip


class _Feed:
    def __init__(self, venue: str, stats: FeedStats) -> None:
        self.venue, self.stats = venue, stats

    def health(self) -> dict[str, Any]:
        from hadron.venues.session import pool_health

        return pool_health([], shard="tokens")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("decode (array element): Expected `object`", "decode"),
        ("orderbook_delta: price 1.5000 is outside (0, 1) (price_range)", "price_range"),
        ("price_change: size -5 below zero (negative_size)", "negative_size"),
        ("frame over the 1,048,576-byte limit: connection closed (1009), frame not kept", "oversize"),
        ("on_frame: unexpected KeyError: 'x'", "fault"),
        ("on_frame: nested deeper than the decoder follows (RecursionError)", "fault"),
        ("no REST replay for polymarket: /book", "unsupported"),
        ("unsupported REST request '/x'", "unsupported"),
        ("rest orderbook: missing field", "invalid"),
        ("orderbook_snapshot: unknown side (maybe)", "invalid"),
    ],
)
def test_reject_reasons_are_a_bounded_set(error: str, reason: str) -> None:
    assert reject_reason(error) == reason and reason in REJECT_REASONS


def test_suppressions_and_risk_rejections_are_counters_by_reason() -> None:
    snapshot = {
        "arb": {"opportunities": 3, "open": 1, "evaluations": 40, "suppressed": {"stale": 2, "resyncing": 1}},
        "paper": {"orders": 4, "fills": 3, "rejections": {"max_open_pairs": 2, "kill_switch": 1},
                  "downsized": {"insufficient_cash": 1}, "orders_done": {"filled": 3, "rejected": 1}},
    }  # fmt: skip
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    registry.register(RuntimeCollector(lambda: snapshot))
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}

    def by(name: str, label: str) -> dict[str, float]:
        return {s.labels[label]: s.value for s in _samples(families, name)}

    assert by("hadron_opportunities_suppressed", "reason") == {r: {"stale": 2, "resyncing": 1}.get(r, 0)
                                                              for r in SUPPRESS_REASONS}  # fmt: skip
    assert by("hadron_opportunities_rejected", "reason") == {
        r: {"max_open_pairs": 2, "kill_switch": 1}.get(r, 0) for r in RISK_REASONS
    }
    assert by("hadron_paper_trades_downsized", "reason")["insufficient_cash"] == 1
    assert by("hadron_paper_orders_done", "status") == {"filled": 3, "partially_filled": 0, "cancelled": 0,
                                                        "rejected": 1}  # fmt: skip
    assert next(s.value for s in _samples(families, "hadron_opportunity_evaluations")) == 40


# -- best net edge ---------------------------------------------------------------------------------


def _pair(n: int) -> Pair:
    return Pair(kalshi_event="E", polymarket_event="P", relation="identity", confidence=1.0, kalshi_market=f"K{n}",
                polymarket_yes_token=f"Y{n}", polymarket_no_token=f"N{n}", status="approved", id=f"p{n}")  # fmt: skip


def test_best_net_edge_is_the_open_opportunity_else_the_first_lot_at_the_top() -> None:
    books = BookManager()
    det = ArbDetector(books, [_pair(1), _pair(2), _pair(3)], thresholds=Thresholds(max_age_ns=10**15), intra=False)
    edges = PairEdges(det)
    # p1: Kalshi YES 0.45 + the NO token 0.50: an opportunity, 0.05 per contract (no fees)
    _snap(books, "kalshi:K1", 4000, 4500, 1)
    _snap(books, "polymarket:Y1", 4800, 5200, 2)
    _snap(books, "polymarket:N1", 4400, 5000, 3)
    assert len(det.open) == 1
    # p2: no edge either way: the better direction, Kalshi NO (1 − 0.40) + YES token 0.41 = −0.01
    _snap(books, "kalshi:K2", 4000, 4500, 1)
    _snap(books, "polymarket:Y2", 4000, 4100, 2)
    _snap(books, "polymarket:N2", 5000, 5600, 3)
    # p3: a leg without a book: no figure
    _snap(books, "kalshi:K3", 4000, 4500, 1)
    assert edges.best() == {"p1": pytest.approx(0.05), "p2": pytest.approx(-0.01)}
    assert edges.best(["p2"]) == {"p2": pytest.approx(-0.01)}


def test_best_net_edge_is_net_of_fees(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, kalshi_fee="1", poly_fee="0.04")
    yes, no = _tokens(1)
    _snap(runtime.books, "kalshi:KXA-26-X", 4000, 4800, T0)  # Kalshi YES 0.48
    _snap(runtime.books, f"polymarket:{yes}", 4800, 5200, T0)
    _snap(runtime.books, f"polymarket:{no}", 4600, 5000, T0)  # NO token 0.50: gross 0.02 per contract
    terms = runtime.arb.terms[runtime.arb.pairs[0].id]
    fees = terms.legs[0].fee.fee([(4800, S)]) + terms.legs[1].fee.fee([(5000, S)])
    assert fees > 0
    _, families = _scrape(runtime)
    edge = {s.labels["pair"]: s.value for s in _samples(families, "hadron_pair_best_net_edge_usd")}
    assert edge == {f"KXA-26-X~{_condition(1)[:10]}": pytest.approx(0.02 - fees / 1e10)}


def test_the_known_reasons_are_those_the_detector_and_the_risk_manager_give() -> None:
    from hadron.book.registry import _HALTS

    root = Path(hadron.__file__).parent
    detector = (root / "arb" / "detector.py").read_text()
    untrusted = detector[detector.index("def _untrusted") : detector.index("def _sides")]
    halts = set(_HALTS.values())  # the registry's reasons, which _untrusted returns from the book
    counted = set(re.findall(r'self\.suppressed\["(\w+)"\]', detector))  # counted outside _untrusted
    assert counted == {"fee_unpriced"}
    assert set(re.findall(r'"(\w+)"', untrusted)) | halts | counted == set(SUPPRESS_REASONS)
    risk = (root / "paper" / "risk.py").read_text()
    given = set(re.findall(r'return 0, "(\w+)"', risk)) | set(re.findall(r'\), "(\w+)"\)\)', risk))
    assert given | {"below_minimum"} == set(RISK_REASONS)
