"""Demo data (every county's standards, cases in every state, deterministic) and the
daily sweep (finished phase-outs closed, minors who aged out given notice)."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections import Counter

from factories import id_number
from sqlalchemy import func, select

from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.models import HouseholdIncome, IncomeSource, Person, Relation
from minzheng.core.registry import HouseholdData, PersonData, register_household
from minzheng.core.scope import SYSTEM
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.demo import seed
from minzheng.plugins.social_assistance.models import (
    DibaoCase,
    ReserveFund,
    SocialAssistanceStandard,
    TekunCase,
    TemporaryCase,
)
from minzheng.plugins.social_assistance.services import dibao, tekun
from minzheng.plugins.social_assistance.tests.helpers import TODAY, months_ago

VILLAGES = ["410823101201", "410823102201", "410825101201", "410802001001", "410882100201"]


async def registry(session, rng: random.Random, n: int) -> None:
    """``n`` households with members and a year of income, poorer and richer."""
    for i in range(n):
        village = VILLAGES[i % len(VILLAGES)]
        size = rng.randint(1, 4)
        old = rng.random() < 0.3
        people = [
            PersonData(
                id_number=id_number(dt.date(1948 if old else 1978, 1 + i % 12, 3), village[:6]),
                name=f"户主{i}",
                relation=Relation.HEAD,
            )
        ]
        for j in range(size - 1):
            people.append(
                PersonData(
                    id_number=id_number(dt.date(2005 + j, 2, 2), village[:6]),
                    name=f"成员{i}-{j}",
                    relation=Relation.CHILD,
                )
            )
        hh = await register_household(session, HouseholdData(village, None, people))
        monthly = rng.choice([0, 10_000, 30_000, 60_000, 150_000, 400_000]) * size
        if monthly:
            row = HouseholdIncome(
                household_id=hh.id,
                source=IncomeSource.WAGES,
                period_start=months_ago(12),
                period_end=months_ago(0) - dt.timedelta(days=1),
                amount_fen=monthly * 12,
            )
            row.place(hh.region_code)
            session.add(row)
    await session.flush()


async def seeded(path) -> dict[str, object]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with transaction(session_factory(engine), principal=SYSTEM) as s:
        await registry(s, random.Random(7), 120)
        await seed(s, random.Random(20211), TODAY)
    async with transaction(session_factory(engine), principal=SYSTEM) as s:
        out = {
            "standards": await s.scalar(select(func.count(SocialAssistanceStandard.id))),
            "counties": await s.scalar(
                select(func.count(func.distinct(SocialAssistanceStandard.region_code)))
            ),
            "dibao": Counter(x.value for x in await s.scalars(select(DibaoCase.status))),
            "tekun": Counter(x.value for x in await s.scalars(select(TekunCase.status))),
            "temporary": await s.scalar(select(func.count(TemporaryCase.id))),
            "funds": await s.scalar(select(func.count(ReserveFund.id))),
            "numbers": list(await s.scalars(select(DibaoCase.number).order_by(DibaoCase.id))),
        }
    await engine.dispose()
    return out


async def test_demo_data_is_complete_and_deterministic(sqlite_template, tmp_path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    shutil.copy(sqlite_template, a)
    shutil.copy(sqlite_template, b)
    first, second = await seeded(a), await seeded(b)
    assert first == second
    assert first["counties"] == 11 and first["standards"] == 11 * 2 * 2
    assert first["funds"] >= 5
    dibao_states = first["dibao"]
    assert sum(dibao_states.values()) == round(120 * 0.06)
    assert dibao_states["active"] >= 1
    assert first["temporary"] >= 1


async def test_sweep_closes_finished_phase_outs_and_minors(sqlite_url) -> None:
    from minzheng.core.daily import run_daily
    from minzheng.core.plugins import load

    async def run_sweep(today: dt.date, url: str) -> tuple[int, int]:
        report = (await run_daily(url, load(["social_assistance"]), today))["social_assistance"]
        return report["phase_outs_closed"], report["minors_given_notice"]

    engine = create_engine(sqlite_url)
    factory = session_factory(engine)
    long_ago = TODAY - dt.timedelta(days=600)
    async with transaction(factory, principal=SYSTEM) as s:
        from minzheng.plugins.social_assistance.demo import seed_standards

        await seed_standards(s)
        village = "410823101201"
        hh = await register_household(
            s,
            HouseholdData(
                village,
                None,
                [
                    PersonData(
                        id_number=id_number(dt.date(1970, 1, 1)), name="甲", relation=Relation.HEAD
                    )
                ],
            ),
        )
        person = (await s.scalars(select(Person).where(Person.name == "甲"))).one()
        case = await dibao.apply(
            s,
            household_id=hh.id,
            applicant_id=person.id,
            covered_ids=[person.id],
            applied_on=long_ago,
        )
        await dibao.start_investigation(s, case.id, None, on=long_ago)
        await dibao.submit_opinion(s, case.id, None, eligible=True, on=long_ago)
        await dibao.close_notice(s, case.id, None, on=long_ago + dt.timedelta(days=7))
        _case, a = await dibao.approve(s, case.id, None, on=long_ago + dt.timedelta(days=8))
        await dibao._start_phase_out(s, case, a.standard, months_ago(13))
        assert case.phase_out_last_month == months_ago(2)
        dibao_pk = case.id

        # a minor supported from 15, now 18 and out of school
        birth = TODAY - dt.timedelta(days=18 * 365 + 30)
        await register_household(
            s,
            HouseholdData(
                village,
                None,
                [PersonData(id_number=id_number(birth), name="乙", relation=Relation.HEAD)],
            ),
        )
        child = (await s.scalars(select(Person).where(Person.name == "乙"))).one()
        at15 = birth + dt.timedelta(days=15 * 365 + 200)
        t = await tekun.apply(
            s, person_id=child.id, support_mode=tekun.SupportMode.DISPERSED, applied_on=at15
        )
        await tekun.start_investigation(s, t.id, None, on=at15)
        for code in tekun.ConditionCode:
            await tekun.record_condition(s, t.id, None, code=code, evidence=["证明"], on=at15)
        await tekun.assess_self_care(
            s, t.id, None, managed={x: True for x in rules.Activity}, on=at15
        )
        await tekun.submit_opinion(s, t.id, None, on=at15)
        await tekun.close_notice(s, t.id, None, on=at15 + dt.timedelta(days=7))
        await tekun.record_spot_check(
            s, t.id, None, findings="入户核实", confirms=True, on=at15 + dt.timedelta(days=8)
        )
        await tekun.approve(s, t.id, None, on=at15 + dt.timedelta(days=8))
        assert t.started_as_minor is True
        tekun_pk = t.id
    closed, minors = await run_sweep(TODAY, sqlite_url)
    assert (closed, minors) == (1, 1)
    async with transaction(factory, principal=SYSTEM) as s:
        row = await s.get(DibaoCase, dibao_pk)
        assert (row.status.value, row.close_reason) == ("closed", "渐退期满")
        assert row.closed_on == rules.month_end(months_ago(2))
        t = await s.get(TekunCase, tekun_pk)
        assert t.status.value == "terminated" and t.termination_reason.value == "minor_aged_out"
    assert await run_sweep(TODAY, sqlite_url) == (0, 0)  # idempotent
    await engine.dispose()


async def test_the_daily_run_warns_before_deadlines_reach_an_unlisted_year(
    sqlite_url, caplog
) -> None:
    from minzheng.core.daily import run_daily
    from minzheng.core.plugins import load

    plugins = load(["social_assistance"])
    with caplog.at_level("WARNING", logger="minzheng.social_assistance"):
        autumn = await run_daily(sqlite_url, plugins, dt.date(2026, 9, 1))
        winter = await run_daily(sqlite_url, plugins, dt.date(2026, 12, 2))
    assert autumn["social_assistance"]["calendar_years_missing"] == 0
    assert winter["social_assistance"]["calendar_years_missing"] == 1
    warned = [r.getMessage() for r in caplog.records if "calendar" in r.getMessage()]
    assert len(warned) == 1 and "2027" in warned[0]
    assert "MINZHENG_SOCIAL_ASSISTANCE_HOLIDAYS_FILE" in warned[0]
