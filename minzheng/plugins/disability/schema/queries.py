"""Root query fields and the fields the plugin adds to core types."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import Select, select

from minzheng.core import divisions
from minzheng.core.models import Person as PersonRow
from minzheng.plugins.disability import queries as q
from minzheng.plugins.disability.models import (
    DisabilityApplication as ApplicationRow,
)
from minzheng.plugins.disability.models import (
    DisabilityCareProvider as ProviderRow,
)
from minzheng.plugins.disability.models import (
    DisabilityGrant as GrantRow,
)
from minzheng.plugins.disability.models import (
    DisabilityRehabEnrolment as RehabRow,
)
from minzheng.plugins.disability.models import (
    DisabilityStandard as StandardRow,
)
from minzheng.plugins.disability.models import (
    DisabilityVerification as VerificationRow,
)
from minzheng.plugins.disability.models import (
    DisabilityVerificationCycle as CycleRow,
)
from minzheng.plugins.disability.rules import (
    ApplicationState,
    GrantStatus,
    Subsidy,
    VerificationOutcome,
)
from minzheng.plugins.disability.schema.types import (
    DisabilityApplication,
    DisabilityCareArrangement,
    DisabilityCareProvider,
    DisabilityEligibility,
    DisabilityFigures,
    DisabilityGrant,
    DisabilityStandardInForce,
    DisabilitySubsidyEligibility,
    DisabilitySubsidyStandard,
    DisabilityVerification,
    DisabilityVerificationCycle,
    PersonDisabilitySubsidies,
    PersonRef,
    RehabilitationEnrolment,
    loader,
)
from minzheng.plugins.disability.settings import get_policy
from minzheng.schema import ids
from minzheng.schema.direct import direct, prefetched
from minzheng.schema.filters import region_bounds
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import loaded
from minzheng.schema.pagination import Edge, PageInfo, keyset_page
from minzheng.schema.permissions import requires
from minzheng.schema.statistics import kept_figures

READ = "disability:read"


def _within(stmt: Select[Any], column: Any, code: str | None, path: str) -> Select[Any]:
    if not code:
        return stmt
    lo, hi = region_bounds(code, path)
    return stmt.where(column.between(lo, hi))


# ---------------------------------------------------------------- connections


@strawberry.type(description="申请列表 A page of applications")
class DisabilityApplicationConnection:
    edges: list[Edge[DisabilityApplication]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching (costs a COUNT)")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(description="补贴列表 A page of grants")
class DisabilityGrantConnection:
    edges: list[Edge[DisabilityGrant]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching (costs a COUNT)")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(description="验证记录列表 A page of verification results")
class DisabilityVerificationConnection:
    edges: list[Edge[DisabilityVerification]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching (costs a COUNT)")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(description="康复人员列表 A page of rehabilitation enrolments")
class RehabilitationEnrolmentConnection:
    edges: list[Edge[RehabilitationEnrolment]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching (costs a COUNT)")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(
    description="主动发现 A person who appears eligible but has no grant or application"
)
class DisabilityDiscoveredPerson:
    person_id: strawberry.Private[int]
    row: strawberry.Private[Any]

    @strawberry.field(description="人员 The person")
    @direct
    def person(self) -> PersonRef:
        return self.row  # type: ignore[no-any-return]

    @strawberry.field(
        description="应享补贴 Subsidies they appear eligible for, not yet sought",
        metadata=list_size(len(Subsidy)),
    )
    @direct
    async def subsidies(self, info: strawberry.Info) -> list[Subsidy]:
        return await loader(info, "discovered_by_person").load(self.person_id)  # type: ignore[no-any-return]

    @strawberry.field(
        description="资格 Eligibility for each subsidy, with reasons",
        metadata=list_size(len(Subsidy)),
    )
    @direct
    async def eligibility(self, info: strawberry.Info) -> list[DisabilitySubsidyEligibility]:
        return await loader(info, "subsidy_eligibility_by_person").load(self.person_id)  # type: ignore[no-any-return]


@strawberry.type(description="主动发现结果 A page of persons found by active discovery (应享尽享)")
class DisabilityDiscoveryConnection:
    edges: list[Edge[DisabilityDiscoveredPerson]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total found (costs a COUNT)")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


# -------------------------------------------------------------------- filters


@strawberry.input(description="申请筛选 Filter for applications")
class DisabilityApplicationFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划 Within this division"
    )
    subsidy: Subsidy | None = strawberry.field(default=None, description="补贴 The subsidy")
    state: ApplicationState | None = strawberry.field(default=None, description="状态 State")


@strawberry.input(description="补贴筛选 Filter for grants")
class DisabilityGrantFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划 Within this division"
    )
    subsidy: Subsidy | None = strawberry.field(default=None, description="补贴 The subsidy")
    status: GrantStatus | None = strawberry.field(default=None, description="状态 Status")
    review_flag: bool | None = strawberry.field(default=None, description="待复核 Flagged only")


@strawberry.input(description="验证记录筛选 Filter for verification results")
class DisabilityVerificationFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划 Within this division"
    )
    cycle_id: strawberry.ID | None = strawberry.field(default=None, description="周期 Cycle")
    outcome: VerificationOutcome | None = strawberry.field(default=None, description="结果")


# ---------------------------------------------------------------------- query


@strawberry.type
class Query:
    @strawberry.field(
        description="两项补贴申请 An application by global ID", extensions=requires(READ)
    )
    async def disability_application(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> DisabilityApplication | None:
        pk = ids.try_decode(id, "DisabilityApplication")
        return None if pk is None else await loader(info, "application_by_id").load(pk)

    @strawberry.field(
        description="两项补贴申请列表 Applications, by key, with cursor pagination",
        extensions=requires(READ),
    )
    async def disability_applications(
        self,
        info: strawberry.Info,
        filter: DisabilityApplicationFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DisabilityApplicationConnection:
        stmt = select(ApplicationRow)
        if filter is not None:
            stmt = _within(
                stmt, ApplicationRow.region_code, filter.region_code, "filter.regionCode"
            )
            if filter.subsidy is not None:
                stmt = stmt.where(ApplicationRow.subsidy == filter.subsidy)
            if filter.state is not None:
                stmt = stmt.where(ApplicationRow.state == filter.state)
        page = await keyset_page(info, stmt, ApplicationRow.id, first=first, after=after)
        return DisabilityApplicationConnection(
            edges=page.edges(Edge), page_info=page.page_info, _page=page
        )

    @strawberry.field(description="补贴发放 A grant by global ID", extensions=requires(READ))
    async def disability_grant(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> DisabilityGrant | None:
        pk = ids.try_decode(id, "DisabilityGrant")
        return None if pk is None else await loader(info, "grant_by_id").load(pk)

    @strawberry.field(
        description="补贴发放列表 Grants, by key, with cursor pagination", extensions=requires(READ)
    )
    async def disability_grants(
        self,
        info: strawberry.Info,
        filter: DisabilityGrantFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DisabilityGrantConnection:
        stmt = select(GrantRow)
        if filter is not None:
            stmt = _within(stmt, GrantRow.region_code, filter.region_code, "filter.regionCode")
            if filter.subsidy is not None:
                stmt = stmt.where(GrantRow.subsidy == filter.subsidy)
            if filter.status is not None:
                stmt = stmt.where(GrantRow.status == filter.status)
            if filter.review_flag is not None:
                stmt = stmt.where(GrantRow.review_flag.is_(filter.review_flag))
        page = await keyset_page(info, stmt, GrantRow.id, first=first, after=after)
        return DisabilityGrantConnection(
            edges=page.edges(Edge), page_info=page.page_info, _page=page
        )

    @strawberry.field(
        description="补贴标准历史 Standards governing a division (its own and inherited), "
        "newest first",
        extensions=requires(READ),
        metadata=list_size(10),
    )
    async def disability_standards(
        self, info: strawberry.Info, region_code: str, subsidy: Subsidy | None = None
    ) -> list[DisabilitySubsidyStandard]:
        region_bounds(region_code, "regionCode")
        stmt = select(StandardRow).where(StandardRow.region_code.in_(q.ancestor_codes(region_code)))
        if subsidy is not None:
            stmt = stmt.where(StandardRow.subsidy == subsidy)
        stmt = stmt.order_by(StandardRow.effective_from.desc(), StandardRow.id.desc())
        return await info.context.db.scalars(stmt)  # type: ignore[no-any-return]

    @strawberry.field(
        description="适用标准 The standard in force for a division, subsidy and grade on a date",
        extensions=requires(READ),
    )
    async def disability_standard_in_force(
        self,
        info: strawberry.Info,
        region_code: str,
        subsidy: Subsidy,
        grade: int | None = None,
        on: dt.date | None = None,
    ) -> DisabilityStandardInForce | None:
        region_bounds(region_code, "regionCode")
        day = on or dt.date.today()
        choice = await info.context.db.run(
            lambda s: q.standard_for(s, subsidy, region_code, grade, day)
        )
        if choice is None:
            return None
        row = await loader(info, "standard_by_id").load(choice.standard.id)
        return DisabilityStandardInForce(
            standard=row, inherited=choice.inherited, detail=choice.detail
        )

    @strawberry.field(
        description="生存验证周期 Verification cycles covering a division, newest first",
        extensions=requires(READ),
        metadata=list_size(20),
    )
    async def disability_verification_cycles(
        self, info: strawberry.Info, region_code: str | None = None
    ) -> list[DisabilityVerificationCycle]:
        stmt = select(CycleRow)
        if region_code:
            region_bounds(region_code, "regionCode")
            prefixes = [divisions.parse(c).prefix for c in q.ancestor_codes(region_code)]
            lo, hi = region_bounds(region_code, "regionCode")
            stmt = stmt.where(
                CycleRow.scope_prefix.in_(prefixes) | CycleRow.region_code.between(lo, hi)
            )
        stmt = stmt.order_by(CycleRow.opens_on.desc(), CycleRow.id.desc())
        return await info.context.db.scalars(stmt)  # type: ignore[no-any-return]

    @strawberry.field(
        description="验证记录 Verification results, by key, with cursor pagination",
        extensions=requires(READ),
    )
    async def disability_verifications(
        self,
        info: strawberry.Info,
        filter: DisabilityVerificationFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DisabilityVerificationConnection:
        stmt = select(VerificationRow)
        if filter is not None:
            stmt = _within(
                stmt, VerificationRow.region_code, filter.region_code, "filter.regionCode"
            )
            if filter.cycle_id is not None:
                pk = ids.decode(
                    filter.cycle_id, expect="DisabilityVerificationCycle", field="filter.cycleId"
                )[1]
                stmt = stmt.where(VerificationRow.cycle_id == pk)
            if filter.outcome is not None:
                stmt = stmt.where(VerificationRow.outcome == filter.outcome)
        page = await keyset_page(info, stmt, VerificationRow.id, first=first, after=after)
        return DisabilityVerificationConnection(
            edges=page.edges(Edge), page_info=page.page_info, _page=page
        )

    @strawberry.field(
        description="主动发现 Persons who appear eligible for a subsidy but have neither a "
        "grant nor an application (应享尽享)",
        extensions=requires(READ),
    )
    async def disability_discovery(
        self,
        info: strawberry.Info,
        region_code: str | None = None,
        subsidy: Subsidy | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DisabilityDiscoveryConnection:
        if region_code:
            region_bounds(region_code, "regionCode")
        stmt = q.discovery_statement(
            get_policy(), dt.date.today(), subsidy=subsidy, region_code=region_code
        ).order_by(None)
        page = await keyset_page(info, stmt, PersonRow.id, first=first, after=after)
        return DisabilityDiscoveryConnection(
            edges=[
                Edge(
                    cursor=e.cursor,
                    node=DisabilityDiscoveredPerson(person_id=e.node.id, row=e.node),
                )
                for e in page.edges(Edge)
            ],
            page_info=page.page_info,
            _page=page,
        )

    @strawberry.field(
        description="照护服务机构 Care providers in a division",
        extensions=requires(READ),
        metadata=list_size(50),
    )
    async def disability_care_providers(
        self, info: strawberry.Info, region_code: str | None = None
    ) -> list[DisabilityCareProvider]:
        stmt = _within(select(ProviderRow), ProviderRow.region_code, region_code, "regionCode")
        return await info.context.db.scalars(stmt.order_by(ProviderRow.id))  # type: ignore[no-any-return]

    @strawberry.field(
        description="社区康复 Community rehabilitation enrolments, by key, with cursor pagination",
        extensions=requires(READ),
    )
    async def rehabilitation_enrolments(
        self,
        info: strawberry.Info,
        region_code: str | None = None,
        open_only: bool = True,
        first: int = 20,
        after: str | None = None,
    ) -> RehabilitationEnrolmentConnection:
        stmt = _within(select(RehabRow), RehabRow.region_code, region_code, "regionCode")
        if open_only:
            stmt = stmt.where(RehabRow.ended_on.is_(None))
        page = await keyset_page(info, stmt, RehabRow.id, first=first, after=after)
        return RehabilitationEnrolmentConnection(
            edges=page.edges(Edge), page_info=page.page_info, _page=page
        )


# ----------------------------------------------------------- on core types


@strawberry.type
class PersonFields:
    @strawberry.field(
        description="两项补贴 Disability subsidies: grants, applications and eligibility",
        extensions=requires(READ),
    )
    @direct
    def disability_subsidies(self) -> PersonDisabilitySubsidies:
        return PersonDisabilitySubsidies(person_id=self.id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="照护服务资格 Eligibility for care services (集中照料、日间服务、邻里照护), "
        "each condition with its verdict",
        extensions=requires(READ),
    )
    @prefetched
    def disability_care_eligibility(self, info: strawberry.Info) -> DisabilityEligibility | None:
        return loaded(loader(info, "care_eligibility_by_person"), self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(
        description="照护服务 Care arrangements, oldest first",
        extensions=requires(READ),
        metadata=list_size(2),
    )
    @prefetched
    def disability_care_arrangements(
        self, info: strawberry.Info
    ) -> list[DisabilityCareArrangement]:
        return loaded(loader(info, "arrangements_by_person"), self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(
        description="精神障碍社区康复 Community rehabilitation enrolments, newest first",
        extensions=requires(READ),
        metadata=list_size(2),
    )
    @prefetched
    def rehabilitation(self, info: strawberry.Info) -> list[RehabilitationEnrolment]:
        return loaded(loader(info, "rehab_by_person"), self.id)  # type: ignore[attr-defined,no-any-return]


@strawberry.type
class StatisticsFields:
    @strawberry.field(
        description="残疾人 Disability figures: recipients and totals per subsidy, verification "
        "rate in the current cycle, suspended grants, eligible but not enrolled (aggregates: "
        "statistics:read, small cells suppressed without pii:read)"
    )
    async def disability(
        self, info: strawberry.Info, month: dt.date | None = None
    ) -> DisabilityFigures:
        code = self.code  # type: ignore[attr-defined]
        day = month or dt.date.today()
        kept = None if month else await kept_figures(info, code, q.FIGURE_SOURCE_NAME)
        if kept is not None:
            return DisabilityFigures(figures=q.figures_from(kept, code, day))
        figures = await info.context.db.run(lambda s: q.region_figures(s, code, day, get_policy()))
        return DisabilityFigures(figures=figures)
