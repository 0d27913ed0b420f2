"""残疾人 policy as pure functions over plain values (seed §二(三), §三(七)).

Nothing here touches the database: callers gather the facts (a person's
certificate, the programmes their household is enrolled in, the standards
table …) into the dataclasses below and get back a :class:`Verdict` that lists
every condition with its verdict, so a caseworker can answer "why (not)?".

Local policy choices (who else qualifies, which city's hukou, back pay …) are
fields of :class:`DisabilityPolicy`, never constants in the functions.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from minzheng.core.divisions import InvalidRegionCode, parse
from minzheng.core.models import DisabilityCategory, HukouType, Whereabouts

# ------------------------------------------------------------------ programmes


class Subsidy(enum.StrEnum):
    """The two subsidies (两项补贴); a person may hold both."""

    LIVING = "living"  # 困难残疾人生活补贴
    CARE = "care"  # 重度残疾人护理补贴


#: core enrolment programme code of each subsidy
PROGRAMME_CODES: dict[Subsidy, str] = {
    Subsidy.LIVING: "disability_living_subsidy",
    Subsidy.CARE: "disability_care_subsidy",
}

SUBSIDY_TITLES: dict[Subsidy, str] = {
    Subsidy.LIVING: "困难残疾人生活补贴",
    Subsidy.CARE: "重度残疾人护理补贴",
}

CATEGORY_TITLES: dict[DisabilityCategory, str] = {
    DisabilityCategory.VISUAL: "视力",
    DisabilityCategory.HEARING: "听力",
    DisabilityCategory.SPEECH: "言语",
    DisabilityCategory.PHYSICAL: "肢体",
    DisabilityCategory.INTELLECTUAL: "智力",
    DisabilityCategory.MENTAL: "精神",
    DisabilityCategory.MULTIPLE: "多重",
}

_GRADE_TITLES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_INTELLECTUAL_MENTAL = frozenset({DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL})


class PaymentStart(enum.StrEnum):
    """From which month an approved grant is paid (a local choice)."""

    MONTH_AFTER_APPROVAL = "month_after_approval"  # 批准次月起计发
    ACCEPTANCE_MONTH = "acceptance_month"  # 受理当月起计发


@dataclass(frozen=True)
class DisabilityPolicy:
    """The local parameters of the disability rules; defaults follow the 焦作 seed.

    Programme codes name the core enrolments the rules read (whichever plugin
    or system wrote them).
    """

    #: 低保 enrolment programme code
    dibao_programme: str = "dibao"
    #: 低保边缘家庭 enrolment programme code
    near_poverty_programme: str = "near_poverty"
    #: extend the living subsidy to near-poverty (低保边缘) households
    living_subsidy_includes_near_poverty: bool = False
    #: programmes whose recipients get no living subsidy (事实无人抚养儿童 full subsidy)
    living_subsidy_excluding_programmes: tuple[str, ...] = ("de_facto_unsupported_child",)
    #: extend the care subsidy to grade 3–4 intellectual / mental certificate holders
    care_subsidy_includes_grade_3_4_intellectual_mental: bool = False
    #: care services (照护服务): hukou must lie in this division (焦作市)
    care_service_hukou_prefix: str = "4108"
    care_service_min_age: int = 16
    #: any category up to this grade qualifies for care services …
    care_service_max_grade: int = 2
    #: … and intellectual / mental up to this grade
    care_service_intellectual_mental_max_grade: int = 3
    #: the divisions this deployment administers: a hukou move outside ends grants
    jurisdiction_prefix: str = "4108"
    payment_start: PaymentStart = PaymentStart.MONTH_AFTER_APPROVAL
    #: a late survival verification restores the suspended months (补发)
    back_pay_on_late_verification: bool = True


# ------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Condition:
    """One condition of a rule and how this case fares on it."""

    code: str
    title: str  # 中文
    met: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of a rule: eligible only if every condition is met."""

    rule: str
    conditions: tuple[Condition, ...]

    @property
    def eligible(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def unmet(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if not c.met)

    def condition(self, code: str) -> Condition:
        for c in self.conditions:
            if c.code == code:
                return c
        raise KeyError(code)


# ---------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Certificate:
    """残疾人证: category and grade (1 = most severe … 4)."""

    category: DisabilityCategory
    grade: int

    def __post_init__(self) -> None:
        if self.grade not in _GRADE_TITLES:
            raise ValueError(f"disability grade must be 1–4, not {self.grade}")

    @property
    def title(self) -> str:
        return f"{CATEGORY_TITLES[self.category]}{_GRADE_TITLES[self.grade]}"


@dataclass(frozen=True)
class PersonFacts:
    """What the rules need to know about one person on one date.

    ``programmes`` holds the codes of the core enrolments paying on that date
    for the person or the person's household (低保, 低保边缘, …).
    ``residence_urban_rural`` is the urban/rural kind of the place the person
    actually lives (the residence region, or the hukou region when they match).
    """

    birth_date: dt.date
    certificate: Certificate | None
    hukou_region_code: str
    residence_urban_rural: HukouType | None = None
    whereabouts: Whereabouts = Whereabouts.AT_HOME
    died_on: dt.date | None = None
    programmes: frozenset[str] = field(default_factory=frozenset)


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Full years of age on ``on`` (a birthday counts on the day itself; 29 Feb → 1 Mar)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def _alive(facts: PersonFacts, on: dt.date) -> Condition:
    dead = facts.died_on is not None and facts.died_on <= on
    return Condition(
        "alive",
        "在世",
        not dead,
        f"died on {facts.died_on.isoformat()}" if dead and facts.died_on else "alive",
    )


def _certificate(facts: PersonFacts) -> Condition:
    cert = facts.certificate
    return Condition(
        "certificate",
        "持有残疾人证",
        cert is not None,
        f"holds a certificate: {cert.title}" if cert else "holds no disability certificate",
    )


# -------------------------------------------------------------- the subsidies


def living_subsidy(facts: PersonFacts, on: dt.date, policy: DisabilityPolicy) -> Verdict:
    """困难残疾人生活补贴: certificate holder in a 低保 household (or, by setting, a
    near-poverty household); not for a child on the full de-facto-unsupported subsidy."""
    low_income = {policy.dibao_programme: "低保"}
    if policy.living_subsidy_includes_near_poverty:
        low_income[policy.near_poverty_programme] = "低保边缘"
    held = sorted(p for p in low_income if p in facts.programmes)
    wanted = " or ".join(low_income)
    household = Condition(
        "low_income",
        "低保家庭" + ("或低保边缘家庭" if policy.living_subsidy_includes_near_poverty else ""),
        bool(held),
        f"household enrolled in {', '.join(held)}" if held else f"household not in {wanted}",
    )
    excluded = sorted(
        p for p in policy.living_subsidy_excluding_programmes if p in facts.programmes
    )
    exclusion = Condition(
        "not_excluded",
        "未享受事实无人抚养儿童基本生活保障",
        not excluded,
        f"receives {', '.join(excluded)}, which excludes the living subsidy"
        if excluded
        else "receives no programme that excludes the living subsidy",
    )
    return Verdict("living_subsidy", (_alive(facts, on), _certificate(facts), household, exclusion))


def care_subsidy(facts: PersonFacts, on: dt.date, policy: DisabilityPolicy) -> Verdict:
    """重度残疾人护理补贴: grade 1–2 (by setting also grade 3–4 intellectual/mental)."""
    cert = facts.certificate
    extended = policy.care_subsidy_includes_grade_3_4_intellectual_mental
    if cert is None:
        severe = Condition("grade", "重度残疾", False, "no certificate, no grade")
    elif cert.grade <= 2:
        severe = Condition("grade", "重度残疾", True, f"grade {cert.grade} (1–2 qualifies)")
    elif extended and cert.category in _INTELLECTUAL_MENTAL:
        severe = Condition(
            "grade",
            "重度残疾",
            True,
            f"grade {cert.grade} {cert.category.value} (3–4 intellectual/mental qualifies here)",
        )
    else:
        why = (
            "only grade 1–2, or 3–4 intellectual/mental, qualifies"
            if extended
            else "only grade 1–2 qualifies"
        )
        severe = Condition(
            "grade", "重度残疾", False, f"grade {cert.grade} {cert.category.value}: {why}"
        )
    return Verdict("care_subsidy", (_alive(facts, on), _certificate(facts), severe))


def subsidy_verdict(
    subsidy: Subsidy, facts: PersonFacts, on: dt.date, policy: DisabilityPolicy
) -> Verdict:
    if subsidy is Subsidy.LIVING:
        return living_subsidy(facts, on, policy)
    return care_subsidy(facts, on, policy)


# -------------------------------------------------------------- care services


class CareServiceType(enum.StrEnum):
    CENTRALISED = "centralised"  # 集中照料
    DAY = "day"  # 日间服务
    NEIGHBOURHOOD = "neighbourhood"  # 邻里照护


def in_division(code: str | None, prefix: str) -> bool:
    """Whether the division ``code`` lies inside the division ``prefix`` (any form)."""
    if not code:
        return False
    try:
        return parse(code).prefix.startswith(parse(prefix).prefix)
    except InvalidRegionCode:
        return False


def care_service_eligibility(facts: PersonFacts, on: dt.date, policy: DisabilityPolicy) -> Verdict:
    """集中照料、日间服务、邻里照护 (seed §二(三)): 焦作 hukou, living long-term in a
    rural area, aged ≥ 16, certificate grade 1–2 or grade 3 intellectual/mental.
    Voluntary, and the family stays the first carer: eligibility is not enrolment."""
    hukou_ok = in_division(facts.hukou_region_code, policy.care_service_hukou_prefix)
    hukou = Condition(
        "hukou",
        "具有焦作市户籍",
        hukou_ok,
        f"hukou region {facts.hukou_region_code} "
        f"{'inside' if hukou_ok else 'outside'} {policy.care_service_hukou_prefix}",
    )
    rural = facts.residence_urban_rural == HukouType.RURAL
    at_home = facts.whereabouts == Whereabouts.AT_HOME
    if facts.residence_urban_rural is None:
        why = "residence area is not known to be rural or urban"
    elif not rural:
        why = "lives in an urban area"
    elif not at_home:
        why = f"lives in a rural area but is away ({facts.whereabouts.value})"
    else:
        why = "lives at home in a rural area"
    residence = Condition("rural_residence", "长期居住在农村地区", rural and at_home, why)
    age = age_on(facts.birth_date, on)
    old_enough = age >= policy.care_service_min_age
    age_cond = Condition(
        "age",
        f"年满{policy.care_service_min_age}周岁",
        old_enough,
        f"aged {age} on {on.isoformat()} (at least {policy.care_service_min_age} required)",
    )
    cert = facts.certificate
    if cert is None:
        grade = Condition("grade", "一、二级或三级智力、精神类残疾", False, "no certificate")
    else:
        limit = (
            policy.care_service_intellectual_mental_max_grade
            if cert.category in _INTELLECTUAL_MENTAL
            else policy.care_service_max_grade
        )
        ok = cert.grade <= limit
        grade = Condition(
            "grade",
            "一、二级或三级智力、精神类残疾",
            ok,
            f"grade {cert.grade} {cert.category.value}: "
            f"{'within' if ok else 'beyond'} grade {limit} for this category",
        )
    return Verdict(
        "care_service",
        (_alive(facts, on), hukou, residence, age_cond, _certificate(facts), grade),
    )


# ------------------------------------------------------------------ standards


@dataclass(frozen=True)
class Standard:
    """One row of the standards table (补贴标准): from ``effective_from`` on, in the
    division ``region_code`` and every division inside it, ``subsidy`` pays
    ``monthly_amount_fen`` (to ``grade`` only, or to every grade when None)."""

    region_code: str
    subsidy: Subsidy
    effective_from: dt.date
    monthly_amount_fen: int
    grade: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class StandardChoice:
    standard: Standard
    #: the standard was inherited from an enclosing division
    inherited: bool
    detail: str


def standard_in_force(
    standards: Iterable[Standard],
    *,
    region_code: str,
    subsidy: Subsidy,
    grade: int | None,
    on: dt.date,
) -> StandardChoice | None:
    """The standard that applies to a person in ``region_code`` with ``grade`` on ``on``.

    The most specific division with a standard for the subsidy in force wins
    (a county overrides the city it lies in, a township its county).  Within
    that division the latest row in force that fits the grade wins; on equal
    dates a grade-specific row beats the all-grades row, so a division may
    switch between a flat and a graded standard by adding rows.
    """
    target = parse(region_code).prefix
    fitting: dict[str, list[Standard]] = {}
    for s in standards:
        if s.subsidy != subsidy or s.effective_from > on:
            continue
        if s.grade is not None and s.grade != grade:
            continue
        prefix = parse(s.region_code).prefix
        if target.startswith(prefix):
            fitting.setdefault(prefix, []).append(s)
    if not fitting:
        return None
    prefix = max(fitting, key=len)
    best = max(fitting[prefix], key=lambda s: (s.effective_from, s.grade is not None))
    inherited = prefix != target
    scope = "grade " + str(best.grade) if best.grade is not None else "all grades"
    detail = (
        f"{subsidy.value} standard of {prefix} for {scope}, "
        f"in force since {best.effective_from.isoformat()}"
        + (f" (inherited by {target})" if inherited else "")
    )
    return StandardChoice(best, inherited, detail)


# --------------------------------------------------------------------- months


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def next_month_start(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_end(d: dt.date) -> dt.date:
    return next_month_start(d) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """One enrolment row reduced to what payroll reads."""

    start_on: dt.date
    end_on: dt.date | None
    paying: bool
    monthly_amount_fen: int = 0
    region_code: str = ""


def paying_period(periods: Sequence[Period], month: dt.date) -> Period | None:
    """The period that pays ``month``: the one in force on the month's last day,
    if it is a paying one (the core payroll rule)."""
    last = month_end(month)
    for p in periods:
        if p.start_on <= last and (p.end_on is None or p.end_on >= last):
            return p if p.paying else None
    return None


def grant_start(accepted_on: dt.date, approved_on: dt.date, policy: DisabilityPolicy) -> dt.date:
    """First day of the first month an approved grant pays."""
    if policy.payment_start is PaymentStart.ACCEPTANCE_MONTH:
        return month_start(accepted_on)
    return next_month_start(approved_on)


def death_end(died_on: dt.date) -> dt.date:
    """Grants end from the month after death: the month of death is still paid."""
    return next_month_start(died_on)


# ---------------------------------------------------------------- verification


class VerificationMethod(enum.StrEnum):
    FACE_RECOGNITION = "face_recognition"  # 人脸识别
    DATA_COMPARISON = "data_comparison"  # 数据比对
    HOME_VISIT = "home_visit"  # 入户核查
    IN_PERSON = "in_person"  # 现场认证


class VerificationOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"  # 验证通过 (alive, still eligible)
    FAILED = "failed"  # 未通过 (counts as not verified)
    DECEASED = "deceased"  # 比对为死亡


class VerificationState(enum.StrEnum):
    NOT_OPEN = "not_open"  # 未开始
    PENDING = "pending"  # 待验证
    VERIFIED = "verified"  # 按期验证
    OVERDUE = "overdue"  # 逾期未验证 → suspend
    VERIFIED_LATE = "verified_late"  # 逾期后验证 → resume


@dataclass(frozen=True)
class Cycle:
    """A survival-verification window (e.g. annual) for one region."""

    opens_on: dt.date
    deadline: dt.date  # last day a verification counts as on time

    def __post_init__(self) -> None:
        if self.deadline < self.opens_on:
            raise ValueError("a verification cycle's deadline precedes its opening")


def verification_state(
    cycle: Cycle, verified_on: dt.date | None, today: dt.date
) -> VerificationState:
    """Where one grant stands in a cycle, given its first confirmed verification
    in the cycle (on or after ``opens_on``) if any."""
    if verified_on is not None and verified_on >= cycle.opens_on:
        return (
            VerificationState.VERIFIED
            if verified_on <= cycle.deadline
            else VerificationState.VERIFIED_LATE
        )
    if today < cycle.opens_on:
        return VerificationState.NOT_OPEN
    if today <= cycle.deadline:
        return VerificationState.PENDING
    return VerificationState.OVERDUE


def suspension_start(cycle: Cycle) -> dt.date:
    """An unverified grant is suspended from the month after the deadline; the
    deadline's own month is still paid."""
    return next_month_start(cycle.deadline)


def resumption_start(
    suspended_from: dt.date, verified_on: dt.date, policy: DisabilityPolicy
) -> dt.date:
    """A late verification resumes the grant: with back pay from the day it was
    suspended (the suspended months are paid again), otherwise from the month of
    the verification itself."""
    if policy.back_pay_on_late_verification:
        return suspended_from
    return max(suspended_from, month_start(verified_on))


# ------------------------------------------------------------------- transfers


class TransferKind(enum.StrEnum):
    NONE = "none"  # 户籍未变
    WITHIN = "within"  # 区域内转移: the grant moves
    OUT = "out"  # 迁出辖区: the grant ends here


@dataclass(frozen=True)
class TransferPlan:
    kind: TransferKind
    #: last day the old region pays (the month of the move is the old region's)
    old_region_pays_through: dt.date | None
    #: first day the new region pays (None when the grant leaves the jurisdiction)
    new_region_pays_from: dt.date | None
    detail: str


def transfer_plan(
    old_region_code: str, new_region_code: str, moved_on: dt.date, policy: DisabilityPolicy
) -> TransferPlan:
    """跨区/跨省通办: when the hukou region changes, the old region pays the month of
    the move and the new region pays from the month after — no gap, no double
    payment.  A move outside the jurisdiction ends the grant after that month."""
    if parse(old_region_code).full == parse(new_region_code).full:
        return TransferPlan(TransferKind.NONE, None, None, "hukou region unchanged")
    through = month_end(moved_on)
    if not in_division(new_region_code, policy.jurisdiction_prefix):
        return TransferPlan(
            TransferKind.OUT,
            through,
            None,
            f"hukou moved to {new_region_code}, outside {policy.jurisdiction_prefix}: "
            f"paid here through {through.isoformat()}, then ends",
        )
    start = next_month_start(moved_on)
    return TransferPlan(
        TransferKind.WITHIN,
        through,
        start,
        f"{old_region_code} pays through {through.isoformat()}, "
        f"{new_region_code} from {start.isoformat()}",
    )


# -------------------------------------------------------- certificate changes


def is_downgrade(old: Certificate | None, new: Certificate | None) -> bool:
    """A certificate withdrawn, or its grade made less severe (higher number)."""
    if old is None:
        return False
    return new is None or new.grade > old.grade


# ---------------------------------------------------------------- applications


class ApplicationState(enum.StrEnum):
    SUBMITTED = "submitted"  # 已申请
    ACCEPTED = "accepted"  # 乡镇(街道)受理
    REVIEWED = "reviewed"  # 县残联审核通过
    APPROVED = "approved"  # 县民政审批通过
    REJECTED = "rejected"  # 不予受理 / 审核不通过 / 不予批准
    WITHDRAWN = "withdrawn"  # 撤回


class ApplicationAction(enum.StrEnum):
    ACCEPT = "accept"  # township accepts
    REVIEW = "review"  # county disabled persons' federation passes the review
    APPROVE = "approve"  # county civil affairs approves
    REJECT = "reject"  # refused at the current stage, with reasons
    WITHDRAW = "withdraw"  # the applicant withdraws


_S, _A = ApplicationState, ApplicationAction
APPLICATION_TRANSITIONS: dict[tuple[ApplicationState, ApplicationAction], ApplicationState] = {
    (_S.SUBMITTED, _A.ACCEPT): _S.ACCEPTED,
    (_S.ACCEPTED, _A.REVIEW): _S.REVIEWED,
    (_S.REVIEWED, _A.APPROVE): _S.APPROVED,
    (_S.SUBMITTED, _A.REJECT): _S.REJECTED,
    (_S.ACCEPTED, _A.REJECT): _S.REJECTED,
    (_S.REVIEWED, _A.REJECT): _S.REJECTED,
    (_S.SUBMITTED, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.ACCEPTED, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.REVIEWED, _A.WITHDRAW): _S.WITHDRAWN,
}

#: who refuses at each stage (the stage is the state the application was in)
REFUSAL_STAGE_TITLES: dict[ApplicationState, str] = {
    _S.SUBMITTED: "乡镇(街道)不予受理",
    _S.ACCEPTED: "县残联审核不通过",
    _S.REVIEWED: "县民政部门不予批准",
}


def next_application_state(
    state: ApplicationState, action: ApplicationAction
) -> ApplicationState | None:
    """The state ``action`` leads to, or None when it is not allowed from ``state``."""
    return APPLICATION_TRANSITIONS.get((state, action))


class GrantStatus(enum.StrEnum):
    ACTIVE = "active"  # 发放中
    SUSPENDED = "suspended"  # 暂停 (survival verification overdue …)
    ENDED = "ended"  # 终止 (death, moved out, no longer eligible)
