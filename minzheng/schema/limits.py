"""Abuse limits, checked before any resolver runs.

:class:`QueryLimits` is a schema extension (pass the *class*, configured with
:meth:`QueryLimits.configure` or :meth:`QueryLimits.from_settings`) that refuses:

=========================  ==========================================================
``QUERY_TOO_MANY_TOKENS``  the document has more lexical tokens than allowed (counted
                           before it is parsed)
``INTROSPECTION_DISABLED`` ``__schema``/``__type`` while introspection is switched off
``QUERY_TOO_DEEP``         fields nested deeper than allowed (fragments expanded;
                           ``__typename`` and introspection fields not counted)
``QUERY_TOO_MANY_ALIASES`` more aliased fields than allowed (fragments expanded)
``QUERY_TOO_COSTLY``       the estimated number of resolved fields exceeds the budget
=========================  ==========================================================

The **cost** of a field is 1, plus the cost of its selections times the size
of the list it returns: ``first``/``last`` (capped at the page size; a variable's
value or the argument's default is used) for a connection or list field; for a
plain list field, the length its declaration expects (:func:`list_size`, field
metadata: ``Household.members`` about 6) or else the configured default.  A
connection's ``first`` multiplies what lies under its ``edges``/``nodes`` lists,
not its ``pageInfo``.  Fragments are costed once per type and scaled, so a
"fragment bomb" is measured without being expanded.

A measurement depends on the document, the operation, the schema, the page
size and default list size, and the values of the variables it read (those given
to ``first``/``last``): it is cached per configured :class:`QueryLimits` and
schema under exactly that key (:class:`MeasureCache`), so a repeated operation
with other variables is a dictionary lookup.

Each refusal is a GraphQL error whose ``extensions`` carry ``code``, ``limit``
and ``actual``.  :class:`PersistedQueries` (same module) refuses operations that
are not registered when a deployment requires it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.error import GraphQLSyntaxError
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter

from minzheng.schema.pii import SmallCellReport

if TYPE_CHECKING:
    from minzheng.core.settings import Settings

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

#: key of the expected list length in a strawberry field's ``metadata``
LIST_SIZE = "minzheng.list_size"


def list_size(expected: int) -> dict[str, int]:
    """Field ``metadata`` declaring the length a list field usually returns at
    most (an upper-typical figure, not a cap): the query-cost limit multiplies
    the field's selections by it instead of the configured default::

        @strawberry.field(description="户成员 Members", metadata=list_size(6))
        async def members(self, info: strawberry.Info) -> list[Member]: ...

    Merge it with other metadata as ``metadata={**list_size(6), ...}``.  Fields
    with a ``first``/``last`` argument are costed by that argument instead."""
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise ValueError(f"list_size must be a non-negative int, not {expected!r}")
    return {LIST_SIZE: expected}


def declared_list_size(field: Any) -> int | None:
    """The :func:`list_size` declared on a graphql-core field (through the
    strawberry field on its ``extensions``), or None."""
    definition = (getattr(field, "extensions", None) or {}).get(
        GraphQLCoreConverter.DEFINITION_BACKREF
    )
    metadata = getattr(definition, "metadata", None)
    if not metadata:
        return None
    value = metadata.get(LIST_SIZE)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def limit_error(
    code: str,
    message: str,
    *,
    limit: int | None = None,
    actual: int | None = None,
    nodes: Any = None,
) -> GraphQLError:
    ext: dict[str, Any] = {"code": code}
    if limit is not None:
        ext["limit"] = limit
    if actual is not None:
        ext["actual"] = actual
    return GraphQLError(message, nodes=nodes, extensions=ext)


# ----------------------------------------------------------------- measuring


def count_tokens(query: str, stop_after: int) -> int:
    """Lexical tokens in ``query`` (comments excluded), counting at most
    ``stop_after + 1``.  A lexing error stops the count (the parser reports it)."""
    lexer = Lexer(Source(query))
    n = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            n += 1
            if n > stop_after:
                break
    except GraphQLSyntaxError:
        pass
    return n


@dataclass
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0
    introspection: FieldNode | None = None


def _unwrap(t: Any) -> tuple[Any, bool]:
    """Named type, and whether the field returns a list."""
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        if isinstance(t, GraphQLList):
            is_list = True
        t = t.of_type
    return t, is_list


class Measurer:
    """Depth, aliases and cost of one operation, fragments memoised per type.

    Variables are read only through :meth:`_variable`, which records each name
    in :attr:`read`: a measurement is a function of the document, the schema,
    the two sizes and the values of exactly those variables (what
    :class:`MeasureCache` keys on)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        *,
        max_page_size: int,
        default_list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._variables: Mapping[str, Any] = variables or {}
        self.max_page = max_page_size
        self.default_list = default_list_size
        self.read: set[str] = set()
        self._memo: dict[tuple[str, str, int | None], Measure] = {}
        self._active: set[str] = set()
        self._var_defaults: dict[str, Any] = {}

    def operation(self, op: OperationDefinitionNode) -> Measure:
        self._var_defaults = {
            vd.variable.name.value: value_from_ast_untyped(vd.default_value)
            for vd in op.variable_definitions or ()
            if vd.default_value is not None
        }
        self._memo.clear()  # fragments may read this operation's variable defaults
        root = self.schema.get_root_type(op.operation)
        return self._selection_set(op.selection_set, root, pending=None)

    # -- helpers

    def _variable(self, name: str) -> Any:
        """A variable's value (its declared default when not given), recorded."""
        self.read.add(name)
        if name in self._variables:
            return self._variables[name]
        return self._var_defaults.get(name)

    def _arg_value(self, node: FieldNode, name: str) -> tuple[bool, Any]:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            v = arg.value
            if isinstance(v, VariableNode):
                return True, self._variable(v.name.value)
            if isinstance(v, IntValueNode):
                return True, int(v.value)
            return True, value_from_ast_untyped(v)
        return False, None

    def _page(self, node: FieldNode, field_def: Any) -> int | None:
        """The page size a ``first``/``last`` argument asks for, or None."""
        for name in ("first", "last"):
            if field_def is None or name not in field_def.args:
                continue
            given, value = self._arg_value(node, name)
            if not given or value is None:
                value = field_def.args[name].default_value
            if not isinstance(value, int) or isinstance(value, bool):
                value = self.max_page
            return max(0, min(int(value), self.max_page))
        return None

    def _selection_set(
        self, ss: SelectionSetNode | None, parent: Any, pending: int | None
    ) -> Measure:
        total = Measure()
        if ss is None or parent is None:
            return total
        for sel in ss.selections:
            if isinstance(sel, FieldNode):
                m = self._field(sel, parent, pending)
            elif isinstance(sel, InlineFragmentNode):
                t = (
                    self.schema.get_type(sel.type_condition.name.value)
                    if sel.type_condition
                    else parent
                )
                m = self._selection_set(sel.selection_set, t, pending)
            elif isinstance(sel, FragmentSpreadNode):
                m = self._spread(sel, pending)
            else:  # pragma: no cover - no other selection kinds
                continue
            total.depth = max(total.depth, m.depth)
            total.aliases += m.aliases
            total.cost += m.cost
            total.introspection = total.introspection or m.introspection
        return total

    def _spread(self, sel: FragmentSpreadNode, pending: int | None) -> Measure:
        name = sel.name.value
        frag = self.fragments.get(name)
        if frag is None or name in self._active:
            return Measure()  # unknown or cyclic: validation reports it
        t = self.schema.get_type(frag.type_condition.name.value)
        key = (name, getattr(t, "name", ""), pending)
        if key not in self._memo:
            self._active.add(name)
            try:
                self._memo[key] = self._selection_set(frag.selection_set, t, pending)
            finally:
                self._active.discard(name)
        return self._memo[key]

    def _field(self, node: FieldNode, parent: Any, pending: int | None) -> Measure:
        name = node.name.value
        if name.startswith("__"):
            intro = node if name in INTROSPECTION_FIELDS else None
            return Measure(aliases=1 if node.alias else 0, introspection=intro)
        fields = getattr(parent, "fields", None) or {}
        field_def = fields.get(name)
        if field_def is None:
            # unknown field: validation reports it; count it, go no deeper
            return Measure(depth=1, aliases=1 if node.alias else 0, cost=1)
        named, is_list = _unwrap(field_def.type)
        page = self._page(node, field_def)
        child_pending: int | None = None
        mult = 1
        if is_list:
            # a list under a connection (edges, nodes) takes the connection's page size
            if page is not None:
                mult = page
            elif pending is not None:
                mult = pending
            else:
                hint = declared_list_size(field_def)
                mult = self.default_list if hint is None else hint
        elif page is not None:
            child_pending = page
        sub = self._selection_set(node.selection_set, get_named_type(named), child_pending)
        return Measure(
            depth=1 + sub.depth,
            aliases=(1 if node.alias else 0) + sub.aliases,
            cost=1 + sub.cost * mult,
            introspection=sub.introspection,
        )


def selected_operations(
    document: DocumentNode, operation_name: str | None
) -> list[OperationDefinitionNode]:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        named = [o for o in ops if o.name and o.name.value == operation_name]
        return named or ops
    return ops


# ------------------------------------------------------------------ caching

_ABSENT = "\x00absent"  # not a JSON text, so never equal to a given value's token
_MAX_TOKEN = 64  # longer variable values are measured, not cached


def _token(variables: Mapping[str, Any], name: str) -> str | None:
    """A hashable stand-in for a variable's value that tells apart every two
    values the measurement could tell apart (``1``, ``true``, ``"1"``, ``1.0``,
    null, absent); None when the value is unusual enough not to cache."""
    if name not in variables:
        return _ABSENT
    try:
        token = json.dumps(variables[name], sort_keys=True, allow_nan=True)
    except (TypeError, ValueError):
        return None
    return token if len(token) <= _MAX_TOKEN else None


@dataclass
class _Entry:
    """What one (document, operation name) measured to, per variable values."""

    read: tuple[str, ...]
    results: OrderedDict[tuple[str, ...], tuple[Measure, ...]]


class MeasureCache:
    """Measurements by (document text, operation name, values of the variables
    the measurement read), least recently used first out.

    One cache belongs to one schema and one page size / default list size (see
    :meth:`QueryLimits.cache_for`), so those are part of the key by construction.
    Which variables a measurement reads depends on the document alone, and the
    measurement depends on nothing else that varies: two requests that agree on
    the text, the operation name and those values measure the same.
    """

    def __init__(self, maxsize: int = 1024, per_document: int = 16) -> None:
        self.maxsize = maxsize
        self.per_document = per_document
        self._entries: OrderedDict[tuple[str, str | None], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _values(self, entry: _Entry, variables: Mapping[str, Any]) -> tuple[str, ...] | None:
        tokens = []
        for name in entry.read:
            token = _token(variables, name)
            if token is None:
                return None
            tokens.append(token)
        return tuple(tokens)

    def get(
        self, text: str, operation_name: str | None, variables: Mapping[str, Any]
    ) -> tuple[Measure, ...] | None:
        with self._lock:
            entry = self._entries.get((text, operation_name))
            if entry is not None:
                values = self._values(entry, variables)
                found = entry.results.get(values) if values is not None else None
                if found is not None:
                    self._entries.move_to_end((text, operation_name))
                    entry.results.move_to_end(values)  # type: ignore[arg-type]
                    self.hits += 1
                    return found
            self.misses += 1
            return None

    def put(
        self,
        text: str,
        operation_name: str | None,
        variables: Mapping[str, Any],
        read: set[str],
        measures: tuple[Measure, ...],
    ) -> None:
        key = (text, operation_name)
        names = tuple(sorted(read))
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.read != names:
                entry = _Entry(read=names, results=OrderedDict())
                self._entries[key] = entry
            values = self._values(entry, variables)
            if values is None:
                return
            entry.results[values] = measures
            entry.results.move_to_end(values)
            while len(entry.results) > self.per_document:
                entry.results.popitem(last=False)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return sum(len(e.results) for e in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


# ---------------------------------------------------------------- extension


class QueryLimits(SchemaExtension):
    """Refuses over-large operations before execution (see the module docstring)."""

    max_depth: ClassVar[int] = 12
    max_tokens: ClassVar[int] = 4000
    max_aliases: ClassVar[int] = 30
    max_cost: ClassVar[int] = 20000
    max_page_size: ClassVar[int] = 100
    default_list_size: ClassVar[int] = 10
    introspection: ClassVar[bool] = True
    cache_size: ClassVar[int] = 1024
    _caches: ClassVar[weakref.WeakKeyDictionary[GraphQLSchema, MeasureCache]]

    @classmethod
    def configure(cls, **limits: Any) -> type[QueryLimits]:
        unknown = set(limits) - {
            "max_depth",
            "max_tokens",
            "max_aliases",
            "max_cost",
            "max_page_size",
            "default_list_size",
            "introspection",
            "cache_size",
        }
        if unknown:
            raise TypeError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        return type(cls.__name__, (cls,), dict(limits))

    @classmethod
    def from_settings(cls, settings: Settings) -> type[QueryLimits]:
        return cls.configure(
            max_depth=settings.max_query_depth,
            max_tokens=settings.max_query_tokens,
            max_aliases=settings.max_query_aliases,
            max_cost=settings.max_query_cost,
            max_page_size=settings.max_page_size,
            default_list_size=settings.default_list_size,
            introspection=settings.introspection,
        )

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        query = ctx.query
        if ctx.graphql_document is None and query and len(query) > self.max_tokens:
            n = count_tokens(query, self.max_tokens)
            if n > self.max_tokens:
                raise limit_error(
                    "QUERY_TOO_MANY_TOKENS",
                    f"the query has more than {self.max_tokens} tokens",
                    limit=self.max_tokens,
                    actual=n,
                )
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        doc = ctx.graphql_document
        if doc is not None and ctx.pre_execution_errors is None:
            errors = self.check(doc, ctx.variables, ctx.operation_name)
            if errors:
                # set before validation runs: it is skipped and these are returned
                ctx.pre_execution_errors = errors
        yield

    @classmethod
    def cache_for(cls, schema: GraphQLSchema) -> MeasureCache:
        """The measurement cache of this configured class on ``schema`` (each
        :meth:`configure` makes a class of its own, so with its own caches)."""
        caches = cls.__dict__.get("_caches")
        if caches is None:  # a class of its own, never a parent's caches
            caches = weakref.WeakKeyDictionary()
            cls._caches = caches
        cache = caches.get(schema)
        if cache is None:
            cache = caches.setdefault(schema, MeasureCache(maxsize=cls.cache_size))
        return cache

    def measure(
        self, doc: DocumentNode, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> tuple[Measure, ...]:
        """The measures of the operations the request selects, cached."""
        schema = self.execution_context.schema._schema
        variables = variables or {}
        text = self.execution_context.query
        cache = self.cache_for(schema) if text and self.cache_size > 0 else None
        if cache is not None:
            assert text is not None
            found = cache.get(text, operation_name, variables)
            if found is not None:
                return found
        measurer = Measurer(
            schema,
            doc,
            variables,
            max_page_size=self.max_page_size,
            default_list_size=self.default_list_size,
        )
        measures = tuple(measurer.operation(op) for op in selected_operations(doc, operation_name))
        if cache is not None:
            assert text is not None
            cache.put(text, operation_name, variables, measurer.read, measures)
        return measures

    def check(
        self, doc: DocumentNode, variables: dict[str, Any] | None, operation_name: str | None
    ) -> list[GraphQLError]:
        for m in self.measure(doc, variables, operation_name):
            if m.introspection is not None and not self.introspection:
                return [
                    limit_error(
                        "INTROSPECTION_DISABLED",
                        "introspection is switched off on this server",
                        nodes=[m.introspection],
                    )
                ]
            if m.depth > self.max_depth:
                return [
                    limit_error(
                        "QUERY_TOO_DEEP",
                        f"the query is nested {m.depth} levels deep; the limit is {self.max_depth}",
                        limit=self.max_depth,
                        actual=m.depth,
                    )
                ]
            if m.aliases > self.max_aliases:
                return [
                    limit_error(
                        "QUERY_TOO_MANY_ALIASES",
                        f"the query uses {m.aliases} aliases; the limit is {self.max_aliases}",
                        limit=self.max_aliases,
                        actual=m.aliases,
                    )
                ]
            if m.cost > self.max_cost:
                return [
                    limit_error(
                        "QUERY_TOO_COSTLY",
                        f"the query could resolve about {m.cost} fields; the limit is "
                        f"{self.max_cost} (ask for smaller pages or fewer nested lists)",
                        limit=self.max_cost,
                        actual=m.cost,
                    )
                ]
        return []


def measure(
    schema: Any, query: str, variables: dict[str, Any] | None = None, **opts: int
) -> Measure:
    """Depth, aliases and cost of ``query`` (tests, ``minzheng`` tooling)."""
    from graphql import parse

    gschema = getattr(schema, "_schema", schema)
    doc = parse(query)
    m = Measurer(
        gschema,
        doc,
        variables,
        max_page_size=opts.get("max_page_size", 100),
        default_list_size=opts.get("default_list_size", 10),
    )
    ops = selected_operations(doc, None)
    return m.operation(ops[0])


# ---------------------------------------------------------- persisted queries


def query_hash(query: str) -> str:
    """SHA-256 (hex) of the query text exactly as sent — the APQ convention."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


class QueryStore:
    """Where registered operations are kept; see :mod:`minzheng.core.persisted`."""

    async def get(self, digest: str) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


class MemoryQueryStore(QueryStore):
    def __init__(self, documents: dict[str, str] | None = None) -> None:
        self.documents = dict(documents or {})

    def add(self, query: str) -> str:
        digest = query_hash(query)
        self.documents[digest] = query
        return digest

    async def get(self, digest: str) -> str | None:
        return self.documents.get(digest)


def sent_hash(operation_extensions: dict[str, Any] | None) -> str | None:
    pq = (operation_extensions or {}).get("persistedQuery")
    if isinstance(pq, dict) and isinstance(pq.get("sha256Hash"), str):
        return pq["sha256Hash"].lower()
    return None


class PersistedQueries(SchemaExtension):
    """``required``: only registered documents run (``PERSISTED_QUERY_REQUIRED`` /
    ``PERSISTED_QUERY_NOT_FOUND``).  In every mode a sent ``persistedQuery``
    hash must match the sent text (``PERSISTED_QUERY_HASH_MISMATCH``).

    Requests that send only the hash get their text filled in by the gateway
    (:mod:`minzheng.gateway.limits`) before they reach the schema.
    """

    mode: ClassVar[str] = "off"
    store: ClassVar[QueryStore | None] = None

    @classmethod
    def configure(cls, mode: str, store: QueryStore | None) -> type[PersistedQueries]:
        if mode not in ("off", "allowed", "required"):
            raise ValueError(f"persisted query mode must be off, allowed or required: {mode!r}")
        if mode == "required" and store is None:
            raise ValueError("persisted queries are required but no store is configured")
        return type(cls.__name__, (cls,), {"mode": mode, "store": store})

    async def on_operation(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        query = ctx.query or ""
        claimed = sent_hash(ctx.operation_extensions)
        actual = query_hash(query) if query else None
        if claimed is not None and actual is not None and claimed != actual:
            raise limit_error(
                "PERSISTED_QUERY_HASH_MISMATCH",
                "the persistedQuery hash does not match the query text",
            )
        if self.mode == "required":
            if not query:
                raise limit_error(
                    "PERSISTED_QUERY_NOT_FOUND", "no registered operation has this hash"
                )
            assert self.store is not None and actual is not None
            if await self.store.get(actual) is None:
                raise limit_error(
                    "PERSISTED_QUERY_REQUIRED",
                    "this server runs registered operations only; register the document "
                    "with 'minzheng persisted register'",
                )
        yield


def security_extensions(
    settings: Settings, *, query_store: QueryStore | None = None
) -> list[type[SchemaExtension]]:
    """The limit extensions a deployment's settings ask for (classes, in order)."""
    out: list[type[SchemaExtension]] = []
    if settings.persisted_queries != "off" or query_store is not None:
        out.append(PersistedQueries.configure(settings.persisted_queries, query_store))
    out.append(QueryLimits.from_settings(settings))
    out.append(SmallCellReport)
    return out


__all__ = [
    "LIST_SIZE",
    "MeasureCache",
    "MemoryQueryStore",
    "PersistedQueries",
    "QueryLimits",
    "QueryStore",
    "count_tokens",
    "declared_list_size",
    "limit_error",
    "list_size",
    "measure",
    "query_hash",
    "security_extensions",
]
