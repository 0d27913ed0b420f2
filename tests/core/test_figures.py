"""Pre-aggregated division figures: the same answers as counting live, kept
current by every write, unavailable (never wrong) when they cannot be kept."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest
from factories import VILLAGES, member, register
from sqlalchemy import select, update

from conftest import minzheng_cli
from minzheng.core import figures as pre
from minzheng.core.db import session_factory, transaction
from minzheng.core.models import Person, RegionFigure, RegionFigureSource
from minzheng.core.scope import SYSTEM, Principal
from minzheng.core.seeding import seed_demo

DASHBOARD = """query($code: String!) { regionStatistics(code: $code) {
    code population households bySex { sex count } byAgeBand { band count }
    socialAssistance {
      programmes { programme households persons monthlyAmountFen }
      minimumLivingGuaranteeByStatus { status count }
      casesOverdue reviewsOverdue phaseOuts
      temporaryAssistance { year cases amountFen emergencyCases }
      reserveFundBalanceFen }
    disability {
      month subsidies { subsidy recipients monthlyTotalFen } monthlyTotalFen
      verificationCovered verificationVerified verificationRate
      suspendedGrants flaggedGrants eligibleNotEnrolled } } }"""


def dashboard_query(_api: Any) -> str:
    return DASHBOARD


@pytest.fixture
async def seeded(make_api: Any, db_url: str) -> Any:
    api = make_api()
    plugins = api.app.state.minzheng.plugins
    await seed_demo(db_url, plugins, households=40, seed=11)
    return api


async def sources(api: Any) -> dict[str, dt.date | None]:
    async with api.engine.connect() as conn:
        rows = await conn.execute(select(RegionFigureSource.name, RegionFigureSource.as_of))
        return dict(rows.all())  # type: ignore[arg-type]


async def set_as_of(api: Any, on: dt.date | None) -> None:
    async with api.engine.begin() as conn:
        await conn.execute(update(RegionFigureSource).values(as_of=on))


async def both(api: Any, code: str, query: str) -> tuple[Any, Any, list[str]]:
    """The dashboard from the figures, then counted live; and the statements of
    the first."""
    with api.count_statements() as seen:
        kept = await api.gql(query, {"code": code})
    state = await sources(api)
    await set_as_of(api, None)
    try:
        live = await api.gql(query, {"code": code})
    finally:
        async with api.engine.begin() as conn:
            for name, on in state.items():
                await conn.execute(
                    update(RegionFigureSource)
                    .where(RegionFigureSource.name == name)
                    .values(as_of=on)
                )
    return kept, live, seen


def counts_persons(statements: list[str]) -> bool:
    """Whether any figure was counted live: an aggregate over anything but the
    pre-aggregated figures."""
    return any(
        re.search(r"\b(count|sum)\(", s, re.I) and "core_region_figure" not in s for s in statements
    )


async def test_seeding_leaves_every_source_current(seeded: Any) -> None:
    state = await sources(seeded)
    assert state.keys() >= {pre.REGISTRY}
    assert set(state.values()) == {dt.date.today()}


@pytest.mark.parametrize(
    ("role_region", "codes"),
    [
        ("410800", ["410800", "410823", "410823101", VILLAGES["wuzhi_a"], "410825"]),
        ("410823", ["410800", "410823", "410823101"]),
        ("410823101", ["410823", "410823101"]),
    ],
)
async def test_figures_answer_what_counting_live_answers(
    seeded: Any, role_region: str, codes: list[str]
) -> None:
    api = seeded.as_("admin", role_region)
    query = dashboard_query(api)
    for code in codes:
        kept, live, seen = await both(api, code, query)
        assert kept == live, code
        assert not counts_persons(seen), seen
    # not a comparison of nothing: the seeded city has people, households and cases
    city = (await seeded.gql(query, {"code": "410800"}))["regionStatistics"]
    assert city["population"] and city["households"]
    assert city["socialAssistance"]["minimumLivingGuaranteeByStatus"]
    assert any(p["persons"] for p in city["socialAssistance"]["programmes"])
    assert city["disability"]["eligibleNotEnrolled"] and city["disability"]["suspendedGrants"]


async def test_writes_keep_the_figures_current(seeded: Any) -> None:
    api = seeded
    query = dashboard_query(api)
    before = (await api.gql(query, {"code": "410823"}))["regionStatistics"]
    hh = await register(api, VILLAGES["wuzhi_a"])
    other = await register(api, VILLAGES["wuzhi_b"], members=[member("王一")])
    child = hh["members"][2]["person"]["id"]
    moved = await api.gql(
        """mutation($i: MoveMemberInput!) { moveMember(input: $i) { errors { code } } }""",
        {"i": {"personId": child, "toHouseholdId": other["id"], "relation": "GRANDCHILD"}},
    )
    assert moved["moveMember"]["errors"] == []
    for code in (VILLAGES["wuzhi_a"], VILLAGES["wuzhi_b"]):  # the unit left and the one joined
        kept, live, _ = await both(api, code, query)
        assert kept == live, code
    died = await api.gql(
        """mutation($i: RecordDeathInput!) { recordDeath(input: $i) { errors { code } } }""",
        {
            "i": {
                "personId": hh["members"][0]["person"]["id"],
                "diedOn": dt.date.today().isoformat(),
            }
        },
    )
    assert died["recordDeath"]["errors"] == []
    assert set((await sources(api)).values()) == {dt.date.today()}
    for code in ("410823", "410823101", VILLAGES["wuzhi_a"], VILLAGES["wuzhi_b"], "410823102"):
        kept, live, seen = await both(api, code, query)
        assert kept == live, code
        assert not counts_persons(seen)
    after = (await api.gql(query, {"code": "410823"}))["regionStatistics"]
    assert after["population"] == before["population"] + 4 - 1
    assert after["households"] == before["households"] + 2


async def test_a_failed_write_changes_no_figure(seeded: Any) -> None:
    api = seeded

    async def rows() -> list[Any]:
        async with api.engine.connect() as conn:
            return (
                await conn.execute(
                    select(RegionFigure.region_code, RegionFigure.key, RegionFigure.value).order_by(
                        RegionFigure.id
                    )
                )
            ).all()

    before = await rows()
    bad = member("错号", idNumber="410823198005170010")
    data = await api.gql(
        """mutation($i: RegisterHouseholdInput!) { registerHousehold(input: $i) {
        household { id } errors { code } } }""",
        {
            "i": {
                "regionCode": VILLAGES["wuzhi_a"],
                "members": [member("好号"), {**bad, "relation": "SPOUSE"}],
            }
        },
    )
    assert data["registerHousehold"]["household"] is None
    assert await rows() == before
    assert set((await sources(api)).values()) == {dt.date.today()}


async def test_a_write_whose_units_are_unknown_makes_readers_count_live(seeded: Any) -> None:
    api = seeded
    factory = session_factory(api.engine)
    async with transaction(factory, principal=SYSTEM) as session:
        await session.execute(
            update(Person).where(Person.region_code == VILLAGES["wuzhi_a"]).values(phone="1")
        )
    assert set((await sources(api)).values()) == {None}
    query = dashboard_query(api)
    with api.count_statements() as seen:
        live = await api.gql(query, {"code": "410823"})
    assert counts_persons(seen)
    async with transaction(
        factory, principal=SYSTEM, plugins=api.app.state.minzheng.plugins.manager
    ) as session:
        await pre.refresh(session, api.app.state.minzheng.plugins.manager, dt.date.today())
    kept, again, seen = await both(api, "410823", query)
    assert kept == again == live
    assert not counts_persons(seen)


async def test_figures_for_another_day_are_not_read(seeded: Any) -> None:
    api = seeded
    await set_as_of(api, dt.date.today() - dt.timedelta(days=1))
    with api.count_statements() as seen:
        await api.gql(dashboard_query(api), {"code": "410823"})
    assert counts_persons(seen)
    # and writes do not keep figures that are not current
    async with api.engine.connect() as conn:
        n = await conn.scalar(
            select(RegionFigure.value).where(
                RegionFigure.key == "registry:households",
                RegionFigure.region_code == VILLAGES["wuzhi_a"],
            )
        )
    await register(api, VILLAGES["wuzhi_a"])
    async with api.engine.connect() as conn:
        assert n == await conn.scalar(
            select(RegionFigure.value).where(
                RegionFigure.key == "registry:households",
                RegionFigure.region_code == VILLAGES["wuzhi_a"],
            )
        )


async def test_a_scoped_writer_recounts_within_its_scope(seeded: Any) -> None:
    api = seeded.as_("admin", "410823101")
    query = dashboard_query(api)
    await register(api, VILLAGES["wuzhi_a"])
    city = seeded
    for code in ("410823", VILLAGES["wuzhi_a"]):
        kept, live, _ = await both(city, code, query)
        assert kept == live


async def test_concurrent_writers_in_one_village_both_counted(seeded: Any) -> None:
    api = seeded
    before = (await api.gql(dashboard_query(api), {"code": VILLAGES["wuzhi_a"]}))[
        "regionStatistics"
    ]
    await asyncio.gather(
        *(register(api, VILLAGES["wuzhi_a"], members=[member(f"并{i}")]) for i in range(6))
    )
    kept, live, _ = await both(api, VILLAGES["wuzhi_a"], dashboard_query(api))
    assert kept == live
    assert kept["regionStatistics"]["households"] == before["households"] + 6


async def test_refresh_drops_sources_no_longer_enabled(seeded: Any) -> None:
    api = seeded
    factory = session_factory(api.engine)
    async with transaction(factory, principal=SYSTEM, plugins=None) as session:
        report = await pre.refresh(session, None, dt.date.today())
    assert list(report) == [pre.REGISTRY]
    assert list(await sources(api)) == [pre.REGISTRY]
    async with api.engine.connect() as conn:
        keys = set(await conn.scalars(select(RegionFigure.key)))
    assert keys and all(k.startswith("registry:") for k in keys)


def test_sources_must_have_distinct_names() -> None:
    class Manager:
        class hook:
            @staticmethod
            def region_figure_sources() -> list[Any]:
                return [[pre.REGISTRY_SOURCE]]

    with pytest.raises(ValueError, match="named twice"):
        pre.sources_of(Manager())


_ = Principal


async def test_daily_counts_the_figures_for_its_day(seeded: Any, db_url: str) -> None:
    from minzheng.core.daily import run_daily

    api = seeded
    await set_as_of(api, None)
    report = await run_daily(db_url, api.app.state.minzheng.plugins, dt.date.today())
    assert report["figures"]["as_of"] == dt.date.today().isoformat()
    assert report["figures"]["rows"] > 0
    assert set((await sources(api)).values()) == {dt.date.today()}
    kept, live, seen = await both(api, "410823", dashboard_query(api))
    assert kept == live and not counts_persons(seen)


def test_cli_refresh_and_status(sqlite_url: str, tmp_path: Any) -> None:
    def cli(*args: str) -> Any:
        return minzheng_cli(
            "figures",
            *args,
            url=sqlite_url,
            cwd=tmp_path,
            env={"MINZHENG_PLUGINS": "social_assistance"},
        )

    before = cli("status")
    assert before.returncode == 0, before.stderr
    assert "no figures yet" in before.stdout
    done = cli("refresh", "--date", "2026-01-05")
    assert done.returncode == 0, done.stderr
    assert "registry:" in done.stdout and "social_assistance:" in done.stdout
    after = cli("status")
    assert "as of 2026-01-05" in after.stdout and "not current" in after.stdout


async def test_a_savepoint_rolled_back_keeps_the_units_written_before_it(seeded: Any) -> None:
    api = seeded
    manager = api.app.state.minzheng.plugins.manager
    factory = session_factory(api.engine)
    async with transaction(factory, principal=SYSTEM, plugins=manager) as session:
        person = (
            await session.scalars(select(Person).where(Person.died_on.is_(None)).limit(1))
        ).one()
        old = person.region_code
        person.place(VILLAGES["wen"])
        await session.flush()
        try:
            async with session.begin_nested():
                session.add(Person(id_number="x", name="半途", sex="male"))
                await session.flush()
        except Exception:
            pass
    assert set((await sources(api)).values()) == {dt.date.today()}
    for code in (old, VILLAGES["wen"], "410825", old[:6]):
        kept, live, seen = await both(api, code, dashboard_query(api))
        assert kept == live, code
        assert not counts_persons(seen)


async def test_a_move_within_one_village_recounts_it(seeded: Any) -> None:
    """Memberships have no region of their own: a person joining a near-poverty
    household of the same village changes that village's 低保边缘 persons."""
    from minzheng.core.models import Enrolment, Household
    from minzheng.schema import ids

    api = seeded
    async with api.engine.connect() as conn:
        household_id, village = (
            await conn.execute(
                select(Household.id, Household.region_code)
                .join(Enrolment, Enrolment.household_id == Household.id)
                .where(Enrolment.programme == "near_poverty", Enrolment.end_on.is_(None))
                .limit(1)
            )
        ).one()
    query = dashboard_query(api)

    def near(data: Any) -> int:
        programmes = data["regionStatistics"]["socialAssistance"]["programmes"]
        return next(p["persons"] for p in programmes if p["programme"] == "near_poverty")

    newcomer = await register(
        api, village, members=[member("甲"), member("乙", "SPOUSE", male=False)]
    )
    before = near(await api.gql(query, {"code": village}))
    moved = await api.gql(
        """mutation($i: MoveMemberInput!) { moveMember(input: $i) { errors { code } } }""",
        {
            "i": {
                "personId": newcomer["members"][1]["person"]["id"],
                "toHouseholdId": ids.encode("Household", household_id),
                "relation": "OTHER",
            }
        },
    )
    assert moved["moveMember"]["errors"] == []
    kept, live, seen = await both(api, village, query)
    assert kept == live
    assert near(kept) == before + 1
    assert not counts_persons(seen)


async def test_a_row_above_village_level_recounts_every_unit_inside_it(seeded: Any) -> None:
    """A verification cycle opened for a county covers every grant in it: the
    county's villages' verification figures change with one row at county level."""
    from minzheng.plugins.disability.models import DisabilityGrant

    api = seeded
    async with api.engine.connect() as conn:
        county = (await conn.scalars(select(DisabilityGrant.county_code).limit(1))).one()
    query = dashboard_query(api)

    def covered(data: Any) -> int:
        return data["regionStatistics"]["disability"]["verificationCovered"] or 0

    before = covered(await api.gql(query, {"code": county}))
    today = dt.date.today()
    data = await api.gql(
        """mutation($i: OpenDisabilityVerificationCycleInput!) {
        openDisabilityVerificationCycle(input: $i) { cycle { id } errors { code } } }""",
        {
            "i": {
                "regionCode": county[:6],
                "name": "年度验证",
                "opensOn": (today - dt.timedelta(days=3)).isoformat(),
                "deadline": (today + dt.timedelta(days=60)).isoformat(),
            }
        },
    )
    assert data["openDisabilityVerificationCycle"]["errors"] == []
    kept, live, seen = await both(api, county, query)
    assert kept == live
    assert not counts_persons(seen)
    assert covered(kept) > before


async def test_a_failing_source_goes_out_of_date_and_the_write_stands(
    seeded: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A figure source whose statement fails (a plugin's bug) must not make every
    write fail: the write commits, the other sources stay current and right, and
    the failing one is out of date, so readers count it live."""
    from sqlalchemy import func, insert, literal, text

    def broken(_on: dt.date, where: Any) -> list[Any]:
        return [
            select(Person.region_code, literal("x"), func.count())
            .where(where(Person.region_code), text("no_such_column = 1"))
            .group_by(Person.region_code)
        ]

    real = pre.sources_of
    source = pre.FigureSource("broken", broken)
    monkeypatch.setattr(pre, "sources_of", lambda manager: [*real(manager), source])
    async with seeded.engine.begin() as conn:
        await conn.execute(
            insert(RegionFigureSource).values(
                name="broken",
                as_of=dt.date.today(),
                fingerprint=pre.fingerprint(source, seeded.engine.dialect),
            )
        )
    before = (await seeded.gql(DASHBOARD, {"code": VILLAGES["wuzhi_a"]}))["regionStatistics"]

    with caplog.at_level("ERROR", logger="minzheng.figures"):
        hh = await register(seeded, VILLAGES["wuzhi_a"])
    assert hh["id"]
    assert "'broken' could not be counted" in caplog.text
    state = await sources(seeded)
    assert state.pop("broken") is None
    assert set(state.values()) == {dt.date.today()}
    kept, live, seen = await both(seeded, VILLAGES["wuzhi_a"], DASHBOARD)
    assert kept == live and not counts_persons(seen)
    after = kept["regionStatistics"]
    assert after["households"] == before["households"] + 1
    assert after["population"] == before["population"] + len(hh["members"])


@pytest.fixture
def policy_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Change the disability plugin's local policy for one test."""
    from minzheng.plugins.disability.settings import get_policy

    def change(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"MINZHENG_DISABILITY_{name.upper()}", value)
        get_policy.cache_clear()

    yield change
    monkeypatch.undo()
    get_policy.cache_clear()


async def test_figures_counted_under_another_policy_are_not_read(
    seeded: Any, policy_env: Any
) -> None:
    """A source's figures depend on local settings (the disability policy): once
    the policy changes, the figures counted under the old one are not read, and
    writes leave them alone, until a refresh counts them under the new one."""
    api = seeded
    manager = api.app.state.minzheng.plugins.manager

    async def current() -> frozenset[str]:
        async with api.engine.connect() as conn:
            rows = (await conn.execute(pre.STATE)).all()
        expected = pre.fingerprints(pre.sources_of(manager), api.engine.dialect)
        return pre.current_sources(rows, expected, dt.date.today())

    async def kept_disability(village: str) -> dict[str, int]:
        async with api.engine.connect() as conn:
            rows = await conn.execute(
                select(RegionFigure.key, RegionFigure.value).where(
                    RegionFigure.key.like("disability:%"), RegionFigure.region_code == village
                )
            )
            return dict(rows.all())  # type: ignore[arg-type]

    query = dashboard_query(api)
    enabled = await current()
    assert "disability" in enabled
    policy_env(living_subsidy_includes_near_poverty="true")
    assert await current() == enabled - {"disability"}

    # were the old figures read, the answer would show this
    async with api.engine.begin() as conn:
        await conn.execute(
            update(RegionFigure)
            .where(RegionFigure.key.like("disability:%"))
            .values(value=RegionFigure.value + 1000)
        )
    kept, live, seen = await both(api, "410800", query)
    assert kept == live
    figures = kept["regionStatistics"]["disability"]
    assert figures["eligibleNotEnrolled"] < 1000 and figures["suspendedGrants"] < 1000
    assert any("count(" in s.lower() and "disability_" in s for s in seen)  # counted live

    # a write does not recount figures counted under another policy
    old = await kept_disability(VILLAGES["wuzhi_a"])
    await register(api, VILLAGES["wuzhi_a"])
    assert await kept_disability(VILLAGES["wuzhi_a"]) == old

    async with transaction(session_factory(api.engine), principal=SYSTEM, plugins=manager) as s:
        await pre.refresh(s, manager, dt.date.today())
    assert await current() == enabled
    kept, live, seen = await both(api, "410800", query)
    assert kept == live and not counts_persons(seen)


async def test_a_write_recounts_only_the_sources_reading_what_it_wrote(seeded: Any) -> None:
    api = seeded
    manager = api.app.state.minzheng.plugins.manager
    dialect = api.engine.dialect
    read = {s.name: pre.tables_read(s, dialect) for s in pre.sources_of(manager)}
    assert "person" in read[pre.REGISTRY] and "person" in read["disability"]
    assert "person" not in read["social_assistance"]
    hh = await register(api, VILLAGES["wuzhi_a"])
    pid = hh["members"][0]["person"]["id"]

    with api.count_statements() as seen:
        data = await api.gql(
            """mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { errors { code } } }""",
            {"i": {"id": pid, "version": 1, "name": "张三丰"}},
        )
    assert data["updatePerson"]["errors"] == []
    counted = [s for s in seen if "GROUP BY" in s and "core_region_figure" not in s]
    assert any("disability_grant" in s for s in counted)
    assert any("household" in s and "person" in s for s in counted)  # the registry's
    assert not any("social_assistance_" in s for s in counted)
    kept, live, _ = await both(api, VILLAGES["wuzhi_a"], dashboard_query(api))
    assert kept == live

    # a write whose units are unknown leaves the sources not reading its table current
    factory = session_factory(api.engine)
    async with transaction(factory, principal=SYSTEM, plugins=manager) as session:
        await session.execute(
            update(Person).where(Person.region_code == VILLAGES["wuzhi_a"]).values(phone="1")
        )
    state = await sources(api)
    assert state == {**state, pre.REGISTRY: None, "disability": None}
    assert state["social_assistance"] == dt.date.today()
    kept, live, _ = await both(api, "410823", dashboard_query(api))
    assert kept == live
