"""``auditLog``: the audit log for administrators, scoped like everything else.

Entries are shown newest first.  A principal sees the entries whose region lies
in their own region.  Entries that belong to no division (start-up, the command
line, API keys, scheduled runs without a case) are shown to a principal whose
region is a whole city or province: the deployment's operators, not a county's
or a township's.  Personal data inside the
stored before/after snapshots is masked without ``pii:read``; with it, the
read is itself audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, func, or_, select
from strawberry.scalars import JSON

from minzheng.core import divisions
from minzheng.core.hookspecs import SchemaContribution
from minzheng.core.models import AuditEntry
from minzheng.schema.pagination import PageInfo, check_first, decode_cursor, encode_cursor
from minzheng.schema.permissions import requires
from minzheng.schema.pii import PII_READ, mask_record, note_entity_read

AUDIT_READ = "audit:read"
_PII_KEYS = ("id_number", "phone", "address")


@strawberry.input(description="审计筛选 Filter for the audit log (all conditions must hold)")
class AuditLogFilter:
    action: str | None = strawberry.field(
        default=None, description="操作 Action, e.g. person.register or pii.read"
    )
    entity_type: str | None = strawberry.field(default=None, description="对象类型 Entity type")
    entity_id: str | None = strawberry.field(default=None, description="对象编号 Entity key")
    principal: str | None = strawberry.field(default=None, description="操作人 Principal subject")
    operation: str | None = strawberry.field(default=None, description="GraphQL操作 Operation name")
    region_code: str | None = strawberry.field(
        default=None, description="区划 Within this division (inside your scope)"
    )
    without_region: bool | None = strawberry.field(
        default=None,
        description="无区划 Only the entries that belong to no division (true), or none of "
        "them (false); such entries are shown to city- and province-level principals only",
    )
    since: dt.datetime | None = strawberry.field(default=None, description="起 From (inclusive)")
    until: dt.datetime | None = strawberry.field(default=None, description="止 Until (exclusive)")


@strawberry.type(description="审计记录 One audit log entry (append-only)")
class AuditLogEntry:
    pk: int = strawberry.field(description="编号 Entry key")
    at: dt.datetime = strawberry.field(description="时间 When")
    principal: str = strawberry.field(description="操作人 Who (token subject or apikey:<name>)")
    operation: str = strawberry.field(description="GraphQL操作 Operation name or command")
    action: str = strawberry.field(description="操作 What was done")
    entity_type: str = strawberry.field(description="对象类型 Entity type")
    entity_id: str | None = strawberry.field(description="对象编号 Entity key")
    region_code: str | None = strawberry.field(description="区划 Region of the entity")
    request_id: str | None = strawberry.field(description="请求编号 Request id")
    before: JSON | None = strawberry.field(description="变更前 Before (personal data masked)")
    after: JSON | None = strawberry.field(description="变更后 After (personal data masked)")


@strawberry.type(description="审计记录边 An audit entry with its cursor")
class AuditLogEdge:
    cursor: str
    node: AuditLogEntry


@strawberry.type(description="审计日志 A page of the audit log, newest first")
class AuditLogConnection:
    edges: list[AuditLogEdge]
    page_info: PageInfo
    _count: strawberry.Private[Any]

    @strawberry.field(description="总数 Entries matching the filter in your scope")
    async def total_count(self) -> int:
        return int(await self._count())


class AuditFilterError(ValueError):
    pass


def sees_system_entries(region: str) -> bool:
    """May a principal scoped to ``region`` read the entries without a region?
    Only at city level or above."""
    level = divisions.DivisionCode(region).level
    return level in (divisions.RegionLevel.PROVINCE, divisions.RegionLevel.CITY)


def audit_query(principal: Any, f: AuditLogFilter | None) -> Select[Any]:
    stmt = select(AuditEntry)
    if principal.region:
        lo, hi = divisions.DivisionCode(principal.region).bounds
        in_scope: ColumnElement[bool] = AuditEntry.region_code.between(lo, hi)
        if sees_system_entries(principal.region):
            in_scope = or_(in_scope, AuditEntry.region_code.is_(None))
        stmt = stmt.where(in_scope)
    if f is None:
        return stmt
    if f.region_code:
        from graphql import GraphQLError

        try:
            lo, hi = divisions.parse(f.region_code).bounds
        except divisions.InvalidRegionCode:
            raise GraphQLError(
                f"{f.region_code!r} is not a division code",
                extensions={"code": "BAD_REGION_CODE"},
            ) from None
        stmt = stmt.where(AuditEntry.region_code.between(lo, hi))
    if f.without_region is not None:
        stmt = stmt.where(
            AuditEntry.region_code.is_(None)
            if f.without_region
            else AuditEntry.region_code.is_not(None)
        )
    for column, value in (
        (AuditEntry.action, f.action),
        (AuditEntry.entity_type, f.entity_type),
        (AuditEntry.entity_id, f.entity_id),
        (AuditEntry.principal, f.principal),
        (AuditEntry.operation, f.operation),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at < f.until)
    return stmt


def _entry(row: AuditEntry, ctx: Any) -> AuditLogEntry:
    principal = ctx.principal
    if principal.can(PII_READ):
        shown = [
            k
            for snap in (row.before, row.after)
            if isinstance(snap, dict)
            for k in _PII_KEYS
            if snap.get(k)
        ]
        if shown and row.entity_id is not None:
            note_entity_read(
                ctx,
                row.entity_type,
                row.entity_id,
                {f"AuditLog.{k}" for k in shown},
                row.region_code,
            )
    return AuditLogEntry(
        pk=row.id,
        at=row.at,
        principal=row.principal,
        operation=row.operation,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        region_code=row.region_code,
        request_id=row.request_id,
        before=mask_record(row.before, principal),  # type: ignore[arg-type]
        after=mask_record(row.after, principal),  # type: ignore[arg-type]
    )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="审计日志 The audit log in your scope, newest first (administrators)",
        extensions=requires(AUDIT_READ),
    )
    async def audit_log(
        self,
        info: strawberry.Info,
        filter: AuditLogFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> AuditLogConnection:
        ctx = info.context
        first = check_first(first, ctx.settings.max_page_size)
        stmt = audit_query(ctx.principal, filter)
        after_pk = decode_cursor(after) if after else None
        page_stmt = stmt if after_pk is None else stmt.where(AuditEntry.id < after_pk)
        rows = await ctx.db.scalars(page_stmt.order_by(AuditEntry.id.desc()).limit(first + 1))
        page = rows[:first]
        count_stmt = select(func.count()).select_from(stmt.subquery())
        return AuditLogConnection(
            edges=[AuditLogEdge(cursor=encode_cursor(r.id), node=_entry(r, ctx)) for r in page],
            page_info=PageInfo(
                has_next_page=len(rows) > first,
                has_previous_page=after_pk is not None,
                start_cursor=encode_cursor(page[0].id) if page else None,
                end_cursor=encode_cursor(page[-1].id) if page else None,
            ),
            _count=lambda: ctx.db.scalar(count_stmt),
        )


#: Add to the builder's core parts: ``("core", audit.contribution)``.
contribution = SchemaContribution(query=AuditQuery)
