"""Hadron's command line: ``hadron <command>`` or ``python -m hadron <command>``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console

from hadron import __version__, logs
from hadron.errors import ConfigError, HadronError

app = typer.Typer(
    name="hadron",
    help="Prediction-market data and cross-venue arbitrage for Kalshi and Polymarket.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help (click's formatter) for every command and group: no Rich markup, so help text
    # shows [paper], [risk] and [default: …] as written, and each paragraph of a docstring is
    # rewrapped as one paragraph (Rich mode kept the docstrings' line breaks after the first).
    rich_markup_mode=None,
)
bench_app = typer.Typer(
    help="Benchmarks on real recorded frames (`hadron bench` alone runs `hadron bench compare`).",
    invoke_without_command=True,
)
app.add_typer(bench_app, name="bench")

stdout = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

LogLevel = Annotated[str, typer.Option("--log-level", help="debug, info, warning or error (stderr).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"hadron: {message}", markup=False)
    return typer.Exit(code)


def _write_json(path: Path, data: Any) -> None:
    # written beside, then renamed: a full disk leaves the old file or none, never an empty one
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(msgspec.json.format(msgspec.json.encode(data), indent=2) + b"\n")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _version(value: bool) -> None:
    if value:
        import platform

        from hadron.accel import describe

        stdout.print(f"hadron-markets {__version__} ({describe()}; Python {platform.python_version()})", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and the build (compiled or pure)."
        ),
    ] = False,
) -> None:
    """Prediction-market data and cross-venue arbitrage for Kalshi and Polymarket."""


@app.command()
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
        run, sections = asyncio.run(_replay_run(paths, dead_letter, seq_check, options))
    except HadronError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(str(exc), code=1) from None
    result = run.report()
    result.update(sections)
    if report is not None:
        _write_json(report, result)
    if dump_books is not None:
        _write_json(dump_books, run.dump_books())
    _print_summary(result, report, dump_books)
    failed = result["decode_errors"] or result["snapshot_mismatches"] or result["negative_levels"]
    if strict and failed:
        raise typer.Exit(1)


async def _replay_run(paths: list[Path], dead_letter: Path, seq_check: str, options: Any) -> tuple[Any, dict[str, Any]]:
    """Replay ``paths`` (merged by receive time) into the strategy ``options`` describe (the same
    builder the runtime uses); return the replay and the strategy's report sections."""
    from hadron.app.pipeline import build_strategy
    from hadron.app.replay import Replay
    from hadron.book.manager import BookManager

    books = BookManager()
    strategy = build_strategy(books, options, mode="replay")
    run = Replay(
        dead_letter=dead_letter, seq_check=seq_check, on_event=strategy.on_event if strategy.wants_events else None,
        books=books,
    )  # fmt: skip
    if stdout.is_terminal:
        _progress(run)
    await strategy.open()
    try:
        await run.run_async(paths)
    finally:
        await strategy.close(finish=True)
    return run, strategy.report()


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


def _venue(name: str, capability: type) -> Any:
    from hadron.venues.base import BUILTIN_VENUES, get_venue

    if name not in BUILTIN_VENUES:
        raise _fail(f"unknown venue {name!r} (known: {', '.join(BUILTIN_VENUES)})")
    adapter = get_venue(name)
    if not isinstance(adapter, capability):
        raise _fail(f"venue {name} does not support this command")
    return adapter


@app.command()
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
    import asyncio

    from hadron.errors import ConfigError, StoreError, VenueError
    from hadron.venues.base import RecordingVenue

    logs.configure(log_level)
    adapter = _venue(venue, RecordingVenue)
    tickers = [t.strip() for t in markets.split(",") if t.strip()]
    if not tickers and venue != "kalshi":  # Kalshi checks its channels (communications needs no market)
        raise _fail("--markets: give at least one market ticker")
    try:
        summary = asyncio.run(
            adapter.record(
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
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    except VenueError as exc:
        raise _fail(f"{venue}: {exc}", code=1) from None
    except StoreError as exc:
        raise _fail(f"{venue}: storage fault: {exc}", code=1) from None
    try:
        _write_json(out / "record-summary.json", summary)
    except OSError as exc:
        cause = summary.get("failure") or f"recorded {summary['frames']:,} frames"
        raise _fail(f"{venue}: {cause}; record-summary.json not written: {exc.strerror or exc}", code=1) from None
    stdout.print(
        f"recorded {summary['frames']:,} frames ({summary['frames_per_s']:,}/s) into {len(summary['files'])} files; "
        f"books {summary['books']} ({summary['books_synced']} synced, {summary['books_polled']} polled); "
        f"resyncs {summary['resyncs']}"
        + (f"; fell back to REST: {summary['fallback']}" if summary["fallback"] else ""),
        markup=False,
    )
    if summary.get("failure"):
        raise _fail(f"{venue}: {summary['failure']}", code=1)


fake_app = typer.Typer(help="Loopback venues that speak the real protocols and replay real captures.")
app.add_typer(fake_app, name="fake-venue")


def _check_loopback_ports(port: int, rest_port: int | None) -> None:
    """A loopback venue's --port and --rest-port: in range and free on 127.0.0.1, else exit 2."""
    from hadron.app.ports import check_listen

    try:
        check_listen("127.0.0.1", port, "--port", "any free port")
        if rest_port is not None:
            check_listen("127.0.0.1", rest_port, "--rest-port", "any free port")
    except ConfigError as exc:
        raise _fail(str(exc)) from None


ACCOUNT_SCRIPT_HELP = (
    "Play this script of orders on the venue's private channels: a JSON list of objects "
    '{"venue", "at" (s after the first private subscriber), "instrument", "side" (Kalshi yes/no, '
    'Polymarket BUY/SELL), "price", "count", "fill", "market" (Polymarket condition id), "cancel_at"}; '
    "see account-script.example.json and hadron.venues.account_script."
)
BURST_HELP = (
    "With --speed 0: build each subscriber's frames for the whole capture before sending any, framed "
    "once, and write them in large chunks (same frames, sids, seqs and reply order), so the venue "
    "outruns any client (the live-path benchmarks use it); replies to commands sent meanwhile wait."
)


def _load_account_script(path: Path | None) -> list[Any] | None:
    """--account-script FILE read (see :mod:`hadron.venues.account_script`), else exit 2."""
    if path is None:
        return None
    import msgspec

    from hadron.venues.base import load_script

    try:
        return list(load_script(path))
    except OSError as exc:
        raise _fail(f"--account-script {path}: cannot read ({exc.strerror or exc})") from None
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise _fail(f"--account-script {path}: {exc}") from None


@fake_app.command("kalshi")
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
    import asyncio

    from hadron.errors import ConfigError
    from hadron.venues.base import FakeVenueHost

    _check_loopback_ports(port, rest_port)
    if burst and speed != 0:
        raise _fail("--burst needs --speed 0")
    logs.configure(log_level)
    adapter = _venue("kalshi", FakeVenueHost)

    def ready(ws_url: str, rest_url: str | None) -> None:
        stdout.print(f"kalshi loopback venue: {ws_url}" + (f"  REST {rest_url}" if rest_url else ""), markup=False)

    try:
        asyncio.run(
            adapter.fake_venue(
                captures=capture,
                port=port,
                public_key=public_key,
                speed=speed,
                faults=faults,
                rest_port=rest_port,
                metadata=metadata,
                ready=ready,
                loop=loop,
                account_script=_load_account_script(account_script) or (),
                burst=burst,
            )
        )
    except (ConfigError, OSError) as exc:
        raise _fail(str(exc)) from None


def _user_auth_from_env() -> tuple[str, str, str] | None:
    """The loopback user channel's credentials: POLYMARKET_API_KEY/_SECRET/_PASSPHRASE (all three)."""
    import os

    creds = tuple(os.environ.get(f"POLYMARKET_API_{n}", "") for n in ("KEY", "SECRET", "PASSPHRASE"))
    return (creds[0], creds[1], creds[2]) if all(creds) else None


@fake_app.command("polymarket")
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
    import asyncio

    from hadron.errors import ConfigError
    from hadron.venues.base import FakeVenueHost

    _check_loopback_ports(port, rest_port)
    if burst and speed != 0:
        raise _fail("--burst needs --speed 0")
    logs.configure(log_level)
    adapter = _venue("polymarket", FakeVenueHost)

    def ready(ws_url: str, rest_url: str | None) -> None:
        stdout.print(f"polymarket loopback venue: {ws_url}" + (f"  REST {rest_url}" if rest_url else ""), markup=False)

    try:
        asyncio.run(
            adapter.fake_venue(
                captures=capture,
                port=port,
                speed=speed,
                faults=faults,
                rest_port=rest_port,
                ready=ready,
                loop=loop,
                shift=shift * 100,
                account_script=_load_account_script(account_script) or (),
                user_auth=_user_auth_from_env(),
                burst=burst,
            )
        )
    except (ConfigError, OSError) as exc:
        raise _fail(str(exc)) from None


@bench_app.callback()
def bench_default(ctx: typer.Context) -> None:
    """Benchmarks on real recorded frames; with no command, the side-by-side comparison."""
    if ctx.invoked_subcommand is None:
        bench_compare()


@bench_app.command("compare")
def bench_compare(
    path: Annotated[
        Path | None, typer.Argument(help="Kalshi capture file or folder [default: the KXGOLD15M capture].")
    ] = None,
    market: Annotated[
        Path | None, typer.Option(help="One market's capture for the Polymarket flow [default: the busiest].")
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Runs of each measurement; the best is kept.")] = 3,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N frames of each flow.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON.")] = None,
    markdown_out: Annotated[Path | None, typer.Option("--markdown", help="Write the table as markdown.")] = None,
    png: Annotated[Path | None, typer.Option(help="Write the latency distributions as a PNG.")] = None,
) -> None:
    """msgspec decode alone vs Hadron end to end vs a hobby implementation (vs NautilusTrader when
    installed), on the same real frames: throughput, ratios, per-frame latency, memory."""
    from hadron.app.bench import default_capture
    from hadron.app.bench_arb import DEFAULT_MARKET
    from hadron.app.bench_compare import markdown, plot_latency, run_compare

    logs.configure("error")
    root = default_capture()
    capture = path or root
    chosen = market or (root / DEFAULT_MARKET / "2026-08-11.ndjson.gz" if root is not None else None)
    if capture is None or chosen is None or not chosen.is_file():
        raise _fail("no capture given and the KXGOLD15M capture in ../shared/data was not found")
    try:
        results = run_compare(capture, chosen, repeat=repeat, limit=limit)
    except HadronError as exc:
        raise _fail(str(exc)) from None
    table = markdown(results)
    stdout.print(table, markup=False)
    if markdown_out is not None:
        markdown_out.write_text(table)
    if png is not None:
        plot_latency(results, png)
    if json_out is not None:
        for flow in results["flows"].values():
            flow.pop("_samples", None)
        _write_json(json_out, results)


@bench_app.command("replay")
def bench_replay(
    path: Annotated[
        Path | None,
        typer.Argument(help="Kalshi capture file or folder [default: the KXGOLD15M capture in ../shared/data]."),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Runs of each measurement; the best is kept.")] = 3,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON.")] = None,
) -> None:
    """End-to-end replay throughput and per-frame latency vs msgspec decoding alone, same frames."""
    from hadron.app.bench import default_capture, print_results, run_replay_bench

    logs.configure("error")
    target = path or default_capture()
    if target is None:
        raise _fail("no capture given and ../shared/data/zkiihne__kalshi-gold15m-sample/events not found")
    try:
        results = run_replay_bench(target, repeat=repeat)
    except HadronError as exc:
        raise _fail(str(exc)) from None
    print_results(results, stdout)
    if json_out is not None:
        _write_json(json_out, results)


@bench_app.command("arb")
def bench_arb(
    path: Annotated[
        Path | None,
        typer.Argument(help="One market's Kalshi capture [default: the busiest KXGOLD15M market in ../shared/data]."),
    ] = None,
    shift: Annotated[
        list[int] | None, typer.Option(help="Polymarket YES price moves in cents (repeatable) [default: 0 and -25].")
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Runs of each measurement; the best is kept.")] = 3,
    max_capital: Annotated[
        str | None, typer.Option(help="Run with this [thresholds] max_capital (USD) [default: no limit].")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON.")] = None,
) -> None:
    """The arbitrage check's cost per frame next to the books', on a real capture and its dislocated copy."""
    from rich.table import Table

    from hadron.app.bench import default_capture
    from hadron.app.bench_arb import DEFAULT_MARKET, run_arb_bench

    logs.configure("error")
    target = path
    if target is None:
        root = default_capture()
        target = root / DEFAULT_MARKET / "2026-08-11.ndjson.gz" if root is not None else None
    if target is None or not target.is_file():
        raise _fail("no capture file given and the KXGOLD15M capture in ../shared/data was not found")
    shifts = tuple(c * 100 for c in (shift or [0, -25]))
    results = run_arb_bench(target, shifts=shifts, repeat=repeat, max_capital=max_capital)
    title = f"hadron bench arb: {target.parent.name}/{target.name} + its Polymarket copy, max capital {max_capital}"
    table = Table(title=title)
    for column in ("shift", "frames", "books ns/f", "arb ns/f", "arb/books", "evals", "p50 µs", "p99 µs", "opps",
                   "net $"):  # fmt: skip
        table.add_column(column, justify="right")
    for name, case in results["cases"].items():
        lat = case["evaluation_latency"]
        table.add_row(
            name.removeprefix("shift_"), f"{case['frames']:,}", f"{case['books_ns_per_frame']:,.0f}",
            f"{case['arb_ns_per_frame']:,.0f}", f"{case['arb_share_of_books']:.2f}", f"{case['evaluations']:,}",
            f"{lat.get('p50_us', 0):.1f}", f"{lat.get('p99_us', 0):.1f}", str(case["opportunities"]),
            case["total_net"],
        )  # fmt: skip
    Console(width=max(stdout.width, 110)).print(table)
    if json_out is not None:
        _write_json(json_out, results)


@bench_app.command("store")
def bench_store(
    path: Annotated[Path | None, typer.Argument(help="Kalshi capture [default: ../shared/data].")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Frames to record.")] = 500_000,
    state: Annotated[
        list[str] | None, typer.Option(help="State stores to time (repeat): sqlite:///FILE, postgresql://…")
    ] = None,
    nats: Annotated[str | None, typer.Option(help="Also time publishing to NATS JetStream at this URL.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON.")] = None,
) -> None:
    """Recorder frames/s and bytes per frame, Parquet rows/s, state-store fills/s and NATS publish
    events/s, each on its own (benchmarks, not tests)."""
    import tempfile

    from hadron.app.bench import default_capture, run_store_bench

    logs.configure("error")
    target = path or default_capture()
    if target is None:
        raise _fail("no capture given and ../shared/data/zkiihne__kalshi-gold15m-sample/events not found")
    results = run_store_bench(target, limit=limit)
    if state:
        from hadron.store.state import bench_state

        with tempfile.TemporaryDirectory() as tmp:
            results["state"] = [bench_state(url.replace("sqlite:///TMP", f"sqlite:///{tmp}/bench.db")) for url in state]
    if nats:
        from hadron.bus.nats import bench_publish

        results["nats"] = bench_publish(nats)
    for section, values in results.items():
        stdout.print(f"{section:10s} {values}", markup=False)
    if json_out is not None:
        _write_json(json_out, results)


@bench_app.command("live")
def bench_live(
    capture: Annotated[
        Path | None, typer.Argument(help="Capture file [default: the busiest KXGOLD15M market in ../shared/data].")
    ] = None,
    venue: Annotated[list[str] | None, typer.Option(help="kalshi or polymarket (repeat) [default: both].")] = None,
    path: Annotated[
        list[str] | None,
        typer.Option(
            help="pool (the connection pool in this process), record (`hadron record` as a user runs it) or run "
            "(`hadron run` with paper trading, dashboard and recording); repeat [default: pool]."
        ),
    ] = None,
    record_to: Annotated[Path | None, typer.Option(help="pool: also record the frames here.")] = None,
    speed: Annotated[
        float,
        typer.Option(
            min=0,
            help="pool: 0 = the venue as fast as the client reads (throughput); N = the venue at N × the captured "
            "rate for --limit seconds (latency at a pace the client keeps up with).",
        ),
    ] = 0.0,
    limit: Annotated[float, typer.Option(min=1, help="pool with --speed N: seconds measured.")] = 10.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON.")] = None,
) -> None:
    """Frames/s through the live path (loopback venue process → socket → books) next to offline
    replay of the same frames, with their ratio; the venue writes pre-built frames in large chunks
    (`fake-venue --speed 0 --burst`) so it is never the bottleneck."""
    import asyncio

    from hadron.app.bench import default_capture
    from hadron.venues.base import LiveBenchVenue

    logs.configure("error")
    venues = venue or ["kalshi", "polymarket"]
    paths = path or ["pool"]
    for name in paths:
        if name not in ("pool", "record", "run"):
            raise _fail(f"--path {name!r}: use pool, record or run")
    adapters = {name: _venue(name, LiveBenchVenue) for name in venues}
    if capture is None:
        folder = default_capture()
        found = sorted(folder.glob("KXGOLD15M-26AUG102130-30/*.ndjson.gz")) if folder else []
        if not found:
            raise _fail("no capture given and the KXGOLD15M capture in ../shared/data was not found")
        capture = found[0]
    results: list[dict[str, Any]] = []
    for name, adapter in adapters.items():
        for mode in paths:
            try:
                options: dict[str, Any] = {"speed": speed, "limit_s": limit} if mode == "pool" else {}
                result = asyncio.run(adapter.bench_live(capture, record_to=record_to, path=mode, **options))
            except HadronError as exc:
                raise _fail(f"{name} {mode}: {exc}") from exc
            results.append({"venue": name, **result})
            stdout.print(f"-- {name}, {result.get('path', mode)}", markup=False)
            for key, value in result.items():
                stdout.print(f"{key:24s} {value}", markup=False)
    if len(results) > 1:
        stdout.print("ratio live / offline, same frames:", markup=False)
        for result in results:
            stdout.print(
                f"  {result['venue']:10s} {result.get('path', ''):16s} {result['ratio_live_vs_offline']:.3f}",
                markup=False,
            )
    if json_out is not None:
        _write_json(json_out, results if len(results) > 1 else results[0])


state_app = typer.Typer(
    help="The state store (runs, opportunities, paper orders, fills, positions).", no_args_is_help=True
)
app.add_typer(state_app, name="state")


@state_app.command("migrate")
def state_migrate(
    url: Annotated[str, typer.Argument(metavar="URL", help="sqlite:///FILE or postgresql://owner@host/db.")],
) -> None:
    """Bring the state store's schema up to date and print its version (run it as the role that
    owns the schema; the processes can then connect with data rights only: docs/SCALE-OUT.md).

    Exit status: 0 done; 1 the database refused (e.g. permission denied); 2 a bad URL.
    """
    from hadron.config import mask_url
    from hadron.errors import StoreError
    from hadron.store.state import open_state_store

    async def migrate() -> int:
        async with await open_state_store(url) as store:
            return await store.schema_version()

    try:
        version = asyncio.run(migrate())
    except StoreError as exc:
        raise _fail(str(exc), code=1) from None
    except HadronError as exc:
        raise _fail(str(exc)) from None
    stdout.print(f"{mask_url(url)}: schema version {version}", markup=False)


@app.command("query")
def query_cmd(
    sql: Annotated[str, typer.Argument(help="SQL over trades, quotes, book_deltas, book_snapshots, index_prices.")],
    store: Annotated[
        str, typer.Option(help="The tick store: parquet:DIR (or just DIR).", envvar="HADRON_STORE")
    ] = "parquet:data/ticks",
    json_out: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """Query the Parquet tick store with DuckDB SQL: hadron query "select count(*) from trades".

    Prices are int 1/10,000 USD, sizes int 1/1,000,000, times int ns; the partition columns
    venue, date and symbol are available in every table.
    """
    from hadron.extras import require

    try:
        duckdb: Any = require("duckdb", "hadron query")
        from hadron.store.parquet import parse_store_url, query
    except HadronError as exc:
        raise _fail(str(exc)) from None
    root = parse_store_url(store) if store.startswith("parquet:") else Path(store)
    try:
        columns, rows = query(root, sql)
    except HadronError as exc:
        raise _fail(str(exc)) from None
    except duckdb.Error as exc:
        raise _fail(f"query failed: {str(exc).splitlines()[0]}", code=1) from None
    if json_out:
        stdout.print(msgspec.json.encode([dict(zip(columns, row, strict=True)) for row in rows]).decode(), markup=False)
        return
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    stdout.print(table)


@app.command()
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
            raise _fail(str(exc)) from None
    if config is not None or (role is None and not source):
        recordings_only = {
            "--source": source,
            "--rate": rate or None,
            "--until-idle": until_idle,
            "--seq-check": None if seq_check == "auto" else seq_check,
        }
        given = [name for name, value in recordings_only.items() if value]
        if given:
            raise _fail(f"{', '.join(given)}: for roles replaying recordings; with --config the roles stream live")
        in_config = {"--pairs": pairs, "--state": state, "--paper": paper or None, "--paper-config": paper_config,
                     "--paper-report": paper_report, "--settlements": settlements, "--seed": seed}  # fmt: skip
        given = [name for name, value in in_config.items() if value is not None]
        if given:
            raise _fail(
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
        raise _fail("--record, --venue and --shard stream live: give --config hadron.toml")
    if port is not None:
        raise _fail("--port: the roles replaying recordings serve no dashboard; give --config hadron.toml")
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
        raise _fail(str(exc), code=1 if isinstance(exc, BusError) else 2) from None
    if report is not None:
        _write_json(report, result)
    stdout.print(summary_line(result), markup=False)


def _shard(text: str | None) -> tuple[int, int]:
    if text is None:
        return 0, 1
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and int(count) >= 1):
        raise ConfigError(f"--shard {text!r}: use I/N, e.g. 0/2 and 1/2 for two ingest processes")
    return int(index), int(count)


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
    ``runtime.port``. The server's port is checked free before the stores and feeds open."""
    import dataclasses

    from hadron.app.ports import check_listen
    from hadron.app.runtime import Runtime
    from hadron.config import load_config

    try:
        cfg = load_config(config_path)
        overrides = {"bus": bus, "record_dir": str(record) if record else None,
                     "opportunities": str(opportunities) if opportunities else None, "port": port}  # fmt: skip
        changes: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        if changes:
            cfg = dataclasses.replace(cfg, runtime=dataclasses.replace(cfg.runtime, **changes))
        if cfg.runtime.port:
            check_listen(cfg.runtime.host, cfg.runtime.port, "--port" if port else "runtime.port", "no server")
        logs.configure(log_level or cfg.runtime.log_level)
        runtime = Runtime(cfg, role=role, source_id=source_id, durable=durable, subjects=subjects, venues=venues,
                          shard=_shard(shard))  # fmt: skip

        async def main() -> dict[str, Any]:
            return await runtime.run()

        if cfg.runtime.port:
            stdout.print(f"dashboard: {runtime.url}", markup=False)
        status = asyncio.run(main())
    except HadronError as exc:
        raise _fail(str(exc), code=2 if isinstance(exc, ConfigError) else 1) from None
    if report is not None:
        _write_json(report, runtime.final_report(status))
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
    stdout.print(f"stopped: {status['state']}; errors: {status['errors'] or 'none'}", markup=False)
    if status["errors"]:  # the causes, in one line (a feed failed for good: refused key, no source left)
        raise _fail("; ".join(status["errors"]), code=1)


@app.command()
def status(
    url: Annotated[str, typer.Option(help="The runtime's control endpoint.")] = "http://127.0.0.1:8765",
    token: Annotated[str | None, _CONTROL_TOKEN] = None,
) -> None:
    """Print a running runtime's status (feeds, books, opportunities, paper) as JSON.

    On a loopback URL the control token is read from the run's token file (see `hadron stop`).
    """
    result = _control(url, "/api/status", token)
    stdout.print(msgspec.json.format(msgspec.json.encode(result)).decode(), markup=False)


@app.command()
def stop(
    url: Annotated[str, typer.Option(help="The runtime's control endpoint.")] = "http://127.0.0.1:8765",
    token: Annotated[str | None, _CONTROL_TOKEN] = None,
) -> None:
    """Stop a running runtime gracefully (paper orders cancelled, stores flushed).

    The stop needs the run's control token: on a loopback URL it is read from the token file the
    runtime wrote for its port ($XDG_RUNTIME_DIR/hadron/PORT.token, or ~/.hadron/run/PORT.token),
    so no flag is needed from any folder; --token or HADRON_CONTROL_TOKEN override it.
    """
    _control(url, "/api/stop", token, {})
    stdout.print("stopping", markup=False)


config_app = typer.Typer(help="Configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(
    path: Annotated[Path, typer.Argument(metavar="hadron.toml", help="The file to check.")],
) -> None:
    """Validate a configuration file and print the effective configuration, secrets masked.

    Checks every section, the [paper], [risk] and [thresholds] tables, the pairs file and the
    Kalshi key (readable, and not readable by others). Exit status 2 on the first problem.
    """
    from hadron.app.control import is_loopback
    from hadron.arb.detector import load_arb_config
    from hadron.config import effective, load_config
    from hadron.paper.config import paper_config, risk_limits

    try:
        cfg = load_config(path)
        paper_config(cfg.tables.get("paper", {}))
        risk_limits(cfg.tables.get("risk", {}))
        notes: list[str] = []
        if cfg.runtime.pairs:
            arb = load_arb_config(Path(cfg.runtime.pairs))
            notes.append(f"pairs: {sum(p.tradeable for p in arb.pairs)} approved, {len(arb.outcome_sets)} outcome sets")
        else:
            notes.append("runtime.pairs is not set: hadron run --config needs it")
        key_files = [("kalshi.private_key_path", cfg.kalshi.private_key_path)]
        key_files += [(f"kalshi.keys[{i}].private_key_path", k.private_key_path) for i, k in enumerate(cfg.kalshi.keys)]
        for setting, key in key_files:
            if not key:
                continue
            key_path = Path(key).expanduser()
            if not key_path.is_file():
                raise ConfigError(f"{setting} {key}: no such file")
            if key_path.stat().st_mode & 0o077:
                notes.append(f"warning: {key} is readable by group or others; chmod 600 it")
        if not cfg.kalshi.private_key_path and not cfg.kalshi.private_key and not cfg.kalshi.keys:
            notes.append("kalshi: no private key set (KALSHI_PRIVATE_KEY_PATH or kalshi.private_key_path)")
        elif cfg.kalshi.keys:
            notes.append(f"kalshi: a pool of {len(cfg.kalshi.keys) + bool(cfg.kalshi.api_key_id)} keys")
        if not is_loopback(cfg.runtime.host) and not cfg.runtime.control_token:
            raise ConfigError(
                f"runtime.host is {cfg.runtime.host}: set runtime.control_token (or HADRON_CONTROL_TOKEN)"
            )
    except HadronError as exc:
        raise _fail(str(exc)) from None
    stdout.print(msgspec.json.format(msgspec.json.encode(effective(cfg))).decode(), markup=False)
    for note in notes:
        stdout.print(note, markup=False)


@app.command()
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
            help="Keep the demo's files (key, pairs, state.db) here [default: a temporary folder, removed at the end]."
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
    log_level: LogLevel = "warning",
) -> None:
    """Everything at once, no credentials: loopback Kalshi and Polymarket venues replaying a real
    capture (the Polymarket copy dislocated), the runtime in paper mode, and the dashboard.

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
        raise _fail(str(exc)) from None
    logs.configure(log_level)

    def ready(url: str) -> None:
        stdout.print(f"Hadron demo running: open {url}  (Ctrl-C to stop)", markup=False)

    try:
        status = asyncio.run(run_demo(duration=duration, port=port, speed=speed, shift_cents=shift,
                                      workdir=workdir, on_ready=ready, record=record,
                                      opportunities=opportunities,
                                      account_script=_load_account_script(account_script)))  # fmt: skip
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    except (HadronError, OSError) as exc:
        raise _fail(str(exc), code=1) from None
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise _fail("demo interrupted while starting; its temporary files are removed", code=130) from None
    feeds = ", ".join(f"{v} {f['frames']:,} frames" for v, f in status["feeds"].items())
    opps = status["opportunities"]
    paper = status["paper"] or {}
    files = (
        f"files in {status['workdir']}"
        if status["workdir"]
        else "its temporary files are removed (--workdir DIR keeps them)"
    )
    kept = [f"{what} {path}" for what, path in (("recording", record), ("opportunities", opportunities)) if path]
    stdout.print(
        f"demo stopped: {feeds}; {opps['opportunities']} opportunities; {paper.get('orders', 0)} paper orders, "
        f"{paper.get('fills', 0)} fills; {files}" + "".join(f"; {k}" for k in kept),
        markup=False,
    )


@app.command()
def soak(
    duration: Annotated[float, typer.Option(min=5, help="Seconds to run.")] = 1800,
    speed: Annotated[float, typer.Option(min=0.1, help="Playback speed of the loopback venues.")] = 10.0,
    workdir: Annotated[Path, typer.Option(help="Where the recording, state and report go.")] = Path("soak"),
    warmup: Annotated[float, typer.Option(help="Seconds before memory growth is measured.")] = 60.0,
    report: Annotated[Path | None, typer.Option(help="Write the figures as JSON here.")] = None,
) -> None:
    """Run the whole runtime on looping loopback venues and measure memory growth, frames lost by
    the recorder (venue sent vs recorded) and the final books against an offline replay."""
    from hadron.app.soak import run_soak

    logs.configure("warning")
    try:
        result = asyncio.run(run_soak(duration_s=duration, speed=speed, workdir=workdir, warmup_s=warmup))
    except (HadronError, OSError) as exc:
        raise _fail(str(exc), code=1) from None
    if report is not None:
        _write_json(report, result)
    stdout.print(
        f"soak {duration:.0f} s at {speed}×: frames {result['frames']}; RSS {result['rss_mib']} "
        f"(growth {result['rss_growth']:.2%}); lost {result['lost']}; books identical to offline replay: "
        f"{result['books_identical']} ({result['books_compared']} books)",
        markup=False,
    )


markets_app = typer.Typer(
    help="Cross-venue market pairs: propose candidates for a person to review.", no_args_is_help=True
)
app.add_typer(markets_app, name="markets")


@markets_app.command("match")
def markets_match(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Write the proposed pairs (TOML) here. An existing file is merged into, never replaced: new pairs "
            "are appended, pairs still proposed are refreshed, reviewed pairs, fee terms, [thresholds], "
            "[[outcome_set]] and comments are kept as written.",
        ),
    ],
    kalshi: Annotated[
        list[Path] | None, typer.Option("--kalshi", help="Saved Kalshi /events, /markets or /series responses.")
    ] = None,
    polymarket: Annotated[
        list[Path] | None, typer.Option("--polymarket", help="Saved Polymarket Gamma /events or /markets responses.")
    ] = None,
    kalshi_url: Annotated[str | None, typer.Option("--kalshi-url", help="Kalshi REST base URL (live).")] = None,
    gamma_url: Annotated[str | None, typer.Option("--gamma-url", help="Polymarket Gamma base URL (live).")] = None,
    min_confidence: Annotated[float, typer.Option("--min-confidence", help="Drop pairs below this (0..1).")] = 0.6,
) -> None:
    """Propose Kalshi ↔ Polymarket pairs and write them for review (nothing is approved here).

    Onto an existing file the proposal is merged (see --out); delete the file to start over."""
    from hadron.match.inputs import (
        GAMMA_BASE_URL,
        KALSHI_BASE_URL,
        fetch_kalshi,
        fetch_polymarket,
        load_kalshi,
        load_polymarket,
    )
    from hadron.match.matcher import match
    from hadron.match.pairs import merge_pairs

    if (kalshi or polymarket) and (kalshi_url or gamma_url):
        raise _fail("give either --kalshi/--polymarket files or --kalshi-url/--gamma-url, not both")
    try:
        with stdout.status("downloading Kalshi events…" if not kalshi else "reading Kalshi records…"):
            k_records = load_kalshi(kalshi) if kalshi else asyncio.run(fetch_kalshi(kalshi_url or KALSHI_BASE_URL))
        with stdout.status("downloading Polymarket events…" if not polymarket else "reading Polymarket records…"):
            p_records = (
                load_polymarket(polymarket)
                if polymarket
                else asyncio.run(fetch_polymarket(gamma_url or GAMMA_BASE_URL))
            )
        with stdout.status("matching…"):
            pairs = match(k_records, p_records, min_confidence=min_confidence)
        existed = out.exists()
        merged = merge_pairs(out, pairs)
    except HadronError as exc:
        raise _fail(str(exc)) from None
    relations = ", ".join(
        f"{r} {sum(p.relation == r for p in pairs)}"
        for r in ("identity", "complement", "subset", "overlap", "disjoint")
    )
    stdout.print(
        f"{len(k_records)} Kalshi and {len(p_records)} Polymarket records → {len(pairs)} pairs ({relations}) in {out}",
        markup=False,
    )
    if existed:
        stdout.print(
            f"merged into {out}: {merged['added']} new, {merged['refreshed']} refreshed, {merged['unchanged']} "
            f"unchanged, {merged['kept_reviewed']} already reviewed kept as they are "
            f"({merged['reviewed_differs']} differ from this proposal: `hadron markets review --all` to revisit), "
            f"{merged['not_proposed']} not proposed again kept",
            markup=False,
        )


@markets_app.command("review")
def markets_review(
    pairs_file: Annotated[Path, typer.Argument(metavar="PAIRS.toml", help="The pairs file to review.")],
    reviewer: Annotated[
        str | None, typer.Option(help="Who is reviewing (recorded with each decision) [default: $USER].")
    ] = None,
    all_pairs: Annotated[bool, typer.Option("--all", help="Also revisit pairs already reviewed.")] = False,
    approve: Annotated[list[str] | None, typer.Option(help="Approve this pair id without prompting (repeat).")] = None,
    reject: Annotated[list[str] | None, typer.Option(help="Reject this pair id without prompting (repeat).")] = None,
) -> None:
    """Review proposed pairs in the terminal: approve, reject or skip each; every decision is
    saved with who and when (only the decided pairs' status, reviewed_by and reviewed_at change in the
    file; comments, fee terms, [thresholds] and [[outcome_set]] stay). The arbitrage engine trades
    only approved pairs, and only with their fee terms."""
    import getpass

    from hadron.match.review import decide, review_file

    who = reviewer or getpass.getuser()
    try:
        if approve or reject:
            counts = decide(pairs_file, who, approve=approve or [], reject=reject or [], console=stdout)
            stdout.print(f"approved {counts['approved']}, rejected {counts['rejected']} in {pairs_file}", markup=False)
        else:
            review_file(pairs_file, who, console=stdout, include_reviewed=all_pairs)
    except HadronError as exc:
        raise _fail(str(exc)) from None


paper_app = typer.Typer(help="Paper trading control: the kill switch of a running trader.", no_args_is_help=True)
app.add_typer(paper_app, name="paper")

_CONTROL_URL = typer.Option(help="The runtime's control endpoint, e.g. http://127.0.0.1:8765.")
_CONTROL_TOKEN = typer.Option(
    help="The control token [default: for a loopback URL, the one the runtime wrote for its port "
    "($XDG_RUNTIME_DIR/hadron/PORT.token or ~/.hadron/run/PORT.token)].",
    envvar="HADRON_CONTROL_TOKEN",
)


def _control(url: str, path: str, token: str | None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (``body`` None) or POST ``body`` as JSON to the runtime's control endpoint, with the
    control token (``token``, else the token file of a loopback URL's port); the JSON answer.

    Raises:
        typer.Exit: code 1, the endpoint cannot be reached or refused the request; code 2, the URL
            is not an http(s) URL with a valid port.
    """
    import contextlib
    from urllib.parse import urlsplit

    import httpx

    from hadron.app.control import local_port, read_token_file, token_file
    from hadron.config import mask_url

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise _fail(f"--url {mask_url(url)}: {exc}; give e.g. http://127.0.0.1:8765") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(f"--url {mask_url(url)}: not an http(s) URL; give e.g. http://127.0.0.1:8765")
    port = local_port(url)
    if not token and port is not None:
        token = read_token_file(port)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    where = mask_url(url)
    try:
        if body is None:
            response = httpx.get(url.rstrip("/") + path, headers=headers, timeout=5)
        else:
            response = httpx.post(url.rstrip("/") + path, json=body, headers=headers, timeout=5)
    except httpx.HTTPError as exc:
        raise _fail(f"control endpoint {where}: {mask_url(str(exc))}", code=1) from None
    if response.status_code >= 400:
        hint = ""
        if response.status_code == 401 and not token:
            missing = ""
            if port is not None:
                with contextlib.suppress(RuntimeError):  # no home folder: no file to name
                    missing = f"no token file {token_file(port)}: is the runtime on this port this user's? "
            hint = f" ({missing}give --token or HADRON_CONTROL_TOKEN)"
        raise _fail(f"control endpoint {where}{path}: {response.status_code} {response.text[:200]}{hint}", code=1)
    result: dict[str, Any] = response.json()
    return result


@paper_app.command("kill")
def paper_kill(
    url: Annotated[str | None, _CONTROL_URL] = None,
    file: Annotated[
        Path | None, typer.Option(help="Engage through the kill file instead ([risk] kill_file of the runtime).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (shown in status and reports).")] = "operator",
    token: Annotated[str | None, _CONTROL_TOKEN] = None,
) -> None:
    """Engage the kill switch: cancel working paper orders and block new ones."""
    if (url is None) == (file is None):
        raise _fail("give exactly one of --url (control endpoint) or --file (kill file)")
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(reason + "\n")
        stdout.print(f"kill file {file} written: the trader engages on its next check", markup=False)
        return
    assert url is not None
    state = _control(url, "/api/paper/kill", token, {"reason": reason})
    stdout.print(f"kill switch engaged: {state['kill_switch']['reason']}", markup=False)


@paper_app.command("resume")
def paper_resume(
    url: Annotated[str, _CONTROL_URL],
    token: Annotated[str | None, _CONTROL_TOKEN] = None,
) -> None:
    """Release the kill switch (remove the kill file first if one was used)."""
    state = _control(url, "/api/paper/resume", token, {})
    stdout.print(f"kill switch engaged: {state['kill_switch']['engaged']}", markup=False)


@paper_app.command("status")
def paper_status(
    url: Annotated[str, _CONTROL_URL],
    token: Annotated[str | None, _CONTROL_TOKEN] = None,
) -> None:
    """Print the trader's status as JSON."""
    stdout.print(
        msgspec.json.format(msgspec.json.encode(_control(url, "/api/paper/status", token))).decode(), markup=False
    )


def main() -> None:
    """Run the command line."""
    app()
