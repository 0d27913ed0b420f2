"""Per-request dataloaders: every relation and per-person computation in one batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from minzheng.core.models import PAYABLE, Person
from minzheng.plugins.disability import queries, rules
from minzheng.plugins.disability.models import (
    DisabilityApplication,
    DisabilityApplicationStep,
    DisabilityCareArrangement,
    DisabilityCareProvider,
    DisabilityCareRecord,
    DisabilityGrant,
    DisabilityRehabEnrolment,
    DisabilityRehabService,
    DisabilityStandard,
    DisabilityVerification,
    DisabilityVerificationCycle,
)
from minzheng.plugins.disability.rules import Subsidy
from minzheng.plugins.disability.settings import get_policy
from minzheng.schema.loaders import by_key, many_by_key


async def facts_for(
    context: Any, person_ids: Sequence[int], on: dt.date
) -> dict[int, tuple[Person, rules.PersonFacts]]:
    """The rules' facts for many persons, through the request's core loaders: a
    page that also shows the persons, their households and enrolments reads
    each of them once."""
    loaders = context.loaders
    ids = list(person_ids)
    persons = [p for p in await loaders["person_by_id"].load_many(ids) if p is not None]
    ids = [p.id for p in persons]
    own = await loaders["enrolments_by_person"].load_many(ids)
    memberships = await loaders["membership_by_person"].load_many(ids)
    households = [m.household_id for m in memberships if m is not None]
    by_household = dict(
        zip(
            households,
            await loaders["enrolments_by_household"].load_many(households),
            strict=True,
        )
    )
    codes = sorted(set().union(*(queries.kind_codes(p) for p in persons)))
    kinds = {
        r.code: r.urban_rural
        for r in await loaders["region_by_code"].load_many(codes)
        if r is not None
    }
    out: dict[int, tuple[Person, rules.PersonFacts]] = {}
    for person, enrolments, membership in zip(persons, own, memberships, strict=True):
        rows = list(enrolments)
        if membership is not None:
            rows += by_household.get(membership.household_id, [])
        programmes = frozenset(_paying_on(rows, on))
        out[person.id] = (
            person,
            queries.facts_from(person, programmes, queries.kind_of(person, kinds)),
        )
    return out


def _paying_on(enrolments: Sequence[Any], on: dt.date) -> set[str]:
    """Codes of the enrolments paying on ``on`` (as ``queries.programme_statements``)."""
    return {
        e.programme
        for e in enrolments
        if e.status in PAYABLE and e.start_on <= on and (e.end_on is None or e.end_on >= on)
    }


def create(context: Any) -> dict[str, DataLoader]:
    db = context.db
    policy = get_policy()

    async def subsidy_eligibility(keys: Sequence[int]) -> list[list[Any]]:
        from minzheng.plugins.disability.schema.types import (
            DisabilityEligibility,
            DisabilitySubsidyEligibility,
        )

        today = dt.date.today()
        facts = await facts_for(context, keys, today)
        # every standard that can govern these persons, in one statement
        regions = {
            code
            for person, _ in facts.values()
            for code in queries.ancestor_codes(person.region_code)
        }
        rows = await db.scalars(
            select(DisabilityStandard).where(DisabilityStandard.region_code.in_(regions))
        )
        table = [
            rules.Standard(
                r.region_code, r.subsidy, r.effective_from, r.monthly_amount_fen, r.grade, r.id
            )
            for r in rows
        ]
        out: list[list[Any]] = []
        for key in keys:
            if key not in facts:
                out.append([])
                continue
            person, f = facts[key]
            items = []
            for subsidy in Subsidy:
                choice = rules.standard_in_force(
                    table,
                    region_code=person.region_code,
                    subsidy=subsidy,
                    grade=person.disability_grade,
                    on=today,
                )
                items.append(
                    DisabilitySubsidyEligibility(
                        subsidy=subsidy,
                        eligibility=DisabilityEligibility.of(
                            rules.subsidy_verdict(subsidy, f, today, policy)
                        ),
                        monthly_amount_fen=choice.standard.monthly_amount_fen if choice else None,
                    )
                )
            out.append(items)
        return out

    async def care_eligibility(keys: Sequence[int]) -> list[Any]:
        from minzheng.plugins.disability.schema.types import DisabilityEligibility

        today = dt.date.today()
        facts = await facts_for(context, keys, today)
        return [
            DisabilityEligibility.of(rules.care_service_eligibility(facts[k][1], today, policy))
            if k in facts
            else None
            for k in keys
        ]

    async def discovered(keys: Sequence[int]) -> list[list[Subsidy]]:
        today = dt.date.today()
        flags = queries.discovered_subsidies(policy, today)
        rows = await db.rows(select(Person.id, *flags).where(Person.id.in_(list(keys))))
        found = {
            pid: [s for s, hit in zip(Subsidy, hits, strict=True) if hit] for pid, *hits in rows
        }
        return [found.get(k, []) for k in keys]

    return {
        "disability.application_by_id": lambda: by_key(db, DisabilityApplication),
        "disability.applications_by_person": lambda: many_by_key(
            db,
            DisabilityApplication,
            DisabilityApplication.person_id,
            order=DisabilityApplication.id.desc(),
        ),
        "disability.steps_by_application": lambda: many_by_key(
            db, DisabilityApplicationStep, DisabilityApplicationStep.application_id
        ),
        "disability.grant_by_id": lambda: by_key(db, DisabilityGrant),
        "disability.grant_by_application": lambda: by_key(
            db, DisabilityGrant, DisabilityGrant.application_id
        ),
        "disability.grants_by_person": lambda: many_by_key(
            db, DisabilityGrant, DisabilityGrant.person_id, order=DisabilityGrant.id.desc()
        ),
        "disability.standard_by_id": lambda: by_key(db, DisabilityStandard),
        "disability.cycle_by_id": lambda: by_key(db, DisabilityVerificationCycle),
        "disability.verification_by_id": lambda: by_key(db, DisabilityVerification),
        "disability.verifications_by_person": lambda: many_by_key(
            db,
            DisabilityVerification,
            DisabilityVerification.person_id,
            order=DisabilityVerification.verified_at.desc(),
        ),
        "disability.provider_by_id": lambda: by_key(db, DisabilityCareProvider),
        "disability.arrangement_by_id": lambda: by_key(db, DisabilityCareArrangement),
        "disability.arrangements_by_person": lambda: many_by_key(
            db, DisabilityCareArrangement, DisabilityCareArrangement.person_id
        ),
        "disability.care_record_by_id": lambda: by_key(db, DisabilityCareRecord),
        "disability.care_records_by_arrangement": lambda: many_by_key(
            db,
            DisabilityCareRecord,
            DisabilityCareRecord.arrangement_id,
            order=DisabilityCareRecord.served_on,
        ),
        "disability.rehab_by_id": lambda: by_key(db, DisabilityRehabEnrolment),
        "disability.rehab_by_person": lambda: many_by_key(
            db,
            DisabilityRehabEnrolment,
            DisabilityRehabEnrolment.person_id,
            order=DisabilityRehabEnrolment.id.desc(),
        ),
        "disability.rehab_service_by_id": lambda: by_key(db, DisabilityRehabService),
        "disability.rehab_services_by_enrolment": lambda: many_by_key(
            db,
            DisabilityRehabService,
            DisabilityRehabService.enrolment_id,
            order=DisabilityRehabService.served_on,
        ),
        "disability.subsidy_eligibility_by_person": lambda: DataLoader(load_fn=subsidy_eligibility),
        "disability.care_eligibility_by_person": lambda: DataLoader(load_fn=care_eligibility),
        "disability.discovered_by_person": lambda: DataLoader(load_fn=discovered),
    }
