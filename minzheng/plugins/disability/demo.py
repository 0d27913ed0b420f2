"""Demo data for ``minzheng seed --demo``: certificates, standards with a history,
applications and grants in every state, verification cycles (one closed and
swept, one in progress), care services and rehabilitation.

Only the given ``rng`` is used, so the same seed gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core.enrolments import set_enrolment
from minzheng.core.models import (
    DisabilityCategory,
    EnrolmentStatus,
    Membership,
    Person,
)
from minzheng.plugins.disability import queries, rules, services
from minzheng.plugins.disability.models import RehabOutcome, RehabServiceKind
from minzheng.plugins.disability.rules import (
    CareServiceType,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
)

#: share of residents holding a disability certificate (national order of magnitude)
CERTIFICATE_SHARE = 0.03
#: category mix among certificate holders
CATEGORY_WEIGHTS = {
    DisabilityCategory.PHYSICAL: 50,
    DisabilityCategory.VISUAL: 9,
    DisabilityCategory.HEARING: 10,
    DisabilityCategory.SPEECH: 1,
    DisabilityCategory.INTELLECTUAL: 9,
    DisabilityCategory.MENTAL: 10,
    DisabilityCategory.MULTIPLE: 11,
}
#: grade mix among certificate holders (1 = most severe)
GRADE_WEIGHTS = {1: 12, 2: 23, 3: 25, 4: 40}
#: share of certificate holders' households on 低保 when no other system has written it
DIBAO_SHARE = 0.35


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _days_before(today: dt.date, rng: random.Random, lo: int, hi: int) -> dt.date:
    return today - dt.timedelta(days=rng.randint(lo, hi))


async def seed(session: AsyncSession, rng: random.Random, today: dt.date) -> dict[str, int]:
    session.info["today"] = today
    counts: dict[str, int] = {}
    persons = list(
        (
            await session.scalars(
                select(Person).where(Person.died_on.is_(None)).order_by(Person.id)
            )
        ).all()
    )
    if not persons:
        return counts
    holders = _certificates(persons, rng)
    counts["certificate_holders"] = len(holders)
    await _standards(session, today)
    manager = session.info.get("plugins")
    external_dibao = manager is None or manager.get_plugin("social_assistance") is None
    if external_dibao:
        counts["dibao_households"] = await _dibao(session, holders, rng, today)
    counts.update(await _applications(session, holders, rng, today))
    counts.update(await _verification(session, rng, today))
    counts.update(await _care_and_rehabilitation(session, holders, rng, today))
    return counts


def _certificates(persons: list[Person], rng: random.Random) -> list[Person]:
    holders = [p for p in persons if p.disability_grade is not None]
    target = max(round(CERTIFICATE_SHARE * len(persons)), min(len(persons), 20))
    others = [p for p in persons if p.disability_grade is None]
    rng.shuffle(others)
    for person in others[: max(0, target - len(holders))]:
        person.disability_category = _pick(rng, CATEGORY_WEIGHTS)
        person.disability_grade = _pick(rng, GRADE_WEIGHTS)
        holders.append(person)
    return sorted(holders, key=lambda p: p.id)


async def _standards(session: AsyncSession, today: dt.date) -> None:
    last_year, this_year = dt.date(today.year - 2, 1, 1), dt.date(today.year - 1, 1, 1)
    table = [
        ("410800", Subsidy.LIVING, None, last_year, 8000),
        ("410800", Subsidy.CARE, None, last_year, 8000),
        ("410800", Subsidy.LIVING, None, this_year, 9000),  # 动态调整
        ("410823", Subsidy.CARE, 1, this_year, 12000),  # 武陟县 grades the care subsidy
        ("410823", Subsidy.CARE, 2, this_year, 10000),
    ]
    for region, subsidy, grade, since, amount in table:
        await services.set_standard(
            session,
            region_code=region,
            subsidy=subsidy,
            grade=grade,
            effective_from=since,
            monthly_amount_fen=amount,
            document="示例标准",
        )


async def _dibao(
    session: AsyncSession, holders: list[Person], rng: random.Random, today: dt.date
) -> int:
    """Stand in for the social-assistance system: 低保 for some holders' households."""
    households = dict(
        (
            await session.execute(
                select(Membership.person_id, Membership.household_id).where(
                    Membership.person_id.in_([p.id for p in holders])
                )
            )
        ).all()
    )
    done: set[int] = set()
    for person in holders:
        household = households.get(person.id)
        if household is None or household in done or rng.random() >= DIBAO_SHARE:
            continue
        await set_enrolment(
            session,
            programme="dibao",
            region_code=person.region_code,
            status=EnrolmentStatus.ACTIVE,
            effective_from=dt.date(today.year - 3, rng.randint(1, 12), 1),
            monthly_amount_fen=rng.choice((45000, 52000, 60000)),
            household_id=household,
            reference=f"demo-dibao:{household}",
        )
        done.add(household)
    return len(done)


#: where recent applications stand, in turn, so that every state appears
RECENT_STAGES = ("submitted", "accepted", "reviewed", "rejected", "withdrawn")


async def _applications(
    session: AsyncSession, holders: list[Person], rng: random.Random, today: dt.date
) -> dict[str, int]:
    pol = services.policy(session)
    counts = {"grants": 0, "open_applications": 0, "refused": 0, "withdrawn": 0}
    grants: list[Any] = []
    recent = 0
    for person in holders:
        facts = await queries.person_facts(session, person, today)
        for subsidy in Subsidy:
            if not rules.subsidy_verdict(subsidy, facts, today, pol).eligible:
                continue
            # the first few are recent applications, one in each state; then at random
            roll = 0.9 if recent < len(RECENT_STAGES) else rng.random()
            if roll < 0.15:
                continue  # not yet applied: found by active discovery
            if roll < 0.8:
                grant = await _granted(session, person, subsidy, rng, today)
                if grant is not None:
                    grants.append(grant)
                    counts["grants"] += 1
                continue
            stage = RECENT_STAGES[recent % len(RECENT_STAGES)]
            recent += 1
            await _recent(session, person, subsidy, stage, rng, today)
            key = {"rejected": "refused", "withdrawn": "withdrawn"}.get(stage, "open_applications")
            counts[key] += 1
    counts.update(await _grant_states(session, grants, rng, today))
    return counts


async def _granted(
    session: AsyncSession, person: Person, subsidy: Subsidy, rng: random.Random, today: dt.date
) -> Any:
    """An application decided well over a year ago (or, when the person has been
    eligible for less time — 低保 granted recently — soon after that): the grant is
    paid since.  None when the person became eligible only in the last weeks."""
    pol = services.policy(session)
    submitted = _days_before(today, rng, 430, 700)
    while not rules.subsidy_verdict(
        subsidy, await queries.person_facts(session, person, submitted), submitted, pol
    ).eligible:
        submitted += dt.timedelta(days=30)
        if submitted > today - dt.timedelta(days=30):
            return None
    app = await services.submit_application(
        session, person_id=person.id, subsidy=subsidy, submitted_on=submitted
    )
    accepted = submitted + dt.timedelta(days=rng.randint(1, 3))
    reviewed = accepted + dt.timedelta(days=rng.randint(3, 10))
    await services.accept_application(session, app.id, on=accepted)
    await services.review_application(session, app.id, on=reviewed)
    _, grant = await services.approve_application(
        session, app.id, on=reviewed + dt.timedelta(days=rng.randint(2, 10))
    )
    return grant


async def _recent(
    session: AsyncSession,
    person: Person,
    subsidy: Subsidy,
    stage: str,
    rng: random.Random,
    today: dt.date,
) -> None:
    """An application of the last weeks, left at ``stage``."""
    submitted = _days_before(today, rng, 12, 40)
    app = await services.submit_application(
        session, person_id=person.id, subsidy=subsidy, submitted_on=submitted
    )
    if stage == "submitted":
        return
    accepted = submitted + dt.timedelta(days=rng.randint(1, 3))
    await services.accept_application(session, app.id, on=accepted)
    reviewed = accepted + dt.timedelta(days=rng.randint(3, 8))
    if stage == "rejected":
        await services.reject_application(
            session, app.id, reason="证明材料不齐全，请补齐后重新申请", on=reviewed
        )
    elif stage == "withdrawn":
        await services.withdraw_application(session, app.id, on=reviewed)
    elif stage == "reviewed":
        await services.review_application(session, app.id, on=reviewed)


async def _grant_states(
    session: AsyncSession, grants: list[Any], rng: random.Random, today: dt.date
) -> dict[str, int]:
    """A few grants ended, suspended or flagged (the first three in turn, then at random)."""
    counts = {"ended": 0, "suspended_manually": 0, "flagged": 0}
    for i, grant in enumerate(grants):
        roll = (i + 0.5) / 100 if i < 3 else rng.random()
        if roll < 0.01 or 0.03 <= roll < 0.05:
            await services.end_grant(
                session, grant.id, reason="本人申请停发", effective_from=rules.month_start(today)
            )
            counts["ended"] += 1
        elif roll < 0.02 or 0.05 <= roll < 0.07:
            await services.suspend_grant(
                session, grant.id, effective_from=rules.month_start(today), note="待核实"
            )
            counts["suspended_manually"] += 1
        elif roll < 0.03 or 0.07 <= roll < 0.1:
            await services.flag_for_review(session, grant, "示例: 收入变化待复核")
            counts["flagged"] += 1
    return counts


async def _verification(
    session: AsyncSession, rng: random.Random, today: dt.date
) -> dict[str, int]:
    """Per county with grants: last year's cycle (swept: a few suspended, one resumed by a
    late verification) and this year's cycle, in progress."""
    from minzheng.plugins.disability.models import DisabilityGrant

    grants = (
        await session.scalars(
            select(DisabilityGrant)
            .where(DisabilityGrant.status == rules.GrantStatus.ACTIVE)
            .order_by(DisabilityGrant.id)
        )
    ).all()
    counties = sorted({g.county_code for g in grants if g.county_code})
    methods = [VerificationMethod.FACE_RECOGNITION] * 6 + [
        VerificationMethod.DATA_COMPARISON,
        VerificationMethod.DATA_COMPARISON,
        VerificationMethod.HOME_VISIT,
    ]
    counts = {"cycles": 0, "verifications": 0, "suspended_overdue": 0}
    last_open, last_deadline = today - dt.timedelta(days=400), today - dt.timedelta(days=310)
    this_open, this_deadline = today - dt.timedelta(days=40), today + dt.timedelta(days=50)
    for county in counties:
        last = await services.open_cycle(
            session,
            region_code=county,
            name=f"{last_open.year}年度生存验证",
            opens_on=last_open,
            deadline=last_deadline,
        )
        await services.open_cycle(
            session,
            region_code=county,
            name=f"{this_open.year}年度生存验证",
            opens_on=this_open,
            deadline=this_deadline,
        )
        counts["cycles"] += 2
        persons = sorted({g.person_id for g in grants if g.county_code == county})
        for person_id in persons:
            if rng.random() < 0.93:
                await _verify(session, person_id, rng, methods, last_open, last_deadline)
                counts["verifications"] += 1
        suspended = await services.suspend_overdue(
            session, last.id, on=last_deadline + dt.timedelta(days=1)
        )
        counts["suspended_overdue"] += len(suspended)
        if suspended:  # one of them turns up late and is resumed
            await _verify(
                session,
                suspended[0].person_id,
                rng,
                [VerificationMethod.IN_PERSON],
                last_deadline + dt.timedelta(days=20),
                last_deadline + dt.timedelta(days=40),
            )
            counts["verifications"] += 1
        for person_id in persons:  # this year's cycle: about 60 % done so far
            if rng.random() < 0.6:
                await _verify(session, person_id, rng, methods, this_open, today)
                counts["verifications"] += 1
    return counts


async def _verify(
    session: AsyncSession,
    person_id: int,
    rng: random.Random,
    methods: list[VerificationMethod],
    lo: dt.date,
    hi: dt.date,
) -> None:
    day = lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))
    at = dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), dt.UTC)
    await services.record_verification(
        session,
        person_id=person_id,
        method=rng.choice(methods),
        outcome=VerificationOutcome.CONFIRMED,
        verified_at=at,
        source="demo",
    )


async def _care_and_rehabilitation(
    session: AsyncSession, holders: list[Person], rng: random.Random, today: dt.date
) -> dict[str, int]:
    counts = {"care_arrangements": 0, "rehabilitation": 0}
    providers: dict[str, Any] = {}
    for person in holders:
        verdict = await services.care_service_verdict(session, person, today)
        if verdict.eligible and rng.random() < 0.3:
            township = person.township_code or person.region_code[:9] + "000"
            if township not in providers:
                providers[township] = await services.register_provider(
                    session,
                    region_code=township,
                    name="乡镇残疾人照护服务中心",
                    service_types=list(CareServiceType),
                )
            start = _days_before(today, rng, 30, 200)
            arrangement = await services.enrol_care_service(
                session,
                person_id=person.id,
                provider_id=providers[township].id,
                service_type=rng.choice(list(CareServiceType)),
                consent_on=start - dt.timedelta(days=3),
                family_carer="家属",
                start_on=start,
            )
            for _ in range(rng.randint(1, 4)):
                await services.record_care_service(
                    session,
                    arrangement_id=arrangement.id,
                    served_on=start + dt.timedelta(days=rng.randint(0, (today - start).days)),
                    hours=rng.choice(("2", "3.5", "8")),
                )
            counts["care_arrangements"] += 1
        if person.disability_category == DisabilityCategory.MENTAL and rng.random() < 0.5:
            enrolled = _days_before(today, rng, 30, 300)
            enrolment = await services.enrol_rehabilitation(
                session, person_id=person.id, site="社区精神障碍康复站", enrolled_on=enrolled
            )
            for kind in RehabServiceKind:
                await services.record_rehab_service(
                    session,
                    enrolment_id=enrolment.id,
                    kind=kind,
                    served_on=enrolled + dt.timedelta(days=rng.randint(0, (today - enrolled).days)),
                    hours="1.5",
                    outcome=rng.choice(list(RehabOutcome)),
                )
            counts["rehabilitation"] += 1
    return counts
