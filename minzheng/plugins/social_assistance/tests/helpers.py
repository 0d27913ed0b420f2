"""Driving 社会救助 through the graph in tests."""

from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from minzheng.core.db import session_factory, transaction
from minzheng.core.models import HouseholdIncome, IncomeSource
from minzheng.core.scope import SYSTEM
from minzheng.schema import ids

TODAY = dt.date.today()
THIS_MONTH = TODAY.replace(day=1)
COUNTY = "410823"  # 武陟县
VILLAGE = "410823101201"  # rural
TOWNSHIP = "410823101000"
RURAL_STD = 50_000  # 500.00 yuan


def months_ago(n: int) -> dt.date:
    y, m = divmod(THIS_MONTH.month - 1 - n, 12)
    return dt.date(THIS_MONTH.year + y, m + 1, 1)


def gid(type_name: str, pk: int) -> str:
    return ids.encode(type_name, pk)


SET_STANDARD = """
mutation($input: SetSocialAssistanceStandardInput!) {
  setSocialAssistanceStandard(input: $input) {
    standard { id regionCode area effectiveFrom minimumLivingStandardFen phaseOutMaxMonths }
    errors { __typename code message ... on ValidationError { field } }
  }
}
"""


async def set_standard(
    api: Any,
    region: str = COUNTY,
    area: str = "RURAL",
    effective_from: str = "2020-01-01",
    dibao: int = RURAL_STD,
    **extra: Any,
) -> dict[str, Any]:
    values = {
        "regionCode": region,
        "area": area,
        "effectiveFrom": effective_from,
        "minimumLivingStandardFen": dibao,
        "extremePovertyBasicFen": int(dibao * 1.3),
        "careSelfSufficientFen": 10_000,
        "carePartlyDependentFen": 40_000,
        "careFullyDependentFen": 90_000,
        "temporaryTownshipLimitFen": 200_000,
        **extra,
    }
    data = await api.gql(SET_STANDARD, {"input": values})
    return data["setSocialAssistanceStandard"]  # type: ignore[no-any-return]


@asynccontextmanager
async def db(api: Any) -> Any:
    async with transaction(session_factory(api.engine), principal=SYSTEM) as session:
        yield session


async def monthly_income(
    api: Any,
    household_pk: int,
    fen: int,
    *,
    months: int = 24,
    person_pk: int | None = None,
    source: IncomeSource = IncomeSource.WAGES,
    cost: int = 0,
) -> None:
    """One record per calendar month for the ``months`` months before this one."""
    async with db(api) as s:
        from minzheng.core.models import Household

        hh = await s.get(Household, household_pk)
        for n in range(1, months + 1):
            start = months_ago(n)
            end = months_ago(n - 1) - dt.timedelta(days=1)
            row = HouseholdIncome(
                household_id=household_pk,
                person_id=person_pk,
                source=source,
                period_start=start,
                period_end=end,
                amount_fen=fen,
                employment_cost_fen=cost,
            )
            row.place(hh.region_code)
            s.add(row)


async def count(api: Any, model: Any, *where: Any) -> int:
    from sqlalchemy import func

    async with db(api) as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


CASE_FIELDS = """
  id pk number status version monthlyAmountFen perCapitaIncomeFen paymentFrom dueOn overdue
  extended objectionCount decisionLevel noticePostedOn noticeEndsOn flaggedReviewOn
  flaggedReason nextReviewOn closeReason refusalReason
  coveredMembers { person { pk name } removedOn }
  phaseOut { firstMonth lastMonth monthNumber }
  deadlines { step dueOn doneOn overdue }
"""

ERRORS = """errors { __typename code message
  ... on ValidationError { field }
  ... on ConflictError { currentVersion }
  ... on IllegalTransitionError { state action } }"""


def mutation(name: str, input_type: str, case_fields: str = CASE_FIELDS) -> str:
    return f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ case {{ {case_fields} }} {ERRORS} }}
}}
"""


APPLY = mutation("applyForMinimumLivingGuarantee", "ApplyForMinimumLivingGuaranteeInput")
START = mutation("startMinimumLivingGuaranteeInvestigation", "CaseStepInput")
OPINION = mutation(
    "submitMinimumLivingGuaranteeOpinion", "SubmitMinimumLivingGuaranteeOpinionInput"
)
OBJECTION = mutation(
    "recordMinimumLivingGuaranteeObjection", "RecordMinimumLivingGuaranteeObjectionInput"
)
CLOSE_NOTICE = mutation("closeMinimumLivingGuaranteeNotice", "CaseStepInput")
APPROVE = mutation("approveMinimumLivingGuarantee", "CaseStepInput")
REFUSE = mutation("refuseMinimumLivingGuarantee", "CaseReasonInput")
CLOSE = mutation("closeMinimumLivingGuarantee", "CaseReasonInput")
WITHDRAW = mutation("withdrawMinimumLivingGuarantee", "CaseReasonInput")
REVIEW = f"""
mutation($input: CaseStepInput!) {{
  reviewMinimumLivingGuarantee(input: $input) {{
    case {{ {CASE_FIELDS} }} outcome rules {{ rule passed detail }} {ERRORS}
  }}
}}
"""


async def step(api: Any, doc: str, name: str, **input: Any) -> dict[str, Any]:
    data = await api.gql(doc, {"input": input})
    return data[name]  # type: ignore[no-any-return]


async def ok(api: Any, doc: str, name: str, **input: Any) -> dict[str, Any]:
    payload = await step(api, doc, name, **input)
    assert payload["errors"] == [], payload["errors"]
    return payload["case"]  # type: ignore[no-any-return]


async def active_case(
    api: Any, household: dict[str, Any], *, applied: dt.date, covered: list[str] | None = None
) -> dict[str, Any]:
    """Take a household through the whole procedure to an active case."""
    members = [m["person"]["id"] for m in household["members"]]
    case = await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=household["id"],
        applicantId=members[0],
        coveredMemberIds=covered or members,
        appliedOn=applied.isoformat(),
    )
    case = await ok(
        api,
        START,
        "startMinimumLivingGuaranteeInvestigation",
        caseId=case["id"],
        version=case["version"],
        on=(applied + dt.timedelta(days=1)).isoformat(),
    )
    posted = applied + dt.timedelta(days=3)
    case = await ok(
        api,
        OPINION,
        "submitMinimumLivingGuaranteeOpinion",
        caseId=case["id"],
        version=case["version"],
        eligible=True,
        on=posted.isoformat(),
    )
    case = await ok(
        api,
        CLOSE_NOTICE,
        "closeMinimumLivingGuaranteeNotice",
        caseId=case["id"],
        version=case["version"],
        on=(posted + dt.timedelta(days=7)).isoformat(),
    )
    return await ok(
        api,
        APPROVE,
        "approveMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
        on=(posted + dt.timedelta(days=9)).isoformat(),
    )
