"""Survival verification: cycles, the deadline sweep, late verification, bulk import."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from minzheng.core.errors import Conflict, NotFound, ValidationFailed
from minzheng.plugins.disability import imports, services
from minzheng.plugins.disability.models import (
    DisabilityGrant,
    DisabilityVerification,
    SuspensionReason,
)
from minzheng.plugins.disability.rules import (
    DisabilityPolicy,
    GrantStatus,
    Subsidy,
    VerificationMethod,
    VerificationOutcome,
)

from .helpers import D, count, grant_through, paid, standards

T = dt.datetime
CYCLE = {
    "region_code": "410823",
    "name": "2025年度生存验证",
    "opens_on": D(2025, 4, 1),
    "deadline": D(2025, 5, 15),
}


async def _recipients(registry, n: int = 3):
    async with registry.tx() as s:
        await standards(s)
        people = [await registry.person(s) for _ in range(n)]
        grants = [
            await grant_through(s, p, Subsidy.CARE, submitted=D(2025, 1, 3), decided=D(2025, 1, 10))
            for p in people
        ]
        cycle = await services.open_cycle(s, **CYCLE)
    return people, grants, cycle


async def test_cycle_errors(registry) -> None:
    async with registry.tx() as s:
        await services.open_cycle(s, **CYCLE)
        with pytest.raises(Conflict, match="overlaps"):
            await services.open_cycle(
                s, **{**CYCLE, "opens_on": D(2025, 5, 1), "deadline": D(2025, 6, 30)}
            )
        with pytest.raises(ValidationFailed, match="deadline"):
            await services.open_cycle(
                s, **{**CYCLE, "opens_on": D(2026, 5, 1), "deadline": D(2026, 4, 1)}
            )
        with pytest.raises(ValidationFailed):
            await services.open_cycle(s, **{**CYCLE, "name": " "})
        # another county may run its own cycle on the same dates
        await services.open_cycle(s, **{**CYCLE, "region_code": "410882"})


async def test_sweep_suspends_unverified_and_late_verification_resumes(registry) -> None:
    (a, b, c), (ga, gb, gc), cycle = await _recipients(registry)
    async with registry.tx(today=D(2025, 5, 10)) as s:
        await services.record_verification(
            s,
            person_id=a.id,
            method=VerificationMethod.FACE_RECOGNITION,
            outcome=VerificationOutcome.CONFIRMED,
            verified_at=T(2025, 4, 20, 9, 30),
        )
        # a failed face match does not count
        await services.record_verification(
            s,
            person_id=b.id,
            method=VerificationMethod.FACE_RECOGNITION,
            outcome=VerificationOutcome.FAILED,
            verified_at=T(2025, 4, 21, 9, 30),
        )
        # a newcomer approved inside the window is exempt
        newcomer = await registry.person(s)
        gn = await grant_through(
            s, newcomer, Subsidy.CARE, submitted=D(2025, 4, 2), decided=D(2025, 4, 20)
        )
        with pytest.raises(ValidationFailed, match="not passed"):
            await services.suspend_overdue(s, cycle.id)
    async with registry.tx(today=D(2025, 5, 16)) as s:
        suspended = await services.suspend_overdue(s, cycle.id)
        assert sorted(g.id for g in suspended) == sorted([gb.id, gc.id])
        # idempotent
        assert await services.suspend_overdue(s, cycle.id) == []
    async with registry.tx() as s:
        for grant, status in (
            (ga, GrantStatus.ACTIVE),
            (gb, GrantStatus.SUSPENDED),
            (gc, GrantStatus.SUSPENDED),
            (gn, GrantStatus.ACTIVE),
        ):
            g = await s.get(DisabilityGrant, grant.id)
            assert g.status is status
        g = await s.get(DisabilityGrant, gb.id)
        assert g.suspended_from == D(2025, 6, 1)
        assert g.suspension_reason is SuspensionReason.VERIFICATION_OVERDUE
        # the deadline's month is paid, the following month is not
        assert await paid(s, b.id, Subsidy.CARE, D(2025, 5, 1)) is not None
        assert await paid(s, b.id, Subsidy.CARE, D(2025, 6, 1)) is None
    # b verifies late, on 5 July: back pay restores June
    async with registry.tx(today=D(2025, 7, 5)) as s:
        _, created = await services.record_verification(
            s,
            person_id=b.id,
            method=VerificationMethod.IN_PERSON,
            outcome=VerificationOutcome.CONFIRMED,
            verified_at=T(2025, 7, 5, 10),
        )
        assert created
        g = await s.get(DisabilityGrant, gb.id)
        assert g.status is GrantStatus.ACTIVE and g.suspended_from is None
        for m in (5, 6, 7, 8):
            assert await paid(s, b.id, Subsidy.CARE, D(2025, m, 1)) is not None
    # c verifies late too, where there is no back pay: July paid, June not
    no_back_pay = DisabilityPolicy(back_pay_on_late_verification=False)
    async with registry.tx(today=D(2025, 7, 5), disability_policy=no_back_pay) as s:
        await services.record_verification(
            s,
            person_id=c.id,
            method=VerificationMethod.DATA_COMPARISON,
            outcome=VerificationOutcome.CONFIRMED,
            verified_at=T(2025, 7, 5, 10),
        )
        assert await paid(s, c.id, Subsidy.CARE, D(2025, 6, 1)) is None
        assert await paid(s, c.id, Subsidy.CARE, D(2025, 7, 1)) is not None


async def test_verification_reporting_death_suspends_and_flags(registry) -> None:
    (a, *_), (ga, *_), _ = await _recipients(registry, 1)
    async with registry.tx() as s:
        await services.record_verification(
            s,
            person_id=a.id,
            method=VerificationMethod.DATA_COMPARISON,
            outcome=VerificationOutcome.DECEASED,
            verified_at=T(2025, 6, 2, 8),
        )
        g = await s.get(DisabilityGrant, ga.id)
        assert g.status is GrantStatus.SUSPENDED
        assert g.suspension_reason is SuspensionReason.REPORTED_DECEASED
        assert g.review_flag and "death" in g.review_reason
        assert await paid(s, a.id, Subsidy.CARE, D(2025, 6, 1)) is not None
        assert await paid(s, a.id, Subsidy.CARE, D(2025, 7, 1)) is None


async def test_same_result_twice_is_recorded_once(registry) -> None:
    (a, *_), _, cycle = await _recipients(registry, 1)
    kwargs = dict(
        person_id=a.id,
        method=VerificationMethod.FACE_RECOGNITION,
        outcome=VerificationOutcome.CONFIRMED,
        verified_at=T(2025, 4, 20, 9, 30),
    )
    async with registry.tx() as s:
        first, created = await services.record_verification(s, **kwargs)
        assert created and first.cycle_id == cycle.id
        again, created = await services.record_verification(s, **kwargs)
        assert not created and again.id == first.id
        with pytest.raises(Conflict):
            await services.record_verification(
                s, **{**kwargs, "outcome": VerificationOutcome.FAILED}
            )
        with pytest.raises(NotFound):
            await services.record_verification(s, **{**kwargs, "person_id": 999_999})
        with pytest.raises(ValidationFailed, match="future"):
            await services.record_verification(s, **{**kwargs, "verified_at": T(2026, 1, 1)})
        assert await count(s, DisabilityVerification) == 1


# --------------------------------------------------------------------- import


def _csv(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in rows) + "\n").encode("utf-8-sig")


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["身份证号", "姓名", "验证方式", "验证结果", "验证时间", "备注"]


def _file_rows(a, b) -> list[list[str]]:
    return [
        HEADER,
        [a.id_number, a.name, "人脸识别", "通过", "2025-04-20 09:30:00", ""],  # line 2 good
        ["410823197005010011", "", "人脸识别", "通过", "2025-04-20", ""],  # 3 bad checksum
        [b.id_number, "别人", "人脸识别", "通过", "2025-04-20", ""],  # 4 name mismatch
        [b.id_number, b.name, "刷脸", "通过", "2025-04-20", ""],  # 5 unknown method
        ["", "", "", "", "", ""],  # blank: skipped, still counts as a line
        [b.id_number, b.name, "数据比对", "通过", "2025/04/22", "批量比对"],  # 7 good
        [b.id_number, b.name, "数据比对", "通过", "2025/04/22", ""],  # 8 repeats line 7
        [b.id_number, b.name, "数据比对", "通过", "someday", ""],  # 9 bad time
        [b.id_number, b.name, "数据比对", "通过", "2031-01-01", ""],  # 10 future
        ["11010519491231002X", "", "人脸识别", "通过", "2025-04-20", ""],  # 11 not registered
    ]


EXPECTED_LINES = [3, 4, 5, 8, 9, 10, 11]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_import_reports_bad_rows_and_applies_good_ones(registry, fmt: str) -> None:
    (a, b), _, _ = await _recipients(registry, 2)
    rows = _file_rows(a, b)
    content = _csv(rows) if fmt == "csv" else _xlsx(rows)
    async with registry.tx() as s:
        report = await imports.import_verifications(s, content, filename=f"result.{fmt}")
    assert report.rows == 9  # the blank line is skipped
    assert report.applied == 2 and report.unchanged == 0 and not report.refused
    assert [e.line for e in report.errors] == EXPECTED_LINES
    reasons = {e.line: e.reason for e in report.errors}
    assert "check character" in reasons[3]
    assert "name" in reasons[4]
    assert "刷脸" in reasons[5]
    assert "repeats line 7" in reasons[8]
    assert "someday" in reasons[9]
    assert "future" in reasons[10]
    assert "no such person" in reasons[11]
    async with registry.tx() as s:
        got = await s.scalars(select(DisabilityVerification).order_by(DisabilityVerification.id))
        got = got.all()
        assert [(v.person_id, v.method, v.source) for v in got] == [
            (a.id, VerificationMethod.FACE_RECOGNITION, f"import:result.{fmt}"),
            (b.id, VerificationMethod.DATA_COMPARISON, f"import:result.{fmt}"),
        ]
        assert got[1].note == "批量比对"
    # importing the same file again changes nothing
    async with registry.tx() as s:
        again = await imports.import_verifications(s, content, filename=f"result.{fmt}")
        assert again.applied == 0 and again.unchanged == 2
        assert await count(s, DisabilityVerification) == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_import_all_or_nothing_refuses_whole_file(registry, fmt: str) -> None:
    (a, b), _, _ = await _recipients(registry, 2)
    rows = _file_rows(a, b)
    content = _csv(rows) if fmt == "csv" else _xlsx(rows)
    async with registry.tx() as s:
        report = await imports.import_verifications(
            s, content, file_format=fmt, all_or_nothing=True
        )
    assert report.refused and report.applied == 0
    assert [e.line for e in report.errors] == EXPECTED_LINES
    async with registry.tx() as s:
        assert await count(s, DisabilityVerification) == 0
    # a clean file in all-or-nothing mode goes in whole
    clean = [rows[0], rows[1], rows[6]]
    async with registry.tx() as s:
        report = await imports.import_verifications(
            s, _csv(clean), file_format="csv", all_or_nothing=True
        )
        assert report.applied == 2 and not report.errors and not report.refused


async def test_import_all_or_nothing_rolls_back_on_apply_error(registry) -> None:
    (a, b), _, _ = await _recipients(registry, 2)
    async with registry.tx() as s:
        await services.record_verification(
            s,
            person_id=b.id,
            method=VerificationMethod.FACE_RECOGNITION,
            outcome=VerificationOutcome.FAILED,
            verified_at=T(2025, 4, 20, 9, 30),
        )
    rows = [
        HEADER,
        [a.id_number, a.name, "人脸识别", "通过", "2025-04-20 09:30:00", ""],
        # conflicts with the stored FAILED result at the same time and method
        [b.id_number, b.name, "人脸识别", "通过", "2025-04-20 09:30:00", ""],
    ]
    async with registry.tx() as s:
        report = await imports.import_verifications(s, _csv(rows), all_or_nothing=True)
    assert report.refused and [e.line for e in report.errors] == [3]
    async with registry.tx() as s:
        assert await count(s, DisabilityVerification) == 1
    async with registry.tx() as s:
        report = await imports.import_verifications(s, _csv(rows))
    assert report.applied == 1 and [e.line for e in report.errors] == [3]
    async with registry.tx() as s:
        assert await count(s, DisabilityVerification) == 2


async def test_late_import_resumes_suspended_grant(registry) -> None:
    (a,), (ga,), cycle = await _recipients(registry, 1)
    async with registry.tx(today=D(2025, 5, 20)) as s:
        await services.suspend_overdue(s, cycle.id)
    rows = [
        ["id_number", "method", "outcome", "verified_at"],
        [a.id_number, "face_recognition", "confirmed", "2025-06-03T10:00:00"],
    ]
    async with registry.tx() as s:
        report = await imports.import_verifications(s, _csv(rows))
        assert report.applied == 1
        assert (await s.get(DisabilityGrant, ga.id)).status is GrantStatus.ACTIVE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (_csv([["姓名", "验证方式"], ["x", "y"]]), "missing headings"),
        (_csv([["身份证号", "身份证号码", "验证方式", "验证结果", "验证时间"]]), "twice"),
        (b"PK\x03\x04 not really a workbook", "XLSX"),
        (b"\xff\xfe\x00\xd8\x00", "UTF-8"),
    ],
)
async def test_unreadable_files_are_refused(registry, content: bytes, message: str) -> None:
    async with registry.tx() as s:
        with pytest.raises(imports.ImportRefused, match=message) as err:
            await imports.import_verifications(s, content)
        assert err.value.field == "input.content"


async def test_unknown_format(registry) -> None:
    async with registry.tx() as s:
        with pytest.raises(imports.ImportRefused, match="format"):
            await imports.import_verifications(s, b"a,b", file_format="ods")


@pytest.fixture
def beijing_time(monkeypatch: pytest.MonkeyPatch):
    """The process's local zone set to UTC+8 (a POSIX rule: no zone database needed)."""
    import time

    monkeypatch.setenv("TZ", "CST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def test_imported_times_without_a_zone_are_local_time(registry, beijing_time) -> None:
    """A county's spreadsheet says 23:30 meaning 23:30 in Beijing: the recorded
    instant is 15:30 UTC, and the verification's day is that local day."""
    (a,), _, _ = await _recipients(registry, 1)
    rows = [HEADER, [a.id_number, a.name, "人脸识别", "通过", "2025-04-20 23:30:00", ""]]
    async with registry.tx() as s:
        report = await imports.import_verifications(s, _csv(rows), filename="late.csv")
    assert report.applied == 1, report.errors
    async with registry.tx() as s:
        got = (await s.scalars(select(DisabilityVerification))).one()
    at = got.verified_at
    if at.tzinfo is None:  # SQLite keeps the wall-clock time it was given
        assert at == dt.datetime(2025, 4, 20, 23, 30)
    else:
        assert at.astimezone(dt.UTC) == dt.datetime(2025, 4, 20, 15, 30, tzinfo=dt.UTC)
