"""Principals and region scope, enforced in the data-access layer.

Any mapped class that inherits :class:`RegionScoped` is filtered, in every ORM
statement of a session that carries a principal, to the rows inside that
principal's region; a flush that would write a row outside it is refused.
Plugin tables get the same protection by inheriting the mixin — no code in
resolvers.  Statements over ``Table`` objects or ``text()`` bypass the ORM hook;
on PostgreSQL row-level security (see :mod:`minzheng.core.rls`) closes that gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

from minzheng.core import divisions


class OutOfScope(PermissionError):
    """A write would place a row outside the principal's region."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (JWT) or an integration (API key)."""

    subject: str
    roles: frozenset[str] = frozenset()
    #: significant prefix of the region the principal may see ("4108" = 焦作市)
    region: str = ""
    permissions: frozenset[str] = frozenset()
    kind: str = "user"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions

    @property
    def bounds(self) -> tuple[str, str] | None:
        if not self.region:
            return None
        return divisions.DivisionCode(self.region).bounds

    def sees(self, region_code: str | None) -> bool:
        if not self.region:
            return True
        return bool(region_code) and str(region_code).startswith(self.region)


#: The principal used by the CLI, migrations and seeding: unrestricted.
SYSTEM = Principal(subject="system", roles=frozenset({"system"}), permissions=frozenset("*"))


class RegionScoped:
    """Mixin: the row belongs to a region; scope filters and checks apply.

    ``region_code`` is the full 12-digit code of the unit the row belongs to;
    ``county_code`` and ``township_code`` are its ancestors, kept for roll-ups.
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


@event.listens_for(Session, "do_orm_execute")
def _scope_reads(state: ORMExecuteState) -> None:
    principal = principal_of(state.session)
    if principal is None or not principal.region:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("skip_scope"):
        # core-internal uniqueness checks only; never used to return rows
        return
    lo, hi = divisions.DivisionCode(principal.region).bounds
    state.statement = state.statement.options(
        with_loader_criteria(
            RegionScoped,
            lambda cls: cls.region_code.between(lo, hi),
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _scope_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    principal = principal_of(session)
    if principal is None or not principal.region:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, RegionScoped) and not principal.sees(obj.region_code):
            raise OutOfScope(
                f"{type(obj).__name__} in region {obj.region_code} is outside "
                f"the principal's region {principal.region}"
            )
