"""The schema's executor: graphql-core's, with a short path for plain leaf fields.

graphql-core handles every field the same way: it builds a ``GraphQLResolveInfo``,
reads the field's arguments, calls the resolver through the middleware, checks
for an awaitable, and completes the value by its type.  A page of 50 households
with their members resolves about 3,000 fields, two thirds of them leaves read
straight off an object (``name``, ``sex``, ``relation``, ``startOn``…), and that
handling is most of the CPU the page costs.

:class:`Executor` takes a shorter path for a *plain leaf*: a field without
arguments whose type is a scalar or an enum (non-null or not), resolved either
by strawberry's default resolver (an attribute of the source) or by a
:func:`~minzheng.schema.direct.direct` resolver that takes neither ``info`` nor
arguments nor permission checks.  It reads the value and serialises it with the
type's own ``coerce_output_value``, with no ``info`` built; in
``execute_fields``'s own loop, without a path or a call per field, when the
value is of a class that is never awaitable.  Anything out of the ordinary
takes graphql-core's own route: a null, an awaitable, a value the type cannot
serialise, a resolver that raises (located and handled as graphql-core does),
and every field when field middleware is installed.  The answer, errors
included, is the same as graphql-core's; only the cost differs.

The plans are computed once per schema (:func:`leaf_plans`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

#: Set by :func:`minzheng.schema.direct.install` on a direct resolver that can be
#: called with the source alone: the function to call.
PLAIN_CALL = "__minzheng_plain_call__"


class LeafPlan(NamedTuple):
    read: Callable[[Any], Any]
    coerce: Callable[[Any], Any]
    non_null: bool


_PLANS: WeakKeyDictionary[GraphQLSchema, dict[str, dict[str, LeafPlan]]] = WeakKeyDictionary()


def _reader(gfield: Any) -> Callable[[Any], Any] | None:
    resolve = gfield.resolve
    if resolve is None:
        return None
    plain = getattr(resolve, PLAIN_CALL, None)
    if plain is not None:
        return plain  # type: ignore[no-any-return]
    if not getattr(resolve, "_is_default", False):
        return None
    field = (gfield.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if field is None or field.default_resolver is not getattr:
        return None
    return attrgetter(field.python_name)


def leaf_plans(schema: GraphQLSchema) -> dict[str, dict[str, LeafPlan]]:
    """Type name → field name → how to read and serialise each plain leaf."""
    plans = _PLANS.get(schema)
    if plans is not None:
        return plans
    plans = {}
    for gtype in schema.type_map.values():
        if not isinstance(gtype, GraphQLObjectType) or gtype.name.startswith("__"):
            continue
        fields: dict[str, LeafPlan] = {}
        for name, gfield in gtype.fields.items():
            if gfield.args:
                continue
            ftype = gfield.type
            non_null = isinstance(ftype, GraphQLNonNull)
            inner = ftype.of_type if non_null else ftype
            if not isinstance(inner, GraphQLScalarType | GraphQLEnumType):
                continue
            read = _reader(gfield)
            if read is not None:
                fields[name] = LeafPlan(read, inner.coerce_output_value, non_null)
        if fields:
            plans[gtype.name] = fields
    _PLANS[schema] = plans
    return plans


#: classes of leaf values that are never awaitable; enum classes join as they
#: are met (an enum member's class is its enum)
_PLAIN: set[type] = {str, int, float, bool, dt.date, dt.datetime, Decimal}
_FAILED = object()


def _not_awaitable(value: Any, is_awaitable: Callable[[Any], bool]) -> bool:
    cls = value.__class__
    if cls in _PLAIN:
        return True
    if isinstance(value, enum.Enum) and not hasattr(cls, "__await__"):
        _PLAIN.add(cls)
        return True
    return not is_awaitable(value)


class Executor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with the plain-leaf path described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._leaves = {} if manager and manager.middlewares else leaf_plans(self.schema)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_fields``, with plain leaves answered in the
        loop: no path, no call, no awaitable check for a value that is plainly
        not one.  Whatever is not answered there goes to :meth:`execute_field`."""
        plans = self._leaves.get(parent_type.name)
        if plans is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                plan = plans.get(node.name.value)
                if plan is not None and not node.arguments:
                    try:
                        value = plan.read(source_value)
                    except Exception:
                        value = _FAILED
                    if value is None:
                        if not plan.non_null:
                            results[response_name] = None
                            continue
                    elif value is not _FAILED and _not_awaitable(value, is_awaitable):
                        try:
                            serialized = plan.coerce(value)
                        except Exception:
                            serialized = None
                        if serialized is not None and serialized is not Undefined:
                            results[response_name] = serialized
                            continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        plans = self._leaves.get(parent_type.name)
        plan = plans.get(field_details_list[0].node.name.value) if plans else None
        if plan is None or field_details_list[0].node.arguments:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        try:
            result = plan.read(source)
        except Exception as raw_error:
            field_def = parent_type.fields[field_details_list[0].node.name.value]
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None
        if result is None:
            if not plan.non_null:
                return None
        elif not self.is_awaitable(result):
            try:
                serialized = plan.coerce(result)
            except Exception:
                serialized = None
            if serialized is not None and serialized is not Undefined:
                return serialized
        return self._complete(parent_type, field_details_list, path, position_context, result)

    def _complete(
        self,
        parent_type: GraphQLObjectType,
        field_details_list: Any,
        path: Any,
        position_context: Any,
        result: Any,
    ) -> Any:
        """graphql-core's completion of a resolved value, for the unusual cases:
        it raises or records the same errors ``execute_field`` would."""
        field_def = parent_type.fields[field_details_list[0].node.name.value]
        return_type = field_def.type
        info = self.build_resolve_info(field_def, to_nodes(field_details_list), parent_type, path)
        try:
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            return self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
