"""WebSocket client connections for the venue sessions: picows (the default) or websockets.

The sessions (:mod:`hadron.venues.kalshi.ws`, :mod:`hadron.venues.polymarket.ws`, the Polymarket
user channel) see one small interface, :class:`WsConnection`: a message handler called once per
whole message with its raw bytes, ``send`` for commands, ``wait_closed``, ``close`` and
``abort``. :func:`dial` opens one with either library; :func:`reconnect_loop` dials again and
again with the same back-off, classification and signing whatever the library.

Why picows by default (measured on the same real frames, ``bench/transport.py``,
``docs/bench-transport.md``): its Cython frame parser calls the handler straight from the
socket's read callback, one call per frame and no task switch, where websockets' asyncio client
queues each message for an awaited ``recv()``: 963,320 frames/s against 209,556 on the Kalshi
capture, 4.6×; uvloop adds nothing measurable to picows (954,099). websockets stays available
(``client="websockets"``, ``HADRON_WS_CLIENT=websockets``) for a venue that needs
permessage-deflate, which picows does not negotiate (neither venue requires it: Kalshi calls it
optional, docs/protocols/kalshi.md; the frames are small JSON).

What the picows connection adds to the library, so the sessions see the same behaviour:

* fragmented messages are joined (a text or binary frame without FIN, then continuations), and a
  message over ``max_size`` bytes in all closes the connection with 1009 as one frame over it does;
* a CLOSE from the venue is answered and the connection ends (``wait_closed`` returns);
* pings are answered (auto pong), and a ping is sent after ``ping_interval`` seconds without any
  frame; no pong within ``ping_timeout`` closes the connection (as websockets' keepalive);
* an exception out of the handler (a bug: the streams contain each frame's failures) closes the
  connection and is raised again by ``wait_closed``, so the reconnect loop logs it and dials again.

Frames read from the socket in one read share ``read_ns`` (the ``perf_counter_ns`` of that read)
and ``recv_ns`` (the wall clock, ns since the epoch, as every event's ``ts_recv``): the handler's
latency is measured from the socket read, queueing behind the frames before it included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import picows
import structlog
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from hadron.errors import AuthError, ConfigError, HadronError, RequestError, TransportError

log = structlog.get_logger("hadron.feed")

_TEXT = WSMsgType.TEXT
_perf_ns = time.perf_counter_ns
_time_ns = time.time_ns

CLIENTS = ("picows", "websockets")
"""The WebSocket client libraries a session can run on."""
CLIENT_ENV = "HADRON_WS_CLIENT"
"""Environment variable naming the client library (``picows`` or ``websockets``)."""

MessageHandler = Callable[[bytes, int, int], None]
"""``handler(raw, recv_ns, read_ns)``: one whole message's bytes, its receive time (ns since the
epoch) and the ``time.perf_counter_ns()`` of the socket read that brought it."""


def default_client() -> str:
    """The client library to use: ``$HADRON_WS_CLIENT`` when set, else picows.

    Raises:
        ConfigError: ``$HADRON_WS_CLIENT`` names no known client.
    """
    name = os.environ.get(CLIENT_ENV, "").strip().lower()
    if not name:
        return "picows"
    if name not in CLIENTS:
        raise ConfigError(f"{CLIENT_ENV}={name!r} is not a WebSocket client: use one of {', '.join(CLIENTS)}")
    return name


class WsConnection(Protocol):
    """One open WebSocket connection, whichever library carries it."""

    def on_message(self, handler: MessageHandler) -> None:
        """Start handing every whole message to ``handler`` (messages that arrived before are
        handed first, in order)."""

    async def send(self, text: str) -> None:
        """Send one text message.

        Raises:
            TransportError: the connection is closed.
        """

    async def wait_closed(self) -> None:
        """Return when the connection has ended; raise what the handler raised, if it did."""

    async def close(self, grace: float = 2.0) -> None:
        """Close politely (a CLOSE frame, its answer awaited up to ``grace`` s), then drop."""

    def abort(self) -> None:
        """Drop the connection now (the session's ``wait_closed`` returns)."""

    @property
    def close_sent_code(self) -> int | None:
        """The close code this client sent (1009: a message over the size limit), or ``None``."""


# -- websockets ------------------------------------------------------------------------------


class WebsocketsConnection:
    """:class:`WsConnection` over a websockets asyncio ``ClientConnection`` (a reader task awaits
    ``recv()`` and calls the handler)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._reader: asyncio.Task[None] | None = None
        self._closed: ConnectionClosed | None = None

    def on_message(self, handler: MessageHandler) -> None:
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read(handler))

    async def _read(self, handler: MessageHandler) -> None:
        ws = self.ws
        perf = time.perf_counter_ns
        while True:
            try:
                raw = await ws.recv(decode=False)
            except ConnectionClosed as exc:
                self._closed = exc
                return
            handler(raw, time.time_ns(), perf())

    async def send(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except ConnectionClosed as exc:
            raise TransportError(f"connection closed: {exc}") from exc

    async def wait_closed(self) -> None:
        if self._reader is not None:
            await self._reader
        else:
            await self.ws.wait_closed()

    async def close(self, grace: float = 2.0) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), grace)
        self.ws.transport.abort()

    def abort(self) -> None:
        self.ws.transport.abort()

    @property
    def close_sent_code(self) -> int | None:
        sent = self._closed.sent if self._closed is not None else None
        return sent.code if sent is not None else None


# -- picows ----------------------------------------------------------------------------------


class _PicowsListener(WSListener):
    # picows calls on_ws_frame from the socket's read callback for every frame
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.handler: MessageHandler | None = None
        self.pending: list[tuple[bytes, int, int]] = []
        self.error: BaseException | None = None
        self.transport: WSTransport | None = None
        self._parts: list[bytes] | None = None
        self._parts_size = 0
        self._read_ns = 0
        self._recv_ns = 0
        self._in_read = False
        self._dead = False
        self._fast = False
        """A handler is set, no message is half received, nothing went wrong: a whole text
        frame goes straight to the handler (the common case, one branch)."""

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def _set_state(self) -> None:
        self._fast = self.handler is not None and not self._dead and self._parts is None and self.error is None

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if not self._in_read:  # the first frame of this socket read
            self._read_ns = _perf_ns()
            self._recv_ns = _time_ns()
            self._in_read = True
        if frame.last_in_buffer:
            self._in_read = False
        if self._fast and frame.fin and frame.msg_type == _TEXT and frame.payload_size <= self.max_size:
            try:
                self.handler(frame.get_payload_as_bytes(), self._recv_ns, self._read_ns)  # type: ignore[misc]
            except Exception as exc:  # a bug past the streams' containment: end the session, loudly
                self._bug(exc)
            return
        self._frame(transport, frame)

    def _frame(self, transport: WSTransport, frame: WSFrame) -> None:
        # Every frame but a whole text message on a healthy session
        if self._dead:  # closing: nothing after our CLOSE is handed on
            return
        if frame.payload_size > self.max_size:
            # picows closed with 1009 on this frame's header (it has delivered the frame before
            # it, parsed one ahead, and goes on parsing): drop it and everything after it
            self._dead = True
            self._set_state()
            return
        kind = frame.msg_type
        if kind == WSMsgType.TEXT or kind == WSMsgType.BINARY:
            if frame.fin and self._parts is None:
                self._deliver(frame.get_payload_as_bytes())
            else:
                self._parts = [frame.get_payload_as_bytes()]
                self._parts_size = frame.payload_size
                self._set_state()
        elif kind == WSMsgType.CONTINUATION:
            if self._parts is None:
                self._fail(transport, WSCloseCode.PROTOCOL_ERROR, "continuation frame without a message")
                return
            self._parts_size += frame.payload_size
            if self._parts_size > self.max_size:
                self._fail(transport, WSCloseCode.MESSAGE_TOO_BIG, f"message over {self.max_size} bytes")
                return
            self._parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                raw = b"".join(self._parts)
                self._parts = None
                self._set_state()
                self._deliver(raw)
        elif kind == WSMsgType.CLOSE:
            self._dead = True
            self._set_state()
            with contextlib.suppress(Exception):
                transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()

    def _deliver(self, raw: bytes) -> None:
        if self.handler is None:
            self.pending.append((raw, self._recv_ns, self._read_ns))
            return
        self.deliver(raw, self._recv_ns, self._read_ns)

    def deliver(self, raw: bytes, recv_ns: int, read_ns: int) -> None:
        assert self.handler is not None
        if self.error is not None:
            return
        try:
            self.handler(raw, recv_ns, read_ns)
        except Exception as exc:  # a bug past the streams' containment: end the session, loudly
            self._bug(exc)

    def _bug(self, exc: BaseException) -> None:
        self.error = exc
        self._set_state()
        if self.transport is not None:
            self.transport.disconnect(graceful=False)

    def _fail(self, transport: WSTransport, code: Any, reason: str) -> None:
        self._dead = True
        self._parts = None
        self._set_state()
        transport.send_close(code, reason.encode())
        transport.disconnect()


class PicowsConnection:
    """:class:`WsConnection` over a picows ``WSTransport``."""

    def __init__(self, transport: WSTransport, listener: _PicowsListener) -> None:
        self.transport = transport
        self.listener = listener

    def on_message(self, handler: MessageHandler) -> None:
        listener = self.listener
        listener.handler = handler
        listener._set_state()
        pending, listener.pending = listener.pending, []
        for raw, recv_ns, read_ns in pending:
            listener.deliver(raw, recv_ns, read_ns)

    async def send(self, text: str) -> None:
        transport = self.transport
        if transport.is_disconnected or transport.is_close_frame_sent:
            raise TransportError("connection closed")
        transport.send(WSMsgType.TEXT, text.encode())

    async def wait_closed(self) -> None:
        try:
            await self.transport.wait_disconnected()
        except picows.WSError as exc:  # picows sent the close (its code: close_sent_code) and dropped
            if self.listener.error is None and self.close_sent_code != 1009:
                raise TransportError(f"WebSocket protocol error: {exc}") from exc
        if self.listener.error is not None:
            raise self.listener.error

    async def close(self, grace: float = 2.0) -> None:
        transport = self.transport
        if not transport.is_disconnected:
            with contextlib.suppress(Exception):
                transport.send_close(WSCloseCode.OK)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(transport.wait_disconnected()), grace)
        transport.disconnect(graceful=False)

    def abort(self) -> None:
        self.transport.disconnect(graceful=False)

    @property
    def close_sent_code(self) -> int | None:
        handshake = self.transport.close_handshake
        sent = handshake.sent if handshake is not None else None
        if sent is None:
            return None
        code = sent.code
        return code.value if isinstance(code, WSCloseCode) else int(code)


# -- dialling --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def dial(
    url: str,
    *,
    client: str,
    headers: dict[str, str] | None,
    max_size: int,
    open_timeout: float,
    ping_interval: float = 20.0,
    ping_timeout: float = 20.0,
) -> AsyncIterator[WsConnection]:
    """Open a WebSocket to ``url`` with ``client`` (``"picows"`` or ``"websockets"``); the
    connection is dropped when the block ends.

    ``headers`` go on the handshake (a signed one is built fresh by the caller for every dial);
    ``max_size`` bytes is the largest message accepted (a larger one closes with 1009); the
    handshake (TCP, TLS and HTTP upgrade) must finish within ``open_timeout`` seconds.

    Raises:
        the library's own errors (OSError, TimeoutError, InvalidStatus / WSHandshakeError…),
        classified by :func:`classify_failure`.
    """
    if client == "websockets":
        async with connect(
            url,
            additional_headers=headers,
            max_size=max_size,
            open_timeout=open_timeout,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            close_timeout=2,
        ) as ws:
            yield WebsocketsConnection(ws)
        return
    transport, listener = await asyncio.wait_for(
        picows.ws_connect(
            lambda: _PicowsListener(max_size),
            url,
            extra_headers=headers,
            max_frame_size=max_size,
            websocket_handshake_timeout=open_timeout,
            enable_auto_ping=True,
            auto_ping_idle_timeout=ping_interval,
            auto_ping_reply_timeout=ping_timeout,
            enable_auto_pong=True,
            disconnect_on_exception=True,
            logger_name="hadron",
        ),
        open_timeout,
    )
    assert isinstance(listener, _PicowsListener)
    try:
        yield PicowsConnection(transport, listener)
    finally:
        transport.disconnect(graceful=False)


# -- failures --------------------------------------------------------------------------------


def _refusal(status: int, body: str, venue: str, public: bool) -> HadronError:
    if status in (401, 403) and public:
        return TransportError(f"{venue} refused the WebSocket handshake ({status}) on a public channel: {body}")
    if status in (401, 403):
        return AuthError(f"{venue} refused the WebSocket handshake ({status}): {body or 'unauthorized'}")
    if 400 <= status < 500 and status != 429:
        return RequestError(f"{venue} refused the WebSocket handshake ({status}): {body}", status=status)
    return TransportError(f"WebSocket handshake failed with HTTP {status}")


def classify_failure(exc: BaseException, venue: str, *, public: bool = False) -> HadronError:
    """Map a WebSocket dial or session failure (either client library) to Hadron's tree:
    AuthError (401/403) and RequestError (other 4xx) are fatal; TransportError (network,
    timeouts, 429, 5xx) is retried.

    On a ``public`` channel (one that takes no credentials: Polymarket's market channel) a 401 or
    403 cannot be about a key: it is a refusal of the moment (a CDN's bot or rate rule, a region
    blocked for a while), a TransportError retried with back-off. Kalshi's signed handshake is not
    public: its 401/403 mean a refused key and stay fatal.
    """
    if isinstance(exc, HadronError):
        return exc
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        body = exc.response.body.decode("utf-8", "replace").strip()[:200] if exc.response.body else ""
        return _refusal(status, body, venue, public)
    if isinstance(exc, picows.WSInvalidStatusError):
        response = exc.response
        status = int(response.status) if response is not None else 0
        raw = exc.raw_body or (response.body if response is not None else None) or b""
        return _refusal(status, raw.decode("utf-8", "replace").strip()[:200], venue, public)
    if isinstance(exc, OSError | TimeoutError | ConnectionClosed | InvalidHandshake | asyncio.TimeoutError):
        return TransportError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, picows.WSError):
        return TransportError(f"{type(exc).__name__}: {exc}")
    return TransportError(f"unexpected {type(exc).__name__}: {exc}")


def is_retryable(err: HadronError) -> bool:
    """Network failures, timeouts, 429 and 5xx are retried; auth and other 4xx are not."""
    return not isinstance(err, AuthError | RequestError)


_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    ConnectionClosed,
    InvalidHandshake,
    HadronError,
    picows.WSError,
)


class BackoffLike(Protocol):
    """What :func:`reconnect_loop` asks of its back-off (:class:`hadron.venues.session.Backoff`)."""

    def next(self) -> float: ...

    def reset(self) -> None: ...


class DialStats(Protocol):
    """The counters :func:`reconnect_loop` keeps on a connection's stats object."""

    dials: int
    connects: int
    reconnects: int
    failures: int
    last_error: str


async def reconnect_loop(
    *,
    venue: str,
    name: str,
    url: str,
    stop: asyncio.Event,
    stats: DialStats,
    backoff: BackoffLike,
    healthy_after: float,
    session: Callable[[WsConnection, asyncio.Event], Awaitable[None]],
    headers: Callable[[], dict[str, str]] | None = None,
    open_timeout: float = 10.0,
    max_size: int,
    public: bool = False,
    client: str | None = None,
) -> None:
    """Dial ``url`` and run ``session`` on each connection until ``stop`` is set.

    Headers are built fresh for every dial (a signed handshake must be re-signed). ``max_size``
    is the largest message accepted, in bytes (the venue's ``MAX_FRAME_BYTES``): a larger one
    closes the connection with 1009 (see :func:`closed_by_client`) and the loop dials again.
    ``client`` is the WebSocket library (:data:`CLIENTS`; ``None``: :func:`default_client`). A
    failure is classified (:func:`classify_failure`; ``public``: a channel without credentials,
    whose 401/403 are retried): retryable ones wait a jittered exponential back-off, which starts
    again from its base once a connection stayed up ``healthy_after`` seconds. Any other
    exception out of a session (a bug: one frame's failures are contained by the streams) is
    logged with its traceback, counted as a failure and retried the same way: it never ends the
    feed.

    Raises:
        AuthError / RequestError: the venue refused the handshake for good (never retried).
        ConfigError: ``url`` is not a WebSocket URL, or ``client`` is unknown.
    """
    library = client or default_client()
    if library not in CLIENTS:
        raise ConfigError(f"WebSocket client {library!r} is unknown: use one of {', '.join(CLIENTS)}")
    while not stop.is_set():
        stats.dials += 1
        started = time.monotonic()
        try:
            async with dial(
                url,
                client=library,
                headers=headers() if headers is not None else None,
                max_size=max_size,
                open_timeout=open_timeout,
            ) as ws:
                stats.connects += 1
                if stats.connects > 1:
                    stats.reconnects += 1
                await session(ws, stop)
        except InvalidURI as exc:
            raise ConfigError(f"{venue} WebSocket URL {url!r} is not valid: {exc}") from exc
        except ConfigError:
            raise
        except _NETWORK_ERRORS as exc:
            if isinstance(exc, picows.WSInvalidURL):
                raise ConfigError(f"{venue} WebSocket URL {url!r} is not valid: {exc}") from exc
            err = classify_failure(exc, venue, public=public)
            stats.last_error = str(err)
            if not is_retryable(err):
                log.error("connection failed for good", venue=venue, conn=name, error=str(err))
                raise err from exc
            stats.failures += 1
            log.warning("connection lost", venue=venue, conn=name, error=str(err), failures=stats.failures)
        except Exception as exc:  # a bug, not the network: logged whole, then retried like one
            stats.last_error = f"unexpected {type(exc).__name__}: {exc}"
            stats.failures += 1
            log.error("connection failed unexpectedly: reconnecting", venue=venue, conn=name, exc_info=exc)
        if stop.is_set():
            break
        if time.monotonic() - started >= healthy_after:
            backoff.reset()
            stats.failures = 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=backoff.next())


class _Rejecting(Protocol):
    def reject(self, raw: bytes, error: str, instrument: str | None = None) -> None: ...


def closed_by_client(ws: WsConnection, stream: _Rejecting, stats: DialStats, max_size: int) -> None:
    """Account for a session that ended: when this client closed it with 1009 (a message over
    ``max_size`` bytes, never received whole), that message is counted, logged and written to
    the dead-letter file with what is known of it (its bytes are not kept: the limit is there so
    they are never held), and ``stats.last_error`` says so. Other closes need nothing here."""
    if ws.close_sent_code == 1009:
        why = f"frame over the {max_size:,}-byte limit: connection closed (1009), frame not kept"
        stats.last_error = why
        stream.reject(b"", why)


async def watch_session(ws: WsConnection, stop: asyncio.Event, unhealthy: Callable[[], bool]) -> None:
    """A session's watchdog, once a second and off the frame path.

    When ``stop`` is set the socket is closed politely (2 s at most), then dropped; when
    ``unhealthy()`` returns True (silence, PONGs stopped…) it is dropped so the reconnect loop dials
    again. Either way the session's ``wait_closed`` returns. Runs until then.
    """
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if stop.is_set():
            await ws.close(2.0)
            return
        if unhealthy():
            ws.abort()
            return
