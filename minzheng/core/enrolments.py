"""Keeping core enrolments true: the one way plugins record what they grant."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
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
) -> Enrolment:
    """Record that from ``effective_from`` the subject's state in ``programme`` is
    ``status`` with ``monthly_amount_fen``.

    The open row (if any) is closed the day before ``effective_from`` and a new
    row is opened, unless nothing changed.  ``ENDED`` closes the open row and
    opens none.  Payroll pays month M from the row in force on M's last day, so
    rows never overlap and a change "from next month" is ``effective_from`` =
    the first of next month.  Publishes :class:`~minzheng.core.events.EnrolmentChanged`.
    """
    if monthly_amount_fen < 0:
        raise ValueError("monthly amount must not be negative")
    if person_id is None and household_id is None:
        raise ValueError("an enrolment needs a person or a household")
    open_row = await current_enrolment(
        session, programme, person_id=person_id, household_id=household_id, reference=reference
    )
    old_status = open_row.status.value if open_row else None
    if (
        open_row is not None
        and open_row.status == status
        and open_row.monthly_amount_fen == monthly_amount_fen
        and open_row.region_code == region_code
    ):
        return open_row
    if open_row is not None:
        open_row.end_on = effective_from - dt.timedelta(days=1)
        if open_row.start_on >= effective_from:
            # superseded before it took effect: an empty period, kept for the history
            open_row.status = EnrolmentStatus.ENDED
    if status == EnrolmentStatus.ENDED:
        if open_row is None:
            raise ValueError("nothing to end")
        await session.flush()
        await _announce(session, open_row, old_status, status)
        return open_row
    row = Enrolment(
        programme=programme,
        person_id=person_id,
        household_id=household_id,
        status=status,
        start_on=effective_from,
        monthly_amount_fen=monthly_amount_fen,
        reference=reference,
    )
    row.place(region_code)
    session.add(row)
    await session.flush()
    await _announce(session, row, old_status, status)
    return row


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
