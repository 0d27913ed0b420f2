"""Dataloaders, one set per request: every relation is fetched in one batch."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.sql.elements import UnaryExpression
from strawberry.dataloader import DataLoader

from minzheng.core.models import (
    Enrolment,
    Household,
    HouseholdIncome,
    Membership,
    Payroll,
    Person,
    Region,
)
from minzheng.core.scope import lasting


class Pending:
    """A relation's value still to come: awaitable, and it names the future it
    waits for (the executor's prefetch awaits the futures of a whole level of
    a list at once; see :mod:`minzheng.schema.executor`)."""

    __slots__ = ("future", "then")

    def __init__(self, future: Any, then: Callable[[Any], Any] | None) -> None:
        self.future = future
        self.then = then

    def __await__(self) -> Any:
        value = yield from self.future.__await__()
        if self.then is None:
            return value
        value = self.then(value)
        if isinstance(value, Pending):
            value = yield from value.__await__()
        return value


def loaded(loader: DataLoader, key: Any, then: Callable[[Any], Any] | None = None) -> Any:
    """``loader.load(key)``, passed through ``then``: the value itself when the
    loader already holds it, else a :class:`Pending` to await.

    For relation resolvers marked :func:`~minzheng.schema.direct.prefetched`
    (plain functions, not ``async def``): in a list whose relations the
    executor has prefetched, every row's value is ready, and the row completes
    without a coroutine, a task or a wake-up of the event loop."""
    future: Any = loader.load(key)  # an asyncio future
    if not future.done() or future.cancelled():
        return Pending(future, then)
    value = future.result()  # raises the batch's error, as awaiting would
    return value if then is None else then(value)


class Loaders(dict[str, DataLoader]):
    """A request's dataloaders by name, each built when the request first asks
    for it.

    ``create_loaders`` (core's and every plugin's) gives, for each name, a
    ``DataLoader`` or a function of no arguments that builds one.  A request
    uses a handful of the platform's loaders, and building all of them (their
    statements, their closures) for every request cost as much as a
    primary-key read; with six plugins, more.  ``name in loaders`` and
    ``loaders[name]`` see both kinds; iteration sees the built ones only.

    :meth:`reset` drops the loaders built so far (and what they hold) when an
    operation ends; a later operation on the same context (a websocket's) builds
    fresh ones."""

    def __init__(self) -> None:
        super().__init__()
        self._factories: dict[str, Callable[[], DataLoader]] = {}
        self._given: dict[str, DataLoader] = {}

    def add(self, loaders: Mapping[str, DataLoader | Callable[[], DataLoader]]) -> None:
        for name, value in loaders.items():
            if isinstance(value, DataLoader):
                self[name] = self._given[name] = value
                self._factories.pop(name, None)
            else:
                self._factories[name] = value
                self._given.pop(name, None)
                self.pop(name, None)

    def __missing__(self, name: str) -> DataLoader:
        loader = self[name] = self._factories[name]()
        return loader

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self._factories

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[name] if name in self else default  # noqa: SIM401 (builds it)

    def reset(self) -> None:
        """Drop the loaders built from factories, their caches and their
        pending work.  A loader's function refers to the loaders (one relation
        primes another's), so a request's loaders, their futures and every row
        they loaded form a cycle that only the garbage collector would free;
        dropped here, they go as soon as the request does."""
        dict.clear(self)
        dict.update(self, self._given)


#: ``IN`` list of a batch's keys, bound when the statement runs
KEYS: Any = bindparam("keys", expanding=True)

_STATEMENTS: dict[Any, Any] = {}
_STATEMENTS_MAX = 1024


def _clause_key(clause: Any) -> Any:
    """What identifies an ``ORDER BY`` clause built from mapped columns:
    ``Model.col.desc()`` is a new object each time, its column is not."""
    if isinstance(clause, UnaryExpression):
        return (clause.element, clause.modifier)
    return (clause, None)


def batch_statement(model: Any, column: Any, orders: tuple[Any, ...] = ()) -> Any:
    """``SELECT model WHERE column IN :keys [ORDER BY …]``, built once per process.

    Building a statement, and letting SQLAlchemy walk a new one to find its
    compiled form, costs about as much as running an indexed read on SQLite;
    the loaders of every request share these (see :func:`minzheng.core.scope.lasting`)."""
    key = (model, column, tuple(_clause_key(o) for o in orders))
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        if len(_STATEMENTS) >= _STATEMENTS_MAX:  # ordered by something built per call
            _STATEMENTS.clear()
        stmt = select(model).where(column.in_(KEYS))
        if orders:
            stmt = stmt.order_by(*orders)
        stmt = _STATEMENTS[key] = lasting(stmt)
    return stmt


def by_key(db: Any, model: Any, column: Any = None) -> DataLoader:
    """One row (or None) per key: ``SELECT … WHERE column IN (keys)``."""
    column = column if column is not None else model.id
    stmt = batch_statement(model, column)

    async def load(keys: Sequence[Any]) -> list[Any]:
        rows = await db.scalars(stmt, {"keys": list(keys)})
        found = {getattr(r, column.key): r for r in rows}
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)


def many_by_key(db: Any, model: Any, column: Any, *, order: Any = None) -> DataLoader:
    """A list of rows per key: ``SELECT … WHERE column IN (keys) ORDER BY …``
    (``order``: one clause or a tuple of them; the primary key by default)."""
    orders = order if isinstance(order, tuple) else (model.id if order is None else order,)
    stmt = batch_statement(model, column, orders)

    async def load(keys: Sequence[Any]) -> list[list[Any]]:
        rows = await db.scalars(stmt, {"keys": list(keys)})
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for r in rows:
            grouped[getattr(r, column.key)].append(r)
        return [grouped.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def later(loader: DataLoader[Any, Any], key: Any) -> Any:
    """A dataloader's value for ``key``, requested only when awaited.

    For a mutation payload's object: graphql-core awaits it only if the client
    selected the field.  A ``loader.load(key)`` made eagerly schedules a batch
    that may run after the request has ended (``errors`` alone selected) and
    would read through a session already closed."""
    return _Later(loader, key)


class _Later:
    __slots__ = ("_key", "_loader")

    def __init__(self, loader: DataLoader[Any, Any], key: Any) -> None:
        self._loader = loader
        self._key = key

    def __await__(self) -> Any:
        return self._loader.load(self._key).__await__()


_MEMBERS = lasting(
    select(Membership, Person)
    .join(Person, Person.id == Membership.person_id)
    .where(Membership.household_id.in_(KEYS))
    .order_by(Membership.id)
)
_CHILD_REGIONS = batch_statement(Region, Region.parent_code, (Region.code,))
_REGIONS = batch_statement(Region, Region.code)
_REGION_COLUMNS = tuple(c.key for c in Region.__table__.columns)


class RegionCache:
    """Divisions by code, kept for the life of the process (one cache per
    database: :class:`RegionCaches`).

    Divisions are public reference data, the same for every reader, written
    only by migrations and seeding; a list of households or a dashboard asks
    for the same few hundred of them on every request.  A division found once
    is kept (as a copy belonging to no session); one not found is asked for
    again.  A renamed division shows its new name after a restart, as a
    release with a data migration brings."""

    def __init__(self, limit: int = 100_000) -> None:
        self.found: dict[str, Region] = {}
        self.limit = limit

    def loader(self, db: Any) -> DataLoader:
        async def load(codes: Sequence[str]) -> list[Region | None]:
            missing = [c for c in codes if c not in self.found]
            if missing:
                if len(self.found) + len(missing) > self.limit:
                    self.found.clear()
                for row in await db.scalars(_REGIONS, {"keys": missing}):
                    self.found[row.code] = Region(**{k: getattr(row, k) for k in _REGION_COLUMNS})
            return [self.found.get(c) for c in codes]

        return DataLoader(load_fn=load)


class RegionCaches:
    """A :class:`RegionCache` per database (engine): a process that serves
    more than one (tests, a tool comparing two registries) must not answer
    one database's divisions from another's."""

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[Any, RegionCache] = weakref.WeakKeyDictionary()

    def of(self, engine: Any) -> RegionCache:
        cache = self._by_engine.get(engine)
        if cache is None:
            cache = self._by_engine[engine] = RegionCache()
        return cache

    def loader(self, db: Any) -> DataLoader:
        return self.of(db.engine).loader(db)

    def clear(self) -> None:
        self._by_engine.clear()


REGIONS = RegionCaches()


def core_loaders(db: Any, plugins: Any = None) -> Loaders:
    """Core's loaders for one request, in a :class:`Loaders` the plugins' join."""
    loaders = Loaders()

    async def members(keys: Sequence[int]) -> list[list[tuple[Membership, Person]]]:
        rows = await db.rows(_MEMBERS, {"keys": list(keys)})
        grouped: dict[int, list[tuple[Membership, Person]]] = defaultdict(list)
        for m, p in rows:
            grouped[m.household_id].append((m, p))
            # the members' own relations (household, relation, plugin facts) need not
            # read them again
            loaders["person_by_id"].prime(p.id, p)
            loaders["membership_by_person"].prime(m.person_id, m)
        return [grouped.get(k, []) for k in keys]

    async def child_regions(keys: Sequence[str]) -> list[list[Region]]:
        rows = await db.scalars(_CHILD_REGIONS, {"keys": list(keys)})
        grouped: dict[str, list[Region]] = defaultdict(list)
        for r in rows:
            grouped[r.parent_code].append(r)
        return [grouped.get(k, []) for k in keys]

    from minzheng.schema.statistics import live_figures_loader, region_figures_loader

    loaders.add(
        {
            "region_figures": lambda: region_figures_loader(db, plugins),
            "region_figures_live": lambda: live_figures_loader(db, plugins),
            "person_by_id": lambda: by_key(db, Person),
            "payroll_by_id": lambda: by_key(db, Payroll),
            "household_by_id": lambda: by_key(db, Household),
            "region_by_code": lambda: REGIONS.loader(db),
            "regions_by_parent": lambda: DataLoader(load_fn=child_regions),
            "members_by_household": lambda: DataLoader(load_fn=members),
            "membership_by_person": lambda: by_key(db, Membership, Membership.person_id),
            "incomes_by_household": lambda: many_by_key(
                db,
                HouseholdIncome,
                HouseholdIncome.household_id,
                order=HouseholdIncome.period_start.desc(),
            ),
            "enrolments_by_person": lambda: many_by_key(db, Enrolment, Enrolment.person_id),
            "enrolments_by_household": lambda: many_by_key(db, Enrolment, Enrolment.household_id),
        }
    )
    return loaders
