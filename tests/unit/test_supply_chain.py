"""Issue 19 item 9: the supply chain.

``requirements.lock`` pins every dependency with the sha256 of its files and ``make venv`` installs
only from it (hashes required, the project itself without dependencies); ``make audit`` never
passes an audit that did not happen (0 audited is NOT AUDITED: a failure unless
``HADRON_AUDIT_OFFLINE_OK=1``), and ``.ci/run`` sets that waiver on purpose.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from audit_verdict import WAIVER, locked, verdict  # noqa: E402

LOCK = ROOT / "requirements.lock"


def requirements(lock: Path) -> list[str]:
    """The lock's requirements, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", lock.read_text())
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_every_locked_dependency_is_pinned_with_hashes() -> None:
    reqs = requirements(LOCK)
    assert len(reqs) >= 60
    for req in reqs:
        assert re.match(r"^[A-Za-z0-9._-]+==\S+", req), req
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", req), f"no hash: {req}"
    names = {r.split("==")[0].lower() for r in reqs}
    assert {"hatchling", "editables", "setuptools", "cython", "pip"} <= names  # the build needs no other download


def test_make_venv_installs_the_hashed_lock_then_the_project_without_deps() -> None:
    makefile = (ROOT / "Makefile").read_text()
    # make venv depends on the stamp rule, which builds the venv when the lock or pyproject changes
    assert "\nvenv: $(STAMP)" in makefile
    assert "$(STAMP): requirements.lock pyproject.toml" in makefile
    venv = makefile.split("\n$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes" in venv and "-r requirements.lock" in venv
    assert "--no-deps --no-build-isolation -e ." in venv
    assert "-c requirements.lock" not in venv and "--upgrade pip" not in venv


PINS = {"msgspec": "0.23.0", "duckdb": "2.0.1"}
SKIPPED = {
    "dependencies": [
        {"name": "msgspec", "skip_reason": "Dependency not found on PyPI and could not be audited: msgspec (0.23.0)"},
        {"name": "duckdb", "skip_reason": "Dependency not found on PyPI and could not be audited: duckdb (2.0.1)"},
    ]
}


def test_zero_audited_is_not_audited_and_fails_without_the_waiver() -> None:
    status, line = verdict(SKIPPED, PINS, waived=False)
    assert status == 1 and line.startswith("pip-audit: NOT AUDITED: the vulnerability service answered for 0 of the 2")
    assert WAIVER in line
    status, line = verdict(SKIPPED, PINS, waived=True)
    assert status == 0 and "NOT AUDITED" in line and "this run is not an audit" in line
    assert verdict(None, PINS, waived=False)[0] == 1  # no report at all


def test_a_known_vulnerability_fails_even_with_the_waiver() -> None:
    report = {
        "dependencies": [
            {"name": "msgspec", "version": "0.23.0", "vulns": [{"id": "PYSEC-0000-1"}]},
            {"name": "duckdb", "skip_reason": "not found"},
        ]
    }
    status, line = verdict(report, PINS, waived=True)
    assert status == 1 and "PYSEC-0000-1" in line


def test_a_full_audit_passes_and_a_partial_one_does_not() -> None:
    full = {"dependencies": [{"name": n, "version": v, "vulns": []} for n, v in PINS.items()]}
    assert verdict(full, PINS, waived=False) == (
        0,
        "pip-audit: 2 of 2 locked dependencies audited, no known vulnerability",
    )
    partial = {"dependencies": [full["dependencies"][0], SKIPPED["dependencies"][1]]}
    status, line = verdict(partial, PINS, waived=False)
    assert status == 1 and "PARTIALLY AUDITED" in line and "duckdb" in line


def test_lock_parsing_reads_every_pin() -> None:
    pins = locked(LOCK)
    assert pins["msgspec"] and len(pins) == len(requirements(LOCK))


@pytest.mark.parametrize("path", [".ci/run"])
def test_ci_sets_the_offline_waiver_on_purpose(path: str) -> None:
    text = (ROOT / path).read_text()
    assert f"{WAIVER}=1 make audit" in text
    assert "not an audit" in text or "NOT AUDITED" in text  # the choice is explained beside it
