"""The plugin's hook implementations: the only module the host imports when enabled."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from minzheng.core.events import HouseholdIncomeRecorded, MemberMoved, PersonChanged, PersonDied
from minzheng.core.hookspecs import Permission, Programme, SchemaContribution, hookimpl

log = logging.getLogger("minzheng.social_assistance")

#: the daily run warns this many days before deadlines reach a year the
#: working-day calendar has no rows for
CALENDAR_WARNING_DAYS = 60


@hookimpl
def register_models() -> None:
    from minzheng.plugins.social_assistance import models  # noqa: F401


@hookimpl
def contribute_schema() -> SchemaContribution:
    from minzheng.plugins.social_assistance.schema import contribution

    return contribution


@hookimpl
def create_loaders(context: Any) -> dict[str, Any]:
    from minzheng.plugins.social_assistance.schema.loaders import loaders

    return loaders(context.db)


@hookimpl
def declare_permissions() -> list[Permission]:
    return [
        Permission(
            "social_assistance:read",
            "查看社会救助案件 Read 社会救助 cases and figures",
            ("viewer", "caseworker", "approver", "integration"),
        ),
        Permission(
            "social_assistance:apply",
            "经办 Accept applications, investigate, record evidence and opinions",
            ("caseworker", "approver"),
        ),
        Permission(
            "social_assistance:confirm",
            "审核确认 Approve, refuse, review, close and terminate",
            ("approver",),
        ),
        Permission("social_assistance:fund", "备用金 Top up township reserve funds", ("approver",)),
        Permission("social_assistance:standards", "设定标准 Set standards and parameters", ()),
    ]


@hookimpl
def declare_programmes() -> list[Programme]:
    return [
        Programme("dibao", "低保", "minimum living guarantee", unit="household"),
        Programme("tekun", "特困", "extreme poverty support", unit="person"),
        Programme("temporary_assistance", "临时救助", "temporary assistance", unit="person"),
        Programme("near_poverty", "低保边缘家庭", "near-poverty household", unit="household"),
    ]


@hookimpl
async def on_household_income_recorded(event: HouseholdIncomeRecorded, session: Any) -> None:
    from minzheng.plugins.social_assistance.services import dibao, near_poverty

    today = dt.date.today()
    await dibao.on_income_recorded(session, event.household_id, today)
    await near_poverty.on_income_recorded(session, event.household_id, today)


@hookimpl
async def on_person_died(event: PersonDied, session: Any) -> None:
    from minzheng.plugins.social_assistance.services import dibao, tekun

    if event.household_id is not None:
        await dibao.on_member_left(
            session, event.person_id, event.household_id, event.died_on, "死亡"
        )
    await tekun.on_person_died(session, event.person_id, event.died_on)


@hookimpl
async def on_person_changed(event: PersonChanged, session: Any) -> None:
    from minzheng.plugins.social_assistance.services import tekun

    await tekun.on_person_changed(session, event.person_id, event.changes, dt.date.today())


@hookimpl
async def on_member_moved(event: MemberMoved, session: Any) -> None:
    from minzheng.plugins.social_assistance.services import dibao

    if event.from_household_id is not None:
        await dibao.on_member_left(
            session, event.person_id, event.from_household_id, event.on, "迁出"
        )
    if event.to_household_id is not None:
        await dibao.on_member_joined(session, event.person_id, event.to_household_id, event.on)


@hookimpl
async def seed_demo(session: Any, rng: Any, today: Any) -> None:
    from minzheng.plugins.social_assistance.demo import seed

    await seed(session, rng, today)


@hookimpl
async def run_daily(session: Any, today: dt.date) -> dict[str, int]:
    """Close phase-outs whose last month is over; give notice to 特困 minors who aged
    out; warn when deadlines will soon reach a year the holiday calendar has no
    rows for.  Overdue deadlines and reviews need nothing: ``due_on`` is compared
    with the date when read."""
    from minzheng.plugins.social_assistance.services import dibao, tekun
    from minzheng.plugins.social_assistance.services.common import calendar

    closed = await dibao.close_finished_phase_outs(session, today)
    minors = await tekun.terminate_minors_aged_out(session, today)
    missing = calendar().missing_years(today, CALENDAR_WARNING_DAYS)
    if missing:
        log.warning(
            "working-day calendar has no rows for %s: deadlines that reach into it count "
            "weekends only; add the year's public holidays and adjusted working days "
            "(MINZHENG_SOCIAL_ASSISTANCE_HOLIDAYS_FILE)",
            ", ".join(map(str, missing)),
        )
    return {
        "phase_outs_closed": len(closed),
        "minors_given_notice": len(minors),
        "calendar_years_missing": len(missing),
    }


@hookimpl
def region_figure_sources() -> list[Any]:
    from minzheng.plugins.social_assistance.figures import FIGURE_SOURCE

    return [FIGURE_SOURCE]
