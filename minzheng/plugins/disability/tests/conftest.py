"""Fixtures: a freshly migrated registry (the root conftest's databases) with the
disability plugin, helpers to fill it, and the app over HTTP in each configuration."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from minzheng.core.db import create_engine, session_factory
from minzheng.core.idnumber import Sex, make_id_number
from minzheng.core.models import (
    DisabilityCategory,
    Household,
    HukouType,
    Membership,
    Person,
    Relation,
)
from minzheng.core.plugins import LoadedPlugins, discover, load
from minzheng.core.scope import SYSTEM

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
            session.info.update(
                {"principal": SYSTEM, "plugins": self.plugins.manager, "today": today, **info}
            )
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
            id_number=make_id_number(region[:6], birth, (2 * n + 1) % 1000),
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
async def registry(db_url: str, plugins: LoadedPlugins) -> AsyncIterator[Registry]:
    """A freshly migrated database (SQLite; PostgreSQL too when configured) from the
    root conftest, with 焦作's divisions and generated villages."""
    engine = create_engine(db_url)
    yield Registry(session_factory(engine), plugins)
    await engine.dispose()


# ------------------------------------------------------------------ over HTTP
# The app, databases (SQLite; PostgreSQL when configured) and tokens come from the
# repository's root conftest (``make_api``); here the plugin picks its configurations.

INSTALLED = {i.name for i in discover()}
#: the configurations the plugin must work in: alone, and beside social assistance
CONFIGURATIONS = [
    pytest.param("disability", id="alone"),
    pytest.param(
        "disability,social_assistance",
        id="with-social-assistance",
        marks=pytest.mark.skipif(
            "social_assistance" not in INSTALLED, reason="social_assistance is not installed"
        ),
    ),
]


@pytest.fixture(params=CONFIGURATIONS)
async def api(request: pytest.FixtureRequest, make_api: Callable[..., Any]) -> Any:
    """The real app with the plugin enabled (alone or beside social assistance), as an
    administrator of the city; ``api.as_(role, region)`` for other principals."""
    return make_api(plugins=request.param)


@asynccontextmanager
async def app_db(api: Any) -> AsyncIterator[Any]:
    """A session on the app's database outside any request (to set up or check)."""
    state = api.app.state.minzheng
    async with state.sessions() as session:
        session.info.update({"principal": SYSTEM, "plugins": state.plugins.manager})
        async with session.begin():
            yield session
