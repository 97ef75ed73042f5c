"""Configuration: a TOML file, then environment overrides, into frozen typed settings.

The file is ``--config FILE``, else ``$HADRON_CONFIG``, else ``./hadron.toml`` when it exists.
Every error names the setting and the fix. Secrets are held in :class:`Secret`, whose ``repr`` and
``str`` are masked, so they never reach logs, reports or tracebacks.

Example ``hadron.toml``::

    [kalshi]
    env = "demo"                          # prod | demo (KALSHI_ENV)
    api_key_id = "a952bcbe-…"             # KALSHI_API_KEY_ID
    private_key_path = "~/.kalshi/key.pem"  # KALSHI_PRIVATE_KEY_PATH
    connections = 2                       # WebSocket connections in the pool
    max_markets_per_connection = 500
    rate_tier = "basic"                   # REST token buckets: basic, advanced, premier, prime
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from hadron.errors import ConfigError


class Secret:
    """A secret string: ``str()``/``repr()`` give ``'**********'``; :meth:`reveal` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself; only for the code that must use it."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True)
class KalshiConfig:
    """Kalshi settings (section ``[kalshi]``; environment variables override the file).

    Attributes:
        env: ``prod`` or ``demo``; picks the hosts (``KALSHI_ENV``).
        api_key_id: the API key id, a UUID (``KALSHI_API_KEY_ID``).
        private_key_path: PEM file of the RSA private key (``KALSHI_PRIVATE_KEY_PATH``).
        private_key: the PEM text itself (``KALSHI_PRIVATE_KEY``); masked.
        ws_url / rest_url: override the hosts (a loopback venue, an older host).
        connections: WebSocket connections in the pool (each its own sid/seq space).
        max_markets_per_connection: markets per connection before another is opened.
        rate_tier: REST token-bucket tier (basic, advanced, premier, prime...).
    """

    env: str = "prod"
    api_key_id: str = ""
    private_key_path: str = ""
    private_key: Secret = field(default_factory=lambda: Secret(""))
    ws_url: str = ""
    rest_url: str = ""
    connections: int = 1
    max_markets_per_connection: int = 500
    rate_tier: str = "basic"


@dataclass(frozen=True)
class HadronConfig:
    """All of Hadron's settings; see the module docstring for the file format."""

    kalshi: KalshiConfig = field(default_factory=KalshiConfig)
    source: str = ""
    """Where the file came from (empty when no file was read)."""


_ENV_KALSHI = {
    "env": "KALSHI_ENV",
    "api_key_id": "KALSHI_API_KEY_ID",
    "private_key_path": "KALSHI_PRIVATE_KEY_PATH",
    "private_key": "KALSHI_PRIVATE_KEY",
    "ws_url": "KALSHI_WS_URL",
    "rest_url": "KALSHI_REST_URL",
}


def _section(data: dict[str, Any], name: str, source: str) -> KalshiConfig:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    known = {f.name: f for f in fields(KalshiConfig)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {name}.{key} (known: {', '.join(sorted(known))})")
        expected = int if known[key].type == "int" else str
        if key == "private_key":
            if not isinstance(value, str):
                raise ConfigError(f"{source}: {name}.private_key must be a string (PEM text)")
            value = Secret(value)
        elif not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"{source}: {name}.{key} must be {expected.__name__}, got {value!r}")
        values[key] = value
    return KalshiConfig(**values)


def _apply_env(cfg: KalshiConfig, env: dict[str, str]) -> KalshiConfig:
    values: dict[str, Any] = {}
    for attr, var in _ENV_KALSHI.items():
        if env.get(var):
            values[attr] = Secret(env[var]) if attr == "private_key" else env[var]
    if not values:
        return cfg
    merged = {f.name: getattr(cfg, f.name) for f in fields(KalshiConfig)} | values
    return KalshiConfig(**merged)


def read_dotenv(path: Path) -> dict[str, str]:
    """Read a ``.env`` file (python-dotenv syntax); a missing file gives ``{}``."""
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_config(
    path: Path | None = None, *, environ: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> HadronConfig:
    """Load settings: file (``path``, ``$HADRON_CONFIG`` or ``./hadron.toml``), then ``.env``, then
    the environment (highest priority).

    Raises:
        ConfigError: the file cannot be read or parsed, a setting is unknown or of the wrong type,
            or ``KALSHI_ENV`` is not prod/demo. The message names the setting.
    """
    env = dict(os.environ if environ is None else environ)
    chosen = path or (Path(env["HADRON_CONFIG"]) if env.get("HADRON_CONFIG") else None)
    if chosen is None and Path("hadron.toml").is_file():
        chosen = Path("hadron.toml")
    data: dict[str, Any] = {}
    source = ""
    if chosen is not None:
        source = str(chosen)
        try:
            data = tomllib.loads(chosen.read_text())
        except OSError as exc:
            raise ConfigError(f"config file {chosen}: cannot read ({exc.strerror or exc})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {chosen}: not valid TOML ({exc})") from exc
    kalshi = _section(data, "kalshi", source or "config")
    merged_env = (read_dotenv(dotenv) if dotenv is not None else {}) | env
    kalshi = _apply_env(kalshi, merged_env)
    if kalshi.env not in ("prod", "demo"):
        raise ConfigError(f"KALSHI_ENV / kalshi.env is {kalshi.env!r}: use prod or demo")
    if kalshi.connections < 1 or kalshi.max_markets_per_connection < 1:
        raise ConfigError("kalshi.connections and kalshi.max_markets_per_connection must be at least 1")
    return HadronConfig(kalshi=kalshi, source=source)
