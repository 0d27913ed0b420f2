"""Core GraphQL types.  Resolvers receive ORM rows as ``self``; scalar fields are
plain attribute reads, relations go through the request's dataloaders."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from minzheng.core import models
from minzheng.schema import ids
from minzheng.schema.direct import direct, prefetched
from minzheng.schema.enums import (
    DisabilityCategory,
    EnrolmentStatus,
    HukouType,
    IncomeSource,
    LabourCapacity,
    RegionLevel,
    Relation,
    Sex,
    Whereabouts,
)
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import loaded
from minzheng.schema.pii import pii_field

if TYPE_CHECKING:
    from minzheng.schema.context import Context

LAZY = "minzheng.schema.composed"
PersonRef = Annotated["Person", strawberry.lazy(LAZY)]  # type: ignore[name-defined]  # noqa: F821
HouseholdRef = Annotated["Household", strawberry.lazy(LAZY)]  # type: ignore[name-defined]  # noqa: F821
RegionRef = Annotated["Region", strawberry.lazy(LAZY)]  # type: ignore[name-defined]  # noqa: F821
RegionStatisticsRef = Annotated["RegionStatistics", strawberry.lazy(LAZY)]  # type: ignore[name-defined]  # noqa: F821


def ctx(info: strawberry.Info) -> Context:
    return info.context  # type: ignore[no-any-return]


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _current(rows: list[Any]) -> list[Any]:
    return [r for r in rows if r.end_on is None]


def _relation_of(m: Any) -> Any:
    return m.relation if m else None


def _members(rows: list[Any]) -> list[Member]:
    rows = sorted(rows, key=lambda mp: (mp[0].relation != models.Relation.HEAD, mp[0].id))
    return [Member(relation=m.relation, joined_on=m.joined_on, person=p) for m, p in rows]


@strawberry.interface(description="节点 An object with a global ID (Relay)")
class Node:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        raise NotImplementedError


def _row_type(model: type) -> Any:
    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (model, cls))

    return classmethod(is_type_of)


@strawberry.type(description="残疾证 Disability certificate")
class DisabilityCertificate:
    category: DisabilityCategory = strawberry.field(description="残疾类别 Category")
    grade: int = strawberry.field(description="残疾等级 Grade, 1 (most severe) to 4")


@strawberry.type(name="Person", description="人员 A registered resident")
class PersonBase(Node):
    is_type_of = _row_type(models.Person)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Person", self.id))  # type: ignore[attr-defined]

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined, return-value]

    id_number: str | None = pii_field(
        "id_number", "id_number", "公民身份号码 Resident ID number (masked without pii:read)"
    )
    name: str = strawberry.field(description="姓名 Name")
    sex: Sex = strawberry.field(description="性别 Sex")
    birth_date: dt.date = strawberry.field(description="出生日期 Birth date")
    phone: str | None = pii_field("phone", "phone", "联系电话 Phone (masked without pii:read)")
    address: str | None = pii_field("address", "address", "住址 Address (masked without pii:read)")
    labour_capacity: LabourCapacity = strawberry.field(description="劳动能力 Labour capacity")
    serious_illness: bool = strawberry.field(description="患重病 Has a serious illness")
    whereabouts: Whereabouts = strawberry.field(description="去向 Whereabouts")
    away_since: dt.date | None = strawberry.field(description="外出时间 Away since")
    in_school: bool = strawberry.field(description="在校 In school")
    died_on: dt.date | None = strawberry.field(description="死亡日期 Date of death")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="年龄 Age in whole years today")
    @direct
    def age(self) -> int:
        return age_on(self.birth_date, dt.date.today())

    @strawberry.field(description="健在 Alive (no death recorded)")
    @direct
    def alive(self) -> bool:
        return self.died_on is None

    @strawberry.field(description="残疾证 Disability certificate, if any")
    @direct
    def disability(self) -> DisabilityCertificate | None:
        row: Any = self
        if row.disability_category is None:
            return None
        return DisabilityCertificate(category=row.disability_category, grade=row.disability_grade)

    @strawberry.field(description="户籍地 Hukou region (village or community)")
    @prefetched
    def region(self, info: strawberry.Info) -> RegionRef | None:
        return loaded(ctx(info).loaders["region_by_code"], self.region_code)  # type: ignore[attr-defined]

    @strawberry.field(description="居住地 Residence region")
    @prefetched
    def residence_region(self, info: strawberry.Info) -> RegionRef | None:
        code = self.residence_region_code  # type: ignore[attr-defined]
        return loaded(ctx(info).loaders["region_by_code"], code) if code else None

    @strawberry.field(description="所在户 The person's current household")
    @prefetched
    def household(self, info: strawberry.Info) -> HouseholdRef | None:
        loaders = ctx(info).loaders

        def of(m: Any) -> Any:
            return loaded(loaders["household_by_id"], m.household_id) if m else None

        return loaded(loaders["membership_by_person"], self.id, of)  # type: ignore[attr-defined, no-any-return]

    @strawberry.field(description="与户主关系 Relation to the head of household")
    @prefetched
    def relation(self, info: strawberry.Info) -> Relation | None:
        return loaded(ctx(info).loaders["membership_by_person"], self.id, _relation_of)  # type: ignore[attr-defined, no-any-return]

    @strawberry.field(
        description="享受项目 Programme enrolments of this person", metadata=list_size(4)
    )
    @prefetched
    def enrolments(self, info: strawberry.Info, current_only: bool = True) -> list[Enrolment]:
        return loaded(  # type: ignore[no-any-return]
            ctx(info).loaders["enrolments_by_person"],
            self.id,  # type: ignore[attr-defined]
            _current if current_only else None,
        )


@strawberry.type(description="户成员 A member of a household")
class Member:
    relation: Relation = strawberry.field(description="与户主关系 Relation to the head")
    joined_on: dt.date = strawberry.field(description="入户日期 Joined on")
    person: PersonRef = strawberry.field(description="人员 The person")


@strawberry.type(name="Household", description="户 A household, the unit that applies for 低保")
class HouseholdBase(Node):
    is_type_of = _row_type(models.Household)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Household", self.id))  # type: ignore[attr-defined]

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined, return-value]

    number: str = strawberry.field(description="户编号 Household number")
    address: str | None = pii_field("address", "address", "住址 Address (masked without pii:read)")
    hukou_type: HukouType = strawberry.field(description="户籍性质 Urban or rural hukou")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="所在区划 Village or community")
    @prefetched
    def region(self, info: strawberry.Info) -> RegionRef | None:
        return loaded(ctx(info).loaders["region_by_code"], self.region_code)  # type: ignore[attr-defined]

    @strawberry.field(description="户成员 Members, head first", metadata=list_size(6))
    @prefetched
    def members(self, info: strawberry.Info) -> list[Member]:
        return loaded(ctx(info).loaders["members_by_household"], self.id, _members)  # type: ignore[attr-defined, no-any-return]

    @strawberry.field(description="户主 Head of household")
    @prefetched
    def head(self, info: strawberry.Info) -> PersonRef | None:
        pid = self.head_person_id  # type: ignore[attr-defined]
        return loaded(ctx(info).loaders["person_by_id"], pid) if pid else None

    @strawberry.field(description="家庭收入 Income records, newest first", metadata=list_size(8))
    @prefetched
    def incomes(self, info: strawberry.Info) -> list[Income]:
        return loaded(ctx(info).loaders["incomes_by_household"], self.id)  # type: ignore[attr-defined, no-any-return]

    @strawberry.field(
        description="享受项目 Household-level programme enrolments", metadata=list_size(3)
    )
    @prefetched
    def enrolments(self, info: strawberry.Info, current_only: bool = True) -> list[Enrolment]:
        return loaded(  # type: ignore[no-any-return]
            ctx(info).loaders["enrolments_by_household"],
            self.id,  # type: ignore[attr-defined]
            _current if current_only else None,
        )


@strawberry.type(description="家庭收入 Household income over a period, in fen")
class Income:
    is_type_of = _row_type(models.HouseholdIncome)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Income", self.id))  # type: ignore[attr-defined]

    source: IncomeSource = strawberry.field(description="收入来源 Source")
    period_start: dt.date = strawberry.field(description="起始 Period start")
    period_end: dt.date = strawberry.field(description="截止 Period end")
    amount_fen: int = strawberry.field(description="金额(分) Amount in fen")
    employment_cost_fen: int = strawberry.field(
        description="必要就业成本(分) Necessary employment costs in fen"
    )
    note: str | None = strawberry.field(description="备注 Note")

    @strawberry.field(description="收入人 The member who earned it, if recorded")
    @prefetched
    def person(self, info: strawberry.Info) -> PersonRef | None:
        pid = self.person_id  # type: ignore[attr-defined]
        return loaded(ctx(info).loaders["person_by_id"], pid) if pid else None


@strawberry.type(description="项目享受记录 One period of a programme enrolment")
class Enrolment:
    is_type_of = _row_type(models.Enrolment)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Enrolment", self.id))  # type: ignore[attr-defined]

    programme: str = strawberry.field(description="项目代码 Programme code (dibao, tekun …)")
    status: EnrolmentStatus = strawberry.field(description="状态 Status")
    start_on: dt.date = strawberry.field(description="开始 First day covered")
    end_on: dt.date | None = strawberry.field(description="结束 Last day covered")
    monthly_amount_fen: int = strawberry.field(description="月发放额(分) Monthly amount in fen")
    reference: str | None = strawberry.field(description="业务编号 The programme's own record")
    region_code: str = strawberry.field(description="区划代码 Region code")

    @strawberry.field(description="人员 The enrolled person, if person-level")
    @prefetched
    def person(self, info: strawberry.Info) -> PersonRef | None:
        pid = self.person_id  # type: ignore[attr-defined]
        return loaded(ctx(info).loaders["person_by_id"], pid) if pid else None

    @strawberry.field(description="户 The enrolled household, if household-level")
    @prefetched
    def household(self, info: strawberry.Info) -> HouseholdRef | None:
        hid = self.household_id  # type: ignore[attr-defined]
        return loaded(ctx(info).loaders["household_by_id"], hid) if hid else None


@strawberry.type(name="Region", description="行政区划 A statistical division (省/市/县/乡/村)")
class RegionBase:
    is_type_of = _row_type(models.Region)

    code: str = strawberry.field(description="统计用区划代码 12-digit division code")
    name: str = strawberry.field(description="名称 Name")
    level: RegionLevel = strawberry.field(description="级别 Level")
    urban_rural: HukouType | None = strawberry.field(
        description="城乡 Urban (街道/社区) or rural (乡镇/村), township level and below"
    )

    @strawberry.field(description="上级 Parent division")
    @prefetched
    def parent(self, info: strawberry.Info) -> RegionRef | None:
        code = self.parent_code  # type: ignore[attr-defined]
        return loaded(ctx(info).loaders["region_by_code"], code) if code else None

    @strawberry.field(description="下级 Child divisions", metadata=list_size(30))
    @prefetched
    def children(self, info: strawberry.Info) -> list[RegionRef]:
        return loaded(ctx(info).loaders["regions_by_parent"], self.code)  # type: ignore[no-any-return]

    @strawberry.field(description="统计 Statistics over this division (within your scope)")
    @direct
    def statistics(self) -> RegionStatisticsRef:
        from minzheng.schema import composed

        return composed.RegionStatistics(code=self.code)  # type: ignore[no-any-return]


__all__ = [
    "DisabilityCertificate",
    "Enrolment",
    "HouseholdBase",
    "HouseholdRef",
    "Income",
    "Member",
    "Node",
    "PersonBase",
    "PersonRef",
    "RegionBase",
    "RegionRef",
    "RegionStatisticsRef",
    "ctx",
]
