"""Migrations match the models; a region can disable and re-enable a plugin."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from factories import member, register
from sqlalchemy import text

from conftest import EXAMPLE, settings_for
from minzheng.core import db as db_module
from minzheng.core import migrate
from minzheng.core.db import Base, create_engine
from minzheng.core.plugins import load
from minzheng.gateway.app import create_app


async def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn):
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, Base.metadata)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_migrated_database_matches_the_models(db_url):
    load("all", extra=[EXAMPLE])  # every model in the metadata
    diff = await _diff(db_url)
    assert diff == [], diff


async def test_migrate_is_idempotent_and_check_reports_current(db_url):
    plugins = load("all", extra=[EXAMPLE])
    migrate.upgrade(db_url, plugins, [EXAMPLE])
    assert migrate.check(db_url, plugins, [EXAMPLE]) == []


async def test_check_reports_a_database_that_is_behind(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    plugins = load("all", extra=[EXAMPLE])
    assert "core" in migrate.check(url, plugins, [EXAMPLE])


async def test_disable_then_reenable_a_plugin_keeps_its_data(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'region.db'}"
    with_example = load(["example"], extra=[EXAMPLE])
    migrate.upgrade(url, with_example, [EXAMPLE])
    from conftest import Api

    engine = create_engine(url)
    from sqlalchemy import insert

    from minzheng.core.models import Region
    from minzheng.core.regions import demo_villages

    async with engine.begin() as conn:
        await conn.execute(insert(Region), [v.row() for v in demo_villages()])
    await engine.dispose()

    app = create_app(settings_for(url, plugins="example"), extra_plugins=[EXAMPLE])
    api = Api(app)
    h = await register(api, members=[member("甲")])
    await api.gql(
        """mutation($i: AddExampleNoteInput!) { addExampleNote(input: $i) { errors { code } } }""",
        {"i": {"personId": h["members"][0]["person"]["id"], "text": "keep me"}},
    )
    await app.state.minzheng.engine.dispose()

    # disabled: migrate works, the server starts, the fields are gone, the table stays
    core_only = load([], extra=[EXAMPLE])
    migrate.upgrade(url, core_only, [EXAMPLE])
    assert migrate.check(url, core_only, [EXAMPLE]) == []
    app = create_app(settings_for(url, plugins=""), extra_plugins=[EXAMPLE])
    api = Api(app)
    body = await api.gql("{ exampleNotes { text } }", expect_errors=True)
    assert "Cannot query field 'exampleNotes'" in body["errors"][0]["message"]
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    async with app.state.minzheng.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM example_note")) == 1
    await app.state.minzheng.engine.dispose()

    # enabled again: its data is back
    migrate.upgrade(url, with_example, [EXAMPLE])
    app = create_app(settings_for(url, plugins="example"), extra_plugins=[EXAMPLE])
    data = await Api(app).gql("{ exampleNotes { text } }")
    assert data == {"exampleNotes": [{"text": "keep me"}]}
    await app.state.minzheng.engine.dispose()


async def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_url):
    engine = create_engine(sqlite_url)
    async with engine.connect() as conn:
        assert (await conn.scalar(text("PRAGMA journal_mode"))).lower() == "wal"
        assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
    await engine.dispose()


async def test_postgres_plans_each_execution_for_its_parameters(db_url):
    """asyncpg prepares statements; a generic plan for a region range is the plan
    for the whole table, so the engine asks for custom plans."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            for _ in range(7):  # past the five runs after which a generic plan may be used
                rows = await conn.execute(
                    text("SELECT code FROM region WHERE code BETWEEN :lo AND :hi"),
                    {"lo": "410823000000", "hi": "410823999999"},
                )
                assert rows.all()
            assert await conn.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    finally:
        await engine.dispose()


async def test_postgres_pings_a_connection_only_after_it_was_idle(db_url, monkeypatch):
    """A connection back from a request a moment ago is handed out without a
    round trip; one idle for longer is pinged, and one that died meanwhile
    (the server ended it) is replaced without the caller seeing an error."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = create_engine(db_url)
    pings: list[bool] = []
    original = engine.sync_engine.dialect.do_ping

    def counting(dbapi_connection):  # type: ignore[no-untyped-def]
        try:
            alive = original(dbapi_connection)
        except Exception:
            pings.append(False)
            raise
        pings.append(alive)
        return alive

    monkeypatch.setattr(engine.sync_engine.dialect, "do_ping", counting)
    try:
        async with engine.connect() as conn:
            first_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        for _ in range(3):  # back a moment ago: no ping, the same connection
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT pg_backend_pid()")) == first_pid
        assert pings == []

        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if idle for long
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT pg_backend_pid()")) == first_pid
        assert pings == [True]

        # the server ends the pooled connection while it is idle
        other = create_engine(db_url, pool_pre_ping=False)
        async with other.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        await other.dispose()
        async with engine.connect() as conn:
            new_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        # the dead one failed its ping; its replacement was pinged too (the
        # window is 0 here) and answered
        assert new_pid != first_pid and pings[-2:] == [False, True]
    finally:
        await engine.dispose()


async def test_readyz_is_503_when_migrations_are_behind(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    app = create_app(settings_for(url), extra_plugins=[EXAMPLE])
    from conftest import Api

    api = Api(app)
    resp = await api.http.get("/readyz")
    assert resp.status_code == 503
    assert "core" in resp.json()["migrations_behind"]
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    await asyncio.sleep(0)
    await app.state.minzheng.engine.dispose()


async def test_daily_tasks_run_per_plugin_and_are_idempotent(make_api, db_url):
    import datetime as dt

    from minzheng.core.daily import run_daily

    api = make_api()
    h = await register(api, members=[member("日")])
    pid = h["members"][0]["person"]["id"]
    await api.gql(
        """mutation($i: AddExampleNoteInput!) { addExampleNote(input: $i) { errors { code } } }""",
        {"i": {"personId": pid, "text": "old"}},
    )
    later = dt.date.today() + dt.timedelta(days=400)
    plugins = load("all", extra=[EXAMPLE])
    first = await run_daily(db_url, plugins, later)
    assert first["example"] == {"archived": 1}
    second = await run_daily(db_url, plugins, later)
    assert second["example"] == {"archived": 0}
    data = await api.gql("{ exampleNotes { text } }")
    assert data["exampleNotes"] == [{"text": "[archived] old"}]
