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
value or the argument's default is used) for a connection or list field, the
configured default for a plain list field.  A connection's ``first`` multiplies
what lies under its ``edges``/``nodes`` lists, not its ``pageInfo``.  Fragments
are costed once per type and scaled, so a "fragment bomb" is measured without
being expanded.

Each refusal is a GraphQL error whose ``extensions`` carry ``code``, ``limit``
and ``actual``.  :class:`PersistedQueries` (same module) refuses operations that
are not registered when a deployment requires it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
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

from minzheng.schema.pii import SmallCellReport

if TYPE_CHECKING:
    from minzheng.core.settings import Settings

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


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
    """Depth, aliases and cost of one operation, fragments memoised per type."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        *,
        max_page_size: int,
        default_list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = dict(variables or {})
        self.max_page = max_page_size
        self.default_list = default_list_size
        self._memo: dict[tuple[str, str, int | None], Measure] = {}
        self._active: set[str] = set()
        self._var_defaults: dict[str, Any] = {}

    def operation(self, op: OperationDefinitionNode) -> Measure:
        for vd in op.variable_definitions or ():
            if vd.default_value is not None and vd.variable.name.value not in self.variables:
                self._var_defaults[vd.variable.name.value] = value_from_ast_untyped(
                    vd.default_value
                )
        root = self.schema.get_root_type(op.operation)
        return self._selection_set(op.selection_set, root, pending=None)

    # -- helpers

    def _arg_value(self, node: FieldNode, name: str) -> tuple[bool, Any]:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            v = arg.value
            if isinstance(v, VariableNode):
                var = v.name.value
                if var in self.variables:
                    return True, self.variables[var]
                return True, self._var_defaults.get(var)
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
                mult = self.default_list
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

    def check(
        self, doc: DocumentNode, variables: dict[str, Any] | None, operation_name: str | None
    ) -> list[GraphQLError]:
        schema = self.execution_context.schema._schema
        measurer = Measurer(
            schema,
            doc,
            variables,
            max_page_size=self.max_page_size,
            default_list_size=self.default_list_size,
        )
        for op in selected_operations(doc, operation_name):
            m = measurer.operation(op)
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
    "MemoryQueryStore",
    "PersistedQueries",
    "QueryLimits",
    "QueryStore",
    "count_tokens",
    "limit_error",
    "measure",
    "query_hash",
    "security_extensions",
]
