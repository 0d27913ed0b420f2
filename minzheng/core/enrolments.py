"""Keeping core enrolments true: the one way plugins record what they grant."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import events
from minzheng.core.models import Enrolment, EnrolmentStatus


async def current_enrolment(
    session: AsyncSession,
    programme: str,
    *,
    person_id: int | None = None,
    household_id: int | None = None,
    reference: str | None = None,
) -> Enrolment | None:
    """The open (``end_on`` is NULL) enrolment of a subject in a programme."""
    stmt = select(Enrolment).where(Enrolment.programme == programme, Enrolment.end_on.is_(None))
    if reference is not None:
        stmt = stmt.where(Enrolment.reference == reference)
    if person_id is not None:
        stmt = stmt.where(Enrolment.person_id == person_id)
    if household_id is not None:
        stmt = stmt.where(Enrolment.household_id == household_id)
    return (await session.scalars(stmt.order_by(Enrolment.id.desc()).limit(1))).first()


async def set_enrolment(
    session: AsyncSession,
    *,
    programme: str,
    region_code: str,
    status: EnrolmentStatus,
    effective_from: dt.date,
    monthly_amount_fen: int = 0,
    person_id: int | None = None,
    household_id: int | None = None,
    reference: str | None = None,
    until: dt.date | None = None,
) -> Enrolment | None:
    """Record that from ``effective_from`` (to ``until``, inclusive, if given) the
    subject's state in ``programme`` is ``status`` with ``monthly_amount_fen``.

    Whatever the subject's rows said for dates from ``effective_from`` on is
    replaced: a row running past it is cut the day before, a row starting on or
    after it (a planned future period) is superseded — kept, as an empty ENDED
    period, for the history.  ``ENDED`` only cuts; other statuses then open a
    new row.  A call that would change nothing (same status, amount, region and
    end, already in force since on or before ``effective_from``) writes nothing.

    Payroll pays month M from the row in force on M's last day, so rows never
    overlap and a change "from next month" is ``effective_from`` = the first of
    next month.  Publishes :class:`~minzheng.core.events.EnrolmentChanged`.
    Returns the row in force from ``effective_from`` (None after ``ENDED``).
    """
    if monthly_amount_fen < 0:
        raise ValueError("monthly amount must not be negative")
    if person_id is None and household_id is None:
        raise ValueError("an enrolment needs a person or a household")
    if until is not None and until < effective_from:
        raise ValueError("until is before effective_from")
    stmt = select(Enrolment).where(
        Enrolment.programme == programme,
        or_(Enrolment.end_on.is_(None), Enrolment.end_on >= effective_from),
        or_(Enrolment.end_on.is_(None), Enrolment.end_on >= Enrolment.start_on),
    )
    for column, value in (
        (Enrolment.person_id, person_id),
        (Enrolment.household_id, household_id),
        (Enrolment.reference, reference),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    affected = list((await session.scalars(stmt.order_by(Enrolment.start_on))).all())
    old_status = affected[0].status.value if affected else None
    if (
        status != EnrolmentStatus.ENDED
        and len(affected) == 1
        and affected[0].start_on <= effective_from
        and affected[0].status == status
        and affected[0].monthly_amount_fen == monthly_amount_fen
        and affected[0].region_code == region_code
        and affected[0].end_on == until
    ):
        return affected[0]
    for row in affected:
        if row.start_on >= effective_from:
            row.status = EnrolmentStatus.ENDED
            row.end_on = row.start_on - dt.timedelta(days=1)
        else:
            row.end_on = effective_from - dt.timedelta(days=1)
    new_row = None
    if status != EnrolmentStatus.ENDED:
        new_row = Enrolment(
            programme=programme,
            person_id=person_id,
            household_id=household_id,
            status=status,
            start_on=effective_from,
            end_on=until,
            monthly_amount_fen=monthly_amount_fen,
            reference=reference,
        )
        new_row.place(region_code)
        session.add(new_row)
    if not affected and new_row is None:
        return None  # nothing to end: ending is idempotent
    await session.flush()
    announced = new_row if new_row is not None else affected[-1]
    await _announce(session, announced, old_status, status)
    return new_row


async def enrolment_on(
    session: AsyncSession,
    programme: str,
    day: dt.date,
    *,
    person_id: int | None = None,
    household_id: int | None = None,
) -> Enrolment | None:
    """The subject's enrolment row in force on ``day`` (one at most), if any."""
    stmt = select(Enrolment).where(
        Enrolment.programme == programme,
        Enrolment.start_on <= day,
        or_(Enrolment.end_on.is_(None), Enrolment.end_on >= day),
    )
    if person_id is not None:
        stmt = stmt.where(Enrolment.person_id == person_id)
    if household_id is not None:
        stmt = stmt.where(Enrolment.household_id == household_id)
    return (await session.scalars(stmt.order_by(Enrolment.id.desc()).limit(1))).first()


async def _announce(
    session: AsyncSession, row: Enrolment, old: str | None, new: EnrolmentStatus
) -> None:
    await events.publish(
        session,
        events.EnrolmentChanged(
            enrolment_id=row.id,
            programme=row.programme,
            person_id=row.person_id,
            household_id=row.household_id,
            old_status=old,
            new_status=new.value,
        ),
    )
