from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from minzheng.core.db import Base
from minzheng.core.scope import RegionScoped


class ExampleNote(RegionScoped, Base):
    """A caseworker's note about a person; scoped by region like every personal record."""

    __tablename__ = "example_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    written_on: Mapped[dt.date] = mapped_column(Date)
