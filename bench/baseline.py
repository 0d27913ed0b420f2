"""Hand-written SQLAlchemy Core answers to queries 1–4: the floor.

Each function returns exactly the JSON ``data`` the GraphQL query's *core*
variant returns (the harness checks that before measuring), with as few
statements as a careful hand-written service would use, region scope included.
They are served by a bare Starlette app on the same engine, so GraphQL and
baseline go through the same HTTP stack.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from minzheng.core import divisions
from minzheng.core.idnumber import InvalidIdNumber, Sex, parse_id_number
from minzheng.core.models import (
    Enrolment,
    Household,
    Membership,
    Person,
    Region,
    RegionFigure,
    RegionFigureSource,
    Relation,
)
from minzheng.schema import ids
from minzheng.schema.pagination import decode_key, encode_key

P = Person.__table__
H = Household.__table__
M = Membership.__table__
E = Enrolment.__table__
R = Region.__table__
F = RegionFigure.__table__
FS = RegionFigureSource.__table__

AGE_BANDS = ((0, 15, "0-15"), (16, 59, "16-59"), (60, 79, "60-79"), (80, 200, "80+"))


def _cutoff(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _name(value: Any) -> Any:
    return None if value is None else value.name


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


class Baseline:
    """The four read queries, scoped to ``scope`` (a significant code prefix)."""

    def __init__(self, engine: AsyncEngine, scope: str = "4108") -> None:
        self.engine = engine
        self.lo, self.hi = divisions.DivisionCode(scope).bounds if scope else ("", "9" * 12)

    def _scoped(self, table: Any) -> Any:
        # as the service's scope filter renders it (minzheng.core.scope): on
        # SQLite marked likely-true, so the planner walks the statement's own range
        pred = table.c.region_code.between(self.lo, self.hi)
        if self.engine.dialect.name == "sqlite":
            return func.likelihood(pred, literal_column("0.9"))
        return pred

    # ------------------------------------------------------------- 1

    async def county_dashboard(self, code: str) -> dict[str, Any]:
        parsed = divisions.parse(code)
        lo, hi = parsed.bounds
        today = dt.date.today()
        whens = [
            (P.c.birth_date > _cutoff(today, high + 1), label) for _l, high, label in AGE_BANDS[:-1]
        ]
        band = case(*whens, else_=AGE_BANDS[-1][2]).label("band")
        by_sex: dict[Any, int] = defaultdict(int)
        by_band: dict[str, int] = defaultdict(int)
        async with self.engine.connect() as conn:
            if await conn.scalar(select(R.c.code).where(R.c.code == parsed.full)) is None:
                return {"regionStatistics": None}
            current = await conn.scalar(select(FS.c.as_of).where(FS.c.name == "registry"))
            if current == today:
                # the same design as the service: sum the pre-aggregated figures
                kept = await conn.execute(
                    select(F.c.key, func.sum(F.c.value))
                    .where(F.c.region_code.between(lo, hi), self._scoped(F))
                    .where(F.c.key.like("registry:%"))
                    .group_by(F.c.key)
                )
                households = 0
                for key, n in kept:
                    parts = key.split(":")
                    if parts[1] == "households":
                        households = int(n)
                    elif parts[1] == "persons":
                        by_sex[Sex(parts[2])] += int(n)
                        by_band[parts[3]] += int(n)
            else:
                rows = (
                    await conn.execute(
                        select(P.c.sex, band, func.count())
                        .where(
                            P.c.region_code.between(lo, hi), self._scoped(P), P.c.died_on.is_(None)
                        )
                        .group_by(P.c.sex, band)
                    )
                ).all()
                households = await conn.scalar(
                    select(func.count())
                    .select_from(H)
                    .where(H.c.region_code.between(lo, hi), self._scoped(H))
                )
                for sex, label, n in rows:
                    by_sex[sex] += n
                    by_band[label] += n
        return {
            "regionStatistics": {
                "code": parsed.full,
                "population": sum(by_sex.values()),
                "households": int(households or 0),
                "bySex": [
                    {"sex": s.name, "count": by_sex[s]}
                    for s in sorted(by_sex, key=lambda s: s.value)
                ],
                "byAgeBand": [
                    {"band": label, "count": by_band[label]} for _l, _h, label in AGE_BANDS
                ],
            }
        }

    # ------------------------------------------------------------- 2

    async def township_households(self, code: str, first: int) -> dict[str, Any]:
        lo, hi = divisions.parse(code).bounds
        today = dt.date.today()
        async with self.engine.connect() as conn:
            households = (
                await conn.execute(
                    select(H)
                    .where(H.c.region_code.between(lo, hi), self._scoped(H))
                    .order_by(H.c.region_code, H.c.id)
                    .limit(first + 1)
                )
            ).all()
            has_next = len(households) > first
            households = households[:first]
            keys = [h.id for h in households]
            members = (
                await conn.execute(
                    select(
                        M.c.id.label("membership_id"),
                        M.c.household_id,
                        M.c.relation,
                        M.c.joined_on,
                        P,
                    )
                    .join(P, P.c.id == M.c.person_id)
                    .where(M.c.household_id.in_(keys), self._scoped(P))
                    .order_by(M.c.id)
                )
            ).all()
            regions = dict(
                (
                    await conn.execute(
                        select(R.c.code, R.c.name).where(
                            R.c.code.in_({h.region_code for h in households})
                        )
                    )
                ).all()
            )
            person_enrolments = await _enrolments(
                conn, E.c.person_id, [m.id for m in members], self._scoped(E)
            )
            household_enrolments = await _enrolments(conn, E.c.household_id, keys, self._scoped(E))
        by_household: dict[int, list[Any]] = defaultdict(list)
        for m in members:
            by_household[m.household_id].append(m)
        edges = []
        for h in households:
            rows = sorted(
                by_household[h.id], key=lambda m: (m.relation != Relation.HEAD, m.membership_id)
            )
            edges.append(
                {
                    "cursor": encode_key([h.region_code, h.id]),
                    "node": {
                        "id": ids.encode("Household", h.id),
                        "number": h.number,
                        "address": h.address,
                        "hukouType": h.hukou_type.name,
                        "version": h.version,
                        "region": {"code": h.region_code, "name": regions[h.region_code]},
                        "members": [
                            {
                                "relation": m.relation.name,
                                "joinedOn": m.joined_on.isoformat(),
                                "person": {
                                    "id": ids.encode("Person", m.id),
                                    "idNumber": m.id_number,
                                    "name": m.name,
                                    "sex": m.sex.name,
                                    "birthDate": m.birth_date.isoformat(),
                                    "age": _age(m.birth_date, today),
                                    "labourCapacity": m.labour_capacity.name,
                                    "seriousIllness": bool(m.serious_illness),
                                    "whereabouts": m.whereabouts.name,
                                    "disability": _disability(m),
                                    "enrolments": person_enrolments.get(m.id, []),
                                },
                            }
                            for m in rows
                        ],
                        "enrolments": household_enrolments.get(h.id, []),
                    },
                }
            )
        return {
            "households": {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": has_next,
                    "endCursor": (
                        encode_key([households[-1].region_code, households[-1].id])
                        if households
                        else None
                    ),
                },
            }
        }

    # ------------------------------------------------------------- 3

    async def person_by_id_number(self, id_number: str) -> dict[str, Any]:
        try:
            value = parse_id_number(id_number).value
        except InvalidIdNumber as exc:
            raise ValueError(exc.message) from None
        today = dt.date.today()
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        P,
                        M.c.relation.label("m_relation"),
                        H.c.id.label("h_id"),
                        H.c.number.label("h_number"),
                        H.c.hukou_type.label("h_hukou_type"),
                    )
                    .outerjoin(M, M.c.person_id == P.c.id)
                    .outerjoin(H, and_(H.c.id == M.c.household_id, self._scoped(H)))
                    .where(P.c.id_number == value, self._scoped(P))
                )
            ).first()
            if row is None:
                return {"personByIdNumber": None}
            members: list[Any] = []
            if row.h_id is not None:
                members = (
                    await conn.execute(
                        select(
                            M.c.id.label("membership_id"),
                            M.c.relation,
                            P.c.id,
                            P.c.name,
                            P.c.sex,
                            P.c.birth_date,
                        )
                        .join(P, P.c.id == M.c.person_id)
                        .where(M.c.household_id == row.h_id, self._scoped(P))
                        .order_by(M.c.id)
                    )
                ).all()
            enrolments = await _enrolments(conn, E.c.person_id, [row.id], self._scoped(E))
        household = None
        if row.h_id is not None:
            ordered = sorted(members, key=lambda m: (m.relation != Relation.HEAD, m.membership_id))
            household = {
                "id": ids.encode("Household", row.h_id),
                "number": row.h_number,
                "hukouType": row.h_hukou_type.name,
                "members": [
                    {
                        "relation": m.relation.name,
                        "person": {
                            "id": ids.encode("Person", m.id),
                            "name": m.name,
                            "sex": m.sex.name,
                            "birthDate": m.birth_date.isoformat(),
                        },
                    }
                    for m in ordered
                ],
            }
        return {
            "personByIdNumber": {
                "id": ids.encode("Person", row.id),
                "idNumber": row.id_number,
                "name": row.name,
                "sex": row.sex.name,
                "birthDate": row.birth_date.isoformat(),
                "age": _age(row.birth_date, today),
                "phone": row.phone,
                "address": row.address,
                "labourCapacity": row.labour_capacity.name,
                "seriousIllness": bool(row.serious_illness),
                "whereabouts": row.whereabouts.name,
                "awaySince": _day(row.away_since),
                "inSchool": bool(row.in_school),
                "disability": _disability(row),
                "relation": _name(row.m_relation),
                "household": household,
                "enrolments": enrolments.get(row.id, []),
            }
        }

    # ------------------------------------------------------------- 4

    async def persons_page(self, first: int, after: str | None) -> dict[str, Any]:
        stmt = select(
            P.c.region_code, P.c.id, P.c.id_number, P.c.name, P.c.sex, P.c.birth_date
        ).where(self._scoped(P))
        if after:
            region_code, pk = decode_key(after, 2)
            stmt = stmt.where(tuple_(P.c.region_code, P.c.id) > tuple_(region_code, pk))
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(stmt.order_by(P.c.region_code, P.c.id).limit(first + 1))
            ).all()
        has_next = len(rows) > first
        rows = rows[:first]
        return {
            "persons": {
                "edges": [
                    {
                        "cursor": encode_key([r.region_code, r.id]),
                        "node": {
                            "id": ids.encode("Person", r.id),
                            "idNumber": r.id_number,
                            "name": r.name,
                            "sex": r.sex.name,
                            "birthDate": r.birth_date.isoformat(),
                        },
                    }
                    for r in rows
                ],
                "pageInfo": {
                    "hasNextPage": has_next,
                    "endCursor": encode_key([rows[-1].region_code, rows[-1].id]) if rows else None,
                },
            }
        }


def _disability(row: Any) -> dict[str, Any] | None:
    if row.disability_category is None:
        return None
    return {"category": row.disability_category.name, "grade": row.disability_grade}


async def _enrolments(
    conn: AsyncConnection, column: Any, keys: list[int], scope: Any
) -> dict[int, list[dict[str, Any]]]:
    """Current enrolments (``end_on`` open) per key, in id order."""
    if not keys:
        return {}
    rows = (
        await conn.execute(
            select(
                column.label("key"), E.c.programme, E.c.status, E.c.start_on, E.c.monthly_amount_fen
            )
            .where(column.in_(keys), E.c.end_on.is_(None), scope)
            .order_by(E.c.id)
        )
    ).all()
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r.key].append(
            {
                "programme": r.programme,
                "status": r.status.name,
                "startOn": r.start_on.isoformat(),
                "monthlyAmountFen": r.monthly_amount_fen,
            }
        )
    return out


def baseline_app(engine: AsyncEngine, scope: str = "4108") -> Starlette:
    """``POST /baseline/<query>`` with ``{"variables": {...}}`` → ``{"data": …}``."""
    base = Baseline(engine, scope)
    handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
        "1_county_dashboard": lambda v: base.county_dashboard(v["code"]),
        "2_township_households": lambda v: base.township_households(v["code"], v["first"]),
        "3_person_by_id_number": lambda v: base.person_by_id_number(v["idNumber"]),
        "4_persons_page": lambda v: base.persons_page(v["first"], v.get("after")),
    }

    async def endpoint(request: Request) -> JSONResponse:
        handler = handlers.get(request.path_params["name"])
        if handler is None:
            return JSONResponse({"errors": [{"message": "no such baseline"}]}, status_code=404)
        body = await request.json()
        return JSONResponse({"data": await handler(body.get("variables") or {})})

    return Starlette(routes=[Route("/baseline/{name}", endpoint, methods=["POST"])])


BASELINES = (
    "1_county_dashboard",
    "2_township_households",
    "3_person_by_id_number",
    "4_persons_page",
)
