"""``hadron replay``: recorded frames through the live pipeline, and its summary."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from hadron import logs
from hadron.cli._common import LogLevel, fail, stdout, write_json
from hadron.errors import HadronError


def replay(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="Recording files or folders.")],
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    dump_books: Annotated[Path | None, typer.Option(help="Write the final books as JSON here.")] = None,
    strict: Annotated[
        bool, typer.Option(help="Exit 1 on any decode error, snapshot mismatch or negative level.")
    ] = False,
    seq_check: Annotated[
        str,
        typer.Option(help="auto (monotonic for capture files, strict otherwise), strict or monotonic."),
    ] = "auto",
    dead_letter: Annotated[
        Path | None,
        typer.Option(help="Where rejected frames go [default: next to --report, else ./replay.deadletter.ndjson]."),
    ] = None,
    store: Annotated[str | None, typer.Option(help="Also write normalized ticks to a tick store: parquet:DIR.")] = None,
    pairs: Annotated[
        Path | None,
        typer.Option(help="Detect arbitrage on the approved pairs of this pairs file (see hadron.arb.detector)."),
    ] = None,
    opportunities: Annotated[
        Path | None, typer.Option(help="With --pairs: write the opportunities here as NDJSON, one per line.")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(help="With --pairs: also store the run and its opportunities: sqlite:///FILE or postgresql://…"),
    ] = None,
    paper: Annotated[
        bool, typer.Option(help="With --pairs: paper-trade the opportunities (see --paper-config).")
    ] = False,
    paper_config: Annotated[
        Path | None, typer.Option(help="With --paper: TOML with [paper] (latency, tif, unwind…) and [risk] limits.")
    ] = None,
    settlements: Annotated[
        Path | None, typer.Option(help="With --paper: settle from this CSV/NDJSON (e.g. Kalshi MARKETS.csv).")
    ] = None,
    paper_report: Annotated[
        Path | None, typer.Option(help="With --paper: write fills.ndjson, summary.json and equity.png here.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="With --paper: the latency draws' seed (overrides the config).")
    ] = None,
    log_level: LogLevel = "warning",
) -> None:
    """Feed recorded frames through the live pipeline (decode, normalize, books) and report.

    PATH may be a file or a folder (walked recursively). Formats are detected from content:
    the Kalshi capture (NDJSON {"recv_ms", "event"}, gzipped or not; each file is one
    connection), Polymarket frame files (a JSON array of frames, or NDJSON of frames, optionally
    wrapped the same way), and Hadron recordings (zstd NDJSON {"recv_ns", "venue", "conn",
    "frame"}). Bad frames are counted in decode_errors and kept in the dead-letter file; so are
    lines longer than a venue's frame limit allows (skipped, their first 64 KiB kept). A
    compressed file cut short is replayed up to its last complete line, one whose data is
    damaged up to the damage, one past 200 times its size (a compression bomb) up to there: each
    is noted in the report; a file in a folder of which no line can be read is listed as
    corrupt (files_corrupt) and counted as a decode error.
    With --pairs, arbitrage is detected on the approved pairs (report key "arbitrage") and
    --opportunities gets one JSON object per opportunity (money as decimal strings).

    Exit status: 0 done; 1 --strict and something failed; 2 a PATH is missing or unreadable.
    """
    from hadron.app.pipeline import StrategyOptions
    from hadron.app.replay_run import replay_run

    logs.configure(log_level)
    if dead_letter is None:
        dead_letter = (
            report.with_name(report.stem + ".deadletter.ndjson")
            if report is not None
            else Path("replay.deadletter.ndjson")
        )
    options = StrategyOptions(
        pairs=pairs,
        paper=paper,
        paper_config=paper_config,
        seed=seed,
        settlements=settlements,
        paper_report=paper_report,
        opportunities=opportunities,
        state=state,
        tick_store=store,
        run_config={"command": "replay", "paths": [str(p) for p in paths], "pairs": str(pairs) if pairs else None},
    )
    try:
        run, sections = asyncio.run(
            replay_run(paths, dead_letter, seq_check, options, on_replay=_progress if stdout.is_terminal else None)
        )
    except HadronError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(str(exc), code=1) from None
    result = run.report()
    result.update(sections)
    if report is not None:
        write_json(report, result)
    if dump_books is not None:
        write_json(dump_books, run.dump_books())
    _print_summary(result, report, dump_books)
    failed = result["decode_errors"] or result["snapshot_mismatches"] or result["negative_levels"]
    if strict and failed:
        raise typer.Exit(1)


def _progress(run: Any) -> None:
    """Show a rich progress bar (bytes of recordings replayed) while ``run`` replays."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("replay"), BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=stdout,
                   transient=True)  # fmt: skip
    state: dict[str, Any] = {}

    def on_plan(plan: list[Any]) -> None:
        state["task"] = bar.add_task("replay", total=sum(f.path.stat().st_size for f in plan))
        bar.start()

    def on_file(recording: Any) -> None:
        bar.advance(state["task"], recording.path.stat().st_size)
        if bar.finished:
            bar.stop()

    run.on_plan, run.on_file = on_plan, on_file


def _print_summary(r: dict[str, Any], report: Path | None, dump_books: Path | None) -> None:
    states = ", ".join(f"{n} {s}" for s, n in r["books_by_state"].items() if n)
    stdout.print(
        f"replayed {r['frames']:,} frames from {len(r['files'])} files in {r['elapsed_s']:.2f} s "
        f"({r['frames_per_s']:,} frames/s)",
        markup=False,
    )
    stdout.print(
        f"books {r['books']} ({states or 'none'}); snapshots {r['snapshots']}: "
        f"{r['snapshot_checks']} checked, {r['snapshot_mismatches']} mismatched, "
        f"{r['snapshot_clears']} clears; resyncs {r['resyncs']}",
        markup=False,
    )
    stdout.print(
        f"deltas {r['deltas_applied']:,} applied, {r['deltas_dropped']:,} dropped; "
        f"negative levels {r['negative_levels']}; crossed books {r['crossed_books']}; "
        f"venue bbo checks {r['bbo_checks']}, mismatches {r['bbo_mismatches']}",
        markup=False,
    )
    routed = f"; passed on {r['passed_on']:,}, unconsumed {r['unconsumed']:,}" if "passed_on" in r else ""
    stdout.print(
        f"seq: {r['seq_gaps']} gaps, {r['seq_resets']} resets, {r['seq_jumps']:,} tolerated jumps "
        f"(--seq-check {r['seq_check']}); trades {r['trades']:,}; decode errors {r['decode_errors']}{routed}",
        markup=False,
    )
    if r["dead_letter"]:
        stdout.print(f"dead letters: {r['dead_letter']}", markup=False)
    if "store" in r:
        rows = ", ".join(f"{t} {n:,}" for t, n in r["store"]["rows"].items())
        stdout.print(f"tick store {r['store']['url']}: {rows} rows in {r['store']['files']} files", markup=False)
    if r["files_skipped"]:
        stdout.print(f"skipped {len(r['files_skipped'])} files that are not recordings", markup=False)
    for corrupt in r["files_corrupt"]:
        stdout.print(f"corrupt, not replayed: {corrupt['reason']}", markup=False)
    for f in r["files"]:
        for note in f.get("notes", []):
            stdout.print(f"{f['path']}: {note}", markup=False)
    if report is not None:
        stdout.print(f"report: {report}", markup=False)
    if dump_books is not None:
        stdout.print(f"books: {dump_books}", markup=False)
