"""Coverage-guided fuzzing (atheris / libFuzzer) of a venue stream's ``on_frame``.

Usage: ``HADRON_FUZZ_VENUE=kalshi python tests/fuzz/atheris_streams.py CORPUS_DIR -runs=50000``.
Any exception escaping ``on_frame`` is a crash (libFuzzer exits non-zero and keeps the input);
bad frames must be counted and dead-lettered instead.
"""

from __future__ import annotations

import os
import sys

import atheris

with atheris.instrument_imports():
    from hadron.book.manager import BookManager
    from hadron.venues.base import FeedStats, SeqMode, get_venue


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
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
