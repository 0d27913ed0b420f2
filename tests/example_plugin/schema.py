from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from sqlalchemy import func, select

from example_plugin.models import ExampleNote as NoteRow
from minzheng.core import audit
from minzheng.core.errors import ValidationFailed
from minzheng.core.hookspecs import SchemaContribution
from minzheng.core.models import Person as PersonRow
from minzheng.schema import ids
from minzheng.schema.errors import UserError
from minzheng.schema.limits import list_size
from minzheng.schema.mutations import run
from minzheng.schema.permissions import requires
from minzheng.schema.pii import small_cell

PersonRef = Annotated["Person", strawberry.lazy("minzheng.schema.composed")]  # noqa: F821


@strawberry.type(description="示例备注 A note about a person")
class ExampleNote:
    text: str = strawberry.field(description="内容 Text")
    written_on: dt.date = strawberry.field(description="日期 Date")

    @strawberry.field(description="人员 The person")
    async def person(self, info: strawberry.Info) -> PersonRef | None:
        return await info.context.loaders["person_by_id"].load(self.person_id)  # type: ignore[attr-defined]


@strawberry.type
class Query:
    @strawberry.field(
        description="示例备注 All notes in your scope", extensions=requires("registry:read")
    )
    async def example_notes(self, info: strawberry.Info) -> list[ExampleNote]:
        return await info.context.db.scalars(select(NoteRow).order_by(NoteRow.id))  # type: ignore[no-any-return]

    @strawberry.field(description="故障 Always fails: proves unexpected errors are masked")
    def example_failure(self) -> int:
        raise ValueError("internal detail that must not leak")


@strawberry.input(description="添加备注 Add a note")
class AddExampleNoteInput:
    person_id: strawberry.ID
    text: str


@strawberry.type
class AddExampleNotePayload:
    note: ExampleNote | None
    errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="添加备注 Add a note to a person", extensions=requires("registry:write")
    )
    async def add_example_note(
        self, info: strawberry.Info, input: AddExampleNoteInput
    ) -> AddExampleNotePayload:
        note_holder: dict[str, Any] = {}

        async def work(session: Any) -> dict[str, Any]:
            pk = ids.decode(input.person_id, expect="Person", field="input.personId")[1]
            person = await session.get(PersonRow, pk)
            if person is None:
                raise ValidationFailed("input.personId", "not_found", "no such person")
            if not input.text.strip():
                raise ValidationFailed("input.text", "text.required", "text must not be empty")
            note = NoteRow(person_id=pk, text=input.text, written_on=dt.date.today())
            note.place(person.region_code)
            session.add(note)
            await session.flush()
            audit.record(session, action="example.note", entity=note)
            note_holder["note"] = note
            return {"note_id": note.id, "region_code": note.region_code}

        def build(result: dict[str, Any] | None, errors: list[UserError]) -> Any:
            return AddExampleNotePayload(note=note_holder.get("note"), errors=errors)

        return await run(info, "addExampleNote", work, build)  # type: ignore[no-any-return]


@strawberry.type
class PersonFields:
    @strawberry.field(description="示例备注 Notes about this person", metadata=list_size(3))
    async def example_notes(self, info: strawberry.Info) -> list[ExampleNote]:
        return await info.context.loaders["example.notes_by_person"].load(self.id)  # type: ignore[attr-defined,no-any-return]


@strawberry.type
class StatisticsFields:
    @strawberry.field(description="示例备注数 Notes in this division (null: small cell)")
    async def example_note_count(self, info: strawberry.Info) -> int | None:
        lo, hi = self.area()  # type: ignore[attr-defined]
        stmt = select(func.count()).select_from(NoteRow).where(NoteRow.region_code.between(lo, hi))
        return small_cell(info, int(await info.context.db.scalar(stmt) or 0))


contribution = SchemaContribution(
    query=Query, mutation=Mutation, person=PersonFields, region_statistics=StatisticsFields
)
