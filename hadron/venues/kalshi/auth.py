"""Kalshi API-key authentication: RSA-PSS request signing, credentials, and hosts.

Every REST request and the WebSocket upgrade carry three headers (Kalshi docs
``getting_started/api_keys``)::

    KALSHI-ACCESS-KEY:        <key id>
    KALSHI-ACCESS-TIMESTAMP:  <unix ms, decimal string>
    KALSHI-ACCESS-SIGNATURE:  base64(RSA-PSS(SHA-256, MGF1-SHA-256, salt = 32)(ts + METHOD + path))

``path`` is the URL path without query string or host (``/trade-api/v2/markets``,
``/trade-api/ws/v2``). Headers are built fresh for every request and every dial.

The private key is held only inside :class:`KalshiSigner`; its ``repr`` shows the key id alone.
"""

from __future__ import annotations

import base64
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hadron.config import KalshiConfig
from hadron.errors import ConfigError

log = structlog.get_logger("hadron.kalshi.auth")

WS_PATH = "/trade-api/ws/v2"
REST_PREFIX = "/trade-api/v2"

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"


@dataclass(frozen=True)
class KalshiHosts:
    """REST base URL (ending in ``/trade-api/v2``) and WebSocket URL of one environment."""

    rest: str
    ws: str


HOSTS = {
    "prod": KalshiHosts(
        "https://external-api.kalshi.com/trade-api/v2", "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
    ),
    "demo": KalshiHosts(
        "https://external-api.demo.kalshi.co/trade-api/v2", "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"
    ),
}
"""Kalshi's recommended hosts (docs ``api_environments``, 2026-08)."""

OLDER_HOSTS = {
    "prod": KalshiHosts(
        "https://api.elections.kalshi.com/trade-api/v2", "wss://api.elections.kalshi.com/trade-api/ws/v2"
    ),
    "demo": KalshiHosts("https://demo-api.kalshi.co/trade-api/v2", "wss://demo-api.kalshi.co/trade-api/ws/v2"),
}
"""The older shared hosts, still served; accepted as ``rest_url``/``ws_url`` overrides."""


def hosts_for(cfg: KalshiConfig) -> KalshiHosts:
    """Return the hosts for ``cfg.env``, with ``ws_url``/``rest_url`` overrides applied."""
    base = HOSTS[cfg.env]
    return KalshiHosts(cfg.rest_url.rstrip("/") or base.rest, cfg.ws_url or base.ws)


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def signing_message(ts_ms: str, method: str, path: str) -> bytes:
    """Return what Kalshi signs: ``ts_ms + METHOD + path`` with any query string removed."""
    return f"{ts_ms}{method.upper()}{urlsplit(path).path}".encode()


class KalshiSigner:
    """Signs requests for one API key.

    Args:
        key_id: the API key id.
        private_key: the RSA private key.
    """

    def __init__(self, key_id: str, private_key: rsa.RSAPrivateKey) -> None:
        self.key_id = key_id
        self._key = private_key

    def __repr__(self) -> str:
        return f"KalshiSigner(key_id={self.key_id!r}, private_key='**********')"

    def headers(self, method: str, path: str, *, ts_ms: int | None = None) -> dict[str, str]:
        """Return the three auth headers for ``METHOD path`` signed now (or at ``ts_ms``).

        ``path`` may include a query string; it is not signed.
        """
        stamp = str(int(time.time() * 1000) if ts_ms is None else ts_ms)
        signature = self._key.sign(signing_message(stamp, method, path), _pss(), hashes.SHA256())
        return {
            HEADER_KEY: self.key_id,
            HEADER_TIMESTAMP: stamp,
            HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
        }

    def ws_headers(self) -> dict[str, str]:
        """Return fresh headers for the WebSocket upgrade (``GET /trade-api/ws/v2``)."""
        return self.headers("GET", WS_PATH)


def verify_headers(
    public_key: rsa.RSAPublicKey,
    headers: Mapping[str, str],
    method: str,
    path: str,
    *,
    now_ms: int | None = None,
    max_skew_ms: int = 5_000,
) -> str | None:
    """Check Kalshi auth headers as the venue does; return ``None`` if valid, else the reason.

    Used by the loopback venue: missing headers, a timestamp more than ``max_skew_ms`` away from
    ``now_ms``, or a signature that does not verify are all refused.
    """
    key_id = headers.get(HEADER_KEY)
    stamp = headers.get(HEADER_TIMESTAMP)
    signature = headers.get(HEADER_SIGNATURE)
    if not key_id or not stamp or not signature:
        return "missing auth headers"
    if not stamp.isdigit():
        return "timestamp is not unix milliseconds"
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now - int(stamp)) > max_skew_ms:
        return "timestamp outside the allowed window"
    try:
        public_key.verify(base64.b64decode(signature), signing_message(stamp, method, path), _pss(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return "INCORRECT_API_KEY_SIGNATURE"
    return None


def verify_any(
    public_keys: Sequence[rsa.RSAPublicKey],
    headers: Mapping[str, str],
    method: str,
    path: str,
    *,
    now_ms: int | None = None,
    max_skew_ms: int = 5_000,
) -> str | None:
    """:func:`verify_headers` against several accepted keys: ``None`` when any of them verifies
    the headers, else the first key's reason (the loopback venues with a key pool)."""
    reasons = [
        verify_headers(key, headers, method, path, now_ms=now_ms, max_skew_ms=max_skew_ms) for key in public_keys
    ]
    if not reasons or any(reason is None for reason in reasons):
        return None
    return reasons[0]


def _load_pem(data: bytes, setting: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{setting}: not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{setting}: the key is not an RSA key (Kalshi keys are RSA)")
    return key


def _read_key_file(key_id: str, key_path: str, setting: str) -> KalshiSigner:
    path = Path(key_path).expanduser()
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"{setting}={path}: cannot read ({exc.strerror or exc})") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("key file is readable by others: chmod 600 it", path=str(path), mode=oct(mode & 0o777))
    return KalshiSigner(key_id, _load_pem(data, f"{setting}={path}"))


def load_signer(cfg: KalshiConfig) -> KalshiSigner:
    """Build the signer from ``cfg`` (already merged with ``.env`` and the environment).

    Raises:
        ConfigError: one line naming the variable: the key id is missing, no key is given, the key
            file cannot be read, or it is not an RSA PEM key.
    """
    if not cfg.api_key_id:
        raise ConfigError("KALSHI_API_KEY_ID is not set: export it, put it in .env, or set kalshi.api_key_id")
    if cfg.private_key:
        return KalshiSigner(cfg.api_key_id, _load_pem(cfg.private_key.reveal().encode(), "KALSHI_PRIVATE_KEY"))
    if not cfg.private_key_path:
        raise ConfigError(
            "KALSHI_PRIVATE_KEY_PATH is not set: point it at your Kalshi RSA key file "
            "(or put the PEM text in KALSHI_PRIVATE_KEY)"
        )
    return _read_key_file(cfg.api_key_id, cfg.private_key_path, "KALSHI_PRIVATE_KEY_PATH")


def load_signers(cfg: KalshiConfig) -> list[KalshiSigner]:
    """Build every signer of the key pool: the single key (``KALSHI_API_KEY_ID`` …, when its id
    is set) first, then each ``[[kalshi.keys]]`` table in order.

    Returns:
        At least one signer; no key id appears twice.

    Raises:
        ConfigError: one line naming the setting: no key at all (as :func:`load_signer`), the
            single key id without its key, a ``kalshi.keys[i]`` file that cannot be read or is
            not an RSA PEM key, or a key id given twice.
    """
    signers = [load_signer(cfg)] if cfg.api_key_id or not cfg.keys else []
    for i, key in enumerate(cfg.keys):
        setting = f"kalshi.keys[{i}]"
        if key.private_key:
            pem = _load_pem(key.private_key.reveal().encode(), f"{setting}.private_key")
            signer = KalshiSigner(key.api_key_id, pem)
        else:
            signer = _read_key_file(key.api_key_id, key.private_key_path, f"{setting}.private_key_path")
        if any(s.key_id == signer.key_id for s in signers):
            raise ConfigError(
                f"{setting}.api_key_id {mask_key_id(signer.key_id)} is already in the pool: list each key once"
            )
        signers.append(signer)
    return signers


def mask_key_id(key_id: str) -> str:
    """The key id as it may be shown (logs, reports, the dashboard): ``"…"`` and its last 4
    characters."""
    return "…" + key_id[-4:]


def generate_test_key() -> tuple[rsa.RSAPrivateKey, bytes, bytes]:
    """Return a fresh 2048-bit key with its private and public PEM (tests and the loopback venue)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, private_pem, public_pem


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM.

    Raises:
        ConfigError: not an RSA public key.
    """
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise ConfigError("--public-key: not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError("--public-key: not an RSA public key")
    return key
