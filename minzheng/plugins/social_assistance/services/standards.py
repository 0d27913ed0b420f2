"""The standards table: set a region's parameters from a date; recompute amounts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core import audit, divisions
from minzheng.core.divisions import RegionLevel
from minzheng.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from minzheng.core.models import HukouType, Region
from minzheng.plugins.social_assistance import rules
from minzheng.plugins.social_assistance.models import SocialAssistanceStandard
from minzheng.plugins.social_assistance.services import common


@dataclasses.dataclass
class StandardInput:
    region_code: str
    area: HukouType
    effective_from: dt.date
    standard: rules.Standard
    township_confirms: bool = False
    note: str | None = None


def _columns(s: rules.Standard) -> dict[str, object]:
    return {
        "dibao_fen": s.dibao_fen,
        "tekun_basic_fen": s.tekun_basic_fen,
        "care_self_sufficient_fen": s.care_fen[rules.SelfCareLevel.SELF_SUFFICIENT],
        "care_partly_dependent_fen": s.care_fen[rules.SelfCareLevel.PARTLY_DEPENDENT],
        "care_fully_dependent_fen": s.care_fen[rules.SelfCareLevel.FULLY_DEPENDENT],
        "near_poverty_multiple": s.near_poverty_multiple,
        "phase_out_multiple": s.phase_out_multiple,
        "phase_out_max_months": s.phase_out_max_months,
        "phase_out_share": s.phase_out_share,
        "employment_cost_mode": s.employment_cost.mode,
        "employment_cost_monthly_fen": s.employment_cost.monthly_fen,
        "employment_cost_share": s.employment_cost.share,
        "amount_mode": s.amount_mode,
        "tiers": [
            {"code": t.code, "income_below": str(t.income_below), "per_member": str(t.per_member)}
            for t in s.tiers
        ],
        "review_stable_months": s.review_months[rules.ReviewCategory.STABLE],
        "review_irregular_months": s.review_months[rules.ReviewCategory.IRREGULAR],
        "income_window_months": s.income_window_months,
        "dibao_asset_months": s.dibao_assets.financial_months,
        "dibao_max_vehicles": s.dibao_assets.max_vehicles,
        "dibao_max_homes": s.dibao_assets.max_homes,
        "near_poverty_asset_months": s.near_poverty_assets.financial_months,
        "near_poverty_max_vehicles": s.near_poverty_assets.max_vehicles,
        "near_poverty_max_homes": s.near_poverty_assets.max_homes,
        "temporary_mode": s.temporary.mode,
        "temporary_max_multiple": s.temporary.max_multiple,
        "temporary_per_member": s.temporary.per_member,
        "temporary_tier_multiples": [str(m) for m in s.temporary.tier_multiples],
        "temporary_case_cap_fen": s.temporary.case_cap_fen,
        "temporary_township_limit_fen": s.temporary.township_limit_fen,
        "temporary_paperwork_days": s.temporary.paperwork_working_days,
    }


def build_standard(**values: object) -> rules.Standard:
    """A :class:`rules.Standard` from input values, or a validation error naming the problem."""
    try:
        return rules.Standard(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValidationFailed("input", "standard.invalid", str(exc)) from None


async def set_standard(
    session: AsyncSession, data: StandardInput, *, today: dt.date | None = None
) -> SocialAssistanceStandard:
    """Add a standard from ``effective_from``; earlier ones stay as history.

    Active 低保 and 特困 amounts governed by it are recomputed from its date (for
    a date already past, the next payroll carries the adjustments).
    """
    today = today or dt.date.today()
    try:
        code = divisions.parse(data.region_code)
    except divisions.InvalidRegionCode as exc:
        raise ValidationFailed("input.regionCode", "region.invalid", str(exc)) from None
    if code.level not in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise ValidationFailed(
            "input.regionCode", "region.level", "standards are set per county (or below)"
        )
    if await session.get(Region, code.full) is None:
        raise NotFound("Region", code.full)
    p = common.principal(session)
    if p is not None and not p.sees(code.full):
        raise Forbidden(f"region {code.full} is outside your region")
    clash = await session.scalar(
        select(SocialAssistanceStandard.id).where(
            SocialAssistanceStandard.region_code == code.full,
            SocialAssistanceStandard.area == data.area,
            SocialAssistanceStandard.effective_from == data.effective_from,
        )
    )
    if clash is not None:
        raise Conflict(
            f"a {data.area.value} standard for {code.full} from {data.effective_from} exists; "
            "standards are history: set a new one from a later date"
        )
    row = SocialAssistanceStandard(
        region_code=code.full,
        area=data.area,
        effective_from=data.effective_from,
        township_confirms=data.township_confirms,
        note=data.note,
        created_by=common.actor(session),
        **_columns(data.standard),
    )
    session.add(row)
    await session.flush()
    after = {
        k: str(v) if isinstance(v, Decimal) else v for k, v in (audit.snapshot(row) or {}).items()
    }
    audit.record(
        session,
        action="social_assistance.standard.set",
        entity=row,
        region_code=code.full,
        after=after,
    )
    from minzheng.plugins.social_assistance.services import dibao, tekun

    await dibao.recompute_for_standard(session, row, today=today)
    await tekun.recompute_for_standard(session, row, today=today)
    return row
