"""Polymarket CLOB REST client: books, markets, fee rates and ticks (``https://clob.polymarket.com``).

Endpoints (Polymarket docs ``api-reference``; ``docs/protocols/polymarket.md#clob-rest``): ``GET /book``,
``POST /books`` (batches of :data:`BOOKS_BATCH`), ``GET /markets`` (cursor pages from
:data:`START_CURSOR` until :data:`END_CURSOR`), ``GET /markets/{condition_id}``,
``GET /fee-rate`` and ``GET /tick-size``. Rate limits, retries and error mapping are those of
:class:`~hadron.venues.polymarket.rest.transport.PolymarketHttp`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Final
from urllib.parse import quote, urlencode, urlsplit

from hadron.errors import DecodeError
from hadron.venues.polymarket.rest.limits import CLOB_FAMILIES, CLOB_LIMITS
from hadron.venues.polymarket.rest.transport import PolymarketHttp, batches, query_params
from hadron.venues.polymarket.rest.wire import (
    _BOOK,
    _BOOKS,
    _CLOB_MARKET,
    _CLOB_MARKETS_PAGE,
    _FEE_RATE,
    _TICK_SIZE,
    PolymarketBookSummary,
    PolymarketClobMarket,
)

CLOB_URL: Final = "https://clob.polymarket.com"
START_CURSOR: Final = "MA=="
"""The first CLOB page's ``next_cursor`` (base64 ``"0"``)."""
END_CURSOR: Final = "LTE="
"""The ``next_cursor`` of the last CLOB page (base64 ``"-1"``)."""
BOOKS_BATCH: Final = 100
"""Token ids per ``POST /books`` (the venue's own cap is undocumented)."""


class PolymarketClobClient(PolymarketHttp):
    """Async client of the CLOB's public market data; use as ``async with PolymarketClobClient()``.

    Args:
        base_url: the CLOB root (:data:`CLOB_URL`; a loopback venue's URL in tests).
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        max_retries: retries after the first attempt on 429, 425, 5xx and network failures.
        backoff_base / backoff_max: seconds; the delay before retry ``n`` (from 0) is
            ``min(backoff_max, backoff_base × 2**n)`` plus up to 25 % jitter.
        sleep / random / clock: injectable ``asyncio.sleep``, ``random.random`` and
            ``time.monotonic``; the rate limiters share ``sleep`` and ``clock``.
        timeout: seconds for each HTTP request.
        limits: requests per window per endpoint family (default :data:`CLOB_LIMITS`).

    Raises:
        ValueError: a negative ``max_retries``, or ``limits`` without ``general``.
    """

    venue = "polymarket clob"
    _families = CLOB_FAMILIES
    default_url = CLOB_URL
    default_limits = CLOB_LIMITS

    async def get_book(self, token_id: str) -> PolymarketBookSummary:
        """Return one token's order book (CLOB ``GET /book?token_id=``), levels worst first.

        Raises:
            RequestError: 400 ``Invalid token id``; 404 ``No orderbook exists for the requested
                token id``. AuthError, RateLimited, TransportError, DecodeError.
        """
        return await self._get("/book", _BOOK, query_params({"token_id": token_id}))

    async def get_book_raw(self, token_id: str) -> tuple[str, bytes]:
        """Return ``(request line, response body)`` of the book request, body unparsed (for
        lossless recording; decode with :func:`decode_book`), e.g.
        ``("GET /book?token_id=7261…", b'{"market":…}')``.

        Raises:
            AuthError, RequestError, RateLimited, TransportError.
        """
        query = query_params({"token_id": token_id})
        body = await self._request("GET", "/book", query)
        return f"GET {urlsplit(self.base_url).path.rstrip('/')}/book?{urlencode(query)}", body

    async def get_books(self, token_ids: Sequence[str]) -> list[PolymarketBookSummary]:
        """Return the books of ``token_ids`` (CLOB ``POST /books``, :data:`BOOKS_BATCH` per request).

        The result is in the venue's order, batch after batch; tokens without a book may be
        missing from it.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        out: list[PolymarketBookSummary] = []
        for batch in batches(token_ids, BOOKS_BATCH):
            content = await self._request("POST", "/books", body=[{"token_id": token} for token in batch])
            books: list[PolymarketBookSummary] = self._decode("POST /books", _BOOKS, content)
            out.extend(books)
        return out

    async def iter_markets(self, *, next_cursor: str = START_CURSOR) -> AsyncIterator[PolymarketClobMarket]:
        """Yield every CLOB market, following ``next_cursor`` from ``MA==`` until ``LTE=``.

        Raises:
            DecodeError: the venue repeated a cursor, or a malformed page. AuthError,
                RequestError, RateLimited, TransportError.
        """
        seen: set[str] = set()
        cursor = next_cursor
        while True:
            page = await self._get("/markets", _CLOB_MARKETS_PAGE, query_params({"next_cursor": cursor}))
            for market in page.data:
                yield market
            seen.add(cursor)
            cursor = page.next_cursor
            if not cursor or cursor == END_CURSOR:
                return
            if cursor in seen:
                raise DecodeError(f"GET /markets: the venue returned cursor {cursor!r} twice")

    async def get_markets(self, *, next_cursor: str = START_CURSOR) -> list[PolymarketClobMarket]:
        """Return every CLOB market (all pages); see :meth:`iter_markets`."""
        return [market async for market in self.iter_markets(next_cursor=next_cursor)]

    async def get_market(self, condition_id: str) -> PolymarketClobMarket:
        """Return one CLOB market (``GET /markets/{condition_id}``).

        Raises:
            RequestError: 404 for an unknown market. AuthError, RateLimited, TransportError,
                DecodeError.
        """
        return await self._get(f"/markets/{quote(condition_id, safe='')}", _CLOB_MARKET)

    async def get_fee_rate(self, token_id: str) -> int:
        """Return the token's legacy ``base_fee`` in bps (``GET /fee-rate?token_id=``).

        This is not the fee charged since Fee Structure V2: use the market's fee schedule
        (:class:`~hadron.venues.polymarket.fees.PolymarketFeeSchedule`).

        Raises:
            DecodeError: ``base_fee`` is not an integer (number or string). AuthError,
                RequestError, RateLimited, TransportError.
        """
        body = await self._get("/fee-rate", _FEE_RATE, query_params({"token_id": token_id}))
        if isinstance(body.base_fee, int):
            return body.base_fee
        text = body.base_fee.strip()
        if not text.isascii() or not text.isdigit():
            raise DecodeError(f"GET /fee-rate: base_fee {body.base_fee!r} is not an integer")
        return int(text)

    async def get_tick_size(self, token_id: str) -> Decimal:
        """Return the token's current tick in dollars (``GET /tick-size?token_id=``), exact.

        Raises:
            AuthError, RequestError, RateLimited, TransportError, DecodeError.
        """
        return (await self._get("/tick-size", _TICK_SIZE, query_params({"token_id": token_id}))).minimum_tick_size
