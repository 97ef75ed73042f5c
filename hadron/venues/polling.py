"""What every venue's REST polling fallback shares (see :mod:`hadron.venues.kalshi.poll` and
:mod:`hadron.venues.polymarket.poll`)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


async def until_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Run ``work`` until it ends or ``stop`` is set, whichever comes first (a request under way
    is then cancelled, so a poller never outlives its deadline by a slow or retried request).

    Raises:
        Whatever ``work`` raises before ``stop`` is set.
    """
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
        await asyncio.gather(task, stopper, return_exceptions=True)
    if not task.cancelled():
        task.result()


async def pause(seconds: float, stop: asyncio.Event) -> None:
    """Wait ``seconds`` or until ``stop`` is set, whichever comes first."""
    if seconds > 0 and not stop.is_set():
        try:
            async with asyncio.timeout(seconds):
                await stop.wait()
        except TimeoutError:
            pass
