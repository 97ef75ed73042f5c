"""Hadron's command line: ``hadron <command>`` or ``python -m hadron <command>``.

One module per command group; each command parses its options and calls into the package
(:mod:`hadron.app`, :mod:`hadron.bench`, the venues), then prints the result.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hadron import __version__
from hadron.cli import bench, config, demo, fake_venue, markets, paper, record, replay, run, state
from hadron.cli._common import stdout

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


# the order of `hadron --help`: the commands, then the groups
app.command()(replay.replay)
app.command()(record.record)
app.command("query")(state.query_cmd)
app.command()(run.run)
app.command()(run.status)
app.command()(run.stop)
app.command()(demo.demo)
app.command()(demo.soak)
app.add_typer(bench.app, name="bench")
app.add_typer(fake_venue.app, name="fake-venue")
app.add_typer(state.app, name="state")
app.add_typer(config.app, name="config")
app.add_typer(markets.app, name="markets")
app.add_typer(paper.app, name="paper")


def main() -> None:
    """Run the command line."""
    app()
