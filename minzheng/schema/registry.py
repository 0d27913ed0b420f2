"""Core root fields: the registry's queries, mutations and subscription."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import bindparam, select

from minzheng.core import divisions, registry
from minzheng.core.errors import ValidationFailed
from minzheng.core.hookspecs import SchemaContribution
from minzheng.core.idnumber import InvalidIdNumber, parse_id_number
from minzheng.core.models import Household as HouseholdRow
from minzheng.core.models import Membership as MembershipRow
from minzheng.core.models import Person as PersonRow
from minzheng.core.models import Region as RegionRow
from minzheng.core.scope import lasting
from minzheng.schema import ids
from minzheng.schema.enums import (
    DisabilityCategory,
    HukouType,
    IncomeSource,
    LabourCapacity,
    Relation,
    Sex,
    Whereabouts,
)
from minzheng.schema.errors import UserError
from minzheng.schema.filters import region_bounds
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import later
from minzheng.schema.mutations import run
from minzheng.schema.pagination import Edge, PageInfo, keyset_page
from minzheng.schema.permissions import requires
from minzheng.schema.types import (
    HouseholdRef,
    Node,
    PersonRef,
    RegionRef,
    RegionStatisticsRef,
    ctx,
)

READ = "registry:read"
WRITE = "registry:write"
STATS = "statistics:read"

# ------------------------------------------------------------------ connections


@strawberry.type(description="人员列表 A page of persons")
class PersonConnection:
    edges: list[Edge[PersonRef]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching persons (costs a COUNT)")
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(description="户列表 A page of households")
class HouseholdConnection:
    edges: list[Edge[HouseholdRef]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching households (costs a COUNT)")
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.input(description="人员筛选 Filter for persons")
class PersonFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划 Within this division (any level)"
    )
    sex: Sex | None = None
    age_min: int | None = strawberry.field(default=None, description="最小年龄 Minimum age")
    age_max: int | None = strawberry.field(default=None, description="最大年龄 Maximum age")
    has_disability: bool | None = strawberry.field(default=None, description="持残疾证")
    alive: bool | None = strawberry.field(default=True, description="健在 Alive only (default)")
    whereabouts: Whereabouts | None = None


@strawberry.input(description="户筛选 Filter for households")
class HouseholdFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划 Within this division (any level)"
    )
    hukou_type: HukouType | None = None


def _region_prefix(code: str) -> str:
    try:
        return divisions.parse(code).prefix
    except divisions.InvalidRegionCode:
        raise GraphQLError(
            f"{code!r} is not a division code", extensions={"code": "BAD_REGION_CODE"}
        ) from None


def _years_ago(years: int) -> dt.date:
    today = dt.date.today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def person_query(f: PersonFilter | None) -> Any:
    stmt = select(PersonRow)
    if f is None:
        return stmt
    if f.region_code:
        lo, hi = region_bounds(f.region_code, "filter.regionCode")
        stmt = stmt.where(PersonRow.region_code.between(lo, hi))
    if f.sex is not None:
        stmt = stmt.where(PersonRow.sex == f.sex)
    if f.age_min is not None:
        stmt = stmt.where(PersonRow.birth_date <= _years_ago(f.age_min))
    if f.age_max is not None:
        stmt = stmt.where(PersonRow.birth_date > _years_ago(f.age_max + 1))
    if f.has_disability is not None:
        col = PersonRow.disability_grade
        stmt = stmt.where(col.is_not(None) if f.has_disability else col.is_(None))
    if f.alive is not None:
        stmt = stmt.where(
            PersonRow.died_on.is_(None) if f.alive else PersonRow.died_on.is_not(None)
        )
    if f.whereabouts is not None:
        stmt = stmt.where(PersonRow.whereabouts == f.whereabouts)
    return stmt


def household_query(f: HouseholdFilter | None) -> Any:
    stmt = select(HouseholdRow)
    if f is not None and f.region_code:
        lo, hi = region_bounds(f.region_code, "filter.regionCode")
        stmt = stmt.where(HouseholdRow.region_code.between(lo, hi))
    if f is not None and f.hukou_type is not None:
        stmt = stmt.where(HouseholdRow.hukou_type == f.hukou_type)
    return stmt


# ---------------------------------------------------------------------- queries

# the person with their membership and household in one statement: the lookup
# is nearly always followed by the household
_PERSON_BY_ID_NUMBER = lasting(
    select(PersonRow, MembershipRow, HouseholdRow)
    .outerjoin(MembershipRow, MembershipRow.person_id == PersonRow.id)
    .outerjoin(HouseholdRow, HouseholdRow.id == MembershipRow.household_id)
    .where(PersonRow.id_number == bindparam("id_number"))
)


@strawberry.type
class RegistryQuery:
    @strawberry.field(
        description="按全局ID取对象 Fetch any object by global ID", extensions=requires(READ)
    )
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        try:
            type_name, pk = ids.decode(id)
        except ValidationFailed:
            return None
        from minzheng.schema import composed

        loader = composed.NODE_LOADERS.get(type_name)
        if loader is None or loader not in ctx(info).loaders:
            return None
        return await ctx(info).loaders[loader].load(pk)  # type: ignore[no-any-return]

    @strawberry.field(description="区划 A division by code (2–12 digits)")
    async def region(self, info: strawberry.Info, code: str) -> RegionRef | None:
        try:
            full = divisions.parse(code).full
        except divisions.InvalidRegionCode:
            raise GraphQLError(
                f"{code!r} is not a division code", extensions={"code": "BAD_REGION_CODE"}
            ) from None
        return await ctx(info).loaders["region_by_code"].load(full)  # type: ignore[no-any-return]

    @strawberry.field(
        description="下级区划 Divisions under a parent; top level without one",
        metadata=list_size(30),
    )
    async def regions(
        self, info: strawberry.Info, parent_code: str | None = None
    ) -> list[RegionRef]:
        if parent_code is None:
            return await ctx(info).db.scalars(  # type: ignore[no-any-return]
                select(RegionRow).where(RegionRow.parent_code.is_(None)).order_by(RegionRow.code)
            )
        try:
            full = divisions.parse(parent_code).full
        except divisions.InvalidRegionCode:
            raise GraphQLError(
                f"{parent_code!r} is not a division code", extensions={"code": "BAD_REGION_CODE"}
            ) from None
        return await ctx(info).loaders["regions_by_parent"].load(full)  # type: ignore[no-any-return]

    @strawberry.field(description="户 A household by global ID", extensions=requires(READ))
    async def household(self, info: strawberry.Info, id: strawberry.ID) -> HouseholdRef | None:
        pk = ids.try_decode(id, "Household")
        return None if pk is None else await ctx(info).loaders["household_by_id"].load(pk)

    @strawberry.field(
        description="户列表 Households, ordered by region then key, with cursor pagination",
        extensions=requires(READ),
    )
    async def households(
        self,
        info: strawberry.Info,
        filter: HouseholdFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> HouseholdConnection:
        page = await keyset_page(
            info,
            household_query(filter),
            (HouseholdRow.region_code, HouseholdRow.id),
            first=first,
            after=after,
        )
        return HouseholdConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    @strawberry.field(description="人员 A person by global ID", extensions=requires(READ))
    async def person(self, info: strawberry.Info, id: strawberry.ID) -> PersonRef | None:
        pk = ids.try_decode(id, "Person")
        return None if pk is None else await ctx(info).loaders["person_by_id"].load(pk)

    @strawberry.field(
        description="按身份证号查人 A person by resident ID number", extensions=requires(READ)
    )
    async def person_by_id_number(self, info: strawberry.Info, id_number: str) -> PersonRef | None:
        try:
            value = parse_id_number(id_number).value
        except InvalidIdNumber as exc:
            raise GraphQLError(
                exc.message, extensions={"code": "BAD_ID_NUMBER", "reason": exc.code}
            ) from None
        c = ctx(info)
        rows = await c.db.rows(_PERSON_BY_ID_NUMBER, {"id_number": value})
        if not rows:
            return None
        person, membership, household = rows[0]
        c.loaders["person_by_id"].prime(person.id, person)
        c.loaders["membership_by_person"].prime(person.id, membership)
        if household is not None:
            c.loaders["household_by_id"].prime(household.id, household)
        return person  # type: ignore[no-any-return]

    @strawberry.field(
        description="人员列表 Persons, ordered by region then key, with cursor pagination",
        extensions=requires(READ),
    )
    async def persons(
        self,
        info: strawberry.Info,
        filter: PersonFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> PersonConnection:
        page = await keyset_page(
            info,
            person_query(filter),
            (PersonRow.region_code, PersonRow.id),
            first=first,
            after=after,
        )
        return PersonConnection(edges=page.edges(Edge), page_info=page.page_info, _page=page)

    @strawberry.field(
        description="区划统计 Figures for a division, within your scope", extensions=requires(STATS)
    )
    async def region_statistics(
        self, info: strawberry.Info, code: str
    ) -> RegionStatisticsRef | None:
        from minzheng.schema import composed

        try:
            parsed = divisions.parse(code)
        except divisions.InvalidRegionCode:
            raise GraphQLError(
                f"{code!r} is not a division code", extensions={"code": "BAD_REGION_CODE"}
            ) from None
        loaders = ctx(info).loaders
        region = await loaders["region_by_code"].load(parsed.full)
        if region is None:
            return None
        # the kept figures, read before the fields ask: they then answer at once
        await loaders["region_figures"].load(parsed.full)
        return composed.RegionStatistics(code=parsed.full)  # type: ignore[no-any-return]


# -------------------------------------------------------------------- mutations


@strawberry.input(description="人员信息 A person to register")
class PersonInput:
    id_number: str = strawberry.field(description="公民身份号码 18-character resident ID number")
    name: str = strawberry.field(description="姓名 Name")
    relation: Relation = strawberry.field(description="与户主关系 Relation to the head")
    phone: str | None = None
    address: str | None = None
    residence_region_code: str | None = strawberry.field(
        default=None, description="居住地 Residence region, if not the hukou region"
    )
    labour_capacity: LabourCapacity = LabourCapacity.FULL  # type: ignore[assignment]
    serious_illness: bool = False
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = None
    whereabouts: Whereabouts = Whereabouts.AT_HOME  # type: ignore[assignment]
    away_since: dt.date | None = None
    in_school: bool = False


def _person_data(p: PersonInput) -> registry.PersonData:
    return registry.PersonData(
        **{k: getattr(p, k) for k in registry.PersonData.__dataclass_fields__}
    )


@strawberry.input(description="登记家庭 Register a household with its members")
class RegisterHouseholdInput:
    region_code: str = strawberry.field(description="户籍所在村/社区 Village or community code")
    members: list[PersonInput] = strawberry.field(description="成员, 户主一人 Members, one head")
    hukou_type: HukouType | None = strawberry.field(
        default=None, description="户籍性质 Urban or rural; default from the village"
    )
    address: str | None = None
    number: str | None = strawberry.field(default=None, description="户编号 Household number")
    idempotency_key: str | None = strawberry.field(
        default=None, description="幂等键 Same key, same answer, written once"
    )


@strawberry.type(description="登记家庭结果 Result of registering a household")
class RegisterHouseholdPayload:
    household: HouseholdRef | None
    errors: list[UserError]


@strawberry.input(description="增加成员 Add a new person to a household")
class AddMemberInput:
    household_id: strawberry.ID
    person: PersonInput
    household_version: int | None = strawberry.field(
        default=None, description="户版本 Household version you last saw"
    )
    idempotency_key: str | None = None


@strawberry.type(description="人员变更结果 Result of a change to a person")
class PersonPayload:
    person: PersonRef | None
    errors: list[UserError]


@strawberry.input(description="迁移成员 Move a person to another household")
class MoveMemberInput:
    person_id: strawberry.ID
    to_household_id: strawberry.ID
    relation: Relation
    reason: str | None = None
    idempotency_key: str | None = None


@strawberry.input(description="移出成员 Remove a person from their household")
class RemoveMemberInput:
    person_id: strawberry.ID
    reason: str = strawberry.field(description="原因 Reason (迁出, 分户 …)")
    idempotency_key: str | None = None


@strawberry.input(description="更新人员 Change facts about a person")
class UpdatePersonInput:
    id: strawberry.ID
    version: int = strawberry.field(description="版本 The version you last saw")
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    region_code: str | None = strawberry.field(default=None, description="户籍迁移 New hukou")
    residence_region_code: str | None = None
    labour_capacity: LabourCapacity | None = None
    serious_illness: bool | None = None
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = None
    clear_disability: bool = strawberry.field(default=False, description="注销残疾证")
    whereabouts: Whereabouts | None = None
    away_since: dt.date | None = None
    in_school: bool | None = None
    idempotency_key: str | None = None


@strawberry.input(description="登记死亡 Record a death")
class RecordDeathInput:
    person_id: strawberry.ID
    died_on: dt.date
    version: int | None = None
    idempotency_key: str | None = None


@strawberry.input(description="登记家庭收入 Record household income for a period (fen)")
class RecordHouseholdIncomeInput:
    household_id: strawberry.ID
    source: IncomeSource
    period_start: dt.date
    period_end: dt.date
    amount_fen: int = strawberry.field(description="金额(分) Amount in fen, ≥ 0")
    employment_cost_fen: int = strawberry.field(default=0, description="必要就业成本(分)")
    person_id: strawberry.ID | None = None
    note: str | None = None
    idempotency_key: str | None = None


@strawberry.type(description="收入登记结果 Result of recording income")
class RecordHouseholdIncomePayload:
    household: HouseholdRef | None
    errors: list[UserError]


def _pk(value: str, type_name: str, path: str) -> int:
    return ids.decode(value, expect=type_name, field=path)[1]


def _person_payload(info: strawberry.Info) -> Any:
    def build(result: dict[str, Any] | None, errors: list[UserError]) -> PersonPayload:
        return PersonPayload(person=_load(info, "person_by_id", result, "person_id"), errors=errors)

    return build


def _load(info: Any, loader: str, result: dict[str, Any] | None, key: str) -> Any:
    """The payload's object, read if selected (None when the mutation failed)."""
    if result is None:
        return None
    return later(ctx(info).loaders[loader], result[key])


@strawberry.type
class RegistryMutation:
    @strawberry.mutation(
        description="登记家庭 Register a household with its members", extensions=requires(WRITE)
    )
    async def register_household(
        self, info: strawberry.Info, input: RegisterHouseholdInput
    ) -> RegisterHouseholdPayload:
        async def work(session: Any) -> dict[str, Any]:
            household = await registry.register_household(
                session,
                registry.HouseholdData(
                    region_code=input.region_code,
                    hukou_type=input.hukou_type,
                    members=[_person_data(m) for m in input.members],
                    address=input.address,
                    number=input.number,
                ),
            )
            return {"household_id": household.id, "region_code": household.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return RegisterHouseholdPayload(
                household=_load(info, "household_by_id", result, "household_id"), errors=errors
            )

        return await run(
            info,
            "registerHousehold",
            work,
            build,  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    @strawberry.mutation(
        description="增加成员 Register a new person into a household", extensions=requires(WRITE)
    )
    async def add_member(self, info: strawberry.Info, input: AddMemberInput) -> PersonPayload:
        async def work(session: Any) -> dict[str, Any]:
            person = await registry.add_member(
                session,
                _pk(input.household_id, "Household", "input.householdId"),
                _person_data(input.person),
                household_version=input.household_version,
            )
            return {"person_id": person.id, "region_code": person.region_code}

        return await run(
            info,
            "addMember",
            work,
            _person_payload(info),  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    @strawberry.mutation(
        description="迁移成员 Move a person to another household", extensions=requires(WRITE)
    )
    async def move_member(self, info: strawberry.Info, input: MoveMemberInput) -> PersonPayload:
        async def work(session: Any) -> dict[str, Any]:
            person = await registry.move_member(
                session,
                _pk(input.person_id, "Person", "input.personId"),
                _pk(input.to_household_id, "Household", "input.toHouseholdId"),
                relation=input.relation,
                reason=input.reason,
            )
            return {"person_id": person.id, "region_code": person.region_code}

        return await run(
            info,
            "moveMember",
            work,
            _person_payload(info),  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    @strawberry.mutation(
        description="移出成员 Remove a person from their household", extensions=requires(WRITE)
    )
    async def remove_member(self, info: strawberry.Info, input: RemoveMemberInput) -> PersonPayload:
        async def work(session: Any) -> dict[str, Any]:
            person = await registry.move_member(
                session, _pk(input.person_id, "Person", "input.personId"), None, reason=input.reason
            )
            return {"person_id": person.id, "region_code": person.region_code}

        return await run(
            info,
            "removeMember",
            work,
            _person_payload(info),  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    @strawberry.mutation(
        description="更新人员 Change facts about a person (optimistic lock)",
        extensions=requires(WRITE),
    )
    async def update_person(self, info: strawberry.Info, input: UpdatePersonInput) -> PersonPayload:
        async def work(session: Any) -> dict[str, Any]:
            changes = {
                k: getattr(input, k)
                for k in registry.UPDATABLE
                if getattr(input, k, None) is not None
            }
            if input.clear_disability:
                changes["disability_category"] = None
                changes["disability_grade"] = None
            person = await registry.update_person(
                session, _pk(input.id, "Person", "input.id"), input.version, changes
            )
            return {"person_id": person.id, "region_code": person.region_code}

        return await run(
            info,
            "updatePerson",
            work,
            _person_payload(info),  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    @strawberry.mutation(description="登记死亡 Record a death", extensions=requires(WRITE))
    async def record_death(self, info: strawberry.Info, input: RecordDeathInput) -> PersonPayload:
        async def work(session: Any) -> dict[str, Any]:
            person = await registry.record_death(
                session,
                _pk(input.person_id, "Person", "input.personId"),
                input.died_on,
                version=input.version,
            )
            return {"person_id": person.id, "region_code": person.region_code}

        return await run(
            info,
            "recordDeath",
            work,
            _person_payload(info),  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    @strawberry.mutation(
        description="登记家庭收入 Record household income", extensions=requires(WRITE)
    )
    async def record_household_income(
        self, info: strawberry.Info, input: RecordHouseholdIncomeInput
    ) -> RecordHouseholdIncomePayload:
        async def work(session: Any) -> dict[str, Any]:
            income = await registry.record_income(
                session,
                _pk(input.household_id, "Household", "input.householdId"),
                source=input.source,
                period_start=input.period_start,
                period_end=input.period_end,
                amount_fen=input.amount_fen,
                employment_cost_fen=input.employment_cost_fen,
                person_id=_pk(input.person_id, "Person", "input.personId")
                if input.person_id
                else None,
                note=input.note,
            )
            return {
                "household_id": income.household_id,
                "income_id": income.id,
                "region_code": income.region_code,
            }

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return RecordHouseholdIncomePayload(
                household=_load(info, "household_by_id", result, "household_id"), errors=errors
            )

        return await run(
            info,
            "recordHouseholdIncome",
            work,
            build,  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )


# ------------------------------------------------------------------ subscription


@strawberry.type(description="登记变更 A committed change in the registry, within your scope")
class RegistryChange:
    operation: str = strawberry.field(description="操作 Mutation that made the change")
    region_code: str | None = strawberry.field(description="区划 Region of the change")
    at: dt.datetime = strawberry.field(description="时间 When it was committed")
    household_id: strawberry.ID | None = strawberry.field(
        default=None, description="户 The household changed, if any"
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="人员 The person changed, if any"
    )


@strawberry.type
class RegistrySubscription:
    @strawberry.subscription(
        description="登记变更 Committed changes, as they happen", extensions=requires(READ)
    )
    async def registry_changes(
        self, info: strawberry.Info, region_code: str | None = None
    ) -> AsyncGenerator[RegistryChange, None]:
        broker = ctx(info).extra["changes"]
        prefix = _region_prefix(region_code) if region_code else ""
        async for change in broker.subscribe(ctx(info).principal):
            if prefix and not (change.region_code or "").startswith(prefix):
                continue
            r = change.result
            yield RegistryChange(
                operation=change.operation,
                region_code=change.region_code,
                at=change.at,
                household_id=strawberry.ID(ids.encode("Household", r["household_id"]))
                if "household_id" in r
                else None,
                person_id=strawberry.ID(ids.encode("Person", r["person_id"]))
                if "person_id" in r
                else None,
            )


contribution = SchemaContribution(
    query=RegistryQuery,
    mutation=RegistryMutation,
    subscription=RegistrySubscription,
    nodes={"Person": "person_by_id", "Household": "household_by_id"},
)

__all__ = ["contribution"]
