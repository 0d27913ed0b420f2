"""Engine, sessions and the declarative base shared by core and plugins."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table, core and plugin alike."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, enforced foreign keys, a busy timeout
    and the one-hop cursor of :mod:`minzheng.core.sqlite_driver`."""
    if url.startswith("sqlite+aiosqlite"):
        from minzheng.core.sqlite_driver import dbapi

        kwargs.setdefault("module", dbapi())
    if url.startswith("sqlite"):
        # the loop's thread runs short reads itself (sqlite_driver.InlineReads)
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    else:
        ping_idle = "pool_pre_ping" not in kwargs
        if url.startswith("postgresql+asyncpg"):
            # asyncpg prepares every statement; after five runs PostgreSQL may
            # switch a prepared statement to a generic plan that ignores its
            # parameters, and for region ranges (``region_code BETWEEN $1 AND $2``)
            # the generic plan is the one for the whole table: a page of a
            # township's households went from 20 ms to 300 ms from the sixth
            # request on (bench/RESULTS.md).  Plan each execution for its values.
            connect_args = kwargs.setdefault("connect_args", {})
            settings = connect_args.setdefault("server_settings", {})
            settings.setdefault("plan_cache_mode", "force_custom_plan")
    engine = create_async_engine(url, echo=echo, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    elif ping_idle:
        ping_after_idle(engine)
    return engine


#: a pooled connection returned to the pool less than this long ago is handed
#: out again without a ping
PING_AFTER_IDLE_SECONDS = 10.0
_RETURNED = "minzheng_returned_at"


def ping_after_idle(engine: AsyncEngine, seconds: float | None = None) -> None:
    """Ping a pooled connection before handing it out only when it has been
    idle for ``seconds`` (default :data:`PING_AFTER_IDLE_SECONDS`); a dead one
    is replaced (the pool tries again with a new connection).

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip to the
    server before every request's session and every audit write, for
    connections that were in use a moment ago.  A connection that dies while
    in use, or within the idle window (a server restart), fails its statement
    once; SQLAlchemy then discards the pool's connections and the next
    request gets new ones."""
    sync = engine.sync_engine
    dialect = sync.dialect

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle = PING_AFTER_IDLE_SECONDS if seconds is None else seconds
        returned_at = record.info.get(_RETURNED)
        if returned_at is not None and time.monotonic() - returned_at < idle:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection did not answer: {exc}") from exc
        if not alive:
            raise DisconnectionError("a pooled connection did not answer")

    event.listen(sync, "connect", returned)
    event.listen(sync, "checkin", returned)
    event.listen(sync, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession], **info: Any
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed on success, rolled back on any error."""
    async with factory() as session:
        session.info.update(info)
        async with session.begin():
            yield session
