"""``minzheng daily``: each enabled plugin's date-driven work, one transaction each,
then the division figures counted again for the day."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any

from minzheng.core import audit, figures
from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.plugins import LoadedPlugins
from minzheng.core.scope import SYSTEM


async def run_daily(url: str, plugins: LoadedPlugins, today: dt.date) -> dict[str, Any]:
    """Run ``run_daily`` of every plugin; a plugin that fails rolls back only its own
    work and is reported, the others still run."""
    engine = create_engine(url)
    report: dict[str, Any] = {}
    try:
        factory = session_factory(engine)
        for impl in plugins.manager.hook.run_daily.get_hookimpls():
            name = plugins.manager.get_name(impl.plugin) or "?"
            try:
                async with transaction(
                    factory, principal=SYSTEM, plugins=plugins.manager, operation=f"daily:{name}"
                ) as session:
                    result = impl.function(session=session, today=today)
                    if inspect.isawaitable(result):
                        result = await result
                    audit.record(
                        session,
                        action="daily.run",
                        entity_type="plugin",
                        entity_id=name,
                        after={"date": today.isoformat(), "summary": audit.jsonable(result)},
                    )
                report[name] = result if result is not None else "done"
            except Exception as exc:
                report[name] = f"FAILED: {type(exc).__name__}: {exc}"
        # ages and deadlines moved with the date: count the division figures again
        async with transaction(
            factory, principal=SYSTEM, plugins=plugins.manager, operation="daily:figures"
        ) as session:
            rows = await figures.refresh(session, plugins.manager, today)
        report["figures"] = {"as_of": today.isoformat(), "rows": sum(rows.values())}
    finally:
        await engine.dispose()
    return report
