"""Direct resolvers: hot per-object fields called without strawberry's per-call wrapper.

strawberry wraps every resolver in a function that builds a ``strawberry.Info``,
converts arguments into Python values, runs field extensions and awaits the
result if needed.  That costs about 30 µs a call, and a page of 50 households
with their members resolves about a thousand such fields (``id``, ``age``, the
personal-data fields, the dataloader relations).

A resolver marked with :func:`direct` is installed straight on the graphql-core
field when the schema is built (:func:`install`).  It must be the kind of
resolver that does not need the wrapper:

* no field extensions other than :func:`~minzheng.schema.permissions.requires`
  (checked here against ``context.principal``, raising the same error);
* arguments, if any, are plain scalars (``bool``, ``int``, ``float``, ``str``,
  optional or not) — they arrive as graphql-core parsed them, renamed to the
  Python parameter names;
* ``info``, if requested, is graphql-core's ``GraphQLResolveInfo``: it has
  ``context``, ``path``, ``field_name``, ``variable_values`` and
  ``root_value``, but not strawberry's ``selected_fields`` helpers.

graphql-core awaits whatever awaitable a resolver returns, so async resolvers
work unchanged.  Plugins may mark their per-person and per-household fields the
same way.  A dataloader relation is best marked :func:`prefetched`: the executor
then loads it for all the rows of a list at once before completing them.  A
leaf whose resolver reads nothing of ``info`` but its context is best marked
:func:`context_only`: the executor answers it without per-field work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLObjectType
from strawberry.permission import PermissionExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryOptional

from minzheng.schema.executor import CONTEXT_CALL, PLAIN_CALL, RELATION
from minzheng.schema.permissions import HasPermission

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__minzheng_direct__"
_CONTEXT_ONLY = "__minzheng_context_only__"
_SCALARS = (bool, int, float, str)


class DirectResolverError(TypeError):
    """A resolver marked :func:`direct` needs strawberry's wrapper after all."""


def direct(fn: F) -> F:
    """Mark a resolver to be installed directly on its graphql-core field.

    Put it under ``@strawberry.field(...)``::

        @strawberry.field(description="年龄 Age")
        @direct
        def age(self) -> int: ...
    """
    setattr(fn, _MARK, True)
    return fn


def prefetched(fn: F) -> F:
    """Mark a direct resolver as a dataloader relation the executor may prefetch.

    The resolver is a plain function that returns
    :func:`~minzheng.schema.loaders.loaded` (the value when the loader holds
    it, else something to await), reads nothing but its source, its arguments
    and ``info.context``, and has no effect but loading: the executor calls it
    for every row of a list before completing the rows, awaits the loads of the
    whole list at once, and so completes the rows synchronously::

        @strawberry.field(description="户成员 Members")
        @prefetched
        def members(self, info: strawberry.Info) -> list[Member]:
            return loaded(ctx(info).loaders["members_by_household"], self.id, to_members)
    """
    setattr(fn, _MARK, True)
    setattr(fn, RELATION, True)
    return fn


def context_only(fn: F) -> F:
    """Mark a direct resolver of ``(self, info)`` that reads nothing of ``info``
    but ``info.context`` (a personal-data field reads the principal and notes
    the read there).  The executor then calls it for a list's rows with one
    info for the whole list, whose path is not the row's, as it does for a
    :func:`prefetched` relation::

        @strawberry.field
        @context_only
        def phone(self, info: strawberry.Info) -> str | None: ...
    """
    setattr(fn, _MARK, True)
    setattr(fn, _CONTEXT_ONLY, True)
    return fn


def is_direct(fn: Any) -> bool:
    return bool(getattr(fn, _MARK, False))


def _scalar(annotation: Any) -> bool:
    inner = annotation.of_type if isinstance(annotation, StrawberryOptional) else annotation
    return inner in _SCALARS


def _resolver_for(schema: strawberry.Schema, owner: str, field: Any) -> Callable[..., Any]:
    resolve = _installed(schema, owner, field)
    if getattr(field.base_resolver.wrapped_func, RELATION, False):
        setattr(resolve, RELATION, True)
    return resolve


def _installed(schema: strawberry.Schema, owner: str, field: Any) -> Callable[..., Any]:
    where = f"{owner}.{field.python_name}"
    checks = _permission_checks(where, field.extensions)
    base = field.base_resolver
    fn = base.wrapped_func
    info = base.info_parameter.name if base.info_parameter is not None else None
    names: dict[str, str] = {}
    for argument in field.arguments:
        if not _scalar(argument.type):
            raise DirectResolverError(
                f"{where}: argument {argument.python_name!r} is not a plain scalar"
            )
        names[schema.config.name_converter.from_argument(argument)] = argument.python_name

    if not names and not checks and info is None:
        plain = lambda root, _info: fn(root)  # noqa: E731
        setattr(plain, PLAIN_CALL, fn)  # the executor may call fn(root) itself
        return plain
    if not names and not checks:
        key: str = info  # type: ignore[assignment]
        with_info = lambda root, graphql_info: fn(root, **{key: graphql_info})  # noqa: E731
        if getattr(fn, _CONTEXT_ONLY, False):
            setattr(with_info, CONTEXT_CALL, True)
        return with_info

    def resolve(root: Any, graphql_info: Any, **kwargs: Any) -> Any:
        if checks:
            principal = graphql_info.context.principal
            for check in checks:
                if not principal.can(check.permission):
                    check.on_unauthorized()  # raises, as strawberry's PermissionExtension
        values = {names[k]: v for k, v in kwargs.items()}
        if info is not None:
            values[info] = graphql_info
        return fn(root, **values)

    return resolve


def _permission_checks(where: str, extensions: list[Any]) -> list[HasPermission]:
    """The :func:`~minzheng.schema.permissions.requires` checks of a field; any
    other field extension needs strawberry's wrapper."""
    checks: list[HasPermission] = []
    for extension in extensions:
        if not isinstance(extension, PermissionExtension) or extension.fail_silently:
            raise DirectResolverError(
                f"{where}: a direct resolver can carry only requires(...) permission checks"
            )
        for permission in extension.permissions:
            if type(permission) is not HasPermission:
                raise DirectResolverError(
                    f"{where}: a direct resolver can check only HasPermission permissions"
                )
            checks.append(permission)
    return checks


def install(schema: strawberry.Schema) -> int:
    """Put every :func:`direct` resolver straight on its graphql-core field.
    Returns how many were installed."""
    installed = 0
    for gtype in schema._schema.type_map.values():
        if not isinstance(gtype, GraphQLObjectType) or gtype.name.startswith("__"):
            continue
        for gfield in gtype.fields.values():
            field = (gfield.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            base = getattr(field, "base_resolver", None)
            if base is None or not is_direct(base.wrapped_func):
                continue
            gfield.resolve = _resolver_for(schema, gtype.name, field)
            installed += 1
    return installed
