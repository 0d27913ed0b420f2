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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from minzheng.core import figures as pre
from minzheng.core.divisions import DivisionCode
from minzheng.core.idnumber import Sex as CoreSex
from minzheng.schema.direct import direct
from minzheng.schema.enums import Sex
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import Pending, loaded
from minzheng.schema.pii import small_cell, small_cells
from minzheng.schema.types import ctx

AGE_BANDS = pre.AGE_BANDS
T = TypeVar("T")
#: one source's figures for a division: key parts → value
SourceFigures = dict[tuple[str, ...], int]


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

    def answer(self, info: strawberry.Info, source: str, then: Callable[[SourceFigures], T]) -> Any:
        """``then(figures of source)``: at once when the division's kept figures
        are loaded already (``regionStatistics`` loads them before it answers)
        and hold for today, else an awaitable of it (:meth:`figures`).  A field
        written this way and marked :func:`~minzheng.schema.direct.direct`
        completes without a coroutine."""
        found = loaded(ctx(info).loaders["region_figures"], self.code)
        if not isinstance(found, Pending) and found is not None:
            kept = found.of(source)
            if kept is not None:
                return then(kept)

        async def later() -> T:
            return then(await self.figures(info, source))

        return later()

    @strawberry.field(description="人口 Living registered persons (null: small cell)")
    @direct
    def population(self, info: strawberry.Info) -> int | None:
        return self.answer(  # type: ignore[no-any-return]
            info, pre.REGISTRY, lambda found: small_cell(info, sum(_persons(found).values()))
        )

    @strawberry.field(description="户数 Registered households (null: small cell)")
    @direct
    def households(self, info: strawberry.Info) -> int | None:
        return self.answer(  # type: ignore[no-any-return]
            info, pre.REGISTRY, lambda found: small_cell(info, found.get(("households",), 0))
        )

    @strawberry.field(description="按性别 Living persons by sex", metadata=list_size(len(Sex)))
    @direct
    def by_sex(self, info: strawberry.Info) -> list[SexCount]:
        def counts(found: SourceFigures) -> list[SexCount]:
            ordered = sorted(_persons_by(found, 0).items(), key=lambda item: str(item[0].value))
            shown = small_cells(info, [n for _s, n in ordered])
            return [SexCount(sex=s, count=c) for (s, _n), c in zip(ordered, shown, strict=True)]

        return self.answer(info, pre.REGISTRY, counts)  # type: ignore[no-any-return]

    @strawberry.field(
        description="按年龄段 Living persons by age band (0-15, 16-59, 60-79, 80+)",
        metadata=list_size(len(AGE_BANDS)),
    )
    @direct
    def by_age_band(self, info: strawberry.Info) -> list[AgeBandCount]:
        def counts(found: SourceFigures) -> list[AgeBandCount]:
            by_band = _persons_by(found, 1)
            shown = small_cells(info, [by_band.get(label, 0) for _l, _h, label in AGE_BANDS])
            return [
                AgeBandCount(band=label, count=c)
                for (_l, _h, label), c in zip(AGE_BANDS, shown, strict=True)
            ]

        return self.answer(info, pre.REGISTRY, counts)  # type: ignore[no-any-return]


def _persons(found: SourceFigures) -> dict[tuple[Any, str], int]:
    """Living persons by (sex, age band), from the registry's figures."""
    return {(CoreSex(k[1]), k[2]): n for k, n in found.items() if k[0] == "persons"}


def _persons_by(found: SourceFigures, part: int) -> dict[Any, int]:
    """Living persons by sex (``part`` 0) or by age band (1)."""
    out: dict[Any, int] = {}
    for key, n in _persons(found).items():
        out[key[part]] = out.get(key[part], 0) + n
    return out


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
