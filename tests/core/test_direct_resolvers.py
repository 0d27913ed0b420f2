"""Direct resolvers answer exactly as strawberry's wrapped ones do: arguments
renamed, defaults applied, permission checks with the same error, awaitables
awaited; and a resolver that needs the wrapper stops the schema from building."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import strawberry

from minzheng.schema import direct as direct_module
from minzheng.schema.direct import DirectResolverError, direct
from minzheng.schema.permissions import requires


@dataclasses.dataclass
class Principal:
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclasses.dataclass
class Context:
    principal: Principal
    calls: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Row:
    id: int
    items: list[int]


@strawberry.type
class Thing:
    @strawberry.field
    @direct
    def label(self) -> str:
        return f"thing-{self.id}"  # type: ignore[attr-defined]

    @strawberry.field
    @direct
    def items(self, info: strawberry.Info, only_even: bool = False, limit: int = 10) -> list[int]:
        info.context.calls.append(info.field_name)
        items = [i for i in self.items if i % 2 == 0] if only_even else self.items  # type: ignore[attr-defined]
        return items[:limit]

    @strawberry.field(extensions=requires("thing:secret"))
    @direct
    async def secret(self) -> str:
        return f"secret-{self.id}"  # type: ignore[attr-defined]


@strawberry.type
class ThingQuery:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Row(1, [1, 2, 3, 4]), Row(2, [6, 7])]  # type: ignore[list-item]


@strawberry.input
class Filter:
    name: str


def make_schema(install: bool) -> strawberry.Schema:
    schema = strawberry.Schema(query=ThingQuery)
    if install:
        assert direct_module.install(schema) == 3
    return schema


QUERY = "{ things { label items(onlyEven: true, limit: 1) all: items secret } }"


@pytest.mark.parametrize("permissions", [{"thing:secret"}, set()])
async def test_direct_and_wrapped_resolvers_answer_alike(permissions: set[str]) -> None:
    answers: list[Any] = []
    for install in (False, True):
        ctx = Context(Principal(frozenset(permissions)))
        result = await make_schema(install).execute(QUERY, context_value=ctx)
        errors = [(e.message, e.path, e.extensions) for e in result.errors or []]
        answers.append((result.data, errors, ctx.calls))
    assert answers[0][:2] == answers[1][:2]
    data, errors, calls = answers[1]
    if permissions:
        assert not errors
        assert calls == ["items", "items", "items", "items"]
        assert data["things"][0] == {
            "label": "thing-1",
            "items": [2],
            "all": [1, 2, 3, 4],
            "secret": "secret-1",
        }
    else:
        assert data is None  # secret is non-null: the error propagates to the root
        assert errors[0][0] == "requires permission thing:secret"
        assert errors[0][2] == {"code": "FORBIDDEN"}


def test_a_direct_resolver_with_an_input_argument_stops_the_build() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        @direct
        def things(self, filter: Filter) -> int:
            return 1

    with pytest.raises(DirectResolverError, match=r"Query.things: argument 'filter'"):
        direct_module.install(strawberry.Schema(query=Query))


def test_a_direct_resolver_with_another_field_extension_stops_the_build() -> None:
    from strawberry.extensions.field_extension import FieldExtension

    class Upper(FieldExtension):
        def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
            return str(next_(source, info, **kwargs)).upper()

    @strawberry.type
    class Query:
        @strawberry.field(extensions=[Upper()])
        @direct
        def name(self) -> str:
            return "x"

    with pytest.raises(DirectResolverError, match=r"Query.name: a direct resolver can carry"):
        direct_module.install(strawberry.Schema(query=Query))
