"""Engine, sessions and the declarative base shared by core and plugins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event
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
        kwargs.setdefault("pool_pre_ping", True)
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
    return engine


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
