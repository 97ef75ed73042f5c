"""The SQLite backend of the state store: one database file in WAL mode, driven from one thread.

``synchronous=NORMAL`` and ``foreign_keys=ON``; the standard :mod:`sqlite3` runs on one dedicated
worker thread, so the event loop never blocks and calls run one at a time, in order.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

from hadron.errors import StoreError
from hadron.store.state.base import SqlStateStore
from hadron.store.state.queries import Op, Result
from hadron.store.state.schema import MIGRATIONS, Migration

_T = TypeVar("_T")


def _drive_sqlite(conn: sqlite3.Connection, op: Op[_T]) -> _T:
    try:
        query = next(op)
        while True:
            if query.many:
                cursor = conn.executemany(query.sql, query.params)
                result = Result([], cursor.rowcount)
            else:
                cursor = conn.execute(query.sql, query.params)
                result = Result(cursor.fetchall(), cursor.rowcount)
            cursor.close()
            query = op.send(result)
    except StopIteration as stop:
        return cast(_T, stop.value)


class SqliteStateStore(SqlStateStore):
    """The state store in one SQLite database (WAL mode).

    One connection, used only from one dedicated worker thread: calls never block the event loop
    and run strictly one after another in the order made. A call whose caller is cancelled either
    never starts or runs to its end (its transaction commits or rolls back whole) before the next. Writes take the
    database's write lock at the start of their transaction (``BEGIN IMMEDIATE``) and wait up to
    ``busy_timeout`` seconds for another process holding it.

    Args:
        path: the database file (its folder is created), or ``":memory:"``.
        migrations: the schema history; :data:`MIGRATIONS` unless testing the machinery.
        busy_timeout: seconds to wait for another connection's write lock.
    """

    dialect: ClassVar[str] = "sqlite"

    def __init__(
        self, path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS, busy_timeout: float = 5.0
    ) -> None:
        self.path = str(path)
        super().__init__(f"SQLite state store {self.path}", migrations)
        self._busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    def _connect_sync(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            self._enable_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Switching a new database to WAL needs an exclusive lock, and SQLite does not wait on
        # the busy handler for it: two connections opening the same new file at once can get
        # "database is locked" at once. Retry within the busy timeout.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    def _disconnect_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _in_thread(self, what: str, func: Callable[..., _T], *args: Any) -> _T:
        assert self._executor is not None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.where}: {what} failed: {exc}") from exc

    async def _connect(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hadron-sqlite")
        try:
            await self._in_thread("open", self._connect_sync)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def _disconnect(self) -> None:
        executor = self._executor
        if executor is None:
            return
        try:
            await self._in_thread("close", self._disconnect_sync)
        finally:
            executor.shutdown(wait=True)
            self._executor = None

    def _run_sync(self, op: Op[_T], write: bool) -> _T:
        conn = self._conn
        assert conn is not None
        if not write:
            return _drive_sqlite(conn, op)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = _drive_sqlite(conn, op)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        return result

    async def _run(self, op: Op[_T], *, write: bool, what: str) -> _T:
        self._check_open()
        return await self._in_thread(what, self._run_sync, op, write)
