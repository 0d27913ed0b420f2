"""Reactions to registry events: death, certificate change, hukou move, lost 低保;
and dynamic standards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from minzheng.core import events
from minzheng.core.enrolments import set_enrolment
from minzheng.core.errors import Conflict, Forbidden, ValidationFailed
from minzheng.core.models import DisabilityCategory, EnrolmentStatus
from minzheng.core.scope import Principal
from minzheng.plugins.disability import services
from minzheng.plugins.disability.models import (
    DisabilityApplication,
    DisabilityCareArrangement,
    DisabilityGrant,
    DisabilityStandard,
)
from minzheng.plugins.disability.rules import (
    ApplicationState,
    CareServiceType,
    GrantStatus,
    Subsidy,
)

from .conftest import RURAL_VILLAGE, RURAL_VILLAGE_2
from .helpers import (
    D,
    audit_actions,
    count,
    enrolment_rows,
    grant_through,
    household_of,
    on_dibao,
    paid,
    standards,
)


async def _record_death(session, person, died_on) -> None:
    """What core does when a death is recorded: the fact, then the event."""
    person.died_on = died_on
    await session.flush()
    await events.publish(
        session,
        events.PersonDied(
            person_id=person.id, household_id=await household_of(session, person), died_on=died_on
        ),
    )


async def _change(session, person, **changes) -> None:
    """What core does when person facts change: the facts, then the event."""
    old = {k: getattr(person, k) for k in changes}
    for key, value in changes.items():
        if key == "region_code":
            person.place(value)
        else:
            setattr(person, key, value)
    await session.flush()
    await events.publish(
        session,
        events.PersonChanged(
            person_id=person.id, changes={k: (old[k], v) for k, v in changes.items()}
        ),
    )


@pytest.mark.parametrize(
    ("died_on", "last_paid"),
    [
        (D(2025, 6, 1), D(2025, 6, 1)),
        (D(2025, 6, 14), D(2025, 6, 1)),
        (D(2025, 6, 30), D(2025, 6, 1)),
    ],
)
async def test_death_ends_grants_from_following_month(registry, died_on, last_paid) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        await on_dibao(s, person)
        living = await grant_through(s, person, Subsidy.LIVING)
        care = await grant_through(s, person, Subsidy.CARE)
        provider = await services.register_provider(
            s, region_code="410823101", name="幸福院", service_types=[CareServiceType.DAY]
        )
        await services.enrol_care_service(
            s,
            person_id=person.id,
            provider_id=provider.id,
            service_type=CareServiceType.DAY,
            consent_on=D(2025, 5, 1),
            family_carer="儿子",
            start_on=D(2025, 5, 2),
        )
    async with registry.tx() as s:
        person = await s.merge(person)
        await _record_death(s, person, died_on)
    async with registry.tx() as s:
        for grant in (living, care):
            g = await s.get(DisabilityGrant, grant.id)
            assert g.status is GrantStatus.ENDED
            assert g.end_on == D(2025, 6, 30)
            assert await paid(s, person.id, g.subsidy, last_paid) is not None
            assert await paid(s, person.id, g.subsidy, D(2025, 7, 1)) is None
        arrangement = (await s.scalars(select(DisabilityCareArrangement))).one()
        assert arrangement.end_on == died_on and arrangement.end_reason == "died"


async def test_death_before_first_payment_and_open_application(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        grant = await grant_through(s, person, Subsidy.CARE, decided=D(2025, 6, 10))
        app = await services.submit_application(s, person_id=person.id, subsidy=Subsidy.LIVING)
        assert grant.start_on == D(2025, 7, 1)
        await _record_death(s, person, D(2025, 6, 12))
        assert grant.status is GrantStatus.ENDED
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 7, 1)) is None
        assert (await s.get(DisabilityApplication, app.id)).state is ApplicationState.WITHDRAWN


async def test_death_leaves_an_already_ended_grant_alone(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        grant = await grant_through(s, person, Subsidy.CARE)
        await services.end_grant(s, grant.id, reason="test", effective_from=D(2025, 5, 1))
    # a grant that is already ended is not current: death still succeeds
    async with registry.tx() as s:
        p = await s.merge(person)
        await _record_death(s, p, D(2025, 6, 1))
    async with registry.tx() as s:
        assert (await s.get(DisabilityGrant, grant.id)).end_reason == "test"


@pytest.mark.parametrize(
    ("new_category", "new_grade", "care_flagged", "living_flagged"),
    [
        (DisabilityCategory.PHYSICAL, 3, True, False),  # care needs 1–2
        (DisabilityCategory.PHYSICAL, 1, False, False),  # upgrade: nothing to review
        (DisabilityCategory.MENTAL, 2, False, False),
        (None, None, True, True),  # certificate withdrawn
    ],
)
async def test_certificate_change_flags_review(
    registry, new_category, new_grade, care_flagged, living_flagged
) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s, grade=2)
        await on_dibao(s, person)
        living = await grant_through(s, person, Subsidy.LIVING)
        care = await grant_through(s, person, Subsidy.CARE)
        await _change(s, person, disability_category=new_category, disability_grade=new_grade)
        assert care.review_flag is care_flagged
        assert living.review_flag is living_flagged
        if care_flagged:
            assert "grade" in care.review_reason or "certificate" in care.review_reason
            # payment goes on until the review decides
            assert care.status is GrantStatus.ACTIVE
        else:
            assert care.grade == new_grade


async def test_graded_standard_follows_certificate_upgrade(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        await services.set_standard(
            s,
            region_code="410823",
            subsidy=Subsidy.CARE,
            grade=1,
            effective_from=D(2024, 1, 1),
            monthly_amount_fen=12000,
        )
        person = await registry.person(s, grade=2)
        care = await grant_through(s, person, Subsidy.CARE)
        assert care.monthly_amount_fen == 8000
        await _change(s, person, disability_grade=1)
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 6, 1)) == (person.region_code, 8000)
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 7, 1)) == (person.region_code, 12000)


async def test_transfer_without_gap_or_double_payment(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        await services.set_standard(
            s,
            region_code="410882",
            subsidy=Subsidy.CARE,
            effective_from=D(2024, 1, 1),
            monthly_amount_fen=9500,
        )
        person = await registry.person(s, region=RURAL_VILLAGE)
        grant = await grant_through(s, person, Subsidy.CARE)
    async with registry.tx(today=D(2025, 6, 20)) as s:
        person = await s.merge(person)
        await _change(s, person, region_code=RURAL_VILLAGE_2)
    async with registry.tx() as s:
        g = await s.get(DisabilityGrant, grant.id)
        assert g.region_code == RURAL_VILLAGE_2 and g.county_code == "410882000000"
        assert g.monthly_amount_fen == 8000  # in force today (June, still the old region's)
        # the month of the move is paid once, by the old region; then the new one pays
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 5, 1)) == (RURAL_VILLAGE, 8000)
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 6, 1)) == (RURAL_VILLAGE, 8000)
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 7, 1)) == (RURAL_VILLAGE_2, 9500)
        assert "disability.transfer" in await audit_actions(s)


async def test_transfer_of_suspended_grant_stays_suspended(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        grant = await grant_through(s, person, Subsidy.CARE)
        await services.suspend_grant(s, grant.id, effective_from=D(2025, 5, 1))
        await _change(s, person, region_code=RURAL_VILLAGE_2)
        rows = await enrolment_rows(s, person.id, Subsidy.CARE)
        assert rows[-1].status is EnrolmentStatus.SUSPENDED
        assert rows[-1].region_code == RURAL_VILLAGE_2
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 7, 1)) is None


async def test_move_out_of_jurisdiction_ends_grant(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        grant = await grant_through(s, person, Subsidy.CARE)
        await _change(s, person, region_code="410105001001")
        assert grant.status is GrantStatus.ENDED
        assert grant.end_on == D(2025, 6, 30)
        assert "out of the jurisdiction" in grant.end_reason
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 6, 1)) is not None
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 7, 1)) is None


async def test_lost_dibao_flags_living_subsidy_only(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        await on_dibao(s, person)
        living = await grant_through(s, person, Subsidy.LIVING)
        care = await grant_through(s, person, Subsidy.CARE)
        household = await household_of(s, person)
        # phase-out is still 低保: no flag
        await set_enrolment(
            s,
            programme="dibao",
            region_code=person.region_code,
            status=EnrolmentStatus.PHASE_OUT,
            effective_from=D(2025, 7, 1),
            household_id=household,
            reference=f"test-dibao-{household}",
        )
        assert not living.review_flag
        await set_enrolment(
            s,
            programme="dibao",
            region_code=person.region_code,
            status=EnrolmentStatus.ENDED,
            effective_from=D(2025, 8, 1),
            household_id=household,
            reference=f"test-dibao-{household}",
        )
        assert living.review_flag and living.review_reason == "lost 低保 status"
        assert not care.review_flag
        assert living.status is GrantStatus.ACTIVE
        await services.clear_review(s, living.id, note="收入核查后仍符合")
        assert not living.review_flag
        with pytest.raises(ValidationFailed):
            await services.clear_review(s, care.id, note="")


async def test_de_facto_unsupported_child_flags_living_subsidy(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        child = await registry.person(s, birth=D(2015, 1, 1))
        await on_dibao(s, child)
        living = await grant_through(s, child, Subsidy.LIVING)
        await set_enrolment(
            s,
            programme="de_facto_unsupported_child",
            region_code=child.region_code,
            status=EnrolmentStatus.ACTIVE,
            effective_from=D(2025, 7, 1),
            monthly_amount_fen=100000,
            person_id=child.id,
        )
        assert living.review_flag
        assert "de_facto_unsupported_child" in living.review_reason


async def test_dynamic_standard_reprices_from_its_date(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        a = await registry.person(s)  # 武陟县
        b = await registry.person(s, region=RURAL_VILLAGE_2)  # 沁阳市
        ga = await grant_through(s, a, Subsidy.CARE)
        gb = await grant_through(s, b, Subsidy.CARE)
        _, changed = await services.set_standard(
            s,
            region_code="410823",
            subsidy=Subsidy.CARE,
            effective_from=D(2025, 9, 1),
            monthly_amount_fen=10000,
            document="武民〔2025〕1号",
        )
        assert changed == 1
        # a planned period: the grant shows today's amount until September
        assert ga.monthly_amount_fen == 8000 and gb.monthly_amount_fen == 8000
        assert await paid(s, a.id, Subsidy.CARE, D(2025, 8, 1)) == (a.region_code, 8000)
        assert await paid(s, a.id, Subsidy.CARE, D(2025, 9, 1)) == (a.region_code, 10000)
        assert await paid(s, b.id, Subsidy.CARE, D(2025, 9, 1)) == (b.region_code, 8000)
        # the city raises its standard later: the county's own standard still governs a
        _, changed = await services.set_standard(
            s,
            region_code="410800",
            subsidy=Subsidy.CARE,
            effective_from=D(2025, 10, 1),
            monthly_amount_fen=11000,
        )
        assert changed == 1  # only b
        assert await paid(s, a.id, Subsidy.CARE, D(2025, 10, 1)) == (a.region_code, 10000)
        assert await paid(s, b.id, Subsidy.CARE, D(2025, 10, 1)) == (b.region_code, 11000)
        assert await count(s, DisabilityStandard) == 4


async def test_standard_errors_write_nothing(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
    cases = [
        ({"region_code": "41082"}, ValidationFailed, "invalid_region"),
        ({"monthly_amount_fen": -1}, ValidationFailed, "negative"),
        ({"grade": 5}, ValidationFailed, "invalid_grade"),
        ({"region_code": "410800", "effective_from": D(2024, 1, 1)}, Conflict, None),
    ]
    for override, error, code in cases:
        kwargs = {
            "region_code": "410823",
            "subsidy": Subsidy.CARE,
            "effective_from": D(2025, 9, 1),
            "monthly_amount_fen": 100,
            **override,
        }
        with pytest.raises(error) as err:
            async with registry.tx() as s:
                await services.set_standard(s, **kwargs)
        if code:
            assert err.value.code == code
    county = Principal("officer", region="410882", permissions=frozenset({"*"}))
    with pytest.raises(Forbidden):
        async with registry.tx(principal=county) as s:
            await services.set_standard(
                s,
                region_code="410823",
                subsidy=Subsidy.CARE,
                effective_from=D(2025, 9, 1),
                monthly_amount_fen=100,
            )
    async with registry.tx() as s:
        assert await count(s, DisabilityStandard) == 2


async def test_retroactive_standard_keeps_suspensions_and_planned_periods(registry) -> None:
    async with registry.tx() as s:
        await standards(s)  # city: care 80 yuan
        person = await registry.person(s)  # 武陟县
        grant = await grant_through(s, person, Subsidy.CARE)  # paid from April
        # a county standard planned for September, and a suspension from June
        await services.set_standard(
            s,
            region_code="410823",
            subsidy=Subsidy.CARE,
            effective_from=D(2025, 9, 1),
            monthly_amount_fen=10000,
        )
        await services.suspend_grant(s, grant.id, effective_from=D(2025, 6, 1))
        # the city raises its standard from May, announced in June
        _, changed = await services.set_standard(
            s,
            region_code="410800",
            subsidy=Subsidy.CARE,
            effective_from=D(2025, 5, 1),
            monthly_amount_fen=9000,
        )
        assert changed == 1
        got = [await paid(s, person.id, Subsidy.CARE, D(2025, m, 1)) for m in range(4, 10)]
        assert got == [(person.region_code, 8000), (person.region_code, 9000)] + [None] * 4
        await services.resume_grant(s, grant.id, effective_from=D(2025, 7, 1))
        got = [await paid(s, person.id, Subsidy.CARE, D(2025, m, 1)) for m in range(6, 10)]
        assert got == [
            None,
            (person.region_code, 9000),
            (person.region_code, 9000),
            (person.region_code, 10000),
        ]
