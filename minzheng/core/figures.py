"""Pre-aggregated division figures (区划统计预汇总), kept current by every write.

A county dashboard counts a county's ~170,000 persons, its households and each
plugin's cases.  Counted live, that is a scan of the county on every request;
here every figure is kept per division *unit* (the 12-digit region code a row
carries) in ``core_region_figure``, and a division's figure is the sum over its
units: one index range of a few thousand rows.

**Sources.**  A :class:`FigureSource` names a set of figures and builds the
statements that count them, grouped by region code; core has one (the
registry), plugins add theirs through the ``region_figure_sources`` hook.

**Kept current by writes.**  Every flush records the region codes of the
region-scoped rows it inserts, changes (before and after) or deletes; just
before the transaction commits, the figures of those units are counted again
from the rows, in the same transaction, for the sources whose statements read
the tables written.  So a committed write and the figures it changes become
visible together.  A write whose units cannot be known (a bulk
``UPDATE``/``DELETE``, a Core statement on a scoped table) marks the sources
reading that table out of date instead; the figures are never wrong, only
unavailable.  A source whose statement fails while a write recounts it is
marked out of date too, and the write commits.

**And by the date.**  Ages and overdue deadlines change without any write, so
figures hold for one day, ``as_of``.  :func:`refresh` counts everything again
for a day (``minzheng daily`` calls it after the plugins' daily work, and
``minzheng figures refresh`` on demand).  A reader whose source is not current
for today — not refreshed yet today, marked out of date, or a plugin enabled
since the last refresh — gets None from :func:`read` and counts live.

**Scope.**  ``core_region_figure`` is region-scoped like the rows it counts: a
principal reads the sum over the units inside their region, which is the live
count within their scope (scopes are divisions, and units nest inside them).

On PostgreSQL, writers recounting a unit take a transaction-level advisory
lock per unit (and share one with :func:`refresh`), so two transactions that
touch the same village recount it one after the other, each seeing the other's
committed rows.  SQLite has one writer at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    literal,
    null,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import Select, visitors

from minzheng.core import divisions
from minzheng.core.models import Household, Membership, Person, RegionFigure, RegionFigureSource
from minzheng.core.scope import RegionScoped, lasting

#: ``where(column)`` → the criterion limiting a source's statement to the units
#: being recounted (``true()`` for a full refresh)
Where = Callable[[Any], ColumnElement[bool]]

_FIGURES = cast(Table, RegionFigure.__table__)
_SOURCES = cast(Table, RegionFigureSource.__table__)

#: figure sources from the registry itself
REGISTRY = "registry"

AGE_BANDS = ((0, 15, "0-15"), (16, 59, "16-59"), (60, 79, "60-79"), (80, 200, "80+"))

_TOUCHED = "figures.touched"  # units written
_TABLES = "figures.tables"  # tables written, whose units are known
_STALE = "figures.stale"  # tables written where the units are unknown
_HOUSEHOLDS = "figures.households"
_LOCK_SPACE = 0x6D7A  # advisory lock key space of the figures (PostgreSQL)
_INSERT_BATCH = 5000

log = logging.getLogger("minzheng.figures")


@dataclass(frozen=True)
class FigureSource:
    """A named set of figures and how to count them for a day.

    ``statements(on, where)`` returns SELECTs whose first column is the unit's
    region code, whose last column is the count, and whose columns between are
    the parts of the figure's key; each must apply ``where`` to the region
    column it groups by (``where(Model.region_code)``).  Counts must add up
    across units: count each row in the unit of the row's own region column.
    """

    name: str
    statements: Callable[[dt.date, Where], Sequence[Select[Any]]]
    description: str = ""
    #: the settings the statements read besides the day (a hashable value, such
    #: as a local policy); figures counted under other settings are out of date
    settings: Callable[[], Hashable] | None = None


def key(source: str, *parts: Any) -> str:
    return ":".join([source, *(str(getattr(p, "value", p)) for p in parts)])


def birth_cutoff(today: dt.date, years: int) -> dt.date:
    """The latest birth date of a person aged at least ``years`` on ``today``."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def age_band(on: dt.date) -> Any:
    """SQL: the age band label of ``Person.birth_date`` on ``on``."""
    whens = [
        (Person.birth_date > birth_cutoff(on, high + 1), label)
        for _low, high, label in AGE_BANDS[:-1]
    ]
    return case(*whens, else_=AGE_BANDS[-1][2])


def _registry_statements(on: dt.date, where: Where) -> list[Select[Any]]:
    band = age_band(on)
    return [
        select(Person.region_code, literal("persons"), Person.sex, band, func.count())
        .where(where(Person.region_code), Person.died_on.is_(None))
        .group_by(Person.region_code, Person.sex, band),
        select(Household.region_code, literal("households"), func.count())
        .where(where(Household.region_code))
        .group_by(Household.region_code),
    ]


REGISTRY_SOURCE = FigureSource(
    REGISTRY,
    _registry_statements,
    "人口、户数 Living persons by sex and age band; households",
)


def sources_of(manager: Any) -> list[FigureSource]:
    """Core's source and every enabled plugin's (``manager``: the plugin manager)."""
    out = [REGISTRY_SOURCE]
    if manager is not None:
        for contributed in manager.hook.region_figure_sources():
            out.extend(contributed or ())
    names = [s.name for s in out]
    duplicate = {n for n in names if names.count(n) > 1}
    if duplicate:
        raise ValueError(f"figure sources named twice: {', '.join(sorted(duplicate))}")
    return out


# ----------------------------------------------------------------- counting


def combined(statements: Sequence[Select[Any]]) -> Any:
    """A source's statements as one ``UNION ALL``: one round trip instead of one
    per figure.  Key parts are padded with NULLs to one width and read as the
    stored strings (the first branch's column types would otherwise decide how
    every branch's values are read)."""
    width = max(len(s.selected_columns) for s in statements)
    branches = []
    for stmt in statements:
        cols = list(stmt.selected_columns)
        parts = [type_coerce(c, String) for c in cols[1:-1]]
        parts += [type_coerce(null(), String)] * (width - len(cols))
        branches.append(stmt.with_only_columns(cols[0], *parts, cols[-1]))
    return branches[0] if len(branches) == 1 else union_all(*branches)


#: the day a source's statements are built for to take their fingerprint
_REFERENCE_DAY = dt.date(2001, 1, 1)
_analysed: dict[tuple[Any, ...], tuple[str, frozenset[str]]] = {}


def _analyse(source: FigureSource, dialect: Any) -> tuple[str, frozenset[str]]:
    settings = source.settings() if source.settings is not None else None
    code = getattr(source.statements, "__code__", source.statements)
    memo = (source.name, code, dialect.name, settings)
    found = _analysed.get(memo)
    if found is None:
        stmt = combined(source.statements(_REFERENCE_DAY, lambda _col: true()))
        compiled = stmt.compile(dialect=dialect)
        params = sorted((k, repr(v)) for k, v in compiled.params.items())
        digest = hashlib.sha256(f"{compiled}\n{params}".encode()).hexdigest()[:32]
        tables = frozenset(e.name for e in visitors.iterate(stmt) if isinstance(e, Table))
        if len(_analysed) >= 256:
            _analysed.clear()
        found = _analysed[memo] = (digest, tables)
    return found


def fingerprint(source: FigureSource, dialect: Any) -> str:
    """A digest of the statement ``source`` counts with, as this process builds it.

    Stored with the figures a refresh counts; figures whose fingerprint is not
    the reader's were counted by other code or under other settings (a changed
    local policy) and are not read until the next refresh.  Memoised per
    source, statement function and settings value."""
    return _analyse(source, dialect)[0]


def tables_read(source: FigureSource, dialect: Any) -> frozenset[str]:
    """Names of the tables the source's statement reads (in subqueries too): a
    write to any other table cannot change its figures."""
    return _analyse(source, dialect)[1]


def fingerprints(sources: Iterable[FigureSource], dialect: Any) -> dict[str, str]:
    return {s.name: fingerprint(s, dialect) for s in sources}


def _rows(rows: Iterable[Any]) -> Iterable[tuple[str, tuple[str, ...], int]]:
    """(unit, key parts, value) of a :func:`combined` result, padding dropped."""
    for unit, *parts, n in rows:
        if not n:
            continue
        while parts and parts[-1] is None:
            parts.pop()
        yield unit, tuple(str(getattr(p, "value", p)) for p in parts), int(n)


def _count(
    session: Session, source: FigureSource, on: dt.date, where: Where
) -> dict[str, dict[str, int]]:
    """unit → {key: count} for one source."""
    out: dict[str, dict[str, int]] = {}
    stmt = combined(source.statements(on, where))
    for unit, parts, n in _rows(session.execute(stmt.execution_options(region_scope_checked=True))):
        figures = out.setdefault(unit, {})
        k = key(source.name, *parts)
        figures[k] = figures.get(k, 0) + n
    return out


def _write(session: Session, counted: dict[str, dict[str, int]]) -> int:
    rows = []
    for unit, figures in counted.items():
        parsed = divisions.parse(unit)
        anc = divisions.ancestors(parsed.prefix)
        for k, n in figures.items():
            rows.append(
                {
                    "region_code": unit,
                    "county_code": anc["county_code"],
                    "township_code": anc["township_code"],
                    "key": k,
                    "value": n,
                }
            )
    table = _FIGURES
    for start in range(0, len(rows), _INSERT_BATCH):
        session.execute(
            insert(table).execution_options(region_scope_checked=True),
            rows[start : start + _INSERT_BATCH],
        )
    return len(rows)


def _source_prefix(name: str) -> Any:
    return RegionFigure.key.like(f"{name}:%")


def _pg_lock(session: Session, *args: Any, shared: bool = False) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    fn = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    session.execute(select(fn(*args)))


def refresh_sync(session: Session, manager: Any, on: dt.date) -> dict[str, int]:
    """Count every figure of every source again for ``on``; returns rows per source.

    Sources of plugins no longer enabled lose their rows and their state."""
    _pg_lock(session, _LOCK_SPACE)
    sources = sources_of(manager)
    now = dt.datetime.now(dt.UTC)
    report: dict[str, int] = {}
    table = _FIGURES
    session.execute(delete(table).execution_options(region_scope_checked=True))
    session.execute(delete(_SOURCES))
    dialect = session.get_bind().dialect
    for source in sources:
        report[source.name] = _write(session, _count(session, source, on, lambda _c: true()))
        session.execute(
            insert(_SOURCES).values(
                name=source.name,
                as_of=on,
                refreshed_at=now,
                fingerprint=fingerprint(source, dialect),
            )
        )
    return report


async def refresh(session: Any, manager: Any, on: dt.date) -> dict[str, int]:
    """:func:`refresh_sync` from an :class:`~sqlalchemy.ext.asyncio.AsyncSession`."""
    return await session.run_sync(refresh_sync, manager, on)  # type: ignore[no-any-return]


#: every source's state: (name, as_of, fingerprint)
STATE = lasting(
    select(RegionFigureSource.name, RegionFigureSource.as_of, RegionFigureSource.fingerprint)
)


def current_sources(
    state: Iterable[Any], expected: Mapping[str, str], today: dt.date
) -> frozenset[str]:
    """Names of the sources whose kept figures hold for ``today``, from rows of
    (name, as_of, fingerprint) and the reader's fingerprints (see
    :func:`fingerprint`)."""
    return frozenset(
        name
        for name, on, fp in state
        if on == today and fp is not None and fp == expected.get(name)
    )


def recount(
    session: Session, manager: Any, units: Iterable[str], tables: Iterable[str] | None = None
) -> None:
    """Count the figures of ``units`` again, for every source current for today
    (and reading any of ``tables``, the tables written, when given).

    A unit above village level (a county's payroll, a township's reserve fund,
    a verification cycle for a county) may change the figures of every unit
    inside it: its whole range is counted again."""
    villages, ranges = _split(units)
    if not (villages or ranges):
        return
    if ranges:
        _pg_lock(session, _LOCK_SPACE)  # as a refresh does: alone
    else:
        _pg_lock(session, _LOCK_SPACE, shared=True)
        for unit in villages:
            _pg_lock(session, _LOCK_SPACE, zlib.crc32(unit.encode()) & 0x7FFFFFFF)
    state = session.execute(STATE).all()
    sources = {s.name: s for s in sources_of(manager)}
    stale = [n for n, on, _fp in state if on is not None and n not in sources]
    if stale:  # a plugin no longer enabled: its figures stop following writes
        _mark_stale(session, stale)
    today = dt.date.today()
    dialect = session.get_bind().dialect
    current = current_sources(state, fingerprints(sources.values(), dialect), today)
    written = None if tables is None else frozenset(tables)
    parts: list[Where] = [_between(lo, hi) for lo, hi in ranges]
    if villages:
        parts.append(lambda col: col.in_(villages))
    # the others are not read until the next refresh counts them all
    due = [
        s
        for name, s in sources.items()
        if name in current and (written is None or written & tables_read(s, dialect))
    ]
    try:
        with _isolated(session):
            counted = [(s, [_count(session, s, today, where) for where in parts]) for s in due]
    except Exception:
        # one source's statement failed: count each alone, and leave the failing
        # ones out of date rather than fail the write that touched their units
        counted, failed = [], []
        for s in due:
            try:
                with _isolated(session):
                    counted.append((s, [_count(session, s, today, where) for where in parts]))
            except Exception:
                log.exception(
                    "figure source %r could not be counted; its figures are out of date "
                    "(readers count live) until it is refreshed",
                    s.name,
                )
                failed.append(s.name)
        if failed:
            _mark_stale(session, failed)
    for source, per_part in counted:
        for where, found in zip(parts, per_part, strict=True):
            session.execute(
                delete(_FIGURES)
                .where(where(_FIGURES.c.region_code), _source_prefix(source.name))
                .execution_options(region_scope_checked=True)
            )
            _write(session, found)


@contextmanager
def _isolated(session: Session) -> Iterator[None]:
    """Statements whose failure must leave the transaction usable: in a savepoint
    on PostgreSQL, which aborts a transaction at its first error; SQLite undoes
    only the failing statement, and counting writes nothing."""
    if session.get_bind().dialect.name == "postgresql":
        with session.begin_nested():
            yield
    else:
        yield


def _between(lo: str, hi: str) -> Where:
    return lambda col: col.between(lo, hi)


def _split(units: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Village units, and the bounds of the higher ones (villages inside a range
    are left to the range; nested ranges to the outer one)."""
    parsed = {divisions.parse(u) for u in units if u}
    ranges = sorted({p.bounds for p in parsed if p.level is not divisions.RegionLevel.VILLAGE})
    outer = [r for r in ranges if not any(o != r and o[0] <= r[0] and r[1] <= o[1] for o in ranges)]
    villages = sorted(
        p.full
        for p in parsed
        if p.level is divisions.RegionLevel.VILLAGE
        and not any(lo <= p.full <= hi for lo, hi in outer)
    )
    return villages, outer


def _mark_stale(session: Session, names: Sequence[str] | None = None) -> None:
    stmt = update(_SOURCES).values(as_of=None)
    if names is not None:
        stmt = stmt.where(_SOURCES.c.name.in_(list(names)))
    session.execute(stmt)


# ------------------------------------------------------------ tracking writes


def _feeds(obj_or_class: Any) -> bool:
    cls = obj_or_class if isinstance(obj_or_class, type) else type(obj_or_class)
    return issubclass(cls, RegionScoped) and getattr(cls, "feeds_region_figures", True)


def _table_of(obj_or_class: Any) -> str:
    cls: Any = obj_or_class if isinstance(obj_or_class, type) else type(obj_or_class)
    return str(cls.__table__.name)


def _stale_tables(session: Session) -> set[str]:
    return cast(set[str], session.info.setdefault(_STALE, set()))


@event.listens_for(Session, "after_flush")
def _track_flush(session: Session, _ctx: Any) -> None:
    from sqlalchemy import inspect

    touched: set[str] | None = None
    tables: set[str] = session.info.setdefault(_TABLES, set())
    # (``session.dirty`` builds a new set on every access: name the groups once)
    for changed, group in ((False, session.new), (True, session.dirty), (False, session.deleted)):
        for obj in group:
            if isinstance(obj, Membership):
                # no region of its own: the units are its households'
                ids = session.info.setdefault(_HOUSEHOLDS, set())
                ids.add(obj.household_id)
                if changed:
                    ids.update(inspect(obj).attrs.household_id.history.deleted or ())
                tables.add(_table_of(obj))
                continue
            if not _feeds(obj):
                continue
            if touched is None:
                touched = session.info.setdefault(_TOUCHED, set())
            tables.add(_table_of(obj))
            if obj.region_code:
                touched.add(obj.region_code)
            if changed:  # a move: the unit it left changes too
                for old in inspect(obj).attrs.region_code.history.deleted or ():
                    if old:
                        touched.add(old)


def _figure_tables() -> frozenset[str]:
    """Names of the tables whose rows feed the figures (see :func:`_feeds`), and
    memberships'."""
    from minzheng.core.db import Base

    # the number of mappers changes when a plugin registers its models
    return _tables_feeding(len(Base.registry.mappers))


@cache
def _tables_feeding(_generation: int) -> frozenset[str]:
    from minzheng.core.db import Base

    tables = [m.local_table for m in Base.registry.mappers if _feeds(m.class_)]
    return frozenset(t.name for t in [*tables, Membership.__table__] if isinstance(t, Table))


@event.listens_for(Session, "do_orm_execute")
def _track_statements(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    from minzheng.core.scope import _bulk_values, _statement_entity, _tables_in

    entity = _statement_entity(state) if state.is_orm_statement else None
    if entity is not None:
        if not (isinstance(entity, type) and _feeds(entity)):
            return
        if state.is_insert:
            codes = [v.get("region_code") for v in _bulk_values(state)]
            if codes and all(codes):
                state.session.info.setdefault(_TOUCHED, set()).update(
                    divisions.parse(str(c)).full for c in codes
                )
                state.session.info.setdefault(_TABLES, set()).add(_table_of(entity))
                return
        _stale_tables(state.session).add(_table_of(entity))
        return
    hit = set(_tables_in(state.statement)) & _figure_tables()
    if hit:
        _stale_tables(state.session).update(hit)


def _units_of_households(session: Session, ids: set[int]) -> None:
    """Record the units of households whose memberships changed; one the reader
    cannot see (outside the writer's scope) makes the figures that read
    memberships out of date."""
    rows = session.execute(
        select(Household.id, Household.region_code).where(Household.id.in_(sorted(ids)))
    ).all()
    session.info.setdefault(_TOUCHED, set()).update(code for _id, code in rows if code)
    if len(rows) < len({i for i in ids if i is not None}):
        _stale_tables(session).add(_table_of(Membership))


@event.listens_for(Session, "before_commit")
def _recount_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the units are recounted when the transaction commits
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit would flush them after this hook: track them now
    households = session.info.pop(_HOUSEHOLDS, None)
    if households:
        _units_of_households(session, households)
    stale = session.info.pop(_STALE, None)
    touched = session.info.pop(_TOUCHED, None)
    tables = session.info.pop(_TABLES, set())
    if not (touched or stale):
        return
    manager = session.info.get("plugins")
    if stale:
        # figures reading a table written where the units are unknown; without a
        # plugin manager the plugins' sources are unknown too: all of them
        names = None
        if manager is not None:
            dialect = session.get_bind().dialect
            names = [s.name for s in sources_of(manager) if tables_read(s, dialect) & stale]
        if names is None or names:
            _mark_stale(session, names)
    if touched:
        # without a plugin manager only core's source is counted; recount marks
        # the plugins' sources out of date
        recount(session, manager, touched, tables)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # only when the whole transaction ends: units touched before a savepoint that
    # rolled back are still to be recounted (and those inside it, harmlessly)
    if transaction.parent is None:
        for name in (_TOUCHED, _STALE, _HOUSEHOLDS, _TABLES):
            session.info.pop(name, None)


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Figures:
    """A division's figures, summed over its units within the reader's scope;
    ``current`` names the sources whose figures hold for ``as_of``."""

    values: dict[str, int]
    current: frozenset[str]
    as_of: dt.date

    def of(self, source: str) -> dict[tuple[str, ...], int] | None:
        """{key parts: value} of one source, or None when it is not current."""
        if source not in self.current:
            return None
        return dict(self._by_source.get(source, {}))

    @cached_property
    def _by_source(self) -> dict[str, dict[tuple[str, ...], int]]:
        # the keys are split once: a dashboard asks each source several times
        out: dict[str, dict[tuple[str, ...], int]] = {}
        for key, value in self.values.items():
            source, colon, rest = key.partition(":")
            if not colon:
                continue  # a key without parts, as of() has always left out
            out.setdefault(source, {})[tuple(rest.split(":"))] = value
        return out


_SUMS = lasting(
    select(RegionFigure.key, func.sum(RegionFigure.value))
    .where(RegionFigure.region_code.between(bindparam("lo"), bindparam("hi")))
    .group_by(RegionFigure.key)
)


async def read(
    db: Any, codes: Sequence[str], expected: Mapping[str, str], today: dt.date | None = None
) -> list[Figures | None]:
    """The figures of each division in ``codes`` for ``today``, read through the
    request's scoped session ``db`` (one index range each); None for every code
    when no source is current (the caller counts live).  ``expected``: the
    reader's :func:`fingerprints` of the enabled sources."""
    if not codes:
        return []
    today = today or dt.date.today()
    current = current_sources(await db.rows(STATE), expected, today)
    if not current:
        return [None] * len(codes)
    out: list[Figures | None] = []
    for code in codes:
        lo, hi = divisions.DivisionCode.parse(code).bounds
        rows = await db.rows(_SUMS, {"lo": lo, "hi": hi})
        out.append(Figures({k: int(v) for k, v in rows}, current, today))
    return out


async def count_live(
    db: Any, source: FigureSource, code: str, on: dt.date
) -> dict[tuple[str, ...], int]:
    """What :func:`read` gives for one source, counted now from the rows with the
    source's own statements over division ``code`` (through the reader's scoped
    session ``db``): key parts → value."""
    lo, hi = divisions.DivisionCode.parse(code).bounds
    out: dict[tuple[str, ...], int] = {}
    stmt = combined(source.statements(on, lambda col: col.between(lo, hi)))
    for _unit, parts, n in _rows(await db.rows(stmt)):
        out[parts] = out.get(parts, 0) + n
    return out
