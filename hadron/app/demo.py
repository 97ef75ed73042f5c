"""``hadron demo``: the whole system on one machine, with no credentials and no internet.

It starts, in one process:

1. the loopback Kalshi venue playing a real capture shipped with Hadron
   (``hadron/demo/``, origin in its ``SOURCES.md``), in a loop, checking RSA-PSS signatures
   against a key pair made for this run;
2. the loopback Polymarket venue playing the same flow transcoded into the market channel, its YES
   token moved ``shift`` cents down (NO up): a cross-venue dislocation on real order flow;
3. the runtime (:class:`~hadron.app.runtime.Runtime`) on both, in paper mode, with a pairs file
   approving the market with its token pair, a SQLite state store and the dashboard;
4. a few orders of a "real" account (:func:`demo_account_script`, or ``account_script``) played
   on both venues' private channels over the first ~20 s: the Kalshi ones to the runtime's signed
   connection (the demo's throwaway key), the Polymarket ones on the user channel with API
   credentials made for this run (never printed); the dashboard's "Real account" panel shows them.

It prints the dashboard URL and runs until Ctrl-C (or ``duration`` seconds).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hadron.app.ports import check_listen
from hadron.app.runtime import Runtime
from hadron.arb.terms import load_arb_config
from hadron.config import HadronConfig, KalshiConfig, PolymarketConfig, RuntimeConfig, Secret
from hadron.errors import ConfigError
from hadron.exec.config import MODES, ExecutionConfig, execution_config
from hadron.venues.base import (
    ExchangeOptions,
    FakeVenueHost,
    FakeVenueOptions,
    PairScenarioVenue,
    ScriptedOrder,
    get_venue,
)

DEMO_CAPTURE = "KXGOLD15M-26AUG102130-30_16k.ndjson.gz"
DEMO_MARKET = "KXGOLD15M-26AUG102130-30"


def demo_capture() -> Path:
    """The real Kalshi capture excerpt the demo plays (shipped in ``hadron/demo``)."""
    return Path(str(resources.files("hadron.demo").joinpath(DEMO_CAPTURE)))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _key_pems() -> tuple[bytes, bytes]:
    # A throwaway RSA key for the loopback Kalshi venue: its private and public PEM
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _write_key_pair(folder: Path, pems: tuple[bytes, bytes]) -> tuple[Path, Path]:
    # The private PEM is created 0600 (never readable by others, not even for a moment; an
    # existing file of a reused --workdir is narrowed to 0600 before it is overwritten)
    private, public = folder / "demo-key.pem", folder / "demo-key.pub.pem"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(pems[0])
    public.write_bytes(pems[1])
    return private, public


def _key_pair(folder: Path) -> tuple[Path, Path]:
    # A throwaway RSA key for the loopback Kalshi venue: private (0600) and public PEM files
    return _write_key_pair(folder, _key_pems())


def demo_account_script(pairs_toml: str) -> list[ScriptedOrder]:
    """The demo's account activity on its paired market (``pairs_toml``: the demo's pairs file):
    on Kalshi a filled YES buy, a NO buy part filled then canceled, a resting YES bid; on
    Polymarket (the YES token) a filled buy, a resting sell, a buy part filled then canceled.
    Positions: Kalshi +16 YES; Polymarket 60 YES shares."""
    pair = tomllib.loads(pairs_toml)["pair"][0]
    ticker, token, market = pair["kalshi_market"], pair["polymarket_yes_token"], pair["polymarket_market"]
    kalshi = {"venue": "kalshi", "instrument": ticker}
    poly = {"venue": "polymarket", "instrument": token, "market": market}
    return [
        ScriptedOrder(**kalshi, side="yes", price="0.3000", count="20.00", fill="20.00", at=2),
        ScriptedOrder(**poly, side="BUY", price="0.22", count="50", fill="50", at=3),
        ScriptedOrder(**kalshi, side="no", price="0.4800", count="10.00", fill="4.00", at=5, cancel_at=15),
        ScriptedOrder(**poly, side="SELL", price="0.30", count="20", at=7),
        ScriptedOrder(**kalshi, side="yes", price="0.2500", count="15.00", at=8),
        ScriptedOrder(**poly, side="BUY", price="0.20", count="30", fill="10", at=10, cancel_at=18),
    ]


async def _announce_market(kalshi: Any, stop: asyncio.Event) -> None:
    # The market's status for the registry (the dashboard's status beside each book): the loopback
    # Kalshi venue sends ``activated`` once the runtime subscribed market_lifecycle_v2 (a capture
    # has no lifecycle message; no close time: the demo loops the capture)
    for _ in range(600):
        if stop.is_set() or kalshi is None:
            return
        msg = {"market_ticker": DEMO_MARKET, "event_type": "activated", "open_ts": int(time.time())}
        if kalshi.play_market_lifecycle(msg):
            return
        await asyncio.sleep(0.1)


def _user_credentials() -> tuple[str, str, str]:
    # Polymarket L2 API credentials for the loopback user channel, made for this run: an API key
    # (UUID), a base64 secret and a passphrase (64 hex digits), as the CLOB issues them
    return str(uuid.uuid4()), base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(), secrets.token_hex(32)


DEMO_TABLES: dict[str, dict[str, Any]] = {
    "paper": {"latency_ms": {"kalshi": 50, "polymarket": 150}, "jitter_ms": 20, "seed": 1, "retake_ms": 2000},
    "risk": {"max_notional_pair": "300", "max_open_pairs": 3, "daily_loss_limit": "250", "max_data_age_ms": 5000},
    "thresholds": {"min_profit": "0.05", "max_capital": "300", "max_age_s": 10},
}


DEMO_EXECUTION: dict[str, Any] = {"max_order_notional": "100", "max_orders_per_s": 20, "fill_timeout_s": 3}
"""``[execution]`` of ``hadron demo --execution live``: caps a loopback account can show."""

DEMO_EXCHANGES: dict[str, ExchangeOptions] = {
    "kalshi": ExchangeOptions(cash="1000", latency_ms=20.0, max_orders_per_s=50.0),
    "polymarket": ExchangeOptions(cash="1000", latency_ms=60.0, max_orders_per_s=50.0),
}
"""The loopback exchanges of ``hadron demo --execution live``: $1,000 each, 20 / 60 ms answers."""


def exchange_positions(loopback: Mapping[str, Any]) -> dict[str, int]:
    """The loopback exchanges' own account positions, by Hadron instrument id (signed,
    1/1,000,000: +YES/−NO on Kalshi, token shares on Polymarket); zeros left out."""
    out: dict[str, int] = {}
    for venue, server in sorted(loopback.items()):
        account = getattr(server, "exchange_account", None)
        if account is None:
            continue
        for symbol, size in account.positions().items():
            if size:
                out[f"{venue}:{symbol}"] = int(size)
    return out


def trader_positions(trader: Any) -> dict[str, int]:
    """The positions Hadron's own fills give, by instrument id (a YES/token buy adds, a NO buy
    subtracts, sales the reverse; 1/1,000,000); zeros left out."""
    out: dict[str, int] = {}
    for order in trader.orders:
        if order.filled:
            sign = 1 if order.side == "buy" else -1
            out[order.instrument] = out.get(order.instrument, 0) + (-sign if order.from_bids else sign) * order.filled
    return {k: v for k, v in sorted(out.items()) if v}


async def _start_venues(
    capture: Path,
    public: Path,
    speed: float,
    shift_cents: int,
    stop: asyncio.Event,
    venues_out: dict[str, Any] | None = None,
    account_script: Sequence[ScriptedOrder] = (),
    user_auth: tuple[str, str, str] | None = None,
    exchange: Mapping[str, ExchangeOptions] | None = None,
) -> tuple[list[asyncio.Task[Any]], dict[str, tuple[str, str | None]]]:
    # Both loopback venues as tasks, and their (ws, rest) URLs once listening; ``venues_out``
    # receives the venue objects themselves (the soak counts what they sent)
    polymarket, kalshi = get_venue("polymarket"), get_venue("kalshi")
    if not isinstance(polymarket, FakeVenueHost) or not isinstance(kalshi, FakeVenueHost):
        raise ConfigError("the venues have no loopback venue")
    urls: dict[str, tuple[str, str | None]] = {}
    ready = {name: asyncio.Event() for name in ("kalshi", "polymarket")}

    def mark(name: str) -> Callable[[str, str | None], None]:
        def ready_at(ws_url: str, rest_url: str | None) -> None:
            urls[name] = (ws_url, rest_url)
            ready[name].set()

        return ready_at

    def keep(name: str) -> Callable[[Any], None]:
        def started(venue: Any) -> None:
            if venues_out is not None:
                venues_out[name] = venue

        return started

    common = FakeVenueOptions(
        captures=[capture], port=0, speed=speed, loop=True, stop=stop, signals=False, account_script=account_script
    )
    kalshi_venue = kalshi.fake_venue(  # REST too: the run reads its events' fee rules from it
        replace(
            common,
            port=free_port(),
            rest_port=free_port(),
            public_key=public,
            ready=mark("kalshi"),
            started=keep("kalshi"),
            exchange=(exchange or {}).get("kalshi"),
        )
    )
    poly_venue = polymarket.fake_venue(
        replace(
            common,
            port=free_port(),
            rest_port=free_port(),
            shift=shift_cents * 100,
            user_auth=user_auth,
            ready=mark("polymarket"),
            started=keep("polymarket"),
            exchange=(exchange or {}).get("polymarket"),
        )
    )
    venues = [asyncio.ensure_future(kalshi_venue), asyncio.ensure_future(poly_venue)]
    both = asyncio.ensure_future(asyncio.gather(*(e.wait() for e in ready.values())))
    watched: list[asyncio.Future[Any]] = [both, *venues]
    await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED, timeout=60)
    for task in venues:
        if task.done():
            task.result()  # a venue that could not start raises here
    if not both.done():
        both.cancel()
        raise ConfigError("the loopback venues did not start within 60 s")
    return venues, urls


def _tables(execution: str) -> dict[str, dict[str, Any]]:
    # The demo's [paper]/[risk]/[thresholds], and [execution] in a trading mode
    if execution == "paper":
        return DEMO_TABLES
    return {**DEMO_TABLES, "execution": {**DEMO_EXECUTION, "mode": execution}}


def _config(
    folder: Path,
    private: Path,
    urls: dict[str, tuple[str, str | None]],
    host: str,
    port: int,
    record: Path | None = None,
    opportunities: Path | None = None,
    user_auth: tuple[str, str, str] | None = None,
    wallet_key: str = "",
    execution: str = "paper",
) -> HadronConfig:
    kalshi_ws, kalshi_rest = urls["kalshi"]
    poly_ws, poly_rest = urls["polymarket"]
    key, secret, passphrase = (Secret(v) for v in user_auth or ("", "", ""))
    return HadronConfig(
        kalshi=KalshiConfig(
            env="demo",
            api_key_id="hadron-demo-key",
            private_key_path=str(private),
            ws_url=kalshi_ws,
            rest_url=kalshi_rest or "",
        ),
        polymarket=PolymarketConfig(
            ws_url=poly_ws,
            rest_url=poly_rest or "",
            gamma_url="",
            freeze_window_s=30,
            api_key=key,
            api_secret=secret,
            api_passphrase=passphrase,
            user_ws_url=poly_ws.replace("/ws/market", "/ws/user"),
            private_key=Secret(wallet_key),
        ),
        runtime=RuntimeConfig(
            pairs=str(folder / "pairs.toml"),
            state=f"sqlite:///{folder / 'state.db'}",
            dead_letter=str(folder / "deadletter.ndjson"),
            record_dir=str(record) if record is not None else "",
            opportunities=str(opportunities) if opportunities is not None else "",
            host=host,
            port=port or free_port(),
            paper=True,
            stale_after_s=30,
            settle_poll_s=0,  # the demo runs no loopback REST; positions settle from result messages only
        ),
        tables=DEMO_TABLES
        if execution == "paper"
        else {**DEMO_TABLES, "execution": {**DEMO_EXECUTION, "mode": execution}},
        source="hadron demo",
    )


def _execution_summary(runtime: Runtime, loopback: Mapping[str, Any]) -> dict[str, Any]:
    # The run's execution report, and Hadron's positions beside the exchanges' own account view
    report: dict[str, Any] = dict(runtime.strategy.report().get("execution", {}))
    hadron = trader_positions(runtime.trader) if runtime.trader is not None else {}
    exchanges = exchange_positions(loopback)
    orders = runtime.trader.orders if runtime.trader is not None else []
    report["orders"] = len(orders)
    report["orders_by_status"] = dict(sorted(Counter(o.status for o in orders).items()))
    report["positions"] = {"hadron": hadron, "exchanges": exchanges, "equal": hadron == exchanges}
    return report


def _trading(
    execution: str, account_script: Sequence[ScriptedOrder] | None, pairs_toml: str, folder: Path
) -> tuple[bool, list[ScriptedOrder]]:
    # Whether orders go to the loopback exchanges (then a fresh journal), and the scripted account
    # orders (none then)
    if execution not in MODES:
        raise ConfigError(f"--execution {execution!r}: use one of {', '.join(MODES)}")
    trading = execution != "paper"
    if trading:
        _fresh_journal(folder)
    default_script = [] if trading else demo_account_script(pairs_toml)
    return trading, default_script if account_script is None else list(account_script)


def _fresh_journal(folder: Path) -> None:
    # The loopback exchanges start empty each run: so does the order journal in state.db
    for stale in ("state.db", "state.db-wal", "state.db-shm"):
        (folder / stale).unlink(missing_ok=True)


def _confirmed(config: HadronConfig) -> ExecutionConfig:
    # Every venue is the demo's own loopback exchange: no HADRON_LIVE confirmation is asked
    return replace(execution_config(config.tables["execution"]), confirmed=True)


def _write_summary(
    status: dict[str, Any], runtime: Runtime, loopback: Mapping[str, Any], trading: bool, summary: Path | None
) -> None:
    # A trading mode always leaves summary.json (in the current folder without --workdir/--summary)
    if trading:
        status["execution"] = _execution_summary(runtime, loopback)
        out = summary or Path("summary.json")
        out.write_text(json.dumps(status["execution"], indent=2, default=str) + "\n")
        status["summary"] = str(out)
    elif summary is not None:
        summary.write_text(json.dumps(status, indent=2, default=str) + "\n")
        status["summary"] = str(summary)


async def run_demo(
    *,
    duration: float | None = None,
    port: int = 8765,
    host: str = "127.0.0.1",
    speed: float = 1.0,
    shift_cents: int = -6,
    workdir: Path | None = None,
    on_ready: Callable[[str], None] | None = None,
    install_signals: bool = True,
    record: Path | None = None,
    opportunities: Path | None = None,
    account_script: Sequence[ScriptedOrder] | None = None,
    execution: str = "paper",
    summary: Path | None = None,
) -> dict[str, Any]:
    """Run the demo (see the module docstring); return the runtime's final status.

    With ``execution`` ``"live"`` (or ``"shadow"``, ``"dry-run"``) the loopback venues are
    exchanges too (:data:`DEMO_EXCHANGES`: they verify, match and report every order) and the
    trader sends real orders to them through the venues' order gateways (``docs/EXECUTION.md``);
    the confirmation ``HADRON_LIVE=1`` is not asked for, since every venue is the demo's own
    loopback one. No scripted account orders are played then (the account is Hadron's alone, so
    its positions can be compared with the exchanges'), and ``state.db`` starts afresh (the
    exchanges start empty each run, so a journal of an earlier run would not reconcile with them).
    The status's ``execution`` section, and
    the file ``summary`` (default ``summary.json`` in ``workdir`` or, without one, the current
    folder, in a trading mode other than paper), give the mode, orders, fills, rejects, the
    reconciliations and whether Hadron's positions equal the exchanges' own account view.

    Without ``workdir`` the demo's files (the throwaway private key, the pairs file, the state
    store, the dead letters) go to a temporary folder ``$TMPDIR/hadron-demo-*`` that is removed on
    every way out: the end, SIGINT/SIGTERM (while starting too), an error. The status's
    ``workdir`` is then ``None``; ``record`` and ``opportunities`` are the caller's and stay.

    Args:
        duration: stop after this many seconds (``None``: until Ctrl-C or ``POST /api/stop``).
        port: the dashboard's port (0 picks a free one). host: where it binds.
        speed: playback speed of both loopback venues (1.0: as captured).
        shift_cents: the Polymarket copy's YES price move, cents.
        workdir: where the key, pairs file, state store and dead letters go, kept (default: a
            temporary folder, removed at the end).
        on_ready: called with the dashboard URL once everything listens.
        install_signals: stop on SIGINT/SIGTERM (a signal while starting abandons the start:
            :class:`asyncio.CancelledError`, the temporary folder removed).
        record: record both venues' raw frames here, with ``pairs.toml`` as traded and
            ``config.json`` (``hadron replay DIR --pairs DIR/pairs.toml`` replays the run).
        opportunities: write every opportunity here as NDJSON.
        account_script: the orders the venues play on their private channels (see
            :mod:`hadron.venues.account_script`; default :func:`demo_account_script`; ``[]``: none).

    Raises:
        ConfigError: ``port`` is out of range or taken (checked before anything starts), or a
            setting is bad.
    """
    check_listen(host, port, "--port", "any free port")
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    runtime: Runtime | None = None
    closing = False

    def interrupt() -> None:
        # SIGINT/SIGTERM: stop the runtime once it exists; while starting, abandon the start
        if runtime is not None:
            runtime.stop()
        elif not closing and main is not None:
            main.cancel()

    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, interrupt)
    temporary = workdir is None
    folder = workdir or Path(tempfile.mkdtemp(prefix="hadron-demo-"))
    stop = asyncio.Event()
    venues: list[asyncio.Task[Any]] = []
    loopback: dict[str, Any] = {}
    announce: asyncio.Task[None] | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # the key is made in a thread and written here: a cancelled start leaves no writer behind
        private, public = _write_key_pair(folder, await asyncio.to_thread(_key_pems))
        polymarket = get_venue("polymarket")
        if not isinstance(polymarket, PairScenarioVenue):
            raise ConfigError("the polymarket venue cannot mirror a Kalshi capture")
        pairs = folder / "pairs.toml"
        pairs_toml = polymarket.pairs_for([DEMO_MARKET], fee_rate="0.04")
        pairs.write_text(pairs_toml)
        trading, script = _trading(execution, account_script, pairs_toml, folder)
        user_auth = _user_credentials()
        venues, urls = await _start_venues(
            demo_capture(),
            public,
            speed,
            shift_cents,
            stop,
            loopback,
            account_script=script,
            user_auth=user_auth,
            exchange=DEMO_EXCHANGES if trading else None,
        )
        wallet = "0x" + secrets.token_hex(32) if trading else ""  # a throwaway Polymarket wallet, never printed
        config = _config(
            folder, private, urls, host, port, record, opportunities, user_auth, wallet_key=wallet, execution=execution
        )
        runtime = Runtime(config, load_arb_config(pairs), execution=_confirmed(config) if trading else None)
        if duration is not None:
            loop.call_later(duration, runtime.stop)
        runner = asyncio.create_task(runtime.run(install_signals=False))
        while runtime.state == "starting" and not runner.done():  # noqa: ASYNC110 - the runtime has no started event
            await asyncio.sleep(0.05)
        announce = asyncio.create_task(_announce_market(loopback.get("kalshi"), stop))
        if on_ready is not None and not runner.done():
            on_ready(runtime.url)
        status: dict[str, Any] = await runner
        status["workdir"] = None if temporary else str(folder)
        _write_summary(
            status, runtime, loopback, trading, summary or (folder / "summary.json" if not temporary else None)
        )
        return status
    finally:
        closing = True
        try:
            stop.set()
            if announce is not None:
                announce.cancel()
                await asyncio.gather(announce, return_exceptions=True)
            await asyncio.gather(*venues, return_exceptions=True)
        finally:
            if temporary:  # the throwaway key included; never a folder the caller named
                shutil.rmtree(folder, ignore_errors=True)
