"""Plugin data for large benchmark registries, generated set-based.

The plugins' ``seed_demo`` hooks drive their services case by case (minutes
for tens of thousands of households), so registries above the harness's
plugin-seed maximum get their plugin rows from here instead: one pass over the
registry's persons in id order, rows generated in memory with one seeded
random stream, written per table by ``executemany`` (SQLite) or ``COPY``
(PostgreSQL) with explicit ids.  Every row is what the services would have
written for a case in that state (every NOT NULL column, valid enum values,
the region columns of the person or household it belongs to, the core
enrolments that mirror it), in roughly the proportions of the domain:

- 社会救助: 低保 for ~3.5 % of rural and ~1.5 % of urban residents (households
  with a certified disabled member three times as likely), in the demo's mix
  of states; 低保边缘 for ~3 % of the other households; 特困 for ~0.5 % of
  residents (elderly or severely disabled people living alone, not on 低保);
  临时救助 for ~1 % of households in the last year; a reserve fund per township.
- 残疾人: the two subsidies for the registry's certificate holders (~6 % of
  residents): the care subsidy for grades 1–2, the living subsidy for holders
  in 低保 households — ~85 % granted (a few suspended), ~4 % with an open
  application, the rest eligible but not enrolled; a verification cycle per
  county opened this year, ~70 % of recipients verified.

Only the plugins that are enabled get rows; the same seed gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from minzheng.core.divisions import ancestors, parse
from minzheng.core.models import (
    Enrolment,
    EnrolmentStatus,
    Household,
    HukouType,
    Membership,
    Person,
    utcnow,
)
from minzheng.core.plugins import LoadedPlugins

SOCIAL = "social_assistance"
DISABILITY = "disability"
#: the tables written per plugin (model class names), parents first
MODELS = {
    SOCIAL: (
        "DibaoCase",
        "DibaoMember",
        "NearPovertyDetermination",
        "TekunCase",
        "TekunCondition",
        "SelfCareAssessment",
        "TemporaryCase",
        "ReserveFund",
        "ReserveFundEntry",
    ),
    DISABILITY: (
        "DisabilityStandard",
        "DisabilityApplication",
        "DisabilityGrant",
        "DisabilityVerificationCycle",
        "DisabilityVerification",
    ),
}

#: share of residents on 低保, by hukou type of the household
DIBAO_SHARE = {HukouType.RURAL.value: 0.035, HukouType.URBAN.value: 0.015}
#: how much likelier a household with a certified disabled member is on 低保
DIBAO_DISABLED_WEIGHT = 3.0
NEAR_POVERTY_SHARE = 0.03  # of households not on 低保
TEKUN_SHARE = 0.005  # of residents
TEMPORARY_SHARE = 0.01  # of households, per year
#: what happens to a (person, subsidy) the rules make eligible
GRANT_OUTCOMES = (("active", 82), ("suspended", 3), ("applied", 4), ("none", 11))
VERIFIED_SHARE = 0.7
BATCH = 5_000


@dataclass
class _Member:
    id: int
    region: str
    county: str
    township: str | None
    birth: str  # ISO date
    category: str | None
    grade: int | None
    household: int


@dataclass
class _Household:
    id: int
    hukou: str
    region: str
    county: str
    township: str | None
    members: list[_Member] = field(default_factory=list)


@dataclass
class _Tables:
    """Generated rows by table, with the next free id of each table."""

    next_ids: dict[str, int]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: Table, **values: Any) -> int:
        ident = self.next_ids[table.name]
        self.next_ids[table.name] = ident + 1
        values["id"] = ident
        self.rows[table.name].append(values)
        return ident


def _placed(code: str) -> dict[str, Any]:
    parsed = parse(code)
    return {"region_code": parsed.full, **ancestors(parsed.prefix)}


def _of(x: _Member | _Household) -> dict[str, Any]:
    return {"region_code": x.region, "county_code": x.county, "township_code": x.township}


def _days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=n)


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _next_month(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _pick(rng: random.Random, table: Iterable[tuple[str, int]]) -> str:
    pairs = list(table)
    return rng.choices([s for s, _ in pairs], weights=[w for _, w in pairs])[0]


async def read_registry(conn: AsyncConnection, today: dt.date) -> list[_Household]:
    """Living members by household, in id order (one statement, no type processing)."""
    p, m, h = Person.__table__, Membership.__table__, Household.__table__
    stmt = (
        select(
            p.c.id,
            p.c.region_code,
            p.c.county_code,
            p.c.township_code,
            p.c.birth_date,
            p.c.disability_category,
            p.c.disability_grade,
            m.c.household_id,
            h.c.hukou_type,
            h.c.region_code,
            h.c.county_code,
            h.c.township_code,
        )
        .join(m, m.c.person_id == p.c.id)
        .join(h, h.c.id == m.c.household_id)
        .where(p.c.died_on.is_(None))
        .order_by(p.c.id)
    )
    compiled = stmt.compile(dialect=conn.dialect)
    result = await conn.exec_driver_sql(str(compiled))
    households: dict[int, _Household] = {}
    for pid, region, county, township, birth, cat, grade, hid, hukou, hr, hc, ht in result:
        hh = households.get(hid)
        if hh is None:
            hh = households[hid] = _Household(hid, hukou, hr, hc, ht)
        birth = birth if isinstance(birth, str) else birth.isoformat()
        hh.members.append(_Member(pid, region, county, township, birth, cat, grade, hid))
    return [households[k] for k in sorted(households)]


def _complete(table: Table, row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Every column of ``table``: the row's values, else the column's scalar
    default (``now`` for a callable one), else None; refuse a missing NOT NULL value."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.name in row:
            value = row[column.name]
        elif column.default is not None and getattr(column.default, "is_scalar", False):
            value = column.default.arg  # type: ignore[attr-defined]
        elif column.default is not None:
            value = now
        else:
            value = None
        if value is None and not column.nullable:
            raise ValueError(f"{table.name}.{column.name} is NOT NULL")
        out[column.name] = value
    return out


async def _write(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    now = utcnow()
    full = [_complete(table, r, now) for r in rows]
    if conn.dialect.name == "postgresql":
        columns = [c.name for c in table.columns]
        as_json = {c.name for c in table.columns if c.type._type_affinity.__name__ == "JSON"}
        records = [
            tuple(json.dumps(r[c]) if c in as_json and r[c] is not None else r[c] for c in columns)
            for r in full
        ]
        fairy = await conn.get_raw_connection()
        await fairy.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=columns
        )
        await conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
        )
        return
    for start in range(0, len(full), BATCH):
        await conn.execute(insert(table), full[start : start + BATCH])


# ---------------------------------------------------------------- 社会救助


def _dibao_households(households: list[_Household], rng: random.Random) -> dict[int, _Household]:
    """Households on 低保 (any state of a case): weighted draw per hukou type."""
    chosen: dict[int, _Household] = {}
    for hukou, share in DIBAO_SHARE.items():
        pool = [h for h in households if h.hukou == hukou and h.members]
        weight = {
            h.id: DIBAO_DISABLED_WEIGHT if any(m.grade for m in h.members) else 1.0 for h in pool
        }
        persons = sum(len(h.members) for h in pool)
        weighted = sum(weight[h.id] * len(h.members) for h in pool)
        base = share * persons / weighted if weighted else 0.0
        for h in pool:
            if rng.random() < base * weight[h.id]:
                chosen[h.id] = h
    return chosen


class _Social:
    """低保, 低保边缘, 特困 and 临时救助 rows (the social-assistance plugin's tables)."""

    def __init__(self, t: _Tables, rng: random.Random, today: dt.date) -> None:
        from minzheng.plugins.social_assistance import demo, models
        from minzheng.plugins.social_assistance.services import common

        self.t, self.rng, self.today = t, rng, today
        self.m, self.demo, self.common = models, demo, common
        self.tables = _models(SOCIAL)
        self.enrolment = Enrolment.__table__

    def standard_fen(self, county: str, hukou: str) -> int:
        """The 低保 standard in force (the demo's table, with its 2025 raise)."""
        urban, rural = self.demo.BASE_2024.get(county[:6], (700, 490))
        lift = self.demo.RAISE_2025
        if hukou == HukouType.URBAN.value:
            return (urban + (lift[0] if self.today.year >= 2025 else 0)) * 100
        return (rural + (lift[1] if self.today.year >= 2025 else 0)) * 100

    def number(self, prefix: str, region: str, on: dt.date, ident: int) -> str:
        return self.common.case_number(prefix, region, on, ident)  # type: ignore[no-any-return]

    def enrol(self, programme: str, place: dict[str, Any], **values: Any) -> None:
        self.t.add(self.enrolment, programme=programme, **place, **values)

    def applying(
        self, programme: str, place: dict[str, Any], applied: dt.date, decided: Any, **ids: Any
    ) -> None:
        """The APPLIED enrolment of a case under way (cut on the day it was decided)."""
        status = EnrolmentStatus.APPLIED.value
        self.enrol(programme, place, status=status, start_on=applied, end_on=decided, **ids)

    # 低保 ------------------------------------------------------------------

    def dibao(self, h: _Household) -> None:
        m, rng, today = self.m, self.rng, self.today
        state = _pick(rng, self.demo.DIBAO_STATES)
        early = state in ("applied", "investigating", "notice", "pending_decision")
        applied = _days(today, -(rng.randint(1, 25) if early else rng.randint(60, 560)))
        std = self.standard_fen(h.county, h.hukou)
        size = len(h.members)
        row: dict[str, Any] = {
            "household_id": h.id,
            "applicant_person_id": h.members[0].id,
            "status": state,
            "single_person": False,
            "area": h.hukou,
            "extended": False,
            "decision_level": (
                m.DecisionLevel.TOWNSHIP
                if h.county[:6] in self.demo.DELEGATED
                else m.DecisionLevel.COUNTY
            ).value,
            "applied_on": applied,
            "objection_count": 0,
            "monthly_amount_fen": 0,
            **_of(h),
        }
        investigated = _days(applied, rng.randint(1, 3))
        decided = _days(applied, rng.randint(18, 30))
        if state != "applied":
            row["investigation_started_on"] = min(investigated, today)
        if state in ("notice", "pending_decision", "active", "phase_out", "closed", "refused"):
            opinion = min(_days(investigated, rng.randint(3, 6)), today)
            row.update(opinion_on=opinion, opinion_eligible=state != "refused")
            row["notice_posted_on"] = opinion if state != "refused" else None
        if state in ("pending_decision", "active", "phase_out", "closed"):
            row["file_received_on"] = min(_days(row["opinion_on"], 7), today)
        income = int(std * rng.uniform(0.1, 0.8))
        paid = state in ("active", "phase_out", "closed")
        if paid or state == "refused":
            row.update(decided_on=decided, decided_by="bench")
            row["per_capita_income_fen"] = income if paid else std + income
        if state == "refused":
            row["refusal_reason"] = "家庭人均收入高于当地低保标准"
        if paid:
            start = _next_month(decided)
            amount = max(100, round((std - income) * size, -2))
            review = rng.choice(("stable", "irregular"))
            months = 12 if review == "stable" else 6
            last = _days(decided, rng.randint(0, 200))
            row.update(
                payment_from=start,
                monthly_amount_fen=amount,
                review_category=review,
                last_reviewed_on=min(last, today),
                next_review_on=_days(min(last, today), 30 * months),
            )
        if state == "phase_out":
            first = _month_start(_days(today, -30 * rng.randint(0, 8)))
            row.update(
                phase_out_first_month=max(first, row["payment_from"]),
                phase_out_last_month=_month_start(_days(first, 30 * 11)),
                monthly_amount_fen=max(100, round(row["monthly_amount_fen"] / 2, -2)),
            )
        if state == "closed":
            closed = min(_days(decided, rng.randint(40, 200)), today)
            row.update(closed_on=closed, close_reason="家庭经济状况好转，主动申请退出")
        if state in ("active", "phase_out"):
            row["due_on"] = row["next_review_on"]
        elif early:
            row["due_on"] = _days(applied, 30 if state != "applied" else 5)
        case_id = self.t.add(self.tables["DibaoCase"], **row)
        number = self.number("DB", h.region, applied, case_id)
        self.t.rows[self.tables["DibaoCase"].name][-1]["number"] = number
        for p in h.members:
            self.t.add(
                self.tables["DibaoMember"],
                case_id=case_id,
                person_id=p.id,
                added_on=applied,
                **_of(h),
            )
        enrol = {"household_id": h.id, "reference": number}
        if state in ("active", "phase_out"):
            status = EnrolmentStatus.ACTIVE if state == "active" else EnrolmentStatus.PHASE_OUT
            self.enrol(
                "dibao",
                _of(h),
                status=status.value,
                start_on=row["payment_from"],
                monthly_amount_fen=row["monthly_amount_fen"],
                **enrol,
            )
        elif state == "closed":
            self.enrol(
                "dibao",
                _of(h),
                status=EnrolmentStatus.ACTIVE.value,
                start_on=row["payment_from"],
                end_on=row["closed_on"],
                monthly_amount_fen=row["monthly_amount_fen"],
                **enrol,
            )
        else:
            self.applying("dibao", _of(h), applied, row.get("decided_on"), **enrol)

    def near_poverty(self, h: _Household) -> None:
        std = self.standard_fen(h.county, h.hukou)
        on = _days(self.today, -self.rng.randint(0, 300))
        self.t.add(
            self.tables["NearPovertyDetermination"],
            household_id=h.id,
            determined_on=on,
            near_poverty=True,
            per_capita_income_fen=int(std * self.rng.uniform(1.0, 1.5)),
            members=len(h.members),
            reasons=[],
            **_of(h),
        )
        self.enrol(
            "near_poverty",
            _of(h),
            household_id=h.id,
            status=EnrolmentStatus.ACTIVE.value,
            start_on=on,
        )

    # 特困 ------------------------------------------------------------------

    def tekun(self, p: _Member, hukou: str) -> None:
        m, rng, today = self.m, self.rng, self.today
        state = _pick(rng, self.demo.TEKUN_STATES)
        early = state in ("applied", "investigating", "pending_decision")
        applied = _days(today, -(rng.randint(2, 10) if early else rng.randint(60, 600)))
        institutional = rng.random() < 0.25
        level = rng.choices([lv.value for lv in m.SelfCareLevel], weights=[70, 18, 12], k=1)[0]
        care = {"self_sufficient": 10_000, "partly_dependent": 40_000, "fully_dependent": 90_000}
        amount = round(self.standard_fen(p.county, hukou) * 1.3, -2) + care[level]
        row: dict[str, Any] = {
            "person_id": p.id,
            "status": state,
            "area": hukou,
            "support_mode": (
                m.SupportMode.INSTITUTIONAL if institutional else m.SupportMode.DISPERSED
            ).value,
            "institution": "县特困人员供养服务中心" if institutional else None,
            "applied_on": applied,
            "started_as_minor": False,
            "monthly_amount_fen": 0,
            **_of(p),
        }
        assessed = min(_days(applied, 1), today)
        if state != "applied":
            row["investigation_started_on"] = assessed
        if state in ("pending_decision", "active", "terminated", "refused"):
            row.update(
                opinion_on=min(_days(assessed, 5), today),
                notice_posted_on=min(_days(assessed, 5), today),
                file_received_on=min(_days(assessed, 13), today),
                self_care_level=level,
            )
        if state in ("active", "terminated", "refused"):
            decided = _days(applied, rng.randint(20, 40))
            row.update(decided_on=decided, decided_by="bench")
        if state == "refused":
            row["refusal_reason"] = "经核查有具备履行能力的赡养人"
        if state in ("active", "terminated"):
            row.update(payment_from=_next_month(row["decided_on"]), monthly_amount_fen=amount)
        if state == "terminated":
            notice = min(_days(row["decided_on"], rng.randint(60, 300)), today)
            row.update(
                termination_reason="regained_capacity",
                termination_notice_on=notice,
                ends_after=notice,
            )
        if early:
            row["due_on"] = _days(applied, 20)
        case_id = self.t.add(self.tables["TekunCase"], **row)
        number = self.number("TK", p.region, applied, case_id)
        self.t.rows[self.tables["TekunCase"].name][-1]["number"] = number
        if state not in ("applied", "investigating"):
            for code in m.ConditionCode:
                self.t.add(
                    self.tables["TekunCondition"],
                    case_id=case_id,
                    code=code.value,
                    met=state != "refused" or code != m.ConditionCode.NO_ABLE_SUPPORTER,
                    evidence=["户口簿"],
                    reasons=[],
                    assessed_on=assessed,
                    **_of(p),
                )
            dependent = {"self_sufficient": 0, "partly_dependent": 2, "fully_dependent": 5}[level]
            activities = ("eating", "dressing", "transfer", "toileting", "walking_indoors")
            self.t.add(
                self.tables["SelfCareAssessment"],
                case_id=case_id,
                assessed_on=assessed,
                bathing=dependent == 0,
                level=level,
                **{a: i >= dependent for i, a in enumerate(activities)},
                **_of(p),
            )
        enrol = {"person_id": p.id, "reference": number}
        if state in ("active", "terminated"):
            self.enrol(
                "tekun",
                _of(p),
                status=EnrolmentStatus.ACTIVE.value,
                start_on=row["payment_from"],
                end_on=row.get("ends_after"),
                monthly_amount_fen=amount,
                **enrol,
            )
        else:
            self.applying("tekun", _of(p), applied, row.get("decided_on"), **enrol)

    # 临时救助 ----------------------------------------------------------------

    def reserve_funds(self, townships: Iterable[str]) -> dict[str, int]:
        funds = {}
        top_up_on = max(dt.date(self.today.year, 1, 2), self.today - dt.timedelta(days=300))
        for code in sorted(townships):
            place = _placed(code)
            fund = self.t.add(self.tables["ReserveFund"], **place)
            self.t.add(
                self.tables["ReserveFundEntry"],
                fund_id=fund,
                kind="top_up",
                amount_fen=5_000_000,
                booked_on=min(top_up_on, self.today),
                note="年度备用金拨付",
                **place,
            )
            funds[code] = fund
        return funds

    def temporary(self, p: _Member, funds: dict[str, int]) -> None:
        m, rng, today, demo = self.m, self.rng, self.today, self.demo
        emergency = rng.random() < 0.6
        on = _days(today, -rng.randint(0, 300))
        need = rng.choice([50_000, 100_000, 150_000, 200_000, 300_000, 500_000])
        if emergency:
            need = min(need, 200_000)
        amount = min(need, 200_000 if emergency else 300_000)
        row: dict[str, Any] = {
            "person_id": p.id,
            "household_id": p.household,
            "kind": "emergency" if emergency else "expenditure",
            "cause": rng.choice(demo.CAUSES_EMERGENCY if emergency else demo.CAUSES_EXPENDITURE),
            "need_fen": need,
            "amount_fen": 0,
            "applied_on": on,
            "documents": [],
            **_of(p),
        }
        if emergency:
            done = rng.random() < 0.85
            row.update(
                status=(m.TemporaryStatus.COMPLETED if done else m.TemporaryStatus.PAPERWORK_DUE),
                amount_fen=amount,
                approver_level="township",
                helped_on=on,
                decided_on=on,
                decided_by="bench",
                paperwork_due_on=_days(on, 7),
                payment_month=_month_start(on),
            )
            if done:
                row.update(
                    paperwork_done_on=min(_days(on, rng.randint(1, 6)), today),
                    documents=["救助申请书", "医院/村委会证明"],
                )
            else:
                row["due_on"] = row["paperwork_due_on"]
        else:
            roll = rng.random()
            decided = min(_days(on, rng.randint(3, 12)), today)
            if roll < 0.7:
                row.update(
                    status=m.TemporaryStatus.APPROVED,
                    amount_fen=amount,
                    approver_level="county" if amount > 200_000 else "township",
                    decided_on=decided,
                    decided_by="bench",
                    payment_month=_next_month(decided),
                )
            elif roll < 0.8:
                row.update(
                    status=m.TemporaryStatus.REFUSED,
                    decided_on=decided,
                    decided_by="bench",
                    refusal_reason="支出已由医疗救助覆盖",
                )
            else:
                row.update(status=m.TemporaryStatus.APPLIED, due_on=_days(on, 20))
        row["status"] = m.TemporaryStatus(row["status"]).value
        case_id = self.t.add(self.tables["TemporaryCase"], **row)
        number = self.number("LS", p.region, on, case_id)
        self.t.rows[self.tables["TemporaryCase"].name][-1]["number"] = number
        if row.get("payment_month"):
            month = row["payment_month"]
            self.enrol(
                "temporary_assistance",
                _of(p),
                person_id=p.id,
                reference=number,
                status=EnrolmentStatus.ACTIVE.value,
                start_on=month,
                end_on=_next_month(month) - dt.timedelta(days=1),
                monthly_amount_fen=row["amount_fen"],
            )
        if emergency and p.township in funds:
            place = _placed(p.township)
            self.t.add(
                self.tables["ReserveFundEntry"],
                fund_id=funds[p.township],
                kind="draw",
                amount_fen=-amount,
                booked_on=on,
                temporary_case_id=case_id,
                **place,
            )


def _social(
    t: _Tables,
    rng: random.Random,
    today: dt.date,
    households: list[_Household],
    dibao: dict[int, _Household],
) -> None:
    s = _Social(t, rng, today)
    for h in dibao.values():
        s.dibao(h)
    others = [h for h in households if h.id not in dibao and h.members]
    for h in others:
        if rng.random() < NEAR_POVERTY_SHARE:
            s.near_poverty(h)
    persons = sum(len(h.members) for h in households)
    elderly = (today.replace(year=today.year - 60)).isoformat()
    alone = [
        (h.members[0], h.hukou)
        for h in others
        if len(h.members) == 1 and (h.members[0].birth <= elderly or (h.members[0].grade or 9) <= 2)
    ]
    wanted = round(persons * TEKUN_SHARE)
    for p, hukou in sorted(rng.sample(alone, min(wanted, len(alone))), key=lambda x: x[0].id):
        s.tekun(p, hukou)
    funds = s.reserve_funds({h.township for h in households if h.township})
    for h in households:
        if h.members and rng.random() < TEMPORARY_SHARE:
            s.temporary(h.members[0], funds)


# ------------------------------------------------------------------ 残疾人


class _Disability:
    """Standards, applications, grants with their enrolments, cycles, verifications."""

    def __init__(self, t: _Tables, rng: random.Random, today: dt.date) -> None:

        self.t, self.rng, self.today = t, rng, today
        self.tables = _models(DISABILITY)
        # the demo's standards: the city's, raised last year; 武陟县 grades care
        before, since = dt.date(today.year - 2, 1, 1), dt.date(today.year - 1, 1, 1)
        self.standards: dict[tuple[str, str, int | None], tuple[int, int]] = {}
        for region, subsidy, grade, start, amount in (
            ("410800", "living", None, before, 8000),
            ("410800", "care", None, before, 8000),
            ("410800", "living", None, since, 9000),
            ("410823", "care", 1, since, 12000),
            ("410823", "care", 2, since, 10000),
        ):
            ident = t.add(
                self.tables["DisabilityStandard"],
                region_code=region.ljust(12, "0"),
                subsidy=subsidy,
                grade=grade,
                effective_from=start,
                monthly_amount_fen=amount,
                document="示例标准",
            )
            self.standards[(region, subsidy, grade)] = (ident, amount)

    def standard(self, p: _Member, subsidy: str) -> tuple[int, int]:
        graded = self.standards.get((p.county[:6], subsidy, p.grade))
        if graded:
            return graded
        return self.standards[("410800", subsidy, None)]

    def person(self, p: _Member, subsidy: str, grants: list[tuple[int, _Member]]) -> None:
        rng, today = self.rng, self.today
        outcome = _pick(rng, GRANT_OUTCOMES)
        if outcome == "none":
            return
        submitted = _days(
            today, -(rng.randint(1, 20) if outcome == "applied" else rng.randint(60, 900))
        )
        app: dict[str, Any] = {
            "person_id": p.id,
            "subsidy": subsidy,
            "submitted_on": submitted,
            "version": 1,
            **_of(p),
        }
        if outcome == "applied":
            state = rng.choice(("submitted", "accepted", "reviewed"))
            app["state"] = state
            if state != "submitted":
                app["accepted_on"] = min(_days(submitted, 2), today)
            if state == "reviewed":
                app["reviewed_on"] = min(_days(submitted, 8), today)
            self.t.add(self.tables["DisabilityApplication"], **app)
            return
        accepted, reviewed = _days(submitted, 2), _days(submitted, 8)
        decided = _days(submitted, rng.randint(12, 25))
        app.update(state="approved", accepted_on=accepted, reviewed_on=reviewed, decided_on=decided)
        app_id = self.t.add(self.tables["DisabilityApplication"], **app)
        standard_id, amount = self.standard(p, subsidy)
        start = _next_month(decided)
        grant: dict[str, Any] = {
            "person_id": p.id,
            "subsidy": subsidy,
            "status": outcome,
            "application_id": app_id,
            "approved_on": decided,
            "start_on": start,
            "category": p.category,
            "grade": p.grade,
            "monthly_amount_fen": amount,
            "standard_id": standard_id,
            "review_flag": rng.random() < 0.01,
            **_of(p),
        }
        suspended = outcome == "suspended"
        if suspended:
            grant.update(suspended_from=max(_month_start(today), start), suspension_reason="manual")
        if grant["review_flag"]:
            grant.update(review_reason="户籍迁移待核", flagged_on=_days(today, -rng.randint(0, 60)))
        grant_id = self.t.add(self.tables["DisabilityGrant"], **grant)
        programme = f"disability_{subsidy}_subsidy"
        reference = f"disability_grant:{grant_id}"
        enrol = {"programme": programme, "person_id": p.id, "reference": reference, **_of(p)}
        enrolment = Enrolment.__table__
        if suspended and grant["suspended_from"] > start:
            self.t.add(
                enrolment,
                status=EnrolmentStatus.ACTIVE.value,
                start_on=start,
                end_on=grant["suspended_from"] - dt.timedelta(days=1),
                monthly_amount_fen=amount,
                **enrol,
            )
            start = grant["suspended_from"]
        self.t.add(
            enrolment,
            status=(EnrolmentStatus.SUSPENDED if suspended else EnrolmentStatus.ACTIVE).value,
            start_on=start,
            monthly_amount_fen=amount,
            **enrol,
        )
        grants.append((grant_id, p))

    def verification(self, counties: Iterable[str], grants: list[tuple[int, _Member]]) -> None:
        rng, today = self.rng, self.today
        opens = max(dt.date(today.year, 1, 1), _days(today, -150))
        opens = min(opens, _days(today, -7))
        cycles = {}
        for county in sorted(counties):
            cycles[county] = self.t.add(
                self.tables["DisabilityVerificationCycle"],
                name=f"{opens.year}年度生存验证",
                scope_prefix=county[:6],
                opens_on=opens,
                deadline=_days(opens, 180),
                **_placed(county),
            )
        methods = ("face_recognition", "data_comparison", "home_visit", "in_person")
        verified: set[int] = set()
        span = (today - opens).days
        for _grant, p in grants:
            if p.id in verified or rng.random() >= VERIFIED_SHARE:
                continue
            verified.add(p.id)
            on = _days(opens, rng.randint(0, span))
            at = dt.datetime.combine(on, dt.time(9, rng.randint(0, 59)), dt.UTC)
            self.t.add(
                self.tables["DisabilityVerification"],
                person_id=p.id,
                cycle_id=cycles[p.county],
                method=rng.choice(methods),
                outcome="confirmed",
                verified_at=at,
                verified_on=on,
                source="bench",
                recorded_by="bench",
                recorded_at=at,
                **_of(p),
            )


def _disability(
    t: _Tables,
    rng: random.Random,
    today: dt.date,
    households: list[_Household],
    dibao_paying: set[int],
) -> None:
    d = _Disability(t, rng, today)
    grants: list[tuple[int, _Member]] = []
    for h in households:
        for p in h.members:
            if p.grade is None or p.category is None:
                continue
            if p.grade <= 2:
                d.person(p, "care", grants)
            if h.id in dibao_paying:
                d.person(p, "living", grants)
    d.verification({h.county for h in households}, grants)


# ------------------------------------------------------------------- entry point


def build_rows(
    households: list[_Household],
    names: set[str],
    next_ids: dict[str, int],
    seed: int,
    today: dt.date,
) -> _Tables:
    """The rows of the plugins in ``names`` for the registry's ``households``,
    with ids from ``next_ids`` (in memory; the same arguments give the same rows)."""
    rng = random.Random(f"{seed}:plugin-data")
    t = _Tables(dict(next_ids))
    dibao = _dibao_households(households, rng)
    if SOCIAL in names:
        _social(t, rng, today, households, dibao)
    elif DISABILITY in names:  # stand in for the social-assistance system
        for h in dibao.values():
            t.add(
                Enrolment.__table__,
                programme="dibao",
                household_id=h.id,
                status=EnrolmentStatus.ACTIVE.value,
                start_on=dt.date(today.year - 1, 1, 1),
                monthly_amount_fen=50_000,
                reference=f"bench-dibao:{h.id}",
                **_of(h),
            )
    if DISABILITY in names:
        paying = {
            r["household_id"]
            for r in t.rows["enrolment"]
            if r["programme"] == "dibao"
            and r["status"] in ("active", "phase_out")
            and r.get("end_on") is None
        }
        _disability(t, rng, today, households, paying)
    return t


async def generate(
    engine: AsyncEngine, plugins: LoadedPlugins, seed: int, today: dt.date
) -> dict[str, Any]:
    """Write the enabled plugins' rows into a generated registry (no plugin rows
    yet) in one transaction; returns rows per table and seconds."""
    names = set(plugins.names())
    started = time.perf_counter()
    async with engine.begin() as conn:
        households = await read_registry(conn, today)
        read = time.perf_counter() - started
        tables = _tables(plugins)
        next_ids = {}
        for table in tables:
            top = await conn.scalar(select(func.max(table.c.id)))
            next_ids[table.name] = (top or 0) + 1
        t = build_rows(households, names, next_ids, seed, today)
        generated = time.perf_counter() - started - read
        for table in tables:
            await _write(conn, table, t.rows.get(table.name, []))
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in tables:
                await auto.exec_driver_sql(f"VACUUM (ANALYZE) {table.name}")
    else:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    return {
        "rows": {name: len(rows) for name, rows in sorted(t.rows.items())},
        "read_seconds": round(read, 2),
        "generate_seconds": round(generated, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _models(plugin: str) -> dict[str, Table]:
    """The plugin's tables this module writes, by model name, parents first."""
    module = importlib.import_module(f"minzheng.plugins.{plugin}.models")
    return {name: getattr(module, name).__table__ for name in MODELS[plugin]}


def _tables(plugins: LoadedPlugins) -> list[Table]:
    """Tables written, parents first."""
    out: list[Table] = [Enrolment.__table__]  # type: ignore[list-item]
    for name in plugins.names():
        if name in MODELS:
            out += _models(name).values()
    return out
