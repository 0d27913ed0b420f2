"""社会救助 policy as pure functions: plain values in, a result with its reasons out.

Nothing here touches the database.  Every local number (standards, multiples,
months, limits) arrives in a :class:`Standard`, so two regions with different
policies run the same code.  Every function returns, next to its answer, one
:class:`Reason` per condition it checked — the caseworker's "why".

Sources: 最低生活保障审核确认办法 (2021), 特困人员认定办法 (2021), the
national notice on phase-out (2022) and the city's 焦民〔2021〕53号 (seed);
``DOMAIN.md`` summarises them.

Money is integer fen.  Products with a multiple (``1.5 ×`` the standard) are
computed exactly and compared exactly; a value shown or paid is rounded once,
half up, to the fen.
"""

from __future__ import annotations

import calendar as _calendar
import csv
import datetime as dt
import enum
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from minzheng.core.models import (
    AssetKind,
    DisabilityCategory,
    HukouType,
    IncomeSource,
    LabourCapacity,
)
from minzheng.core.money import yuan

# ================================================================ explanations


@dataclass(frozen=True)
class Reason:
    """One condition checked: a stable code, its Chinese title, the verdict and inputs.

    ``passed`` is None for a step that informs (a computed value) rather than decides.
    """

    rule: str
    title: str
    passed: bool | None
    detail: str
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """A yes/no answer with the reasons that gave it."""

    passed: bool
    reasons: tuple[Reason, ...]

    def __bool__(self) -> bool:
        return self.passed

    def failed(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.passed is False)


def _all(reasons: Iterable[Reason]) -> Verdict:
    rs = tuple(reasons)
    return Verdict(all(r.passed is not False for r in rs), rs)


def _y(fen: int | Fraction) -> str:
    """Fen as yuan text for details: ``70000`` → ``700.00元``."""
    if isinstance(fen, Fraction):
        fen = round_fen(fen)
    return f"{yuan(fen)}元"


def round_fen(value: Fraction | int) -> int:
    """Round an exact amount of fen to a whole fen, half away from zero."""
    value = Fraction(value)
    sign = -1 if value < 0 else 1
    return sign * int(abs(value) + Fraction(1, 2))


def times(fen: int, factor: Decimal | int) -> Fraction:
    """``fen × factor`` exactly (``Decimal`` multiples are exact decimals)."""
    return fen * Fraction(factor)


# ================================================================== standards


class AmountMode(enum.StrEnum):
    """How the 低保 amount is computed in a region."""

    GAP = "gap"  # 补差: (standard − per-capita income) × members
    TIERED = "tiered"  # 分档: a fixed share of the standard per member, by income band


@dataclass(frozen=True)
class Tier:
    """分档: households whose per-capita income is below ``income_below`` × standard
    get ``per_member`` × standard per covered member.  Tiers are tried in order."""

    code: str
    income_below: Decimal
    per_member: Decimal


class EmploymentCostMode(enum.StrEnum):
    """How necessary employment costs (必要就业成本) are deducted from wages."""

    NONE = "none"  # not deducted
    RECORDED = "recorded"  # the costs recorded with the income, up to an optional cap
    FIXED = "fixed"  # a fixed amount per month of wages
    SHARE = "share"  # a share of the wages, up to an optional cap


@dataclass(frozen=True)
class EmploymentCostRule:
    mode: EmploymentCostMode = EmploymentCostMode.RECORDED
    #: FIXED: deducted per month; RECORDED/SHARE: cap per month (0 = no cap)
    monthly_fen: int = 0
    #: SHARE: share of wages deducted
    share: Decimal = Decimal(0)


class ReviewCategory(enum.StrEnum):
    """Household categories with their own periodic review interval."""

    STABLE = "stable"  # 经济状况变化不大: yearly
    IRREGULAR = "irregular"  # 收入来源不固定、成员有劳动能力: every 6 months


@dataclass(frozen=True)
class AssetRule:
    """财产状况: per-capita money assets ≤ ``financial_months`` × monthly 低保 standard,
    at most ``max_vehicles`` vehicles and ``max_homes`` homes."""

    financial_months: int = 24
    max_vehicles: int = 0
    max_homes: int = 1


class SelfCareLevel(enum.StrEnum):
    """生活自理能力, from the six activities of daily living."""

    SELF_SUFFICIENT = "self_sufficient"  # 具备生活自理能力
    PARTLY_DEPENDENT = "partly_dependent"  # 部分丧失生活自理能力
    FULLY_DEPENDENT = "fully_dependent"  # 完全丧失生活自理能力


class TemporaryAmountMode(enum.StrEnum):
    STANDARD_MULTIPLE = "standard_multiple"  # capped at a multiple of the 低保 standard
    TIERED = "tiered"  # by severity tier, each a multiple of the standard
    CASE_BY_CASE = "case_by_case"  # assessed need, capped at a fixed amount


@dataclass(frozen=True)
class TemporaryAssistanceRule:
    """临时救助 amounts in a region."""

    mode: TemporaryAmountMode = TemporaryAmountMode.STANDARD_MULTIPLE
    #: STANDARD_MULTIPLE: cap = standard × max_multiple (× covered members if per_member)
    max_multiple: Decimal = Decimal(6)
    per_member: bool = False
    #: TIERED: severity 1, 2, 3 … → multiple of the standard
    tier_multiples: tuple[Decimal, ...] = (Decimal(2), Decimal(4), Decimal(6))
    #: CASE_BY_CASE: absolute cap
    case_cap_fen: int = 0
    #: amounts up to this may be approved by the township (delegated); above: county
    township_limit_fen: int = 0
    #: emergency help first: the paperwork is due this many working days after
    paperwork_working_days: int = 5


DEFAULT_REVIEW_MONTHS: Mapping[ReviewCategory, int] = {
    ReviewCategory.STABLE: 12,
    ReviewCategory.IRREGULAR: 6,
}


@dataclass(frozen=True)
class Standard:
    """One region's parameters in force on one date, for urban or rural hukou."""

    dibao_fen: int  # 低保标准, per person per month
    tekun_basic_fen: int  # 特困人员基本生活标准, per person per month
    care_fen: Mapping[SelfCareLevel, int]  # 照料护理标准 by self-care level
    near_poverty_multiple: Decimal = Decimal("1.5")  # 低保边缘: < multiple × standard
    phase_out_multiple: Decimal = Decimal("1.5")  # 渐退: ≤ multiple × standard
    phase_out_max_months: int = 12  # 焦作 12; national notice 6
    #: share of the last amount that is paid during phase-out
    phase_out_share: Decimal = Decimal(1)
    employment_cost: EmploymentCostRule = EmploymentCostRule()
    amount_mode: AmountMode = AmountMode.GAP
    tiers: tuple[Tier, ...] = ()
    review_months: Mapping[ReviewCategory, int] = field(
        default_factory=lambda: dict(DEFAULT_REVIEW_MONTHS)
    )
    dibao_assets: AssetRule = AssetRule()
    near_poverty_assets: AssetRule = AssetRule(financial_months=36, max_vehicles=1)
    temporary: TemporaryAssistanceRule = TemporaryAssistanceRule()
    #: income is averaged over this many whole months before the assessment month
    income_window_months: int = 12

    def __post_init__(self) -> None:
        problems = standard_problems(self)
        if problems:
            raise ValueError("; ".join(problems))


def standard_problems(s: Standard) -> list[str]:
    """What is wrong with a set of parameters (empty when they are usable)."""
    out = []
    if s.dibao_fen <= 0:
        out.append("the 低保 standard must be positive")
    if s.tekun_basic_fen < 0:
        out.append("the 特困 basic standard must not be negative")
    missing = [lv.value for lv in SelfCareLevel if lv not in s.care_fen]
    if missing:
        out.append(f"care allowance missing for {', '.join(missing)}")
    if any(v < 0 for v in s.care_fen.values()):
        out.append("care allowances must not be negative")
    if s.near_poverty_multiple < 1 or s.phase_out_multiple < 1:
        out.append("multiples must be at least 1")
    if s.phase_out_max_months < 0:
        out.append("phase-out months must not be negative")
    if not 0 <= s.phase_out_share <= 1:
        out.append("the phase-out share must be between 0 and 1")
    if s.income_window_months < 1:
        out.append("the income window must be at least one month")
    if any(s.review_months.get(c, 0) < 1 for c in ReviewCategory):
        out.append("every review category needs an interval of at least one month")
    if s.amount_mode == AmountMode.TIERED:
        if not s.tiers:
            out.append("tiered mode needs tiers")
        else:
            bounds = [t.income_below for t in s.tiers]
            if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
                out.append("tiers must be in ascending order of income_below")
            if bounds[-1] != 1:
                out.append("the last tier must reach the standard (income_below = 1)")
            if any(not 0 < t.per_member <= 1 for t in s.tiers):
                out.append("a tier pays between 0 and 1 × the standard per member")
    ec = s.employment_cost
    if ec.monthly_fen < 0 or not 0 <= ec.share <= 1:
        out.append("employment-cost deduction out of range")
    if ec.mode == EmploymentCostMode.SHARE and ec.share == 0:
        out.append("a share deduction needs a share")
    return out


@dataclass(frozen=True)
class StandardRow:
    """A stored standard: region (county or below), area, effective date."""

    region_code: str  # 12 digits
    area: HukouType
    effective_from: dt.date
    standard: Standard
    ident: int | None = None


def pick_standard(
    rows: Sequence[StandardRow], region_code: str, area: HukouType, on: dt.date
) -> StandardRow | None:
    """The standard in force for a place on a date.

    Standards are set per county and inherited downwards unless a township
    (or village) sets its own: the most specific region that contains
    ``region_code`` and has a row in force wins; within it, the latest
    ``effective_from`` on or before ``on``.
    """
    best: tuple[int, dt.date] | None = None
    found = None
    for row in rows:
        if row.area != area or row.effective_from > on:
            continue
        prefix = _significant(row.region_code)
        if not region_code.startswith(prefix):
            continue
        key = (len(prefix), row.effective_from)
        if best is None or key > best:
            best, found = key, row
    return found


def _significant(code: str) -> str:
    for length, cut in ((12, 9), (9, 6), (6, 4), (4, 2)):
        if code[cut:length] != "0" * (length - cut):
            return code[:length]
    return code[:2]


# ==================================================================== dates


def age_on(birth: dt.date, on: dt.date) -> int:
    """Completed years (周岁) on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=_calendar.monthrange(d.year, d.month)[1])


def add_months(d: dt.date, months: int) -> dt.date:
    """Same day ``months`` later (clamped to the month's last day)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def months_between(first: dt.date, later: dt.date) -> int:
    """Whole calendar months from ``first``'s month to ``later``'s month."""
    return (later.year - first.year) * 12 + later.month - first.month


def next_month(d: dt.date) -> dt.date:
    """First day of the month after ``d`` (payment starts then)."""
    return add_months(month_start(d), 1)


# =============================================================== working days


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days: Monday–Friday, minus public holidays, plus adjusted working
    weekends (调休).  Both lists are data (``data/holidays.csv``, and a
    deployment's own file for the years announced since).  ``years`` are the
    years the data covers: beyond them only weekends are known."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    years: frozenset[int] = frozenset()

    def is_working_day(self, d: dt.date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
        if n < 0:
            raise ValueError("working days must not be negative")
        d = start
        while n:
            d += dt.timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, d = 0, start
        while d < end:
            d += dt.timedelta(days=1)
            count += self.is_working_day(d)
        return count

    def missing_years(self, start: dt.date, days: int) -> list[int]:
        """Years between ``start`` and ``days`` later that the data does not cover:
        deadlines that reach into them count weekends only."""
        last = start + dt.timedelta(days=days)
        return [y for y in range(start.year, last.year + 1) if y not in self.years]


def load_calendar(*texts: str) -> WorkingCalendar:
    """Parse ``date,kind,name`` rows; kind ``holiday`` (放假) or ``workday`` (调休上班).

    With several texts, a later one's row for a date replaces an earlier one's."""
    kinds: dict[dt.date, str] = {}
    for text in texts:
        for row in csv.DictReader(io.StringIO(text)):
            day = dt.date.fromisoformat(row["date"].strip())
            kind = row["kind"].strip()
            if kind not in ("holiday", "workday"):
                raise ValueError(f"unknown calendar kind {kind!r} on {day}")
            kinds[day] = kind
    return WorkingCalendar(
        frozenset(d for d, k in kinds.items() if k == "holiday"),
        frozenset(d for d, k in kinds.items() if k == "workday"),
        frozenset(d.year for d in kinds),
    )


def default_calendar(extra: str | None = None) -> WorkingCalendar:
    """The shipped national holiday list (``data/holidays.csv``, from the State
    Council General Office's yearly holiday notices), and ``extra``: a
    deployment's file in the same form with the years announced since."""
    from importlib import resources
    from pathlib import Path

    text = (
        resources.files("minzheng.plugins.social_assistance")
        .joinpath("data/holidays.csv")
        .read_text(encoding="utf-8")
    )
    if not extra:
        return load_calendar(text)
    return load_calendar(text, Path(extra).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Deadline:
    """A step's due date and whether it is (or was) missed."""

    step: str
    started_on: dt.date
    due_on: dt.date
    done_on: dt.date | None
    overdue: bool
    reason: Reason


def deadline(
    step: str,
    title: str,
    started_on: dt.date,
    working_days: int,
    today: dt.date,
    cal: WorkingCalendar,
    done_on: dt.date | None = None,
) -> Deadline:
    """Due ``working_days`` working days after ``started_on``; overdue when not done
    by then (today is past it), or done late."""
    due = cal.add_working_days(started_on, working_days)
    late = (done_on or today) > due
    if done_on:
        detail = f"{title}：{started_on} 起 {working_days} 个工作日内（至 {due}），{done_on} 完成"
    else:
        detail = f"{title}：{started_on} 起 {working_days} 个工作日内（至 {due}），尚未完成"
    detail += "，已超期" if late else ""
    return Deadline(
        step=step,
        started_on=started_on,
        due_on=due,
        done_on=done_on,
        overdue=late,
        reason=Reason(
            rule=f"deadline.{step}",
            title=title,
            passed=not late,
            detail=detail,
            inputs={
                "started_on": started_on,
                "working_days": working_days,
                "due_on": due,
                "done_on": done_on,
                "today": today,
            },
        ),
    )


@dataclass(frozen=True)
class ProcedureDeadlines:
    """Working-day limits of the 低保 and 特困 procedures (national rules)."""

    dibao_investigation_start: int = 3  # 受理后 3 个工作日内启动调查
    dibao_county_decision: int = 10  # 县级收到材料后 10 个工作日内决定
    dibao_refusal_notice: int = 3  # 不予确认的 3 个工作日内书面告知
    dibao_total: int = 30  # 全过程
    dibao_total_extended: int = 45  # 有异议、人户分离、情况复杂
    dibao_total_delegated: int = 20  # 乡镇确认
    tekun_investigation: int = 15
    tekun_county_confirmation: int = 15
    self_care_reassessment: int = 10
    notice_days: int = 7  # 公示, calendar days
    review_after_death_months: int = 3


def notice_complete(posted_on: dt.date, today: dt.date, days: int = 7) -> Verdict:
    """公示: a notice posted on day D runs D … D+days−1; it is complete from D+days."""
    ends = posted_on + dt.timedelta(days=days - 1)
    done = today > ends
    return Verdict(
        done,
        (
            Reason(
                "notice.complete",
                "公示期满",
                done,
                f"{posted_on} 起公示 {days} 天，至 {ends}" + ("，已期满" if done else "，未期满"),
                {"posted_on": posted_on, "days": days, "ends_on": ends, "today": today},
            ),
        ),
    )


#: the county spot-checks (抽查核实) at least this share of the 特困 files it confirms
TEKUN_SPOT_CHECK_SHARE = Decimal("0.3")


def spot_check_share(
    checked: int,
    approved: int,
    *,
    this_checked: bool,
    minimum: Decimal = TEKUN_SPOT_CHECK_SHARE,
) -> Verdict:
    """May a 特困 file be confirmed, given the county's spot checks this year?

    ``approved`` files were confirmed this year, ``checked`` of them after the
    county's own visit.  A file the county has visited may always be confirmed;
    an unvisited one only if the share stays at ``minimum`` or above with it."""
    total = approved + 1
    after = checked + (1 if this_checked else 0)
    ok = this_checked or after >= minimum * total
    share = after / total
    detail = (
        f"本年已确认 {approved} 件，其中抽查核实 {checked} 件；"
        f"确认本件后抽查比例 {share:.0%}（不低于 {minimum:.0%}）"
    )
    if not ok:
        detail += "，本件须先抽查核实"
    return Verdict(
        ok,
        (
            Reason(
                "tekun.spot_check_share",
                "县级抽查比例",
                ok,
                detail,
                {"approved": approved, "checked": checked, "this_checked": this_checked},
            ),
        ),
    )


# ==================================================================== income


#: Sources counted as household income (DOMAIN.md: wages, business, property, transfer).
COUNTED_SOURCES: frozenset[IncomeSource] = frozenset(
    {
        IncomeSource.WAGES,
        IncomeSource.BUSINESS,
        IncomeSource.PROPERTY,
        IncomeSource.TRANSFER,
        IncomeSource.OTHER,
    }
)

SOURCE_TITLES: Mapping[IncomeSource, str] = {
    IncomeSource.WAGES: "工资性收入",
    IncomeSource.BUSINESS: "经营净收入",
    IncomeSource.PROPERTY: "财产净收入",
    IncomeSource.TRANSFER: "转移净收入",
    IncomeSource.BASIC_PENSION: "城乡居民基础养老金",
    IncomeSource.SOCIAL_ASSISTANCE: "社会救助金",
    IncomeSource.PREFERENTIAL: "优待抚恤金",
    IncomeSource.AWARD: "奖励金",
    IncomeSource.SCHOLARSHIP: "奖学金、助学金",
    IncomeSource.OTHER: "其他收入",
}


@dataclass(frozen=True)
class IncomeRecord:
    source: IncomeSource
    period_start: dt.date
    period_end: dt.date
    amount_fen: int
    employment_cost_fen: int = 0
    person_id: int | None = None
    ident: int | None = None


@dataclass(frozen=True)
class IncomeAssessment:
    """Monthly household income and per-capita income over the covered members."""

    window_start: dt.date
    window_end: dt.date
    members: int
    household_monthly_fen: int
    per_capita_fen: int
    reasons: tuple[Reason, ...]
    #: exact values, for comparisons that must not depend on display rounding
    per_capita_exact: Fraction = Fraction(0)


def income_window(as_of: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The ``months`` whole calendar months before ``as_of``'s month."""
    start = add_months(month_start(as_of), -months)
    end = month_start(as_of) - dt.timedelta(days=1)
    return start, end


def _overlap_days(a0: dt.date, a1: dt.date, b0: dt.date, b1: dt.date) -> int:
    return max(0, (min(a1, b1) - max(a0, b0)).days + 1)


def _record_months(r: IncomeRecord) -> Fraction:
    """The record's length in months (whole months count 1 each; a partial month
    counts its share of days)."""
    total = Fraction(0)
    d = month_start(r.period_start)
    while d <= r.period_end:
        days = _calendar.monthrange(d.year, d.month)[1]
        total += Fraction(_overlap_days(d, month_end(d), r.period_start, r.period_end), days)
        d = add_months(d, 1)
    return total


def _deduction(r: IncomeRecord, rule: EmploymentCostRule, share_in_window: Fraction) -> Fraction:
    if r.source != IncomeSource.WAGES or rule.mode == EmploymentCostMode.NONE:
        return Fraction(0)
    months = _record_months(r)
    cap = Fraction(rule.monthly_fen) * months if rule.monthly_fen else None
    if rule.mode == EmploymentCostMode.RECORDED:
        d = Fraction(r.employment_cost_fen)
    elif rule.mode == EmploymentCostMode.FIXED:
        d, cap = Fraction(rule.monthly_fen) * months, None
    else:
        d = r.amount_fen * Fraction(rule.share)
    if cap is not None:
        d = min(d, cap)
    return min(d, Fraction(r.amount_fen)) * share_in_window


def assess_income(
    records: Iterable[IncomeRecord],
    covered_person_ids: Sequence[int],
    as_of: dt.date,
    standard: Standard,
    *,
    include_household_records: bool = True,
) -> IncomeAssessment:
    """Per-capita monthly income of the covered members (家庭人均月收入).

    Counted sources only; wages net of employment costs as the region deducts
    them; each record prorated (by days) to the part of it inside the window of
    ``standard.income_window_months`` whole months before ``as_of``'s month.
    Records of persons who are not covered are left out; household-wide records
    (no person) are counted unless ``include_household_records`` is false
    (单人户 are assessed on their own income).
    """
    covered = set(covered_person_ids)
    if not covered:
        raise ValueError("income is assessed over at least one covered member")
    w0, w1 = income_window(as_of, standard.income_window_months)
    reasons: list[Reason] = []
    total = Fraction(0)
    for r in sorted(records, key=lambda x: (x.period_start, x.ident or 0)):
        label = f"{SOURCE_TITLES[r.source]} {r.period_start}—{r.period_end} {_y(r.amount_fen)}"
        inputs = {
            "source": r.source.value,
            "period_start": r.period_start,
            "period_end": r.period_end,
            "amount_fen": r.amount_fen,
            "employment_cost_fen": r.employment_cost_fen,
            "income_id": r.ident,
        }
        title = SOURCE_TITLES[r.source]
        days = (r.period_end - r.period_start).days + 1
        share = Fraction(_overlap_days(r.period_start, r.period_end, w0, w1), days)
        if r.source not in COUNTED_SOURCES:
            skipped = "不计入家庭收入"
        elif r.person_id is None and not include_household_records:
            skipped = "家庭收入，单人户不计入"
        elif r.person_id is not None and r.person_id not in covered:
            skipped = "非保障成员收入，不计入"
        elif share == 0:
            skipped = f"不在核算期 {w0}—{w1} 内"
        else:
            skipped = ""
        if skipped:
            reasons.append(Reason("income.record", title, None, f"{label}：{skipped}", inputs))
            continue
        gross = r.amount_fen * share
        deducted = _deduction(r, standard.employment_cost, share)
        net = gross - deducted
        total += net
        text = f"{label}：核算期内 {_y(gross)}"
        if deducted:
            text += f"，扣除必要就业成本 {_y(deducted)}"
        reasons.append(
            Reason(
                "income.record",
                title,
                None,
                f"{text}，计入 {_y(net)}",
                {**inputs, "counted_fen": round_fen(net), "deducted_fen": round_fen(deducted)},
            )
        )
    monthly = total / standard.income_window_months
    per_capita = monthly / len(covered)
    hh, pc = round_fen(monthly), round_fen(per_capita)
    reasons.append(
        Reason(
            "income.per_capita",
            "家庭人均月收入",
            None,
            f"核算期 {w0}—{w1}（{standard.income_window_months} 个月）计入收入 {_y(total)}，"
            f"月均 {_y(hh)}，保障成员 {len(covered)} 人，人均 {_y(pc)}",
            {
                "window_start": w0,
                "window_end": w1,
                "months": standard.income_window_months,
                "total_fen": round_fen(total),
                "household_monthly_fen": hh,
                "members": len(covered),
                "per_capita_fen": pc,
            },
        )
    )
    return IncomeAssessment(w0, w1, len(covered), hh, pc, tuple(reasons), per_capita)


# ==================================================================== assets


@dataclass(frozen=True)
class AssetHolding:
    kind: AssetKind
    value_fen: int


FINANCIAL_ASSETS = frozenset({AssetKind.DEPOSIT, AssetKind.SECURITIES})


def assets_within(
    holdings: Iterable[AssetHolding],
    members: int,
    standard: Standard,
    rule: AssetRule,
    *,
    label: str = "家庭财产状况符合规定",
) -> Reason:
    """财产状况: money assets per capita, vehicles and homes against the rule."""
    holdings = list(holdings)
    money = sum(h.value_fen for h in holdings if h.kind in FINANCIAL_ASSETS)
    vehicles = sum(1 for h in holdings if h.kind == AssetKind.VEHICLE)
    homes = sum(1 for h in holdings if h.kind == AssetKind.REAL_ESTATE)
    limit = standard.dibao_fen * rule.financial_months
    per_capita = Fraction(money, max(members, 1))
    problems = []
    if per_capita > limit:
        problems.append(
            f"人均货币财产 {_y(per_capita)} 超过 {rule.financial_months} 个月低保标准 {_y(limit)}"
        )
    if vehicles > rule.max_vehicles:
        problems.append(f"机动车 {vehicles} 辆，超过 {rule.max_vehicles} 辆")
    if homes > rule.max_homes:
        problems.append(f"房产 {homes} 套，超过 {rule.max_homes} 套")
    ok = not problems
    detail = (
        "；".join(problems)
        if problems
        else (
            f"人均货币财产 {_y(per_capita)} 不超过 {_y(limit)}，"
            f"机动车 {vehicles} 辆，房产 {homes} 套"
        )
    )
    return Reason(
        "assets.within_limit",
        label,
        ok,
        detail,
        {
            "money_fen": money,
            "per_capita_fen": round_fen(per_capita),
            "limit_fen": limit,
            "vehicles": vehicles,
            "homes": homes,
        },
    )


# ===================================================================== 低保


@dataclass(frozen=True)
class DibaoAmount:
    eligible: bool
    amount_fen: int
    tier: str | None
    reasons: tuple[Reason, ...]


def income_below_standard(per_capita_fen: int, standard: Standard) -> Reason:
    ok = per_capita_fen < standard.dibao_fen
    return Reason(
        "dibao.income_below_standard",
        "家庭人均收入低于低保标准",
        ok,
        f"人均月收入 {_y(per_capita_fen)} {'<' if ok else '≥'} 低保标准 {_y(standard.dibao_fen)}",
        {"per_capita_fen": per_capita_fen, "standard_fen": standard.dibao_fen},
    )


#: refusals of suitable work in a row after which the county may withhold a
#: member's own share (最低生活保障审核确认办法)
WORK_REFUSALS_IN_A_ROW = 3


def refusals_in_a_row(accepted: Sequence[bool]) -> int:
    """How many of the latest work offers (oldest first) were refused in a row."""
    n = 0
    for took in reversed(accepted):
        if took:
            break
        n += 1
    return n


def dibao_amount(
    per_capita_fen: int, members: int, standard: Standard, withheld: int = 0
) -> DibaoAmount:
    """Monthly 低保 amount for the covered members (补差 or 分档).

    ``withheld`` members (three refusals of suitable work in a row) still count
    in the per-capita income, but their own share is not paid."""
    if members < 1:
        raise ValueError("a 低保 case covers at least one member")
    if not 0 <= withheld <= members:
        raise ValueError(f"withheld shares ({withheld}) must be within the members ({members})")
    below = income_below_standard(per_capita_fen, standard)
    if not below.passed:
        return DibaoAmount(False, 0, None, (below,))
    paid = members - withheld
    shares = (
        f"{members} 人" if not withheld else f"{paid} 人（{withheld} 人连续拒绝就业，停发本人份额）"
    )
    std = standard.dibao_fen
    if standard.amount_mode == AmountMode.GAP:
        per = std - per_capita_fen
        amount = per * paid
        calc = Reason(
            "dibao.amount.gap",
            "补差发放",
            None,
            f"（{_y(std)} − {_y(per_capita_fen)}）× {shares} = {_y(amount)}",
            {
                "standard_fen": std,
                "per_capita_fen": per_capita_fen,
                "members": members,
                "withheld": withheld,
                "amount_fen": amount,
            },
        )
        return DibaoAmount(True, amount, None, (below, calc))
    for tier in standard.tiers:
        if times(std, tier.income_below) > per_capita_fen:
            per = round_fen(times(std, tier.per_member))
            amount = per * paid
            calc = Reason(
                "dibao.amount.tiered",
                "分档发放",
                None,
                f"人均收入低于 {tier.income_below} 倍标准，属 {tier.code} 档："
                f"每人 {tier.per_member} × {_y(std)} = {_y(per)}，× {shares} = {_y(amount)}",
                {
                    "tier": tier.code,
                    "standard_fen": std,
                    "per_member_fen": per,
                    "members": members,
                    "withheld": withheld,
                    "amount_fen": amount,
                },
            )
            return DibaoAmount(True, amount, tier.code, (below, calc))
    raise AssertionError("tiers reach the standard")  # guaranteed by standard_problems


@dataclass(frozen=True)
class DibaoEligibility:
    eligible: bool
    amount_fen: int
    reasons: tuple[Reason, ...]


def dibao_eligibility(
    income: IncomeAssessment,
    holdings: Iterable[AssetHolding],
    standard: Standard,
    *,
    asset_members: int | None = None,
    withheld: int = 0,
) -> DibaoEligibility:
    """An application: income below the standard and assets within the rule → amount.

    Assets are per capita over ``asset_members`` (default: the covered members;
    a 单人户 is judged on its household's assets over the whole household).
    ``withheld`` covered members' own shares are not paid (see :func:`dibao_amount`).
    """
    amount = dibao_amount(income.per_capita_fen, income.members, standard, withheld)
    assets = assets_within(
        holdings, asset_members or income.members, standard, standard.dibao_assets
    )
    eligible = amount.eligible and bool(assets.passed)
    return DibaoEligibility(
        eligible,
        amount.amount_fen if eligible else 0,
        (*income.reasons, *amount.reasons, assets),
    )


class IncomeChangeOutcome(enum.StrEnum):
    CONTINUE = "continue"  # still below the standard: recompute the amount
    PHASE_OUT = "phase_out"  # 渐退期
    REVIEW = "review"  # above the phase-out line: review (likely close)


@dataclass(frozen=True)
class IncomeChangeDecision:
    outcome: IncomeChangeOutcome
    reasons: tuple[Reason, ...]


def income_change_decision(per_capita_fen: int, standard: Standard) -> IncomeChangeDecision:
    """What recorded income means for a household on 低保.

    Below the standard → continue; no longer below the standard but not above
    ``phase_out_multiple`` × standard → phase-out (渐退); above it → review.
    """
    std = standard.dibao_fen
    line = times(std, standard.phase_out_multiple)
    below = income_below_standard(per_capita_fen, standard)
    if below.passed:
        return IncomeChangeDecision(IncomeChangeOutcome.CONTINUE, (below,))
    within = per_capita_fen <= line
    reason = Reason(
        "dibao.phase_out_line",
        "人均收入不高于渐退线",
        within,
        f"人均月收入 {_y(per_capita_fen)} {'≤' if within else '>'} {standard.phase_out_multiple} × "
        f"低保标准 = {_y(line)}"
        + (f"，给予不超过 {standard.phase_out_max_months} 个月渐退期" if within else "，需复核"),
        {
            "per_capita_fen": per_capita_fen,
            "standard_fen": std,
            "multiple": standard.phase_out_multiple,
            "line_fen": round_fen(line),
            "max_months": standard.phase_out_max_months,
        },
    )
    outcome = IncomeChangeOutcome.PHASE_OUT if within else IncomeChangeOutcome.REVIEW
    if within and standard.phase_out_max_months == 0:
        outcome = IncomeChangeOutcome.REVIEW
    return IncomeChangeDecision(outcome, (below, reason))


@dataclass(frozen=True)
class PhaseOutProgress:
    month_number: int  # 1 = the first month of phase-out
    continues: bool  # still paid this month
    last_month: dt.date  # first day of the last paid month
    reason: Reason


def phase_out_progress(first_month: dt.date, month: dt.date, max_months: int) -> PhaseOutProgress:
    """Where ``month`` falls in a phase-out that started (was first paid) in
    ``first_month``: months 1 … ``max_months`` are paid, the next one closes."""
    n = months_between(first_month, month) + 1
    last = add_months(month_start(first_month), max_months - 1)
    ok = 1 <= n <= max_months
    return PhaseOutProgress(
        n,
        ok,
        last,
        Reason(
            "dibao.phase_out_month",
            "渐退期",
            ok,
            f"渐退期自 {first_month:%Y-%m} 起 {max_months} 个月（至 {last:%Y-%m}），"
            f"{month:%Y-%m} 为第 {n} 个月" + ("" if ok else "，渐退期满，停发"),
            {
                "first_month": first_month,
                "month": month,
                "month_number": n,
                "max_months": max_months,
            },
        ),
    )


def phase_out_amount(last_amount_fen: int, standard: Standard) -> int:
    """The monthly amount paid during phase-out."""
    return round_fen(times(last_amount_fen, standard.phase_out_share))


# ========================================================= near poverty, 单人户


def near_poverty(
    per_capita_fen: int,
    members: int,
    holdings: Iterable[AssetHolding],
    standard: Standard,
    *,
    on_dibao: bool,
) -> Verdict:
    """低保边缘家庭: not on 低保, per-capita income < multiple × standard, assets within."""
    line = times(standard.dibao_fen, standard.near_poverty_multiple)
    below = per_capita_fen < line
    return _all(
        (
            Reason(
                "near_poverty.not_on_dibao",
                "未纳入低保",
                not on_dibao,
                "家庭已纳入低保" if on_dibao else "家庭未纳入低保",
                {"on_dibao": on_dibao},
            ),
            Reason(
                "near_poverty.income_below_line",
                "人均收入低于低保边缘线",
                below,
                f"人均月收入 {_y(per_capita_fen)} {'<' if below else '≥'} "
                f"{standard.near_poverty_multiple} × 低保标准 = {_y(line)}",
                {
                    "per_capita_fen": per_capita_fen,
                    "multiple": standard.near_poverty_multiple,
                    "line_fen": round_fen(line),
                },
            ),
            assets_within(
                holdings,
                members,
                standard,
                standard.near_poverty_assets,
                label="财产状况符合低保边缘家庭规定",
            ),
        )
    )


@dataclass(frozen=True)
class PersonFacts:
    """What the rules need to know about one person."""

    birth_date: dt.date
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = None
    serious_illness: bool = False
    labour_capacity: LabourCapacity = LabourCapacity.FULL
    in_school: bool = False
    person_id: int | None = None


def severely_disabled(p: PersonFacts) -> bool:
    """重度残疾: grade 1–2, or grade 3 intellectual/mental."""
    g, c = p.disability_grade, p.disability_category
    if g is None or c is None:
        return False
    return g <= 2 or (g == 3 and c in (DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL))


def single_person_household(
    person: PersonFacts,
    household: Verdict,
    *,
    on_dibao_or_tekun: bool,
    low_income_household: bool = False,
) -> Verdict:
    """单人户: a severely disabled or seriously ill member of a 低保边缘 household
    (seed: or of a low-income household) not yet on 低保/特困 is covered alone."""
    sd = severely_disabled(person)
    condition = sd or person.serious_illness
    if sd:
        what = f"持{person.disability_grade}级{_DISABILITY[person.disability_category]}残疾证"  # type: ignore[index]
    elif person.serious_illness:
        what = "患重病"
    else:
        what = "无重度残疾或重病"
    family_ok = household.passed or low_income_household
    return _all(
        (
            Reason(
                "single.severe_condition",
                "重度残疾或重病",
                condition,
                what,
                {
                    "disability_category": person.disability_category,
                    "disability_grade": person.disability_grade,
                    "serious_illness": person.serious_illness,
                },
            ),
            Reason(
                "single.household",
                "所在家庭为低保边缘家庭或低收入家庭",
                family_ok,
                "所在家庭为低保边缘家庭"
                if household.passed
                else (
                    "所在家庭为低收入家庭"
                    if low_income_household
                    else "所在家庭不是低保边缘家庭："
                    + "；".join(r.detail for r in household.failed())
                ),
                {"near_poverty": household.passed, "low_income": low_income_household},
            ),
            Reason(
                "single.not_enrolled",
                "未纳入低保、特困",
                not on_dibao_or_tekun,
                "已纳入低保或特困" if on_dibao_or_tekun else "未纳入低保或特困",
                {"on_dibao_or_tekun": on_dibao_or_tekun},
            ),
        )
    )


_DISABILITY = {
    DisabilityCategory.VISUAL: "视力",
    DisabilityCategory.HEARING: "听力",
    DisabilityCategory.SPEECH: "言语",
    DisabilityCategory.PHYSICAL: "肢体",
    DisabilityCategory.INTELLECTUAL: "智力",
    DisabilityCategory.MENTAL: "精神",
    DisabilityCategory.MULTIPLE: "多重",
}


# ====================================================================== reviews


def review_category(
    members: Sequence[PersonFacts], as_of: dt.date, *, irregular_income: bool = False
) -> tuple[ReviewCategory, Reason]:
    """Households with irregular income or a member able to work are reviewed more often."""
    able = [
        m
        for m in members
        if 16 <= age_on(m.birth_date, as_of) < 60
        and m.labour_capacity != LabourCapacity.NONE
        and not severely_disabled(m)
    ]
    irregular = irregular_income or bool(able)
    cat = ReviewCategory.IRREGULAR if irregular else ReviewCategory.STABLE
    if irregular_income:
        why = "收入来源不固定"
    elif able:
        why = f"{len(able)} 名成员处于劳动年龄且有劳动能力"
    else:
        why = "成员均无劳动能力或不在劳动年龄，经济状况变化不大"
    return cat, Reason(
        "review.category",
        "复核类别",
        None,
        f"{why}：{'每半年' if irregular else '每年'}类",
        {"category": cat.value, "able_members": len(able)},
    )


def next_review(last: dt.date, category: ReviewCategory, standard: Standard) -> dt.date:
    """The date the next periodic review (定期核查) is due."""
    return add_months(last, standard.review_months[category])


# ======================================================================= 特困


#: 特困 "unable to work" by disability: category → highest grade that qualifies
#: (grade 1 is the most severe).  特困人员认定办法 (2021) art. 7.
WORK_INCAPACITY_GRADES: Mapping[DisabilityCategory, int] = {
    DisabilityCategory.INTELLECTUAL: 3,
    DisabilityCategory.MENTAL: 3,
    DisabilityCategory.PHYSICAL: 2,
    DisabilityCategory.VISUAL: 1,
}


@dataclass(frozen=True)
class Condition:
    """One of the three 特困 conditions, with the evidence the caseworker recorded."""

    code: str
    title: str
    met: bool
    reasons: tuple[Reason, ...]
    evidence: tuple[str, ...] = ()


def unable_to_work(
    person: PersonFacts,
    as_of: dt.date,
    *,
    evidence: Sequence[str] = (),
    grades: Mapping[DisabilityCategory, int] = WORK_INCAPACITY_GRADES,
) -> Condition:
    """无劳动能力: aged 60 or over, under 16, or a qualifying disability grade."""
    age = age_on(person.birth_date, as_of)
    by_age = age >= 60 or age < 16
    r_age = Reason(
        "tekun.unable_to_work.age",
        "年龄",
        by_age,
        f"{age} 周岁"
        + (
            "（≥60 周岁）"
            if age >= 60
            else "（<16 周岁）"
            if age < 16
            else "，处于 16–59 周岁劳动年龄"
        ),
        {"birth_date": person.birth_date, "age": age, "as_of": as_of},
    )
    cat, grade = person.disability_category, person.disability_grade
    limit = grades.get(cat) if cat else None
    by_disability = limit is not None and grade is not None and grade <= limit
    if cat is None or grade is None:
        dis_text = "无残疾证"
    else:
        dis_text = f"{_DISABILITY[cat]}残疾{grade}级" + (
            f"（{_DISABILITY[cat]}残疾 {limit} 级及以上认定为无劳动能力）"
            if by_disability
            else "，不属于认定无劳动能力的残疾等级"
        )
    r_dis = Reason(
        "tekun.unable_to_work.disability",
        "残疾等级",
        by_disability,
        dis_text,
        {"disability_category": cat, "disability_grade": grade, "qualifying_grade": limit},
    )
    return Condition(
        "unable_to_work", "无劳动能力", by_age or by_disability, (r_age, r_dis), tuple(evidence)
    )


def no_means_of_living(
    income_per_capita_fen: int,
    holdings: Iterable[AssetHolding],
    standard: Standard,
    *,
    evidence: Sequence[str] = (),
) -> Condition:
    """无生活来源: income below the 低保 standard and assets within the rule."""
    below = income_below_standard(income_per_capita_fen, standard)
    assets = assets_within(holdings, 1, standard, standard.dibao_assets)
    return Condition(
        "no_means_of_living",
        "无生活来源",
        bool(below.passed and assets.passed),
        (below, assets),
        tuple(evidence),
    )


@dataclass(frozen=True)
class SupporterFacts:
    """A person with a legal duty to support (赡养、抚养、扶养义务人)."""

    name: str
    birth_date: dt.date
    relation: str = ""
    on_tekun: bool = False
    on_dibao: bool = False
    #: poor: income and assets within the local low-income rules (recorded by the caseworker)
    poor: bool = False
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = None
    lacks_capacity: bool = False  # 无民事行为能力
    missing: bool = False  # 被宣告失踪
    imprisoned: bool = False  # 在监狱服刑


def supporter_unable(s: SupporterFacts, as_of: dt.date) -> Reason:
    """Whether one supporter lacks the ability to support (无履行义务能力)."""
    age = age_on(s.birth_date, as_of)
    facts = PersonFacts(s.birth_date, s.disability_category, s.disability_grade)
    grounds = []
    if s.on_tekun:
        grounds.append("本人为特困人员")
    if s.on_dibao and age >= 60:
        grounds.append(f"{age} 周岁低保对象")
    if age >= 70 and s.poor:
        grounds.append(f"{age} 周岁且生活困难")
    if severely_disabled(facts) and s.poor:
        grounds.append("重度残疾且生活困难")
    if s.lacks_capacity:
        grounds.append("无民事行为能力")
    if s.missing:
        grounds.append("被宣告失踪")
    if s.imprisoned:
        grounds.append("在监狱服刑")
    unable = bool(grounds)
    who = f"{s.relation}{s.name}" if s.relation else s.name
    return Reason(
        "tekun.supporter",
        f"义务人{who}",
        unable,
        f"{who}："
        + ("、".join(grounds) + "，无履行义务能力" if unable else f"{age} 周岁，具备履行义务能力"),
        {
            "name": s.name,
            "age": age,
            "on_tekun": s.on_tekun,
            "on_dibao": s.on_dibao,
            "poor": s.poor,
            "lacks_capacity": s.lacks_capacity,
            "missing": s.missing,
            "imprisoned": s.imprisoned,
        },
    )


def no_able_supporter(
    supporters: Sequence[SupporterFacts], as_of: dt.date, *, evidence: Sequence[str] = ()
) -> Condition:
    """无法定赡养、抚养、扶养义务人，或者其义务人无履行义务能力."""
    if not supporters:
        reasons: tuple[Reason, ...] = (
            Reason("tekun.supporter.none", "无法定义务人", True, "无法定赡养、抚养、扶养义务人"),
        )
        return Condition(
            "no_able_supporter", "无履行义务能力的义务人", True, reasons, tuple(evidence)
        )
    reasons = tuple(supporter_unable(s, as_of) for s in supporters)
    return Condition(
        "no_able_supporter",
        "无履行义务能力的义务人",
        all(r.passed for r in reasons),
        reasons,
        tuple(evidence),
    )


@dataclass(frozen=True)
class TekunEligibility:
    eligible: bool
    conditions: tuple[Condition, ...]

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(r for c in self.conditions for r in c.reasons)


def tekun_eligibility(*conditions: Condition) -> TekunEligibility:
    """特困 needs all three conditions."""
    codes = {c.code for c in conditions}
    needed = {"unable_to_work", "no_means_of_living", "no_able_supporter"}
    if codes != needed:
        raise ValueError(f"特困 is decided on exactly these conditions: {sorted(needed)}")
    return TekunEligibility(all(c.met for c in conditions), tuple(conditions))


class Activity(enum.StrEnum):
    """The six activities of daily living (生活自理能力评估)."""

    EATING = "eating"  # 自主吃饭
    DRESSING = "dressing"  # 自主穿衣
    TRANSFER = "transfer"  # 自主上下床
    TOILETING = "toileting"  # 自主如厕
    WALKING_INDOORS = "walking_indoors"  # 室内行走
    BATHING = "bathing"  # 自主洗澡


ACTIVITY_TITLES: Mapping[Activity, str] = {
    Activity.EATING: "自主吃饭",
    Activity.DRESSING: "自主穿衣",
    Activity.TRANSFER: "自主上下床",
    Activity.TOILETING: "自主如厕",
    Activity.WALKING_INDOORS: "室内行走",
    Activity.BATHING: "自主洗澡",
}

SELF_CARE_TITLES: Mapping[SelfCareLevel, str] = {
    SelfCareLevel.SELF_SUFFICIENT: "具备生活自理能力",
    SelfCareLevel.PARTLY_DEPENDENT: "部分丧失生活自理能力",
    SelfCareLevel.FULLY_DEPENDENT: "完全丧失生活自理能力",
}


@dataclass(frozen=True)
class SelfCareAssessment:
    level: SelfCareLevel
    not_managed: tuple[Activity, ...]
    reason: Reason


def self_care_level(managed: Mapping[Activity, bool]) -> SelfCareAssessment:
    """All six managed → self-sufficient; 1–3 not → partly; 4 or more not → fully dependent."""
    missing = [a.value for a in Activity if a not in managed]
    if missing:
        raise ValueError(f"self-care assessment lacks: {', '.join(missing)}")
    not_managed = tuple(a for a in Activity if not managed[a])
    n = len(not_managed)
    level = (
        SelfCareLevel.SELF_SUFFICIENT
        if n == 0
        else SelfCareLevel.PARTLY_DEPENDENT
        if n <= 3
        else SelfCareLevel.FULLY_DEPENDENT
    )
    detail = (
        f"{n} 项不能自理（{'、'.join(ACTIVITY_TITLES[a] for a in not_managed)}）"
        if n
        else "六项均能自理"
    ) + f"：{SELF_CARE_TITLES[level]}"
    return SelfCareAssessment(
        level,
        not_managed,
        Reason(
            "tekun.self_care",
            "生活自理能力",
            None,
            detail,
            {"not_managed": [a.value for a in not_managed], "level": level.value},
        ),
    )


@dataclass(frozen=True)
class TekunAmount:
    amount_fen: int
    basic_fen: int
    care_fen: int
    reason: Reason


def tekun_amount(level: SelfCareLevel, standard: Standard) -> TekunAmount:
    """Monthly support: the basic living standard plus the care allowance for the level."""
    basic, care = standard.tekun_basic_fen, standard.care_fen[level]
    return TekunAmount(
        basic + care,
        basic,
        care,
        Reason(
            "tekun.amount",
            "特困供养金",
            None,
            f"基本生活标准 {_y(basic)} + 照料护理标准（{SELF_CARE_TITLES[level]}）"
            f"{_y(care)} = {_y(basic + care)}",
            {"basic_fen": basic, "care_fen": care, "level": level.value},
        ),
    )


class TerminationReason(enum.StrEnum):
    """Why 特困 support ends (终止救助供养)."""

    DIED = "died"  # 死亡或被宣告死亡
    REGAINED_CAPACITY = "regained_capacity"  # 具备或恢复劳动能力
    IMPRISONED = "imprisoned"  # 依法被判处刑罚，且在监狱服刑
    INCOME_ABOVE = "income_above"  # 收入和财产状况不再符合
    SUPPORTER_ABLE = "supporter_able"  # 义务人具备了履行义务能力
    MINOR_AGED_OUT = "minor_aged_out"  # 未成年人年满18周岁且不在校
    OTHER = "other"


def minor_support_continues(person: PersonFacts, as_of: dt.date) -> Reason:
    """A minor on 特困 is supported until 18, and after that while still in school."""
    age = age_on(person.birth_date, as_of)
    ok = age < 18 or person.in_school
    detail = (
        f"{age} 周岁，未满 18 周岁"
        if age < 18
        else f"{age} 周岁，仍在校就读"
        if person.in_school
        else f"{age} 周岁，已满 18 周岁且不在校，终止供养"
    )
    return Reason(
        "tekun.minor", "未成年人供养期限", ok, detail, {"age": age, "in_school": person.in_school}
    )


def tekun_still_unable(person: PersonFacts, as_of: dt.date, started_as_minor: bool) -> Reason:
    """At review: still unable to work — or a minor still within the minor's term."""
    if started_as_minor and age_on(person.birth_date, as_of) < 60:
        return minor_support_continues(person, as_of)
    cond = unable_to_work(person, as_of)
    return Reason(
        "tekun.still_unable",
        "仍无劳动能力",
        cond.met,
        "；".join(r.detail for r in cond.reasons),
        {},
    )


# ================================================================== 临时救助


class TemporaryKind(enum.StrEnum):
    EMERGENCY = "emergency"  # 急难型: help first, paperwork after
    EXPENDITURE = "expenditure"  # 支出型: full application


class Approver(enum.StrEnum):
    TOWNSHIP = "township"
    COUNTY = "county"


@dataclass(frozen=True)
class TemporaryAmount:
    amount_fen: int
    cap_fen: int
    approver: Approver
    reasons: tuple[Reason, ...]


def temporary_amount(
    need_fen: int, members: int, standard: Standard, *, severity: int | None = None
) -> TemporaryAmount:
    """The 临时救助 amount: the assessed need, capped by the region's rule; who approves."""
    if need_fen <= 0:
        raise ValueError("the assessed need must be positive")
    rule, std = standard.temporary, standard.dibao_fen
    if rule.mode == TemporaryAmountMode.STANDARD_MULTIPLE:
        n = members if rule.per_member else 1
        cap = round_fen(times(std, rule.max_multiple) * n)
        how = f"{rule.max_multiple} × 低保标准 {_y(std)}" + (
            f" × {n} 人" if rule.per_member else ""
        )
    elif rule.mode == TemporaryAmountMode.TIERED:
        if severity is None or not 1 <= severity <= len(rule.tier_multiples):
            raise ValueError(f"severity must be 1–{len(rule.tier_multiples)} in tiered mode")
        m = rule.tier_multiples[severity - 1]
        cap = round_fen(times(std, m))
        how = f"第 {severity} 档：{m} × 低保标准 {_y(std)}"
    else:
        cap = rule.case_cap_fen
        how = "一事一议，上限"
    amount = min(need_fen, cap)
    by_township = amount <= rule.township_limit_fen
    approver = Approver.TOWNSHIP if by_township else Approver.COUNTY
    return TemporaryAmount(
        amount,
        cap,
        approver,
        (
            Reason(
                "temporary.amount",
                "临时救助金额",
                None,
                f"核定需救助 {_y(need_fen)}，上限 {how} = {_y(cap)}，救助 {_y(amount)}",
                {
                    "need_fen": need_fen,
                    "cap_fen": cap,
                    "amount_fen": amount,
                    "mode": rule.mode.value,
                },
            ),
            Reason(
                "temporary.approver",
                "审批权限",
                None,
                f"{_y(amount)} {'≤' if by_township else '>'} 乡镇审批限额 "
                f"{_y(rule.township_limit_fen)}：由{'乡镇' if by_township else '县级'}审批",
                {"township_limit_fen": rule.township_limit_fen, "approver": approver.value},
            ),
        ),
    )


def reserve_fund_draw(balance_fen: int, payment_fen: int) -> Verdict:
    """备用金: a payment may not overdraw the township's reserve fund."""
    if payment_fen <= 0:
        raise ValueError("a payment must be positive")
    ok = payment_fen <= balance_fen
    return Verdict(
        ok,
        (
            Reason(
                "reserve_fund.balance",
                "备用金余额充足",
                ok,
                f"支出 {_y(payment_fen)} {'≤' if ok else '>'} 余额 {_y(balance_fen)}",
                {"balance_fen": balance_fen, "payment_fen": payment_fen},
            ),
        ),
    )


def emergency_paperwork_due(
    helped_on: dt.date, standard: Standard, cal: WorkingCalendar
) -> dt.date:
    """急难型: the paperwork after help-first is due this many working days later."""
    return cal.add_working_days(helped_on, standard.temporary.paperwork_working_days)
