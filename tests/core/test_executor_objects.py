"""The executor's short path for object fields, lists of objects and
context-only leaves answers exactly as graphql-core does, errors included:
nulls where none are allowed, rows of the wrong type, errors that make a row
or a whole list null, awaitable values, directives; and it does take the
short path where it can."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest
import strawberry
from executors import make_schema

from minzheng.schema.direct import context_only, direct
from minzheng.schema.executor import Executor, ObjectPlan, field_plans


@dataclasses.dataclass
class Item:
    id: int
    name: str | None


@dataclasses.dataclass
class Stranger:
    """Not an Item: a row of the wrong type."""

    id: int
    name: str | None


def _is_item(cls: type, obj: Any, _info: Any) -> bool:
    return isinstance(obj, (Item, cls))


@strawberry.type
class ItemType:
    is_type_of = classmethod(_is_item)

    id: int
    name: str | None

    @strawberry.field
    @direct
    def must(self) -> str:
        return self.name  # type: ignore[return-value]

    @strawberry.field
    @context_only
    def secret(self, info: strawberry.Info) -> str | None:
        if self.name is None:
            return None
        seen = info.context.setdefault("seen", [])
        seen.append(self.id)  # type: ignore[attr-defined]
        return self.name if info.context["allowed"] else "***"

    @strawberry.field
    @direct
    async def later(self) -> str:
        return f"later-{self.id}"  # type: ignore[attr-defined]

    @strawberry.field
    @direct
    async def later_must(self) -> str:
        return self.name  # type: ignore[return-value]


@dataclasses.dataclass
class Box:
    item: Any
    maybe: Any
    items: Any
    loose: Any
    strict: Any
    wrong: Any
    awaited: Any = None


@strawberry.type
class BoxType:
    item: ItemType
    maybe: ItemType | None
    items: list[ItemType]
    loose: list[ItemType | None] | None
    strict: list[ItemType] | None
    wrong: ItemType | None

    @strawberry.field
    @direct
    def sibling(self) -> ItemType | None:
        return Item(99, "sibling")

    @strawberry.field
    @direct
    async def awaited_item(self) -> ItemType | None:
        return Item(77, "awaited")


async def _coroutine_item() -> Item:
    return Item(55, "coroutine")


def boxes() -> list[Box]:
    return [
        Box(
            item=Item(1, "one"),
            maybe=None,
            items=[Item(2, "two"), Item(3, None)],
            loose=[Item(4, "four"), None],
            strict=[Item(5, "five"), None],  # a null in a list of non-null items
            wrong=Stranger(6, "six"),
        ),
        Box(
            item=Item(7, None),
            maybe=Item(8, "eight"),
            items=(Item(9, "nine"),),
            loose=None,
            strict=[Item(10, "ten")],
            wrong=None,
        ),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def boxes(self) -> list[BoxType | None]:
        return boxes()  # type: ignore[return-value]

    @strawberry.field
    def box(self) -> BoxType:
        return boxes()[1]  # type: ignore[return-value]


QUERIES = [
    "{ boxes { item { id name } maybe { id } items { id name } } }",
    "{ boxes { loose { id name } } }",
    "{ boxes { strict { id } } }",
    "{ boxes { wrong { id } } }",
    "{ boxes { items { must } } }",  # a null in a non-null leaf: the row, then the list
    "{ boxes { item { must } } }",  # …in a non-null object: the box is null
    "{ boxes { maybe { must } loose { must } } }",
    "{ boxes { items { later id } sibling { later } awaitedItem { id name } } }",
    "{ boxes { items { secret } item { secret } } }",
    "{ box { a: items { id } b: items { name } item { ...F } } } fragment F on ItemType { id }",
    "{ box { items @include(if: true) { id } maybe @skip(if: true) { id } } }",
    "{ boxes { items { __typename id } } }",
    # an awaited null in a non-null field: the row, then the rows' list, then the box
    "{ boxes { items { laterMust } } }",
    "{ boxes { loose { laterMust id } maybe { laterMust } } }",
]


async def answer(
    schema: strawberry.Schema, query: str, allowed: bool = True
) -> tuple[Any, list[Any], dict[str, Any]]:
    context: dict[str, Any] = {"allowed": allowed}
    result = await schema.execute(query, context_value=context)
    errors = sorted(
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
        for e in result.errors or []
    )
    return result.data, errors, context


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("allowed", [True, False])
async def test_the_object_path_answers_as_graphql_core(query: str, allowed: bool) -> None:
    fast = await answer(make_schema(Query, True), query, allowed)
    slow = await answer(make_schema(Query, False), query, allowed)
    assert fast[:2] == slow[:2]
    assert sorted(fast[2].get("seen", [])) == sorted(slow[2].get("seen", []))


async def test_what_the_object_path_answers() -> None:
    data, errors, _ = await answer(make_schema(Query, True), QUERIES[2])
    # a null item in a list of non-null items makes the (nullable) list null
    assert data["boxes"][0] == {"strict": None}
    assert data["boxes"][1] == {"strict": [{"id": 10}]}
    assert [e[:2] for e in errors] == [
        ("Cannot return null for non-nullable field BoxType.strict.", ["boxes", 0, "strict", 1])
    ]

    data, errors, _ = await answer(make_schema(Query, True), QUERIES[3])
    assert data["boxes"] == [{"wrong": None}, {"wrong": None}]
    assert len(errors) == 1 and errors[0][1] == ["boxes", 0, "wrong"]
    assert "Expected value of type 'ItemType'" in errors[0][0]

    data, errors, _ = await answer(make_schema(Query, True), QUERIES[4])
    # items is non-null with non-null rows: the second row's null empties the box
    assert data["boxes"] == [None, {"items": [{"must": "nine"}]}]
    assert [e[:2] for e in errors] == [
        (
            "Cannot return null for non-nullable field ItemType.must.",
            ["boxes", 0, "items", 1, "must"],
        )
    ]

    data, errors, _ = await answer(make_schema(Query, True), QUERIES[6])
    assert data["boxes"][0] == {"maybe": None, "loose": [{"must": "four"}, None]}
    assert data["boxes"][1] == {"maybe": {"must": "eight"}, "loose": None}
    assert errors == []

    data, errors, _ = await answer(make_schema(Query, True), QUERIES[12])
    assert data["boxes"] == [None, {"items": [{"laterMust": "nine"}]}]
    assert [e[:2] for e in errors] == [
        (
            "Cannot return null for non-nullable field ItemType.laterMust.",
            ["boxes", 0, "items", 1, "laterMust"],
        )
    ]

    data, errors, context = await answer(make_schema(Query, True), QUERIES[8], allowed=False)
    assert data["boxes"][0] == {
        "items": [{"secret": "***"}, {"secret": None}],
        "item": {"secret": "***"},
    }
    assert errors == [] and sorted(context["seen"]) == [1, 2, 9]


async def test_the_short_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the root field goes through graphql-core's per-field execution;
    an awaitable value is completed by graphql-core without calling its
    resolver again."""
    slow: Counter[str] = Counter()
    original = Executor.execute_field

    def counting(self: Executor, parent_type: Any, source: Any, fields: Any, *rest: Any) -> Any:
        slow[f"{parent_type.name}.{fields[0].node.name.value}"] += 1
        return original(self, parent_type, source, fields, *rest)

    monkeypatch.setattr(Executor, "execute_field", counting)
    data, errors, _ = await answer(make_schema(Query, True), QUERIES[7])
    assert errors == []
    assert data["boxes"][0]["items"] == [
        {"later": "later-2", "id": 2},
        {"later": "later-3", "id": 3},
    ]
    assert data["boxes"][0]["awaitedItem"] == {"id": 77, "name": "awaited"}
    assert dict(slow) == {"Query.boxes": 1}


def test_plans() -> None:
    plans = field_plans(make_schema(Query, True)._schema)
    box = plans["BoxType"]
    assert isinstance(box["item"], ObjectPlan) and box["item"].non_null
    assert box["item"].item_non_null is None
    assert box["items"].item_non_null is True and box["loose"].item_non_null is False
    assert box["sibling"].read is not None
    assert "awaitedItem" in box  # read directly; its awaitable goes to graphql-core
    assert plans["ItemType"]["secret"].with_info  # type: ignore[union-attr]
    assert "Query" not in plans  # strawberry's own resolvers
