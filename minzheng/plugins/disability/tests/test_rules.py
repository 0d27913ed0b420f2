"""Table-driven tests of the disability rules (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from minzheng.core.models import DisabilityCategory as Cat
from minzheng.core.models import HukouType, Whereabouts
from minzheng.plugins.disability import rules
from minzheng.plugins.disability.rules import (
    ApplicationAction,
    ApplicationState,
    Certificate,
    Cycle,
    DisabilityPolicy,
    PaymentStart,
    Period,
    PersonFacts,
    Standard,
    Subsidy,
    TransferKind,
    VerificationState,
)

D = dt.date
TODAY = D(2025, 6, 15)
SEED = DisabilityPolicy()
WIDE = DisabilityPolicy(
    living_subsidy_includes_near_poverty=True,
    care_subsidy_includes_grade_3_4_intellectual_mental=True,
)
VILLAGE = "410823101201"  # 武陟县, a rural village
OUTSIDE = "410105001001"  # 郑州市金水区


def facts(**kw: object) -> PersonFacts:
    base = PersonFacts(
        birth_date=D(1980, 1, 1),
        certificate=Certificate(Cat.PHYSICAL, 1),
        hukou_region_code=VILLAGE,
        residence_urban_rural=HukouType.RURAL,
        whereabouts=Whereabouts.AT_HOME,
        programmes=frozenset({"dibao"}),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ age


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (D(2009, 6, 15), D(2025, 6, 15), 16),  # birthday today
        (D(2009, 6, 16), D(2025, 6, 15), 15),  # birthday tomorrow
        (D(2008, 2, 29), D(2025, 2, 28), 16),  # leap-day birth, not yet
        (D(2008, 2, 29), D(2025, 3, 1), 17),
    ],
)
def test_age_on(birth: dt.date, on: dt.date, age: int) -> None:
    assert rules.age_on(birth, on) == age


# ------------------------------------------------------- living subsidy

LIVING_CASES = [
    # (label, facts overrides, policy, eligible, failing condition codes)
    ("dibao + certificate", {}, SEED, True, set()),
    ("any grade qualifies", {"certificate": Certificate(Cat.HEARING, 4)}, SEED, True, set()),
    ("no certificate", {"certificate": None}, SEED, False, {"certificate"}),
    ("no low income", {"programmes": frozenset()}, SEED, False, {"low_income"}),
    (
        "near poverty, seed policy",
        {"programmes": frozenset({"near_poverty"})},
        SEED,
        False,
        {"low_income"},
    ),
    ("near poverty, extended", {"programmes": frozenset({"near_poverty"})}, WIDE, True, set()),
    (
        "de facto unsupported child on dibao",
        {"programmes": frozenset({"dibao", "de_facto_unsupported_child"})},
        SEED,
        False,
        {"not_excluded"},
    ),
    ("dead", {"died_on": D(2025, 6, 1)}, SEED, False, {"alive"}),
    ("dies later", {"died_on": D(2025, 7, 1)}, SEED, True, set()),
    (
        "several failures listed",
        {"certificate": None, "programmes": frozenset()},
        SEED,
        False,
        {"certificate", "low_income"},
    ),
]


@pytest.mark.parametrize(
    ("label", "over", "policy", "eligible", "failing"),
    LIVING_CASES,
    ids=[c[0] for c in LIVING_CASES],
)
def test_living_subsidy(
    label: str, over: dict, policy: DisabilityPolicy, eligible: bool, failing: set[str]
) -> None:
    verdict = rules.living_subsidy(facts(**over), TODAY, policy)
    assert verdict.eligible is eligible
    assert {c.code for c in verdict.unmet} == failing
    assert [c.code for c in verdict.conditions] == [
        "alive",
        "certificate",
        "low_income",
        "not_excluded",
    ]
    assert all(c.detail for c in verdict.conditions)


def test_living_subsidy_explains_which_programme() -> None:
    v = rules.living_subsidy(facts(programmes=frozenset({"near_poverty"})), TODAY, WIDE)
    assert "near_poverty" in v.condition("low_income").detail
    v = rules.living_subsidy(facts(programmes=frozenset()), TODAY, SEED)
    assert "not in dibao" in v.condition("low_income").detail


def test_programme_codes_are_policy() -> None:
    policy = DisabilityPolicy(dibao_programme="sa_dibao")
    assert not rules.living_subsidy(facts(), TODAY, policy).eligible
    assert rules.living_subsidy(facts(programmes=frozenset({"sa_dibao"})), TODAY, policy).eligible


# ---------------------------------------------------------- care subsidy

CARE_CASES = [
    # (category, grade, seed eligible, extended eligible)
    (Cat.PHYSICAL, 1, True, True),
    (Cat.VISUAL, 2, True, True),
    (Cat.PHYSICAL, 3, False, False),
    (Cat.HEARING, 4, False, False),
    (Cat.INTELLECTUAL, 2, True, True),
    (Cat.INTELLECTUAL, 3, False, True),
    (Cat.MENTAL, 3, False, True),
    (Cat.MENTAL, 4, False, True),
    (Cat.MULTIPLE, 3, False, False),
]


@pytest.mark.parametrize(("cat", "grade", "seed", "wide"), CARE_CASES)
def test_care_subsidy(cat: Cat, grade: int, seed: bool, wide: bool) -> None:
    f = facts(certificate=Certificate(cat, grade), programmes=frozenset())
    assert rules.care_subsidy(f, TODAY, SEED).eligible is seed
    assert rules.care_subsidy(f, TODAY, WIDE).eligible is wide


def test_care_subsidy_needs_no_low_income_and_combines_with_living() -> None:
    f = facts(certificate=Certificate(Cat.PHYSICAL, 1))
    assert rules.care_subsidy(f, TODAY, SEED).eligible
    assert rules.living_subsidy(f, TODAY, SEED).eligible
    assert rules.care_subsidy(replace(f, programmes=frozenset()), TODAY, SEED).eligible


def test_care_subsidy_without_certificate() -> None:
    v = rules.care_subsidy(facts(certificate=None), TODAY, SEED)
    assert {c.code for c in v.unmet} == {"certificate", "grade"}


def test_certificate_rejects_bad_grade() -> None:
    with pytest.raises(ValueError, match="1–4"):
        Certificate(Cat.PHYSICAL, 5)


# ---------------------------------------------------------- care services

SERVICE_CASES = [
    # (label, overrides, eligible, failing)
    ("grade 1 physical, rural 焦作, adult", {}, True, set()),
    ("age 16 on the day", {"birth_date": D(2009, 6, 15)}, True, set()),
    ("age 15, a day short", {"birth_date": D(2009, 6, 16)}, False, {"age"}),
    ("grade 2 visual", {"certificate": Certificate(Cat.VISUAL, 2)}, True, set()),
    ("grade 3 physical", {"certificate": Certificate(Cat.PHYSICAL, 3)}, False, {"grade"}),
    ("grade 3 intellectual", {"certificate": Certificate(Cat.INTELLECTUAL, 3)}, True, set()),
    ("grade 3 mental", {"certificate": Certificate(Cat.MENTAL, 3)}, True, set()),
    ("grade 4 mental", {"certificate": Certificate(Cat.MENTAL, 4)}, False, {"grade"}),
    ("grade 3 multiple", {"certificate": Certificate(Cat.MULTIPLE, 3)}, False, {"grade"}),
    ("no certificate", {"certificate": None}, False, {"certificate", "grade"}),
    ("hukou 修武县", {"hukou_region_code": "410821100201"}, True, set()),
    ("hukou in 焦作 city districts", {"hukou_region_code": "410802001001"}, True, set()),
    ("hukou outside 4108", {"hukou_region_code": OUTSIDE}, False, {"hukou"}),
    ("hukou 410900 (濮阳)", {"hukou_region_code": "410922100201"}, False, {"hukou"}),
    ("urban residence", {"residence_urban_rural": HukouType.URBAN}, False, {"rural_residence"}),
    ("residence unknown", {"residence_urban_rural": None}, False, {"rural_residence"}),
    (
        "rural but working away",
        {"whereabouts": Whereabouts.WORKING_AWAY},
        False,
        {"rural_residence"},
    ),
    ("dead", {"died_on": D(2025, 1, 1)}, False, {"alive"}),
    ("no low income needed", {"programmes": frozenset()}, True, set()),
]


@pytest.mark.parametrize(
    ("label", "over", "eligible", "failing"), SERVICE_CASES, ids=[c[0] for c in SERVICE_CASES]
)
def test_care_service_eligibility(
    label: str, over: dict, eligible: bool, failing: set[str]
) -> None:
    verdict = rules.care_service_eligibility(facts(**over), TODAY, SEED)
    assert verdict.eligible is eligible
    assert {c.code for c in verdict.unmet} == failing
    assert [c.code for c in verdict.conditions] == [
        "alive",
        "hukou",
        "rural_residence",
        "age",
        "certificate",
        "grade",
    ]


def test_care_service_parameters_are_policy() -> None:
    elsewhere = DisabilityPolicy(care_service_hukou_prefix="4101", care_service_min_age=18)
    f = facts(hukou_region_code=OUTSIDE, birth_date=D(2008, 1, 1))
    v = rules.care_service_eligibility(f, TODAY, elsewhere)
    assert {c.code for c in v.unmet} == {"age"}
    assert "aged 17" in v.condition("age").detail


# -------------------------------------------------------------- standards

STANDARDS = [
    Standard("410800", Subsidy.LIVING, D(2024, 1, 1), 8000),
    Standard("410800", Subsidy.LIVING, D(2025, 1, 1), 9000),
    Standard("410800", Subsidy.CARE, D(2024, 1, 1), 8000),
    # 武陟县 differentiates care by grade from 2025
    Standard("410823", Subsidy.CARE, D(2025, 1, 1), 12000, grade=1),
    Standard("410823", Subsidy.CARE, D(2025, 1, 1), 10000, grade=2),
    # … and returns to a flat rate from 2026
    Standard("410823", Subsidy.CARE, D(2026, 1, 1), 13000),
    # 温县 has its own living standard from mid-2025 only
    Standard("410825", Subsidy.LIVING, D(2025, 7, 1), 9500),
    # a rule for one township
    Standard("410823101", Subsidy.LIVING, D(2025, 3, 1), 9900),
]

STANDARD_CASES = [
    # (region, subsidy, grade, on, amount or None, inherited)
    ("410821100201", Subsidy.LIVING, 3, D(2023, 12, 31), None, None),  # nothing in force yet
    ("410821100201", Subsidy.LIVING, 3, D(2024, 1, 1), 8000, True),
    ("410821100201", Subsidy.LIVING, 3, D(2024, 12, 31), 8000, True),
    ("410821100201", Subsidy.LIVING, 3, D(2025, 1, 1), 9000, True),  # adjustment day
    ("410825100201", Subsidy.LIVING, 3, D(2025, 6, 30), 9000, True),  # county not yet in force
    ("410825100201", Subsidy.LIVING, 3, D(2025, 7, 1), 9500, True),
    ("410825", Subsidy.LIVING, 3, D(2025, 7, 1), 9500, False),
    ("410823101201", Subsidy.LIVING, 3, D(2025, 3, 1), 9900, True),  # township beats city
    ("410823102201", Subsidy.LIVING, 3, D(2025, 3, 1), 9000, True),  # other township
    ("410823101201", Subsidy.CARE, 1, D(2024, 6, 1), 8000, True),
    ("410823101201", Subsidy.CARE, 1, D(2025, 6, 1), 12000, True),
    ("410823101201", Subsidy.CARE, 2, D(2025, 6, 1), 10000, True),
    ("410823101201", Subsidy.CARE, 3, D(2025, 6, 1), 8000, True),  # county has no grade-3 row
    ("410823101201", Subsidy.CARE, 1, D(2026, 1, 1), 13000, True),  # flat again
    ("410823101201", Subsidy.CARE, 2, D(2026, 1, 1), 13000, True),
    ("410822100201", Subsidy.CARE, 1, D(2026, 1, 1), 8000, True),
]


@pytest.mark.parametrize(
    ("region", "subsidy", "grade", "on", "amount", "inherited"), STANDARD_CASES
)
def test_standard_in_force(
    region: str,
    subsidy: Subsidy,
    grade: int,
    on: dt.date,
    amount: int | None,
    inherited: bool | None,
) -> None:
    choice = rules.standard_in_force(
        STANDARDS, region_code=region, subsidy=subsidy, grade=grade, on=on
    )
    if amount is None:
        assert choice is None
        return
    assert choice is not None
    assert choice.standard.monthly_amount_fen == amount
    assert choice.inherited is inherited
    assert choice.standard.effective_from.isoformat() in choice.detail


def test_standard_grade_row_beats_flat_row_of_same_date() -> None:
    table = [
        Standard("410823", Subsidy.CARE, D(2025, 1, 1), 9000),
        Standard("410823", Subsidy.CARE, D(2025, 1, 1), 11000, grade=1),
    ]
    pick = rules.standard_in_force(
        table, region_code="410823", subsidy=Subsidy.CARE, grade=1, on=D(2025, 1, 1)
    )
    assert pick is not None and pick.standard.monthly_amount_fen == 11000
    pick = rules.standard_in_force(
        table, region_code="410823", subsidy=Subsidy.CARE, grade=2, on=D(2025, 1, 1)
    )
    assert pick is not None and pick.standard.monthly_amount_fen == 9000


def test_standard_accepts_padded_codes() -> None:
    table = [Standard("410800000000", Subsidy.LIVING, D(2025, 1, 1), 9000)]
    pick = rules.standard_in_force(
        table, region_code="410823101201", subsidy=Subsidy.LIVING, grade=None, on=D(2025, 2, 1)
    )
    assert pick is not None and pick.standard.monthly_amount_fen == 9000


# ----------------------------------------------------------------- months


@pytest.mark.parametrize(
    ("d", "start", "nxt", "end"),
    [
        (D(2025, 1, 31), D(2025, 1, 1), D(2025, 2, 1), D(2025, 1, 31)),
        (D(2024, 2, 10), D(2024, 2, 1), D(2024, 3, 1), D(2024, 2, 29)),
        (D(2025, 12, 1), D(2025, 12, 1), D(2026, 1, 1), D(2025, 12, 31)),
    ],
)
def test_month_helpers(d: dt.date, start: dt.date, nxt: dt.date, end: dt.date) -> None:
    assert rules.month_start(d) == start
    assert rules.next_month_start(d) == nxt
    assert rules.month_end(d) == end


@pytest.mark.parametrize(
    ("policy", "accepted", "approved", "first_month"),
    [
        (SEED, D(2025, 3, 20), D(2025, 4, 10), D(2025, 5, 1)),
        (SEED, D(2025, 3, 20), D(2025, 3, 31), D(2025, 4, 1)),
        (
            DisabilityPolicy(payment_start=PaymentStart.ACCEPTANCE_MONTH),
            D(2025, 3, 20),
            D(2025, 4, 10),
            D(2025, 3, 1),
        ),
    ],
)
def test_grant_start(
    policy: DisabilityPolicy, accepted: dt.date, approved: dt.date, first_month: dt.date
) -> None:
    assert rules.grant_start(accepted, approved, policy) == first_month


def _paid(periods: list[Period], month: dt.date) -> int | None:
    p = rules.paying_period(periods, month)
    return p.monthly_amount_fen if p else None


@pytest.mark.parametrize(
    ("died_on", "last_paid"),
    [
        (D(2025, 3, 1), D(2025, 3, 1)),
        (D(2025, 3, 15), D(2025, 3, 1)),  # death mid-month: March paid, April not
        (D(2025, 3, 31), D(2025, 3, 1)),
        (D(2025, 2, 28), D(2025, 2, 1)),
    ],
)
def test_death_ends_from_following_month(died_on: dt.date, last_paid: dt.date) -> None:
    end_from = rules.death_end(died_on)
    assert end_from == rules.next_month_start(died_on)
    periods = [Period(D(2024, 1, 1), end_from - dt.timedelta(days=1), True, 9000)]
    assert _paid(periods, last_paid) == 9000
    assert _paid(periods, rules.next_month_start(last_paid)) is None


# ----------------------------------------------------------- verification

CYCLE = Cycle(opens_on=D(2025, 1, 1), deadline=D(2025, 3, 15))


@pytest.mark.parametrize(
    ("verified_on", "today", "state"),
    [
        (None, D(2024, 12, 31), VerificationState.NOT_OPEN),
        (None, D(2025, 1, 1), VerificationState.PENDING),
        (None, D(2025, 3, 15), VerificationState.PENDING),  # deadline day still on time
        (None, D(2025, 3, 16), VerificationState.OVERDUE),
        (D(2025, 3, 15), D(2025, 3, 16), VerificationState.VERIFIED),
        (D(2025, 1, 1), D(2025, 2, 1), VerificationState.VERIFIED),
        (D(2025, 3, 16), D(2025, 5, 1), VerificationState.VERIFIED_LATE),
        (D(2024, 12, 31), D(2025, 2, 1), VerificationState.PENDING),  # previous cycle's
    ],
)
def test_verification_state(
    verified_on: dt.date | None, today: dt.date, state: VerificationState
) -> None:
    assert rules.verification_state(CYCLE, verified_on, today) is state


def test_cycle_rejects_deadline_before_opening() -> None:
    with pytest.raises(ValueError, match="deadline"):
        Cycle(opens_on=D(2025, 3, 1), deadline=D(2025, 2, 1))


def test_suspension_and_resumption_months() -> None:
    suspended = rules.suspension_start(CYCLE)
    assert suspended == D(2025, 4, 1)  # the deadline's month (March) is paid
    active = Period(D(2024, 1, 1), suspended - dt.timedelta(days=1), True, 9000)
    # late verification on 20 May, with back pay: April and May paid again
    resume = rules.resumption_start(suspended, D(2025, 5, 20), SEED)
    assert resume == D(2025, 4, 1)
    with_back_pay = [active, Period(resume, None, True, 9000)]
    assert [_paid(with_back_pay, D(2025, m, 1)) for m in (3, 4, 5, 6)] == [9000] * 4
    # without back pay: April suspended, May (the month of verification) paid
    no_back = DisabilityPolicy(back_pay_on_late_verification=False)
    resume = rules.resumption_start(suspended, D(2025, 5, 20), no_back)
    assert resume == D(2025, 5, 1)
    periods = [
        active,
        Period(suspended, resume - dt.timedelta(days=1), False, 9000),
        Period(resume, None, True, 9000),
    ]
    assert [_paid(periods, D(2025, m, 1)) for m in (3, 4, 5, 6)] == [9000, None, 9000, 9000]
    # verified late but still in the deadline's month: nothing was missed
    assert rules.resumption_start(suspended, D(2025, 3, 20), no_back) == suspended


# -------------------------------------------------------------- transfers

TRANSFER_CASES = [
    # (old, new, moved, kind, through, from)
    ("410823101201", "410823101201", D(2025, 5, 10), TransferKind.NONE, None, None),
    (
        "410823101201",
        "410823101000",
        D(2025, 5, 10),
        TransferKind.WITHIN,
        D(2025, 5, 31),
        D(2025, 6, 1),
    ),
    (
        "410823101201",
        "410882100201",
        D(2025, 5, 1),
        TransferKind.WITHIN,
        D(2025, 5, 31),
        D(2025, 6, 1),
    ),
    (
        "410823101201",
        "410882100201",
        D(2025, 5, 31),
        TransferKind.WITHIN,
        D(2025, 5, 31),
        D(2025, 6, 1),
    ),
    ("410823101201", OUTSIDE, D(2025, 12, 20), TransferKind.OUT, D(2025, 12, 31), None),
]


@pytest.mark.parametrize(("old", "new", "moved", "kind", "through", "start"), TRANSFER_CASES)
def test_transfer_plan(
    old: str,
    new: str,
    moved: dt.date,
    kind: TransferKind,
    through: dt.date | None,
    start: dt.date | None,
) -> None:
    plan = rules.transfer_plan(old, new, moved, SEED)
    assert plan.kind is kind
    assert plan.old_region_pays_through == through
    assert plan.new_region_pays_from == start


def test_transfer_month_is_paid_exactly_once() -> None:
    plan = rules.transfer_plan("410823101201", "410882100201", D(2025, 5, 12), SEED)
    assert plan.new_region_pays_from is not None
    periods = [
        Period(D(2024, 1, 1), plan.old_region_pays_through, True, 9000, "410823101201"),
        Period(plan.new_region_pays_from, None, True, 9500, "410882100201"),
    ]
    payers = {m: rules.paying_period(periods, D(2025, m, 1)) for m in (4, 5, 6)}
    assert payers[4] is not None and payers[4].region_code == "410823101201"
    assert payers[5] is not None and payers[5].region_code == "410823101201"  # month of move
    assert payers[6] is not None and payers[6].region_code == "410882100201"
    assert payers[6].monthly_amount_fen == 9500


# ---------------------------------------------------- certificate changes


@pytest.mark.parametrize(
    ("old", "new", "down"),
    [
        (Certificate(Cat.PHYSICAL, 2), Certificate(Cat.PHYSICAL, 3), True),
        (Certificate(Cat.PHYSICAL, 2), None, True),
        (Certificate(Cat.PHYSICAL, 3), Certificate(Cat.PHYSICAL, 2), False),
        (Certificate(Cat.PHYSICAL, 2), Certificate(Cat.MENTAL, 2), False),
        (None, Certificate(Cat.PHYSICAL, 2), False),
    ],
)
def test_is_downgrade(old: Certificate | None, new: Certificate | None, down: bool) -> None:
    assert rules.is_downgrade(old, new) is down


# ------------------------------------------------------------ applications

S, A = ApplicationState, ApplicationAction


@pytest.mark.parametrize(
    ("state", "action", "result"),
    [
        (S.SUBMITTED, A.ACCEPT, S.ACCEPTED),
        (S.ACCEPTED, A.REVIEW, S.REVIEWED),
        (S.REVIEWED, A.APPROVE, S.APPROVED),
        (S.SUBMITTED, A.REJECT, S.REJECTED),
        (S.ACCEPTED, A.REJECT, S.REJECTED),
        (S.REVIEWED, A.REJECT, S.REJECTED),
        (S.SUBMITTED, A.APPROVE, None),  # no skipping the federation's review
        (S.ACCEPTED, A.APPROVE, None),
        (S.SUBMITTED, A.REVIEW, None),
        (S.APPROVED, A.REJECT, None),
        (S.REJECTED, A.ACCEPT, None),
        (S.APPROVED, A.WITHDRAW, None),
        (S.ACCEPTED, A.WITHDRAW, S.WITHDRAWN),
    ],
)
def test_application_transitions(
    state: ApplicationState, action: ApplicationAction, result: ApplicationState | None
) -> None:
    assert rules.next_application_state(state, action) == result
