"""A pool of Kalshi WebSocket connections.

Markets are sharded over several connections (and API keys), each with its own sid/seq space;
when a connection fails for good (a fatal error, or ``max_failures`` dials in a row) its markets
move to the healthy ones. The pool also runs the per-market staleness watchdog.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import structlog

from hadron.book.manager import BookManager
from hadron.errors import AuthError, TransportError
from hadron.venues.base import FeedStats
from hadron.venues.kalshi.auth import KalshiSigner, mask_key_id
from hadron.venues.kalshi.normalize import VENUE_PREFIX
from hadron.venues.kalshi.ws import KalshiConnection

log = structlog.get_logger("hadron.kalshi.pool")


class KalshiPool:
    """Markets sharded over several Kalshi connections (and API keys).

    Args:
        url: the WebSocket URL.
        signers: API keys; connection ``i`` uses ``signers[i % len(signers)]``.
        books: the shared book manager.
        markets: every market ticker to follow.
        connections: minimum number of connections.
        max_markets_per_connection: more connections are opened to keep every shard under it.
        max_failures: dials in a row after which a connection's markets move elsewhere.
        give_up_after: when every connection has failed this many dials in a row, :meth:`run`
            stops and raises TransportError (so a caller can fall back to REST); ``None``: never.
        stale_after: seconds without an update after which a LIVE book goes STALE.
        **kwargs: passed to every :class:`KalshiConnection` (channels, recorder, timeouts…), but
            ``indices`` (the reference-price subscriptions) to the first connection only (one copy
            of each index stream).
    """

    def __init__(
        self,
        url: str,
        signers: Sequence[KalshiSigner | None],
        books: BookManager,
        markets: Sequence[str],
        *,
        connections: int = 1,
        max_markets_per_connection: int = 500,
        max_failures: int = 5,
        give_up_after: int | None = None,
        stale_after: float = 60.0,
        stats: FeedStats | None = None,
        **kwargs: Any,
    ) -> None:
        unique = list(dict.fromkeys(markets))
        count = max(1, connections, math.ceil(len(unique) / max_markets_per_connection))
        shards = [unique[i::count] for i in range(count)]
        signer_list = list(signers) or [None]
        self.books = books
        self.stats = stats or FeedStats()
        self.max_markets_per_connection = max_markets_per_connection
        self.max_failures = max_failures
        self.give_up_after = give_up_after
        self.stale_after = stale_after
        self._gave_up: TransportError | None = None
        self.moves = 0
        indices = kwargs.pop("indices", None)
        self.connections = [
            KalshiConnection(
                f"kalshi-{i}",
                url,
                signer_list[i % len(signer_list)],
                books,
                shard,
                stats=self.stats,
                indices=indices if i == 0 else None,
                **kwargs,
            )
            for i, shard in enumerate(shards)
        ]

    @property
    def markets(self) -> list[str]:
        """Every market currently assigned to a connection."""
        return [t for c in self.connections for t in c.markets]

    async def run(self, stop: asyncio.Event) -> None:
        """Run every connection until ``stop`` is set.

        Raises:
            AuthError or RequestError: every connection failed for good (the first such error).
            TransportError: every connection kept failing (``give_up_after``).
        """
        inner = asyncio.Event()
        relay = asyncio.create_task(_relay(stop, inner))
        tasks = {asyncio.create_task(c.run(inner), name=c.name): c for c in self.connections}
        watchdog = asyncio.create_task(self._watchdog(inner, tasks))
        try:
            while tasks:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    conn = tasks.pop(task)
                    exc = task.exception()
                    if exc is None:
                        continue
                    if not tasks:
                        raise exc
                    await self._move(conn, [c for c in tasks.values()])
        finally:
            watchdog.cancel()
            relay.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(watchdog, relay, *tasks, return_exceptions=True)
        if self._gave_up is not None:
            raise self._gave_up

    async def _move(self, failed: KalshiConnection, healthy: list[KalshiConnection]) -> None:
        # A connection failed for good: spread its markets over the healthy ones, least loaded first
        orphans, failed.markets = failed.markets, []
        if not orphans or not healthy:
            return
        self.moves += 1
        log.warning("moving markets off a failed connection", conn=failed.name, markets=len(orphans))
        plan: dict[str, list[str]] = {}
        for ticker in orphans:
            target = min(healthy, key=lambda c: len(c.markets) + len(plan.get(c.name, [])))
            plan.setdefault(target.name, []).append(ticker)
        for conn in healthy:
            if conn.name in plan:
                await conn.add_markets(plan[conn.name])

    async def _watchdog(self, stop: asyncio.Event, tasks: dict[asyncio.Task[None], KalshiConnection]) -> None:
        while not stop.is_set():
            await asyncio.sleep(1.0)
            instruments = [VENUE_PREFIX + t for t in self.markets]
            self.books.mark_stale(time.time_ns(), int(self.stale_after * 1e9), instruments)
            alive = list(tasks.values())
            limit = self.give_up_after
            if limit is not None and alive and all(c.stats.failures >= limit for c in alive):
                self._gave_up = TransportError(f"every Kalshi connection failed {limit} times in a row")
                stop.set()
                return
            for conn in alive:
                if conn.stats.failures >= self.max_failures and conn.markets:
                    others = [c for c in alive if c is not conn and c.connected.is_set()]
                    if others:
                        await self._move(conn, others)

    def report(self) -> dict[str, Any]:
        """Connection counters and market assignment (with each connection's key id, masked to
        its last 4 characters), and :meth:`keys`, for reports and the dashboard."""
        return {
            "connections": {
                c.name: {**asdict(c.stats), "markets": len(c.markets), "key": _key_of(c)} for c in self.connections
            },
            "keys": self.keys(),
            "moves": self.moves,
        }

    def keys(self) -> dict[str, dict[str, Any]]:
        """Per API key (its id masked to the last 4 characters): ``connections`` signed with it,
        how many are ``connected`` now, their ``markets``, ``dials`` and ``connects`` so far
        (ints), and whether the venue ``refused`` it (bool)."""
        out: dict[str, dict[str, Any]] = {}
        for conn in self.connections:
            entry = out.setdefault(
                _key_of(conn),
                {"connections": 0, "connected": 0, "markets": 0, "dials": 0, "connects": 0, "refused": False},
            )
            entry["connections"] += 1
            entry["connected"] += int(conn.connected.is_set())
            entry["markets"] += len(conn.markets)
            entry["dials"] += conn.stats.dials
            entry["connects"] += conn.stats.connects
            entry["refused"] = entry["refused"] or isinstance(conn.fatal, AuthError)
        return out


def _key_of(conn: KalshiConnection) -> str:
    return mask_key_id(conn.signer.key_id) if conn.signer is not None else ""


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
