"""Running a mutation: one transaction, typed errors, idempotency keys, audit.

A mutation resolver calls :func:`run` with a function that does the work in a
session and returns a small JSON-able *result* (``{"household_id": 7}``), and a
function that turns that result into the payload.  On a domain failure the
transaction is rolled back and the payload carries the typed error.  With an
idempotency key, the first result is stored and replayed for the same key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minzheng.core.audit import jsonable
from minzheng.core.models import IdempotencyRecord
from minzheng.schema.errors import ConflictError, UserError, to_user_error

log = logging.getLogger("minzheng.mutation")

Work = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def run(
    info: Any,
    operation: str,
    work: Work,
    build: Callable[[dict[str, Any] | None, list[UserError]], Any],
    *,
    idempotency_key: str | None = None,
    input_value: Any = None,
) -> Any:
    ctx = info.context
    request_hash = hashlib.sha256(
        json.dumps(jsonable(_plain(input_value)), sort_keys=True, default=str).encode()
    ).hexdigest()
    try:
        async with ctx.db.write() as session:
            session.info["operation"] = ctx.operation_name or operation
            if idempotency_key:
                stored = await session.scalar(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.key == idempotency_key,
                        IdempotencyRecord.principal == ctx.principal.subject,
                    )
                )
                if stored is not None:
                    if stored.operation != operation or stored.request_hash != request_hash:
                        return build(
                            None,
                            [
                                ConflictError(
                                    code="idempotency_key_reused",
                                    message="this idempotency key was used for a different request",
                                )
                            ],
                        )
                    return build(stored.response, [])
            result = await work(session)
            if idempotency_key:
                session.add(
                    IdempotencyRecord(
                        key=idempotency_key,
                        principal=ctx.principal.subject,
                        operation=operation,
                        request_hash=request_hash,
                        response=result,
                    )
                )
        await _notify(ctx, operation, result)
        return build(result, [])
    except Exception as exc:
        error = to_user_error(exc)
        if error is None:
            raise
        log.info(
            "mutation %s refused: %s",
            operation,
            error.message,
            extra={"request_id": ctx.request_id},
        )
        return build(None, [error])


async def _notify(ctx: Any, operation: str, result: dict[str, Any]) -> None:
    broker = ctx.extra.get("changes")
    if broker is not None:
        await broker.publish(operation, result, ctx.principal)


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
