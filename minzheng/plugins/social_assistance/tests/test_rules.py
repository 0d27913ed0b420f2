"""The 社会救助 rules, table by table, with the boundaries that matter."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from minzheng.core.models import (
    AssetKind,
    DisabilityCategory,
    HukouType,
    IncomeSource,
    LabourCapacity,
)
from minzheng.plugins.social_assistance import rules as r

D = dt.date
STD = 60000  # 600.00 yuan / month

CARE = {
    r.SelfCareLevel.SELF_SUFFICIENT: 5000,
    r.SelfCareLevel.PARTLY_DEPENDENT: 20000,
    r.SelfCareLevel.FULLY_DEPENDENT: 60000,
}


def standard(**overrides: object) -> r.Standard:
    base: dict[str, object] = {"dibao_fen": STD, "tekun_basic_fen": 78000, "care_fen": CARE}
    base.update(overrides)
    return r.Standard(**base)  # type: ignore[arg-type]


S = standard()


def year_of(source: IncomeSource, amount: int, cost: int = 0, person: int | None = None):
    """A record covering the whole of 2024 (the 12-month window of an assessment in Jan 2025)."""
    return r.IncomeRecord(source, D(2024, 1, 1), D(2024, 12, 31), amount, cost, person)


AS_OF = D(2025, 1, 15)


# ----------------------------------------------------------------- income


@pytest.mark.parametrize(
    ("source", "counted"),
    [
        (IncomeSource.WAGES, True),
        (IncomeSource.BUSINESS, True),
        (IncomeSource.PROPERTY, True),
        (IncomeSource.TRANSFER, True),
        (IncomeSource.OTHER, True),
        (IncomeSource.BASIC_PENSION, False),
        (IncomeSource.SOCIAL_ASSISTANCE, False),
        (IncomeSource.PREFERENTIAL, False),
        (IncomeSource.AWARD, False),
        (IncomeSource.SCHOLARSHIP, False),
    ],
)
def test_only_counted_sources_are_income(source: IncomeSource, counted: bool) -> None:
    a = r.assess_income([year_of(source, 1_200_000)], [1], AS_OF, S)
    assert a.household_monthly_fen == (100_000 if counted else 0)
    assert a.per_capita_fen == (100_000 if counted else 0)
    record = a.reasons[0]
    assert record.rule == "income.record"
    assert ("不计入" in record.detail) is not counted


def test_per_capita_is_over_covered_members_and_monthly() -> None:
    a = r.assess_income([year_of(IncomeSource.WAGES, 1_440_000)], [1, 2, 3], AS_OF, S)
    assert (a.household_monthly_fen, a.members, a.per_capita_fen) == (120_000, 3, 40_000)
    assert (a.window_start, a.window_end) == (D(2024, 1, 1), D(2024, 12, 31))
    last = a.reasons[-1]
    assert last.rule == "income.per_capita"
    assert last.inputs["per_capita_fen"] == 40_000
    assert "人均 400.00元" in last.detail


def test_records_are_prorated_to_the_window() -> None:
    # 2024-07-01 … 2025-06-30: only the half inside 2024 counts
    rec = r.IncomeRecord(IncomeSource.BUSINESS, D(2024, 7, 1), D(2025, 6, 30), 730_000)
    a = r.assess_income([rec], [1], AS_OF, S)
    # 184 of 365 days fall in the window: 730000 × 184/365 = 368000 → /12
    assert a.household_monthly_fen == r.round_fen(r.Fraction(368_000, 12))
    outside = r.IncomeRecord(IncomeSource.WAGES, D(2023, 1, 1), D(2023, 12, 31), 999_999)
    b = r.assess_income([outside], [1], AS_OF, S)
    assert b.per_capita_fen == 0
    assert "不在核算期" in b.reasons[0].detail


def test_window_length_is_a_setting() -> None:
    six = standard(income_window_months=6)
    a = r.assess_income([year_of(IncomeSource.WAGES, 1_200_000)], [1], AS_OF, six)
    assert (a.window_start, a.window_end) == (D(2024, 7, 1), D(2024, 12, 31))
    # half of the year's record is in the window, over 6 months
    assert a.per_capita_fen == r.round_fen(r.Fraction(1_200_000 * 184, 366 * 6))


def test_income_of_persons_not_covered_is_left_out() -> None:
    recs = [
        year_of(IncomeSource.WAGES, 120_000, person=1),
        year_of(IncomeSource.WAGES, 1_200_000, person=9),  # not covered (e.g. imprisoned)
        year_of(IncomeSource.PROPERTY, 240_000),  # household-wide
    ]
    a = r.assess_income(
        recs,
        [1, 2],
        AS_OF,
        standard(employment_cost=r.EmploymentCostRule(r.EmploymentCostMode.NONE)),
    )
    assert a.household_monthly_fen == 10_000 + 20_000
    single = r.assess_income(recs, [1], AS_OF, S, include_household_records=False)
    assert single.household_monthly_fen == 10_000
    assert any("单人户不计入" in x.detail for x in single.reasons)
    assert any("非保障成员" in x.detail for x in single.reasons)


@pytest.mark.parametrize(
    ("rule", "amount", "cost", "monthly"),
    [
        # NONE: nothing deducted
        (r.EmploymentCostRule(r.EmploymentCostMode.NONE), 1_200_000, 120_000, 100_000),
        # RECORDED without cap: the recorded costs
        (r.EmploymentCostRule(r.EmploymentCostMode.RECORDED), 1_200_000, 120_000, 90_000),
        # RECORDED with a cap of 50 yuan/month (600 a year)
        (
            r.EmploymentCostRule(r.EmploymentCostMode.RECORDED, monthly_fen=5_000),
            1_200_000,
            120_000,
            95_000,
        ),
        # FIXED 100 yuan per month of wages, whatever was recorded
        (
            r.EmploymentCostRule(r.EmploymentCostMode.FIXED, monthly_fen=10_000),
            1_200_000,
            0,
            90_000,
        ),
        # SHARE 20 % with a 150-yuan monthly cap
        (
            r.EmploymentCostRule(
                r.EmploymentCostMode.SHARE, monthly_fen=15_000, share=Decimal("0.2")
            ),
            1_200_000,
            0,
            85_000,
        ),
        (
            r.EmploymentCostRule(r.EmploymentCostMode.SHARE, share=Decimal("0.2")),
            1_200_000,
            0,
            80_000,
        ),
        # a deduction never exceeds the wages
        (r.EmploymentCostRule(r.EmploymentCostMode.FIXED, monthly_fen=50_000), 120_000, 0, 0),
    ],
)
def test_employment_cost_deduction(
    rule: r.EmploymentCostRule, amount: int, cost: int, monthly: int
) -> None:
    a = r.assess_income(
        [year_of(IncomeSource.WAGES, amount, cost)], [1], AS_OF, standard(employment_cost=rule)
    )
    assert a.household_monthly_fen == monthly


def test_deduction_applies_to_wages_only() -> None:
    rule = r.EmploymentCostRule(r.EmploymentCostMode.FIXED, monthly_fen=10_000)
    a = r.assess_income(
        [year_of(IncomeSource.BUSINESS, 1_200_000, 120_000)],
        [1],
        AS_OF,
        standard(employment_cost=rule),
    )
    assert a.household_monthly_fen == 100_000


def test_income_needs_a_covered_member() -> None:
    with pytest.raises(ValueError, match="at least one covered member"):
        r.assess_income([], [], AS_OF, S)


def test_rounding_is_once_and_half_up() -> None:
    # 18 fen a year over 12 months over 1 person = 1.5 fen → 2
    assert r.assess_income([year_of(IncomeSource.OTHER, 18)], [1], AS_OF, S).per_capita_fen == 2
    assert r.round_fen(r.Fraction(-3, 2)) == -2
    assert r.round_fen(r.Fraction(5, 4)) == 1


# ------------------------------------------------------------------ 低保


@pytest.mark.parametrize(
    ("per_capita", "members", "eligible", "amount"),
    [
        (0, 3, True, 3 * STD),
        (STD - 1, 2, True, 2),  # one fen below the standard: one fen each
        (STD, 2, False, 0),  # exactly at the standard: not below it
        (STD + 1, 2, False, 0),
        (25_000, 1, True, 35_000),
    ],
)
def test_dibao_amount_gap(per_capita: int, members: int, eligible: bool, amount: int) -> None:
    res = r.dibao_amount(per_capita, members, S)
    assert (res.eligible, res.amount_fen) == (eligible, amount)
    assert res.reasons[0].rule == "dibao.income_below_standard"
    assert res.reasons[0].passed is eligible


TIERED = standard(
    amount_mode=r.AmountMode.TIERED,
    tiers=(
        r.Tier("一档", Decimal("0.3"), Decimal("1")),
        r.Tier("二档", Decimal("0.7"), Decimal("0.6")),
        r.Tier("三档", Decimal("1"), Decimal("0.3")),
    ),
)


@pytest.mark.parametrize(
    ("per_capita", "tier", "amount"),
    [
        (0, "一档", 2 * STD),
        (17_999, "一档", 2 * STD),
        (18_000, "二档", 2 * 36_000),  # exactly 0.3 × standard: not below it
        (41_999, "二档", 2 * 36_000),
        (42_000, "三档", 2 * 18_000),
        (STD - 1, "三档", 2 * 18_000),
        (STD, None, 0),
    ],
)
def test_dibao_amount_tiered(per_capita: int, tier: str | None, amount: int) -> None:
    res = r.dibao_amount(per_capita, 2, TIERED)
    assert (res.tier, res.amount_fen) == (tier, amount)


def test_dibao_amount_needs_members() -> None:
    with pytest.raises(ValueError):
        r.dibao_amount(0, 0, S)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dibao_fen": 0}, "must be positive"),
        ({"care_fen": {r.SelfCareLevel.SELF_SUFFICIENT: 1}}, "care allowance missing"),
        ({"phase_out_multiple": Decimal("0.9")}, "at least 1"),
        ({"amount_mode": r.AmountMode.TIERED}, "needs tiers"),
        (
            {
                "amount_mode": r.AmountMode.TIERED,
                "tiers": (r.Tier("a", Decimal("0.5"), Decimal("1")),),
            },
            "must reach the standard",
        ),
        (
            {
                "amount_mode": r.AmountMode.TIERED,
                "tiers": (
                    r.Tier("a", Decimal("1"), Decimal("1")),
                    r.Tier("b", Decimal("0.5"), Decimal("1")),
                ),
            },
            "ascending",
        ),
        ({"review_months": {r.ReviewCategory.STABLE: 12}}, "review category"),
        ({"employment_cost": r.EmploymentCostRule(r.EmploymentCostMode.SHARE)}, "needs a share"),
        ({"phase_out_share": Decimal("1.2")}, "phase-out share"),
    ],
)
def test_unusable_standards_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        standard(**overrides)


def test_dibao_eligibility_combines_income_and_assets() -> None:
    income = r.assess_income([year_of(IncomeSource.WAGES, 720_000)], [1, 2], AS_OF, S)
    ok = r.dibao_eligibility(income, [r.AssetHolding(AssetKind.DEPOSIT, 100_000)], S)
    assert ok.eligible and ok.amount_fen == 2 * (STD - 30_000)
    rich = r.dibao_eligibility(income, [r.AssetHolding(AssetKind.DEPOSIT, 2 * 24 * STD + 2)], S)
    assert not rich.eligible and rich.amount_fen == 0
    assert rich.reasons[-1].rule == "assets.within_limit" and rich.reasons[-1].passed is False
    car = r.dibao_eligibility(income, [r.AssetHolding(AssetKind.VEHICLE, 1)], S)
    assert not car.eligible and "机动车 1 辆" in car.reasons[-1].detail


@pytest.mark.parametrize(
    ("per_capita", "outcome"),
    [
        (STD - 1, r.IncomeChangeOutcome.CONTINUE),
        (STD, r.IncomeChangeOutcome.PHASE_OUT),  # no longer below the standard
        (STD + 1, r.IncomeChangeOutcome.PHASE_OUT),
        (90_000, r.IncomeChangeOutcome.PHASE_OUT),  # exactly 1.5 × standard
        (90_001, r.IncomeChangeOutcome.REVIEW),  # one fen above
    ],
)
def test_income_change_decision(per_capita: int, outcome: r.IncomeChangeOutcome) -> None:
    d = r.income_change_decision(per_capita, S)
    assert d.outcome == outcome
    if outcome != r.IncomeChangeOutcome.CONTINUE:
        line = d.reasons[-1]
        assert line.rule == "dibao.phase_out_line"
        assert line.inputs["line_fen"] == 90_000
        assert line.passed is (outcome == r.IncomeChangeOutcome.PHASE_OUT)


def test_phase_out_line_is_exact_for_odd_standards() -> None:
    odd = standard(dibao_fen=60_001)  # 1.5 × = 90001.5 fen
    assert r.income_change_decision(90_001, odd).outcome == r.IncomeChangeOutcome.PHASE_OUT
    assert r.income_change_decision(90_002, odd).outcome == r.IncomeChangeOutcome.REVIEW


def test_no_phase_out_months_means_review() -> None:
    d = r.income_change_decision(STD + 1, standard(phase_out_max_months=0))
    assert d.outcome == r.IncomeChangeOutcome.REVIEW


@pytest.mark.parametrize(
    ("max_months", "month", "number", "continues"),
    [
        (12, D(2025, 3, 1), 1, True),
        (12, D(2026, 2, 1), 12, True),  # the 12th month is still paid
        (12, D(2026, 3, 1), 13, False),  # the 13th closes
        (6, D(2025, 8, 1), 6, True),  # the national notice's 6 months
        (6, D(2025, 9, 1), 7, False),
    ],
)
def test_phase_out_progress(max_months: int, month: dt.date, number: int, continues: bool) -> None:
    p = r.phase_out_progress(D(2025, 3, 1), month, max_months)
    assert (p.month_number, p.continues) == (number, continues)
    assert p.last_month == r.add_months(D(2025, 3, 1), max_months - 1)
    assert p.reason.passed is continues


def test_phase_out_amount_share() -> None:
    assert r.phase_out_amount(35_001, S) == 35_001
    assert r.phase_out_amount(35_001, standard(phase_out_share=Decimal("0.5"))) == 17_501


# ---------------------------------------------------------- near poverty, 单人户


@pytest.mark.parametrize(
    ("per_capita", "on_dibao", "deposit", "passed"),
    [
        (STD, False, 0, True),  # at the 低保 standard
        (89_999, False, 0, True),  # one fen below 1.5 ×
        (90_000, False, 0, False),  # exactly 1.5 ×: not below
        (90_001, False, 0, False),
        (10_000, True, 0, False),  # on 低保 already
        (10_000, False, 36 * STD, True),  # money assets exactly at the limit
        (10_000, False, 36 * STD + 1, False),
    ],
)
def test_near_poverty(per_capita: int, on_dibao: bool, deposit: int, passed: bool) -> None:
    v = r.near_poverty(
        per_capita, 1, [r.AssetHolding(AssetKind.DEPOSIT, deposit)], S, on_dibao=on_dibao
    )
    assert v.passed is passed
    assert [x.rule for x in v.reasons] == [
        "near_poverty.not_on_dibao",
        "near_poverty.income_below_line",
        "assets.within_limit",
    ]


def test_near_poverty_multiple_is_a_setting() -> None:
    two = standard(near_poverty_multiple=Decimal(2))
    assert r.near_poverty(119_999, 1, [], two, on_dibao=False).passed
    assert not r.near_poverty(120_000, 1, [], two, on_dibao=False).passed


B = D(1970, 5, 5)


@pytest.mark.parametrize(
    ("category", "grade", "ill", "passed"),
    [
        (DisabilityCategory.PHYSICAL, 1, False, True),
        (DisabilityCategory.VISUAL, 2, False, True),
        (DisabilityCategory.INTELLECTUAL, 3, False, True),
        (DisabilityCategory.MENTAL, 3, False, True),
        (DisabilityCategory.PHYSICAL, 3, False, False),
        (DisabilityCategory.INTELLECTUAL, 4, False, False),
        (None, None, True, True),  # seriously ill
        (None, None, False, False),
    ],
)
def test_single_person_household_condition(
    category: DisabilityCategory | None, grade: int | None, ill: bool, passed: bool
) -> None:
    person = r.PersonFacts(B, category, grade, ill)
    household = r.near_poverty(70_000, 3, [], S, on_dibao=False)
    v = r.single_person_household(person, household, on_dibao_or_tekun=False)
    assert v.passed is passed
    assert v.reasons[0].rule == "single.severe_condition"


def test_single_person_household_family_and_enrolment() -> None:
    person = r.PersonFacts(B, DisabilityCategory.PHYSICAL, 1)
    not_near = r.near_poverty(95_000, 3, [], S, on_dibao=False)
    refused = r.single_person_household(person, not_near, on_dibao_or_tekun=False)
    assert not refused.passed
    assert [x.rule for x in refused.failed()] == ["single.household"]
    assert "不是低保边缘家庭" in refused.failed()[0].detail
    # seed: a low-income family's severely disabled member qualifies too
    assert r.single_person_household(
        person, not_near, on_dibao_or_tekun=False, low_income_household=True
    ).passed
    near = r.near_poverty(70_000, 3, [], S, on_dibao=False)
    enrolled = r.single_person_household(person, near, on_dibao_or_tekun=True)
    assert [x.rule for x in enrolled.failed()] == ["single.not_enrolled"]


# ------------------------------------------------------------------- reviews


def test_review_category_and_interval() -> None:
    on = D(2025, 6, 1)
    old = r.PersonFacts(D(1950, 1, 1))
    worker = r.PersonFacts(D(1990, 1, 1))
    disabled_adult = r.PersonFacts(D(1990, 1, 1), DisabilityCategory.PHYSICAL, 1)
    cat, why = r.review_category([old, disabled_adult], on)
    assert cat == r.ReviewCategory.STABLE and why.inputs["able_members"] == 0
    assert r.review_category([old, worker], on)[0] == r.ReviewCategory.IRREGULAR
    assert r.review_category([old], on, irregular_income=True)[0] == r.ReviewCategory.IRREGULAR
    assert r.next_review(D(2025, 1, 31), r.ReviewCategory.STABLE, S) == D(2026, 1, 31)
    assert r.next_review(D(2025, 8, 31), r.ReviewCategory.IRREGULAR, S) == D(2026, 2, 28)
    custom = standard(review_months={r.ReviewCategory.STABLE: 24, r.ReviewCategory.IRREGULAR: 3})
    assert r.next_review(D(2025, 1, 1), r.ReviewCategory.IRREGULAR, custom) == D(2025, 4, 1)


# ---------------------------------------------------------------------- 特困

ON = D(2025, 6, 15)


@pytest.mark.parametrize(
    ("birth", "age", "unable"),
    [
        (D(2009, 6, 16), 15, True),  # 16 tomorrow
        (D(2009, 6, 15), 16, False),  # 16 today
        (D(1965, 6, 16), 59, False),  # 60 tomorrow
        (D(1965, 6, 15), 60, True),  # 60 today
    ],
)
def test_unable_to_work_by_age(birth: dt.date, age: int, unable: bool) -> None:
    c = r.unable_to_work(r.PersonFacts(birth), ON, evidence=["户口簿"])
    assert c.met is unable
    assert c.reasons[0].inputs["age"] == age
    assert c.evidence == ("户口簿",)


@pytest.mark.parametrize(
    ("category", "grade", "unable"),
    [
        (DisabilityCategory.INTELLECTUAL, 3, True),
        (DisabilityCategory.INTELLECTUAL, 4, False),
        (DisabilityCategory.MENTAL, 3, True),
        (DisabilityCategory.PHYSICAL, 2, True),
        (DisabilityCategory.PHYSICAL, 3, False),
        (DisabilityCategory.VISUAL, 1, True),
        (DisabilityCategory.VISUAL, 2, False),
        (DisabilityCategory.HEARING, 1, False),
    ],
)
def test_unable_to_work_by_disability(
    category: DisabilityCategory, grade: int, unable: bool
) -> None:
    c = r.unable_to_work(r.PersonFacts(D(1980, 1, 1), category, grade), ON)
    assert c.met is unable
    assert c.reasons[1].passed is unable


@pytest.mark.parametrize(
    ("income", "deposit", "met"),
    [(STD - 1, 0, True), (STD, 0, False), (0, 24 * STD, True), (0, 24 * STD + 1, False)],
)
def test_no_means_of_living(income: int, deposit: int, met: bool) -> None:
    c = r.no_means_of_living(income, [r.AssetHolding(AssetKind.DEPOSIT, deposit)], S)
    assert c.met is met


def sup(**kw: object) -> r.SupporterFacts:
    base: dict[str, object] = {"name": "张三", "birth_date": D(1980, 1, 1), "relation": "子"}
    base.update(kw)
    return r.SupporterFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("supporter", "unable"),
    [
        (sup(), False),
        (sup(on_tekun=True), True),
        (sup(on_dibao=True, birth_date=D(1965, 6, 15)), True),  # 60 and on 低保
        (sup(on_dibao=True, birth_date=D(1965, 6, 16)), False),  # 59 and on 低保
        (sup(birth_date=D(1955, 6, 15), poor=True), True),  # 70 and poor
        (sup(birth_date=D(1955, 6, 15)), False),  # 70, not poor
        (sup(birth_date=D(1955, 6, 16), poor=True), False),  # 69 and poor
        (sup(disability_category=DisabilityCategory.PHYSICAL, disability_grade=1, poor=True), True),
        (sup(disability_category=DisabilityCategory.PHYSICAL, disability_grade=1), False),
        (sup(lacks_capacity=True), True),
        (sup(missing=True), True),
        (sup(imprisoned=True), True),
    ],
)
def test_supporter_ability(supporter: r.SupporterFacts, unable: bool) -> None:
    assert r.supporter_unable(supporter, ON).passed is unable


def test_no_able_supporter() -> None:
    assert r.no_able_supporter([], ON).met
    assert r.no_able_supporter([sup(imprisoned=True), sup(on_tekun=True)], ON).met
    mixed = r.no_able_supporter([sup(imprisoned=True), sup(name="李四")], ON)
    assert not mixed.met
    assert [x.passed for x in mixed.reasons] == [True, False]
    assert "李四" in mixed.reasons[1].detail


def test_tekun_eligibility_needs_all_three() -> None:
    old = r.PersonFacts(D(1940, 1, 1))
    work = r.unable_to_work(old, ON)
    means = r.no_means_of_living(0, [], S)
    nobody = r.no_able_supporter([], ON)
    assert r.tekun_eligibility(work, means, nobody).eligible
    son = r.no_able_supporter([sup()], ON)
    e = r.tekun_eligibility(work, means, son)
    assert not e.eligible and [c.met for c in e.conditions] == [True, True, False]
    with pytest.raises(ValueError, match="exactly these conditions"):
        r.tekun_eligibility(work, means)


@pytest.mark.parametrize(
    ("not_managed", "level"),
    [
        (0, r.SelfCareLevel.SELF_SUFFICIENT),
        (1, r.SelfCareLevel.PARTLY_DEPENDENT),
        (3, r.SelfCareLevel.PARTLY_DEPENDENT),
        (4, r.SelfCareLevel.FULLY_DEPENDENT),
        (6, r.SelfCareLevel.FULLY_DEPENDENT),
    ],
)
def test_self_care_level(not_managed: int, level: r.SelfCareLevel) -> None:
    acts = list(r.Activity)
    managed = {a: i >= not_managed for i, a in enumerate(acts)}
    a = r.self_care_level(managed)
    assert a.level == level and len(a.not_managed) == not_managed
    amount = r.tekun_amount(a.level, S)
    assert amount.amount_fen == 78_000 + CARE[level]


def test_self_care_needs_all_six() -> None:
    with pytest.raises(ValueError, match="bathing"):
        r.self_care_level({a: True for a in list(r.Activity)[:5]})


@pytest.mark.parametrize(
    ("birth", "in_school", "continues"),
    [
        (D(2007, 6, 16), False, True),  # 17, 18 tomorrow
        (D(2007, 6, 15), False, False),  # 18 today, not in school
        (D(2007, 6, 15), True, True),  # 18 and in school
    ],
)
def test_minors_until_18_or_in_school(birth: dt.date, in_school: bool, continues: bool) -> None:
    p = r.PersonFacts(birth, in_school=in_school)
    assert r.minor_support_continues(p, ON).passed is continues
    # a minor taken on under 16 is not dropped at 16: the minor's term applies
    assert r.tekun_still_unable(p, ON, started_as_minor=True).passed is continues


def test_tekun_still_unable_for_adults() -> None:
    assert r.tekun_still_unable(r.PersonFacts(D(1950, 1, 1)), ON, started_as_minor=False).passed
    worker = r.PersonFacts(D(1990, 1, 1), labour_capacity=LabourCapacity.FULL)
    assert not r.tekun_still_unable(worker, ON, started_as_minor=False).passed


def test_age_on_leap_day() -> None:
    assert r.age_on(D(2000, 2, 29), D(2016, 2, 28)) == 15
    assert r.age_on(D(2000, 2, 29), D(2016, 2, 29)) == 16
    assert r.age_on(D(2000, 2, 29), D(2017, 3, 1)) == 17


# -------------------------------------------------------------- working days

CAL = r.default_calendar()


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (D(2025, 3, 3), 3, D(2025, 3, 6)),  # Mon + 3 = Thu
        (D(2025, 3, 6), 3, D(2025, 3, 11)),  # Thu + 3 skips the weekend
        (D(2025, 3, 8), 1, D(2025, 3, 10)),  # Sat + 1 = Mon
        # National Day 2025: Oct 1–8 off, Sep 28 (Sun) and Oct 11 (Sat) worked
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),
        (D(2025, 3, 3), 0, D(2025, 3, 3)),
    ],
)
def test_add_working_days(start: dt.date, n: int, due: dt.date) -> None:
    assert CAL.add_working_days(start, n) == due


def test_working_days_between_and_plain_calendar() -> None:
    assert CAL.working_days_between(D(2025, 9, 30), D(2025, 10, 11)) == 3
    plain = r.WorkingCalendar()
    assert plain.add_working_days(D(2025, 10, 1), 1) == D(2025, 10, 2)
    with pytest.raises(ValueError):
        plain.add_working_days(D(2025, 10, 1), -1)


def test_load_calendar_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown calendar kind"):
        r.load_calendar("date,kind,name\n2025-01-01,party,x\n")


def test_a_deployment_file_adds_the_years_announced_since(tmp_path) -> None:
    assert CAL.missing_years(D(2026, 10, 1), 60) == []
    assert CAL.missing_years(D(2026, 12, 2), 60) == [2027]
    # without 2027's rows, New Year's Day counts as a working day
    assert CAL.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
    extra = tmp_path / "holidays-2027.csv"
    extra.write_text(
        "date,kind,name\n2027-01-01,holiday,元旦\n2026-10-10,holiday,changed here\n",
        encoding="utf-8",
    )
    cal = r.default_calendar(str(extra))
    assert cal.missing_years(D(2026, 12, 2), 60) == []
    assert cal.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    # a date in both lists: the deployment's row wins
    assert not cal.is_working_day(D(2026, 10, 10)) and CAL.is_working_day(D(2026, 10, 10))
    assert cal.holidays > CAL.holidays - {D(2026, 10, 10)}


@pytest.mark.parametrize(
    ("today", "done", "overdue"),
    [
        (D(2025, 3, 11), None, False),  # due day itself
        (D(2025, 3, 12), None, True),
        (D(2025, 3, 20), D(2025, 3, 11), False),  # done on time, looked at later
        (D(2025, 3, 20), D(2025, 3, 12), True),  # done late
    ],
)
def test_deadline_overdue(today: dt.date, done: dt.date | None, overdue: bool) -> None:
    d = r.deadline("investigation", "启动调查", D(2025, 3, 6), 3, today, CAL, done_on=done)
    assert d.due_on == D(2025, 3, 11)
    assert d.overdue is overdue
    assert d.reason.passed is not overdue


def test_notice_runs_seven_calendar_days() -> None:
    assert not r.notice_complete(D(2025, 3, 1), D(2025, 3, 7)).passed
    done = r.notice_complete(D(2025, 3, 1), D(2025, 3, 8))
    assert done.passed and done.reasons[0].inputs["ends_on"] == D(2025, 3, 7)


# --------------------------------------------------------------- 临时救助


@pytest.mark.parametrize(
    ("rule", "need", "members", "severity", "amount"),
    [
        (r.TemporaryAssistanceRule(max_multiple=Decimal(3)), 100_000, 2, None, 100_000),
        (r.TemporaryAssistanceRule(max_multiple=Decimal(3)), 500_000, 2, None, 3 * STD),
        (
            r.TemporaryAssistanceRule(max_multiple=Decimal(3), per_member=True),
            500_000,
            2,
            None,
            6 * STD,
        ),
        (r.TemporaryAssistanceRule(mode=r.TemporaryAmountMode.TIERED), 500_000, 1, 2, 4 * STD),
        (r.TemporaryAssistanceRule(mode=r.TemporaryAmountMode.TIERED), 50_000, 1, 3, 50_000),
        (
            r.TemporaryAssistanceRule(
                mode=r.TemporaryAmountMode.CASE_BY_CASE, case_cap_fen=1_000_000
            ),
            1_500_000,
            1,
            None,
            1_000_000,
        ),
    ],
)
def test_temporary_amount(
    rule: r.TemporaryAssistanceRule, need: int, members: int, severity: int | None, amount: int
) -> None:
    res = r.temporary_amount(need, members, standard(temporary=rule), severity=severity)
    assert res.amount_fen == amount
    assert res.amount_fen <= res.cap_fen


@pytest.mark.parametrize(
    ("need", "approver"),
    [(100_000, r.Approver.TOWNSHIP), (100_001, r.Approver.COUNTY)],
)
def test_temporary_approver_by_township_limit(need: int, approver: r.Approver) -> None:
    rule = r.TemporaryAssistanceRule(township_limit_fen=100_000)
    res = r.temporary_amount(need, 1, standard(temporary=rule))
    assert res.approver == approver


def test_temporary_amount_bad_inputs() -> None:
    with pytest.raises(ValueError, match="positive"):
        r.temporary_amount(0, 1, S)
    tiered = standard(temporary=r.TemporaryAssistanceRule(mode=r.TemporaryAmountMode.TIERED))
    with pytest.raises(ValueError, match="severity"):
        r.temporary_amount(100, 1, tiered)
    with pytest.raises(ValueError, match="severity"):
        r.temporary_amount(100, 1, tiered, severity=4)


@pytest.mark.parametrize(
    ("balance", "payment", "ok"),
    [(50_000, 50_000, True), (50_000, 50_001, False), (50_000, 1, True), (0, 1, False)],
)
def test_reserve_fund_draw(balance: int, payment: int, ok: bool) -> None:
    v = r.reserve_fund_draw(balance, payment)
    assert v.passed is ok
    assert v.reasons[0].inputs == {"balance_fen": balance, "payment_fen": payment}


def test_reserve_fund_payment_must_be_positive() -> None:
    with pytest.raises(ValueError):
        r.reserve_fund_draw(100, 0)


def test_emergency_paperwork_due_in_working_days() -> None:
    # helped Friday 2025-09-26; 5 working days: 28 (Sun, worked), 29, 30, Oct 9, 10
    assert r.emergency_paperwork_due(D(2025, 9, 26), S, CAL) == D(2025, 10, 10)


# ---------------------------------------------------------------- standards


def test_pick_standard_inherits_and_overrides() -> None:
    county = "410823000000"
    township = "410823101000"
    village = "410823101201"
    rows = [
        r.StandardRow(county, HukouType.RURAL, D(2024, 1, 1), standard(dibao_fen=50_000), 1),
        r.StandardRow(county, HukouType.RURAL, D(2025, 4, 1), standard(dibao_fen=52_000), 2),
        r.StandardRow(county, HukouType.URBAN, D(2024, 1, 1), standard(dibao_fen=70_000), 3),
        r.StandardRow(township, HukouType.RURAL, D(2025, 1, 1), standard(dibao_fen=51_000), 4),
        r.StandardRow("410822000000", HukouType.RURAL, D(2020, 1, 1), standard(), 5),
    ]

    def pick(code: str, area: HukouType, on: dt.date) -> int | None:
        row = r.pick_standard(rows, code, area, on)
        return row.ident if row else None

    # "what was the rural standard in 武陟县 in March 2025?"
    assert pick("410823102201", HukouType.RURAL, D(2025, 3, 31)) == 1
    assert pick("410823102201", HukouType.RURAL, D(2025, 4, 1)) == 2
    assert pick(village, HukouType.RURAL, D(2025, 3, 31)) == 4  # the township's own
    assert pick(village, HukouType.RURAL, D(2024, 6, 1)) == 1  # before the override
    assert pick(village, HukouType.URBAN, D(2025, 3, 31)) == 3
    assert pick(village, HukouType.RURAL, D(2023, 12, 31)) is None


def test_phase_out_months_national_and_local_both_expressible() -> None:
    national = dataclasses.replace(S, phase_out_max_months=6)
    assert national.phase_out_max_months == 6 and S.phase_out_max_months == 12
