"""Demo data: deterministic, realistic proportions, every state present."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import func, insert, select

from minzheng.core.db import Base, create_engine, session_factory
from minzheng.core.models import Person, Region
from minzheng.core.regions import demo_villages, jiaozuo
from minzheng.plugins.disability import demo
from minzheng.plugins.disability.models import (
    DisabilityApplication,
    DisabilityGrant,
    DisabilityVerificationCycle,
)
from minzheng.plugins.disability.rules import ApplicationState, GrantStatus

from .conftest import TODAY, Registry
from .helpers import D

VILLAGES = [v.code for v in demo_villages(2)]


async def _seeded(path: Path, plugins, seed: int = 7):
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(insert(Region), [d.row() for d in (*jiaozuo(), *demo_villages(2))])
    registry = Registry(session_factory(engine), plugins)
    people = random.Random(1)
    async with registry.tx() as s:
        for _ in range(1000):
            await registry.person(
                s,
                region=people.choice(VILLAGES),
                birth=D(people.randint(1940, 2015), people.randint(1, 12), people.randint(1, 28)),
                category=None,
                grade=None,
            )
    async with registry.tx() as s:
        summary = await demo.seed(s, random.Random(seed), TODAY)
    async with registry.tx() as s:
        grants = (
            await s.execute(
                select(
                    DisabilityGrant.person_id, DisabilityGrant.subsidy, DisabilityGrant.status
                ).order_by(DisabilityGrant.id)
            )
        ).all()
        states = dict(
            (
                await s.execute(
                    select(DisabilityApplication.state, func.count()).group_by(
                        DisabilityApplication.state
                    )
                )
            ).all()
        )
        holders = await s.scalar(
            select(func.count()).select_from(Person).where(Person.disability_grade.is_not(None))
        )
        cycles = (await s.scalars(select(DisabilityVerificationCycle))).all()
    await engine.dispose()
    return summary, grants, states, holders, cycles


async def test_demo_is_deterministic_and_covers_every_state(tmp_path, plugins) -> None:
    summary, grants, states, holders, cycles = await _seeded(tmp_path / "a.db", plugins)
    again = await _seeded(tmp_path / "b.db", plugins)
    assert (summary, grants) == again[:2]
    assert holders == 30  # 3 % of 1,000
    assert {s for _, _, s in grants} == set(GrantStatus)
    assert set(states) == set(ApplicationState)
    assert any(c.opens_on <= TODAY <= c.deadline for c in cycles)
    assert summary["suspended_overdue"] >= 1 and summary["verifications"] > 0
    assert summary["care_arrangements"] >= 1 and summary["rehabilitation"] >= 1
