"""``RegionStatistics``: aggregates over one division, computed in SQL, within scope.

Plugins add their own figures as fields on this type; their resolvers get the
instance as ``self`` and use :meth:`RegionStatisticsBase.area` for the bounds.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy import case, func, select

from minzheng.core.divisions import DivisionCode
from minzheng.core.models import Household, Person
from minzheng.schema.enums import Sex
from minzheng.schema.pii import small_cell, small_cells
from minzheng.schema.types import ctx

AGE_BANDS = ((0, 15, "0-15"), (16, 59, "16-59"), (60, 79, "60-79"), (80, 200, "80+"))


@strawberry.type(description="按性别 A count by sex")
class SexCount:
    sex: Sex
    count: int | None = strawberry.field(
        description="人数 Count; null when suppressed as a small cell (see extensions.smallCells)"
    )


@strawberry.type(description="按年龄段 A count by age band")
class AgeBandCount:
    band: str = strawberry.field(description="年龄段 Age band, e.g. 16-59")
    count: int | None = strawberry.field(
        description="人数 Count; null when suppressed as a small cell (see extensions.smallCells)"
    )


def _birth_cutoff(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


@strawberry.type(
    name="RegionStatistics",
    description="区划统计 Figures for one division, counted within your scope",
)
class RegionStatisticsBase:
    code: str = strawberry.field(description="统计用区划代码 Division code")

    def area(self) -> tuple[str, str]:
        """The inclusive 12-digit bounds of the division (index range)."""
        return DivisionCode.parse(self.code).bounds

    @strawberry.field(description="人口 Living registered persons (null: small cell)")
    async def population(self, info: strawberry.Info) -> int | None:
        lo, hi = self.area()
        stmt = (
            select(func.count())
            .select_from(Person)
            .where(Person.region_code.between(lo, hi), Person.died_on.is_(None))
        )
        return small_cell(info, int(await ctx(info).db.scalar(stmt) or 0))

    @strawberry.field(description="户数 Registered households (null: small cell)")
    async def households(self, info: strawberry.Info) -> int | None:
        lo, hi = self.area()
        stmt = (
            select(func.count()).select_from(Household).where(Household.region_code.between(lo, hi))
        )
        return small_cell(info, int(await ctx(info).db.scalar(stmt) or 0))

    @strawberry.field(description="按性别 Living persons by sex")
    async def by_sex(self, info: strawberry.Info) -> list[SexCount]:
        lo, hi = self.area()
        stmt = (
            select(Person.sex, func.count())
            .where(Person.region_code.between(lo, hi), Person.died_on.is_(None))
            .group_by(Person.sex)
            .order_by(Person.sex)
        )
        rows = await ctx(info).db.rows(stmt)
        counts = small_cells(info, [int(n) for _s, n in rows])
        return [SexCount(sex=s, count=c) for (s, _n), c in zip(rows, counts, strict=True)]

    @strawberry.field(description="按年龄段 Living persons by age band (0-15, 16-59, 60-79, 80+)")
    async def by_age_band(self, info: strawberry.Info) -> list[AgeBandCount]:
        lo, hi = self.area()
        today = dt.date.today()
        whens = [
            (Person.birth_date > _birth_cutoff(today, high + 1), label)
            for _low, high, label in AGE_BANDS[:-1]
        ]
        band = case(*whens, else_=AGE_BANDS[-1][2])
        stmt = (
            select(band.label("band"), func.count())
            .where(Person.region_code.between(lo, hi), Person.died_on.is_(None))
            .group_by(band)
        )
        counts = dict(await ctx(info).db.rows(stmt))
        shown = small_cells(info, [int(counts.get(label, 0)) for _l, _h, label in AGE_BANDS])
        return [
            AgeBandCount(band=label, count=c)
            for (_l, _h, label), c in zip(AGE_BANDS, shown, strict=True)
        ]
