"""``hadron run`` (the live runtime or one process role), ``hadron status`` and ``hadron stop``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from hadron import logs
from hadron.cli._common import CONTROL_TOKEN, CONTROL_URL, DEFAULT_CONTROL_URL, control, fail, stdout, write_json
from hadron.errors import ConfigError, HadronError


def run(
    role: Annotated[
        str | None,
        typer.Option(
            help="all (default with --config), ingest (venues or recordings → bus), strategy (bus → books, "
            "arbitrage, paper)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="The live runtime's settings (hadron.toml): feeds, books, arbitrage, paper trading, stores."),
    ] = None,
    bus: Annotated[
        str | None,
        typer.Option(
            help="nats://host:4222[?stream=HADRON&prefix=hadron.v1] (overrides runtime.bus); memory:// "
            "for --role all over recordings."
        ),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(help="--config: record both venues' raw frames here, with pairs.toml as traded and config.json."),
    ] = None,
    opportunities: Annotated[
        Path | None, typer.Option(help="Write every opportunity here as NDJSON (closed ones as they close).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="--config: serve the dashboard, control endpoint and /metrics here (overrides runtime.port)."
        ),
    ] = None,
    venue: Annotated[
        list[str] | None, typer.Option("--venue", help="--config: stream only this venue (repeat; ingest shards).")
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="--config: stream every N-th market and token from the I-th: I/N, 0-based.")
    ] = None,
    source: Annotated[
        list[Path] | None, typer.Option("--source", help="ingest/all without --config: recording file or folder.")
    ] = None,
    source_id: Annotated[
        str | None, typer.Option(help="ingest: this shard's source id (recordings: default derived from the paths).")
    ] = None,
    rate: Annotated[float, typer.Option(min=0, help="ingest/all: at most this many events/s; 0 = no limit.")] = 0.0,
    durable: Annotated[
        str | None, typer.Option(help="strategy: durable consumer name (resumes after a restart); else new events.")
    ] = None,
    subjects: Annotated[str, typer.Option(help="strategy: subject filter under the prefix, e.g. kalshi.>")] = ">",
    until_idle: Annotated[
        float | None, typer.Option(min=0, help="strategy: stop after this many seconds without an event.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write the JSON report (or the final status and books) here at the end.")
    ] = None,
    pairs: Annotated[
        Path | None, typer.Option(help="strategy/all: run arbitrage on the approved pairs of this file.")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            help="strategy/all with --pairs: store opportunities as they change: sqlite:///FILE or postgresql://…"
        ),
    ] = None,
    paper: Annotated[bool, typer.Option(help="strategy/all with --pairs: paper-trade the opportunities.")] = False,
    paper_config: Annotated[Path | None, typer.Option(help="With --paper: TOML with [paper] and [risk].")] = None,
    paper_report: Annotated[
        Path | None, typer.Option(help="With --paper: write fills.ndjson, summary.json, equity.png here at the end.")
    ] = None,
    settlements: Annotated[Path | None, typer.Option(help="With --paper: settle from this CSV/NDJSON.")] = None,
    seed: Annotated[int | None, typer.Option(help="With --paper: the latency draws' seed.")] = None,
    seq_check: Annotated[str, typer.Option(help="ingest/all: replay seq check: auto, strict or monotonic.")] = "auto",
    dead_letter: Annotated[
        Path | None, typer.Option(help="ingest/all: where rejected frames go (default: beside --report).")
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="debug, info, warning or error, on stderr (default: runtime.log_level)."),
    ] = None,
) -> None:
    """Run the live runtime (`--config hadron.toml`), or one process role over the event bus.

    With --config the runtime streams Kalshi and Polymarket for the approved pairs of
    runtime.pairs, keeps the books, detects arbitrage, paper-trades it (runtime.paper), stores what
    happens and serves the dashboard, control endpoint and /metrics on runtime.host:port; `hadron
    status` and `hadron stop` talk to it. --role ingest streams the venues and publishes every
    normalized event on the bus (--venue/--shard split the work between ingest processes);
    --role strategy consumes them into books, arbitrage and paper trading; both need --bus (or
    runtime.bus). Without --config the roles replay recordings instead (--source).

    SIGINT/SIGTERM stop it cleanly; --report is written either way.

    Exit status: 0 done; 1 a venue failed for good (a refused key), or the bus could not be reached; 2
    a setting or path is wrong.
    """
    from hadron.app.ports import check_port_range
    from hadron.app.roles import PaperOptions, summary_line
    from hadron.app.roles import run as run_role
    from hadron.bus import BusError

    if port is not None:
        try:
            check_port_range(port, "--port", "no server")
        except ConfigError as exc:
            raise fail(str(exc)) from None
    if config is not None or (role is None and not source):
        recordings_only = {
            "--source": source,
            "--rate": rate or None,
            "--until-idle": until_idle,
            "--seq-check": None if seq_check == "auto" else seq_check,
        }
        given = [name for name, value in recordings_only.items() if value]
        if given:
            raise fail(f"{', '.join(given)}: for roles replaying recordings; with --config the roles stream live")
        in_config = {"--pairs": pairs, "--state": state, "--paper": paper or None, "--paper-config": paper_config,
                     "--paper-report": paper_report, "--settlements": settlements, "--seed": seed}  # fmt: skip
        given = [name for name, value in in_config.items() if value is not None]
        if given:
            raise fail(
                f"{', '.join(given)}: with --config these are runtime.pairs, runtime.state, runtime.paper and the "
                "[paper] and [risk] tables of hadron.toml"
            )
        _run_runtime(
            config, log_level, role=role or "all", bus=bus, record=record, opportunities=opportunities,
            venues=venue, shard=shard, source_id=source_id, durable=durable, subjects=subjects, report=report,
            port=port,
        )  # fmt: skip
        return
    if record is not None or venue or shard:
        raise fail("--record, --venue and --shard stream live: give --config hadron.toml")
    if port is not None:
        raise fail("--port: the roles replaying recordings serve no dashboard; give --config hadron.toml")
    logs.configure(log_level or "warning")
    if dead_letter is None:
        dead_letter = (
            report.with_name(report.stem + ".deadletter.ndjson")
            if report is not None
            else Path(f"ingest-{source_id or 'source'}.deadletter.ndjson")
        )
    try:
        result = run_role(
            role or "all",
            bus_url=bus,
            paths=source or [],
            source_id=source_id,
            rate=rate,
            durable=durable,
            subjects=subjects,
            until_idle=until_idle,
            dead_letter=dead_letter,
            seq_check=seq_check,
            pairs=pairs,
            state_url=state,
            paper=PaperOptions(paper_config, paper_report, settlements, seed) if paper else None,
            opportunities=opportunities,
        )
    except HadronError as exc:
        raise fail(str(exc), code=1 if isinstance(exc, BusError) else 2) from None
    if report is not None:
        write_json(report, result)
    stdout.print(summary_line(result), markup=False)


def _run_runtime(
    config_path: Path | None,
    log_level: str | None,
    *,
    role: str = "all",
    bus: str | None = None,
    record: Path | None = None,
    opportunities: Path | None = None,
    venues: list[str] | None = None,
    shard: str | None = None,
    source_id: str | None = None,
    durable: str | None = None,
    subjects: str = ">",
    report: Path | None = None,
    port: int | None = None,
) -> None:
    """``hadron run --config``: the live runtime (or one of its roles) until SIGINT/SIGTERM or
    ``hadron stop``; the command line's ``--bus``, ``--record``, ``--opportunities`` and ``--port``
    override ``runtime.bus``, ``runtime.record_dir``, ``runtime.opportunities`` and
    ``runtime.port`` (:func:`hadron.app.launch.prepare_runtime`); the report and the summary
    printed at the end."""
    from hadron.app.launch import prepare_runtime

    try:
        runtime = prepare_runtime(
            config_path, log_level, role=role, bus=bus, record=record, opportunities=opportunities, venues=venues,
            shard=shard, source_id=source_id, durable=durable, subjects=subjects, port=port,
        )  # fmt: skip

        async def main() -> dict[str, Any]:
            return await runtime.run()

        if runtime.url:
            stdout.print(f"dashboard: {runtime.url}", markup=False)
        status = asyncio.run(main())
    except HadronError as exc:
        raise fail(str(exc), code=2 if isinstance(exc, ConfigError) else 1) from None
    if report is not None:
        write_json(report, runtime.final_report(status))
    if status.get("bus"):
        bus_report = status["bus"]
        stdout.print(
            f"ingest {bus_report['source']}: published {bus_report['published']:,} events "
            f"({bus_report['events_per_s']:,}/s, publish lag p50 {bus_report['lag_ms_p50']} ms, "
            f"p99 {bus_report['lag_ms_p99']} ms); dropped {bus_report['dropped']:,}, failed {bus_report['errors']:,}",
            markup=False,
        )
    if status.get("consumed"):
        consumed = status["consumed"]
        stdout.print(
            f"strategy: consumed {consumed['events']:,} events, {consumed['duplicates']:,} duplicates, "
            f"{consumed['gaps']:,} gaps; {status['opportunities']['opportunities']:,} opportunities",
            markup=False,
        )
    desk = runtime.strategy.desk
    if desk is not None:  # where the orders went, and whether the venues agree
        ex = desk.report()
        rec = ex["reconciliation"]
        if ex["mode"] == "dry-run":
            line = f"execution dry-run: {ex['dry_run_requests']} orders signed and logged, none sent"
        else:
            line = (
                f"execution {ex['mode']}: {ex['orders_sent']} orders sent, {ex['fills']} fills, "
                f"{sum(ex['rejected'].values())} rejected; positions reconciled: {rec['positions_reconciled']} "
                f"({rec['differences']} differences); unhedged trades: {len(rec['unhedged'])}; "
                f"halted: {ex['halted'] or 'no'}; still resting: {len(ex['still_resting'])}"
            )
        stdout.print(line, markup=False)
    stdout.print(f"stopped: {status['state']}; errors: {status['errors'] or 'none'}", markup=False)
    if status["errors"]:  # the causes, in one line (a feed failed for good: refused key, no source left)
        raise fail("; ".join(status["errors"]), code=1)


def status(
    url: Annotated[str, CONTROL_URL] = DEFAULT_CONTROL_URL,
    token: Annotated[str | None, CONTROL_TOKEN] = None,
) -> None:
    """Print a running runtime's status (feeds, books, opportunities, paper) as JSON.

    On a loopback URL the control token is read from the run's token file (see `hadron stop`).
    """
    result = control(url, "/api/status", token)
    stdout.print(msgspec.json.format(msgspec.json.encode(result)).decode(), markup=False)


def stop(
    url: Annotated[str, CONTROL_URL] = DEFAULT_CONTROL_URL,
    token: Annotated[str | None, CONTROL_TOKEN] = None,
) -> None:
    """Stop a running runtime gracefully (paper orders cancelled, stores flushed).

    The stop needs the run's control token: on a loopback URL it is read from the token file the
    runtime wrote for its port ($XDG_RUNTIME_DIR/hadron/PORT.token, or ~/.hadron/run/PORT.token),
    so no flag is needed from any folder; --token or HADRON_CONTROL_TOKEN override it.
    """
    control(url, "/api/stop", token, {})
    stdout.print("stopping", markup=False)
