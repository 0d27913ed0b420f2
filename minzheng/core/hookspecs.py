"""The plugin contract: every hook a plugin may implement.

A plugin is a package with a :class:`~minzheng.core.plugins.PluginInfo` (name,
Chinese title, version, dependencies) registered under the ``minzheng.plugins``
entry-point group, and a hooks module holding functions decorated with
:data:`hookimpl`.  The docstring of each spec below is the reference for plugin
authors; ``docs/plugins.md`` has a section per hook (a test keeps them in step).

Hooks are grouped by lifecycle.  Any hook may return an awaitable; the host
awaits it.  Implementing a hook that is not specified here stops start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from sqlalchemy.ext.asyncio import AsyncSession

    from minzheng.core.events import (
        EnrolmentChanged,
        HouseholdIncomeRecorded,
        MemberMoved,
        PersonChanged,
        PersonDied,
        PersonRegistered,
    )
    from minzheng.core.figures import FigureSource

PROJECT = "minzheng"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------- contributions


@dataclass
class SchemaContribution:
    """What a plugin adds to the graph.  Every member is optional.

    ``query``/``mutation``/``subscription`` are strawberry types whose fields
    are merged into the root types.  ``person``, ``household``, ``region`` and
    ``region_statistics`` are strawberry types whose fields are merged into
    those core types (resolvers get the core type's instance as ``root``).
    ``types`` lists extra types that are reachable only through interfaces or
    unions.  ``nodes`` maps the GraphQL type names of the plugin's ``Node``
    types to the dataloader (from ``create_loaders``) that fetches them by
    primary key, so ``node(id:)`` resolves them.  Two plugins adding the same
    field to one type stop start-up.
    """

    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None
    person: type | None = None
    household: type | None = None
    region: type | None = None
    region_statistics: type | None = None
    types: list[type] = field(default_factory=list)
    nodes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Permission:
    """A permission a plugin defines, and the built-in roles that hold it by default."""

    name: str
    description: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Programme:
    """A programme whose grants are mirrored in core enrolments and paid by payroll.

    ``unit`` is ``"person"`` or ``"household"``.  ``payroll_level`` is the region
    level one payroll covers (``"county"`` by default).
    """

    code: str
    title: str
    title_en: str
    unit: str = "person"
    payroll_level: str = "county"


@dataclass(frozen=True)
class MonitoringRule:
    """A risk rule for the low-income monitoring pool (监测预警).

    ``evaluate(session, as_of)`` returns an iterable of
    ``(person_id | None, household_id | None, detail)`` tuples, one per hit,
    computed in SQL over the session's scope.
    """

    code: str
    title: str
    description: str
    severity: str
    evaluate: Any


class Spec:
    """Namespace of the hook specifications (registered with ``add_hookspecs``)."""

    # ------------------------------------------------------------ registration

    @hookspec
    def register_models(self) -> None:
        """Import the plugin's SQLAlchemy models so their tables join the metadata.

        Called once at start-up, before migrations and before the schema is
        built.  Define tables on :class:`minzheng.core.db.Base`, prefix their
        names with the plugin name, and inherit
        :class:`minzheng.core.scope.RegionScoped` on every table that holds
        personal or regional data: region scope then applies without code.
        """

    @hookspec
    def contribute_schema(self) -> SchemaContribution | None:
        """Return the plugin's :class:`SchemaContribution` to the composed graph."""

    @hookspec
    def create_loaders(self, context: Any) -> dict[str, Any] | None:
        """Return this request's dataloaders, by name, for the plugin's resolvers.

        Called once per request with the request context (``context.db`` is the
        serialised session).  Each value is a ``DataLoader`` or a function of no
        arguments that builds one when the request first asks for it (prefer
        this: most requests use few loaders).  Name loaders
        ``<plugin>.<what>_by_<key>``; fetch them in resolvers with
        ``info.context.loaders["…"]``.
        """

    @hookspec
    def declare_permissions(self) -> list[Permission] | None:
        """Return the permissions the plugin checks (``social_assistance:confirm``).

        Each names the built-in roles that hold it by default; a deployment's
        role map may change that.
        """

    @hookspec
    def declare_programmes(self) -> list[Programme] | None:
        """Return the programmes whose grants the plugin mirrors in core enrolments."""

    @hookspec
    def monitoring_rules(self) -> list[MonitoringRule] | None:
        """Return risk rules that the monitoring plugin evaluates over its pool."""

    @hookspec
    def region_figure_sources(self) -> list[FigureSource] | None:
        """Return the plugin's pre-aggregated division figures (区划统计预汇总).

        Each :class:`~minzheng.core.figures.FigureSource` counts figures per
        division unit (12-digit region code) for a day; core keeps them current
        after every commit that touches a unit and refreshes them daily, and a
        dashboard reads a county as one index range instead of counting its
        rows.  Resolvers read them with
        ``minzheng.schema.statistics.region_figures(info, code, name)``, which
        counts the same statements live when the figures do not hold for
        today.  Figures must add up across units.
        """

    @hookspec
    def register_commands(self, cli: click.Group) -> None:
        """Add ``minzheng`` sub-commands (bulk import, exports) to ``cli``."""

    # ------------------------------------------------------------------ data

    @hookspec
    def seed_demo(self, session: AsyncSession, rng: Any, today: Any) -> None:
        """Add the plugin's demo data to the registry that core has just seeded.

        ``rng`` is a seeded :class:`random.Random`: use only it, so the same
        seed gives the same data.  Called in plugin dependency order, in one
        transaction; query the registry through ``session``.
        """

    @hookspec
    def run_daily(self, session: AsyncSession, today: Any) -> Any:
        """Do the plugin's date-driven work for ``today`` (a :class:`datetime.date`).

        ``minzheng daily`` calls it once a day (from cron or a timer), in one
        transaction per plugin under the system principal: suspend grants whose
        verification deadline passed, close phase-outs that reached their last
        month, flag overdue reviews and visits.  It must be idempotent — running
        twice for one day changes nothing the second time.  Return a short
        summary (``{"suspended": 3}``) for the command's report, or None.
        """

    # -------------------------------------------------------- domain events

    @hookspec
    def on_person_registered(self, event: PersonRegistered, session: AsyncSession) -> None:
        """React to a new person in the registry, inside the same transaction."""

    @hookspec
    def on_person_changed(self, event: PersonChanged, session: AsyncSession) -> None:
        """React to changed person facts; ``event.changes`` maps field → (old, new)."""

    @hookspec
    def on_person_died(self, event: PersonDied, session: AsyncSession) -> None:
        """React to a recorded death (end grants from the following month, …)."""

    @hookspec
    def on_household_income_recorded(
        self, event: HouseholdIncomeRecorded, session: AsyncSession
    ) -> None:
        """React to a new income record (re-evaluate means-tested grants, …)."""

    @hookspec
    def on_member_moved(self, event: MemberMoved, session: AsyncSession) -> None:
        """React to a person joining, leaving or moving between households."""

    @hookspec
    def on_enrolment_changed(self, event: EnrolmentChanged, session: AsyncSession) -> None:
        """React to another programme's enrolment starting, changing or ending."""


HOOK_NAMES = tuple(
    name for name, value in vars(Spec).items() if callable(value) and not name.startswith("_")
)
