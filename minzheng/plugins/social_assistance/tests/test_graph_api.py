"""Standards history, explanations, near poverty, 单人户, statistics and scope, payroll over
HTTP, no N+1, and the plugin disappearing when disabled."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io

from factories import member, register
from openpyxl import load_workbook
from sqlalchemy import create_engine as sync_engine
from sqlalchemy import inspect as sa_inspect

from minzheng.core.plugins import load
from minzheng.plugins.social_assistance.tests.helpers import (
    APPLY,
    RURAL_STD,
    TODAY,
    active_case,
    db,
    monthly_income,
    months_ago,
    ok,
    set_standard,
)
from minzheng.schema.builder import build_schema

APPLIED = TODAY - dt.timedelta(days=60)


async def test_standards_history_and_inheritance(api) -> None:
    await set_standard(api, effective_from="2024-01-01", dibao=46_000)
    await set_standard(api, effective_from="2025-04-01", dibao=48_000, phaseOutMaxMonths=6)
    await set_standard(api, area="URBAN", effective_from="2024-01-01", dibao=67_000)
    await set_standard(api, region="410823101", effective_from="2025-01-01", dibao=47_500)
    q = """query($code: String!, $on: Date!) {
      socialAssistanceStandard(regionCode: $code, area: RURAL, on: $on) {
        regionCode effectiveFrom minimumLivingStandardFen phaseOutMaxMonths } }"""

    async def std(code: str, on: str):
        return (await api.gql(q, {"code": code, "on": on}))["socialAssistanceStandard"]

    # "what was the rural standard in 武陟县 in March 2025?"
    assert (await std("410823", "2025-03-15"))["minimumLivingStandardFen"] == 46_000
    assert (await std("410823102201", "2025-04-01"))["phaseOutMaxMonths"] == 6
    assert (await std("410823101201", "2025-03-15"))[
        "minimumLivingStandardFen"
    ] == 47_500  # township's own
    assert (await std("410823", "2023-12-31")) is None
    history = await api.gql("""{ socialAssistanceStandards(regionCode: "410823101201", area: RURAL)
        { regionCode effectiveFrom } }""")
    assert [r["effectiveFrom"] for r in history["socialAssistanceStandards"]] == [
        "2025-04-01",
        "2025-01-01",
        "2024-01-01",
    ]
    clash = await set_standard(api, effective_from="2024-01-01")
    assert clash["errors"][0]["__typename"] == "ConflictError"
    bad = await set_standard(api, effective_from="2026-01-01", phaseOutMultiple="0.9")
    assert bad["errors"][0]["code"] == "standard.invalid"
    tiered = await set_standard(api, effective_from="2026-01-01", amountMode="TIERED")
    assert "needs tiers" in tiered["errors"][0]["message"]
    township_level = await set_standard(api, region="4108", effective_from="2026-01-01")
    assert township_level["errors"][0]["code"] == "region.level"


async def test_new_standard_recomputes_active_amounts_from_its_date(api) -> None:
    await set_standard(api)
    hh = await register(api)
    await monthly_income(api, hh["pk"], 3 * 20_000)
    case = await active_case(api, hh, applied=APPLIED)
    assert case["monthlyAmountFen"] == 3 * (RURAL_STD - 20_000)
    raised = months_ago(-1)
    await set_standard(api, effective_from=raised.isoformat(), dibao=RURAL_STD + 5_000)
    data = await api.gql(
        """query($id: ID!) { household(id: $id) {
        enrolments(currentOnly: false) { status startOn endOn monthlyAmountFen } } }""",
        {"id": hh["id"]},
    )
    rows = [r for r in data["household"]["enrolments"] if r["startOn"] == raised.isoformat()]
    assert rows == [
        {
            "status": "ACTIVE",
            "startOn": raised.isoformat(),
            "endOn": None,
            "monthlyAmountFen": 3 * (RURAL_STD + 5_000 - 20_000),
        }
    ]


async def test_eligibility_explanation_lists_every_rule(api) -> None:
    await set_standard(api)
    hh = await register(api)
    await monthly_income(api, hh["pk"], 3 * 20_000)
    data = await api.gql(
        """query($id: ID!) {
      socialAssistanceEligibility(programme: DIBAO, householdId: $id) {
        programme eligible amountFenAlias: amountFen asOf
        rules { rule title passed detail inputs { name value } } } }""",
        {"id": hh["id"]},
    )
    e = data["socialAssistanceEligibility"]
    assert (e["eligible"], e["amountFenAlias"]) == (True, 3 * (RURAL_STD - 20_000))
    rules = {r["rule"]: r for r in e["rules"]}
    assert {
        "standard.in_force",
        "income.record",
        "income.per_capita",
        "dibao.income_below_standard",
        "dibao.amount.gap",
        "assets.within_limit",
    } <= set(rules)
    assert rules["dibao.income_below_standard"]["passed"] is True
    assert {"name": "per_capita_fen", "value": "20000"} in rules["income.per_capita"]["inputs"]
    missing = await api.gql(
        """{ socialAssistanceEligibility(programme: TEKUN) { eligible } }""", expect_errors=True
    )
    assert missing["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_near_poverty_and_single_person_household(api) -> None:
    await set_standard(api)
    disabled = member(
        "吴重残",
        "CHILD",
        birth=dt.date(1990, 1, 1),
        disabilityCategory="PHYSICAL",
        disabilityGrade=1,
    )
    hh = await register(api, members=[member("吴父", birth=dt.date(1960, 1, 1)), disabled])
    # per capita 600: above the standard (500), below 1.5 × (750)
    await monthly_income(api, hh["pk"], 2 * 60_000, person_pk=hh["members"][0]["person"]["pk"])
    res = await api.gql(
        """mutation($input: DetermineNearPovertyInput!) {
        determineNearPoverty(input: $input) { determination { nearPoverty perCapitaIncomeFen
          reasons { rule passed } } errors { code } } }""",
        {"input": {"householdId": hh["id"]}},
    )
    d = res["determineNearPoverty"]["determination"]
    assert d["nearPoverty"] is True and d["perCapitaIncomeFen"] == 60_000
    listed = await api.gql("""{ nearPovertyHouseholds(regionCode: "410823") {
        totalCount edges { node { number nearPoverty { nearPoverty } } } } }""")
    assert listed["nearPovertyHouseholds"]["totalCount"] == 1

    # the severely disabled member alone: 单人户, assessed on his own (nil) income
    son = hh["members"][1]["person"]
    case = await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=hh["id"],
        applicantId=son["id"],
        coveredMemberIds=[son["id"]],
        singlePerson=True,
        appliedOn=APPLIED.isoformat(),
    )
    data = await api.gql(
        """query($id: ID!) {
      socialAssistanceEligibility(programme: DIBAO_SINGLE_PERSON, personId: $id) {
        eligible amountFen rules { rule passed } } }""",
        {"id": son["id"]},
    )
    e = data["socialAssistanceEligibility"]
    assert (e["eligible"], e["amountFen"]) == (True, RURAL_STD)
    assert {"rule": "single.severe_condition", "passed": True} in e["rules"]
    assert case["status"] == "APPLIED"
    # the father is not severely disabled: not a 单人户
    dad = await api.gql(
        """query($id: ID!) {
      socialAssistanceEligibility(programme: DIBAO_SINGLE_PERSON, personId: $id) {
        eligible rules { rule passed } } }""",
        {"id": hh["members"][0]["person"]["id"]},
    )
    assert dad["socialAssistanceEligibility"]["eligible"] is False


STATS = """query($code: String!) { regionStatistics(code: $code) { socialAssistance {
  programmes { programme households persons monthlyAmountFen }
  minimumLivingGuaranteeByStatus { status count } casesOverdue reviewsOverdue phaseOuts
  temporaryAssistance { cases amountFen } reserveFundBalanceFen } } }"""


async def test_region_statistics_in_sql_and_within_scope(make_api) -> None:
    api = make_api()
    await set_standard(api)
    hh = await register(api)
    await monthly_income(api, hh["pk"], 3 * 20_000)
    await active_case(api, hh, applied=APPLIED)
    other = await register(api, members=[member("郑"), member("郑妻", "SPOUSE", male=False)])
    members = [m["person"]["id"] for m in other["members"]]
    await ok(
        api,
        APPLY,
        "applyForMinimumLivingGuarantee",
        householdId=other["id"],
        applicantId=members[0],
        coveredMemberIds=members,
        appliedOn=(TODAY - dt.timedelta(days=30)).isoformat(),
    )
    stats = (await api.gql(STATS, {"code": "410823"}))["regionStatistics"]["socialAssistance"]
    dibao = next(p for p in stats["programmes"] if p["programme"] == "dibao")
    assert dibao == {
        "programme": "dibao",
        "households": 1,
        "persons": 3,
        "monthlyAmountFen": 3 * (RURAL_STD - 20_000),
    }
    assert {"status": "APPLIED", "count": 1} in stats["minimumLivingGuaranteeByStatus"]
    assert stats["casesOverdue"] == 1  # the application waiting 30 days for investigation
    # another county's officer sees none of it, even asking for 武陟县
    wen = make_api(region="410825")
    seen = (await wen.gql(STATS, {"code": "410823"}))["regionStatistics"]
    assert seen is None or seen["socialAssistance"]["programmes"][0]["households"] == 0
    city = (await wen.gql(STATS, {"code": "4108"}))["regionStatistics"]["socialAssistance"]
    assert city["programmes"][0]["households"] == 0 and city["casesOverdue"] == 0


async def test_payroll_over_http_with_exports(api) -> None:
    await set_standard(api)
    hh = await register(api)
    await monthly_income(api, hh["pk"], 3 * 20_000)
    case = await active_case(api, hh, applied=APPLIED)
    month = case["paymentFrom"]
    gen_q = """mutation($input: GeneratePayrollInput!) { generatePayroll(input: $input) {
        created changes { change kind householdId newAmountFen }
        payroll { id status version lineCount totalFen
          lines(first: 10) { totalCount edges { node { kind amountFen coversMonth
            household { number } } } } }
        errors { __typename code message ... on ValidationError { field } } } }"""
    inp = {"programme": "dibao", "regionCode": "410823", "month": month}
    first = (await api.gql(gen_q, {"input": inp}))["generatePayroll"]
    assert first["errors"] == [] and first["created"] is True
    assert first["payroll"]["totalFen"] == 3 * (RURAL_STD - 20_000)
    assert first["changes"][0]["change"] == "ADDED"
    again = (await api.gql(gen_q, {"input": inp}))["generatePayroll"]
    assert (again["created"], again["changes"]) == (False, [])
    assert again["payroll"]["version"] == first["payroll"]["version"]
    bad = (await api.gql(gen_q, {"input": {**inp, "month": month[:8] + "15"}}))["generatePayroll"]
    assert bad["errors"][0]["field"] == "input.month"
    level = await api.gql(gen_q, {"input": {**inp, "regionCode": "410823101"}})
    assert level["generatePayroll"]["errors"][0]["code"] == "level"
    unknown = await api.gql(gen_q, {"input": {**inp, "programme": "nope"}})
    assert unknown["generatePayroll"]["errors"][0]["code"] == "unknown"

    approve_q = """mutation($input: ApprovePayrollInput!) { approvePayroll(input: $input) {
        payroll { status approvedBy version } errors { __typename code } } }"""
    pid, version = first["payroll"]["id"], first["payroll"]["version"]
    stale = await api.gql(approve_q, {"input": {"payrollId": pid, "version": version + 5}})
    assert stale["approvePayroll"]["errors"][0]["__typename"] == "ConflictError"
    done = await api.gql(approve_q, {"input": {"payrollId": pid, "version": version}})
    assert done["approvePayroll"]["payroll"]["status"] == "APPROVED"
    frozen = (await api.gql(gen_q, {"input": inp}))["generatePayroll"]
    assert frozen["errors"][0]["__typename"] == "IllegalTransitionError"

    export_q = """query($id: ID!, $f: PayrollExportFormat!) { payroll(id: $id) {
        export(format: $f) { filename mediaType contentBase64 } } }"""
    out = (await api.gql(export_q, {"id": pid, "f": "CSV"}))["payroll"]["export"]
    assert out["filename"] == f"payroll-dibao-410823-{month[:7]}.csv"
    rows = list(csv.reader(io.StringIO(base64.b64decode(out["contentBase64"]).decode("utf-8-sig"))))
    assert rows[0][:6] == ["序号", "乡镇（街道）", "村（社区）", "户编号", "姓名", "公民身份号码"]
    assert rows[1][4] == "张三" and rows[1][8] == "900.00" and "*" not in rows[1][5]
    out = (await api.gql(export_q, {"id": pid, "f": "XLSX"}))["payroll"]["export"]
    ws = load_workbook(io.BytesIO(base64.b64decode(out["contentBase64"])))["发放名册"]
    assert ws["A1"].value == "序号" and ws["E2"].value == "张三"
    from sqlalchemy import select

    from minzheng.core.models import AuditEntry

    async with db(api) as s:
        actions = set(await s.scalars(select(AuditEntry.action)))
    assert {"payroll.generate", "payroll.approve", "pii.read"} <= actions


async def test_case_lists_have_no_n_plus_one(api) -> None:
    await set_standard(api)
    for _ in range(6):
        hh = await register(api)
        members = [m["person"]["id"] for m in hh["members"]]
        await ok(
            api,
            APPLY,
            "applyForMinimumLivingGuarantee",
            householdId=hh["id"],
            applicantId=members[0],
            coveredMemberIds=members,
        )
    q = """query($n: Int!) { minimumLivingGuaranteeCases(first: $n) { edges { node {
        number household { number members { person { name } }
          minimumLivingGuarantee { current { number } } }
        applicant { name } coveredMembers { person { name } } standard { minimumLivingStandardFen }
        deadlines { dueOn } } } } }"""
    with api.count_statements() as two:
        await api.gql(q, {"n": 2})
    with api.count_statements() as six:
        data = await api.gql(q, {"n": 6})
    assert len(data["minimumLivingGuaranteeCases"]["edges"]) == 6
    # at most one statement per loader the query touches, whatever the page size:
    # cases, households, applicants, covered members, memberships, the household's
    # current case, and the covered members' persons. That last one is saved when
    # the memberships (which prime persons) arrive first, which is up to the
    # event loop, so the count may be 6 or 7 on either page, never more
    # (on PostgreSQL, besides the statement that sets the reader's scope).
    for seen in (two, six):
        reads = [s for s in seen if "set_config(" not in s]
        assert len(reads) <= 7, reads


async def test_several_root_fields_at_once(api) -> None:
    await set_standard(api)
    hh = await register(api)
    data = await api.gql(
        """query($id: ID!) {
      a: socialAssistanceStandard(regionCode: "410823", area: RURAL) { minimumLivingStandardFen }
      b: minimumLivingGuaranteeCases { totalCount }
      c: regionStatistics(code: "410823") { socialAssistance { phaseOuts } }
      d: household(id: $id) { minimumLivingGuarantee { current { number } } }
      e: socialAssistanceEligibility(programme: NEAR_POVERTY, householdId: $id) { eligible }
    }""",
        {"id": hh["id"]},
    )
    assert data["a"]["minimumLivingStandardFen"] == RURAL_STD and data["b"]["totalCount"] == 0


async def test_permissions_are_declared_on_fields(make_api) -> None:
    viewer = make_api(role="viewer")
    res = await viewer.gql(
        """mutation { topUpReserveFund(input: {townshipCode: "410823101",
        amountFen: 100}) { errors { code } } }""",
        expect_errors=True,
    )
    assert res["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_the_plugin_disappears_when_disabled(tmp_path) -> None:
    from minzheng.core import migrate

    with_it = str(build_schema(load(["social_assistance"])))
    without = str(build_schema(load([])))
    for needle in (
        "MinimumLivingGuaranteeCase",
        "minimumLivingGuarantee:",
        "extremePovertySupport:",
        "temporaryAssistance:",
        "socialAssistance:",
        "applyForMinimumLivingGuarantee(",
        "ReserveFund",
        "SocialAssistanceStandard",
    ):
        assert needle in with_it
        assert needle not in without
    path = tmp_path / "core.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}", load([]))
    tables = set(sa_inspect(sync_engine(f"sqlite:///{path}")).get_table_names())
    assert "household" in tables
    assert not [t for t in tables if t.startswith("social_assistance_")]
    migrate.upgrade(f"sqlite+aiosqlite:///{path}", load(["social_assistance"]))
    tables = set(sa_inspect(sync_engine(f"sqlite:///{path}")).get_table_names())
    assert "social_assistance_dibao_case" in tables


def test_migrations_match_the_models(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from minzheng.core import migrate
    from minzheng.core.db import Base

    path = tmp_path / "m.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}", load(["social_assistance"]))
    engine = sync_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, Base.metadata) if "social_assistance" in str(d)]
    assert diff == []


async def test_node_resolves_plugin_cases(api) -> None:
    """node(id:) finds the plugin's Node types through the contribution's ``nodes``."""
    await set_standard(api)
    hh = await register(api)
    await monthly_income(api, hh["pk"], 3 * 20_000)
    case = await active_case(api, hh, applied=APPLIED)
    data = await api.gql(
        """query($id: ID!) { node(id: $id) { __typename id
            ... on MinimumLivingGuaranteeCase { monthlyAmountFen } } }""",
        {"id": case["id"]},
    )
    assert data["node"] == {
        "__typename": "MinimumLivingGuaranteeCase",
        "id": case["id"],
        "monthlyAmountFen": case["monthlyAmountFen"],
    }


async def test_a_new_standard_reads_each_village_standard_and_the_members_once(api) -> None:
    await set_standard(api)
    cases = []
    for name in ("甲", "乙", "丙"):
        hh = await register(api, members=[member(f"{name}一"), member(f"{name}二", "SPOUSE")])
        await monthly_income(api, hh["pk"], 2 * 20_000)
        cases.append(await active_case(api, hh, applied=APPLIED))
    raised = months_ago(-1)
    with api.count_statements() as statements:
        await set_standard(api, effective_from=raised.isoformat(), dibao=RURAL_STD + 5_000)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    standard_reads = [s for s in reads if "FROM social_assistance_standard" in s]
    member_reads = [s for s in reads if "FROM social_assistance_dibao_member" in s]
    # one read of the standards per village and area (all three live in one
    # village), one of the members for every case: not one of each per case
    assert len(member_reads) == 1, member_reads
    assert len(standard_reads) <= 3, standard_reads
    async with db(api) as s:
        from minzheng.plugins.social_assistance.models import DibaoCase

        amounts = [(await s.get(DibaoCase, c["pk"])).monthly_amount_fen for c in cases]
    assert amounts == [2 * (RURAL_STD + 5_000 - 20_000)] * 3
