"""Fields on the core types: ``Household.minimumLivingGuarantee``,
``Household.nearPoverty``, ``Person.extremePovertySupport``,
``Person.temporaryAssistance`` and ``RegionStatistics.socialAssistance``."""

from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy import distinct, func, select

from minzheng.core.models import Enrolment, EnrolmentStatus, Membership
from minzheng.plugins.social_assistance import models as m
from minzheng.plugins.social_assistance.schema.types import (
    DibaoCaseType,
    DibaoOverview,
    NearPovertyType,
    TekunCaseType,
    TekunOverview,
    TemporaryCaseType,
)
from minzheng.plugins.social_assistance.services import dibao, tekun
from minzheng.plugins.social_assistance.services.common import NEAR_POVERTY
from minzheng.schema.direct import direct
from minzheng.schema.limits import list_size
from minzheng.schema.types import ctx

P = "social_assistance."


@strawberry.type
class HouseholdFields:
    @strawberry.field(
        description="低保 Minimum living guarantee: the household's current case and history"
    )
    @direct
    async def minimum_living_guarantee(self, info: strawberry.Info) -> DibaoOverview:
        rows = await ctx(info).loaders[P + "dibao_cases_by_household"].load(self.id)  # type: ignore[attr-defined]
        current = next(
            (r for r in rows if not r.single_person and r.status in (*dibao.OPEN, *dibao.PAID)),
            None,
        )
        return DibaoOverview(current=current, history=rows)

    @strawberry.field(description="低保边缘家庭 The latest near-poverty determination, if any")
    @direct
    async def near_poverty(self, info: strawberry.Info) -> NearPovertyType | None:
        rows = await ctx(info).loaders[P + "near_poverty_by_household"].load(self.id)  # type: ignore[attr-defined]
        return rows[0] if rows else None


@strawberry.type
class PersonFields:
    @strawberry.field(description="特困供养 Extreme-poverty support: current case and history")
    @direct
    async def extreme_poverty_support(self, info: strawberry.Info) -> TekunOverview:
        rows = await ctx(info).loaders[P + "tekun_cases_by_person"].load(self.id)  # type: ignore[attr-defined]
        current = next((r for r in rows if r.status in (*tekun.OPEN, m.TekunStatus.ACTIVE)), None)
        return TekunOverview(current=current, history=rows)

    @strawberry.field(
        description="临时救助 Temporary assistance cases, newest first", metadata=list_size(2)
    )
    @direct
    async def temporary_assistance(self, info: strawberry.Info) -> list[TemporaryCaseType]:
        return await ctx(info).loaders[P + "temporary_cases_by_person"].load(self.id)  # type: ignore[attr-defined,no-any-return]


# ------------------------------------------------------------------ statistics


@strawberry.type(
    name="SocialAssistanceProgrammeFigures", description="项目统计 Figures for one programme"
)
class ProgrammeFigures:
    programme: str = strawberry.field(description="项目代码 dibao, tekun, near_poverty")
    title: str = strawberry.field(description="项目 Programme (Chinese)")
    households: int = strawberry.field(description="户数 Households")
    persons: int = strawberry.field(description="人数 Persons")
    monthly_amount_fen: int = strawberry.field(description="月发放金额(分) Monthly amount")


@strawberry.type(
    name="MinimumLivingGuaranteeStatusCount", description="按状态 低保 cases in one state"
)
class StatusCount:
    status: m.DibaoStatus = strawberry.field(description="状态 State")
    count: int = strawberry.field(description="案件数 Cases")


@strawberry.type(
    name="TemporaryAssistanceFigures", description="临时救助统计 Temporary assistance granted"
)
class TemporaryFigures:
    year: int = strawberry.field(description="年度 Year")
    cases: int = strawberry.field(description="救助人次 Cases granted")
    amount_fen: int = strawberry.field(description="救助金额(分) Amount granted")
    emergency_cases: int = strawberry.field(description="急难型 Emergency cases")


GRANTED = (m.TemporaryStatus.PAPERWORK_DUE, m.TemporaryStatus.COMPLETED, m.TemporaryStatus.APPROVED)


@strawberry.type(
    name="SocialAssistanceStatistics",
    description="社会救助统计 Social assistance figures for a division, computed in SQL",
)
class SocialAssistanceStatistics:
    code: strawberry.Private[str]

    def area(self) -> tuple[str, str]:
        from minzheng.core.divisions import DivisionCode

        return DivisionCode.parse(self.code).bounds

    @strawberry.field(
        description="按项目 Households, persons and monthly amount by programme",
        metadata=list_size(3),
    )
    @direct
    async def programmes(self, info: strawberry.Info) -> list[ProgrammeFigures]:
        lo, hi = self.area()
        db = ctx(info).db
        paid = m.DibaoCase.status.in_(dibao.PAID)
        in_area = m.DibaoCase.region_code.between(lo, hi)
        hh, amount = (
            await db.rows(
                select(
                    func.count(m.DibaoCase.id),
                    func.coalesce(func.sum(m.DibaoCase.monthly_amount_fen), 0),
                ).where(paid, in_area)
            )
        )[0]
        dibao_persons = await db.scalar(
            select(func.count(m.DibaoMember.id))
            .join(m.DibaoCase, m.DibaoCase.id == m.DibaoMember.case_id)
            .where(paid, in_area, m.DibaoMember.removed_on.is_(None))
        )
        dibao_households = await db.scalar(
            select(func.count(distinct(m.DibaoCase.household_id))).where(paid, in_area)
        )
        active = m.TekunCase.status == m.TekunStatus.ACTIVE
        tk_persons, tk_amount = (
            await db.rows(
                select(
                    func.count(m.TekunCase.id),
                    func.coalesce(func.sum(m.TekunCase.monthly_amount_fen), 0),
                ).where(active, m.TekunCase.region_code.between(lo, hi))
            )
        )[0]
        tk_households = await db.scalar(
            select(func.count(distinct(Membership.household_id)))
            .join(m.TekunCase, m.TekunCase.person_id == Membership.person_id)
            .where(active, m.TekunCase.region_code.between(lo, hi))
        )
        near = (
            Enrolment.programme == NEAR_POVERTY,
            Enrolment.end_on.is_(None),
            Enrolment.status == EnrolmentStatus.ACTIVE,
            Enrolment.region_code.between(lo, hi),
        )
        near_households = await db.scalar(select(func.count(Enrolment.id)).where(*near))
        near_persons = await db.scalar(
            select(func.count(Membership.id))
            .join(Enrolment, Enrolment.household_id == Membership.household_id)
            .where(*near)
        )
        del hh
        return [
            ProgrammeFigures(
                programme="dibao",
                title="低保",
                households=int(dibao_households or 0),
                persons=int(dibao_persons or 0),
                monthly_amount_fen=int(amount),
            ),
            ProgrammeFigures(
                programme="tekun",
                title="特困",
                households=int(tk_households or 0),
                persons=int(tk_persons),
                monthly_amount_fen=int(tk_amount),
            ),
            ProgrammeFigures(
                programme="near_poverty",
                title="低保边缘家庭",
                households=int(near_households or 0),
                persons=int(near_persons or 0),
                monthly_amount_fen=0,
            ),
        ]

    @strawberry.field(
        description="低保按状态 低保 cases by state", metadata=list_size(len(m.DibaoStatus))
    )
    @direct
    async def minimum_living_guarantee_by_status(self, info: strawberry.Info) -> list[StatusCount]:
        lo, hi = self.area()
        rows = await ctx(info).db.rows(
            select(m.DibaoCase.status, func.count())
            .where(m.DibaoCase.region_code.between(lo, hi))
            .group_by(m.DibaoCase.status)
            .order_by(m.DibaoCase.status)
        )
        return [StatusCount(status=s, count=int(n)) for s, n in rows]

    @strawberry.field(description="超期案件 Cases whose next step is overdue (all programmes)")
    @direct
    async def cases_overdue(self, info: strawberry.Info) -> int:
        lo, hi = self.area()
        today = dt.date.today()
        total = 0
        for model in (m.DibaoCase, m.TekunCase, m.TemporaryCase):
            total += int(
                await ctx(info).db.scalar(
                    select(func.count(model.id)).where(
                        model.region_code.between(lo, hi), model.due_on < today
                    )
                )
                or 0
            )
        return total

    @strawberry.field(description="核查超期 低保 cases whose review is overdue")
    @direct
    async def reviews_overdue(self, info: strawberry.Info) -> int:
        lo, hi = self.area()
        return int(
            await ctx(info).db.scalar(
                select(func.count(m.DibaoCase.id)).where(
                    m.DibaoCase.region_code.between(lo, hi),
                    m.DibaoCase.status.in_(dibao.PAID),
                    m.DibaoCase.due_on < dt.date.today(),
                )
            )
            or 0
        )

    @strawberry.field(description="渐退期 Households in phase-out")
    @direct
    async def phase_outs(self, info: strawberry.Info) -> int:
        lo, hi = self.area()
        return int(
            await ctx(info).db.scalar(
                select(func.count(m.DibaoCase.id)).where(
                    m.DibaoCase.region_code.between(lo, hi),
                    m.DibaoCase.status == m.DibaoStatus.PHASE_OUT,
                )
            )
            or 0
        )

    @strawberry.field(description="临时救助 Temporary assistance granted in a year")
    @direct
    async def temporary_assistance(
        self, info: strawberry.Info, year: int | None = None
    ) -> TemporaryFigures:
        lo, hi = self.area()
        year = year or dt.date.today().year
        t = m.TemporaryCase
        cases, amount, emergency = (
            await ctx(info).db.rows(
                select(
                    func.count(t.id),
                    func.coalesce(func.sum(t.amount_fen), 0),
                    func.count(t.helped_on),
                ).where(
                    t.region_code.between(lo, hi),
                    t.status.in_(GRANTED),
                    t.decided_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
                )
            )
        )[0]
        return TemporaryFigures(
            year=year, cases=int(cases), amount_fen=int(amount), emergency_cases=int(emergency)
        )

    @strawberry.field(description="备用金余额(分) Reserve funds' balance in the division")
    @direct
    async def reserve_fund_balance_fen(self, info: strawberry.Info) -> int:
        lo, hi = self.area()
        return int(
            await ctx(info).db.scalar(
                select(func.coalesce(func.sum(m.ReserveFundEntry.amount_fen), 0)).where(
                    m.ReserveFundEntry.region_code.between(lo, hi)
                )
            )
            or 0
        )


@strawberry.type
class RegionStatisticsFields:
    @strawberry.field(description="社会救助 Social assistance figures for this division")
    @direct
    def social_assistance(self) -> SocialAssistanceStatistics:
        return SocialAssistanceStatistics(code=self.code)  # type: ignore[attr-defined]


__all__ = [
    "DibaoCaseType",
    "HouseholdFields",
    "PersonFields",
    "RegionStatisticsFields",
    "TekunCaseType",
]
