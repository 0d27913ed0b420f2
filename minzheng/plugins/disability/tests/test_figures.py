"""The region figures' statements give the numbers of their earlier, slower
formulations (per-person EXISTS over ``person_id = … OR household_id IN (…)``;
a correlated scan of the cycles per grant) on a demo registry, for the city, its
counties and a township, on several days, under a city and a county principal."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import exists, false, func, or_, select

from minzheng.core.demo import seed_registry
from minzheng.core.models import Enrolment, Membership, Person
from minzheng.core.scope import Principal
from minzheng.plugins.disability import demo, queries, services
from minzheng.plugins.disability.models import DisabilityGrant
from minzheng.plugins.disability.rules import DisabilityPolicy

from .conftest import TODAY

REGIONS = ["4108", "410823", "410882", "410802", "410823101"]
DAYS = [TODAY, TODAY - dt.timedelta(days=75), TODAY + dt.timedelta(days=45)]
POLICIES = [DisabilityPolicy(), DisabilityPolicy(living_subsidy_includes_near_poverty=True)]


def _old_enrolled(programmes: Any, on: dt.date) -> Any:
    if not programmes:
        return false()
    households = (
        select(Membership.household_id).where(Membership.person_id == Person.id).correlate(Person)
    )
    return exists().where(
        Enrolment.programme.in_(programmes),
        queries._in_force(on),
        or_(Enrolment.person_id == Person.id, Enrolment.household_id.in_(households)),
    )


async def _old_eligible(s: Any, policy: DisabilityPolicy, on: dt.date, code: str, mp: Any) -> int:
    with mp.context() as m:
        m.setattr(queries, "_enrolled", _old_enrolled)
        stmt = (
            select(func.count())
            .select_from(Person)
            .where(
                queries.discovery_condition(policy, on),
                queries._within(Person.region_code, code),
            )
        )
    return int(await s.scalar(stmt) or 0)


async def _old_verification(s: Any, code: str, on: dt.date) -> tuple[int, int]:
    opening = queries.current_cycle_opening(DisabilityGrant.region_code, on).label("opening")
    per_grant = (
        select(DisabilityGrant.person_id.label("person_id"), opening)
        .where(
            DisabilityGrant.status.in_(queries.CURRENT_GRANT_STATUSES),
            queries._within(DisabilityGrant.region_code, code),
        )
        .subquery()
    )
    per_person = (
        select(per_grant.c.person_id, func.min(per_grant.c.opening).label("opening"))
        .where(per_grant.c.opening.is_not(None))
        .group_by(per_grant.c.person_id)
        .subquery()
    )
    return await queries._covered_and_verified(s, per_person, on)


@pytest.fixture
async def demo_registry(registry: Any) -> Any:
    async with registry.tx() as s:
        await seed_registry(s, 500, 11, today=TODAY, analyze=False)
    async with registry.tx() as s:
        await demo.seed(s, random.Random(5), TODAY)
        # nested cycles: the city's opens after 武陟县's, one township's after both
        await services.open_cycle(
            s,
            region_code="4108",
            name="全市补充验证",
            opens_on=TODAY - dt.timedelta(days=20),
            deadline=TODAY + dt.timedelta(days=60),
        )
        await services.open_cycle(
            s,
            region_code="410823101",
            name="乡镇复核",
            opens_on=TODAY - dt.timedelta(days=10),
            deadline=TODAY + dt.timedelta(days=20),
        )
    return registry


async def test_figures_match_the_earlier_statements(demo_registry: Any, monkeypatch) -> None:
    county = Principal("wuzhi", region="410823", permissions=frozenset({"*"}))
    seen_eligible = seen_verified = 0
    for principal in (None, county):
        extra = {"principal": principal} if principal else {}
        async with demo_registry.tx(**extra) as s:
            for code in REGIONS:
                for on in DAYS:
                    for policy in POLICIES:
                        new = await s.scalar(queries.eligible_count_statement(policy, on, code))
                        old = await _old_eligible(s, policy, on, code, monkeypatch)
                        assert new == old, (code, on, policy)
                        seen_eligible += old
                    figures = await queries.region_figures(s, code, on, DisabilityPolicy())
                    old_v = await _old_verification(s, code, on)
                    assert (
                        figures.verification_covered,
                        figures.verification_verified,
                    ) == old_v, (code, on)
                    seen_verified += old_v[1]
    assert seen_eligible > 0 and seen_verified > 0  # the comparison saw real numbers


def test_cycle_opening_case_takes_the_latest_of_nested_prefixes() -> None:
    from sqlalchemy import literal_column
    from sqlalchemy.dialects import sqlite

    openings = {"4108": dt.date(2025, 3, 1), "410823": dt.date(2025, 1, 1)}
    expr = queries.cycle_opening_case(literal_column("region_code"), openings)
    sql = str(expr.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    # the county's grants take the city's later opening; the longest prefix comes first
    assert sql.index("'410823%'") < sql.index("'4108%'")
    assert sql.count("'2025-03-01'") == 2 and "'2025-01-01'" not in sql
