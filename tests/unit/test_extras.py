"""A core install (no extras): what works, and the one line a missing extra gives.

Each check runs in a fresh interpreter in which pyarrow, duckdb, pandas, psycopg, nats and
matplotlib cannot be imported, as after ``pip install hadron-markets`` without extras.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hadron.extras import EXTRAS, MissingExtra, available, require
from tests.conftest import REPO

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {"pyarrow", "duckdb", "pandas", "psycopg", "psycopg_binary", "nats", "matplotlib"}
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Block())
    """
)

FIXTURE = REPO / "tests" / "fixtures" / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"

# modules that are the optional features themselves
NEEDS_AN_EXTRA = {"hadron.store.parquet", "hadron.bus.nats", "hadron.bus.nats_consumer"}


def _core(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return _core(f"import sys\nfrom hadron.cli import main\nsys.argv = ['hadron', *{args!r}]\nmain()\n", cwd)


def test_every_other_module_imports_without_the_extras(tmp_path: Path) -> None:
    out = _core(
        """
        import importlib, pkgutil, hadron
        failed = []
        for info in pkgutil.walk_packages(hadron.__path__, "hadron."):
            try:
                importlib.import_module(info.name)
            except Exception as exc:
                failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
        print("\\n".join(failed))
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    failed = {line.partition(":")[0]: line for line in out.stdout.splitlines() if line}
    assert set(failed) == NEEDS_AN_EXTRA, failed
    assert "pip install 'hadron-markets[parquet]'" in failed["hadron.store.parquet"]
    assert "MissingExtra" in failed["hadron.store.parquet"]


def test_replay_runs_on_a_core_install(tmp_path: Path) -> None:
    out = _cli(["replay", str(FIXTURE)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "decode errors 0" in out.stdout
    seq_line = next(line for line in out.stdout.splitlines() if line.startswith("seq: "))
    assert seq_line.endswith("; decode errors 0; passed on 0, unconsumed 0"), seq_line  # the report's routing


def test_a_missing_extra_is_one_line_naming_the_install(tmp_path: Path) -> None:
    out = _cli(["replay", str(FIXTURE), "--store", f"parquet:{tmp_path / 'ticks'}"], tmp_path)
    assert out.returncode == 2
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert lines == ["hadron: the Parquet tick store needs pyarrow: pip install 'hadron-markets[parquet]'"], lines
    out = _cli(["query", "select 1", "--store", str(tmp_path)], tmp_path)
    assert out.returncode == 2
    assert "pip install 'hadron-markets[parquet]'" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_postgres_and_nats_need_their_extras(tmp_path: Path) -> None:
    out = _core(
        """
        import asyncio
        from hadron.extras import MissingExtra
        from hadron.store.state import open_state_store, parse_state_url
        from hadron.bus import open_bus
        print(parse_state_url("sqlite:///x.db")[0])
        for call in (lambda: parse_state_url("postgresql://h/db"), lambda: asyncio.run(open_bus("nats://127.0.0.1:4222"))):
            try:
                call()
            except MissingExtra as exc:
                print(exc)
        print(type(asyncio.run(open_bus("memory://"))).__name__)
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "sqlite",
        "the PostgreSQL state store needs psycopg: pip install 'hadron-markets[postgres]'",
        "the NATS bus needs nats: pip install 'hadron-markets[nats]'",
        "InProcessBus",
    ]


def test_paper_reports_without_matplotlib_leave_the_chart_out(tmp_path: Path) -> None:
    out = _core(
        f"""
        from pathlib import Path
        from hadron.arb.detector import ArbDetector
        from hadron.book.manager import BookManager
        from hadron.paper.report import write_reports
        from hadron.paper.trader import PaperTrader
        from hadron.logs import configure
        configure("warning")
        books = BookManager()
        trader = PaperTrader(books, ArbDetector(books, []))
        print(sorted(write_reports(trader, Path({str(tmp_path / "out")!r}))))
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['fills', 'summary']"
    assert "equity.png not written: the equity chart needs matplotlib: pip install 'hadron-markets[plot]'" in out.stderr
    assert not (tmp_path / "out" / "equity.png").exists()


def test_require_names_the_extra() -> None:
    assert str(MissingExtra("matplotlib", "a chart")) == "a chart needs matplotlib: pip install 'hadron-markets[plot]'"
    with pytest.raises(MissingExtra, match=r"pip install 'hadron-markets\[all\]'"):
        require("hadron_no_such_module", "a feature")
    assert require("msgspec", "decoding").__name__ == "msgspec"
    assert available("msgspec")
    assert not available("hadron_no_such_module")
    assert set(EXTRAS.values()) == {"parquet", "pandas", "postgres", "nats", "plot"}
