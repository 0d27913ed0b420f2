"""The append-only audit log: every mutation with before/after, every unmasked read."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core.models import AuditEntry
from minzheng.core.scope import Principal


def snapshot(obj: Any) -> dict[str, Any] | None:
    """Column values of a mapped object as JSON-safe values."""
    if obj is None:
        return None
    out: dict[str, Any] = {}
    for attr in sa_inspect(obj).mapper.column_attrs:
        out[attr.key] = jsonable(getattr(obj, attr.key))
    return out


def jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def record(
    session: AsyncSession,
    *,
    action: str,
    entity: Any = None,
    entity_type: str | None = None,
    entity_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    region_code: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the session's transaction (written with the change)."""
    principal: Principal | None = session.info.get("principal")
    if entity is not None:
        entity_type = entity_type or type(entity).__name__
        entity_id = entity_id if entity_id is not None else getattr(entity, "id", None)
        region_code = region_code or getattr(entity, "region_code", None)
        if after is None:
            after = snapshot(entity)
    entry = AuditEntry(
        principal=principal.subject if principal else "anonymous",
        operation=session.info.get("operation") or "unknown",
        action=action,
        entity_type=entity_type or "unknown",
        entity_id=None if entity_id is None else str(entity_id),
        region_code=region_code,
        before=before,
        after=after,
        request_id=session.info.get("request_id"),
    )
    session.add(entry)
    return entry
