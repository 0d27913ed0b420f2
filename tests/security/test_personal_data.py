"""Masking, small-cell suppression and the response flag."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
import strawberry

from minzheng.core.scope import Principal
from minzheng.schema.pii import (
    SmallCellReport,
    mask,
    mask_record,
    pii_field,
    small_cell,
    small_cell_amount,
    small_cells,
)

from .world import CITY, COUNTY, TOWNSHIP, World, bearer, build_world


def test_masks() -> None:
    assert mask("id_number", "41082319800517123X") == "410823********123X"
    assert mask("phone", "13800001234") == "138****1234"
    assert mask("phone", "12345") == "*****"
    assert mask("address", "河南省焦作市武陟县詹店镇某村3号") == "河南省焦作市****"
    assert mask("address", "某村") == "****"
    assert mask("name", "张三丰") == "张**"
    with pytest.raises(ValueError, match="unknown personal-data kind"):
        mask("email", "a@b")
    with pytest.raises(ValueError, match="unknown personal-data kind"):
        pii_field("email", "email", "x")
    viewer = Principal("v", region="4108")
    reader = Principal("r", region="4108", permissions=frozenset({"pii:read"}))
    snap = {"id_number": "41082319800517123X", "phone": "13800001234", "name": "张三"}
    assert mask_record(snap, viewer) == {
        "id_number": "410823********123X",
        "phone": "138****1234",
        "name": "张三",
    }
    assert mask_record(snap, reader) is snap


# ---------------------------------------------------------- a schema of our own


@dataclass
class Ctx:
    principal: Principal
    settings: Any = field(default_factory=lambda: type("S", (), {"small_cell_threshold": 5})())
    extra: dict[str, Any] = field(default_factory=dict)
    pii_reads: set[tuple[str, str]] = field(default_factory=set)
    operation_name: str | None = None


@strawberry.type
class Cell:
    label: str
    count: int | None


@strawberry.type
class Row:
    id: int
    person_id: int
    region_code: str
    phone: str | None = pii_field("phone", "phone_value", "联系电话", person="person_id")

    phone_value: strawberry.Private[str]


@strawberry.type
class Query:
    @strawberry.field
    def total(self, info: strawberry.Info, n: int) -> int | None:
        return small_cell(info, n)

    @strawberry.field
    def paid(self, info: strawberry.Info, amount: int, n: int) -> int | None:
        return small_cell_amount(info, amount, n)

    @strawberry.field
    def breakdown(self, info: strawberry.Info, counts: list[int]) -> list[Cell]:
        shown = small_cells(info, counts)
        return [Cell(label=str(i), count=c) for i, c in enumerate(shown)]

    @strawberry.field
    def rows(self) -> list[Row]:
        return [Row(id=9, person_id=42, region_code="410823101201", phone_value="13912345678")]


SCHEMA = strawberry.Schema(Query, extensions=[SmallCellReport])
VIEWER = Principal("v", roles=frozenset({"viewer"}), region="410823")
READER = Principal("c", region="410823", permissions=frozenset({"pii:read"}))


async def run(principal: Principal, q: str) -> Any:
    ctx = Ctx(principal)
    r = await SCHEMA.execute(q, context_value=ctx)
    assert r.errors is None, r.errors
    return r, ctx


@pytest.mark.parametrize(("n", "shown"), [(0, 0), (1, None), (4, None), (5, 5), (120, 120)])
async def test_small_counts_are_suppressed_for_viewers(n: int, shown: int | None) -> None:
    r, _ = await run(VIEWER, f"{{ total(n: {n}) paid(amount: 9900, n: {n}) }}")
    assert r.data == {"total": shown, "paid": None if shown is None else 9900}
    if shown is None:
        assert r.extensions["smallCells"] == {"threshold": 5, "suppressed": ["total", "paid"]}
    else:
        assert "smallCells" not in (r.extensions or {})
    r, _ = await run(READER, f"{{ total(n: {n}) }}")
    assert r.data == {"total": n}, "pii:read holders see every count"


async def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    """Otherwise total − visible cells would give the hidden one away."""
    r, _ = await run(VIEWER, "{ breakdown(counts: [40, 2, 9, 0]) { count } }")
    assert [c["count"] for c in r.data["breakdown"]] == [40, None, None, 0]
    assert r.extensions["smallCells"]["suppressed"] == ["breakdown.1.count", "breakdown.2.count"]
    r, _ = await run(VIEWER, "{ breakdown(counts: [3, 1, 50]) { count } }")
    assert [c["count"] for c in r.data["breakdown"]] == [None, None, 50]
    r, _ = await run(VIEWER, "{ breakdown(counts: [30, 50]) { count } }")
    assert [c["count"] for c in r.data["breakdown"]] == [30, 50]


async def test_plugin_rows_mask_and_audit_by_person() -> None:
    r, ctx = await run(VIEWER, "{ rows { phone } }")
    assert r.data == {"rows": [{"phone": "139****5678"}]}
    assert ctx.pii_reads == set()
    r, ctx = await run(READER, "{ rows { phone } }")
    assert r.data == {"rows": [{"phone": "13912345678"}]}
    assert ctx.pii_reads == {("Person", "42")}
    detail = ctx.extra["pii_read_detail"][("Person", "42")]
    assert detail == {"fields": {"Row.phone_value"}, "region": "410823101201"}


# --------------------------------------------------------------------- HTTP


@pytest_asyncio.fixture(scope="module")
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    w = await build_world("sqlite", tmp_path_factory.mktemp("pd"), request)
    try:
        yield w
    finally:
        await w.dispose()


STATS = """query($c: String!) { regionStatistics(code: $c) {
  population households bySex { sex count } byAgeBand { band count } exampleNoteCount } }"""


async def test_viewer_statistics_flag_suppressed_cells(world: World) -> None:
    r = await world.gql(bearer("viewer", CITY), STATS, {"c": TOWNSHIP})
    body = r.json()
    stats = body["data"]["regionStatistics"]
    n = len(world.persons_in(TOWNSHIP))
    assert 0 < n < 5
    assert stats["population"] is None and stats["exampleNoteCount"] is None
    assert all(c["count"] in (None, 0) for c in stats["bySex"] + stats["byAgeBand"])
    flagged = body["extensions"]["smallCells"]["suppressed"]
    assert "regionStatistics.population" in flagged
    assert "regionStatistics.exampleNoteCount" in flagged
    assert body["extensions"]["smallCells"]["threshold"] == 5
    # the same figures for a caseworker are all there
    full = (await world.gql(bearer("caseworker", CITY), STATS, {"c": TOWNSHIP})).json()
    assert full["data"]["regionStatistics"]["population"] == n
    assert "extensions" not in full or "smallCells" not in full["extensions"]


async def test_viewer_sees_large_cells(world: World) -> None:
    body = (await world.gql(bearer("viewer", CITY), STATS, {"c": CITY})).json()
    stats = body["data"]["regionStatistics"]
    assert stats["population"] == len(world.persons) >= 5
    assert stats["households"] == len(world.households) == 5, "the threshold itself is shown"
    assert sum(c["count"] or 0 for c in stats["bySex"]) <= len(world.persons)


async def test_threshold_is_configurable(world: World) -> None:
    from conftest import EXAMPLE, settings_for
    from minzheng.gateway.app import create_app

    app = create_app(
        settings_for(world.url, small_cell_threshold=2),
        extra_plugins=[EXAMPLE],
        engine=world.engine,
    )
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers=bearer("viewer", COUNTY),
    ) as c:
        body = (
            await c.post("/graphql", json={"query": STATS, "variables": {"c": TOWNSHIP}})
        ).json()
    assert body["data"]["regionStatistics"]["population"] == len(world.persons_in(TOWNSHIP))
