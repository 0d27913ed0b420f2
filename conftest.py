"""Shared fixtures for every test in the repository (core, plugins, e2e): real
databases (a SQLite file; PostgreSQL when ``MINZHENG_TEST_POSTGRES_URL`` is set),
the real app over HTTP, tokens, and a SQL statement counter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent / "tests"))

import example_plugin

from minzheng.core import migrate
from minzheng.core.plugins import load
from minzheng.core.settings import Settings
from minzheng.gateway.app import create_app
from minzheng.gateway.auth import issue_token

EXAMPLE = example_plugin.info
SECRET = "test-secret-not-for-production-use-0123456789"
PG_URL = os.environ.get("MINZHENG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("MINZHENG_REQUIRE_POSTGRES") and not PG_URL:
        raise pytest.UsageError(
            "MINZHENG_REQUIRE_POSTGRES is set but MINZHENG_TEST_POSTGRES_URL is not"
        )


def pytest_report_header(config: pytest.Config) -> str:
    return f"minzheng databases: {', '.join(BACKENDS)}"


# ------------------------------------------------------------------ databases


def _migrate(url: str) -> None:
    """Migrate, then add the generated demo villages (fresh databases ship only
    the real divisions down to townships)."""
    import asyncio

    from sqlalchemy import insert

    from minzheng.core.db import create_engine
    from minzheng.core.models import Region
    from minzheng.core.regions import demo_villages

    migrate.upgrade(url, load("all", extra=[EXAMPLE]), [EXAMPLE])

    async def villages() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(insert(Region), [v.row() for v in demo_villages()])
        await engine.dispose()

    migrate.outside_loop(lambda: asyncio.run(villages()))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(PG_URL or "").set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_url(dbname: str) -> str:
    return make_url(PG_URL or "").set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    import asyncio

    def admin(sql: str) -> None:
        migrate.outside_loop(lambda: asyncio.run(_pg_admin(sql)))

    name = f"mz_template_{os.getpid()}"
    admin(f'DROP DATABASE IF EXISTS "{name}"')
    admin(f'CREATE DATABASE "{name}"')
    _migrate(_pg_url(name))
    yield name
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated database (core + every plugin + the example plugin)."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "minzheng.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"mz_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_url(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "minzheng.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def minzheng_cli(
    *args: str,
    url: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 120,
) -> subprocess.CompletedProcess[str]:
    """``minzheng *args`` in a subprocess, as an operator runs it: ``url`` as
    ``MINZHENG_DATABASE_URL``, ``env`` on top of this process's environment."""
    full = {**os.environ, **(env or {})}
    if url is not None:
        full["MINZHENG_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "minzheng.gateway.cli", *args],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ------------------------------------------------------------------------ app


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": url, "jwt_secret": SECRET, "plugins": "all"}
    values.update(overrides)
    return Settings(**values)


def token(role: str = "admin", region: str = "410800", subject: str | None = None) -> str:
    return issue_token(SECRET, subject=subject or f"{role}@{region}", roles=[role], region=region)


class Api:
    """An HTTP client for the app with a principal, and a GraphQL helper."""

    def __init__(self, app: Any, role: str = "admin", region: str = "410800") -> None:
        self.app = app
        self.headers = {"authorization": f"Bearer {token(role, region)}"}
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers=self.headers,
        )

    def as_(self, role: str, region: str = "410800") -> Api:
        return Api(self.app, role, region)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, expect_errors: bool = False
    ) -> dict[str, Any]:
        resp = await self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if not expect_errors:
            assert not body.get("errors"), body["errors"]
            return body["data"]  # type: ignore[no-any-return]
        return body  # type: ignore[no-any-return]

    @property
    def engine(self) -> Any:
        return self.app.state.minzheng.engine

    @contextmanager
    def count_statements(self) -> Iterator[list[str]]:
        statements: list[str] = []

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "SELECT 1")):
                statements.append(statement)

        event.listen(self.engine.sync_engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", before)


@pytest.fixture
async def make_api(db_url: str) -> AsyncIterator[Any]:
    apps: list[Any] = []

    def factory(role: str = "admin", region: str = "410800", **settings: Any) -> Api:
        extra = settings.pop("extra", [EXAMPLE])
        app = create_app(settings_for(db_url, **settings), extra_plugins=extra)
        apps.append(app)
        return Api(app, role, region)

    yield factory
    for app in apps:
        await app.state.minzheng.engine.dispose()


@pytest.fixture
async def api(make_api: Any) -> Api:
    return make_api()  # type: ignore[no-any-return]
