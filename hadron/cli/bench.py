"""``hadron bench …``: benchmarks on real recorded frames (:mod:`hadron.bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hadron import logs
from hadron.cli._common import adapter_for, fail, stdout, write_json
from hadron.errors import HadronError

app = typer.Typer(
    help="Benchmarks on real recorded frames (`hadron bench` alone runs `hadron bench compare`).",
    invoke_without_command=True,
)


@app.callback()
def bench_default(ctx: typer.Context) -> None:
    """Benchmarks on real recorded frames; with no command, the side-by-side comparison."""
    if ctx.invoked_subcommand is None:
        bench_compare()


@app.command("compare")
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
    from hadron.bench.capture import default_capture, default_market_capture
    from hadron.bench.compare import markdown, plot_latency, run_compare

    logs.configure("error")
    capture = path or default_capture()
    chosen = market or default_market_capture()
    if capture is None or chosen is None or not chosen.is_file():
        raise fail("no capture given and the KXGOLD15M capture in ../shared/data was not found")
    try:
        results = run_compare(capture, chosen, repeat=repeat, limit=limit)
    except HadronError as exc:
        raise fail(str(exc)) from None
    table = markdown(results)
    stdout.print(table, markup=False)
    if markdown_out is not None:
        markdown_out.write_text(table)
    if png is not None:
        plot_latency(results, png)
    if json_out is not None:
        for flow in results["flows"].values():
            flow.pop("_samples", None)
        write_json(json_out, results)


@app.command("replay")
def bench_replay(
    path: Annotated[
        Path | None,
        typer.Argument(help="Kalshi capture file or folder [default: the KXGOLD15M capture in ../shared/data]."),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Runs of each measurement; the best is kept.")] = 3,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON.")] = None,
) -> None:
    """End-to-end replay throughput and per-frame latency vs msgspec decoding alone, same frames."""
    from hadron.bench.capture import default_capture
    from hadron.bench.replay import print_results, run_replay_bench

    logs.configure("error")
    target = path or default_capture()
    if target is None:
        raise fail("no capture given and ../shared/data/zkiihne__kalshi-gold15m-sample/events not found")
    try:
        results = run_replay_bench(target, repeat=repeat)
    except HadronError as exc:
        raise fail(str(exc)) from None
    print_results(results, stdout)
    if json_out is not None:
        write_json(json_out, results)


@app.command("arb")
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

    from hadron.bench.arb import run_arb_bench
    from hadron.bench.capture import default_market_capture

    logs.configure("error")
    target = path or default_market_capture()
    if target is None or not target.is_file():
        raise fail("no capture file given and the KXGOLD15M capture in ../shared/data was not found")
    shifts = tuple(c * 100 for c in (shift or [0, -25]))
    results = run_arb_bench(target, shifts=shifts, repeat=repeat, max_capital=max_capital)
    capital = f"${max_capital}" if max_capital else "unlimited"
    title = f"hadron bench arb: {target.parent.name}/{target.name} + its Polymarket copy, max capital {capital}"
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
        write_json(json_out, results)


@app.command("store")
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

    from hadron.bench.capture import default_capture
    from hadron.bench.recording import run_recording_bench

    logs.configure("error")
    target = path or default_capture()
    if target is None:
        raise fail("no capture given and ../shared/data/zkiihne__kalshi-gold15m-sample/events not found")
    results = run_recording_bench(target, limit=limit)
    if state:
        from hadron.bench.store import bench_state

        with tempfile.TemporaryDirectory() as tmp:
            results["state"] = [bench_state(url.replace("sqlite:///TMP", f"sqlite:///{tmp}/bench.db")) for url in state]
    if nats:
        from hadron.bench.store import bench_publish

        results["nats"] = bench_publish(nats)
    for section, values in results.items():
        stdout.print(f"{section:10s} {values}", markup=False)
    if json_out is not None:
        write_json(json_out, results)


@app.command("live")
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
    from hadron.bench.capture import default_market_capture
    from hadron.bench.live import run_benches
    from hadron.venues.base import LiveBenchVenue

    logs.configure("error")
    venues = venue or ["kalshi", "polymarket"]
    paths = path or ["pool"]
    for name in paths:
        if name not in ("pool", "record", "run"):
            raise fail(f"--path {name!r}: use pool, record or run")
    adapters = {name: adapter_for(name, LiveBenchVenue) for name in venues}
    capture = capture or default_market_capture()
    if capture is None:
        raise fail("no capture given and the KXGOLD15M capture in ../shared/data was not found")
    results: list[dict[str, Any]] = []
    try:
        for name, mode, result in run_benches(
            adapters, capture, paths, record_to=record_to, speed=speed, limit_s=limit
        ):
            results.append({"venue": name, **result})
            stdout.print(f"-- {name}, {result.get('path', mode)}", markup=False)
            for key, value in result.items():
                stdout.print(f"{key:24s} {value}", markup=False)
    except HadronError as exc:
        raise fail(str(exc)) from exc
    if len(results) > 1:
        stdout.print("ratio live / offline, same frames:", markup=False)
        for result in results:
            ratio = result["ratio_live_vs_offline"]
            shown = f"{ratio:.3f}" if ratio is not None else "not measurable (live window too short)"
            stdout.print(f"  {result['venue']:10s} {result.get('path', ''):16s} {shown}", markup=False)
    if json_out is not None:
        write_json(json_out, results if len(results) > 1 else results[0])
