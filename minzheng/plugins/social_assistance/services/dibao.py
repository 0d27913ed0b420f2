"""低保 cases: the procedure, amounts, reviews, phase-out and reactions to events.

States (:class:`DibaoStatus`)::

    APPLIED ─start_investigation→ INVESTIGATING ─submit_opinion(eligible)→ NOTICE
    NOTICE ─record_objection→ INVESTIGATING (a new first opinion; 45-day limit)
    NOTICE ─close_notice (after 7 days)→ PENDING_DECISION
    INVESTIGATING ─submit_opinion(not eligible)→ PENDING_DECISION
    PENDING_DECISION ─approve→ ACTIVE | ─refuse→ REFUSED
    ACTIVE ─(income above the standard, within the phase-out line)→ PHASE_OUT
    ACTIVE, PHASE_OUT ─close / review above the line / phase-out ends→ CLOSED
    APPLIED … PENDING_DECISION ─withdraw→ CLOSED

The household's core enrolment (programme ``dibao``, reference = case number)
follows: APPLIED from the application, ACTIVE with the amount from the month
after approval, PHASE_OUT for the phase-out months, ENDED after.

Work offered to a covered member able to work is recorded while the case is
ACTIVE (:func:`record_work_offer`).  After three refusals in a row the county
may withhold that member's own share from the next month (:func:`withhold_share`);
the member still counts in the per-capita income.  Taking up a later offer
ends the withholding from the next month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import audit
from minzheng.core.enrolments import set_enrolment
from minzheng.core.errors import Conflict, NotFound, ValidationFailed
from minzheng.core.models import EnrolmentStatus, LabourCapacity, Person
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import (
    DecisionLevel,
    DibaoCase,
    DibaoMember,
    DibaoObjection,
    DibaoStatus,
    DibaoWorkOffer,
    SocialAssistanceStandard,
    TekunCase,
    TekunStatus,
)
from minzheng.plugins.social_assistance.services import common
from minzheng.plugins.social_assistance.services.common import DIBAO, LIMITS

ENTITY = "MinimumLivingGuaranteeCase"
OPEN = (
    DibaoStatus.APPLIED,
    DibaoStatus.INVESTIGATING,
    DibaoStatus.NOTICE,
    DibaoStatus.PENDING_DECISION,
)
PAID = (DibaoStatus.ACTIVE, DibaoStatus.PHASE_OUT)


async def get_case(session: AsyncSession, case_id: int) -> DibaoCase:
    case = await session.get(DibaoCase, case_id)
    if case is None:
        raise NotFound(ENTITY, case_id)
    return case


async def _withheld(session: AsyncSession, case_id: int, month: dt.date) -> int:
    """Covered members whose own share is withheld in ``month``."""
    count = await session.scalar(
        select(func.count()).where(
            DibaoMember.case_id == case_id,
            DibaoMember.removed_on.is_(None),
            DibaoMember.share_withheld_from <= month,
        )
    )
    return count or 0


async def covered_members(session: AsyncSession, case_id: int) -> list[DibaoMember]:
    return list(
        await session.scalars(
            select(DibaoMember)
            .where(DibaoMember.case_id == case_id, DibaoMember.removed_on.is_(None))
            .order_by(DibaoMember.id)
        )
    )


# ----------------------------------------------------------------- assessment


@dataclass
class Assessment:
    """Everything the rules say about a household (or a 单人户) on a date."""

    standard_row: SocialAssistanceStandard
    standard: rules.Standard
    facts: common.HouseholdFacts
    covered: list[int]
    income: rules.IncomeAssessment
    eligibility: rules.DibaoEligibility
    single: rules.Verdict | None = None

    @property
    def eligible(self) -> bool:
        return self.eligibility.eligible and (self.single is None or self.single.passed)

    @property
    def amount_fen(self) -> int:
        return self.eligibility.amount_fen if self.eligible else 0

    @property
    def reasons(self) -> tuple[rules.Reason, ...]:
        return (
            _standard_reason(self.standard_row, self.standard),
            *(self.single.reasons if self.single else ()),
            *self.eligibility.reasons,
        )

    def failed(self) -> list[rules.Reason]:
        return [r for r in self.reasons if r.passed is False]


def _standard_reason(row: SocialAssistanceStandard, s: rules.Standard) -> rules.Reason:
    area = "城市" if row.area.value == "urban" else "农村"
    return rules.Reason(
        "standard.in_force",
        "适用标准",
        None,
        f"{row.region_code} {area}低保标准 {rules.yuan(s.dibao_fen)}元/人·月，"
        f"自 {row.effective_from} 起执行",
        {
            "standard_id": row.id,
            "region_code": row.region_code,
            "area": row.area.value,
            "effective_from": row.effective_from,
            "dibao_fen": s.dibao_fen,
        },
    )


async def _on_tekun(session: AsyncSession, person_ids: list[int]) -> set[int]:
    return set(
        await session.scalars(
            select(TekunCase.person_id).where(
                TekunCase.person_id.in_(person_ids), TekunCase.status == TekunStatus.ACTIVE
            )
        )
    )


async def _covered_elsewhere(
    session: AsyncSession, person_ids: list[int], exclude_case: int | None = None
) -> dict[int, DibaoCase]:
    """Persons covered by another open or paid 低保 case."""
    stmt = (
        select(DibaoMember.person_id, DibaoCase)
        .join(DibaoCase, DibaoCase.id == DibaoMember.case_id)
        .where(
            DibaoMember.person_id.in_(person_ids),
            DibaoMember.removed_on.is_(None),
            DibaoCase.status.in_((*OPEN, *PAID)),
        )
    )
    if exclude_case is not None:
        stmt = stmt.where(DibaoCase.id != exclude_case)
    return {pid: case for pid, case in await session.execute(stmt)}


async def assess(
    session: AsyncSession,
    household_id: int,
    covered: list[int],
    *,
    single_person: bool,
    on: dt.date,
    standard_on: dt.date | None = None,
    case_id: int | None = None,
    field: str = "input.householdId",
) -> Assessment:
    """The rules applied to the household's registry facts: income over ``covered``
    in the window before ``on``, the standard in force on ``standard_on``."""
    facts = await common.household_facts(session, household_id)
    hh = facts.household
    row, std = await common.standard_for(
        session, hh.region_code, hh.hukou_type, standard_on or on, field=field
    )
    withheld = 0 if case_id is None else await _withheld(session, case_id, standard_on or on)
    if not single_person:
        income = rules.assess_income(facts.incomes, covered, on, std)
        eligibility = rules.dibao_eligibility(income, facts.holdings, std, withheld=withheld)
        return Assessment(row, std, facts, covered, income, eligibility)
    living = [p.id for p in facts.living]
    income = rules.assess_income(facts.incomes, covered, on, std, include_household_records=False)
    eligibility = rules.dibao_eligibility(
        income, facts.holdings, std, asset_members=len(living) or 1, withheld=withheld
    )
    household_income = rules.assess_income(facts.incomes, living or covered, on, std)
    others = await _covered_elsewhere(session, living, exclude_case=case_id)
    near = rules.near_poverty(
        household_income.per_capita_fen,
        len(living) or 1,
        facts.holdings,
        std,
        on_dibao=bool(set(others) - set(covered)),
    )
    person = facts.person(covered[0])
    assert person is not None
    enrolled = covered[0] in others or covered[0] in await _on_tekun(session, covered)
    single = rules.single_person_household(
        common.person_facts(person), near, on_dibao_or_tekun=enrolled
    )
    return Assessment(row, std, facts, covered, income, eligibility, single)


# ---------------------------------------------------------------- deadlines


def total_days(case: DibaoCase) -> int:
    if case.decision_level == DecisionLevel.TOWNSHIP:
        return LIMITS.dibao_total_delegated
    return LIMITS.dibao_total_extended if case.extended else LIMITS.dibao_total


def deadlines(case: DibaoCase, today: dt.date) -> list[rules.Deadline]:
    """Every procedural step's due date and whether it was (or is) missed."""
    cal = common.calendar()
    out = []
    if case.investigation_started_on is not None or case.status == DibaoStatus.APPLIED:
        out.append(
            rules.deadline(
                "investigation_start",
                "启动入户调查",
                case.applied_on,
                LIMITS.dibao_investigation_start,
                today,
                cal,
                done_on=case.investigation_started_on,
            )
        )
    out.append(
        rules.deadline(
            "procedure",
            "审核确认全过程",
            case.applied_on,
            total_days(case),
            today,
            cal,
            done_on=case.decided_on or case.closed_on,
        )
    )
    if case.file_received_on is not None and case.decision_level == DecisionLevel.COUNTY:
        out.append(
            rules.deadline(
                "decision",
                "县级审核确认",
                case.file_received_on,
                LIMITS.dibao_county_decision,
                today,
                cal,
                done_on=case.decided_on,
            )
        )
    if case.status in PAID:
        for step, title, due in (
            ("review", "定期核查", case.next_review_on),
            ("flagged_review", f"复核：{case.flagged_reason or ''}", case.flagged_review_on),
        ):
            if due is not None:
                late = today > due
                out.append(
                    rules.Deadline(
                        step,
                        case.last_reviewed_on or case.decided_on or case.applied_on,
                        due,
                        None,
                        late,
                        rules.Reason(
                            f"deadline.{step}",
                            title,
                            not late,
                            f"{title}：应于 {due} 前完成" + ("，已超期" if late else ""),
                            {"due_on": due, "today": today},
                        ),
                    )
                )
    return out


def _set_due(case: DibaoCase) -> None:
    cal = common.calendar()
    total_due = cal.add_working_days(case.applied_on, total_days(case))
    s = case.status
    if s == DibaoStatus.APPLIED:
        case.due_on = cal.add_working_days(case.applied_on, LIMITS.dibao_investigation_start)
    elif s in (DibaoStatus.INVESTIGATING, DibaoStatus.NOTICE):
        case.due_on = total_due
    elif s == DibaoStatus.PENDING_DECISION:
        received = case.file_received_on or case.applied_on
        decision = cal.add_working_days(received, LIMITS.dibao_county_decision)
        case.due_on = (
            min(decision, total_due) if case.decision_level == DecisionLevel.COUNTY else total_due
        )
    elif s in PAID:
        dues = [d for d in (case.next_review_on, case.flagged_review_on) if d is not None]
        case.due_on = min(dues) if dues else None
    else:
        case.due_on = None


def _check_decider(session: AsyncSession, case: DibaoCase) -> None:
    if case.decision_level == DecisionLevel.COUNTY:
        common.require_county(session, "低保 confirmation")


# ------------------------------------------------------------------ procedure


async def apply(
    session: AsyncSession,
    *,
    household_id: int,
    applicant_id: int,
    covered_ids: list[int],
    single_person: bool = False,
    extended: bool = False,
    applied_on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    """Accept an application (申请受理) for a household and the members it covers."""
    today = today or dt.date.today()
    applied_on = common.check_date(applied_on, today, "input.appliedOn")
    facts = await common.household_facts(session, household_id)
    members = {p.id: p for _m, p in facts.members}
    if applicant_id not in members:
        raise ValidationFailed(
            "input.applicantId",
            "members.not_member",
            "the applicant is not a member of the household",
        )
    if members[applicant_id].died_on is not None:
        raise ValidationFailed("input.applicantId", "person.dead", "the applicant has died")
    covered = list(dict.fromkeys(covered_ids))
    if not covered:
        raise ValidationFailed(
            "input.coveredMemberIds", "members.none", "a case covers at least one member"
        )
    for i, pid in enumerate(covered):
        if pid not in members:
            raise ValidationFailed(
                f"input.coveredMemberIds.{i}", "members.not_member", "not a member of the household"
            )
        if members[pid].died_on is not None:
            raise ValidationFailed(
                f"input.coveredMemberIds.{i}", "person.dead", "the person has died"
            )
    if single_person and len(covered) != 1:
        raise ValidationFailed(
            "input.coveredMemberIds", "single.one_member", "a 单人户 case covers exactly one member"
        )
    taken = await _covered_elsewhere(session, covered)
    if taken:
        pid, other = next(iter(taken.items()))
        raise Conflict(
            f"member {pid} is already covered by 低保 case {other.number} ({other.status.value})"
        )
    on_tekun = await _on_tekun(session, covered)
    if on_tekun:
        raise ValidationFailed(
            "input.coveredMemberIds",
            "member.on_tekun",
            f"member {sorted(on_tekun)[0]} is supported as 特困",
        )
    hh = facts.household
    row, _std = await common.standard_for(session, hh.region_code, hh.hukou_type, applied_on)
    case = DibaoCase(
        household_id=hh.id,
        applicant_person_id=applicant_id,
        status=DibaoStatus.APPLIED,
        single_person=single_person,
        area=hh.hukou_type,
        extended=extended,
        decision_level=DecisionLevel.TOWNSHIP if row.township_confirms else DecisionLevel.COUNTY,
        applied_on=applied_on,
    )
    case.place(hh.region_code)
    _set_due(case)
    session.add(case)
    await session.flush()
    case.number = common.case_number("DB", hh.region_code, applied_on, case.id)
    for pid in covered:
        m = DibaoMember(case_id=case.id, person_id=pid, added_on=applied_on)
        m.place(hh.region_code)
        session.add(m)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.APPLIED, applied_on)
    audit.record(session, action="social_assistance.dibao.apply", entity=case)
    return case


async def _enrol(
    session: AsyncSession,
    case: DibaoCase,
    status: EnrolmentStatus,
    effective_from: dt.date,
    amount: int = 0,
) -> None:
    await set_enrolment(
        session,
        programme=DIBAO,
        region_code=case.region_code,
        status=status,
        effective_from=effective_from,
        monthly_amount_fen=amount,
        household_id=case.household_id,
        reference=case.number,
    )


async def _load(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    allowed: tuple[DibaoStatus, ...],
    action: str,
) -> DibaoCase:
    case = await get_case(session, case_id)
    common.check_version(case, version, ENTITY)
    common.require_state(case, allowed, ENTITY, action)
    return case


async def start_investigation(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.APPLIED,), "start investigation")
    on = common.check_date(on, today, "input.on")
    if on < case.applied_on:
        raise ValidationFailed(
            "input.on", "date.order", "the investigation starts after the application"
        )
    before = audit.snapshot(case)
    case.status = DibaoStatus.INVESTIGATING
    case.investigation_started_on = on
    _set_due(case)
    await session.flush()
    audit.record(session, action="social_assistance.dibao.investigate", entity=case, before=before)
    return case


async def submit_opinion(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    eligible: bool,
    note: str | None = None,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[DibaoCase, Assessment]:
    """The township's first opinion (初审意见): eligible → public notice;
    not eligible → straight to the decision with the reasons."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.INVESTIGATING,), "submit opinion")
    on = common.check_date(on, today, "input.on")
    covered = [m.person_id for m in await covered_members(session, case.id)]
    a = await assess(
        session,
        case.household_id,
        covered,
        single_person=case.single_person,
        on=on,
        case_id=case.id,
        field="input.caseId",
    )
    if eligible and not a.eligible:
        raise ValidationFailed(
            "input.eligible",
            "opinion.contradicts_rules",
            "the rules find the household not eligible: " + "；".join(r.detail for r in a.failed()),
        )
    if not eligible:
        note = common.require_text(note, "input.note", "the reason for an ineligible opinion")
    before = audit.snapshot(case)
    case.opinion_on, case.opinion_eligible, case.opinion_note = on, eligible, note
    case.per_capita_income_fen = a.income.per_capita_fen
    if eligible:
        case.status = DibaoStatus.NOTICE
        case.notice_posted_on = on
    else:
        case.status = DibaoStatus.PENDING_DECISION
        case.file_received_on = on
    _set_due(case)
    await session.flush()
    audit.record(session, action="social_assistance.dibao.opinion", entity=case, before=before)
    return case, a


async def record_objection(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    content: str,
    raised_by: str | None = None,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    """An objection during the notice sends the case back for a new first opinion."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.NOTICE,), "record objection")
    on = common.check_date(on, today, "input.on")
    content = common.require_text(content, "input.content", "the objection")
    before = audit.snapshot(case)
    obj = DibaoObjection(case_id=case.id, raised_on=on, raised_by=raised_by, content=content)
    obj.place(case.region_code)
    session.add(obj)
    case.status = DibaoStatus.INVESTIGATING
    case.objection_count += 1
    case.extended = True
    case.opinion_on = case.opinion_eligible = case.opinion_note = None
    case.notice_posted_on = None
    _set_due(case)
    await session.flush()
    audit.record(session, action="social_assistance.dibao.objection", entity=case, before=before)
    return case


async def close_notice(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    """The notice has run its 7 days without objection: the file goes to the decider."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.NOTICE,), "close notice")
    on = common.check_date(on, today, "input.on")
    assert case.notice_posted_on is not None
    done = rules.notice_complete(case.notice_posted_on, on, LIMITS.notice_days)
    if not done.passed:
        raise Conflict(done.reasons[0].detail)
    before = audit.snapshot(case)
    case.status = DibaoStatus.PENDING_DECISION
    case.file_received_on = on
    _set_due(case)
    await session.flush()
    audit.record(
        session, action="social_assistance.dibao.notice_closed", entity=case, before=before
    )
    return case


async def approve(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[DibaoCase, Assessment]:
    """审核确认: the case becomes active; payment from the month after approval."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.PENDING_DECISION,), "approve")
    _check_decider(session, case)
    on = common.check_date(on, today, "input.on")
    covered = [m.person_id for m in await covered_members(session, case.id)]
    if not covered:
        raise ValidationFailed("input.caseId", "members.none", "no covered member is left")
    payment_from = rules.next_month(on)
    a = await assess(
        session,
        case.household_id,
        covered,
        single_person=case.single_person,
        on=on,
        standard_on=payment_from,
        case_id=case.id,
        field="input.caseId",
    )
    if not a.eligible:
        raise ValidationFailed(
            "input.caseId",
            "not_eligible",
            "not eligible: " + "；".join(r.detail for r in a.failed()),
        )
    before = audit.snapshot(case)
    category, _why = rules.review_category(
        [common.person_facts(p) for p in a.facts.living if p.id in covered], on
    )
    case.status = DibaoStatus.ACTIVE
    case.decided_on, case.decided_by = on, common.actor(session)
    case.payment_from = payment_from
    case.monthly_amount_fen = a.amount_fen
    case.per_capita_income_fen = a.income.per_capita_fen
    case.standard_id = a.standard_row.id
    case.review_category = category.value
    case.last_reviewed_on = on
    case.next_review_on = rules.next_review(on, category, a.standard)
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ACTIVE, payment_from, a.amount_fen)
    from minzheng.plugins.social_assistance.services import near_poverty

    await near_poverty.end_for_household(session, case.household_id, payment_from)
    audit.record(session, action="social_assistance.dibao.approve", entity=case, before=before)
    return case, a


async def refuse(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    """不予确认, with the reason given in writing."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.PENDING_DECISION,), "refuse")
    _check_decider(session, case)
    on = common.check_date(on, today, "input.on")
    reason = common.require_text(reason, "input.reason", "the reason for refusal")
    before = audit.snapshot(case)
    case.status = DibaoStatus.REFUSED
    case.decided_on, case.decided_by, case.refusal_reason = on, common.actor(session), reason
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ENDED, on)
    audit.record(session, action="social_assistance.dibao.refuse", entity=case, before=before)
    return case


async def withdraw(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    """The applicant withdraws before the decision."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, OPEN, "withdraw")
    on = common.check_date(on, today, "input.on")
    reason = common.require_text(reason, "input.reason", "the reason")
    before = audit.snapshot(case)
    case.status = DibaoStatus.CLOSED
    case.closed_on, case.close_reason = on, f"撤回：{reason}"
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ENDED, on)
    audit.record(session, action="social_assistance.dibao.withdraw", entity=case, before=before)
    return case


async def _close(session: AsyncSession, case: DibaoCase, on: dt.date, reason: str) -> None:
    case.status = DibaoStatus.CLOSED
    case.closed_on, case.close_reason = on, reason
    case.flagged_review_on = case.flagged_reason = None
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ENDED, rules.next_month(on))


async def close(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    """停保: payment stops after the month of ``on``."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, PAID, "close")
    _check_decider(session, case)
    on = common.check_date(on, today, "input.on")
    reason = common.require_text(reason, "input.reason", "the reason")
    before = audit.snapshot(case)
    await _close(session, case, on, reason)
    audit.record(session, action="social_assistance.dibao.close", entity=case, before=before)
    return case


async def _start_phase_out(
    session: AsyncSession, case: DibaoCase, standard: rules.Standard, first: dt.date
) -> None:
    case.status = DibaoStatus.PHASE_OUT
    case.phase_out_first_month = first
    case.phase_out_last_month = rules.add_months(first, standard.phase_out_max_months - 1)
    case.monthly_amount_fen = rules.phase_out_amount(case.monthly_amount_fen, standard)
    _set_due(case)
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.PHASE_OUT, first, case.monthly_amount_fen)
    await _enrol(session, case, EnrolmentStatus.ENDED, rules.next_month(case.phase_out_last_month))


async def _set_amount(session: AsyncSession, case: DibaoCase, amount: int, start: dt.date) -> None:
    case.monthly_amount_fen = amount
    await session.flush()
    await _enrol(session, case, EnrolmentStatus.ACTIVE, start, amount)


@dataclass
class ReviewOutcome:
    case: DibaoCase
    outcome: str  # continue | phase_out | closed | reactivated
    assessment: Assessment
    reasons: tuple[rules.Reason, ...]


async def review(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> ReviewOutcome:
    """定期核查 / 复核: re-assess; continue (amount recomputed), start or keep a
    phase-out, return from phase-out, or close above the phase-out line."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, PAID, "review")
    _check_decider(session, case)
    on = common.check_date(on, today, "input.on")
    before = audit.snapshot(case)
    covered = [m.person_id for m in await covered_members(session, case.id)]
    start = rules.next_month(on)
    if not covered:
        raise ValidationFailed("input.caseId", "members.none", "no covered member is left")
    a = await assess(
        session,
        case.household_id,
        covered,
        single_person=case.single_person,
        on=on,
        standard_on=start,
        case_id=case.id,
        field="input.caseId",
    )
    decision = rules.income_change_decision(a.income.per_capita_fen, a.standard)
    assets_ok = a.eligibility.reasons[-1].passed is not False
    single_ok = a.single is None or a.single.passed
    case.per_capita_income_fen = a.income.per_capita_fen
    if not assets_ok or not single_ok:
        outcome = "closed"
        await _close(session, case, on, "；".join(r.detail for r in a.failed()))
    elif decision.outcome == rules.IncomeChangeOutcome.CONTINUE:
        if case.status == DibaoStatus.PHASE_OUT:
            outcome = "reactivated"
            case.status = DibaoStatus.ACTIVE
            case.phase_out_first_month = case.phase_out_last_month = None
        else:
            outcome = "continue"
        await _set_amount(session, case, a.amount_fen, start)
    elif decision.outcome == rules.IncomeChangeOutcome.PHASE_OUT:
        outcome = "phase_out"
        if case.status == DibaoStatus.ACTIVE:
            await _start_phase_out(session, case, a.standard, start)
    else:
        outcome = "closed"
        await _close(session, case, on, "家庭人均收入超过渐退线")
    if case.status in PAID:
        category, _why = rules.review_category(
            [common.person_facts(p) for p in a.facts.living if p.id in covered], on
        )
        case.review_category = category.value
        case.last_reviewed_on = on
        case.next_review_on = rules.next_review(on, category, a.standard)
        case.flagged_review_on = case.flagged_reason = None
        case.standard_id = a.standard_row.id
        _set_due(case)
        await session.flush()
    audit.record(
        session,
        action="social_assistance.dibao.review",
        entity=case,
        before=before,
        after={**(audit.snapshot(case) or {}), "outcome": outcome},
    )
    return ReviewOutcome(case, outcome, a, (*a.reasons, *decision.reasons))


async def close_finished_phase_outs(session: AsyncSession, today: dt.date) -> list[DibaoCase]:
    """Close every phase-out whose last month is over (渐退期满).  Their payments
    already stop: the enrolment's end was scheduled when the phase-out began."""
    this_month = rules.month_start(today)
    cases = list(
        await session.scalars(
            select(DibaoCase).where(
                DibaoCase.status == DibaoStatus.PHASE_OUT,
                DibaoCase.phase_out_last_month < this_month,
            )
        )
    )
    for case in cases:
        assert case.phase_out_last_month is not None
        before = audit.snapshot(case)
        case.status = DibaoStatus.CLOSED
        case.closed_on = rules.month_end(case.phase_out_last_month)
        case.close_reason = "渐退期满"
        _set_due(case)
        audit.record(
            session, action="social_assistance.dibao.phase_out_ended", entity=case, before=before
        )
    await session.flush()
    return cases


# ------------------------------------------------------------- work offers

#: why a case is flagged for the county after a member's third refusal in a row
REFUSED_WORK = "连续三次拒绝介绍的工作"


@dataclass
class WorkOfferOutcome:
    case: DibaoCase
    offer: DibaoWorkOffer
    refusals_in_a_row: int
    #: "restored" when taking the work ended a withholding; else None
    share: str | None


async def _covered_member(session: AsyncSession, case: DibaoCase, person_id: int) -> DibaoMember:
    for m in await covered_members(session, case.id):
        if m.person_id == person_id:
            return m
    raise ValidationFailed(
        "input.personId", "member.not_covered", "the person is not a covered member of the case"
    )


async def _offers(session: AsyncSession, case_id: int, person_id: int) -> list[DibaoWorkOffer]:
    return list(
        await session.scalars(
            select(DibaoWorkOffer)
            .where(DibaoWorkOffer.case_id == case_id, DibaoWorkOffer.person_id == person_id)
            .order_by(DibaoWorkOffer.offered_on, DibaoWorkOffer.id)
        )
    )


async def _reassess_shares(session: AsyncSession, case: DibaoCase, on: dt.date) -> None:
    """The amount from the month after ``on``, with the shares withheld then."""
    covered = [m.person_id for m in await covered_members(session, case.id)]
    start = rules.next_month(on)
    a = await assess(
        session,
        case.household_id,
        covered,
        single_person=case.single_person,
        on=on,
        standard_on=start,
        case_id=case.id,
    )
    case.per_capita_income_fen = a.income.per_capita_fen
    if a.eligible:
        await _set_amount(session, case, a.amount_fen, start)
    else:
        _flag(
            case,
            rules.add_months(on, LIMITS.review_after_death_months),
            "重新核算时人均收入不低于低保标准",
        )


async def record_work_offer(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    person_id: int,
    description: str,
    accepted: bool,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> WorkOfferOutcome:
    """Suitable work introduced to a covered member able to work, taken or refused.

    Offers are recorded in the order they were made.  The third refusal in a
    row flags the case for the county's decision (:func:`withhold_share`);
    taking the work ends a withholding from the next month."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.ACTIVE,), "record a work offer")
    on = common.check_date(on, today, "input.on")
    if case.decided_on is not None and on < case.decided_on:
        raise ValidationFailed(
            "input.on", "date.before_approval", f"the case was approved on {case.decided_on}"
        )
    description = common.require_text(description, "input.description", "the work offered")
    if len(description) > 300:
        raise ValidationFailed("input.description", "text.too_long", "at most 300 characters")
    member = await _covered_member(session, case, person_id)
    person = await session.get(Person, person_id)
    assert person is not None  # a covered member's person row exists
    if person.labour_capacity not in (LabourCapacity.FULL, LabourCapacity.PARTIAL):
        raise ValidationFailed(
            "input.personId",
            "member.unable_to_work",
            "the member has no labour capacity: work is offered to members able to work",
        )
    previous = await _offers(session, case.id, person_id)
    if previous and on < previous[-1].offered_on:
        raise ValidationFailed(
            "input.on",
            "date.out_of_order",
            f"offers are recorded in order; the last was made on {previous[-1].offered_on}",
        )
    before = audit.snapshot(case)
    offer = DibaoWorkOffer(
        case_id=case.id,
        person_id=person_id,
        offered_on=on,
        description=description,
        accepted=accepted,
        recorded_by=common.actor(session),
    )
    offer.place(case.region_code)
    session.add(offer)
    streak = rules.refusals_in_a_row([o.accepted for o in previous] + [accepted])
    share = None
    if accepted and member.share_withheld_from is not None:
        member.share_withheld_from = member.share_withheld_reason = None
        share = "restored"
        await session.flush()
        await _reassess_shares(session, case, on)
    elif streak >= rules.WORK_REFUSALS_IN_A_ROW and member.share_withheld_from is None:
        due = common.calendar().add_working_days(on, LIMITS.dibao_county_decision)
        _flag(case, due, REFUSED_WORK)
    await session.flush()
    audit.record(
        session,
        action="social_assistance.dibao.work_offer",
        entity=case,
        before=before,
        after={
            **(audit.snapshot(case) or {}),
            "person_id": person_id,
            "offered_on": on.isoformat(),
            "accepted": accepted,
            "refusals_in_a_row": streak,
            "share": share,
        },
    )
    return WorkOfferOutcome(case, offer, streak, share)


async def withhold_share(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    person_id: int,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> DibaoCase:
    """The county withholds a member's own share from the next month: allowed only
    after three refusals of suitable work in a row."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (DibaoStatus.ACTIVE,), "withhold a share")
    common.require_county(session, "withholding a member's 低保 share")
    on = common.check_date(on, today, "input.on")
    member = await _covered_member(session, case, person_id)
    if member.share_withheld_from is not None:
        raise Conflict(f"the member's share is already withheld from {member.share_withheld_from}")
    offers = await _offers(session, case.id, person_id)
    streak = rules.refusals_in_a_row([o.accepted for o in offers])
    if streak < rules.WORK_REFUSALS_IN_A_ROW:
        raise ValidationFailed(
            "input.personId",
            "work.refusals_too_few",
            f"{streak} refusal(s) in a row recorded; withholding needs "
            f"{rules.WORK_REFUSALS_IN_A_ROW}",
        )
    if on < offers[-1].offered_on:
        raise ValidationFailed(
            "input.on", "date.before_refusal", f"the last refusal was on {offers[-1].offered_on}"
        )
    before = audit.snapshot(case)
    member.share_withheld_from = rules.next_month(on)
    member.share_withheld_reason = f"连续{streak}次拒绝介绍的工作"
    await session.flush()
    await _reassess_shares(session, case, on)
    if case.flagged_reason and REFUSED_WORK in case.flagged_reason:
        rest = [r for r in case.flagged_reason.split("；") if r != REFUSED_WORK]
        case.flagged_reason = "；".join(rest) or None
        if not rest:
            case.flagged_review_on = None
        _set_due(case)
    await session.flush()
    audit.record(
        session,
        action="social_assistance.dibao.share_withheld",
        entity=case,
        before=before,
        after={
            **(audit.snapshot(case) or {}),
            "person_id": person_id,
            "withheld_from": member.share_withheld_from.isoformat(),
            "refusals_in_a_row": streak,
        },
    )
    return case


# --------------------------------------------------------------- registry events


def _flag(case: DibaoCase, due: dt.date, reason: str) -> None:
    if case.flagged_review_on is None or due < case.flagged_review_on:
        case.flagged_review_on = due
    case.flagged_reason = (
        reason
        if not case.flagged_reason
        else (
            case.flagged_reason
            if reason in case.flagged_reason
            else f"{case.flagged_reason}；{reason}"[:200]
        )
    )
    _set_due(case)


async def _cases_of_household(
    session: AsyncSession, household_id: int, states: tuple[DibaoStatus, ...]
) -> list[DibaoCase]:
    return list(
        await session.scalars(
            select(DibaoCase)
            .where(DibaoCase.household_id == household_id, DibaoCase.status.in_(states))
            .order_by(DibaoCase.id)
        )
    )


async def on_income_recorded(session: AsyncSession, household_id: int, today: dt.date) -> None:
    """Income recorded: re-evaluate each paid case of the household — amount
    recomputed, phase-out started, or a review flagged."""
    for case in await _cases_of_household(session, household_id, PAID):
        covered = [m.person_id for m in await covered_members(session, case.id)]
        if not covered:
            continue
        before = audit.snapshot(case)
        start = rules.next_month(today)
        a = await assess(
            session,
            household_id,
            covered,
            single_person=case.single_person,
            on=today,
            standard_on=start,
            case_id=case.id,
        )
        d = rules.income_change_decision(a.income.per_capita_fen, a.standard)
        case.per_capita_income_fen = a.income.per_capita_fen
        if case.status == DibaoStatus.ACTIVE:
            if d.outcome == rules.IncomeChangeOutcome.CONTINUE:
                if a.eligible and a.amount_fen != case.monthly_amount_fen:
                    await _set_amount(session, case, a.amount_fen, start)
            elif d.outcome == rules.IncomeChangeOutcome.PHASE_OUT:
                await _start_phase_out(session, case, a.standard, start)
            else:
                _flag(
                    case,
                    rules.add_months(today, LIMITS.review_after_death_months),
                    "家庭人均收入超过渐退线",
                )
        elif d.outcome == rules.IncomeChangeOutcome.CONTINUE:
            _flag(
                case,
                rules.add_months(today, LIMITS.review_after_death_months),
                "渐退期内收入回落至低保标准以下",
            )
        elif d.outcome == rules.IncomeChangeOutcome.REVIEW:
            _flag(
                case,
                rules.add_months(today, LIMITS.review_after_death_months),
                "家庭人均收入超过渐退线",
            )
        await session.flush()
        audit.record(
            session,
            action="social_assistance.dibao.income_reassessed",
            entity=case,
            before=before,
            after={**(audit.snapshot(case) or {}), "outcome": d.outcome.value},
        )


async def on_member_left(
    session: AsyncSession, person_id: int, household_id: int, on: dt.date, reason: str
) -> None:
    """A covered member died or left: drop them from the case, recompute the amount
    from the next month and flag a review due within 3 months."""
    for case in await _cases_of_household(session, household_id, (*OPEN, *PAID)):
        rows = [m for m in await covered_members(session, case.id)]
        mine = [m for m in rows if m.person_id == person_id]
        if not mine:
            continue
        before = audit.snapshot(case)
        for m in mine:
            m.removed_on, m.removal_reason = on, reason
        remaining = [m.person_id for m in rows if m.person_id != person_id]
        start = rules.next_month(on)
        if not remaining:
            if case.status in PAID:
                await _close(session, case, on, f"保障成员{reason}")
            else:
                case.status = DibaoStatus.CLOSED
                case.closed_on, case.close_reason = on, f"申请人{reason}"
                _set_due(case)
                await session.flush()
                await _enrol(session, case, EnrolmentStatus.ENDED, on)
        elif case.status in PAID:
            if case.status == DibaoStatus.ACTIVE:
                a = await assess(
                    session,
                    household_id,
                    remaining,
                    single_person=case.single_person,
                    on=on,
                    standard_on=start,
                    case_id=case.id,
                )
                case.per_capita_income_fen = a.income.per_capita_fen
                if a.eligible:
                    await _set_amount(session, case, a.amount_fen, start)
            _flag(case, rules.add_months(on, LIMITS.review_after_death_months), f"保障成员{reason}")
        await session.flush()
        audit.record(
            session,
            action="social_assistance.dibao.member_left",
            entity=case,
            before=before,
            after={**(audit.snapshot(case) or {}), "person_id": person_id, "reason": reason},
        )


async def on_member_joined(
    session: AsyncSession, person_id: int, household_id: int, on: dt.date
) -> None:
    """Someone joined a household on 低保: flag a review (cover them or not)."""
    for case in await _cases_of_household(session, household_id, PAID):
        if case.single_person:
            continue
        before = audit.snapshot(case)
        _flag(case, rules.add_months(on, LIMITS.review_after_death_months), "新成员入户")
        await session.flush()
        audit.record(
            session, action="social_assistance.dibao.member_joined", entity=case, before=before
        )


async def recompute_for_standard(
    session: AsyncSession, row: SocialAssistanceStandard, *, today: dt.date
) -> int:
    """A new standard: recompute the active cases it governs, from its date."""
    lo, hi = _bounds(row.region_code)
    cases = list(
        await session.scalars(
            select(DibaoCase).where(
                DibaoCase.status == DibaoStatus.ACTIVE,
                DibaoCase.area == row.area,
                DibaoCase.region_code.between(lo, hi),
            )
        )
    )
    # every covered member's withholding date, for all the cases in one statement
    shares: dict[int, list[dt.date | None]] = defaultdict(list)
    for case_id, withheld_from in await session.execute(
        select(DibaoMember.case_id, DibaoMember.share_withheld_from)
        .join(DibaoCase, DibaoCase.id == DibaoMember.case_id)
        .where(
            DibaoMember.removed_on.is_(None),
            DibaoCase.status == DibaoStatus.ACTIVE,
            DibaoCase.area == row.area,
            DibaoCase.region_code.between(lo, hi),
        )
    ):
        shares[case_id].append(withheld_from)
    standard_of = common.StandardsOn(session, row.effective_from)
    changed = 0
    for case in cases:
        governing, std = await standard_of(case.region_code, case.area)
        if governing.id != row.id or case.per_capita_income_fen is None:
            continue
        start = max(row.effective_from, case.payment_from or row.effective_from)
        members = shares.get(case.id, [])
        withheld = sum(1 for w in members if w is not None and w <= start)
        amount = rules.dibao_amount(case.per_capita_income_fen, len(members), std, withheld)
        if not amount.eligible:
            _flag(case, rules.add_months(today, 1), "新标准下人均收入不低于低保标准")
            continue
        if amount.amount_fen == case.monthly_amount_fen:
            continue
        case.standard_id = row.id
        await _set_amount(session, case, amount.amount_fen, start)
        changed += 1
    await session.flush()
    return changed


def _bounds(code: str) -> tuple[str, str]:
    from minzheng.core import divisions

    return divisions.parse(code).bounds


async def person_is_covered(session: AsyncSession, person_id: int) -> bool:
    return bool(await _covered_elsewhere(session, [person_id]))
