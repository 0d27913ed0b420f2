"""Domain events, published to plugins inside the transaction that caused them.

A plugin reacts through the ``on_<event>`` hooks (:mod:`minzheng.core.hookspecs`);
its handler gets the event and the same :class:`~sqlalchemy.ext.asyncio.AsyncSession`,
so whatever it writes commits or rolls back with the cause.  A handler that
raises aborts the whole mutation.
"""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PersonRegistered:
    person_id: int
    household_id: int | None
    region_code: str
    hook = "on_person_registered"


@dataclass(frozen=True)
class PersonChanged:
    person_id: int
    #: field name → (old value, new value)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    hook = "on_person_changed"


@dataclass(frozen=True)
class PersonDied:
    person_id: int
    household_id: int | None
    died_on: dt.date
    hook = "on_person_died"


@dataclass(frozen=True)
class HouseholdIncomeRecorded:
    household_id: int
    income_id: int
    period_start: dt.date
    period_end: dt.date
    hook = "on_household_income_recorded"


@dataclass(frozen=True)
class MemberMoved:
    """A person left a household (``to_household_id`` None = removed) or joined one."""

    person_id: int
    from_household_id: int | None
    to_household_id: int | None
    on: dt.date
    reason: str | None = None
    hook = "on_member_moved"


@dataclass(frozen=True)
class EnrolmentChanged:
    enrolment_id: int
    programme: str
    person_id: int | None
    household_id: int | None
    old_status: str | None
    new_status: str
    hook = "on_enrolment_changed"


DomainEvent = (
    PersonRegistered
    | PersonChanged
    | PersonDied
    | HouseholdIncomeRecorded
    | MemberMoved
    | EnrolmentChanged
)


class EventHandlerFailed(RuntimeError):
    """A plugin's reaction to a domain event raised; the transaction is rolled back."""

    def __init__(self, event: object, plugin: str, cause: BaseException) -> None:
        super().__init__(f"plugin {plugin!r} failed handling {type(event).__name__}: {cause}")
        self.event = event
        self.plugin = plugin
        self.cause = cause


async def publish(session: AsyncSession, event: DomainEvent) -> None:
    """Call every enabled plugin's handler for ``event`` within ``session``'s transaction.

    The plugin manager is found in ``session.info["plugins"]``; without one
    (bare core) publishing is a no-op.  Handlers run one after another, in
    registration order, and may be sync or async.
    """
    manager = session.info.get("plugins")
    if manager is None:
        return
    caller = getattr(manager.hook, event.hook)
    for impl in caller.get_hookimpls():
        plugin_name = manager.get_name(impl.plugin) or "?"
        try:
            result = impl.function(event=event, session=session)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            from minzheng.core.errors import DomainError

            if isinstance(exc, DomainError):
                raise
            raise EventHandlerFailed(event, plugin_name, exc) from exc
