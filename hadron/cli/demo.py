"""``hadron demo`` (everything at once on loopback venues) and ``hadron soak`` (the same, measured)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from hadron import logs
from hadron.cli._common import ACCOUNT_SCRIPT_HELP, LogLevel, fail, load_account_script, stdout, write_json
from hadron.errors import ConfigError, HadronError


def demo(
    duration: Annotated[
        float | None, typer.Option(min=1, help="Stop after this many seconds [default: until Ctrl-C].")
    ] = None,
    port: Annotated[int, typer.Option(help="The dashboard's port (0: any free one).")] = 8765,
    speed: Annotated[float, typer.Option(min=0.1, help="Playback speed of the loopback venues.")] = 1.0,
    shift: Annotated[int, typer.Option(help="The Polymarket copy's YES price move, cents.")] = -6,
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the demo's files (key, pairs, state.db) here [default: a temporary folder, removed at the end]; "
            "with --execution other than paper, state.db starts afresh (the loopback exchanges do)."
        ),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(help="Record both venues' raw frames here, with pairs.toml as traded and config.json."),
    ] = None,
    opportunities: Annotated[
        Path | None, typer.Option(help="Write every opportunity here as NDJSON (closed ones as they close).")
    ] = None,
    account_script: Annotated[
        Path | None, typer.Option(help=ACCOUNT_SCRIPT_HELP + " [default: the demo's built-in script]")
    ] = None,
    execution: Annotated[
        str,
        typer.Option(
            help="paper (fill on the books), live (real orders to the loopback exchanges), shadow (live and "
            "paper side by side) or dry-run (sign and log, send nothing)."
        ),
    ] = "paper",
    summary: Annotated[
        Path | None,
        typer.Option(
            help="Write the run's summary JSON here [default with --execution other than paper: summary.json in "
            "--workdir, else in the current folder]."
        ),
    ] = None,
    log_level: LogLevel = "warning",
) -> None:
    """Everything at once, no credentials: loopback Kalshi and Polymarket venues replaying a real
    capture (the Polymarket copy dislocated), the runtime in paper mode, and the dashboard.

    With --execution live the loopback venues are exchanges as well: they verify every order
    (Kalshi's RSA-PSS request signature, Polymarket's EIP-712 order signature), match it against
    the book they replay, keep the account and report fills on the private channels; Hadron sends
    both legs of each opportunity to them. summary.json then gives the orders, fills, rejects,
    the reconciliations and whether Hadron's positions equal the exchanges' own (docs/EXECUTION.md).

    Without --workdir the demo's files (a throwaway private key, the pairs file, state.db) live in
    a temporary folder that is removed when the demo ends, however it ends (Ctrl-C, SIGTERM, an
    error); --workdir, --record and --opportunities are kept.

    The "Real account" panel shows orders played on both venues' private channels over the first
    ~20 s (Kalshi via the demo's throwaway key, Polymarket's user channel with credentials made for
    the run, never printed): a built-in script on the demo market, or --account-script FILE.

    Exit status: 0 done (Ctrl-C, SIGTERM or --duration); 1 the demo failed; 2 a bad or busy --port
    or another setting; 130 interrupted while starting.
    """
    from hadron.app.demo import run_demo
    from hadron.app.ports import check_port_range

    try:
        check_port_range(port, "--port", "any free port")
    except ConfigError as exc:
        raise fail(str(exc)) from None
    logs.configure(log_level)

    def ready(url: str) -> None:
        stdout.print(f"Hadron demo running: open {url}  (Ctrl-C to stop)", markup=False)

    try:
        status = asyncio.run(run_demo(duration=duration, port=port, speed=speed, shift_cents=shift,
                                      workdir=workdir, on_ready=ready, record=record,
                                      opportunities=opportunities,
                                      account_script=load_account_script(account_script),
                                      execution=execution, summary=summary))  # fmt: skip
    except ConfigError as exc:
        raise fail(str(exc)) from None
    except (HadronError, OSError) as exc:
        raise fail(str(exc), code=1) from None
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise fail("demo interrupted while starting; its temporary files are removed", code=130) from None
    feeds = ", ".join(f"{v} {f['frames']:,} frames" for v, f in status["feeds"].items())
    opps = status["opportunities"]
    paper = status["paper"] or {}
    files = (
        f"files in {status['workdir']}"
        if status["workdir"]
        else "its temporary files are removed (--workdir DIR keeps them)"
    )
    kind = "paper" if "summary" not in status else (status.get("execution") or {}).get("mode", "live")
    kept = [f"{what} {path}" for what, path in (("recording", record), ("opportunities", opportunities)) if path]
    stdout.print(
        f"demo stopped: {feeds}; {opps['opportunities']} opportunities; {paper.get('orders', 0)} {kind} orders, "
        f"{paper.get('fills', 0)} fills; {files}" + "".join(f"; {k}" for k in kept),
        markup=False,
    )
    if "summary" in status:
        stdout.print(_execution_line(status), markup=False)


def _execution_line(status: dict[str, Any]) -> str:
    # One line on where the orders went: sent, filled, refused, reconciled (dry-run: signed only)
    ex = status.get("execution") or {}
    rejected = sum((ex.get("rejected") or {}).values())
    if ex.get("mode") == "dry-run":
        return (
            f"execution dry-run: {ex.get('dry_run_requests', 0)} orders signed and logged, none sent; "
            f"summary {status['summary']}"
        )
    rec = ex.get("reconciliation") or {}
    equal = (ex.get("positions") or {}).get("equal")
    return (
        f"execution {ex.get('mode')}: {ex.get('orders_sent', 0)} orders sent, {ex.get('fills', 0)} fills, "
        f"{rejected} rejected; positions reconciled with the exchanges: {rec.get('positions_reconciled')} "
        f"(Hadron = exchanges: {equal}); summary {status['summary']}"
    )


def soak(
    duration: Annotated[float, typer.Option(min=5, help="Seconds to run.")] = 1800,
    speed: Annotated[float, typer.Option(min=0.1, help="Playback speed of the loopback venues.")] = 10.0,
    workdir: Annotated[Path, typer.Option(help="Where the recording, state and report go.")] = Path("soak"),
    warmup: Annotated[float, typer.Option(help="Seconds before memory growth is measured.")] = 60.0,
    report: Annotated[Path | None, typer.Option(help="Write the figures as JSON here.")] = None,
) -> None:
    """Run the whole runtime on looping loopback venues and measure memory growth, frames lost by
    the recorder (venue sent vs recorded) and the final books against an offline replay."""
    from hadron.bench.soak import run_soak

    logs.configure("warning")
    try:
        result = asyncio.run(run_soak(duration_s=duration, speed=speed, workdir=workdir, warmup_s=warmup))
    except (HadronError, OSError) as exc:
        raise fail(str(exc), code=1) from None
    if report is not None:
        write_json(report, result)
    stdout.print(
        f"soak {duration:.0f} s at {speed}×: frames {result['frames']}; RSS {result['rss_mib']} "
        f"(growth {result['rss_growth']:.2%}); lost {result['lost']}; books identical to offline replay: "
        f"{result['books_identical']} ({result['books_compared']} books)",
        markup=False,
    )
