"""Fault specs for the loopback venues: ``KIND@N[:ARG]`` items, comma-separated.

``N`` is the position in the capture (frame or message index) at which the fault fires; ``ARG`` a
number whose meaning depends on the kind (seconds of silence, an error code). Each venue lists
its kinds and their default arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hadron.errors import ConfigError


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``kind`` at capture position ``at`` with an optional argument."""

    kind: str
    at: int
    arg: float = 0.0


def parse_faults(spec: str, kinds: Mapping[str, float]) -> list[Fault]:
    """Parse ``"drop@2000,silence@5000:10"`` into faults sorted by position.

    Args:
        spec: the ``--faults`` option.
        kinds: the venue's fault kinds and each one's default argument.

    Raises:
        ConfigError: an unknown kind, a position that is not a whole number, or an argument that
            is not a number; the message names the item and the grammar.
    """
    faults: list[Fault] = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, rest = item.partition("@")
        at, _, arg = rest.partition(":")
        if kind not in kinds or not at.isdigit():
            raise ConfigError(f"--faults item {item!r}: use KIND@N[:ARG] with KIND one of {', '.join(kinds)}")
        try:
            value = float(arg) if arg else kinds[kind]
        except ValueError as exc:
            raise ConfigError(f"--faults item {item!r}: {arg!r} is not a number") from exc
        faults.append(Fault(kind, int(at), value))
    return sorted(faults, key=lambda f: f.at)
