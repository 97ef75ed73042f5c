"""The command line as a user meets it: every ``--help`` shows its text whole (bracketed words
included, paragraphs rewrapped, never split mid-sentence), ``--version``, the shipped example
config passes ``config check``, and bad or busy ports are one-line errors with exit status 2."""

from __future__ import annotations

import inspect
import itertools
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import hadron
from hadron.accel import describe
from hadron.cli import app
from tests.conftest import REPO

WIDTH = 60  # narrower than the docstrings' lines: a line break kept from the source shows as a short line
BRACKETED = re.compile(r"\[[^\[\]\n]+\]")
HEADING = re.compile(r"^[A-Z][A-Za-z ]*:$")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _squash(text: str) -> str:
    # Whitespace removed: the same text wrapped at any width (hyphenated words split or not) compares equal
    return re.sub(r"\s+", "", text)


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    return result.output


def _description(output: str) -> list[list[str]]:
    # The help text between the usage line(s) and the first section (Options:, Commands: …), as
    # paragraphs (runs of lines between blank lines)
    lines = output.splitlines()
    end = next((i for i, line in enumerate(lines) if i and HEADING.match(line)), len(lines))
    blocks: list[list[str]] = [[]]
    for line in lines[1:end]:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    usage_tail = 0
    while usage_tail < len(blocks) and blocks[usage_tail][0].startswith("   "):  # a wrapped usage line
        usage_tail += 1
    return blocks[usage_tail:]


def test_the_tree_is_walked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "replay", "run", "demo", "config check", "bench compare", "fake-venue kalshi", "paper kill"} <= names
    sources = [cmd.help or "" for _, cmd in COMMANDS] + [p.help or "" for _, c in COMMANDS for p in c.params]
    assert sum(len(BRACKETED.findall(text)) for text in sources) >= 20  # the check below is not vacuous


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "hadron" for p, _ in COMMANDS])
def test_help_shows_every_bracketed_word_and_whole_paragraphs(path: tuple[str, ...], command: Any) -> None:
    output = _help(path)
    squashed = _squash(output)
    assert "Traceback" not in output
    # every option's and argument's help, whole, [paper] and [default: …] included
    for param in command.params:
        text = getattr(param, "help", None)
        if not text:
            continue
        assert _squash(text) in squashed, f"{' '.join(path)} {param.name}: help not shown whole: {text!r}"
        for word in BRACKETED.findall(text):
            assert _squash(word) in squashed, f"{' '.join(path)} {param.name}: {word} swallowed"
    # the command's text: one output paragraph per source paragraph, each filled line by line
    source = inspect.cleandoc(command.help or "").partition("\f")[0]
    paragraphs = [p for p in re.split(r"\n\s*\n", source) if p.strip()]
    blocks = _description(output)
    assert [_squash(p) for p in paragraphs] == ["".join(_squash(line) for line in b) for b in blocks], output
    for word in BRACKETED.findall(source):
        assert _squash(word) in squashed, f"{' '.join(path)}: {word} swallowed"
    chunks = textwrap.TextWrapper()
    for block in blocks:
        for line, following in itertools.pairwise(block):
            first = next(c for c in chunks._split(following.strip()) if c.strip())
            # greedy filling: the next line's first word did not fit on this one (a line break
            # kept from the docstring would leave a short line here)
            assert len(line) + 1 + len(first) > WIDTH, f"{' '.join(path)}: paragraph broken after {line!r}"


def test_help_keeps_the_words_rich_markup_used_to_swallow() -> None:
    replay = _squash(_help(("replay",)))
    for words in ("TOML with [paper] (latency, tif, unwind…) and [risk] limits",
                  "[default: next to --report, else ./replay.deadletter.ndjson]"):  # fmt: skip
        assert _squash(words) in replay
    check = _help(("config", "check"))
    assert _squash("the [paper], [risk] and [thresholds] tables") in _squash(check)


def test_version_prints_the_distribution_version_and_the_build() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith(f"hadron-markets {hadron.__version__} (")
    assert describe() in line and "\n" not in line


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "HADRON_"))}


def test_the_shipped_example_config_passes_config_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hadron", "config", "check", "hadron.example.toml"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=_clean_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (REPO / "pairs.example.toml").is_file()
    assert "pairs: 1 approved" in result.stdout
    assert '"private_key": "(not set)"' in result.stdout and '"control_token": "(not set)"' in result.stdout
    assert "Secret(" not in result.stdout  # nothing is set, so nothing is masked


def _one_line_error(result: Any, *words: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    line: str = result.output.strip()
    assert "\n" not in line, result.output
    assert line.startswith("hadron: ")
    for word in words:
        assert word in line, line
    return line


@pytest.mark.parametrize(
    ("args", "setting"),
    [
        (["demo", "--port", "99999"], "--port"),
        (["run", "--port", "70000"], "--port"),
        (["run", "--role", "strategy", "--port", "-1"], "--port"),
        (["fake-venue", "kalshi", "--capture", "x.ndjson.gz", "--port", "65536"], "--port"),
        (["fake-venue", "polymarket", "--capture", "x.json", "--port", "0", "--rest-port", "70000"], "--rest-port"),
    ],
)
def test_a_port_out_of_range_is_a_one_line_error(args: list[str], setting: str) -> None:
    line = _one_line_error(CliRunner().invoke(app, args), setting, "65535")
    assert f"{setting} is " in line


def test_a_bad_runtime_port_in_the_config_names_runtime_port(tmp_path: Path) -> None:
    config = tmp_path / "hadron.toml"
    config.write_text("[runtime]\nport = 70000\n")
    _one_line_error(CliRunner().invoke(app, ["run", "--config", str(config)]), "runtime.port", "65535")
    _one_line_error(CliRunner().invoke(app, ["config", "check", str(config)]), "runtime.port", "65535")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_busy_port_is_a_one_line_error_before_anything_starts(busy_port: int, tmp_path: Path) -> None:
    runner = CliRunner()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = runner.invoke(app, ["demo", "--port", str(busy_port), "--duration", "2"], env={"TMPDIR": str(tmp)})
    line = _one_line_error(result, "--port", f"127.0.0.1:{busy_port}", "already in use", "0: any free port")
    assert not list(tmp.iterdir())  # checked before the demo made its folder and key
    record = tmp_path / "rec"
    config = tmp_path / "hadron.toml"
    config.write_text(f'[runtime]\nport = {busy_port}\npairs = "{REPO / "pairs.example.toml"}"\nstate = ""\n')
    result = runner.invoke(app, ["run", "--config", str(config), "--record", str(record)], env=_clean_env())
    line = _one_line_error(result, "runtime.port", "already in use")
    assert not record.exists()  # before the runtime wrote its run files, opened stores or feeds
    free = tmp_path / "free.toml"
    free.write_text(f'[runtime]\npairs = "{REPO / "pairs.example.toml"}"\nstate = ""\n')
    result = runner.invoke(app, ["run", "--config", str(free), "--port", str(busy_port)], env=_clean_env())
    line = _one_line_error(result, "--port", "already in use")
    for venue in ("kalshi", "polymarket"):
        result = runner.invoke(app, ["fake-venue", venue, "--capture", "x", "--port", str(busy_port)])
        line = _one_line_error(result, "--port", "already in use")
    assert line


def test_a_control_url_with_a_bad_port_is_a_one_line_error() -> None:
    for command in (["status"], ["stop"], ["paper", "status"]):
        _one_line_error(CliRunner().invoke(app, [*command, "--url", "http://127.0.0.1:99999"]), "--url", "range")


def test_the_control_commands_default_to_the_local_runtime() -> None:
    for command in (["status"], ["stop"], ["paper", "status"], ["paper", "resume"], ["paper", "kill"]):
        result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "http://127.0.0.1:8765" in result.output, (command, result.output)
    both = CliRunner().invoke(app, ["paper", "kill", "--url", "http://127.0.0.1:8765", "--file", "kill"])
    assert both.exit_code == 2 and "not both" in both.output
