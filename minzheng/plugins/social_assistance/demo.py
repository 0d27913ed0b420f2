"""Demo data for ``minzheng seed --demo``: standards for every 焦作 county (urban and
rural, with a raise in 2025), a township reserve fund wherever households live,
and 低保 / 特困 / 临时救助 / 低保边缘 cases in every state in realistic proportions.

Every case is made through the services, so it is exactly what the procedure
would have produced (enrolments, deadlines, audit); only ``rng`` chooses.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core.errors import DomainError
from minzheng.core.models import (
    Household,
    HouseholdIncome,
    HukouType,
    Membership,
    Person,
    Region,
)
from minzheng.core.regions import COUNTIES
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import ConditionCode, SupportMode
from minzheng.plugins.social_assistance.services import (
    common,
    dibao,
    near_poverty,
    standards,
    tekun,
    temporary,
)

#: 2024 standards in yuan per person per month (urban, rural); 2025 adds a raise
BASE_2024 = {
    "410802": (720, 500),
    "410803": (700, 490),
    "410804": (700, 490),
    "410811": (720, 500),
    "410821": (680, 470),
    "410822": (680, 470),
    "410823": (670, 465),
    "410825": (680, 470),
    "410871": (700, 490),
    "410882": (690, 480),
    "410883": (690, 480),
}
RAISE_2025 = (30, 20)
#: counties that delegate 低保 confirmation to the township (审核确认权限下放)
DELEGATED = {"410821", "410825"}

DIBAO_STATES = [
    ("active", 70),
    ("phase_out", 8),
    ("closed", 7),
    ("refused", 4),
    ("applied", 3),
    ("investigating", 3),
    ("notice", 2),
    ("pending_decision", 3),
]
TEKUN_STATES = [
    ("active", 78),
    ("terminated", 6),
    ("refused", 3),
    ("applied", 4),
    ("investigating", 4),
    ("pending_decision", 5),
]
CAUSES_EMERGENCY = ["火灾", "交通事故", "突发重病", "意外伤害", "自然灾害"]
CAUSES_EXPENDITURE = ["医疗费用支出过大", "子女教育支出", "重病住院自付费用"]


def _standard(dibao_yuan: int) -> rules.Standard:
    d = dibao_yuan * 100
    return rules.Standard(
        dibao_fen=d,
        tekun_basic_fen=int(Decimal(d) * Decimal("1.3") / 100) * 100,
        care_fen={
            rules.SelfCareLevel.SELF_SUFFICIENT: 10_000,
            rules.SelfCareLevel.PARTLY_DEPENDENT: 40_000,
            rules.SelfCareLevel.FULLY_DEPENDENT: 90_000,
        },
        phase_out_max_months=12,
        employment_cost=rules.EmploymentCostRule(rules.EmploymentCostMode.RECORDED, 30_000),
        temporary=rules.TemporaryAssistanceRule(
            max_multiple=Decimal(6), township_limit_fen=200_000, paperwork_working_days=5
        ),
    )


async def seed_standards(session: AsyncSession) -> int:
    """Urban and rural standards for every county from 2024-01-01, raised 2025-01-01."""
    n = 0
    for county in COUNTIES:
        if await session.get(Region, county.ljust(12, "0")) is None:
            continue
        urban, rural = BASE_2024[county]
        for area, base, lift in (
            (HukouType.URBAN, urban, RAISE_2025[0]),
            (HukouType.RURAL, rural, RAISE_2025[1]),
        ):
            for start, yuan in ((dt.date(2024, 1, 1), base), (dt.date(2025, 1, 1), base + lift)):
                await standards.set_standard(
                    session,
                    standards.StandardInput(
                        region_code=county.ljust(12, "0"),
                        area=area,
                        effective_from=start,
                        standard=_standard(yuan),
                        township_confirms=county in DELEGATED,
                        note="焦作市民政局 demo standard",
                    ),
                )
                n += 1
    return n


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([s for s, _ in table], weights=[w for _, w in table])[0]


def _clamp(d: dt.date, today: dt.date) -> dt.date:
    return min(d, today)


async def seed(session: AsyncSession, rng: random.Random, today: dt.date) -> None:
    await seed_standards(session)
    households = list(await session.scalars(select(Household).order_by(Household.id)))
    if not households:
        return
    members: dict[int, list[Person]] = defaultdict(list)
    for m, p in await session.execute(
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .order_by(Membership.id)
    ):
        if p.died_on is None:
            members[m.household_id].append(p)
    incomes: dict[int, list[rules.IncomeRecord]] = defaultdict(list)
    for i in await session.scalars(select(HouseholdIncome)):
        incomes[i.household_id].append(
            rules.IncomeRecord(
                i.source,
                i.period_start,
                i.period_end,
                i.amount_fen,
                i.employment_cost_fen,
                i.person_id,
                i.id,
            )
        )
    # reserve funds where people live
    for township in sorted({h.township_code for h in households if h.township_code}):
        await temporary.top_up(
            session,
            township,
            5_000_000,
            note="年度备用金拨付",
            on=_clamp(dt.date(today.year, 1, 2), today),
            today=today,
        )
    # rank households by per-capita income under their standard: the poorest apply
    ranked: list[tuple[int, Household]] = []
    for h in households:
        living = members.get(h.id, [])
        if not living:
            continue
        try:
            _row, std = await common.standard_for(session, h.region_code, h.hukou_type, today)
        except DomainError:
            continue
        a = rules.assess_income(incomes.get(h.id, []), [p.id for p in living], today, std)
        ranked.append((a.per_capita_fen - std.dibao_fen, h))
    ranked.sort(key=lambda x: (x[0], x[1].id))
    n_dibao = max(1, round(len(households) * 0.06))
    n_near = max(1, round(len(households) * 0.03))
    dibao_households = [h for _gap, h in ranked[:n_dibao]]
    near_households = [h for _gap, h in ranked[n_dibao : n_dibao + n_near]]
    taken: set[int] = set()
    for h in dibao_households:
        await _dibao_case(session, rng, h, members[h.id], _weighted(rng, DIBAO_STATES), today)
        taken.update(p.id for p in members[h.id])
    for h in near_households:
        await _attempt(near_poverty.determine(session, h.id, on=today, today=today))
    # 特困: elderly or severely disabled people living alone, not on 低保
    alone = [
        ps[0]
        for hid, ps in sorted(members.items())
        if len(ps) == 1
        and ps[0].id not in taken
        and (
            rules.age_on(ps[0].birth_date, today) >= 60
            or rules.severely_disabled(common.person_facts(ps[0]))
        )
    ]
    for p in alone[: max(1, round(sum(len(v) for v in members.values()) * 0.006))]:
        await _tekun_case(session, rng, p, _weighted(rng, TEKUN_STATES), today)
    # 临时救助: about 1 % of households in a year
    for h in rng.sample(households, max(1, round(len(households) * 0.01))):
        if members.get(h.id):
            await _temporary_case(session, rng, members[h.id][0], today)


async def _attempt(step: Any) -> Any:
    """Run one service step; a refusal by the rules ends that demo story quietly."""
    try:
        return await step
    except DomainError:
        return None


async def _dibao_case(
    session: AsyncSession,
    rng: random.Random,
    h: Household,
    people: list[Person],
    state: str,
    today: dt.date,
) -> None:
    cal = common.calendar()
    early = state in ("applied", "investigating", "notice", "pending_decision")
    applied = today - dt.timedelta(days=rng.randint(1, 4) if early else rng.randint(60, 560))
    if state == "notice":
        applied = today - dt.timedelta(days=rng.randint(10, 14))
    if state == "pending_decision":
        applied = today - dt.timedelta(days=rng.randint(20, 28))
    applicant = people[0]
    case = await _attempt(
        dibao.apply(
            session,
            household_id=h.id,
            applicant_id=applicant.id,
            covered_ids=[p.id for p in people],
            applied_on=applied,
            today=today,
        )
    )
    if case is None or state == "applied":
        return
    on = _clamp(cal.add_working_days(applied, rng.randint(1, 3)), today)
    await dibao.start_investigation(session, case.id, None, on=on, today=today)
    if state == "investigating":
        return
    covered = [p.id for p in people]
    on = _clamp(on + dt.timedelta(days=rng.randint(3, 6)), today)
    a = await dibao.assess(session, h.id, covered, single_person=False, on=on, case_id=case.id)
    if not a.eligible or state == "refused":
        note = "；".join(r.detail for r in a.failed()) or "民主评议认为家庭经济状况不符合"
        if case.status == dibao.DibaoStatus.INVESTIGATING:
            await dibao.submit_opinion(
                session, case.id, None, eligible=False, note=note, on=on, today=today
            )
        if state != "pending_decision":
            await _attempt(
                dibao.refuse(
                    session,
                    case.id,
                    None,
                    reason=note,
                    on=_clamp(on + dt.timedelta(days=5), today),
                    today=today,
                )
            )
        return
    await dibao.submit_opinion(session, case.id, None, eligible=True, on=on, today=today)
    if state == "notice":
        return
    on = _clamp(on + dt.timedelta(days=7 + rng.randint(0, 2)), today)
    await _attempt(dibao.close_notice(session, case.id, None, on=on, today=today))
    if state == "pending_decision" or case.status != dibao.DibaoStatus.PENDING_DECISION:
        return
    on = _clamp(cal.add_working_days(on, rng.randint(2, 8)), today)
    approved = await _attempt(dibao.approve(session, case.id, None, on=on, today=today))
    if approved is None:
        return
    if state == "phase_out":
        first = max(
            case.payment_from or on, rules.add_months(rules.month_start(today), -rng.randint(0, 8))
        )
        await dibao._start_phase_out(session, case, a.standard, rules.month_start(first))
    elif state == "closed":
        closed_on = _clamp(on + dt.timedelta(days=rng.randint(40, 200)), today)
        await dibao.close(
            session,
            case.id,
            None,
            reason="家庭经济状况好转，主动申请退出",
            on=closed_on,
            today=today,
        )


async def _tekun_case(
    session: AsyncSession, rng: random.Random, person: Person, state: str, today: dt.date
) -> None:
    early = state in ("applied", "investigating", "pending_decision")
    applied = today - dt.timedelta(days=rng.randint(2, 10) if early else rng.randint(60, 600))
    mode = SupportMode.INSTITUTIONAL if rng.random() < 0.25 else SupportMode.DISPERSED
    case = await _attempt(
        tekun.apply(
            session,
            person_id=person.id,
            support_mode=mode,
            institution="县特困人员供养服务中心" if mode == SupportMode.INSTITUTIONAL else None,
            applied_on=applied,
            today=today,
        )
    )
    if case is None or state == "applied":
        return
    on = _clamp(applied + dt.timedelta(days=1), today)
    await tekun.start_investigation(session, case.id, None, on=on, today=today)
    if state == "investigating":
        return
    evidence = {
        ConditionCode.UNABLE_TO_WORK: ["户口簿", "残疾证" if person.disability_grade else "身份证"],
        ConditionCode.NO_MEANS_OF_LIVING: ["家庭经济状况核对报告"],
        ConditionCode.NO_ABLE_SUPPORTER: ["村委会证明：无法定赡养、抚养、扶养义务人"],
    }
    for code, docs in evidence.items():
        await tekun.record_condition(
            session, case.id, None, code=code, evidence=docs, on=on, today=today
        )
    not_managed = rng.choices([0, 1, 2, 4, 5], weights=[55, 15, 10, 12, 8])[0]
    managed = {a: i >= not_managed for i, a in enumerate(rules.Activity)}
    await tekun.assess_self_care(session, case.id, None, managed=managed, on=on, today=today)
    on = _clamp(on + dt.timedelta(days=rng.randint(3, 8)), today)
    await tekun.submit_opinion(session, case.id, None, on=on, today=today)
    if case.status == tekun.TekunStatus.NOTICE:
        on = _clamp(on + dt.timedelta(days=8), today)
        await _attempt(tekun.close_notice(session, case.id, None, on=on, today=today))
    if state == "pending_decision" or case.status != tekun.TekunStatus.PENDING_DECISION:
        return
    on = _clamp(on + dt.timedelta(days=rng.randint(3, 12)), today)
    if state == "refused":
        await tekun.refuse(
            session, case.id, None, reason="经核查有具备履行能力的赡养人", on=on, today=today
        )
        return
    # the county visits a third of the files, and any file its 30 % share needs
    share = await tekun.spot_check_share(session, case, on)
    if not share.passed or case.id % 3 == 0:
        await tekun.record_spot_check(
            session, case.id, None, findings="入户核实，情况属实", confirms=True, on=on, today=today
        )
    if await _attempt(tekun.approve(session, case.id, None, on=on, today=today)) is None:
        await _attempt(
            tekun.refuse(
                session, case.id, None, reason="不符合特困人员认定条件", on=on, today=today
            )
        )
        return
    if state == "terminated":
        notice = _clamp(on + dt.timedelta(days=rng.randint(60, 300)), today)
        await tekun.terminate(
            session,
            case.id,
            None,
            reason=rules.TerminationReason.REGAINED_CAPACITY,
            notice_on=notice,
            today=today,
        )


async def _temporary_case(
    session: AsyncSession, rng: random.Random, person: Person, today: dt.date
) -> None:
    emergency = rng.random() < 0.6
    on = today - dt.timedelta(days=rng.randint(0, 300))
    kind = rules.TemporaryKind.EMERGENCY if emergency else rules.TemporaryKind.EXPENDITURE
    cause = rng.choice(CAUSES_EMERGENCY if emergency else CAUSES_EXPENDITURE)
    need = rng.choice([50_000, 100_000, 150_000, 200_000, 300_000, 500_000])
    if emergency:
        need = min(need, 200_000)  # within the township's authority
    got = await _attempt(
        temporary.apply(
            session, person_id=person.id, kind=kind, cause=cause, need_fen=need, on=on, today=today
        )
    )
    if got is None:
        return
    case, _amount = got
    if emergency:
        if rng.random() < 0.85:
            done = _clamp(on + dt.timedelta(days=rng.randint(1, 6)), today)
            await temporary.complete_paperwork(
                session,
                case.id,
                None,
                documents=["救助申请书", "医院/村委会证明"],
                on=done,
                today=today,
            )
        return
    roll = rng.random()
    decided = _clamp(on + dt.timedelta(days=rng.randint(3, 12)), today)
    if roll < 0.7:
        await temporary.approve(session, case.id, None, on=decided, today=today)
    elif roll < 0.8:
        await temporary.refuse(
            session, case.id, None, reason="支出已由医疗救助覆盖", on=decided, today=today
        )
