"""``RegionStatistics``: aggregates over one division, computed in SQL, within scope.

Plugins add their own figures as fields on this type; their resolvers get the
instance as ``self`` and use :meth:`RegionStatisticsBase.area` for the bounds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import case, func, select
from strawberry.dataloader import DataLoader

from minzheng.core.divisions import DivisionCode
from minzheng.core.models import Household, Person
from minzheng.schema.enums import Sex
from minzheng.schema.limits import list_size
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

    async def _figures(self, info: strawberry.Info) -> dict[tuple[Any, str], int]:
        """Living persons by (sex, age band): one grouped statement per division and
        request, shared by ``population``, ``bySex`` and ``byAgeBand``."""
        return await ctx(info).loaders["person_figures_by_region"].load(self.code)  # type: ignore[no-any-return]

    @strawberry.field(description="人口 Living registered persons (null: small cell)")
    async def population(self, info: strawberry.Info) -> int | None:
        return small_cell(info, sum((await self._figures(info)).values()))

    @strawberry.field(description="户数 Registered households (null: small cell)")
    async def households(self, info: strawberry.Info) -> int | None:
        lo, hi = self.area()
        stmt = (
            select(func.count()).select_from(Household).where(Household.region_code.between(lo, hi))
        )
        return small_cell(info, int(await ctx(info).db.scalar(stmt) or 0))

    @strawberry.field(description="按性别 Living persons by sex", metadata=list_size(len(Sex)))
    async def by_sex(self, info: strawberry.Info) -> list[SexCount]:
        by_sex: dict[Any, int] = {}
        for (sex, _band), n in (await self._figures(info)).items():
            by_sex[sex] = by_sex.get(sex, 0) + n
        ordered = sorted(by_sex.items(), key=lambda item: str(item[0].value))
        counts = small_cells(info, [n for _s, n in ordered])
        return [SexCount(sex=s, count=c) for (s, _n), c in zip(ordered, counts, strict=True)]

    @strawberry.field(
        description="按年龄段 Living persons by age band (0-15, 16-59, 60-79, 80+)",
        metadata=list_size(len(AGE_BANDS)),
    )
    async def by_age_band(self, info: strawberry.Info) -> list[AgeBandCount]:
        counts: dict[str, int] = {}
        for (_sex, band), n in (await self._figures(info)).items():
            counts[band] = counts.get(band, 0) + n
        shown = small_cells(info, [counts.get(label, 0) for _l, _h, label in AGE_BANDS])
        return [
            AgeBandCount(band=label, count=c)
            for (_l, _h, label), c in zip(AGE_BANDS, shown, strict=True)
        ]


def person_figures_loader(db: Any) -> DataLoader[str, dict[tuple[Any, str], int]]:
    """Dataloader: division code → {(sex, age band): living persons}, in SQL."""

    async def load(codes: Sequence[str]) -> list[dict[tuple[Any, str], int]]:
        today = dt.date.today()
        whens = [
            (Person.birth_date > _birth_cutoff(today, high + 1), label)
            for _low, high, label in AGE_BANDS[:-1]
        ]
        band = case(*whens, else_=AGE_BANDS[-1][2])
        out = []
        for code in codes:
            lo, hi = DivisionCode.parse(code).bounds
            stmt = (
                select(Person.sex, band.label("band"), func.count())
                .where(Person.region_code.between(lo, hi), Person.died_on.is_(None))
                .group_by(Person.sex, band)
            )
            out.append({(sex, b): int(n) for sex, b, n in await db.rows(stmt)})
        return out

    return DataLoader(load_fn=load)
