"""``minzheng social-assistance …``: maintenance commands."""

from __future__ import annotations

import asyncio
import datetime as dt

import click


@click.group("social-assistance", help="社会救助 social assistance maintenance.")
def group() -> None:
    pass


@group.command(
    help="Close phase-outs whose last month is over and give notice to 特困 minors who "
    "have aged out (run daily; idempotent)."
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run as of this date (default: today).",
)
def sweep(today: dt.datetime | None) -> None:
    closed, minors = asyncio.run(run_sweep(today.date() if today else dt.date.today()))
    click.echo(f"closed {closed} finished phase-out(s); notice to {minors} minor(s)")


async def run_sweep(today: dt.date, url: str | None = None) -> tuple[int, int]:
    from minzheng.core.db import create_engine, session_factory, transaction
    from minzheng.core.plugins import load
    from minzheng.core.scope import SYSTEM
    from minzheng.core.settings import get_settings
    from minzheng.plugins.social_assistance.services import dibao, tekun

    settings = get_settings()
    plugins = load(settings.plugins)
    engine = create_engine(url or settings.database_url)
    try:
        async with transaction(
            session_factory(engine),
            principal=SYSTEM,
            plugins=plugins.manager,
            operation="social-assistance sweep",
        ) as s:
            closed = await dibao.close_finished_phase_outs(s, today)
            minors = await tekun.terminate_minors_aged_out(s, today)
        return len(closed), len(minors)
    finally:
        await engine.dispose()
