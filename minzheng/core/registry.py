"""Registry services: every write to households and persons goes through here.

Each function runs inside the caller's transaction, validates before it writes,
records an audit entry and publishes the domain events; on any
:class:`~minzheng.core.errors.DomainError` the caller rolls back, so nothing
is half-written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import audit, divisions, events
from minzheng.core.divisions import RegionLevel
from minzheng.core.errors import Conflict, NotFound, ValidationFailed
from minzheng.core.idnumber import InvalidIdNumber, parse_id_number
from minzheng.core.models import (
    DisabilityCategory,
    Household,
    HouseholdIncome,
    HukouType,
    IncomeSource,
    LabourCapacity,
    Membership,
    Person,
    Region,
    Relation,
    Whereabouts,
)


@dataclass
class PersonData:
    id_number: str
    name: str
    relation: Relation = Relation.OTHER
    phone: str | None = None
    address: str | None = None
    residence_region_code: str | None = None
    labour_capacity: LabourCapacity = LabourCapacity.FULL
    serious_illness: bool = False
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = None
    whereabouts: Whereabouts = Whereabouts.AT_HOME
    away_since: dt.date | None = None
    in_school: bool = False


@dataclass
class HouseholdData:
    region_code: str
    hukou_type: HukouType | None
    members: list[PersonData]
    address: str | None = None
    number: str | None = None


#: fields of a person that ``update_person`` may change
UPDATABLE = (
    "name",
    "phone",
    "address",
    "residence_region_code",
    "labour_capacity",
    "serious_illness",
    "disability_category",
    "disability_grade",
    "whereabouts",
    "away_since",
    "in_school",
    "region_code",
)


@dataclass
class PersonChanges:
    values: dict[str, Any] = field(default_factory=dict)


async def village(session: AsyncSession, code: str, field_name: str) -> Region:
    """The village/community a household or person is registered in."""
    try:
        parsed = divisions.parse(code)
    except divisions.InvalidRegionCode:
        raise ValidationFailed(
            field_name, "region.malformed", f"{code!r} is not a 12-digit division code"
        ) from None
    region = await session.get(Region, parsed.full)
    if region is None:
        raise ValidationFailed(field_name, "region.unknown", f"unknown region {code}")
    if region.level != RegionLevel.VILLAGE:
        raise ValidationFailed(
            field_name, "region.level", f"{region.name} ({code}) is not a village or community"
        )
    return region


def _check_person(data: PersonData, path: str, today: dt.date) -> dict[str, Any]:
    try:
        parsed = parse_id_number(data.id_number, today=today)
    except InvalidIdNumber as exc:
        raise ValidationFailed(f"{path}.idNumber", exc.code, exc.message) from None
    if not data.name or not data.name.strip():
        raise ValidationFailed(f"{path}.name", "name.required", "name must not be empty")
    if len(data.name) > 64:
        raise ValidationFailed(f"{path}.name", "name.too_long", "name is longer than 64")
    _check_disability(data.disability_category, data.disability_grade, path)
    return {"id_number": parsed.value, "sex": parsed.sex, "birth_date": parsed.birth_date}


def _check_disability(category: Any, grade: int | None, path: str) -> None:
    if (category is None) != (grade is None):
        raise ValidationFailed(
            f"{path}.disabilityGrade",
            "disability.incomplete",
            "a disability certificate needs both category and grade",
        )
    if grade is not None and not 1 <= grade <= 4:
        raise ValidationFailed(
            f"{path}.disabilityGrade", "disability.grade", "disability grade must be 1 to 4"
        )


async def _unique_id_number(session: AsyncSession, id_number: str, path: str) -> None:
    # checked without region scope: a number registered elsewhere is still taken
    exists = await session.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.id_number == id_number)
        .execution_options(skip_scope=True)
    )
    if exists:
        raise ValidationFailed(
            f"{path}.idNumber",
            "id_number.duplicate",
            "a person with this ID number is already registered",
        )


def _new_person(data: PersonData, derived: dict[str, Any], region: Region) -> Person:
    person = Person(
        name=data.name.strip(),
        phone=data.phone,
        address=data.address,
        residence_region_code=data.residence_region_code or region.code,
        labour_capacity=data.labour_capacity,
        serious_illness=data.serious_illness,
        disability_category=data.disability_category,
        disability_grade=data.disability_grade,
        whereabouts=data.whereabouts,
        away_since=data.away_since,
        in_school=data.in_school,
        **derived,
    )
    person.place(region.code)
    return person


async def register_household(
    session: AsyncSession, data: HouseholdData, *, today: dt.date | None = None
) -> Household:
    """Register a household with its members; exactly one member is the head."""
    today = today or dt.date.today()
    region = await village(session, data.region_code, "input.regionCode")
    if not data.members:
        raise ValidationFailed(
            "input.members", "members.required", "a household needs at least one member"
        )
    heads = [i for i, m in enumerate(data.members) if m.relation == Relation.HEAD]
    if len(heads) != 1:
        raise ValidationFailed(
            "input.members", "members.head", "exactly one member must be the head (户主)"
        )
    derived = []
    seen: set[str] = set()
    for i, m in enumerate(data.members):
        d = _check_person(m, f"input.members.{i}", today)
        if d["id_number"] in seen:
            raise ValidationFailed(
                f"input.members.{i}.idNumber",
                "id_number.duplicate",
                "the same ID number appears twice",
            )
        seen.add(d["id_number"])
        await _unique_id_number(session, d["id_number"], f"input.members.{i}")
        derived.append(d)
    number = data.number or await _next_household_number(session, region.code)
    if data.number and await session.scalar(
        select(func.count())
        .select_from(Household)
        .where(Household.number == number)
        .execution_options(skip_scope=True)
    ):
        raise ValidationFailed(
            "input.number", "household.number_taken", f"household number {number} is taken"
        )
    household = Household(
        number=number,
        address=data.address,
        hukou_type=data.hukou_type or HukouType(region.urban_rural or "rural"),
    )
    household.place(region.code)
    if data.number:
        session.add(household)
        await session.flush()
    else:
        await _add_numbered(session, household, region.code)
    people = []
    for m, d in zip(data.members, derived, strict=True):
        person = _new_person(m, d, region)
        session.add(person)
        people.append(person)
    await session.flush()
    for m, person in zip(data.members, people, strict=True):
        session.add(
            Membership(
                household_id=household.id, person_id=person.id, relation=m.relation, joined_on=today
            )
        )
        if m.relation == Relation.HEAD:
            household.head_person_id = person.id
    await session.flush()
    audit.record(session, action="household.register", entity=household)
    for person in people:
        audit.record(session, action="person.register", entity=person)
        await events.publish(
            session, events.PersonRegistered(person.id, household.id, person.region_code)
        )
    return household


async def _add_numbered(session: AsyncSession, household: Household, region_code: str) -> None:
    """Insert ``household`` under its generated number.  Two registrations in one
    village at the same time may both pick the next free number; the one that
    inserts second takes the following number instead of failing."""
    for _attempt in range(20):
        try:
            async with session.begin_nested():
                session.add(household)
                await session.flush()
            return
        except IntegrityError:
            taken = await session.scalar(
                select(func.count())
                .select_from(Household)
                .where(Household.number == household.number)
                .execution_options(skip_scope=True)
            )
            if not taken:
                raise
            household.number = await _next_household_number(session, region_code)
    raise RuntimeError(f"no free household number in {region_code} after 20 attempts")


async def _next_household_number(session: AsyncSession, region_code: str) -> str:
    count = await session.scalar(
        select(func.count())
        .select_from(Household)
        .where(Household.region_code == region_code)
        .execution_options(skip_scope=True)
    )
    n = int(count or 0) + 1
    while True:
        number = f"{region_code}{n:05d}"
        taken = await session.scalar(
            select(func.count())
            .select_from(Household)
            .where(Household.number == number)
            .execution_options(skip_scope=True)
        )
        if not taken:
            return number
        n += 1


async def get_person(session: AsyncSession, person_id: int, path: str = "input.personId") -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("Person", path)
    return person


async def get_household(
    session: AsyncSession, household_id: int, path: str = "input.householdId"
) -> Household:
    household = await session.get(Household, household_id)
    if household is None:
        raise NotFound("Household", path)
    return household


def _check_version(obj: Any, version: int | None, what: str) -> None:
    if version is not None and obj.version != version:
        raise Conflict(
            f"{what} was changed by someone else (version {obj.version}, "
            f"you sent {version}); reload and retry",
            current_version=obj.version,
        )


async def add_member(
    session: AsyncSession,
    household_id: int,
    data: PersonData,
    *,
    household_version: int | None = None,
    today: dt.date | None = None,
) -> Person:
    """Register a new person as a member of an existing household."""
    today = today or dt.date.today()
    household = await get_household(session, household_id)
    _check_version(household, household_version, "Household")
    if data.relation == Relation.HEAD:
        raise ValidationFailed(
            "input.person.relation", "members.head", "the household already has a head"
        )
    derived = _check_person(data, "input.person", today)
    await _unique_id_number(session, derived["id_number"], "input.person")
    region = await village(session, household.region_code, "input.householdId")
    person = _new_person(data, derived, region)
    session.add(person)
    await session.flush()
    session.add(
        Membership(
            household_id=household.id, person_id=person.id, relation=data.relation, joined_on=today
        )
    )
    household.updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
    audit.record(session, action="person.register", entity=person)
    await events.publish(
        session, events.PersonRegistered(person.id, household.id, person.region_code)
    )
    await events.publish(session, events.MemberMoved(person.id, None, household.id, today, "added"))
    return person


async def move_member(
    session: AsyncSession,
    person_id: int,
    to_household_id: int | None,
    *,
    relation: Relation = Relation.OTHER,
    reason: str | None = None,
    today: dt.date | None = None,
) -> Person:
    """Move a person to another household, or remove them (``to_household_id`` None)."""
    today = today or dt.date.today()
    person = await get_person(session, person_id)
    membership = (
        await session.scalars(select(Membership).where(Membership.person_id == person.id))
    ).first()
    from_id = membership.household_id if membership else None
    if to_household_id is not None and to_household_id == from_id:
        raise ValidationFailed(
            "input.toHouseholdId",
            "members.same_household",
            "the person is already a member of that household",
        )
    if membership is not None:
        old = await session.get(Household, membership.household_id)
        if old is not None and old.head_person_id == person.id:
            raise ValidationFailed(
                "input.personId",
                "members.is_head",
                "the head cannot leave; name another head first",
            )
    before = audit.snapshot(membership)
    target = None
    if to_household_id is not None:
        target = await get_household(session, to_household_id, "input.toHouseholdId")
        if relation == Relation.HEAD:
            raise ValidationFailed(
                "input.relation", "members.head", "the household already has a head"
            )
    if membership is not None:
        await session.delete(membership)
        await session.flush()
    if target is not None:
        session.add(
            Membership(
                household_id=target.id, person_id=person.id, relation=relation, joined_on=today
            )
        )
        if target.region_code != person.region_code:
            old_region = person.region_code
            person.place(target.region_code)
            await session.flush()
            await events.publish(
                session,
                events.PersonChanged(person.id, {"region_code": (old_region, person.region_code)}),
            )
    await session.flush()
    audit.record(
        session,
        action="member.move" if target else "member.remove",
        entity_type="Membership",
        entity_id=person.id,
        region_code=person.region_code,
        before=before,
        after={"household_id": to_household_id, "reason": reason},
    )
    await events.publish(
        session, events.MemberMoved(person.id, from_id, to_household_id, today, reason)
    )
    return person


async def update_person(
    session: AsyncSession,
    person_id: int,
    version: int,
    changes: dict[str, Any],
    *,
    path: str = "input",
) -> Person:
    """Change facts about a person; ``version`` must match (optimistic locking)."""
    person = await get_person(session, person_id, f"{path}.id")
    _check_version(person, version, "Person")
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationFailed(
            f"{path}.{sorted(unknown)[0]}", "field.readonly", "this field cannot be changed here"
        )
    if "name" in changes and not (changes["name"] or "").strip():
        raise ValidationFailed(f"{path}.name", "name.required", "name must not be empty")
    category = changes.get("disability_category", person.disability_category)
    grade = changes.get("disability_grade", person.disability_grade)
    _check_disability(category, grade, path)
    if "region_code" in changes:
        await village(session, changes["region_code"], f"{path}.regionCode")
    before = audit.snapshot(person)
    diff: dict[str, tuple[Any, Any]] = {}
    for key, value in changes.items():
        if key == "region_code":
            value = divisions.parse(value).full
        old = getattr(person, key)
        if old != value:
            diff[key] = (old, value)
            if key == "region_code":
                person.place(value)
            else:
                setattr(person, key, value)
    if not diff:
        return person
    await session.flush()
    audit.record(session, action="person.update", entity=person, before=before)
    await events.publish(session, events.PersonChanged(person.id, diff))
    return person


async def record_death(
    session: AsyncSession,
    person_id: int,
    died_on: dt.date,
    *,
    version: int | None = None,
    today: dt.date | None = None,
) -> Person:
    today = today or dt.date.today()
    person = await get_person(session, person_id)
    _check_version(person, version, "Person")
    if person.died_on is not None:
        raise Conflict(f"death already recorded on {person.died_on}")
    if died_on > today:
        raise ValidationFailed("input.diedOn", "date.future", "date of death is in the future")
    if died_on < person.birth_date:
        raise ValidationFailed(
            "input.diedOn", "date.before_birth", "date of death is before the birth date"
        )
    before = audit.snapshot(person)
    person.died_on = died_on
    await session.flush()
    membership = (
        await session.scalars(select(Membership).where(Membership.person_id == person.id))
    ).first()
    audit.record(session, action="person.death", entity=person, before=before)
    await events.publish(
        session,
        events.PersonDied(person.id, membership.household_id if membership else None, died_on),
    )
    return person


async def record_income(
    session: AsyncSession,
    household_id: int,
    *,
    source: IncomeSource,
    period_start: dt.date,
    period_end: dt.date,
    amount_fen: int,
    employment_cost_fen: int = 0,
    person_id: int | None = None,
    note: str | None = None,
) -> HouseholdIncome:
    household = await get_household(session, household_id)
    if amount_fen < 0:
        raise ValidationFailed("input.amountFen", "amount.negative", "amount must not be negative")
    if employment_cost_fen < 0:
        raise ValidationFailed(
            "input.employmentCostFen", "amount.negative", "employment cost must not be negative"
        )
    if period_end < period_start:
        raise ValidationFailed("input.periodEnd", "period.order", "period end is before its start")
    if person_id is not None:
        member = await session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.person_id == person_id, Membership.household_id == household.id)
        )
        if not member:
            raise ValidationFailed(
                "input.personId",
                "members.not_member",
                "the person is not a member of this household",
            )
    income = HouseholdIncome(
        household_id=household.id,
        person_id=person_id,
        source=source,
        period_start=period_start,
        period_end=period_end,
        amount_fen=amount_fen,
        employment_cost_fen=employment_cost_fen,
        note=note,
    )
    income.place(household.region_code)
    session.add(income)
    await session.flush()
    audit.record(session, action="income.record", entity=income)
    await events.publish(
        session, events.HouseholdIncomeRecorded(household.id, income.id, period_start, period_end)
    )
    return income
