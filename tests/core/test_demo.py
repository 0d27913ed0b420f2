"""The deterministic registry generator and its bulk loader."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from minzheng.core import demo
from minzheng.core.db import create_engine, session_factory
from minzheng.core.demo import COLUMNS, TABLES, RegistryNotEmpty, generate, plan, seed_registry
from minzheng.core.idnumber import parse_id_number
from minzheng.core.models import Household, Person, Region
from minzheng.core.regions import demo_villages

TODAY = dt.date(2025, 6, 15)
TIMESTAMPS = {"created_at", "updated_at", "recorded_at"}


def collect(households: int, seed: int, **kwargs: Any) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for batch in generate(households, seed, today=TODAY, **kwargs):
        for table in COLUMNS:
            out[table].extend(batch.rows(table))
    return out


def column(rows: list[tuple[Any, ...]], table: str, name: str) -> list[Any]:
    i = COLUMNS[table].index(name)
    return [r[i] for r in rows]


def age(birth: dt.date) -> int:
    return TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))


@pytest.fixture(scope="module")
def city() -> dict[str, list[tuple[Any, ...]]]:
    return collect(6000, 11)


# ------------------------------------------------------------------ generation


def test_same_seed_gives_the_same_rows() -> None:
    first, again = collect(500, 7), collect(500, 7)
    assert first == again
    other = collect(500, 8)
    assert column(other["person"], "person", "id_number") != column(
        first["person"], "person", "id_number"
    )


def test_rows_do_not_depend_on_batch_size_or_date_form() -> None:
    small = collect(700, 3, batch_households=37)
    assert small == collect(700, 3)
    as_text = collect(700, 3, dates_as_text=True)
    births = column(as_text["person"], "person", "birth_date")
    assert births == [d.isoformat() for d in column(small["person"], "person", "birth_date")]


def test_counts_are_exact_and_keys_consistent(city: dict[str, list[tuple[Any, ...]]]) -> None:
    households, persons = city["household"], city["person"]
    assert len(households) == 6000
    assert column(households, "household", "id") == list(range(1, 6001))
    assert column(persons, "person", "id") == list(range(1, len(persons) + 1))
    assert len(city["membership"]) == len(persons)
    assert sorted(column(city["membership"], "membership", "person_id")) == list(
        range(1, len(persons) + 1)
    )
    heads = {
        r[1]: r[2]
        for r in city["membership"]
        if r[COLUMNS["membership"].index("relation")] == "head"
    }
    assert len(heads) == 6000
    head_col = COLUMNS["household"].index("head_person_id")
    assert all(heads[h[0]] == h[head_col] for h in households)
    assert len(set(column(households, "household", "number"))) == 6000
    assert plan(6000, 11, today=TODAY).persons == len(persons)


def test_id_numbers_are_valid_unique_and_match_the_person(
    city: dict[str, list[tuple[Any, ...]]],
) -> None:
    cols = COLUMNS["person"]
    seen = set()
    for row in city["person"]:
        number = row[cols.index("id_number")]
        parsed = parse_id_number(number, today=TODAY)
        assert parsed.birth_date == row[cols.index("birth_date")]
        assert parsed.sex == row[cols.index("sex")]
        assert parsed.address_code == row[cols.index("county_code")][:6]
        seen.add(number)
    assert len(seen) == len(city["person"])


def test_places_follow_the_village(city: dict[str, list[tuple[Any, ...]]]) -> None:
    kind = {v.code: v.urban_rural for v in demo_villages()}
    hcols = COLUMNS["household"]
    region_of = {}
    for h in city["household"]:
        code = h[hcols.index("region_code")]
        assert h[hcols.index("hukou_type")] == kind[code]
        assert h[hcols.index("county_code")] == code[:6] + "000000"
        assert h[hcols.index("township_code")] == code[:9] + "000"
        region_of[h[0]] = code
    pcols = COLUMNS["person"]
    household_of = {r[2]: r[1] for r in city["membership"]}
    for p in city["person"]:
        assert p[pcols.index("region_code")] == region_of[household_of[p[0]]]


def test_proportions_are_realistic(city: dict[str, list[tuple[Any, ...]]]) -> None:
    persons, households = city["person"], city["household"]
    n = len(persons)
    assert 2.3 <= n / len(households) <= 2.75
    rural = column(households, "household", "hukou_type").count("rural") / len(households)
    assert 0.5 <= rural <= 0.7
    ages = [age(b) for b in column(persons, "person", "birth_date")]
    assert 0.12 <= sum(a < 15 for a in ages) / n <= 0.22
    assert 0.16 <= sum(a >= 60 for a in ages) / n <= 0.30
    assert 0.47 <= column(persons, "person", "sex").count("male") / n <= 0.54
    assert 0.02 <= sum(column(persons, "person", "serious_illness")) / n <= 0.045
    categories = [c for c in column(persons, "person", "disability_category") if c]
    assert 0.045 <= len(categories) / n <= 0.08
    assert Counter(categories).most_common(1)[0][0] == "physical"
    assert set(column(persons, "person", "disability_grade")) == {None, 1, 2, 3, 4}
    whereabouts = Counter(column(persons, "person", "whereabouts"))
    assert 0.06 <= whereabouts["working_away"] / n <= 0.2
    deaths = sum(d is not None for d in column(persons, "person", "died_on"))
    assert 0 < deaths < 0.02 * n
    labour = Counter(zip(ages, column(persons, "person", "labour_capacity"), strict=True))
    assert all(cap == "none" for (a, cap) in labour if a < 16)


def test_left_behind_children_and_elderly_exist(city: dict[str, list[tuple[Any, ...]]]) -> None:
    pcols = COLUMNS["person"]
    by_id = {p[0]: p for p in city["person"]}
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for _id, household, person, relation, _joined in city["membership"]:
        members[household].append((person, relation))
    left_behind_children = 0
    without_carer = 0
    left_behind_elderly = 0
    for household in members.values():
        rel = dict(household)
        away = {p for p, _ in household if by_id[p][pcols.index("whereabouts")] == "working_away"}
        for p, relation in household:
            person = by_id[p]
            rural = person[pcols.index("region_code")][9:12] >= "201"
            if not rural:
                continue
            a = age(person[pcols.index("birth_date")])
            if a < 16 and relation in ("child", "grandchild"):
                generation = ("head", "spouse") if relation == "child" else ("child", "other")
                parents = [q for q, r in household if r in generation]
                if parents and all(q in away for q in parents):
                    left_behind_children += 1
                    guardian = person[pcols.index("guardian_person_id")]
                    assert guardian is not None
                    without_carer += guardian in away
            if a >= 60 and relation in ("head", "spouse"):
                children = [q for q, r in household if rel[q] == "child" and q != p]
                if children and all(q in away for q in children):
                    left_behind_elderly += 1
    assert left_behind_children > 100
    assert without_carer < 0.1 * left_behind_children  # rare: no adult at home
    assert left_behind_elderly > 20


def test_incomes_cover_the_last_twelve_months_in_fen(
    city: dict[str, list[tuple[Any, ...]]],
) -> None:
    icols = COLUMNS["household_income"]
    incomes = city["household_income"]
    assert {(r[icols.index("period_start")], r[icols.index("period_end")]) for r in incomes} == {
        (dt.date(2024, 6, 1), dt.date(2025, 5, 31))
    }
    for r in incomes:
        amount, cost = r[icols.index("amount_fen")], r[icols.index("employment_cost_fen")]
        assert isinstance(amount, int) and amount >= 0 and amount % 100 == 0
        assert 0 <= cost <= amount
    sources = Counter(r[icols.index("source")] for r in incomes)
    assert {"wages", "business", "basic_pension", "transfer", "property"} <= set(sources)
    assert sum(r[icols.index("employment_cost_fen")] > 0 for r in incomes) > sources["wages"] // 2
    # some rural households are poor by the 低保 income rule (wages net of costs,
    # business, property and transfers; pensions not counted)
    counted = {"wages", "business", "property", "transfer"}
    income: dict[int, int] = defaultdict(int)
    for r in incomes:
        if r[icols.index("source")] in counted:
            income[r[0]] += r[icols.index("amount_fen")] - r[icols.index("employment_cost_fen")]
    size = Counter(r[1] for r in city["membership"])
    rural = [h[0] for h in city["household"] if h[3] == "rural"]
    poor = sum(income[h] / size[h] < 540_000 for h in rural) / len(rural)
    assert 0.03 <= poor <= 0.25
    assert 0 < len(city["household_asset"]) < len(city["household"])


def test_negative_household_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        plan(-1, 1)


def test_shards_keep_whole_counties_and_respect_the_limit() -> None:
    p = plan(20_000, 5, today=TODAY)
    assert 1 < len(p.shards) <= demo.MAX_SHARDS
    counties = [c for s in p.shards for c in s.counties]
    assert len(counties) == len(set(counties)) == 11
    assert sum(s.households for s in p.shards) == 20_000
    assert p.shards[1].first_person_id == p.shards[0].first_person_id + p.shards[0].persons


# ------------------------------------------------------------------ loading


async def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            out = {}
            for table in TABLES:
                cols = [table.c[c] for c in COLUMNS[table.name] if c not in TIMESTAMPS]
                result = await conn.execute(select(*cols).order_by(table.c.id))
                out[table.name] = [tuple(r) for r in result]
            return out
    finally:
        await engine.dispose()


def _without_timestamps(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table, cols in COLUMNS.items():
        keep = [i for i, c in enumerate(cols) if c not in TIMESTAMPS]
        out[table] = [tuple(r[i] for i in keep) for r in rows[table]]
    return out


async def _count(url: str, model: Any) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await engine.dispose()


async def test_seed_registry_writes_exactly_the_generated_rows(db_url: str) -> None:
    engine = create_engine(db_url)
    progress: list[int] = []
    try:
        summary = await seed_registry(
            engine, 400, 21, today=TODAY, progress=progress.append, workers=0
        )
    finally:
        await engine.dispose()
    expected = collect(400, 21)
    assert summary.households == 400 == sum(progress)
    assert summary.rows == {t: len(rows) for t, rows in expected.items()}
    assert await _dump(db_url) == _without_timestamps(expected)
    assert await _count(db_url, Region) >= len(demo.region_rows())


async def test_worker_processes_and_index_rebuild_write_the_same_rows(
    sqlite_url: str, tmp_path: Any
) -> None:
    other = f"sqlite+aiosqlite:///{tmp_path / 'parallel.db'}"
    import shutil

    shutil.copy(sqlite_url.removeprefix("sqlite+aiosqlite:///"), tmp_path / "parallel.db")
    for url, workers, rebuild in ((sqlite_url, 0, False), (other, 2, True)):
        engine = create_engine(url)
        try:
            summary = await seed_registry(
                engine, 1500, 4, today=TODAY, workers=workers, rebuild_indexes=rebuild
            )
            assert summary.workers == workers
            async with engine.connect() as conn:
                assert (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all() == []
                assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
                names = await conn.run_sync(
                    lambda sync: {i["name"] for i in inspect(sync).get_indexes("person")}
                )
                databases = (await conn.exec_driver_sql("PRAGMA database_list")).all()
        finally:
            await engine.dispose()
        assert {i.name for i in Person.__table__.indexes} <= names
        assert [d[1] for d in databases] == ["main"]  # scratch databases detached
    assert await _dump(sqlite_url) == await _dump(other)


async def test_worker_processes_on_postgres_stream_the_same_rows(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: workers stream batches to COPY")
    engine = create_engine(db_url)
    try:
        await seed_registry(engine, 900, 2, today=TODAY, workers=2, rebuild_indexes=True)
        async with engine.begin() as conn:
            next_id = await conn.scalar(select(func.nextval("person_id_seq")))
    finally:
        await engine.dispose()
    expected = collect(900, 2)
    assert await _dump(db_url) == _without_timestamps(expected)
    assert next_id == len(expected["person"]) + 1


async def test_a_registry_with_households_is_refused_and_left_alone(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        await seed_registry(engine, 30, 1, today=TODAY)
        before = await _dump(sqlite_url)
        with pytest.raises(RegistryNotEmpty, match="already holds households"):
            await seed_registry(engine, 30, 2, today=TODAY)
    finally:
        await engine.dispose()
    assert await _dump(sqlite_url) == before


async def test_rows_written_through_a_session_roll_back_with_it(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with session_factory(engine)() as session:
            summary = await seed_registry(session, 40, 9, today=TODAY, workers=2)
            assert summary.workers == 0  # a session's transaction is written in-process
            assert await session.scalar(select(func.count()).select_from(Household)) == 40
            await session.rollback()
    finally:
        await engine.dispose()
    assert await _count(sqlite_url, Household) == 0
    assert await _count(sqlite_url, Person) == 0


async def test_negative_households_write_nothing(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        with pytest.raises(ValueError, match="negative"):
            await seed_registry(engine, -5, 1, today=TODAY)
    finally:
        await engine.dispose()
    assert await _count(sqlite_url, Person) == 0


async def test_a_failing_worker_is_reported() -> None:
    p = plan(10, 1, today=TODAY)
    async with demo._Workers(1) as pool:
        queue = pool.stream(p, 99, False)  # no such shard
        item = await asyncio.wait_for(queue.get(), 60)
    assert isinstance(item, demo._Failed)
    assert "IndexError" in str(item.error)
