"""Fixtures of the security tests: a seeded database per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .dbkit import PG_URL, Db, create_db

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="MINZHENG_TEST_POSTGRES_URL is not set"),
        ],
    ),
]


@pytest_asyncio.fixture(scope="module", params=BACKENDS)
async def sdb(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Db]:
    """A seeded registry (two counties, three townships, four villages)."""
    db = await create_db(request.param, tmp_path_factory.mktemp("secdb"))
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def pg_only(sdb: Db) -> Db:
    if sdb.kind != "postgres":
        pytest.skip("PostgreSQL only")
    return sdb
