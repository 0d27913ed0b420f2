"""``minzheng seed --demo``: the registry's demo data, then each plugin's."""

from __future__ import annotations

import datetime as dt
import inspect
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from minzheng.core import figures
from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.models import Household
from minzheng.core.plugins import LoadedPlugins
from minzheng.core.scope import SYSTEM


async def seed_demo(
    url: str,
    plugins: LoadedPlugins | None,
    *,
    households: int,
    seed: int,
    if_empty: bool = False,
    progress: Callable[[int], Any] | None = None,
    today: dt.date | None = None,
) -> int | None:
    """Seed ``households`` demo households and every enabled plugin's demo data.

    Deterministic: the same seed gives the same rows.  Each plugin gets its own
    ``random.Random`` derived from the seed and its name, so its data does not
    depend on which other plugins are enabled.  Returns the number of households
    seeded, or None when ``if_empty`` is set and the registry is not empty.
    """
    from minzheng.core import demo

    today = today or dt.date.today()
    engine = create_engine(url)
    try:
        factory = session_factory(engine)
        async with transaction(factory, principal=SYSTEM) as session:
            existing = await session.scalar(select(func.count()).select_from(Household))
        if if_empty and existing:
            return None
        await demo.seed_registry(
            engine, households=households, seed=seed, progress=progress, today=today
        )
        manager = plugins.manager if plugins is not None else None
        async with transaction(factory, principal=SYSTEM, plugins=manager) as session:
            if manager is not None:
                for impl in manager.hook.seed_demo.get_hookimpls():
                    name = manager.get_name(impl.plugin) or "?"
                    rng = random.Random(f"{seed}:{name}")
                    result = impl.function(session=session, rng=rng, today=today)
                    if inspect.isawaitable(result):
                        await result
                    await session.flush()
            # the division figures for dashboards, counted once the data is in
            await figures.refresh(session, manager, dt.date.today())
        return households
    finally:
        await engine.dispose()
