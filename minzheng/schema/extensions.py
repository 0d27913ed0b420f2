"""Schema extensions every request passes through (passed as classes or factories,
never shared instances)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

from minzheng.schema.context import current
from minzheng.schema.pii import write_pii_audit

log = logging.getLogger("minzheng.graphql")


class RequestLifecycle(SchemaExtension):
    """Binds the context to the request, audits unmasked personal-data reads and
    closes the request's session when the operation ends."""

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context.context
        token = current.set(ctx)
        try:
            yield
        finally:
            current.reset(token)

    async def on_execute(self) -> Any:  # type: ignore[override]
        ctx = self.execution_context.context
        ctx.operation_name = self.execution_context.operation_name
        ctx.db.tag(ctx.operation_name or "anonymous")
        try:
            yield
        finally:
            await ctx.db.close()
            if ctx.pii_reads:
                await self._audit(ctx)
            reset = getattr(ctx.loaders, "reset", None)
            if reset is not None:
                reset()  # the loaders' cycles go now, not at the next collection

    async def _audit(self, ctx: Any) -> None:
        """Write the request's ``pii.read`` entries; if that fails, the personal
        data read must not leave: the answer becomes an internal error."""
        try:
            await write_pii_audit(ctx)
        except Exception:
            result = self.execution_context.result
            if result is None:
                raise
            log.exception("personal-data audit failed", extra={"request_id": ctx.request_id})
            result.data = None
            result.errors = [
                GraphQLError(
                    f"Unexpected error (request id {ctx.request_id})",
                    extensions={"code": "INTERNAL", "requestId": ctx.request_id},
                )
            ]


class MaskUnexpected(SchemaExtension):
    """Unexpected exceptions become "Unexpected error" with the request id; the
    exception is logged with the same id.  GraphQL errors (validation, limits,
    permissions) pass through."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if not result or not result.errors:
            return
        ctx = self.execution_context.context
        metrics = ctx.extra.get("metrics") if ctx is not None else None
        masked = []
        for error in result.errors:
            original = error.original_error
            if original is not None and not isinstance(original, GraphQLError):
                rid = ctx.request_id if ctx is not None else "?"
                log.error(
                    "unexpected error in %s",
                    error.path,
                    exc_info=original,
                    extra={"request_id": rid},
                )
                error = GraphQLError(
                    f"Unexpected error (request id {rid})",
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions={"code": "INTERNAL", "requestId": rid},
                )
            if metrics is not None:
                code = (error.extensions or {}).get("code") or "GRAPHQL"
                metrics.graphql_errors.labels(code=str(code)).inc()
            masked.append(error)
        result.errors = masked


class CachedValidation(ValidationCache):
    """strawberry's ``ValidationCache`` that leaves errors already found (the query
    limits run first and skip validation by setting them) in place."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is None:
            yield from super().on_validate()
        else:
            yield


def parse_and_validate_caches(maxsize: int = 1024) -> list[Any]:
    """Factories for the parse and validation caches (module-level LRU caches,
    shared by every request): placed after the query limits, which must see
    each request's text before anything parses it."""
    return [lambda: ParserCache(maxsize=maxsize), lambda: CachedValidation(maxsize=maxsize)]
