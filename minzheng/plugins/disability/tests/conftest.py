"""Fixtures: a fresh SQLite registry with 焦作's divisions and the disability plugin."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert

from minzheng.core import migrate
from minzheng.core.db import Base, create_engine, session_factory
from minzheng.core.idnumber import Sex, make_id_number
from minzheng.core.models import (
    DisabilityCategory,
    Household,
    HukouType,
    Membership,
    Person,
    Region,
    Relation,
)
from minzheng.core.plugins import LoadedPlugins, discover, load
from minzheng.core.regions import demo_villages, jiaozuo
from minzheng.core.settings import Settings
from minzheng.gateway.app import create_app
from minzheng.gateway.auth import issue_token

TODAY = dt.date(2025, 6, 15)
RURAL_VILLAGE = "410823101201"  # 武陟县 a town's first village
RURAL_VILLAGE_2 = "410882101201"  # 沁阳市
URBAN_COMMUNITY = "410802001001"  # 解放区 a street office's first community


@pytest.fixture(scope="session")
def plugins() -> LoadedPlugins:
    return load(["disability"])


class Registry:
    """A throwaway database and helpers to fill it."""

    def __init__(self, factory: Any, plugins: LoadedPlugins) -> None:
        self.factory = factory
        self.plugins = plugins
        self._seq = itertools.count(1)

    @asynccontextmanager
    async def tx(self, today: dt.date = TODAY, **info: Any) -> AsyncIterator[Any]:
        async with self.factory() as session:
            session.info.update({"plugins": self.plugins.manager, "today": today, **info})
            async with session.begin():
                yield session

    async def person(
        self,
        session: Any,
        *,
        region: str = RURAL_VILLAGE,
        birth: dt.date = dt.date(1970, 5, 1),
        category: DisabilityCategory | None = DisabilityCategory.PHYSICAL,
        grade: int | None = 1,
        household: Household | None = None,
        name: str | None = None,
        **extra: Any,
    ) -> Person:
        n = next(self._seq)
        if household is None:
            household = Household(
                number=f"H{n:06d}",
                hukou_type=HukouType.URBAN if region[6:9] < "100" else HukouType.RURAL,
            )
            household.place(region)
            session.add(household)
            await session.flush()
            relation = Relation.HEAD
        else:
            relation = Relation.CHILD
        person = Person(
            id_number=make_id_number(region[:6], birth, 2 * n + 1),
            name=name or f"测试{n}",
            sex=Sex.MALE,
            birth_date=birth,
            disability_category=category,
            disability_grade=grade,
            **extra,
        )
        person.place(region)
        session.add(person)
        await session.flush()
        session.add(
            Membership(
                household_id=household.id,
                person_id=person.id,
                relation=relation,
                joined_on=dt.date(2000, 1, 1),
            )
        )
        await session.flush()
        return person


@pytest.fixture
async def registry(tmp_path: Path, plugins: LoadedPlugins) -> AsyncIterator[Registry]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        rows = [d.row() for d in (*jiaozuo(), *demo_villages(2))]
        await conn.execute(insert(Region), rows)
    yield Registry(session_factory(engine), plugins)
    await engine.dispose()


# ------------------------------------------------------------------ over HTTP

SECRET = "disability-test-secret-0123456789abcdef"
INSTALLED = {i.name for i in discover()}
#: the configurations the plugin must work in: alone, and beside social assistance
CONFIGURATIONS = [
    pytest.param(("disability",), id="alone"),
    pytest.param(
        ("disability", "social_assistance"),
        id="with-social-assistance",
        marks=pytest.mark.skipif(
            "social_assistance" not in INSTALLED, reason="social_assistance is not installed"
        ),
    ),
]


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated for every installed plugin, with generated villages."""
    path = tmp_path_factory.mktemp("disability") / "template.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, load("all"))

    async def villages() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(insert(Region), [v.row() for v in demo_villages()])
        await engine.dispose()

    migrate._outside_loop(lambda: asyncio.run(villages()))
    return path


class Api:
    """The real app over HTTP with a bearer token; ``gql`` posts a GraphQL document."""

    def __init__(self, app: Any, role: str = "admin", region: str = "410800") -> None:
        self.app = app
        token = issue_token(SECRET, subject=f"{role}@{region}", roles=[role], region=region)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"authorization": f"Bearer {token}"},
        )

    def as_(self, role: str, region: str = "410800") -> Api:
        return Api(self.app, role, region)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, expect_errors: bool = False
    ) -> dict[str, Any]:
        resp = await self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if expect_errors:
            return body
        assert not body.get("errors"), body["errors"]
        return body["data"]

    @property
    def sessions(self) -> Any:
        return self.app.state.minzheng.sessions

    @asynccontextmanager
    async def db(self) -> AsyncIterator[Any]:
        """A session on the app's database, outside any request (to set up or check)."""
        async with self.sessions() as session:
            session.info["plugins"] = self.app.state.minzheng.plugins.manager
            async with session.begin():
                yield session

    @contextmanager
    def count_statements(self) -> Iterator[list[str]]:
        statements: list[str] = []
        engine = self.app.state.minzheng.engine

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "SELECT 1")):
                statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", before)


@pytest.fixture(params=CONFIGURATIONS)
async def make_api(
    request: pytest.FixtureRequest, migrated_template: Path, tmp_path: Path
) -> AsyncIterator[Callable[..., Api]]:
    path = tmp_path / "api.db"
    shutil.copy(migrated_template, path)
    apps: list[Any] = []

    def factory(role: str = "admin", region: str = "410800") -> Api:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{path}",
            jwt_secret=SECRET,
            plugins=",".join(request.param),
        )
        app = create_app(settings)
        apps.append(app)
        return Api(app, role, region)

    yield factory
    for app in apps:
        await app.state.minzheng.engine.dispose()


@pytest.fixture
async def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
