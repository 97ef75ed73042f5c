"""``hadron markets match|review``: cross-venue pairs proposed, then reviewed by a person."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from hadron.cli._common import fail, stdout
from hadron.errors import HadronError

app = typer.Typer(help="Cross-venue market pairs: propose candidates for a person to review.", no_args_is_help=True)


@app.command("match")
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
        raise fail("give either --kalshi/--polymarket files or --kalshi-url/--gamma-url, not both")
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
        raise fail(str(exc)) from None
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


@app.command("review")
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
        raise fail(str(exc)) from None
