"""``RegionStatistics``: aggregates over one division, within scope.

The figures are read from the pre-aggregated division figures of
:mod:`minzheng.core.figures` when they hold for today, and counted live in SQL
otherwise.  Plugins add their own figures as fields on this type; their
resolvers get the instance as ``self``, use :meth:`RegionStatisticsBase.area`
for the bounds and :meth:`RegionStatisticsBase.figures` for the pre-aggregated
figures of their own source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from minzheng.core import figures as pre
from minzheng.core.divisions import DivisionCode
from minzheng.core.idnumber import Sex as CoreSex
from minzheng.schema.enums import Sex
from minzheng.schema.limits import list_size
from minzheng.schema.pii import small_cell, small_cells
from minzheng.schema.types import ctx

AGE_BANDS = pre.AGE_BANDS


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


@strawberry.type(
    name="RegionStatistics",
    description="区划统计 Figures for one division, counted within your scope",
)
class RegionStatisticsBase:
    code: str = strawberry.field(description="统计用区划代码 Division code")

    def area(self) -> tuple[str, str]:
        """The inclusive 12-digit bounds of the division (index range)."""
        return DivisionCode.parse(self.code).bounds

    async def figures(
        self, info: strawberry.Info, source: str, on: dt.date | None = None
    ) -> dict[tuple[str, ...], int]:
        """The figures of ``source`` for this division within the reader's scope
        (key parts → value): see :func:`region_figures`."""
        return await region_figures(info, self.code, source, on)

    async def _persons(self, info: strawberry.Info) -> dict[tuple[Any, str], int]:
        """Living persons by (sex, age band), shared by ``population``, ``bySex``
        and ``byAgeBand``."""
        found = await self.figures(info, pre.REGISTRY)
        return {(CoreSex(k[1]), k[2]): n for k, n in found.items() if k[0] == "persons"}

    @strawberry.field(description="人口 Living registered persons (null: small cell)")
    async def population(self, info: strawberry.Info) -> int | None:
        return small_cell(info, sum((await self._persons(info)).values()))

    @strawberry.field(description="户数 Registered households (null: small cell)")
    async def households(self, info: strawberry.Info) -> int | None:
        return small_cell(info, (await self.figures(info, pre.REGISTRY)).get(("households",), 0))

    @strawberry.field(description="按性别 Living persons by sex", metadata=list_size(len(Sex)))
    async def by_sex(self, info: strawberry.Info) -> list[SexCount]:
        by_sex: dict[Any, int] = {}
        for (sex, _band), n in (await self._persons(info)).items():
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
        for (_sex, band), n in (await self._persons(info)).items():
            counts[band] = counts.get(band, 0) + n
        shown = small_cells(info, [counts.get(label, 0) for _l, _h, label in AGE_BANDS])
        return [
            AgeBandCount(band=label, count=c)
            for (_l, _h, label), c in zip(AGE_BANDS, shown, strict=True)
        ]


async def region_figures(
    info: strawberry.Info, code: str, source: str, on: dt.date | None = None
) -> dict[tuple[str, ...], int]:
    """The figures of ``source`` (a :class:`~minzheng.core.figures.FigureSource`
    name) for division ``code`` within the reader's scope, as key parts → value.

    For today (``on`` None), the pre-aggregated figures when they hold for today;
    otherwise — another day, or figures not refreshed — the source's own
    statements counted live over the division, so both paths give one answer.
    For plugin types nested under ``RegionStatistics`` that carry the code."""
    today = dt.date.today()
    if on is None or on == today:
        kept = await kept_figures(info, code, source)
        if kept is not None:
            return kept
    return await ctx(info).loaders["region_figures_live"].load((code, source, on or today))  # type: ignore[no-any-return]


async def kept_figures(
    info: strawberry.Info, code: str, source: str
) -> dict[tuple[str, ...], int] | None:
    """Only the pre-aggregated figures of ``source`` for ``code``; None when they
    do not hold for today."""
    found = await ctx(info).loaders["region_figures"].load(code)
    return None if found is None else found.of(source)  # type: ignore[no-any-return]


def region_figures_loader(db: Any, plugins: Any) -> DataLoader[str, pre.Figures | None]:
    """Dataloader: division code → its pre-aggregated figures (None: count live)."""

    async def load(codes: Sequence[str]) -> list[pre.Figures | None]:
        expected = pre.fingerprints(pre.sources_of(plugins), db.dialect)
        return await pre.read(db, codes, expected)

    return DataLoader(load_fn=load)


def live_figures_loader(db: Any, plugins: Any) -> DataLoader[tuple[str, str, dt.date], Any]:
    """Dataloader: (division code, source, day) → the source's figures counted
    live over the division, within the reader's scope."""
    sources: dict[str, pre.FigureSource] = {}

    async def load(keys: Sequence[tuple[str, str, dt.date]]) -> list[Any]:
        if not sources:
            sources.update((s.name, s) for s in pre.sources_of(plugins))
        return [await pre.count_live(db, sources[name], code, on) for code, name, on in keys]

    return DataLoader(load_fn=load)
