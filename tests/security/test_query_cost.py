"""The query-cost limit over HTTP on the composed graph: list size hints make a
realistic household list fit the default budget, nested lists are still
refused, plugins' hints count, and the cached measurement never lets a costlier
request through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from conftest import EXAMPLE
from minzheng.core.settings import Settings
from minzheng.schema.limits import MeasureCache, QueryLimits, measure

from .conftest import BACKENDS
from .world import CITY, COUNTY, World, bearer, build_world

DEFAULT_COST = Settings().max_query_cost


@pytest_asyncio.fixture(scope="module", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    w = await build_world(request.param, tmp_path_factory.mktemp("cost"), request)
    try:
        yield w
    finally:
        await w.dispose()


def cache_of(app: Any) -> MeasureCache:
    schema = app.state.schema
    (limits,) = [e for e in schema.extensions if isinstance(e, type) and issubclass(e, QueryLimits)]
    return limits.cache_for(schema._schema)


async def post(
    app: Any,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers=headers or bearer("admin", CITY),
    ) as c:
        r = await c.post("/graphql", json={"query": query, "variables": variables or {}})
    assert r.status_code == 200, r.text
    return r.json()


def refusal(body: Any) -> dict[str, Any]:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    return error["extensions"]  # type: ignore[no-any-return]


# A county dashboard's household list: a page of 50 with members, each
# member's enrolments and notes (the example plugin's list), the household's
# enrolments.
HOUSEHOLDS = """
query Households($first: Int!) {
  households(first: $first) {
    edges {
      cursor
      node {
        id number address hukouType
        region { code name }
        members {
          relation joinedOn
          person {
            id idNumber name sex birthDate age
            disability { category grade }
            enrolments { programme status startOn monthlyAmountFen }
            exampleNotes { text writtenOn }
          }
        }
        enrolments { programme status startOn monthlyAmountFen }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


def households_cost(first: int, members: int = 6, enrolments: int = 4, notes: int = 3) -> int:
    person = 1 + 6 + 3 + (1 + enrolments * 4) + (1 + notes * 2)
    member = 2 + person
    node = 1 + 4 + 3 + (1 + members * member) + (1 + 3 * 4)
    return 1 + (1 + first * (1 + node)) + 3


async def test_a_household_list_with_members_and_enrolments_fits_the_default(
    world: World,
) -> None:
    schema = world.app.state.schema
    cost = measure(schema, HOUSEHOLDS, {"first": 50}).cost
    assert cost == households_cost(50) <= DEFAULT_COST
    # what it was estimated at before the fields declared their sizes
    assert households_cost(50, members=10, enrolments=10, notes=10) > DEFAULT_COST
    body = await post(world.app, HOUSEHOLDS, {"first": 50})
    assert not body.get("errors"), body["errors"]
    households = body["data"]["households"]["edges"]
    assert len(households) == len(world.households)
    assert all(len(h["node"]["members"]) == 2 for h in households)
    assert all(m["person"]["exampleNotes"] for h in households for m in h["node"]["members"])


NESTED = """{
  households(first: 100) { edges { node {
    incomes { amountFen }
    members { person {
      enrolments { programme household { members { person { name } } } }
      exampleNotes { text }
    } }
  } } }
}"""


async def test_many_nested_lists_are_still_refused(world: World) -> None:
    # a field costs 1 + its selections, times the declared size for a list
    inner_person = 1 + 1  # person { name }
    household = 1 + (1 + 6 * inner_person)  # household { members { … } }
    enrolments = 1 + 4 * (1 + household)  # enrolments { programme household }
    person = 1 + enrolments + (1 + 3 * 1)  # person { enrolments exampleNotes { text } }
    node = 1 + (1 + 8 * 1) + (1 + 6 * person)  # node { incomes members }
    expected = 1 + (1 + 100 * node)
    assert measure(world.app.state.schema, NESTED).cost == expected
    before = await world.count("audit_log")
    ext = refusal(await post(world.app, NESTED))
    assert ext == {"code": "QUERY_TOO_COSTLY", "limit": DEFAULT_COST, "actual": expected}
    assert await world.count("audit_log") == before, "no resolver ran"


NOTES = """
query Notes($first: Int!, $idNumber: String!) {
  persons(first: $first) { edges { node { exampleNotes { text writtenOn } } } }
  personByIdNumber(idNumber: $idNumber) { name }
}"""


def notes_cost(first: int) -> int:
    # the example plugin declares Person.exampleNotes at 3 notes (not the default 10)
    return 1 + (1 + first * (1 + (1 + 3 * 2))) + 2


async def test_a_plugins_hint_is_honoured(world: World) -> None:
    app = world.app_with(max_query_cost=notes_cost(50))
    id_number = next(iter(world.persons.values()))[2]
    body = await post(app, NOTES, {"first": 50, "idNumber": id_number})
    assert not body.get("errors"), body["errors"]
    ext = refusal(await post(app, NOTES, {"first": 51, "idNumber": id_number}))
    assert ext == {"code": "QUERY_TOO_COSTLY", "limit": notes_cost(50), "actual": notes_cost(51)}


async def test_the_cached_measurement_follows_first_and_ignores_other_variables(
    world: World,
) -> None:
    app = world.app_with(max_query_cost=notes_cost(50))
    cache = cache_of(app)
    numbers = [n for _v, _g, n in world.persons.values()]
    # the same document, a page of 50 then 51 then 50 again: each decided on its own
    for first in (50, 51, 50, 100, 51):
        body = await post(app, NOTES, {"first": first, "idNumber": numbers[0]})
        if first <= 50:
            assert not body.get("errors"), body["errors"]
        else:
            assert refusal(body)["actual"] == notes_cost(first)
    assert (cache.misses, cache.hits) == (3, 2)
    # another person looked up with the same page size: a lookup, not a measurement
    for number in numbers:
        body = await post(app, NOTES, {"first": 5, "idNumber": number})
        assert body["data"]["personByIdNumber"] is not None, body
    assert (cache.misses, cache.hits) == (4, 1 + len(numbers))
    assert len(cache) == 4


async def test_county_scope_does_not_change_the_estimate(world: World) -> None:
    """The cost is the schema's estimate, the same for every principal (and so
    safe to share between them)."""
    app = world.app_with()
    for headers in (bearer("admin", CITY), bearer("viewer", COUNTY)):
        assert refusal(await post(app, NESTED, headers=headers))["code"] == "QUERY_TOO_COSTLY"
    assert cache_of(app).hits == 1


def test_hints_are_declared_on_plain_list_fields_only() -> None:
    """A hint on a field that returns no list, or that takes ``first``/``last``,
    would be ignored: a declaration mistake."""
    from graphql import GraphQLInterfaceType, GraphQLObjectType

    from minzheng.core import plugins
    from minzheng.schema.builder import build_schema
    from minzheng.schema.limits import _unwrap, declared_list_size

    schema = build_schema(plugins.load("all", extra=[EXAMPLE]))._schema
    hinted = []
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for name, field in type_.fields.items():
            if declared_list_size(field) is None:
                continue
            hinted.append(f"{type_.name}.{name}")
            assert _unwrap(field.type)[1], f"{type_.name}.{name} declares a size but is no list"
            assert not {"first", "last"} & set(field.args), f"{type_.name}.{name} is paged"
    assert {"Household.members", "Person.enrolments", "Person.exampleNotes"} <= set(hinted)


def test_every_plain_list_of_objects_declares_its_size() -> None:
    """Without a hint a list counts as the configured default (10): a city's
    reserve funds or a payroll's changes would be estimated far too cheap."""
    from graphql import GraphQLObjectType

    from minzheng.core import plugins
    from minzheng.schema.builder import build_schema
    from minzheng.schema.limits import _unwrap, declared_list_size

    schema = build_schema(plugins.load("all"))._schema
    missing = []
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            named, is_list = _unwrap(field.type)
            if not is_list or not isinstance(named, GraphQLObjectType):
                continue
            if type_.name.endswith("Connection") and name == "edges":
                continue  # sized by the connection's `first`
            if name == "errors" and named.name == "UserError":
                continue  # a payload's validation errors: a handful
            if declared_list_size(field) is None:
                missing.append(f"{type_.name}.{name}")
    assert missing == []
