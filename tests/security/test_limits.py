"""Query limits on a small schema of our own: each refusal has its own code and
comes before any resolver runs."""

from __future__ import annotations

import pytest
import strawberry

from minzheng.core.settings import Settings
from minzheng.schema.limits import (
    MemoryQueryStore,
    PersistedQueries,
    QueryLimits,
    count_tokens,
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
