"""The registry's tables: facts about regions, households and persons.

Programmes (低保, subsidies …) live in plugins; what they grant is mirrored in
:class:`Enrolment`, so cross-programme questions need no plugin imports.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minzheng.core.db import Base
from minzheng.core.divisions import RegionLevel
from minzheng.core.idnumber import Sex
from minzheng.core.scope import RegionScoped


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(
        e,
        name=name,
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda x: [m.value for m in x],
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class HukouType(enum.StrEnum):
    URBAN = "urban"  # 城镇
    RURAL = "rural"  # 农村


class Relation(enum.StrEnum):
    HEAD = "head"  # 户主
    SPOUSE = "spouse"  # 配偶
    CHILD = "child"  # 子女
    PARENT = "parent"  # 父母
    GRANDCHILD = "grandchild"  # 孙子女
    GRANDPARENT = "grandparent"  # 祖父母
    SIBLING = "sibling"  # 兄弟姐妹
    OTHER = "other"  # 其他


class LabourCapacity(enum.StrEnum):
    FULL = "full"  # 有劳动能力
    PARTIAL = "partial"  # 部分丧失
    NONE = "none"  # 无劳动能力


class DisabilityCategory(enum.StrEnum):
    VISUAL = "visual"  # 视力
    HEARING = "hearing"  # 听力
    SPEECH = "speech"  # 言语
    PHYSICAL = "physical"  # 肢体
    INTELLECTUAL = "intellectual"  # 智力
    MENTAL = "mental"  # 精神
    MULTIPLE = "multiple"  # 多重


class Whereabouts(enum.StrEnum):
    AT_HOME = "at_home"  # 在家
    WORKING_AWAY = "working_away"  # 外出务工
    IMPRISONED = "imprisoned"  # 服刑
    DRUG_REHAB = "drug_rehab"  # 强制隔离戒毒
    MISSING = "missing"  # 失踪/失联
    IN_INSTITUTION = "in_institution"  # 入住机构


class IncomeSource(enum.StrEnum):
    WAGES = "wages"  # 工资性收入
    BUSINESS = "business"  # 经营净收入
    PROPERTY = "property"  # 财产净收入
    TRANSFER = "transfer"  # 转移净收入
    BASIC_PENSION = "basic_pension"  # 城乡居民基础养老金
    SOCIAL_ASSISTANCE = "social_assistance"  # 社会救助金
    PREFERENTIAL = "preferential"  # 优待抚恤金
    AWARD = "award"  # 奖励金
    SCHOLARSHIP = "scholarship"  # 奖学金、助学金
    OTHER = "other"


class AssetKind(enum.StrEnum):
    DEPOSIT = "deposit"  # 存款
    SECURITIES = "securities"  # 有价证券
    VEHICLE = "vehicle"  # 机动车
    REAL_ESTATE = "real_estate"  # 房产
    BUSINESS = "business"  # 经营性资产
    OTHER = "other"


class EnrolmentStatus(enum.StrEnum):
    APPLIED = "applied"  # 申请中
    ACTIVE = "active"  # 享受中
    PHASE_OUT = "phase_out"  # 渐退期
    SUSPENDED = "suspended"  # 暂停
    ENDED = "ended"  # 终止


#: statuses that are paid on a payroll
PAYABLE = (EnrolmentStatus.ACTIVE, EnrolmentStatus.PHASE_OUT)


class PayrollStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class PayrollLineKind(enum.StrEnum):
    REGULAR = "regular"  # 正常发放
    ADJUSTMENT = "adjustment"  # 补发/扣减


class Region(Base):
    """A statistical division (省/市/县/乡/村). Public facts, never scoped."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[RegionLevel] = mapped_column(_enum(RegionLevel, "region_level"), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("region.code"), index=True, nullable=True
    )
    city_code: Mapped[str | None] = mapped_column(String(12), index=True)
    county_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    #: urban (街道, 居委会) or rural (乡镇, 村委会); None above township level
    urban_rural: Mapped[HukouType | None] = mapped_column(_enum(HukouType, "hukou_type"))


class Household(RegionScoped, Base):
    """户: the unit that applies for 低保; members through :class:`Membership`."""

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, comment="户编号")
    address: Mapped[str | None] = mapped_column(String(200))
    hukou_type: Mapped[HukouType] = mapped_column(_enum(HukouType, "hukou_type"))
    head_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # keyset pages in region order: scope, region filter and ordering in one scan
        Index("ix_household_region_id", "region_code", "id"),
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="household", lazy="raise", foreign_keys="Membership.household_id"
    )


class Person(RegionScoped, Base):
    """人: one resident, identified by the 18-character ID number.

    ``region_code`` is the hukou (户籍) region; residence may differ (人户分离).
    Sex and birth date are derived from the ID number, never typed twice.
    """

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "sex"))
    birth_date: Mapped[dt.date] = mapped_column(Date, index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    residence_region_code: Mapped[str | None] = mapped_column(String(12))
    labour_capacity: Mapped[LabourCapacity] = mapped_column(
        _enum(LabourCapacity, "labour_capacity"), default=LabourCapacity.FULL
    )
    serious_illness: Mapped[bool] = mapped_column(Boolean, default=False)
    disability_category: Mapped[DisabilityCategory | None] = mapped_column(
        _enum(DisabilityCategory, "disability_category")
    )
    disability_grade: Mapped[int | None] = mapped_column(Integer)
    whereabouts: Mapped[Whereabouts] = mapped_column(
        _enum(Whereabouts, "whereabouts"), default=Whereabouts.AT_HOME
    )
    away_since: Mapped[dt.date | None] = mapped_column(Date)
    in_school: Mapped[bool] = mapped_column(Boolean, default=False)
    guardian_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    died_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4", name="disability_grade"
        ),
        Index("ix_person_region_id", "region_code", "id"),
        # covering index for population figures: counts by sex and age band per
        # region read the index alone
        Index("ix_person_region_figures", "region_code", "died_on", "sex", "birth_date"),
    )


class Membership(Base):
    """A person's place in a household (与户主关系). One current household per person."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    relation: Mapped[Relation] = mapped_column(_enum(Relation, "relation"))
    joined_on: Mapped[dt.date] = mapped_column(Date)

    household: Mapped[Household] = relationship(back_populates="memberships", lazy="raise")


class HouseholdIncome(RegionScoped, Base):
    """Income for one household (optionally one member) over a period, in fen."""

    __tablename__ = "household_income"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    source: Mapped[IncomeSource] = mapped_column(_enum(IncomeSource, "income_source"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    #: necessary employment costs (必要就业成本), kept apart so programmes can deduct them
    employment_cost_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_nonnegative"),
        CheckConstraint("employment_cost_fen >= 0", name="cost_nonnegative"),
        CheckConstraint("period_end >= period_start", name="period_order"),
    )


class HouseholdAsset(RegionScoped, Base):
    """An asset held by a household on a date (存款, 车辆, 房产 …), in fen."""

    __tablename__ = "household_asset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    kind: Mapped[AssetKind] = mapped_column(_enum(AssetKind, "asset_kind"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    value_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("value_fen >= 0", name="value_nonnegative"),)


class Enrolment(RegionScoped, Base):
    """One period of one person's or household's participation in one programme.

    A change of amount or status closes the current row (``end_on``) and opens a
    new one, so the rows are the programme's payment history and payrolls can be
    recomputed for any past month.
    """

    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(_enum(EnrolmentStatus, "enrolment_status"))
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date, comment="last day covered")
    monthly_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    #: the plugin's own record (case id …) that this row mirrors
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        CheckConstraint("monthly_amount_fen >= 0", name="amount_nonnegative"),
        CheckConstraint("person_id IS NOT NULL OR household_id IS NOT NULL", name="subject"),
        Index("ix_enrolment_programme_region", "programme", "region_code"),
    )


class Payroll(RegionScoped, Base):
    """A monthly payroll (发放名册) for one programme and region."""

    __tablename__ = "payroll"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme: Mapped[str] = mapped_column(String(64))
    month: Mapped[dt.date] = mapped_column(Date, comment="first day of the month paid")
    status: Mapped[PayrollStatus] = mapped_column(_enum(PayrollStatus, "payroll_status"))
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("programme", "region_code", "month"),)


class PayrollLine(RegionScoped, Base):
    """One payment on a payroll; adjustments correct an earlier, approved month."""

    __tablename__ = "payroll_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payroll_id: Mapped[int] = mapped_column(
        ForeignKey("payroll.id", ondelete="CASCADE"), index=True
    )
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    kind: Mapped[PayrollLineKind] = mapped_column(_enum(PayrollLineKind, "payroll_line_kind"))
    #: the month this money is for (the payroll's own month, or an earlier one)
    covers_month: Mapped[dt.date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))


class AuditEntry(Base):
    """Append-only: every mutation (before/after) and every unmasked personal-data read."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    principal: Mapped[str] = mapped_column(String(128))
    operation: Mapped[str] = mapped_column(String(128), comment="GraphQL operation or command")
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))


class IdempotencyRecord(Base):
    """The stored answer to a mutation sent with an idempotency key."""

    __tablename__ = "idempotency_key"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    principal: Mapped[str] = mapped_column(String(128), primary_key=True)
    operation: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class RegionFigure(RegionScoped, Base):
    """区划统计预汇总: one figure of one division unit, kept current by
    :mod:`minzheng.core.figures` (written by that module only)."""

    __tablename__ = "core_region_figure"
    #: the figures are derived from the rows that feed them, not a source of touches
    feeds_region_figures = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``source:part:part`` — the source's name, then the parts its query groups by
    key: Mapped[str] = mapped_column(String(96))
    value: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("region_code", "key"),
        # a division's figures: a range of region codes, read from the index alone
        Index("ix_core_region_figure_read", "region_code", "key", "value"),
    )


class RegionFigureSource(Base):
    """Which figure sources are current, and for which day (None: not current)."""

    __tablename__ = "core_region_figure_source"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: what the figures were counted with (:func:`minzheng.core.figures.fingerprint`)
    fingerprint: Mapped[str | None] = mapped_column(String(64))


# tables defined beside the code that owns them, re-exported so every reader of
# the metadata (migrations, autogenerate checks) sees them
# the figures' write tracking registers its session listeners on import
from minzheng.core import figures as _figures  # noqa: E402, F401
from minzheng.core.auth import ApiKey  # noqa: E402
from minzheng.core.persisted import PersistedQuery  # noqa: E402

__all__ = [
    "PAYABLE",
    "ApiKey",
    "AssetKind",
    "AuditEntry",
    "DisabilityCategory",
    "Enrolment",
    "EnrolmentStatus",
    "Household",
    "HouseholdAsset",
    "HouseholdIncome",
    "HukouType",
    "IdempotencyRecord",
    "IncomeSource",
    "LabourCapacity",
    "Membership",
    "Payroll",
    "PayrollLine",
    "PayrollLineKind",
    "PayrollStatus",
    "PersistedQuery",
    "Person",
    "Region",
    "RegionFigure",
    "RegionFigureSource",
    "Relation",
    "Whereabouts",
]
