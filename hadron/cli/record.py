"""``hadron record``: a venue's raw frames, recorded losslessly while its books are kept."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from hadron import logs
from hadron.cli._common import LogLevel, adapter_for, fail, stdout, write_json
from hadron.errors import ConfigError, StoreError, VenueError


def record(
    venue: Annotated[str, typer.Option(help="Venue to record: kalshi or polymarket.")],
    out: Annotated[Path, typer.Option(help="Recording folder (Hadron recording format).")],
    markets: Annotated[
        str,
        typer.Option(
            help="Kalshi market tickers, or Polymarket token ids, comma-separated (Kalshi: none needed when "
            "every channel is a firehose such as communications)."
        ),
    ] = "",
    channels: Annotated[str, typer.Option(help="Kalshi channels, comma-separated.")] = "orderbook_delta,trade",
    url: Annotated[
        str | None,
        typer.Option(help="WebSocket URL (default: kalshi.ws_url / KALSHI_ENV, or polymarket.ws_url)."),
    ] = None,
    rest_url: Annotated[
        str | None,
        typer.Option(help="REST base URL: Kalshi …/trade-api/v2, or the Polymarket CLOB (default: from the config)."),
    ] = None,
    gamma_url: Annotated[
        str | None,
        typer.Option(help="Polymarket: the Gamma metadata host, '' to skip (default: polymarket.gamma_url)."),
    ] = None,
    transport: Annotated[
        str | None,
        typer.Option(help="ws, rest (poll orderbooks), or auto (ws falling back to rest) [default: kalshi.transport]"),
    ] = None,
    duration: Annotated[float | None, typer.Option(min=0, help="Stop after this many seconds.")] = None,
    connections: Annotated[int | None, typer.Option(min=1, help="Connections in the pool.")] = None,
    config: Annotated[Path | None, typer.Option(help="Config file (default: $HADRON_CONFIG or ./hadron.toml).")] = None,
    store: Annotated[str | None, typer.Option(help="Also write normalized ticks: parquet:DIR.")] = None,
    log_level: LogLevel = "warning",
) -> None:
    """Record a venue's raw frames losslessly (zstd NDJSON) while keeping books; `hadron replay`
    reads the result. Credentials: KALSHI_API_KEY_ID plus KALSHI_PRIVATE_KEY_PATH or
    KALSHI_PRIVATE_KEY, from the environment, .env or the config file.

    Exit status: 0 done; 1 the venue refused the credentials, a source failed for good, a
    storage fault stopped the recording (disk full…: the files are closed, the manifest and
    record-summary.json say so), or nothing was recorded (every source tried, a fallback
    included, delivered no frame): the cause in one line; 2 a setting is missing or wrong.
    """
    from hadron.venues.base import RecordingVenue, RecordOptions

    logs.configure(log_level)
    adapter = adapter_for(venue, RecordingVenue)
    tickers = [t.strip() for t in markets.split(",") if t.strip()]
    if not tickers and venue != "kalshi":  # Kalshi checks its channels (communications needs no market)
        raise fail("--markets: give at least one market ticker")
    try:
        summary = asyncio.run(
            adapter.record(
                RecordOptions(
                    markets=tickers,
                    out=out,
                    channels=[c.strip() for c in channels.split(",") if c.strip()],
                    duration=duration,
                    config=config,
                    url=url,
                    rest_url=rest_url,
                    gamma_url=gamma_url,
                    transport=transport,
                    connections=connections,
                    store=store,
                )
            )
        )
    except ConfigError as exc:
        raise fail(str(exc)) from None
    except VenueError as exc:
        raise fail(f"{venue}: {exc}", code=1) from None
    except StoreError as exc:
        raise fail(f"{venue}: storage fault: {exc}", code=1) from None
    try:
        write_json(out / "record-summary.json", summary)
    except OSError as exc:
        cause = summary.get("failure") or f"recorded {summary['frames']:,} frames"
        raise fail(f"{venue}: {cause}; record-summary.json not written: {exc.strerror or exc}", code=1) from None
    stdout.print(
        f"recorded {summary['frames']:,} frames ({summary['frames_per_s']:,}/s) into {len(summary['files'])} files; "
        f"books {summary['books']} ({summary['books_synced']} synced, {summary['books_polled']} polled); "
        f"resyncs {summary['resyncs']}"
        + (f"; fell back to REST: {summary['fallback']}" if summary["fallback"] else ""),
        markup=False,
    )
    if summary.get("failure"):
        raise fail(f"{venue}: {summary['failure']}", code=1)
