"""The one-hop SQLite cursor behaves like aiosqlite's for everything SQLAlchemy
reads: rows, rowcount (optimistic locking depends on it), lastrowid, RETURNING,
executemany, errors and streamed results.  Short reads run on the event loop's
thread within a budget; long ones, and every write, on the worker thread."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from minzheng.core.db import create_engine
from minzheng.core.sqlite_driver import INLINE, OneHopConnection

meta = MetaData()
thing = Table(
    "thing",
    meta,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("version", Integer, nullable=False, default=1),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    yield engine
    await engine.dispose()


async def test_the_engine_uses_the_one_hop_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneHopConnection)


async def test_rows_rowcount_lastrowid_and_returning(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(insert(thing).values(name="a"))
        assert result.inserted_primary_key == (1,)
        returned = await conn.execute(insert(thing).values(name="b").returning(thing.c.id))
        assert returned.scalar_one() == 2
        await conn.execute(insert(thing), [{"name": f"n{i}"} for i in range(5)])  # executemany
        assert await conn.scalar(select(text("count(*)")).select_from(thing)) == 7

        # optimistic locking reads rowcount: 1 when the version matched, 0 when not
        bump = update(thing).where(thing.c.name == "a", thing.c.version == 1).values(version=2)
        assert (await conn.execute(bump)).rowcount == 1
        assert (await conn.execute(bump)).rowcount == 0
        many = await conn.execute(update(thing).where(thing.c.name.like("n%")).values(version=5))
        assert many.rowcount == 5

        rows = (await conn.execute(select(thing.c.name).order_by(thing.c.id))).all()
        assert [r.name for r in rows] == ["a", "b", "n0", "n1", "n2", "n3", "n4"]
        empty = await conn.execute(select(thing).where(thing.c.id < 0))
        assert empty.all() == [] and list(empty.keys()) == ["id", "name", "version"]


async def test_errors_surface_as_sqlalchemy_errors_and_roll_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(thing).values(name="a"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(thing).values(name="z"))
            await conn.execute(insert(thing).values(name="a"))  # unique
    with pytest.raises(OperationalError):
        async with engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))
    async with engine.connect() as conn:  # nothing half-written; the pool still works
        names = (await conn.execute(select(thing.c.name))).scalars().all()
        assert names == ["a"]


async def test_streamed_results_fetch_lazily(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(thing), [{"name": f"s{i:03}"} for i in range(250)])
    async with engine.connect() as conn:
        stream = await conn.stream(select(thing.c.name).order_by(thing.c.id))
        seen = [row.name async for row in stream]
        assert len(seen) == 250 and seen[0] == "s000" and seen[-1] == "s249"


LONG = (
    "SELECT (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000)"
    " SELECT sum(x) FROM c) AS total"
)


async def _thread_of(conn: Any) -> None:
    """A SQL function answering which thread runs the statement."""
    raw = await conn.get_raw_connection()
    raw.dbapi_connection._connection._connection.create_function(
        "thread_id", 0, threading.get_ident
    )


async def test_short_reads_run_on_the_loop_and_long_ones_on_the_worker(
    engine: AsyncEngine,
) -> None:
    INLINE.slow.clear()
    loop_thread = threading.get_ident()
    async with engine.connect() as conn:
        await _thread_of(conn)
        assert await conn.scalar(text("SELECT thread_id()")) == loop_thread
        # over its budget: interrupted on the loop, run again on the worker thread,
        # with the whole answer
        row = (await conn.execute(text(LONG + ", thread_id() AS thread"))).one()
        assert row.total == 400000 * 400001 // 2
        assert row.thread != loop_thread
        assert LONG + ", thread_id() AS thread" in INLINE.slow  # next time straight there
        # writes always go to the worker thread
        await conn.execute(text("CREATE TEMP TABLE seen (thread INTEGER)"))
        await conn.execute(text("INSERT INTO seen SELECT thread_id()"))
        assert await conn.scalar(text("SELECT thread FROM seen")) != loop_thread
        await conn.rollback()


async def test_an_interrupted_read_leaves_the_transaction_alone(engine: AsyncEngine) -> None:
    INLINE.slow.clear()
    async with engine.begin() as conn:
        await conn.execute(insert(thing).values(name="kept"))
        assert (await conn.execute(text(LONG))).scalar() == 400000 * 400001 // 2
        assert LONG in INLINE.slow
        await conn.execute(insert(thing).values(name="kept too"))
    async with engine.connect() as conn:
        names = (await conn.execute(select(thing.c.name).order_by(thing.c.id))).scalars().all()
    assert names == ["kept", "kept too"]


async def test_errors_of_inline_reads_surface_unchanged(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(OperationalError, match="no such column"):
            await conn.execute(text("SELECT no_such_column FROM thing"))
        assert "SELECT no_such_column FROM thing" not in INLINE.slow
        assert (await conn.execute(select(thing.c.id))).all() == []


async def test_commit_and_rollback_without_a_transaction_skip_the_worker(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with engine.connect() as conn:
        await conn.execute(select(thing.c.id))
        await conn.commit()
        await conn.rollback()
    assert hops == []  # the read ran inline; nothing to commit or roll back
    async with engine.begin() as conn:
        await conn.execute(insert(thing).values(name="w"))
    assert len(hops) == 2  # the insert and its commit
    async with engine.connect() as conn:
        assert (await conn.execute(select(thing.c.name))).scalars().all() == ["w"]
