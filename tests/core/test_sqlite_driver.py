"""The one-hop SQLite cursor behaves like aiosqlite's for everything SQLAlchemy
reads: rows, rowcount (optimistic locking depends on it), lastrowid, RETURNING,
executemany, errors and streamed results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from minzheng.core.db import create_engine
from minzheng.core.sqlite_driver import OneHopConnection

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
