"""Mutations: one ``input`` each, a payload with typed errors, nothing written on error."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import strawberry

from minzheng.core.errors import Forbidden, ValidationFailed
from minzheng.core.idnumber import mask_id_number
from minzheng.plugins.disability import imports, services
from minzheng.plugins.disability.models import (
    DisabilityApplication as ApplicationRow,
)
from minzheng.plugins.disability.models import RehabOutcome, RehabServiceKind
from minzheng.plugins.disability.rules import (
    ApplicationState,
    CareServiceType,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
)
from minzheng.plugins.disability.schema.types import (
    DisabilityApplication,
    DisabilityCareArrangement,
    DisabilityCareProvider,
    DisabilityCareRecord,
    DisabilityGrant,
    DisabilityImportReport,
    DisabilityImportRowError,
    DisabilitySubsidyStandard,
    DisabilityVerification,
    DisabilityVerificationCycle,
    RehabilitationEnrolment,
    RehabilitationService,
    loader,
)
from minzheng.schema import ids
from minzheng.schema.errors import UserError
from minzheng.schema.limits import list_size
from minzheng.schema.loaders import later
from minzheng.schema.mutations import run
from minzheng.schema.permissions import requires
from minzheng.schema.pii import PII_READ

APPLY = "disability:apply"
REVIEW = "disability:review"
DECIDE = "disability:decide"
STANDARDS = "disability:standards"
VERIFY = "disability:verify"
SERVICES = "disability:services"

#: who may refuse at each stage: township, federation, civil affairs
REFUSING_PERMISSION = {
    ApplicationState.SUBMITTED: APPLY,
    ApplicationState.ACCEPTED: REVIEW,
    ApplicationState.REVIEWED: DECIDE,
}

IDEMPOTENCY = "幂等键 Same key, same answer, written once"


def _pk(value: strawberry.ID, type_name: str, path: str) -> int:
    return ids.decode(value, expect=type_name, field=path)[1]


def _later(info: strawberry.Info, name: str, result: dict[str, Any] | None, key: str) -> Any:
    """The payload's object, read if selected (None when the mutation failed)."""
    if result is None or result.get(key) is None:
        return None
    return later(loader(info, name), result[key])


Work = Callable[[Any], Awaitable[dict[str, Any]]]


async def _run(
    info: strawberry.Info,
    operation: str,
    work: Work,
    build: Callable[[dict[str, Any] | None, list[UserError]], Any],
    input_value: Any,
) -> Any:
    return await run(
        info,
        operation,
        work,
        build,
        idempotency_key=getattr(input_value, "idempotency_key", None),
        input_value=input_value,
    )


# --------------------------------------------------------------- applications


@strawberry.input(description="提交申请 Apply for a subsidy (at the township)")
class SubmitDisabilityApplicationInput:
    person_id: strawberry.ID = strawberry.field(description="申请人 The applicant")
    subsidy: Subsidy = strawberry.field(description="补贴 The subsidy")
    submitted_on: dt.date | None = strawberry.field(
        default=None, description="申请日期 Default today"
    )
    note: str | None = strawberry.field(default=None, description="备注 Note")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.input(description="办理申请 Take the next step on an application")
class DisabilityApplicationStepInput:
    application_id: strawberry.ID = strawberry.field(description="申请 The application")
    on: dt.date | None = strawberry.field(default=None, description="日期 Default today")
    note: str | None = strawberry.field(default=None, description="意见 Note")
    version: int | None = strawberry.field(default=None, description="版本 The version you saw")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.input(description="不予通过 Refuse an application at its current stage, with reasons")
class RejectDisabilityApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="申请 The application")
    reason: str = strawberry.field(description="理由 Reasons, given to the applicant in writing")
    on: dt.date | None = strawberry.field(default=None, description="日期 Default today")
    version: int | None = strawberry.field(default=None, description="版本 The version you saw")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="申请结果 Result of an application step")
class DisabilityApplicationPayload:
    application: DisabilityApplication | None
    errors: list[UserError]


@strawberry.type(description="审批结果 Result of an approval: the application and the new grant")
class DisabilityApprovalPayload:
    application: DisabilityApplication | None
    grant: DisabilityGrant | None
    errors: list[UserError]


def _application_payload(info: strawberry.Info) -> Any:
    def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
        return DisabilityApplicationPayload(
            application=_later(info, "application_by_id", result, "application_id"), errors=errors
        )

    return build


def _app_step(
    info: strawberry.Info,
    input: DisabilityApplicationStepInput,
    step: Callable[..., Awaitable[Any]],
) -> Work:
    async def work(session: Any) -> dict[str, Any]:
        app = await step(
            session,
            _pk(input.application_id, "DisabilityApplication", "input.applicationId"),
            on=input.on,
            note=input.note,
            expected_version=input.version,
        )
        return {"application_id": app.id, "region_code": app.region_code}

    return work


# --------------------------------------------------------------------- grants


@strawberry.input(description="暂停发放 Suspend a grant")
class SuspendDisabilityGrantInput:
    grant_id: strawberry.ID = strawberry.field(description="补贴 The grant")
    effective_from: dt.date | None = strawberry.field(
        default=None, description="暂停起始 First day not paid; default the first of next month"
    )
    note: str | None = strawberry.field(default=None, description="原因 Why")
    version: int | None = strawberry.field(default=None, description="版本 The version you saw")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.input(description="恢复发放 Resume a suspended grant")
class ResumeDisabilityGrantInput:
    grant_id: strawberry.ID = strawberry.field(description="补贴 The grant")
    effective_from: dt.date | None = strawberry.field(
        default=None,
        description="恢复起始 First day paid again; default per the back-pay setting",
    )
    note: str | None = strawberry.field(default=None, description="说明 Note")
    version: int | None = strawberry.field(default=None, description="版本 The version you saw")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.input(description="终止发放 End a grant")
class EndDisabilityGrantInput:
    grant_id: strawberry.ID = strawberry.field(description="补贴 The grant")
    reason: str = strawberry.field(description="终止原因 Why")
    effective_from: dt.date | None = strawberry.field(
        default=None, description="终止起始 First day not paid; default the first of next month"
    )
    version: int | None = strawberry.field(default=None, description="版本 The version you saw")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.input(description="复核完毕 The review found the grant still due: clear its flag")
class ClearDisabilityGrantReviewInput:
    grant_id: strawberry.ID = strawberry.field(description="补贴 The grant")
    note: str = strawberry.field(description="复核结论 What the review found")
    version: int | None = strawberry.field(default=None, description="版本 The version you saw")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="补贴变更结果 Result of a change to a grant")
class DisabilityGrantPayload:
    grant: DisabilityGrant | None
    errors: list[UserError]


def _grant_payload(info: strawberry.Info) -> Any:
    def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
        return DisabilityGrantPayload(
            grant=_later(info, "grant_by_id", result, "grant_id"), errors=errors
        )

    return build


def _grant_result(grant: Any) -> dict[str, Any]:
    return {"grant_id": grant.id, "region_code": grant.region_code}


# ------------------------------------------------------------------ standards


@strawberry.input(description="设定补贴标准 Add a standard (dynamic adjustment) for a division")
class SetDisabilityStandardInput:
    region_code: str = strawberry.field(description="区划 Division (city, county or township)")
    subsidy: Subsidy = strawberry.field(description="补贴 The subsidy")
    effective_from: dt.date = strawberry.field(description="执行日期 In force from")
    monthly_amount_fen: int = strawberry.field(description="月标准(分) Monthly amount in fen")
    grade: int | None = strawberry.field(default=None, description="残疾等级 Grade; null = all")
    document: str | None = strawberry.field(default=None, description="文号 Document")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="标准设定结果 Result of setting a standard")
class DisabilityStandardPayload:
    standard: DisabilitySubsidyStandard | None
    repriced_grants: int = strawberry.field(
        description="调整人数 Current grants whose amount changes from the effective date"
    )
    errors: list[UserError]


# --------------------------------------------------------------- verification


@strawberry.input(description="开启验证周期 Open a survival-verification cycle for a division")
class OpenDisabilityVerificationCycleInput:
    region_code: str = strawberry.field(description="区划 Division (usually a county)")
    name: str = strawberry.field(description="名称 Name, e.g. 2025年度生存验证")
    opens_on: dt.date = strawberry.field(description="开始 First day")
    deadline: dt.date = strawberry.field(description="截止 Last day a verification is on time")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="验证周期结果 Result of opening a cycle")
class DisabilityVerificationCyclePayload:
    cycle: DisabilityVerificationCycle | None
    errors: list[UserError]


@strawberry.input(description="录入验证结果 Record one verification result")
class RecordDisabilityVerificationInput:
    person_id: strawberry.ID = strawberry.field(description="人员 The person verified")
    method: VerificationMethod = strawberry.field(description="验证方式 Method")
    outcome: VerificationOutcome = strawberry.field(description="验证结果 Outcome")
    verified_at: dt.datetime = strawberry.field(description="验证时间 When")
    source: str | None = strawberry.field(default=None, description="来源 System")
    note: str | None = strawberry.field(default=None, description="备注 Note")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="验证录入结果 Result of recording a verification")
class DisabilityVerificationPayload:
    verification: DisabilityVerification | None
    created: bool = strawberry.field(
        description="新记录 False when the same result was already recorded"
    )
    errors: list[UserError]


class FileEncoding(enum.StrEnum):
    TEXT = "text"
    BASE64 = "base64"


class FileFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


strawberry.enum(
    FileEncoding,
    name="DisabilityFileEncoding",
    description="文件编码 How the file content is sent (XLSX needs BASE64)",
)
strawberry.enum(FileFormat, name="DisabilityFileFormat", description="文件格式 CSV or XLSX")


@strawberry.input(
    description="批量导入验证结果 Import verification results from a CSV or XLSX file "
    "(headings 身份证号, 姓名, 验证方式, 验证结果, 验证时间, 备注)"
)
class ImportDisabilityVerificationsInput:
    content: str = strawberry.field(description="文件内容 The file, as text or base64")
    encoding: FileEncoding = strawberry.field(
        default=FileEncoding.TEXT, description="编码 TEXT (CSV only) or BASE64"
    )
    format: FileFormat | None = strawberry.field(
        default=None, description="格式 Default: from the filename or content"
    )
    filename: str | None = strawberry.field(default=None, description="文件名 File name")
    all_or_nothing: bool = strawberry.field(
        default=False, description="全部或全不 Refuse the whole file if any row is bad"
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="导入结果 Result of an import")
class DisabilityImportPayload:
    report: DisabilityImportReport | None
    errors: list[UserError]


@strawberry.input(description="逾期暂停 Suspend grants not verified by a cycle's deadline")
class SuspendOverdueDisabilityGrantsInput:
    cycle_id: strawberry.ID = strawberry.field(description="周期 The cycle")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="逾期暂停结果 Grants suspended by the deadline sweep")
class SuspendOverdueDisabilityGrantsPayload:
    suspended: list[DisabilityGrant] = strawberry.field(
        description="暂停的补贴 Suspended grants", metadata=list_size(200)
    )
    errors: list[UserError]


def _decode_content(input: ImportDisabilityVerificationsInput) -> bytes:
    if input.encoding is FileEncoding.TEXT:
        if input.format is FileFormat.XLSX:
            raise ValidationFailed(
                "input.encoding", "xlsx_needs_base64", "send XLSX content as BASE64"
            )
        return input.content.encode("utf-8")
    try:
        return base64.b64decode(input.content, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            "input.content", "bad_base64", "content is not valid base64"
        ) from None


# -------------------------------------------------------------- care services


@strawberry.input(description="登记照护服务机构 Register a care provider")
class RegisterDisabilityCareProviderInput:
    region_code: str = strawberry.field(description="区划 Where it is")
    name: str = strawberry.field(description="名称 Name")
    service_types: list[CareServiceType] = strawberry.field(description="服务类型 Types offered")
    address: str | None = strawberry.field(default=None, description="地址 Address")
    phone: str | None = strawberry.field(default=None, description="电话 Phone")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="机构登记结果 Result of registering a provider")
class DisabilityCareProviderPayload:
    provider: DisabilityCareProvider | None
    errors: list[UserError]


@strawberry.input(description="申请照护服务 Enrol an eligible person who asked for care")
class EnrolDisabilityCareServiceInput:
    person_id: strawberry.ID = strawberry.field(description="人员 The person")
    provider_id: strawberry.ID = strawberry.field(description="机构 The provider")
    service_type: CareServiceType = strawberry.field(description="服务类型 Service type")
    consent_on: dt.date = strawberry.field(description="自愿申请日期 Date of the voluntary request")
    family_carer: str = strawberry.field(description="家庭第一照护人 The family's first carer")
    start_on: dt.date | None = strawberry.field(default=None, description="开始 Default today")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="照护服务结果 Result of a change to a care arrangement")
class DisabilityCareArrangementPayload:
    arrangement: DisabilityCareArrangement | None
    errors: list[UserError]


@strawberry.input(description="记录照护服务 Record a care service given")
class RecordDisabilityCareServiceInput:
    arrangement_id: strawberry.ID = strawberry.field(description="照护服务 The arrangement")
    served_on: dt.date = strawberry.field(description="日期 Date")
    hours: Decimal = strawberry.field(description="时长(小时) Hours, up to two decimals")
    provider_id: strawberry.ID | None = strawberry.field(
        default=None, description="机构 Provider, default the arrangement's"
    )
    note: str | None = strawberry.field(default=None, description="备注 Note")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="服务记录结果 Result of recording a care service")
class DisabilityCareRecordPayload:
    record: DisabilityCareRecord | None
    errors: list[UserError]


@strawberry.input(description="结束照护服务 End a care arrangement")
class EndDisabilityCareServiceInput:
    arrangement_id: strawberry.ID = strawberry.field(description="照护服务 The arrangement")
    reason: str = strawberry.field(description="原因 Why")
    on: dt.date | None = strawberry.field(default=None, description="日期 Default today")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


# ------------------------------------------------------------- rehabilitation


@strawberry.input(description="纳入社区康复 Enrol a person in community rehabilitation")
class EnrolRehabilitationInput:
    person_id: strawberry.ID = strawberry.field(description="人员 The person")
    site: str = strawberry.field(description="康复站点 Site")
    enrolled_on: dt.date | None = strawberry.field(default=None, description="日期 Default today")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="康复结果 Result of a change to a rehabilitation enrolment")
class RehabilitationEnrolmentPayload:
    enrolment: RehabilitationEnrolment | None
    errors: list[UserError]


@strawberry.input(description="记录康复服务 Record a rehabilitation service")
class RecordRehabilitationServiceInput:
    enrolment_id: strawberry.ID = strawberry.field(description="康复 The enrolment")
    kind: RehabServiceKind = strawberry.field(description="类别 Kind")
    served_on: dt.date = strawberry.field(description="日期 Date")
    hours: Decimal | None = strawberry.field(default=None, description="时长(小时) Hours")
    outcome: RehabOutcome | None = strawberry.field(default=None, description="效果 Outcome")
    note: str | None = strawberry.field(default=None, description="备注 Note")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


@strawberry.type(description="康复服务结果 Result of recording a rehabilitation service")
class RehabilitationServicePayload:
    service: RehabilitationService | None
    errors: list[UserError]


@strawberry.input(description="结束社区康复 Close a rehabilitation enrolment with its outcome")
class EndRehabilitationInput:
    enrolment_id: strawberry.ID = strawberry.field(description="康复 The enrolment")
    outcome: RehabOutcome = strawberry.field(description="效果 Outcome")
    on: dt.date | None = strawberry.field(default=None, description="日期 Default today")
    note: str | None = strawberry.field(default=None, description="说明 Note")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY)


# ------------------------------------------------------------------- mutation


@strawberry.type
class Mutation:
    # ---------------------------------------------------------- applications

    @strawberry.mutation(
        description="提交两项补贴申请 Submit an application (township)", extensions=requires(APPLY)
    )
    async def submit_disability_application(
        self, info: strawberry.Info, input: SubmitDisabilityApplicationInput
    ) -> DisabilityApplicationPayload:
        async def work(session: Any) -> dict[str, Any]:
            app = await services.submit_application(
                session,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                subsidy=input.subsidy,
                submitted_on=input.submitted_on,
                note=input.note,
            )
            return {"application_id": app.id, "region_code": app.region_code}

        return await _run(  # type: ignore[no-any-return]
            info, "submitDisabilityApplication", work, _application_payload(info), input
        )

    @strawberry.mutation(
        description="乡镇受理 Accept an application (township)", extensions=requires(APPLY)
    )
    async def accept_disability_application(
        self, info: strawberry.Info, input: DisabilityApplicationStepInput
    ) -> DisabilityApplicationPayload:
        return await _run(  # type: ignore[no-any-return]
            info,
            "acceptDisabilityApplication",
            _app_step(info, input, services.accept_application),
            _application_payload(info),
            input,
        )

    @strawberry.mutation(
        description="县残联审核 Pass the review (county disabled persons' federation)",
        extensions=requires(REVIEW),
    )
    async def review_disability_application(
        self, info: strawberry.Info, input: DisabilityApplicationStepInput
    ) -> DisabilityApplicationPayload:
        return await _run(  # type: ignore[no-any-return]
            info,
            "reviewDisabilityApplication",
            _app_step(info, input, services.review_application),
            _application_payload(info),
            input,
        )

    @strawberry.mutation(
        description="县民政审批 Approve (county civil affairs): opens the grant from the first "
        "paid month at the standard in force",
        extensions=requires(DECIDE),
    )
    async def approve_disability_application(
        self, info: strawberry.Info, input: DisabilityApplicationStepInput
    ) -> DisabilityApprovalPayload:
        async def work(session: Any) -> dict[str, Any]:
            app, grant = await services.approve_application(
                session,
                _pk(input.application_id, "DisabilityApplication", "input.applicationId"),
                on=input.on,
                note=input.note,
                expected_version=input.version,
            )
            return {"application_id": app.id, "grant_id": grant.id, "region_code": app.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return DisabilityApprovalPayload(
                application=_later(info, "application_by_id", result, "application_id"),
                grant=_later(info, "grant_by_id", result, "grant_id"),
                errors=errors,
            )

        return await _run(info, "approveDisabilityApplication", work, build, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="不予通过 Refuse at the current stage, with reasons: 不予受理 (township, "
        "disability:apply), 审核不通过 (federation, disability:review), 不予批准 (civil "
        "affairs, disability:decide)",
        extensions=requires(APPLY),
    )
    async def reject_disability_application(
        self, info: strawberry.Info, input: RejectDisabilityApplicationInput
    ) -> DisabilityApplicationPayload:
        async def work(session: Any) -> dict[str, Any]:
            pk = _pk(input.application_id, "DisabilityApplication", "input.applicationId")
            current = await session.get(ApplicationRow, pk)
            needed = REFUSING_PERMISSION.get(current.state) if current is not None else None
            if needed is not None and not info.context.principal.can(needed):
                raise Forbidden(f"refusing at stage {current.state.value} requires {needed}")
            app = await services.reject_application(
                session, pk, reason=input.reason, on=input.on, expected_version=input.version
            )
            return {"application_id": app.id, "region_code": app.region_code}

        return await _run(  # type: ignore[no-any-return]
            info, "rejectDisabilityApplication", work, _application_payload(info), input
        )

    @strawberry.mutation(
        description="撤回申请 Withdraw an application at the applicant's request",
        extensions=requires(APPLY),
    )
    async def withdraw_disability_application(
        self, info: strawberry.Info, input: DisabilityApplicationStepInput
    ) -> DisabilityApplicationPayload:
        return await _run(  # type: ignore[no-any-return]
            info,
            "withdrawDisabilityApplication",
            _app_step(info, input, services.withdraw_application),
            _application_payload(info),
            input,
        )

    # ---------------------------------------------------------------- grants

    @strawberry.mutation(description="暂停发放 Suspend a grant", extensions=requires(DECIDE))
    async def suspend_disability_grant(
        self, info: strawberry.Info, input: SuspendDisabilityGrantInput
    ) -> DisabilityGrantPayload:
        async def work(session: Any) -> dict[str, Any]:
            grant = await services.suspend_grant(
                session,
                _pk(input.grant_id, "DisabilityGrant", "input.grantId"),
                effective_from=input.effective_from,
                note=input.note,
                expected_version=input.version,
            )
            return _grant_result(grant)

        return await _run(info, "suspendDisabilityGrant", work, _grant_payload(info), input)  # type: ignore[no-any-return]

    @strawberry.mutation(description="恢复发放 Resume a grant", extensions=requires(DECIDE))
    async def resume_disability_grant(
        self, info: strawberry.Info, input: ResumeDisabilityGrantInput
    ) -> DisabilityGrantPayload:
        async def work(session: Any) -> dict[str, Any]:
            grant = await services.resume_grant(
                session,
                _pk(input.grant_id, "DisabilityGrant", "input.grantId"),
                effective_from=input.effective_from,
                note=input.note,
                expected_version=input.version,
            )
            return _grant_result(grant)

        return await _run(info, "resumeDisabilityGrant", work, _grant_payload(info), input)  # type: ignore[no-any-return]

    @strawberry.mutation(description="终止发放 End a grant", extensions=requires(DECIDE))
    async def end_disability_grant(
        self, info: strawberry.Info, input: EndDisabilityGrantInput
    ) -> DisabilityGrantPayload:
        async def work(session: Any) -> dict[str, Any]:
            grant = await services.end_grant(
                session,
                _pk(input.grant_id, "DisabilityGrant", "input.grantId"),
                reason=input.reason,
                effective_from=input.effective_from,
                expected_version=input.version,
            )
            return _grant_result(grant)

        return await _run(info, "endDisabilityGrant", work, _grant_payload(info), input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="复核通过 Clear a grant's review flag", extensions=requires(DECIDE)
    )
    async def clear_disability_grant_review(
        self, info: strawberry.Info, input: ClearDisabilityGrantReviewInput
    ) -> DisabilityGrantPayload:
        async def work(session: Any) -> dict[str, Any]:
            grant = await services.clear_review(
                session,
                _pk(input.grant_id, "DisabilityGrant", "input.grantId"),
                note=input.note,
                expected_version=input.version,
            )
            return _grant_result(grant)

        return await _run(info, "clearDisabilityGrantReview", work, _grant_payload(info), input)  # type: ignore[no-any-return]

    # ------------------------------------------------------------- standards

    @strawberry.mutation(
        description="设定补贴标准 Add a standard; current grants it governs are re-priced from "
        "its effective date",
        extensions=requires(STANDARDS),
    )
    async def set_disability_standard(
        self, info: strawberry.Info, input: SetDisabilityStandardInput
    ) -> DisabilityStandardPayload:
        async def work(session: Any) -> dict[str, Any]:
            row, changed = await services.set_standard(
                session,
                region_code=input.region_code,
                subsidy=input.subsidy,
                effective_from=input.effective_from,
                monthly_amount_fen=input.monthly_amount_fen,
                grade=input.grade,
                document=input.document,
            )
            return {"standard_id": row.id, "repriced": changed, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return DisabilityStandardPayload(
                standard=_later(info, "standard_by_id", result, "standard_id"),
                repriced_grants=(result or {}).get("repriced", 0),
                errors=errors,
            )

        return await _run(info, "setDisabilityStandard", work, build, input)  # type: ignore[no-any-return]

    # ---------------------------------------------------------- verification

    @strawberry.mutation(
        description="开启生存验证周期 Open a verification cycle", extensions=requires(DECIDE)
    )
    async def open_disability_verification_cycle(
        self, info: strawberry.Info, input: OpenDisabilityVerificationCycleInput
    ) -> DisabilityVerificationCyclePayload:
        async def work(session: Any) -> dict[str, Any]:
            cycle = await services.open_cycle(
                session,
                region_code=input.region_code,
                name=input.name,
                opens_on=input.opens_on,
                deadline=input.deadline,
            )
            return {"cycle_id": cycle.id, "region_code": cycle.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return DisabilityVerificationCyclePayload(
                cycle=_later(info, "cycle_by_id", result, "cycle_id"), errors=errors
            )

        return await _run(info, "openDisabilityVerificationCycle", work, build, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="录入生存验证结果 Record a verification; a late confirmation resumes "
        "suspended grants",
        extensions=requires(VERIFY),
    )
    async def record_disability_verification(
        self, info: strawberry.Info, input: RecordDisabilityVerificationInput
    ) -> DisabilityVerificationPayload:
        async def work(session: Any) -> dict[str, Any]:
            row, created = await services.record_verification(
                session,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                method=input.method,
                outcome=input.outcome,
                verified_at=input.verified_at,
                source=input.source,
                note=input.note,
            )
            return {"verification_id": row.id, "created": created, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return DisabilityVerificationPayload(
                verification=_later(info, "verification_by_id", result, "verification_id"),
                created=bool((result or {}).get("created")),
                errors=errors,
            )

        return await _run(info, "recordDisabilityVerification", work, build, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="批量导入验证结果 Import a CSV/XLSX file of verification results: each bad "
        "row reported with its line number, good rows applied (or nothing, if all-or-nothing)",
        extensions=requires(VERIFY),
    )
    async def import_disability_verifications(
        self, info: strawberry.Info, input: ImportDisabilityVerificationsInput
    ) -> DisabilityImportPayload:
        async def work(session: Any) -> dict[str, Any]:
            content = _decode_content(input)
            report = await imports.import_verifications(
                session,
                content,
                filename=input.filename,
                file_format=input.format.value if input.format else None,
                all_or_nothing=input.all_or_nothing,
            )
            return {
                "rows": report.rows,
                "applied": report.applied,
                "unchanged": report.unchanged,
                "refused": report.refused,
                "errors": [
                    {"line": e.line, "reason": e.reason, "id_number": e.id_number}
                    for e in report.errors
                ],
            }

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            if result is None:
                return DisabilityImportPayload(report=None, errors=errors)
            show = info.context.principal.can(PII_READ)
            return DisabilityImportPayload(
                report=DisabilityImportReport(
                    rows=result["rows"],
                    applied=result["applied"],
                    unchanged=result["unchanged"],
                    refused=result["refused"],
                    errors=[
                        DisabilityImportRowError(
                            line=e["line"],
                            reason=e["reason"],
                            id_number=_shown(e["id_number"], show),
                        )
                        for e in result["errors"]
                    ],
                ),
                errors=errors,
            )

        return await _run(info, "importDisabilityVerifications", work, build, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="逾期暂停 Suspend every grant under a cycle not verified by its deadline "
        "(from the month after; idempotent)",
        extensions=requires(DECIDE),
    )
    async def suspend_overdue_disability_grants(
        self, info: strawberry.Info, input: SuspendOverdueDisabilityGrantsInput
    ) -> SuspendOverdueDisabilityGrantsPayload:
        async def work(session: Any) -> dict[str, Any]:
            grants = await services.suspend_overdue(
                session, _pk(input.cycle_id, "DisabilityVerificationCycle", "input.cycleId")
            )
            return {"grant_ids": [g.id for g in grants]}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            ids_ = (result or {}).get("grant_ids", [])
            return SuspendOverdueDisabilityGrantsPayload(
                suspended=[loader(info, "grant_by_id").load(i) for i in ids_], errors=errors
            )

        return await _run(info, "suspendOverdueDisabilityGrants", work, build, input)  # type: ignore[no-any-return]

    # ---------------------------------------------------------- care services

    @strawberry.mutation(
        description="登记照护服务机构 Register a care provider", extensions=requires(SERVICES)
    )
    async def register_disability_care_provider(
        self, info: strawberry.Info, input: RegisterDisabilityCareProviderInput
    ) -> DisabilityCareProviderPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await services.register_provider(
                session,
                region_code=input.region_code,
                name=input.name,
                service_types=list(input.service_types),
                address=input.address,
                phone=input.phone,
            )
            return {"provider_id": row.id, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return DisabilityCareProviderPayload(
                provider=_later(info, "provider_by_id", result, "provider_id"), errors=errors
            )

        return await _run(info, "registerDisabilityCareProvider", work, build, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="纳入照护服务 Enrol an eligible person in a care service (voluntary)",
        extensions=requires(SERVICES),
    )
    async def enrol_disability_care_service(
        self, info: strawberry.Info, input: EnrolDisabilityCareServiceInput
    ) -> DisabilityCareArrangementPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await services.enrol_care_service(
                session,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                provider_id=_pk(input.provider_id, "DisabilityCareProvider", "input.providerId"),
                service_type=input.service_type,
                consent_on=input.consent_on,
                family_carer=input.family_carer,
                start_on=input.start_on,
            )
            return {"arrangement_id": row.id, "region_code": row.region_code}

        return await _run(  # type: ignore[no-any-return]
            info, "enrolDisabilityCareService", work, _arrangement_payload(info), input
        )

    @strawberry.mutation(
        description="记录照护服务 Record a care service given", extensions=requires(SERVICES)
    )
    async def record_disability_care_service(
        self, info: strawberry.Info, input: RecordDisabilityCareServiceInput
    ) -> DisabilityCareRecordPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await services.record_care_service(
                session,
                arrangement_id=_pk(
                    input.arrangement_id, "DisabilityCareArrangement", "input.arrangementId"
                ),
                served_on=input.served_on,
                hours=input.hours,
                provider_id=_pk(input.provider_id, "DisabilityCareProvider", "input.providerId")
                if input.provider_id
                else None,
                note=input.note,
            )
            return {"record_id": row.id, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return DisabilityCareRecordPayload(
                record=_later(info, "care_record_by_id", result, "record_id"), errors=errors
            )

        return await _run(info, "recordDisabilityCareService", work, build, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="结束照护服务 End a care arrangement", extensions=requires(SERVICES)
    )
    async def end_disability_care_service(
        self, info: strawberry.Info, input: EndDisabilityCareServiceInput
    ) -> DisabilityCareArrangementPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await services.end_care_service(
                session,
                _pk(input.arrangement_id, "DisabilityCareArrangement", "input.arrangementId"),
                reason=input.reason,
                on=input.on,
            )
            return {"arrangement_id": row.id, "region_code": row.region_code}

        return await _run(  # type: ignore[no-any-return]
            info, "endDisabilityCareService", work, _arrangement_payload(info), input
        )

    # --------------------------------------------------------- rehabilitation

    @strawberry.mutation(
        description="纳入社区康复 Enrol a person in community rehabilitation",
        extensions=requires(SERVICES),
    )
    async def enrol_rehabilitation(
        self, info: strawberry.Info, input: EnrolRehabilitationInput
    ) -> RehabilitationEnrolmentPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await services.enrol_rehabilitation(
                session,
                person_id=_pk(input.person_id, "Person", "input.personId"),
                site=input.site,
                enrolled_on=input.enrolled_on,
            )
            return {"enrolment_id": row.id, "region_code": row.region_code}

        return await _run(info, "enrolRehabilitation", work, _rehab_payload(info), input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="记录康复服务 Record a rehabilitation service", extensions=requires(SERVICES)
    )
    async def record_rehabilitation_service(
        self, info: strawberry.Info, input: RecordRehabilitationServiceInput
    ) -> RehabilitationServicePayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await services.record_rehab_service(
                session,
                enrolment_id=_pk(
                    input.enrolment_id, "RehabilitationEnrolment", "input.enrolmentId"
                ),
                kind=input.kind,
                served_on=input.served_on,
                hours=input.hours,
                outcome=input.outcome,
                note=input.note,
            )
            return {"service_id": row.id, "region_code": row.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return RehabilitationServicePayload(
                service=_later(info, "rehab_service_by_id", result, "service_id"), errors=errors
            )

        return await _run(info, "recordRehabilitationService", work, build, input)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="结束社区康复 Close a rehabilitation enrolment", extensions=requires(SERVICES)
    )
    async def end_rehabilitation(
        self, info: strawberry.Info, input: EndRehabilitationInput
    ) -> RehabilitationEnrolmentPayload:
        async def work(session: Any) -> dict[str, Any]:
            row = await services.end_rehabilitation(
                session,
                _pk(input.enrolment_id, "RehabilitationEnrolment", "input.enrolmentId"),
                outcome=input.outcome,
                on=input.on,
                note=input.note,
            )
            return {"enrolment_id": row.id, "region_code": row.region_code}

        return await _run(info, "endRehabilitation", work, _rehab_payload(info), input)  # type: ignore[no-any-return]


def _shown(id_number: str | None, show: bool) -> str | None:
    if not id_number or show:
        return id_number
    return mask_id_number(id_number) if len(id_number) == 18 else "****"


def _arrangement_payload(info: strawberry.Info) -> Any:
    def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
        return DisabilityCareArrangementPayload(
            arrangement=_later(info, "arrangement_by_id", result, "arrangement_id"), errors=errors
        )

    return build


def _rehab_payload(info: strawberry.Info) -> Any:
    def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
        return RehabilitationEnrolmentPayload(
            enrolment=_later(info, "rehab_by_id", result, "enrolment_id"), errors=errors
        )

    return build
