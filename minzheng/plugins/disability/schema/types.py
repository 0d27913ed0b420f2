"""GraphQL types of the disability plugin.  Resolvers receive ORM rows as ``self``;
scalar fields are attribute reads, relations go through the request's dataloaders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from minzheng.core.models import DisabilityCategory
from minzheng.plugins.disability import rules
from minzheng.plugins.disability.models import (
    RehabOutcome,
    RehabServiceKind,
    SuspensionReason,
)
from minzheng.plugins.disability.rules import (
    ApplicationState,
    CareServiceType,
    GrantStatus,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
    VerificationState,
)
from minzheng.schema import ids
from minzheng.schema.direct import direct
from minzheng.schema.limits import list_size
from minzheng.schema.pii import is_small, small_cell, small_cell_amount, small_cells

LAZY = "minzheng.schema.composed"
PersonRef = Annotated["Person", strawberry.lazy(LAZY)]  # type: ignore[name-defined]  # noqa: F821
RegionRef = Annotated["Region", strawberry.lazy(LAZY)]  # type: ignore[name-defined]  # noqa: F821

for _enum, _name, _description in (
    (Subsidy, "DisabilitySubsidy", "两项补贴 The two disability subsidies"),
    (ApplicationState, "DisabilityApplicationState", "申请状态 State of an application"),
    (GrantStatus, "DisabilityGrantStatus", "发放状态 Status of a grant"),
    (SuspensionReason, "DisabilitySuspensionReason", "暂停原因 Why a grant is suspended"),
    (VerificationMethod, "DisabilityVerificationMethod", "验证方式 Verification method"),
    (VerificationOutcome, "DisabilityVerificationOutcome", "验证结果 Verification outcome"),
    (VerificationState, "DisabilityVerificationState", "验证进度 Where a person stands in a cycle"),
    (CareServiceType, "DisabilityCareServiceType", "照护服务类型 Care service type"),
    (RehabServiceKind, "RehabilitationServiceKind", "康复服务类别 Kind of rehabilitation service"),
    (RehabOutcome, "RehabilitationOutcome", "康复效果 Outcome of rehabilitation"),
):
    strawberry.enum(_enum, name=_name, description=_description)


def loader(info: strawberry.Info, name: str) -> Any:
    return info.context.loaders[f"disability.{name}"]


def _gid(type_name: str, row: Any) -> strawberry.ID:
    return strawberry.ID(ids.encode(type_name, row.id))


def _hours(hundredths: int | None) -> Decimal | None:
    return None if hundredths is None else Decimal(hundredths) / 100


# ---------------------------------------------------------------- eligibility


@strawberry.type(description="资格条件 One condition of a rule, with its verdict")
class DisabilityEligibilityCondition:
    code: str = strawberry.field(description="条件代码 Condition code (age, hukou, grade …)")
    title: str = strawberry.field(description="条件 The condition, in Chinese")
    met: bool = strawberry.field(description="是否满足 Whether the case meets it")
    detail: str = strawberry.field(description="说明 Why, with the facts used")


@strawberry.type(description="资格判定 Eligibility under a rule: every condition with its verdict")
class DisabilityEligibility:
    rule: str = strawberry.field(description="规则 living_subsidy, care_subsidy or care_service")
    eligible: bool = strawberry.field(description="符合条件 Eligible (all conditions met)")
    conditions: list[DisabilityEligibilityCondition] = strawberry.field(
        description="各项条件 Each condition with its verdict", metadata=list_size(6)
    )

    @classmethod
    def of(cls, verdict: rules.Verdict) -> DisabilityEligibility:
        return cls(
            rule=verdict.rule,
            eligible=verdict.eligible,
            conditions=[
                DisabilityEligibilityCondition(
                    code=c.code, title=c.title, met=c.met, detail=c.detail
                )
                for c in verdict.conditions
            ],
        )

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DisabilityEligibility | None:
        if not data:
            return None
        return cls(
            rule=data["rule"],
            eligible=bool(data["eligible"]),
            conditions=[DisabilityEligibilityCondition(**c) for c in data["conditions"]],
        )


@strawberry.type(description="补贴资格 Eligibility for one subsidy today")
class DisabilitySubsidyEligibility:
    subsidy: Subsidy = strawberry.field(description="补贴 The subsidy")
    eligibility: DisabilityEligibility = strawberry.field(description="资格判定 The verdict")
    monthly_amount_fen: int | None = strawberry.field(
        description="标准(分) The standard in force for this person, in fen, if any"
    )


# ------------------------------------------------------------------ standards


@strawberry.type(description="补贴标准 One row of a division's subsidy standards history")
class DisabilitySubsidyStandard:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("DisabilitySubsidyStandard", self)

    region_code: str = strawberry.field(description="区划代码 Division it applies to (and below)")
    subsidy: Subsidy = strawberry.field(description="补贴 The subsidy")
    grade: int | None = strawberry.field(description="残疾等级 Grade, or null for every grade")
    effective_from: dt.date = strawberry.field(description="执行日期 In force from")
    monthly_amount_fen: int = strawberry.field(description="月标准(分) Monthly amount in fen")
    document: str | None = strawberry.field(description="文号 The document that set it")
    created_by: str | None = strawberry.field(description="录入人 Who entered it")


@strawberry.type(description="适用标准 The standard that applies, and why")
class DisabilityStandardInForce:
    standard: DisabilitySubsidyStandard = strawberry.field(description="标准 The row")
    inherited: bool = strawberry.field(description="继承上级 Inherited from an enclosing division")
    detail: str = strawberry.field(description="说明 Which division's standard, since when")


# --------------------------------------------------------------- applications


@strawberry.type(description="办理环节 One step of an application's history")
class DisabilityApplicationStep:
    action: str = strawberry.field(description="动作 submit, accept, review, approve, reject …")
    from_state: str | None = strawberry.field(description="原状态 State before")
    to_state: str = strawberry.field(description="新状态 State after")
    on: dt.date = strawberry.field(description="日期 Date of the step")
    actor: str = strawberry.field(description="经办人 Who took it")
    note: str | None = strawberry.field(description="意见 Note or reasons")


@strawberry.type(
    description="两项补贴申请 An application: township acceptance → county disabled persons' "
    "federation review → county civil-affairs decision"
)
class DisabilityApplication:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("DisabilityApplication", self)

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,return-value]

    subsidy: Subsidy = strawberry.field(description="补贴 The subsidy applied for")
    state: ApplicationState = strawberry.field(description="状态 State")
    submitted_on: dt.date = strawberry.field(description="申请日期 Submitted on")
    accepted_on: dt.date | None = strawberry.field(description="乡镇受理 Accepted by the township")
    reviewed_on: dt.date | None = strawberry.field(
        description="残联审核 Reviewed by the federation"
    )
    decided_on: dt.date | None = strawberry.field(
        description="决定日期 Decided, refused or withdrawn"
    )
    refused_at_stage: ApplicationState | None = strawberry.field(
        description="拒绝环节 The stage at which it was refused (which body refused)"
    )
    refusal_reason: str | None = strawberry.field(description="不予通过理由 Reasons for refusal")
    note: str | None = strawberry.field(description="备注 Note")
    region_code: str = strawberry.field(description="区划代码 Hukou region of the applicant")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="申请人 The applicant")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await info.context.loaders["person_by_id"].load(self.person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="审批时资格 The eligibility verdict at the decision")
    @direct
    def eligibility(self) -> DisabilityEligibility | None:
        return DisabilityEligibility.from_json(self.verdict)  # type: ignore[attr-defined]

    @strawberry.field(description="办理过程 Steps, oldest first", metadata=list_size(6))
    @direct
    async def steps(self, info: strawberry.Info) -> list[DisabilityApplicationStep]:
        return await loader(info, "steps_by_application").load(self.id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="核发的补贴 The grant the approval opened")
    @direct
    async def grant(self, info: strawberry.Info) -> DisabilityGrant | None:
        return await loader(info, "grant_by_application").load(self.id)  # type: ignore[attr-defined,no-any-return]


@strawberry.type(
    description="补贴发放 A subsidy granted to a person, paid monthly through payroll "
    "(mirrored in core enrolments)"
)
class DisabilityGrant:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("DisabilityGrant", self)

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,return-value]

    subsidy: Subsidy = strawberry.field(description="补贴 The subsidy")
    status: GrantStatus = strawberry.field(description="状态 Status")
    approved_on: dt.date = strawberry.field(description="批准日期 Approved on")
    start_on: dt.date = strawberry.field(description="起发日期 First day paid")
    end_on: dt.date | None = strawberry.field(description="终止日期 Last day covered")
    end_reason: str | None = strawberry.field(description="终止原因 Why it ended")
    category: DisabilityCategory | None = strawberry.field(description="残疾类别 Category")
    grade: int | None = strawberry.field(description="残疾等级 Grade the amount is based on")
    monthly_amount_fen: int = strawberry.field(
        description="月发放额(分) Monthly amount in fen in force today (before payment "
        "starts: of the first month); later changes are planned enrolment periods"
    )
    suspended_from: dt.date | None = strawberry.field(description="暂停起始 Suspended from")
    suspension_reason: SuspensionReason | None = strawberry.field(description="暂停原因")
    review_flag: bool = strawberry.field(description="待复核 Flagged for a caseworker's review")
    review_reason: str | None = strawberry.field(description="复核原因 Why it was flagged")
    flagged_on: dt.date | None = strawberry.field(description="标记日期 Flagged on")
    region_code: str = strawberry.field(description="发放地 Region that pays it (hukou)")
    version: int = strawberry.field(description="版本 Version for optimistic locking")

    @strawberry.field(description="享受人 The recipient")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await info.context.loaders["person_by_id"].load(self.person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="发放地 Region that pays it")
    @direct
    async def region(self, info: strawberry.Info) -> RegionRef | None:
        return await info.context.loaders["region_by_code"].load(self.region_code)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="申请 The application it came from")
    @direct
    async def application(self, info: strawberry.Info) -> DisabilityApplication | None:
        app_id = self.application_id  # type: ignore[attr-defined]
        return await loader(info, "application_by_id").load(app_id) if app_id else None


# --------------------------------------------------------------- verification


@strawberry.type(description="生存验证周期 A survival-verification window for a division")
class DisabilityVerificationCycle:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("DisabilityVerificationCycle", self)

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,return-value]

    name: str = strawberry.field(description="名称 Name")
    region_code: str = strawberry.field(description="区划代码 Division it covers")
    opens_on: dt.date = strawberry.field(description="开始 First day")
    deadline: dt.date = strawberry.field(description="截止 Last day a verification is on time")
    swept_on: dt.date | None = strawberry.field(
        description="暂停处理 When unverified grants were last suspended"
    )

    @strawberry.field(description="进行中 Open today (between opening and deadline)")
    @direct
    def in_progress(self) -> bool:
        today = dt.date.today()
        return self.opens_on <= today <= self.deadline  # type: ignore[operator]


@strawberry.type(description="验证记录 One verification result for a person")
class DisabilityVerification:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("DisabilityVerification", self)

    method: VerificationMethod = strawberry.field(description="验证方式 Method")
    outcome: VerificationOutcome = strawberry.field(description="验证结果 Outcome")
    verified_at: dt.datetime = strawberry.field(description="验证时间 When")
    source: str | None = strawberry.field(description="来源 System or file")
    note: str | None = strawberry.field(description="备注 Note")
    recorded_by: str = strawberry.field(description="录入人 Who recorded it")

    @strawberry.field(description="人员 The person verified")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await info.context.loaders["person_by_id"].load(self.person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="所属周期 The cycle it counts for")
    @direct
    async def cycle(self, info: strawberry.Info) -> DisabilityVerificationCycle | None:
        cid = self.cycle_id  # type: ignore[attr-defined]
        return await loader(info, "cycle_by_id").load(cid) if cid else None


@strawberry.type(description="导入错误 A refused row of an import file")
class DisabilityImportRowError:
    line: int = strawberry.field(description="行号 Line number (the header is line 1)")
    reason: str = strawberry.field(description="原因 Why the row was refused")
    id_number: str | None = strawberry.field(
        description="身份证号 The row's ID number (masked without pii:read)"
    )


@strawberry.type(description="导入结果 What an import did")
class DisabilityImportReport:
    rows: int = strawberry.field(description="数据行 Data rows read (blank lines skipped)")
    applied: int = strawberry.field(description="已写入 Results recorded")
    unchanged: int = strawberry.field(description="已存在 Results already recorded")
    refused: bool = strawberry.field(
        description="整体拒绝 All-or-nothing was asked and a row failed: nothing written"
    )
    errors: list[DisabilityImportRowError] = strawberry.field(
        description="错误行 Each refused row with its line number and reason",
        metadata=list_size(100),
    )


# -------------------------------------------------------------- care services


@strawberry.type(description="照护服务机构 A provider of care services")
class DisabilityCareProvider:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("DisabilityCareProvider", self)

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,return-value]

    name: str = strawberry.field(description="名称 Name")
    region_code: str = strawberry.field(description="区划代码 Where it is")
    address: str | None = strawberry.field(description="地址 Address")
    phone: str | None = strawberry.field(description="电话 Phone")
    active: bool = strawberry.field(description="运营中 Active")

    @strawberry.field(description="服务类型 Service types offered")
    @direct
    def service_types(self) -> list[CareServiceType]:
        return [CareServiceType(t) for t in self.service_types]  # type: ignore[attr-defined]


@strawberry.type(description="照护服务记录 One service given: date, hours, provider")
class DisabilityCareRecord:
    served_on: dt.date = strawberry.field(description="服务日期 Date")
    note: str | None = strawberry.field(description="备注 Note")
    recorded_by: str = strawberry.field(description="录入人 Who recorded it")

    @strawberry.field(description="时长(小时) Hours")
    @direct
    def hours(self) -> Decimal:
        return _hours(self.hours_hundredths)  # type: ignore[attr-defined,return-value]

    @strawberry.field(description="服务机构 Provider")
    @direct
    async def provider(self, info: strawberry.Info) -> DisabilityCareProvider | None:
        return await loader(info, "provider_by_id").load(self.provider_id)  # type: ignore[attr-defined,no-any-return]


@strawberry.type(
    description="照护服务 A person's voluntary care arrangement (集中照料/日间服务/邻里照护); "
    "the family stays the first carer"
)
class DisabilityCareArrangement:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("DisabilityCareArrangement", self)

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,return-value]

    service_type: CareServiceType = strawberry.field(description="服务类型 Service type")
    start_on: dt.date = strawberry.field(description="开始 Start")
    end_on: dt.date | None = strawberry.field(description="结束 End")
    end_reason: str | None = strawberry.field(description="结束原因 Why it ended")
    consent_on: dt.date = strawberry.field(description="自愿申请日期 Date of the voluntary request")
    family_carer: str = strawberry.field(description="家庭第一照护人 The family's first carer")

    @strawberry.field(description="人员 The person cared for")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await info.context.loaders["person_by_id"].load(self.person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="服务机构 Provider")
    @direct
    async def provider(self, info: strawberry.Info) -> DisabilityCareProvider | None:
        return await loader(info, "provider_by_id").load(self.provider_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="入住时资格 Eligibility verdict when enrolled")
    @direct
    def eligibility(self) -> DisabilityEligibility | None:
        return DisabilityEligibility.from_json(self.verdict)  # type: ignore[attr-defined]

    @strawberry.field(description="服务记录 Services given, oldest first", metadata=list_size(12))
    @direct
    async def records(self, info: strawberry.Info) -> list[DisabilityCareRecord]:
        return await loader(info, "care_records_by_arrangement").load(self.id)  # type: ignore[attr-defined,no-any-return]


# ------------------------------------------------------------- rehabilitation


@strawberry.type(description="康复服务 One community rehabilitation service, with its outcome")
class RehabilitationService:
    kind: RehabServiceKind = strawberry.field(
        description="类别 Social skills, work skills, counselling"
    )
    served_on: dt.date = strawberry.field(description="日期 Date")
    outcome: RehabOutcome | None = strawberry.field(description="效果 Outcome")
    note: str | None = strawberry.field(description="备注 Note")
    recorded_by: str = strawberry.field(description="录入人 Who recorded it")

    @strawberry.field(description="时长(小时) Hours, if recorded")
    @direct
    def hours(self) -> Decimal | None:
        return _hours(self.hours_hundredths)  # type: ignore[attr-defined]


@strawberry.type(
    description="精神障碍社区康复 Enrolment in community rehabilitation for mental disorders"
)
class RehabilitationEnrolment:
    @strawberry.field(description="全局ID Global ID")
    @direct
    def id(self) -> strawberry.ID:
        return _gid("RehabilitationEnrolment", self)

    @strawberry.field(description="数据库编号 Database key")
    @direct
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,return-value]

    site: str = strawberry.field(description="康复站点 Site")
    rural: bool = strawberry.field(description="农村 The person lives in a rural area")
    enrolled_on: dt.date = strawberry.field(description="入组日期 Enrolled on")
    ended_on: dt.date | None = strawberry.field(description="结案日期 Ended on")
    outcome: RehabOutcome | None = strawberry.field(description="结案效果 Outcome at the end")
    end_note: str | None = strawberry.field(description="结案说明 Note at the end")

    @strawberry.field(description="人员 The person")
    @direct
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await info.context.loaders["person_by_id"].load(self.person_id)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(description="服务记录 Services, oldest first", metadata=list_size(12))
    @direct
    async def services(self, info: strawberry.Info) -> list[RehabilitationService]:
        return await loader(info, "rehab_services_by_enrolment").load(self.id)  # type: ignore[attr-defined,no-any-return]


# ----------------------------------------------------------- on core types


@strawberry.type(
    description="两项补贴 A person's disability subsidies: grants, applications, eligibility"
)
class PersonDisabilitySubsidies:
    person_id: strawberry.Private[int]

    @strawberry.field(description="补贴 Grants, newest first", metadata=list_size(4))
    @direct
    async def grants(
        self, info: strawberry.Info, current_only: bool = True
    ) -> list[DisabilityGrant]:
        rows = await loader(info, "grants_by_person").load(self.person_id)
        if current_only:
            rows = [r for r in rows if r.status is not GrantStatus.ENDED]
        return rows  # type: ignore[no-any-return]

    @strawberry.field(description="申请 Applications, newest first", metadata=list_size(4))
    @direct
    async def applications(
        self, info: strawberry.Info, open_only: bool = False
    ) -> list[DisabilityApplication]:
        rows = await loader(info, "applications_by_person").load(self.person_id)
        if open_only:
            open_states = {
                ApplicationState.SUBMITTED,
                ApplicationState.ACCEPTED,
                ApplicationState.REVIEWED,
            }
            rows = [r for r in rows if r.state in open_states]
        return rows  # type: ignore[no-any-return]

    @strawberry.field(
        description="资格 Eligibility today for each subsidy, with reasons",
        metadata=list_size(len(Subsidy)),
    )
    @direct
    async def eligibility(self, info: strawberry.Info) -> list[DisabilitySubsidyEligibility]:
        return await loader(info, "subsidy_eligibility_by_person").load(self.person_id)  # type: ignore[no-any-return]

    @strawberry.field(
        description="生存验证 Verification results, newest first", metadata=list_size(6)
    )
    @direct
    async def verifications(self, info: strawberry.Info) -> list[DisabilityVerification]:
        return await loader(info, "verifications_by_person").load(self.person_id)  # type: ignore[no-any-return]


@strawberry.type(description="按补贴统计 Figures for one subsidy (null: small cell)")
class DisabilitySubsidyFigures:
    subsidy: Subsidy = strawberry.field(description="补贴 The subsidy")
    recipients: int | None = strawberry.field(description="享受人数 Persons paid for the month")
    monthly_total_fen: int | None = strawberry.field(
        description="月发放总额(分) Month's total in fen"
    )


@strawberry.type(
    description="残疾人统计 Disability figures for a division and month; counts from 1 to "
    "the small-cell threshold are null without pii:read"
)
class DisabilityFigures:
    figures: strawberry.Private[Any]

    @strawberry.field(description="月份 First day of the month counted")
    @direct
    def month(self) -> dt.date:
        return self.figures.month  # type: ignore[no-any-return]

    @strawberry.field(
        description="分补贴 Recipients and totals per subsidy (shown separately)",
        metadata=list_size(len(Subsidy)),
    )
    @direct
    def subsidies(self, info: strawberry.Info) -> list[DisabilitySubsidyFigures]:
        rows = self.figures.subsidies
        shown = small_cells(info, [f.recipients for f in rows], field="recipients")
        return [
            DisabilitySubsidyFigures(
                subsidy=f.subsidy,
                recipients=n,
                monthly_total_fen=f.monthly_total_fen
                if n is not None or not f.recipients
                else None,
            )
            for f, n in zip(rows, shown, strict=True)
        ]

    @strawberry.field(description="合计(分) Both subsidies, in fen")
    @direct
    def monthly_total_fen(self, info: strawberry.Info) -> int | None:
        rows = self.figures.subsidies
        return small_cell_amount(
            info, sum(f.monthly_total_fen for f in rows), sum(f.recipients for f in rows)
        )

    @strawberry.field(
        description="应验证人数 Recipients under a verification cycle that has opened"
    )
    @direct
    def verification_covered(self, info: strawberry.Info) -> int | None:
        return small_cell(info, self.figures.verification_covered)

    @strawberry.field(description="已验证人数 Of those, verified since the cycle opened")
    @direct
    def verification_verified(self, info: strawberry.Info) -> int | None:
        return small_cell(info, self.figures.verification_verified)

    @strawberry.field(
        description="验证率 Verified ÷ covered in the current cycle (null when none are "
        "covered, or a small cell)"
    )
    @direct
    def verification_rate(self, info: strawberry.Info) -> float | None:
        f = self.figures
        if is_small(info.context, f.verification_covered) or is_small(
            info.context, f.verification_verified
        ):
            return None
        return f.verification_rate  # type: ignore[no-any-return]

    @strawberry.field(description="暂停发放 Grants suspended")
    @direct
    def suspended_grants(self, info: strawberry.Info) -> int | None:
        return small_cell(info, self.figures.suspended_grants)

    @strawberry.field(description="待复核 Grants flagged for review")
    @direct
    def flagged_grants(self, info: strawberry.Info) -> int | None:
        return small_cell(info, self.figures.flagged_grants)

    @strawberry.field(
        description="应享未享 Persons who appear eligible but have no grant or application"
    )
    @direct
    def eligible_not_enrolled(self, info: strawberry.Info) -> int | None:
        return small_cell(info, self.figures.eligible_not_enrolled)
