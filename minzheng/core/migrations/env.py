"""Alembic environment for the core tree and every plugin branch.

Run through :mod:`minzheng.core.migrate` (``minzheng migrate``), which puts the
engine URL and the loaded plugins on ``config.attributes``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

import minzheng.core.auth
import minzheng.core.models
import minzheng.core.persisted  # noqa: F401  (persisted_query)
from minzheng.core import rls
from minzheng.core.db import Base, create_engine

config = context.config


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # tables of installed-but-disabled plugins stay in the database untouched
    if type_ == "table" and reflected and compare_to is None:
        prefixes = config.attributes.get("foreign_prefixes", ())
        if name and (name.startswith(tuple(prefixes)) or name == "alembic_version"):
            return False
    return True


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        # data migrations see every region; scoped tables get their policies
        rls.enter_system_scope(connection)
        context.run_migrations()
        rls.apply_policies(connection)


async def run_async() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as conn:
        await conn.run_sync(do_run_migrations)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async())
