"""Work offered to 低保 members able to work: three refusals in a row let the
county withhold the member's own share from the next month; taking up work
ends it.  Over HTTP, with typed errors that write nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from factories import member, register
from sqlalchemy import select

from minzheng.core.models import AuditEntry, Enrolment, EnrolmentStatus
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import DibaoCase, DibaoMember, DibaoWorkOffer
from minzheng.plugins.social_assistance.tests.helpers import (
    CASE_FIELDS,
    CLOSE,
    ERRORS,
    RURAL_STD,
    TODAY,
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
DECIDED = APPLIED + dt.timedelta(days=12)  # active_case: notice posted +3, decided +9 after
NEXT_MONTH = months_ago(-1)
FIELDS = CASE_FIELDS.replace(
    "coveredMembers { person { pk name } removedOn }",
    "coveredMembers { person { pk name } shareWithheldFrom shareWithheldReason }"
    " workOffers { person { pk } offeredOn description accepted recordedBy }",
)
OFFER = f"""
mutation($input: RecordMinimumLivingGuaranteeWorkOfferInput!) {{
  recordMinimumLivingGuaranteeWorkOffer(input: $input) {{
    case {{ {FIELDS} }} refusalsInARow shareRestored {ERRORS}
  }}
}}
"""
WITHHOLD = f"""
mutation($input: WithholdMinimumLivingGuaranteeShareInput!) {{
  withholdMinimumLivingGuaranteeShare(input: $input) {{ case {{ {FIELDS} }} {ERRORS} }}
}}
"""


async def household(api, spouse_capacity: str = "FULL"):
    hh = await register(
        api,
        members=[
            member("张三"),
            member("李四", "SPOUSE", male=False, labourCapacity=spouse_capacity),
            member("张小", "CHILD", birth=dt.date(2015, 3, 1)),
        ],
    )
    await monthly_income(api, hh["pk"], 3 * 20_000)  # 200 a head
    return hh


async def offer(api, case, person, on: dt.date, accepted: bool = False, **extra):
    data = await step(
        api,
        OFFER,
        "recordMinimumLivingGuaranteeWorkOffer",
        caseId=case["id"],
        version=case["version"],
        personId=person["id"],
        description=extra.pop("description", "镇工业园区包装工，月薪2000元"),
        accepted=accepted,
        on=on.isoformat(),
        **extra,
    )
    return data


async def dibao_enrolments(api, household_pk: int) -> list[tuple]:
    async with db(api) as s:
        rows = await s.scalars(
            select(Enrolment)
            .where(Enrolment.household_id == household_pk, Enrolment.programme == "dibao")
            .order_by(Enrolment.id)
        )
        return [(r.status, r.start_on, r.end_on, r.monthly_amount_fen) for r in rows]


async def audit_actions(api, case_pk: int) -> list[str]:
    async with db(api) as s:
        rows = await s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "DibaoCase", AuditEntry.entity_id == str(case_pk))
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_three_refusals_in_a_row_let_the_county_withhold_the_members_share(
    make_api,
) -> None:
    api = make_api()
    township = make_api(region="410823101")
    await set_standard(api)
    hh = await household(api)
    head = hh["members"][0]["person"]
    case = await active_case(api, hh, applied=APPLIED)
    assert case["monthlyAmountFen"] == 3 * (RURAL_STD - 20_000)

    # refused, refused, taken up, refused, refused: two in a row, not enough
    days = [DECIDED + dt.timedelta(days=n) for n in (2, 5, 9, 14, 20, 26)]
    pattern = zip(days[:5], (False, False, True, False, False), (1, 2, 0, 1, 2), strict=True)
    for on, took, streak in pattern:
        out = await offer(township, case, head, on, accepted=took)
        assert out["errors"] == [] and out["refusalsInARow"] == streak
        assert out["shareRestored"] is False
        case = out["case"]
    assert case["flaggedReason"] is None
    early = await step(
        api,
        WITHHOLD,
        "withholdMinimumLivingGuaranteeShare",
        caseId=case["id"],
        version=case["version"],
        personId=head["id"],
    )
    assert early["case"] is None
    assert early["errors"][0]["code"] == "work.refusals_too_few"
    assert "2 refusal(s)" in early["errors"][0]["message"]

    # the third refusal in a row puts the case before the county
    out = await offer(township, case, head, days[5])
    assert out["errors"] == [] and out["refusalsInARow"] == 3
    case = out["case"]
    assert case["flaggedReason"] == "连续三次拒绝介绍的工作"
    assert case["monthlyAmountFen"] == 3 * (RURAL_STD - 20_000)  # nothing withheld yet
    assert [o["accepted"] for o in case["workOffers"]] == [False, False, True, False, False, False]
    assert {o["recordedBy"] for o in case["workOffers"]} == {"admin@410823101"}

    # the county decides, not the township
    denied = await step(
        township,
        WITHHOLD,
        "withholdMinimumLivingGuaranteeShare",
        caseId=case["id"],
        version=case["version"],
        personId=head["id"],
    )
    assert denied["errors"][0]["__typename"] == "ForbiddenError"
    # not dated before the refusal it rests on; nothing withheld
    early_date = await step(
        api,
        WITHHOLD,
        "withholdMinimumLivingGuaranteeShare",
        caseId=case["id"],
        version=case["version"],
        personId=head["id"],
        on=DECIDED.isoformat(),
    )
    assert early_date["case"] is None
    assert early_date["errors"][0]["code"] == "date.before_refusal"
    assert await count(api, DibaoMember, DibaoMember.share_withheld_from.is_not(None)) == 0
    withheld = await step(
        api,
        WITHHOLD,
        "withholdMinimumLivingGuaranteeShare",
        caseId=case["id"],
        version=case["version"],
        personId=head["id"],
    )
    assert withheld["errors"] == []
    case = withheld["case"]
    # the member still counts in the per-capita income (200); two shares are paid
    assert case["monthlyAmountFen"] == 2 * (RURAL_STD - 20_000)
    assert case["perCapitaIncomeFen"] == 20_000
    assert case["flaggedReason"] is None and case["flaggedReviewOn"] is None
    mine = next(m for m in case["coveredMembers"] if m["person"]["pk"] == head["pk"])
    assert mine == {
        "person": {"pk": head["pk"], "name": "张三"},
        "shareWithheldFrom": NEXT_MONTH.isoformat(),
        "shareWithheldReason": "连续3次拒绝介绍的工作",
    }
    assert (await dibao_enrolments(api, hh["pk"]))[-1] == (
        EnrolmentStatus.ACTIVE,
        NEXT_MONTH,
        None,
        2 * (RURAL_STD - 20_000),
    )
    again = await step(
        api,
        WITHHOLD,
        "withholdMinimumLivingGuaranteeShare",
        caseId=case["id"],
        version=case["version"],
        personId=head["id"],
    )
    assert again["errors"][0]["__typename"] == "ConflictError"

    # a new standard keeps the share withheld
    await set_standard(api, effective_from=NEXT_MONTH.isoformat(), dibao=60_000)
    async with db(api) as s:
        row = await s.get(DibaoCase, case["pk"])
        assert row.monthly_amount_fen == 2 * (60_000 - 20_000)

    # taking up work ends the withholding from the next month
    async with db(api) as s:
        version = (await s.get(DibaoCase, case["pk"])).version
    out = await offer(township, {**case, "version": version}, head, TODAY, accepted=True)
    assert out["errors"] == [] and out["shareRestored"] is True and out["refusalsInARow"] == 0
    assert out["case"]["monthlyAmountFen"] == 3 * (60_000 - 20_000)
    assert (await dibao_enrolments(api, hh["pk"]))[-1][1:] == (
        NEXT_MONTH,
        None,
        3 * (60_000 - 20_000),
    )
    actions = await audit_actions(api, case["pk"])
    assert actions.count("social_assistance.dibao.work_offer") == 7
    assert actions.count("social_assistance.dibao.share_withheld") == 1


async def test_work_offer_errors_write_nothing(api) -> None:
    await set_standard(api)
    hh = await household(api, spouse_capacity="NONE")
    head, spouse = hh["members"][0]["person"], hh["members"][1]["person"]
    other = (await register(api))["members"][0]["person"]
    case = await active_case(api, hh, applied=APPLIED)
    first = await offer(api, case, head, DECIDED + dt.timedelta(days=10))
    assert first["errors"] == []
    case = first["case"]

    async def refused(typename: str, code: str | None, **changes):
        args = {"case": case, "person": head, "on": DECIDED + dt.timedelta(days=12)}
        args.update(changes)
        before = (
            await count(api, DibaoWorkOffer),
            await count(api, AuditEntry),
            await count(api, DibaoMember, DibaoMember.share_withheld_from.is_not(None)),
        )
        out = await offer(api, args.pop("case"), args.pop("person"), args.pop("on"), **args)
        assert out["case"] is None and out["refusalsInARow"] is None
        error = out["errors"][0]
        assert error["__typename"] == typename, error
        assert code is None or error["code"] == code, error
        after = (
            await count(api, DibaoWorkOffer),
            await count(api, AuditEntry),
            await count(api, DibaoMember, DibaoMember.share_withheld_from.is_not(None)),
        )
        assert after == before
        async with db(api) as s:
            assert (await s.get(DibaoCase, case["pk"])).version == case["version"]
        return error

    await refused("ValidationError", "member.not_covered", person=other)
    error = await refused("ValidationError", "member.unable_to_work", person=spouse)
    assert error["field"] == "input.personId"
    await refused("ValidationError", "date.future", on=TODAY + dt.timedelta(days=1))
    await refused("ValidationError", "date.before_approval", on=APPLIED)
    error = await refused("ValidationError", "date.out_of_order", on=DECIDED)
    assert str(DECIDED + dt.timedelta(days=10)) in error["message"]
    await refused("ValidationError", "text.required", description="   ")
    await refused("ValidationError", "text.too_long", description="岗" * 301)
    await refused("ConflictError", None, case={**case, "version": case["version"] - 1})

    # a bad ID is refused as such
    bad = await offer(api, case, {"id": "not-an-id"}, TODAY)
    assert bad["case"] is None and bad["errors"][0]["__typename"] == "ValidationError"

    # only an active case takes offers
    closed = await ok(
        api,
        CLOSE,
        "closeMinimumLivingGuarantee",
        caseId=case["id"],
        version=case["version"],
        reason="迁出本县",
    )
    out = await offer(api, closed, head, TODAY)
    assert out["errors"][0]["__typename"] == "IllegalTransitionError"
    assert await count(api, DibaoWorkOffer) == 1


def test_refusals_in_a_row() -> None:
    assert rules.refusals_in_a_row([]) == 0
    assert rules.refusals_in_a_row([False, False, False]) == 3
    assert rules.refusals_in_a_row([False, False, True, False]) == 1
    assert rules.refusals_in_a_row([False, True]) == 0


def test_withheld_shares_still_count_in_the_per_capita_income() -> None:
    care = dict.fromkeys(rules.SelfCareLevel, 0)
    std = rules.Standard(dibao_fen=50_000, tekun_basic_fen=65_000, care_fen=care)
    full = rules.dibao_amount(20_000, 3, std)
    one_out = rules.dibao_amount(20_000, 3, std, withheld=1)
    assert (full.amount_fen, one_out.amount_fen) == (90_000, 60_000)
    assert "1 人连续拒绝就业" in one_out.reasons[-1].detail
    tiered = rules.Standard(
        dibao_fen=50_000,
        tekun_basic_fen=65_000,
        care_fen=care,
        amount_mode=rules.AmountMode.TIERED,
        tiers=(
            rules.Tier("A", Decimal("0.5"), Decimal("0.8")),
            rules.Tier("B", Decimal("1"), Decimal("0.4")),
        ),
    )
    assert rules.dibao_amount(20_000, 2, tiered, withheld=1).amount_fen == 40_000
    with pytest.raises(ValueError, match="withheld"):
        rules.dibao_amount(20_000, 2, std, withheld=3)
