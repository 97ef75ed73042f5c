"""Compiled hot modules: Cython builds of the hot path, with the pure-Python modules as fallback.

The hot path (fixed-point parsing, L2 books, book manager, feed counters, venue streams and
normalizers, arbitrage detector) is plain Python. Each of its modules in :data:`HOT_MODULES` can
also be compiled by Cython, in place, next to its ``.py``: Cython reads the module's ``.pxd``
(``hadron/book/l2.pxd`` …), which declares its classes as extension types with typed attributes
and typed locals for the hot methods, and compiles the unchanged ``.py`` file. Python imports the
compiled module when it exists and the ``.py`` otherwise, so the two builds run the same code and
the same tests, except where a normalizer tests ``cython.compiled`` (true only in the compiled
build) to read decimals character by character (:func:`hadron.model.units.scan_fixed`), which
only pays off compiled, instead of looking them up in the parsers' caches; property tests check
the scanners against the parsers, and ``tests/unit/test_accel.py`` compares both builds event by
event.

* ``python -m hadron.accel build``: compile in place (``make venv`` does it; needs Cython, a C
  compiler and the Python headers; nothing changes when they are missing);
* ``python -m hadron.accel status``: which hot modules were loaded compiled;
* ``python -m hadron.accel clean``: remove the compiled modules (back to pure Python);
* ``HADRON_PURE=1`` in the environment: ignore compiled modules in this process (pure Python
  even where a build exists), for comparisons and to test the fallback.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hadron._pure import HOT_MODULES, PURE_ENV, install_pure_finder, pure_requested

__all__ = [
    "HOT_MODULES",
    "PURE_ENV",
    "build",
    "built",
    "clean",
    "compiled",
    "describe",
    "install_pure_finder",
    "pure_requested",
]


_ROOT = Path(__file__).resolve().parent.parent
_EXTENSIONS = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def compiled() -> dict[str, bool]:
    """Hot module → whether the loaded (or, if not imported yet, importable) module is compiled."""
    out: dict[str, bool] = {}
    for name in HOT_MODULES:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module is not None else None
        if origin is None:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
        out[name] = bool(origin) and str(origin).endswith(_EXTENSIONS)
    return out


def describe() -> str:
    """One line for reports: ``"compiled (Cython): 9/9 hot modules"`` or ``"pure Python"``."""
    flags = compiled()
    count = sum(flags.values())
    if not count:
        return "pure Python" + (f" ({PURE_ENV}=1)" if pure_requested() else "")
    return f"compiled (Cython): {count}/{len(flags)} hot modules"


def _sources() -> list[Path]:
    return [_ROOT / (name.replace(".", "/") + ".py") for name in HOT_MODULES]


def build(*, quiet: bool = True) -> list[Path]:
    """Compile :data:`HOT_MODULES` in place with Cython; return the extension files written.

    Raises:
        ImportError: Cython or setuptools is not installed (``pip install -e '.[fast]'``).
        Cython.Compiler.Errors.CompileError: a ``.pxd`` disagrees with its module (Cython's
            output above says where); setuptools' ``CompileError``: the C compiler failed.
    """
    # build-time tools, untyped: imported by name
    cythonize: Any = importlib.import_module("Cython.Build").cythonize
    Extension: Any = importlib.import_module("setuptools").Extension
    Distribution: Any = importlib.import_module("setuptools.dist").Distribution

    extensions = [
        Extension(name, [str(source)], extra_compile_args=["-O2", "-Wno-array-bounds", "-Wno-maybe-uninitialized"])
        for name, source in zip(HOT_MODULES, _sources(), strict=True)
    ]
    modules = cythonize(
        extensions,
        compiler_directives={"language_level": 3, "annotation_typing": False, "binding": True},
        quiet=quiet,
    )
    temp = _ROOT / "build" / "accel"
    # a bare Distribution: setuptools must not read pyproject.toml (hatchling builds the wheel)
    dist = Distribution({"name": "hadron-accel", "ext_modules": modules, "script_name": "accel", "script_args": []})
    command = dist.get_command_obj("build_ext")
    command.build_lib = str(_ROOT)
    command.build_temp = str(temp)
    command.parallel = os.cpu_count() or 1
    command.ensure_finalized()
    command.run()
    return [Path(path) for path in command.get_outputs()]


def _build_files() -> list[Path]:
    # what build() leaves beside the hot modules: compiled modules and generated C files
    return [
        path
        for source in _sources()
        for path in source.parent.glob(source.stem + ".*")
        if path.suffix == ".c" or path.name.endswith(_EXTENSIONS)
    ]


def built() -> bool:
    """True when a compiled module sits beside any hot module (loaded by this process or not)."""
    return any(path.name.endswith(_EXTENSIONS) for path in _build_files())


def clean() -> list[Path]:
    """Remove the compiled hot modules and their generated C files; return what was removed."""
    removed = _build_files()
    for path in removed:
        path.unlink()
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hadron.accel build|status|clean``."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "status"
    if command == "build":
        try:
            written = build()
        except ImportError as exc:
            print(f"hadron.accel: not compiled ({exc}); pip install -e '.[fast]' for Cython. Pure Python is used.")
            return 1
        print(f"hadron.accel: compiled {len(written)} hot modules in place")
        return 0
    if command == "clean":
        print(f"hadron.accel: removed {len(clean())} files")
        return 0
    if command == "status":
        for name, flag in compiled().items():
            print(f"{name:40} {'compiled' if flag else 'pure Python'}")
        print(describe())
        return 0
    print("usage: python -m hadron.accel build|status|clean")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
