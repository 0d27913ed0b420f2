"""Applications, decisions and grants over a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from minzheng.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from minzheng.core.models import DisabilityCategory, EnrolmentStatus
from minzheng.plugins.disability import services
from minzheng.plugins.disability.models import (
    DisabilityApplication,
    DisabilityApplicationStep,
    DisabilityGrant,
)
from minzheng.plugins.disability.rules import (
    ApplicationState,
    DisabilityPolicy,
    GrantStatus,
    PaymentStart,
    Subsidy,
)

from .helpers import D, count, enrolment_rows, grant_through, on_dibao, paid, standards


async def test_application_to_grant(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s, grade=2)
        await on_dibao(s, person)
        living = await grant_through(s, person, Subsidy.LIVING)
        care = await grant_through(s, person, Subsidy.CARE)
    async with registry.tx() as s:
        app = await s.get(DisabilityApplication, living.application_id)
        assert app.state is ApplicationState.APPROVED
        assert app.verdict["eligible"] is True
        assert [c["code"] for c in app.verdict["conditions"]] == [
            "alive",
            "certificate",
            "low_income",
            "not_excluded",
        ]
        steps = (
            await s.scalars(
                select(DisabilityApplicationStep.action)
                .where(DisabilityApplicationStep.application_id == app.id)
                .order_by(DisabilityApplicationStep.id)
            )
        ).all()
        assert steps == ["submit", "accept", "review", "approve"]
        # both subsidies held together, paid from the month after approval
        assert living.start_on == D(2025, 4, 1) == care.start_on
        assert await paid(s, person.id, Subsidy.LIVING, D(2025, 3, 1)) is None
        assert await paid(s, person.id, Subsidy.LIVING, D(2025, 4, 1)) == (person.region_code, 9000)
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 4, 1)) == (person.region_code, 8000)
        rows = await enrolment_rows(s, person.id, Subsidy.CARE)
        assert [(r.status, r.reference) for r in rows] == [
            (EnrolmentStatus.ACTIVE, f"disability_grant:{care.id}")
        ]


async def test_acceptance_month_policy(registry) -> None:
    policy = DisabilityPolicy(payment_start=PaymentStart.ACCEPTANCE_MONTH)
    async with registry.tx(disability_policy=policy) as s:
        await standards(s)
        person = await registry.person(s)
        grant = await grant_through(s, person, Subsidy.CARE, submitted=D(2025, 2, 27))
        assert grant.start_on == D(2025, 2, 1)


async def test_refusal_at_each_stage_records_who_and_why(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        people = [await registry.person(s) for _ in range(3)]
        stages = []
        for steps, person in zip((0, 1, 2), people, strict=True):
            app = await services.submit_application(s, person_id=person.id, subsidy=Subsidy.CARE)
            if steps >= 1:
                await services.accept_application(s, app.id)
            if steps >= 2:
                await services.review_application(s, app.id)
            await services.reject_application(s, app.id, reason="材料不全")
            stages.append((app.state, app.refused_at_stage, app.refusal_reason))
    assert stages == [
        (ApplicationState.REJECTED, ApplicationState.SUBMITTED, "材料不全"),
        (ApplicationState.REJECTED, ApplicationState.ACCEPTED, "材料不全"),
        (ApplicationState.REJECTED, ApplicationState.REVIEWED, "材料不全"),
    ]


async def test_refusal_needs_reasons(registry) -> None:
    async with registry.tx() as s:
        person = await registry.person(s)
        app = await services.submit_application(s, person_id=person.id, subsidy=Subsidy.CARE)
        with pytest.raises(ValidationFailed) as err:
            await services.reject_application(s, app.id, reason="  ")
        assert err.value.field == "input.reason"
        assert app.state is ApplicationState.SUBMITTED


@pytest.mark.parametrize(
    ("steps", "action"),
    [
        (0, "approve"),  # no skipping township and federation
        (0, "review"),
        (1, "approve"),  # no skipping the federation
        (2, "accept"),
    ],
)
async def test_illegal_transitions_write_nothing(registry, steps: int, action: str) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        app = await services.submit_application(s, person_id=person.id, subsidy=Subsidy.CARE)
        if steps >= 1:
            await services.accept_application(s, app.id)
        if steps >= 2:
            await services.review_application(s, app.id)
        app_id, state = app.id, app.state
    with pytest.raises(IllegalTransition) as err:
        async with registry.tx() as s:
            await getattr(services, f"{action}_application")(s, app_id)
    assert err.value.state == state.value and err.value.action == action
    async with registry.tx() as s:
        assert (await s.get(DisabilityApplication, app_id)).state is state
        assert await count(s, DisabilityGrant) == 0


async def test_approval_checks_eligibility_and_writes_nothing_when_not(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s, grade=3)  # living subsidy needs 低保: none here
        app = await services.submit_application(s, person_id=person.id, subsidy=Subsidy.LIVING)
        await services.accept_application(s, app.id)
        await services.review_application(s, app.id)
        app_id, person_id = app.id, person.id
    with pytest.raises(ValidationFailed) as err:
        async with registry.tx() as s:
            await services.approve_application(s, app_id)
    assert err.value.code == "not_eligible"
    assert "low_income" in err.value.message
    async with registry.tx() as s:
        assert (await s.get(DisabilityApplication, app_id)).state is ApplicationState.REVIEWED
        assert await count(s, DisabilityGrant) == 0
        assert await enrolment_rows(s, person_id, Subsidy.LIVING) == []


async def test_approval_needs_a_standard(registry) -> None:
    async with registry.tx() as s:
        person = await registry.person(s)
        app = await services.submit_application(s, person_id=person.id, subsidy=Subsidy.CARE)
        await services.accept_application(s, app.id)
        await services.review_application(s, app.id)
        with pytest.raises(ValidationFailed) as err:
            await services.approve_application(s, app.id)
        assert err.value.code == "no_standard"


async def test_submission_errors(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        no_cert = await registry.person(s, category=None, grade=None)
        dead = await registry.person(s, died_on=D(2025, 1, 1))
        holder = await registry.person(s)
        await grant_through(s, holder, Subsidy.CARE)
        other = await registry.person(s)
        await services.submit_application(s, person_id=other.id, subsidy=Subsidy.CARE)
        with pytest.raises(NotFound):
            await services.submit_application(s, person_id=999_999, subsidy=Subsidy.CARE)
        with pytest.raises(ValidationFailed, match="certificate"):
            await services.submit_application(s, person_id=no_cert.id, subsidy=Subsidy.CARE)
        with pytest.raises(ValidationFailed, match="dead"):
            await services.submit_application(s, person_id=dead.id, subsidy=Subsidy.CARE)
        with pytest.raises(Conflict, match="already holds"):
            await services.submit_application(s, person_id=holder.id, subsidy=Subsidy.CARE)
        with pytest.raises(Conflict, match="still open"):
            await services.submit_application(s, person_id=other.id, subsidy=Subsidy.CARE)
        with pytest.raises(ValidationFailed, match="future"):
            await services.submit_application(
                s, person_id=other.id, subsidy=Subsidy.LIVING, submitted_on=D(2030, 1, 1)
            )


async def test_stale_version_is_a_conflict(registry) -> None:
    async with registry.tx() as s:
        person = await registry.person(s)
        app = await services.submit_application(s, person_id=person.id, subsidy=Subsidy.CARE)
        version = app.version
        await services.accept_application(s, app.id, expected_version=version)
        with pytest.raises(Conflict) as err:
            await services.review_application(s, app.id, expected_version=version)
        assert err.value.current_version == version + 1


async def test_suspend_resume_end(registry) -> None:
    async with registry.tx() as s:
        await standards(s)
        person = await registry.person(s)
        grant = await grant_through(s, person, Subsidy.CARE)
        await services.suspend_grant(s, grant.id, effective_from=D(2025, 7, 1))
        assert grant.status is GrantStatus.SUSPENDED
        with pytest.raises(IllegalTransition):
            await services.suspend_grant(s, grant.id)
        await services.resume_grant(s, grant.id, effective_from=D(2025, 9, 1))
        months = [await paid(s, person.id, Subsidy.CARE, D(2025, m, 1)) for m in range(6, 10)]
        assert [m is not None for m in months] == [True, False, False, True]
        with pytest.raises(ValidationFailed):
            await services.end_grant(s, grant.id, reason="")
        await services.end_grant(s, grant.id, reason="本人申请", effective_from=D(2025, 11, 1))
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 10, 1)) is not None
        assert await paid(s, person.id, Subsidy.CARE, D(2025, 11, 1)) is None
        assert grant.end_on == D(2025, 10, 31)
        with pytest.raises(IllegalTransition):
            await services.end_grant(s, grant.id, reason="again")


async def test_person_with_category_but_no_grade_has_no_certificate(registry) -> None:
    async with registry.tx() as s:
        person = await registry.person(s, category=DisabilityCategory.MENTAL, grade=None)
        with pytest.raises(ValidationFailed, match="certificate"):
            await services.submit_application(s, person_id=person.id, subsidy=Subsidy.CARE)
