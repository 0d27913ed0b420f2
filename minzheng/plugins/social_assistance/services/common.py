"""What every service module needs: programme codes, calendar, facts, checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import divisions
from minzheng.core.divisions import RegionLevel
from minzheng.core.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed
from minzheng.core.models import (
    Household,
    HouseholdAsset,
    HouseholdIncome,
    HukouType,
    Membership,
    Person,
)
from minzheng.core.scope import Principal
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import SocialAssistanceStandard

#: programme codes in core enrolments (see hooks.declare_programmes)
DIBAO = "dibao"
TEKUN = "tekun"
TEMPORARY = "temporary_assistance"
NEAR_POVERTY = "near_poverty"

LIMITS = rules.ProcedureDeadlines()


@cache
def calendar() -> rules.WorkingCalendar:
    from minzheng.plugins.social_assistance.settings import SocialAssistanceSettings

    return rules.default_calendar(SocialAssistanceSettings().holidays_file)


# ------------------------------------------------------------------ checks


def principal(session: AsyncSession) -> Principal | None:
    return session.info.get("principal")


def actor(session: AsyncSession) -> str:
    p = principal(session)
    return p.subject if p else "system"


def principal_level(session: AsyncSession) -> RegionLevel | None:
    """The level of the principal's region (None: unrestricted)."""
    p = principal(session)
    if p is None or not p.region:
        return None
    return divisions.DivisionCode(p.region).level


def require_county(session: AsyncSession, what: str) -> None:
    """Refuse a principal scoped below county level (a township caseworker)."""
    level = principal_level(session)
    if level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise Forbidden(f"{what} is decided at county level")


def check_version(obj: Any, version: int | None, entity: str) -> None:
    if version is not None and obj.version != version:
        raise Conflict(
            f"{entity} {obj.id} is at version {obj.version}, not {version}; reload it",
            current_version=obj.version,
        )


def require_state(obj: Any, allowed: Iterable[Any], entity: str, action: str) -> None:
    if obj.status not in tuple(allowed):
        raise IllegalTransition(entity, obj.status.value, action)


def check_date(value: dt.date | None, today: dt.date, field: str) -> dt.date:
    """An event date given by the caller (defaults to today), never in the future."""
    if value is None:
        return today
    if value > today:
        raise ValidationFailed(field, "date.future", f"{value} is in the future")
    return value


def require_text(value: str | None, field: str, what: str) -> str:
    if value is None or not value.strip():
        raise ValidationFailed(field, "text.required", f"{what} must not be empty")
    return value.strip()


def require_documents(documents: Sequence[str] | None, field: str, what: str) -> list[str]:
    """Evidence or paperwork: at least one non-empty document reference."""
    docs = [d.strip() for d in documents or () if d and d.strip()]
    if not docs:
        raise ValidationFailed(field, "document.missing", f"{what}: at least one document")
    return docs


def case_number(prefix: str, region_code: str, on: dt.date, ident: int) -> str:
    """``DB410823-2025-000042``: programme, county, year, sequence."""
    return f"{prefix}{region_code[:6]}-{on.year}-{ident:06d}"


def reasons_json(reasons: Iterable[rules.Reason]) -> list[dict[str, Any]]:
    return [
        {"rule": r.rule, "title": r.title, "passed": r.passed, "detail": r.detail} for r in reasons
    ]


# --------------------------------------------------------------- standards


def to_rule(row: SocialAssistanceStandard) -> rules.Standard:
    """The stored parameters as the rules' :class:`~rules.Standard`."""
    from decimal import Decimal

    return rules.Standard(
        dibao_fen=row.dibao_fen,
        tekun_basic_fen=row.tekun_basic_fen,
        care_fen={
            rules.SelfCareLevel.SELF_SUFFICIENT: row.care_self_sufficient_fen,
            rules.SelfCareLevel.PARTLY_DEPENDENT: row.care_partly_dependent_fen,
            rules.SelfCareLevel.FULLY_DEPENDENT: row.care_fully_dependent_fen,
        },
        near_poverty_multiple=row.near_poverty_multiple,
        phase_out_multiple=row.phase_out_multiple,
        phase_out_max_months=row.phase_out_max_months,
        phase_out_share=row.phase_out_share,
        employment_cost=rules.EmploymentCostRule(
            row.employment_cost_mode, row.employment_cost_monthly_fen, row.employment_cost_share
        ),
        amount_mode=row.amount_mode,
        tiers=tuple(
            rules.Tier(t["code"], Decimal(t["income_below"]), Decimal(t["per_member"]))
            for t in row.tiers or ()
        ),
        review_months={
            rules.ReviewCategory.STABLE: row.review_stable_months,
            rules.ReviewCategory.IRREGULAR: row.review_irregular_months,
        },
        dibao_assets=rules.AssetRule(
            row.dibao_asset_months, row.dibao_max_vehicles, row.dibao_max_homes
        ),
        near_poverty_assets=rules.AssetRule(
            row.near_poverty_asset_months,
            row.near_poverty_max_vehicles,
            row.near_poverty_max_homes,
        ),
        temporary=rules.TemporaryAssistanceRule(
            mode=row.temporary_mode,
            max_multiple=row.temporary_max_multiple,
            per_member=row.temporary_per_member,
            tier_multiples=tuple(Decimal(m) for m in row.temporary_tier_multiples or ()),
            case_cap_fen=row.temporary_case_cap_fen,
            township_limit_fen=row.temporary_township_limit_fen,
            paperwork_working_days=row.temporary_paperwork_days,
        ),
        income_window_months=row.income_window_months,
    )


def ancestor_codes(region_code: str) -> list[str]:
    """Full codes of the county, township and village that contain ``region_code``."""
    d = divisions.parse(region_code)
    out = []
    for level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        a = d.ancestor(level)
        if a is not None:
            out.append(a.full)
    return out


async def standard_for(
    session: AsyncSession,
    region_code: str,
    area: HukouType,
    on: dt.date,
    *,
    field: str = "input",
) -> tuple[SocialAssistanceStandard, rules.Standard]:
    """The standard in force for a place (inherited from its county unless overridden)."""
    rows = list(
        await session.scalars(
            select(SocialAssistanceStandard).where(
                SocialAssistanceStandard.region_code.in_(ancestor_codes(region_code)),
                SocialAssistanceStandard.area == area,
                SocialAssistanceStandard.effective_from <= on,
            )
        )
    )
    picked = rules.pick_standard(
        [
            rules.StandardRow(r.region_code, r.area, r.effective_from, to_rule(r), r.id)
            for r in rows
        ],
        region_code,
        area,
        on,
    )
    if picked is None:
        raise ValidationFailed(
            field,
            "standard.missing",
            f"no {area.value} social-assistance standard in force for {region_code} on {on}",
        )
    row = next(r for r in rows if r.id == picked.ident)
    return row, picked.standard


class StandardsOn:
    """:func:`standard_for` on one day, remembered per place and area: a new
    standard recomputes every active case it governs, thousands in a city,
    which live in a few hundred villages."""

    def __init__(self, session: AsyncSession, on: dt.date) -> None:
        self._session = session
        self._on = on
        self._found: dict[tuple[str, HukouType], Any] = {}

    async def __call__(
        self, region_code: str, area: HukouType
    ) -> tuple[SocialAssistanceStandard, rules.Standard]:
        key = (region_code, area)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = await standard_for(
                self._session, region_code, area, self._on
            )
        return found  # type: ignore[no-any-return]


# ---------------------------------------------------------- registry facts


@dataclass
class HouseholdFacts:
    household: Household
    members: list[tuple[Membership, Person]]
    incomes: list[rules.IncomeRecord]
    holdings: list[rules.AssetHolding]

    @property
    def living(self) -> list[Person]:
        return [p for _m, p in self.members if p.died_on is None]

    def person(self, person_id: int) -> Person | None:
        return next((p for _m, p in self.members if p.id == person_id), None)


async def household_facts(session: AsyncSession, household_id: int) -> HouseholdFacts:
    household = await session.get(Household, household_id)
    if household is None:
        from minzheng.core.errors import NotFound

        raise NotFound("Household", household_id)
    members = [
        (m, p)
        for m, p in await session.execute(
            select(Membership, Person)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.household_id == household_id)
            .order_by(Membership.id)
        )
    ]
    incomes = [
        rules.IncomeRecord(
            i.source,
            i.period_start,
            i.period_end,
            i.amount_fen,
            i.employment_cost_fen,
            i.person_id,
            i.id,
        )
        for i in await session.scalars(
            select(HouseholdIncome).where(HouseholdIncome.household_id == household_id)
        )
    ]
    # assets: the latest snapshot (every row recorded on the latest as_of date)
    latest = await session.scalar(
        select(func.max(HouseholdAsset.as_of)).where(HouseholdAsset.household_id == household_id)
    )
    holdings = []
    if latest is not None:
        holdings = [
            rules.AssetHolding(a.kind, a.value_fen)
            for a in await session.scalars(
                select(HouseholdAsset).where(
                    HouseholdAsset.household_id == household_id, HouseholdAsset.as_of == latest
                )
            )
        ]
    return HouseholdFacts(household, members, incomes, holdings)


def person_facts(p: Person) -> rules.PersonFacts:
    return rules.PersonFacts(
        birth_date=p.birth_date,
        disability_category=p.disability_category,
        disability_grade=p.disability_grade,
        serious_illness=p.serious_illness,
        labour_capacity=p.labour_capacity,
        in_school=p.in_school,
        person_id=p.id,
    )


# ------------------------------------------------------------- enrolments
