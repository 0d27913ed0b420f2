"""Principals and region scope, enforced in the data-access layer.

Any mapped class that inherits :class:`RegionScoped` is filtered, in every ORM
statement of a session that carries a principal (``session.info["principal"]``),
to the rows inside that principal's region: selects, ``session.get``, joins,
relationship loads, ``select(func.count()).select_from(Model)``, and ORM-enabled
``update(Model)``/``delete(Model)``.  Writes are checked too: a flush, a bulk
insert or a bulk update that would put a row outside the region — or move one
out of it — is refused with :class:`OutOfScope`.  Plugin tables get all of this
by inheriting the mixin; resolvers contain no scope code.

Statements the ORM hook cannot see — Core statements over ``Model.__table__``
and ``text()`` — are **refused** (:class:`ScopeBypass`) in a scoped session
when they touch a scoped table, so the hole cannot be fallen into silently.
Code that has filtered by region itself may pass
``execution_options(region_scope_checked=True)``; on PostgreSQL the row-level
security policies of :mod:`minzheng.core.rls` still apply to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import String, Table, event, func, inspect, literal_column
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import TextClause

from minzheng.core import divisions


class OutOfScope(PermissionError):
    """A write would place (or find) a row outside the principal's region."""

    code = "out_of_scope"


class ScopeBypass(PermissionError):
    """A statement the region filter cannot see touched a scoped table."""

    code = "scope_bypass"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (JWT) or an integration (API key)."""

    subject: str
    roles: frozenset[str] = frozenset()
    #: significant prefix of the region the principal may see ("4108" = 焦作市);
    #: empty only for :data:`SYSTEM`
    region: str = ""
    permissions: frozenset[str] = frozenset()
    kind: str = "user"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions

    @property
    def unrestricted(self) -> bool:
        return not self.region

    @property
    def bounds(self) -> tuple[str, str] | None:
        if not self.region:
            return None
        return divisions.DivisionCode(self.region).bounds

    @property
    def level(self) -> divisions.RegionLevel | None:
        return divisions.DivisionCode(self.region).level if self.region else None

    def sees(self, region_code: str | None) -> bool:
        if not self.region:
            return True
        return bool(region_code) and str(region_code).startswith(self.region)


#: A websocket's principal before its ``connection_init`` has authenticated it:
#: no permission, and a region (99, no such province) that holds no rows.
PENDING = Principal(subject="pending", region="99", kind="pending")

#: The principal used by the CLI, migrations and seeding: unrestricted.
SYSTEM = Principal(
    subject="system", roles=frozenset({"system"}), permissions=frozenset("*"), kind="system"
)


class RegionScoped:
    """Mixin: the row belongs to a region; scope filters and checks apply.

    ``region_code`` is the full 12-digit code of the unit the row belongs to;
    ``county_code`` and ``township_code`` are its ancestors, kept for roll-ups
    (derived from ``region_code`` on every flush, so they cannot disagree).
    Call :meth:`place` to set all three from one code.
    """

    @declared_attr
    def region_code(cls) -> Mapped[str]:
        return mapped_column(String(12), index=True, comment="统计用区划代码 (12 digits)")

    @declared_attr
    def county_code(cls) -> Mapped[str | None]:
        return mapped_column(String(12), index=True)

    @declared_attr
    def township_code(cls) -> Mapped[str | None]:
        return mapped_column(String(12), index=True)

    def place(self, code: str) -> None:
        parsed = divisions.parse(code)
        self.region_code = parsed.full
        anc = divisions.ancestors(parsed.prefix)
        self.county_code = anc["county_code"]
        self.township_code = anc["township_code"]


def principal_of(session: Session) -> Principal | None:
    return session.info.get("principal")


def scoped_tables(registry_or_base: Any = None) -> list[Table]:
    """Every table mapped by a :class:`RegionScoped` class (core and plugins)."""
    if registry_or_base is None:
        from minzheng.core.db import Base

        registry_or_base = Base
    registry = getattr(registry_or_base, "registry", registry_or_base)
    tables: dict[str, Table] = {}
    for mapper in registry.mappers:
        if issubclass(mapper.class_, RegionScoped) and isinstance(mapper.local_table, Table):
            tables[mapper.local_table.fullname] = mapper.local_table
    return sorted(tables.values(), key=lambda t: t.fullname)


@cache
def _scoped_table_names(_generation: int) -> frozenset[str]:
    return frozenset(t.name for t in scoped_tables())


def _scoped_names() -> frozenset[str]:
    from minzheng.core.db import Base

    # the number of mappers changes when a plugin registers its models
    return _scoped_table_names(len(Base.registry.mappers))


def _tables_in(statement: Any) -> Iterable[str]:
    for element in visitors.iterate(statement):
        if isinstance(element, Table):
            yield element.name


def _text_mentions(text: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", text, re.I)]


def _statement_entity(state: ORMExecuteState) -> type | None:
    try:
        desc = getattr(state.statement, "entity_description", None)
    except KeyError:  # DML against a Table: no mapped entity
        return None
    if isinstance(desc, dict):
        return desc.get("type")
    return None


def _check_values(principal: Principal, values: Iterable[Any], what: str) -> None:
    for row in values:
        if not isinstance(row, dict):
            continue
        for key, value in row.items():
            name = getattr(key, "key", key)
            if name == "region_code" and not principal.sees(value):
                raise OutOfScope(
                    f"{what} would place a row in region {value}, outside the principal's "
                    f"region {principal.region}"
                )


def _bulk_values(state: ORMExecuteState) -> list[dict[str, Any]]:
    """Column values of an ORM bulk INSERT/UPDATE: parameters and ``.values()``."""
    out: list[dict[str, Any]] = []
    params = state.parameters
    if isinstance(params, dict):
        out.append(params)
    elif isinstance(params, list | tuple):
        out.extend(p for p in params if isinstance(p, dict))
    stmt = state.statement
    values = getattr(stmt, "_values", None)
    if values:
        resolved: dict[str, Any] = {}
        for key, value in values.items():
            name = getattr(key, "key", key)
            resolved[name] = getattr(value, "value", value)
        out.append(resolved)
    for multi in getattr(stmt, "_multi_values", ()) or ():
        for row in multi:
            if isinstance(row, dict):
                out.append(
                    {str(getattr(k, "key", k)): getattr(v, "value", v) for k, v in row.items()}
                )
    return out


@event.listens_for(Session, "do_orm_execute")
def _scope_statements(state: ORMExecuteState) -> None:
    principal = principal_of(state.session)
    if principal is None or not principal.region:
        return

    if not state.is_orm_statement:
        if state.execution_options.get("region_scope_checked"):
            return
        stmt = state.statement
        if isinstance(stmt, TextClause):
            hit = _text_mentions(stmt.text, _scoped_names())
        else:
            hit = sorted(set(_tables_in(stmt)) & _scoped_names())
        if hit:
            raise ScopeBypass(
                f"a Core or text() statement touches region-scoped table(s) "
                f"{', '.join(hit)}: the region filter cannot see it. Write it against the "
                "mapped classes, or filter by region yourself and pass "
                "execution_options(region_scope_checked=True)"
            )
        return

    entity = _statement_entity(state)
    if state.is_insert:
        if isinstance(entity, type) and issubclass(entity, RegionScoped):
            values = _bulk_values(state)
            if not any("region_code" in v for v in values):
                raise OutOfScope(f"bulk insert into {entity.__name__} without region_code values")
            _check_values(principal, values, f"bulk insert into {entity.__name__}")
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_update:
        _check_values(principal, _bulk_values(state), "bulk update")
    if state.is_select and state.execution_options.get("skip_scope"):
        # core-internal uniqueness checks only (an ID number registered in another
        # region is still taken); never used to return rows
        return _unscoped(state, principal)
    dialect = _dialect_of(state.session)
    if state.execution_options.get(_LASTING):
        state.statement = _lasting_scoped(state.statement, dialect, principal.region)
    else:
        state.statement = state.statement.options(_scope_option(dialect, principal.region))


_DIALECT = "scope.dialect"
_LASTING = "minzheng_lasting"

#: (id of a lasting statement, dialect, region) → (the statement, its scoped form).
#: The statement itself is held, so that its id cannot be reused while the entry lives.
_SCOPED: dict[tuple[int, str, str], tuple[Any, Any]] = {}
_SCOPED_MAX = 4096


def lasting(statement: Any) -> Any:
    """Mark a statement that lives as long as the process and is run with bound
    parameters (a dataloader's ``SELECT … WHERE key IN :keys``): its scoped form
    is then built once per region rather than on every execution, and SQLAlchemy
    finds its compiled form without walking it again.  Only for statements
    built once, never for one built per request: each is kept."""
    return statement.execution_options(**{_LASTING: True})


def _lasting_scoped(statement: Any, dialect: str, region: str) -> Any:
    key = (id(statement), dialect, region)
    entry = _SCOPED.get(key)
    if entry is None or entry[0] is not statement:
        if len(_SCOPED) >= _SCOPED_MAX:
            _SCOPED.clear()
        entry = _SCOPED[key] = (statement, statement.options(_scope_option(dialect, region)))
    return entry[1]


@lru_cache(maxsize=1024)
def _scope_option(dialect: str, region: str) -> Any:
    """The loader criteria for a region, built once: building them (the lambda's
    analysis, the BETWEEN) cost more than the rest of a primary-key read."""
    lo, hi = divisions.DivisionCode(region).bounds
    return with_loader_criteria(
        RegionScoped, _scope_criterion(dialect, lo, hi), include_aliases=True
    )


def _scope_criterion(dialect: str, lo: str, hi: str) -> Any:
    """``region_code BETWEEN lo AND hi`` for every scoped class.

    On SQLite it is marked as true for most rows (``likelihood(…, 0.9)``):
    given two ranges on the same index, a statement's own (a township's
    households) and the principal's (the city), SQLite's planner takes the
    last one written, which is the scope's, and walks the index from the
    start of the city to reach the township — 15–45 ms at a million persons
    instead of 0.1.  Marked this way, SQLite takes the statement's own range
    when it has one and the scope's otherwise.  PostgreSQL combines both."""
    if dialect == "sqlite":
        return lambda cls: func.likelihood(cls.region_code.between(lo, hi), literal_column("0.9"))
    return lambda cls: cls.region_code.between(lo, hi)


def _dialect_of(session: Session) -> str:
    name = session.info.get(_DIALECT)
    if name is None:
        name = session.info[_DIALECT] = session.get_bind().dialect.name
    return str(name)


def _unscoped(state: ORMExecuteState, principal: Principal) -> Any:
    """Run one statement without the ORM filter and, on PostgreSQL, with
    row-level security lifted for that statement only; the rows are buffered
    before the principal's scope is put back."""
    from minzheng.core import rls

    conn = state.session.connection()
    if conn.dialect.name != "postgresql":
        return None  # the statement runs as is, without criteria
    rls.set_scope(conn, SYSTEM)
    try:
        frozen = state.invoke_statement().freeze()
    finally:
        rls.set_scope(conn, principal)
    return frozen()


def _derive_ancestors(obj: RegionScoped) -> None:
    code = obj.region_code
    if not code:
        return
    parsed = divisions.parse(code)  # InvalidRegionCode for a malformed code
    if parsed.full != code:
        obj.region_code = parsed.full
    anc = divisions.ancestors(parsed.prefix)
    if obj.county_code != anc["county_code"]:
        obj.county_code = anc["county_code"]
    if obj.township_code != anc["township_code"]:
        obj.township_code = anc["township_code"]


@event.listens_for(Session, "before_flush")
def _scope_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    principal = principal_of(session)
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, RegionScoped):
            _derive_ancestors(obj)
    if principal is None or not principal.region:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, RegionScoped):
            continue
        if not principal.sees(obj.region_code):
            raise OutOfScope(
                f"{type(obj).__name__} in region {obj.region_code} is outside "
                f"the principal's region {principal.region}"
            )
        if obj in session.dirty:
            history = inspect(obj).attrs.region_code.history
            for old in history.deleted or ():
                if old is not None and not principal.sees(old):
                    raise OutOfScope(
                        f"{type(obj).__name__} was in region {old}, outside the principal's "
                        f"region {principal.region}"
                    )


# Row-level security's transaction listener (PostgreSQL) registers on import.
from minzheng.core import rls as _rls  # noqa: E402

__all__ = [
    "SYSTEM",
    "OutOfScope",
    "Principal",
    "RegionScoped",
    "ScopeBypass",
    "principal_of",
    "scoped_tables",
]
_ = _rls
