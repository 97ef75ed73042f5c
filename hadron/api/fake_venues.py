"""The demo's fake venues on this machine: :func:`loopback` serves recorded frames from local
Kalshi and Polymarket stand-ins (:class:`Loopback`) for :func:`~hadron.api.connect` to stream, no
account or network needed.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hadron.api._shared import PathArg, _default_logs, _paths, _venue
from hadron.config import HadronConfig, KalshiConfig, PolymarketConfig, Secret
from hadron.errors import ConfigError
from hadron.venues.base import FakeVenueHost, FakeVenueOptions, get_venue


class Loopback:
    """A loopback venue on 127.0.0.1 speaking the venue's real protocol, replaying a capture
    (see :func:`loopback`).

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        config: a :class:`~hadron.config.HadronConfig` pointing :func:`connect` at it (WebSocket
            transport only; for Kalshi a throwaway RSA key the venue checks signatures against).
        url: its WebSocket URL. rest_url: its REST base URL (Polymarket ``/book``), or ``None``.
        markets: the venue symbols its capture plays (Kalshi tickers, Polymarket token ids).
        server: the loopback venue object (``stats``, ``hold``…).
    """

    def __init__(
        self,
        venue: str,
        captures: list[Path] | None,
        *,
        speed: float,
        loop: bool,
        shift: int,
        faults: str,
    ) -> None:
        self.venue = venue
        self.captures = captures
        self.speed = speed
        self.loop = loop
        self.shift = shift
        self.faults = faults
        self.config = HadronConfig()
        self.url = ""
        self.rest_url: str | None = None
        self.markets: list[str] = []
        self.server: Any = None
        self._stop = asyncio.Event()
        self._task: asyncio.Future[Any] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    async def drained(self) -> None:
        """Wait until the capture has been played and sent to every connected client."""
        if self.server is not None:
            await self.server.drained()

    async def __aenter__(self) -> Self:
        from hadron.app.demo import _key_pems, demo_capture, free_port  # the demo's throwaway key

        adapter = get_venue(self.venue)
        if not isinstance(adapter, FakeVenueHost):
            raise ConfigError(f"venue {self.venue} has no loopback venue")
        ready = asyncio.Event()

        def on_ready(ws_url: str, rest_url: str | None) -> None:
            self.url, self.rest_url = ws_url, rest_url
            ready.set()

        def on_started(server: Any) -> None:
            self.server = server

        options = FakeVenueOptions(
            captures=self.captures or [demo_capture()],
            port=0,
            speed=self.speed,
            loop=self.loop,
            faults=self.faults,
            stop=self._stop,
            signals=False,
            ready=on_ready,
            started=on_started,
        )
        private_pem = b""
        if self.venue == "kalshi":  # the private key stays in memory; the venue reads the public one
            private_pem, public_pem = await asyncio.to_thread(_key_pems)
            self._folder = tempfile.TemporaryDirectory(prefix="hadron-loopback-")
            public = Path(self._folder.name) / "loopback-key.pub.pem"
            public.write_bytes(public_pem)
            options = replace(options, public_key=public)
        else:
            options = replace(options, rest_port=free_port(), shift=self.shift)
        self._task = asyncio.ensure_future(adapter.fake_venue(options))
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED, timeout=60)
        if not ready.is_set():
            waiter.cancel()
            if self._task.done():
                self._cleanup()
                self._task.result()  # the venue could not start: its error
            await self.__aexit__(None, None, None)
            raise ConfigError(f"the loopback {self.venue} venue did not start within 60 s")
        self.markets = _played(self.server)
        if self.venue == "kalshi":
            kalshi = KalshiConfig(
                env="demo",
                api_key_id="hadron-loopback-key",
                private_key=Secret(private_pem.decode()),
                ws_url=self.url,
                transport="ws",
            )
            self.config = HadronConfig(kalshi=kalshi, source="hadron loopback")
        else:
            polymarket = PolymarketConfig(ws_url=self.url, rest_url=self.rest_url or "", gamma_url="", transport="ws")
            self.config = HadronConfig(polymarket=polymarket, source="hadron loopback")
        return self

    def _cleanup(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        try:
            if self._task is not None:
                await asyncio.gather(self._task, return_exceptions=True)
        finally:
            self._cleanup()


def _played(server: Any) -> list[str]:
    # The symbols a loopback venue's capture plays: Kalshi entries' tickers, Polymarket items' tokens
    found: dict[str, None] = {}
    for item in getattr(server, "timeline", ()):
        ticker = getattr(item, "ticker", "")
        if ticker:
            found[ticker] = None
        for asset in sorted(getattr(item, "assets", ())):
            found[asset] = None
    return list(found)


def loopback(
    venue: str = "kalshi",
    captures: PathArg | Iterable[PathArg] | None = None,
    *,
    speed: float = 0.0,
    loop: bool = False,
    shift: int = 0,
    faults: str = "",
) -> Loopback:
    """A loopback venue to try :func:`connect` without credentials or a network:
    ``async with hadron.loopback("kalshi") as venue:`` then ``hadron.connect("kalshi",
    venue.markets, config=venue.config)``.

    It is the venue of ``hadron fake-venue`` and ``hadron demo``: the real protocol (Kalshi:
    signed handshake, subscriptions, sids and seqs; Polymarket: the market channel and REST
    ``/book``), replaying ``captures``; the capture waits for the first subscription.

    Args:
        venue: ``"kalshi"`` or ``"polymarket"``.
        captures: what to play: Kalshi captures; for Polymarket, Polymarket frame files or Kalshi
            captures transcoded into a YES/NO token pair (default: the real Kalshi capture
            shipped with Hadron, ``hadron/demo``).
        speed: 1.0 plays at the captured pace, 0 as fast as the client reads.
        loop: play the capture again and again.
        shift: Polymarket: move a transcoded capture's YES prices by this much (int, 1/10,000 USD;
            the NO token's the other way), a cross-venue dislocation.
        faults: faults to inject, e.g. ``"drop@200,gap@400"`` (see ``hadron fake-venue --help``).

    Raises:
        ConfigError: an unknown venue, no playable frames in ``captures``, a bad fault spec, or
            the venue did not start (when entered).
    """
    name = _venue(venue)
    _default_logs()
    return Loopback(
        name,
        _paths(captures) if captures is not None else None,
        speed=speed,
        loop=loop,
        shift=shift,
        faults=faults,
    )
