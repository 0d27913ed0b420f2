"""临时救助 and the township reserve funds (备用金).

Emergency help (急难型) is paid at once from the township's reserve fund and its
paperwork follows within a deadline; expenditure help (支出型) is decided first
and paid on the next monthly payroll.  A reserve fund's balance is always the
sum of its entries; a draw that would overdraw it is refused.  Emergency help
found not due, or paid twice, is recovered from its recipient (追回) and booked
back into the fund that paid it (:func:`recover`), never more than was paid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import audit, divisions
from minzheng.core.divisions import RegionLevel
from minzheng.core.enrolments import set_enrolment
from minzheng.core.errors import Conflict, NotFound, ValidationFailed
from minzheng.core.models import EnrolmentStatus, Membership, Person, Region
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import (
    FundEntryKind,
    ReserveFund,
    ReserveFundEntry,
    TemporaryCase,
    TemporaryStatus,
)
from minzheng.plugins.social_assistance.services import common
from minzheng.plugins.social_assistance.services.common import LIMITS, TEMPORARY
from minzheng.plugins.social_assistance.services.tekun import person_area

ENTITY = "TemporaryAssistanceCase"


# --------------------------------------------------------------- reserve funds


async def fund_for(
    session: AsyncSession, township_code: str, *, create: bool = False, lock: bool = True
) -> ReserveFund | None:
    """The township's fund, locked for the transaction (a concurrent draw waits)."""
    stmt = select(ReserveFund).where(ReserveFund.region_code == township_code)
    if lock:
        stmt = stmt.with_for_update()
    fund = await session.scalar(stmt)
    if fund is None and create:
        fund = ReserveFund()
        fund.place(township_code)
        session.add(fund)
        await session.flush()
    return fund


async def balance(session: AsyncSession, fund_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(ReserveFundEntry.amount_fen), 0)).where(
            ReserveFundEntry.fund_id == fund_id
        )
    )
    return int(total or 0)


def _township(code: str, field: str) -> str:
    try:
        d = divisions.parse(code)
    except divisions.InvalidRegionCode as exc:
        raise ValidationFailed(field, "region.invalid", str(exc)) from None
    if d.level != RegionLevel.TOWNSHIP:
        raise ValidationFailed(field, "region.level", "reserve funds are held per township")
    return d.full


async def top_up(
    session: AsyncSession,
    township_code: str,
    amount_fen: int,
    *,
    note: str | None = None,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[ReserveFund, ReserveFundEntry]:
    """拨付: add money to a township's reserve fund (created on its first top-up)."""
    today = today or dt.date.today()
    code = _township(township_code, "input.townshipCode")
    on = common.check_date(on, today, "input.on")
    if amount_fen <= 0:
        raise ValidationFailed(
            "input.amountFen", "amount.not_positive", "a top-up must be positive"
        )
    if await session.get(Region, code) is None:
        raise NotFound("Region", code)
    fund = await fund_for(session, code, create=True)
    assert fund is not None
    entry = ReserveFundEntry(
        fund_id=fund.id,
        kind=FundEntryKind.TOP_UP,
        amount_fen=amount_fen,
        booked_on=on,
        note=note,
        booked_by=common.actor(session),
    )
    entry.place(code)
    session.add(entry)
    await session.flush()
    audit.record(session, action="social_assistance.fund.top_up", entity=entry)
    return fund, entry


async def _draw(
    session: AsyncSession,
    township_code: str,
    amount_fen: int,
    case: TemporaryCase,
    on: dt.date,
) -> ReserveFundEntry:
    fund = await fund_for(session, township_code)
    if fund is None:
        raise Conflict(f"township {township_code} has no reserve fund; top it up first")
    verdict = rules.reserve_fund_draw(await balance(session, fund.id), amount_fen)
    if not verdict.passed:
        raise Conflict(f"备用金余额不足: {verdict.reasons[0].detail}")
    entry = ReserveFundEntry(
        fund_id=fund.id,
        kind=FundEntryKind.DRAW,
        amount_fen=-amount_fen,
        booked_on=on,
        temporary_case_id=case.id,
        note=f"临时救助 {case.number}",
        booked_by=common.actor(session),
    )
    entry.place(township_code)
    session.add(entry)
    await session.flush()
    return entry


# ------------------------------------------------------------------------ cases


async def get_case(session: AsyncSession, case_id: int) -> TemporaryCase:
    case = await session.get(TemporaryCase, case_id)
    if case is None:
        raise NotFound(ENTITY, case_id)
    return case


async def _load(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    allowed: tuple[TemporaryStatus, ...],
    action: str,
) -> TemporaryCase:
    case = await get_case(session, case_id)
    common.check_version(case, version, ENTITY)
    common.require_state(case, allowed, ENTITY, action)
    return case


async def _one_month(
    session: AsyncSession, case: TemporaryCase, month: dt.date, amount: int
) -> None:
    """The grant as a one-month enrolment (paid by payroll when ``amount`` > 0)."""
    await set_enrolment(
        session,
        programme=TEMPORARY,
        region_code=case.region_code,
        status=EnrolmentStatus.ACTIVE,
        effective_from=month,
        monthly_amount_fen=amount,
        person_id=case.person_id,
        reference=case.number,
    )
    await set_enrolment(
        session,
        programme=TEMPORARY,
        region_code=case.region_code,
        status=EnrolmentStatus.ENDED,
        effective_from=rules.next_month(month),
        person_id=case.person_id,
        reference=case.number,
    )


def _check_approver(session: AsyncSession, amount: rules.TemporaryAmount) -> None:
    if amount.approver == rules.Approver.COUNTY:
        common.require_county(session, f"临时救助 of {rules.yuan(amount.amount_fen)} yuan")


async def apply(
    session: AsyncSession,
    *,
    person_id: int,
    kind: rules.TemporaryKind,
    cause: str,
    need_fen: int,
    severity: int | None = None,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[TemporaryCase, rules.TemporaryAmount]:
    """Apply; an emergency is helped at once from the township's reserve fund."""
    today = today or dt.date.today()
    on = common.check_date(on, today, "input.on")
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("Person", person_id)
    if person.died_on is not None:
        raise ValidationFailed("input.personId", "person.dead", "the person has died")
    cause = common.require_text(cause, "input.cause", "the cause")
    if need_fen <= 0:
        raise ValidationFailed(
            "input.needFen", "amount.not_positive", "the assessed need must be positive"
        )
    household_id = await session.scalar(
        select(Membership.household_id).where(Membership.person_id == person.id)
    )
    members = 1
    if household_id is not None:
        members = len((await common.household_facts(session, household_id)).living) or 1
    area = await person_area(session, person)
    row, std = await common.standard_for(session, person.region_code, area, on)
    try:
        amount = rules.temporary_amount(need_fen, members, std, severity=severity)
    except ValueError as exc:
        raise ValidationFailed("input.severity", "severity.invalid", str(exc)) from None
    if kind == rules.TemporaryKind.EMERGENCY:
        _check_approver(session, amount)
    case = TemporaryCase(
        person_id=person.id,
        household_id=household_id,
        kind=kind,
        cause=cause,
        need_fen=need_fen,
        severity=severity,
        amount_fen=amount.amount_fen,
        approver_level=amount.approver.value,
        applied_on=on,
        standard_id=row.id,
        status=TemporaryStatus.APPLIED,
    )
    case.place(person.region_code)
    case.due_on = common.calendar().add_working_days(on, LIMITS.dibao_county_decision)
    session.add(case)
    await session.flush()
    case.number = common.case_number("LS", person.region_code, on, case.id)
    if kind == rules.TemporaryKind.EMERGENCY:
        township = person.township_code
        if township is None:
            raise ValidationFailed(
                "input.personId", "region.level", "the person's hukou region has no township"
            )
        await _draw(session, township, amount.amount_fen, case, on)
        case.status = TemporaryStatus.PAPERWORK_DUE
        case.helped_on = on
        case.decided_on, case.decided_by = on, common.actor(session)
        case.paperwork_due_on = rules.emergency_paperwork_due(on, std, common.calendar())
        case.due_on = case.paperwork_due_on
        await session.flush()
        # paid from the fund, not by payroll: the enrolment records the month only
        await _one_month(session, case, rules.month_start(on), 0)
    audit.record(session, action=f"social_assistance.temporary.{kind.value}", entity=case)
    return case, amount


async def recover(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    amount_fen: int,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TemporaryCase:
    """追回: emergency help recovered from its recipient, returned to the fund
    that paid it.  Part or all of it, in one or more returns; never more than
    was paid."""
    today = today or dt.date.today()
    case = await _load(
        session,
        case_id,
        version,
        (TemporaryStatus.PAPERWORK_DUE, TemporaryStatus.COMPLETED),
        "record a recovery",
    )
    if case.kind != rules.TemporaryKind.EMERGENCY:
        raise ValidationFailed(
            "input.caseId", "case.not_from_fund", "only emergency help is paid from the fund"
        )
    on = common.check_date(on, today, "input.on")
    if case.helped_on is not None and on < case.helped_on:
        raise ValidationFailed(
            "input.on", "date.before_help", f"the help was paid on {case.helped_on}"
        )
    if amount_fen <= 0:
        raise ValidationFailed(
            "input.amountFen", "amount.not_positive", "the amount recovered must be positive"
        )
    outstanding = case.amount_fen - case.recovered_fen
    if amount_fen > outstanding:
        raise ValidationFailed(
            "input.amountFen",
            "amount.above_paid",
            f"{outstanding} fen of the help paid is not yet recovered",
        )
    reason = common.require_text(reason, "input.reason", "the reason for the recovery")
    if len(reason) > 200:
        raise ValidationFailed("input.reason", "text.too_long", "at most 200 characters")
    draw = await session.scalar(
        select(ReserveFundEntry).where(
            ReserveFundEntry.temporary_case_id == case.id,
            ReserveFundEntry.kind == FundEntryKind.DRAW,
        )
    )
    if draw is None:  # an emergency case past its application always has its draw
        raise Conflict(f"case {case.number} has no reserve-fund draw to return to")
    # the fund's row lock orders this entry with concurrent draws
    fund = await fund_for(session, draw.region_code)
    assert fund is not None and fund.id == draw.fund_id
    before = audit.snapshot(case)
    entry = ReserveFundEntry(
        fund_id=fund.id,
        kind=FundEntryKind.RETURN,
        amount_fen=amount_fen,
        booked_on=on,
        temporary_case_id=case.id,
        note=f"追回 临时救助 {case.number}",
        booked_by=common.actor(session),
    )
    entry.place(draw.region_code)
    session.add(entry)
    case.recovered_fen += amount_fen
    case.recovery_reason = reason
    await session.flush()
    audit.record(session, action="social_assistance.temporary.recover", entity=case, before=before)
    return case


async def complete_paperwork(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    documents: list[str],
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TemporaryCase:
    """补办手续 after emergency help."""
    today = today or dt.date.today()
    case = await _load(
        session, case_id, version, (TemporaryStatus.PAPERWORK_DUE,), "complete paperwork"
    )
    on = common.check_date(on, today, "input.on")
    docs = common.require_documents(documents, "input.documents", "the paperwork")
    before = audit.snapshot(case)
    case.status = TemporaryStatus.COMPLETED
    case.documents = docs
    case.paperwork_done_on = on
    case.due_on = None
    await session.flush()
    audit.record(
        session, action="social_assistance.temporary.paperwork", entity=case, before=before
    )
    return case


async def approve(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TemporaryCase:
    """支出型: approved, paid on the next month's payroll."""
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TemporaryStatus.APPLIED,), "approve")
    on = common.check_date(on, today, "input.on")
    if case.approver_level == rules.Approver.COUNTY.value:
        common.require_county(session, "this 临时救助")
    before = audit.snapshot(case)
    case.status = TemporaryStatus.APPROVED
    case.decided_on, case.decided_by = on, common.actor(session)
    case.payment_month = rules.next_month(on)
    case.due_on = None
    await session.flush()
    await _one_month(session, case, case.payment_month, case.amount_fen)
    audit.record(session, action="social_assistance.temporary.approve", entity=case, before=before)
    return case


async def refuse(
    session: AsyncSession,
    case_id: int,
    version: int | None,
    *,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> TemporaryCase:
    today = today or dt.date.today()
    case = await _load(session, case_id, version, (TemporaryStatus.APPLIED,), "refuse")
    on = common.check_date(on, today, "input.on")
    reason = common.require_text(reason, "input.reason", "the reason for refusal")
    before = audit.snapshot(case)
    case.status = TemporaryStatus.REFUSED
    case.decided_on, case.decided_by, case.refusal_reason = on, common.actor(session), reason
    case.due_on = None
    await session.flush()
    audit.record(session, action="social_assistance.temporary.refuse", entity=case, before=before)
    return case
