"""Query limits on a small schema of our own: each refusal has its own code and
comes before any resolver runs."""

from __future__ import annotations

import pytest
import strawberry

from minzheng.core.settings import Settings
from minzheng.schema.limits import (
    LIST_SIZE,
    Measure,
    MeasureCache,
    MemoryQueryStore,
    PersistedQueries,
    QueryLimits,
    count_tokens,
    list_size,
    measure,
    query_hash,
    security_extensions,
)

CALLS: list[str] = []


@strawberry.type
class Person:
    name: str

    @strawberry.field
    def members(self) -> list[Person]:
        CALLS.append("members")
        return [Person(name="m")]

    @strawberry.field
    def friend(self) -> Person:
        CALLS.append("friend")
        return Person(name="f")


@strawberry.type
class Edge:
    node: Person
    cursor: str


@strawberry.type
class PageInfo:
    has_next_page: bool


@strawberry.type
class PersonConnection:
    edges: list[Edge]
    page_info: PageInfo


@strawberry.type
class Query:
    @strawberry.field
    def persons(self, first: int = 10) -> PersonConnection:
        CALLS.append("persons")
        return PersonConnection(
            edges=[Edge(node=Person(name=str(i)), cursor=str(i)) for i in range(min(first, 3))],
            page_info=PageInfo(has_next_page=False),
        )

    @strawberry.field
    def person(self) -> Person:
        CALLS.append("person")
        return Person(name="p")


def schema(**limits: object) -> strawberry.Schema:
    return strawberry.Schema(Query, extensions=[QueryLimits.configure(**limits)])


async def run(s: strawberry.Schema, q: str, variables: dict | None = None):  # type: ignore[no-untyped-def]
    CALLS.clear()
    return await s.execute(q, variable_values=variables)


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.extensions.get("code") for e in result.errors or []]


async def test_an_ordinary_query_runs() -> None:
    r = await run(schema(), "{ persons(first: 2) { edges { node { name } } } }")
    assert r.errors is None
    assert [e["node"]["name"] for e in r.data["persons"]["edges"]] == ["0", "1"]


async def test_depth() -> None:
    q = "{ person { friend { friend { friend { name } } } } }"
    assert measure(schema(), q).depth == 5
    r = await run(schema(max_depth=4), q)
    assert codes(r) == ["QUERY_TOO_DEEP"] and CALLS == []
    assert r.errors[0].extensions["limit"] == 4 and r.errors[0].extensions["actual"] == 5
    assert (await run(schema(max_depth=5), q)).errors is None


async def test_depth_through_fragments_and_typename_not_counted() -> None:
    q = """
    { person { ...F } }
    fragment F on Person { friend { ...G __typename } }
    fragment G on Person { friend { friend { name } } }
    """
    assert measure(schema(), q).depth == 5
    r = await run(schema(max_depth=4), q)
    assert codes(r) == ["QUERY_TOO_DEEP"] and CALLS == []


async def test_introspection_is_not_counted_for_depth_but_can_be_disabled() -> None:
    from graphql import get_introspection_query

    q = get_introspection_query()
    r = await run(schema(max_depth=6, max_tokens=5000), q)
    assert r.errors is None
    r = await run(schema(introspection=False), q)
    assert codes(r) == ["INTROSPECTION_DISABLED"]
    r = await run(schema(introspection=False), '{ __type(name: "Person") { name } }')
    assert codes(r) == ["INTROSPECTION_DISABLED"]
    r = await run(schema(introspection=False), "{ person { __typename name } }")
    assert r.errors is None and r.data == {"person": {"__typename": "Person", "name": "p"}}


async def test_aliases() -> None:
    q = "{ " + " ".join(f"a{i}: person {{ name }}" for i in range(31)) + " }"
    r = await run(schema(), q)
    assert codes(r) == ["QUERY_TOO_MANY_ALIASES"] and CALLS == []
    assert r.errors[0].extensions["actual"] == 31
    # through a fragment used twice
    q2 = (
        "{ x: person { ...F } y: person { ...F } } fragment F on Person { "
        + " ".join(f"f{i}: friend {{ name }}" for i in range(15))
        + " }"
    )
    r = await run(schema(), q2)
    assert codes(r) == ["QUERY_TOO_MANY_ALIASES"] and r.errors[0].extensions["actual"] == 32
    # aliases inside a list are counted once, not per item
    assert measure(schema(), "{ persons(first: 100) { edges { node { a: name } } } }").aliases == 1


async def test_tokens_counted_before_parsing() -> None:
    q = "{ person { " + "name " * 60 + "} }"
    assert count_tokens(q, 1000) == 3 + 60 + 2
    r = await run(schema(max_tokens=50), q)
    assert codes(r) == ["QUERY_TOO_MANY_TOKENS"] and CALLS == []
    # comments are not tokens
    assert count_tokens("# hello world\n{ person { name } }", 100) == 6


async def test_cost_counts_first_through_nesting() -> None:
    q = (
        "{ persons(first: 100) { edges { node { name members { name } } } "
        "pageInfo { hasNextPage } } }"
    )
    # persons 1 + edges (1 + 100 * node (1 + name 1 + members (1 + 10 * name 1)))
    #           + pageInfo (1 + 1)
    m = measure(schema(), q)
    assert m.cost == 1 + (1 + 100 * (1 + 1 + (1 + 10 * 1))) + (1 + 1)
    r = await run(schema(max_cost=1000), q)
    assert codes(r) == ["QUERY_TOO_COSTLY"] and CALLS == []
    assert r.errors[0].extensions["actual"] == m.cost
    small = "{ persons(first: 5) { edges { node { name members { name } } } } }"
    assert (await run(schema(max_cost=1000), small)).errors is None


async def test_cost_uses_variables_defaults_and_the_page_cap() -> None:
    q = "query Q($n: Int!) { persons(first: $n) { edges { node { name } } } }"
    assert measure(schema(), q, {"n": 50}).cost == 2 + 50 * 2
    assert measure(schema(), q, {"n": 5000}).cost == 2 + 100 * 2, "capped at the page size"
    assert measure(schema(), "{ persons { edges { node { name } } } }").cost == 2 + 10 * 2
    qd = "query Q($n: Int = 7) { persons(first: $n) { edges { cursor } } }"
    assert measure(schema(), qd).cost == 2 + 7
    r = await run(schema(max_cost=50), q, {"n": 100})
    assert codes(r) == ["QUERY_TOO_COSTLY"]


async def test_fragment_bomb_is_measured_without_expanding() -> None:
    frags = ["fragment F0 on Person { name }"]
    for i in range(1, 40):
        frags.append(
            f"fragment F{i} on Person {{ a: friend {{ ...F{i - 1} }} b: friend {{ ...F{i - 1} }} }}"
        )
    q = "{ person { ...F39 } } " + " ".join(frags)
    m = measure(schema(), q)
    assert m.cost > 2**39
    r = await run(schema(max_depth=100, max_tokens=10_000, max_aliases=10**15), q)
    assert codes(r) == ["QUERY_TOO_COSTLY"] and CALLS == []


async def test_cyclic_fragments_are_left_to_validation() -> None:
    q = (
        "{ person { ...A } } fragment A on Person { friend { ...B } } "
        "fragment B on Person { friend { ...A } }"
    )
    r = await run(schema(), q)
    assert r.errors and "cannot spread fragment" in r.errors[0].message.lower()
    assert CALLS == []


async def test_invalid_queries_still_get_validation_errors() -> None:
    r = await run(schema(), "{ person { nope } }")
    assert r.errors and "nope" in r.errors[0].message and CALLS == []


def test_configure_refuses_unknown_limits() -> None:
    with pytest.raises(TypeError, match="max_depht"):
        QueryLimits.configure(max_depht=3)


# ---------------------------------------------------------- persisted queries


REGISTERED = "query Known { person { name } }"


def pq_schema(mode: str, store: MemoryQueryStore | None = None) -> strawberry.Schema:
    return strawberry.Schema(Query, extensions=[PersistedQueries.configure(mode, store)])


async def test_persisted_required() -> None:
    store = MemoryQueryStore()
    digest = store.add(REGISTERED)
    assert digest == query_hash(REGISTERED)
    s = pq_schema("required", store)
    CALLS.clear()
    r = await s.execute(REGISTERED)
    assert r.errors is None and r.data == {"person": {"name": "p"}}
    CALLS.clear()
    r = await s.execute("{ person { name friend { name } } }")
    assert codes(r) == ["PERSISTED_QUERY_REQUIRED"] and CALLS == []
    r = await s.execute(REGISTERED + " ")
    assert codes(r) == ["PERSISTED_QUERY_REQUIRED"], "the exact text is what is registered"


async def test_persisted_hash_must_match_text() -> None:
    s = pq_schema("allowed", MemoryQueryStore())
    r = await s.execute(
        "{ person { name } }",
        operation_extensions={"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
    )
    assert codes(r) == ["PERSISTED_QUERY_HASH_MISMATCH"]


def test_required_mode_needs_a_store() -> None:
    with pytest.raises(ValueError, match="no store"):
        PersistedQueries.configure("required", None)
    with pytest.raises(ValueError, match="mode"):
        PersistedQueries.configure("sometimes", None)


async def test_security_extensions_from_settings() -> None:
    store = MemoryQueryStore()
    store.add(REGISTERED)
    exts = security_extensions(
        Settings(persisted_queries="required", max_query_depth=3, introspection=False),
        query_store=store,
    )
    s = strawberry.Schema(Query, extensions=exts)
    assert (await s.execute(REGISTERED)).errors is None
    r = await s.execute("{ __schema { types { name } } }")
    assert codes(r) == ["PERSISTED_QUERY_REQUIRED"]
    exts = security_extensions(Settings(max_query_depth=3, introspection=False))
    s = strawberry.Schema(Query, extensions=exts)
    assert codes(await s.execute("{ __schema { types { name } } }")) == ["INTROSPECTION_DISABLED"]
    assert codes(await s.execute("{ person { friend { friend { name } } } }")) == ["QUERY_TOO_DEEP"]


# ------------------------------------------------------------ list size hints


@strawberry.type
class Family:
    name: str

    @strawberry.field(metadata=list_size(3))
    def children(self) -> list[Family]:
        CALLS.append("children")
        return [Family(name="c")]

    @strawberry.field
    def cousins(self) -> list[Family]:
        return []


@strawberry.type
class FamilyQuery:
    @strawberry.field(metadata=list_size(2))
    def families(self) -> list[Family]:
        CALLS.append("families")
        return [Family(name="f")]

    @strawberry.field
    def persons(self, first: int = 10) -> PersonConnection:
        return Query.persons(self, first)  # type: ignore[arg-type]

    @strawberry.field
    def person(self, id_number: str = "") -> Person:
        return Person(name=id_number)


def family_schema(**limits: object) -> strawberry.Schema:
    return strawberry.Schema(FamilyQuery, extensions=[QueryLimits.configure(**limits)])


def test_list_size_declares_metadata() -> None:
    assert list_size(6) == {LIST_SIZE: 6}
    for bad in (-1, 1.5, True, "6"):
        with pytest.raises(ValueError, match="list_size"):
            list_size(bad)  # type: ignore[arg-type]


async def test_hints_replace_the_default_list_size() -> None:
    s = family_schema()
    # families 1 + 2 * (name 1 + children (1 + 3 * (name 1 + cousins (1 + 10 * name 1))))
    q = "{ families { name children { name cousins { name } } } }"
    cost = 1 + 2 * (1 + (1 + 3 * (1 + (1 + 10 * 1))))
    assert measure(s, q).cost == cost
    assert measure(s, q, default_list_size=4).cost == 1 + 2 * (1 + (1 + 3 * (1 + (1 + 4 * 1))))
    r = await run(family_schema(max_cost=cost), q)
    assert r.errors is None, r.errors
    r = await run(family_schema(max_cost=cost - 1), q)
    assert codes(r) == ["QUERY_TOO_COSTLY"] and CALLS == []
    assert r.errors[0].extensions == {"code": "QUERY_TOO_COSTLY", "limit": cost - 1, "actual": cost}


async def test_a_hint_is_not_a_cap_and_first_still_wins() -> None:
    r = await run(family_schema(), "{ families { children { name } } }")
    assert r.errors is None  # a declared size limits nothing at run time
    q = "{ persons(first: 50) { edges { node { name } } } }"
    assert measure(family_schema(), q).cost == 2 + 50 * 2


# ------------------------------------------------------------- measure cache


def limits_of(s: strawberry.Schema) -> type[QueryLimits]:
    (ext,) = [e for e in s.extensions if isinstance(e, type) and issubclass(e, QueryLimits)]
    return ext


PAGED = """query P($n: Int, $id: String!) {
  persons(first: $n) { edges { node { name } } }
  person(idNumber: $id) { name }
}"""


def paged_cost(n: int) -> int:
    return 2 + min(n, 100) * 2 + 2


async def test_the_cache_keys_on_the_page_variable() -> None:
    s = family_schema(max_cost=50)
    cache = limits_of(s).cache_for(s._schema)
    # 23 fits, 24 and 100 do not, in either order and again
    for n, refused in [(10, False), (100, True), (10, False), (23, False), (24, True), (100, True)]:
        r = await run(s, PAGED, {"n": n, "id": "1"})
        assert (codes(r) == ["QUERY_TOO_COSTLY"]) is refused, (n, r.errors)
        if refused:
            assert r.errors[0].extensions["actual"] == paged_cost(n)
    assert cache.misses == 4 and cache.hits == 2
    # absent and null take the argument's default (10); a string or a boolean is
    # costed at the page size (100) and must not share an entry with 1
    assert (await run(s, PAGED, {"id": "1"})).errors is None
    null = await run(s, PAGED, {"n": None, "id": "1"})  # refused by execution, not the cost
    assert null.errors and codes(null) == [None]
    assert (await run(s, PAGED, {"n": 1, "id": "1"})).errors is None
    assert codes(await run(s, PAGED, {"n": "1", "id": "1"})) == ["QUERY_TOO_COSTLY"]
    assert codes(await run(s, PAGED, {"n": True, "id": "1"})) == ["QUERY_TOO_COSTLY"]


async def test_variables_the_cost_does_not_read_share_an_entry() -> None:
    s = family_schema()
    cache = limits_of(s).cache_for(s._schema)
    for i in range(5):
        r = await run(s, PAGED, {"n": 3, "id": f"4108{i}"})
        assert r.errors is None and r.data["person"] == {"name": f"4108{i}"}
    assert cache.misses == 1 and cache.hits == 4 and len(cache) == 1


async def test_the_cache_keys_on_the_document_operation_and_configuration() -> None:
    two = (
        "query Small { persons(first: 1) { edges { cursor } } } "
        "query Big { persons(first: 90) { edges { node { name members { name } } } } }"
    )
    s = schema(max_cost=200)
    r = await s.execute(two, operation_name="Small")
    assert r.errors is None
    r = await s.execute(two, operation_name="Big")
    assert codes(r) == ["QUERY_TOO_COSTLY"]
    assert (await s.execute(two, operation_name="Small")).errors is None
    # a variable's declared default is part of the document, and so of the key
    d7 = "query Q($n: Int = 7) { persons(first: $n) { edges { node { members { name } } } } }"
    d90 = d7.replace("= 7", "= 90")
    assert (await s.execute(d7)).errors is None
    assert codes(await s.execute(d90)) == ["QUERY_TOO_COSTLY"]
    assert codes(await s.execute(d7, variable_values={"n": 90})) == ["QUERY_TOO_COSTLY"]
    # each configuration measures for itself: a smaller page size caps first lower
    small_pages = schema(max_cost=200, max_page_size=5)
    q = "{ persons(first: 90) { edges { node { name members { name } } } } }"
    assert codes(await s.execute(q)) == ["QUERY_TOO_COSTLY"]
    assert (await small_pages.execute(q)).errors is None
    assert codes(await s.execute(q)) == ["QUERY_TOO_COSTLY"]


async def test_the_cache_is_bounded() -> None:
    cache = MeasureCache(maxsize=3, per_document=2)
    m = (Measure(cost=1),)
    for i in range(5):
        cache.put(f"q{i}", None, {}, set(), m)
    assert len(cache) == 3 and cache.get("q0", None, {}) is None
    assert cache.get("q4", None, {}) == m
    for n in range(4):
        cache.put("p", None, {"n": n}, {"n"}, m)
    assert cache.get("p", None, {"n": 0}) is None and cache.get("p", None, {"n": 3}) == m
    # values too long, or not JSON, are measured every time rather than cached
    cache.put("p", None, {"n": "x" * 1000}, {"n"}, m)
    assert cache.get("p", None, {"n": "x" * 1000}) is None
    cache.put("p", None, {"n": object()}, {"n"}, m)
    assert cache.get("p", None, {"n": object()}) is None
