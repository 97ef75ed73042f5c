"""What ``hadron run --config`` assembles, and what ``hadron config check`` checks before it.

:func:`prepare_runtime` loads ``hadron.toml``, lays the command line's overrides over
``runtime.*``, checks the server's port is free before any store or feed opens, configures
logging and builds the :class:`hadron.app.runtime.Runtime` (or one of its roles);
:func:`check_config` validates a configuration file the way a run would read it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hadron import logs
from hadron.errors import ConfigError

if TYPE_CHECKING:
    from hadron.app.runtime import Runtime
    from hadron.config import HadronConfig
    from hadron.exec.config import ExecutionConfig


def parse_shard(text: str | None) -> tuple[int, int]:
    """``--shard I/N`` (0-based) as ``(I, N)``; ``(0, 1)`` when not given.

    Raises:
        ConfigError: ``text`` is not ``I/N`` with N >= 1.
    """
    if text is None:
        return 0, 1
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and int(count) >= 1):
        raise ConfigError(f"--shard {text!r}: use I/N, e.g. 0/2 and 1/2 for two ingest processes")
    return int(index), int(count)


def prepare_runtime(
    config_path: Path | None,
    log_level: str | None,
    *,
    role: str = "all",
    bus: str | None = None,
    record: Path | None = None,
    opportunities: Path | None = None,
    venues: list[str] | None = None,
    shard: str | None = None,
    source_id: str | None = None,
    durable: str | None = None,
    subjects: str = ">",
    port: int | None = None,
) -> Runtime:
    """The runtime ``hadron run --config`` runs (not started: ``await runtime.run()``).

    ``bus``, ``record``, ``opportunities`` and ``port`` override ``runtime.bus``,
    ``runtime.record_dir``, ``runtime.opportunities`` and ``runtime.port``; ``log_level``
    overrides ``runtime.log_level``. With a port, it is checked free (on ``runtime.host``)
    before the stores and feeds open; ``runtime.url`` is then the dashboard's URL.

    Raises:
        ConfigError: the file, an override or ``--shard`` is wrong, or the port is busy.
        HadronError: the runtime could not be built from the settings.
    """
    from hadron.app.ports import check_listen
    from hadron.app.runtime import Runtime
    from hadron.config import load_config

    cfg = load_config(config_path)
    overrides = {"bus": bus, "record_dir": str(record) if record else None,
                 "opportunities": str(opportunities) if opportunities else None, "port": port}  # fmt: skip
    changes: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if changes:
        cfg = dataclasses.replace(cfg, runtime=dataclasses.replace(cfg.runtime, **changes))
    if cfg.runtime.port:
        check_listen(cfg.runtime.host, cfg.runtime.port, "--port" if port else "runtime.port", "no server")
    logs.configure(log_level or cfg.runtime.log_level)
    return Runtime(cfg, role=role, source_id=source_id, durable=durable, subjects=subjects, venues=venues,
                   shard=parse_shard(shard))  # fmt: skip


def check_config(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Validate the configuration file ``path``: every section, the [paper], [risk] and
    [execution] tables, the pairs file and the Kalshi keys (present, and not readable by
    others: a warning); a mode that sends real orders is noted with the confirmation it needs.

    Returns:
        The effective configuration (secrets masked, :func:`hadron.config.effective`) and notes
        for the operator, one line each (counts, warnings, what is missing for a run).

    Raises:
        HadronError: the first problem found (a :class:`ConfigError` for settings and files).
    """
    from hadron.app.control import is_loopback
    from hadron.arb.terms import load_arb_config
    from hadron.config import effective, load_config
    from hadron.exec.config import execution_config
    from hadron.paper.config import paper_config, risk_limits

    cfg = load_config(path)
    paper_config(cfg.tables.get("paper", {}))
    risk_limits(cfg.tables.get("risk", {}))
    execution = execution_config(cfg.tables.get("execution", {}))
    notes: list[str] = []
    _check_execution(cfg, execution, notes)
    if cfg.runtime.pairs:
        arb = load_arb_config(Path(cfg.runtime.pairs))
        notes.append(f"pairs: {sum(p.tradeable for p in arb.pairs)} approved, {len(arb.outcome_sets)} outcome sets")
        if execution.live:
            notes += _check_gateways(cfg, sorted({leg.venue for p in arb.pairs if p.tradeable for leg in p.legs}))
    else:
        notes.append("runtime.pairs is not set: hadron run --config needs it")
    key_files = [("kalshi.private_key_path", cfg.kalshi.private_key_path)]
    key_files += [(f"kalshi.keys[{i}].private_key_path", k.private_key_path) for i, k in enumerate(cfg.kalshi.keys)]
    for setting, key in key_files:
        if not key:
            continue
        key_path = Path(key).expanduser()
        if not key_path.is_file():
            raise ConfigError(f"{setting} {key}: no such file")
        if key_path.stat().st_mode & 0o077:
            notes.append(f"warning: {key} is readable by group or others; chmod 600 it")
    if not cfg.kalshi.private_key_path and not cfg.kalshi.private_key and not cfg.kalshi.keys:
        notes.append("kalshi: no private key set (KALSHI_PRIVATE_KEY_PATH or kalshi.private_key_path)")
    elif cfg.kalshi.keys:
        notes.append(f"kalshi: a pool of {len(cfg.kalshi.keys) + bool(cfg.kalshi.api_key_id)} keys")
    if not is_loopback(cfg.runtime.host) and not cfg.runtime.control_token:
        raise ConfigError(f"runtime.host is {cfg.runtime.host}: set runtime.control_token (or HADRON_CONTROL_TOKEN)")
    shown = effective(cfg)
    shown["execution"] = {  # every setting in force, defaults included (money: USD)
        "mode": execution.mode,
        "max_order_notional": {v: str(n / 10**10) for v, n in execution.max_order_notional.items()},
        "max_orders_per_s": dict(execution.max_orders_per_s),
        "order_group_limit": execution.order_group_limit,
        "fill_timeout_s": execution.fill_timeout_s,
        "cancel_on_shutdown": execution.cancel_on_shutdown,
    }
    return shown, notes


def _check_execution(cfg: HadronConfig, execution: ExecutionConfig, notes: list[str]) -> None:
    # What a live, shadow or dry-run mode needs before hadron run would start
    from hadron.exec.config import CONFIRM_VARIABLE

    if execution.live and not cfg.runtime.paper:
        raise ConfigError(f'execution.mode = "{execution.mode}" needs the trader: set runtime.paper = true')
    if execution.sends:
        notes.append(f'execution.mode = "{execution.mode}" sends real orders: hadron run needs {CONFIRM_VARIABLE}=1')
    if execution.live and not cfg.runtime.state:
        raise ConfigError(
            f'execution.mode = "{execution.mode}" journals every order before sending it: '
            'set runtime.state (e.g. "sqlite:///hadron-state.db")'
        )


def _check_gateways(cfg: HadronConfig, venues: list[str]) -> list[str]:
    # Each traded venue's order gateway built as a live run builds it (credentials read, keys
    # loaded; nothing sent): a missing key is the ConfigError hadron run would give
    from hadron.venues.base import ExecutionVenue, get_venue

    for venue in venues:
        adapter = get_venue(venue)
        if not isinstance(adapter, ExecutionVenue):
            raise ConfigError(f"execution.mode sends orders, but venue {venue} cannot take orders")
        adapter.order_gateway(cfg, dry_run=True)
    return [f"execution: order gateways ready for {', '.join(venues)} (credentials read, nothing sent)"]
