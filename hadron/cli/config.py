"""``hadron config check``: a configuration file validated, its effective settings printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer

from hadron.cli._common import fail, stdout
from hadron.errors import HadronError

app = typer.Typer(help="Configuration files.", no_args_is_help=True)


@app.command("check")
def config_check(
    path: Annotated[Path, typer.Argument(metavar="hadron.toml", help="The file to check.")],
) -> None:
    """Validate a configuration file and print the effective configuration, secrets masked.

    Checks every section, the [paper], [risk] and [thresholds] tables, the pairs file and the
    Kalshi key (readable, and not readable by others). Exit status 2 on the first problem.
    """
    from hadron.app.launch import check_config

    try:
        config, notes = check_config(path)
    except HadronError as exc:
        raise fail(str(exc)) from None
    stdout.print(msgspec.json.format(msgspec.json.encode(config)).decode(), markup=False)
    for note in notes:
        stdout.print(note, markup=False)
