"""Read side: the facts the rules need, standards lookup, active discovery and the
region statistics — every list and aggregate as one SQL statement.

All statements go through ORM-mapped classes, so region scope applies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core.divisions import parse
from minzheng.core.models import (
    PAYABLE,
    DisabilityCategory,
    Enrolment,
    HukouType,
    Membership,
    Person,
    Region,
)
from minzheng.core.regions import township_kind
from minzheng.plugins.disability import rules
from minzheng.plugins.disability.models import (
    DisabilityApplication,
    DisabilityGrant,
    DisabilityStandard,
    DisabilityVerification,
    DisabilityVerificationCycle,
)
from minzheng.plugins.disability.rules import (
    PROGRAMME_CODES,
    ApplicationState,
    DisabilityPolicy,
    GrantStatus,
    Subsidy,
    VerificationOutcome,
)

OPEN_APPLICATION_STATES = (
    ApplicationState.SUBMITTED,
    ApplicationState.ACCEPTED,
    ApplicationState.REVIEWED,
)
CURRENT_GRANT_STATUSES = (GrantStatus.ACTIVE, GrantStatus.SUSPENDED)


# ---------------------------------------------------------------------- facts


def _in_force(on: dt.date):  # type: ignore[no-untyped-def]
    return and_(
        Enrolment.start_on <= on,
        or_(Enrolment.end_on.is_(None), Enrolment.end_on >= on),
        Enrolment.status.in_(PAYABLE),
    )


def programme_statements(person_ids: list[int], on: dt.date) -> tuple[Any, Any]:
    """(person id, programme code) paying on ``on``: to the persons themselves, and
    to their households."""
    own = select(Enrolment.person_id, Enrolment.programme).where(
        Enrolment.person_id.in_(person_ids), _in_force(on)
    )
    household = (
        select(Membership.person_id, Enrolment.programme)
        .join(Enrolment, Enrolment.household_id == Membership.household_id)
        .where(Membership.person_id.in_(person_ids), _in_force(on))
    )
    return own, household


async def programmes_on(session: AsyncSession, person_id: int, on: dt.date) -> frozenset[str]:
    """Codes of the programmes paying, on ``on``, to the person or their household."""
    found: set[str] = set()
    for stmt in programme_statements([person_id], on):
        found.update(p for _, p in (await session.execute(stmt)).all())
    return frozenset(found)


def kind_codes(person: Person) -> set[str]:
    """Region rows that tell whether the person lives in a rural or urban area."""
    code = person.residence_region_code or person.region_code
    if not code:
        return set()
    full = parse(code).full
    return {full, full[:9] + "000"}


def kind_of(person: Person, kinds: dict[str, Any]) -> HukouType | None:
    """Urban or rural kind of where the person lives (residence, else hukou region),
    from the ``urban_rural`` of the village row, else of its township, else from the
    township code (street offices are urban)."""
    code = person.residence_region_code or person.region_code
    if not code:
        return None
    full = parse(code).full
    for candidate in (full, full[:9] + "000"):
        if kinds.get(candidate) is not None:
            return HukouType(kinds[candidate])
    if full[6:9] != "000":
        return HukouType(township_kind(full[:9]))
    return None


async def residence_kind(session: AsyncSession, person: Person) -> HukouType | None:
    codes = kind_codes(person)
    rows = (
        await session.execute(select(Region.code, Region.urban_rural).where(Region.code.in_(codes)))
    ).all()
    return kind_of(person, dict(rows))


def facts_from(
    person: Person, programmes: frozenset[str], kind: HukouType | None
) -> rules.PersonFacts:
    return rules.PersonFacts(
        birth_date=person.birth_date,
        certificate=certificate_of(person),
        hukou_region_code=person.region_code,
        residence_urban_rural=kind,
        whereabouts=person.whereabouts,
        died_on=person.died_on,
        programmes=programmes,
    )


def certificate_of(person: Person) -> rules.Certificate | None:
    if person.disability_category is None or person.disability_grade is None:
        return None
    return rules.Certificate(
        DisabilityCategory(person.disability_category), person.disability_grade
    )


async def person_facts(session: AsyncSession, person: Person, on: dt.date) -> rules.PersonFacts:
    return facts_from(
        person, await programmes_on(session, person.id, on), await residence_kind(session, person)
    )


# ------------------------------------------------------------------ standards


def ancestor_codes(region_code: str) -> list[str]:
    """Full codes of the division and every division that contains it."""
    prefix = parse(region_code).prefix
    return [prefix[:n].ljust(12, "0") for n in (2, 4, 6, 9, 12) if n <= len(prefix)]


async def standards_for(
    session: AsyncSession, subsidy: Subsidy, region_code: str
) -> list[rules.Standard]:
    rows = (
        await session.scalars(
            select(DisabilityStandard).where(
                DisabilityStandard.subsidy == subsidy,
                DisabilityStandard.region_code.in_(ancestor_codes(region_code)),
            )
        )
    ).all()
    return [
        rules.Standard(
            region_code=r.region_code,
            subsidy=r.subsidy,
            effective_from=r.effective_from,
            monthly_amount_fen=r.monthly_amount_fen,
            grade=r.grade,
            id=r.id,
        )
        for r in rows
    ]


async def standard_for(
    session: AsyncSession, subsidy: Subsidy, region_code: str, grade: int | None, on: dt.date
) -> rules.StandardChoice | None:
    return rules.standard_in_force(
        await standards_for(session, subsidy, region_code),
        region_code=region_code,
        subsidy=subsidy,
        grade=grade,
        on=on,
    )


# ------------------------------------------------------------------ discovery


def _low_income(policy: DisabilityPolicy, on: dt.date):  # type: ignore[no-untyped-def]
    programmes = [policy.dibao_programme]
    if policy.living_subsidy_includes_near_poverty:
        programmes.append(policy.near_poverty_programme)
    return _enrolled(programmes, on)


def _enrolled(programmes: list[str] | tuple[str, ...], on: dt.date):  # type: ignore[no-untyped-def]
    """The person, or their household, is enrolled in one of ``programmes`` on ``on``.

    Two EXISTS, each on one equality (the person's id; the household of their
    membership), so each is an index lookup: with one EXISTS over ``person_id = …
    OR household_id IN (…)`` SQLite preferred the (programme, region) index the
    region-scope criterion offers and read every enrolment of the programme in
    the principal's area for every person."""
    if not programmes:
        return false()
    own = exists().where(
        Enrolment.person_id == Person.id, Enrolment.programme.in_(programmes), _in_force(on)
    )
    household = exists().where(
        Membership.person_id == Person.id,
        Enrolment.household_id == Membership.household_id,
        Enrolment.programme.in_(programmes),
        _in_force(on),
    )
    return or_(own, household)


def _alive(on: dt.date):  # type: ignore[no-untyped-def]
    return or_(Person.died_on.is_(None), Person.died_on > on)


def _certified():  # type: ignore[no-untyped-def]
    return and_(Person.disability_grade.is_not(None), Person.disability_category.is_not(None))


def eligible_condition(subsidy: Subsidy, policy: DisabilityPolicy, on: dt.date):  # type: ignore[no-untyped-def]
    """SQL mirror of :func:`rules.living_subsidy` / :func:`rules.care_subsidy` over Person."""
    alive, certified = _alive(on), _certified()
    if subsidy is Subsidy.LIVING:
        return and_(
            alive,
            certified,
            _low_income(policy, on),
            ~_enrolled(policy.living_subsidy_excluding_programmes, on),
        )
    severe = Person.disability_grade <= 2
    if policy.care_subsidy_includes_grade_3_4_intellectual_mental:
        severe = or_(
            severe,
            Person.disability_category.in_(
                [DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL]
            ),
        )
    return and_(alive, certified, severe)


def _not_covered(subsidy: Subsidy):  # type: ignore[no-untyped-def]
    grant = exists().where(
        DisabilityGrant.person_id == Person.id,
        DisabilityGrant.subsidy == subsidy,
        DisabilityGrant.status.in_(CURRENT_GRANT_STATUSES),
    )
    application = exists().where(
        DisabilityApplication.person_id == Person.id,
        DisabilityApplication.subsidy == subsidy,
        DisabilityApplication.state.in_(OPEN_APPLICATION_STATES),
    )
    return and_(~grant, ~application)


def discovery_condition(policy: DisabilityPolicy, on: dt.date, subsidy: Subsidy | None = None):  # type: ignore[no-untyped-def]
    wanted = [subsidy] if subsidy else list(Subsidy)
    return or_(*(and_(eligible_condition(s, policy, on), _not_covered(s)) for s in wanted))


def discovery_statement(
    policy: DisabilityPolicy,
    on: dt.date,
    *,
    subsidy: Subsidy | None = None,
    region_code: str | None = None,
) -> Any:
    """主动发现: persons who appear eligible for a subsidy but hold neither a grant
    nor an open application for it, ordered by id."""
    stmt = select(Person).where(discovery_condition(policy, on, subsidy))
    if region_code:
        lo, hi = parse(region_code).bounds
        stmt = stmt.where(Person.region_code.between(lo, hi))
    return stmt.order_by(Person.id)


def discovered_subsidies(policy: DisabilityPolicy, on: dt.date):  # type: ignore[no-untyped-def]
    """Per-subsidy flags for one discovered person (to select beside the person)."""
    return [
        and_(eligible_condition(s, policy, on), _not_covered(s)).label(f"discovered_{s.value}")
        for s in Subsidy
    ]


# ----------------------------------------------------------------- statistics


@dataclass(frozen=True)
class SubsidyFigures:
    subsidy: Subsidy
    recipients: int
    monthly_total_fen: int


@dataclass(frozen=True)
class RegionFigures:
    region_code: str
    month: dt.date
    subsidies: tuple[SubsidyFigures, ...]
    suspended_grants: int
    flagged_grants: int
    verification_covered: int
    verification_verified: int
    eligible_not_enrolled: int

    @property
    def verification_rate(self) -> float | None:
        if not self.verification_covered:
            return None
        return self.verification_verified / self.verification_covered


def _within(column, region_code: str):  # type: ignore[no-untyped-def]
    lo, hi = parse(region_code).bounds
    return column.between(lo, hi)


async def region_figures(
    session: AsyncSession, region_code: str, on: dt.date, policy: DisabilityPolicy
) -> RegionFigures:
    """The disability figures of one division on ``on`` (the month containing it)."""
    month_end = rules.month_end(on)
    codes = {code: s for s, code in PROGRAMME_CODES.items()}
    paying = (
        await session.execute(
            select(
                Enrolment.programme,
                func.count(distinct(Enrolment.person_id)),
                func.coalesce(func.sum(Enrolment.monthly_amount_fen), 0),
            )
            .where(
                Enrolment.programme.in_(list(codes)),
                _in_force(month_end),
                _within(Enrolment.region_code, region_code),
            )
            .group_by(Enrolment.programme)
        )
    ).all()
    by_subsidy = {codes[p]: (n, int(total)) for p, n, total in paying}
    subsidies = tuple(SubsidyFigures(s, *by_subsidy.get(s, (0, 0))) for s in Subsidy)
    suspended, flagged = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(case((DisabilityGrant.status == GrantStatus.SUSPENDED, 1), else_=0)),
                    0,
                ),
                func.coalesce(
                    func.sum(
                        case(
                            (
                                and_(
                                    DisabilityGrant.review_flag.is_(True),
                                    DisabilityGrant.status.in_(CURRENT_GRANT_STATUSES),
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
            ).where(_within(DisabilityGrant.region_code, region_code))
        )
    ).one()
    covered, verified = await _verification_counts(session, region_code, on)
    eligible = await session.scalar(eligible_count_statement(policy, on, region_code))
    return RegionFigures(
        region_code=parse(region_code).full,
        month=rules.month_start(on),
        subsidies=subsidies,
        suspended_grants=int(suspended),
        flagged_grants=int(flagged),
        verification_covered=covered,
        verification_verified=verified,
        eligible_not_enrolled=int(eligible or 0),
    )


FIGURE_SOURCE_NAME = "disability"


def figure_statements(policy: DisabilityPolicy, on: dt.date, where: Any) -> list[Any]:
    """:func:`region_figures` per division unit, for :mod:`minzheng.core.figures`:
    each count grouped by the region column the live statement filters on."""
    month_end = rules.month_end(on)
    grant = DisabilityGrant
    covered_person = (
        select(
            grant.person_id.label("person_id"),
            func.min(grant.region_code).label("region_code"),
            func.min(current_cycle_opening(grant.region_code, on)).label("opening"),
        )
        .where(grant.status.in_(CURRENT_GRANT_STATUSES), where(grant.region_code))
        .group_by(grant.person_id)
        .subquery()
    )
    verified = exists().where(
        DisabilityVerification.person_id == covered_person.c.person_id,
        DisabilityVerification.outcome == VerificationOutcome.CONFIRMED,
        DisabilityVerification.verified_on >= covered_person.c.opening,
        DisabilityVerification.verified_on <= on,
    )
    return [
        select(
            Enrolment.region_code,
            literal("recipients"),
            Enrolment.programme,
            func.count(distinct(Enrolment.person_id)),
        )
        .where(
            Enrolment.programme.in_(list(PROGRAMME_CODES.values())),
            _in_force(month_end),
            where(Enrolment.region_code),
        )
        .group_by(Enrolment.region_code, Enrolment.programme),
        select(
            Enrolment.region_code,
            literal("amount"),
            Enrolment.programme,
            func.sum(Enrolment.monthly_amount_fen),
        )
        .where(
            Enrolment.programme.in_(list(PROGRAMME_CODES.values())),
            _in_force(month_end),
            where(Enrolment.region_code),
        )
        .group_by(Enrolment.region_code, Enrolment.programme),
        select(grant.region_code, literal("suspended"), func.count())
        .where(grant.status == GrantStatus.SUSPENDED, where(grant.region_code))
        .group_by(grant.region_code),
        select(grant.region_code, literal("flagged"), func.count())
        .where(
            grant.review_flag.is_(True),
            grant.status.in_(CURRENT_GRANT_STATUSES),
            where(grant.region_code),
        )
        .group_by(grant.region_code),
        select(covered_person.c.region_code, literal("covered"), func.count())
        .where(covered_person.c.opening.is_not(None))
        .group_by(covered_person.c.region_code),
        select(covered_person.c.region_code, literal("verified"), func.count())
        .where(covered_person.c.opening.is_not(None), verified)
        .group_by(covered_person.c.region_code),
        select(Person.region_code, literal("eligible_not_enrolled"), func.count())
        .where(_certified(), _alive(on), discovery_condition(policy, on), where(Person.region_code))
        .group_by(Person.region_code),
    ]


def figures_from(kept: dict[tuple[str, ...], int], region_code: str, on: dt.date) -> RegionFigures:
    """:class:`RegionFigures` from the pre-aggregated figures of a division."""
    subsidies = tuple(
        SubsidyFigures(
            s,
            kept.get(("recipients", PROGRAMME_CODES[s]), 0),
            kept.get(("amount", PROGRAMME_CODES[s]), 0),
        )
        for s in Subsidy
    )
    return RegionFigures(
        region_code=parse(region_code).full,
        month=rules.month_start(on),
        subsidies=subsidies,
        suspended_grants=kept.get(("suspended",), 0),
        flagged_grants=kept.get(("flagged",), 0),
        verification_covered=kept.get(("covered",), 0),
        verification_verified=kept.get(("verified",), 0),
        eligible_not_enrolled=kept.get(("eligible_not_enrolled",), 0),
    )


def eligible_count_statement(policy: DisabilityPolicy, on: dt.date, region_code: str) -> Any:
    """How many persons of the division :func:`discovery_statement` finds.

    The terms every branch of the discovery condition shares (certified, alive)
    are repeated at the top level, so that the partial index on certified
    persons (``ix_disability_person_certified``, ~6 % of the registry) serves
    the scan instead of a visit to every person of the division."""
    return (
        select(func.count())
        .select_from(Person)
        .where(
            _certified(),
            _alive(on),
            discovery_condition(policy, on),
            _within(Person.region_code, region_code),
        )
    )


def current_cycle_opening(region_column, on: dt.date):  # type: ignore[no-untyped-def]
    """Correlated scalar: opening day of the latest cycle, opened by ``on``, that
    covers the division in ``region_column`` (NULL when none does)."""
    return (
        select(func.max(DisabilityVerificationCycle.opens_on))
        .where(
            DisabilityVerificationCycle.opens_on <= on,
            region_column.like(DisabilityVerificationCycle.scope_prefix + literal("%")),
        )
        .scalar_subquery()
    )


def cycle_opening_case(region_column, openings: dict[str, dt.date]):  # type: ignore[no-untyped-def]
    """What :func:`current_cycle_opening` gives, as a CASE over the cycles' scope
    prefixes (``openings``: prefix → latest opening by the day wanted): the
    longest matching prefix first, with the latest opening of every prefix that
    contains it (prefixes of one code nest).  NULL when no prefix matches."""
    prefixes = sorted(openings, key=lambda p: (-len(p), p))
    whens = [
        (
            region_column.like(prefix + "%"),
            literal(max(d for q, d in openings.items() if prefix.startswith(q))),
        )
        for prefix in prefixes
    ]
    return case(*whens, else_=None)


async def _verification_counts(
    session: AsyncSession, region_code: str, on: dt.date
) -> tuple[int, int]:
    """Recipients (persons with a current grant) under a cycle that has opened, and
    how many of them have a confirmed verification since that cycle opened.

    The cycles (a few per county) are read first and become a CASE over the
    grant's region: one pass over the division's current grants instead of a
    correlated scan of the cycles per grant."""
    openings = dict(
        (
            await session.execute(
                select(
                    DisabilityVerificationCycle.scope_prefix,
                    func.max(DisabilityVerificationCycle.opens_on),
                )
                .where(DisabilityVerificationCycle.opens_on <= on)
                .group_by(DisabilityVerificationCycle.scope_prefix)
            )
        ).all()
    )
    if not openings:
        return 0, 0
    per_person = (
        select(
            DisabilityGrant.person_id.label("person_id"),
            func.min(cycle_opening_case(DisabilityGrant.region_code, openings)).label("opening"),
        )
        .where(
            DisabilityGrant.status.in_(CURRENT_GRANT_STATUSES),
            _within(DisabilityGrant.region_code, region_code),
            or_(*(DisabilityGrant.region_code.like(p + "%") for p in openings)),
        )
        .group_by(DisabilityGrant.person_id)
        .subquery()
    )
    return await _covered_and_verified(session, per_person, on)


async def _covered_and_verified(
    session: AsyncSession, per_person: Any, on: dt.date
) -> tuple[int, int]:
    """Rows of ``per_person`` (person_id, opening), and how many of those persons
    have a confirmed verification from their opening to ``on``."""
    verified = exists().where(
        DisabilityVerification.person_id == per_person.c.person_id,
        DisabilityVerification.outcome == VerificationOutcome.CONFIRMED,
        DisabilityVerification.verified_on >= per_person.c.opening,
        DisabilityVerification.verified_on <= on,
    )
    covered, done = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((verified, 1), else_=0)), 0),
            ).select_from(per_person)
        )
    ).one()
    return int(covered), int(done)
