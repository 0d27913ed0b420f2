"""PostgreSQL row-level security: region scope the database itself enforces.

The ORM filter of :mod:`minzheng.core.scope` does not see Core or ``text()``
statements, nor a connection used outside a session.  On PostgreSQL every table
mapped by a :class:`~minzheng.core.scope.RegionScoped` class (core and plugins
alike) therefore also gets row-level security:

* ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` — *forced*, because a table's
  owner bypasses its policies otherwise, and small deployments run the server
  as the role that owns the tables;
* a permissive base policy ``minzheng_rls_base`` (``true``) and a
  **restrictive** policy ``minzheng_region_scope`` that admits a row only when
  the transaction's settings allow it — restrictive, so no other permissive
  policy added later can widen the scope;
* the settings ``minzheng.scope`` (``all`` or ``region``), and
  ``minzheng.region_lo``/``minzheng.region_hi`` (the 12-digit bounds of the
  principal's region), set **per transaction** (``set_config(…, true)``) by a
  session ``after_begin`` listener from ``session.info["principal"]``.

A transaction that set nothing sees and writes no scoped row: a session
without a principal, a raw connection, ``psql`` as the application role.
The CLI, migrations and seeding run as :data:`~minzheng.core.scope.SYSTEM`
(``minzheng.scope = all``); Alembic's ``env.py`` calls :func:`enter_system_scope`
on its connection.

Superusers and roles with ``BYPASSRLS`` pass every policy: the application's
role must be neither.  :func:`problems` lists what would let rows escape; the
gateway logs each at start-up and refuses to start when
``MINZHENG_RLS_REQUIRED`` is set.

:func:`apply_policies` is idempotent; the migration environment calls it at
the end of every upgrade, so a plugin's new table is covered without code in
the plugin (tables are found from the mapped classes *and* from the database:
any table with the mixin's three region columns).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData, Table, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from minzheng.core import divisions
from minzheng.core.scope import Principal, principal_of, scoped_tables

SETTING_SCOPE = "minzheng.scope"
SETTING_LO = "minzheng.region_lo"
SETTING_HI = "minzheng.region_hi"
BASE_POLICY = "minzheng_rls_base"
SCOPE_POLICY = "minzheng_region_scope"

_CONDITION = (
    f"(current_setting('{SETTING_SCOPE}', true) = 'all' OR "
    f"(current_setting('{SETTING_SCOPE}', true) = 'region' AND "
    f"region_code BETWEEN current_setting('{SETTING_LO}', true) "
    f"AND current_setting('{SETTING_HI}', true)))"
)

_SET = text(
    f"SELECT set_config('{SETTING_SCOPE}', :scope, true), "
    f"set_config('{SETTING_LO}', :lo, true), "
    f"set_config('{SETTING_HI}', :hi, true)"
)


def settings_for(principal: Principal | None) -> dict[str, str]:
    """The transaction settings for ``principal`` (``none`` when there is none)."""
    if principal is None:
        return {"scope": "none", "lo": "", "hi": ""}
    if not principal.region:
        return {"scope": "all", "lo": "", "hi": ""}
    lo, hi = divisions.DivisionCode(principal.region).bounds
    return {"scope": "region", "lo": lo, "hi": hi}


def set_scope(connection: Connection, principal: Principal | None) -> None:
    """Set this transaction's scope on a PostgreSQL connection (no-op elsewhere)."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(_SET, settings_for(principal))


def enter_system_scope(connection: Connection) -> None:
    """Unrestricted scope for this transaction (migrations, maintenance)."""
    from minzheng.core.scope import SYSTEM

    set_scope(connection, SYSTEM)


@event.listens_for(Session, "after_begin")
def _scope_transaction(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(_SET, settings_for(principal_of(session)))


def _quoted(connection: Connection, table: Table) -> str:
    return connection.dialect.identifier_preparer.format_table(table)


def policy_statements(connection: Connection, table: Table) -> list[str]:
    name = _quoted(connection, table)
    return [
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {BASE_POLICY} ON {name}",
        f"DROP POLICY IF EXISTS {SCOPE_POLICY} ON {name}",
        f"CREATE POLICY {BASE_POLICY} ON {name} AS PERMISSIVE FOR ALL USING (true) "
        f"WITH CHECK (true)",
        f"CREATE POLICY {SCOPE_POLICY} ON {name} AS RESTRICTIVE FOR ALL "
        f"USING {_CONDITION} WITH CHECK {_CONDITION}",
    ]


def _existing(connection: Connection, tables: Iterable[Table] | None) -> list[Table]:
    """The scoped tables present in the database: those mapped by a
    ``RegionScoped`` class, plus any table carrying the mixin's three columns
    (a disabled plugin's tables keep their data, so they keep their policies)."""
    rows = connection.execute(
        text(
            "SELECT table_name, array_agg(column_name::text) AS cols "
            "FROM information_schema.columns "
            "WHERE table_schema = current_schema() GROUP BY table_name"
        )
    ).all()
    present = {r.table_name: set(r.cols) for r in rows}
    wanted: dict[str, Table] = {}
    for t in tables if tables is not None else scoped_tables():
        if t.name in present:
            wanted[t.name] = t
    if tables is None:
        mixin = {"region_code", "county_code", "township_code"}
        for name, cols in present.items():
            if name not in wanted and mixin <= cols:
                wanted[name] = Table(name, MetaData())
    return [wanted[n] for n in sorted(wanted)]


def apply_policies(connection: Connection, tables: Iterable[Table] | None = None) -> list[str]:
    """Enable, force and (re)create the scope policies on every scoped table that
    exists.  Returns the table names covered.  No-op on other databases.

    Sync (call through ``await conn.run_sync(apply_policies)`` from async code);
    run it as the tables' owner.
    """
    if connection.dialect.name != "postgresql":
        return []
    targets = _existing(connection, tables)
    for table in targets:
        for stmt in policy_statements(connection, table):
            connection.exec_driver_sql(stmt)
    return [t.name for t in targets]


def remove_policies(connection: Connection, tables: Iterable[Table] | None = None) -> list[str]:
    """Drop the policies and disable row-level security (downgrades, tests)."""
    if connection.dialect.name != "postgresql":
        return []
    targets = _existing(connection, tables)
    for table in targets:
        name = _quoted(connection, table)
        connection.exec_driver_sql(f"DROP POLICY IF EXISTS {SCOPE_POLICY} ON {name}")
        connection.exec_driver_sql(f"DROP POLICY IF EXISTS {BASE_POLICY} ON {name}")
        connection.exec_driver_sql(f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY")
        connection.exec_driver_sql(f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY")
    return [t.name for t in targets]


def problems(connection: Connection, tables: Iterable[Table] | None = None) -> list[str]:
    """What would let a row escape its region on this connection; empty = enforced.

    Checks the current role (no superuser, no ``BYPASSRLS``) and every scoped
    table (RLS enabled *and* forced, both policies present).
    """
    if connection.dialect.name != "postgresql":
        return []
    out: list[str] = []
    role: Any = connection.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    if role.rolsuper:
        out.append(f"role {role.rolname} is a superuser: row-level security does not apply")
    if role.rolbypassrls:
        out.append(f"role {role.rolname} has BYPASSRLS: row-level security does not apply")
    wanted = _existing(connection, tables)
    rows = {
        r.relname: r
        for r in connection.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "  array(SELECT polname FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        )
    }
    for table in wanted:
        r = rows.get(table.name)
        if r is None:
            continue
        if not r.relrowsecurity:
            out.append(f"table {table.name}: row-level security is not enabled")
        elif not r.relforcerowsecurity:
            out.append(f"table {table.name}: row-level security is not forced (owner bypasses)")
        missing = {BASE_POLICY, SCOPE_POLICY} - set(r.policies or ())
        if missing:
            out.append(f"table {table.name}: policy missing: {', '.join(sorted(missing))}")
    return out


__all__ = [
    "BASE_POLICY",
    "SCOPE_POLICY",
    "apply_policies",
    "enter_system_scope",
    "policy_statements",
    "problems",
    "remove_policies",
    "set_scope",
    "settings_for",
]
