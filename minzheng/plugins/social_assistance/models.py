"""社会救助 tables: standards, 低保 / 特困 / 临时救助 cases, reserve funds, near poverty.

Every table holding personal or regional data is :class:`RegionScoped`; the
standards are public policy (like regions) and are not.  What a case grants is
mirrored in core enrolments (``reference`` = the case number), so payroll,
dashboards and other plugins never read these tables.
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
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from minzheng.core.db import Base
from minzheng.core.models import DisabilityCategory, HukouType, utcnow
from minzheng.core.scope import RegionScoped
from minzheng.plugins.social_assistance.rules import (
    AmountMode,
    EmploymentCostMode,
    SelfCareLevel,
    TemporaryAmountMode,
    TemporaryKind,
    TerminationReason,
)


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(
        e,
        name=f"social_assistance_{name}",
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda x: [m.value for m in x],
    )


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal (multiples, shares) stored as text on every backend."""

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


# ------------------------------------------------------------------- enums


class DibaoStatus(enum.StrEnum):
    APPLIED = "applied"  # 申请受理
    INVESTIGATING = "investigating"  # 入户调查、初审
    NOTICE = "notice"  # 公示
    PENDING_DECISION = "pending_decision"  # 待审核确认
    ACTIVE = "active"  # 保障中
    PHASE_OUT = "phase_out"  # 渐退期
    CLOSED = "closed"  # 停保 / 撤回
    REFUSED = "refused"  # 不予确认


class TekunStatus(enum.StrEnum):
    APPLIED = "applied"
    INVESTIGATING = "investigating"
    NOTICE = "notice"
    PENDING_DECISION = "pending_decision"
    ACTIVE = "active"  # 供养中
    TERMINATED = "terminated"  # 终止供养
    REFUSED = "refused"


class TemporaryStatus(enum.StrEnum):
    APPLIED = "applied"  # 支出型: awaiting a decision
    PAPERWORK_DUE = "paperwork_due"  # 急难型: helped first, paperwork outstanding
    APPROVED = "approved"  # 支出型: approved, paid on the next payroll
    COMPLETED = "completed"  # 急难型: paperwork done
    REFUSED = "refused"


class SupportMode(enum.StrEnum):
    DISPERSED = "dispersed"  # 分散供养
    INSTITUTIONAL = "institutional"  # 集中供养


class DecisionLevel(enum.StrEnum):
    COUNTY = "county"  # 县级民政部门确认
    TOWNSHIP = "township"  # 乡镇（街道）确认（权限下放）


class ConditionCode(enum.StrEnum):
    UNABLE_TO_WORK = "unable_to_work"  # 无劳动能力
    NO_MEANS_OF_LIVING = "no_means_of_living"  # 无生活来源
    NO_ABLE_SUPPORTER = "no_able_supporter"  # 无法定义务人或义务人无履行能力


class FundEntryKind(enum.StrEnum):
    TOP_UP = "top_up"  # 拨付
    DRAW = "draw"  # 支出
    RETURN = "return"  # 追回退回: help recovered from its recipient, back in the fund


# ---------------------------------------------------------------- standards


class SocialAssistanceStandard(Base):
    """One region's parameters from a date, urban or rural (public policy, not scoped).

    Set per county; a township or village row overrides its county's from its date.
    """

    __tablename__ = "social_assistance_standard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    area: Mapped[HukouType] = mapped_column(_enum(HukouType, "area"))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    dibao_fen: Mapped[int] = mapped_column(BigInteger, comment="低保标准 per person per month")
    tekun_basic_fen: Mapped[int] = mapped_column(BigInteger, comment="特困基本生活标准")
    care_self_sufficient_fen: Mapped[int] = mapped_column(BigInteger)
    care_partly_dependent_fen: Mapped[int] = mapped_column(BigInteger)
    care_fully_dependent_fen: Mapped[int] = mapped_column(BigInteger)
    near_poverty_multiple: Mapped[Decimal] = mapped_column(DecimalText())
    phase_out_multiple: Mapped[Decimal] = mapped_column(DecimalText())
    phase_out_max_months: Mapped[int] = mapped_column(Integer)
    phase_out_share: Mapped[Decimal] = mapped_column(DecimalText())
    employment_cost_mode: Mapped[EmploymentCostMode] = mapped_column(
        _enum(EmploymentCostMode, "employment_cost_mode")
    )
    employment_cost_monthly_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    employment_cost_share: Mapped[Decimal] = mapped_column(DecimalText())
    amount_mode: Mapped[AmountMode] = mapped_column(_enum(AmountMode, "amount_mode"))
    #: [{"code": "一档", "income_below": "0.3", "per_member": "1"}, …]
    tiers: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    review_stable_months: Mapped[int] = mapped_column(Integer)
    review_irregular_months: Mapped[int] = mapped_column(Integer)
    income_window_months: Mapped[int] = mapped_column(Integer)
    dibao_asset_months: Mapped[int] = mapped_column(Integer)
    dibao_max_vehicles: Mapped[int] = mapped_column(Integer)
    dibao_max_homes: Mapped[int] = mapped_column(Integer)
    near_poverty_asset_months: Mapped[int] = mapped_column(Integer)
    near_poverty_max_vehicles: Mapped[int] = mapped_column(Integer)
    near_poverty_max_homes: Mapped[int] = mapped_column(Integer)
    temporary_mode: Mapped[TemporaryAmountMode] = mapped_column(
        _enum(TemporaryAmountMode, "temporary_mode")
    )
    temporary_max_multiple: Mapped[Decimal] = mapped_column(DecimalText())
    temporary_per_member: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ["2", "4", "6"]: severity tier → multiple of the 低保 standard
    temporary_tier_multiples: Mapped[list[str]] = mapped_column(JSON, default=list)
    temporary_case_cap_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    temporary_township_limit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    temporary_paperwork_days: Mapped[int] = mapped_column(Integer)
    #: 审核确认权限下放: the township confirms 低保 (deadline 20 working days)
    township_confirms: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (UniqueConstraint("region_code", "area", "effective_from"),)


# ----------------------------------------------------------------------- 低保


class DibaoCase(RegionScoped, Base):
    """低保 case of one household: application → investigation → notice → decision →
    active → phase-out → closed (or refused)."""

    __tablename__ = "social_assistance_dibao_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    applicant_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    status: Mapped[DibaoStatus] = mapped_column(_enum(DibaoStatus, "dibao_status"), index=True)
    #: 单人户: one severely disabled or seriously ill member covered alone
    single_person: Mapped[bool] = mapped_column(Boolean, default=False)
    area: Mapped[HukouType] = mapped_column(_enum(HukouType, "area"))
    #: 45 working days instead of 30 (objections, 人户分离, hard cases)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_level: Mapped[DecisionLevel] = mapped_column(_enum(DecisionLevel, "decision_level"))
    applied_on: Mapped[dt.date] = mapped_column(Date)
    investigation_started_on: Mapped[dt.date | None] = mapped_column(Date)
    opinion_on: Mapped[dt.date | None] = mapped_column(Date)
    opinion_eligible: Mapped[bool | None] = mapped_column(Boolean)
    opinion_note: Mapped[str | None] = mapped_column(String(500))
    notice_posted_on: Mapped[dt.date | None] = mapped_column(Date)
    objection_count: Mapped[int] = mapped_column(Integer, default=0)
    file_received_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    payment_from: Mapped[dt.date | None] = mapped_column(Date)
    monthly_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    per_capita_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("social_assistance_standard.id"))
    review_category: Mapped[str | None] = mapped_column(String(16))
    last_reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    next_review_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    #: a review flagged by an event (death, move, income) and when it is due
    flagged_review_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    flagged_reason: Mapped[str | None] = mapped_column(String(200))
    phase_out_first_month: Mapped[dt.date | None] = mapped_column(Date)
    phase_out_last_month: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(String(200))
    #: when the step the case waits for is due (deadline or review); None when final
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("monthly_amount_fen >= 0", name="amount_nonnegative"),
        Index("ix_social_assistance_dibao_case_region_status", "region_code", "status"),
        # the division's overdue and review figures from the index alone
        Index("ix_social_assistance_dibao_case_region_due", "region_code", "status", "due_on"),
    )


class DibaoMember(RegionScoped, Base):
    """A household member covered by a 低保 case (保障成员), with when they left it."""

    __tablename__ = "social_assistance_dibao_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("social_assistance_dibao_case.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    added_on: Mapped[dt.date] = mapped_column(Date)
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(String(200))
    #: the county withheld the member's own share from this month (three refusals of
    #: suitable work in a row); None while it is paid
    share_withheld_from: Mapped[dt.date | None] = mapped_column(Date)
    share_withheld_reason: Mapped[str | None] = mapped_column(String(200))


class DibaoWorkOffer(RegionScoped, Base):
    """Suitable work introduced to a covered member able to work (介绍就业), and
    whether they took it.  Three refusals in a row let the county withhold the
    member's own share of the 低保 amount."""

    __tablename__ = "social_assistance_dibao_work_offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("social_assistance_dibao_case.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    offered_on: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300))
    accepted: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DibaoObjection(RegionScoped, Base):
    """An objection raised during the public notice (公示异议)."""

    __tablename__ = "social_assistance_dibao_objection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("social_assistance_dibao_case.id"), index=True)
    raised_on: Mapped[dt.date] = mapped_column(Date)
    raised_by: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)


# ----------------------------------------------------------------------- 特困


class TekunCase(RegionScoped, Base):
    """特困 case of one person: the three conditions, self-care, support and its end."""

    __tablename__ = "social_assistance_tekun_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[TekunStatus] = mapped_column(_enum(TekunStatus, "tekun_status"), index=True)
    area: Mapped[HukouType] = mapped_column(_enum(HukouType, "area"))
    support_mode: Mapped[SupportMode] = mapped_column(_enum(SupportMode, "support_mode"))
    institution: Mapped[str | None] = mapped_column(String(100))
    applied_on: Mapped[dt.date] = mapped_column(Date)
    investigation_started_on: Mapped[dt.date | None] = mapped_column(Date)
    opinion_on: Mapped[dt.date | None] = mapped_column(Date)
    notice_posted_on: Mapped[dt.date | None] = mapped_column(Date)
    file_received_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    started_as_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    self_care_level: Mapped[SelfCareLevel | None] = mapped_column(
        _enum(SelfCareLevel, "self_care_level")
    )
    #: the day the person's health or disability changed while supported: self-care
    #: is to be reassessed within 10 working days (cleared by the reassessment)
    self_care_changed_on: Mapped[dt.date | None] = mapped_column(Date)
    self_care_change: Mapped[str | None] = mapped_column(String(200))
    #: the county's own visit (抽查核实) while the file waits for its decision
    spot_checked_on: Mapped[dt.date | None] = mapped_column(Date)
    spot_check_findings: Mapped[str | None] = mapped_column(String(500))
    #: whether the visit bore out the township's findings
    spot_check_confirms: Mapped[bool | None] = mapped_column(Boolean)
    payment_from: Mapped[dt.date | None] = mapped_column(Date)
    monthly_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("social_assistance_standard.id"))
    termination_reason: Mapped[TerminationReason | None] = mapped_column(
        _enum(TerminationReason, "termination_reason")
    )
    termination_note: Mapped[str | None] = mapped_column(String(200))
    termination_notice_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_after: Mapped[dt.date | None] = mapped_column(Date, comment="last day supported")
    #: when the step the case waits for is due; None when final
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("monthly_amount_fen >= 0", name="amount_nonnegative"),
        Index("ix_social_assistance_tekun_case_region_status", "region_code", "status"),
        Index("ix_social_assistance_tekun_case_region_due", "region_code", "due_on"),
    )


class TekunCondition(RegionScoped, Base):
    """One of the three 特困 conditions as evaluated, with its evidence (证明材料)."""

    __tablename__ = "social_assistance_tekun_condition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("social_assistance_tekun_case.id"), index=True)
    code: Mapped[ConditionCode] = mapped_column(_enum(ConditionCode, "condition_code"))
    met: Mapped[bool] = mapped_column(Boolean)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the rule's reasons at evaluation: [{"rule", "title", "passed", "detail"}]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    assessed_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("case_id", "code"),)


class TekunSupporter(RegionScoped, Base):
    """A person with a legal duty of support (法定义务人) and what limits their ability."""

    __tablename__ = "social_assistance_tekun_supporter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("social_assistance_tekun_case.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    name: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str] = mapped_column(String(16))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    on_tekun: Mapped[bool] = mapped_column(Boolean, default=False)
    on_dibao: Mapped[bool] = mapped_column(Boolean, default=False)
    poor: Mapped[bool] = mapped_column(Boolean, default=False)
    disability_category: Mapped[DisabilityCategory | None] = mapped_column(
        _enum(DisabilityCategory, "disability_category")
    )
    disability_grade: Mapped[int | None] = mapped_column(Integer)
    lacks_capacity: Mapped[bool] = mapped_column(Boolean, default=False)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    imprisoned: Mapped[bool] = mapped_column(Boolean, default=False)


class SelfCareAssessment(RegionScoped, Base):
    """生活自理能力评估: the six activities and the level they give."""

    __tablename__ = "social_assistance_self_care_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("social_assistance_tekun_case.id"), index=True)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    eating: Mapped[bool] = mapped_column(Boolean)
    dressing: Mapped[bool] = mapped_column(Boolean)
    transfer: Mapped[bool] = mapped_column(Boolean)
    toileting: Mapped[bool] = mapped_column(Boolean)
    walking_indoors: Mapped[bool] = mapped_column(Boolean)
    bathing: Mapped[bool] = mapped_column(Boolean)
    level: Mapped[SelfCareLevel] = mapped_column(_enum(SelfCareLevel, "self_care_level"))


# ------------------------------------------------------------------- 临时救助


class TemporaryCase(RegionScoped, Base):
    """临时救助: emergency (help first, paperwork after) or expenditure (full procedure)."""

    __tablename__ = "social_assistance_temporary_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    kind: Mapped[TemporaryKind] = mapped_column(_enum(TemporaryKind, "temporary_kind"))
    status: Mapped[TemporaryStatus] = mapped_column(
        _enum(TemporaryStatus, "temporary_status"), index=True
    )
    cause: Mapped[str] = mapped_column(String(200), comment="事由: 火灾, 交通事故, 重病 …")
    need_fen: Mapped[int] = mapped_column(BigInteger)
    severity: Mapped[int | None] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    approver_level: Mapped[str | None] = mapped_column(String(16))
    applied_on: Mapped[dt.date] = mapped_column(Date)
    helped_on: Mapped[dt.date | None] = mapped_column(Date)
    paperwork_due_on: Mapped[dt.date | None] = mapped_column(Date)
    paperwork_done_on: Mapped[dt.date | None] = mapped_column(Date)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    payment_month: Mapped[dt.date | None] = mapped_column(Date)
    #: emergency help recovered from the recipient (追回) and returned to the fund
    recovered_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    recovery_reason: Mapped[str | None] = mapped_column(String(200))
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("social_assistance_standard.id"))
    #: when the step the case waits for is due; None when final
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("need_fen > 0", name="need_positive"),
        CheckConstraint("amount_fen >= 0", name="amount_nonnegative"),
        Index("ix_social_assistance_temporary_case_region_due", "region_code", "due_on"),
    )


class ReserveFund(RegionScoped, Base):
    """备用金: a township's reserve fund for emergency help.  Its balance is the sum
    of its entries; this row is locked while an entry is added."""

    __tablename__ = "social_assistance_reserve_fund"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("region_code"),)


class ReserveFundEntry(RegionScoped, Base):
    """One top-up (+), draw-down (−) or recovered payment returned (+) of a
    reserve fund, in fen."""

    __tablename__ = "social_assistance_reserve_fund_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(
        ForeignKey("social_assistance_reserve_fund.id"), index=True
    )
    kind: Mapped[FundEntryKind] = mapped_column(_enum(FundEntryKind, "fund_entry_kind"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    booked_on: Mapped[dt.date] = mapped_column(Date)
    temporary_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_assistance_temporary_case.id")
    )
    note: Mapped[str | None] = mapped_column(String(200))
    booked_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "(kind IN ('top_up', 'return') AND amount_fen > 0)"
            " OR (kind = 'draw' AND amount_fen < 0)",
            name="sign_matches_kind",
        ),
    )


# --------------------------------------------------------------- near poverty


class NearPovertyDetermination(RegionScoped, Base):
    """低保边缘家庭认定: one evaluation of a household, with its reasons."""

    __tablename__ = "social_assistance_near_poverty"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    determined_on: Mapped[dt.date] = mapped_column(Date)
    near_poverty: Mapped[bool] = mapped_column(Boolean)
    per_capita_income_fen: Mapped[int] = mapped_column(BigInteger)
    members: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("social_assistance_standard.id"))
