"""The executor's prefetch of list relations: one batch per level of the list,
rows completed without awaiting, and the same answers and errors as
graphql-core's executor gives with the same resolvers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
import strawberry
from executors import make_schema
from strawberry.dataloader import DataLoader

from minzheng.schema.direct import prefetched
from minzheng.schema.loaders import Pending, loaded


@dataclasses.dataclass
class Parent:
    id: int


@dataclasses.dataclass
class Child:
    id: int
    parent_id: int


@dataclasses.dataclass
class Wrapper:
    """A plain object between a list and its rows (as a connection's edge)."""

    node: Parent


def loaders(batches: list[tuple[str, list[Any]]]) -> dict[str, DataLoader[Any, Any]]:
    async def children(keys: Sequence[int]) -> list[list[Child]]:
        batches.append(("children", list(keys)))
        return [[Child(k * 10 + i, k) for i in range(2)] if k != 4 else [] for k in keys]

    async def labels(keys: Sequence[int]) -> list[Any]:
        batches.append(("labels", list(keys)))
        return [ValueError(f"no label for {k}") if k == 21 else f"label-{k}" for k in keys]

    async def parents(keys: Sequence[int]) -> list[Parent]:
        batches.append(("parents", list(keys)))
        return [Parent(k) for k in keys]

    return {
        "children": DataLoader(load_fn=children),
        "labels": DataLoader(load_fn=labels),
        "parents": DataLoader(load_fn=parents),
    }


def _big(rows: list[Child]) -> list[Child]:
    return [r for r in rows if r.id % 2 == 1]


@strawberry.type
class ChildType:
    id: int

    @strawberry.field
    @prefetched
    def label(self, info: strawberry.Info) -> str | None:
        return loaded(info.context["loaders"]["labels"], self.id)  # type: ignore[attr-defined, no-any-return]

    @strawberry.field
    @prefetched
    def parent(self, info: strawberry.Info) -> ParentType:
        return loaded(info.context["loaders"]["parents"], self.parent_id)  # type: ignore[attr-defined, no-any-return]


@strawberry.type
class ParentType:
    id: int

    @strawberry.field
    @prefetched
    def children(self, info: strawberry.Info, odd_only: bool = False) -> list[ChildType]:
        return loaded(  # type: ignore[no-any-return]
            info.context["loaders"]["children"],
            self.id,  # type: ignore[attr-defined]
            _big if odd_only else None,
        )

    @strawberry.field
    @prefetched
    def strict(self, info: strawberry.Info) -> str:
        if self.id == 3:  # type: ignore[attr-defined]
            raise LookupError("no strict value for 3")
        return loaded(info.context["loaders"]["labels"], self.id)  # type: ignore[attr-defined, no-any-return]


@strawberry.type
class WrapperType:
    node: ParentType


@strawberry.type
class Query:
    @strawberry.field
    def parents(self) -> list[ParentType | None]:
        return [Parent(i) for i in range(1, 6)]  # type: ignore[misc]

    @strawberry.field
    def wrapped(self) -> list[WrapperType]:
        return [Wrapper(Parent(i)) for i in range(1, 6)]  # type: ignore[misc]


async def run(fast: bool, query: str) -> tuple[Any, list[Any], list[tuple[str, list[Any]]]]:
    batches: list[tuple[str, list[Any]]] = []
    result = await make_schema(Query, fast).execute(
        query, context_value={"loaders": loaders(batches)}
    )
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors, batches


QUERIES = [
    "{ parents { id children { id label parent { id } } } }",
    "{ wrapped { node { id children(oddOnly: true) { id label } } } }",
    "{ parents { id strict } }",
    "{ parents { a: children { id } b: children(oddOnly: true) { label } } }",
    "{ parents { children { parent { children { label } } } } }",
]


@pytest.mark.parametrize("query", QUERIES)
async def test_prefetch_answers_as_graphql_core(query: str) -> None:
    fast_data, fast_errors, fast_batches = await run(True, query)
    data, errors, batches = await run(False, query)
    assert (fast_data, fast_errors) == (data, errors)
    if errors:
        return  # graphql-core may stop before it loads what the prefetch loaded
    # the same loads, in no more batches
    assert sorted(k for _, keys in fast_batches for k in keys) == sorted(
        k for _, keys in batches for k in keys
    )
    assert len(fast_batches) <= len(batches)


async def test_one_batch_per_level_and_rows_complete_without_awaiting(monkeypatch) -> None:
    awaited: list[Any] = []
    original = Pending.__await__

    def counting(self: Pending) -> Any:
        awaited.append(self)
        return original(self)

    monkeypatch.setattr(Pending, "__await__", counting)
    data, errors, batches = await run(True, QUERIES[0])
    assert [name for name, _ in batches] == ["children", "labels", "parents"]
    assert batches[0][1] == [1, 2, 3, 4, 5]
    assert awaited == [], "every row's relation was ready when the row completed"
    assert data["parents"][0] == {
        "id": 1,
        "children": [
            {"id": 10, "label": "label-10", "parent": {"id": 1}},
            {"id": 11, "label": "label-11", "parent": {"id": 1}},
        ],
    }
    assert data["parents"][3]["children"] == []
    # a row whose load failed: its field is null with the loader's error
    assert data["parents"][1]["children"][1]["label"] is None
    assert errors == [("no label for 21", ["parents", 1, "children", 1, "label"])]


async def test_a_relation_that_raises_is_reported_where_it_is() -> None:
    data, errors, _ = await run(True, QUERIES[2])
    # strict is non-null: the failing parent is null, the others answer
    assert data["parents"][2] is None
    assert data["parents"][0] == {"id": 1, "strict": "label-1"}
    assert errors == [("no strict value for 3", ["parents", 2, "strict"])]
