"""Monthly payrolls (发放名册), one mechanism for every programme.

A payroll pays one programme in one region for one month, from the core
enrolments: the row in force on the month's last day pays the month (see
:func:`minzheng.core.enrolments.set_enrolment`), with its ``monthly_amount_fen``.

- :func:`generate_payroll` creates the month's **draft** or brings it up to
  date.  Regenerating gives the same lines (same ids) unless something changed,
  and reports each change.
- :func:`approve_payroll` freezes it.  An approved payroll is never rewritten:
  when enrolments for an approved month change later, the next payroll
  generated carries **adjustment** lines (补发/扣减) for that month, computed as
  what is now due minus what approved payrolls already paid.
- :func:`export_payroll` renders it as CSV or XLSX with Chinese headings.

Plugins keep their enrolments' amounts true; they write no payroll code.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from minzheng.core import divisions
from minzheng.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from minzheng.core.hookspecs import Programme
from minzheng.core.idnumber import mask_id_number
from minzheng.core.models import (
    PAYABLE,
    Enrolment,
    Household,
    Membership,
    Payroll,
    PayrollLine,
    PayrollLineKind,
    PayrollStatus,
    Person,
    Region,
    utcnow,
)
from minzheng.core.money import yuan

# ------------------------------------------------------------------ months


def month_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s month: how payrolls name a month."""
    return day.replace(day=1)


def last_day(month: dt.date) -> dt.date:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month:02d}月"


# --------------------------------------------------------------- computing

#: who is paid: ("person", id) or ("household", id)
Subject = tuple[str, int]


def _subject(person_id: int | None, household_id: int | None) -> Subject:
    if person_id is not None:
        return ("person", person_id)
    assert household_id is not None
    return ("household", household_id)


@dataclass(frozen=True)
class _Due:
    """One line a payroll should carry."""

    subject: Subject
    kind: PayrollLineKind
    covers_month: dt.date
    amount_fen: int
    enrolment_id: int | None
    person_id: int | None
    household_id: int | None
    region_code: str
    note: str | None

    @property
    def key(self) -> tuple[Subject, PayrollLineKind, dt.date]:
        return (self.subject, self.kind, self.covers_month)


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class LineChange:
    """How one line of a regenerated draft differs from before."""

    change: ChangeKind
    kind: PayrollLineKind
    covers_month: dt.date
    person_id: int | None
    household_id: int | None
    old_amount_fen: int | None
    new_amount_fen: int | None


@dataclass
class Generation:
    """The result of :func:`generate_payroll`."""

    payroll: Payroll
    created: bool
    changes: list[LineChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.changes)


def _region(region_code: str) -> divisions.DivisionCode:
    try:
        return divisions.parse(region_code)
    except divisions.InvalidRegionCode as exc:
        raise ValidationFailed("regionCode", "invalid", str(exc)) from None


def declared_programmes(session: AsyncSession) -> dict[str, Programme] | None:
    """The programmes the enabled plugins declare, or None when no plugin manager
    is attached to the session (bare core: any programme code is accepted)."""
    manager = session.info.get("plugins")
    if manager is None:
        return None
    out: dict[str, Programme] = {}
    for answer in manager.hook.declare_programmes():
        for p in answer or ():
            out[p.code] = p
    return out


async def _check_target(session: AsyncSession, programme: str, region_code: str) -> str:
    code = _region(region_code)
    known = declared_programmes(session)
    if known is not None:
        declared = known.get(programme)
        if declared is None:
            raise ValidationFailed(
                "programme", "unknown", f"programme {programme!r} is not declared by any plugin"
            )
        if code.level.value != declared.payroll_level:
            raise ValidationFailed(
                "regionCode",
                "level",
                f"programme {programme!r} is paid per {declared.payroll_level}, "
                f"not per {code.level.value}",
            )
    exists = await session.scalar(select(Region.code).where(Region.code == code.full))
    if exists is None:
        raise NotFound("Region", code.full)
    return code.full


async def _compute(
    session: AsyncSession, programme: str, region_full: str, month: dt.date
) -> list[_Due]:
    """Every line the month's payroll should carry, from the enrolments now."""
    lo, hi = divisions.parse(region_full).bounds
    approved = list(
        await session.scalars(
            select(Payroll.month).where(
                Payroll.programme == programme,
                Payroll.region_code == region_full,
                Payroll.status == PayrollStatus.APPROVED,
                Payroll.month < month,
            )
        )
    )
    months = sorted({*approved, month})
    rows = list(
        await session.scalars(
            select(Enrolment)
            .where(
                Enrolment.programme == programme,
                Enrolment.region_code.between(lo, hi),
                Enrolment.status.in_(PAYABLE),
                Enrolment.start_on <= last_day(month),
                or_(Enrolment.end_on.is_(None), Enrolment.end_on >= last_day(months[0])),
            )
            .order_by(Enrolment.id)
        )
    )
    # what is due for each month, per subject
    entitled: dict[dt.date, dict[Subject, list[Enrolment]]] = {m: defaultdict(list) for m in months}
    for row in rows:
        for m in months:
            end = last_day(m)
            if row.start_on <= end and (row.end_on is None or row.end_on >= end):
                entitled[m][_subject(row.person_id, row.household_id)].append(row)

    dues: list[_Due] = []
    for subject, in_force in entitled[month].items():
        amount = sum(r.monthly_amount_fen for r in in_force)
        if amount:
            first = in_force[0]
            dues.append(
                _Due(
                    subject,
                    PayrollLineKind.REGULAR,
                    month,
                    amount,
                    first.id,
                    first.person_id,
                    first.household_id,
                    first.region_code,
                    None,
                )
            )
    if approved:
        paid = await _paid(session, programme, region_full, approved)
        for m in sorted(approved):
            subjects = set(entitled[m]) | {s for (s, pm) in paid if pm == m}
            for subject in sorted(subjects):
                in_force = entitled[m].get(subject, [])
                due = sum(r.monthly_amount_fen for r in in_force)
                already, ref = paid.get((subject, m), (0, {}))
                delta = due - already
                if not delta:
                    continue
                if in_force:
                    ref = {
                        "person_id": in_force[0].person_id,
                        "household_id": in_force[0].household_id,
                        "region_code": in_force[0].region_code,
                        "enrolment_id": in_force[0].id,
                    }
                word = "补发" if delta > 0 else "扣减"
                note = f"{word} {_month_label(m)}：应发 {yuan(due)} 元，已发 {yuan(already)} 元"
                dues.append(
                    _Due(
                        subject,
                        PayrollLineKind.ADJUSTMENT,
                        m,
                        delta,
                        ref.get("enrolment_id"),
                        ref["person_id"],
                        ref["household_id"],
                        ref["region_code"],
                        note,
                    )
                )
    return dues


async def _paid(
    session: AsyncSession, programme: str, region_full: str, months: Iterable[dt.date]
) -> dict[tuple[Subject, dt.date], tuple[int, dict[str, Any]]]:
    """What approved payrolls already paid, per subject and month covered."""
    stmt = (
        select(
            PayrollLine.person_id,
            PayrollLine.household_id,
            PayrollLine.covers_month,
            func.sum(PayrollLine.amount_fen),
            func.max(PayrollLine.region_code),
        )
        .join(Payroll, Payroll.id == PayrollLine.payroll_id)
        .where(
            Payroll.programme == programme,
            Payroll.region_code == region_full,
            Payroll.status == PayrollStatus.APPROVED,
            PayrollLine.covers_month.in_(list(months)),
        )
        .group_by(PayrollLine.person_id, PayrollLine.household_id, PayrollLine.covers_month)
    )
    out: dict[tuple[Subject, dt.date], tuple[int, dict[str, Any]]] = {}
    for person_id, household_id, covers, total, region in await session.execute(stmt):
        key = (_subject(person_id, household_id), covers)
        prev = out.get(key, (0, {}))[0]
        out[key] = (
            prev + int(total),
            {"person_id": person_id, "household_id": household_id, "region_code": region},
        )
    return out


def _diff(
    existing: Mapping[tuple[Subject, PayrollLineKind, dt.date], PayrollLine], dues: list[_Due]
) -> list[LineChange]:
    changes = []
    wanted = {d.key: d for d in dues}
    for key, due in wanted.items():
        line = existing.get(key)
        if line is None:
            changes.append(
                LineChange(
                    ChangeKind.ADDED,
                    due.kind,
                    due.covers_month,
                    due.person_id,
                    due.household_id,
                    None,
                    due.amount_fen,
                )
            )
        elif (line.amount_fen, line.enrolment_id, line.region_code, line.note) != (
            due.amount_fen,
            due.enrolment_id,
            due.region_code,
            due.note,
        ):
            changes.append(
                LineChange(
                    ChangeKind.CHANGED,
                    due.kind,
                    due.covers_month,
                    due.person_id,
                    due.household_id,
                    line.amount_fen,
                    due.amount_fen,
                )
            )
    for key, line in existing.items():
        if key not in wanted:
            changes.append(
                LineChange(
                    ChangeKind.REMOVED,
                    line.kind,
                    line.covers_month,
                    line.person_id,
                    line.household_id,
                    line.amount_fen,
                    None,
                )
            )
    return sorted(
        changes,
        key=lambda c: (
            c.kind.value,
            c.covers_month,
            c.person_id or 0,
            c.household_id or 0,
            c.change.value,
        ),
    )


def _key(line: PayrollLine) -> tuple[Subject, PayrollLineKind, dt.date]:
    return (_subject(line.person_id, line.household_id), line.kind, line.covers_month)


async def _lines(session: AsyncSession, payroll_id: int) -> dict[Any, PayrollLine]:
    lines = await session.scalars(
        select(PayrollLine).where(PayrollLine.payroll_id == payroll_id).order_by(PayrollLine.id)
    )
    return {_key(line): line for line in lines}


# ------------------------------------------------------------------- actions


async def find_payroll(
    session: AsyncSession, programme: str, region_code: str, month: dt.date
) -> Payroll | None:
    code = _region(region_code)
    return await session.scalar(
        select(Payroll).where(
            Payroll.programme == programme,
            Payroll.region_code == code.full,
            Payroll.month == month_of(month),
        )
    )


async def generate_payroll(
    session: AsyncSession, programme: str, region_code: str, month: dt.date
) -> Generation:
    """Create the draft payroll of ``programme`` in ``region_code`` for ``month``'s
    month, or bring the existing draft up to date.

    Raises :class:`ValidationFailed` for an unknown programme or a region at
    the wrong level, :class:`NotFound` for an unknown region and
    :class:`IllegalTransition` when the month is already approved.
    """
    month = month_of(month)
    region_full = await _check_target(session, programme, region_code)
    payroll = await find_payroll(session, programme, region_full, month)
    if payroll is not None and payroll.status == PayrollStatus.APPROVED:
        raise IllegalTransition("Payroll", payroll.status.value, "regenerate")
    dues = await _compute(session, programme, region_full, month)
    created = payroll is None
    if payroll is None:
        payroll = Payroll(programme=programme, month=month, status=PayrollStatus.DRAFT)
        payroll.place(region_full)
        session.add(payroll)
        await session.flush()
        existing: dict[Any, PayrollLine] = {}
    else:
        existing = await _lines(session, payroll.id)
    changes = _diff(existing, dues)
    if not created and not changes:
        return Generation(payroll, False, [])
    wanted = {d.key: d for d in dues}
    for key, stale in existing.items():
        if key not in wanted:
            await session.delete(stale)
    for key, due in wanted.items():
        line = existing.get(key)
        if line is None:
            line = PayrollLine(
                payroll_id=payroll.id,
                kind=due.kind,
                covers_month=due.covers_month,
                person_id=due.person_id,
                household_id=due.household_id,
            )
            session.add(line)
        line.amount_fen = due.amount_fen
        line.enrolment_id = due.enrolment_id
        line.note = due.note
        line.place(due.region_code)
    payroll.line_count = len(dues)
    payroll.total_fen = sum(d.amount_fen for d in dues)
    payroll.generated_at = utcnow()
    await session.flush()
    return Generation(payroll, created, changes)


async def approve_payroll(
    session: AsyncSession,
    payroll_id: int,
    *,
    approved_by: str,
    expected_version: int | None = None,
) -> Payroll:
    """Freeze a draft.  Refused when it is already approved, when ``expected_version``
    is stale, or when the enrolments have changed since it was generated (regenerate
    and review it first)."""
    payroll = await session.get(Payroll, payroll_id)
    if payroll is None:
        raise NotFound("Payroll", payroll_id)
    if payroll.status == PayrollStatus.APPROVED:
        raise IllegalTransition("Payroll", payroll.status.value, "approve")
    if expected_version is not None and payroll.version != expected_version:
        raise Conflict(
            f"payroll {payroll_id} is at version {payroll.version}, not {expected_version}",
            current_version=payroll.version,
        )
    dues = await _compute(session, payroll.programme, payroll.region_code, payroll.month)
    changes = _diff(await _lines(session, payroll.id), dues)
    if changes:
        raise Conflict(
            f"payroll {payroll_id} is out of date ({len(changes)} line(s) changed since it "
            "was generated); regenerate and review it before approving",
            current_version=payroll.version,
        )
    payroll.status = PayrollStatus.APPROVED
    payroll.approved_at = utcnow()
    payroll.approved_by = approved_by
    await session.flush()
    return payroll


# -------------------------------------------------------------------- export


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

#: the export's column headings, in order
HEADINGS = (
    "序号",
    "乡镇（街道）",
    "村（社区）",
    "户编号",
    "姓名",
    "公民身份号码",
    "发放类型",
    "所属年月",
    "金额（元）",
    "备注",
)

KIND_TITLES = {PayrollLineKind.REGULAR: "正常发放", PayrollLineKind.ADJUSTMENT: "补发/扣减"}


@dataclass(frozen=True)
class ExportRow:
    township: str
    village: str
    household_number: str
    name: str
    id_number: str
    kind: PayrollLineKind
    covers_month: dt.date
    amount_fen: int
    note: str

    def cells(self, index: int) -> list[Any]:
        return [
            index,
            self.township,
            self.village,
            self.household_number,
            self.name,
            self.id_number,
            KIND_TITLES[self.kind],
            f"{self.covers_month:%Y-%m}",
            yuan(self.amount_fen),
            self.note,
        ]


@dataclass(frozen=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes


async def export_rows(
    session: AsyncSession, payroll: Payroll, *, unmasked: bool = False
) -> list[ExportRow]:
    """The payroll's lines with payee names, ID numbers and places, in a stable order.

    Household lines name the household head.  ID numbers are masked unless
    ``unmasked`` (the caller checks ``pii:read`` and audits the read).
    """
    payee = aliased(Person)
    head = aliased(Person)
    member_of = aliased(Membership)
    hh = aliased(Household)
    town = aliased(Region)
    village = aliased(Region)
    stmt = (
        select(PayrollLine, payee, head, hh.number, town.name, village.name)
        .outerjoin(payee, payee.id == PayrollLine.person_id)
        .outerjoin(member_of, member_of.person_id == PayrollLine.person_id)
        .outerjoin(hh, hh.id == func.coalesce(PayrollLine.household_id, member_of.household_id))
        .outerjoin(head, and_(PayrollLine.person_id.is_(None), head.id == hh.head_person_id))
        .outerjoin(town, town.code == PayrollLine.township_code)
        .outerjoin(village, village.code == PayrollLine.region_code)
        .where(PayrollLine.payroll_id == payroll.id)
        .order_by(
            PayrollLine.region_code,
            hh.number,
            PayrollLine.person_id,
            PayrollLine.household_id,
            PayrollLine.kind.desc(),  # regular before adjustment
            PayrollLine.covers_month,
            PayrollLine.id,
        )
    )
    out = []
    for line, person, head_person, number, town_name, village_name in await session.execute(stmt):
        who = person or head_person
        id_number = who.id_number if who else ""
        out.append(
            ExportRow(
                township=town_name or "",
                village=village_name or "",
                household_number=number or "",
                name=who.name if who else "",
                id_number=id_number if unmasked else mask_id_number(id_number) if id_number else "",
                kind=line.kind,
                covers_month=line.covers_month,
                amount_fen=line.amount_fen,
                note=line.note or "",
            )
        )
    return out


def to_csv(rows: list[ExportRow]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese), a
    heading row, one row per line and a 合计 row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADINGS)
    for i, row in enumerate(rows, 1):
        w.writerow([str(c) for c in row.cells(i)])
    w.writerow(
        [
            "合计",
            "",
            "",
            "",
            f"{len(rows)} 笔",
            "",
            "",
            "",
            str(yuan(sum(r.amount_fen for r in rows))),
            "",
        ]
    )
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[ExportRow], *, title: str = "发放名册") -> bytes:
    """One sheet: a bold heading row, one row per line (amounts as numbers in yuan
    with two decimals) and a 合计 row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "发放名册"
    wb.properties.title = title
    ws.append(list(HEADINGS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, row in enumerate(rows, 1):
        ws.append(row.cells(i))
    ws.append(
        [
            "合计",
            None,
            None,
            None,
            f"{len(rows)} 笔",
            None,
            None,
            None,
            yuan(sum(r.amount_fen for r in rows)),
            None,
        ]
    )
    ws[ws.max_row][0].font = Font(bold=True)
    for (cell,) in ws.iter_rows(min_row=2, min_col=9, max_col=9):
        cell.number_format = "0.00"
    for col, width in zip("ABCDEFGHIJ", (6, 16, 20, 14, 10, 22, 10, 10, 12, 40), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def export_payroll(
    session: AsyncSession, payroll_id: int, fmt: ExportFormat, *, unmasked: bool = False
) -> ExportFile:
    """The payroll as a file: ``payroll-<programme>-<region>-<YYYY-MM>.<fmt>``."""
    payroll = await session.get(Payroll, payroll_id)
    if payroll is None:
        raise NotFound("Payroll", payroll_id)
    rows = await export_rows(session, payroll, unmasked=unmasked)
    region = divisions.parse(payroll.region_code).prefix
    name = f"payroll-{payroll.programme}-{region}-{payroll.month:%Y-%m}.{fmt.value}"
    if fmt == ExportFormat.CSV:
        content = to_csv(rows)
    else:
        status = "已审批" if payroll.status == PayrollStatus.APPROVED else "草稿"
        content = to_xlsx(
            rows, title=f"{payroll.programme} {_month_label(payroll.month)} 发放名册（{status}）"
        )
    return ExportFile(name, MEDIA_TYPES[fmt], content)
