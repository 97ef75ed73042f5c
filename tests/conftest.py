"""Shared test helpers: fixture paths, the real captures in ../shared/data, a dead-letter sink."""

from __future__ import annotations

from pathlib import Path

import pytest

import hadron.venues.polymarket.signing  # noqa: F401 - first: it undoes py_ecc's recursion-limit raise before a test imports eth_account
from hadron.book.manager import BookManager
from hadron.venues.base import FeedStats

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
KALSHI_CAPTURE = SHARED_DATA / "zkiihne__kalshi-gold15m-sample" / "events"
KALSHI_ASYNCAPI = REPO.parent / "shared" / "kalshi-specs" / "asyncapi_docs-kalshi-com_2026-08-22.yaml"
"""Kalshi's own AsyncAPI spec beside the repo (tests that read it skip when it is absent)."""


def shared_data(path: Path) -> Path:
    """Return ``path`` under ../shared/data, or skip the test saying why."""
    if not path.exists():
        pytest.skip(f"real capture not available: {path} is absent (tests read ../shared/data beside the repo)")
    return path


class ListDeadLetter:
    """Collects rejected frames in memory."""

    def __init__(self) -> None:
        self.items: list[tuple[bytes, str, str]] = []

    def write(self, raw: bytes, error: str, conn: str) -> None:
        self.items.append((raw, error, conn))


@pytest.fixture
def dead_letter() -> ListDeadLetter:
    return ListDeadLetter()


@pytest.fixture
def books() -> BookManager:
    return BookManager()


@pytest.fixture
def stats() -> FeedStats:
    return FeedStats()
