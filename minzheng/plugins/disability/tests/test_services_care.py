"""Care services, rehabilitation, active discovery and region figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from minzheng.core.enrolments import set_enrolment
from minzheng.core.errors import Conflict, IllegalTransition, ValidationFailed
from minzheng.core.models import DisabilityCategory, EnrolmentStatus, Whereabouts
from minzheng.core.scope import Principal
from minzheng.plugins.disability import queries, services
from minzheng.plugins.disability.models import (
    DisabilityCareArrangement,
    DisabilityCareRecord,
    RehabOutcome,
    RehabServiceKind,
)
from minzheng.plugins.disability.rules import (
    CareServiceType,
    DisabilityPolicy,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
)

from .conftest import RURAL_VILLAGE, RURAL_VILLAGE_2, URBAN_COMMUNITY
from .helpers import D, count, grant_through, on_dibao, standards


async def _provider(s, types=(CareServiceType.DAY, CareServiceType.NEIGHBOURHOOD)):
    return await services.register_provider(
        s, region_code="410823101", name="乡镇照护中心", service_types=list(types)
    )


async def test_care_service_enrolment_and_records(registry) -> None:
    async with registry.tx() as s:
        provider = await _provider(s)
        person = await registry.person(s, category=DisabilityCategory.INTELLECTUAL, grade=3)
        arrangement = await services.enrol_care_service(
            s,
            person_id=person.id,
            provider_id=provider.id,
            service_type=CareServiceType.DAY,
            consent_on=D(2025, 6, 1),
            family_carer="配偶 王某",
            start_on=D(2025, 6, 2),
        )
        assert arrangement.verdict["eligible"] is True
        record = await services.record_care_service(
            s, arrangement_id=arrangement.id, served_on=D(2025, 6, 10), hours=Decimal("2.5")
        )
        assert record.hours == Decimal("2.5") and record.provider_id == provider.id
        for bad in ("0", "24.01", "1.234", "abc"):
            with pytest.raises(ValidationFailed) as err:
                await services.record_care_service(
                    s, arrangement_id=arrangement.id, served_on=D(2025, 6, 10), hours=bad
                )
            assert err.value.code == "invalid_hours"
        with pytest.raises(ValidationFailed, match="outside"):
            await services.record_care_service(
                s, arrangement_id=arrangement.id, served_on=D(2025, 6, 1), hours=1
            )
        with pytest.raises(Conflict):
            await services.enrol_care_service(
                s,
                person_id=person.id,
                provider_id=provider.id,
                service_type=CareServiceType.DAY,
                consent_on=D(2025, 6, 1),
                family_carer="x",
            )
        await services.end_care_service(s, arrangement.id, reason="本人不再需要", on=D(2025, 6, 12))
        with pytest.raises(IllegalTransition):
            await services.end_care_service(s, arrangement.id, reason="again")
        with pytest.raises(ValidationFailed, match="outside"):
            await services.record_care_service(
                s, arrangement_id=arrangement.id, served_on=D(2025, 6, 13), hours=1
            )
        assert await count(s, DisabilityCareRecord) == 1


@pytest.mark.parametrize(
    ("person_kw", "failing"),
    [
        ({"region": URBAN_COMMUNITY}, {"rural_residence"}),
        ({"birth": D(2009, 6, 16)}, {"age"}),  # 15 on 2025-06-15
        ({"category": DisabilityCategory.PHYSICAL, "grade": 3}, {"grade"}),
        ({"whereabouts": Whereabouts.WORKING_AWAY}, {"rural_residence"}),
        ({"residence_region_code": URBAN_COMMUNITY}, {"rural_residence"}),
    ],
)
async def test_care_service_refused_with_reasons(registry, person_kw, failing) -> None:
    async with registry.tx() as s:
        provider = await _provider(s)
        person = await registry.person(s, **person_kw)
        with pytest.raises(ValidationFailed) as err:
            await services.enrol_care_service(
                s,
                person_id=person.id,
                provider_id=provider.id,
                service_type=CareServiceType.DAY,
                consent_on=D(2025, 6, 1),
                family_carer="母亲",
            )
        assert err.value.code == "not_eligible"
        for code in failing:
            assert f"({code})" in err.value.message
        assert await count(s, DisabilityCareArrangement) == 0


async def test_age_16_today_is_eligible_for_care_service(registry) -> None:
    async with registry.tx() as s:
        person = await registry.person(s, birth=D(2009, 6, 15))
        verdict = await services.care_service_verdict(s, person, D(2025, 6, 15))
        assert verdict.eligible


async def test_hukou_outside_jiaozuo_is_not_eligible_for_care_service(registry) -> None:
    async with registry.tx() as s:
        person = await registry.person(s, region="410105001001")
        # lives in a rural 焦作 village, hukou in 郑州
        person.residence_region_code = RURAL_VILLAGE
        verdict = await services.care_service_verdict(s, person, D(2025, 6, 15))
        assert {c.code for c in verdict.unmet} == {"hukou"}


async def test_care_service_input_errors(registry) -> None:
    async with registry.tx() as s:
        provider = await _provider(s, types=(CareServiceType.DAY,))
        person = await registry.person(s)
        base = dict(
            person_id=person.id,
            provider_id=provider.id,
            service_type=CareServiceType.DAY,
            consent_on=D(2025, 6, 1),
            family_carer="母亲",
            start_on=D(2025, 6, 2),
        )
        with pytest.raises(ValidationFailed, match="first carer"):
            await services.enrol_care_service(s, **{**base, "family_carer": " "})
        with pytest.raises(ValidationFailed, match="precede"):
            await services.enrol_care_service(s, **{**base, "consent_on": D(2025, 6, 3)})
        with pytest.raises(ValidationFailed, match="does not offer"):
            await services.enrol_care_service(
                s, **{**base, "service_type": CareServiceType.CENTRALISED}
            )
        with pytest.raises(ValidationFailed):
            await services.register_provider(s, region_code="410823", name="x", service_types=[])
        assert await count(s, DisabilityCareArrangement) == 0


async def test_rehabilitation(registry) -> None:
    async with registry.tx() as s:
        person = await registry.person(s, category=DisabilityCategory.MENTAL, grade=3)
        enrolment = await services.enrol_rehabilitation(
            s, person_id=person.id, site="武陟县精神障碍社区康复站", enrolled_on=D(2025, 3, 1)
        )
        assert enrolment.rural is True
        with pytest.raises(Conflict):
            await services.enrol_rehabilitation(s, person_id=person.id, site="x")
        for kind in RehabServiceKind:
            await services.record_rehab_service(
                s,
                enrolment_id=enrolment.id,
                kind=kind,
                served_on=D(2025, 4, 1),
                hours="1.5",
                outcome=RehabOutcome.STABLE,
            )
        with pytest.raises(ValidationFailed, match="outside"):
            await services.record_rehab_service(
                s,
                enrolment_id=enrolment.id,
                kind=RehabServiceKind.COUNSELLING,
                served_on=D(2025, 2, 1),
            )
        await services.end_rehabilitation(
            s, enrolment.id, outcome=RehabOutcome.IMPROVED, on=D(2025, 6, 1), note="生活自理"
        )
        with pytest.raises(IllegalTransition):
            await services.end_rehabilitation(s, enrolment.id, outcome=RehabOutcome.STABLE)
        urban = await registry.person(s, region=URBAN_COMMUNITY)
        e2 = await services.enrol_rehabilitation(s, person_id=urban.id, site="社区康复站")
        assert e2.rural is False


async def test_active_discovery(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        covered = await registry.person(s, grade=1)  # care grant held
        await grant_through(s, covered, Subsidy.CARE)
        applied = await registry.person(s, grade=2)  # open application
        await services.submit_application(s, person_id=applied.id, subsidy=Subsidy.CARE)
        severe = await registry.person(s, grade=2)  # care: found
        poor = await registry.person(s, grade=4, category=DisabilityCategory.HEARING)
        await on_dibao(s, poor)  # living: found
        mild = await registry.person(s, grade=4)  # nothing
        child = await registry.person(s, grade=4, birth=D(2016, 1, 1))
        await on_dibao(s, child)
        await set_enrolment(  # excluded from the living subsidy
            s,
            programme="de_facto_unsupported_child",
            region_code=child.region_code,
            status=EnrolmentStatus.ACTIVE,
            effective_from=D(2024, 1, 1),
            person_id=child.id,
        )
        dead = await registry.person(s, grade=1, died_on=D(2025, 1, 1))
        near = await registry.person(s, grade=3, category=DisabilityCategory.MENTAL)
        await set_enrolment(
            s,
            programme="near_poverty",
            region_code=near.region_code,
            status=EnrolmentStatus.ACTIVE,
            effective_from=D(2024, 1, 1),
            person_id=near.id,
        )
        elsewhere = await registry.person(s, grade=1, region=RURAL_VILLAGE_2)
        on = D(2025, 6, 15)
        seed = DisabilityPolicy()
        found = (await s.scalars(queries.discovery_statement(seed, on))).all()
        assert [p.id for p in found] == [severe.id, poor.id, elsewhere.id]
        wide = DisabilityPolicy(
            living_subsidy_includes_near_poverty=True,
            care_subsidy_includes_grade_3_4_intellectual_mental=True,
        )
        found = (await s.scalars(queries.discovery_statement(wide, on))).all()
        assert [p.id for p in found] == [severe.id, poor.id, near.id, elsewhere.id]
        found = (
            await s.scalars(queries.discovery_statement(seed, on, subsidy=Subsidy.LIVING))
        ).all()
        assert [p.id for p in found] == [poor.id]
        found = (await s.scalars(queries.discovery_statement(seed, on, region_code="410882"))).all()
        assert [p.id for p in found] == [elsewhere.id]
        # the SQL agrees with the rules for everybody
        for p in (covered, applied, severe, poor, mild, child, dead, near, elsewhere):
            facts = await queries.person_facts(s, p, on)
            for subsidy in Subsidy:
                from minzheng.plugins.disability.rules import subsidy_verdict

                sql = await s.scalar(
                    select(queries.eligible_condition(subsidy, wide, on)).where(
                        queries.Person.id == p.id
                    )
                )
                assert bool(sql) is subsidy_verdict(subsidy, facts, on, wide).eligible, (
                    p.name,
                    subsidy,
                )


async def test_region_figures_and_scope(registry) -> None:
    async with registry.tx(today=D(2025, 3, 1)) as s:
        await standards(s)
        people = [await registry.person(s, grade=2) for _ in range(3)]
        for p in people:
            await on_dibao(s, p)
            await grant_through(s, p, Subsidy.CARE, submitted=D(2025, 1, 3), decided=D(2025, 1, 10))
        await grant_through(
            s, people[0], Subsidy.LIVING, submitted=D(2025, 1, 3), decided=D(2025, 1, 10)
        )
        other = await registry.person(s, region=RURAL_VILLAGE_2)
        await grant_through(s, other, Subsidy.CARE, submitted=D(2025, 1, 3), decided=D(2025, 1, 10))
        await registry.person(s, grade=1)  # eligible, not enrolled
        cycle = await services.open_cycle(
            s, region_code="410823", name="2025", opens_on=D(2025, 2, 1), deadline=D(2025, 4, 30)
        )
        await services.record_verification(
            s,
            person_id=people[0].id,
            method=VerificationMethod.FACE_RECOGNITION,
            outcome=VerificationOutcome.CONFIRMED,
            verified_at=dt.datetime(2025, 2, 10, 9),
        )
    async with registry.tx(today=D(2025, 5, 2)) as s:
        await services.suspend_overdue(s, cycle.id)
    async with registry.tx() as s:
        # April, the deadline's month, is paid to all three
        f = await queries.region_figures(s, "410823", D(2025, 4, 15), DisabilityPolicy())
        by = {x.subsidy: x for x in f.subsidies}
        assert (by[Subsidy.CARE].recipients, by[Subsidy.CARE].monthly_total_fen) == (3, 24000)
        assert (by[Subsidy.LIVING].recipients, by[Subsidy.LIVING].monthly_total_fen) == (1, 9000)
        assert f.verification_covered == 3 and f.verification_verified == 1
        assert f.verification_rate == pytest.approx(1 / 3)
        assert f.suspended_grants == 2
        assert f.eligible_not_enrolled == 3  # the new one, and people[1..2] for living
        may = await queries.region_figures(s, "410823", D(2025, 5, 15), DisabilityPolicy())
        by = {x.subsidy: x for x in may.subsidies}
        assert (by[Subsidy.CARE].recipients, by[Subsidy.CARE].monthly_total_fen) == (1, 8000)
        city = await queries.region_figures(s, "4108", D(2025, 4, 15), DisabilityPolicy())
        by = {x.subsidy: x for x in city.subsidies}
        assert by[Subsidy.CARE].recipients == 4
        # 沁阳 has no cycle: not covered
        assert city.verification_covered == 3
    # a 沁阳 officer sees only 沁阳, even asking for the whole city
    county = Principal("qinyang", region="410882", permissions=frozenset({"*"}))
    async with registry.tx(principal=county) as s:
        city = await queries.region_figures(s, "4108", D(2025, 4, 15), DisabilityPolicy())
        by = {x.subsidy: x for x in city.subsidies}
        assert by[Subsidy.CARE].recipients == 1
        assert by[Subsidy.LIVING].recipients == 0
        assert city.eligible_not_enrolled == 0
        assert city.verification_covered == 0
