"""The pure-Python switch of :mod:`hadron.accel` (imported by ``hadron/__init__.py``, so light)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from pathlib import Path
from types import ModuleType

HOT_MODULES: tuple[str, ...] = (
    "hadron.model.units",
    "hadron.book.l2",
    "hadron.book.manager",
    "hadron.venues.common",
    "hadron.venues.feedstats",
    "hadron.venues.kalshi.normalize",
    "hadron.venues.kalshi.stream",
    "hadron.venues.polymarket.normalize",
    "hadron.venues.polymarket.stream",
    "hadron.arb.detector",
)
"""Modules :func:`hadron.accel.build` compiles (typed by the ``.pxd`` beside the ``.py``, if any)."""

PURE_ENV = "HADRON_PURE"
"""Set to ``1`` to ignore compiled modules in this process."""


class _SourceOnly(MetaPathFinder):
    # Finds hadron's hot modules from their .py only, ahead of the path finder (which would
    # prefer a compiled module next to it)
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in HOT_MODULES or not path:
            return None
        name = fullname.rpartition(".")[2]
        for entry in path:
            source = Path(entry) / f"{name}.py"
            if source.is_file():
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def pure_requested() -> bool:
    """True when ``HADRON_PURE`` asks for the pure-Python modules (``1``, ``true``, ``yes``)."""
    return os.environ.get(PURE_ENV, "").strip().lower() in ("1", "true", "yes")


def install_pure_finder() -> None:
    """Make this process import the hot modules from their ``.py`` files (idempotent).

    Call it before any hot module is imported (``hadron/__init__.py`` does when
    ``HADRON_PURE`` is set)."""
    if not any(isinstance(finder, _SourceOnly) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SourceOnly())
