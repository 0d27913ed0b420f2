"""A request's rows, loaders and plans are freed with the request, by reference
counting, not left in cycles for the garbage collector: a page of households
would otherwise leave thousands of objects (its ORM rows, their states, the
loaders' futures) for a collection that pauses a later request."""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any

from factories import member, register
from strawberry.dataloader import DataLoader

from minzheng.core.models import Household, Membership, Person
from minzheng.schema.loaders import Loaders

PAGE = """{ households(first: 20) { edges { node { number region { name }
    enrolments { programme } members { relation person { name idNumber age
    enrolments { programme } household { number } } } } } } }"""


async def test_a_page_leaves_no_rows_or_loaders_in_cycles(api: Any) -> None:
    for i in range(4):
        await register(api, members=[member(f"甲{i}"), member(f"乙{i}", "SPOUSE", male=False)])
    await api.gql(PAGE)  # caches filled: divisions, plans, compiled statements
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        data = await api.gql(PAGE)
        gc.collect()
        left = Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert len(data["households"]["edges"]) == 4
    for kind in (Person, Household, Membership, DataLoader):
        assert left[kind.__name__] == 0, left.most_common(10)
    assert left["InstanceState"] == 0 and left["Future"] == 0, left.most_common(10)


def test_reset_loaders_are_built_again_and_given_ones_kept() -> None:
    built: list[str] = []

    def factory() -> DataLoader[Any, Any]:
        built.append("x")
        return DataLoader(load_fn=lambda keys: None)  # type: ignore[arg-type, return-value]

    given: DataLoader[Any, Any] = DataLoader(load_fn=lambda keys: None)  # type: ignore[arg-type, return-value]
    loaders = Loaders()
    loaders.add({"x": factory, "given": given})
    first = loaders["x"]
    assert loaders["x"] is first and built == ["x"]
    loaders.reset()
    assert set(dict(loaders)) == {"given"} and loaders["given"] is given
    assert "x" in loaders and loaders["x"] is not first and built == ["x", "x"]
