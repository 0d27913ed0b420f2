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

**Object fields** take a short path too (:class:`ObjectPlan`): a field whose
type is an object type or a list of one, read off its source as a plain leaf
is, or through a :func:`~minzheng.schema.direct.prefetched` relation whose
value is at hand.  The value is checked to be plainly right (a row of the type,
no null where none is allowed) and each row's sub-selection goes straight back
to ``execute_fields``; a relation is called with a resolve info and arguments
built once per field group and request, and one the prefetch already found
loaded is not called again.  A value that is awaitable or not plainly right is
completed by graphql-core, which reports what is wrong with it.  Leaves whose
resolver reads only ``info.context``
(:func:`~minzheng.schema.direct.context_only`, such as the personal-data
fields) are answered in the loop with that shared info.

The plans are computed once per schema (:func:`field_plans`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import inspect
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
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
#: Set on a direct resolver of ``(source, info)`` that reads nothing of ``info``
#: but its context (:func:`minzheng.schema.direct.context_only`): the executor
#: may call it with one info for every row of a field group.
CONTEXT_CALL = "__minzheng_context_call__"


class LeafPlan(NamedTuple):
    read: Callable[..., Any]
    coerce: Callable[[Any], Any]
    non_null: bool
    #: the field (for the resolve info of a ``with_info`` read)
    field: GraphQLField
    #: ``read`` takes ``(source, info)`` (a context-only resolver), not ``(source)``
    with_info: bool = False
    #: the class of value the type serialises as itself (``str`` for String and
    #: ID, ``bool`` for Boolean): such a value is answered without a call
    exact: type | None = None


class ObjectPlan(NamedTuple):
    """An object field, or a list of objects, read straight off its source
    (``read``) or through a prefetched relation (``relation``, called with a
    resolve info and the arguments built once per request)."""

    read: Callable[[Any], Any] | None
    relation: Callable[..., Any] | None
    field: GraphQLField
    non_null: bool
    #: None for a single object; for a list, whether its items are non-null
    item_non_null: bool | None
    child: GraphQLObjectType


#: scalars that serialise a value of one class as the value itself
_EXACT: dict[Any, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}

_PLANS: WeakKeyDictionary[GraphQLSchema, dict[str, dict[str, LeafPlan]]] = WeakKeyDictionary()
_FIELD_PLANS: WeakKeyDictionary[GraphQLSchema, dict[str, dict[str, LeafPlan | ObjectPlan]]] = (
    WeakKeyDictionary()
)


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
            exact = _EXACT.get(inner)
            read = _reader(gfield)
            if read is not None:
                fields[name] = LeafPlan(
                    read, inner.coerce_output_value, non_null, gfield, False, exact
                )
            elif getattr(gfield.resolve, CONTEXT_CALL, False) or getattr(
                gfield.resolve, RELATION, False
            ):
                fields[name] = LeafPlan(
                    gfield.resolve, inner.coerce_output_value, non_null, gfield, True, exact
                )
        if fields:
            plans[gtype.name] = fields
    _PLANS[schema] = plans
    return plans


def _object_plan(gfield: GraphQLField) -> ObjectPlan | None:
    ftype: Any = gfield.type
    non_null = isinstance(ftype, GraphQLNonNull)
    inner = ftype.of_type if non_null else ftype
    item_non_null = None
    if isinstance(inner, GraphQLList):
        item = inner.of_type
        item_non_null = isinstance(item, GraphQLNonNull)
        inner = item.of_type if item_non_null else item
    if not isinstance(inner, GraphQLObjectType):
        return None  # a scalar, an interface or union, a list of lists
    if getattr(gfield.resolve, RELATION, False):
        return ObjectPlan(None, gfield.resolve, gfield, non_null, item_non_null, inner)
    read = None if gfield.args else _reader(gfield)
    if read is None:
        return None
    return ObjectPlan(read, None, gfield, non_null, item_non_null, inner)


def field_plans(schema: GraphQLSchema) -> dict[str, dict[str, LeafPlan | ObjectPlan]]:
    """Type name → field name → the plan of each field the executor answers
    itself: plain leaves (:func:`leaf_plans`) and object fields read off their
    source or through a prefetched relation."""
    plans = _FIELD_PLANS.get(schema)
    if plans is not None:
        return plans
    leaves = leaf_plans(schema)
    plans = {}
    for gtype in schema.type_map.values():
        if not isinstance(gtype, GraphQLObjectType) or gtype.name.startswith("__"):
            continue
        fields: dict[str, LeafPlan | ObjectPlan] = dict(leaves.get(gtype.name, {}))
        for name, gfield in gtype.fields.items():
            plan = _object_plan(gfield)
            if plan is not None:
                fields[name] = plan
        if fields:
            plans[gtype.name] = fields
    _FIELD_PLANS[schema] = plans
    return plans


#: classes of leaf values that are never awaitable; enum classes join as they
#: are met (an enum member's class is its enum)
_PLAIN: set[type] = {str, int, float, bool, dt.date, dt.datetime, Decimal}
_FAILED = object()
#: an object field the short path leaves to graphql-core's ``execute_field``
_SLOW = object()


def _objects(values: list[Any]) -> list[Any]:
    """The objects among relation values: lists flattened one level, nulls dropped."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, list | tuple):
            out.extend(v for v in value if v is not None)
        elif value is not None:
            out.append(value)
    return out


async def _settled(futures: list[Any]) -> None:
    """Wait until every future has a result or an error (which stays with its
    future, for the row that reads it).

    A level's futures belong to a few dataloader batches, and a batch sets all
    of its futures at once: one wait per batch, not one callback per future
    as ``gather`` would add."""
    for future in futures:
        if not future.done():
            with contextlib.suppress(Exception):  # the row's field reports it
                await future


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
        self._plans = {} if manager and manager.middlewares else field_plans(self.schema)
        #: per field group (its identity): the resolve info and arguments its
        #: relation is called with, built once per request
        self._calls: dict[int, tuple[Any, dict[str, Any]]] = {}
        #: (field group, source) → (source, value): relations the prefetch found
        #: loaded, so that completing the row does not call them again
        self._ready: dict[tuple[int, int], tuple[Any, Any]] = {}
        #: selection (its identity) → (selection, type, its fields' plans)
        self._kept_steps: dict[int, tuple[Any, Any, Any]] = {}

    def build_response(self, data: Any) -> Any:
        """graphql-core's response; the request's plans, infos and kept
        relation values are let go here, so that the rows they hold are freed
        with the request rather than at the next garbage collection."""
        try:
            return super().build_response(data)
        finally:
            self._calls.clear()
            self._ready.clear()
            self._kept_steps.clear()

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
        plans = self._plans.get(parent_type.name)
        if plans is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, leaf, obj in self._steps(
                parent_type, grouped_field_set, plans
            ):
                value = _FAILED
                if obj is not None:
                    result = self._object_field(
                        obj,
                        parent_type,
                        source_value,
                        field_details_list,
                        path,
                        response_name,
                        position_context,
                    )
                    if result is not _SLOW:
                        results[response_name] = result
                        if (
                            result is not None
                            and result.__class__ is not dict
                            and is_awaitable(result)
                        ):
                            awaitable_fields.append(response_name)
                        continue
                elif leaf is not None:
                    try:
                        if leaf.with_info:
                            info = self._call(
                                leaf.field, parent_type, field_details_list, path, response_name
                            )[0]
                            value = leaf.read(source_value, info)
                        else:
                            value = leaf.read(source_value)
                    except Exception:
                        value = _FAILED  # execute_field reads it again and reports it
                    else:
                        if value.__class__ is leaf.exact:
                            results[response_name] = value
                            continue
                        if value is None:
                            if not leaf.non_null:
                                results[response_name] = None
                                continue
                        elif _not_awaitable(value, is_awaitable):
                            try:
                                serialized = leaf.coerce(value)
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

    def _steps(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any, plans: dict[str, Any]
    ) -> list[tuple[str, Any, LeafPlan | None, ObjectPlan | None]]:
        """Each field of a selection with its plan, found once per selection and
        request (a list's rows share one): (response name, field group, leaf
        plan, object plan)."""
        key = id(grouped_field_set)
        kept = self._kept_steps.get(key)
        if kept is not None and kept[0] is grouped_field_set and kept[1] is parent_type:
            return kept[2]  # type: ignore[no-any-return]
        steps: list[tuple[str, Any, LeafPlan | None, ObjectPlan | None]] = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            plan = plans.get(node.name.value)
            leaf = plan if isinstance(plan, LeafPlan) and not node.arguments else None
            obj = plan if type(plan) is ObjectPlan else None
            steps.append((response_name, field_details_list, leaf, obj))
        # the selection is kept with its steps, so that its id is not reused
        self._kept_steps[key] = (grouped_field_set, parent_type, steps)
        return steps

    # ------------------------------------------------------------ objects

    def _call(
        self,
        field: GraphQLField,
        parent_type: GraphQLObjectType,
        field_details_list: Any,
        path: Any,
        response_name: str,
    ) -> tuple[Any, dict[str, Any]]:
        """The resolve info and arguments of a field group, built on first use.

        The info is shared by every row the group is resolved for: the
        resolvers called with it read its context, never its path (see
        :func:`~minzheng.schema.direct.prefetched` and
        :func:`~minzheng.schema.direct.context_only`)."""
        key = id(field_details_list)
        call = self._calls.get(key)
        if call is None:
            first = field_details_list[0]
            args = (
                get_argument_values(
                    field,
                    first.node,
                    self.variable_values,
                    first.fragment_variable_values,
                    self.hide_suggestions,
                )
                if field.args or first.node.arguments
                else {}
            )
            info = self.build_resolve_info(
                field,
                to_nodes(field_details_list),
                parent_type,
                Path(path, response_name, parent_type.name),
            )
            # the group is kept alive by graphql-core's collect_subfields cache
            call = self._calls[key] = (info, args)
        return call

    def _object_field(
        self,
        plan: ObjectPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        response_name: str,
        position_context: Any,
    ) -> Any:
        """An object field, or a list of objects, completed without graphql-core's
        per-field machinery when its value is at hand and plainly right: the
        rows' sub-selections go straight back to :meth:`execute_fields`.
        ``_SLOW`` leaves the field to ``execute_field``; a value that is not
        plainly right (awaitable, null where one is not allowed, not a row of
        the type) is completed by graphql-core, which reports it."""
        if position_context is not None or field_details_list[0].node.directives:
            return _SLOW  # deferred or streamed: graphql-core's incremental delivery
        field_path = Path(path, response_name, parent_type.name)
        try:
            info, args = self._call(
                plan.field, parent_type, field_details_list, path, response_name
            )
            if plan.read is not None:
                value = plan.read(source)
            else:
                ready = self._ready.get((id(field_details_list), id(source)))
                if ready is not None and ready[0] is source:
                    value = ready[1]
                else:
                    value = plan.relation(source, info, **args)  # type: ignore[misc]
        except Exception:
            return _SLOW  # execute_field calls it again and reports the error
        child = plan.child
        if value is None:
            if plan.non_null:
                return self._complete(
                    parent_type, field_details_list, field_path, position_context, value
                )
            return None
        collected = self.collect_subfields(child, field_details_list)
        if collected.new_defer_usages or not self._rows_of(child, value, plan, info):
            return self._complete(
                parent_type, field_details_list, field_path, position_context, value
            )
        grouped = collected.grouped_field_set
        return_type = plan.field.type
        if plan.item_non_null is None:
            try:
                result = self.execute_fields(child, value, field_path, grouped, None)
            except Exception as error:
                self.handle_field_error(error, return_type, field_details_list, field_path)
                return None
            if self.is_awaitable(result):
                return self._guarded(result, return_type, field_details_list, field_path)
            return result

        def rows() -> Any:
            return self._rows(child, value, grouped, field_details_list, field_path, return_type)

        if self._prefetching:  # a list inside a prefetched one: loaded already
            return rows()
        return self._prefetched([(child, field_details_list, _objects([value]))], rows)

    def _rows_of(self, child: GraphQLObjectType, value: Any, plan: ObjectPlan, info: Any) -> bool:
        """Whether a value is plainly what the plan's type expects: a row of
        the child type, or a list or tuple of such rows (and nulls where the
        items may be null)."""
        is_type_of = child.is_type_of
        is_awaitable = self.is_awaitable
        if plan.item_non_null is None:
            items: Any = (value,)
        elif value.__class__ is list or value.__class__ is tuple:
            items = value
        else:
            return False
        for item in items:
            if item is None:
                if plan.item_non_null:
                    return False
            elif is_type_of is not None:
                if is_type_of(item, info) is not True:
                    return False
            elif is_awaitable(item):
                return False
        return True

    def _rows(
        self,
        child: GraphQLObjectType,
        items: Any,
        grouped: Any,
        field_details_list: Any,
        path: Any,
        return_type: Any,
    ) -> Any:
        """A list's rows (their relations loaded), each completed by
        :meth:`execute_fields`; errors are located and handled as graphql-core's
        list completion does."""
        item_type = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        item_type = item_type.of_type
        completed: list[Any] = []
        awaiting: list[int] = []
        outer, self._prefetching = self._prefetching, True
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = Path(path, index, None)
                try:
                    row = self.execute_fields(child, item, item_path, grouped, None)
                except Exception as error:
                    self.handle_field_error(error, item_type, field_details_list, item_path)
                    row = None
                else:
                    if row.__class__ is not dict and self.is_awaitable(row):
                        row = self._guarded(row, item_type, field_details_list, item_path)
                        awaiting.append(index)
                completed.append(row)
        except Exception as error:
            if awaiting:
                self.settle_in_background([completed[i] for i in awaiting])
            self.handle_field_error(error, return_type, field_details_list, path)
            return None
        finally:
            self._prefetching = outer
        if not awaiting:
            return completed

        async def rows() -> Any:
            try:
                awaited = await gather_with_cancel(*(completed[i] for i in awaiting))
            except Exception as error:
                self.handle_field_error(error, return_type, field_details_list, path)
                return None
            for index, row in zip(awaiting, awaited, strict=True):
                completed[index] = row
            return completed

        return rows()

    async def _guarded(
        self, awaitable: Any, return_type: Any, field_details_list: Any, path: Any
    ) -> Any:
        """Await a row's completion; an error is handled as graphql-core handles
        one from an awaited field or list item."""
        try:
            return await awaitable
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None

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
        return self._prefetched(
            [(item_type, field_details_list, list(result))],
            lambda: self._complete_prefetched(
                return_type, field_details_list, info, path, result, position_context
            ),
        )

    _prefetching = False

    def _prefetched(
        self, level: list[tuple[GraphQLObjectType, Any, list[Any]]], complete: Callable[[], Any]
    ) -> Any:
        """``complete()`` once the relations below ``level`` are loaded
        (:meth:`_prefetch`): at once when they were, else awaitable."""
        pending = self._prefetch(level)
        if pending is None:
            return complete()

        async def after_prefetch() -> Any:
            await pending
            completed = complete()
            return await completed if self.is_awaitable(completed) else completed

        return after_prefetch()

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
                await _settled(futures)
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
                    keep = isinstance(child_type, GraphQLObjectType)
                    values = self._call_relation(
                        resolve, field_def, sub, parent_type, response_name, sources, futures, keep
                    )
                elif isinstance(child_type, GraphQLObjectType):
                    read = _reader(field_def)  # a plain attribute, or a pure direct resolver
                    if read is None or inspect.iscoroutinefunction(read):
                        continue  # an async resolver is left to run when its row completes
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
        keep: bool,
    ) -> list[Any]:
        """Call a relation for every source: its values, and the futures of the
        loads still pending.  ``keep``: the values are kept for the rows'
        completion (an object field's short path reads them back)."""
        try:
            info, args = self._call(field_def, parent_type, sub, None, response_name)
        except Exception:
            return []  # the field's own execution reports it
        values = []
        ready = self._ready
        group = id(sub)
        for source in sources:
            try:
                value = resolve(source, info, **args)
            except Exception:
                continue  # reported when the row's field is executed
            if isinstance(value, Pending):
                futures.append(value.future)
            else:
                values.append(value)
                if keep:  # with its source, so that the source's id is not reused
                    ready[group, id(source)] = (source, value)
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
