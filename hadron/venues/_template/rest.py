"""Phase 5: the venue's REST API: book snapshots, market metadata, results.

Use :class:`hadron.venues.http.RetryingHttpClient` (retries, ``Retry-After``, masked URLs in
errors). Responses decode into msgspec structs like the WebSocket frames; a snapshot fetched
here is recorded and replayed as a REST line (``FeedStream.on_rest``).

Milestone: against recorded responses, the snapshot of a market equals the book the stream built
(see ``tests/unit/test_polymarket_rest.py``, ``tests/unit/test_fee_rules_rest.py``).
"""

from __future__ import annotations

from typing import Any


async def book_snapshot(symbol: str, *, config: Any) -> bytes:
    """Fetch the current book of ``symbol`` and return the response body as received (the stream
    applies it through ``on_rest``).

    Raises:
        TransportError: the venue could not be reached after the retries.
    """
    raise NotImplementedError("rest.book_snapshot: a REST snapshot for FeedStream.on_rest")


async def market_results(symbols: list[str], *, config: Any) -> dict[str, str]:
    """``{symbol: "yes" | "no"}`` for the markets that have resolved
    (:class:`hadron.venues.base.ResultsVenue`)."""
    raise NotImplementedError("rest.market_results: ResultsVenue.market_results")
