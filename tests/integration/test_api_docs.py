"""Every ```python block of docs/API.md runs as written, from the repository root.

The blocks replay the real captures in tests/fixtures, write tick stores in temp folders and start
loopback venues on real sockets (so this lives with the integration tests). A block whose first
line is ``# requires: <module>`` is skipped when that module (an optional extra) is absent.
"""

from __future__ import annotations

import ast
import re
import tempfile
from pathlib import Path

import pytest

import hadron
import hadron.api
from tests.conftest import REPO

DOC = REPO / "docs" / "API.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_REQUIRES = re.compile(r"^# requires: ([\w.]+)")


def _blocks() -> list[tuple[int, str]]:
    text = DOC.read_text()
    return [(text.count("\n", 0, found.start()) + 1, found.group(1)) for found in _BLOCK.finditer(text)]


BLOCKS = _blocks()


def test_the_page_has_examples_of_every_part() -> None:
    assert len(BLOCKS) >= 10
    code = "\n".join(block for _, block in BLOCKS)
    for call in ("hadron.replay(", "hadron.connect(", "hadron.loopback(", "hadron.top_of_book(", "hadron.book_table(",
                 "hadron.write_ticks(", "hadron.read_ticks(", "hadron.events_tables(", "hadron.arb_detector(",
                 "hadron.read_pairs(", "hadron.load_pairs(", "hadron.apply_event(", "hadron.read_ticks_df(",
                 "hadron.book_df(", "hadron.opportunities_table("):  # fmt: skip
        assert call in code, f"docs/API.md has no example of {call}"


def test_every_public_function_and_class_of_the_api_is_documented() -> None:
    text = DOC.read_text()
    defined = [
        node.name
        for module in sorted(Path(hadron.api.__file__).parent.glob("*.py"))
        for node in ast.parse(module.read_text()).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    ]
    assert defined
    assert set(defined) <= set(hadron.api.__all__)
    missing = [name for name in defined if f"`{name}" not in text and f"{name}(" not in text]
    assert missing == []


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"line-{line}" for line, _ in BLOCKS])
def test_the_example_runs(line: int, code: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    required = _REQUIRES.match(code)
    if required:
        pytest.importorskip(required.group(1), reason=f"docs/API.md line {line} needs {required.group(1)}")
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # default dead letters, temp stores
    exec(compile(code, f"docs/API.md:{line}", "exec"), {"__name__": "__main__"})
