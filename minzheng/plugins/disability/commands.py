"""``minzheng disability …``: bulk import of verification results, the deadline sweep."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.errors import DomainError
from minzheng.core.plugins import load
from minzheng.core.scope import SYSTEM
from minzheng.core.settings import get_settings


async def _in_transaction(work: Any, *, operation: str, today: dt.date | None = None) -> Any:
    settings = get_settings()
    plugins = load(settings.plugins)
    engine = create_engine(settings.database_url)
    info: dict[str, Any] = {"principal": SYSTEM, "plugins": plugins.manager, "operation": operation}
    if today is not None:
        info["today"] = today
    try:
        async with transaction(session_factory(engine), **info) as session:
            return await work(session)
    finally:
        await engine.dispose()


@click.group(help="残疾人: the two subsidies, survival verification, services.")
def disability() -> None:
    pass


@disability.command(
    "import-verifications",
    help="Import survival-verification results from a CSV or XLSX file (headings 身份证号, "
    "姓名, 验证方式, 验证结果, 验证时间, 备注). Bad rows are listed with their line numbers; "
    "exit status 1 when some rows were refused, 2 when nothing was written.",
)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all-or-nothing", is_flag=True, help="Refuse the whole file if any row is bad.")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default=None)
def import_verifications(path: Path, all_or_nothing: bool, file_format: str | None) -> None:
    from minzheng.plugins.disability.imports import import_verifications as run_import

    content = path.read_bytes()

    async def work(session: Any) -> Any:
        return await run_import(
            session,
            content,
            filename=path.name,
            file_format=file_format,
            all_or_nothing=all_or_nothing,
        )

    try:
        report = asyncio.run(_in_transaction(work, operation="disability:import-verifications"))
    except DomainError as exc:
        click.echo(f"minzheng: {exc.message}", err=True)
        sys.exit(2)
    for error in report.errors:
        click.echo(f"line {error.line}: {error.reason}", err=True)
    if report.refused:
        click.echo(f"refused: {len(report.errors)} bad rows of {report.rows}; nothing written")
        sys.exit(2)
    click.echo(
        f"{report.rows} rows: {report.applied} recorded, {report.unchanged} already recorded, "
        f"{len(report.errors)} refused"
    )
    if report.errors:
        sys.exit(1)


@disability.command(
    "suspend-overdue",
    help="Suspend grants not verified by their cycle's deadline (what `minzheng daily` does).",
)
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def suspend_overdue(on: dt.datetime | None) -> None:
    from minzheng.plugins.disability.services import sweep_due_cycles

    day = on.date() if on else dt.date.today()

    async def work(session: Any) -> Any:
        return await sweep_due_cycles(session, day)

    summary = asyncio.run(_in_transaction(work, operation="disability:suspend-overdue", today=day))
    click.echo(f"{summary['cycles_swept']} cycles swept, {summary['suspended']} grants suspended")
