"""Eligibility explanations: every rule, its inputs and its verdict, for a caseworker.

Nothing is written: an explanation is the rules applied to today's registry
facts (and, where one exists, to the case's own records such as the covered
members and the supporters).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core.errors import NotFound
from minzheng.core.models import Membership, Person
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import (
    ConditionCode,
    DibaoCase,
    DibaoMember,
    TekunCase,
    TekunStatus,
)
from minzheng.plugins.social_assistance.services import common, dibao, near_poverty, tekun


@dataclass
class Explanation:
    programme: str
    eligible: bool
    amount_fen: int | None
    reasons: tuple[rules.Reason, ...]
    as_of: dt.date


async def _current_dibao_case(session: AsyncSession, household_id: int) -> DibaoCase | None:
    return await session.scalar(
        select(DibaoCase)
        .where(
            DibaoCase.household_id == household_id,
            DibaoCase.single_person.is_(False),
            DibaoCase.status.in_((*dibao.OPEN, *dibao.PAID)),
        )
        .order_by(DibaoCase.id.desc())
        .limit(1)
    )


async def explain_dibao(session: AsyncSession, household_id: int, today: dt.date) -> Explanation:
    """低保 for a household: its case's covered members, or every living member."""
    case = await _current_dibao_case(session, household_id)
    if case is not None:
        covered = [m.person_id for m in await dibao.covered_members(session, case.id)]
    else:
        covered = [p.id for p in (await common.household_facts(session, household_id)).living]
    if not covered:
        return Explanation(
            common.DIBAO,
            False,
            0,
            (rules.Reason("dibao.members", "保障成员", False, "没有健在的保障成员"),),
            today,
        )
    a = await dibao.assess(
        session,
        household_id,
        covered,
        single_person=False,
        on=today,
        case_id=case.id if case else None,
        field="householdId",
    )
    return Explanation(common.DIBAO, a.eligible, a.amount_fen, a.reasons, today)


async def explain_near_poverty(
    session: AsyncSession, household_id: int, today: dt.date
) -> Explanation:
    verdict, _income, _sid = await near_poverty.evaluate(
        session, household_id, today, field="householdId"
    )
    return Explanation(common.NEAR_POVERTY, verdict.passed, None, verdict.reasons, today)


async def explain_single_person(
    session: AsyncSession, person_id: int, today: dt.date
) -> Explanation:
    """单人户: this person covered alone."""
    household_id = await session.scalar(
        select(Membership.household_id).where(Membership.person_id == person_id)
    )
    if household_id is None:
        raise NotFound("Household of person", person_id)
    own = await session.scalar(
        select(DibaoCase.id)
        .join(DibaoMember, DibaoMember.case_id == DibaoCase.id)
        .where(
            DibaoMember.person_id == person_id,
            DibaoMember.removed_on.is_(None),
            DibaoCase.single_person.is_(True),
            DibaoCase.status.in_((*dibao.OPEN, *dibao.PAID)),
        )
    )
    a = await dibao.assess(
        session,
        household_id,
        [person_id],
        single_person=True,
        on=today,
        case_id=own,
        field="personId",
    )
    return Explanation("dibao_single", a.eligible, a.amount_fen, a.reasons, today)


async def explain_tekun(session: AsyncSession, person_id: int, today: dt.date) -> Explanation:
    """特困: the three conditions now; supporters and self-care from the latest case."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("Person", person_id)
    case = await session.scalar(
        select(TekunCase)
        .where(TekunCase.person_id == person_id)
        .order_by(TekunCase.id.desc())
        .limit(1)
    )
    reasons: list[rules.Reason] = []
    met = []
    for code in ConditionCode:
        if code == ConditionCode.NO_ABLE_SUPPORTER and case is None:
            reasons.append(
                rules.Reason(
                    "tekun.supporter", "法定义务人", None, "尚未登记义务人情况（须在申请中登记）"
                )
            )
            met.append(False)
            continue
        supporters = (
            tekun.supporter_facts(await tekun._supporters(session, case.id))
            if case is not None
            else []
        )
        cond = await tekun.evaluate_condition(
            session, case, person, code, today, supporters=supporters
        )
        reasons.append(
            rules.Reason(
                f"tekun.{code.value}", cond.title, cond.met, "满足" if cond.met else "不满足"
            )
        )
        reasons.extend(cond.reasons)
        met.append(cond.met)
    amount = None
    if case is not None and case.self_care_level is not None:
        _row, std = await common.standard_for(
            session, case.region_code, case.area, today, field="personId"
        )
        a = rules.tekun_amount(case.self_care_level, std)
        reasons.append(a.reason)
        amount = a.amount_fen
    if case is not None and case.status == TekunStatus.ACTIVE and case.started_as_minor:
        reasons.append(rules.minor_support_continues(common.person_facts(person), today))
    return Explanation(common.TEKUN, all(met), amount if all(met) else None, tuple(reasons), today)
