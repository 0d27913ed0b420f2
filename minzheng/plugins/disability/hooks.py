"""The disability plugin's hook implementations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minzheng.core.hookspecs import Permission, Programme, hookimpl
from minzheng.plugins.disability.rules import PROGRAMME_CODES, SUBSIDY_TITLES, Subsidy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from minzheng.core.events import EnrolmentChanged, PersonChanged, PersonDied


@hookimpl
def register_models() -> None:
    from minzheng.plugins.disability import models  # noqa: F401


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
            "查看残疾人补贴与服务 read disability records",
            ("caseworker", "officer", "admin"),
        ),
        Permission(
            "disability:apply",
            "受理残疾人两项补贴申请 accept applications (township)",
            ("caseworker", "officer", "admin"),
        ),
        Permission(
            "disability:review",
            "县残联审核 review applications (disabled persons' federation)",
            ("officer", "admin"),
        ),
        Permission(
            "disability:decide",
            "县民政审批 decide applications and manage grants (civil affairs)",
            ("officer", "admin"),
        ),
        Permission("disability:standards", "设定补贴标准 set subsidy standards", ("admin",)),
        Permission(
            "disability:verify",
            "生存验证 record and import verification results",
            ("caseworker", "officer", "admin"),
        ),
        Permission(
            "disability:services",
            "照护服务与社区康复 care services and rehabilitation",
            ("caseworker", "officer", "admin"),
        ),
    ]


@hookimpl
async def on_person_died(event: PersonDied, session: AsyncSession) -> None:
    from minzheng.plugins.disability import services

    await services.person_died(session, event.person_id, event.died_on)


@hookimpl
async def on_person_changed(event: PersonChanged, session: AsyncSession) -> None:
    from minzheng.plugins.disability import services

    await services.person_changed(session, event.person_id, dict(event.changes))


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
