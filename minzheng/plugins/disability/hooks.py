"""The disability plugin's hook implementations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minzheng.core.hookspecs import Permission, Programme, SchemaContribution, hookimpl
from minzheng.plugins.disability.rules import PROGRAMME_CODES, SUBSIDY_TITLES, Subsidy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from minzheng.core.events import EnrolmentChanged, MemberMoved, PersonChanged, PersonDied


@hookimpl
def register_models() -> None:
    from minzheng.plugins.disability import models  # noqa: F401


@hookimpl
def contribute_schema() -> SchemaContribution:
    from minzheng.plugins.disability.schema import contribution

    return contribution()


@hookimpl
def create_loaders(context: Any) -> dict[str, Any]:
    from minzheng.plugins.disability.schema.loaders import create

    return create(context)


@hookimpl
def declare_programmes() -> list[Programme]:
    return [
        Programme(
            code=PROGRAMME_CODES[Subsidy.LIVING],
            title=SUBSIDY_TITLES[Subsidy.LIVING],
            title_en="Living subsidy for disabled people in difficulty",
        ),
        Programme(
            code=PROGRAMME_CODES[Subsidy.CARE],
            title=SUBSIDY_TITLES[Subsidy.CARE],
            title_en="Care subsidy for severely disabled people",
        ),
    ]


@hookimpl
def declare_permissions() -> list[Permission]:
    return [
        Permission(
            "disability:read",
            "查看残疾人补贴与服务 Read disability subsidies, verification and services",
            ("caseworker", "approver", "integration"),
        ),
        Permission(
            "disability:apply",
            "乡镇受理 Submit, accept and withdraw applications (township)",
            ("caseworker", "approver"),
        ),
        Permission(
            "disability:review",
            "县残联审核 Review applications (county disabled persons' federation)",
            ("approver",),
        ),
        Permission(
            "disability:decide",
            "县民政审批 Decide applications, manage grants and verification cycles",
            ("approver",),
        ),
        Permission(
            "disability:standards",
            "补贴标准 Set subsidy standards (dynamic adjustment)",
            ("approver",),
        ),
        Permission(
            "disability:verify",
            "生存验证 Record and import survival-verification results",
            ("caseworker", "approver", "integration"),
        ),
        Permission(
            "disability:services",
            "照护服务与社区康复 Care services and community rehabilitation",
            ("caseworker", "approver"),
        ),
    ]


@hookimpl
async def run_daily(session: AsyncSession, today: Any) -> dict[str, int]:
    """Suspend grants whose holders were not verified by their cycle's deadline."""
    from minzheng.plugins.disability import services

    session.info.setdefault("today", today)
    return await services.sweep_due_cycles(session, today)


@hookimpl
async def seed_demo(session: AsyncSession, rng: Any, today: Any) -> None:
    from minzheng.plugins.disability.demo import seed

    await seed(session, rng, today)


@hookimpl
def register_commands(cli: Any) -> None:
    from minzheng.plugins.disability.commands import disability

    cli.add_command(disability)


@hookimpl
async def on_person_died(event: PersonDied, session: AsyncSession) -> None:
    from minzheng.plugins.disability import services

    await services.person_died(session, event.person_id, event.died_on)


@hookimpl
async def on_person_changed(event: PersonChanged, session: AsyncSession) -> None:
    from minzheng.plugins.disability import services

    await services.person_changed(session, event.person_id, dict(event.changes))


@hookimpl
async def on_member_moved(event: MemberMoved, session: AsyncSession) -> None:
    from minzheng.plugins.disability import services

    await services.member_moved(session, event.person_id)


@hookimpl
async def on_enrolment_changed(event: EnrolmentChanged, session: AsyncSession) -> None:
    if event.programme in PROGRAMME_CODES.values():
        return
    from minzheng.plugins.disability import services

    await services.enrolment_changed(
        session,
        programme=event.programme,
        person_id=event.person_id,
        household_id=event.household_id,
    )


@hookimpl
def region_figure_sources() -> list[Any]:
    from minzheng.core.figures import FigureSource
    from minzheng.plugins.disability import queries
    from minzheng.plugins.disability.settings import get_policy

    return [
        FigureSource(
            queries.FIGURE_SOURCE_NAME,
            lambda on, where: queries.figure_statements(get_policy(), on, where),
            "残疾人两项补贴 recipients and totals, verification, suspensions, discovery",
            settings=get_policy,
        )
    ]
