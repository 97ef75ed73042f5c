"""Hadron as a package: the wheel the standard build makes, its no-compiler fallback and the sdist.

The compiled wheel is built from this checkout by the build hook (``hatch_build.py``) with
``pip wheel --no-build-isolation`` (the venv has hatchling and Cython), installed with
``--no-deps`` into a fresh venv that sees the dependencies of ``.venv`` through a ``.pth`` file
(no network), and then: it reports the compiled build without any build step of its own, replays a
real capture, writes nothing into site-packages, and uninstalls leaving nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PY = sys.executable
FIXTURE = REPO / "tests" / "fixtures" / "kalshi" / "KXGOLD15M-26AUG102130-30_reconnect.ndjson.gz"
WARNING = "WARNING: hadron: building a pure-Python wheel"

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / "hatch_build.py").is_file(), reason="needs the source checkout"
)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if "__pycache__" not in p.parts}


def _wheel(tmp: Path, **env: str) -> tuple[Path, str]:
    before = _tree(REPO / "hadron")
    result = subprocess.run(
        [PY, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert _tree(REPO / "hadron") == before, "the build wrote into the source tree"
    (wheel,) = tmp.glob("hadron_markets-*.whl")
    return wheel, result.stdout + result.stderr


def test_no_compiler_gives_a_pure_wheel_with_one_warning(tmp_path: Path) -> None:
    wheel, output = _wheel(tmp_path, CC="/bin/false")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    warnings = [line for line in output.splitlines() if WARNING in line]
    assert len(warnings) == 1, warnings
    assert "/bin/false" in warnings[0]
    assert "Traceback" not in output
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.endswith((".so", ".c", ".pyd"))]
    assert "hadron/book/l2.py" in names


def test_pure_wheel_on_request(tmp_path: Path) -> None:
    wheel, output = _wheel(tmp_path, HADRON_BUILD_PURE="1")
    assert wheel.name.endswith("-py3-none-any.whl")
    assert sum(WARNING in line for line in output.splitlines()) == 1


def test_sdist_carries_what_the_compiled_build_needs(tmp_path: Path) -> None:
    subprocess.run(
        [str(Path(PY).parent / "hatchling"), "build", "-t", "sdist", "-d", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = tmp_path.glob("hadron_markets-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.partition("/")[2] for name in tar.getnames()}
    pxd = {str(p.relative_to(REPO)) for p in (REPO / "hadron").rglob("*.pxd")}
    assert pxd and pxd <= names
    assert {"hatch_build.py", "hadron/_cbuild.py", "hadron/_pure.py", "pyproject.toml", "LICENSE"} <= names
    assert not [n for n in names if n.endswith((".so", ".c")) or "__pycache__" in n or n.startswith(".venv")]


def test_compiled_wheel_installs_replays_and_uninstalls_clean(tmp_path: Path) -> None:
    wheel, _ = _wheel(tmp_path / "dist")
    assert "-cp3" in wheel.name and "none-any" not in wheel.name, wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert len([n for n in names if n.endswith(".so")]) == 10
    assert not [n for n in names if n.endswith(".c")]

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    # the dependencies of .venv, seen through a .pth (their own .pth files, such as the editable
    # install of this checkout, are not processed from there)
    (site / "zz_hadron_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], check=True, timeout=300)
    installed = {str(p) for p in site.rglob("*") if "__pycache__" not in p.parts}
    work = tmp_path / "work"
    work.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HADRON_PURE")}

    def run(*args: str) -> str:
        out = subprocess.run(
            [python, *args], cwd=work, env=clean_env, capture_output=True, text=True, timeout=300, check=False
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    where = run("-c", "import hadron; print(hadron.__file__)")
    assert where.startswith(str(site)), where
    assert "compiled (Cython): 10/10" in run("-m", "hadron.accel", "status", "--require")
    version = wheel.name.split("-")[1]
    assert run("-m", "hadron", "--version").startswith(f"hadron-markets {version} (compiled")
    assert (env_dir / "bin" / "hadron").exists()
    report = run("-m", "hadron", "replay", str(FIXTURE))
    assert "decode errors 0" in report
    # the installed package is never compiled in place
    refused = subprocess.run(
        [python, "-m", "hadron.accel", "build"], cwd=work, env=clean_env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2 and "installed package" in refused.stdout
    after = {str(p) for p in site.rglob("*") if "__pycache__" not in p.parts}
    assert after == installed, sorted(after ^ installed)

    subprocess.run([python, "-m", "pip", "uninstall", "-y", "hadron-markets"], check=True, capture_output=True)
    left = [p for p in site.iterdir() if p.name.startswith(("hadron", "hadron_markets"))]
    assert not left, left
    assert not (env_dir / "bin" / "hadron").exists()


def test_in_place_build_without_a_compiler_is_one_warning(tmp_path: Path) -> None:
    before = _tree(REPO / "hadron")
    out = subprocess.run(
        [PY, "-m", "hadron.accel", "build"],
        cwd=REPO,
        env={**os.environ, "CC": "/bin/false"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hadron.accel: WARNING: not compiled, pure Python is used"), lines
    assert _tree(REPO / "hadron") == before
