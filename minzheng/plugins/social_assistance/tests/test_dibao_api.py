"""低保 over HTTP: the procedure, typed errors with nothing written, enrolments,
and reactions to registry events in the same transaction."""

from __future__ import annotations

import datetime as dt

from factories import VILLAGES, member, register
from sqlalchemy import select

from minzheng.core.models import Enrolment, EnrolmentStatus
from minzheng.plugins.social_assistance.models import DibaoCase, DibaoObjection
from minzheng.plugins.social_assistance.tests.helpers import (
    APPLY,
    APPROVE,
    CLOSE,
    CLOSE_NOTICE,
    OBJECTION,
    OPINION,
    REFUSE,
    REVIEW,
    RURAL_STD,
    START,
    TODAY,
    WITHDRAW,
    active_case,
    count,
    db,
    monthly_income,
    months_ago,
    ok,
    set_standard,
    step,
)

APPLIED = TODAY - dt.timedelta(days=60)


async def household_on_low_income(api, per_member_fen: int = 20_000, n: int = 3):
    people = [
        member("张三"),
        member("李四", "SPOUSE", male=False),
        member("张小", "CHILD", birth=dt.date(2015, 3, 1)),
    ][:n]
    hh = await register(api, members=people)
    await monthly_income(api, hh["pk"], per_member_fen * n)
    return hh


async def enrolments(api, household_pk: int) -> list[tuple]:
    async with db(api) as s:
        rows = await s.scalars(
            select(Enrolment)
            .where(Enrolment.household_id == household_pk, Enrolment.programme == "dibao")
            .order_by(Enrolment.id)
        )
        return [(r.status, r.start_on, r.end_on, r.monthly_amount_fen) for r in rows]


async def test_procedure_from_application_to_payment(api) -> None:
    assert (await set_standard(api))["errors"] == []
    hh = await household_on_low_income(api)
    members = [m["person"]["id"] for m in hh["members"]]

    case = await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
        appliedOn=APPLIED.isoformat(),
    )
    assert case["status"] == "APPLIED" and case["number"].startswith("DB410823-")
    assert case["decisionLevel"] == "COUNTY"
    assert [d["step"] for d in case["deadlines"]] == ["investigation_start", "procedure"]
    assert case["overdue"] is True  # 60 days ago, investigation not started within 3 days
    assert (await enrolments(api, hh["pk"]))[0][0] == EnrolmentStatus.APPLIED

    case = await ok(
        api,
        START,
        "startMinimumLivingGuaranteeInvestigation",
        caseId=case["id"],
        version=case["version"],
        on=(APPLIED + dt.timedelta(days=1)).isoformat(),
    )
    posted = APPLIED + dt.timedelta(days=3)
    case = await ok(
        api,
        OPINION,
        "submitMinimumLivingGuaranteeOpinion",
        caseId=case["id"],
        version=case["version"],
        eligible=True,
        on=posted.isoformat(),
    )
    assert case["status"] == "NOTICE"
    assert case["noticeEndsOn"] == (posted + dt.timedelta(days=6)).isoformat()
    assert case["perCapitaIncomeFen"] == 20_000

    # the notice runs 7 days: closing on its last day is refused, nothing changes
    early = await step(
        api,
        CLOSE_NOTICE,
        "closeMinimumLivingGuaranteeNotice",
        caseId=case["id"],
        version=case["version"],
        on=(posted + dt.timedelta(days=6)).isoformat(),
    )
    assert early["case"] is None and early["errors"][0]["__typename"] == "ConflictError"
    assert "未期满" in early["errors"][0]["message"]

    case = await ok(
        api,
        CLOSE_NOTICE,
        "closeMinimumLivingGuaranteeNotice",
        caseId=case["id"],
        version=case["version"],
        on=(posted + dt.timedelta(days=7)).isoformat(),
    )
    assert case["status"] == "PENDING_DECISION"
    decided = posted + dt.timedelta(days=9)
    case = await ok(
        api,
        APPROVE,
        "approveMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
        on=decided.isoformat(),
    )
    assert case["status"] == "ACTIVE"
    assert case["monthlyAmountFen"] == 3 * (RURAL_STD - 20_000)
    next_month = (decided.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert case["paymentFrom"] == next_month.isoformat()
    assert case["nextReviewOn"] is not None
    rows = await enrolments(api, hh["pk"])
    assert rows[-1] == (EnrolmentStatus.ACTIVE, next_month, None, 3 * (RURAL_STD - 20_000))
    assert rows[0][0] == EnrolmentStatus.APPLIED and rows[0][2] == next_month - dt.timedelta(1)

    # the household's own field, through its dataloader
    data = await api.gql(
        """query($id: ID!) { household(id: $id) {
        minimumLivingGuarantee { current { number status } history { number } }
        enrolments { programme status monthlyAmountFen } } }""",
        {"id": hh["id"]},
    )
    mlg = data["household"]["minimumLivingGuarantee"]
    assert mlg["current"]["status"] == "ACTIVE" and len(mlg["history"]) == 1
    assert {"programme": "dibao", "status": "ACTIVE", "monthlyAmountFen": 90_000} in data[
        "household"
    ]["enrolments"]


async def test_illegal_transitions_and_stale_versions_write_nothing(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    case = await active_case(api, hh, applied=APPLIED)
    before = await enrolments(api, hh["pk"])

    again = await step(
        api, APPROVE, "approveMinimumLivingGuarantee", caseId=case["id"], version=case["version"]
    )
    err = again["errors"][0]
    assert (err["__typename"], err["state"], err["action"]) == (
        "IllegalTransitionError",
        "active",
        "approve",
    )
    stale = await step(
        api,
        CLOSE,
        "closeMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"] - 1,
        reason="x",
    )
    assert stale["errors"][0]["__typename"] == "ConflictError"
    assert stale["errors"][0]["currentVersion"] == case["version"]
    blank = await step(
        api,
        CLOSE,
        "closeMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
        reason="  ",
    )
    assert blank["errors"][0]["field"] == "input.reason"
    future = await step(
        api,
        CLOSE,
        "closeMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
        reason="x",
        on=(TODAY + dt.timedelta(days=1)).isoformat(),
    )
    assert future["errors"][0]["code"] == "date.future"
    wrong_id = await step(
        api, CLOSE, "closeMinimumLivingGuarantee", caseId=hh["id"], version=1, reason="x"
    )
    assert wrong_id["errors"][0]["code"] == "id.wrong_type"
    assert await enrolments(api, hh["pk"]) == before
    async with db(api) as s:
        row = await s.get(DibaoCase, case["pk"])
        assert (row.status.value, row.version) == ("active", case["version"])


async def test_application_errors(api) -> None:
    hh = await household_on_low_income(api)
    members = [m["person"]["id"] for m in hh["members"]]
    # no standard in force yet
    res = await step(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
    )
    assert res["errors"][0]["code"] == "standard.missing"
    await set_standard(api)
    other = await register(api, members=[member("王五")])
    res = await step(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=other["members"][0]["person"]["id"],
        coveredMemberIds=members,
    )
    assert (res["errors"][0]["field"], res["errors"][0]["code"]) == (
        "input.applicantId",
        "members.not_member",
    )
    res = await step(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members[:2],
        singlePerson=True,
    )
    assert res["errors"][0]["code"] == "single.one_member"
    assert await count(api, DibaoCase) == 0
    await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
    )
    twice = await step(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
    )
    assert twice["errors"][0]["__typename"] == "ConflictError"
    assert await count(api, DibaoCase) == 1


async def test_objection_forces_a_new_first_opinion(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    members = [m["person"]["id"] for m in hh["members"]]
    case = await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
        appliedOn=APPLIED.isoformat(),
    )
    case = await ok(
        api,
        START,
        "startMinimumLivingGuaranteeInvestigation",
        caseId=case["id"],
        version=case["version"],
        on=APPLIED.isoformat(),
    )
    case = await ok(
        api,
        OPINION,
        "submitMinimumLivingGuaranteeOpinion",
        caseId=case["id"],
        version=case["version"],
        eligible=True,
        on=APPLIED.isoformat(),
    )
    case = await ok(
        api,
        OBJECTION,
        "recordMinimumLivingGuaranteeObjection",
        caseId=case["id"],
        version=case["version"],
        content="该户有经营性收入未申报",
        raisedBy="村民",
        on=(APPLIED + dt.timedelta(days=2)).isoformat(),
    )
    assert case["status"] == "INVESTIGATING"
    assert (case["extended"], case["objectionCount"], case["noticePostedOn"]) == (True, 1, None)
    assert await count(api, DibaoObjection) == 1
    # the objection lengthens the limit to 45 working days
    procedure = next(d for d in case["deadlines"] if d["step"] == "procedure")
    assert procedure["dueOn"] > (APPLIED + dt.timedelta(days=60)).isoformat()


async def test_ineligible_opinion_and_refusal(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api, per_member_fen=RURAL_STD)  # exactly the standard
    members = [m["person"]["id"] for m in hh["members"]]
    case = await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
        appliedOn=APPLIED.isoformat(),
    )
    case = await ok(
        api,
        START,
        "startMinimumLivingGuaranteeInvestigation",
        caseId=case["id"],
        version=case["version"],
        on=APPLIED.isoformat(),
    )
    wrong = await step(
        api,
        OPINION,
        "submitMinimumLivingGuaranteeOpinion",
        caseId=case["id"],
        version=case["version"],
        eligible=True,
        on=APPLIED.isoformat(),
    )
    assert wrong["errors"][0]["code"] == "opinion.contradicts_rules"
    assert "≥ 低保标准 500.00元" in wrong["errors"][0]["message"]
    case = await ok(
        api,
        OPINION,
        "submitMinimumLivingGuaranteeOpinion",
        caseId=case["id"],
        version=case["version"],
        eligible=False,
        note="人均收入达到标准",
        on=APPLIED.isoformat(),
    )
    assert case["status"] == "PENDING_DECISION"
    case = await ok(
        api,
        REFUSE,
        "refuseMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
        reason="家庭人均收入不低于低保标准",
        on=APPLIED.isoformat(),
    )
    assert case["status"] == "REFUSED" and case["refusalReason"] == "家庭人均收入不低于低保标准"
    assert case["dueOn"] is None
    assert (await enrolments(api, hh["pk"]))[-1][0] == EnrolmentStatus.ENDED


async def test_withdrawal_before_decision(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    members = [m["person"]["id"] for m in hh["members"]]
    case = await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
    )
    case = await ok(
        api,
        WITHDRAW,
        "withdrawMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
        reason="外出务工",
    )
    assert case["status"] == "CLOSED" and case["closeReason"] == "撤回：外出务工"


RECORD_INCOME = """
mutation($input: RecordHouseholdIncomeInput!) {
  recordHouseholdIncome(input: $input) { errors { code message } }
}
"""


async def record_income(api, hh, monthly_fen: int) -> None:
    """A year's wages for the 12 months before this one, through the core mutation."""
    data = await api.gql(
        RECORD_INCOME,
        {
            "input": {
                "householdId": hh["id"],
                "source": "WAGES",
                "periodStart": months_ago(12).isoformat(),
                "periodEnd": (months_ago(0) - dt.timedelta(days=1)).isoformat(),
                "amountFen": monthly_fen * 12,
            }
        },
    )
    assert data["recordHouseholdIncome"]["errors"] == []


async def case_row(api, pk: int) -> DibaoCase:
    async with db(api) as s:
        return await s.get(DibaoCase, pk)


async def test_income_within_the_phase_out_line_starts_phase_out(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)  # 200/person from earlier monthly records
    case = await active_case(api, hh, applied=APPLIED)
    # +14 400 fen a month for 3 people over the same 12 months: per capita 200 + 400 = 600
    # > 500 (standard) and ≤ 750 (1.5 ×) → phase-out from next month, for 12 months
    await record_income(api, hh, 3 * 40_000)
    row = await case_row(api, case["pk"])
    first = months_ago(-1)
    assert row.status.value == "phase_out"
    assert (row.phase_out_first_month, row.phase_out_last_month) == (first, months_ago(-12))
    rows = await enrolments(api, hh["pk"])
    assert rows[-1][:3] == (EnrolmentStatus.PHASE_OUT, first, months_ago(-13) - dt.timedelta(1))
    assert rows[-1][3] == case["monthlyAmountFen"]  # phase-out keeps the amount


async def test_income_above_the_phase_out_line_flags_a_review(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    case = await active_case(api, hh, applied=APPLIED)
    await record_income(api, hh, 3 * 55_001)  # 200 + 550.01 = 750.01 > 750
    row = await case_row(api, case["pk"])
    assert row.status.value == "active"
    assert row.flagged_reason == "家庭人均收入超过渐退线"
    assert row.due_on == row.flagged_review_on
    # the review closes it: above the line
    reviewed = await step(
        api, REVIEW, "reviewMinimumLivingGuarantee", caseId=case["id"], version=row.version
    )
    assert reviewed["errors"] == [] and reviewed["outcome"] == "closed"
    assert reviewed["case"]["status"] == "CLOSED"
    assert any(
        r["rule"] == "dibao.phase_out_line" and r["passed"] is False for r in reviewed["rules"]
    )
    # paid to the end of this month, then ended
    assert (await enrolments(api, hh["pk"]))[-1][2] == months_ago(-1) - dt.timedelta(1)


async def test_income_still_below_recomputes_the_amount(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    case = await active_case(api, hh, applied=APPLIED)
    await record_income(api, hh, 3 * 10_000)  # per capita 300
    row = await case_row(api, case["pk"])
    assert row.status.value == "active" and row.monthly_amount_fen == 3 * (RURAL_STD - 30_000)
    last = (await enrolments(api, hh["pk"]))[-1]
    assert last == (EnrolmentStatus.ACTIVE, months_ago(-1), None, 3 * (RURAL_STD - 30_000))


RECORD_DEATH = """
mutation($input: RecordDeathInput!) { recordDeath(input: $input) { errors { code message } } }
"""


async def test_death_of_a_member_recomputes_and_flags_a_review(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    case = await active_case(api, hh, applied=APPLIED)
    child = hh["members"][2]["person"]
    died = TODAY - dt.timedelta(days=3)
    data = await api.gql(
        RECORD_DEATH, {"input": {"personId": child["id"], "diedOn": died.isoformat()}}
    )
    assert data["recordDeath"]["errors"] == []
    row = await case_row(api, case["pk"])
    # 600 a month over 2 members: 300 each → (500 − 300) × 2
    assert row.monthly_amount_fen == 2 * (RURAL_STD - 30_000)
    assert row.flagged_reason == "保障成员死亡"
    from minzheng.plugins.social_assistance.rules import add_months

    assert row.flagged_review_on == add_months(died, 3)
    data = await api.gql(
        """query($id: ID!) { minimumLivingGuaranteeCase(id: $id) {
        coveredMembers(all: true) { person { pk } removedOn removalReason } } }""",
        {"id": case["id"]},
    )
    removed = [m for m in data["minimumLivingGuaranteeCase"]["coveredMembers"] if m["removedOn"]]
    assert removed == [
        {"person": {"pk": child["pk"]}, "removedOn": died.isoformat(), "removalReason": "死亡"}
    ]


REMOVE_MEMBER = """
mutation($input: RemoveMemberInput!) { removeMember(input: $input) { errors { code message } } }
"""


async def test_member_leaving_is_removed_and_flags_a_review(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    case = await active_case(api, hh, applied=APPLIED)
    spouse = hh["members"][1]["person"]
    data = await api.gql(REMOVE_MEMBER, {"input": {"personId": spouse["id"], "reason": "迁出"}})
    assert data["removeMember"]["errors"] == []
    row = await case_row(api, case["pk"])
    assert row.flagged_reason == "保障成员迁出"
    assert row.monthly_amount_fen == 2 * (RURAL_STD - 30_000)


async def test_periodic_review_and_overdue_list(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    old = TODAY - dt.timedelta(days=500)
    case = await active_case(api, hh, applied=old)
    # a household with a working-age able member is reviewed every 6 months: overdue now
    data = await api.gql("""{ overdueMinimumLivingGuaranteeReviews(regionCode: "410823") {
        totalCount edges { node { number overdue nextReviewOn } } } }""")
    listed = data["overdueMinimumLivingGuaranteeReviews"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["overdue"] is True
    reviewed = await step(
        api, REVIEW, "reviewMinimumLivingGuarantee", caseId=case["id"], version=case["version"]
    )
    assert reviewed["outcome"] == "continue"
    assert reviewed["case"]["overdue"] is False
    data = await api.gql("""{ overdueMinimumLivingGuaranteeReviews { totalCount } }""")
    assert data["overdueMinimumLivingGuaranteeReviews"]["totalCount"] == 0


async def test_confirmation_level_follows_the_delegation_setting(make_api) -> None:
    api = make_api()
    township = make_api(region="410823101")
    await set_standard(api)
    hh = await household_on_low_income(api)
    members = [m["person"]["id"] for m in hh["members"]]
    case = await ok(
        township,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=members[0],
        coveredMemberIds=members,
        appliedOn=APPLIED.isoformat(),
    )
    for doc, name, extra in (
        (START, "startMinimumLivingGuaranteeInvestigation", {}),
        (OPINION, "submitMinimumLivingGuaranteeOpinion", {"eligible": True}),
    ):
        case = await ok(
            township,
            doc,
            name,
            caseId=case["id"],
            version=case["version"],
            on=APPLIED.isoformat(),
            **extra,
        )
    case = await ok(
        township,
        CLOSE_NOTICE,
        "closeMinimumLivingGuaranteeNotice",
        caseId=case["id"],
        version=case["version"],
        on=(APPLIED + dt.timedelta(days=7)).isoformat(),
    )
    # the county confirms: the township may not
    denied = await step(
        township,
        APPROVE,
        "approveMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
    )
    assert denied["errors"][0]["__typename"] == "ForbiddenError"
    # where confirmation is delegated (a standard with townshipConfirms), it may
    await set_standard(api, effective_from="2021-01-01", townshipConfirms=True)
    hh2 = await household_on_low_income(api)
    members = [m["person"]["id"] for m in hh2["members"]]
    case2 = await active_case(township, hh2, applied=APPLIED)
    assert (case2["status"], case2["decisionLevel"]) == ("ACTIVE", "TOWNSHIP")
    procedure = next(d for d in case2["deadlines"] if d["step"] == "procedure")
    from minzheng.plugins.social_assistance.services.common import calendar

    assert procedure["dueOn"] == calendar().add_working_days(APPLIED, 20).isoformat()


async def test_an_idempotency_key_applies_once(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    members = [m["person"]["id"] for m in hh["members"]]
    inp = {
        "householdId": hh["id"],
        "applicantId": members[0],
        "coveredMemberIds": members,
        "idempotencyKey": "apply-0001",
    }
    first = await ok(api, APPLY, "applyForMinimumLivingGuarantee", **inp)
    again = await ok(api, APPLY, "applyForMinimumLivingGuarantee", **inp)
    assert again["number"] == first["number"]
    assert await count(api, DibaoCase) == 1


PUBLICATION = """query($code: String!, $since: Date) {
  minimumLivingGuaranteePublication(regionCode: $code, approvedSince: $since) {
    caseNumber villageCode villageName applicantName coveredMembers monthlyAmountFen
    paymentFrom approvedOn phaseOut } }"""


async def test_publication_lists_paid_households_by_village(api) -> None:
    await set_standard(api)
    hh = await household_on_low_income(api)
    case = await active_case(api, hh, applied=APPLIED)
    # another household has applied only: not published
    other = await register(api, members=[member("王五", birth=dt.date(1975, 1, 1))])
    pending = await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=other["id"],
        applicantId=other["members"][0]["person"]["id"],
        coveredMemberIds=[other["members"][0]["person"]["id"]],
        appliedOn=APPLIED.isoformat(),
    )
    assert pending["status"] != "ACTIVE"
    expected = {
        "caseNumber": case["number"],
        "villageCode": VILLAGES["wuzhi_a"],
        "villageName": (
            await api.gql(
                "query($c: String!) { region(code: $c) { name } }", {"c": VILLAGES["wuzhi_a"]}
            )
        )["region"]["name"],
        "applicantName": "张三",
        "coveredMembers": 3,
        "monthlyAmountFen": case["monthlyAmountFen"],
        "paymentFrom": case["paymentFrom"],
        "approvedOn": (await case_row(api, case["pk"])).decided_on.isoformat(),
        "phaseOut": False,
    }
    for code in ("410823101", VILLAGES["wuzhi_a"]):
        with api.count_statements() as seen:
            rows = (await api.gql(PUBLICATION, {"code": code}))["minimumLivingGuaranteePublication"]
        assert rows == [expected]
        reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
        assert len([s for s in reads if "set_config" not in s]) == 1  # (PostgreSQL: + RLS)
    later = TODAY + dt.timedelta(days=1)
    assert (await api.gql(PUBLICATION, {"code": "410823101", "since": later.isoformat()}))[
        "minimumLivingGuaranteePublication"
    ] == []
    for code, error in (("410823", "BAD_REGION_LEVEL"), ("41082x", "BAD_REGION_CODE")):
        body = await api.gql(PUBLICATION, {"code": code}, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == error
