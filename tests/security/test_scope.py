"""Region scope in the data-access layer: reads, writes, and the statements the
ORM filter cannot see (refused, and on PostgreSQL stopped by the database)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import aliased

from minzheng.core.models import Enrolment, Household, Membership, Person
from minzheng.core.scope import SYSTEM, OutOfScope, Principal, ScopeBypass, lasting

from .dbkit import T1, T2, T3, WENXIAN, WUZHI, Db, persons_in

from example_plugin.models import ExampleNote as ProbeNote  # isort: skip


def who(region: str, *perms: str) -> Principal:
    return Principal(
        subject=f"t-{region}",
        roles=frozenset({"caseworker"}),
        region=region,
        permissions=frozenset(perms),
    )


CITY = "4108"


@pytest.mark.parametrize("region", [CITY, WUZHI, WENXIAN, T1, T2, T3])
async def test_select_sees_only_the_subtree(sdb: Db, region: str) -> None:
    async with sdb.session(who(region)) as s:
        ids = sorted((await s.scalars(select(Person.id))).all())
        notes = sorted((await s.scalars(select(ProbeNote.person_id))).all())
        count = await s.scalar(select(func.count()).select_from(Person))
        hh = await s.scalar(select(func.count(Household.id)))
    assert ids == persons_in(sdb, region)
    assert notes == persons_in(sdb, region), "plugin table scoped with no plugin code"
    assert count == len(ids)
    assert hh == len(ids) // 2


async def test_a_lasting_statement_is_scoped_for_each_reader(sdb: Db) -> None:
    """A statement built once and run with bound keys (the dataloaders') keeps
    one scoped form per region: each reader still sees only their own rows."""
    stmt = lasting(
        select(Person).where(Person.id.in_(bindparam("keys", expanding=True))).order_by(Person.id)
    )
    everyone = persons_in(sdb, CITY)
    for region in (T1, T3, WUZHI, T1, CITY):
        async with sdb.session(who(region)) as s:
            rows = (await s.scalars(stmt, {"keys": everyone})).all()
        assert [p.id for p in rows] == persons_in(sdb, region)


async def test_get_and_joins_respect_scope(sdb: Db) -> None:
    inside = persons_in(sdb, T1)[0]
    outside = persons_in(sdb, T3)[0]
    async with sdb.session(who(T1)) as s:
        assert (await s.get(Person, inside)) is not None
        assert (await s.get(Person, outside)) is None, "out of scope behaves as missing"
        # join through an unscoped table (membership) to a scoped one
        rows = (
            await s.execute(
                select(Person.id, Household.region_code)
                .join(Membership, Membership.person_id == Person.id)
                .join(Household, Household.id == Membership.household_id)
            )
        ).all()
        assert sorted(r[0] for r in rows) == persons_in(sdb, T1)
        assert all(r[1].startswith(T1) for r in rows)
        # aliases are scoped too
        p2 = aliased(Person)
        n = await s.scalar(select(func.count()).select_from(p2).where(p2.id == outside))
        assert n == 0


async def test_group_by_aggregates_are_scoped(sdb: Db) -> None:
    async with sdb.session(who(WUZHI)) as s:
        rows = (
            await s.execute(
                select(Enrolment.township_code, func.sum(Enrolment.monthly_amount_fen))
                .group_by(Enrolment.township_code)
                .order_by(Enrolment.township_code)
            )
        ).all()
    assert [r[0] for r in rows] == [T1 + "000", T2 + "000"]
    assert [r[1] for r in rows] == [4 * 50000, 2 * 50000]


async def test_two_principals_do_not_share_cached_criteria(sdb: Db) -> None:
    for region in (T1, T3, T2, T1):
        async with sdb.session(who(region)) as s:
            got = sorted((await s.scalars(select(Person.id))).all())
        assert got == persons_in(sdb, region)


async def test_core_and_text_statements_are_refused_in_a_scoped_session(sdb: Db) -> None:
    async with sdb.session(who(T1)) as s:
        with pytest.raises(ScopeBypass, match="person"):
            await s.execute(select(Person.__table__.c.id))
        with pytest.raises(ScopeBypass, match="person"):
            await s.execute(text("SELECT count(*) FROM person"))
        with pytest.raises(ScopeBypass, match="example_note"):
            await s.execute(text('select * from "example_note"'))
        # statements over unscoped tables are fine
        assert (await s.execute(text("SELECT count(*) FROM region"))).scalar() > 0


async def test_writes_outside_scope_are_refused_and_nothing_is_written(sdb: Db) -> None:
    before_p = await sdb.count("person")
    before_n = await sdb.count("example_note")
    outside = persons_in(sdb, T3)[0]
    inside = persons_in(sdb, T1)[0]

    # new row outside the scope
    with pytest.raises(OutOfScope):
        async with sdb.session(who(T1)) as s:
            n = ProbeNote(text="x", person_id=inside, written_on=dt.date(2024, 1, 1))
            n.place(T3 + "201")
            s.add(n)
    # moving a visible row out of scope
    with pytest.raises(OutOfScope):
        async with sdb.session(who(T1)) as s:
            p = await s.get(Person, inside)
            assert p is not None
            p.place(T3 + "201")
    # bulk update setting an out-of-scope region
    with pytest.raises(OutOfScope):
        async with sdb.session(who(T1)) as s:
            await s.execute(update(Person).values(region_code=T3 + "201"))
    # bulk insert outside the scope, and without a region
    with pytest.raises(OutOfScope):
        async with sdb.session(who(T1)) as s:
            await s.execute(
                insert(ProbeNote),
                [
                    {
                        "text": "y",
                        "person_id": inside,
                        "written_on": dt.date(2024, 1, 1),
                        "region_code": T3 + "201",
                    }
                ],
            )
    with pytest.raises(OutOfScope):
        async with sdb.session(who(T1)) as s:
            await s.execute(insert(ProbeNote).values(text="z"))

    # bulk update / delete only touch rows in scope
    async with sdb.session(who(T1)) as s:
        r = await s.execute(update(ProbeNote).values(text="touched"))
        assert r.rowcount == len(persons_in(sdb, T1))
        r = await s.execute(delete(ProbeNote).where(ProbeNote.person_id == outside))
        assert r.rowcount == 0
    assert await sdb.count("example_note", "text = 'touched'") == len(persons_in(sdb, T1))
    assert await sdb.count("person") == before_p
    assert await sdb.count("example_note") == before_n
    async with sdb.session(who(T1)) as s:
        assert (await s.get(Person, inside)).region_code.startswith(T1)  # type: ignore[union-attr]


async def test_moving_a_row_into_scope_from_outside_is_refused(sdb: Db) -> None:
    outside = persons_in(sdb, T3)[0]
    async with sdb.session(SYSTEM) as s:
        p = await s.get(Person, outside)
        assert p is not None
        s.expunge(p)
    # a row loaded elsewhere, merged into a scoped session and moved into the scope
    with pytest.raises(OutOfScope):
        async with sdb.session(who(WENXIAN)) as s:
            merged = await s.merge(p)
            s.info["principal"] = who(T1)
            merged.place(T1 + "201")
    assert await sdb.count("person", f"id = {outside} AND region_code LIKE '{T3}%'") == 1


async def test_ancestor_codes_are_derived_from_region(sdb: Db) -> None:
    async with sdb.session(who(T1)) as s:
        n = ProbeNote(
            text="derived",
            person_id=persons_in(sdb, T1)[0],
            written_on=dt.date(2024, 1, 1),
            region_code=T1 + "202",
            county_code="410825000000",
        )
        s.add(n)
        await s.flush()
        assert n.county_code == WUZHI + "000000"
        assert n.township_code == T1 + "000"
        await s.delete(n)


async def test_skip_scope_checks_existence_across_regions_then_scope_returns(sdb: Db) -> None:
    outside = persons_in(sdb, T3)[0]
    async with sdb.session(SYSTEM) as s:
        number = (await s.get(Person, outside)).id_number  # type: ignore[union-attr]
    async with sdb.session(who(T1)) as s:
        taken = await s.scalar(
            select(func.count())
            .select_from(Person)
            .where(Person.id_number == number)
            .execution_options(skip_scope=True)
        )
        assert taken == 1
        # the principal's scope is back for the next statement (and on PostgreSQL
        # for raw SQL too)
        assert sorted((await s.scalars(select(Person.id))).all()) == persons_in(sdb, T1)
        raw = await s.execute(
            text("SELECT count(*) FROM person").execution_options(region_scope_checked=True)
        )
        n = raw.scalar()
    assert n == (len(persons_in(sdb, T1)) if sdb.kind == "postgres" else await sdb.count("person"))
