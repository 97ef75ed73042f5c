"""Compile the hot modules with Cython: shared by the wheel build hook and ``hadron.accel``.

This module imports nothing from Hadron, so the build hook (``hatch_build.py``) loads it by path
before Hadron is installed. Cython reads each hot module's ``.py`` with the ``.pxd`` beside it and
writes C into ``c_dir``; setuptools' ``build_ext`` compiles it into ``build_lib`` (the package
layout: ``build_lib/hadron/book/l2.<abi>.so``). Nothing is written beside the sources unless
``build_lib`` is the source root (the developer's in-place build).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COMPILE_ARGS = ("-O2", "-g0", "-Wno-array-bounds", "-Wno-maybe-uninitialized")
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True}


class CompilerUnavailable(RuntimeError):
    """Cython, setuptools or a working C compiler (with the Python headers) is missing."""


def _tools() -> tuple[Any, Any, Any]:
    try:
        cythonize = importlib.import_module("Cython.Build").cythonize
        extension = importlib.import_module("setuptools").Extension
        distribution = importlib.import_module("setuptools.dist").Distribution
    except ImportError as exc:
        raise CompilerUnavailable(f"{exc.name or exc} is not installed") from None
    return cythonize, extension, distribution


def check_compiler(temp: Path) -> None:
    """Compile a one-line C file that includes ``Python.h``; raise :class:`CompilerUnavailable` if that fails.

    Cheap (one compiler call), so a machine without a compiler falls back at once instead of
    after Cython has translated every module.
    """
    _tools()
    temp.mkdir(parents=True, exist_ok=True)
    probe = temp / "hadron_probe.c"
    probe.write_text("#include <Python.h>\nint hadron_probe(void) { return 0; }\n")
    ccompiler = importlib.import_module("setuptools._distutils.ccompiler")
    customize = importlib.import_module("setuptools._distutils.sysconfig").customize_compiler
    compiler = ccompiler.new_compiler()
    customize(compiler)
    try:
        with contextlib.chdir(temp):
            compiler.compile([probe.name], output_dir=".", include_dirs=[sysconfig.get_paths()["include"]])
    except Exception as exc:  # CompileError, DistutilsExecError, OSError: all mean "no compiler"
        cc = (getattr(compiler, "compiler_so", None) or ["cc"])[0]
        reason = f"the C compiler {cc!r} cannot build a Python extension ({type(exc).__name__})"
        raise CompilerUnavailable(reason) from None


def compile_modules(
    root: Path,
    modules: Sequence[str],
    *,
    build_lib: Path,
    build_temp: Path,
    c_dir: Path | None,
    quiet: bool = True,
) -> list[Path]:
    """Compile ``modules`` (dotted names under ``root``); return the extension files written.

    ``c_dir`` receives the generated C (``None``: beside the sources); ``build_lib`` the
    extensions in package layout; ``build_temp`` the object files.

    Raises:
        CompilerUnavailable: Cython, setuptools or the C compiler is missing.
        Cython.Compiler.Errors.CompileError: a ``.pxd`` disagrees with its module.
    """
    cythonize, extension, distribution = _tools()
    check_compiler(build_temp)
    sources = [root / (name.replace(".", "/") + ".py") for name in modules]
    extensions = [
        extension(name, [str(source)], extra_compile_args=list(COMPILE_ARGS))
        for name, source in zip(modules, sources, strict=True)
    ]
    options: dict[str, Any] = {"compiler_directives": DIRECTIVES, "quiet": quiet}
    if c_dir is not None:
        options["build_dir"] = str(c_dir)
    cwd = Path.cwd()
    os.chdir(root)  # Cython names the modules from paths relative to the package root
    try:
        compiled = cythonize(extensions, **options)
        # a bare Distribution: setuptools must not read pyproject.toml (hatchling builds the wheel)
        dist = distribution(
            {"name": "hadron-accel", "ext_modules": compiled, "script_name": "accel", "script_args": []}
        )
        command = dist.get_command_obj("build_ext")
        command.build_lib = str(build_lib)
        command.build_temp = str(build_temp)
        command.parallel = os.cpu_count() or 1
        command.ensure_finalized()
        command.run()
        return [Path(path) if Path(path).is_absolute() else root / path for path in command.get_outputs()]
    finally:
        os.chdir(cwd)


def hot_modules(root: Path) -> tuple[str, ...]:
    """:data:`hadron._pure.HOT_MODULES`, read from the source tree without importing Hadron."""
    spec = importlib.util.spec_from_file_location("_hadron_pure_for_build", root / "hadron" / "_pure.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.HOT_MODULES)


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - a developer's shortcut
    """``python hadron/_cbuild.py DEST``: compile the hot modules into DEST (package layout)."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(__file__).resolve().parent.parent
    dest = Path(args[0]) if args else root
    with tempfile.TemporaryDirectory() as temp:
        written = compile_modules(
            root, hot_modules(root), build_lib=dest, build_temp=Path(temp), c_dir=Path(temp) / "c"
        )
    print(f"compiled {len(written)} modules into {dest}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
