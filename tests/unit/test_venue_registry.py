"""Every venue package is registered, and the core never imports one directly."""

from __future__ import annotations

import ast
from pathlib import Path

import hadron
from hadron.venues.base import BUILTIN_VENUES, get_venue

ROOT = Path(hadron.__file__).parent


def test_every_venue_package_is_registered() -> None:
    packages = {p.parent.name for p in (ROOT / "venues").glob("*/__init__.py")}
    assert packages == set(BUILTIN_VENUES)
    for name in packages:
        adapter = get_venue(name)
        assert adapter.name == name
        assert callable(adapter.open_stream) and callable(adapter.sniff)


def test_the_core_does_not_import_venue_packages() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "venues" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [
                f"{path.name}: {n}" for n in names if n.startswith("hadron.venues.") and n != "hadron.venues.base"
            ]
    assert offenders == []
