"""``hadron fake-venue kalshi|polymarket``: loopback venues replaying real captures."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from hadron import logs
from hadron.cli._common import ACCOUNT_SCRIPT_HELP, LogLevel, adapter_for, fail, load_account_script, stdout
from hadron.errors import ConfigError

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
    log_level: LogLevel = "info",
) -> None:
    """Serve a loopback Kalshi venue: signed WebSocket v2 (and REST v2) replaying a real capture.

    With --account-script the script's Kalshi orders (venue "kalshi" or none) go out on the private
    channels (user_orders, fill, market_positions) of signed clients, the clock starting at the
    first such subscription."""
    from hadron.venues.base import FakeVenueHost, FakeVenueOptions

    _check_loopback_ports(port, rest_port)
    if burst and speed != 0:
        raise fail("--burst needs --speed 0")
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
                )
            )
        )
    except (ConfigError, OSError) as exc:
        raise fail(str(exc)) from None


def _user_auth_from_env() -> tuple[str, str, str] | None:
    """The loopback user channel's credentials: POLYMARKET_API_KEY/_SECRET/_PASSPHRASE (all three)."""
    creds = tuple(os.environ.get(f"POLYMARKET_API_{n}", "") for n in ("KEY", "SECRET", "PASSPHRASE"))
    return (creds[0], creds[1], creds[2]) if all(creds) else None


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
    log_level: LogLevel = "info",
) -> None:
    """Serve a loopback Polymarket market channel (and REST /book) replaying a real capture.

    The user channel (/ws/user) accepts the credentials in POLYMARKET_API_KEY, POLYMARKET_API_SECRET
    and POLYMARKET_API_PASSPHRASE (unset: it refuses every client); with --account-script the
    script's Polymarket orders (venue "polymarket" or none) go out there, the clock starting at the
    first authenticated client."""
    from hadron.venues.base import FakeVenueHost, FakeVenueOptions

    _check_loopback_ports(port, rest_port)
    if burst and speed != 0:
        raise fail("--burst needs --speed 0")
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
                    user_auth=_user_auth_from_env(),
                    burst=burst,
                )
            )
        )
    except (ConfigError, OSError) as exc:
        raise fail(str(exc)) from None
