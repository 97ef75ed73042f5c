"""What the command modules share: the consoles, exiting with a message, JSON files, venues."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console

stdout = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

LogLevel = Annotated[str, typer.Option("--log-level", help="debug, info, warning or error (stderr).")]

ACCOUNT_SCRIPT_HELP = (
    "Play this script of orders on the venue's private channels: a JSON list of objects "
    '{"venue", "at" (s after the first private subscriber), "instrument", "side" (Kalshi yes/no, '
    'Polymarket BUY/SELL), "price", "count", "fill", "market" (Polymarket condition id), "cancel_at"}; '
    "see account-script.example.json and hadron.venues.account_script."
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``hadron: message`` on stderr; the exit to raise (status ``code``)."""
    err.print(f"hadron: {message}", markup=False)
    return typer.Exit(code)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` as indented JSON, parent folders created.

    The file is written beside, then renamed: a full disk leaves the old file or none, never an
    empty one.

    Raises:
        OSError: the file could not be written (the temporary file is removed).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(msgspec.json.format(msgspec.json.encode(data), indent=2) + b"\n")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def adapter_for(name: str, capability: type) -> Any:
    """The registered venue ``name`` (:mod:`hadron.model.venue`) if it implements ``capability``
    (a protocol of :mod:`hadron.venues.base`), else exit 2."""
    from hadron.model.venue import venue_names
    from hadron.venues.base import get_venue

    if name not in venue_names():
        raise fail(f"unknown venue {name!r} (known: {', '.join(venue_names())})")
    adapter = get_venue(name)
    if not isinstance(adapter, capability):
        raise fail(f"venue {name} does not support this command")
    return adapter


def load_account_script(path: Path | None) -> list[Any] | None:
    """--account-script FILE read (see :mod:`hadron.venues.account_script`), else exit 2."""
    if path is None:
        return None
    from hadron.venues.base import load_script

    try:
        return list(load_script(path))
    except OSError as exc:
        raise fail(f"--account-script {path}: cannot read ({exc.strerror or exc})") from None
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise fail(f"--account-script {path}: {exc}") from None


DEFAULT_CONTROL_URL = "http://127.0.0.1:8765"
"""The control endpoint of a runtime started with the default ``runtime.port``."""

CONTROL_URL = typer.Option(help="The runtime's control endpoint.")
CONTROL_TOKEN = typer.Option(
    help="The control token [default: for a loopback URL, the one the runtime wrote for its port "
    "($XDG_RUNTIME_DIR/hadron/PORT.token or ~/.hadron/run/PORT.token)].",
    envvar="HADRON_CONTROL_TOKEN",
)


def control(url: str, path: str, token: str | None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """:func:`hadron.app.control_client.request`, its errors turned into exits: 2, the URL is
    not an http(s) URL with a valid port; 1, the endpoint cannot be reached or refused."""
    from hadron.app.control_client import ControlError, request
    from hadron.errors import ConfigError

    try:
        return request(url, path, token, body)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    except ControlError as exc:
        raise fail(str(exc), code=1) from None
