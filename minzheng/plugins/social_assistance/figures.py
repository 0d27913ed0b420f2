"""社会救助 figures pre-aggregated per division unit (see :mod:`minzheng.core.figures`).

Each statement counts what one field of ``RegionStatistics.socialAssistance``
counts live, grouped by the region column that field filters on, so the sum
over a division's units is the live answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import distinct, func, literal, select
from sqlalchemy.sql import Select

from minzheng.core.figures import FigureSource, Where
from minzheng.core.models import Enrolment, EnrolmentStatus, Membership
from minzheng.plugins.social_assistance import models as m
from minzheng.plugins.social_assistance.services import dibao
from minzheng.plugins.social_assistance.services.common import NEAR_POVERTY

SOURCE = "social_assistance"

GRANTED = (m.TemporaryStatus.PAPERWORK_DUE, m.TemporaryStatus.COMPLETED, m.TemporaryStatus.APPROVED)


def _part(name: str) -> Any:
    return literal(name)


def statements(on: dt.date, where: Where) -> list[Select[Any]]:
    case, member, tk, tmp = m.DibaoCase, m.DibaoMember, m.TekunCase, m.TemporaryCase
    paid = case.status.in_(dibao.PAID)
    active = tk.status == m.TekunStatus.ACTIVE
    near = (
        Enrolment.programme == NEAR_POVERTY,
        Enrolment.end_on.is_(None),
        Enrolment.status == EnrolmentStatus.ACTIVE,
    )
    out: list[Select[Any]] = [
        # programmes: 低保
        select(case.region_code, _part("dibao.households"), func.count(distinct(case.household_id)))
        .where(paid, where(case.region_code))
        .group_by(case.region_code),
        select(case.region_code, _part("dibao.amount"), func.sum(case.monthly_amount_fen))
        .where(paid, where(case.region_code))
        .group_by(case.region_code),
        select(case.region_code, _part("dibao.persons"), func.count(member.id))
        .join(case, case.id == member.case_id)
        .where(paid, where(case.region_code), member.removed_on.is_(None))
        .group_by(case.region_code),
        # 特困
        select(tk.region_code, _part("tekun.persons"), func.count(tk.id))
        .where(active, where(tk.region_code))
        .group_by(tk.region_code),
        select(tk.region_code, _part("tekun.amount"), func.sum(tk.monthly_amount_fen))
        .where(active, where(tk.region_code))
        .group_by(tk.region_code),
        select(
            tk.region_code, _part("tekun.households"), func.count(distinct(Membership.household_id))
        )
        .join(tk, tk.person_id == Membership.person_id)
        .where(active, where(tk.region_code))
        .group_by(tk.region_code),
        # 低保边缘家庭
        select(Enrolment.region_code, _part("near_poverty.households"), func.count(Enrolment.id))
        .where(*near, where(Enrolment.region_code))
        .group_by(Enrolment.region_code),
        select(Enrolment.region_code, _part("near_poverty.persons"), func.count(Membership.id))
        .join(Enrolment, Enrolment.household_id == Membership.household_id)
        .where(*near, where(Enrolment.region_code))
        .group_by(Enrolment.region_code),
        # 低保 cases by state; phase-outs; reviews overdue
        select(case.region_code, _part("dibao.status"), case.status, func.count())
        .where(where(case.region_code))
        .group_by(case.region_code, case.status),
        select(case.region_code, _part("reviews_overdue"), func.count(case.id))
        .where(where(case.region_code), paid, case.due_on < on)
        .group_by(case.region_code),
        # 临时救助 granted in the year of ``on``
        select(tmp.region_code, _part("temporary.cases"), func.count(tmp.id))
        .where(*_granted_in(on.year), where(tmp.region_code))
        .group_by(tmp.region_code),
        select(tmp.region_code, _part("temporary.amount"), func.sum(tmp.amount_fen))
        .where(*_granted_in(on.year), where(tmp.region_code))
        .group_by(tmp.region_code),
        select(tmp.region_code, _part("temporary.emergency"), func.count(tmp.helped_on))
        .where(*_granted_in(on.year), where(tmp.region_code))
        .group_by(tmp.region_code),
        # 备用金
        select(
            m.ReserveFundEntry.region_code,
            _part("reserve_fund"),
            func.sum(m.ReserveFundEntry.amount_fen),
        )
        .where(where(m.ReserveFundEntry.region_code))
        .group_by(m.ReserveFundEntry.region_code),
    ]
    # cases whose next step is overdue, every programme
    for model in (case, tk, tmp):
        out.append(
            select(model.region_code, _part("cases_overdue"), func.count(model.id))
            .where(where(model.region_code), model.due_on < on)
            .group_by(model.region_code)
        )
    return out


def _granted_in(year: int) -> tuple[Any, ...]:
    t = m.TemporaryCase
    return (t.status.in_(GRANTED), t.decided_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))


FIGURE_SOURCE = FigureSource(
    SOURCE,
    statements,
    "社会救助 programmes, 低保 states, overdue steps, temporary assistance, reserve funds",
)
