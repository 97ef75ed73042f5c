"""Talking to a running runtime's control endpoint (``hadron status``, ``stop``, ``paper …``).

The runtime serves the endpoint on ``runtime.host:port`` (:mod:`hadron.app.control`); every
request carries its control token as ``Authorization: Bearer …``. On a loopback URL the token is
read from the file the runtime wrote for its port (:func:`hadron.app.control.token_file`) when
the caller gives none.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from hadron.errors import ConfigError, HadronError


class ControlError(HadronError):
    """The control endpoint could not be reached, or refused the request (the message says which)."""


def request(url: str, path: str, token: str | None = None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET ``url + path`` (``body`` None) or POST ``body`` as JSON there; the JSON answer.

    ``token`` is the control token; without one, a loopback URL's port names the token file to
    read. Waits at most 5 s.

    Raises:
        ConfigError: ``url`` is not an http(s) URL with a valid port.
        ControlError: the endpoint cannot be reached, or answered 4xx/5xx (the status and the
            first 200 characters of the answer; on a 401 without a token, where to find one).
    """
    import httpx

    from hadron.app.control import local_port, read_token_file, token_file
    from hadron.config import mask_url

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"--url {mask_url(url)}: {exc}; give e.g. http://127.0.0.1:8765") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--url {mask_url(url)}: not an http(s) URL; give e.g. http://127.0.0.1:8765")
    port = local_port(url)
    if not token and port is not None:
        token = read_token_file(port)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    where = mask_url(url)
    try:
        if body is None:
            response = httpx.get(url.rstrip("/") + path, headers=headers, timeout=5)
        else:
            response = httpx.post(url.rstrip("/") + path, json=body, headers=headers, timeout=5)
    except httpx.HTTPError as exc:
        raise ControlError(f"control endpoint {where}: {mask_url(str(exc))}") from None
    if response.status_code >= 400:
        hint = ""
        if response.status_code == 401 and not token:
            missing = ""
            if port is not None:
                with contextlib.suppress(RuntimeError):  # no home folder: no file to name
                    missing = f"no token file {token_file(port)}: is the runtime on this port this user's? "
            hint = f" ({missing}give --token or HADRON_CONTROL_TOKEN)"
        raise ControlError(f"control endpoint {where}{path}: {response.status_code} {response.text[:200]}{hint}")
    result: dict[str, Any] = response.json()
    return result
