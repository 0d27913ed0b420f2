"""SQLite for the async engine with one thread hop per statement.

aiosqlite runs every sqlite3 call on its connection's worker thread, and
SQLAlchemy's adapter awaits four of them per statement: create the cursor,
execute, fetch all rows, close.  Each hop is a queue put, a thread wake-up and
an event-loop wake-up, and together they cost more than the SQLite work of an
indexed lookup (about 0.6 of the 1.4 ms an ORM ``SELECT`` by key took; see
``bench/RESULTS.md``).

:class:`OneHopCursor` does the four steps in one function on the worker thread
and keeps what SQLAlchemy reads afterwards (``description``, ``rowcount``,
``lastrowid`` and the rows).  It is given to the stock ``sqlite+aiosqlite``
dialect through ``create_async_engine(module=…)``: URLs, the dialect and its
SQL stay exactly as they are.  Server-side cursors (``stream()``) keep
aiosqlite's own cursor, which fetches lazily.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_


class _Outcome:
    """What a finished statement left on its (already closed) sqlite3 cursor."""

    __slots__ = ("description", "lastrowid", "rowcount")

    def __init__(self) -> None:
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def record(self, cursor: sqlite3.Cursor) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor: execute, fetch and close in one call on the worker thread."""

    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()  # the sqlite3 cursor exists only inside one hop

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _async_soft_close(self) -> None:
        return None  # already closed on the worker thread

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        outcome: _Outcome = self._cursor  # type: ignore[assignment]
        conn: aiosqlite.Connection = self._connection  # type: ignore[assignment]

        def run() -> list[Any]:
            cursor = conn._conn.cursor()
            try:
                if parameters is None:
                    cursor.execute(operation)
                else:
                    cursor.execute(operation, parameters)
                rows = cursor.fetchall() if cursor.description else []
                outcome.record(cursor)
                return rows
            finally:
                cursor.close()

        mutex = self._adapt_connection._execute_mutex
        if not mutex.locked() and INLINE.may_run(operation):
            rows = INLINE.run(conn._conn, run, operation)
            if rows is not None:
                self._rows = collections.deque(rows)
                return None
        async with mutex:
            self._rows = collections.deque(await conn._execute(run))
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        outcome: _Outcome = self._cursor  # type: ignore[assignment]
        conn: aiosqlite.Connection = self._connection  # type: ignore[assignment]

        def run() -> None:
            cursor = conn._conn.cursor()
            try:
                cursor.executemany(operation, seq_of_parameters)
                outcome.record(cursor)
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            await conn._execute(run)
        return None


class InlineReads:
    """Short reads run on the event loop's thread, with a budget.

    A ``SELECT`` by key takes SQLite about 15 µs; handing it to aiosqlite's
    worker thread and waking the event loop again takes 350–450 µs on a small
    machine.  So a ``SELECT`` first runs here, on the loop's thread, under a
    progress handler that interrupts it after :attr:`budget` virtual-machine
    steps (about a millisecond).  An interrupted ``SELECT`` has changed
    nothing (SQLite rolls back only interrupted writes), and it runs again on
    the worker thread as before; its SQL is remembered, so it goes straight
    to the thread next time.  Writes, and reads while the connection is busy
    on its thread, always go to the thread.

    The loop is therefore never blocked for longer than the budget by a
    statement.  (A reader that meets a lock waits in SQLite's busy handler;
    in WAL mode readers meet one only while the WAL index is rebuilt after a
    crash.)
    """

    #: progress handler calls before a statement is interrupted, and the
    #: virtual-machine steps between calls: about 100,000 steps in all
    budget = 100
    every = 1000
    #: how many statements that overran are remembered
    remembered = 2048

    def __init__(self) -> None:
        self.slow: collections.OrderedDict[str, None] = collections.OrderedDict()
        self.enabled = True

    def may_run(self, operation: str) -> bool:
        return self.enabled and operation.startswith("SELECT") and operation not in self.slow

    def run(self, conn: sqlite3.Connection, run: Any, operation: str) -> list[Any] | None:
        """The rows, or None when the statement overran and must go to the thread."""
        calls = 0
        budget = self.budget

        def progress() -> int:
            nonlocal calls
            calls += 1
            return 1 if calls > budget else 0

        conn.set_progress_handler(progress, self.every)
        try:
            return run()  # type: ignore[no-any-return]
        except sqlite3.OperationalError:
            if calls <= budget:
                raise
            self.slow[operation] = None
            if len(self.slow) > self.remembered:
                self.slow.popitem(last=False)
            return None
        finally:
            conn.set_progress_handler(None, 0)


INLINE = InlineReads()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """Commit and rollback outside a transaction (a request that only read;
    the pool's reset when a connection is returned) skip the worker thread:
    sqlite3 does nothing for them either."""

    __slots__ = ()
    _cursor_cls = OneHopCursor

    def _idle(self) -> bool:
        conn = self._connection._connection
        return conn is not None and not conn.in_transaction

    def rollback(self) -> None:
        if not self._idle():
            super().rollback()

    def commit(self) -> None:
        if not self._idle():
            super().commit()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI shim, handing out :class:`OneHopConnection` objects."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        creator_fn = kw.pop("async_creator_fn", None)
        if creator_fn:
            connection = creator_fn(*arg, **kw)
        else:
            connection = self.aiosqlite.connect(*arg, **kw)
            connection._thread.daemon = True  # as the stock shim does
        return OneHopConnection(self, await_(connection))


def dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
