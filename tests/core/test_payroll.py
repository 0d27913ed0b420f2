"""Core payroll on a real SQLite file: generation, idempotent drafts, approval,
adjustment lines for approved months, and the exports read back."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pluggy
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minzheng.core import hookspecs, payroll
from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.enrolments import set_enrolment
from minzheng.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from minzheng.core.idnumber import Sex, make_id_number
from minzheng.core.models import (
    EnrolmentStatus,
    Household,
    HukouType,
    Membership,
    Payroll,
    PayrollLine,
    PayrollLineKind,
    PayrollStatus,
    Person,
    Relation,
)
from minzheng.core.scope import SYSTEM, Principal

D = dt.date
COUNTY = "410823000000"  # 武陟县
TOWN = "410823101000"  # 詹店镇
VILLAGE = "410823101201"
VILLAGE2 = "410823101202"
OTHER_COUNTY = "410822000000"
OTHER_VILLAGE = "410822101201"  # 博爱县 柏山镇
MARCH, APRIL, MAY, JUNE = D(2025, 3, 1), D(2025, 4, 1), D(2025, 5, 1), D(2025, 6, 1)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A freshly migrated database (SQLite file; PostgreSQL too when configured)."""
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


_seq = iter(range(1, 999))


async def household(s: AsyncSession, village: str, names: list[str]) -> tuple[int, list[int]]:
    """A household with members; the first is the head."""
    n = next(_seq)
    hh = Household(number=f"HH{n:05d}", hukou_type=HukouType.RURAL)
    hh.place(village)
    s.add(hh)
    await s.flush()
    ids = []
    for i, name in enumerate(names):
        birth = D(1960 + i, 1, 1)
        p = Person(
            id_number=make_id_number(village[:6], birth, (2 * n + i) % 1000),
            name=name,
            sex=Sex.MALE,
            birth_date=birth,
        )
        p.place(village)
        s.add(p)
        await s.flush()
        s.add(
            Membership(
                household_id=hh.id,
                person_id=p.id,
                relation=Relation.HEAD if i == 0 else Relation.CHILD,
                joined_on=D(2000, 1, 1),
            )
        )
        ids.append(p.id)
    hh.head_person_id = ids[0]
    await s.flush()
    return hh.id, ids


async def enrol(
    s: AsyncSession,
    *,
    hh: int | None = None,
    person: int | None = None,
    programme: str = "dibao",
    status: EnrolmentStatus = EnrolmentStatus.ACTIVE,
    amount: int = 0,
    start: dt.date,
    region: str = VILLAGE,
) -> None:
    await set_enrolment(
        s,
        programme=programme,
        region_code=region,
        status=status,
        effective_from=start,
        monthly_amount_fen=amount,
        person_id=person,
        household_id=hh,
    )


async def lines_of(s: AsyncSession, payroll_id: int) -> list[tuple[Any, ...]]:
    rows = await s.execute(
        select(
            PayrollLine.household_id,
            PayrollLine.person_id,
            PayrollLine.kind,
            PayrollLine.covers_month,
            PayrollLine.amount_fen,
        )
        .where(PayrollLine.payroll_id == payroll_id)
        .order_by(
            PayrollLine.kind,
            PayrollLine.household_id,
            PayrollLine.person_id,
            PayrollLine.covers_month,
        )
    )
    return [tuple(r) for r in rows]


@pytest.fixture
async def town(db: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Households in and around 武陟县 with enrolments of several kinds."""
    async with transaction(db, principal=SYSTEM) as s:
        a, (a_head, _) = await household(s, VILLAGE, ["甲一", "甲二"])
        b, _ = await household(s, VILLAGE2, ["乙一"])
        c, _ = await household(s, VILLAGE, ["丙一"])
        d, _ = await household(s, VILLAGE, ["丁一"])
        e, _ = await household(s, OTHER_VILLAGE, ["戊一"])
        f, _ = await household(s, VILLAGE, ["己一"])
        g, (g_person,) = await household(s, VILLAGE, ["庚一"])
        await enrol(s, hh=a, amount=60_000, start=D(2025, 1, 1))
        await enrol(
            s,
            hh=b,
            amount=35_000,
            start=D(2025, 2, 1),
            region=VILLAGE2,
            status=EnrolmentStatus.PHASE_OUT,
        )
        await enrol(
            s, hh=c, amount=20_000, start=D(2025, 1, 1), status=EnrolmentStatus.SUSPENDED
        )  # not paid
        await enrol(s, hh=d, amount=10_000, start=D(2025, 4, 1))  # starts after March
        await enrol(s, hh=e, amount=50_000, start=D(2025, 1, 1), region=OTHER_VILLAGE)
        await enrol(s, hh=f, amount=45_000, start=D(2025, 1, 1))
        await enrol(s, hh=f, status=EnrolmentStatus.ENDED, start=D(2025, 3, 21))  # ends 20 Mar
        await enrol(s, person=g_person, programme="tekun", amount=90_000, start=D(2025, 1, 1))
    return {
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "e": e,
        "f": f,
        "g": g,
        "g_person": g_person,
        "a_head": a_head,
    }


# ------------------------------------------------------------------ generation


async def test_generate_pays_rows_in_force_on_the_last_day(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        gen = await payroll.generate_payroll(s, "dibao", COUNTY, D(2025, 3, 17))
        assert gen.created and gen.changed
        p = gen.payroll
        assert (p.month, p.status, p.region_code) == (MARCH, PayrollStatus.DRAFT, COUNTY)
        assert await lines_of(s, p.id) == [
            (town["a"], None, PayrollLineKind.REGULAR, MARCH, 60_000),
            (town["b"], None, PayrollLineKind.REGULAR, MARCH, 35_000),
        ]
        assert (p.line_count, p.total_fen) == (2, 95_000)
        assert {c.change for c in gen.changes} == {payroll.ChangeKind.ADDED}
        # lines sit in their villages (for region scope); the payroll in the county
        regions = set(
            await s.scalars(select(PayrollLine.region_code).where(PayrollLine.payroll_id == p.id))
        )
        assert regions == {VILLAGE, VILLAGE2}

        tekun = await payroll.generate_payroll(s, "tekun", COUNTY, MARCH)
        assert await lines_of(s, tekun.payroll.id) == [
            (None, town["g_person"], PayrollLineKind.REGULAR, MARCH, 90_000)
        ]


async def test_a_change_mid_month_pays_the_new_amount(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        await enrol(s, hh=town["a"], amount=40_000, start=D(2025, 3, 15))
        await enrol(s, hh=town["d"], amount=12_000, start=D(2025, 3, 31))  # from the last day
        gen = await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)
        got = {hh: amt for hh, _, _, _, amt in await lines_of(s, gen.payroll.id)}
        assert got[town["a"]] == 40_000
        # d's earlier row (from April) was superseded before it took effect
        assert got[town["d"]] == 12_000


async def test_regenerating_an_unchanged_draft_changes_nothing(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        first = await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)
        ids = list(await s.scalars(select(PayrollLine.id).order_by(PayrollLine.id)))
        version, generated_at = first.payroll.version, first.payroll.generated_at
    async with transaction(db, principal=SYSTEM) as s:
        again = await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)
        assert not again.created and not again.changed and again.changes == []
        assert list(await s.scalars(select(PayrollLine.id).order_by(PayrollLine.id))) == ids
        assert again.payroll.version == version
        assert again.payroll.generated_at.replace(tzinfo=None) == generated_at.replace(tzinfo=None)


async def test_regenerating_reports_what_changed(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)
    async with transaction(db, principal=SYSTEM) as s:
        await enrol(s, hh=town["a"], amount=55_000, start=D(2025, 3, 1))  # amount changed
        await enrol(s, hh=town["b"], status=EnrolmentStatus.ENDED, start=D(2025, 3, 1))
        await enrol(s, hh=town["c"], amount=20_000, start=D(2025, 3, 1))  # resumed
        gen = await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)
        changes = {
            (c.household_id, c.change, c.old_amount_fen, c.new_amount_fen) for c in gen.changes
        }
        assert changes == {
            (town["a"], payroll.ChangeKind.CHANGED, 60_000, 55_000),
            (town["b"], payroll.ChangeKind.REMOVED, 35_000, None),
            (town["c"], payroll.ChangeKind.ADDED, None, 20_000),
        }
        assert (gen.payroll.line_count, gen.payroll.total_fen) == (2, 75_000)
        assert await s.scalar(select(func.count()).select_from(PayrollLine)) == 2


# ------------------------------------------------------------ approval, adjustments


async def test_approved_payrolls_are_frozen_and_corrected_later(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        march = (await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)).payroll
        await payroll.approve_payroll(s, march.id, approved_by="county-officer")
        assert march.status == PayrollStatus.APPROVED and march.approved_by == "county-officer"
        frozen = await lines_of(s, march.id)

    # a retroactive correction for March: a raised from 600 to 650, c resumed from March,
    # b's phase-out found to have ended in February (paid 350 too much)
    async with transaction(db, principal=SYSTEM) as s:
        await enrol(s, hh=town["a"], amount=65_000, start=D(2025, 3, 1))
        await enrol(s, hh=town["c"], amount=20_000, start=D(2025, 3, 1))
        await enrol(s, hh=town["b"], status=EnrolmentStatus.ENDED, start=D(2025, 3, 1))
        with pytest.raises(IllegalTransition):
            await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)
        assert await lines_of(s, march.id) == frozen  # never rewritten

        april = (await payroll.generate_payroll(s, "dibao", COUNTY, APRIL)).payroll
        got = await lines_of(s, april.id)
        assert got == [
            (town["a"], None, PayrollLineKind.ADJUSTMENT, MARCH, 5_000),
            (town["b"], None, PayrollLineKind.ADJUSTMENT, MARCH, -35_000),
            (town["c"], None, PayrollLineKind.ADJUSTMENT, MARCH, 20_000),
            (town["a"], None, PayrollLineKind.REGULAR, APRIL, 65_000),
            (town["c"], None, PayrollLineKind.REGULAR, APRIL, 20_000),
            (town["d"], None, PayrollLineKind.REGULAR, APRIL, 10_000),
        ]
        note = await s.scalar(
            select(PayrollLine.note).where(
                PayrollLine.payroll_id == april.id,
                PayrollLine.household_id == town["a"],
                PayrollLine.kind == PayrollLineKind.ADJUSTMENT,
            )
        )
        assert note == "补发 2025年03月：应发 650.00 元，已发 600.00 元"
        assert april.total_fen == 5_000 - 35_000 + 20_000 + 65_000 + 20_000 + 10_000
        await payroll.approve_payroll(s, april.id, approved_by="county-officer")

    # once paid, the adjustment is not repeated
    async with transaction(db, principal=SYSTEM) as s:
        may = (await payroll.generate_payroll(s, "dibao", COUNTY, MAY)).payroll
        kinds = {k for _, _, k, _, _ in await lines_of(s, may.id)}
        assert kinds == {PayrollLineKind.REGULAR}

    # a second correction for March after April's adjustment: only the new difference
    async with transaction(db, principal=SYSTEM) as s:
        await enrol(s, hh=town["a"], amount=70_000, start=D(2025, 3, 1))
        may = (await payroll.generate_payroll(s, "dibao", COUNTY, MAY)).payroll
        adjustments = [x for x in await lines_of(s, may.id) if x[2] == PayrollLineKind.ADJUSTMENT]
        assert adjustments == [
            (town["a"], None, PayrollLineKind.ADJUSTMENT, MARCH, 5_000),
            (town["a"], None, PayrollLineKind.ADJUSTMENT, APRIL, 5_000),
        ]


async def test_approve_refuses_and_writes_nothing(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        p = (await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)).payroll
        pid, version = p.id, p.version
    # stale version
    with pytest.raises(Conflict) as stale:
        async with transaction(db, principal=SYSTEM) as s:
            await payroll.approve_payroll(s, pid, approved_by="x", expected_version=version + 1)
    assert stale.value.current_version == version
    # enrolments changed since generation: regenerate first
    async with transaction(db, principal=SYSTEM) as s:
        await enrol(s, hh=town["a"], amount=1, start=D(2025, 3, 1))
    with pytest.raises(Conflict, match="out of date"):
        async with transaction(db, principal=SYSTEM) as s:
            await payroll.approve_payroll(s, pid, approved_by="x")
    with pytest.raises(NotFound):
        async with transaction(db, principal=SYSTEM) as s:
            await payroll.approve_payroll(s, 9999, approved_by="x")
    async with transaction(db, principal=SYSTEM) as s:
        still = await s.get(Payroll, pid)
        assert still is not None
        assert (still.status, still.approved_by, still.approved_at) == (
            PayrollStatus.DRAFT,
            None,
            None,
        )
        await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)
        await payroll.approve_payroll(s, pid, approved_by="x")
    with pytest.raises(IllegalTransition):
        async with transaction(db, principal=SYSTEM) as s:
            await payroll.approve_payroll(s, pid, approved_by="y")
    async with transaction(db, principal=SYSTEM) as s:
        assert (await s.get(Payroll, pid)).approved_by == "x"  # type: ignore[union-attr]


async def test_bad_targets_are_refused(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        with pytest.raises(ValidationFailed) as bad:
            await payroll.generate_payroll(s, "dibao", "41082x", MARCH)
        assert bad.value.field == "regionCode"
        with pytest.raises(NotFound):
            await payroll.generate_payroll(s, "dibao", "410899000000", MARCH)
        assert await s.scalar(select(func.count()).select_from(Payroll)) == 0


class _Declares:
    @hookspecs.hookimpl
    def declare_programmes(self) -> list[hookspecs.Programme]:
        return [
            hookspecs.Programme("dibao", "低保", "minimum living guarantee", "household"),
            hookspecs.Programme(
                "tekun", "特困", "extreme poverty", "person", payroll_level="township"
            ),
        ]


async def test_programmes_are_checked_against_the_plugins(db, town) -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs.Spec)
    manager.register(_Declares())
    async with transaction(db, principal=SYSTEM, plugins=manager) as s:
        with pytest.raises(ValidationFailed) as unknown:
            await payroll.generate_payroll(s, "no_such", COUNTY, MARCH)
        assert (unknown.value.field, unknown.value.code) == ("programme", "unknown")
        with pytest.raises(ValidationFailed) as level:
            await payroll.generate_payroll(s, "tekun", COUNTY, MARCH)
        assert level.value.code == "level"
        ok = await payroll.generate_payroll(s, "tekun", TOWN, MARCH)
        assert ok.payroll.line_count == 1
        assert (await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)).payroll.line_count == 2


async def test_region_scope_applies(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        pid = (await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)).payroll.id
    other = Principal(subject="boai", region="410822")
    async with transaction(db, principal=other) as s:
        with pytest.raises(NotFound):
            await payroll.approve_payroll(s, pid, approved_by="boai")
        assert await s.scalar(select(func.count()).select_from(PayrollLine)) == 0


# ---------------------------------------------------------------------- export


async def test_csv_export_reads_back(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        pid = (await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)).payroll.id
        f = await payroll.export_payroll(s, pid, payroll.ExportFormat.CSV)
        full = await payroll.export_payroll(s, pid, payroll.ExportFormat.CSV, unmasked=True)
        head = await s.get(Person, town["a_head"])
    assert f.filename == "payroll-dibao-410823-2025-03.csv"
    assert f.media_type.startswith("text/csv")
    assert f.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(f.content.decode("utf-8-sig"))))
    assert rows[0] == list(payroll.HEADINGS)
    assert rows[0][:6] == ["序号", "乡镇（街道）", "村（社区）", "户编号", "姓名", "公民身份号码"]
    assert rows[1][1:3] == ["詹店镇", "詹店镇第1村委会"]
    assert rows[1][4] == "甲一"  # a household line names the head
    assert rows[1][5] == head.id_number[:6] + "********" + head.id_number[14:]
    assert rows[1][6:9] == ["正常发放", "2025-03", "600.00"]
    assert rows[2][2] == "詹店镇第2村委会" and rows[2][8] == "350.00"
    assert rows[-1][0] == "合计" and rows[-1][4] == "2 笔" and rows[-1][8] == "950.00"
    full_rows = list(csv.reader(io.StringIO(full.content.decode("utf-8-sig"))))
    assert full_rows[1][5] == head.id_number


async def test_xlsx_export_reads_back(db, town) -> None:
    async with transaction(db, principal=SYSTEM) as s:
        march = (await payroll.generate_payroll(s, "dibao", COUNTY, MARCH)).payroll
        await payroll.approve_payroll(s, march.id, approved_by="x")
        await enrol(s, hh=town["a"], amount=65_000, start=D(2025, 3, 1))
        april = (await payroll.generate_payroll(s, "dibao", COUNTY, APRIL)).payroll
        f = await payroll.export_payroll(s, april.id, payroll.ExportFormat.XLSX, unmasked=True)
        tekun = (await payroll.generate_payroll(s, "tekun", COUNTY, APRIL)).payroll
        t = await payroll.export_payroll(s, tekun.id, payroll.ExportFormat.XLSX)
    assert f.filename.endswith("2025-04.xlsx")
    assert f.media_type == payroll.MEDIA_TYPES[payroll.ExportFormat.XLSX]
    wb = load_workbook(io.BytesIO(f.content))
    ws = wb["发放名册"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == list(payroll.HEADINGS)
    body = values[1:-1]
    # by village and household: a's regular line, then its adjustment for March;
    # d (starts in April) in the same village; b in the next village
    assert [(r[4], r[6], r[7], Decimal(str(r[8]))) for r in body] == [
        ("甲一", "正常发放", "2025-04", Decimal("650.00")),
        ("甲一", "补发/扣减", "2025-03", Decimal("50.00")),
        ("丁一", "正常发放", "2025-04", Decimal("100.00")),
        ("乙一", "正常发放", "2025-04", Decimal("350.00")),
    ]
    assert body[1][9] == "补发 2025年03月：应发 650.00 元，已发 600.00 元"
    assert [r[0] for r in body] == [1, 2, 3, 4]
    assert values[-1][0] == "合计" and Decimal(str(values[-1][8])) == Decimal("1150.00")
    assert ws["I2"].number_format == "0.00"
    # a person line names the person
    tw = load_workbook(io.BytesIO(t.content))["发放名册"]
    assert tw["E2"].value == "庚一" and "*" in tw["F2"].value
