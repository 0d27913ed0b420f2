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
arguments nor permission checks.  In ``execute_fields``' own loop it reads the
value and serialises it with the type's own ``coerce_output_value``: no
``info``, path or call per field.  Anything out of the ordinary
takes graphql-core's own route: a null, an awaitable, a value the type cannot
serialise, a resolver that raises (located and handled as graphql-core does),
and every field when field middleware is installed.  The answer, errors
included, is the same as graphql-core's; only the cost differs.

The plans are computed once per schema (:func:`leaf_plans`).
"""

from __future__ import annotations

import asyncio
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
    get_named_type,
)
from graphql.execution.executor import to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from minzheng.schema.loaders import Pending

#: Set by :func:`minzheng.schema.direct.install` on a direct resolver that can be
#: called with the source alone: the function to call.
PLAIN_CALL = "__minzheng_plain_call__"
#: Set on a resolver marked :func:`minzheng.schema.direct.prefetched`.
RELATION = "__minzheng_relation__"


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


def _objects(values: list[Any]) -> list[Any]:
    """The objects among relation values: lists flattened one level, nulls dropped."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, list | tuple):
            out.extend(v for v in value if v is not None)
        elif value is not None:
            out.append(value)
    return out


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
                value = _FAILED
                if plan is not None and not node.arguments:
                    try:
                        value = plan.read(source_value)
                    except Exception:
                        value = _FAILED  # execute_field reads it again and reports it
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
                field_path = Path(path, response_name, parent_type.name)
                if value is _FAILED:
                    result = self.execute_field(
                        parent_type, source_value, field_details_list, field_path, position_context
                    )
                else:  # read once already: completed as graphql-core would
                    result = self._complete(
                        parent_type, field_details_list, field_path, position_context, value
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

    # ------------------------------------------------------------ prefetch

    def complete_list_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects: its rows' relations are loaded first, level by
        level, one await per level for the whole list (:meth:`_prefetch`); the
        rows then complete without awaiting.  Lists inside a list that has been
        prefetched are not walked again."""
        item_type = get_named_type(return_type)
        if (
            self._prefetching
            or not isinstance(item_type, GraphQLObjectType)
            or not isinstance(result, list | tuple)
            or not result
        ):
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        pending = self._prefetch([(item_type, field_details_list, list(result))])
        if pending is None:
            return self._complete_prefetched(
                return_type, field_details_list, info, path, result, position_context
            )

        async def after_prefetch() -> Any:
            await pending
            completed = self._complete_prefetched(
                return_type, field_details_list, info, path, result, position_context
            )
            return await completed if self.is_awaitable(completed) else completed

        return after_prefetch()

    _prefetching = False

    def _complete_prefetched(self, *args: Any) -> Any:
        self._prefetching = True
        try:
            return super().complete_list_value(*args)
        finally:
            self._prefetching = False

    def _prefetch(self, level: list[tuple[GraphQLObjectType, Any, list[Any]]]) -> Any:
        """Walk the selection below a list breadth-first, calling its relations
        for every row; None when every value was already loaded, else a
        coroutine that awaits each level's loads together and goes on."""
        futures, below = self._relations(level)
        while not futures and below:
            level = below
            futures, below = self._relations(level)
        if not futures:
            return None

        async def rest(level: Any, futures: list[Any]) -> None:
            while True:
                await asyncio.gather(*futures, return_exceptions=True)
                futures, below = self._relations(level)
                while not futures:
                    if not below:
                        return
                    level = below
                    futures, below = self._relations(level)

        return rest(level, futures)

    def _relations(
        self, level: list[tuple[GraphQLObjectType, Any, list[Any]]]
    ) -> tuple[list[Any], list[tuple[GraphQLObjectType, Any, list[Any]]]]:
        """One level of the walk: the loads still pending, and the next level
        (the objects the relations and plain object fields gave)."""
        futures: list[Any] = []
        below: list[tuple[GraphQLObjectType, Any, list[Any]]] = []
        for parent_type, field_details_list, sources in level:
            grouped = self.collect_subfields(parent_type, field_details_list).grouped_field_set
            for response_name, sub in grouped.items():
                node = sub[0].node
                field_def = parent_type.fields.get(node.name.value)
                if field_def is None:
                    continue
                child_type = get_named_type(field_def.type)
                resolve = field_def.resolve
                if getattr(resolve, RELATION, False):
                    values = self._call_relation(
                        resolve, field_def, sub, parent_type, response_name, sources, futures
                    )
                elif isinstance(child_type, GraphQLObjectType):
                    read = _reader(field_def)  # a plain attribute, or a pure direct resolver
                    if read is None:
                        continue
                    values = []
                    for source in sources:
                        try:
                            values.append(read(source))
                        except Exception:
                            continue
                else:
                    continue
                if isinstance(child_type, GraphQLObjectType):
                    children = _objects(values)
                    if children:
                        below.append((child_type, sub, children))
        return futures, below

    def _call_relation(
        self,
        resolve: Any,
        field_def: Any,
        sub: Any,
        parent_type: GraphQLObjectType,
        response_name: str,
        sources: list[Any],
        futures: list[Any],
    ) -> list[Any]:
        node = sub[0].node
        try:
            args = (
                get_argument_values(
                    field_def,
                    node,
                    self.variable_values,
                    sub[0].fragment_variable_values,
                    self.hide_suggestions,
                )
                if field_def.args or node.arguments
                else {}
            )
        except Exception:
            return []  # the field's own execution reports it
        info = self.build_resolve_info(
            field_def, to_nodes(sub), parent_type, Path(None, response_name, parent_type.name)
        )
        values = []
        for source in sources:
            try:
                value = resolve(source, info, **args)
            except Exception:
                continue  # reported when the row's field is executed
            if isinstance(value, Pending):
                futures.append(value.future)
            else:
                values.append(value)
        return values

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
