"""``hadron fake-venue kalshi|polymarket``: loopback venues replaying real captures."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hadron import logs
from hadron.cli._common import ACCOUNT_SCRIPT_HELP, LogLevel, adapter_for, fail, load_account_script, stdout
from hadron.errors import ConfigError, HadronError

if TYPE_CHECKING:
    from hadron.venues.base import ExchangeOptions

app = typer.Typer(help="Loopback venues that speak the real protocols and replay real captures.")


def _check_loopback_ports(port: int, rest_port: int | None) -> None:
    """A loopback venue's --port and --rest-port: in range and free on 127.0.0.1, else exit 2."""
    from hadron.app.ports import check_listen

    try:
        check_listen("127.0.0.1", port, "--port", "any free port")
        if rest_port is not None:
            check_listen("127.0.0.1", rest_port, "--rest-port", "any free port")
    except ConfigError as exc:
        raise fail(str(exc)) from None


BURST_HELP = (
    "With --speed 0: build each subscriber's frames for the whole capture before sending any, framed "
    "once, and write them in large chunks (same frames, sids, seqs and reply order), so the venue "
    "outruns any client (the live-path benchmarks use it); replies to commands sent meanwhile wait."
)

CASH_HELP = "With --exchange: the account's starting cash, USD (a buy beyond it is refused: balance)."
LATENCY_HELP = "With --exchange: wait this long before every order answer (the venue's round trip)."
RATE_HELP = "With --exchange: orders per second the venue takes; beyond it, HTTP 429 (0 = no limit)."

ExchangeCash = Annotated[str, typer.Option("--cash", metavar="USD", help=CASH_HELP)]
ExchangeLatency = Annotated[float, typer.Option("--latency-ms", min=0, help=LATENCY_HELP)]
ExchangeRate = Annotated[float, typer.Option("--max-orders-per-s", min=0, help=RATE_HELP)]


def _exchange_options(exchange: bool, cash: str, latency_ms: float, max_orders_per_s: float) -> ExchangeOptions | None:
    """``--exchange`` and its settings as :class:`~hadron.venues.base.ExchangeOptions` (``None``
    without ``--exchange``); ``cash`` a USD decimal string, ``latency_ms`` ms, ``max_orders_per_s``
    orders a second (0: no limit).

    Raises:
        typer.Exit: ``--cash`` is not a USD amount ≥ 0 (status 2, the message names it).
    """
    from hadron.model.account import parse_cash
    from hadron.venues.base import ExchangeOptions

    if not exchange:
        return None
    try:
        funds = parse_cash(cash)
    except HadronError:
        funds = -1
    if funds < 0:
        raise fail(f"--cash {cash!r}: expected a USD amount ≥ 0, e.g. 10000 or 250.50")
    return ExchangeOptions(cash=cash, latency_ms=latency_ms, max_orders_per_s=max_orders_per_s)


@app.command("kalshi")
def fake_venue_kalshi(
    capture: Annotated[list[Path], typer.Option(help="Kalshi capture files to play (repeat the option).")],
    port: Annotated[int, typer.Option(help="WebSocket port on 127.0.0.1.")],
    public_key: Annotated[
        list[Path] | None,
        typer.Option(help="PEM public key whose signatures are accepted (repeat for a key pool; none: any)."),
    ] = None,
    speed: Annotated[float, typer.Option(min=0, help="Playback speed; 0 = as fast as possible.")] = 1.0,
    faults: Annotated[str, typer.Option(help="e.g. drop@2000,gap@3000,malformed@3500,silence@5000:10,rest429:3")] = "",
    rest_port: Annotated[int | None, typer.Option(help="Also serve REST v2 on this port.")] = None,
    metadata: Annotated[Path | None, typer.Option(help="Folder of real GET /events responses.")] = None,
    loop: Annotated[bool, typer.Option(help="Play the capture again and again.")] = False,
    account_script: Annotated[Path | None, typer.Option(help=ACCOUNT_SCRIPT_HELP)] = None,
    burst: Annotated[bool, typer.Option(help=BURST_HELP)] = False,
    exchange: Annotated[
        bool,
        typer.Option(
            help="Also take orders: check each request's RSA-PSS signature (--public-key), match the order as "
            "a taker against the replayed book, keep the account (REST /portfolio) and send its updates on the "
            "private channels; REST on --rest-port, else on a free port."
        ),
    ] = False,
    cash: ExchangeCash = "10000",
    latency_ms: ExchangeLatency = 0.0,
    max_orders_per_s: ExchangeRate = 0.0,
    log_level: LogLevel = "info",
) -> None:
    """Serve a loopback Kalshi venue: signed WebSocket v2 (and REST v2) replaying a real capture.

    With --account-script the script's Kalshi orders (venue "kalshi" or none) go out on the private
    channels (user_orders, fill, market_positions) of signed clients, the clock starting at the
    first such subscription. With --exchange it is an exchange for `hadron run` with
    execution.mode = "live" (see docs/EXECUTION.md)."""
    from hadron.venues.base import FakeVenueHost, FakeVenueOptions

    _check_loopback_ports(port, rest_port)
    if burst and speed != 0:
        raise fail("--burst needs --speed 0")
    exchange_options = _exchange_options(exchange, cash, latency_ms, max_orders_per_s)
    logs.configure(log_level)
    adapter = adapter_for("kalshi", FakeVenueHost)

    def ready(ws_url: str, rest_url: str | None) -> None:
        stdout.print(f"kalshi loopback venue: {ws_url}" + (f"  REST {rest_url}" if rest_url else ""), markup=False)

    try:
        asyncio.run(
            adapter.fake_venue(
                FakeVenueOptions(
                    captures=capture,
                    port=port,
                    public_key=public_key,
                    speed=speed,
                    faults=faults,
                    rest_port=rest_port,
                    metadata=metadata,
                    ready=ready,
                    loop=loop,
                    account_script=load_account_script(account_script) or (),
                    burst=burst,
                    exchange=exchange_options,
                )
            )
        )
    except (HadronError, OSError) as exc:
        raise fail(str(exc)) from None


def _user_auth_from_env() -> tuple[str, str, str] | None:
    """The loopback user channel's credentials: POLYMARKET_API_KEY/_SECRET/_PASSPHRASE (all three)."""
    creds = tuple(os.environ.get(f"POLYMARKET_API_{n}", "") for n in ("KEY", "SECRET", "PASSPHRASE"))
    return (creds[0], creds[1], creds[2]) if all(creds) else None


def _check_exchange(
    exchange: ExchangeOptions | None, rest_port: int | None, user_auth: tuple[str, str, str] | None
) -> None:
    """The loopback Polymarket exchange's needs: its order routes are REST, and every order
    request is checked against the L2 credentials of the environment.

    Raises:
        ConfigError: ``--exchange`` without ``--rest-port``, or without the three
            ``POLYMARKET_API_*`` variables (each names the fix).
    """
    if exchange is None:
        return
    if rest_port is None:
        raise ConfigError("--exchange takes orders on REST: give --rest-port too (any free port)")
    if user_auth is None:
        raise ConfigError(
            "--exchange checks every order request's L2 headers: set POLYMARKET_API_KEY, POLYMARKET_API_SECRET "
            "and POLYMARKET_API_PASSPHRASE (the same ones hadron run signs with)"
        )


@app.command("polymarket")
def fake_venue_polymarket(
    capture: Annotated[
        list[Path], typer.Option(help="Polymarket frame files, or Kalshi captures to transcode (repeatable).")
    ],
    port: Annotated[int, typer.Option(help="Market-channel WebSocket port on 127.0.0.1.")],
    speed: Annotated[float, typer.Option(min=0, help="Playback speed; 0 = as fast as possible.")] = 1.0,
    faults: Annotated[str, typer.Option(help="e.g. drop@200,malformed@300,freeze@400:20")] = "",
    rest_port: Annotated[int | None, typer.Option(help="Also serve REST /book on this port.")] = None,
    loop: Annotated[bool, typer.Option(help="Play the capture again and again.")] = False,
    shift: Annotated[int, typer.Option(help="Move a transcoded Kalshi capture's YES prices by this many cents.")] = 0,
    account_script: Annotated[Path | None, typer.Option(help=ACCOUNT_SCRIPT_HELP)] = None,
    burst: Annotated[bool, typer.Option(help=BURST_HELP)] = False,
    exchange: Annotated[
        bool,
        typer.Option(
            help="Also take orders on the CLOB's REST routes (needs --rest-port): check the L2 headers "
            "(POLYMARKET_API_*) and the EIP-712 order signature, match the order as a taker against the "
            "replayed book, keep the account and send its order and trade messages on the user channel."
        ),
    ] = False,
    cash: ExchangeCash = "10000",
    latency_ms: ExchangeLatency = 0.0,
    max_orders_per_s: ExchangeRate = 0.0,
    log_level: LogLevel = "info",
) -> None:
    """Serve a loopback Polymarket market channel (and REST /book) replaying a real capture.

    The user channel (/ws/user) accepts the credentials in POLYMARKET_API_KEY, POLYMARKET_API_SECRET
    and POLYMARKET_API_PASSPHRASE (unset: it refuses every client); with --account-script the
    script's Polymarket orders (venue "polymarket" or none) go out there, the clock starting at the
    first authenticated client. With --exchange it is an exchange for `hadron run` with
    execution.mode = "live" (see docs/EXECUTION.md): orders must be signed with those same
    credentials, and with any wallet key (the signer is recovered from the signature)."""
    from hadron.venues.base import FakeVenueHost, FakeVenueOptions

    _check_loopback_ports(port, rest_port)
    if burst and speed != 0:
        raise fail("--burst needs --speed 0")
    exchange_options = _exchange_options(exchange, cash, latency_ms, max_orders_per_s)
    user_auth = _user_auth_from_env()
    try:
        _check_exchange(exchange_options, rest_port, user_auth)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    logs.configure(log_level)
    adapter = adapter_for("polymarket", FakeVenueHost)

    def ready(ws_url: str, rest_url: str | None) -> None:
        stdout.print(f"polymarket loopback venue: {ws_url}" + (f"  REST {rest_url}" if rest_url else ""), markup=False)

    try:
        asyncio.run(
            adapter.fake_venue(
                FakeVenueOptions(
                    captures=capture,
                    port=port,
                    speed=speed,
                    faults=faults,
                    rest_port=rest_port,
                    ready=ready,
                    loop=loop,
                    shift=shift * 100,
                    account_script=load_account_script(account_script) or (),
                    user_auth=user_auth,
                    burst=burst,
                    exchange=exchange_options,
                )
            )
        )
    except (HadronError, OSError) as exc:
        raise fail(str(exc)) from None
