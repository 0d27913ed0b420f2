"""Typed errors in mutation payloads, and turning domain failures into them."""

from __future__ import annotations

import strawberry

from minzheng.core import errors as domain
from minzheng.core.events import EventHandlerFailed
from minzheng.core.scope import OutOfScope


@strawberry.interface(description="错误 A failure the client can act on; nothing was written")
class UserError:
    code: str = strawberry.field(description="机器可读代码 Machine-readable code")
    message: str = strawberry.field(description="说明 Human-readable explanation")


@strawberry.type(description="校验错误 An input value is invalid")
class ValidationError(UserError):
    field: str = strawberry.field(description="出错字段 Path of the offending input field")


@strawberry.type(description="冲突 Stale version, duplicate, or a state that forbids the change")
class ConflictError(UserError):
    current_version: int | None = strawberry.field(
        default=None, description="当前版本 The record's current version, when stale"
    )


@strawberry.type(description="未找到 The record does not exist or is outside your region")
class NotFoundError(UserError):
    entity: str = strawberry.field(description="记录类型 Kind of record")


@strawberry.type(description="非法状态变更 The case cannot take this action in its state")
class IllegalTransitionError(UserError):
    state: str = strawberry.field(description="当前状态 Current state")
    action: str = strawberry.field(description="动作 The refused action")


@strawberry.type(description="无权限 The principal may not do this")
class ForbiddenError(UserError):
    pass


@strawberry.type(description="插件拒绝 A plugin's reaction to this change failed; rolled back")
class PluginError(UserError):
    plugin: str = strawberry.field(description="插件 The plugin whose reaction failed")


ERROR_TYPES: list[type] = [
    ValidationError,
    ConflictError,
    NotFoundError,
    IllegalTransitionError,
    ForbiddenError,
    PluginError,
]


def to_user_error(exc: BaseException) -> UserError | None:
    """The typed error for a failure a client can act on, else None (unexpected)."""
    if isinstance(exc, domain.ValidationFailed):
        return ValidationError(code=exc.code, message=exc.message, field=exc.field)
    if isinstance(exc, domain.Conflict):
        return ConflictError(
            code="conflict", message=exc.message, current_version=exc.current_version
        )
    if isinstance(exc, domain.NotFound):
        return NotFoundError(code="not_found", message=exc.message, entity=exc.entity)
    if isinstance(exc, domain.IllegalTransition):
        return IllegalTransitionError(
            code="illegal_transition", message=exc.message, state=exc.state, action=exc.action
        )
    if isinstance(exc, domain.Forbidden):
        return ForbiddenError(code="forbidden", message=exc.message)
    if isinstance(exc, OutOfScope):
        return ForbiddenError(
            code="out_of_scope", message="the change would place a record outside your region"
        )
    if isinstance(exc, EventHandlerFailed):
        cause = exc.cause
        return PluginError(
            code="plugin_failed",
            plugin=exc.plugin,
            message=f"{exc.plugin} refused the change: {cause}",
        )
    if isinstance(exc, domain.DomainError):
        return ForbiddenError(code=exc.code, message=exc.message)
    return None
