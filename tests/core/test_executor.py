"""The executor's short path for plain leaves answers exactly as graphql-core
does, errors included: nulls in non-null fields, values a type cannot
serialise, resolvers that raise or return awaitables, aliases, fragments,
``__typename`` and field middleware."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import pytest
import strawberry
from executors import make_schema
from strawberry.extensions import SchemaExtension

from minzheng.schema.direct import direct
from minzheng.schema.executor import leaf_plans


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Row:
    id: int
    name: str | None
    colour: Any
    score: Any = 1.5


@strawberry.type
class Thing:
    name: str | None
    colour: Colour
    score: float

    @strawberry.field
    def must_name(self) -> str:  # wrapped by strawberry: not a plain leaf
        return self.name  # type: ignore[return-value]

    @strawberry.field
    @direct
    def label(self) -> str:
        return f"thing-{self.id}"  # type: ignore[attr-defined]

    @strawberry.field
    @direct
    def strict_name(self) -> str:
        return self.name  # type: ignore[return-value]

    @strawberry.field
    @direct
    def broken(self) -> int:
        raise ValueError(f"broken {self.id}")  # type: ignore[attr-defined]

    @strawberry.field
    @direct
    async def later(self) -> str:
        return f"later-{self.id}"  # type: ignore[attr-defined]

    @strawberry.field
    @direct
    def shout(self, loud: bool = False) -> str:
        return self.name.upper() if loud and self.name else str(self.name)


ROWS = [
    Row(1, "甲", Colour.RED),
    Row(2, None, Colour.BLUE),
    Row(3, "丙", "green", score="many"),
]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return ROWS  # type: ignore[return-value]

    @strawberry.field
    def one(self, index: int) -> Thing | None:
        return ROWS[index]  # type: ignore[return-value]


class Counting(SchemaExtension):
    """Field middleware: the executor must step aside for it."""

    calls = 0

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Counting.calls += 1
        return _next(root, info, *args, **kwargs)


QUERIES = [
    "{ things { name colour score label } }",
    "{ things { n: name name ...F __typename } } fragment F on Thing { label colour }",
    "{ things { strictName } }",
    "{ things { broken label } }",
    "{ things { later label } }",
    "{ things { shout quiet: shout(loud: false) loud: shout(loud: true) } }",
    "{ things { mustName } }",
    "{ one(index: 2) { name score } }",
    "{ one(index: 0) { name @skip(if: true) label @include(if: true) } }",
]


async def answer(schema: strawberry.Schema, query: str) -> tuple[Any, list[Any]]:
    result = await schema.execute(query)
    errors = sorted(
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
        for e in result.errors or []
    )
    return result.data, errors


@pytest.mark.parametrize("query", QUERIES)
async def test_the_short_path_answers_as_graphql_core(query: str) -> None:
    assert await answer(make_schema(Query, True), query) == await answer(
        make_schema(Query, False), query
    )


async def test_what_the_short_path_answers() -> None:
    data, errors = await answer(make_schema(Query, True), QUERIES[0])
    assert data["things"][0] == {"name": "甲", "colour": "RED", "score": 1.5, "label": "thing-1"}
    assert data["things"][1]["name"] is None
    # "green" is no Colour and "many" no Float: the third thing is null, with an error
    assert data["things"][2] is None
    assert errors and all(path[:2] == ["things", 2] for _, path, _ in errors)

    data, errors = await answer(make_schema(Query, True), QUERIES[2])
    assert data["things"][1] is None and data["things"][0] == {"strictName": "甲"}
    assert (
        "Cannot return null for non-nullable field Thing.strictName.",
        ["things", 1, "strictName"],
    ) in [e[:2] for e in errors]

    data, errors = await answer(make_schema(Query, True), QUERIES[3])
    assert data == {"things": [None, None, None]}
    assert [e[:2] for e in errors] == [
        (f"broken {i}", ["things", i - 1, "broken"]) for i in (1, 2, 3)
    ]

    data, _ = await answer(make_schema(Query, True), QUERIES[4])
    assert data["things"][0] == {"later": "later-1", "label": "thing-1"}


def test_plans_cover_plain_leaves_only() -> None:
    plans = leaf_plans(make_schema(Query, True)._schema)
    assert set(plans["Thing"]) == {
        "name",
        "colour",
        "score",
        "label",
        "strictName",
        "broken",
        "later",
    }
    assert "mustName" not in plans["Thing"] and "shout" not in plans["Thing"]
    assert "Query" not in plans  # its fields take arguments or return objects
    assert plans["Thing"]["strictName"].non_null and not plans["Thing"]["name"].non_null


async def test_field_middleware_sees_every_field() -> None:
    Counting.calls = 0
    query = "{ things { label name } }"
    fast = await answer(make_schema(Query, True, [Counting]), query)
    fast_calls, Counting.calls = Counting.calls, 0
    slow = await answer(make_schema(Query, False, [Counting]), query)
    assert fast == slow and fast_calls == Counting.calls == 1 + 3 * 2
