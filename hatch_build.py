"""Wheel build hook: compile Hadron's hot modules with Cython into a platform wheel.

Hatchling runs this for ``pip install .``, ``pip wheel .`` and ``python -m build`` (from the
checkout or the sdist). The hot modules listed in ``hadron/_pure.py`` are compiled from the same
``.py`` and ``.pxd`` files into a temporary folder and added to the wheel beside their ``.py``
files, which stay as the fallback; the wheel is then tagged for this interpreter and platform.
Nothing is written into the source tree.

Without Cython, setuptools or a working C compiler (or with ``HADRON_BUILD_PURE=1``) the hook
prints one warning line and the wheel is pure Python (``py3-none-any``). Editable installs are
left pure: a developer compiles in place with ``python -m hadron.accel build`` (``make compile``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PURE_ENV = "HADRON_BUILD_PURE"


def _load_cbuild(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location("_hadron_cbuild", root / "hadron" / "_cbuild.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CythonBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled hot modules to the wheel, or leaves it pure with one warning."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._temp: str | None = None
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get(PURE_ENV, "").strip().lower() in ("1", "true", "yes"):
            self._warn(f"{PURE_ENV}=1")
            return
        root = Path(self.root)
        cbuild = _load_cbuild(root)
        self._temp = tempfile.mkdtemp(prefix="hadron-wheel-")
        temp = Path(self._temp)
        try:
            written = cbuild.compile_modules(
                root,
                cbuild.hot_modules(root),
                build_lib=temp / "lib",
                build_temp=temp / "obj",
                c_dir=temp / "c",
            )
        except cbuild.CompilerUnavailable as exc:
            self._warn(str(exc))
            return
        except Exception as exc:  # a compiler that starts and then fails: still a pure wheel
            self._warn(f"{type(exc).__name__}: {exc}")
            return
        for path in written:
            build_data["force_include"][str(path)] = path.relative_to(temp / "lib").as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if getattr(self, "_temp", None):
            shutil.rmtree(self._temp or "", ignore_errors=True)

    @staticmethod
    def _warn(reason: str) -> None:
        reason = " ".join(reason.split())
        print(f"WARNING: hadron: building a pure-Python wheel (hot modules not compiled: {reason})", file=sys.stderr)
