"""The registry over HTTP: queries, mutations, typed errors, nothing half-written."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil

from factories import REGISTER, VILLAGES, member, register
from sqlalchemy import create_engine as sync_engine
from sqlalchemy import func, select, text

from conftest import EXAMPLE, Api, settings_for
from minzheng.core.models import AuditEntry, Household, Membership, Person
from minzheng.gateway.app import create_app


async def count(api, model) -> int:
    async with api.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)))


async def test_register_household_derives_sex_and_birth(api):
    household = await register(api)
    assert household["number"].startswith(VILLAGES["wuzhi_a"])
    assert [m["relation"] for m in household["members"]] == ["HEAD", "SPOUSE", "CHILD"]
    data = await api.gql(
        """query($id: ID!) { household(id: $id) { members { person {
        name sex birthDate age region { name level } household { number } } } } }""",
        {"id": household["id"]},
    )
    people = [m["person"] for m in data["household"]["members"]]
    assert people[0]["sex"] == "MALE" and people[1]["sex"] == "FEMALE"
    assert people[0]["birthDate"] == "1980-05-17"
    assert people[2]["region"]["level"] == "VILLAGE"
    assert people[2]["household"]["number"] == household["number"]


async def test_invalid_id_number_is_a_typed_error_and_writes_nothing(api):
    bad = member("王五", idNumber="410823198005170010")  # wrong check character
    before = (await count(api, Person), await count(api, Household), await count(api, AuditEntry))
    data = await api.gql(
        REGISTER,
        {
            "input": {
                "regionCode": VILLAGES["wuzhi_a"],
                "members": [member("赵六"), {**bad, "relation": "SPOUSE"}],
            }
        },
    )
    errors = data["registerHousehold"]["errors"]
    assert data["registerHousehold"]["household"] is None
    assert errors == [
        {
            "__typename": "ValidationError",
            "code": "id_number.checksum",
            "message": "ID number's check character is wrong",
            "field": "input.members.1.idNumber",
        }
    ]
    after = (await count(api, Person), await count(api, Household), await count(api, AuditEntry))
    assert after == before


async def test_unknown_region_is_refused(api):
    data = await api.gql(
        REGISTER, {"input": {"regionCode": "410823999999", "members": [member("钱七")]}}
    )
    assert data["registerHousehold"]["errors"][0]["code"] == "region.unknown"
    assert await count(api, Household) == 0


async def test_duplicate_id_number_is_refused(api):
    first = member("孙八")
    await register(api, members=[first])
    data = await api.gql(
        REGISTER,
        {"input": {"regionCode": VILLAGES["wen"], "members": [{**first, "name": "孙八二"}]}},
    )
    assert data["registerHousehold"]["errors"][0]["code"] == "id_number.duplicate"
    assert await count(api, Household) == 1


async def test_stale_version_is_a_conflict(api):
    household = await register(api)
    pid = household["members"][0]["person"]["id"]
    q = """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) {
        person { name version } errors { __typename code ... on ConflictError { currentVersion } } } }"""
    ok = await api.gql(q, {"i": {"id": pid, "version": 1, "name": "张三丰"}})
    assert ok["updatePerson"]["person"] == {"name": "张三丰", "version": 2}
    stale = await api.gql(q, {"i": {"id": pid, "version": 1, "name": "张三"}})
    assert stale["updatePerson"]["errors"] == [
        {"__typename": "ConflictError", "code": "conflict", "currentVersion": 2}
    ]
    again = await api.gql("query($id: ID!) { person(id: $id) { name } }", {"id": pid})
    assert again["person"]["name"] == "张三丰"


async def test_move_remove_death_and_income(api):
    a = await register(api)
    b = await register(api, village=VILLAGES["wen"], members=[member("周九", county="410825")])
    child = a["members"][2]["person"]["id"]
    moved = await api.gql(
        """mutation($i: MoveMemberInput!) { moveMember(input: $i) {
        person { household { number } region { code } } errors { code } } }""",
        {"i": {"personId": child, "toHouseholdId": b["id"], "relation": "GRANDCHILD"}},
    )
    assert moved["moveMember"]["person"]["household"]["number"] == b["number"]
    assert moved["moveMember"]["person"]["region"]["code"] == VILLAGES["wen"]
    spouse = a["members"][1]["person"]["id"]
    removed = await api.gql(
        """mutation($i: RemoveMemberInput!) { removeMember(input: $i) {
        person { household { number } } errors { code } } }""",
        {"i": {"personId": spouse, "reason": "迁出"}},
    )
    assert removed["removeMember"]["person"]["household"] is None
    head = a["members"][0]["person"]["id"]
    refused = await api.gql(
        """mutation($i: RemoveMemberInput!) { removeMember(input: $i) {
        errors { code } } }""",
        {"i": {"personId": head, "reason": "x"}},
    )
    assert refused["removeMember"]["errors"] == [{"code": "members.is_head"}]
    died = await api.gql(
        """mutation($i: RecordDeathInput!) { recordDeath(input: $i) {
        person { alive diedOn } errors { code } } }""",
        {"i": {"personId": head, "diedOn": "2026-01-05"}},
    )
    assert died["recordDeath"]["person"] == {"alive": False, "diedOn": "2026-01-05"}
    income_q = """mutation($i: RecordHouseholdIncomeInput!) { recordHouseholdIncome(input: $i) {
        household { incomes { amountFen employmentCostFen source } } errors { code } } }"""
    inc = await api.gql(
        income_q,
        {
            "i": {
                "householdId": a["id"],
                "source": "WAGES",
                "periodStart": "2026-01-01",
                "periodEnd": "2026-01-31",
                "amountFen": 150000,
                "employmentCostFen": 20000,
            }
        },
    )
    assert inc["recordHouseholdIncome"]["household"]["incomes"] == [
        {"amountFen": 150000, "employmentCostFen": 20000, "source": "WAGES"}
    ]
    negative = await api.gql(
        income_q,
        {
            "i": {
                "householdId": a["id"],
                "source": "WAGES",
                "periodStart": "2026-02-01",
                "periodEnd": "2026-02-28",
                "amountFen": -1,
            }
        },
    )
    assert negative["recordHouseholdIncome"]["errors"] == [{"code": "amount.negative"}]
    assert (
        len(
            (
                await api.gql(
                    "query($id: ID!) { household(id: $id) { incomes { amountFen } } }",
                    {"id": a["id"]},
                )
            )["household"]["incomes"]
        )
        == 1
    )


async def test_idempotency_key_replays_the_first_answer(api):
    variables = {
        "input": {
            "regionCode": VILLAGES["jiefang"],
            "members": [member("吴十", county="410802")],
            "idempotencyKey": "abc-1",
        }
    }
    one = await api.gql(REGISTER, variables)
    two = await api.gql(REGISTER, variables)
    assert one == two and one["registerHousehold"]["household"]["id"]
    assert await count(api, Household) == 1
    other = {"input": {**variables["input"], "members": [member("郑十一", county="410802")]}}
    reused = await api.gql(REGISTER, other)
    assert reused["registerHousehold"]["errors"][0]["code"] == "idempotency_key_reused"


async def test_person_by_id_number_and_pagination(api):
    households = [await register(api, members=[member(f"户主{i}")]) for i in range(5)]
    idn = households[3]["members"][0]["person"]["idNumber"]
    found = await api.gql(
        "query($n: String!) { personByIdNumber(idNumber: $n) { name } }", {"n": idn}
    )
    assert found["personByIdNumber"]["name"] == "户主3"
    bad = await api.gql('{ personByIdNumber(idNumber: "123") { name } }', expect_errors=True)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_ID_NUMBER"
    seen, after = [], None
    while True:
        page = (
            await api.gql(
                """query($a: String) { persons(first: 2, after: $a) {
            edges { node { name } } pageInfo { hasNextPage endCursor } totalCount } }""",
                {"a": after},
            )
        )["persons"]
        seen += [e["node"]["name"] for e in page["edges"]]
        assert page["totalCount"] == 5
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"户主{i}" for i in range(5)]
    too_big = await api.gql("{ persons(first: 101) { edges { cursor } } }", expect_errors=True)
    assert too_big["errors"][0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"


async def test_several_root_fields_at_once(api):
    h = await register(api)
    data = await api.gql(
        """query($h: ID!, $p: ID!) {
        a: person(id: $p) { name household { number } }
        b: household(id: $h) { members { person { name } } }
        c: regionStatistics(code: "410823") { population households bySex { sex count }
                                               byAgeBand { band count } }
        d: regions(parentCode: "410800") { code name }
        e: persons(first: 5) { edges { node { name } } } }""",
        {"h": h["id"], "p": h["members"][0]["person"]["id"]},
    )
    assert data["a"]["household"]["number"] == h["number"]
    assert data["c"]["population"] == 3 and data["c"]["households"] == 1
    assert {b["band"]: b["count"] for b in data["c"]["byAgeBand"]}["0-15"] == 1
    assert len(data["d"]) == 11


async def test_audit_log_has_before_and_after(api):
    h = await register(api)
    pid = h["members"][0]["person"]["id"]
    await api.gql(
        """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { errors { code } } }""",
        {"i": {"id": pid, "version": 1, "phone": "13800000000"}},
    )
    async with api.engine.connect() as conn:
        rows = (
            await conn.execute(select(AuditEntry).where(AuditEntry.action == "person.update"))
        ).all()
    assert len(rows) == 1
    assert rows[0].before["phone"] is None and rows[0].after["phone"] == "13800000000"
    assert rows[0].principal == "admin@410800"


async def test_membership_rows_follow_the_household(api):
    await register(api)
    assert await count(api, Membership) == 3


async def test_death_date_in_the_future_is_refused(api):
    h = await register(api)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    data = await api.gql(
        """mutation($i: RecordDeathInput!) { recordDeath(input: $i) {
        person { alive } errors { code ... on ValidationError { field } } } }""",
        {"i": {"personId": h["members"][0]["person"]["id"], "diedOn": future}},
    )
    assert data["recordDeath"]["errors"] == [{"code": "date.future", "field": "input.diedOn"}]


async def test_node_resolves_core_and_plugin_types_and_hides_others(api):
    h = await register(api)
    pid = h["members"][0]["person"]["id"]
    data = await api.gql(
        """query($p: ID!, $h: ID!) {
        p: node(id: $p) { __typename id ... on Person { name } }
        h: node(id: $h) { __typename ... on Household { number } }
        bad: node(id: "not-an-id") { id }
        unknown: node(id: "VW5rbm93bjox") { id } }""",
        {"p": pid, "h": h["id"]},
    )
    assert data["p"] == {"__typename": "Person", "id": pid, "name": "张三"}
    assert data["h"] == {"__typename": "Household", "number": h["number"]}
    assert data["bad"] is None and data["unknown"] is None


async def test_concurrent_registrations_in_one_village_get_distinct_numbers(api):
    import asyncio

    made = await asyncio.gather(
        *(register(api, VILLAGES["wuzhi_b"], members=[member(f"同村{i}")]) for i in range(5))
    )
    numbers = sorted(h["number"] for h in made)
    assert len(set(numbers)) == 5
    assert all(n.startswith(VILLAGES["wuzhi_b"]) for n in numbers)
    assert await count(api, Household) == 5


async def test_a_payload_object_not_selected_is_not_read(api):
    """A mutation whose client asks only for ``errors`` must not read the
    payload's object after the request has ended (and hold a connection)."""
    with api.count_statements() as seen:
        data = await api.gql(
            """mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) {
            errors { code } } }""",
            {"i": {"regionCode": VILLAGES["wuzhi_a"], "members": [member("只要错误")]}},
        )
        await asyncio.sleep(0.05)  # a batch scheduled by the request would run now
    assert data["registerHousehold"]["errors"] == []
    # the payload's household (all its columns, by id) was not read
    assert not any("household.number" in s and "household.id IN" in s for s in seen)
    assert api.engine.sync_engine.pool.checkedout() == 0


async def test_region_filters_within_and_beyond_the_readers_region(api):
    """A filter narrower than the reader's region, wider than it, or outside it:
    the rows are those of both; on SQLite the scope is marked likely-true so the
    planner walks the filter's (narrowed) range of the index, not the city's."""
    for village in (VILLAGES["wuzhi_a"], VILLAGES["wuzhi_b"], VILLAGES["wen"]):
        await register(api, village, members=[member(f"户主{village[-4:]}", county=village[:6])])
    q = """query($code: String!) { households(filter: { regionCode: $code }, first: 50) {
        edges { node { region { code } } } } }"""

    async def codes(reader, code):
        data = await reader.gql(q, {"code": code})
        return sorted(e["node"]["region"]["code"] for e in data["households"]["edges"])

    county = api.as_("admin", "410823")
    assert await codes(api, "410823101") == [VILLAGES["wuzhi_a"]]
    assert await codes(api, "410823") == sorted([VILLAGES["wuzhi_a"], VILLAGES["wuzhi_b"]])
    assert await codes(county, "4108") == sorted([VILLAGES["wuzhi_a"], VILLAGES["wuzhi_b"]])
    assert await codes(county, "410825") == []
    with county.count_statements() as seen:
        await codes(county, "4108")
    page = next(s for s in seen if "FROM household" in s and "ORDER BY household.region_code" in s)
    if api.engine.dialect.name == "sqlite":
        assert "likelihood(household.region_code BETWEEN" in page


async def test_divisions_are_read_once_per_process(api) -> None:
    from minzheng.schema.loaders import REGIONS

    REGIONS.clear()
    query = '{ a: region(code: "410823") { name level parent { name } } b: region(code: "4108") { name } }'
    with api.count_statements() as first:
        data = await api.gql(query)
    assert data["a"] == {"name": "武陟县", "level": "COUNTY", "parent": {"name": "焦作市"}}
    assert data["b"]["name"] == "焦作市"
    assert sum("FROM region" in s for s in first) == 1, "both divisions and the parent in one read"
    with api.count_statements() as second:
        assert await api.gql(query) == data
    assert not any("FROM region" in s for s in second)
    # a code that is no division is asked for again, and stays unknown
    missing = '{ region(code: "410899") { name } }'
    assert (await api.gql(missing))["region"] is None
    with api.count_statements() as again:
        assert (await api.gql(missing))["region"] is None
    assert sum("FROM region" in s for s in again) == 1


async def test_divisions_are_kept_per_database(api, tmp_path, sqlite_template) -> None:
    """A process serving two registries answers each from its own divisions."""
    other_file = tmp_path / "other.db"
    shutil.copy(sqlite_template, other_file)
    with sync_engine(f"sqlite:///{other_file}").begin() as conn:
        conn.execute(
            text("UPDATE region SET name = '武陟县（另一库）' WHERE code = '410823000000'")
        )
    other_app = create_app(
        settings_for(f"sqlite+aiosqlite:///{other_file}"), extra_plugins=[EXAMPLE]
    )
    other = Api(other_app, "admin", "410800")
    query = '{ region(code: "410823") { name } }'
    try:
        for _ in range(2):  # the second time from each one's kept divisions
            assert (await api.gql(query))["region"]["name"] == "武陟县"
            assert (await other.gql(query))["region"]["name"] == "武陟县（另一库）"
    finally:
        await other_app.state.minzheng.engine.dispose()
