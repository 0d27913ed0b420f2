"""Permission classes declared on fields (never ad-hoc checks in resolvers)."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension


class HasPermission(BasePermission):
    """Allow the field when the principal holds ``permission``."""

    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, permission: str) -> None:
        self.permission = permission
        self.message = f"requires permission {permission}"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return bool(info.context.principal.can(self.permission))


def requires(*permissions: str) -> list[FieldExtension]:
    """Field extensions refusing the field unless the principal holds every permission:
    ``@strawberry.field(extensions=requires("registry:read"))``."""
    return [
        PermissionExtension(
            permissions=[HasPermission(p) for p in permissions], use_directives=False
        )
    ]
