"""The PostgreSQL backend of the state store: one schema, through one ``psycopg.AsyncConnection``.

For state shared between processes (see ``docs/SCALE-OUT.md``): the tables live in their own
schema (``hadron`` unless told), and processes opening the same schema at once migrate it once.
psycopg is the ``[postgres]`` extra, imported on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from hadron.config import mask_url
from hadron.errors import ConfigError, StoreError
from hadron.store.state.base import SqlStateStore, psycopg_module
from hadron.store.state.queries import Op, Query, Result
from hadron.store.state.schema import MIGRATIONS, Migration

if TYPE_CHECKING:
    import psycopg

_T = TypeVar("_T")


_PG_SQL: dict[str, str] = {}


def _pg_sql(sql: str) -> str:
    try:
        return _PG_SQL[sql]
    except KeyError:
        converted = _PG_SQL[sql] = sql.replace("?", "%s")
        return converted


class PostgresStateStore(SqlStateStore):
    """The state store in a PostgreSQL schema, through one ``psycopg.AsyncConnection``.

    The connection is in autocommit mode with ``search_path`` set to ``schema``; each write is
    one explicit transaction and calls run one at a time. Migrations take a transaction-level
    advisory lock on the schema name, so processes opening the same schema at once apply each
    migration once.

    Args:
        url: a libpq URI, ``postgresql://user[:password]@host[:port]/dbname[?param=value]``.
        schema: the schema holding the tables (created when absent).
        migrations: the schema history; :data:`MIGRATIONS` unless testing the machinery.
        connect_timeout: seconds allowed to connect.

    Raises:
        ConfigError: ``schema`` is empty or longer than PostgreSQL's 63-byte identifier limit.
    """

    dialect: ClassVar[str] = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        schema: str = "hadron",
        migrations: Sequence[Migration] = MIGRATIONS,
        connect_timeout: float = 10.0,
    ) -> None:
        if not schema or len(schema.encode()) > 63:
            raise ConfigError(f"PostgreSQL schema {schema!r}: give a name of 1 to 63 bytes")
        super().__init__(f"PostgreSQL state store {mask_url(url)} schema {schema}", migrations)
        self.url = url
        self.schema = schema
        self._connect_timeout = connect_timeout
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._lock = asyncio.Lock()

    def _quoted_schema(self) -> str:
        return '"' + self.schema.replace('"', '""') + '"'

    def _preamble(self) -> Sequence[Query]:
        return (
            Query("SELECT pg_advisory_xact_lock(hashtext(?))", (f"hadron.state:{self.schema}",)),
            Query(f"CREATE SCHEMA IF NOT EXISTS {self._quoted_schema()}"),
        )

    async def _connect(self) -> None:
        pg = psycopg_module()
        try:
            conn = await pg.AsyncConnection.connect(
                self.url, autocommit=True, connect_timeout=max(1, round(self._connect_timeout))
            )
        except pg.Error as exc:
            raise StoreError(f"{self.where}: cannot connect: {exc}") from exc
        try:
            await conn.execute(f"SET search_path TO {self._quoted_schema()}")
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, pg.Error):
                raise StoreError(f"{self.where}: cannot select the schema: {exc}") from exc
            raise
        self._conn = conn

    async def _disconnect(self) -> None:
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    async def _drive(self, conn: psycopg.AsyncConnection[tuple[Any, ...]], op: Op[_T]) -> _T:
        try:
            query = next(op)
            while True:
                sql = _pg_sql(query.sql)
                async with conn.cursor() as cursor:
                    if query.many:
                        await cursor.executemany(sql, query.params)
                        result = Result([], cursor.rowcount)
                    else:
                        await cursor.execute(sql, query.params or None)
                        rows = await cursor.fetchall() if cursor.description is not None else []
                        result = Result(rows, cursor.rowcount)
                query = op.send(result)
        except StopIteration as stop:
            return cast(_T, stop.value)

    async def _run(self, op: Op[_T], *, write: bool, what: str) -> _T:
        self._check_open()
        pg = psycopg_module()
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self.where}: the state store is closed")
            try:
                if not write:
                    return await self._drive(conn, op)
                async with conn.transaction():
                    return await self._drive(conn, op)
            except pg.Error as exc:
                raise StoreError(f"{self.where}: {what} failed: {exc}") from exc
