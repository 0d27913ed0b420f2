"""Transactions of the disability plugin: applications, grants, standards,
survival verification, care services and rehabilitation.

Every function runs inside the caller's transaction and raises a
:class:`~minzheng.core.errors.DomainError` before anything is left half
written (the caller rolls back).  Grants are mirrored in core enrolments with
:func:`~minzheng.core.enrolments.set_enrolment`; payroll reads those.

``session.info`` may carry ``principal`` (scope and audit), ``today`` (the
business date, for tests and back-dated batch runs) and ``disability_policy``
(a :class:`~minzheng.plugins.disability.rules.DisabilityPolicy` overriding the
settings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import audit
from minzheng.core.divisions import InvalidRegionCode, parse
from minzheng.core.enrolments import current_enrolment, set_enrolment
from minzheng.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from minzheng.core.models import (
    PAYABLE,
    DisabilityCategory,
    Enrolment,
    EnrolmentStatus,
    HukouType,
    Membership,
    Person,
)
from minzheng.core.scope import principal_of
from minzheng.plugins.disability import queries, rules
from minzheng.plugins.disability.models import (
    DisabilityApplication,
    DisabilityApplicationStep,
    DisabilityCareArrangement,
    DisabilityCareProvider,
    DisabilityCareRecord,
    DisabilityGrant,
    DisabilityRehabEnrolment,
    DisabilityRehabService,
    DisabilityStandard,
    DisabilityVerification,
    DisabilityVerificationCycle,
    RehabOutcome,
    RehabServiceKind,
    SuspensionReason,
)
from minzheng.plugins.disability.rules import (
    PROGRAMME_CODES,
    ApplicationAction,
    ApplicationState,
    CareServiceType,
    DisabilityPolicy,
    GrantStatus,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
)
from minzheng.plugins.disability.settings import get_policy

# ---------------------------------------------------------------- context


def today(session: AsyncSession) -> dt.date:
    value = session.info.get("today")
    return value if isinstance(value, dt.date) else dt.date.today()


def policy(session: AsyncSession) -> DisabilityPolicy:
    value = session.info.get("disability_policy")
    return value if isinstance(value, DisabilityPolicy) else get_policy()


def actor(session: AsyncSession) -> str:
    principal = principal_of(session.sync_session)
    return principal.subject if principal else "system"


def _audit(
    session: AsyncSession,
    action: str,
    entity: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        action=f"disability.{action}",
        entity=entity,
        before=before,
        after=audit.jsonable(after) if after is not None else None,
    )


def _check_scope(session: AsyncSession, region_code: str, field: str) -> None:
    principal = principal_of(session.sync_session)
    if principal is not None and not principal.sees(region_code):
        raise Forbidden(f"{field}: region {region_code} is outside your region")


def _region(code: str, field: str) -> str:
    try:
        return parse(code).full
    except InvalidRegionCode:
        raise ValidationFailed(field, "invalid_region", f"not a division code: {code!r}") from None


def _not_future(session: AsyncSession, value: dt.date, field: str) -> None:
    if value > today(session):
        raise ValidationFailed(field, "future_date", f"{value.isoformat()} is in the future")


def _check_version(entity: Any, expected: int | None, name: str) -> None:
    if expected is not None and entity.version != expected:
        raise Conflict(
            f"{name} {entity.id} has version {entity.version}, not {expected}",
            current_version=entity.version,
        )


async def get_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("Person", person_id)
    return person


async def _get(session: AsyncSession, model: type[Any], ident: int, name: str) -> Any:
    row: Any = await session.get(model, ident)
    if row is None:
        raise NotFound(name, ident)
    return row


def _verdict_json(verdict: rules.Verdict) -> dict[str, Any]:
    return {
        "rule": verdict.rule,
        "eligible": verdict.eligible,
        "conditions": [
            {"code": c.code, "title": c.title, "met": c.met, "detail": c.detail}
            for c in verdict.conditions
        ],
    }


def _not_eligible(verdict: rules.Verdict, field: str) -> ValidationFailed:
    reasons = "; ".join(f"{c.title} ({c.code}): {c.detail}" for c in verdict.unmet)
    return ValidationFailed(field, "not_eligible", f"not eligible: {reasons}")


# ------------------------------------------------------------ applications


async def submit_application(
    session: AsyncSession,
    *,
    person_id: int,
    subsidy: Subsidy,
    submitted_on: dt.date | None = None,
    note: str | None = None,
) -> DisabilityApplication:
    """申请: a person (or their guardian) applies for one subsidy at the township."""
    on = submitted_on or today(session)
    _not_future(session, on, "input.submittedOn")
    person = await get_person(session, person_id)
    if person.died_on is not None:
        raise ValidationFailed("input.personId", "deceased", "the person is recorded as dead")
    if queries.certificate_of(person) is None:
        raise ValidationFailed(
            "input.personId", "no_certificate", "the person holds no disability certificate"
        )
    await _refuse_duplicates(session, person_id, subsidy)
    app = DisabilityApplication(
        person_id=person_id,
        subsidy=subsidy,
        state=ApplicationState.SUBMITTED,
        submitted_on=on,
        note=note,
    )
    app.place(person.region_code)
    session.add(app)
    await session.flush()
    _step(session, app, "submit", None, on, note)
    _audit(session, "submit", app, after={"subsidy": subsidy.value, "person_id": person_id})
    return app


async def _refuse_duplicates(session: AsyncSession, person_id: int, subsidy: Subsidy) -> None:
    open_app = await session.scalar(
        select(DisabilityApplication.id).where(
            DisabilityApplication.person_id == person_id,
            DisabilityApplication.subsidy == subsidy,
            DisabilityApplication.state.in_(queries.OPEN_APPLICATION_STATES),
        )
    )
    if open_app is not None:
        raise Conflict(f"application {open_app} for this subsidy is still open")
    grant = await current_grant(session, person_id, subsidy)
    if grant is not None:
        raise Conflict(f"the person already holds grant {grant.id} for this subsidy")


def _step(
    session: AsyncSession,
    app: DisabilityApplication,
    action: str,
    from_state: ApplicationState | None,
    on: dt.date,
    note: str | None,
) -> None:
    step = DisabilityApplicationStep(
        application_id=app.id,
        action=action,
        from_state=from_state.value if from_state else None,
        to_state=app.state.value,
        on=on,
        actor=actor(session),
        note=note,
    )
    step.place(app.region_code)
    session.add(step)


async def _transition(
    session: AsyncSession,
    application_id: int,
    action: ApplicationAction,
    on: dt.date | None,
    expected_version: int | None,
) -> tuple[DisabilityApplication, ApplicationState, dt.date]:
    app = await _get(session, DisabilityApplication, application_id, "DisabilityApplication")
    _check_version(app, expected_version, "application")
    target = rules.next_application_state(app.state, action)
    if target is None:
        raise IllegalTransition("application", app.state.value, action.value)
    when = on or today(session)
    _not_future(session, when, "input.on")
    last = max(d for d in (app.submitted_on, app.accepted_on, app.reviewed_on) if d is not None)
    if when < last:
        raise ValidationFailed(
            "input.on", "before_previous_step", f"{when.isoformat()} precedes the previous step"
        )
    return app, target, when


async def accept_application(
    session: AsyncSession,
    application_id: int,
    *,
    on: dt.date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> DisabilityApplication:
    """乡镇(街道)受理."""
    app, target, when = await _transition(
        session, application_id, ApplicationAction.ACCEPT, on, expected_version
    )
    before = app.state
    app.state, app.accepted_on = target, when
    await session.flush()
    _step(session, app, "accept", before, when, note)
    _audit(session, "accept", app, before={"state": before.value}, after={"state": target.value})
    return app


async def review_application(
    session: AsyncSession,
    application_id: int,
    *,
    on: dt.date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> DisabilityApplication:
    """县残联审核通过."""
    app, target, when = await _transition(
        session, application_id, ApplicationAction.REVIEW, on, expected_version
    )
    before = app.state
    app.state, app.reviewed_on = target, when
    await session.flush()
    _step(session, app, "review", before, when, note)
    _audit(session, "review", app, before={"state": before.value}, after={"state": target.value})
    return app


async def approve_application(
    session: AsyncSession,
    application_id: int,
    *,
    on: dt.date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> tuple[DisabilityApplication, DisabilityGrant]:
    """县民政审批: checks eligibility on the decision day, prices the grant from the
    standards table and opens it (and its core enrolment) from the first paid month."""
    app, target, when = await _transition(
        session, application_id, ApplicationAction.APPROVE, on, expected_version
    )
    person = await get_person(session, app.person_id)
    pol = policy(session)
    verdict = rules.subsidy_verdict(
        app.subsidy, await queries.person_facts(session, person, when), when, pol
    )
    if not verdict.eligible:
        raise _not_eligible(verdict, "input.applicationId")
    if await current_grant(session, person.id, app.subsidy) is not None:
        raise Conflict("the person already holds a grant for this subsidy")
    assert app.accepted_on is not None
    start = rules.grant_start(app.accepted_on, when, pol)
    choice = await queries.standard_for(
        session, app.subsidy, person.region_code, person.disability_grade, start
    )
    if choice is None:
        raise ValidationFailed(
            "input.applicationId",
            "no_standard",
            f"no {app.subsidy.value} standard in force for {person.region_code} "
            f"on {start.isoformat()}",
        )
    cert = queries.certificate_of(person)
    grant = DisabilityGrant(
        person_id=person.id,
        subsidy=app.subsidy,
        status=GrantStatus.ACTIVE,
        application_id=app.id,
        approved_on=when,
        start_on=start,
        category=cert.category if cert else None,
        grade=cert.grade if cert else None,
        monthly_amount_fen=choice.standard.monthly_amount_fen,
        standard_id=choice.standard.id,
    )
    grant.place(person.region_code)
    session.add(grant)
    await session.flush()
    before = app.state
    app.state, app.decided_on = target, when
    app.verdict = _verdict_json(verdict)
    await session.flush()
    await _sync(session, grant, EnrolmentStatus.ACTIVE, start)
    _step(session, app, "approve", before, when, note)
    _audit(session, "approve", app, before={"state": before.value}, after={"state": target.value})
    _audit(session, "grant", grant, after=_grant_state(grant))
    return app, grant


async def reject_application(
    session: AsyncSession,
    application_id: int,
    *,
    reason: str,
    on: dt.date | None = None,
    expected_version: int | None = None,
) -> DisabilityApplication:
    """Refusal at the current stage (不予受理 / 审核不通过 / 不予批准), with reasons."""
    if not (reason or "").strip():
        raise ValidationFailed("input.reason", "required", "a refusal must give its reasons")
    app, target, when = await _transition(
        session, application_id, ApplicationAction.REJECT, on, expected_version
    )
    before = app.state
    app.state, app.decided_on = target, when
    app.refused_at_stage, app.refusal_reason = before, reason.strip()
    await session.flush()
    _step(session, app, "reject", before, when, reason.strip())
    _audit(
        session,
        "reject",
        app,
        before={"state": before.value},
        after={"state": target.value, "reason": reason.strip()},
    )
    return app


async def withdraw_application(
    session: AsyncSession,
    application_id: int,
    *,
    on: dt.date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> DisabilityApplication:
    app, target, when = await _transition(
        session, application_id, ApplicationAction.WITHDRAW, on, expected_version
    )
    before = app.state
    app.state, app.decided_on = target, when
    await session.flush()
    _step(session, app, "withdraw", before, when, note)
    _audit(session, "withdraw", app, before={"state": before.value}, after={"state": target.value})
    return app


# ------------------------------------------------------------------ grants


def _grant_state(grant: DisabilityGrant) -> dict[str, Any]:
    return {
        "status": grant.status.value,
        "region_code": grant.region_code,
        "monthly_amount_fen": grant.monthly_amount_fen,
        "review_flag": grant.review_flag,
    }


async def current_grant(
    session: AsyncSession, person_id: int, subsidy: Subsidy
) -> DisabilityGrant | None:
    return await session.scalar(
        select(DisabilityGrant).where(
            DisabilityGrant.person_id == person_id,
            DisabilityGrant.subsidy == subsidy,
            DisabilityGrant.status.in_(queries.CURRENT_GRANT_STATUSES),
        )
    )


async def current_grants(session: AsyncSession, person_ids: Iterable[int]) -> list[DisabilityGrant]:
    ids = list(set(person_ids))
    if not ids:
        return []
    return list(
        (
            await session.scalars(
                select(DisabilityGrant)
                .where(
                    DisabilityGrant.person_id.in_(ids),
                    DisabilityGrant.status.in_(queries.CURRENT_GRANT_STATUSES),
                )
                .order_by(DisabilityGrant.id)
            )
        ).all()
    )


async def _sync(
    session: AsyncSession, grant: DisabilityGrant, status: EnrolmentStatus, effective_from: dt.date
) -> None:
    """Make the core enrolment say, from ``effective_from``, what the grant says: its
    status at its amount, then each change of standard already decided for a later
    date (a planned period), so payroll uses the standard in force in every month."""
    await _write(session, grant, status, effective_from, grant.monthly_amount_fen)
    if status is EnrolmentStatus.ENDED:
        return
    table = await queries.standards_for(session, grant.subsidy, grant.region_code)
    amount = grant.monthly_amount_fen
    for day in sorted({s.effective_from for s in table if s.effective_from > effective_from}):
        choice = rules.standard_in_force(
            table, region_code=grant.region_code, subsidy=grant.subsidy, grade=grant.grade, on=day
        )
        if choice is not None and choice.standard.monthly_amount_fen != amount:
            amount = choice.standard.monthly_amount_fen
            await _write(session, grant, status, day, amount)
    await _refresh_amount(session, grant)


async def _write(
    session: AsyncSession,
    grant: DisabilityGrant,
    status: EnrolmentStatus,
    effective_from: dt.date,
    amount: int,
    *,
    region_code: str | None = None,
    until: dt.date | None = None,
) -> None:
    await set_enrolment(
        session,
        programme=PROGRAMME_CODES[grant.subsidy],
        region_code=region_code or grant.region_code,
        status=status,
        effective_from=effective_from,
        until=until,
        monthly_amount_fen=amount,
        person_id=grant.person_id,
        reference=grant.reference,
    )


async def _refresh_amount(session: AsyncSession, grant: DisabilityGrant) -> None:
    """The grant shows the amount of the period in force today (or of its first
    period, before it starts)."""
    rows = (
        await session.scalars(
            select(Enrolment)
            .where(
                Enrolment.programme == PROGRAMME_CODES[grant.subsidy],
                Enrolment.person_id == grant.person_id,
                Enrolment.reference == grant.reference,
                Enrolment.end_on.is_(None) | (Enrolment.end_on >= Enrolment.start_on),
            )
            .order_by(Enrolment.start_on)
        )
    ).all()
    day = today(session)
    current = next(
        (r for r in rows if r.start_on <= day and (r.end_on is None or r.end_on >= day)),
        rows[0] if rows and rows[0].start_on > day else None,
    )
    if current is not None and current.monthly_amount_fen != grant.monthly_amount_fen:
        grant.monthly_amount_fen = current.monthly_amount_fen
        choice = await queries.standard_for(
            session, grant.subsidy, current.region_code, grant.grade, max(day, current.start_on)
        )
        if choice is not None:
            grant.standard_id = choice.standard.id


async def _open_row_start(session: AsyncSession, grant: DisabilityGrant) -> dt.date | None:
    row = await current_enrolment(
        session,
        PROGRAMME_CODES[grant.subsidy],
        person_id=grant.person_id,
        reference=grant.reference,
    )
    return row.start_on if row else None


def _enrolment_status(grant: DisabilityGrant) -> EnrolmentStatus:
    return (
        EnrolmentStatus.SUSPENDED
        if grant.status is GrantStatus.SUSPENDED
        else EnrolmentStatus.ACTIVE
    )


async def suspend_grant(
    session: AsyncSession,
    grant_id: int,
    *,
    reason: SuspensionReason = SuspensionReason.MANUAL,
    effective_from: dt.date | None = None,
    note: str | None = None,
    cycle_id: int | None = None,
    expected_version: int | None = None,
) -> DisabilityGrant:
    """暂停发放 from ``effective_from`` (default: the first of next month)."""
    grant = await _get(session, DisabilityGrant, grant_id, "DisabilityGrant")
    _check_version(grant, expected_version, "grant")
    if grant.status is not GrantStatus.ACTIVE:
        raise IllegalTransition("grant", grant.status.value, "suspend")
    start = max(effective_from or rules.next_month_start(today(session)), grant.start_on)
    before = _grant_state(grant)
    grant.status = GrantStatus.SUSPENDED
    grant.suspended_from, grant.suspension_reason = start, reason
    grant.suspension_cycle_id = cycle_id
    await session.flush()
    await _sync(session, grant, EnrolmentStatus.SUSPENDED, start)
    _audit(session, "suspend", grant, before=before, after={**_grant_state(grant), "note": note})
    return grant


async def resume_grant(
    session: AsyncSession,
    grant_id: int,
    *,
    effective_from: dt.date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> DisabilityGrant:
    """恢复发放: from ``effective_from`` (default: per the back-pay policy, as for a
    late verification today), at the standard then in force."""
    grant = await _get(session, DisabilityGrant, grant_id, "DisabilityGrant")
    _check_version(grant, expected_version, "grant")
    return await _resume(session, grant, effective_from, note)


async def _resume(
    session: AsyncSession,
    grant: DisabilityGrant,
    effective_from: dt.date | None,
    note: str | None,
) -> DisabilityGrant:
    if grant.status is not GrantStatus.SUSPENDED or grant.suspended_from is None:
        raise IllegalTransition("grant", grant.status.value, "resume")
    start = effective_from or rules.resumption_start(
        grant.suspended_from, today(session), policy(session)
    )
    start = max(start, grant.suspended_from)
    before = _grant_state(grant)
    grant.status = GrantStatus.ACTIVE
    grant.suspended_from = grant.suspension_reason = grant.suspension_cycle_id = None
    await _price(session, grant, start)
    await session.flush()
    await _sync(session, grant, EnrolmentStatus.ACTIVE, start)
    _audit(session, "resume", grant, before=before, after={**_grant_state(grant), "note": note})
    return grant


async def end_grant(
    session: AsyncSession,
    grant_id: int,
    *,
    reason: str,
    effective_from: dt.date | None = None,
    expected_version: int | None = None,
) -> DisabilityGrant:
    """终止发放 from ``effective_from`` (default: the first of next month)."""
    if not (reason or "").strip():
        raise ValidationFailed("input.reason", "required", "ending a grant needs a reason")
    grant = await _get(session, DisabilityGrant, grant_id, "DisabilityGrant")
    _check_version(grant, expected_version, "grant")
    return await _end(
        session, grant, effective_from or rules.next_month_start(today(session)), reason.strip()
    )


async def _end(
    session: AsyncSession, grant: DisabilityGrant, effective_from: dt.date, reason: str
) -> DisabilityGrant:
    if grant.status is GrantStatus.ENDED:
        raise IllegalTransition("grant", grant.status.value, "end")
    before = _grant_state(grant)
    grant.status = GrantStatus.ENDED
    grant.end_on = effective_from - dt.timedelta(days=1)
    grant.end_reason = reason
    grant.review_flag = False
    await session.flush()
    if await _open_row_start(session, grant) is not None:
        await _sync(session, grant, EnrolmentStatus.ENDED, effective_from)
    _audit(session, "end", grant, before=before, after={**_grant_state(grant), "reason": reason})
    return grant


async def flag_for_review(
    session: AsyncSession, grant: DisabilityGrant, reason: str
) -> DisabilityGrant:
    """Mark a grant for a caseworker's review; payment continues until decided."""
    if grant.review_flag and grant.review_reason and reason in grant.review_reason:
        return grant
    if grant.review_flag and grant.review_reason:
        reason_text = f"{grant.review_reason}; {reason}"
    else:
        reason_text = reason
    grant.review_flag = True
    grant.review_reason = reason_text[:300]
    grant.flagged_on = today(session)
    await session.flush()
    _audit(session, "flag_review", grant, after={"reason": reason})
    return grant


async def clear_review(
    session: AsyncSession,
    grant_id: int,
    *,
    note: str,
    expected_version: int | None = None,
) -> DisabilityGrant:
    """The review found the grant still due: clear the flag (ending it is :func:`end_grant`)."""
    if not (note or "").strip():
        raise ValidationFailed("input.note", "required", "say what the review found")
    grant = await _get(session, DisabilityGrant, grant_id, "DisabilityGrant")
    _check_version(grant, expected_version, "grant")
    if not grant.review_flag:
        raise IllegalTransition("grant", "not flagged", "clear review")
    before = {"review_reason": grant.review_reason}
    grant.review_flag, grant.review_reason, grant.flagged_on = False, None, None
    await session.flush()
    _audit(session, "clear_review", grant, before=before, after={"note": note.strip()})
    return grant


async def _price(session: AsyncSession, grant: DisabilityGrant, on: dt.date) -> bool:
    """Set the grant's amount to the standard in force on ``on``; True if it changed."""
    choice = await queries.standard_for(session, grant.subsidy, grant.region_code, grant.grade, on)
    if choice is None or choice.standard.monthly_amount_fen == grant.monthly_amount_fen:
        return False
    grant.monthly_amount_fen = choice.standard.monthly_amount_fen
    grant.standard_id = choice.standard.id
    return True


async def reprice(session: AsyncSession, grant: DisabilityGrant, from_: dt.date) -> bool:
    """Apply the standards in force from ``from_`` on to a current grant's enrolment.

    Every period of the grant from ``from_`` on (active, suspended, planned; in
    whichever region paid it) is priced at the standard in force when it starts;
    when any amount changes, the periods are written again in order, keeping
    their statuses and regions.  Months already on an approved payroll then
    become adjustments in the next one.
    """
    rows = (
        await session.scalars(
            select(Enrolment)
            .where(
                Enrolment.programme == PROGRAMME_CODES[grant.subsidy],
                Enrolment.person_id == grant.person_id,
                Enrolment.reference == grant.reference,
                or_(Enrolment.end_on.is_(None), Enrolment.end_on >= from_),
                or_(Enrolment.end_on.is_(None), Enrolment.end_on >= Enrolment.start_on),
            )
            .order_by(Enrolment.start_on)
        )
    ).all()
    plan = []
    for row in rows:
        begins = max(row.start_on, from_)
        choice = await queries.standard_for(
            session, grant.subsidy, row.region_code, grant.grade, begins
        )
        amount = choice.standard.monthly_amount_fen if choice else row.monthly_amount_fen
        plan.append((begins, row.end_on, row.status, row.region_code, amount, row))
    changed = [i for i, (*_, amount, row) in enumerate(plan) if amount != row.monthly_amount_fen]
    if not changed:
        return False
    for begins, until, status, region, amount, _row in plan[changed[0] :]:
        await _write(session, grant, status, begins, amount, region_code=region, until=until)
    await _refresh_amount(session, grant)
    return True


# --------------------------------------------------------------- standards


async def set_standard(
    session: AsyncSession,
    *,
    region_code: str,
    subsidy: Subsidy,
    effective_from: dt.date,
    monthly_amount_fen: int,
    grade: int | None = None,
    document: str | None = None,
) -> tuple[DisabilityStandard, int]:
    """动态调整: add a standard to the history and re-price the current grants it
    governs from its effective date.  Returns the row and how many grants changed."""
    code = _region(region_code, "input.regionCode")
    if monthly_amount_fen < 0:
        raise ValidationFailed(
            "input.monthlyAmountFen", "negative", "a standard cannot be negative"
        )
    if grade is not None and grade not in (1, 2, 3, 4):
        raise ValidationFailed("input.grade", "invalid_grade", "grade must be 1–4")
    _check_scope(session, code, "input.regionCode")
    clash = await session.scalar(
        select(DisabilityStandard.id).where(
            DisabilityStandard.region_code == code,
            DisabilityStandard.subsidy == subsidy,
            DisabilityStandard.effective_from == effective_from,
            DisabilityStandard.grade.is_(None)
            if grade is None
            else DisabilityStandard.grade == grade,
        )
    )
    if clash is not None:
        raise Conflict(f"standard {clash} already sets this region, subsidy, grade and date")
    row = DisabilityStandard(
        region_code=code,
        subsidy=subsidy,
        grade=grade,
        effective_from=effective_from,
        monthly_amount_fen=monthly_amount_fen,
        document=document,
        created_by=actor(session),
    )
    session.add(row)
    await session.flush()
    lo, hi = parse(code).bounds
    stmt = select(DisabilityGrant).where(
        DisabilityGrant.subsidy == subsidy,
        DisabilityGrant.status.in_(queries.CURRENT_GRANT_STATUSES),
        DisabilityGrant.region_code.between(lo, hi),
    )
    if grade is not None:
        stmt = stmt.where(DisabilityGrant.grade == grade)
    changed = 0
    for grant in (await session.scalars(stmt.order_by(DisabilityGrant.id))).all():
        changed += await reprice(session, grant, effective_from)
    _audit(
        session,
        "set_standard",
        row,
        after={
            "region_code": code,
            "subsidy": subsidy.value,
            "grade": grade,
            "effective_from": effective_from.isoformat(),
            "monthly_amount_fen": monthly_amount_fen,
            "repriced": changed,
        },
    )
    return row, changed


# ------------------------------------------------------------ verification


async def open_cycle(
    session: AsyncSession,
    *,
    region_code: str,
    name: str,
    opens_on: dt.date,
    deadline: dt.date,
) -> DisabilityVerificationCycle:
    """生存验证周期 for a division (usually a county)."""
    code = _region(region_code, "input.regionCode")
    if not (name or "").strip():
        raise ValidationFailed("input.name", "required", "a cycle needs a name")
    if deadline < opens_on:
        raise ValidationFailed(
            "input.deadline", "before_opening", "the deadline precedes the opening day"
        )
    _check_scope(session, code, "input.regionCode")
    prefix = parse(code).prefix
    overlapping = await session.scalar(
        select(DisabilityVerificationCycle.id).where(
            DisabilityVerificationCycle.scope_prefix == prefix,
            DisabilityVerificationCycle.opens_on <= deadline,
            DisabilityVerificationCycle.deadline >= opens_on,
        )
    )
    if overlapping is not None:
        raise Conflict(f"cycle {overlapping} of this region overlaps these dates")
    cycle = DisabilityVerificationCycle(
        name=name.strip(), scope_prefix=prefix, opens_on=opens_on, deadline=deadline
    )
    cycle.place(code)
    session.add(cycle)
    await session.flush()
    _audit(
        session,
        "open_cycle",
        cycle,
        after={"opens_on": opens_on.isoformat(), "deadline": deadline.isoformat()},
    )
    return cycle


async def cycle_for(
    session: AsyncSession, region_code: str, on: dt.date
) -> DisabilityVerificationCycle | None:
    """The latest cycle opened by ``on`` that covers ``region_code``."""
    prefixes = [parse(c).prefix for c in queries.ancestor_codes(region_code)]
    return await session.scalar(
        select(DisabilityVerificationCycle)
        .where(
            DisabilityVerificationCycle.scope_prefix.in_(prefixes),
            DisabilityVerificationCycle.opens_on <= on,
        )
        .order_by(
            DisabilityVerificationCycle.opens_on.desc(), DisabilityVerificationCycle.id.desc()
        )
        .limit(1)
    )


async def record_verification(
    session: AsyncSession,
    *,
    person_id: int,
    method: VerificationMethod,
    outcome: VerificationOutcome,
    verified_at: dt.datetime,
    source: str | None = None,
    note: str | None = None,
) -> tuple[DisabilityVerification, bool]:
    """Record one verification result; returns it and whether it is new (the same
    person, time and method again is the same result, not a second one).

    A confirmed result resumes grants suspended for an overdue verification
    (back pay per policy); a result reporting death suspends current grants from
    the next month and flags them for review until the death is registered.
    """
    person = await get_person(session, person_id)
    if verified_at.tzinfo is None:
        # a time without a zone (a county's spreadsheet) is local time, the
        # deployment's (TZ), as every date here is (``date.today()``)
        verified_at = verified_at.astimezone()
    on = verified_at.date()
    _not_future(session, on, "input.verifiedAt")
    existing = await session.scalar(
        select(DisabilityVerification).where(
            DisabilityVerification.person_id == person_id,
            DisabilityVerification.verified_at == verified_at,
            DisabilityVerification.method == method,
        )
    )
    if existing is not None:
        if existing.outcome != outcome:
            raise Conflict(
                f"verification {existing.id} at the same time by the same method "
                f"recorded {existing.outcome.value}"
            )
        return existing, False
    grants = await current_grants(session, [person_id])
    region = grants[0].region_code if grants else person.region_code
    cycle = await cycle_for(session, region, on)
    row = DisabilityVerification(
        person_id=person_id,
        cycle_id=cycle.id if cycle else None,
        method=method,
        outcome=outcome,
        verified_at=verified_at,
        verified_on=on,
        source=source,
        note=note,
        recorded_by=actor(session),
    )
    row.place(person.region_code)
    session.add(row)
    await session.flush()
    pol = policy(session)
    for grant in grants:
        if outcome is VerificationOutcome.CONFIRMED:
            if (
                grant.status is GrantStatus.SUSPENDED
                and grant.suspension_reason is SuspensionReason.VERIFICATION_OVERDUE
                and grant.suspended_from is not None
            ):
                await _resume(
                    session,
                    grant,
                    rules.resumption_start(grant.suspended_from, on, pol),
                    f"late verification {row.id}",
                )
        elif outcome is VerificationOutcome.DECEASED:
            if grant.status is GrantStatus.ACTIVE:
                await suspend_grant(
                    session,
                    grant.id,
                    reason=SuspensionReason.REPORTED_DECEASED,
                    effective_from=rules.next_month_start(on),
                    note=f"verification {row.id} reports death",
                )
            await flag_for_review(
                session, grant, "verification reports death: record it in the registry"
            )
    _audit(
        session,
        "verify",
        row,
        after={"person_id": person_id, "method": method.value, "outcome": outcome.value},
    )
    return row, True


async def suspend_overdue(
    session: AsyncSession, cycle_id: int, *, on: dt.date | None = None
) -> list[DisabilityGrant]:
    """The deadline sweep: suspend every active grant under the cycle whose holder
    has no confirmed verification since the cycle opened (grants approved after
    the opening are exempt: the approval verified them).  Idempotent."""
    cycle = await _get(session, DisabilityVerificationCycle, cycle_id, "VerificationCycle")
    when = on or today(session)
    if when <= cycle.deadline:
        raise ValidationFailed(
            "input.cycleId",
            "deadline_not_passed",
            f"the deadline {cycle.deadline.isoformat()} has not passed",
        )
    verified = (
        select(DisabilityVerification.id)
        .where(
            DisabilityVerification.person_id == DisabilityGrant.person_id,
            DisabilityVerification.outcome == VerificationOutcome.CONFIRMED,
            DisabilityVerification.verified_on >= cycle.opens_on,
        )
        .exists()
    )
    lo, hi = parse(cycle.scope_prefix).bounds
    overdue = (
        await session.scalars(
            select(DisabilityGrant)
            .where(
                DisabilityGrant.status == GrantStatus.ACTIVE,
                DisabilityGrant.region_code.between(lo, hi),
                DisabilityGrant.approved_on < cycle.opens_on,
                ~verified,
            )
            .order_by(DisabilityGrant.id)
        )
    ).all()
    start = rules.suspension_start(rules.Cycle(cycle.opens_on, cycle.deadline))
    for grant in overdue:
        await suspend_grant(
            session,
            grant.id,
            reason=SuspensionReason.VERIFICATION_OVERDUE,
            effective_from=start,
            note=f"no verification in cycle {cycle.id} by {cycle.deadline.isoformat()}",
            cycle_id=cycle.id,
        )
    cycle.swept_on = when
    await session.flush()
    return list(overdue)


async def sweep_due_cycles(session: AsyncSession, on: dt.date) -> dict[str, int]:
    """The daily task: run the deadline sweep of every cycle whose deadline has passed
    and that no later cycle of its division has replaced.  Idempotent."""
    cycles = (
        await session.scalars(
            select(DisabilityVerificationCycle)
            .where(DisabilityVerificationCycle.opens_on <= on)
            .order_by(
                DisabilityVerificationCycle.scope_prefix,
                DisabilityVerificationCycle.opens_on.desc(),
            )
        )
    ).all()
    latest: dict[str, DisabilityVerificationCycle] = {}
    for cycle in cycles:
        latest.setdefault(cycle.scope_prefix, cycle)
    suspended = swept = 0
    for cycle in latest.values():
        if cycle.deadline < on:
            suspended += len(await suspend_overdue(session, cycle.id, on=on))
            swept += 1
    return {"cycles_swept": swept, "suspended": suspended}


# -------------------------------------------------------- registry events


async def person_died(session: AsyncSession, person_id: int, died_on: dt.date) -> None:
    """End the person's grants from the following month, end their services on the
    day, and close open applications — in the transaction recording the death."""
    for grant in await current_grants(session, [person_id]):
        await _end(session, grant, rules.death_end(died_on), f"died on {died_on.isoformat()}")
    apps = (
        await session.scalars(
            select(DisabilityApplication).where(
                DisabilityApplication.person_id == person_id,
                DisabilityApplication.state.in_(queries.OPEN_APPLICATION_STATES),
            )
        )
    ).all()
    for app in apps:
        before = app.state
        app.state, app.decided_on = ApplicationState.WITHDRAWN, max(died_on, app.submitted_on)
        await session.flush()
        _step(session, app, "withdraw", before, app.decided_on, "applicant died")
    for arrangement in (
        await session.scalars(
            select(DisabilityCareArrangement).where(
                DisabilityCareArrangement.person_id == person_id,
                DisabilityCareArrangement.end_on.is_(None),
            )
        )
    ).all():
        arrangement.end_on = max(died_on, arrangement.start_on)
        arrangement.end_reason = "died"
    rehab = await session.scalar(
        select(DisabilityRehabEnrolment).where(
            DisabilityRehabEnrolment.person_id == person_id,
            DisabilityRehabEnrolment.ended_on.is_(None),
        )
    )
    if rehab is not None:
        rehab.ended_on, rehab.end_note = max(died_on, rehab.enrolled_on), "died"
    await session.flush()


async def person_changed(
    session: AsyncSession, person_id: int, changes: dict[str, tuple[Any, Any]]
) -> None:
    """Certificate changes re-check and re-price grants (flagging those no longer
    due); a hukou move transfers grants to the new region from the next month, or
    ends them when the person leaves the jurisdiction."""
    grants = await current_grants(session, [person_id])
    if not grants:
        return
    person = await get_person(session, person_id)
    when = today(session)
    pol = policy(session)
    if "region_code" in changes:
        old, new = changes["region_code"]
        if old and new:
            for grant in grants:
                await _transfer(session, grant, str(new), when, pol)
            grants = await current_grants(session, [person_id])
    if {"disability_grade", "disability_category"} & set(changes):
        old_cert = _old_certificate(person, changes)
        new_cert = queries.certificate_of(person)
        facts = await queries.person_facts(session, person, when)
        for grant in grants:
            verdict = rules.subsidy_verdict(grant.subsidy, facts, when, pol)
            if not verdict.eligible:
                what = (
                    "certificate downgraded"
                    if rules.is_downgrade(old_cert, new_cert)
                    else ("certificate changed")
                )
                reasons = "; ".join(c.detail for c in verdict.unmet)
                await flag_for_review(session, grant, f"{what}: {reasons}")
                continue
            if new_cert is not None:
                grant.category, grant.grade = new_cert.category, new_cert.grade
                await reprice(session, grant, rules.next_month_start(when))


def _old_certificate(
    person: Person, changes: dict[str, tuple[Any, Any]]
) -> rules.Certificate | None:
    category = changes.get("disability_category", (person.disability_category, None))[0]
    grade = changes.get("disability_grade", (person.disability_grade, None))[0]
    if category is None or grade is None:
        return None
    return rules.Certificate(DisabilityCategory(category), int(grade))


async def _transfer(
    session: AsyncSession,
    grant: DisabilityGrant,
    new_region: str,
    moved_on: dt.date,
    pol: DisabilityPolicy,
) -> None:
    plan = rules.transfer_plan(grant.region_code, new_region, moved_on, pol)
    if plan.kind is rules.TransferKind.NONE:
        return
    if plan.kind is rules.TransferKind.OUT:
        assert plan.old_region_pays_through is not None
        await _end(
            session,
            grant,
            plan.old_region_pays_through + dt.timedelta(days=1),
            f"hukou moved out of the jurisdiction to {new_region}",
        )
        return
    assert plan.new_region_pays_from is not None
    before = _grant_state(grant)
    grant.place(new_region)
    start = max(plan.new_region_pays_from, grant.start_on)
    await _price(session, grant, start)
    await session.flush()
    await _sync(session, grant, _enrolment_status(grant), start)
    _audit(
        session,
        "transfer",
        grant,
        before=before,
        after={**_grant_state(grant), "detail": plan.detail},
    )


async def enrolment_changed(
    session: AsyncSession,
    *,
    programme: str,
    person_id: int | None,
    household_id: int | None,
) -> None:
    """Another programme changed: flag living-subsidy grants whose holder lost the
    low-income status, or now receives a programme that excludes the subsidy."""
    low_income, excluding = _living_programmes(policy(session))
    if programme not in low_income | excluding:
        return
    persons: set[int] = set()
    if person_id is not None:
        persons.add(person_id)
    if household_id is not None:
        persons.update(
            (
                await session.scalars(
                    select(Membership.person_id).where(Membership.household_id == household_id)
                )
            ).all()
        )
    await _recheck_living(session, persons)


async def member_moved(session: AsyncSession, person_id: int) -> None:
    """A person joined, left or changed household: the new household may not be on 低保."""
    await _recheck_living(session, {person_id})


def _living_programmes(pol: DisabilityPolicy) -> tuple[set[str], set[str]]:
    low_income = {pol.dibao_programme}
    if pol.living_subsidy_includes_near_poverty:
        low_income.add(pol.near_poverty_programme)
    return low_income, set(pol.living_subsidy_excluding_programmes)


async def _recheck_living(session: AsyncSession, persons: set[int]) -> None:
    low_income, excluding = _living_programmes(policy(session))
    for grant in await current_grants(session, persons):
        if grant.subsidy is not Subsidy.LIVING:
            continue
        held = await _programmes_held(session, grant.person_id)
        if not (held & low_income):
            await flag_for_review(session, grant, "lost 低保 status")
        if held & excluding:
            await flag_for_review(
                session, grant, f"now receives {', '.join(sorted(held & excluding))}"
            )


async def _programmes_held(session: AsyncSession, person_id: int) -> frozenset[str]:
    """Programmes whose open (not yet ended) enrolment pays the person or household:
    what they hold now and will go on holding."""
    household = select(Membership.household_id).where(Membership.person_id == person_id)
    stmt = select(Enrolment.programme).where(
        (Enrolment.person_id == person_id) | Enrolment.household_id.in_(household),
        Enrolment.status.in_(PAYABLE),
        Enrolment.end_on.is_(None),
    )
    return frozenset((await session.scalars(stmt)).all())


# ----------------------------------------------------------- care services


def _hours(value: Decimal | str | float | int, field: str) -> int:
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(field, "invalid_hours", f"not a number: {value!r}") from None
    hundredths = hours * 100
    if hundredths != hundredths.to_integral_value():
        raise ValidationFailed(field, "invalid_hours", "hours take at most two decimals")
    if not (0 < hours <= 24):
        raise ValidationFailed(field, "invalid_hours", "hours must be above 0 and at most 24")
    return int(hundredths)


async def register_provider(
    session: AsyncSession,
    *,
    region_code: str,
    name: str,
    service_types: list[CareServiceType],
    address: str | None = None,
    phone: str | None = None,
) -> DisabilityCareProvider:
    code = _region(region_code, "input.regionCode")
    if not (name or "").strip():
        raise ValidationFailed("input.name", "required", "a provider needs a name")
    if not service_types:
        raise ValidationFailed(
            "input.serviceTypes", "required", "a provider offers at least one service type"
        )
    _check_scope(session, code, "input.regionCode")
    provider = DisabilityCareProvider(
        name=name.strip(),
        service_types=sorted({t.value for t in service_types}),
        address=address,
        phone=phone,
    )
    provider.place(code)
    session.add(provider)
    await session.flush()
    _audit(session, "register_provider", provider, after={"name": provider.name})
    return provider


async def care_service_verdict(session: AsyncSession, person: Person, on: dt.date) -> rules.Verdict:
    return rules.care_service_eligibility(
        await queries.person_facts(session, person, on), on, policy(session)
    )


async def enrol_care_service(
    session: AsyncSession,
    *,
    person_id: int,
    provider_id: int,
    service_type: CareServiceType,
    consent_on: dt.date,
    family_carer: str,
    start_on: dt.date | None = None,
) -> DisabilityCareArrangement:
    """集中照料 / 日间服务 / 邻里照护 for an eligible person who asked for it; the
    family stays the first carer and is named."""
    start = start_on or today(session)
    if not (family_carer or "").strip():
        raise ValidationFailed(
            "input.familyCarer", "required", "name the family's first carer (家庭第一照护人)"
        )
    if consent_on > start:
        raise ValidationFailed(
            "input.consentOn", "after_start", "the voluntary application must precede the service"
        )
    _not_future(session, consent_on, "input.consentOn")
    person = await get_person(session, person_id)
    provider = await _get(session, DisabilityCareProvider, provider_id, "CareProvider")
    if not provider.active or service_type.value not in provider.service_types:
        raise ValidationFailed(
            "input.providerId",
            "service_not_offered",
            f"{provider.name} does not offer {service_type.value} care",
        )
    verdict = await care_service_verdict(session, person, start)
    if not verdict.eligible:
        raise _not_eligible(verdict, "input.personId")
    open_one = await session.scalar(
        select(DisabilityCareArrangement.id).where(
            DisabilityCareArrangement.person_id == person_id,
            DisabilityCareArrangement.service_type == service_type,
            DisabilityCareArrangement.end_on.is_(None),
        )
    )
    if open_one is not None:
        raise Conflict(f"care arrangement {open_one} of this type is still open")
    arrangement = DisabilityCareArrangement(
        person_id=person_id,
        provider_id=provider_id,
        service_type=service_type,
        start_on=start,
        consent_on=consent_on,
        family_carer=family_carer.strip(),
        verdict=_verdict_json(verdict),
    )
    arrangement.place(person.region_code)
    session.add(arrangement)
    await session.flush()
    _audit(session, "enrol_care", arrangement, after={"service_type": service_type.value})
    return arrangement


async def record_care_service(
    session: AsyncSession,
    *,
    arrangement_id: int,
    served_on: dt.date,
    hours: Decimal | str | float | int,
    provider_id: int | None = None,
    note: str | None = None,
) -> DisabilityCareRecord:
    hundredths = _hours(hours, "input.hours")
    _not_future(session, served_on, "input.servedOn")
    arrangement = await _get(session, DisabilityCareArrangement, arrangement_id, "CareArrangement")
    if served_on < arrangement.start_on or (
        arrangement.end_on is not None and served_on > arrangement.end_on
    ):
        raise ValidationFailed(
            "input.servedOn", "outside_arrangement", "the date is outside the arrangement"
        )
    provider = provider_id or arrangement.provider_id
    await _get(session, DisabilityCareProvider, provider, "CareProvider")
    record = DisabilityCareRecord(
        arrangement_id=arrangement.id,
        person_id=arrangement.person_id,
        provider_id=provider,
        served_on=served_on,
        hours_hundredths=hundredths,
        note=note,
        recorded_by=actor(session),
    )
    record.place(arrangement.region_code)
    session.add(record)
    await session.flush()
    return record


async def end_care_service(
    session: AsyncSession, arrangement_id: int, *, reason: str, on: dt.date | None = None
) -> DisabilityCareArrangement:
    if not (reason or "").strip():
        raise ValidationFailed("input.reason", "required", "ending a service needs a reason")
    arrangement = await _get(session, DisabilityCareArrangement, arrangement_id, "CareArrangement")
    if arrangement.end_on is not None:
        raise IllegalTransition("care arrangement", "ended", "end")
    when = on or today(session)
    if when < arrangement.start_on:
        raise ValidationFailed("input.on", "before_start", "the end precedes the start")
    arrangement.end_on, arrangement.end_reason = when, reason.strip()
    await session.flush()
    _audit(session, "end_care", arrangement, after={"reason": reason.strip()})
    return arrangement


# --------------------------------------------------------- rehabilitation


async def enrol_rehabilitation(
    session: AsyncSession, *, person_id: int, site: str, enrolled_on: dt.date | None = None
) -> DisabilityRehabEnrolment:
    """精神障碍社区康复: enrol a person at a community (or rural) rehabilitation site."""
    when = enrolled_on or today(session)
    _not_future(session, when, "input.enrolledOn")
    if not (site or "").strip():
        raise ValidationFailed("input.site", "required", "name the rehabilitation site")
    person = await get_person(session, person_id)
    if person.died_on is not None:
        raise ValidationFailed("input.personId", "deceased", "the person is recorded as dead")
    open_one = await session.scalar(
        select(DisabilityRehabEnrolment.id).where(
            DisabilityRehabEnrolment.person_id == person_id,
            DisabilityRehabEnrolment.ended_on.is_(None),
        )
    )
    if open_one is not None:
        raise Conflict(f"rehabilitation enrolment {open_one} is still open")
    enrolment = DisabilityRehabEnrolment(
        person_id=person_id,
        site=site.strip(),
        rural=(await queries.residence_kind(session, person)) == HukouType.RURAL,
        enrolled_on=when,
    )
    enrolment.place(person.region_code)
    session.add(enrolment)
    await session.flush()
    _audit(session, "enrol_rehab", enrolment, after={"site": enrolment.site})
    return enrolment


async def record_rehab_service(
    session: AsyncSession,
    *,
    enrolment_id: int,
    kind: RehabServiceKind,
    served_on: dt.date,
    hours: Decimal | str | float | int | None = None,
    outcome: RehabOutcome | None = None,
    note: str | None = None,
) -> DisabilityRehabService:
    hundredths = None if hours is None else _hours(hours, "input.hours")
    _not_future(session, served_on, "input.servedOn")
    enrolment = await _get(session, DisabilityRehabEnrolment, enrolment_id, "RehabEnrolment")
    if served_on < enrolment.enrolled_on or (
        enrolment.ended_on is not None and served_on > enrolment.ended_on
    ):
        raise ValidationFailed(
            "input.servedOn", "outside_enrolment", "the date is outside the enrolment"
        )
    service = DisabilityRehabService(
        enrolment_id=enrolment.id,
        person_id=enrolment.person_id,
        kind=kind,
        served_on=served_on,
        hours_hundredths=hundredths,
        outcome=outcome,
        note=note,
        recorded_by=actor(session),
    )
    service.place(enrolment.region_code)
    session.add(service)
    await session.flush()
    return service


async def end_rehabilitation(
    session: AsyncSession,
    enrolment_id: int,
    *,
    outcome: RehabOutcome,
    on: dt.date | None = None,
    note: str | None = None,
) -> DisabilityRehabEnrolment:
    enrolment = await _get(session, DisabilityRehabEnrolment, enrolment_id, "RehabEnrolment")
    if enrolment.ended_on is not None:
        raise IllegalTransition("rehabilitation enrolment", "ended", "end")
    when = on or today(session)
    if when < enrolment.enrolled_on:
        raise ValidationFailed("input.on", "before_start", "the end precedes the enrolment")
    enrolment.ended_on, enrolment.outcome, enrolment.end_note = when, outcome, note
    await session.flush()
    _audit(session, "end_rehab", enrolment, after={"outcome": outcome.value})
    return enrolment
