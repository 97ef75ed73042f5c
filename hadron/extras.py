"""Optional extras: the features a core install leaves out, and the one line that names each.

A core install (``pip install hadron-markets``) covers live data, L2 books, arbitrage, paper
trading, recording, replay, the SQLite state store and the dashboard. These features need an
extra:

=============  =======================================  =================================
extra          installs                                 for
=============  =======================================  =================================
``parquet``    pyarrow, duckdb                          the Parquet tick store, ``hadron query``,
                                                        Arrow tables of ticks
``pandas``     pandas (and ``parquet``)                 pandas DataFrames of ticks and books
``postgres``   psycopg                                  the PostgreSQL state store
``nats``       nats-py                                  the NATS JetStream bus (``--bus nats://``)
``plot``       matplotlib                               equity and latency charts (PNG)
``all``        every extra above
=============  =======================================  =================================

:func:`require` imports the module behind a feature, or raises :class:`MissingExtra`, whose
message is the one line to run (``pip install 'hadron-markets[parquet]'``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hadron.errors import ConfigError

__all__ = ["DISTRIBUTION", "EXTRAS", "MissingExtra", "available", "require"]

DISTRIBUTION = "hadron-markets"
"""The name Hadron is installed under (``pip install hadron-markets``)."""

EXTRAS: dict[str, str] = {
    "pyarrow": "parquet",
    "duckdb": "parquet",
    "pandas": "pandas",
    "psycopg": "postgres",
    "nats": "nats",
    "matplotlib": "plot",
}
"""Top-level module → the extra that installs it."""


class MissingExtra(ConfigError):
    """A feature needs an optional dependency that is not installed.

    ``module`` is the missing module, ``extra`` the extra that installs it; the message names the
    feature and the ``pip install`` command to run.
    """

    def __init__(self, module: str, feature: str) -> None:
        self.module = module
        self.extra = EXTRAS.get(module.partition(".")[0], "all")
        super().__init__(f"{feature} needs {module}: pip install '{DISTRIBUTION}[{self.extra}]'")


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` (e.g. ``"pyarrow.parquet"``) for ``feature`` (e.g. ``"the Parquet tick store"``).

    Raises:
        MissingExtra: the module (or its top-level package) is not installed; the message is one
            line naming the extra to install.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.partition(".")[0]
        if exc.name is not None and exc.name.partition(".")[0] != top:
            raise  # the extra is installed but broken: let the real error show
        raise MissingExtra(module, feature) from None


def available(module: str) -> bool:
    """True when ``module`` can be imported (the extra that provides it is installed)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
