"""The benchmark's set-based plugin data (``bench/plugin_data.py``): valid rows
(enums, references, region columns, mirrored enrolments), deterministic, in the
intended proportions, and the dashboard's plugin figures see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import func, select, text

from bench import documents, plugin_data, server
from bench import run as bench_run
from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.demo import seed_registry
from minzheng.core.models import Enrolment, Household, Membership, Person
from minzheng.core.plugins import load
from minzheng.core.scope import SYSTEM
from minzheng.plugins.disability import models as dis
from minzheng.plugins.social_assistance import models as sa

TODAY = dt.date.today().replace(day=1)
HOUSEHOLDS = 2_500


def _region(row: Any) -> tuple[str, str | None, str | None]:
    return (row.region_code, row.county_code, row.township_code)


async def test_plugin_data_is_valid_proportionate_and_reaches_the_dashboard(db_url: str) -> None:
    plugins = load("all")
    engine = create_engine(db_url)
    try:
        await seed_registry(engine, HOUSEHOLDS, 9, today=TODAY, workers=0)
        summary = await plugin_data.generate(engine, plugins, 9, TODAY)
        assert all(summary["rows"].get(t.name) for t in plugin_data._tables(plugins))

        # the same registry and seed give the same rows
        async with engine.connect() as conn:
            households = await plugin_data.read_registry(conn, TODAY)
        ids = {t.name: 1 for t in plugin_data._tables(plugins)}
        names = set(plugins.names())
        first = plugin_data.build_rows(households, names, ids, 9, TODAY).rows
        assert first == plugin_data.build_rows(households, names, ids, 9, TODAY).rows
        assert {k: len(v) for k, v in first.items()} == summary["rows"]

        if engine.dialect.name == "sqlite":
            async with engine.connect() as conn:
                assert (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all() == []

        factory = session_factory(engine)
        async with transaction(factory, principal=SYSTEM, plugins=plugins.manager) as s:
            # every row loads through the ORM: enum values and types are valid
            for name in plugin_data.MODELS["social_assistance"] + plugin_data.MODELS["disability"]:
                model = getattr(sa, name, None) or getattr(dis, name)
                assert (await s.scalars(select(model))).all(), name
            # region columns are those of the household or person the row is about
            for case, hh in await s.execute(
                select(sa.DibaoCase, Household).join(
                    Household, Household.id == sa.DibaoCase.household_id
                )
            ):
                assert _region(case) == _region(hh) and case.area == hh.hukou_type
            for model in (sa.TekunCase, sa.TemporaryCase, dis.DisabilityGrant):
                for row, person in await s.execute(
                    select(model, Person).join(Person, Person.id == model.person_id)
                ):
                    assert _region(row) == _region(person), model
            for grant, person in await s.execute(
                select(dis.DisabilityGrant, Person).join(
                    Person, Person.id == dis.DisabilityGrant.person_id
                )
            ):
                assert grant.grade == person.disability_grade is not None
            # what a case grants is mirrored in core enrolments (reference = case number)
            paying = set(
                await s.scalars(
                    select(sa.DibaoCase.number).where(
                        sa.DibaoCase.status.in_([sa.DibaoStatus.ACTIVE, sa.DibaoStatus.PHASE_OUT])
                    )
                )
            )
            mirrored = set(
                await s.scalars(
                    select(Enrolment.reference).where(
                        Enrolment.programme == "dibao",
                        Enrolment.status.in_(["active", "phase_out"]),
                        Enrolment.end_on.is_(None),
                    )
                )
            )
            assert paying and paying == mirrored
            current = set(
                await s.scalars(
                    select(dis.DisabilityGrant.id).where(
                        dis.DisabilityGrant.status.in_(["active", "suspended"])
                    )
                )
            )
            open_grants = set(
                await s.scalars(
                    select(Enrolment.reference).where(
                        Enrolment.programme.like("disability_%"), Enrolment.end_on.is_(None)
                    )
                )
            )
            assert {f"disability_grant:{i}" for i in current} == open_grants
            # proportions: 低保 ~3.5 % of rural residents, 特困 ~0.5 %, most severe
            # certificate holders with the care subsidy
            rural = await s.scalar(
                select(func.count())
                .select_from(Membership)
                .join(Household, Household.id == Membership.household_id)
                .where(Household.hukou_type == "rural")
            )
            on_dibao_rural = await s.scalar(
                select(func.count())
                .select_from(sa.DibaoMember)
                .join(sa.DibaoCase, sa.DibaoCase.id == sa.DibaoMember.case_id)
                .where(sa.DibaoCase.area == "rural")
            )
            assert 0.02 < on_dibao_rural / rural < 0.055
            persons = await s.scalar(select(func.count()).select_from(Person))
            tekun = await s.scalar(select(func.count()).select_from(sa.TekunCase))
            assert 0.002 < tekun / persons < 0.008
            severe = await s.scalar(
                select(func.count())
                .select_from(Person)
                .where(Person.disability_grade <= 2, Person.died_on.is_(None))
            )
            care = await s.scalar(
                select(func.count())
                .select_from(dis.DisabilityGrant)
                .where(dis.DisabilityGrant.subsidy == "care")
            )
            assert 0.75 < care / severe < 0.95
            if engine.dialect.name == "postgresql":  # ids continue after the generated ones
                top = await s.scalar(select(func.max(sa.DibaoCase.id)))
                nxt = await s.scalar(
                    text(
                        "SELECT nextval(pg_get_serial_sequence('social_assistance_dibao_case', 'id'))"
                    )
                )
                assert nxt > top
    finally:
        await engine.dispose()

    app = server.build(db_url)
    try:
        doc = documents.load("1_county_dashboard", app.gateway.state.schema._schema, plugins)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers=bench_run.auth_headers(),
        ) as client:
            body = (
                await client.post(
                    "/graphql", json={"query": doc.full, "variables": {"code": "410823"}}
                )
            ).json()
    finally:
        await app.engine.dispose()
    assert not body.get("errors"), body
    figures = body["data"]["regionStatistics"]
    assert figures["disability"]["monthlyTotalFen"] > 0
    assert figures["disability"]["verificationVerified"] > 0
    assert figures["disability"]["eligibleNotEnrolled"] > 0
    assert figures["socialAssistance"]["reserveFundBalanceFen"] > 0
