"""The ``minzheng`` command: serve, migrate, seed, plugins, schema."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from minzheng.core.plugins import LoadedPlugins, PluginError, describe, discover, load
from minzheng.core.settings import Settings, get_settings
from minzheng.gateway import cli_auth


def _fail(message: str) -> None:
    click.echo(f"minzheng: {message}", err=True)
    sys.exit(2)


def plugin_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a plugin failure into one clear line and exit status 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PluginError as exc:
            _fail(str(exc))

    return wrapper


def _load(settings: Settings) -> LoadedPlugins:
    return load(settings.plugins)


@click.group(help="minzheng-graph: the civil-affairs registry and its plugins.")
@click.version_option(package_name="minzheng-graph")
def main() -> None:
    pass


@main.command(help="Serve the GraphQL gateway with uvicorn.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@plugin_errors
def serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    from minzheng.gateway import logs
    from minzheng.gateway.app import create_app

    settings = get_settings()
    logs.configure(settings.log_level)
    demo_token = None
    if settings.demo:
        from minzheng.gateway.auth import prepare_demo

        try:
            demo_token = prepare_demo(settings, host, export=True)
        except RuntimeError as exc:
            _fail(str(exc))
    create_app(settings)  # fail fast, before any worker starts, on a plugin problem
    if settings.demo:
        click.echo(
            "*** DEMO SERVER: open access without credentials, demo data only. "
            "Never expose it beyond this machine. ***\n"
            f"*** A ready-made token (admin, 焦作市, 12 hours):\n{demo_token}",
            err=True,
        )
    uvicorn.run(
        "minzheng.gateway.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=False,
    )


@main.command(help="Upgrade the database: the core tree and every enabled plugin's branch.")
@click.option("--check", is_flag=True, help="Only check; exit 1 when the database is behind.")
@plugin_errors
def migrate(check: bool) -> None:
    from minzheng.core import migrate as m

    settings = get_settings()
    plugins = _load(settings)
    if check:
        behind = m.check(settings.database_url, plugins)
        if behind:
            click.echo(f"database is behind for: {', '.join(behind)}", err=True)
            sys.exit(1)
        click.echo("database is up to date")
        return
    m.upgrade(settings.database_url, plugins)
    click.echo(f"migrated: {', '.join(m.branches(plugins))}")


@main.command(help="Seed deterministic demo data (same seed, same data).")
@click.option("--demo", is_flag=True, required=True, help="Generate demo data.")
@click.option("--households", default=2000, show_default=True, type=click.IntRange(1))
@click.option("--seed", "seed_value", default=20211, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when households already exist.")
@plugin_errors
def seed(demo: bool, households: int, seed_value: int, if_empty: bool) -> None:
    from minzheng.core.seeding import seed_demo

    settings = get_settings()
    plugins = _load(settings)
    with click.progressbar(
        length=households, label="households", file=sys.stderr, show_pos=True
    ) as bar:
        done = asyncio.run(
            seed_demo(
                settings.database_url,
                plugins,
                households=households,
                seed=seed_value,
                if_empty=if_empty,
                progress=bar.update,
                today=dt.date.today(),
            )
        )
    click.echo(
        "database already has households; nothing seeded"
        if done is None
        else f"seeded {done} households"
    )


@main.command(help="Run every enabled plugin's daily tasks (suspensions, overdue reviews …).")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run as of this date (default today).",
)
@plugin_errors
def daily(on: dt.datetime | None) -> None:
    from minzheng.core.daily import run_daily

    settings = get_settings()
    day = on.date() if on else dt.date.today()
    report = asyncio.run(run_daily(settings.database_url, _load(settings), day))
    for name, summary in report.items():
        click.echo(f"{name}: {summary}")
    if not report:
        click.echo("no plugin has daily tasks")


@main.group(help="Pre-aggregated division figures (区划统计预汇总).")
def figures() -> None:
    pass


@figures.command("refresh", help="Count every division figure again (minzheng daily does this).")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Count as of this date (default today).",
)
@plugin_errors
def figures_refresh(on: dt.datetime | None) -> None:
    from minzheng.core import figures as pre
    from minzheng.core.db import create_engine, session_factory, transaction
    from minzheng.core.scope import SYSTEM

    settings = get_settings()
    plugins = _load(settings)
    day = on.date() if on else dt.date.today()

    async def run() -> dict[str, int]:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(
                session_factory(engine),
                principal=SYSTEM,
                plugins=plugins.manager,
                operation="figures:refresh",
            ) as session:
                return await pre.refresh(session, plugins.manager, day)
        finally:
            await engine.dispose()

    for name, rows in asyncio.run(run()).items():
        click.echo(f"{name}: {rows} figures as of {day.isoformat()}")


@figures.command("status", help="Show which figure sources are current, and for which day.")
@plugin_errors
def figures_status() -> None:
    from sqlalchemy import select

    from minzheng.core import figures as pre
    from minzheng.core.db import create_engine, session_factory, transaction
    from minzheng.core.models import RegionFigureSource
    from minzheng.core.scope import SYSTEM

    settings = get_settings()
    plugins = _load(settings)

    async def run() -> tuple[list[Any], dict[str, str]]:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(session_factory(engine), principal=SYSTEM) as session:
                rows = (
                    await session.execute(select(RegionFigureSource).order_by("name"))
                ).scalars()
                expected = pre.fingerprints(pre.sources_of(plugins.manager), engine.dialect)
                return list(rows), expected
        finally:
            await engine.dispose()

    rows, expected = asyncio.run(run())
    today = dt.date.today()
    for row in rows:
        if row.name not in expected:
            state = "not current: its plugin is not enabled"
        elif row.as_of is None:
            state = "not current: counted live (a write whose units are unknown)"
        elif row.as_of != today:
            state = "not current: counted live until refreshed for today"
        elif row.fingerprint != expected[row.name]:
            state = "not current: counted with other settings or code, counted live until refreshed"
        else:
            state = "current"
        as_of = row.as_of.isoformat() if row.as_of else "-"
        click.echo(f"{row.name:24} as of {as_of:10}  {state}")
    missing = sorted(set(expected) - {row.name for row in rows})
    for name in missing if rows else ():
        click.echo(
            f"{name:24} as of {'-':10}  not current: never counted (enabled since the last refresh)"
        )
    if not rows:
        click.echo("no figures yet: run `minzheng figures refresh` (or `minzheng daily`)")


@main.command(help="List installed plugins and whether they are enabled.")
def plugins() -> None:
    settings = get_settings()
    try:
        installed = discover()
    except PluginError as exc:
        _fail(str(exc))
        return
    statuses = describe(installed, settings.plugins)
    if not statuses:
        click.echo("no plugins installed")
    for st in sorted(statuses, key=lambda s: s.info.name):
        state = "enabled" if st.enabled else f"disabled ({st.reason})"
        requires = f"  requires: {', '.join(st.info.requires)}" if st.info.requires else ""
        click.echo(f"{st.info.name:20} {st.info.title:10} {st.info.version:8} {state}{requires}")


@main.command(help="Print the SDL of the graph the current settings compose.")
@plugin_errors
def schema() -> None:
    from minzheng.schema.builder import build_schema

    click.echo(str(build_schema(_load(get_settings()))).rstrip() + "\n", nl=False)


def _register_plugin_commands() -> None:
    try:
        plugins = load(get_settings().plugins)
    except PluginError:
        return  # reported by whichever command runs
    plugins.hook.register_commands(cli=main)


_register_plugin_commands()
cli_auth.register(main)


if __name__ == "__main__":
    main()
