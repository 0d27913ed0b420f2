"""Fields on the core types: ``Household.minimumLivingGuarantee``,
``Household.nearPoverty``, ``Person.extremePovertySupport``,
``Person.temporaryAssistance`` and ``RegionStatistics.socialAssistance``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from minzheng.plugins.social_assistance import models as m
from minzheng.plugins.social_assistance.figures import SOURCE
from minzheng.plugins.social_assistance.schema.types import (
    DibaoCaseType,
    DibaoOverview,
    NearPovertyType,
    TekunCaseType,
    TekunOverview,
    TemporaryCaseType,
)
from minzheng.plugins.social_assistance.services import dibao, tekun
from minzheng.schema.direct import direct, prefetched
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import loaded
from minzheng.schema.statistics import region_figures
from minzheng.schema.types import ctx

P = "social_assistance."


def _dibao_overview(rows: list[m.DibaoCase]) -> DibaoOverview:
    current = next(
        (r for r in rows if not r.single_person and r.status in (*dibao.OPEN, *dibao.PAID)),
        None,
    )
    return DibaoOverview(current=current, history=rows)  # type: ignore[arg-type]


def _tekun_overview(rows: list[m.TekunCase]) -> TekunOverview:
    current = next((r for r in rows if r.status in (*tekun.OPEN, m.TekunStatus.ACTIVE)), None)
    return TekunOverview(current=current, history=rows)  # type: ignore[arg-type]


def _latest(rows: list[Any]) -> Any:
    return rows[0] if rows else None


@strawberry.type
class HouseholdFields:
    @strawberry.field(
        description="低保 Minimum living guarantee: the household's current case and history"
    )
    @prefetched
    def minimum_living_guarantee(self, info: strawberry.Info) -> DibaoOverview:
        loader = ctx(info).loaders[P + "dibao_cases_by_household"]
        return loaded(loader, self.id, _dibao_overview)  # type: ignore[attr-defined, no-any-return]

    @strawberry.field(description="低保边缘家庭 The latest near-poverty determination, if any")
    @prefetched
    def near_poverty(self, info: strawberry.Info) -> NearPovertyType | None:
        loader = ctx(info).loaders[P + "near_poverty_by_household"]
        return loaded(loader, self.id, _latest)  # type: ignore[attr-defined, no-any-return]


@strawberry.type
class PersonFields:
    @strawberry.field(description="特困供养 Extreme-poverty support: current case and history")
    @prefetched
    def extreme_poverty_support(self, info: strawberry.Info) -> TekunOverview:
        loader = ctx(info).loaders[P + "tekun_cases_by_person"]
        return loaded(loader, self.id, _tekun_overview)  # type: ignore[attr-defined, no-any-return]

    @strawberry.field(
        description="临时救助 Temporary assistance cases, newest first", metadata=list_size(2)
    )
    @prefetched
    def temporary_assistance(self, info: strawberry.Info) -> list[TemporaryCaseType]:
        loader = ctx(info).loaders[P + "temporary_cases_by_person"]
        return loaded(loader, self.id)  # type: ignore[attr-defined, no-any-return]


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


def _programmes(kept: dict[tuple[str, ...], int]) -> list[ProgrammeFigures]:
    def n(part: str) -> int:
        return kept.get((part,), 0)

    return [
        ProgrammeFigures(
            programme=code,
            title=title,
            households=n(f"{code}.households"),
            persons=n(f"{code}.persons"),
            monthly_amount_fen=n(f"{code}.amount"),
        )
        for code, title in (("dibao", "低保"), ("tekun", "特困"), ("near_poverty", "低保边缘家庭"))
    ]


@strawberry.type(
    name="SocialAssistanceStatistics",
    description="社会救助统计 Social assistance figures for a division, computed in SQL",
)
class SocialAssistanceStatistics:
    code: strawberry.Private[str]

    async def _figures(self, info: strawberry.Info) -> dict[tuple[str, ...], int]:
        return await region_figures(info, self.code, SOURCE)

    @strawberry.field(
        description="按项目 Households, persons and monthly amount by programme",
        metadata=list_size(3),
    )
    @direct
    async def programmes(self, info: strawberry.Info) -> list[ProgrammeFigures]:
        return _programmes(await self._figures(info))

    @strawberry.field(
        description="低保按状态 低保 cases by state", metadata=list_size(len(m.DibaoStatus))
    )
    @direct
    async def minimum_living_guarantee_by_status(self, info: strawberry.Info) -> list[StatusCount]:
        figures = await self._figures(info)
        found = sorted((k[1], n) for k, n in figures.items() if k[0] == "dibao.status")
        return [StatusCount(status=m.DibaoStatus(v), count=n) for v, n in found]

    @strawberry.field(description="超期案件 Cases whose next step is overdue (all programmes)")
    @direct
    async def cases_overdue(self, info: strawberry.Info) -> int:
        return (await self._figures(info)).get(("cases_overdue",), 0)

    @strawberry.field(description="核查超期 低保 cases whose review is overdue")
    @direct
    async def reviews_overdue(self, info: strawberry.Info) -> int:
        return (await self._figures(info)).get(("reviews_overdue",), 0)

    @strawberry.field(description="渐退期 Households in phase-out")
    @direct
    async def phase_outs(self, info: strawberry.Info) -> int:
        figures = await self._figures(info)
        return figures.get(("dibao.status", m.DibaoStatus.PHASE_OUT.value), 0)

    @strawberry.field(description="临时救助 Temporary assistance granted in a year")
    @direct
    async def temporary_assistance(
        self, info: strawberry.Info, year: int | None = None
    ) -> TemporaryFigures:
        today = dt.date.today()
        year = year or today.year
        # another year: counted as of its last day (the source counts the year of its day)
        on = None if year == today.year else dt.date(year, 12, 31)
        figures = await region_figures(info, self.code, SOURCE, on)
        return TemporaryFigures(
            year=year,
            cases=figures.get(("temporary.cases",), 0),
            amount_fen=figures.get(("temporary.amount",), 0),
            emergency_cases=figures.get(("temporary.emergency",), 0),
        )

    @strawberry.field(description="备用金余额(分) Reserve funds' balance in the division")
    @direct
    async def reserve_fund_balance_fen(self, info: strawberry.Info) -> int:
        return (await self._figures(info)).get(("reserve_fund",), 0)


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
