"""低保边缘家庭: determined from income against the configured multiple.

A household found near-poverty holds an open core enrolment in programme
``near_poverty`` (amount 0), so other plugins and dashboards see it; it ends
when a later determination finds otherwise or the household enters 低保.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import audit
from minzheng.core.enrolments import current_enrolment, set_enrolment
from minzheng.core.errors import ValidationFailed
from minzheng.core.models import EnrolmentStatus
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import (
    DibaoCase,
    DibaoStatus,
    NearPovertyDetermination,
)
from minzheng.plugins.social_assistance.services import common
from minzheng.plugins.social_assistance.services.common import NEAR_POVERTY


async def household_on_dibao(session: AsyncSession, household_id: int) -> bool:
    """A household-wide (not 单人户) 低保 case is being paid."""
    return bool(
        await session.scalar(
            select(DibaoCase.id)
            .where(
                DibaoCase.household_id == household_id,
                DibaoCase.single_person.is_(False),
                DibaoCase.status.in_((DibaoStatus.ACTIVE, DibaoStatus.PHASE_OUT)),
            )
            .limit(1)
        )
    )


async def evaluate(
    session: AsyncSession, household_id: int, on: dt.date, *, field: str = "input.householdId"
) -> tuple[rules.Verdict, rules.IncomeAssessment, int]:
    """(verdict, income over the living members, standard id) — nothing written."""
    facts = await common.household_facts(session, household_id)
    living = [p.id for p in facts.living]
    if not living:
        raise ValidationFailed(field, "members.none", "the household has no living member")
    hh = facts.household
    row, std = await common.standard_for(session, hh.region_code, hh.hukou_type, on, field=field)
    income = rules.assess_income(facts.incomes, living, on, std)
    verdict = rules.near_poverty(
        income.per_capita_fen,
        len(living),
        facts.holdings,
        std,
        on_dibao=await household_on_dibao(session, household_id),
    )
    return rules.Verdict(verdict.passed, (*income.reasons, *verdict.reasons)), income, row.id


async def determine(
    session: AsyncSession,
    household_id: int,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> NearPovertyDetermination:
    """Evaluate, store the determination, and open or end the household's enrolment."""
    today = today or dt.date.today()
    on = common.check_date(on, today, "input.on")
    verdict, income, standard_id = await evaluate(session, household_id, on)
    facts_region = (await common.household_facts(session, household_id)).household.region_code
    row = NearPovertyDetermination(
        household_id=household_id,
        determined_on=on,
        near_poverty=verdict.passed,
        per_capita_income_fen=income.per_capita_fen,
        members=income.members,
        reasons=common.reasons_json(verdict.reasons),
        standard_id=standard_id,
    )
    row.place(facts_region)
    session.add(row)
    await session.flush()
    if verdict.passed:
        await set_enrolment(
            session,
            programme=NEAR_POVERTY,
            region_code=facts_region,
            status=EnrolmentStatus.ACTIVE,
            effective_from=on,
            household_id=household_id,
        )
    else:
        await end_for_household(session, household_id, on)
    audit.record(session, action="social_assistance.near_poverty.determine", entity=row)
    return row


async def end_for_household(session: AsyncSession, household_id: int, on: dt.date) -> None:
    open_row = await current_enrolment(session, NEAR_POVERTY, household_id=household_id)
    if open_row is None:
        return
    await set_enrolment(
        session,
        programme=NEAR_POVERTY,
        region_code=open_row.region_code,
        status=EnrolmentStatus.ENDED,
        effective_from=on,
        household_id=household_id,
    )


async def on_income_recorded(session: AsyncSession, household_id: int, today: dt.date) -> None:
    """Re-determine a household that is currently near-poverty."""
    if await current_enrolment(session, NEAR_POVERTY, household_id=household_id) is not None:
        await determine(session, household_id, on=today, today=today)
