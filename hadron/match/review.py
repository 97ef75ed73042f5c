"""Interactive review of a pairs file (``hadron markets review``).

Each pair still ``proposed`` (or every pair, with ``include_reviewed``) is shown with its
reasons and warnings; the reviewer approves, rejects, skips or quits. Every decision is
written back at once (atomically) with who decided and when, so a review can stop and resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table

from hadron.match.pairs import Pair, read_pairs, review, write_pairs

CHOICES = {"a": "approved", "r": "rejected"}


def render(pair: Pair, index: int, total: int) -> Panel:
    """A panel showing one pair for review."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Kalshi", f"{pair.kalshi_market or '(event)'}  [{pair.kalshi_event}]")
    table.add_row("Polymarket", f"{pair.polymarket_market or '(event)'}  [{pair.polymarket_event}]")
    table.add_row("Kalshi YES ≡", pair.polymarket_yes_token or "(unknown at event level)")
    table.add_row("relation", f"{pair.relation}   confidence {pair.confidence:.2f}")
    for reason in pair.reasons:
        table.add_row("reason", reason)
    for warning in pair.warnings:
        table.add_row("[yellow]warning[/yellow]", f"[yellow]{warning}[/yellow]")
    if pair.reviewed_by:
        table.add_row("reviewed", f"{pair.status} by {pair.reviewed_by} at {pair.reviewed_at}")
    return Panel(table, title=f"pair {index}/{total}: {pair.id}", expand=False)


def review_file(
    path: Path,
    reviewer: str,
    *,
    console: Console | None = None,
    stream: TextIO | None = None,
    include_reviewed: bool = False,
) -> dict[str, int]:
    """Review the pairs in ``path`` interactively; return how many were approved, rejected, skipped.

    ``stream`` is where answers are read from (the terminal by default).

    Raises:
        ConfigError: the file is invalid, or the reviewer is empty.
    """
    console = console or Console()
    pairs = read_pairs(path)
    todo = [i for i, p in enumerate(pairs) if include_reviewed or p.status == "proposed"]
    counts = {"approved": 0, "rejected": 0, "skipped": 0}
    for number, index in enumerate(todo, 1):
        console.print(render(pairs[index], number, len(todo)))
        answer = Prompt.ask(
            r"\[a]pprove, \[r]eject, \[s]kip, \[q]uit",
            choices=["a", "r", "s", "q"],
            default="s",
            console=console,
            stream=stream,
        )
        if answer == "q":
            break
        if answer == "s":
            counts["skipped"] += 1
            continue
        pairs[index] = review(pairs[index], CHOICES[answer], reviewer)
        counts[CHOICES[answer]] += 1
        write_pairs(path, pairs)
    console.print(
        f"approved {counts['approved']}, rejected {counts['rejected']}, skipped {counts['skipped']}; "
        f"{sum(p.status == 'approved' for p in pairs)} approved in {path}"
    )
    return counts


def decide(path: Path, reviewer: str, *, approve: list[str], reject: list[str]) -> dict[str, int]:
    """Approve or reject pairs by id without prompting (scripts, CI).

    Raises:
        ConfigError: an id not in the file, or an empty reviewer.
    """
    from hadron.errors import ConfigError

    pairs = read_pairs(path)
    ids = {p.id: i for i, p in enumerate(pairs)}
    missing = [pid for pid in [*approve, *reject] if pid not in ids]
    if missing:
        raise ConfigError(f"{path}: no pair with id {', '.join(missing)}")
    for pid in approve:
        pairs[ids[pid]] = review(pairs[ids[pid]], "approved", reviewer)
    for pid in reject:
        pairs[ids[pid]] = review(pairs[ids[pid]], "rejected", reviewer)
    write_pairs(path, pairs)
    return {"approved": len(approve), "rejected": len(reject)}
