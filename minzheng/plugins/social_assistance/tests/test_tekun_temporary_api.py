"""特困 and 临时救助 over HTTP, with the township reserve fund."""

from __future__ import annotations

import datetime as dt

from factories import member, register
from sqlalchemy import select

from minzheng.core.models import AuditEntry, Enrolment, EnrolmentStatus
from minzheng.plugins.social_assistance.models import (
    ReserveFundEntry,
    TekunCase,
    TekunCondition,
    TemporaryCase,
)
from minzheng.plugins.social_assistance.tests.helpers import (
    ERRORS,
    RURAL_STD,
    TODAY,
    TOWNSHIP,
    count,
    db,
    months_ago,
    set_standard,
    step,
)
from minzheng.schema import ids

TK = """ id pk number status version monthlyAmountFen selfCareLevel paymentFrom startedAsMinor
  endsAfter terminationReason dueOn spotCheckedOn spotCheckFindings spotCheckConfirms
  conditions { code title met evidence reasons { rule passed detail } }
  supporters { name assessment { passed detail } } """


def tk(name: str, input_type: str) -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{
        case {{ {TK} }} {ERRORS} }} }}"""


TK_APPLY = tk("applyForExtremePovertySupport", "ApplyForExtremePovertySupportInput")
TK_START = tk("startExtremePovertySupportInvestigation", "CaseStepInput")
TK_COND = f"""mutation($input: RecordExtremePovertyConditionInput!) {{
  recordExtremePovertyCondition(input: $input) {{
    case {{ {TK} }} condition {{ code met evidence }} {ERRORS} }} }}"""
TK_CARE = tk("assessSelfCare", "AssessSelfCareInput")
TK_OPINION = tk("submitExtremePovertySupportOpinion", "CaseStepInput")
TK_NOTICE = tk("closeExtremePovertySupportNotice", "CaseStepInput")
TK_APPROVE = tk("approveExtremePovertySupport", "CaseStepInput")
TK_SPOT = tk("recordExtremePovertySpotCheck", "RecordExtremePovertySpotCheckInput")
TK_TERMINATE = tk("terminateExtremePovertySupport", "TerminateExtremePovertySupportInput")

APPLIED = TODAY - dt.timedelta(days=40)


async def elderly_alone(api, birth: dt.date = dt.date(1950, 4, 1)):
    hh = await register(api, members=[member("赵老汉", birth=birth)])
    return hh["members"][0]["person"]


async def test_tekun_procedure_with_evidence_and_self_care(api) -> None:
    await set_standard(api)
    person = await elderly_alone(api)
    res = await step(
        api,
        TK_APPLY,
        "applyForExtremePovertySupport",
        personId=person["id"],
        supportMode="DISPERSED",
        appliedOn=APPLIED.isoformat(),
        supporters=[
            {"name": "赵大", "relation": "子", "birthDate": "1975-01-01", "imprisoned": True}
        ],
    )
    assert res["errors"] == []
    case = res["case"]
    assert case["status"] == "APPLIED" and case["number"].startswith("TK410823-")
    case = (
        await step(
            api,
            TK_START,
            "startExtremePovertySupportInvestigation",
            caseId=case["id"],
            version=case["version"],
            on=APPLIED.isoformat(),
        )
    )["case"]

    # the opinion needs every condition with evidence: refused, nothing written
    early = await step(
        api,
        TK_OPINION,
        "submitExtremePovertySupportOpinion",
        caseId=case["id"],
        version=case["version"],
        on=APPLIED.isoformat(),
    )
    assert (early["errors"][0]["code"], early["errors"][0]["field"]) == (
        "document.missing",
        "input.caseId",
    )
    no_docs = await step(
        api,
        TK_COND,
        "recordExtremePovertyCondition",
        caseId=case["id"],
        version=case["version"],
        condition="UNABLE_TO_WORK",
        evidence=[" "],
    )
    assert no_docs["errors"][0]["code"] == "document.missing"
    assert await count(api, TekunCondition) == 0

    for code, docs in (
        ("UNABLE_TO_WORK", ["户口簿"]),
        ("NO_MEANS_OF_LIVING", ["核对报告"]),
        ("NO_ABLE_SUPPORTER", ["判决书"]),
    ):
        res = await step(
            api,
            TK_COND,
            "recordExtremePovertyCondition",
            caseId=case["id"],
            version=case["version"],
            condition=code,
            evidence=docs,
            on=APPLIED.isoformat(),
        )
        assert res["errors"] == [] and res["condition"]["met"] is True, res
        case = res["case"]
    conds = {c["code"]: c for c in case["conditions"]}
    assert "周岁" in conds["UNABLE_TO_WORK"]["reasons"][0]["detail"]
    assert case["supporters"][0]["assessment"]["passed"] is True  # imprisoned

    missing_care = await step(
        api,
        TK_OPINION,
        "submitExtremePovertySupportOpinion",
        caseId=case["id"],
        version=case["version"],
        on=APPLIED.isoformat(),
    )
    assert missing_care["errors"][0]["code"] == "self_care.missing"

    care = {
        "eating": True,
        "dressing": False,
        "transfer": True,
        "toileting": False,
        "walkingIndoors": True,
        "bathing": False,
    }  # three not managed → partly
    case = (
        await step(
            api,
            TK_CARE,
            "assessSelfCare",
            caseId=case["id"],
            version=case["version"],
            on=APPLIED.isoformat(),
            **care,
        )
    )["case"]
    assert case["selfCareLevel"] == "PARTLY_DEPENDENT"
    case = (
        await step(
            api,
            TK_OPINION,
            "submitExtremePovertySupportOpinion",
            caseId=case["id"],
            version=case["version"],
            on=APPLIED.isoformat(),
        )
    )["case"]
    assert case["status"] == "NOTICE"
    case = (
        await step(
            api,
            TK_NOTICE,
            "closeExtremePovertySupportNotice",
            caseId=case["id"],
            version=case["version"],
            on=(APPLIED + dt.timedelta(days=7)).isoformat(),
        )
    )["case"]
    decided = APPLIED + dt.timedelta(days=10)
    # the county's first confirmation of the year needs its own visit first
    res = await step(
        api,
        TK_APPROVE,
        "approveExtremePovertySupport",
        caseId=case["id"],
        version=case["version"],
        on=decided.isoformat(),
    )
    assert res["case"] is None and res["errors"][0]["code"] == "spot_check.required"
    assert "本件须先抽查核实" in res["errors"][0]["message"]
    assert await count(api, Enrolment, Enrolment.programme == "tekun") == 1  # APPLIED only
    res = await step(
        api,
        TK_SPOT,
        "recordExtremePovertySpotCheck",
        caseId=case["id"],
        version=case["version"],
        findings="入户核实：独居，无收入，无赡养人",
        confirms=True,
        on=decided.isoformat(),
    )
    assert res["errors"] == []
    case = res["case"]
    assert (case["spotCheckedOn"], case["spotCheckConfirms"]) == (decided.isoformat(), True)
    res = await step(
        api,
        TK_APPROVE,
        "approveExtremePovertySupport",
        caseId=case["id"],
        version=case["version"],
        on=decided.isoformat(),
    )
    assert res["errors"] == []
    case = res["case"]
    assert case["status"] == "ACTIVE"
    assert case["monthlyAmountFen"] == int(RURAL_STD * 1.3) + 40_000
    data = await api.gql(
        """query($id: ID!) { person(id: $id) {
        extremePovertySupport { current { status monthlyAmountFen } history { number } }
        enrolments { programme status monthlyAmountFen } } }""",
        {"id": person["id"]},
    )
    eps = data["person"]["extremePovertySupport"]
    assert eps["current"]["status"] == "ACTIVE"
    assert {
        "programme": "tekun",
        "status": "ACTIVE",
        "monthlyAmountFen": case["monthlyAmountFen"],
    } in data["person"]["enrolments"]

    # termination: 7-day notice, effect from the month after it ends
    notice = TODAY - dt.timedelta(days=2)
    res = await step(
        api,
        TK_TERMINATE,
        "terminateExtremePovertySupport",
        caseId=case["id"],
        version=case["version"],
        reason="REGAINED_CAPACITY",
        noticeOn=notice.isoformat(),
    )
    assert res["errors"] == []
    end = notice + dt.timedelta(days=6)
    last = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    assert res["case"]["endsAfter"] == last.isoformat()


async def test_tekun_refuses_a_worker_with_an_able_son(api) -> None:
    await set_standard(api)
    hh = await register(api, members=[member("钱壮年", birth=dt.date(1985, 1, 1))])
    person = hh["members"][0]["person"]
    case = (
        await step(
            api,
            TK_APPLY,
            "applyForExtremePovertySupport",
            personId=person["id"],
            supportMode="DISPERSED",
            supporters=[{"name": "钱父", "relation": "父", "birthDate": "1960-01-01"}],
        )
    )["case"]
    res = await step(
        api,
        TK_COND,
        "recordExtremePovertyCondition",
        caseId=case["id"],
        version=case["version"],
        condition="UNABLE_TO_WORK",
        evidence=["户口簿"],
    )
    assert res["condition"]["met"] is False
    res = await step(
        api,
        TK_COND,
        "recordExtremePovertyCondition",
        caseId=case["id"],
        version=res["case"]["version"],
        condition="NO_ABLE_SUPPORTER",
        evidence=["证明"],
    )
    assert res["condition"]["met"] is False
    data = await api.gql(
        """query($id: ID!) {
        socialAssistanceEligibility(programme: TEKUN, personId: $id) {
          eligible rules { rule title passed detail inputs { name value } } } }""",
        {"id": person["id"]},
    )
    e = data["socialAssistanceEligibility"]
    assert e["eligible"] is False
    age = next(r for r in e["rules"] if r["rule"] == "tekun.unable_to_work.age")
    assert (
        age["passed"] is False
        and {"name": "age", "value": str(TODAY.year - 1985 - ((TODAY.month, TODAY.day) < (1, 1)))}
        in age["inputs"]
    )


async def _tekun_enrolments(s, person_pk: int) -> list[Enrolment]:
    query = select(Enrolment).where(
        Enrolment.person_id == person_pk, Enrolment.programme == "tekun"
    )
    return list(await s.scalars(query.order_by(Enrolment.id)))


async def _pending_tekun(api, person) -> int:
    """A 特困 file that has reached the county (PENDING_DECISION)."""
    from minzheng.plugins.social_assistance.services import tekun

    async with db(api) as s:
        case = await tekun.apply(
            s, person_id=person["pk"], support_mode=tekun.SupportMode.DISPERSED, applied_on=APPLIED
        )
        await tekun.start_investigation(s, case.id, None, on=APPLIED)
        for code in tekun.ConditionCode:
            await tekun.record_condition(s, case.id, None, code=code, evidence=["证明"], on=APPLIED)
        await tekun.assess_self_care(
            s, case.id, None, managed={a: True for a in tekun.rules.Activity}, on=APPLIED
        )
        await tekun.submit_opinion(s, case.id, None, on=APPLIED)
        await tekun.close_notice(s, case.id, None, on=APPLIED + dt.timedelta(days=7))
        return case.id


async def _active_tekun(api, person) -> int:
    from minzheng.plugins.social_assistance.services import tekun

    case_id = await _pending_tekun(api, person)
    async with db(api) as s:
        on = APPLIED + dt.timedelta(days=8)
        await tekun.record_spot_check(s, case_id, None, findings="入户核实", confirms=True, on=on)
        await tekun.approve(s, case_id, None, on=on)
    return case_id


SPOT_CHECKS = """query($r: String!, $y: Int!) { extremePovertySpotChecks(regionCode: $r, year: $y) {
  countyCode countyName confirmed spotChecked share meetsMinimum } }"""


async def test_the_county_spot_checks_at_least_30_percent_of_its_confirmations(
    make_api,
) -> None:
    api = make_api()
    township = make_api(region="410823101")
    await set_standard(api)
    people = [await elderly_alone(api, birth=dt.date(1940 + n, 4, 1)) for n in range(4)]
    cases = [await _pending_tekun(api, p) for p in people]
    decided = APPLIED + dt.timedelta(days=10)

    async def version(pk: int) -> int:
        async with db(api) as s:
            return (await s.get(TekunCase, pk)).version

    async def spot_check(who, pk: int, **extra):
        values = {"findings": "入户核实，情况属实", "confirms": True, "on": decided.isoformat()}
        values.update(extra)
        return await step(
            who,
            TK_SPOT,
            "recordExtremePovertySpotCheck",
            caseId=ids.encode("ExtremePovertySupportCase", pk),
            version=await version(pk),
            **values,
        )

    async def approve(pk: int):
        return await step(
            api,
            TK_APPROVE,
            "approveExtremePovertySupport",
            caseId=ids.encode("ExtremePovertySupportCase", pk),
            version=await version(pk),
            on=decided.isoformat(),
        )

    # a spot check is the county's, after the file reached it, with findings
    audits = await count(api, AuditEntry)
    refused = [
        await spot_check(township, cases[0]),
        await spot_check(api, cases[0], on=APPLIED.isoformat()),
        await spot_check(api, cases[0], findings="  "),
        await spot_check(api, cases[0], findings="查" * 501),
        await spot_check(api, cases[0], on=(TODAY + dt.timedelta(days=1)).isoformat()),
    ]
    assert [r["errors"][0]["code"] for r in refused] == [
        "forbidden",
        "date.before_file",
        "text.required",
        "text.too_long",
        "date.future",
    ]
    assert all(r["case"] is None for r in refused)
    assert await count(api, AuditEntry) == audits
    assert await count(api, TekunCase, TekunCase.spot_checked_on.is_not(None)) == 0

    assert (await spot_check(api, cases[0]))["errors"] == []
    assert (await approve(cases[0]))["errors"] == []  # 1 of 1
    assert (await approve(cases[1]))["errors"] == []  # 1 of 2: 50 %
    assert (await approve(cases[2]))["errors"] == []  # 1 of 3: 33 %
    fourth = await approve(cases[3])  # 1 of 4 would be 25 %
    assert fourth["case"] is None and fourth["errors"][0]["code"] == "spot_check.required"
    assert "本年已确认 3 件，其中抽查核实 1 件" in fourth["errors"][0]["message"]
    assert (await spot_check(api, cases[3], confirms=False))["errors"] == []
    assert (await approve(cases[3]))["errors"] == []  # the county decides either way

    data = await api.gql(SPOT_CHECKS, {"r": "410823", "y": decided.year})
    assert data["extremePovertySpotChecks"] == [
        {
            "countyCode": "410823000000",
            "countyName": "武陟县",
            "confirmed": 4,
            "spotChecked": 2,
            "share": 0.5,
            "meetsMinimum": True,
        }
    ]
    assert (await api.gql(SPOT_CHECKS, {"r": "410823", "y": decided.year - 1}))[
        "extremePovertySpotChecks"
    ] == []
    bad = await api.gql(SPOT_CHECKS, {"r": "410823", "y": 1900}, expect_errors=True)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_YEAR"


async def test_death_ends_tekun_support_after_that_month(api) -> None:
    from minzheng.plugins.social_assistance.services import tekun

    await set_standard(api)
    person = await elderly_alone(api)
    case_pk = await _active_tekun(api, person)
    died = TODAY - dt.timedelta(days=1)
    data = await api.gql(
        """mutation($input: RecordDeathInput!) {
        recordDeath(input: $input) { errors { code } } }""",
        {"input": {"personId": person["id"], "diedOn": died.isoformat()}},
    )
    assert data["recordDeath"]["errors"] == []
    async with db(api) as s:
        row = await s.get(tekun.TekunCase, case_pk)
        assert row.status.value == "terminated"
        assert row.termination_reason.value == "died"
        assert row.ends_after == tekun.rules.month_end(died)
        rows = await _tekun_enrolments(s, person["pk"])
        assert rows[-1].status == EnrolmentStatus.ACTIVE
        assert rows[-1].end_on == tekun.rules.month_end(died)


async def test_imprisonment_ends_tekun_support_after_notice(api) -> None:
    """特困 ends when the person is imprisoned: notice from the day the registry
    records it, support until the end of the month the 7-day notice ends in.
    Other whereabouts (in an institution) change nothing."""
    from minzheng.plugins.social_assistance.services import tekun

    await set_standard(api)
    person = await elderly_alone(api)
    case_pk = await _active_tekun(api, person)
    update = """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) {
        person { version } errors { code } } }"""
    moved = await api.gql(
        update, {"i": {"id": person["id"], "version": 1, "whereabouts": "IN_INSTITUTION"}}
    )
    assert moved["updatePerson"]["errors"] == []
    async with db(api) as s:
        assert (await s.get(tekun.TekunCase, case_pk)).status.value == "active"
    version = moved["updatePerson"]["person"]["version"]
    jailed = await api.gql(
        update, {"i": {"id": person["id"], "version": version, "whereabouts": "IMPRISONED"}}
    )
    assert jailed["updatePerson"]["errors"] == []
    notice_end = TODAY + dt.timedelta(days=6)
    async with db(api) as s:
        row = await s.get(tekun.TekunCase, case_pk)
        assert row.status.value == "terminated"
        assert row.termination_reason.value == "imprisoned"
        assert row.termination_notice_on == TODAY
        assert row.ends_after == tekun.rules.month_end(notice_end)
        rows = await _tekun_enrolments(s, person["pk"])
        assert rows[-1].end_on == tekun.rules.month_end(notice_end)
        actions = list(
            await s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(case_pk)))
        )
        assert "social_assistance.tekun.imprisoned" in actions


async def test_a_change_of_health_calls_for_a_self_care_reassessment(api) -> None:
    """特困: a disability grade recorded for a supported person makes the case due
    for a self-care reassessment within 10 working days; the reassessment clears
    it, and may change the care allowance from the next month."""
    from minzheng.plugins.social_assistance.services import common, tekun

    await set_standard(api)
    person = await elderly_alone(api)
    case_pk = await _active_tekun(api, person)
    changed = await api.gql(
        """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { errors { code } } }""",
        {
            "i": {
                "id": person["id"],
                "version": 1,
                "disabilityCategory": "PHYSICAL",
                "disabilityGrade": 2,
            }
        },
    )
    assert changed["updatePerson"]["errors"] == []
    due = common.calendar().add_working_days(TODAY, 10)
    query = """query($id: ID!) { extremePovertySupportCase(id: $id) {
        status version selfCareLevel selfCareChangedOn selfCareChange dueOn overdue } }"""
    gid = ids.encode("ExtremePovertySupportCase", case_pk)
    case = (await api.gql(query, {"id": gid}))["extremePovertySupportCase"]
    assert case["status"] == "ACTIVE"
    assert case["selfCareChangedOn"] == TODAY.isoformat()
    assert case["selfCareChange"] == "残疾类别、残疾等级"
    assert (case["dueOn"], case["overdue"]) == (due.isoformat(), False)

    managed = {a: a != tekun.rules.Activity.BATHING for a in tekun.rules.Activity}
    async with db(api) as s:
        await tekun.assess_self_care(s, case_pk, case["version"], managed=managed, on=TODAY)
    after = (await api.gql(query, {"id": gid}))["extremePovertySupportCase"]
    assert after["selfCareChangedOn"] is None and after["selfCareChange"] is None
    assert after["dueOn"] is None
    assert after["selfCareLevel"] != case["selfCareLevel"]


# ------------------------------------------------------------------- 临时救助

TA = "id pk number status version amountFen approverLevel paperworkDueOn paymentMonth dueOn"
TA_APPLY = f"""mutation($input: ApplyForTemporaryAssistanceInput!) {{
  applyForTemporaryAssistance(input: $input) {{ case {{ {TA} fundEntry {{ amountFen }} }}
  {ERRORS} }} }}"""
TA_PAPERWORK = f"""mutation($input: CompleteTemporaryAssistancePaperworkInput!) {{
  completeTemporaryAssistancePaperwork(input: $input) {{ case {{ {TA} }} {ERRORS} }} }}"""
TA_APPROVE = f"""mutation($input: CaseStepInput!) {{
  approveTemporaryAssistance(input: $input) {{ case {{ {TA} }} {ERRORS} }} }}"""
TOP_UP = """mutation($input: TopUpReserveFundInput!) {
  topUpReserveFund(input: $input) {
    fund { townshipCode balanceFen entries { edges { node { kind amountFen } } } }
    entry { amountFen } errors { __typename code message ... on ValidationError { field } } } }"""
FUND = """query { reserveFund(townshipCode: "410823101") { balanceFen
  entries(first: 10) { edges { node { kind amountFen temporaryCase { number } } } } } }"""


async def test_emergency_help_draws_the_reserve_fund_and_never_overdraws(api) -> None:
    await set_standard(api)
    hh = await register(api, members=[member("孙急难")])
    person = hh["members"][0]["person"]
    bad = await api.gql(TOP_UP, {"input": {"townshipCode": TOWNSHIP, "amountFen": 0}})
    assert bad["topUpReserveFund"]["errors"][0]["field"] == "input.amountFen"
    village = await api.gql(TOP_UP, {"input": {"townshipCode": "410823101201", "amountFen": 1}})
    assert village["topUpReserveFund"]["errors"][0]["code"] == "region.level"
    up = await api.gql(TOP_UP, {"input": {"townshipCode": TOWNSHIP, "amountFen": 150_000}})
    assert up["topUpReserveFund"]["fund"]["balanceFen"] == 150_000

    # exactly the balance: paid, balance 0
    res = await step(
        api,
        TA_APPLY,
        "applyForTemporaryAssistance",
        personId=person["id"],
        kind="EMERGENCY",
        cause="火灾",
        needFen=150_000,
    )
    assert res["errors"] == [], res
    case = res["case"]
    assert case["status"] == "PAPERWORK_DUE" and case["amountFen"] == 150_000
    assert case["fundEntry"]["amountFen"] == -150_000
    assert case["approverLevel"] == "township" and case["dueOn"] == case["paperworkDueOn"]
    fund = (await api.gql(FUND))["reserveFund"]
    assert fund["balanceFen"] == 0
    assert sum(e["node"]["amountFen"] for e in fund["entries"]["edges"]) == 0

    # one fen more than the balance: refused, nothing written
    cases, entries = await count(api, TemporaryCase), await count(api, ReserveFundEntry)
    over = await step(
        api,
        TA_APPLY,
        "applyForTemporaryAssistance",
        personId=person["id"],
        kind="EMERGENCY",
        cause="火灾",
        needFen=1,
    )
    assert over["case"] is None and over["errors"][0]["__typename"] == "ConflictError"
    assert "备用金余额不足" in over["errors"][0]["message"]
    assert (await count(api, TemporaryCase), await count(api, ReserveFundEntry)) == (cases, entries)

    no_docs = await step(
        api,
        TA_PAPERWORK,
        "completeTemporaryAssistancePaperwork",
        caseId=case["id"],
        version=case["version"],
        documents=[],
    )
    assert no_docs["errors"][0]["code"] == "document.missing"
    done = await step(
        api,
        TA_PAPERWORK,
        "completeTemporaryAssistancePaperwork",
        caseId=case["id"],
        version=case["version"],
        documents=["火灾证明"],
    )
    assert done["case"]["status"] == "COMPLETED" and done["case"]["dueOn"] is None


async def test_expenditure_help_is_paid_on_the_next_payroll(api) -> None:
    await set_standard(api)
    hh = await register(api, members=[member("周支出"), member("周妻", "SPOUSE", male=False)])
    person = hh["members"][0]["person"]
    res = await step(
        api,
        TA_APPLY,
        "applyForTemporaryAssistance",
        personId=person["id"],
        kind="EXPENDITURE",
        cause="重病住院自付费用",
        needFen=500_000,
    )
    case = res["case"]
    # capped at 6 × the standard; above the township's 2 000 yuan: county approves
    assert case["amountFen"] == 6 * RURAL_STD and case["approverLevel"] == "county"
    township_officer = api.as_("admin", region="410823101")
    refused = await step(
        township_officer,
        TA_APPROVE,
        "approveTemporaryAssistance",
        caseId=case["id"],
        version=case["version"],
    )
    assert refused["errors"][0]["__typename"] == "ForbiddenError"
    case = (
        await step(
            api,
            TA_APPROVE,
            "approveTemporaryAssistance",
            caseId=case["id"],
            version=case["version"],
        )
    )["case"]
    assert case["status"] == "APPROVED" and case["paymentMonth"] == months_ago(-1).isoformat()
    gen = await api.gql(
        """mutation($input: GeneratePayrollInput!) {
        generatePayroll(input: $input) { payroll { totalFen lines { edges { node {
          amountFen person { pk } } } } } errors { code message } } }""",
        {
            "input": {
                "programme": "temporary_assistance",
                "regionCode": "410823",
                "month": months_ago(-1).isoformat(),
            }
        },
    )
    p = gen["generatePayroll"]
    assert p["errors"] == [] and p["payroll"]["totalFen"] == 6 * RURAL_STD
    # and only that month
    after = await api.gql(
        """mutation($input: GeneratePayrollInput!) {
        generatePayroll(input: $input) { payroll { totalFen } errors { code } } }""",
        {
            "input": {
                "programme": "temporary_assistance",
                "regionCode": "410823",
                "month": months_ago(-2).isoformat(),
            }
        },
    )
    assert after["generatePayroll"]["payroll"]["totalFen"] == 0


TA_RECOVER = f"""mutation($input: RecoverTemporaryAssistanceInput!) {{
  recoverTemporaryAssistance(input: $input) {{
    case {{ {TA} recoveredFen recoveryReason fundEntry {{ kind amountFen }}
      fundReturns {{ kind amountFen bookedOn note temporaryCase {{ number }} }} }}
    {ERRORS} }} }}"""


async def test_emergency_help_recovered_goes_back_to_the_fund(api) -> None:
    await set_standard(api)
    hh = await register(api, members=[member("钱追回")])
    person = hh["members"][0]["person"]
    await api.gql(TOP_UP, {"input": {"townshipCode": TOWNSHIP, "amountFen": 200_000}})
    paid = await step(
        api,
        TA_APPLY,
        "applyForTemporaryAssistance",
        personId=person["id"],
        kind="EMERGENCY",
        cause="火灾",
        needFen=120_000,
    )
    case = paid["case"]
    assert case["amountFen"] == 120_000
    assert (await api.gql(FUND))["reserveFund"]["balanceFen"] == 80_000

    async def recover(who=api, **values):
        values.setdefault("caseId", case["id"])
        values.setdefault("version", case["version"])
        values.setdefault("reason", "虚报火灾损失")
        return await step(who, TA_RECOVER, "recoverTemporaryAssistance", **values)

    # bad inputs: a clear error each, and nothing written
    entries = await count(api, ReserveFundEntry)
    for values, code in (
        ({"amountFen": 0}, "amount.not_positive"),
        ({"amountFen": -5}, "amount.not_positive"),
        ({"amountFen": 120_001}, "amount.above_paid"),
        ({"amountFen": 10, "reason": "  "}, "text.required"),
        ({"amountFen": 10, "reason": "理" * 201}, "text.too_long"),
        ({"amountFen": 10, "on": (TODAY + dt.timedelta(days=1)).isoformat()}, "date.future"),
    ):
        bad = await recover(**values)
        assert bad["case"] is None and bad["errors"][0]["code"] == code, (values, bad)
    viewer = await api.as_("viewer").gql(
        TA_RECOVER,
        {
            "input": {
                "caseId": case["id"],
                "version": case["version"],
                "amountFen": 10,
                "reason": "x",
            }
        },
        expect_errors=True,
    )
    assert viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count(api, ReserveFundEntry) == entries
    assert (await api.gql(FUND))["reserveFund"]["balanceFen"] == 80_000

    part = await recover(amountFen=50_000)
    assert part["errors"] == [], part
    case = part["case"]
    assert case["recoveredFen"] == 50_000 and case["recoveryReason"] == "虚报火灾损失"
    assert case["fundEntry"] == {"kind": "DRAW", "amountFen": -120_000}
    assert [(r["kind"], r["amountFen"]) for r in case["fundReturns"]] == [("RETURN", 50_000)]
    assert case["fundReturns"][0]["temporaryCase"]["number"] == case["number"]
    assert (await api.gql(FUND))["reserveFund"]["balanceFen"] == 130_000

    # the rest, and not a fen more
    more = await recover(amountFen=70_001)
    assert more["errors"][0]["code"] == "amount.above_paid"
    rest = await recover(amountFen=70_000, reason="重复救助")
    assert rest["case"]["recoveredFen"] == 120_000
    assert [r["amountFen"] for r in rest["case"]["fundReturns"]] == [50_000, 70_000]
    assert (await api.gql(FUND))["reserveFund"]["balanceFen"] == 200_000
    async with db(api) as s:
        actions = (
            await s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity_type == "TemporaryCase",
                    AuditEntry.entity_id == str(case["pk"]),
                )
            )
        ).all()
    assert actions.count("social_assistance.temporary.recover") == 2

    # expenditure help is paid by payroll, not from the fund
    other = await step(
        api,
        TA_APPLY,
        "applyForTemporaryAssistance",
        personId=person["id"],
        kind="EXPENDITURE",
        cause="重病住院自付费用",
        needFen=10_000,
    )
    approved = await step(
        api,
        TA_APPROVE,
        "approveTemporaryAssistance",
        caseId=other["case"]["id"],
        version=other["case"]["version"],
    )
    wrong = await recover(
        caseId=approved["case"]["id"], version=approved["case"]["version"], amountFen=1
    )
    assert wrong["errors"][0]["__typename"] == "IllegalTransitionError"
