"""The two subsidies through the core payroll: one payroll per subsidy, county and
month; regenerating is idempotent; approval freezes a month and later changes
become adjustments; death, transfer and suspension months are paid exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from minzheng.core import events
from minzheng.core.errors import IllegalTransition
from minzheng.core.models import PayrollLine, PayrollLineKind, PayrollStatus
from minzheng.plugins.disability import services
from minzheng.plugins.disability.rules import (
    PROGRAMME_CODES,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
)

from .conftest import RURAL_VILLAGE, RURAL_VILLAGE_2
from .helpers import D, grant_through, household_of, on_dibao, standards

payroll = pytest.importorskip("minzheng.core.payroll")

WUZHI = "410823"
QINYANG = "410882"
LIVING = PROGRAMME_CODES[Subsidy.LIVING]
CARE = PROGRAMME_CODES[Subsidy.CARE]


async def _lines(session: Any, payroll_id: int) -> list[tuple[Any, ...]]:
    rows = (
        await session.scalars(
            select(PayrollLine)
            .where(PayrollLine.payroll_id == payroll_id)
            .order_by(PayrollLine.person_id, PayrollLine.kind, PayrollLine.covers_month)
        )
    ).all()
    return [(r.id, r.person_id, r.kind, r.covers_month, r.amount_fen) for r in rows]


async def _two_recipients(registry: Any) -> tuple[Any, Any]:
    async with registry.tx(today=D(2025, 3, 25)) as s:
        await standards(s)
        a = await registry.person(s, grade=1)
        b = await registry.person(s, grade=2)
        await on_dibao(s, a)
        for subsidy in Subsidy:
            await grant_through(s, a, subsidy)  # paid from April
        await grant_through(s, b, Subsidy.CARE)
    return a, b


async def test_subsidies_are_separate_payrolls_and_regeneration_is_idempotent(registry) -> None:
    a, b = await _two_recipients(registry)
    async with registry.tx(today=D(2025, 4, 20)) as s:
        care = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 4, 1))
        living = await payroll.generate_payroll(s, LIVING, WUZHI, D(2025, 4, 1))
        assert care.created and living.created
        assert (care.payroll.line_count, care.payroll.total_fen) == (2, 16000)
        assert (living.payroll.line_count, living.payroll.total_fen) == (1, 9000)
        first = await _lines(s, care.payroll.id)
        assert [(p, k, m, amt) for _, p, k, m, amt in first] == [
            (a.id, PayrollLineKind.REGULAR, D(2025, 4, 1), 8000),
            (b.id, PayrollLineKind.REGULAR, D(2025, 4, 1), 8000),
        ]
        march = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 3, 1))
        assert march.payroll.line_count == 0  # approved in March, paid from April
    async with registry.tx(today=D(2025, 4, 21)) as s:
        again = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 4, 1))
        assert not again.created and not again.changes
        assert await _lines(s, again.payroll.id) == first


async def test_approval_freezes_and_later_changes_become_adjustments(registry) -> None:
    a, b = await _two_recipients(registry)
    async with registry.tx(today=D(2025, 4, 28)) as s:
        gen = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 4, 1))
        await payroll.approve_payroll(s, gen.payroll.id, approved_by="county")
        april = gen.payroll.id
        frozen = await _lines(s, april)
    # the death of b on 10 April is recorded in May: April was due, but b's grant
    # ends from May; a's certificate is raised, and the county's graded standard
    # from April changes what April was worth for a
    async with registry.tx(today=D(2025, 5, 5)) as s:
        person = await s.merge(b)
        person.died_on = D(2025, 4, 10)
        await s.flush()
        await events.publish(
            s, events.PersonDied(b.id, await household_of(s, person), D(2025, 4, 10))
        )
        await services.set_standard(
            s,
            region_code=WUZHI,
            subsidy=Subsidy.CARE,
            grade=1,
            effective_from=D(2025, 4, 1),
            monthly_amount_fen=12000,
        )
        with pytest.raises(IllegalTransition):
            await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 4, 1))
        may = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 5, 1))
        assert await _lines(s, april) == frozen  # the approved month is untouched
        lines = [(p, k, m, amt) for _, p, k, m, amt in await _lines(s, may.payroll.id)]
        assert sorted(lines) == [
            (a.id, PayrollLineKind.ADJUSTMENT, D(2025, 4, 1), 4000),  # 补发 for April
            (a.id, PayrollLineKind.REGULAR, D(2025, 5, 1), 12000),
        ]
        assert (await s.get(type(gen.payroll), april)).status is PayrollStatus.APPROVED


async def test_transfer_month_is_paid_once_by_the_old_county(registry) -> None:
    async with registry.tx(today=D(2025, 3, 25)) as s:
        await standards(s)
        person = await registry.person(s, region=RURAL_VILLAGE)
        await grant_through(s, person, Subsidy.CARE)
    async with registry.tx(today=D(2025, 5, 12)) as s:
        p = await s.merge(person)
        old = p.region_code
        p.place(RURAL_VILLAGE_2)
        await s.flush()
        await events.publish(s, events.PersonChanged(p.id, {"region_code": (old, RURAL_VILLAGE_2)}))
    async with registry.tx(today=D(2025, 6, 20)) as s:
        paid = {}
        for county in (WUZHI, QINYANG):
            for month in (D(2025, 5, 1), D(2025, 6, 1)):
                gen = await payroll.generate_payroll(s, CARE, county, month)
                paid[(county, month.month)] = gen.payroll.line_count
        assert paid == {(WUZHI, 5): 1, (WUZHI, 6): 0, (QINYANG, 5): 0, (QINYANG, 6): 1}


async def test_suspension_and_late_verification_through_payroll(registry) -> None:
    async with registry.tx(today=D(2025, 1, 20)) as s:
        await standards(s)
        person = await registry.person(s)
        await grant_through(
            s, person, Subsidy.CARE, submitted=D(2025, 1, 3), decided=D(2025, 1, 10)
        )
        cycle = await services.open_cycle(
            s, region_code=WUZHI, name="2025", opens_on=D(2025, 2, 1), deadline=D(2025, 3, 31)
        )
    async with registry.tx(today=D(2025, 4, 1)) as s:
        await services.suspend_overdue(s, cycle.id)
    async with registry.tx(today=D(2025, 4, 28)) as s:
        march = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 3, 1))
        april = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 4, 1))
        assert (march.payroll.line_count, april.payroll.line_count) == (1, 0)
        await payroll.approve_payroll(s, april.payroll.id, approved_by="county")
    async with registry.tx(today=D(2025, 5, 6)) as s:
        await services.record_verification(
            s,
            person_id=person.id,
            method=VerificationMethod.IN_PERSON,
            outcome=VerificationOutcome.CONFIRMED,
            verified_at=dt.datetime(2025, 5, 6, 9),
        )
        may = await payroll.generate_payroll(s, CARE, WUZHI, D(2025, 5, 1))
        lines = [(k, m, amt) for _, _, k, m, amt in await _lines(s, may.payroll.id)]
        assert sorted(lines) == [
            (PayrollLineKind.ADJUSTMENT, D(2025, 4, 1), 8000),  # back pay for April
            (PayrollLineKind.REGULAR, D(2025, 5, 1), 8000),
        ]


async def test_export_shows_each_subsidy_in_its_own_file(registry) -> None:
    await _two_recipients(registry)
    async with registry.tx(today=D(2025, 4, 20)) as s:
        files = {}
        for code in (LIVING, CARE):
            gen = await payroll.generate_payroll(s, code, WUZHI, D(2025, 4, 1))
            for fmt in payroll.ExportFormat:
                files[(code, fmt)] = await payroll.export_payroll(s, gen.payroll.id, fmt)
    care_csv = files[(CARE, payroll.ExportFormat.CSV)]
    assert care_csv.filename == f"payroll-{CARE}-{WUZHI}-2025-04.csv"
    text = care_csv.content.decode("utf-8-sig")
    assert "姓名" in text and "160.00" in text
    living_csv = files[(LIVING, payroll.ExportFormat.CSV)].content.decode("utf-8-sig")
    assert "90.00" in living_csv and "160.00" not in living_csv
    assert files[(CARE, payroll.ExportFormat.XLSX)].content[:2] == b"PK"
