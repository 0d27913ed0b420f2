"""Root query fields of 社会救助."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import func, select

from minzheng.core import divisions
from minzheng.core.errors import DomainError
from minzheng.core.models import Enrolment, EnrolmentStatus, HukouType
from minzheng.core.models import Household as HouseholdRow
from minzheng.core.models import Person as PersonRow
from minzheng.core.models import Region as RegionRow
from minzheng.plugins.social_assistance import models as m
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.schema.types import (
    DibaoCaseConnection,
    DibaoCaseType,
    Eligibility,
    ExplainedProgramme,
    ReserveFundType,
    RuleResult,
    StandardType,
    TekunCaseConnection,
    TekunCaseType,
    TemporaryCaseConnection,
    TemporaryCaseType,
)
from minzheng.plugins.social_assistance.services import common, dibao, explain, tekun
from minzheng.plugins.social_assistance.services.common import NEAR_POVERTY
from minzheng.schema import ids
from minzheng.schema.filters import region_bounds
from minzheng.schema.limits import list_size
from minzheng.schema.pagination import Edge, keyset_page
from minzheng.schema.permissions import requires
from minzheng.schema.registry import HouseholdConnection
from minzheng.schema.types import ctx

READ = "social_assistance:read"
P = "social_assistance."


def _graphql_error(exc: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": exc.code.upper().replace(".", "_")}
    if getattr(exc, "field", None):
        extensions["field"] = exc.field  # type: ignore[attr-defined]
    return GraphQLError(exc.message, extensions=extensions)


@strawberry.input(name="MinimumLivingGuaranteeCaseFilter", description="低保案件筛选")
class DibaoFilter:
    region_code: str | None = strawberry.field(default=None, description="区划 Within a division")
    status: list[m.DibaoStatus] | None = strawberry.field(default=None, description="状态 States")
    overdue: bool | None = strawberry.field(
        default=None, description="超期 Only cases whose next step is (not) overdue"
    )
    single_person: bool | None = strawberry.field(default=None, description="单人户")


@strawberry.input(name="ExtremePovertySupportCaseFilter", description="特困案件筛选")
class TekunFilter:
    region_code: str | None = strawberry.field(default=None, description="区划 Within a division")
    status: list[m.TekunStatus] | None = strawberry.field(default=None, description="状态")
    overdue: bool | None = strawberry.field(default=None, description="超期 Overdue")


@strawberry.input(name="TemporaryAssistanceCaseFilter", description="临时救助案件筛选")
class TemporaryFilter:
    region_code: str | None = strawberry.field(default=None, description="区划 Within a division")
    status: list[m.TemporaryStatus] | None = strawberry.field(default=None, description="状态")
    overdue: bool | None = strawberry.field(default=None, description="超期 Overdue")


def _filtered(model: Any, f: Any, path: str = "filter.regionCode") -> Any:
    stmt = select(model)
    if f is None:
        return stmt
    if f.region_code:
        lo, hi = region_bounds(f.region_code, path)
        stmt = stmt.where(model.region_code.between(lo, hi))
    if f.status:
        stmt = stmt.where(model.status.in_(f.status))
    if f.overdue is not None:
        late = model.due_on < dt.date.today()
        stmt = stmt.where(late if f.overdue else ~late | model.due_on.is_(None))
    if getattr(f, "single_person", None) is not None:
        stmt = stmt.where(model.single_person.is_(f.single_person))
    return stmt


async def _by_global_id(
    info: strawberry.Info, id: strawberry.ID, type_name: str, loader: str
) -> Any:
    pk = ids.try_decode(id, type_name)
    return None if pk is None else await ctx(info).loaders[P + loader].load(pk)


@strawberry.type(
    name="ExtremePovertySpotCheckShare",
    description="特困抽查比例 A county's spot-checked share of its 特困 confirmations",
)
class SpotCheckShare:
    county_code: str = strawberry.field(description="县级区划 County")
    county_name: str = strawberry.field(description="名称 Name")
    confirmed: int = strawberry.field(description="确认件数 Files confirmed in the year")
    spot_checked: int = strawberry.field(description="抽查件数 Of them, spot-checked")
    share: float = strawberry.field(description="抽查比例 Spot-checked share (0–1)")
    meets_minimum: bool = strawberry.field(description="达标 At least 30 %")


@strawberry.type(description="公示 One 低保 household as published in its village")
class DibaoPublicationEntry:
    case_number: str | None = strawberry.field(description="案件编号 Case number")
    village_code: str = strawberry.field(description="村（居）代码 Village or community code")
    village_name: str = strawberry.field(description="村（居） Village or community")
    applicant_name: str = strawberry.field(description="申请人 Applicant")
    covered_members: int = strawberry.field(description="保障人数 Members covered")
    monthly_amount_fen: int = strawberry.field(description="月保障金(分) Monthly amount in fen")
    payment_from: dt.date | None = strawberry.field(description="发放起始 Paid from")
    approved_on: dt.date | None = strawberry.field(description="批准日期 Approved on")
    phase_out: bool = strawberry.field(description="渐退期 In the phase-out period")


@strawberry.type
class Query:
    # ---------------------------------------------------------------- standards

    @strawberry.field(
        description="社会救助标准 The standard in force for a place, area and date "
        "(inherited from the county unless the township overrides it)",
        extensions=requires(READ),
    )
    async def social_assistance_standard(
        self,
        info: strawberry.Info,
        region_code: str,
        area: HukouType,
        on: dt.date | None = None,
    ) -> StandardType | None:
        region_bounds(region_code, "regionCode")
        code = divisions.parse(region_code).full

        async def find(session: Any) -> Any:
            try:
                row, _s = await common.standard_for(session, code, area, on or dt.date.today())
            except DomainError:
                return None
            return row

        return await ctx(info).db.run(find)  # type: ignore[no-any-return]

    @strawberry.field(
        description="标准沿革 Every standard set for a place and the divisions above it, "
        "newest first (the history stays queryable)",
        extensions=requires(READ),
        metadata=list_size(20),
    )
    async def social_assistance_standards(
        self, info: strawberry.Info, region_code: str, area: HukouType | None = None
    ) -> list[StandardType]:
        region_bounds(region_code, "regionCode")
        stmt = select(m.SocialAssistanceStandard).where(
            m.SocialAssistanceStandard.region_code.in_(common.ancestor_codes(region_code))
        )
        if area is not None:
            stmt = stmt.where(m.SocialAssistanceStandard.area == area)
        stmt = stmt.order_by(
            m.SocialAssistanceStandard.effective_from.desc(), m.SocialAssistanceStandard.id.desc()
        )
        return await ctx(info).db.scalars(stmt)  # type: ignore[no-any-return]

    # -------------------------------------------------------------------- 低保

    @strawberry.field(description="低保案件 A 低保 case by global ID", extensions=requires(READ))
    async def minimum_living_guarantee_case(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> DibaoCaseType | None:
        return await _by_global_id(info, id, "MinimumLivingGuaranteeCase", "dibao_by_id")  # type: ignore[no-any-return]

    @strawberry.field(
        description="低保案件列表 低保 cases, by key, with cursor pagination",
        extensions=requires(READ),
    )
    async def minimum_living_guarantee_cases(
        self,
        info: strawberry.Info,
        filter: DibaoFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DibaoCaseConnection:
        page = await keyset_page(
            info, _filtered(m.DibaoCase, filter), m.DibaoCase.id, first=first, after=after
        )
        return DibaoCaseConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    @strawberry.field(
        description="核查超期 低保 cases whose periodic or flagged review is overdue",
        extensions=requires(READ),
    )
    async def overdue_minimum_living_guarantee_reviews(
        self,
        info: strawberry.Info,
        region_code: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DibaoCaseConnection:
        f = DibaoFilter(region_code=region_code, status=list(dibao.PAID), overdue=True)
        page = await keyset_page(
            info, _filtered(m.DibaoCase, f, "regionCode"), m.DibaoCase.id, first=first, after=after
        )
        return DibaoCaseConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    @strawberry.field(
        description="低保公示名单 The published list of 低保 households in a township or "
        "village (公示): applicant, covered members and monthly amount, by village",
        extensions=requires(READ),
        metadata=list_size(200),  # a township's 低保 households
    )
    async def minimum_living_guarantee_publication(
        self, info: strawberry.Info, region_code: str, approved_since: dt.date | None = None
    ) -> list[DibaoPublicationEntry]:
        lo, hi = region_bounds(region_code, "regionCode")
        level = divisions.parse(region_code).level
        if level not in (divisions.RegionLevel.TOWNSHIP, divisions.RegionLevel.VILLAGE):
            raise GraphQLError(
                "regionCode: a publication is for a township or a village",
                extensions={"code": "BAD_REGION_LEVEL", "field": "regionCode"},
            )
        case = m.DibaoCase
        covered = (
            select(func.count(m.DibaoMember.id))
            .where(m.DibaoMember.case_id == case.id, m.DibaoMember.removed_on.is_(None))
            .correlate(case)
            .scalar_subquery()
        )
        stmt = (
            select(case, PersonRow.name, RegionRow.name, covered)
            .join(PersonRow, PersonRow.id == case.applicant_person_id)
            .join(RegionRow, RegionRow.code == case.region_code)
            .where(case.status.in_(dibao.PAID), case.region_code.between(lo, hi))
            .order_by(case.region_code, case.number, case.id)
        )
        if approved_since is not None:
            stmt = stmt.where(case.decided_on >= approved_since)
        return [
            DibaoPublicationEntry(
                case_number=row.number,
                village_code=row.region_code,
                village_name=village,
                applicant_name=name,
                covered_members=int(members),
                monthly_amount_fen=row.monthly_amount_fen,
                payment_from=row.payment_from,
                approved_on=row.decided_on,
                phase_out=row.status == m.DibaoStatus.PHASE_OUT,
            )
            for row, name, village, members in await ctx(info).db.rows(stmt)
        ]

    # -------------------------------------------------------------------- 特困

    @strawberry.field(description="特困案件 A 特困 case by global ID", extensions=requires(READ))
    async def extreme_poverty_support_case(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> TekunCaseType | None:
        return await _by_global_id(info, id, "ExtremePovertySupportCase", "tekun_by_id")  # type: ignore[no-any-return]

    @strawberry.field(description="特困案件列表 特困 cases", extensions=requires(READ))
    async def extreme_poverty_support_cases(
        self,
        info: strawberry.Info,
        filter: TekunFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TekunCaseConnection:
        page = await keyset_page(
            info, _filtered(m.TekunCase, filter), m.TekunCase.id, first=first, after=after
        )
        return TekunCaseConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    # ---------------------------------------------------------------- 临时救助

    @strawberry.field(description="临时救助案件 A case by global ID", extensions=requires(READ))
    async def temporary_assistance_case(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> TemporaryCaseType | None:
        return await _by_global_id(info, id, "TemporaryAssistanceCase", "temporary_by_id")  # type: ignore[no-any-return]

    @strawberry.field(description="临时救助案件列表 Cases", extensions=requires(READ))
    async def temporary_assistance_cases(
        self,
        info: strawberry.Info,
        filter: TemporaryFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TemporaryCaseConnection:
        page = await keyset_page(
            info, _filtered(m.TemporaryCase, filter), m.TemporaryCase.id, first=first, after=after
        )
        return TemporaryCaseConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    @strawberry.field(description="备用金 A township's reserve fund", extensions=requires(READ))
    async def reserve_fund(
        self, info: strawberry.Info, township_code: str
    ) -> ReserveFundType | None:
        region_bounds(township_code, "townshipCode")
        rows = await ctx(info).db.scalars(
            select(m.ReserveFund).where(
                m.ReserveFund.region_code == divisions.parse(township_code).full
            )
        )
        return rows[0] if rows else None

    @strawberry.field(
        description="备用金列表 Every reserve fund in a division",
        extensions=requires(READ),
        metadata=list_size(100),  # one per township: a city has about a hundred
    )
    async def reserve_funds(self, info: strawberry.Info, region_code: str) -> list[ReserveFundType]:
        lo, hi = region_bounds(region_code, "regionCode")
        return await ctx(info).db.scalars(  # type: ignore[no-any-return]
            select(m.ReserveFund)
            .where(m.ReserveFund.region_code.between(lo, hi))
            .order_by(m.ReserveFund.region_code)
        )

    @strawberry.field(
        description="特困抽查比例 The county spot checks of each county's 特困 confirmations "
        "in a year (at least 30 %)",
        extensions=requires(READ),
        metadata=list_size(12),  # counties of a city
    )
    async def extreme_poverty_spot_checks(
        self, info: strawberry.Info, region_code: str, year: int
    ) -> list[SpotCheckShare]:
        lo, hi = region_bounds(region_code, "regionCode")
        if not 2000 <= year <= 2100:
            raise GraphQLError(
                f"year {year} is out of range",
                extensions={"code": "BAD_YEAR", "field": "year"},
            )
        case = m.TekunCase
        rows = await ctx(info).db.rows(
            tekun.confirmations(year, case.county_code, RegionRow.name)
            .join(RegionRow, RegionRow.code == case.county_code)
            .where(case.region_code.between(lo, hi))
            .group_by(case.county_code, RegionRow.name)
            .order_by(case.county_code)
        )
        minimum = float(rules.TEKUN_SPOT_CHECK_SHARE)
        return [
            SpotCheckShare(
                county_code=code,
                county_name=name,
                confirmed=total,
                spot_checked=checked,
                share=checked / total,
                meets_minimum=checked / total >= minimum,
            )
            for code, name, total, checked in rows
        ]

    # ------------------------------------------------------------ near poverty

    @strawberry.field(
        description="低保边缘家庭 Households currently determined near-poverty",
        extensions=requires(READ),
    )
    async def near_poverty_households(
        self,
        info: strawberry.Info,
        region_code: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> HouseholdConnection:
        enrolled = select(Enrolment.household_id).where(
            Enrolment.programme == NEAR_POVERTY,
            Enrolment.end_on.is_(None),
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
        stmt = select(HouseholdRow).where(HouseholdRow.id.in_(enrolled))
        if region_code:
            lo, hi = region_bounds(region_code, "regionCode")
            stmt = stmt.where(HouseholdRow.region_code.between(lo, hi))
        page = await keyset_page(info, stmt, HouseholdRow.id, first=first, after=after)
        return HouseholdConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    # ------------------------------------------------------------- explanation

    @strawberry.field(
        description="资格说明 Why a household or person is (not) eligible: each rule with "
        "its inputs and verdict, from today's registry facts",
        extensions=requires(READ),
    )
    async def social_assistance_eligibility(
        self,
        info: strawberry.Info,
        programme: ExplainedProgramme,
        household_id: strawberry.ID | None = None,
        person_id: strawberry.ID | None = None,
    ) -> Eligibility:
        today = dt.date.today()
        household = programme in (ExplainedProgramme.DIBAO, ExplainedProgramme.NEAR_POVERTY)
        raw = household_id if household else person_id
        if raw is None:
            needed = "householdId" if household else "personId"
            raise GraphQLError(
                f"{programme.name} needs {needed}",
                extensions={"code": "BAD_USER_INPUT", "field": needed},
            )
        try:
            pk = ids.decode(raw, expect="Household" if household else "Person")[1]
        except DomainError as exc:
            raise _graphql_error(exc) from None

        async def work(session: Any) -> explain.Explanation:
            if programme == ExplainedProgramme.DIBAO:
                return await explain.explain_dibao(session, pk, today)
            if programme == ExplainedProgramme.NEAR_POVERTY:
                return await explain.explain_near_poverty(session, pk, today)
            if programme == ExplainedProgramme.DIBAO_SINGLE_PERSON:
                return await explain.explain_single_person(session, pk, today)
            return await explain.explain_tekun(session, pk, today)

        try:
            e = await ctx(info).db.run(work)
        except DomainError as exc:
            raise _graphql_error(exc) from None
        return Eligibility(
            programme=e.programme,
            eligible=e.eligible,
            amount_fen=e.amount_fen,
            as_of=e.as_of,
            rules=RuleResult.many(e.reasons),
        )
