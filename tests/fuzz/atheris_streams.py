"""Coverage-guided fuzzing (atheris / libFuzzer) of a venue stream's ``on_frame``.

Usage: ``HADRON_FUZZ_VENUE=kalshi python tests/fuzz/atheris_streams.py CORPUS_DIR -runs=50000``.
Any exception escaping ``on_frame`` is a crash (libFuzzer exits non-zero and keeps the input);
bad frames must be counted and dead-lettered instead.

``HADRON_FUZZ_VENUE=kalshi-scan`` fuzzes the Kalshi delta scanner against the typed decoder
(:class:`tests.kalshi_twin.Twin`, run with ``HADRON_PURE=1`` so the scanner's Python is
instrumented): any disagreement between the two paths is a crash too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: tests.kalshi_twin

with atheris.instrument_imports():
    from hadron.book.manager import BookManager
    from hadron.venues.base import FeedStats, SeqMode, get_venue
    from hadron.venues.kalshi import stream as _kalshi_stream  # noqa: F401 (instrumented: the scanner)
    from tests.kalshi_twin import Twin


class _Letters:
    def __init__(self) -> None:
        self.count = 0

    def write(self, raw: bytes, error: str, conn: str) -> None:
        self.count += 1


VENUE = os.environ.get("HADRON_FUZZ_VENUE", "kalshi")
STATE: dict[str, object] = {}


def _fresh() -> object:
    books = BookManager()
    return get_venue(VENUE).open_stream(
        books, "fuzz", stats=FeedStats(), dead_letter=_Letters(), seq_mode=SeqMode.STRICT
    )


_SNAPSHOT = (
    b'{"type":"orderbook_snapshot","sid":1,"seq":2399868,"msg":{"market_ticker":"KXGOLD15M-26AUG102130-30",'
    b'"yes_dollars_fp":[["0.4500","100.00"],["0.4700","40.00"]],"no_dollars_fp":[["0.5000","80.00"]]}}'
)


def test_one_twin_input(data: bytes) -> None:
    twin = STATE.get("twin")
    if not isinstance(twin, Twin) or STATE.get("n", 0) % 1000 == 0:  # type: ignore[operator]
        twin = STATE["twin"] = Twin()
        twin.frame(_SNAPSHOT, 1_786_410_900_000_000_000)  # a LIVE book: scanned deltas are applied
    STATE["n"] = STATE.get("n", 0) + 1  # type: ignore[operator]
    twin.frame(data, 1_786_410_900_000_000_000)  # raises when the scanned and decoded paths differ
    twin.line(b'{"recv_ms":1786410900000,"event":' + data + b"}")
    if STATE["n"] % 1000 == 999:  # type: ignore[operator]
        twin.assert_same()


def test_one_input(data: bytes) -> None:
    stream = STATE.get("stream")
    if stream is None or STATE.get("n", 0) % 1000 == 0:  # type: ignore[operator]
        stream = STATE["stream"] = _fresh()
    STATE["n"] = STATE.get("n", 0) + 1  # type: ignore[operator]
    before = stream.stats.decode_errors  # type: ignore[attr-defined]
    stream.on_frame(data, 1_786_410_900_000_000_000)  # type: ignore[attr-defined]
    assert stream.stats.decode_errors >= before  # type: ignore[attr-defined]


if __name__ == "__main__":
    import logging

    logging.disable(logging.CRITICAL)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    atheris.Setup(sys.argv, test_one_twin_input if VENUE == "kalshi-scan" else test_one_input)
    atheris.Fuzz()
