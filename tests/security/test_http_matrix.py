"""Role × region-level matrix over real HTTP: what each principal may read and
write, on core and plugin data; refused writes leave the database untouched.

On PostgreSQL the app runs as a role that is neither superuser nor owner, so
row-level security is active under everything these tests do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from factories import VILLAGES, member

from minzheng.core.divisions import parse

from .world import CITY, COUNTY, LEVELS, TOWNSHIP, VILLAGE, World, bearer, build_world

PG = pytest.param(
    "postgres",
    marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(
            not __import__("os").environ.get("MINZHENG_TEST_POSTGRES_URL"),
            reason="MINZHENG_TEST_POSTGRES_URL is not set",
        ),
    ],
)


@pytest_asyncio.fixture(scope="module", params=["sqlite", PG])
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    w = await build_world(request.param, tmp_path_factory.mktemp("world"), request)
    try:
        yield w
    finally:
        await w.dispose()


READERS = ["caseworker", "approver", "admin", "integration"]
ALL_ROLES = ["viewer", *READERS]
MATRIX = [(role, level) for role in ALL_ROLES for level in LEVELS]

PERSONS = """{ persons(first: 100) { totalCount edges { node { pk idNumber phone address
  exampleNotes { text } household { pk members { person { pk idNumber } } } } } } }"""
HOUSEHOLDS = "{ households(first: 100) { totalCount edges { node { pk address } } } }"
NOTES = "{ exampleNotes { text person { pk } } }"


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def masked(value: str | None) -> bool:
    return value is None or "*" in value


# ---------------------------------------------------------------------- reads


@pytest.mark.parametrize(("role", "level"), MATRIX)
async def test_lists_show_exactly_the_subtree(world: World, role: str, level: str) -> None:
    region = LEVELS[level]
    h = bearer(role, region)
    if role == "viewer":
        for q in (PERSONS, HOUSEHOLDS, NOTES):
            body = (await world.gql(h, q)).json()
            assert codes(body) == ["FORBIDDEN"], body
            assert body["data"] is None
        return
    data = await world.data(h, PERSONS)
    got = {e["node"]["pk"] for e in data["persons"]["edges"]}
    assert got == world.persons_in(region)
    assert data["persons"]["totalCount"] == len(got)
    for e in data["persons"]["edges"]:
        node = e["node"]
        # nested paths stay in scope too
        assert {m["person"]["pk"] for m in node["household"]["members"]} <= got
        assert [n["text"] for n in node["exampleNotes"]] == [f"note {node['pk']}"]
    hh = await world.data(h, HOUSEHOLDS)
    assert {e["node"]["pk"] for e in hh["households"]["edges"]} == world.households_in(region)
    assert hh["households"]["totalCount"] == len(world.households_in(region))
    notes = await world.data(h, NOTES)
    assert {n["person"]["pk"] for n in notes["exampleNotes"]} == world.persons_in(region), (
        "plugin table scoped without scope code in the plugin"
    )


@pytest.mark.parametrize(("role", "level"), [(r, lv) for r in READERS for lv in LEVELS])
async def test_out_of_scope_records_look_missing(world: World, role: str, level: str) -> None:
    region = LEVELS[level]
    h = bearer(role, region)
    q = """query($id: ID!, $n: String!) {
      node(id: $id) { id ... on Person { name } }
      person(id: $id) { name }
      personByIdNumber(idNumber: $n) { name } }"""
    inside = next(iter(world.persons_in(region)))
    _v, gid_in, num_in = world.persons[inside]
    found = await world.gql(h, q, {"id": gid_in, "n": num_in})
    assert found.json()["data"]["person"] is not None
    # a person that does not exist at all
    from minzheng.core.idnumber import make_id_number
    from minzheng.schema.ids import encode

    missing = await world.gql(
        h, q, {"id": encode("Person", 999_999), "n": make_id_number("410825", _dob(), 1)}
    )
    assert missing.json() == {"data": {"node": None, "person": None, "personByIdNumber": None}}
    outside = set(world.persons) - world.persons_in(region)
    if not outside:
        return  # the city sees everyone
    _v, gid_out, num_out = world.persons[min(outside)]
    hidden = await world.gql(h, q, {"id": gid_out, "n": num_out})
    assert hidden.status_code == missing.status_code == 200
    assert hidden.json() == missing.json(), "out of scope must look exactly like missing"
    hh_out = world.households[min(set(world.households) - world.households_in(region))][1]
    body = await world.gql(h, "query($id: ID!) { household(id: $id) { pk } }", {"id": hh_out})
    assert body.json() == {"data": {"household": None}}


def _dob() -> Any:
    import datetime as dt

    return dt.date(1901, 2, 3)


@pytest.mark.parametrize(("role", "level"), MATRIX)
async def test_statistics_are_computed_over_the_scope(world: World, role: str, level: str) -> None:
    """Every regionStatistics field, asked for the whole city, equals the
    figure for the principal's subtree counted by hand."""
    region = LEVELS[level]
    q = """query($c: String!) { regionStatistics(code: $c) {
      population households bySex { sex count } byAgeBand { band count } exampleNoteCount } }"""
    body = (await world.gql(bearer(role, region), q, {"c": CITY})).json()
    stats = body["data"]["regionStatistics"]
    persons = world.persons_in(region)
    expected = {
        "population": len(persons),
        "households": len(world.households_in(region)),
        "exampleNoteCount": len(persons),
    }
    small = role in ("viewer", "integration")
    for key, want in expected.items():
        if small and 0 < want < 5:
            assert stats[key] is None, (key, stats)
        else:
            assert stats[key] == want, (key, stats)
    assert sum(c["count"] or 0 for c in stats["bySex"]) <= len(persons)
    if not small:
        assert sum(c["count"] for c in stats["bySex"]) == len(persons)
        assert sum(c["count"] for c in stats["byAgeBand"]) == len(persons)


# --------------------------------------------------------------------- masking


@pytest.mark.parametrize("role", ["caseworker", "approver", "admin"])
async def test_pii_unmasked_for_pii_readers_and_audited(world: World, role: str) -> None:
    h = bearer(role, TOWNSHIP)
    before = await world.count("audit_log", "action = 'pii.read'")
    q = "query ReadFamily { persons(first: 100) { edges { node { pk idNumber phone } } } }"
    r = await world.gql(h, q, operationName="ReadFamily")
    data = r.json()["data"]
    for e in data["persons"]["edges"]:
        node = e["node"]
        assert node["idNumber"] == world.persons[node["pk"]][2]
        assert node["phone"] and "*" not in node["phone"]
    read = world.persons_in(TOWNSHIP)
    after = await world.count("audit_log", "action = 'pii.read'")
    assert after - before == len(read)
    rows = await _audit_rows(world, "pii.read", before)
    assert {int(r["entity_id"]) for r in rows} == read
    for row in rows:
        assert row["principal"] == f"{role}@{TOWNSHIP}"
        assert row["operation"] == "ReadFamily"
        assert row["entity_type"] == "Person"
        assert row["region_code"].startswith(TOWNSHIP)
        assert row["at"] is not None


async def _audit_rows(world: World, action: str, after_count: int) -> list[dict[str, Any]]:
    from sqlalchemy import text

    async with world.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT entity_id, principal, operation, entity_type, region_code, at "
                    "FROM audit_log WHERE action = :a ORDER BY id"
                ),
                {"a": action},
            )
        ).mappings()
        return [dict(r) for r in rows][after_count:]


async def test_pii_masked_on_every_path_without_pii_read(world: World) -> None:
    h = bearer("integration", COUNTY)
    before = await world.count("audit_log", "action = 'pii.read'")
    some = next(iter(world.persons_in(COUNTY)))
    gid = world.persons[some][1]
    q = """query($id: ID!) {
      persons(first: 100) { edges { node { idNumber phone address
        household { address members { person { idNumber phone } } } } } }
      node(id: $id) { ... on Person { idNumber phone address } }
      person(id: $id) { idNumber household { members { person { idNumber } } } }
      exampleNotes { person { idNumber phone } }
    }"""
    data = await world.data(h, q, {"id": gid})
    values: list[str | None] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("idNumber", "phone", "address"):
                    values.append(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(data)
    assert len(values) > 30
    assert all(masked(v) for v in values), values
    ids = [v for v in values if v and len(v) == 18]
    assert ids and all(v[6:14] == "********" for v in ids)
    assert await world.count("audit_log", "action = 'pii.read'") == before


# ---------------------------------------------------------------------- writes

REGISTER = """mutation($input: RegisterHouseholdInput!) { registerHousehold(input: $input) {
  household { pk } errors { __typename code } } }"""
UPDATE = """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) {
  person { pk regionCode: region { code } } errors { __typename code } } }"""
ADD_NOTE = """mutation($i: AddExampleNoteInput!) { addExampleNote(input: $i) {
  note { text } errors { __typename code } } }"""


async def _refused(world: World, h: dict[str, str], q: str, v: Any) -> dict[str, Any]:
    before = await world.snapshot()
    r = await world.gql(h, q, v)
    assert r.status_code == 200
    assert await world.snapshot() == before, "a refused write changed the database"
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("role", ["viewer", "integration"])
@pytest.mark.parametrize("level", list(LEVELS))
async def test_roles_without_write_permission_write_nothing(
    world: World, role: str, level: str
) -> None:
    h = bearer(role, LEVELS[level])
    inside = next(iter(world.persons_in(LEVELS[level])))
    gid = world.persons[inside][1]
    for q, v in (
        (REGISTER, {"input": {"regionCode": VILLAGE, "members": [member("甲", county=COUNTY)]}}),
        (ADD_NOTE, {"i": {"personId": gid, "text": "x"}}),
        (UPDATE, {"i": {"id": gid, "version": 1, "name": "乙"}}),
    ):
        body = await _refused(world, h, q, v)
        assert codes(body) == ["FORBIDDEN"], body


@pytest.mark.parametrize("role", ["caseworker", "approver", "admin"])
@pytest.mark.parametrize("level", ["county", "township", "village"])
async def test_writes_outside_the_scope_are_refused(world: World, role: str, level: str) -> None:
    h = bearer(role, LEVELS[level])
    outside_village = VILLAGES["wen"]
    body = await _refused(
        world,
        h,
        REGISTER,
        {"input": {"regionCode": outside_village, "members": [member("丙", county="410825")]}},
    )
    errors = body["data"]["registerHousehold"]["errors"]
    assert body["data"]["registerHousehold"]["household"] is None
    assert errors and errors[0]["code"] in ("out_of_scope", "region.unknown"), errors

    outside = next(iter(world.persons_in("410825")))
    gid_out = world.persons[outside][1]
    body = await _refused(world, h, ADD_NOTE, {"i": {"personId": gid_out, "text": "x"}})
    assert body["data"]["addExampleNote"]["errors"][0]["code"] == "not_found"
    body = await _refused(world, h, UPDATE, {"i": {"id": gid_out, "version": 1, "name": "丁"}})
    assert body["data"]["updatePerson"]["errors"][0]["code"] == "not_found"

    # moving a visible person out of the scope
    inside = next(iter(world.persons_in(LEVELS[level])))
    gid_in = world.persons[inside][1]
    version = (
        await world.data(h, "query($id: ID!) { person(id: $id) { version } }", {"id": gid_in})
    )["person"]["version"]
    body = await _refused(
        world, h, UPDATE, {"i": {"id": gid_in, "version": version, "regionCode": outside_village}}
    )
    assert body["data"]["updatePerson"]["errors"][0]["code"] in ("out_of_scope", "region.unknown")


@pytest.mark.parametrize("role", ["caseworker", "approver", "admin"])
async def test_writes_inside_the_scope_are_allowed(world: World, role: str) -> None:
    h = bearer(role, TOWNSHIP)
    inside = sorted(world.persons_in(TOWNSHIP))[0]
    gid = world.persons[inside][1]
    before = await world.count("example_note")
    r = await world.data(h, ADD_NOTE, {"i": {"personId": gid, "text": f"by {role}"}})
    assert r["addExampleNote"]["errors"] == []
    assert await world.count("example_note") == before + 1
    audit = await world.count(
        "audit_log", f"action = 'example.note' AND principal = '{role}@{TOWNSHIP}'"
    )
    assert audit >= 1, "the mutation's audit entry names the principal"
    async with world.engine.begin() as conn:
        from sqlalchemy import text

        if world.kind == "postgres":
            await conn.execute(text("SELECT set_config('minzheng.scope', 'all', true)"))
        await conn.execute(text("DELETE FROM example_note WHERE text = :t"), {"t": f"by {role}"})


# -------------------------------------------------------------- audit log query

AUDIT = """query($f: AuditLogFilter) { auditLog(filter: $f, first: 100) {
  totalCount edges { node { action entityType entityId regionCode principal after } } } }"""


@pytest.mark.parametrize("level", list(LEVELS))
async def test_audit_log_is_for_admins_and_scoped(world: World, level: str) -> None:
    region = LEVELS[level]
    for role in ("viewer", "caseworker", "approver", "integration"):
        body = (await world.gql(bearer(role, region), AUDIT)).json()
        assert codes(body) == ["FORBIDDEN"], (role, body)
    data = await world.data(bearer("admin", region), AUDIT, {"f": {"action": "person.register"}})
    entries = data["auditLog"]["edges"]
    assert {int(e["node"]["entityId"]) for e in entries} == world.persons_in(region)
    assert data["auditLog"]["totalCount"] == len(world.persons_in(region))
    for e in entries:
        assert e["node"]["regionCode"].startswith(parse(region).prefix)
        assert e["node"]["principal"] == f"admin@{CITY}"


@pytest.mark.parametrize("level", list(LEVELS))
async def test_entries_without_a_region_are_for_city_level_admins(world: World, level: str) -> None:
    import datetime as dt

    from sqlalchemy import insert

    from minzheng.core.models import AuditEntry

    async with world.engine.begin() as conn:
        await conn.execute(
            insert(AuditEntry.__table__).values(
                at=dt.datetime.now(dt.UTC),
                principal="cli",
                operation="apikey create",
                action=f"system.probe.{level}",
                entity_type="ApiKey",
                entity_id="probe",
                region_code=None,
            )
        )
    probe = {"action": f"system.probe.{level}"}
    token = bearer("admin", LEVELS[level])
    data = await world.data(token, AUDIT, {"f": probe})
    shown = [e["node"] for e in data["auditLog"]["edges"]]
    if level == "city":
        assert [(e["entityType"], e["regionCode"]) for e in shown] == [("ApiKey", None)]
        only = await world.data(token, AUDIT, {"f": {**probe, "withoutRegion": True}})
        assert only["auditLog"]["totalCount"] == 1
        none = await world.data(token, AUDIT, {"f": {**probe, "withoutRegion": False}})
        assert none["auditLog"]["totalCount"] == 0
        inside = await world.data(token, AUDIT, {"f": {**probe, "regionCode": CITY}})
        assert inside["auditLog"]["totalCount"] == 0, "a division filter leaves them out"
    else:
        assert shown == [] and data["auditLog"]["totalCount"] == 0


async def test_audit_log_masks_snapshots_without_pii_read(world: World, tmp_path: Any) -> None:
    import json

    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps({"roles": {"admin": {"remove": ["pii:read"]}}}))
    from conftest import EXAMPLE, settings_for
    from minzheng.gateway.app import create_app

    app = create_app(
        settings_for(world.url, role_map_file=str(roles)),
        extra_plugins=[EXAMPLE],
        engine=world.engine,
    )
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=bearer("admin", CITY)
    ) as c:
        body = (
            await c.post(
                "/graphql", json={"query": AUDIT, "variables": {"f": {"action": "person.register"}}}
            )
        ).json()
    snaps = [e["node"]["after"] for e in body["data"]["auditLog"]["edges"]]
    assert snaps and all(s["id_number"][6:14] == "********" for s in snaps)
    assert all("*" in s["phone"] for s in snaps if s.get("phone"))


async def test_row_level_security_is_active_under_the_app(world: World) -> None:
    if world.kind != "postgres":
        pytest.skip("PostgreSQL only")
    from sqlalchemy import text

    from minzheng.core import rls

    async with world.engine.connect() as conn:
        assert await conn.run_sync(rls.problems) == []
        assert (await conn.execute(text("SELECT count(*) FROM person"))).scalar() == 0
        assert (await conn.execute(text("SELECT count(*) FROM example_note"))).scalar() == 0


async def test_uniqueness_is_checked_across_regions_without_revealing_rows(world: World) -> None:
    """An ID number registered in another county is still taken — on PostgreSQL
    too, where row-level security hides that county's rows from the writer."""
    taken = world.persons[min(world.persons_in("410825"))][2]
    h = bearer("caseworker", TOWNSHIP)
    body = await _refused(
        world,
        h,
        REGISTER,
        {"input": {"regionCode": VILLAGE, "members": [member("戊", idNumber=taken)]}},
    )
    assert body["data"]["registerHousehold"]["errors"] == [
        {"__typename": "ValidationError", "code": "id_number.duplicate"}
    ]


def _statistics_selection(app: Any) -> str:
    """Every field of RegionStatistics (core and every enabled plugin) that takes
    no required argument, with the scalar fields of object results."""
    from graphql import GraphQLObjectType, get_named_type, is_leaf_type, is_required_argument

    gtype = app.state.schema._schema.type_map["RegionStatistics"]
    parts = []
    for name, f in gtype.fields.items():
        if any(is_required_argument(a) for a in f.args.values()):
            continue
        named = get_named_type(f.type)
        if is_leaf_type(named):
            parts.append(name)
        elif isinstance(named, GraphQLObjectType):
            leaves = [
                n
                for n, sf in named.fields.items()
                if is_leaf_type(get_named_type(sf.type))
                and not any(is_required_argument(a) for a in sf.args.values())
            ]
            if leaves:
                parts.append(f"{name} {{ {' '.join(leaves)} }}")
    return " ".join(parts)


@pytest.mark.parametrize("role", ["caseworker", "approver", "admin"])
@pytest.mark.parametrize("level", ["county", "township", "village"])
async def test_every_statistic_under_a_narrow_scope_equals_the_admins_restricted_by_hand(
    world: World, role: str, level: str
) -> None:
    region = LEVELS[level]
    sel = _statistics_selection(world.app)
    assert "population" in sel and "exampleNoteCount" in sel
    q = f"query($c: String!) {{ regionStatistics(code: $c) {{ {sel} }} }}"
    narrow = await world.data(bearer(role, region), q, {"c": CITY})
    by_hand = await world.data(bearer("admin", CITY), q, {"c": region})
    narrow_stats = dict(narrow["regionStatistics"])
    hand_stats = dict(by_hand["regionStatistics"])
    # the code field names the division asked for; every figure must agree
    narrow_stats.pop("code", None)
    hand_stats.pop("code", None)
    assert narrow_stats == hand_stats
