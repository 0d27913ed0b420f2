"""Test databases for the security tests: SQLite always, PostgreSQL when
``MINZHENG_TEST_POSTGRES_URL`` names a server (any role that may create
databases and roles).

On PostgreSQL each database is created and owned by a fresh **non-superuser**
role without ``BYPASSRLS`` — the shape of a small deployment, where the server
runs as the role that owns the tables — so row-level security is tested as it
is deployed: forced, or the owner would pass through it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import minzheng.core.auth
import minzheng.core.models  # noqa: F401
from minzheng.core import rls
from minzheng.core.db import Base, create_engine, session_factory
from minzheng.core.idnumber import make_id_number
from minzheng.core.models import (
    Enrolment,
    EnrolmentStatus,
    Household,
    HukouType,
    Membership,
    Person,
    Region,
    Relation,
)
from minzheng.core.regions import demo_villages, jiaozuo
from minzheng.core.scope import SYSTEM, Principal

# the example plugin (tests/example_plugin): a plugin table with no scope code
from example_plugin.models import ExampleNote  # isort: skip


PG_URL = os.environ.get("MINZHENG_TEST_POSTGRES_URL")

# Two counties of 焦作市, two townships in the first.
WUZHI = "410823"  # 武陟县
WENXIAN = "410825"  # 温县
T1 = "410823101"
T2 = "410823102"
T3 = "410825101"
VILLAGES = {
    T1: ["410823101201", "410823101202"],
    T2: ["410823102201"],
    T3: ["410825101201"],
}


@dataclass
class Db:
    kind: str
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]
    url: str
    ids: dict[str, Any] = field(default_factory=dict)
    _cleanup: list[Any] = field(default_factory=list)

    @asynccontextmanager
    async def session(self, principal: Principal | None = SYSTEM) -> AsyncIterator[AsyncSession]:
        """One transaction as ``principal``; committed unless it raises."""
        async with self.factory() as s:
            if principal is not None:
                s.info["principal"] = principal
            async with s.begin():
                yield s

    async def count(self, table: str, where: str = "") -> int:
        """Rows in ``table`` as the unrestricted system (checks after refusals)."""
        async with self.session(SYSTEM) as s:
            sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
            return int(
                (await s.execute(text(sql).execution_options(region_scope_checked=True))).scalar()
            )

    async def dispose(self) -> None:
        await self.engine.dispose()
        for fn in reversed(self._cleanup):
            await fn()


async def create_db(kind: str, tmp_path: Any) -> Db:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/security.db"
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        db = Db(kind, engine, session_factory(engine), url)
    else:
        db = await _create_postgres()
    await seed(db)
    return db


async def _create_postgres() -> Db:
    assert PG_URL
    admin_url = make_url(PG_URL)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+asyncpg")
    suffix = secrets.token_hex(4)
    role = f"mz_app_{suffix}"
    dbname = f"mz_security_{suffix}"
    password = secrets.token_hex(12)
    admin = create_engine(
        admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(
            text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' NOSUPERUSER NOBYPASSRLS")
        )
        await conn.execute(text(f"CREATE DATABASE {dbname} OWNER {role}"))
    app_url = admin_url.set(username=role, password=password, database=dbname)
    url = app_url.render_as_string(hide_password=False)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        covered = await conn.run_sync(rls.apply_policies)
        assert "person" in covered and "example_note" in covered

    async def drop() -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
            await conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        await admin.dispose()

    db = Db("postgres", engine, session_factory(engine), url)
    db._cleanup.append(drop)
    return db


async def seed(db: Db) -> None:
    """Regions, and in each village two households of two persons, one example
    note per person and an enrolment per household — all as the system."""

    birth = dt.date(1980, 5, 1)
    seq = 0
    ids: dict[str, Any] = {"persons": {}, "households": {}, "notes": {}}
    async with db.session(SYSTEM) as s:
        for d in jiaozuo():
            s.add(Region(**d.row()))
        for d in demo_villages(per_township=2):
            if d.code[:9] in VILLAGES:
                s.add(Region(**d.row()))
        await s.flush()
        for village in (v for vs in VILLAGES.values() for v in vs):
            ids["persons"][village] = []
            ids["households"][village] = []
            for h in range(2):
                hh = Household(
                    number=f"H{village}{h}", hukou_type=HukouType.RURAL, address=f"{village}村{h}号"
                )
                hh.place(village)
                s.add(hh)
                await s.flush()
                ids["households"][village].append(hh.id)
                for m in range(2):
                    seq += 1
                    p = Person(
                        id_number=make_id_number(village[:6], birth, seq),
                        name=f"居民{seq}",
                        sex="male" if seq % 2 else "female",
                        birth_date=birth,
                        phone=f"1380000{seq:04d}",
                        address=f"河南省焦作市{village}村{h}号",
                    )
                    p.place(village)
                    s.add(p)
                    await s.flush()
                    ids["persons"][village].append(p.id)
                    s.add(
                        Membership(
                            household_id=hh.id,
                            person_id=p.id,
                            relation=Relation.HEAD if m == 0 else Relation.SPOUSE,
                            joined_on=dt.date(2020, 1, 1),
                        )
                    )
                    note = ExampleNote(person_id=p.id, text=f"note {seq}", written_on=birth)
                    note.place(village)
                    s.add(note)
                e = Enrolment(
                    programme="example",
                    household_id=hh.id,
                    status=EnrolmentStatus.ACTIVE,
                    start_on=dt.date(2024, 1, 1),
                    monthly_amount_fen=50000,
                )
                e.place(village)
                s.add(e)
        await s.flush()
    db.ids = ids


def persons_in(db: Db, prefix: str) -> list[int]:
    return sorted(
        pid
        for village, pids in db.ids["persons"].items()
        if village.startswith(prefix)
        for pid in pids
    )
