"""Benchmark registries: generated once per size, cached, copied for each run.

SQLite files live in ``bench/data/`` (git-ignored); PostgreSQL databases are
created on the server given by ``--postgres``.  The cache key covers the
generator, the migrations, the enabled plugins, the seed and the month the
data was generated for, so a change to any of them regenerates.  Every run
works on a copy (the mutation and the personal-data audit write), never on
the cached registry itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import inspect
import json
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import plugin_data
from minzheng.core import demo, figures, migrate
from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.plugins import LoadedPlugins
from minzheng.core.scope import SYSTEM

DATA = Path(__file__).resolve().parent / "data"
SEED = 20211
#: persons per household in the generator (about); households = persons × 0.4
HOUSEHOLDS_PER_PERSON = 0.4
#: Plugins' ``seed_demo`` hooks drive their services case by case (the social-
#: assistance plugin needs ~27 s for 4,000 households and more than 10 minutes
#: for 40,000): above this many households the plugin rows come from the
#: set-based generator in :mod:`bench.plugin_data` instead.
PLUGIN_SEED_MAX_HOUSEHOLDS = 4_000


@dataclass
class Dataset:
    backend: str  # sqlite | postgres
    persons_target: int
    households: int
    url: str  # the working copy
    persons: int = 0
    cached: bool = False
    seed_seconds: float | None = None
    seed: dict[str, Any] = field(default_factory=dict)
    copy_seconds: float = 0.0
    #: counting every pre-aggregated division figure (None: already current)
    figures_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def households_for(persons: int) -> int:
    return max(1, round(persons * HOUSEHOLDS_PER_PERSON))


def today() -> dt.date:
    """Data is generated as of the first day of the current month."""
    return dt.date.today().replace(day=1)


def cache_key(plugins: LoadedPlugins, households: int, plugin_max: int) -> str:
    h = hashlib.sha256()
    h.update(inspect.getsource(demo).encode())
    for path in sorted(Path(migrate.__file__).parent.glob("migrations/versions/*.py")):
        h.update(path.read_bytes())
    for info in plugins.enabled:
        h.update(f"{info.name}={info.version};".encode())
        if info.migrations:
            for path in sorted(Path(info.migrations).glob("*.py")):
                h.update(path.read_bytes())
    if households > plugin_max:  # plugin rows from the bulk generator
        h.update(inspect.getsource(plugin_data).encode())
    h.update(f"{households}:{SEED}:{today().isoformat()}:{households <= plugin_max}".encode())
    return h.hexdigest()[:10]


async def _seed(
    url: str, plugins: LoadedPlugins, households: int, plugin_max: int
) -> dict[str, Any]:
    """Migrate, seed the registry (bulk), then every plugin's demo data (up to
    ``plugin_max`` households)."""
    started = time.perf_counter()
    migrate.upgrade(url, plugins)
    migrated = time.perf_counter() - started
    engine = create_engine(url)
    try:
        summary = await demo.seed_registry(engine, households, SEED, today=today())
        plugin_started = time.perf_counter()
        factory = session_factory(engine)
        seeded_plugins = households <= plugin_max
        hooks = plugins.manager.hook.seed_demo.get_hookimpls() if seeded_plugins else []
        async with transaction(factory, principal=SYSTEM, plugins=plugins.manager) as session:
            for impl in reversed(hooks):
                name = plugins.manager.get_name(impl.plugin) or "?"
                result = impl.function(
                    session=session, rng=random.Random(f"{SEED}:{name}"), today=today()
                )
                if inspect.isawaitable(result):
                    await result
                await session.flush()
        bulk: dict[str, Any] = {}
        if not seeded_plugins and plugins.enabled:
            bulk = await plugin_data.generate(engine, plugins, SEED, today())
        plugin_seconds = time.perf_counter() - plugin_started
        if url.startswith("sqlite"):
            async with engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await engine.dispose()
    return {
        "migrate_seconds": round(migrated, 2),
        "registry_seconds": round(summary.seconds, 2),
        "registry_wait_seconds": round(summary.wait_seconds, 2),
        "registry_write_seconds": round(summary.write_seconds, 2),
        "registry_index_seconds": round(summary.index_seconds, 2),
        "analyze_seconds": round(summary.analyze_seconds, 2),
        "plugin_seconds": round(plugin_seconds, 2),
        "plugin_data": [plugins.manager.get_name(i.plugin) for i in hooks]
        or (plugins.names() if bulk else []),
        "plugin_rows": bulk.get("rows", {}),
        "workers": summary.workers,
        "rows": summary.rows,
        "persons": summary.persons,
    }


def _sqlite_paths(households: int, key: str) -> tuple[Path, Path, Path]:
    cached = DATA / f"registry-{households}-{key}.db"
    return cached, cached.with_suffix(".json"), DATA / f"work-{households}.db"


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def sqlite_dataset(
    persons: int,
    plugins: LoadedPlugins,
    *,
    log: Any = print,
    plugin_max: int = PLUGIN_SEED_MAX_HOUSEHOLDS,
) -> Dataset:
    DATA.mkdir(parents=True, exist_ok=True)
    households = households_for(persons)
    key = cache_key(plugins, households, plugin_max)
    cached, meta_path, work = _sqlite_paths(households, key)
    ds = Dataset("sqlite", persons, households, f"sqlite+aiosqlite:///{work}")
    if cached.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        ds.cached = True
    else:
        for old in DATA.glob(f"registry-{households}-*"):
            old.unlink()
        building = cached.with_suffix(".building")
        _remove_sqlite(building)
        log(f"  generating {households:,} households into SQLite …")
        meta = await _seed(f"sqlite+aiosqlite:///{building}", plugins, households, plugin_max)
        building.rename(cached)
        meta_path.write_text(json.dumps(meta, indent=2))
        ds.seed_seconds = meta["registry_seconds"]
    ds.seed = meta
    ds.persons = meta["persons"]
    started = time.perf_counter()
    _remove_sqlite(work)
    shutil.copyfile(cached, work)
    ds.copy_seconds = time.perf_counter() - started
    ds.figures_seconds = await ensure_figures(ds.url, plugins)
    return ds


# ------------------------------------------------------------------ PostgreSQL


async def _pg_admin(url: str, *sql: str) -> list[Any]:
    import asyncpg

    admin = make_url(url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        out = []
        for statement in sql:
            out.append(await conn.fetch(statement))
        return out
    finally:
        await conn.close()


def _pg_url(url: str, database: str) -> str:
    base = make_url(url)
    if base.drivername in ("postgresql", "postgres"):
        base = base.set(drivername="postgresql+asyncpg")
    return base.set(database=database).render_as_string(hide_password=False)


async def postgres_dataset(
    server_url: str,
    persons: int,
    plugins: LoadedPlugins,
    *,
    log: Any = print,
    plugin_max: int = PLUGIN_SEED_MAX_HOUSEHOLDS,
) -> Dataset:
    households = households_for(persons)
    key = cache_key(plugins, households, plugin_max)
    cached, work = f"mzbench_{households}_{key}", f"mzbench_work_{households}"
    ds = Dataset("postgres", persons, households, _pg_url(server_url, work))
    (rows,) = await _pg_admin(
        server_url,
        f"SELECT datname, shobj_description(oid, 'pg_database') AS meta FROM pg_database "
        f"WHERE datname = '{cached}'",
    )
    if rows and rows[0]["meta"]:
        meta = json.loads(rows[0]["meta"])
        ds.cached = True
    else:
        stale = await _pg_admin(
            server_url,
            f"SELECT datname FROM pg_database WHERE datname LIKE 'mzbench_{households}_%'",
        )
        for row in stale[0]:
            await _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        await _pg_admin(server_url, f'CREATE DATABASE "{cached}"')
        log(f"  generating {households:,} households into PostgreSQL …")
        meta = await _seed(_pg_url(server_url, cached), plugins, households, plugin_max)
        comment = json.dumps(meta).replace("'", "''")
        await _pg_admin(server_url, f"COMMENT ON DATABASE \"{cached}\" IS '{comment}'")
        ds.seed_seconds = meta["registry_seconds"]
    ds.seed = meta
    ds.persons = meta["persons"]
    started = time.perf_counter()
    await _pg_admin(
        server_url,
        f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)',
        f'CREATE DATABASE "{work}" TEMPLATE "{cached}"',
    )
    ds.copy_seconds = time.perf_counter() - started
    ds.figures_seconds = await ensure_figures(ds.url, plugins)
    return ds


async def ensure_figures(url: str, plugins: LoadedPlugins) -> float | None:
    """Count the pre-aggregated division figures for today in the working copy
    unless every source already holds for today (a registry cached on an
    earlier day, as ``minzheng daily`` would at midnight); the seconds taken."""
    today = dt.date.today()
    engine = create_engine(url)
    try:
        factory = session_factory(engine)
        async with transaction(factory, principal=SYSTEM, plugins=plugins.manager) as session:
            state = (await session.execute(figures.STATE)).all()
            expected = figures.fingerprints(figures.sources_of(plugins.manager), engine.dialect)
            if figures.current_sources(state, expected, today) >= expected.keys():
                return None
            started = time.perf_counter()
            await figures.refresh(session, plugins.manager, today)
        return round(time.perf_counter() - started, 2)
    finally:
        await engine.dispose()


async def drop_postgres_work(server_url: str, ds: Dataset) -> None:
    work = make_url(ds.url).database
    await _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')


def run(coro: Any) -> Any:
    return asyncio.run(coro)
