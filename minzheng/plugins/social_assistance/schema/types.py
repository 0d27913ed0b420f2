"""社会救助 GraphQL types.  Resolvers receive ORM rows as ``self``; scalar fields are
attribute reads, relations go through the request's dataloaders."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import strawberry

from minzheng.core.models import HukouType
from minzheng.plugins.social_assistance import models as m
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.services import dibao as dibao_service
from minzheng.plugins.social_assistance.services import tekun as tekun_service
from minzheng.schema import ids
from minzheng.schema.direct import direct, prefetched
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import loaded
from minzheng.schema.pagination import Edge, PageInfo
from minzheng.schema.types import HouseholdRef, Node, PersonRef, RegionRef

# ------------------------------------------------------------------------ enums

for _enum, _name, _description in (
    (m.DibaoStatus, "MinimumLivingGuaranteeStatus", "低保案件状态 State of a 低保 case"),
    (m.TekunStatus, "ExtremePovertySupportStatus", "特困案件状态 State of a 特困 case"),
    (m.TemporaryStatus, "TemporaryAssistanceStatus", "临时救助状态 State of a 临时救助 case"),
    (m.SupportMode, "SupportMode", "供养方式 Dispersed (分散) or institutional (集中) support"),
    (m.DecisionLevel, "DecisionLevel", "确认层级 County confirms, or township by delegation"),
    (m.ConditionCode, "ExtremePovertyConditionCode", "特困认定条件 One of the three conditions"),
    (m.FundEntryKind, "ReserveFundEntryKind", "备用金收支 Top-up, draw-down or return"),
    (rules.SelfCareLevel, "SelfCareLevel", "生活自理能力 Self-care level"),
    (
        rules.AmountMode,
        "MinimumLivingGuaranteeAmountMode",
        "低保金计算方式 Gap (补差) or tiered (分档)",
    ),
    (rules.EmploymentCostMode, "EmploymentCostMode", "必要就业成本扣减方式 Deduction rule"),
    (rules.TemporaryAmountMode, "TemporaryAmountMode", "临时救助金额方式 Amount rule"),
    (rules.TemporaryKind, "TemporaryAssistanceKind", "临时救助类型 Emergency or expenditure"),
    (rules.TerminationReason, "TerminationReason", "终止供养原因 Why 特困 support ended"),
    (rules.ReviewCategory, "ReviewCategory", "核查类别 Yearly (stable) or half-yearly review"),
):
    strawberry.enum(_enum, name=_name, description=_description)


def yuan_text(value: Any) -> str | None:
    """A rule input as text: dates ISO, decimals exact, enums by value."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, Decimal, int)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _today() -> dt.date:
    return dt.date.today()


def _row_type(model: type) -> Any:
    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (model, cls))

    return classmethod(is_type_of)


def _loader(info: strawberry.Info, name: str) -> Any:
    return info.context.loaders[name]


# ---------------------------------------------------------------- explanations


@strawberry.type(name="SocialAssistanceRuleInput", description="规则输入 One input of a rule")
class RuleInput:
    name: str = strawberry.field(description="名称 Input name")
    value: str | None = strawberry.field(description="值 Value as text (amounts in fen)")


@strawberry.type(
    name="SocialAssistanceRule",
    description="规则判定 One rule checked: its verdict, its inputs and the reason in words",
)
class RuleResult:
    rule: str = strawberry.field(description="规则代码 Stable rule code")
    title: str = strawberry.field(description="规则 Rule title (Chinese)")
    passed: bool | None = strawberry.field(
        description="是否满足 Verdict; null for a computed step that decides nothing"
    )
    detail: str = strawberry.field(description="说明 The reason in words, with the numbers")
    inputs: list[RuleInput] = strawberry.field(
        description="输入 The rule's inputs", metadata=list_size(4)
    )

    @classmethod
    def of(cls, r: rules.Reason) -> RuleResult:
        return cls(
            rule=r.rule,
            title=r.title,
            passed=r.passed,
            detail=r.detail,
            inputs=[RuleInput(name=k, value=yuan_text(v)) for k, v in r.inputs.items()],
        )

    @classmethod
    def many(cls, reasons: Iterable[rules.Reason]) -> list[RuleResult]:
        return [cls.of(r) for r in reasons]

    @classmethod
    def stored(cls, rows: Iterable[dict[str, Any]]) -> list[RuleResult]:
        return [
            cls(rule=r["rule"], title=r["title"], passed=r["passed"], detail=r["detail"], inputs=[])
            for r in rows
        ]


@strawberry.enum(name="SocialAssistanceProgramme", description="社会救助项目 Programme")
class ExplainedProgramme(enum.Enum):
    DIBAO = "dibao"  # 低保 (household)
    DIBAO_SINGLE_PERSON = "dibao_single"  # 单人户 (person)
    NEAR_POVERTY = "near_poverty"  # 低保边缘家庭 (household)
    TEKUN = "tekun"  # 特困 (person)


@strawberry.type(
    name="SocialAssistanceEligibility",
    description="资格说明 Eligibility explanation: each rule with its inputs and verdict",
)
class Eligibility:
    programme: str = strawberry.field(description="项目 Programme code")
    eligible: bool = strawberry.field(description="是否符合 Eligible today")
    amount_fen: int | None = strawberry.field(description="月金额(分) Monthly amount in fen")
    as_of: dt.date = strawberry.field(description="评估日期 Evaluated on")
    rules: list[RuleResult] = strawberry.field(
        description="规则 Every rule, in order", metadata=list_size(12)
    )


@strawberry.type(name="SocialAssistanceDeadline", description="办理时限 A procedural deadline")
class Deadline:
    step: str = strawberry.field(description="环节代码 Step code")
    title: str = strawberry.field(description="环节 Step (Chinese)")
    started_on: dt.date = strawberry.field(description="起算日 Counted from")
    due_on: dt.date = strawberry.field(description="到期日 Due on")
    done_on: dt.date | None = strawberry.field(description="完成日 Done on")
    overdue: bool = strawberry.field(description="超期 Missed (still open past due, or late)")
    detail: str = strawberry.field(description="说明 In words")

    @classmethod
    def many(cls, ds: Iterable[rules.Deadline]) -> list[Deadline]:
        return [
            cls(
                step=d.step,
                title=d.reason.title,
                started_on=d.started_on,
                due_on=d.due_on,
                done_on=d.done_on,
                overdue=d.overdue,
                detail=d.reason.detail,
            )
            for d in ds
        ]


# -------------------------------------------------------------------- standards


@strawberry.type(
    name="MinimumLivingGuaranteeTier", description="分档 A band of the tiered 低保 amount"
)
class TierType:
    code: str = strawberry.field(description="档次 Tier name")
    income_below: Decimal = strawberry.field(
        description="收入上限倍数 Per-capita income below this × standard"
    )
    per_member: Decimal = strawberry.field(description="发放倍数 Paid per member × standard")


@strawberry.type(
    name="SocialAssistanceStandard",
    description="社会救助标准 A region's standards and parameters from a date (urban or rural)",
)
class StandardType:
    is_type_of = _row_type(m.SocialAssistanceStandard)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("SocialAssistanceStandard", self.id))  # type: ignore[attr-defined]

    region_code: str = strawberry.field(description="区划 County (or the overriding township)")
    area: HukouType = strawberry.field(description="城乡 Urban or rural standard")
    effective_from: dt.date = strawberry.field(description="执行日期 In force from")
    dibao_fen: int = strawberry.field(
        name="minimumLivingStandardFen", description="低保标准(分/人·月) 低保 standard"
    )
    tekun_basic_fen: int = strawberry.field(
        name="extremePovertyBasicFen", description="特困基本生活标准(分/人·月)"
    )
    care_self_sufficient_fen: int = strawberry.field(description="照料护理标准: 具备自理能力")
    care_partly_dependent_fen: int = strawberry.field(description="照料护理标准: 部分丧失")
    care_fully_dependent_fen: int = strawberry.field(description="照料护理标准: 完全丧失")
    near_poverty_multiple: Decimal = strawberry.field(description="低保边缘倍数 Near-poverty ×")
    phase_out_multiple: Decimal = strawberry.field(description="渐退倍数 Phase-out line ×")
    phase_out_max_months: int = strawberry.field(description="渐退期(月) Max phase-out months")
    phase_out_share: Decimal = strawberry.field(description="渐退期发放比例 Share paid")
    employment_cost_mode: rules.EmploymentCostMode = strawberry.field(
        description="必要就业成本扣减 Deduction rule"
    )
    employment_cost_monthly_fen: int = strawberry.field(description="扣减额/上限(分/月)")
    employment_cost_share: Decimal = strawberry.field(description="扣减比例 Share deducted")
    amount_mode: rules.AmountMode = strawberry.field(description="计算方式 Gap or tiered")
    review_stable_months: int = strawberry.field(description="核查周期(月): 稳定家庭")
    review_irregular_months: int = strawberry.field(description="核查周期(月): 收入不固定")
    income_window_months: int = strawberry.field(description="收入核算期(月) Income window")
    dibao_asset_months: int = strawberry.field(
        name="minimumLivingAssetMonths", description="低保财产上限(月标准倍数)"
    )
    near_poverty_asset_months: int = strawberry.field(description="低保边缘财产上限(月标准倍数)")
    temporary_mode: rules.TemporaryAmountMode = strawberry.field(description="临时救助金额方式")
    temporary_max_multiple: Decimal = strawberry.field(description="临时救助上限(标准倍数)")
    temporary_case_cap_fen: int = strawberry.field(description="临时救助一事一议上限(分)")
    temporary_township_limit_fen: int = strawberry.field(description="乡镇审批限额(分)")
    temporary_paperwork_days: int = strawberry.field(description="急难型补办手续时限(工作日)")
    township_confirms: bool = strawberry.field(description="审核确认权限下放至乡镇")
    note: str | None = strawberry.field(description="备注 Note")

    @strawberry.field(description="分档 Tiers (tiered mode)", metadata=list_size(4))
    @direct
    def tiers(self) -> list[TierType]:
        return [
            TierType(
                code=t["code"],
                income_below=Decimal(t["income_below"]),
                per_member=Decimal(t["per_member"]),
            )
            for t in self.tiers or ()  # type: ignore[attr-defined]
        ]

    @strawberry.field(description="区划 The region")
    @direct
    async def region(self, info: strawberry.Info) -> RegionRef | None:
        return await _loader(info, "region_by_code").load(self.region_code)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------ 低保


@strawberry.type(
    name="MinimumLivingGuaranteeMember", description="保障成员 A member covered by a 低保 case"
)
class CoveredMember:
    added_on: dt.date = strawberry.field(description="纳入日期 Covered from")
    removed_on: dt.date | None = strawberry.field(description="减员日期 Removed on")
    removal_reason: str | None = strawberry.field(description="减员原因 Why removed")
    share_withheld_from: dt.date | None = strawberry.field(
        description="停发本人份额起始月 Own share withheld from this month (refused work)"
    )
    share_withheld_reason: str | None = strawberry.field(description="停发原因 Why withheld")

    @strawberry.field(description="人员 The person")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await _loader(info, "person_by_id").load(self.person_id)  # type: ignore[attr-defined,no-any-return]


@strawberry.type(
    name="MinimumLivingGuaranteeWorkOffer",
    description="介绍就业 Suitable work offered to a covered member able to work",
)
class WorkOffer:
    offered_on: dt.date = strawberry.field(description="介绍日期 Offered on")
    description: str = strawberry.field(description="工作 The work offered")
    accepted: bool = strawberry.field(description="是否接受 Taken up")
    recorded_by: str | None = strawberry.field(description="记录人 Recorded by")

    @strawberry.field(description="人员 The member")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await _loader(info, "person_by_id").load(self.person_id)  # type: ignore[attr-defined,no-any-return]


@strawberry.type(
    name="MinimumLivingGuaranteeObjection", description="公示异议 An objection during the notice"
)
class Objection:
    raised_on: dt.date = strawberry.field(description="提出日期 Raised on")
    raised_by: str | None = strawberry.field(description="提出人 Raised by")
    content: str = strawberry.field(description="内容 Content")


@strawberry.type(name="MinimumLivingGuaranteePhaseOut", description="渐退期 A phase-out's months")
class PhaseOut:
    first_month: dt.date = strawberry.field(description="首月 First month (first day)")
    last_month: dt.date = strawberry.field(description="末月 Last paid month (first day)")
    month_number: int = strawberry.field(description="当前第几个月 This month's number")
    months_remaining: int = strawberry.field(description="剩余月数 Paid months left after this")


@strawberry.type(
    name="MinimumLivingGuaranteeCase",
    description="低保案件 A household's minimum living guarantee case",
)
class DibaoCaseType(Node):
    is_type_of = _row_type(m.DibaoCase)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("MinimumLivingGuaranteeCase", self.id))  # type: ignore[attr-defined]

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined, return-value]

    number: str = strawberry.field(description="案件编号 Case number")
    status: m.DibaoStatus = strawberry.field(description="状态 State")
    single_person: bool = strawberry.field(description="单人户 A member covered alone")
    area: HukouType = strawberry.field(description="城乡 Urban or rural 低保")
    extended: bool = strawberry.field(description="延长时限 45-day limit (objections, hard case)")
    decision_level: m.DecisionLevel = strawberry.field(description="确认层级 Who confirms")
    applied_on: dt.date = strawberry.field(description="受理日期 Application accepted on")
    investigation_started_on: dt.date | None = strawberry.field(description="入户调查 Started")
    opinion_on: dt.date | None = strawberry.field(description="初审日期 First opinion on")
    opinion_eligible: bool | None = strawberry.field(description="初审意见 First opinion")
    opinion_note: str | None = strawberry.field(description="初审说明 Opinion note")
    notice_posted_on: dt.date | None = strawberry.field(description="公示日期 Notice posted")
    objection_count: int = strawberry.field(description="异议次数 Objections raised")
    file_received_on: dt.date | None = strawberry.field(description="材料报送 File received")
    decided_on: dt.date | None = strawberry.field(description="确认日期 Decided on")
    decided_by: str | None = strawberry.field(description="确认人 Decided by")
    refusal_reason: str | None = strawberry.field(description="不予确认理由 Refusal reason")
    payment_from: dt.date | None = strawberry.field(description="发放起始月 Paid from")
    monthly_amount_fen: int = strawberry.field(description="月低保金(分) Monthly amount")
    per_capita_income_fen: int | None = strawberry.field(
        description="家庭人均月收入(分) Per-capita monthly income at the last assessment"
    )
    review_category: rules.ReviewCategory | None = strawberry.field(
        description="核查类别 Review category"
    )
    last_reviewed_on: dt.date | None = strawberry.field(description="上次核查 Last reviewed")
    next_review_on: dt.date | None = strawberry.field(description="下次定期核查 Next review")
    flagged_review_on: dt.date | None = strawberry.field(description="复核期限 Review due by")
    flagged_reason: str | None = strawberry.field(description="复核原因 Why a review is due")
    closed_on: dt.date | None = strawberry.field(description="停保日期 Closed on")
    close_reason: str | None = strawberry.field(description="停保原因 Why closed")
    due_on: dt.date | None = strawberry.field(description="到期日 When the next step is due")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="超期 The next step is overdue")
    @direct
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < _today()

    @strawberry.field(description="公示截止 Last day of the notice")
    @direct
    def notice_ends_on(self) -> dt.date | None:
        posted = self.notice_posted_on
        return posted + dt.timedelta(days=6) if posted else None

    @strawberry.field(
        description="办理时限 Every procedural deadline of the case", metadata=list_size(6)
    )
    @direct
    def deadlines(self) -> list[Deadline]:
        return Deadline.many(dibao_service.deadlines(self, _today()))  # type: ignore[arg-type]

    @strawberry.field(description="渐退期 The phase-out, if any")
    @direct
    def phase_out(self) -> PhaseOut | None:
        first = self.phase_out_first_month  # type: ignore[attr-defined]
        last = self.phase_out_last_month  # type: ignore[attr-defined]
        if first is None or last is None:
            return None
        n = rules.months_between(first, _today()) + 1
        return PhaseOut(
            first_month=first,
            last_month=last,
            month_number=n,
            months_remaining=max(0, rules.months_between(_today(), last)),
        )

    @strawberry.field(description="户 The household")
    @direct
    async def household(self, info: strawberry.Info) -> HouseholdRef | None:
        return await _loader(info, "household_by_id").load(self.household_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="申请人 The applying member")
    @direct
    async def applicant(self, info: strawberry.Info) -> PersonRef | None:
        return await _loader(info, "person_by_id").load(self.applicant_person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(
        description="保障成员 Covered members (current unless all=true)", metadata=list_size(6)
    )
    @direct
    async def covered_members(
        self, info: strawberry.Info, all: bool = False
    ) -> list[CoveredMember]:
        rows = await _loader(info, "social_assistance.dibao_members_by_case").load(self.id)  # type: ignore[attr-defined]
        return [r for r in rows if all or r.removed_on is None]

    @strawberry.field(
        description="介绍就业记录 Work offered to members, oldest first", metadata=list_size(6)
    )
    @direct
    async def work_offers(self, info: strawberry.Info) -> list[WorkOffer]:
        return await _loader(info, "social_assistance.dibao_work_offers_by_case").load(self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="公示异议 Objections", metadata=list_size(2))
    @direct
    async def objections(self, info: strawberry.Info) -> list[Objection]:
        return await _loader(info, "social_assistance.dibao_objections_by_case").load(self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="适用标准 The standard of the last assessment")
    @direct
    async def standard(self, info: strawberry.Info) -> StandardType | None:
        sid = self.standard_id  # type: ignore[attr-defined]
        return await _loader(info, "social_assistance.standard_by_id").load(sid) if sid else None


@strawberry.type(
    name="MinimumLivingGuarantee", description="低保 A household's current 低保 case and history"
)
class DibaoOverview:
    current: DibaoCaseType | None = strawberry.field(
        description="当前案件 The open or paid case, if any"
    )
    history: list[DibaoCaseType] = strawberry.field(
        description="历史 Every case, newest first", metadata=list_size(3)
    )


# ------------------------------------------------------------------------ 特困


@strawberry.type(
    name="ExtremePovertyCondition",
    description="特困认定条件 One condition, evaluated with evidence",
)
class ConditionType:
    code: m.ConditionCode = strawberry.field(description="条件 Condition")
    met: bool = strawberry.field(description="是否满足 Met")
    evidence: list[str] = strawberry.field(description="证明材料 Evidence recorded")
    assessed_on: dt.date = strawberry.field(description="评估日期 Assessed on")

    @strawberry.field(description="条件名称 Title (Chinese)")
    @direct
    def title(self) -> str:
        return tekun_service.CONDITION_TITLES[self.code]

    @strawberry.field(description="判定依据 The rule's reasons", metadata=list_size(4))
    @direct
    def reasons(self) -> list[RuleResult]:
        return RuleResult.stored(self.reasons)  # type: ignore[arg-type]


@strawberry.type(
    name="ExtremePovertySupporter", description="法定义务人 A person with a duty of support"
)
class SupporterType:
    name: str = strawberry.field(description="姓名 Name")
    relation: str = strawberry.field(description="关系 Relation")
    birth_date: dt.date = strawberry.field(description="出生日期 Birth date")
    on_tekun: bool = strawberry.field(description="本人为特困人员")
    on_dibao: bool = strawberry.field(description="本人为低保对象")
    poor: bool = strawberry.field(description="生活困难 Income and assets within low-income rules")
    disability_grade: int | None = strawberry.field(description="残疾等级 Disability grade")
    lacks_capacity: bool = strawberry.field(description="无民事行为能力")
    missing: bool = strawberry.field(description="被宣告失踪")
    imprisoned: bool = strawberry.field(description="在监狱服刑")

    @strawberry.field(description="无履行义务能力 Unable to support, with the reason")
    @direct
    def assessment(self) -> RuleResult:
        facts = tekun_service.supporter_facts([self])  # type: ignore[list-item]
        return RuleResult.of(rules.supporter_unable(facts[0], _today()))


@strawberry.type(name="SelfCareAssessment", description="生活自理能力评估 The six activities")
class SelfCareType:
    assessed_on: dt.date = strawberry.field(description="评估日期 Assessed on")
    eating: bool = strawberry.field(description="自主吃饭 Eats unaided")
    dressing: bool = strawberry.field(description="自主穿衣 Dresses unaided")
    transfer: bool = strawberry.field(description="自主上下床 Gets in/out of bed unaided")
    toileting: bool = strawberry.field(description="自主如厕 Uses the toilet unaided")
    walking_indoors: bool = strawberry.field(description="室内行走 Walks indoors unaided")
    bathing: bool = strawberry.field(description="自主洗澡 Bathes unaided")
    level: rules.SelfCareLevel = strawberry.field(description="自理能力 Level")


@strawberry.type(
    name="ExtremePovertySupportCase", description="特困案件 A person's extreme-poverty support case"
)
class TekunCaseType(Node):
    is_type_of = _row_type(m.TekunCase)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("ExtremePovertySupportCase", self.id))  # type: ignore[attr-defined]

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined, return-value]

    number: str = strawberry.field(description="案件编号 Case number")
    status: m.TekunStatus = strawberry.field(description="状态 State")
    area: HukouType = strawberry.field(description="城乡 Urban or rural")
    support_mode: m.SupportMode = strawberry.field(
        description="供养方式 Dispersed or institutional"
    )
    institution: str | None = strawberry.field(description="供养机构 Institution")
    applied_on: dt.date = strawberry.field(description="申请日期 Applied on")
    investigation_started_on: dt.date | None = strawberry.field(description="调查开始")
    opinion_on: dt.date | None = strawberry.field(description="乡镇意见 Township opinion on")
    notice_posted_on: dt.date | None = strawberry.field(description="公示日期 Notice posted")
    file_received_on: dt.date | None = strawberry.field(description="县级收到材料 File received")
    decided_on: dt.date | None = strawberry.field(description="确认日期 Decided on")
    decided_by: str | None = strawberry.field(description="确认人 Decided by")
    refusal_reason: str | None = strawberry.field(description="不予确认理由 Refusal reason")
    started_as_minor: bool = strawberry.field(description="未成年人 Supported as a minor")
    self_care_level: rules.SelfCareLevel | None = strawberry.field(description="生活自理能力")
    self_care_changed_on: dt.date | None = strawberry.field(
        description="状况变化 Health or disability changed on: self-care to be reassessed "
        "within 10 working days"
    )
    self_care_change: str | None = strawberry.field(description="变化内容 What changed")
    spot_checked_on: dt.date | None = strawberry.field(
        description="县级抽查核实 The county visited the file's subject on"
    )
    spot_check_findings: str | None = strawberry.field(description="抽查情况 What it found")
    spot_check_confirms: bool | None = strawberry.field(
        description="抽查结论 The visit bore out the township's findings"
    )
    payment_from: dt.date | None = strawberry.field(description="供养起始月 Paid from")
    monthly_amount_fen: int = strawberry.field(
        description="月供养金(分) Basic living standard + care allowance"
    )
    termination_reason: rules.TerminationReason | None = strawberry.field(description="终止原因")
    termination_note: str | None = strawberry.field(description="终止说明 Termination note")
    termination_notice_on: dt.date | None = strawberry.field(description="终止公示 Notice posted")
    ends_after: dt.date | None = strawberry.field(description="供养截止 Last day supported")
    due_on: dt.date | None = strawberry.field(description="到期日 When the next step is due")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="超期 The next step is overdue")
    @direct
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < _today()

    @strawberry.field(description="办理时限 Procedural deadlines", metadata=list_size(6))
    @direct
    def deadlines(self) -> list[Deadline]:
        return Deadline.many(tekun_service.deadlines(self, _today()))  # type: ignore[arg-type]

    @strawberry.field(description="人员 The supported person")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await _loader(info, "person_by_id").load(self.person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(
        description="认定条件 The three conditions as recorded", metadata=list_size(3)
    )
    @direct
    async def conditions(self, info: strawberry.Info) -> list[ConditionType]:
        return await _loader(info, "social_assistance.conditions_by_case").load(self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="法定义务人 Supporters", metadata=list_size(4))
    @direct
    async def supporters(self, info: strawberry.Info) -> list[SupporterType]:
        return await _loader(info, "social_assistance.supporters_by_case").load(self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(
        description="自理能力评估 Self-care assessments, newest first", metadata=list_size(4)
    )
    @direct
    async def self_care_assessments(self, info: strawberry.Info) -> list[SelfCareType]:
        return await _loader(info, "social_assistance.self_care_by_case").load(self.id)  # type: ignore[attr-defined,no-any-return]


@strawberry.type(
    name="ExtremePovertySupport", description="特困供养 A person's current 特困 case and history"
)
class TekunOverview:
    current: TekunCaseType | None = strawberry.field(description="当前案件 Open or active case")
    history: list[TekunCaseType] = strawberry.field(
        description="历史 Every case, newest first", metadata=list_size(2)
    )


# --------------------------------------------------------------------- 临时救助


def _draw(entries: list[m.ReserveFundEntry]) -> m.ReserveFundEntry | None:
    return next((e for e in entries if e.kind == m.FundEntryKind.DRAW), None)


def _returns(entries: list[m.ReserveFundEntry]) -> list[m.ReserveFundEntry]:
    return [e for e in entries if e.kind == m.FundEntryKind.RETURN]


@strawberry.type(
    name="ReserveFundEntry", description="备用金收支 One top-up, draw-down or recovered return"
)
class FundEntryType:
    kind: m.FundEntryKind = strawberry.field(description="类型 Top-up, draw or return")
    amount_fen: int = strawberry.field(description="金额(分) + top-up or return, − draw")
    booked_on: dt.date = strawberry.field(description="记账日期 Booked on")
    note: str | None = strawberry.field(description="摘要 Note")
    booked_by: str | None = strawberry.field(description="经办人 Booked by")

    @strawberry.field(description="临时救助案件 The case paid (a draw) or recovered (a return)")
    @direct
    async def temporary_case(self, info: strawberry.Info) -> TemporaryCaseType | None:
        cid = self.temporary_case_id  # type: ignore[attr-defined]
        return await _loader(info, "social_assistance.temporary_by_id").load(cid) if cid else None


@strawberry.type(name="TemporaryAssistanceCase", description="临时救助 A temporary assistance case")
class TemporaryCaseType(Node):
    is_type_of = _row_type(m.TemporaryCase)

    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("TemporaryAssistanceCase", self.id))  # type: ignore[attr-defined]

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined, return-value]

    number: str = strawberry.field(description="案件编号 Case number")
    kind: rules.TemporaryKind = strawberry.field(description="类型 Emergency or expenditure")
    status: m.TemporaryStatus = strawberry.field(description="状态 State")
    cause: str = strawberry.field(description="事由 Cause")
    need_fen: int = strawberry.field(description="核定需求(分) Assessed need")
    severity: int | None = strawberry.field(description="档次 Severity tier")
    amount_fen: int = strawberry.field(description="救助金额(分) Amount granted")
    approver_level: str | None = strawberry.field(description="审批层级 township or county")
    applied_on: dt.date = strawberry.field(description="申请日期 Applied on")
    helped_on: dt.date | None = strawberry.field(description="先行救助日期 Helped first on")
    paperwork_due_on: dt.date | None = strawberry.field(description="补办手续期限 Paperwork due")
    paperwork_done_on: dt.date | None = strawberry.field(description="补办完成 Paperwork done")
    documents: list[str] = strawberry.field(description="材料 Documents")
    decided_on: dt.date | None = strawberry.field(description="审批日期 Decided on")
    decided_by: str | None = strawberry.field(description="审批人 Decided by")
    refusal_reason: str | None = strawberry.field(description="不予救助理由 Refusal reason")
    payment_month: dt.date | None = strawberry.field(description="发放月份 Paid in (payroll)")
    recovered_fen: int = strawberry.field(
        description="追回金额(分) Emergency help recovered and returned to the fund"
    )
    recovery_reason: str | None = strawberry.field(description="追回原因 Why it was recovered")
    due_on: dt.date | None = strawberry.field(description="到期日 When the next step is due")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="超期 The next step is overdue")
    @direct
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < _today()

    @strawberry.field(description="人员 The person helped")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await _loader(info, "person_by_id").load(self.person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="户 The person's household at the time")
    @direct
    async def household(self, info: strawberry.Info) -> HouseholdRef | None:
        hid = self.household_id  # type: ignore[attr-defined]
        return await _loader(info, "household_by_id").load(hid) if hid else None

    @strawberry.field(description="备用金支出 The reserve-fund draw that paid it")
    @prefetched
    def fund_entry(self, info: strawberry.Info) -> FundEntryType | None:
        loader = _loader(info, "social_assistance.fund_entries_by_case")
        return loaded(loader, self.id, _draw)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(
        description="追回退回 What was recovered and returned to the fund, oldest first",
        metadata=list_size(2),
    )
    @prefetched
    def fund_returns(self, info: strawberry.Info) -> list[FundEntryType]:
        loader = _loader(info, "social_assistance.fund_entries_by_case")
        return loaded(loader, self.id, _returns)  # type: ignore[attr-defined,no-any-return]


@strawberry.type(name="ReserveFundEntryConnection", description="备用金收支列表")
class FundEntryConnection:
    edges: list[Edge[FundEntryType]]
    page_info: PageInfo


@strawberry.type(
    name="ReserveFund", description="备用金 A township's reserve fund for emergency help"
)
class ReserveFundType:
    is_type_of = _row_type(m.ReserveFund)

    @strawberry.field(description="乡镇代码 Township code")
    @direct
    def township_code(self) -> str:
        return self.region_code  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="乡镇 The township")
    @direct
    async def township(self, info: strawberry.Info) -> RegionRef | None:
        return await _loader(info, "region_by_code").load(self.region_code)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="余额(分) Balance: the sum of every entry")
    @direct
    async def balance_fen(self, info: strawberry.Info) -> int:
        return await _loader(info, "social_assistance.fund_balance_by_id").load(self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="收支明细 Entries, oldest first")
    @direct
    async def entries(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> FundEntryConnection:
        from sqlalchemy import select

        from minzheng.schema.pagination import keyset_page

        stmt = select(m.ReserveFundEntry).where(m.ReserveFundEntry.fund_id == self.id)  # type: ignore[attr-defined]
        page = await keyset_page(info, stmt, m.ReserveFundEntry.id, first=first, after=after)
        return FundEntryConnection(edges=page.edges(Edge), page_info=page.page_info)


# ----------------------------------------------------------------- near poverty


@strawberry.type(
    name="NearPovertyDetermination", description="低保边缘家庭认定 One determination of a household"
)
class NearPovertyType:
    determined_on: dt.date = strawberry.field(description="认定日期 Determined on")
    near_poverty: bool = strawberry.field(description="是否低保边缘家庭 Near-poverty")
    per_capita_income_fen: int = strawberry.field(description="人均月收入(分)")
    members: int = strawberry.field(description="成员数 Members counted")

    @strawberry.field(description="判定依据 The rules' reasons", metadata=list_size(6))
    @direct
    def reasons(self) -> list[RuleResult]:
        return RuleResult.stored(self.reasons)  # type: ignore[arg-type]

    @strawberry.field(description="户 The household")
    @direct
    async def household(self, info: strawberry.Info) -> HouseholdRef | None:
        return await _loader(info, "household_by_id").load(self.household_id)  # type: ignore[attr-defined,no-any-return]


# ------------------------------------------------------------------ connections


@strawberry.type(name="MinimumLivingGuaranteeCaseConnection", description="低保案件列表")
class DibaoCaseConnection:
    edges: list[Edge[DibaoCaseType]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching cases")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(name="ExtremePovertySupportCaseConnection", description="特困案件列表")
class TekunCaseConnection:
    edges: list[Edge[TekunCaseType]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching cases")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]


@strawberry.type(name="TemporaryAssistanceCaseConnection", description="临时救助案件列表")
class TemporaryCaseConnection:
    edges: list[Edge[TemporaryCaseType]]
    page_info: PageInfo
    _page: strawberry.Private[Any]

    @strawberry.field(description="总数 Total matching cases")
    @direct
    async def total_count(self) -> int:
        return await self._page.total_count()  # type: ignore[no-any-return]
