"""A small registry served by the real app, for the HTTP security tests.

Five households in four villages of three counties, a note from the example
plugin (a plugin with its own table and no scope code) on every person, all
registered through the API as the city administrator.  ``World`` knows which
rows lie where, so each test can compute what a principal should see.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from factories import VILLAGES, member, register
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import EXAMPLE, SECRET, settings_for
from minzheng.core.db import create_engine
from minzheng.core.divisions import parse
from minzheng.gateway.app import create_app
from minzheng.gateway.auth import issue_token

CITY = "410800"
COUNTY = "410823"  # 武陟县
TOWNSHIP = "410823101"  # 詹店镇
VILLAGE = VILLAGES["wuzhi_a"]  # 410823101201
LEVELS = {"city": CITY, "county": COUNTY, "township": TOWNSHIP, "village": VILLAGE}

ADD_NOTE = """mutation($i: AddExampleNoteInput!) { addExampleNote(input: $i) {
  note { text } errors { __typename code message } } }"""


def bearer(role: str, region: str, **kw: Any) -> dict[str, str]:
    tok = issue_token(SECRET, subject=f"{role}@{region}", roles=[role], region=region, **kw)
    return {"authorization": f"Bearer {tok}"}


@dataclass
class World:
    kind: str
    app: Any
    engine: AsyncEngine
    url: str
    #: person pk → (village code, global id, id number)
    persons: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    #: household pk → (village code, global id)
    households: dict[int, tuple[str, str]] = field(default_factory=dict)
    cleanup: list[Any] = field(default_factory=list)

    def app_with(self, **settings: Any) -> Any:
        """Another app on this world's database, with other settings."""
        return create_app(
            settings_for(self.url, **settings), extra_plugins=[EXAMPLE], engine=self.engine
        )

    def client(self, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://testserver",
            headers=headers or {},
        )

    async def gql(
        self,
        headers: dict[str, str] | None,
        query: str,
        variables: dict[str, Any] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        async with self.client(headers) as c:
            return await c.post(
                "/graphql", json={"query": query, "variables": variables or {}, **extra}
            )

    async def data(self, headers: dict[str, str], query: str, variables: Any = None) -> Any:
        r = await self.gql(headers, query, variables)
        assert r.status_code == 200, r.text
        body = r.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def persons_in(self, region: str) -> set[int]:
        prefix = parse(region).prefix
        return {pk for pk, (v, _g, _n) in self.persons.items() if v.startswith(prefix)}

    def households_in(self, region: str) -> set[int]:
        prefix = parse(region).prefix
        return {pk for pk, (v, _g) in self.households.items() if v.startswith(prefix)}

    async def count(self, table: str, where: str = "") -> int:
        """Rows in ``table``, read directly (as the tables' owner), for checks
        after refused writes."""
        async with self.engine.connect() as conn:
            if self.kind == "postgres":
                await conn.execute(text("SELECT set_config('minzheng.scope', 'all', true)"))
            sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
            return int((await conn.execute(text(sql))).scalar() or 0)

    async def snapshot(self) -> dict[str, int]:
        return {
            t: await self.count(t)
            for t in ("person", "household", "membership", "example_note", "enrolment")
        } | {"mutation_audit": await self.count("audit_log", "action <> 'pii.read'")}

    async def dispose(self) -> None:
        await self.engine.dispose()
        for fn in reversed(self.cleanup):
            await fn()


async def build_world(kind: str, tmp: Path, request: Any, **settings: Any) -> World:
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp / "world.db"
        shutil.copy(template, path)
        url = f"sqlite+aiosqlite:///{path}"
        engine = create_engine(url)
        world = World(kind, None, engine, url)
    else:
        world = await _postgres_world(request)
    world.app = create_app(
        settings_for(world.url, **settings), extra_plugins=[EXAMPLE], engine=world.engine
    )
    await seed(world)
    return world


async def _postgres_world(request: Any) -> World:
    """A copy of the migrated template served through a role that is neither
    superuser nor owner: row-level security applies to everything it runs."""
    from conftest import PG_URL, _pg_admin, _pg_url

    template = request.getfixturevalue("pg_template")
    suffix = secrets.token_hex(4)
    name, role, pw = f"mz_world_{suffix}", f"mz_web_{suffix}", secrets.token_hex(10)
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    await _pg_admin(f"CREATE ROLE {role} LOGIN PASSWORD '{pw}' NOSUPERUSER NOBYPASSRLS")
    owner = create_engine(_pg_url(name))
    async with owner.begin() as conn:
        await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        await conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
        await conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    await owner.dispose()
    url = (
        make_url(PG_URL or "")
        .set(database=name, username=role, password=pw)
        .render_as_string(hide_password=False)
    )
    world = World("postgres", None, create_engine(url), url)

    async def drop() -> None:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _pg_admin(f"DROP ROLE IF EXISTS {role}")

    world.cleanup.append(drop)
    return world


async def seed(world: World) -> None:
    class _Api:
        async def gql(self, q: str, v: Any = None) -> Any:
            return await world.data(bearer("admin", CITY), q, v)

    api = _Api()
    layout = [
        VILLAGES["wuzhi_a"],
        VILLAGES["wuzhi_a"],
        VILLAGES["wuzhi_b"],
        VILLAGES["wen"],
        VILLAGES["jiefang"],
    ]
    for i, village in enumerate(layout):
        county = village[:6]
        hh = await register(
            api,
            village,
            members=[
                member(f"户主{i}", county=county, phone=f"1380000{i:04d}", address=f"某村{i}号"),
                member(f"配偶{i}", "SPOUSE", male=False, county=county, phone=f"1390000{i:04d}"),
            ],
        )
        world.households[hh["pk"]] = (village, hh["id"])
        for m in hh["members"]:
            p = m["person"]
            world.persons[p["pk"]] = (village, p["id"], p["idNumber"])
            r = await api.gql(ADD_NOTE, {"i": {"personId": p["id"], "text": f"note {p['pk']}"}})
            assert r["addExampleNote"]["errors"] == []
    async with world.engine.connect() as conn:
        if world.kind == "postgres":
            await conn.execute(text("SELECT set_config('minzheng.scope', 'all', true)"))
        from minzheng.core.models import Person

        assert await conn.scalar(select(func.count()).select_from(Person)) == len(world.persons)


def today() -> dt.date:
    return dt.date.today()
