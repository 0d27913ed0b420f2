"""The disability plugin's tables (all prefixed ``disability_``).

Personal and regional rows inherit :class:`RegionScoped`, placed in the
person's hukou region (or the provider's / cycle's region), so region scope
applies without code.  Standards are public policy, read by everybody (a
county inherits the city's standard); their writes are scope-checked in the
service.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
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
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from minzheng.core.db import Base
from minzheng.core.models import DisabilityCategory, Person, utcnow
from minzheng.core.scope import RegionScoped
from minzheng.plugins.disability.rules import (
    ApplicationState,
    CareServiceType,
    GrantStatus,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
)


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(
        e,
        name=name,
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda x: [m.value for m in x],
    )


class SuspensionReason(enum.StrEnum):
    VERIFICATION_OVERDUE = "verification_overdue"  # 逾期未生存验证
    REPORTED_DECEASED = "reported_deceased"  # 比对为死亡, awaiting the registry
    MANUAL = "manual"  # 经办人暂停


class RehabServiceKind(enum.StrEnum):
    SOCIAL_SKILLS = "social_skills"  # 社会交往
    WORK_SKILLS = "work_skills"  # 工作技能训练
    COUNSELLING = "counselling"  # 心理疏导


class RehabOutcome(enum.StrEnum):
    IMPROVED = "improved"  # 好转
    STABLE = "stable"  # 稳定
    DETERIORATED = "deteriorated"  # 加重


class DisabilityStandard(Base):
    """补贴标准: one row of the standards history of one division."""

    __tablename__ = "disability_standard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    subsidy: Mapped[Subsidy] = mapped_column(_enum(Subsidy, "disability_subsidy"))
    grade: Mapped[int | None] = mapped_column(Integer, comment="NULL = every grade")
    effective_from: Mapped[dt.date] = mapped_column(Date)
    monthly_amount_fen: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[str | None] = mapped_column(String(128), comment="文号")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint("monthly_amount_fen >= 0", name="amount_nonnegative"),
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 4", name="grade"),
        # one row per division, subsidy, grade (or all grades) and date
        Index(
            "uq_disability_standard_all_grades",
            "region_code",
            "subsidy",
            "effective_from",
            unique=True,
            sqlite_where=text("grade IS NULL"),
            postgresql_where=text("grade IS NULL"),
        ),
        Index(
            "uq_disability_standard_graded",
            "region_code",
            "subsidy",
            "grade",
            "effective_from",
            unique=True,
            sqlite_where=text("grade IS NOT NULL"),
            postgresql_where=text("grade IS NOT NULL"),
        ),
    )


class DisabilityApplication(RegionScoped, Base):
    """两项补贴申请: township acceptance → federation review → civil-affairs decision."""

    __tablename__ = "disability_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    subsidy: Mapped[Subsidy] = mapped_column(_enum(Subsidy, "disability_subsidy"))
    state: Mapped[ApplicationState] = mapped_column(
        _enum(ApplicationState, "disability_application_state"), index=True
    )
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the state the application was in when it was refused (which body refused)
    refused_at_stage: Mapped[ApplicationState | None] = mapped_column(
        _enum(ApplicationState, "disability_application_state")
    )
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    #: the eligibility verdict at the decision (conditions with their verdicts)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(
            "uq_disability_application_open",
            "person_id",
            "subsidy",
            unique=True,
            sqlite_where=text("state IN ('submitted', 'accepted', 'reviewed')"),
            postgresql_where=text("state IN ('submitted', 'accepted', 'reviewed')"),
        ),
    )


class DisabilityApplicationStep(RegionScoped, Base):
    """One step of an application's history: who did what, when, and why."""

    __tablename__ = "disability_application_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("disability_application.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DisabilityGrant(RegionScoped, Base):
    """A subsidy granted to a person; mirrored in core enrolments (one programme per
    subsidy), placed in the region that pays it (the hukou region)."""

    __tablename__ = "disability_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    subsidy: Mapped[Subsidy] = mapped_column(_enum(Subsidy, "disability_subsidy"))
    status: Mapped[GrantStatus] = mapped_column(
        _enum(GrantStatus, "disability_grant_status"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(ForeignKey("disability_application.id"))
    approved_on: Mapped[dt.date] = mapped_column(Date)
    start_on: Mapped[dt.date] = mapped_column(Date, comment="first day paid")
    end_on: Mapped[dt.date | None] = mapped_column(Date, comment="last day covered")
    end_reason: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[DisabilityCategory | None] = mapped_column(
        _enum(DisabilityCategory, "disability_category")
    )
    grade: Mapped[int | None] = mapped_column(Integer)
    monthly_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("disability_standard.id"))
    suspended_from: Mapped[dt.date | None] = mapped_column(Date)
    suspension_reason: Mapped[SuspensionReason | None] = mapped_column(
        _enum(SuspensionReason, "disability_suspension_reason")
    )
    suspension_cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("disability_verification_cycle.id")
    )
    review_flag: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    review_reason: Mapped[str | None] = mapped_column(String(300))
    flagged_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("monthly_amount_fen >= 0", name="amount_nonnegative"),
        Index(
            "uq_disability_grant_current",
            "person_id",
            "subsidy",
            unique=True,
            sqlite_where=text("status IN ('active', 'suspended')"),
            postgresql_where=text("status IN ('active', 'suspended')"),
        ),
        # the division's figures (suspended, flagged, verification coverage) from
        # the index alone
        Index(
            "ix_disability_grant_region_figures",
            "region_code",
            "status",
            "person_id",
            "review_flag",
        ),
    )

    @property
    def reference(self) -> str:
        """The core enrolment ``reference`` that mirrors this grant."""
        return f"disability_grant:{self.id}"


class DisabilityVerificationCycle(RegionScoped, Base):
    """生存验证周期: a window in which every recipient in the region is verified."""

    __tablename__ = "disability_verification_cycle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: significant digits of ``region_code`` ("410823"): grants whose region
    #: starts with it fall under this cycle
    scope_prefix: Mapped[str] = mapped_column(String(12), index=True)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    #: when the deadline sweep last suspended unverified grants
    swept_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint("deadline >= opens_on", name="window"),
        UniqueConstraint("region_code", "opens_on"),
    )


class DisabilityVerification(RegionScoped, Base):
    """One verification result (face recognition, data comparison …) for one person."""

    __tablename__ = "disability_verification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("disability_verification_cycle.id"), index=True
    )
    method: Mapped[VerificationMethod] = mapped_column(
        _enum(VerificationMethod, "disability_verification_method")
    )
    outcome: Mapped[VerificationOutcome] = mapped_column(
        _enum(VerificationOutcome, "disability_verification_outcome")
    )
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    verified_on: Mapped[dt.date] = mapped_column(Date, index=True)
    source: Mapped[str | None] = mapped_column(String(200), comment="system or file")
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("person_id", "verified_at", "method"),
        # "confirmed since the cycle opened" per recipient, from the index alone
        # (region_code: the region-scope criterion reads it too)
        Index(
            "ix_disability_verification_person_outcome",
            "person_id",
            "outcome",
            "verified_on",
            "region_code",
        ),
    )


class DisabilityCareProvider(RegionScoped, Base):
    """照护服务机构: a provider of centralised, day or neighbourhood care."""

    __tablename__ = "disability_care_provider"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: service types offered, e.g. ["day", "neighbourhood"]
    service_types: Mapped[list[str]] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DisabilityCareArrangement(RegionScoped, Base):
    """A person's voluntary enrolment in a care service; the family stays first carer."""

    __tablename__ = "disability_care_arrangement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("disability_care_provider.id"))
    service_type: Mapped[CareServiceType] = mapped_column(
        _enum(CareServiceType, "disability_care_service_type")
    )
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(200))
    consent_on: Mapped[dt.date] = mapped_column(Date, comment="自愿申请 date")
    family_carer: Mapped[str] = mapped_column(String(100), comment="家庭第一照护责任人")
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index(
            "uq_disability_care_arrangement_open",
            "person_id",
            "service_type",
            unique=True,
            sqlite_where=text("end_on IS NULL"),
            postgresql_where=text("end_on IS NULL"),
        ),
    )


class DisabilityCareRecord(RegionScoped, Base):
    """One care service given: date, hours, provider."""

    __tablename__ = "disability_care_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arrangement_id: Mapped[int] = mapped_column(
        ForeignKey("disability_care_arrangement.id"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("disability_care_provider.id"))
    served_on: Mapped[dt.date] = mapped_column(Date)
    #: duration in hundredths of an hour (exact; 150 = 1.5 hours)
    hours_hundredths: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint("hours_hundredths > 0 AND hours_hundredths <= 2400", name="hours"),
    )

    @property
    def hours(self) -> Decimal:
        return Decimal(self.hours_hundredths) / 100


class DisabilityRehabEnrolment(RegionScoped, Base):
    """精神障碍社区康复: a person's enrolment at a community rehabilitation site."""

    __tablename__ = "disability_rehab_enrolment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    site: Mapped[str] = mapped_column(String(100), comment="康复服务机构/站点")
    rural: Mapped[bool] = mapped_column(Boolean, default=False)
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[RehabOutcome | None] = mapped_column(
        _enum(RehabOutcome, "disability_rehab_outcome")
    )
    end_note: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index(
            "uq_disability_rehab_enrolment_open",
            "person_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
    )


class DisabilityRehabService(RegionScoped, Base):
    """One rehabilitation service given, by kind, with its outcome."""

    __tablename__ = "disability_rehab_service"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("disability_rehab_enrolment.id"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[RehabServiceKind] = mapped_column(
        _enum(RehabServiceKind, "disability_rehab_service_kind")
    )
    served_on: Mapped[dt.date] = mapped_column(Date)
    hours_hundredths: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[RehabOutcome | None] = mapped_column(
        _enum(RehabOutcome, "disability_rehab_outcome")
    )
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint(
            "hours_hundredths IS NULL OR (hours_hundredths > 0 AND hours_hundredths <= 2400)",
            name="hours",
        ),
    )

    @property
    def hours(self) -> Decimal | None:
        return None if self.hours_hundredths is None else Decimal(self.hours_hundredths) / 100


#: certificate holders (~6 % of the registry) by division, with what the discovery
#: condition reads of them: the eligible-not-enrolled figure scans these instead
#: of every person of the division.  On the core ``person`` table, created by this
#: plugin's branch (it exists only where the plugin is enabled).
PERSON_CERTIFIED_INDEX = Index(
    "ix_disability_person_certified",
    Person.region_code,
    Person.disability_grade,
    Person.disability_category,
    Person.died_on,
    Person.id,
    sqlite_where=text("disability_grade IS NOT NULL"),
    postgresql_where=text("disability_grade IS NOT NULL"),
)


__all__ = [
    "PERSON_CERTIFIED_INDEX",
    "DisabilityApplication",
    "DisabilityApplicationStep",
    "DisabilityCareArrangement",
    "DisabilityCareProvider",
    "DisabilityCareRecord",
    "DisabilityGrant",
    "DisabilityRehabEnrolment",
    "DisabilityRehabService",
    "DisabilityStandard",
    "DisabilityVerification",
    "DisabilityVerificationCycle",
    "RehabOutcome",
    "RehabServiceKind",
    "SuspensionReason",
]
