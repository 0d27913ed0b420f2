"""Shared steps for the service tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from minzheng.core.enrolments import set_enrolment
from minzheng.core.models import PAYABLE, AuditEntry, Enrolment, EnrolmentStatus, Person
from minzheng.plugins.disability import services
from minzheng.plugins.disability.models import DisabilityGrant
from minzheng.plugins.disability.rules import PROGRAMME_CODES, Subsidy, month_end

D = dt.date


async def standards(session: Any) -> None:
    """焦作 city-wide standards from 2024: living 90 yuan, care 80 yuan a month."""
    await services.set_standard(
        session,
        region_code="410800",
        subsidy=Subsidy.LIVING,
        effective_from=D(2024, 1, 1),
        monthly_amount_fen=9000,
    )
    await services.set_standard(
        session,
        region_code="410800",
        subsidy=Subsidy.CARE,
        effective_from=D(2024, 1, 1),
        monthly_amount_fen=8000,
    )


async def on_dibao(session: Any, person: Person, since: D = D(2024, 1, 1)) -> None:
    """Stand in for the social-assistance system: the person's household on 低保."""
    household_id = await household_of(session, person)
    await set_enrolment(
        session,
        programme="dibao",
        region_code=person.region_code,
        status=EnrolmentStatus.ACTIVE,
        effective_from=since,
        monthly_amount_fen=50000,
        household_id=household_id,
        reference=f"test-dibao-{household_id}",
    )


async def household_of(session: Any, person: Person) -> int:
    from minzheng.core.models import Membership

    return await session.scalar(
        select(Membership.household_id).where(Membership.person_id == person.id)
    )


async def grant_through(
    session: Any,
    person: Person,
    subsidy: Subsidy,
    *,
    submitted: D = D(2025, 3, 3),
    decided: D = D(2025, 3, 20),
) -> DisabilityGrant:
    """Take an application through all three steps; payment from the next month."""
    app = await services.submit_application(
        session, person_id=person.id, subsidy=subsidy, submitted_on=submitted
    )
    await services.accept_application(session, app.id, on=submitted)
    await services.review_application(session, app.id, on=decided)
    _, grant = await services.approve_application(session, app.id, on=decided)
    return grant


async def enrolment_rows(session: Any, person_id: int, subsidy: Subsidy) -> list[Enrolment]:
    return list(
        (
            await session.scalars(
                select(Enrolment)
                .where(
                    Enrolment.person_id == person_id,
                    Enrolment.programme == PROGRAMME_CODES[subsidy],
                )
                .order_by(Enrolment.id)
            )
        ).all()
    )


async def paid(session: Any, person_id: int, subsidy: Subsidy, month: D) -> tuple[str, int] | None:
    """What payroll would pay for ``month``: (region, amount) of the row in force on its
    last day, if payable — the core payroll rule."""
    last = month_end(month)
    rows = [
        r
        for r in await enrolment_rows(session, person_id, subsidy)
        if r.start_on <= last and (r.end_on is None or r.end_on >= last)
    ]
    assert len(rows) <= 1, f"overlapping enrolment rows for {month}: {rows}"
    if not rows or rows[0].status not in PAYABLE:
        return None
    return rows[0].region_code, rows[0].monthly_amount_fen


async def count(session: Any, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)))


async def audit_actions(session: Any) -> list[str]:
    return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())
