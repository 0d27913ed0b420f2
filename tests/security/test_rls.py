"""Row-level security on PostgreSQL: the second wall, which even raw SQL on the
application's own connection cannot pass."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from minzheng.core import rls
from minzheng.core.scope import SYSTEM, Principal

from .dbkit import PG_URL, T1, T3, WUZHI, Db, persons_in

RAW = {"region_scope_checked": True}


def who(region: str) -> Principal:
    return Principal(subject="rls", roles=frozenset({"caseworker"}), region=region)


async def test_settings_for_principals() -> None:
    assert rls.settings_for(None)["scope"] == "none"
    assert rls.settings_for(SYSTEM) == {"scope": "all", "lo": "", "hi": ""}
    assert rls.settings_for(who(T1)) == {
        "scope": "region",
        "lo": "410823101000",
        "hi": "410823101999",
    }


async def test_policies_are_a_noop_on_sqlite(sdb: Db) -> None:
    if sdb.kind != "sqlite":
        pytest.skip("SQLite only")
    async with sdb.engine.begin() as conn:
        assert await conn.run_sync(rls.apply_policies) == []
        assert await conn.run_sync(rls.problems) == []


async def test_app_role_is_enforced(pg_only: Db) -> None:
    async with pg_only.engine.connect() as conn:
        assert await conn.run_sync(rls.problems) == []


async def test_raw_sql_in_a_scoped_session_sees_only_the_scope(pg_only: Db) -> None:
    async with pg_only.session(who(T1)) as s:
        ids = (
            (await s.execute(text("SELECT id FROM person ORDER BY id").execution_options(**RAW)))
            .scalars()
            .all()
        )
        notes = (
            await s.execute(text("SELECT count(*) FROM example_note").execution_options(**RAW))
        ).scalar()
    assert list(ids) == persons_in(pg_only, T1)
    assert notes == len(persons_in(pg_only, T1))


async def test_a_connection_without_a_principal_sees_no_scoped_row(pg_only: Db) -> None:
    async with pg_only.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM person"))).scalar() == 0
        assert (await conn.execute(text("SELECT count(*) FROM example_note"))).scalar() == 0
        assert (await conn.execute(text("SELECT count(*) FROM region"))).scalar() > 0
    async with pg_only.session(None) as s:
        assert (await s.execute(text("SELECT count(*) FROM person"))).scalar() == 0


async def test_the_scope_does_not_outlive_its_transaction(pg_only: Db) -> None:
    async with pg_only.engine.connect() as conn:
        async with conn.begin():
            await conn.run_sync(rls.set_scope, who(WUZHI))
            n = (await conn.execute(text("SELECT count(*) FROM person"))).scalar()
            assert n == len(persons_in(pg_only, WUZHI))
        async with conn.begin():
            assert (await conn.execute(text("SELECT count(*) FROM person"))).scalar() == 0


async def test_raw_writes_out_of_scope_are_refused_by_the_database(pg_only: Db) -> None:
    before = await pg_only.count("example_note")
    with pytest.raises(DBAPIError, match="row-level security"):
        async with pg_only.session(who(T1)) as s:
            await s.execute(
                text(
                    "INSERT INTO example_note (text, person_id, written_on, region_code) "
                    "VALUES ('x', (SELECT min(id) FROM person), '2024-01-01', :r)"
                ).execution_options(**RAW),
                {"r": T3 + "201"},
            )
    # updates cannot reach rows out of scope, nor move rows out of it
    async with pg_only.session(who(T1)) as s:
        r = await s.execute(
            text(
                "UPDATE example_note SET text = 'hit' WHERE region_code LIKE :r"
            ).execution_options(**RAW),
            {"r": T3 + "%"},
        )
        assert r.rowcount == 0
    with pytest.raises(DBAPIError, match="row-level security"):
        async with pg_only.session(who(T1)) as s:
            await s.execute(
                text("UPDATE example_note SET region_code = :r").execution_options(**RAW),
                {"r": T3 + "201"},
            )
    async with pg_only.session(who(T1)) as s:
        r = await s.execute(text("DELETE FROM example_note").execution_options(**RAW))
        await s.rollback()
    assert await pg_only.count("example_note") == before
    assert await pg_only.count("example_note", "text = 'hit'") == 0


async def test_without_force_the_owner_would_bypass(pg_only: Db) -> None:
    """Why FORCE ROW LEVEL SECURITY: the app role owns the tables here."""
    async with pg_only.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE person NO FORCE ROW LEVEL SECURITY"))
        problems = await conn.run_sync(rls.problems)
        assert any("person" in p and "not forced" in p for p in problems)
        await conn.run_sync(rls.set_scope, who(T1))
        leaked = (await conn.execute(text("SELECT count(*) FROM person"))).scalar()
        assert leaked > len(persons_in(pg_only, T1))
        covered = await conn.run_sync(rls.apply_policies)
        assert "person" in covered
        assert (await conn.execute(text("SELECT count(*) FROM person"))).scalar() == len(
            persons_in(pg_only, T1)
        )
        assert await conn.run_sync(rls.problems) == []


async def test_another_permissive_policy_cannot_widen_the_scope(pg_only: Db) -> None:
    async with pg_only.engine.begin() as conn:
        await conn.execute(text("CREATE POLICY everyone ON person USING (true)"))
        await conn.run_sync(rls.set_scope, who(T1))
        n = (await conn.execute(text("SELECT count(*) FROM person"))).scalar()
        await conn.execute(text("DROP POLICY everyone ON person"))
    assert n == len(persons_in(pg_only, T1))


async def test_superuser_is_reported(pg_only: Db) -> None:
    from minzheng.core.db import create_engine

    assert PG_URL
    engine = create_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            problems = await conn.run_sync(rls.problems)
    finally:
        await engine.dispose()
    assert any("superuser" in p for p in problems)
