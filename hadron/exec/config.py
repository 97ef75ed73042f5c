"""The ``[execution]`` table: where orders go, and the switches that keep live trading safe.

::

    [execution]
    mode = "paper"                 # paper (default) | live | dry-run | shadow
    max_order_notional = "50"      # USD per order (limit × size); a table gives each venue its own
    max_orders_per_s = 5           # orders sent per second per venue (beyond: rejected, rate)
    order_group_limit = 0          # Kalshi: contracts per rolling 15 s in one order group (0: none)
    fill_timeout_s = 5             # wait this long for an ended order's fills before asking REST
    cancel_on_shutdown = true      # cancel every resting order on stop (and the kill switch)

* ``paper``: orders fill against the books (:mod:`hadron.exec.paper`); nothing is sent.
* ``live``: orders are sent to the venues. Needs the confirmation variable ``HADRON_LIVE=1`` in
  the environment too (:data:`CONFIRM_VARIABLE`); without it the run refuses to start.
* ``dry-run``: each order is built and signed exactly as it would be sent, logged with every
  secret masked, and not sent (it ends ``rejected``/``dry_run``). Needs credentials, not the
  confirmation.
* ``shadow``: ``live`` plus a paper trader on the same opportunities; the run's report gives their
  divergence (:mod:`hadron.exec.shadow`). Needs the confirmation.

Money is int, 1/10,000,000,000 USD (price × size).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hadron.errors import ConfigError
from hadron.paper.config import money, per_venue

ExecutionMode = Literal["paper", "live", "dry-run", "shadow"]
MODES: tuple[str, ...] = ("paper", "live", "dry-run", "shadow")
CONFIRM_VARIABLE = "HADRON_LIVE"
"""The environment variable that must be ``1`` for ``live`` and ``shadow``."""

DEFAULT_MAX_NOTIONAL = 50 * 10**10
"""$50 per order unless configured (1/10,000,000,000 USD)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionConfig:
    """The ``[execution]`` table, parsed (see the module docstring).

    Attributes:
        mode: :data:`ExecutionMode`.
        max_order_notional: venue → the most one order may commit (limit × size), 1/10,000,000,000 USD.
        max_orders_per_s: venue → orders per second (0: no limit of Hadron's own).
        order_group_limit: Kalshi order-group contracts limit, whole contracts per rolling 15 s (0: no group).
        fill_timeout_s: seconds to wait for an ended order's fills before asking the venue's REST.
        cancel_on_shutdown: cancel resting orders on stop and when the kill switch engages.
        confirmed: the confirmation was given (``HADRON_LIVE=1``, or a loopback-only demo).
    """

    mode: ExecutionMode = "paper"
    max_order_notional: Mapping[str, int] = field(default_factory=dict)
    max_orders_per_s: Mapping[str, float] = field(default_factory=dict)
    order_group_limit: int = 0
    fill_timeout_s: float = 5.0
    cancel_on_shutdown: bool = True
    confirmed: bool = False

    @property
    def sends(self) -> bool:
        """True when orders reach a venue (``live``, ``shadow``)."""
        return self.mode in ("live", "shadow")

    @property
    def live(self) -> bool:
        """True when a live execution client is built (``live``, ``shadow``, ``dry-run``)."""
        return self.mode != "paper"

    def notional_cap(self, venue: str) -> int:
        """The per-order notional cap of ``venue`` (1/10,000,000,000 USD)."""
        return self.max_order_notional.get(venue, DEFAULT_MAX_NOTIONAL)

    def check(self, env: Mapping[str, str]) -> None:
        """Refuse to run live without the confirmation.

        Raises:
            ConfigError: ``mode`` is ``live``/``shadow`` and ``HADRON_LIVE`` is not ``1`` (the
                message names both and the fix).
        """
        if self.sends and not self.confirmed and env.get(CONFIRM_VARIABLE, "") != "1":
            raise ConfigError(
                f'execution.mode = "{self.mode}" sends real orders: set {CONFIRM_VARIABLE}=1 in the environment '
                'to confirm, or use mode = "dry-run" (sign and log, send nothing) or "paper"'
            )


_KNOWN = {"mode", "max_order_notional", "max_orders_per_s", "order_group_limit", "fill_timeout_s", "cancel_on_shutdown"}


def _rate(value: object, setting: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{setting} = {value!r}: expected orders per second, a number ≥ 0")
    return float(value)


def execution_config(table: Mapping[str, Any], *, mode: str | None = None) -> ExecutionConfig:
    """Build :class:`ExecutionConfig` from an ``[execution]`` table (``mode`` overrides the table's).

    Raises:
        ConfigError: an unknown setting, mode, venue or a bad amount (named, with the fix).
    """
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise ConfigError(f"[execution] has unknown settings {unknown}; known: {', '.join(sorted(_KNOWN))}")
    chosen = mode if mode is not None else table.get("mode", "paper")
    if chosen not in MODES:
        raise ConfigError(f"execution.mode = {chosen!r}: use one of {', '.join(MODES)}")
    notional = per_venue(table.get("max_order_notional", "50"), "execution.max_order_notional", money)
    rate = per_venue(table.get("max_orders_per_s", 5), "execution.max_orders_per_s", _rate)
    group_units = table.get("order_group_limit", 0)
    if isinstance(group_units, bool) or not isinstance(group_units, int) or group_units < 0:
        raise ConfigError(f"execution.order_group_limit = {group_units!r}: expected whole contracts ≥ 0, e.g. 100")
    timeout = table.get("fill_timeout_s", 5.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"execution.fill_timeout_s = {timeout!r}: expected seconds > 0")
    cancel = table.get("cancel_on_shutdown", True)
    if not isinstance(cancel, bool):
        raise ConfigError(f"execution.cancel_on_shutdown = {cancel!r}: expected true or false")
    return ExecutionConfig(
        mode=chosen,  # type: ignore[arg-type]
        max_order_notional=notional,
        max_orders_per_s=rate,
        order_group_limit=group_units,
        fill_timeout_s=float(timeout),
        cancel_on_shutdown=cancel,
    )
