"""Compiled hot modules: Cython builds of the hot path, with the pure-Python modules as fallback.

The hot path (fixed-point parsing, L2 books, book manager, feed counters, venue streams and
normalizers, arbitrage detector) is plain Python. Each of its modules in :data:`HOT_MODULES` is
also compiled by Cython: Cython reads the module's ``.pxd`` (``hadron/book/l2.pxd`` …), which
declares its classes as extension types with typed attributes and typed locals for the hot
methods, and compiles the unchanged ``.py`` file. Python imports the compiled module when it
exists and the ``.py`` otherwise, so the two builds run the same code and the same tests, except
where a normalizer tests ``cython.compiled`` (true only in the compiled build) to read decimals
character by character (:func:`hadron.model.units.scan_fixed`) and where the Kalshi stream reads
delta frames in place instead of decoding them (:meth:`hadron.venues.kalshi.stream.KalshiStream.scan`,
on by default in the compiled build only); property tests check the scanners against the parsers
and the decoder (``tests/integration/test_kalshi_scan.py`` in either build), and
``tests/unit/test_accel.py`` compares both builds event by event.

Where the compiled modules come from:

* **a wheel** (``pip install hadron-markets``, ``pip install .``, ``pip wheel .``): the build hook
  (``hatch_build.py``) compiles them into the platform wheel; without a C compiler the wheel is
  pure Python (one warning line while building). An installed Hadron never compiles anything and
  never writes into its own folder;
* **a source checkout** (``make venv``, an editable install): ``python -m hadron.accel build``
  compiles in place, beside the ``.py`` files (``make compile``), for the developer loop.

Commands:

* ``python -m hadron.accel status``: which hot modules are loaded compiled (``--require``: exit 1
  unless all are);
* ``python -m hadron.accel build``: the developer's in-place build (a source checkout only; no C
  compiler: one warning line, exit 0, pure Python stays);
* ``python -m hadron.accel clean``: remove the in-place build (back to pure Python);
* ``HADRON_PURE=1`` in the environment: ignore compiled modules in this process (pure Python
  even where a build exists), for comparisons and to test the fallback.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

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


def source_checkout() -> bool:
    """True when Hadron runs from a source checkout (``pyproject.toml`` beside the package).

    An installed Hadron (from a wheel, in site-packages) is False: it is never built in place."""
    return (_ROOT / "pyproject.toml").is_file() and (_ROOT / "hatch_build.py").is_file()


def build(*, quiet: bool = True) -> list[Path]:
    """Compile :data:`HOT_MODULES` in place with Cython (a source checkout only); return the extensions written.

    Raises:
        hadron._cbuild.CompilerUnavailable: Cython, setuptools or a C compiler (with the Python
            headers) is missing.
        RuntimeError: this is an installed Hadron, not a source checkout.
        Cython.Compiler.Errors.CompileError: a ``.pxd`` disagrees with its module (Cython's
            output above says where).
    """
    from hadron import _cbuild

    if not source_checkout():
        raise RuntimeError(
            f"{_ROOT / 'hadron'} is an installed package, not a source checkout: it is never compiled in place "
            "(a wheel brings its compiled modules: pip install --force-reinstall --no-deps hadron-markets)"
        )
    return _cbuild.compile_modules(
        _ROOT, HOT_MODULES, build_lib=_ROOT, build_temp=_ROOT / "build" / "accel", c_dir=None, quiet=quiet
    )


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
        from hadron._cbuild import CompilerUnavailable

        try:
            written = build()
        except CompilerUnavailable as exc:
            print(f"hadron.accel: WARNING: not compiled, pure Python is used ({exc})")
            return 0
        except RuntimeError as exc:
            print(f"hadron.accel: {exc}")
            return 2
        print(f"hadron.accel: compiled {len(written)} hot modules in place")
        return 0
    if command == "clean":
        if not source_checkout():
            print("hadron.accel: an installed package has no in-place build to clean (pip uninstall removes it all)")
            return 2
        print(f"hadron.accel: removed {len(clean())} files")
        return 0
    if command == "status":
        flags = compiled()
        for name, flag in flags.items():
            print(f"{name:40} {'compiled' if flag else 'pure Python'}")
        print(describe())
        return 1 if "--require" in args and not all(flags.values()) else 0
    print("usage: python -m hadron.accel status [--require] | build | clean")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
