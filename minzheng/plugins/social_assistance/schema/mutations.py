"""Mutations of 社会救助: one per transition, each with one ``input`` and a payload
carrying typed errors (nothing is written when there is one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import strawberry

from minzheng.core.models import DisabilityCategory, HukouType
from minzheng.plugins.social_assistance import models as m
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.schema.types import (
    ConditionType,
    DibaoCaseType,
    FundEntryType,
    NearPovertyType,
    ReserveFundType,
    RuleResult,
    StandardType,
    TekunCaseType,
    TemporaryCaseType,
)
from minzheng.plugins.social_assistance.services import (
    common,
    dibao,
    near_poverty,
    standards,
    tekun,
    temporary,
)
from minzheng.schema import ids
from minzheng.schema.errors import UserError
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import later
from minzheng.schema.mutations import run
from minzheng.schema.permissions import requires
from minzheng.schema.types import ctx

APPLY = "social_assistance:apply"
CONFIRM = "social_assistance:confirm"
STANDARDS = "social_assistance:standards"
FUND = "social_assistance:fund"
P = "social_assistance."

ON = "办理日期 Date of the act (default today; never in the future)"
VERSION = "版本 The case version you last saw"
KEY = "幂等键 Same key, same answer, written once"


def _pk(value: str, type_name: str, path: str) -> int:
    return ids.decode(value, expect=type_name, field=path)[1]


Work = Callable[[Any], Awaitable[Any]]


async def _case(
    info: strawberry.Info,
    operation: str,
    input: Any,
    work: Work,
    payload: type,
    loader: str,
    extra: Callable[[Any], dict[str, Any]] | None = None,
) -> Any:
    """Run ``work`` (returning the case row) in one transaction; the payload's
    ``case`` is loaded afterwards through the request's dataloader."""

    async def transaction(session: Any) -> dict[str, Any]:
        out = await work(session)
        row, more = out if isinstance(out, tuple) else (out, None)
        result = {"id": row.id, "region_code": row.region_code}
        if extra is not None:
            result.update(extra(more))
        return result

    def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
        case = None if result is None else later(ctx(info).loaders[P + loader], result["id"])
        fields = {"case": case, "errors": errors}
        for name in payload.__annotations__:
            if name not in fields:
                fields[name] = None if result is None else result.get(name)
        return payload(**fields)

    return await run(
        info,
        operation,
        transaction,
        build,
        idempotency_key=getattr(input, "idempotency_key", None),
        input_value=input,
    )


# -------------------------------------------------------------------- payloads


@strawberry.type(description="低保案件变更结果 Result of a 低保 case change")
class MinimumLivingGuaranteePayload:
    case: DibaoCaseType | None
    errors: list[UserError]


@strawberry.type(description="介绍就业记录结果 Result of recording a work offer")
class MinimumLivingGuaranteeWorkOfferPayload:
    case: DibaoCaseType | None
    refusals_in_a_row: int | None = strawberry.field(
        description="连续拒绝次数 The member's refusals in a row, this one included "
        "(3: the county may withhold the member's own share)"
    )
    share_restored: bool | None = strawberry.field(
        description="恢复本人份额 Taking the work ended a withholding (from next month)"
    )
    errors: list[UserError]


@strawberry.type(description="低保核查结果 Result of a 低保 review")
class MinimumLivingGuaranteeReviewPayload:
    case: DibaoCaseType | None
    outcome: str | None = strawberry.field(
        description="结果 continue, phase_out, reactivated or closed"
    )
    rules_json: strawberry.Private[Any]
    errors: list[UserError]

    @strawberry.field(description="核查依据 The rules applied", metadata=list_size(12))
    def rules(self) -> list[RuleResult]:
        return RuleResult.stored(self.rules_json or [])


@strawberry.type(description="特困案件变更结果 Result of a 特困 case change")
class ExtremePovertySupportPayload:
    case: TekunCaseType | None
    errors: list[UserError]


@strawberry.type(description="特困条件记录结果 Result of recording a 特困 condition")
class ExtremePovertyConditionPayload:
    case: TekunCaseType | None
    condition_code: strawberry.Private[Any]
    errors: list[UserError]

    @strawberry.field(description="条件 The condition as recorded")
    async def condition(self, info: strawberry.Info) -> ConditionType | None:
        if self.case is None:
            return None
        case = await self.case if hasattr(self.case, "__await__") else self.case
        rows = await ctx(info).loaders[P + "conditions_by_case"].load(case.id)
        return next((r for r in rows if r.code.value == self.condition_code), None)


@strawberry.type(description="临时救助变更结果 Result of a 临时救助 change")
class TemporaryAssistancePayload:
    case: TemporaryCaseType | None
    errors: list[UserError]


@strawberry.type(description="备用金拨付结果 Result of a reserve-fund top-up")
class ReserveFundPayload:
    fund: ReserveFundType | None
    entry: FundEntryType | None
    errors: list[UserError]


@strawberry.type(description="标准设定结果 Result of setting a standard")
class SocialAssistanceStandardPayload:
    standard: StandardType | None
    errors: list[UserError]


@strawberry.type(description="低保边缘家庭认定结果 Result of a near-poverty determination")
class NearPovertyPayload:
    determination: NearPovertyType | None
    errors: list[UserError]


# ---------------------------------------------------------------------- inputs


@strawberry.input(description="分档 A band of the tiered 低保 amount")
class MinimumLivingGuaranteeTierInput:
    code: str
    income_below: Decimal = strawberry.field(description="收入低于 × standard")
    per_member: Decimal = strawberry.field(description="每人发放 × standard")


@strawberry.input(description="设定标准 Set a region's standards from a date (urban or rural)")
class SetSocialAssistanceStandardInput:
    region_code: str = strawberry.field(description="区划 County (or an overriding township)")
    area: HukouType = strawberry.field(description="城乡 Urban or rural")
    effective_from: dt.date = strawberry.field(description="执行日期 In force from")
    dibao_fen: int = strawberry.field(
        name="minimumLivingStandardFen", description="低保标准(分/人·月)"
    )
    tekun_basic_fen: int = strawberry.field(
        name="extremePovertyBasicFen", description="特困基本生活标准(分/人·月)"
    )
    care_self_sufficient_fen: int = strawberry.field(description="照料护理: 具备自理能力")
    care_partly_dependent_fen: int = strawberry.field(description="照料护理: 部分丧失")
    care_fully_dependent_fen: int = strawberry.field(description="照料护理: 完全丧失")
    near_poverty_multiple: Decimal = Decimal("1.5")
    phase_out_multiple: Decimal = Decimal("1.5")
    phase_out_max_months: int = strawberry.field(default=12, description="焦作 12; national 6")
    phase_out_share: Decimal = Decimal(1)
    employment_cost_mode: rules.EmploymentCostMode = rules.EmploymentCostMode.RECORDED
    employment_cost_monthly_fen: int = 0
    employment_cost_share: Decimal = Decimal(0)
    amount_mode: rules.AmountMode = rules.AmountMode.GAP
    tiers: list[MinimumLivingGuaranteeTierInput] = strawberry.field(default_factory=list)
    review_stable_months: int = 12
    review_irregular_months: int = 6
    income_window_months: int = 12
    dibao_asset_months: int = strawberry.field(
        default=24, name="minimumLivingAssetMonths", description="低保财产上限(月标准倍数)"
    )
    dibao_max_vehicles: int = strawberry.field(
        default=0, name="minimumLivingMaxVehicles", description="低保机动车上限"
    )
    dibao_max_homes: int = strawberry.field(
        default=1, name="minimumLivingMaxHomes", description="低保房产上限"
    )
    near_poverty_asset_months: int = 36
    near_poverty_max_vehicles: int = 1
    near_poverty_max_homes: int = 1
    temporary_mode: rules.TemporaryAmountMode = rules.TemporaryAmountMode.STANDARD_MULTIPLE
    temporary_max_multiple: Decimal = Decimal(6)
    temporary_per_member: bool = False
    temporary_tier_multiples: list[Decimal] = strawberry.field(
        default_factory=lambda: [Decimal(2), Decimal(4), Decimal(6)]
    )
    temporary_case_cap_fen: int = 0
    temporary_township_limit_fen: int = 0
    temporary_paperwork_days: int = 5
    township_confirms: bool = strawberry.field(default=False, description="审核确认权限下放")
    note: str | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


def standard_of(i: SetSocialAssistanceStandardInput) -> rules.Standard:
    return standards.build_standard(
        dibao_fen=i.dibao_fen,
        tekun_basic_fen=i.tekun_basic_fen,
        care_fen={
            rules.SelfCareLevel.SELF_SUFFICIENT: i.care_self_sufficient_fen,
            rules.SelfCareLevel.PARTLY_DEPENDENT: i.care_partly_dependent_fen,
            rules.SelfCareLevel.FULLY_DEPENDENT: i.care_fully_dependent_fen,
        },
        near_poverty_multiple=i.near_poverty_multiple,
        phase_out_multiple=i.phase_out_multiple,
        phase_out_max_months=i.phase_out_max_months,
        phase_out_share=i.phase_out_share,
        employment_cost=rules.EmploymentCostRule(
            i.employment_cost_mode, i.employment_cost_monthly_fen, i.employment_cost_share
        ),
        amount_mode=i.amount_mode,
        tiers=tuple(rules.Tier(t.code, t.income_below, t.per_member) for t in i.tiers),
        review_months={
            rules.ReviewCategory.STABLE: i.review_stable_months,
            rules.ReviewCategory.IRREGULAR: i.review_irregular_months,
        },
        dibao_assets=rules.AssetRule(i.dibao_asset_months, i.dibao_max_vehicles, i.dibao_max_homes),
        near_poverty_assets=rules.AssetRule(
            i.near_poverty_asset_months, i.near_poverty_max_vehicles, i.near_poverty_max_homes
        ),
        temporary=rules.TemporaryAssistanceRule(
            mode=i.temporary_mode,
            max_multiple=i.temporary_max_multiple,
            per_member=i.temporary_per_member,
            tier_multiples=tuple(i.temporary_tier_multiples),
            case_cap_fen=i.temporary_case_cap_fen,
            township_limit_fen=i.temporary_township_limit_fen,
            paperwork_working_days=i.temporary_paperwork_days,
        ),
        income_window_months=i.income_window_months,
    )


@strawberry.input(description="低保申请 Apply for 低保 for a household")
class ApplyForMinimumLivingGuaranteeInput:
    household_id: strawberry.ID = strawberry.field(description="户 The household")
    applicant_id: strawberry.ID = strawberry.field(description="申请人 The applying member")
    covered_member_ids: list[strawberry.ID] = strawberry.field(
        description="保障成员 Members covered"
    )
    single_person: bool = strawberry.field(default=False, description="单人户 Covered alone")
    extended: bool = strawberry.field(
        default=False, description="延长时限 人户分离 or a hard case: 45 working days"
    )
    applied_on: dt.date | None = strawberry.field(default=None, description="受理日期")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="案件办理 A step on a case")
class CaseStepInput:
    case_id: strawberry.ID = strawberry.field(description="案件 The case")
    version: int = strawberry.field(description=VERSION)
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="初审意见 The township's first opinion on a 低保 case")
class SubmitMinimumLivingGuaranteeOpinionInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    eligible: bool = strawberry.field(description="符合条件 Eligible (then public notice)")
    note: str | None = strawberry.field(default=None, description="说明 Required if not")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="公示异议 Record an objection during the notice")
class RecordMinimumLivingGuaranteeObjectionInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    content: str = strawberry.field(description="异议内容 The objection")
    raised_by: str | None = strawberry.field(default=None, description="提出人 Raised by")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="介绍就业 Suitable work offered to a covered member")
class RecordMinimumLivingGuaranteeWorkOfferInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    person_id: strawberry.ID = strawberry.field(description="保障成员 The covered member")
    description: str = strawberry.field(description="工作 The work offered (≤ 300 characters)")
    accepted: bool = strawberry.field(description="是否接受 Taken up (false: refused)")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="停发本人份额 Withhold a member's own share")
class WithholdMinimumLivingGuaranteeShareInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    person_id: strawberry.ID = strawberry.field(description="保障成员 The covered member")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="县级抽查核实 The county's visit to a 特困 file")
class RecordExtremePovertySpotCheckInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    findings: str = strawberry.field(description="抽查情况 What the visit found (≤ 500)")
    confirms: bool = strawberry.field(
        description="抽查结论 Whether it bears out the township's findings"
    )
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="附理由的办理 A step that needs a reason (refuse, close, withdraw)")
class CaseReasonInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    reason: str = strawberry.field(description="理由 Reason, given in writing")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="法定义务人 A person with a legal duty of support")
class SupporterInput:
    name: str
    relation: str = strawberry.field(description="关系 子女, 配偶, 父母 …")
    birth_date: dt.date | None = strawberry.field(default=None, description="出生日期")
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="登记人员 The supporter in the registry (facts taken from it)"
    )
    on_tekun: bool = False
    on_dibao: bool = False
    poor: bool = strawberry.field(default=False, description="生活困难 Income/assets low")
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = None
    lacks_capacity: bool = strawberry.field(default=False, description="无民事行为能力")
    missing: bool = strawberry.field(default=False, description="被宣告失踪")
    imprisoned: bool = strawberry.field(default=False, description="在监狱服刑")


def _supporters(items: list[SupporterInput] | None) -> list[tekun.SupporterInput] | None:
    if items is None:
        return None
    return [
        tekun.SupporterInput(
            name=s.name,
            relation=s.relation,
            birth_date=s.birth_date,
            person_id=_pk(s.person_id, "Person", f"input.supporters.{i}.personId")
            if s.person_id
            else None,
            on_tekun=s.on_tekun,
            on_dibao=s.on_dibao,
            poor=s.poor,
            disability_category=s.disability_category,
            disability_grade=s.disability_grade,
            lacks_capacity=s.lacks_capacity,
            missing=s.missing,
            imprisoned=s.imprisoned,
        )
        for i, s in enumerate(items)
    ]


@strawberry.input(description="特困申请 Apply for 特困 support for a person")
class ApplyForExtremePovertySupportInput:
    person_id: strawberry.ID
    support_mode: m.SupportMode = strawberry.field(description="供养方式 Dispersed/institutional")
    institution: str | None = strawberry.field(default=None, description="供养机构")
    supporters: list[SupporterInput] = strawberry.field(
        default_factory=list, description="法定义务人 Supporters"
    )
    applied_on: dt.date | None = strawberry.field(default=None, description="申请日期")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="记录认定条件 Record one 特困 condition with its evidence")
class RecordExtremePovertyConditionInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    condition: m.ConditionCode = strawberry.field(description="条件 Which condition")
    evidence: list[str] = strawberry.field(description="证明材料 Documents (at least one)")
    supporters: list[SupporterInput] | None = strawberry.field(
        default=None, description="义务人 Replaces the supporters (supporter condition only)"
    )
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="生活自理能力评估 Which of the six activities the person manages")
class AssessSelfCareInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    eating: bool = strawberry.field(description="自主吃饭")
    dressing: bool = strawberry.field(description="自主穿衣")
    transfer: bool = strawberry.field(description="自主上下床")
    toileting: bool = strawberry.field(description="自主如厕")
    walking_indoors: bool = strawberry.field(description="室内行走")
    bathing: bool = strawberry.field(description="自主洗澡")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="终止供养 End 特困 support")
class TerminateExtremePovertySupportInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    reason: rules.TerminationReason = strawberry.field(description="终止原因")
    note: str | None = strawberry.field(default=None, description="说明 Required for OTHER")
    notice_on: dt.date | None = strawberry.field(
        default=None, description="终止公示日期 Notice posted (7 days; effect next month)"
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="临时救助申请 Apply for temporary assistance")
class ApplyForTemporaryAssistanceInput:
    person_id: strawberry.ID
    kind: rules.TemporaryKind = strawberry.field(
        description="类型 EMERGENCY: helped at once from the reserve fund; EXPENDITURE: decided"
    )
    cause: str = strawberry.field(description="事由 Cause")
    need_fen: int = strawberry.field(description="核定需求(分) Assessed need in fen")
    severity: int | None = strawberry.field(default=None, description="档次 Tier (tiered mode)")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="补办手续 Paperwork after emergency help")
class CompleteTemporaryAssistancePaperworkInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    documents: list[str] = strawberry.field(description="材料 Documents (at least one)")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(
    description="追回 Emergency help recovered from its recipient and returned to the fund"
)
class RecoverTemporaryAssistanceInput:
    case_id: strawberry.ID
    version: int = strawberry.field(description=VERSION)
    amount_fen: int = strawberry.field(
        description="追回金额(分) Amount returned, positive, at most what is not yet recovered"
    )
    reason: str = strawberry.field(description="追回原因 Why (≤ 200 characters)")
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="备用金拨付 Top up a township's reserve fund")
class TopUpReserveFundInput:
    township_code: str = strawberry.field(description="乡镇代码 Township code")
    amount_fen: int = strawberry.field(description="金额(分) Amount, positive")
    note: str | None = None
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="低保边缘家庭认定 Determine whether a household is near-poverty")
class DetermineNearPovertyInput:
    household_id: strawberry.ID
    on: dt.date | None = strawberry.field(default=None, description=ON)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


# ------------------------------------------------------------------ mutations

DIBAO_ID = ("MinimumLivingGuaranteeCase", "input.caseId")
TEKUN_ID = ("ExtremePovertySupportCase", "input.caseId")
TEMP_ID = ("TemporaryAssistanceCase", "input.caseId")


def _id(input: Any, kind: tuple[str, str]) -> int:
    return _pk(input.case_id, *kind)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="设定社会救助标准 Set a region's standards from a date; amounts governed by "
        "it are recomputed from that date",
        extensions=requires(STANDARDS),
    )
    async def set_social_assistance_standard(
        self, info: strawberry.Info, input: SetSocialAssistanceStandardInput
    ) -> SocialAssistanceStandardPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await standards.set_standard(
                session,
                standards.StandardInput(
                    region_code=input.region_code,
                    area=input.area,
                    effective_from=input.effective_from,
                    standard=standard_of(input),
                    township_confirms=input.township_confirms,
                    note=input.note,
                ),
            )
            return {"id": row.id, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            std = (
                None
                if result is None
                else later(ctx(info).loaders[P + "standard_by_id"], result["id"])
            )
            return SocialAssistanceStandardPayload(standard=std, errors=errors)

        return await run(
            info,
            "setSocialAssistanceStandard",
            work,
            build,  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    # -------------------------------------------------------------------- 低保

    @strawberry.mutation(
        description="低保申请受理 Accept a household's 低保 application", extensions=requires(APPLY)
    )
    async def apply_for_minimum_living_guarantee(
        self, info: strawberry.Info, input: ApplyForMinimumLivingGuaranteeInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "applyForMinimumLivingGuarantee",
            input,
            lambda s: dibao.apply(
                s,
                household_id=_pk(input.household_id, "Household", "input.householdId"),
                applicant_id=_pk(input.applicant_id, "Person", "input.applicantId"),
                covered_ids=[
                    _pk(p, "Person", f"input.coveredMemberIds.{i}")
                    for i, p in enumerate(input.covered_member_ids)
                ],
                single_person=input.single_person,
                extended=input.extended,
                applied_on=input.applied_on,
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="启动入户调查 Start the investigation", extensions=requires(APPLY)
    )
    async def start_minimum_living_guarantee_investigation(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "startMinimumLivingGuaranteeInvestigation",
            input,
            lambda s: dibao.start_investigation(
                s, _id(input, DIBAO_ID), input.version, on=input.on
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="提交初审意见 The township's first opinion (eligible → public notice)",
        extensions=requires(APPLY),
    )
    async def submit_minimum_living_guarantee_opinion(
        self, info: strawberry.Info, input: SubmitMinimumLivingGuaranteeOpinionInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "submitMinimumLivingGuaranteeOpinion",
            input,
            lambda s: dibao.submit_opinion(
                s,
                _id(input, DIBAO_ID),
                input.version,
                eligible=input.eligible,
                note=input.note,
                on=input.on,
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="记录公示异议 An objection: back to investigation for a new first opinion",
        extensions=requires(APPLY),
    )
    async def record_minimum_living_guarantee_objection(
        self, info: strawberry.Info, input: RecordMinimumLivingGuaranteeObjectionInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "recordMinimumLivingGuaranteeObjection",
            input,
            lambda s: dibao.record_objection(
                s,
                _id(input, DIBAO_ID),
                input.version,
                content=input.content,
                raised_by=input.raised_by,
                on=input.on,
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="记录介绍就业 Work offered to a covered member able to work, taken or "
        "refused; the third refusal in a row puts the case before the county",
        extensions=requires(APPLY),
    )
    async def record_minimum_living_guarantee_work_offer(
        self, info: strawberry.Info, input: RecordMinimumLivingGuaranteeWorkOfferInput
    ) -> MinimumLivingGuaranteeWorkOfferPayload:
        async def work(s: Any) -> tuple[Any, dibao.WorkOfferOutcome]:
            out = await dibao.record_work_offer(
                s,
                _id(input, DIBAO_ID),
                input.version,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                description=input.description,
                accepted=input.accepted,
                on=input.on,
            )
            return out.case, out

        return await _case(
            info,
            "recordMinimumLivingGuaranteeWorkOffer",
            input,
            work,
            MinimumLivingGuaranteeWorkOfferPayload,
            "dibao_by_id",
            lambda out: {
                "refusals_in_a_row": out.refusals_in_a_row,
                "share_restored": out.share == "restored",
            },
        )

    @strawberry.mutation(
        description="停发本人份额 Withhold a member's own share from next month after three "
        "refusals of suitable work in a row (county)",
        extensions=requires(CONFIRM),
    )
    async def withhold_minimum_living_guarantee_share(
        self, info: strawberry.Info, input: WithholdMinimumLivingGuaranteeShareInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "withholdMinimumLivingGuaranteeShare",
            input,
            lambda s: dibao.withhold_share(
                s,
                _id(input, DIBAO_ID),
                input.version,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                on=input.on,
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="公示期满 Close the 7-day notice and send the file to the decider",
        extensions=requires(APPLY),
    )
    async def close_minimum_living_guarantee_notice(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "closeMinimumLivingGuaranteeNotice",
            input,
            lambda s: dibao.close_notice(s, _id(input, DIBAO_ID), input.version, on=input.on),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="审核确认 Approve: payment from the month after approval",
        extensions=requires(CONFIRM),
    )
    async def approve_minimum_living_guarantee(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "approveMinimumLivingGuarantee",
            input,
            lambda s: dibao.approve(s, _id(input, DIBAO_ID), input.version, on=input.on),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="不予确认 Refuse, with the reason in writing", extensions=requires(CONFIRM)
    )
    async def refuse_minimum_living_guarantee(
        self, info: strawberry.Info, input: CaseReasonInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "refuseMinimumLivingGuarantee",
            input,
            lambda s: dibao.refuse(
                s, _id(input, DIBAO_ID), input.version, reason=input.reason, on=input.on
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="撤回申请 Withdraw before the decision", extensions=requires(APPLY)
    )
    async def withdraw_minimum_living_guarantee(
        self, info: strawberry.Info, input: CaseReasonInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "withdrawMinimumLivingGuarantee",
            input,
            lambda s: dibao.withdraw(
                s, _id(input, DIBAO_ID), input.version, reason=input.reason, on=input.on
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    @strawberry.mutation(
        description="核查 Review: recompute, phase out, return from phase-out, or close",
        extensions=requires(CONFIRM),
    )
    async def review_minimum_living_guarantee(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> MinimumLivingGuaranteeReviewPayload:
        async def work(s: Any) -> Any:
            r = await dibao.review(s, _id(input, DIBAO_ID), input.version, on=input.on)
            return r.case, r

        return await _case(
            info,
            "reviewMinimumLivingGuarantee",
            input,
            work,
            MinimumLivingGuaranteeReviewPayload,
            "dibao_by_id",
            extra=lambda r: {"outcome": r.outcome, "rules_json": common.reasons_json(r.reasons)},
        )

    @strawberry.mutation(
        description="停保 Stop 低保 after this month", extensions=requires(CONFIRM)
    )
    async def close_minimum_living_guarantee(
        self, info: strawberry.Info, input: CaseReasonInput
    ) -> MinimumLivingGuaranteePayload:
        return await _case(
            info,
            "closeMinimumLivingGuarantee",
            input,
            lambda s: dibao.close(
                s, _id(input, DIBAO_ID), input.version, reason=input.reason, on=input.on
            ),
            MinimumLivingGuaranteePayload,
            "dibao_by_id",
        )

    # -------------------------------------------------------------------- 特困

    @strawberry.mutation(description="特困申请 Apply for 特困 support", extensions=requires(APPLY))
    async def apply_for_extreme_poverty_support(
        self, info: strawberry.Info, input: ApplyForExtremePovertySupportInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "applyForExtremePovertySupport",
            input,
            lambda s: tekun.apply(
                s,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                support_mode=input.support_mode,
                institution=input.institution,
                supporters=_supporters(input.supporters),
                applied_on=input.applied_on,
            ),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    @strawberry.mutation(
        description="启动调查 Start the township investigation", extensions=requires(APPLY)
    )
    async def start_extreme_poverty_support_investigation(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "startExtremePovertySupportInvestigation",
            input,
            lambda s: tekun.start_investigation(
                s, _id(input, TEKUN_ID), input.version, on=input.on
            ),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    @strawberry.mutation(
        description="记录认定条件 Record a condition with evidence; the rules evaluate it",
        extensions=requires(APPLY),
    )
    async def record_extreme_poverty_condition(
        self, info: strawberry.Info, input: RecordExtremePovertyConditionInput
    ) -> ExtremePovertyConditionPayload:
        async def work(s: Any) -> Any:
            case, _cond = await tekun.record_condition(
                s,
                _id(input, TEKUN_ID),
                input.version,
                code=input.condition,
                evidence=input.evidence,
                supporters=_supporters(input.supporters),
                on=input.on,
            )
            return case

        return await _case(
            info,
            "recordExtremePovertyCondition",
            input,
            work,
            ExtremePovertyConditionPayload,
            "tekun_by_id",
            extra=lambda _x: {"condition_code": input.condition.value},
        )

    @strawberry.mutation(
        description="生活自理能力评估 Assess self-care (six activities)", extensions=requires(APPLY)
    )
    async def assess_self_care(
        self, info: strawberry.Info, input: AssessSelfCareInput
    ) -> ExtremePovertySupportPayload:
        async def work(s: Any) -> Any:
            managed = {a: getattr(input, a.value) for a in rules.Activity}
            case, _r = await tekun.assess_self_care(
                s, _id(input, TEKUN_ID), input.version, managed=managed, on=input.on
            )
            return case

        return await _case(
            info, "assessSelfCare", input, work, ExtremePovertySupportPayload, "tekun_by_id"
        )

    @strawberry.mutation(
        description="乡镇意见 Township opinion: needs every condition with evidence and self-care",
        extensions=requires(APPLY),
    )
    async def submit_extreme_poverty_support_opinion(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "submitExtremePovertySupportOpinion",
            input,
            lambda s: tekun.submit_opinion(s, _id(input, TEKUN_ID), input.version, on=input.on),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    @strawberry.mutation(description="公示期满 Close the 7-day notice", extensions=requires(APPLY))
    async def close_extreme_poverty_support_notice(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "closeExtremePovertySupportNotice",
            input,
            lambda s: tekun.close_notice(s, _id(input, TEKUN_ID), input.version, on=input.on),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    @strawberry.mutation(
        description="县级抽查核实 The county's own visit to a file awaiting its decision",
        extensions=requires(CONFIRM),
    )
    async def record_extreme_poverty_spot_check(
        self, info: strawberry.Info, input: RecordExtremePovertySpotCheckInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "recordExtremePovertySpotCheck",
            input,
            lambda s: tekun.record_spot_check(
                s,
                _id(input, TEKUN_ID),
                input.version,
                findings=input.findings,
                confirms=input.confirms,
                on=input.on,
            ),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    @strawberry.mutation(
        description="县级确认 Confirm: support from next month (a file the county has not "
        "spot-checked is refused while its spot checks this year are below 30 %)",
        extensions=requires(CONFIRM),
    )
    async def approve_extreme_poverty_support(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "approveExtremePovertySupport",
            input,
            lambda s: tekun.approve(s, _id(input, TEKUN_ID), input.version, on=input.on),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    @strawberry.mutation(description="不予确认 Refuse", extensions=requires(CONFIRM))
    async def refuse_extreme_poverty_support(
        self, info: strawberry.Info, input: CaseReasonInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "refuseExtremePovertySupport",
            input,
            lambda s: tekun.refuse(
                s, _id(input, TEKUN_ID), input.version, reason=input.reason, on=input.on
            ),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    @strawberry.mutation(
        description="终止供养 End support (notice; effect next month)", extensions=requires(CONFIRM)
    )
    async def terminate_extreme_poverty_support(
        self, info: strawberry.Info, input: TerminateExtremePovertySupportInput
    ) -> ExtremePovertySupportPayload:
        return await _case(
            info,
            "terminateExtremePovertySupport",
            input,
            lambda s: tekun.terminate(
                s,
                _id(input, TEKUN_ID),
                input.version,
                reason=input.reason,
                note=input.note,
                notice_on=input.notice_on,
            ),
            ExtremePovertySupportPayload,
            "tekun_by_id",
        )

    # ---------------------------------------------------------------- 临时救助

    @strawberry.mutation(
        description="临时救助申请 Apply; an emergency is paid at once from the reserve fund",
        extensions=requires(APPLY),
    )
    async def apply_for_temporary_assistance(
        self, info: strawberry.Info, input: ApplyForTemporaryAssistanceInput
    ) -> TemporaryAssistancePayload:
        async def work(s: Any) -> Any:
            case, _amount = await temporary.apply(
                s,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                kind=input.kind,
                cause=input.cause,
                need_fen=input.need_fen,
                severity=input.severity,
                on=input.on,
            )
            return case

        return await _case(
            info,
            "applyForTemporaryAssistance",
            input,
            work,
            TemporaryAssistancePayload,
            "temporary_by_id",
        )

    @strawberry.mutation(
        description="补办手续 Complete the paperwork after emergency help",
        extensions=requires(APPLY),
    )
    async def complete_temporary_assistance_paperwork(
        self, info: strawberry.Info, input: CompleteTemporaryAssistancePaperworkInput
    ) -> TemporaryAssistancePayload:
        return await _case(
            info,
            "completeTemporaryAssistancePaperwork",
            input,
            lambda s: temporary.complete_paperwork(
                s, _id(input, TEMP_ID), input.version, documents=input.documents, on=input.on
            ),
            TemporaryAssistancePayload,
            "temporary_by_id",
        )

    @strawberry.mutation(
        description="审批 Approve expenditure help (paid on next payroll)",
        extensions=requires(CONFIRM),
    )
    async def approve_temporary_assistance(
        self, info: strawberry.Info, input: CaseStepInput
    ) -> TemporaryAssistancePayload:
        return await _case(
            info,
            "approveTemporaryAssistance",
            input,
            lambda s: temporary.approve(s, _id(input, TEMP_ID), input.version, on=input.on),
            TemporaryAssistancePayload,
            "temporary_by_id",
        )

    @strawberry.mutation(description="不予救助 Refuse", extensions=requires(CONFIRM))
    async def refuse_temporary_assistance(
        self, info: strawberry.Info, input: CaseReasonInput
    ) -> TemporaryAssistancePayload:
        return await _case(
            info,
            "refuseTemporaryAssistance",
            input,
            lambda s: temporary.refuse(
                s, _id(input, TEMP_ID), input.version, reason=input.reason, on=input.on
            ),
            TemporaryAssistancePayload,
            "temporary_by_id",
        )

    @strawberry.mutation(
        description="追回 Book emergency help recovered from its recipient back into the "
        "reserve fund that paid it",
        extensions=requires(FUND),
    )
    async def recover_temporary_assistance(
        self, info: strawberry.Info, input: RecoverTemporaryAssistanceInput
    ) -> TemporaryAssistancePayload:
        return await _case(
            info,
            "recoverTemporaryAssistance",
            input,
            lambda s: temporary.recover(
                s,
                _id(input, TEMP_ID),
                input.version,
                amount_fen=input.amount_fen,
                reason=input.reason,
                on=input.on,
            ),
            TemporaryAssistancePayload,
            "temporary_by_id",
        )

    @strawberry.mutation(
        description="备用金拨付 Top up a township's reserve fund", extensions=requires(FUND)
    )
    async def top_up_reserve_fund(
        self, info: strawberry.Info, input: TopUpReserveFundInput
    ) -> ReserveFundPayload:
        async def work(session: Any) -> dict[str, Any]:
            fund, entry = await temporary.top_up(
                session, input.township_code, input.amount_fen, note=input.note, on=input.on
            )
            return {
                "fund_region": fund.region_code,
                "entry_id": entry.id,
                "region_code": fund.region_code,
            }

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            if result is None:
                return ReserveFundPayload(fund=None, entry=None, errors=errors)
            return ReserveFundPayload(
                fund=_fund(info, result["fund_region"]),  # type: ignore[arg-type]
                entry=_entry(info, result["entry_id"]),  # type: ignore[arg-type]
                errors=errors,
            )

        return await run(
            info,
            "topUpReserveFund",
            work,
            build,  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )

    # ------------------------------------------------------------ near poverty

    @strawberry.mutation(
        description="低保边缘家庭认定 Determine near poverty (opens or ends the enrolment)",
        extensions=requires(APPLY),
    )
    async def determine_near_poverty(
        self, info: strawberry.Info, input: DetermineNearPovertyInput
    ) -> NearPovertyPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await near_poverty.determine(
                session, _pk(input.household_id, "Household", "input.householdId"), on=input.on
            )
            return {"id": row.id, "household_id": row.household_id, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            if result is None:
                return NearPovertyPayload(determination=None, errors=errors)
            return NearPovertyPayload(
                determination=_determination(info, result["id"]),  # type: ignore[arg-type]
                errors=errors,
            )

        return await run(
            info,
            "determineNearPoverty",
            work,
            build,  # type: ignore[no-any-return]
            idempotency_key=input.idempotency_key,
            input_value=input,
        )


async def _fund(info: strawberry.Info, region: str) -> Any:
    from sqlalchemy import select

    rows = await ctx(info).db.scalars(
        select(m.ReserveFund).where(m.ReserveFund.region_code == region)
    )
    return rows[0] if rows else None


async def _entry(info: strawberry.Info, entry_id: int) -> Any:
    return await ctx(info).db.get(m.ReserveFundEntry, entry_id)


async def _determination(info: strawberry.Info, row_id: int) -> Any:
    return await ctx(info).db.get(m.NearPovertyDetermination, row_id)
