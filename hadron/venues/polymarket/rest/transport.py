"""The request loop the CLOB and Gamma clients share: family rate limits, error bodies, queries.

:class:`PolymarketHttp` fills in the hooks of :class:`~hadron.venues.http.RetryingHttpClient`
for Polymarket (``docs/protocols/polymarket.md#rate-limits-and-retries``): it waits in the limiters of the request's
endpoint family (:mod:`hadron.venues.polymarket.rest.limits`), retries 425 (the matching engine
restarting) besides 429, 5xx and network failures, and reads the venue's ``{"error": "…"}``
bodies (with ``retry_after_seconds`` when sent).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final, TypeVar

import httpx
import msgspec

from hadron.venues.http import Clock, HttpFailure, RetryingHttpClient, Sleep
from hadron.venues.polymarket.rest.limits import PolymarketRateLimiter
from hadron.venues.polymarket.rest.wire import parse_error_body

_T = TypeVar("_T")
_ENCODER: Final = msgspec.json.Encoder()

Query = list[tuple[str, str]]
"""Query parameters in order, a name repeated for each value (``[("id", "1"), ("id", "2")]``)."""


def query_params(params: Mapping[str, str | int | bool | Iterable[str] | None]) -> Query:
    """Return ``params`` as a :data:`Query`: ``None`` left out, booleans as ``true``/``false``,
    an iterable of strings as one repeated parameter."""
    out: Query = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, str | int):
            out.append((key, str(value)))
        else:
            out.extend((key, item) for item in value)
    return out


def batches(items: Sequence[str], size: int) -> Iterable[list[str]]:
    """Yield ``items`` in lists of at most ``size``, in order."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class PolymarketHttp(RetryingHttpClient):
    """Shared request loop of the CLOB and Gamma clients (limits per endpoint family)."""

    venue = "polymarket"
    retry_statuses = frozenset({425})
    """425 Too Early: the matching engine is restarting."""
    _families: Mapping[str, tuple[str, ...]] = {}
    default_url = ""
    """The API root a client of this class talks to when ``base_url`` is not given."""
    default_limits: Mapping[str, tuple[int, float]] = {}
    """The rate limits (family → (requests, window s)) used when ``limits`` is not given."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random.random,
        timeout: float = 10.0,
        clock: Clock = time.monotonic,
        limits: Mapping[str, tuple[int, float]] | None = None,
    ) -> None:
        base_url = base_url or self.default_url
        limits = self.default_limits if limits is None else limits
        if "general" not in limits:
            raise ValueError("limits must include the 'general' family")
        super().__init__(
            base_url,
            transport=transport,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            sleep=sleep,
            random=random,
            timeout=timeout,
        )
        self.limiters = {
            family: PolymarketRateLimiter(count, window, clock=clock, sleep=sleep)
            for family, (count, window) in limits.items()
        }
        """Rate limiter per endpoint family."""

    async def _throttle(self, method: str, path: str) -> None:
        for family in self._families.get(path, ("general",)):
            limiter = self.limiters.get(family)
            if limiter is not None:
                await limiter.acquire()

    def _parse_error(self, body: bytes) -> HttpFailure:
        error = parse_error_body(body)
        return HttpFailure(error.code, error.message, "", error.retry_after)

    async def _request(self, method: str, path: str, params: Query | None = None, body: object = None) -> bytes:
        content = None if body is None else _ENCODER.encode(body)
        return await self._send(
            method,
            path,
            params=tuple(params) if params else None,
            content=content,
            headers=None if content is None else {"Content-Type": "application/json"},
        )

    async def _get(self, path: str, decoder: msgspec.json.Decoder[_T], params: Query | None = None) -> _T:
        content = await self._request("GET", path, params)
        return self._decode(f"GET {path}", decoder, content)
