"""Bulk import of survival-verification results (CSV or XLSX).

The file comes from a face-recognition or data-comparison system: one row per
result, with a header row.  Headings may be Chinese or English:

=================  ===========================  ========
field              headings                     required
=================  ===========================  ========
ID number          身份证号 / 公民身份号码 / id_number   yes
name               姓名 / name                  no (checked against the registry)
method             验证方式 / method             yes
outcome            验证结果 / outcome            yes
time               验证时间 / verified_at        yes
note               备注 / note                  no
=================  ===========================  ========

Every bad row is reported with its line number (the header is line 1) and the
reason; good rows are applied, each in its own savepoint.  With
``all_or_nothing`` one bad row refuses the whole file and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core.errors import DomainError, ValidationFailed
from minzheng.core.idnumber import InvalidIdNumber, parse_id_number
from minzheng.core.models import Person
from minzheng.plugins.disability import services
from minzheng.plugins.disability.rules import VerificationMethod, VerificationOutcome

HEADINGS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "id_number", "idnumber"),
    "name": ("姓名", "name"),
    "method": ("验证方式", "method"),
    "outcome": ("验证结果", "outcome"),
    "verified_at": ("验证时间", "verified_at", "verifiedat"),
    "note": ("备注", "note"),
}
REQUIRED = ("id_number", "method", "outcome", "verified_at")

METHODS: dict[str, VerificationMethod] = {
    "人脸识别": VerificationMethod.FACE_RECOGNITION,
    "数据比对": VerificationMethod.DATA_COMPARISON,
    "入户核查": VerificationMethod.HOME_VISIT,
    "现场认证": VerificationMethod.IN_PERSON,
    **{m.value: m for m in VerificationMethod},
}
OUTCOMES: dict[str, VerificationOutcome] = {
    "通过": VerificationOutcome.CONFIRMED,
    "验证通过": VerificationOutcome.CONFIRMED,
    "未通过": VerificationOutcome.FAILED,
    "不通过": VerificationOutcome.FAILED,
    "死亡": VerificationOutcome.DECEASED,
    **{o.value: o for o in VerificationOutcome},
}
MAX_ROWS = 100_000


class ImportRefused(ValidationFailed):
    """The file cannot be read at all (format, headings, size)."""

    def __init__(self, message: str) -> None:
        super().__init__("input.content", "unreadable_file", message)


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    id_number: str | None = None


@dataclass
class ImportReport:
    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: all-or-nothing was asked and some row failed: nothing was written
    refused: bool = False


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, Any]


def detect_format(filename: str | None, content: bytes) -> str:
    if content[:2] == b"PK":
        return "xlsx"
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "csv"


def _key(heading: object) -> str | None:
    text = str(heading or "").strip().lstrip("\ufeff").lower().replace(" ", "")
    for key, names in HEADINGS.items():
        if text in names:
            return key
    return None


def _header(cells: list[object]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for i, cell in enumerate(cells):
        key = _key(cell)
        if key is not None:
            if key in mapping.values():
                raise ImportRefused(f"heading for {key} appears twice")
            mapping[i] = key
    missing = [k for k in REQUIRED if k not in mapping.values()]
    if missing:
        wanted = ", ".join(f"{HEADINGS[k][0]} ({k})" for k in missing)
        raise ImportRefused(f"missing headings: {wanted}")
    return mapping


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused("the CSV file is neither UTF-8 nor GB18030 text")


def _csv_rows(content: bytes) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(_decode(content), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("the file is empty") from None
    mapping = _header(list(header))
    previous = reader.line_num
    for cells in reader:
        line, previous = previous + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        yield _Row(line, {key: cells[i] if i < len(cells) else None for i, key in mapping.items()})


def _xlsx_rows(content: bytes) -> Iterator[_Row]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportRefused(f"not a readable XLSX workbook: {type(exc).__name__}") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        try:
            header = next(rows)
        except StopIteration:
            raise ImportRefused("the workbook's first sheet is empty") from None
        mapping = _header(list(header))
        for index, cells in enumerate(rows, start=2):
            if not any(c not in (None, "") for c in cells):
                continue
            yield _Row(
                index, {key: cells[i] if i < len(cells) else None for i, key in mapping.items()}
            )
    finally:
        book.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    text = _text(value)
    if not text:
        raise ValueError("verification time is empty")
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y%m%d",
    ):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"verification time {text!r} is not a date and time") from None


@dataclass(frozen=True)
class _Parsed:
    line: int
    id_number: str
    name: str
    method: VerificationMethod
    outcome: VerificationOutcome
    verified_at: dt.datetime
    note: str | None


def _parse(row: _Row, today: dt.date) -> _Parsed:
    v = row.values
    raw_id = _text(v.get("id_number"))
    if not raw_id:
        raise ValueError("ID number is empty")
    try:
        id_number = parse_id_number(raw_id, today=today).value
    except InvalidIdNumber as exc:
        raise ValueError(f"ID number {raw_id!r}: {exc.message}") from None
    method_text = _text(v.get("method"))
    method = METHODS.get(method_text) or METHODS.get(method_text.lower())
    if method is None:
        raise ValueError(f"unknown verification method {method_text!r}")
    outcome_text = _text(v.get("outcome"))
    outcome = OUTCOMES.get(outcome_text) or OUTCOMES.get(outcome_text.lower())
    if outcome is None:
        raise ValueError(f"unknown verification outcome {outcome_text!r}")
    verified_at = _parse_time(v.get("verified_at"))
    if verified_at.date() > today:
        raise ValueError(f"verification time {verified_at.isoformat()} is in the future")
    note = _text(v.get("note")) or None
    return _Parsed(row.line, id_number, _text(v.get("name")), method, outcome, verified_at, note)


async def import_verifications(
    session: AsyncSession,
    content: bytes,
    *,
    filename: str | None = None,
    file_format: str | None = None,
    all_or_nothing: bool = False,
    source: str | None = None,
) -> ImportReport:
    """Import verification results; see the module docstring for the file layout."""
    fmt = (file_format or detect_format(filename, content)).lower()
    if fmt not in ("csv", "xlsx"):
        raise ImportRefused(f"unknown file format {fmt!r} (csv or xlsx)")
    raw = list(_xlsx_rows(content) if fmt == "xlsx" else _csv_rows(content))
    if len(raw) > MAX_ROWS:
        raise ImportRefused(f"the file has {len(raw)} rows; at most {MAX_ROWS} per import")
    report = ImportReport(rows=len(raw))
    today = services.today(session)
    parsed: list[_Parsed] = []
    seen: dict[tuple[str, dt.datetime, VerificationMethod], int] = {}
    for row in raw:
        try:
            item = _parse(row, today)
        except ValueError as exc:
            report.errors.append(RowError(row.line, str(exc), _text(row.values.get("id_number"))))
            continue
        key = (item.id_number, item.verified_at, item.method)
        if key in seen:
            report.errors.append(RowError(row.line, f"repeats line {seen[key]}", item.id_number))
            continue
        seen[key] = row.line
        parsed.append(item)
    persons = await _persons_by_id_number(session, {p.id_number for p in parsed})
    ready: list[tuple[_Parsed, Person]] = []
    for item in parsed:
        person = persons.get(item.id_number)
        if person is None:
            report.errors.append(
                RowError(item.line, "no such person in your region's registry", item.id_number)
            )
        elif item.name and item.name != person.name:
            report.errors.append(
                RowError(
                    item.line,
                    f"name {item.name!r} does not match the registry for this ID number",
                    item.id_number,
                )
            )
        else:
            ready.append((item, person))
    if all_or_nothing and report.errors:
        report.errors.sort(key=lambda e: e.line)
        report.refused = True
        return report
    label = source or (f"import:{filename}" if filename else "import")
    outer = await session.begin_nested() if all_or_nothing else None
    for item, person in ready:
        savepoint = await session.begin_nested()
        try:
            _, created = await services.record_verification(
                session,
                person_id=person.id,
                method=item.method,
                outcome=item.outcome,
                verified_at=item.verified_at,
                source=label,
                note=item.note,
            )
        except DomainError as exc:
            await savepoint.rollback()
            report.errors.append(RowError(item.line, exc.message, item.id_number))
            if all_or_nothing:
                break
            continue
        await savepoint.commit()
        if created:
            report.applied += 1
        else:
            report.unchanged += 1
    report.errors.sort(key=lambda e: e.line)
    if outer is not None:
        if report.errors:
            await outer.rollback()
            report.applied = report.unchanged = 0
            report.refused = True
        else:
            await outer.commit()
    return report


async def _persons_by_id_number(session: AsyncSession, numbers: set[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    ordered = sorted(numbers)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        for person in (
            await session.scalars(select(Person).where(Person.id_number.in_(chunk)))
        ).all():
            found[person.id_number] = person
    return found
