"""Beside social assistance: 低保 granted and closed through that plugin's own graph
drives the living subsidy (discovery, eligibility, approval, review flag) — with no
import between the plugins, only core enrolments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from minzheng.core.models import Household, HouseholdIncome, IncomeSource
from minzheng.schema import ids

from .conftest import INSTALLED, app_db
from .test_api import APPROVE, ERRORS, PERSON, STEP, SUBMIT, household, standards

pytestmark = pytest.mark.skipif(
    "social_assistance" not in INSTALLED, reason="social_assistance is not installed"
)

TODAY = dt.date.today()
APPLIED = TODAY - dt.timedelta(days=60)


@pytest.fixture
async def both(make_api: Any) -> Any:
    return make_api(plugins="disability,social_assistance")


def _case(name: str, input_type: str) -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{
        case {{ id version status }} {ERRORS} }} }}"""


async def _step(api: Any, name: str, input_type: str, **values: Any) -> dict[str, Any]:
    data = await api.gql(_case(name, input_type), {"input": values})
    payload = data[name]
    assert payload["errors"] == [], payload["errors"]
    return payload["case"]  # type: ignore[no-any-return]


async def _dibao_through_social_assistance(api: Any, person: dict[str, Any]) -> dict[str, Any]:
    data = await api.gql(
        """mutation($input: SetSocialAssistanceStandardInput!) {
          setSocialAssistanceStandard(input: $input) { errors { code message } } }""",
        {
            "input": {
                "regionCode": "410823",
                "area": "RURAL",
                "effectiveFrom": "2020-01-01",
                "minimumLivingStandardFen": 50_000,
                "extremePovertyBasicFen": 65_000,
                "careSelfSufficientFen": 10_000,
                "carePartlyDependentFen": 40_000,
                "careFullyDependentFen": 90_000,
                "temporaryTownshipLimitFen": 200_000,
            }
        },
    )
    assert data["setSocialAssistanceStandard"]["errors"] == []
    async with app_db(api) as s:  # two years of low income (200 yuan a month per member)
        hh = await s.get(Household, person["household_pk"])
        this_month = TODAY.replace(day=1)
        for n in range(1, 25):
            y, m = divmod(this_month.month - 1 - n, 12)
            start = dt.date(this_month.year + y, m + 1, 1)
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            row = HouseholdIncome(
                household_id=hh.id,
                source=IncomeSource.WAGES,
                period_start=start,
                period_end=end - dt.timedelta(days=1),
                amount_fen=40_000,
            )
            row.place(hh.region_code)
            s.add(row)
    case = await _step(
        api,
        "applyForMinimumLivingGuarantee",
        "ApplyForMinimumLivingGuaranteeInput",
        householdId=ids.encode("Household", person["household_pk"]),
        applicantId=person["head_id"],
        coveredMemberIds=[person["head_id"], person["id"]],
        appliedOn=APPLIED.isoformat(),
    )
    posted = APPLIED + dt.timedelta(days=3)
    for name, input_type, extra in (
        (
            "startMinimumLivingGuaranteeInvestigation",
            "CaseStepInput",
            {"on": (APPLIED + dt.timedelta(days=1)).isoformat()},
        ),
        (
            "submitMinimumLivingGuaranteeOpinion",
            "SubmitMinimumLivingGuaranteeOpinionInput",
            {"eligible": True, "on": posted.isoformat()},
        ),
        (
            "closeMinimumLivingGuaranteeNotice",
            "CaseStepInput",
            {"on": (posted + dt.timedelta(days=7)).isoformat()},
        ),
        (
            "approveMinimumLivingGuarantee",
            "CaseStepInput",
            {"on": (posted + dt.timedelta(days=9)).isoformat()},
        ),
    ):
        case = await _step(
            api, name, input_type, caseId=case["id"], version=case["version"], **extra
        )
    assert case["status"] == "ACTIVE"
    return case


async def test_dibao_from_social_assistance_drives_the_living_subsidy(both) -> None:
    api = both
    await standards(api)
    person = await household(api, grade=4, category="HEARING", with_head=True)
    data = await api.gql(PERSON, {"id": person["id"]})
    living = data["person"]["disabilitySubsidies"]["eligibility"][0]
    assert living["subsidy"] == "LIVING" and not living["eligibility"]["eligible"]

    case = await _dibao_through_social_assistance(api, person)

    data = await api.gql(PERSON, {"id": person["id"]})
    living = data["person"]["disabilitySubsidies"]["eligibility"][0]
    assert living["eligibility"]["eligible"] is True
    found = await api.gql(
        "{ disabilityDiscovery(subsidy: LIVING) { edges { node { person { pk } } } } }"
    )
    assert [e["node"]["person"]["pk"] for e in found["disabilityDiscovery"]["edges"]] == [
        person["pk"]
    ]
    data = await api.gql(SUBMIT, {"input": {"personId": person["id"], "subsidy": "LIVING"}})
    app = data["submitDisabilityApplication"]["application"]
    for name in ("acceptDisabilityApplication", "reviewDisabilityApplication"):
        await api.gql(
            STEP.format(name=name, errors=ERRORS), {"input": {"applicationId": app["id"]}}
        )
    data = await api.gql(APPROVE, {"input": {"applicationId": app["id"]}})
    assert data["approveDisabilityApplication"]["errors"] == []

    # social assistance closes the case: the living subsidy is flagged for review
    await _step(
        api,
        "closeMinimumLivingGuarantee",
        "CaseReasonInput",
        caseId=case["id"],
        version=case["version"],
        reason="收入超过标准",
    )
    data = await api.gql(PERSON, {"id": person["id"]})
    (grant,) = data["person"]["disabilitySubsidies"]["grants"]
    assert grant["reviewFlag"] and grant["reviewReason"] == "lost 低保 status"
