"""``hadron paper kill|resume|status``: the kill switch of a running paper trader."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer

from hadron.cli._common import CONTROL_TOKEN, CONTROL_URL, DEFAULT_CONTROL_URL, control, fail, stdout

app = typer.Typer(help="Paper trading control: the kill switch of a running trader.", no_args_is_help=True)


@app.command("kill")
def paper_kill(
    url: Annotated[str | None, CONTROL_URL] = None,
    file: Annotated[
        Path | None, typer.Option(help="Engage through the kill file instead ([risk] kill_file of the runtime).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (shown in status and reports).")] = "operator",
    token: Annotated[str | None, CONTROL_TOKEN] = None,
) -> None:
    """Engage the kill switch: cancel working paper orders and block new ones (through the
    control endpoint, http://127.0.0.1:8765 unless --url says otherwise, or the kill file)."""
    if url is not None and file is not None:
        raise fail("give one of --url (control endpoint) or --file (kill file), not both")
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(reason + "\n")
        stdout.print(f"kill file {file} written: the trader engages on its next check", markup=False)
        return
    state = control(url or DEFAULT_CONTROL_URL, "/api/paper/kill", token, {"reason": reason})
    stdout.print(f"kill switch engaged: {state['kill_switch']['reason']}", markup=False)


@app.command("resume")
def paper_resume(
    url: Annotated[str, CONTROL_URL] = DEFAULT_CONTROL_URL,
    token: Annotated[str | None, CONTROL_TOKEN] = None,
) -> None:
    """Release the kill switch (remove the kill file first if one was used)."""
    state = control(url, "/api/paper/resume", token, {})
    engaged = "engaged" if state["kill_switch"]["engaged"] else "released"
    execution = state.get("execution") or {}
    halted = f"; execution {execution.get('mode')}: halted: {execution['halted']}" if execution.get("halted") else ""
    stdout.print(
        f"kill switch {engaged}; new orders allowed: {not state['kill_switch']['engaged']}{halted}", markup=False
    )


@app.command("status")
def paper_status(
    url: Annotated[str, CONTROL_URL] = DEFAULT_CONTROL_URL,
    token: Annotated[str | None, CONTROL_TOKEN] = None,
) -> None:
    """Print the trader's status as JSON."""
    stdout.print(
        msgspec.json.format(msgspec.json.encode(control(url, "/api/paper/status", token))).decode(), markup=False
    )
