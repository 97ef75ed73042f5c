"""State store URLs: which backend a URL names, and opening it.

Accepted forms::

    sqlite:///state/hadron.db              SQLite, relative path state/hadron.db
    sqlite:////var/lib/hadron/state.db     SQLite, absolute path /var/lib/hadron/state.db
    sqlite://:memory:   (or sqlite://)     SQLite, private in-memory database
    state/hadron.db                        SQLite, a plain file path
    postgresql://hadron@db:5432/hadron     PostgreSQL (postgres://… too), libpq URI syntax
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from hadron.config import mask_url
from hadron.errors import ConfigError
from hadron.store.state.base import StateStore, psycopg_module
from hadron.store.state.postgres import PostgresStateStore
from hadron.store.state.schema import MIGRATIONS, Migration
from hadron.store.state.sqlite import SqliteStateStore

_ACCEPTED = (
    "use sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite://:memory:, a plain file path, "
    "or postgresql://user@host:5432/dbname (postgres:// also accepted)"
)


def parse_state_url(url: str, *, setting: str = "state store URL") -> tuple[Literal["sqlite", "postgresql"], str]:
    """Say which backend a state store URL names, and where.

    Args:
        url: see the module docs for the accepted forms.
        setting: the name of the setting ``url`` came from, used in error messages.

    Returns:
        ``("sqlite", path)`` with ``path`` a file path or ``":memory:"``, or
        ``("postgresql", url)`` with ``url`` unchanged.

    Raises:
        ConfigError: empty, an unsupported scheme, a SQLite URL with a host, or a PostgreSQL
            URL libpq cannot parse. The message names ``setting`` and the accepted forms.
    """
    text = url.strip()
    if not text:
        raise ConfigError(f"{setting} is empty: {_ACCEPTED}")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return "sqlite", text if text == ":memory:" else str(Path(text).expanduser())
    scheme = scheme.lower()
    if scheme == "sqlite":
        if rest in ("", ":memory:", "/:memory:"):
            return "sqlite", ":memory:"
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(f"{setting} {mask_url(text)!r}: a SQLite URL has no host; {_ACCEPTED}")
        return "sqlite", str(Path(rest[1:]).expanduser())
    if scheme in ("postgresql", "postgres"):
        pg = psycopg_module()
        try:
            pg.conninfo.conninfo_to_dict(text)
        except pg.Error as exc:
            raise ConfigError(
                f"{setting} {mask_url(text)!r} is not a valid PostgreSQL URL ({exc}); {_ACCEPTED}"
            ) from exc
        return "postgresql", text
    raise ConfigError(f"{setting} {mask_url(text)!r}: unsupported scheme {scheme!r}; {_ACCEPTED}")


async def open_state_store(
    url: str,
    *,
    schema: str = "hadron",
    migrations: Sequence[Migration] = MIGRATIONS,
    setting: str = "state store URL",
) -> StateStore:
    """Open the state store a URL names, with its schema up to date.

    Args:
        url: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``sqlite://:memory:``, a plain
            file path, or ``postgresql://…`` / ``postgres://…`` (see the module docs).
        schema: the PostgreSQL schema (ignored for SQLite).
        migrations: the schema history; :data:`MIGRATIONS` unless testing the machinery.
        setting: the name of the setting ``url`` came from, used in error messages.

    Returns:
        An open :class:`StateStore`; close it (or use ``async with``) when done.

    Raises:
        ConfigError: the URL names no supported backend.
        StoreError: the database cannot be opened or migrated.
        SchemaVersionError: the database is newer than this code.
    """
    backend, target = parse_state_url(url, setting=setting)
    if backend == "sqlite":
        return await SqliteStateStore(target, migrations=migrations).open()
    return await PostgresStateStore(target, schema=schema, migrations=migrations).open()
