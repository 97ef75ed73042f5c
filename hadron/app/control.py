"""Who may talk to the runtime's HTTP server (dashboard, control endpoint, ``/metrics``), and the
per-run control token.

Every request, HTTP or WebSocket, passes :class:`ControlGuard`, in this order:

1. **Host** must name this server: ``localhost``, ``127.0.0.1`` or ``[::1]``, the bound address
   (``runtime.host``, unless ``0.0.0.0``/``::``) or a name of ``runtime.allowed_hosts``, at the
   bound port. Otherwise 421 (a WebSocket is closed before it opens: HTTP 403). This defeats DNS
   rebinding: a page of ``rebind.attacker.example`` that resolves to 127.0.0.1 still sends its
   own name as ``Host``.
2. **Origin**, when sent, must be ``http://<one of those hosts>:<port>``. Otherwise 403 (a
   WebSocket: HTTP 403). A browser sends ``Origin`` on every cross-origin request, on every
   ``POST`` and on every WebSocket handshake, so no other page can drive the endpoint or read the
   socket; clients that are not browsers (``hadron stop``, curl, Prometheus) send none.
3. **Token**: every state change (any method but ``GET``/``HEAD``: ``POST /api/stop``,
   ``/api/paper/kill``, ``/api/paper/resume``) needs ``Authorization: Bearer <token>``; with
   ``runtime.control_token`` configured every request needs it (or ``?token=<token>``, for the
   page and its WebSocket), as before. Otherwise 401. Compared in constant time.
4. **Body**: a state change needs ``Content-Type: application/json`` (415 otherwise) and a JSON
   object of at most 64 KiB as its body (400 / 413 otherwise): a page cannot send that
   cross-origin without a CORS preflight, which this server never grants.

The token is ``runtime.control_token`` when configured, else a new
:func:`secrets.token_urlsafe` for each run. While the server listens it is also written, mode
0600, to :func:`token_file` (``$XDG_RUNTIME_DIR/hadron/<port>.token``, or
``~/.hadron/run/<port>.token`` without ``XDG_RUNTIME_DIR``; the folder 0700), and removed at
stop: ``hadron stop``, ``hadron status`` and ``hadron paper …`` read it for a loopback URL, so
they need no flag from any working directory, ``hadron demo``'s temporary one included. The
dashboard page gets it embedded in its HTML, served only to an allowed ``Host`` (and with
``Cache-Control: no-store``; no other page can read it, nor frame it).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from hadron.errors import ConfigError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
"""The loopback names every server answers to (at its port)."""

MAX_BODY = 64 * 1024
"""The largest body a state change may send, bytes."""

_READS = frozenset({"GET", "HEAD"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 (names compared, nothing bound)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``, bracketed or not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh control token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def _authority(value: str, default_port: int | None = 80) -> str | None:
    # "Name:port" → "name:port" (IPv6 bracketed); no port → default_port (None: no port); bad → None
    text = value.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[: end + 1], text[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ("" if not rest else None)
    elif text.count(":") > 1:  # a bare IPv6 address
        name, port = f"[{text}]", ""
    else:
        name, _, port = text.partition(":")
    if not name or port is None or (port and not port.isdigit()):
        return None
    if not port:
        return name if default_port is None else f"{name}:{default_port}"
    return f"{name}:{int(port)}"


def allowed_authorities(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` values a server bound to ``host:port`` answers to, as ``name:port``.

    The loopback names (:data:`LOOPBACK_NAMES`), ``host`` unless a wildcard (``0.0.0.0``, ``::``),
    and each of ``extra``: ``name`` (at ``port``) or ``name:port``. Lower case; IPv6 bracketed.
    """
    names = set(LOOPBACK_NAMES)
    if host.strip().lower() not in _WILDCARDS:
        bound = _authority(host, None)
        if bound is not None:
            names.add(bound)
    out = {f"{name}:{port}" for name in names}
    for item in extra:
        given = _authority(item, None)
        if given is not None:
            has_port = not given.endswith("]") and ":" in given
            out.add(given if has_port else f"{given}:{port}")
    return frozenset(out)


class ControlGuard:
    """ASGI middleware applying the rules of the module docstring to every HTTP request and
    WebSocket before ``app`` sees it.

    Args:
        app: the application to guard.
        token: the control token (the configured one, or :func:`new_token`).
        host / port: where the server is bound (``runtime.host``, ``runtime.port``).
        allowed_hosts: more ``Host`` names (``runtime.allowed_hosts``).
        token_for_reads: also require the token on reads, the page and the WebSocket (set when
            ``runtime.control_token`` is configured).

    Raises:
        ConfigError: ``token`` is empty.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        port: int,
        host: str = "127.0.0.1",
        allowed_hosts: Iterable[str] = (),
        token_for_reads: bool = False,
    ) -> None:
        if not token:
            raise ConfigError("the control endpoint needs a token")
        self.app = app
        self.token = token
        self.authorities = allowed_authorities(host, port, allowed_hosts)
        self.origins = frozenset(f"http://{a}" for a in self.authorities) | frozenset(
            f"http://{a.removesuffix(':80')}" for a in self.authorities if a.endswith(":80")
        )
        self.token_for_reads = token_for_reads

    def _has_token(self, scope: Scope, headers: Headers, *, query: bool) -> bool:
        header = headers.get("authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not given and query:
            given = QueryParams(scope.get("query_string", b"")).get("token", "")
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def refusal(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        """Why the request (``scope``, ``headers``) is refused, as ``(status, message)``, or
        ``None`` if it passes the Host, Origin and token rules (the body is checked apart)."""
        if _authority(headers.get("host", "")) not in self.authorities:
            return 421, "misdirected request: the Host header does not name this server"
        origin = headers.get("origin")
        if origin is not None and origin.strip().lower().rstrip("/") not in self.origins:
            return 403, "forbidden: a cross-origin request (Origin is not this server)"
        write = scope["type"] == "http" and scope["method"] not in _READS
        if (write or self.token_for_reads) and not self._has_token(scope, headers, query=not write):
            return 401, (
                "unauthorized: send Authorization: Bearer <token> (hadron stop, status and paper read the run's "
                "token file; or give --token / HADRON_CONTROL_TOKEN)"
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refused = self.refusal(scope, headers)
        if refused is None and scope["type"] == "http" and scope["method"] not in _READS:
            body, refused = await _json_body(headers, receive)
            if refused is None:
                receive = _replay(body, receive)
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocket(scope, receive, send).close(code=1008, reason=refused[1][:120])
        else:
            status, message = refused
            await JSONResponse({"error": message}, status_code=status)(scope, receive, send)


async def _json_body(headers: Headers, receive: Receive) -> tuple[bytes, tuple[int, str] | None]:
    # The whole body of a state change, or why it is refused (content type, size, not a JSON object)
    if headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
        return b"", (415, "a state change needs Content-Type: application/json and a JSON object body, e.g. {}")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", (400, "the request ended before its body")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"", (413, f"the body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return b"", (400, 'the body must be a JSON object, e.g. {} or {"reason": "…"}')
    return body, None


def _replay(body: bytes, receive: Receive) -> Receive:
    # A receive callable that hands the application the body already read, then the client's
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# -- the token file ------------------------------------------------------------------------------


def token_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user folder of the token files: ``$XDG_RUNTIME_DIR/hadron`` when that variable
    names an absolute path, else ``~/.hadron/run``.

    Raises:
        RuntimeError: no ``XDG_RUNTIME_DIR`` and the home folder cannot be determined.
    """
    env = os.environ if environ is None else environ
    runtime_dir = env.get("XDG_RUNTIME_DIR", "")
    if runtime_dir and os.path.isabs(runtime_dir):
        return Path(runtime_dir) / "hadron"
    return Path.home() / ".hadron" / "run"


def token_file(port: int, environ: Mapping[str, str] | None = None) -> Path:
    """Where the token of the server on ``port`` is written: ``<token_dir>/<port>.token``."""
    return token_dir(environ) / f"{port}.token"


def write_token_file(port: int, token: str, environ: Mapping[str, str] | None = None) -> Path:
    """Write ``token`` to :func:`token_file` (mode 0600, atomically; the folder made 0700 and
    checked to belong to this user); return its path.

    Raises:
        ConfigError: the folder is not this user's, or the file cannot be written.
    """
    try:
        folder = token_dir(environ)
    except RuntimeError as exc:  # no XDG_RUNTIME_DIR, and no home folder either
        raise ConfigError(f"control token file: {exc}; set XDG_RUNTIME_DIR") from exc
    path = folder / f"{port}.token"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
        getuid = getattr(os, "getuid", None)
        if not stat.S_ISDIR(info.st_mode) or (getuid is not None and info.st_uid != getuid()):
            raise ConfigError(f"control token folder {folder}: not a folder of this user; not written there")
        if stat.S_IMODE(info.st_mode) & 0o077:
            folder.chmod(0o700)
        scratch = folder / f".{port}.token.{os.getpid()}.{secrets.token_hex(4)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(scratch, flags, 0o600), "w") as out:
            out.write(token + "\n")
        os.replace(scratch, path)
    except OSError as exc:
        raise ConfigError(f"control token file {path}: cannot write ({exc.strerror or exc})") from exc
    return path


def read_token_file(port: int, environ: Mapping[str, str] | None = None) -> str | None:
    """The token written for the server on ``port`` by this user, or ``None`` (no such file, or
    unreadable)."""
    try:
        text = token_file(port, environ).read_text().strip()
    except (OSError, RuntimeError):  # RuntimeError: no home folder
        return None
    return text or None


def remove_token_file(path: Path, token: str) -> None:
    """Remove the token file ``path`` if it still holds ``token`` (another run may have replaced
    it); never raises."""
    with contextlib.suppress(OSError):
        if path.read_text().strip() == token:
            path.unlink()


def local_port(url: str) -> int | None:
    """The port of ``url`` when it names a loopback host (``http://127.0.0.1:8765`` → 8765;
    no port: 80, or 443 for https), else ``None``: a token file is only sent to this machine."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or not is_loopback(parts.hostname):
        return None
    return port or (443 if parts.scheme == "https" else 80)
