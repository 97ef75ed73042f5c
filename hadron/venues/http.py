"""The request loop every venue REST client shares: throttle, send, retry, map errors.

A venue client subclasses :class:`RetryingHttpClient` and fills in three hooks: how to wait
for its rate limits (:meth:`~RetryingHttpClient._throttle`), how to sign a request
(:meth:`~RetryingHttpClient._prepare`), and how to read its error bodies
(:meth:`~RetryingHttpClient._parse_error`). Everything else is here, once:

* 2xx → the body (bytes);
* 401/403 → :class:`~hadron.errors.AuthError` at once;
* 429 → :class:`~hadron.errors.RateLimited` and 5xx, network errors, timeouts (and any
  ``retry_statuses``) → :class:`~hadron.errors.TransportError`, each retried up to
  ``max_retries`` times after ``Retry-After`` (or the venue's own hint; at most
  :data:`MAX_RETRY_AFTER_S`, see :func:`cap_retry_after`) or a jittered exponential back-off;
* any other 4xx → :class:`~hadron.errors.RequestError` with the venue's code.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec
import structlog

from hadron._version import __version__
from hadron.errors import AuthError, DecodeError, RateLimited, RequestError, TransportError, VenueError

log = structlog.get_logger("hadron.http")

Sleep = Callable[[float], Awaitable[None]]
"""``await sleep(seconds)``; :func:`asyncio.sleep` unless a test injects its own."""
Clock = Callable[[], float]
"""Monotonic seconds; :func:`time.monotonic` unless a test injects its own."""


@dataclass(frozen=True)
class HttpFailure:
    """What a venue's error body said: ``code``, ``message``, ``details``, and a retry hint (s)."""

    code: str = ""
    message: str = ""
    details: str = ""
    retry_after: float | None = None


MAX_RETRY_AFTER_S = 60.0
"""The longest wait a venue's ``Retry-After`` (header or error body) can ask for, in seconds: a
longer one is cut to it (the jittered back-off's own ceiling is 30 s; a venue asking for minutes,
or ``inf``, would otherwise stall the feed without a word). Hints that are not finite or not
positive-going (``nan``, ``-5``, a date already past) are ignored: the back-off decides."""


def cap_retry_after(seconds: float | None) -> float | None:
    """A venue's retry hint in seconds made safe: ``None`` when absent, not finite or negative;
    else at most :data:`MAX_RETRY_AFTER_S`."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_S)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Parse a ``Retry-After`` header (delay-seconds or an HTTP date, RFC 9110 §10.2.3) into
    seconds from ``now`` (Unix seconds), capped (:func:`cap_retry_after`); ``None`` when absent,
    unreadable, not finite, negative, or a date already past."""
    if not value:
        return None
    try:
        return cap_retry_after(float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return cap_retry_after(when.timestamp() - now)


def display_url(url: str) -> str:
    """Return ``url`` fit for a message or a log line: scheme, host, port and path only (any
    ``user:password@``, query string and fragment dropped), e.g.
    ``"https://api.elections.kalshi.com/trade-api/v2/events"``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else f"{host}{parts.path}"


_E = TypeVar("_E", bound=VenueError)
_T = TypeVar("_T")


def reworded(exc: _E, message: str) -> _E:
    """Return a copy of ``exc`` (same class, same attributes such as ``status``, ``code`` or
    ``retry_after``) whose message is ``message``; raise it ``from exc`` to keep the original."""
    out = type(exc).__new__(type(exc))
    out.__dict__.update(exc.__dict__)
    out.args = (message,)
    return out


class RetryingHttpClient:
    """An ``httpx.AsyncClient`` with the shared retry loop (see the module docstring).

    Args:
        base_url: the API root; request paths are relative to it.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        max_retries: retries after the first attempt (0: none).
        backoff_base / backoff_max: seconds; delay = ``min(max, base × 2**attempt)`` + 0–25 %.
        sleep / random: injectable for tests.
        timeout: seconds per HTTP request.

    Raises:
        ValueError: a negative ``max_retries``.
    """

    venue = "venue"
    retry_statuses: frozenset[int] = frozenset()
    """Statuses below 500 (other than 429) that are retried, e.g. Polymarket's 425."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random.random,
        timeout: float = 10.0,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be ≥ 0, got {max_retries}")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.requests = 0
        """HTTP attempts made (retries included)."""
        self.retries = 0
        """Attempts that failed and were retried."""
        self._sleep = sleep
        self._random = random
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": f"hadron/{__version__}"},
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Return the seconds to wait before retry ``attempt`` (0 first): ``retry_after`` when the
        venue gave one, else ``min(backoff_max, backoff_base × 2**attempt)`` plus 0–25 % jitter."""
        if retry_after is not None:
            return retry_after
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** min(attempt, 64))
        return delay + delay * 0.25 * self._random()

    # -- hooks -----------------------------------------------------------------------------------

    async def _throttle(self, method: str, path: str) -> None:
        """Wait for the venue's rate limits before one attempt (default: no limit)."""

    def _prepare(self, request: httpx.Request) -> None:
        """Adjust a request before it is sent, e.g. sign it (default: nothing)."""

    def _parse_error(self, body: bytes) -> HttpFailure:
        """Read the venue's error body (default: nothing known)."""
        return HttpFailure()

    @staticmethod
    def _decode(what: str, decoder: msgspec.json.Decoder[_T], content: bytes) -> _T:
        """Decode a 2xx body with the venue's decoder.

        Raises:
            DecodeError: a body of another shape, named by ``what`` (the request line).
        """
        try:
            return decoder.decode(content)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise DecodeError(f"{what}: unexpected response body: {exc}") from exc

    # -- the loop --------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> bytes:
        """Send one request with retries; return the 2xx body.

        Raises:
            AuthError, RequestError: at once. RateLimited, TransportError: after ``max_retries``.
        """
        what_request = f"{method} {path}"
        attempt = 0
        while True:
            await self._throttle(method, path)
            request = self._http.build_request(method, path, params=params, content=content, headers=headers)
            self._prepare(request)
            self.requests += 1
            retry_after: float | None = None
            failure: RateLimited | TransportError
            try:
                response = await self._http.send(request)
            except httpx.HTTPError as exc:
                failure = TransportError(f"{what_request}: {type(exc).__name__}: {exc}")
                status = 0
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response.content
                error = self._parse_error(response.content)
                code = f" {error.code}" if error.code else ""
                what = f"{what_request}: HTTP {status}{code}: {error.message or response.reason_phrase}"
                if status in (401, 403):
                    raise AuthError(what + (f" ({error.details})" if error.details else ""))
                retry_after = retry_after_seconds(response.headers.get("Retry-After"), time.time())
                if retry_after is None:
                    retry_after = cap_retry_after(error.retry_after)
                if status == 429:
                    failure = RateLimited(what, retry_after=retry_after)
                elif status >= 500 or status in self.retry_statuses:
                    failure = TransportError(what)
                else:
                    raise RequestError(what, status=status, code=error.code)
            if attempt >= self.max_retries:
                raise failure
            delay = self.backoff(attempt, retry_after)
            self.retries += 1
            log.warning(f"{self.venue} request retried", path=path, status=status, attempt=attempt + 1, delay=delay)
            await self._sleep(delay)
            attempt += 1
