"""Migrations: the core Alembic tree plus one branch per plugin.

Every *installed* plugin's version directory stays known to Alembic, so a
plugin disabled after its migrations ran does not break ``upgrade`` (its tables
stay, untouched); only the core and the *enabled* plugins are upgraded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy.ext.asyncio import AsyncEngine

from minzheng.core.plugins import LoadedPlugins, PluginInfo, installed_migration_dirs

HERE = Path(__file__).parent / "migrations"
CORE_BRANCH = "core"


def alembic_config(
    url: str, plugins: LoadedPlugins | None, extra: Sequence[PluginInfo] = ()
) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    dirs = [str(HERE / "versions"), *installed_migration_dirs(extra).values()]
    cfg.set_main_option("version_locations", " ".join(dict.fromkeys(dirs)))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    enabled = plugins.names() if plugins else []
    installed = [*installed_migration_dirs(extra)]
    cfg.attributes["foreign_prefixes"] = tuple(
        f"{name}_" for name in installed if name not in enabled
    )
    cfg.attributes["plugins"] = plugins
    return cfg


def branches(plugins: LoadedPlugins | None) -> list[str]:
    """Branches to keep at head: the core and every enabled plugin that has tables."""
    out = [CORE_BRANCH]
    if plugins is not None:
        out += [p.name for p in plugins.enabled if p.migrations]
    return out


def upgrade(url: str, plugins: LoadedPlugins | None, extra: Sequence[PluginInfo] = ()) -> None:
    """Upgrade the core and every enabled plugin's branch to head (idempotent).

    Alembic drives its own event loop, so when called from async code this runs
    in a worker thread (and blocks the caller until done)."""
    cfg = alembic_config(url, plugins, extra)

    def go() -> None:
        for branch in branches(plugins):
            command.upgrade(cfg, f"{branch}@head")

    outside_loop(go)


def outside_loop(fn: Any) -> Any:
    """Run the blocking ``fn`` here, or in a worker thread when an event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@dataclass
class MigrationState:
    current: set[str]
    #: branch → its head revision
    expected: dict[str, str]
    #: every revision at or below the database's current heads
    reached: set[str]

    @property
    def behind(self) -> list[str]:
        return [b for b, rev in self.expected.items() if rev not in self.reached]


async def state(
    engine: AsyncEngine, plugins: LoadedPlugins | None, extra: Sequence[PluginInfo] = ()
) -> MigrationState:
    """Which branches' heads the database has reached."""
    cfg = alembic_config(str(engine.url), plugins, extra)
    script = ScriptDirectory.from_config(cfg)

    def heads(conn: Any) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    async with engine.connect() as conn:
        current = await conn.run_sync(heads)
    expected = {b: script.get_revision(f"{b}@head").revision for b in branches(plugins)}
    reached: set[str] = set()
    for head in current:
        try:
            for rev in script.iterate_revisions(head, "base"):
                reached.add(rev.revision)
        except RevisionError:
            continue  # a branch of a plugin that is no longer installed

    return MigrationState(current=current, expected=expected, reached=reached)


def check(url: str, plugins: LoadedPlugins | None, extra: Sequence[PluginInfo] = ()) -> list[str]:
    """Branches that are behind their head (empty = up to date)."""
    from minzheng.core.db import create_engine

    async def go() -> list[str]:
        engine = create_engine(url)
        try:
            return (await state(engine, plugins, extra)).behind
        finally:
            await engine.dispose()

    return outside_loop(lambda: asyncio.run(go()))  # type: ignore[no-any-return]
