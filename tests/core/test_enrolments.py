"""set_enrolment: the one way programmes record what they grant."""

from __future__ import annotations

import datetime as dt

from factories import member, register
from sqlalchemy import select

from minzheng.core.db import create_engine, session_factory, transaction
from minzheng.core.enrolments import enrolment_on, set_enrolment
from minzheng.core.models import Enrolment, EnrolmentStatus
from minzheng.core.scope import SYSTEM

D = dt.date
ACTIVE, PHASE_OUT, ENDED = EnrolmentStatus.ACTIVE, EnrolmentStatus.PHASE_OUT, EnrolmentStatus.ENDED


async def _person(api) -> tuple[int, str]:
    h = await register(api, members=[member("享")])
    p = h["members"][0]["person"]
    return p["pk"], "410823101201"


async def _rows(session, pid):
    rows = (
        await session.scalars(
            select(Enrolment).where(Enrolment.person_id == pid).order_by(Enrolment.id)
        )
    ).all()
    return [(r.status, r.start_on, r.end_on, r.monthly_amount_fen) for r in rows]


async def test_periods_never_overlap_and_history_is_kept(api, db_url):
    pid, region = await _person(api)
    engine = create_engine(db_url)
    factory = session_factory(engine)
    async with transaction(factory, principal=SYSTEM) as s:
        common = {"programme": "dibao", "region_code": region, "person_id": pid}
        await set_enrolment(
            s, status=ACTIVE, effective_from=D(2025, 1, 1), monthly_amount_fen=50000, **common
        )
        # unchanged: nothing written
        same = await set_enrolment(
            s, status=ACTIVE, effective_from=D(2025, 3, 1), monthly_amount_fen=50000, **common
        )
        assert same is not None and same.start_on == D(2025, 1, 1)
        # planned phase-out with an end
        await set_enrolment(
            s,
            status=PHASE_OUT,
            effective_from=D(2025, 6, 1),
            until=D(2026, 5, 31),
            monthly_amount_fen=30000,
            **common,
        )
        # income falls again: the plan from September on is replaced
        await set_enrolment(
            s, status=ACTIVE, effective_from=D(2025, 9, 1), monthly_amount_fen=55000, **common
        )
        assert await _rows(s, pid) == [
            (ACTIVE, D(2025, 1, 1), D(2025, 5, 31), 50000),
            (PHASE_OUT, D(2025, 6, 1), D(2025, 8, 31), 30000),
            (ACTIVE, D(2025, 9, 1), None, 55000),
        ]
        in_july = await enrolment_on(s, "dibao", D(2025, 7, 31), person_id=pid)
        assert in_july is not None and in_july.status == PHASE_OUT
        # a future change, then a correction before it takes effect: superseded, kept
        await set_enrolment(
            s, status=ACTIVE, effective_from=D(2026, 1, 1), monthly_amount_fen=60000, **common
        )
        await set_enrolment(s, status=ENDED, effective_from=D(2025, 12, 1), **common)
        rows = await _rows(s, pid)
        assert rows[-2:] == [
            (ACTIVE, D(2025, 9, 1), D(2025, 11, 30), 55000),
            (ENDED, D(2026, 1, 1), D(2025, 12, 31), 60000),
        ]
        assert await enrolment_on(s, "dibao", D(2026, 2, 28), person_id=pid) is None
        # ending again is a no-op
        assert await set_enrolment(s, status=ENDED, effective_from=D(2025, 12, 1), **common) is None
        assert len(await _rows(s, pid)) == len(rows)
    await engine.dispose()


async def test_negative_amount_and_bad_period_are_refused(api, db_url):
    import pytest

    pid, region = await _person(api)
    engine = create_engine(db_url)
    async with transaction(session_factory(engine), principal=SYSTEM) as s:
        with pytest.raises(ValueError, match="negative"):
            await set_enrolment(
                s,
                programme="dibao",
                region_code=region,
                person_id=pid,
                status=ACTIVE,
                effective_from=D(2025, 1, 1),
                monthly_amount_fen=-1,
            )
        with pytest.raises(ValueError, match="until is before"):
            await set_enrolment(
                s,
                programme="dibao",
                region_code=region,
                person_id=pid,
                status=ACTIVE,
                effective_from=D(2025, 1, 1),
                until=D(2024, 12, 31),
            )
        assert await _rows(s, pid) == []
    await engine.dispose()
