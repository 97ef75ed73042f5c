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
    transport = "auto"                    # auto (WebSocket, REST polling when it is unusable) | ws | rest

    [[kalshi.keys]]                       # more API keys for the connection pool (repeat the table)
    api_key_id = "5d1e…"
    private_key_path = "~/.kalshi/b.pem"  # or private_key = "<PEM text>"
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import structlog
from dotenv import dotenv_values

from hadron.errors import ConfigError
from hadron.model.venue import venue_names


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


TRANSPORTS = ("auto", "ws", "rest")
"""How a venue's live feed gets its books: ``ws`` streams over the WebSocket only (retrying for
ever); ``rest`` polls the REST order books only; ``auto`` streams and falls back to polling when
the socket is unusable (the handshake refused for good, or every connection failing 5 dials in a
row)."""


@dataclass(frozen=True)
class KalshiKey:
    """One more Kalshi API key of the pool (a ``[[kalshi.keys]]`` table).

    Attributes:
        api_key_id: the key id, a UUID (required).
        private_key_path: PEM file of its RSA private key.
        private_key: the PEM text itself, instead of a file; masked.
    """

    api_key_id: str = ""
    private_key_path: str = ""
    private_key: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True)
class KalshiConfig:
    """Kalshi settings (section ``[kalshi]``; environment variables override the file).

    Attributes:
        env: ``prod`` or ``demo``; picks the hosts (``KALSHI_ENV``; alias ``KALSHI_USE_DEMO``
            ``true``/``false``, read when ``KALSHI_ENV`` is unset).
        api_key_id: the API key id, a UUID (``KALSHI_API_KEY_ID``; alias ``KALSHI_API_KEY``, read
            when ``KALSHI_API_KEY_ID`` is unset).
        private_key_path: PEM file of the RSA private key (``KALSHI_PRIVATE_KEY_PATH``).
        private_key: the PEM text itself (``KALSHI_PRIVATE_KEY``); masked.
        ws_url / rest_url: override the hosts (a loopback venue, an older host).
        connections: WebSocket connections in the pool (each its own sid/seq space); the live
            feed opens at least one per key.
        max_markets_per_connection: markets per connection before another is opened.
        rate_tier: REST token-bucket tier (basic, advanced, premier, prime...).
        keys: more API keys (``[[kalshi.keys]]`` tables), used after the one above: connection
            ``i`` signs with key ``i mod n``; a refused key's markets move to the others.
        transport: ``auto``, ``ws`` or ``rest`` (see :data:`TRANSPORTS`).
        poll_interval_s: seconds between two REST polling cycles (the fallback).
        account: subscribe the private channels (``fill``, ``user_orders``,
            ``market_positions``, ``order_group_updates``) on the signed connections and show the
            real account beside the paper one (dashboard account panel, state store
            ``account_*`` tables); ``false``: market data only.
        index_prices: reference prices to stream (channels ``cfbenchmarks_value``,
            ``pyth_value``): ``"auto"`` (the underlyings of the streamed markets by series, e.g.
            KXGOLD → Pyth ``Metal.XAU/USD``, KXBTC → CF Benchmarks ``BRTI``), ``"cfbenchmarks:<id>"``,
            ``"pyth:<underlying>"``; explicit entries replace ``"auto"`` unless it is listed too;
            ``[]`` streams none (see :mod:`hadron.venues.kalshi.indices`).
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
    keys: tuple[KalshiKey, ...] = ()
    transport: str = "auto"
    poll_interval_s: float = 1.0
    account: bool = True
    index_prices: tuple[str, ...] = ("auto",)


@dataclass(frozen=True)
class PolymarketConfig:
    """Polymarket settings (section ``[polymarket]``).

    Attributes:
        ws_url: the market channel (default Polymarket's).
        rest_url: the CLOB REST host, for ``/book`` (freeze watchdog).
        gamma_url: the Gamma host for market metadata (empty: skip; hashes then go unverified).
        freeze_window_s: a token silent this long while its REST book moved on is re-subscribed.
        transport: ``auto``, ``ws`` or ``rest`` (see :data:`TRANSPORTS`); polling reads
            ``GET /book`` on ``rest_url`` for every token.
        poll_interval_s: seconds between two REST polling cycles (the fallback).
        api_key / api_secret / api_passphrase: the CLOB L2 API credentials
            (``POLYMARKET_API_KEY``, ``POLYMARKET_API_SECRET``, ``POLYMARKET_API_PASSPHRASE``), all
            three masked; with them (and ``account``) the runtime reads the authenticated user
            channel (``user_ws_url``: our orders and trades) into the account panel.
        user_ws_url: the user channel (default Polymarket's ``/ws/user``; when ``ws_url`` is
            moved to another ``…/ws/market`` and this is left unset, the same host's ``/ws/user``).
        account: read the user channel when the three credentials are set.
        private_key: the wallet's private key, hex (``POLYMARKET_PRIVATE_KEY``); masked. Signs
            the CLOB V2 orders (EIP-712) and, with no API credentials set, derives them (L1).
            Only live execution reads it (``docs/EXECUTION.md``).
        funder: the address holding the funds when it is not the signer's (a Polymarket proxy
            or Safe wallet; ``POLYMARKET_FUNDER``); ``""``: the signer's own address.
        signature_type: the order's signature type: 0 EOA, 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE.
        chain_id: 137 (Polygon) or 80002 (Amoy).
    """

    ws_url: str = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
    rest_url: str = "https://clob.polymarket.com"
    gamma_url: str = "https://gamma-api.polymarket.com"
    freeze_window_s: int = 30
    transport: str = "auto"
    poll_interval_s: float = 1.0
    api_key: Secret = field(default_factory=lambda: Secret(""))
    api_secret: Secret = field(default_factory=lambda: Secret(""))
    api_passphrase: Secret = field(default_factory=lambda: Secret(""))
    user_ws_url: str = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
    account: bool = True
    private_key: Secret = field(default_factory=lambda: Secret(""))
    funder: str = ""
    signature_type: int = 0
    chain_id: int = 137

    @property
    def has_credentials(self) -> bool:
        """True when the API key, secret and passphrase are all set."""
        return bool(self.api_key and self.api_secret and self.api_passphrase)


@dataclass(frozen=True)
class RuntimeConfig:
    """The live runtime (section ``[runtime]``; see ``hadron run --config``).

    Attributes:
        pairs: the reviewed pairs file: its approved pairs choose the markets and tokens.
        state: state store URL (``sqlite:///FILE`` or ``postgresql://…``; empty: none).
        record_dir: record every raw frame here (empty: do not record), with ``pairs.toml`` as
            traded and ``config.json`` (the effective configuration, secrets masked) beside them:
            ``hadron replay DIR --pairs DIR/pairs.toml`` reproduces the run's opportunities.
        opportunities: write every opportunity here as NDJSON (empty: do not).
        bus: ``nats://host:4222`` to publish the normalized events (and opportunities) on
            JetStream, the bus of ``hadron run --role ingest|strategy`` (empty: none).
        bus_snapshot_s: a publishing process also publishes every LIVE book as a snapshot this
            often, so a strategy that (re)starts mid-stream has LIVE books again (0: never).
        tick_store: ``parquet:DIR`` for normalized ticks (empty: none).
        dead_letter: where rejected frames go.
        host / port: the dashboard, control and ``/metrics`` server (``port`` 0: none).
        control_token: required when ``host`` is not loopback (``HADRON_CONTROL_TOKEN``); masked.
            Every request then needs it; without one a token is made for each run (see
            :mod:`hadron.app.control`).
        allowed_hosts: more names the server answers to (its ``Host`` header), beside
            ``localhost``, ``127.0.0.1``, ``[::1]`` and ``host`` itself: the machine's DNS name or
            address when ``host`` is ``0.0.0.0``; ``name`` (at ``port``) or ``name:port`` (behind
            a proxy). Any other ``Host`` is refused (421).
        paper: paper-trade the opportunities (``[paper]`` and ``[risk]`` tables).
        log_level: debug, info, warning or error.
        stale_after_s: a LIVE book with no update for this long is marked STALE.
        settle_poll_s: in paper mode, ask Kalshi's REST for the results of held markets this often
            (0: only the venues' result messages settle positions).
        trim_memory_s: hand the C heap's free pages back to the OS this often (glibc
            ``malloc_trim``; frames of varying size freed across threads otherwise keep the
            resident size creeping up; 0: never).
        metrics_max_instruments: ``/metrics`` gives series of their own (book state, last update,
            best net edge) to at most this many instruments and pairs, those of the approved pairs
            first; the rest are only counted (see ``docs/METRICS.md``; 0: none).
    """

    pairs: str = ""
    state: str = ""
    record_dir: str = ""
    opportunities: str = ""
    bus: str = ""
    bus_snapshot_s: int = 30
    tick_store: str = ""
    dead_letter: str = "hadron.deadletter.ndjson"
    host: str = "127.0.0.1"
    port: int = 8765
    control_token: Secret = field(default_factory=lambda: Secret(""))
    allowed_hosts: tuple[str, ...] = ()
    paper: bool = True
    log_level: str = "info"
    stale_after_s: int = 30
    settle_poll_s: int = 60
    trim_memory_s: int = 60
    metrics_max_instruments: int = 500


@dataclass(frozen=True)
class HadronConfig:
    """All of Hadron's settings; see the module docstring for the file format.

    ``tables`` keeps the raw ``[paper]``, ``[risk]`` and ``[thresholds]`` tables, parsed by their
    own modules (:func:`hadron.paper.config.paper_config`, ...), and the raw section of each other
    registered venue (``[<venue>]``, :mod:`hadron.model.venue`), read by its adapter."""

    kalshi: KalshiConfig = field(default_factory=KalshiConfig)
    polymarket: PolymarketConfig = field(default_factory=PolymarketConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
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


_SECRETS = {"private_key", "control_token", "api_key", "api_secret", "api_passphrase"}

_ENV_POLYMARKET = {
    "api_key": "POLYMARKET_API_KEY",
    "api_secret": "POLYMARKET_API_SECRET",
    "api_passphrase": "POLYMARKET_API_PASSPHRASE",
    "private_key": "POLYMARKET_PRIVATE_KEY",
}
"""Polymarket's L2 API credentials and wallet key from the environment (or ``.env``): they
override the file."""
_TYPES: dict[str, type] = {"int": int, "str": str, "bool": bool, "Secret": str, "float": float}


def _keys(raw: Any, source: str) -> tuple[KalshiKey, ...]:
    # [[kalshi.keys]]: a list of tables, each a KalshiKey with its key id and one private key
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(f"{source}: kalshi.keys must be [[kalshi.keys]] tables (api_key_id, private_key_path)")
    keys = []
    for i, item in enumerate(raw):
        key = _section({"keys": item}, "keys", source, KalshiKey, f"kalshi.keys[{i}]")
        if not key.api_key_id:
            raise ConfigError(f"{source}: kalshi.keys[{i}].api_key_id is not set: give the key id of this key")
        if not key.private_key_path and not key.private_key:
            raise ConfigError(
                f"{source}: kalshi.keys[{i}] has no key: set private_key_path (a PEM file) or private_key"
            )
        keys.append(key)
    return tuple(keys)


def _section(
    data: dict[str, Any], name: str, source: str, cls: type[Any] = KalshiConfig, label: str | None = None
) -> Any:
    label = label or name
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{label}] must be a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {label}.{key} (known: {', '.join(sorted(known))})")
        expected = _TYPES.get(str(known[key].type), str)
        if cls is KalshiConfig and key == "keys":
            value = _keys(value, source)
        elif key in _SECRETS:
            if not isinstance(value, str):
                raise ConfigError(f"{source}: {label}.{key} must be a string")
            value = Secret(value)
        elif expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif str(known[key].type) == "tuple[str, ...]":
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ConfigError(f"{source}: {label}.{key} must be a list of strings, got {value!r}")
            value = tuple(value)
        elif not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ConfigError(f"{source}: {label}.{key} must be {expected.__name__}, got {value!r}")
        values[key] = value
    return cls(**values)


_ENV_KALSHI_ALIASES = {"KALSHI_API_KEY": "KALSHI_API_KEY_ID", "KALSHI_USE_DEMO": "KALSHI_ENV"}
"""Other names some Kalshi tools use, accepted beside the canonical ones: ``KALSHI_API_KEY`` (the
key id) and ``KALSHI_USE_DEMO`` (``true``/``1``/``yes``/``on`` → ``KALSHI_ENV=demo``,
``false``/``0``/``no``/``off`` → ``prod``). The canonical variable wins when both are set (a warning
says so if they disagree)."""

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _alias_env(env: dict[str, str]) -> dict[str, str]:
    # KALSHI_API_KEY / KALSHI_USE_DEMO → their canonical variables (see _ENV_KALSHI_ALIASES)
    out = dict(env)
    for alias, canonical in _ENV_KALSHI_ALIASES.items():
        raw = env.get(alias, "").strip()
        if not raw:
            continue
        value = raw
        if alias == "KALSHI_USE_DEMO":
            flag = raw.lower()
            if flag not in _TRUE + _FALSE:
                raise ConfigError(f"KALSHI_USE_DEMO is {raw!r}: use true or false (or KALSHI_ENV=demo|prod)")
            value = "demo" if flag in _TRUE else "prod"
        current = env.get(canonical)
        if not current:
            out[canonical] = value
        elif current != value:
            structlog.get_logger("hadron.config").warning(
                "both set and they disagree: the canonical variable wins", alias=alias, canonical=canonical
            )
    return out


def _apply_env(cfg: KalshiConfig, env: dict[str, str]) -> KalshiConfig:
    values: dict[str, Any] = {}
    env = _alias_env(env)
    for attr, var in _ENV_KALSHI.items():
        if env.get(var):
            values[attr] = Secret(env[var]) if attr == "private_key" else env[var]
    if not values:
        return cfg
    merged = {f.name: getattr(cfg, f.name) for f in fields(KalshiConfig)} | values
    return KalshiConfig(**merged)


def _polymarket_env(cfg: PolymarketConfig, env: dict[str, str]) -> PolymarketConfig:
    creds: dict[str, Any] = {attr: Secret(env[var]) for attr, var in _ENV_POLYMARKET.items() if env.get(var)}
    if env.get("POLYMARKET_FUNDER"):
        creds["funder"] = env["POLYMARKET_FUNDER"]
    return replace(cfg, **creds) if creds else cfg


def _user_channel_beside(cfg: PolymarketConfig) -> PolymarketConfig:
    # A market channel moved elsewhere (a loopback venue, a proxy) with the user channel left at
    # its default would send the API credentials' login to Polymarket itself: the user channel
    # follows the market channel's host (``…/ws/market`` → ``…/ws/user``) unless it is set too
    default = PolymarketConfig()
    if cfg.ws_url != default.ws_url and cfg.user_ws_url == default.user_ws_url and cfg.ws_url.endswith("/ws/market"):
        return replace(cfg, user_ws_url=cfg.ws_url[: -len("/ws/market")] + "/ws/user")
    return cfg


def read_dotenv(path: Path) -> dict[str, str]:
    """Read a ``.env`` file (python-dotenv syntax); a missing file gives ``{}``."""
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _read_file(path: Path | None, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    # The TOML file chosen by ``path``, $HADRON_CONFIG or ./hadron.toml, and its name
    chosen = path or (Path(env["HADRON_CONFIG"]) if env.get("HADRON_CONFIG") else None)
    if chosen is None and Path("hadron.toml").is_file():
        chosen = Path("hadron.toml")
    if chosen is None:
        return {}, ""
    try:
        return tomllib.loads(chosen.read_text()), str(chosen)
    except OSError as exc:
        raise ConfigError(f"config file {chosen}: cannot read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {chosen}: not valid TOML ({exc})") from exc


def _check_index_prices(entries: tuple[str, ...], where: str) -> None:
    # kalshi.index_prices: "auto", "cfbenchmarks:<index id>" or "pyth:<underlying>" each
    for entry in entries:
        source, sep, index = entry.partition(":")
        if entry != "auto" and (not sep or source not in ("cfbenchmarks", "pyth") or not index.strip()):
            raise ConfigError(
                f'{where}: kalshi.index_prices entry {entry!r}: use "auto", "cfbenchmarks:<index id>" '
                '(e.g. BRTI) or "pyth:<underlying>" (e.g. Metal.XAU/USD)'
            )


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
    data, source = _read_file(path, env)
    where = source or "config"
    venues = venue_names()
    unknown = sorted(set(data) - {*venues, "runtime", *_TABLES})
    if unknown:
        known = ", ".join(["runtime", *_TABLES])
        raise ConfigError(
            f"{where}: unknown section(s) {unknown} (known: {known}; venues, registered: {', '.join(venues)})"
        )
    kalshi = _section(data, "kalshi", where)
    merged_env = (read_dotenv(dotenv) if dotenv is not None else {}) | env
    kalshi = _apply_env(kalshi, merged_env)
    if kalshi.env not in ("prod", "demo"):
        raise ConfigError(f"KALSHI_ENV / kalshi.env is {kalshi.env!r}: use prod or demo")
    if kalshi.connections < 1 or kalshi.max_markets_per_connection < 1:
        raise ConfigError("kalshi.connections and kalshi.max_markets_per_connection must be at least 1")
    _check_index_prices(kalshi.index_prices, where)
    polymarket = _user_channel_beside(
        _polymarket_env(_section(data, "polymarket", where, PolymarketConfig), merged_env)
    )
    for venue, settings in (("kalshi", kalshi), ("polymarket", polymarket)):
        if settings.transport not in TRANSPORTS:
            raise ConfigError(f"{where}: {venue}.transport is {settings.transport!r}: use {', '.join(TRANSPORTS)}")
        if not settings.poll_interval_s > 0:
            raise ConfigError(f"{where}: {venue}.poll_interval_s is {settings.poll_interval_s}: use seconds > 0")
    runtime = _section(data, "runtime", where, RuntimeConfig)
    if merged_env.get("HADRON_CONTROL_TOKEN"):
        runtime = replace(runtime, control_token=Secret(merged_env["HADRON_CONTROL_TOKEN"]))
    if runtime.log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"{where}: runtime.log_level is {runtime.log_level!r}: use debug, info, warning or error")
    if not 0 <= runtime.port < 65536:
        raise ConfigError(f"{where}: runtime.port is {runtime.port}: use 0 (no server) to 65535")
    tables = {}
    for name in (*_TABLES, *(v for v in venues if v not in ("kalshi", "polymarket") and v in data)):
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        tables[name] = table
    return HadronConfig(kalshi=kalshi, polymarket=polymarket, runtime=runtime, tables=tables, source=source)


_TABLES = ("paper", "risk", "thresholds", "execution")


MASK = "***"
"""What a masked credential reads as."""

SENSITIVE_PARAMETERS = ("token", "password", "passwd", "pwd", "secret", "key", "auth", "signature", "credential")
"""A ``name=value`` pair whose name contains one of these (any case: ``access_token``,
``sslpassword``, ``apikey``, ``api_key``, ``X-Amz-Signature``) has its value masked."""

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/?#]*)@")
_PARAMETER = re.compile(
    r"(?P<lead>^|[?&;\s])(?P<name>[A-Za-z0-9_.\-]*(?:" + "|".join(SENSITIVE_PARAMETERS) + r")[A-Za-z0-9_.\-]*)="
    r"(?P<value>[^&;\s#\"']*)",
    re.IGNORECASE,
)


def _mask_userinfo(found: re.Match[str]) -> str:
    user, colon, _ = found["userinfo"].partition(":")
    return f"{found['scheme']}{user}:{MASK}@" if colon else f"{found['scheme']}{MASK}@"


def _mask_parameter(found: re.Match[str]) -> str:
    return f"{found['lead']}{found['name']}={MASK}" if found["value"] else found[0]


def mask_url(url: str) -> str:
    """``url`` (or any text holding URLs) with its credentials masked, the one masking function of
    Hadron (``hadron config check``, the run record, ``config.json``, logs, ``hadron status``,
    error messages):

    * the userinfo of every ``scheme://…@host``: ``postgresql://u:pw@h/db`` →
      ``postgresql://u:***@h/db``; a lone user part is a token (NATS): ``nats://tok@h`` →
      ``nats://***@h``;
    * the value of every ``name=value`` query or conninfo parameter whose name contains a word of
      :data:`SENSITIVE_PARAMETERS`: ``wss://h/ws?token=abc&x=1`` → ``wss://h/ws?token=***&x=1``,
      ``host=h password=pw`` → ``host=h password=***``.

    Other text is returned unchanged; never raises.
    """
    if "@" in url:
        url = _USERINFO.sub(_mask_userinfo, url)
    if "=" in url:
        url = _PARAMETER.sub(_mask_parameter, url)
    return url


NOT_SET = "(not set)"
"""What an empty secret reads as in :func:`effective` (a set one reads as its masked ``str``)."""


def effective(cfg: HadronConfig) -> dict[str, Any]:
    """The configuration as plain data with every secret masked (:data:`NOT_SET` when empty) and
    the API key id cut to its last four characters (``hadron config check``, the state store's run
    record)."""

    def shown(value: Any) -> Any:
        if isinstance(value, Secret):
            return str(value) if value else NOT_SET
        return value

    def plain(obj: Any) -> dict[str, Any]:
        out = {f.name: shown(getattr(obj, f.name)) for f in fields(obj)}
        if out.get("api_key_id"):  # the key id identifies the account: only its last 4 characters
            out["api_key_id"] = "…" + str(out["api_key_id"])[-4:]
        if isinstance(obj, KalshiConfig):
            out["keys"] = [plain(key) for key in obj.keys]
        for name, value in out.items():  # a password or token in a URL (state, bus, venue URLs)
            if isinstance(value, str):
                out[name] = mask_url(value)
        return out

    return {
        "source": cfg.source or None,
        "kalshi": plain(cfg.kalshi),
        "polymarket": plain(cfg.polymarket),
        "runtime": plain(cfg.runtime),
        **cfg.tables,
    }
