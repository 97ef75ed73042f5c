"""Interactive review of a pairs file (``hadron markets review``).

Each pair still ``proposed`` (or every pair, with ``include_reviewed``) is shown with its
reasons, warnings and fee terms; the reviewer approves, rejects, skips or quits. Every decision
is written back at once (atomically) with who decided and when, so a review can stop and resume.
Only the decided pair's ``status``, ``reviewed_by`` and ``reviewed_at`` change in the file
(:func:`hadron.match.pairs.update_pairs`): comments, fee terms, ``[thresholds]`` and
``[[outcome_set]]`` stay as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table

from hadron.match.pairs import Pair, fee_terms, missing_fee_terms, read_pair_tables, review, update_pairs

CHOICES = {"a": "approved", "r": "rejected"}


def render(pair: Pair, index: int, total: int, raw: Mapping[str, Any] | None = None) -> Panel:
    """A panel showing one pair for review (``raw``: its ``[[pair]]`` table as written, for the fee terms)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    legs = pair.legs
    for leg in legs:
        table.add_row(leg.venue.capitalize(), f"{leg.market or '(event)'}  [{leg.event}]")
    if len(legs) >= 2:
        table.add_row(f"{legs[0].venue.capitalize()} YES ≡", legs[1].yes or "(unknown at event level)")
    table.add_row("relation", f"{pair.relation}   confidence {pair.confidence:.2f}")
    for reason in pair.reasons:
        table.add_row("reason", reason)
    for warning in pair.warnings:
        table.add_row("[yellow]warning[/yellow]", f"[yellow]{warning}[/yellow]")
    if raw is not None and legs and legs[0].market:
        missing = missing_fee_terms(raw)
        names = [name for leg in legs for name in fee_terms(leg.venue)]
        stated = ", ".join(f"{name} {raw[name]}" for name in names if name not in missing and name in raw)
        table.add_row("fees", stated or "–")
        if missing:
            table.add_row("[red]missing[/red]", f"[red]{', '.join(missing)}: add to the pair before it can trade[/red]")
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
    pairs, raws = _read(path)
    todo = [i for i, p in enumerate(pairs) if include_reviewed or p.status == "proposed"]
    counts = {"approved": 0, "rejected": 0, "skipped": 0}
    for number, index in enumerate(todo, 1):
        console.print(render(pairs[index], number, len(todo), raws[index]))
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
        update_pairs(path, {index: pairs[index]})
        _warn_fees(console, pairs[index], raws[index])
    console.print(
        f"approved {counts['approved']}, rejected {counts['rejected']}, skipped {counts['skipped']}; "
        f"{sum(p.status == 'approved' for p in pairs)} approved in {path}"
    )
    return counts


def decide(
    path: Path, reviewer: str, *, approve: list[str], reject: list[str], console: Console | None = None
) -> dict[str, int]:
    """Approve or reject pairs by id without prompting (scripts, CI); only those pairs' review
    fields change in the file. ``console``: where to warn about approved pairs without fee terms.

    Raises:
        ConfigError: an id not in the file, or an empty reviewer.
    """
    from hadron.errors import ConfigError

    pairs, raws = _read(path)
    ids = {p.id: i for i, p in enumerate(pairs)}
    missing = [pid for pid in [*approve, *reject] if pid not in ids]
    if missing:
        raise ConfigError(f"{path}: no pair with id {', '.join(missing)}")
    decided: dict[int, Pair] = {}
    for pid in approve:
        decided[ids[pid]] = review(pairs[ids[pid]], "approved", reviewer)
    for pid in reject:
        decided[ids[pid]] = review(pairs[ids[pid]], "rejected", reviewer)
    update_pairs(path, decided)
    if console is not None:
        for index, pair in sorted(decided.items()):
            _warn_fees(console, pair, raws[index])
    return {"approved": len(approve), "rejected": len(reject)}


def _read(path: Path) -> tuple[list[Pair], list[dict[str, Any]]]:
    tables = read_pair_tables(path)
    return [pair for pair, _ in tables], [raw for _, raw in tables]


def _warn_fees(console: Console, pair: Pair, raw: Mapping[str, Any]) -> None:
    # An approved pair that would trade but states no fee terms: the detector will refuse it
    missing = missing_fee_terms(raw)
    if pair.tradeable and missing:
        console.print(
            f"{pair.id} approved without {', '.join(missing)}: add them to its [[pair]] table; "
            "hadron run and hadron replay refuse it until then",
            style="yellow",
            markup=False,
        )
