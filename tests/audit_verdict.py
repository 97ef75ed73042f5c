"""``make audit``'s verdict on pip-audit's JSON report: ``python tests/audit_verdict.py audit.json requirements.lock``.

Exit status and the one line printed:

* 1, ``pip-audit: N known vulnerabilities …``: a locked dependency has one (always, waiver or not);
* 1, ``pip-audit: NOT AUDITED …`` (or ``PARTIALLY AUDITED``): the vulnerability service answered
  for none (some) of the locked dependencies, or there is no report; 0 instead, saying it is no
  audit, when ``HADRON_AUDIT_OFFLINE_OK=1`` waives it (an offline machine, e.g. this CI);
* 0, ``pip-audit: N of N locked dependencies audited, no known vulnerability``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

WAIVER = "HADRON_AUDIT_OFFLINE_OK"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(lock: Path) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` pin in ``lock``."""
    return {canonical(m[1]): m[2] for m in _PIN.finditer(lock.read_text())}


def verdict(report: dict[str, Any] | None, pins: dict[str, str], waived: bool) -> tuple[int, str]:
    """``(exit status, one line)`` for pip-audit's ``report`` (``None``: none was written)."""
    deps: list[dict[str, Any]] = report.get("dependencies", []) if report else []
    vulnerable = [d for d in deps if d.get("vulns")]
    if vulnerable:
        found = "; ".join(
            f"{d['name']} {d.get('version', '?')}: {', '.join(v['id'] for v in d['vulns'])}" for d in vulnerable
        )
        return (
            1,
            f"pip-audit: {sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities in {len(vulnerable)} locked dependencies ({found})",
        )
    audited = {canonical(d["name"]) for d in deps if not d.get("skip_reason")}
    missing = sorted(set(pins) - audited)
    if not missing:
        return 0, f"pip-audit: {len(pins)} of {len(pins)} locked dependencies audited, no known vulnerability"
    reasons = sorted({d["skip_reason"] for d in deps if d.get("skip_reason")})
    why = f" (the service said: {reasons[0]})" if reasons else "" if report else " (pip-audit wrote no report)"
    kind = "NOT AUDITED" if not audited & set(pins) else "PARTIALLY AUDITED"
    line = (
        f"pip-audit: {kind}: the vulnerability service answered for {len(audited & set(pins))} of the {len(pins)}"
        f" locked dependencies{why}; not audited: {', '.join(missing[:8])}"
        f"{f' and {len(missing) - 8} more' if len(missing) > 8 else ''}"
    )
    if waived:
        return 0, f"{line}. Waived by {WAIVER}=1: this run is not an audit"
    return 1, f"{line}. Run it where the service is reachable, or set {WAIVER}=1 to accept that offline"


def main(argv: list[str]) -> int:
    report_path, lock_path = Path(argv[1]), Path(argv[2])
    try:
        report: dict[str, Any] | None = json.loads(report_path.read_text())
    except (OSError, ValueError):
        report = None
    status, line = verdict(report, locked(lock_path), os.environ.get(WAIVER) == "1")
    print(line)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
