from __future__ import annotations

from typing import Any

from minzheng.core.events import PersonDied
from minzheng.core.hookspecs import SchemaContribution, hookimpl
from minzheng.schema.loaders import many_by_key


@hookimpl
def register_models() -> None:
    from example_plugin import models  # noqa: F401


@hookimpl
def contribute_schema() -> SchemaContribution:
    from example_plugin.schema import contribution

    return contribution


@hookimpl
def create_loaders(context: Any) -> dict[str, Any]:
    from example_plugin.models import ExampleNote

    return {
        "example.notes_by_person": lambda: many_by_key(
            context.db, ExampleNote, ExampleNote.person_id
        )
    }


#: tests set this to make the plugin's death handler fail
FAIL_ON_DEATH: list[bool] = []


@hookimpl
async def on_person_died(event: PersonDied, session: Any) -> None:
    from example_plugin.models import ExampleNote

    if FAIL_ON_DEATH:
        raise RuntimeError("example plugin refuses deaths today")
    note = ExampleNote(
        person_id=event.person_id, text=f"died on {event.died_on}", written_on=event.died_on
    )
    from minzheng.core.models import Person

    person = await session.get(Person, event.person_id)
    note.place(person.region_code)
    session.add(note)


@hookimpl
async def run_daily(session: Any, today: Any) -> dict[str, int]:
    """Mark notes older than a year as archived (idempotent)."""
    from sqlalchemy import update

    from example_plugin.models import ExampleNote

    cutoff = today.replace(year=today.year - 1)
    result = await session.execute(
        update(ExampleNote)
        .where(ExampleNote.written_on < cutoff, ExampleNote.text.not_like("[archived]%"))
        .values(text="[archived] " + ExampleNote.text)
    )
    return {"archived": result.rowcount}
