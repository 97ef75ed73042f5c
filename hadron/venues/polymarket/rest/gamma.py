"""Polymarket Gamma REST client: market and event metadata (``https://gamma-api.polymarket.com``).

Endpoints (Polymarket docs ``api-reference``, Gamma ``GET /markets`` and ``GET /events``;
``docs/protocols/polymarket.md#gamma-rest``): ``limit``/``offset`` pages; id filters go out in batches of
at most :data:`GAMMA_IDS_BATCH`. Rate limits, retries and error mapping are those of
:class:`~hadron.venues.polymarket.rest.transport.PolymarketHttp`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Final, TypeVar

from hadron.errors import DecodeError
from hadron.venues.polymarket.rest.limits import GAMMA_FAMILIES, GAMMA_LIMITS
from hadron.venues.polymarket.rest.transport import PolymarketHttp, Query, batches, query_params
from hadron.venues.polymarket.rest.wire import (
    PolymarketGammaEvent,
    PolymarketGammaMarket,
    decode_gamma_events,
    decode_gamma_markets,
)

_T = TypeVar("_T")

GAMMA_URL: Final = "https://gamma-api.polymarket.com"
GAMMA_IDS_BATCH: Final = 100
"""Ids per Gamma ``/markets`` query (``condition_ids`` accepts at most 100)."""


class PolymarketGammaClient(PolymarketHttp):
    """Async client of the Gamma metadata API; use as ``async with PolymarketGammaClient()``.

    Arguments as :class:`PolymarketClobClient`; ``base_url`` defaults to :data:`GAMMA_URL` and
    ``limits`` to :data:`GAMMA_LIMITS`.
    """

    venue = "polymarket gamma"
    _families = GAMMA_FAMILIES
    default_url = GAMMA_URL
    default_limits = GAMMA_LIMITS

    async def _offset_pages(
        self,
        path: str,
        query: Query,
        limit: int,
        decode: Callable[[bytes], list[_T]],
        max_pages: int | None = None,
    ) -> AsyncIterator[list[_T]]:
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        offset = 0
        previous = b""
        pages = 0
        while max_pages is None or pages < max_pages:
            pages += 1
            body = await self._request("GET", path, [*query, ("limit", str(limit)), ("offset", str(offset))])
            if body == previous:
                raise DecodeError(f"GET {path}: offset {offset} returned the previous page again")
            page = decode(body)
            yield page
            if len(page) < limit:
                return
            offset += len(page)
            previous = body

    async def iter_markets(
        self,
        *,
        condition_ids: Sequence[str] | None = None,
        clob_token_ids: Sequence[str] | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
    ) -> AsyncIterator[PolymarketGammaMarket]:
        """Yield the Gamma markets matching the filters, page by page (``limit``/``offset``).

        Args:
            condition_ids / clob_token_ids: id filters, sent as repeated parameters in batches
                of :data:`GAMMA_IDS_BATCH` (each batch paged on its own).
            active / closed: state filters. Gamma answers ``closed=false`` when ``closed`` is
                not given (since 2026-04-09): pass ``closed=True`` for resolved markets.
            limit: page size.

        Raises:
            ValueError: ``limit`` not positive. DecodeError: a malformed page or
                JSON-in-a-string field. AuthError, RequestError, RateLimited, TransportError.
        """
        base = query_params({"active": active, "closed": closed})
        id_filters: list[Query] = [[]]
        if condition_ids is not None or clob_token_ids is not None:
            id_filters = [
                [("condition_ids", cid) for cid in batch] for batch in batches(condition_ids or (), GAMMA_IDS_BATCH)
            ]
            id_filters += [
                [("clob_token_ids", tid) for tid in batch] for batch in batches(clob_token_ids or (), GAMMA_IDS_BATCH)
            ]
        for ids in id_filters:
            async for page in self._offset_pages("/markets", ids + base, limit, decode_gamma_markets):
                for market in page:
                    yield market

    async def get_markets(
        self,
        *,
        condition_ids: Sequence[str] | None = None,
        clob_token_ids: Sequence[str] | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
    ) -> list[PolymarketGammaMarket]:
        """Return every Gamma market matching the filters (all pages); see :meth:`iter_markets`."""
        return [
            market
            async for market in self.iter_markets(
                condition_ids=condition_ids, clob_token_ids=clob_token_ids, active=active, closed=closed, limit=limit
            )
        ]

    async def iter_events(
        self,
        *,
        ids: Sequence[str] | None = None,
        slugs: Sequence[str] | None = None,
        tag_id: str | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
        max_pages: int | None = None,
    ) -> AsyncIterator[PolymarketGammaEvent]:
        """Yield the Gamma events matching the filters with their markets, page by page.

        Enumerating ``active=True, closed=False`` events is the documented way to list every
        live market.

        Args:
            ids / slugs: event ids or slugs (repeated ``id`` / ``slug`` parameters).
            tag_id: one tag. active / closed: state filters. limit: page size.
            max_pages: stop after that many pages (``None``: every page).

        Raises:
            ValueError: ``limit`` not positive. DecodeError, AuthError, RequestError,
                RateLimited, TransportError.
        """
        query = query_params({"id": ids, "slug": slugs, "tag_id": tag_id, "active": active, "closed": closed})
        async for page in self._offset_pages("/events", query, limit, decode_gamma_events, max_pages):
            for event in page:
                yield event

    async def get_events(
        self,
        *,
        ids: Sequence[str] | None = None,
        slugs: Sequence[str] | None = None,
        tag_id: str | None = None,
        active: bool | None = None,
        closed: bool | None = None,
        limit: int = 100,
        max_pages: int | None = None,
    ) -> list[PolymarketGammaEvent]:
        """Return every Gamma event matching the filters (all pages); see :meth:`iter_events`."""
        return [
            event
            async for event in self.iter_events(
                ids=ids, slugs=slugs, tag_id=tag_id, active=active, closed=closed, limit=limit, max_pages=max_pages
            )
        ]
