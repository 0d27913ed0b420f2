"""特困 cases: the three conditions with evidence, self-care, support and its end.

States (:class:`TekunStatus`)::

    APPLIED ─start_investigation→ INVESTIGATING ─submit_opinion→ NOTICE | PENDING_DECISION
    NOTICE ─close_notice (after 7 days)→ PENDING_DECISION
    PENDING_DECISION ─approve→ ACTIVE | ─refuse→ REFUSED
    ACTIVE ─terminate (7-day notice; effect next month) / death→ TERMINATED

The person's core enrolment (programme ``tekun``) follows: APPLIED, then ACTIVE
with basic living standard + care allowance from the month after approval, ENDED
after the last supported month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import audit
from minzheng.core.enrolments import current_enrolment, set_enrolment
from minzheng.core.errors import Conflict, NotFound, ValidationFailed
from minzheng.core.models import (
    DisabilityCategory,
    EnrolmentStatus,
    Household,
    HukouType,
    Membership,
    Person,
    Region,
    Whereabouts,
    utcnow,
)
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import (
    ConditionCode,
    DibaoCase,
    DibaoStatus,
    SelfCareAssessment,
    SocialAssistanceStandard,
    SupportMode,
    TekunCase,
    TekunCondition,
    TekunStatus,
    TekunSupporter,
)
from minzheng.plugins.social_assistance.services import common
from minzheng.plugins.social_assistance.services.common import LIMITS, TEKUN

ENTITY = "ExtremePovertySupportCase"
OPEN = (
    TekunStatus.APPLIED,
    TekunStatus.INVESTIGATING,
    TekunStatus.NOTICE,
    TekunStatus.PENDING_DECISION,
)
FINAL = (TekunStatus.TERMINATED, TekunStatus.REFUSED)
CONDITION_TITLES = {
    ConditionCode.UNABLE_TO_WORK: "无劳动能力",
    ConditionCode.NO_MEANS_OF_LIVING: "无生活来源",
    ConditionCode.NO_ABLE_SUPPORTER: "无法定义务人或义务人无履行义务能力",
}


@dataclass
class SupporterInput:
    name: str
    relation: str
    birth_date: dt.date | None = None
    person_id: int | None = None
    on_tekun: bool = False
    on_dibao: bool = False
    poor: bool = False
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = None
    lacks_capacity: bool = False
    missing: bool = False
    imprisoned: bool = False


async def get_case(session: AsyncSession, case_id: int) -> TekunCase:
    case = await session.get(TekunCase, case_id)
    if case is None:
        raise NotFound(ENTITY, case_id)
    return case


async def _load(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    allowed: tuple[TekunStatus, ...],
    action: str,
) -> TekunCase:
    case = await get_case(session, case_id)
    common.check_version(case, version, ENTITY)
    common.require_state(case, allowed, ENTITY, action)
    return case


async def person_area(session: AsyncSession, person: Person) -> HukouType:
    """Urban or rural: the household's hukou type, else the village's."""
    hukou = await session.scalar(
        select(Household.hukou_type)
        .join(Membership, Membership.household_id == Household.id)
        .where(Membership.person_id == person.id)
    )
    if hukou is not None:
        return HukouType(hukou)
    kind = await session.scalar(select(Region.urban_rural).where(Region.code == person.region_code))
    return HukouType(kind) if kind else HukouType.RURAL


async def _person(session: AsyncSession, person_id: int, field: str) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("Person", person_id)
    if person.died_on is not None:
        raise ValidationFailed(field, "person.dead", "the person has died")
    return person


async def _supporter_rows(
    session: AsyncSession, case: TekunCase, supporters: list[SupporterInput]
) -> list[TekunSupporter]:
    rows = []
    for i, s in enumerate(supporters):
        path = f"input.supporters.{i}"
        name = common.require_text(s.name, f"{path}.name", "a supporter's name")
        birth, category, grade = s.birth_date, s.disability_category, s.disability_grade
        on_tekun, on_dibao = s.on_tekun, s.on_dibao
        if s.person_id is not None:
            p = await session.get(Person, s.person_id)
            if p is None:
                raise ValidationFailed(f"{path}.personId", "not_found", "no such person")
            birth = p.birth_date
            category = category or p.disability_category
            grade = grade or p.disability_grade
            on_tekun = on_tekun or bool(
                await session.scalar(
                    select(TekunCase.id).where(
                        TekunCase.person_id == p.id, TekunCase.status == TekunStatus.ACTIVE
                    )
                )
            )
            from minzheng.plugins.social_assistance.services import dibao

            on_dibao = on_dibao or await dibao.person_is_covered(session, p.id)
        if birth is None:
            raise ValidationFailed(
                f"{path}.birthDate",
                "required",
                "a supporter's birth date (or their registry person)",
            )
        row = TekunSupporter(
            case_id=case.id,
            person_id=s.person_id,
            name=name,
            relation=s.relation or "",
            birth_date=birth,
            on_tekun=on_tekun,
            on_dibao=on_dibao,
            poor=s.poor,
            disability_category=category,
            disability_grade=grade,
            lacks_capacity=s.lacks_capacity,
            missing=s.missing,
            imprisoned=s.imprisoned,
        )
        row.place(case.region_code)
        rows.append(row)
    return rows


def supporter_facts(rows: list[TekunSupporter]) -> list[rules.SupporterFacts]:
    return [
        rules.SupporterFacts(
            name=r.name,
            birth_date=r.birth_date,
            relation=r.relation,
            on_tekun=r.on_tekun,
            on_dibao=r.on_dibao,
            poor=r.poor,
            disability_category=r.disability_category,
            disability_grade=r.disability_grade,
            lacks_capacity=r.lacks_capacity,
            missing=r.missing,
            imprisoned=r.imprisoned,
        )
        for r in rows
    ]


def _set_due(case: TekunCase) -> None:
    cal = common.calendar()
    if case.status in (TekunStatus.APPLIED, TekunStatus.INVESTIGATING):
        case.due_on = cal.add_working_days(case.applied_on, LIMITS.tekun_investigation)
    elif case.status == TekunStatus.NOTICE:
        assert case.notice_posted_on is not None
        case.due_on = case.notice_posted_on + dt.timedelta(days=LIMITS.notice_days)
    elif case.status == TekunStatus.PENDING_DECISION:
        received = case.file_received_on or case.applied_on
        case.due_on = cal.add_working_days(received, LIMITS.tekun_county_confirmation)
    elif case.status == TekunStatus.ACTIVE and case.self_care_changed_on is not None:
        case.due_on = cal.add_working_days(case.self_care_changed_on, LIMITS.self_care_reassessment)
    else:
        case.due_on = None


def deadlines(case: TekunCase, today: dt.date) -> list[rules.Deadline]:
    cal = common.calendar()
    out = [
        rules.deadline(
            "investigation",
            "乡镇调查核实",
            case.applied_on,
            LIMITS.tekun_investigation,
            today,
            cal,
            done_on=case.opinion_on or (case.decided_on if case.status in FINAL else None),
        ),
    ]
    if case.file_received_on is not None:
        out.append(
            rules.deadline(
                "confirmation",
                "县级确认",
                case.file_received_on,
                LIMITS.tekun_county_confirmation,
                today,
                cal,
                done_on=case.decided_on,
            )
        )
    if case.status == TekunStatus.ACTIVE and case.self_care_changed_on is not None:
        out.append(
            rules.deadline(
                "self_care_reassessment",
                "生活自理能力复评",
                case.self_care_changed_on,
                LIMITS.self_care_reassessment,
                today,
                cal,
            )
        )
    return out


async def _enrol(
    session: AsyncSession,
    case: TekunCase,
    status: EnrolmentStatus,
    start: dt.date,
    amount: int = 0,
) -> None:
    if (
        status == EnrolmentStatus.ENDED
        and await current_enrolment(session, TEKUN, person_id=case.person_id, reference=case.number)
        is None
    ):
        return
    await set_enrolment(
        session,
        programme=TEKUN,
        region_code=case.region_code,
        status=status,
        effective_from=start,
        monthly_amount_fen=amount,
        person_id=case.person_id,
        reference=case.number,
    )


# ------------------------------------------------------------------ procedure


async def apply(
    session: AsyncSession,
    *,
    person_id: int,
    support_mode: SupportMode,
    institution: str | None = None,
    supporters: list[SupporterInput] | None = None,
    applied_on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    today = today or dt.date.today()
    applied_on = common.check_date(applied_on, today, "input.appliedOn")
    person = await _person(session, person_id, "input.personId")
    other = await session.scalar(
        select(TekunCase).where(
            TekunCase.person_id == person.id, TekunCase.status.in_((*OPEN, TekunStatus.ACTIVE))
        )
    )
    if other is not None:
        raise Conflict(f"the person already has 特困 case {other.number} ({other.status.value})")
    if support_mode == SupportMode.INSTITUTIONAL:
        institution = common.require_text(
            institution, "input.institution", "the institution of institutional support"
        )
    area = await person_area(session, person)
    await common.standard_for(session, person.region_code, area, applied_on)
    case = TekunCase(
        person_id=person.id,
        status=TekunStatus.APPLIED,
        area=area,
        support_mode=support_mode,
        institution=institution,
        applied_on=applied_on,
    )
    case.place(person.region_code)
    _set_due(case)
    session.add(case)
    await session.flush()
    case.number = common.case_number("TK", person.region_code, applied_on, case.id)
    for row in await _supporter_rows(session, case, supporters or []):
        session.add(row)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.APPLIED, applied_on)
    audit.record(session, action="social_assistance.tekun.apply", entity=case)
    return case


async def start_investigation(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TekunStatus.APPLIED,), "start investigation")
    on = common.check_date(on, today, "input.on")
    before = audit.snapshot(case)
    case.status = TekunStatus.INVESTIGATING
    case.investigation_started_on = on
    _set_due(case)
    await session.flush()
    audit.record(session, action="social_assistance.tekun.investigate", entity=case, before=before)
    return case


async def evaluate_condition(
    session: AsyncSession,
    case: TekunCase | None,
    person: Person,
    code: ConditionCode,
    on: dt.date,
    *,
    evidence: list[str] | None = None,
    supporters: list[rules.SupporterFacts] | None = None,
) -> rules.Condition:
    """One condition from the registry's facts (and the case's supporters)."""
    ev = evidence or []
    if code == ConditionCode.UNABLE_TO_WORK:
        return rules.unable_to_work(common.person_facts(person), on, evidence=ev)
    if code == ConditionCode.NO_MEANS_OF_LIVING:
        area = case.area if case else await person_area(session, person)
        _row, std = await common.standard_for(session, person.region_code, area, on)
        household_id = await session.scalar(
            select(Membership.household_id).where(Membership.person_id == person.id)
        )
        if household_id is None:
            return rules.no_means_of_living(0, [], std, evidence=ev)
        facts = await common.household_facts(session, household_id)
        alone = [p.id for p in facts.living] == [person.id]
        income = rules.assess_income(
            facts.incomes, [person.id], on, std, include_household_records=alone
        )
        cond = rules.no_means_of_living(
            income.per_capita_fen, facts.holdings if alone else [], std, evidence=ev
        )
        return rules.Condition(
            cond.code, cond.title, cond.met, (*income.reasons, *cond.reasons), cond.evidence
        )
    return rules.no_able_supporter(supporters or [], on, evidence=ev)


async def _supporters(session: AsyncSession, case_id: int) -> list[TekunSupporter]:
    return list(
        await session.scalars(
            select(TekunSupporter)
            .where(TekunSupporter.case_id == case_id)
            .order_by(TekunSupporter.id)
        )
    )


async def record_condition(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    code: ConditionCode,
    evidence: list[str],
    supporters: list[SupporterInput] | None = None,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[TekunCase, rules.Condition]:
    """Record one condition with its evidence (证明材料) and the rules' verdict on it.
    For the supporter condition, ``supporters`` (when given) replaces the list."""
    today = today or dt.date.today()
    case = await _load(
        session,
        case_id,
        version,
        (TekunStatus.APPLIED, TekunStatus.INVESTIGATING),
        "record a condition",
    )
    on = common.check_date(on, today, "input.on")
    docs = common.require_documents(
        evidence, "input.evidence", f"evidence for {CONDITION_TITLES[code]}"
    )
    if supporters is not None:
        if code != ConditionCode.NO_ABLE_SUPPORTER:
            raise ValidationFailed(
                "input.supporters",
                "supporters.wrong_condition",
                "supporters belong to the supporter condition",
            )
        for old in await _supporters(session, case.id):
            await session.delete(old)
        await session.flush()
        for row in await _supporter_rows(session, case, supporters):
            session.add(row)
        await session.flush()
    person = await _person(session, case.person_id, "input.caseId")
    cond = await evaluate_condition(
        session,
        case,
        person,
        code,
        on,
        evidence=docs,
        supporters=supporter_facts(await _supporters(session, case.id)),
    )
    stored = await session.scalar(
        select(TekunCondition).where(TekunCondition.case_id == case.id, TekunCondition.code == code)
    )
    if stored is None:
        stored = TekunCondition(case_id=case.id, code=code)
        stored.place(case.region_code)
        session.add(stored)
    stored.met, stored.evidence, stored.assessed_on = cond.met, docs, on
    stored.reasons = common.reasons_json(cond.reasons)
    case.updated_at = utcnow()  # a new version: concurrent edits of the case conflict
    await session.flush()
    audit.record(session, action="social_assistance.tekun.condition", entity=stored)
    return case, cond


async def assess_self_care(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    managed: dict[rules.Activity, bool],
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[TekunCase, rules.SelfCareAssessment]:
    """生活自理能力评估; on an active case a new level changes the care allowance
    from the next month."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (*OPEN, TekunStatus.ACTIVE), "assess self-care")
    on = common.check_date(on, today, "input.on")
    result = rules.self_care_level(managed)
    row = SelfCareAssessment(
        case_id=case.id,
        assessed_on=on,
        level=result.level,
        **{a.value: managed[a] for a in rules.Activity},
    )
    row.place(case.region_code)
    session.add(row)
    before = audit.snapshot(case)
    changed = case.self_care_level != result.level
    case.self_care_level = result.level
    case.self_care_changed_on = case.self_care_change = None  # reassessed
    _set_due(case)
    if case.status == TekunStatus.ACTIVE and changed:
        start = rules.next_month(on)
        _row, std = await common.standard_for(session, case.region_code, case.area, start)
        case.monthly_amount_fen = rules.tekun_amount(result.level, std).amount_fen
        await session.flush()
        await _enrol(session, case, EnrolmentStatus.ACTIVE, start, case.monthly_amount_fen)
    await session.flush()
    audit.record(session, action="social_assistance.tekun.self_care", entity=case, before=before)
    return case, result


async def conditions_of(session: AsyncSession, case_id: int) -> dict[ConditionCode, TekunCondition]:
    rows = await session.scalars(select(TekunCondition).where(TekunCondition.case_id == case_id))
    return {r.code: r for r in rows}


async def submit_opinion(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    """The township's opinion: every condition recorded with evidence and a self-care
    assessment are required; all met → notice, otherwise → decision (to refuse)."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TekunStatus.INVESTIGATING,), "submit opinion")
    on = common.check_date(on, today, "input.on")
    conds = await conditions_of(session, case.id)
    for code in ConditionCode:
        if code not in conds or not conds[code].evidence:
            raise ValidationFailed(
                "input.caseId",
                "document.missing",
                f"{CONDITION_TITLES[code]} ({code.value}) has no recorded evidence",
            )
    if case.self_care_level is None:
        raise ValidationFailed(
            "input.caseId", "self_care.missing", "the self-care assessment is missing"
        )
    before = audit.snapshot(case)
    case.opinion_on = on
    if all(c.met for c in conds.values()):
        case.status = TekunStatus.NOTICE
        case.notice_posted_on = on
    else:
        case.status = TekunStatus.PENDING_DECISION
        case.file_received_on = on
    _set_due(case)
    await session.flush()
    audit.record(session, action="social_assistance.tekun.opinion", entity=case, before=before)
    return case


async def close_notice(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TekunStatus.NOTICE,), "close notice")
    on = common.check_date(on, today, "input.on")
    assert case.notice_posted_on is not None
    done = rules.notice_complete(case.notice_posted_on, on, LIMITS.notice_days)
    if not done.passed:
        raise Conflict(done.reasons[0].detail)
    before = audit.snapshot(case)
    case.status = TekunStatus.PENDING_DECISION
    case.file_received_on = on
    _set_due(case)
    await session.flush()
    audit.record(
        session, action="social_assistance.tekun.notice_closed", entity=case, before=before
    )
    return case


async def record_spot_check(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    findings: str,
    confirms: bool,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    """The county's own visit to a file awaiting its decision (抽查核实): what it
    found and whether that bears out the township's findings."""
    today = today or dt.date.today()
    case = await _load(
        session, case_id, version, (TekunStatus.PENDING_DECISION,), "record a spot check"
    )
    common.require_county(session, "a 特困 spot check")
    on = common.check_date(on, today, "input.on")
    received = case.file_received_on or case.applied_on
    if on < received:
        raise ValidationFailed(
            "input.on", "date.before_file", f"the file reached the county on {received}"
        )
    findings = common.require_text(findings, "input.findings", "the findings")
    if len(findings) > 500:
        raise ValidationFailed("input.findings", "text.too_long", "at most 500 characters")
    before = audit.snapshot(case)
    case.spot_checked_on, case.spot_check_findings = on, findings
    case.spot_check_confirms = confirms
    await session.flush()
    audit.record(session, action="social_assistance.tekun.spot_check", entity=case, before=before)
    return case


def confirmations(year: int, *columns: Any) -> Any:
    """``SELECT columns…, confirmed, spot-checked`` over the 特困 files confirmed
    (and not withdrawn since) in ``year``: the spot-check share's counts, to be
    narrowed and grouped by the caller."""
    return select(*columns, func.count(), func.count(TekunCase.spot_checked_on)).where(
        TekunCase.decided_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
        TekunCase.status.in_((TekunStatus.ACTIVE, TekunStatus.TERMINATED)),
    )


async def spot_check_share(session: AsyncSession, case: TekunCase, on: dt.date) -> rules.Verdict:
    """The rule for confirming ``case`` on ``on``: the county's 特困 confirmations
    of that year, and how many of them it spot-checked."""
    stmt = confirmations(on.year).where(
        TekunCase.county_code == case.county_code, TekunCase.id != case.id
    )
    approved, checked = (await session.execute(stmt)).one()
    return rules.spot_check_share(checked, approved, this_checked=case.spot_checked_on is not None)


async def approve(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    """County confirmation: support (basic standard + care allowance) from next month.

    The county spot-checks at least 30 % of the files it confirms in a year: a
    file it has not visited is refused while that share would fall below."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TekunStatus.PENDING_DECISION,), "approve")
    common.require_county(session, "特困 confirmation")
    on = common.check_date(on, today, "input.on")
    conds = await conditions_of(session, case.id)
    unmet = [CONDITION_TITLES[c] for c in ConditionCode if c not in conds or not conds[c].met]
    if unmet:
        raise ValidationFailed(
            "input.caseId", "not_eligible", "conditions not met: " + "、".join(unmet)
        )
    share = await spot_check_share(session, case, on)
    if not share.passed:
        raise ValidationFailed("input.caseId", "spot_check.required", share.reasons[0].detail)
    assert case.self_care_level is not None
    person = await _person(session, case.person_id, "input.caseId")
    start = rules.next_month(on)
    row, std = await common.standard_for(
        session, case.region_code, case.area, start, field="input.caseId"
    )
    before = audit.snapshot(case)
    case.status = TekunStatus.ACTIVE
    case.decided_on, case.decided_by = on, common.actor(session)
    case.payment_from = start
    case.standard_id = row.id
    case.started_as_minor = rules.age_on(person.birth_date, on) < 18
    case.monthly_amount_fen = rules.tekun_amount(case.self_care_level, std).amount_fen
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ACTIVE, start, case.monthly_amount_fen)
    # 特困 and 低保 are exclusive: leave a household's 低保 coverage
    household_id = await session.scalar(
        select(DibaoCase.household_id)
        .join(Membership, Membership.household_id == DibaoCase.household_id)
        .where(
            Membership.person_id == person.id,
            DibaoCase.status.in_((DibaoStatus.ACTIVE, DibaoStatus.PHASE_OUT)),
        )
    )
    if household_id is not None:
        from minzheng.plugins.social_assistance.services import dibao

        await dibao.on_member_left(session, person.id, household_id, on, "转为特困供养")
    audit.record(session, action="social_assistance.tekun.approve", entity=case, before=before)
    return case


async def refuse(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TekunStatus.PENDING_DECISION,), "refuse")
    common.require_county(session, "特困 confirmation")
    on = common.check_date(on, today, "input.on")
    reason = common.require_text(reason, "input.reason", "the reason for refusal")
    before = audit.snapshot(case)
    case.status = TekunStatus.REFUSED
    case.decided_on, case.decided_by, case.refusal_reason = on, common.actor(session), reason
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ENDED, on)
    audit.record(session, action="social_assistance.tekun.refuse", entity=case, before=before)
    return case


async def _terminate(
    session: AsyncSession,
    case: TekunCase,
    reason: rules.TerminationReason,
    note: str | None,
    notice_on: dt.date | None,
    ends_after: dt.date,
) -> None:
    case.status = TekunStatus.TERMINATED
    case.termination_reason, case.termination_note = reason, note
    case.termination_notice_on = notice_on
    case.ends_after = ends_after
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ENDED, ends_after + dt.timedelta(days=1))


async def terminate(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    reason: rules.TerminationReason,
    note: str | None = None,
    notice_on: dt.date | None = None,
    today: dt.date | None = None,
) -> TekunCase:
    """终止供养: after a 7-day notice, from the month after it ends (death: no notice,
    from the month after the death)."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TekunStatus.ACTIVE,), "terminate")
    common.require_county(session, "特困 termination")
    notice_on = common.check_date(notice_on, today, "input.noticeOn")
    if reason == rules.TerminationReason.OTHER:
        note = common.require_text(note, "input.note", "the reason")
    before = audit.snapshot(case)
    if reason == rules.TerminationReason.DIED:
        person = await session.get(Person, case.person_id)
        died = person.died_on if person and person.died_on else notice_on
        await _terminate(session, case, reason, note, None, rules.month_end(died))
    else:
        notice_end = notice_on + dt.timedelta(days=LIMITS.notice_days - 1)
        await _terminate(session, case, reason, note, notice_on, rules.month_end(notice_end))
    audit.record(session, action="social_assistance.tekun.terminate", entity=case, before=before)
    return case


async def on_person_died(session: AsyncSession, person_id: int, died_on: dt.date) -> None:
    cases = list(
        await session.scalars(
            select(TekunCase).where(
                TekunCase.person_id == person_id, TekunCase.status.in_((*OPEN, TekunStatus.ACTIVE))
            )
        )
    )
    for case in cases:
        before = audit.snapshot(case)
        if case.status == TekunStatus.ACTIVE:
            await _terminate(
                session, case, rules.TerminationReason.DIED, None, None, rules.month_end(died_on)
            )
        else:
            case.status = TekunStatus.TERMINATED
            case.termination_reason = rules.TerminationReason.DIED
            case.ends_after = died_on
            _set_due(case)
            await session.flush()
            await _enrol(session, case, EnrolmentStatus.ENDED, died_on)
        audit.record(session, action="social_assistance.tekun.died", entity=case, before=before)


#: person facts whose change calls for a self-care reassessment, with their names
HEALTH_FIELDS = {
    "disability_category": "残疾类别",
    "disability_grade": "残疾等级",
    "serious_illness": "重病",
    "labour_capacity": "劳动能力",
}


async def on_person_changed(
    session: AsyncSession, person_id: int, changes: dict[str, Any], today: dt.date
) -> list[TekunCase]:
    """特困 support ends when the person is imprisoned (依法被判处刑罚，且在监狱服刑):
    a person whose whereabouts become 服刑 gets termination notice from today,
    and support ends after the month the 7-day notice ends in.

    A change of health or disability (:data:`HEALTH_FIELDS`) calls for a new
    self-care assessment within 10 working days: the case records the change
    and is due then (overdue after); :func:`assess_self_care` clears it.

    Regained capacity to work is not acted on here: a case may rest on medical
    evidence the registry does not hold, so a changed disability grade alone
    does not show it; the county terminates such a case itself."""
    imprisoned = changes.get("whereabouts", (None, None))[1] == Whereabouts.IMPRISONED
    health = sorted(HEALTH_FIELDS.keys() & changes.keys())
    if not (imprisoned or health):
        return []
    cases = list(
        await session.scalars(
            select(TekunCase).where(
                TekunCase.person_id == person_id, TekunCase.status == TekunStatus.ACTIVE
            )
        )
    )
    for case in cases:
        if imprisoned:
            await _give_notice(
                session, case, rules.TerminationReason.IMPRISONED, "在监狱服刑", today, "imprisoned"
            )
            continue
        # 生活自理能力 to be reassessed within 10 working days of the change
        before = audit.snapshot(case)
        case.self_care_changed_on = today
        case.self_care_change = "、".join(HEALTH_FIELDS[f] for f in health)
        _set_due(case)
        await session.flush()
        audit.record(
            session, action="social_assistance.tekun.self_care_due", entity=case, before=before
        )
    return cases


async def _give_notice(
    session: AsyncSession,
    case: TekunCase,
    reason: rules.TerminationReason,
    note: str,
    today: dt.date,
    action: str,
) -> None:
    """Termination notice from ``today``, by the system: support ends after the
    month the 7-day notice ends in."""
    before = audit.snapshot(case)
    notice_end = today + dt.timedelta(days=LIMITS.notice_days - 1)
    await _terminate(session, case, reason, note, today, rules.month_end(notice_end))
    audit.record(session, action=f"social_assistance.tekun.{action}", entity=case, before=before)


async def terminate_minors_aged_out(session: AsyncSession, today: dt.date) -> list[TekunCase]:
    """Minors are supported until 18 (longer in school): give notice to those past it
    who are not unable to work on other grounds."""
    cases = list(
        await session.scalars(
            select(TekunCase).where(
                TekunCase.status == TekunStatus.ACTIVE, TekunCase.started_as_minor.is_(True)
            )
        )
    )
    out = []
    for case in cases:
        person = await session.get(Person, case.person_id)
        if person is None:
            continue
        facts = common.person_facts(person)
        if rules.minor_support_continues(facts, today).passed:
            continue
        if rules.unable_to_work(facts, today).met:
            continue
        await _give_notice(
            session,
            case,
            rules.TerminationReason.MINOR_AGED_OUT,
            "年满18周岁且不在校",
            today,
            "minor_aged_out",
        )
        out.append(case)
    return out


async def recompute_for_standard(
    session: AsyncSession, row: SocialAssistanceStandard, *, today: dt.date
) -> int:
    from minzheng.core import divisions

    lo, hi = divisions.parse(row.region_code).bounds
    cases = list(
        await session.scalars(
            select(TekunCase).where(
                TekunCase.status == TekunStatus.ACTIVE,
                TekunCase.area == row.area,
                TekunCase.region_code.between(lo, hi),
            )
        )
    )
    standard_of = common.StandardsOn(session, row.effective_from)
    changed = 0
    for case in cases:
        governing, std = await standard_of(case.region_code, case.area)
        if governing.id != row.id or case.self_care_level is None:
            continue
        amount = rules.tekun_amount(case.self_care_level, std).amount_fen
        if amount == case.monthly_amount_fen:
            continue
        case.monthly_amount_fen = amount
        case.standard_id = row.id
        await session.flush()
        start = max(row.effective_from, case.payment_from or row.effective_from)
        await _enrol(session, case, EnrolmentStatus.ACTIVE, start, amount)
        changed += 1
    return changed
