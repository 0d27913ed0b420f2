"""A plugin used only by the security tests: one table, no scope code at all.

It proves that putting the region columns on a table (inheriting
:class:`RegionScoped`) is all a plugin needs for region scope, masking of the
fields it marks as personal data, and row-level security on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from minzheng.core.db import Base
from minzheng.core.hookspecs import Permission, hookimpl
from minzheng.core.plugins import PluginInfo
from minzheng.core.scope import RegionScoped

info = PluginInfo(name="probe", title="测试探针", version="0.0.1", hooks=__name__)


class ProbeNote(RegionScoped, Base):
    """A note about a person kept by the probe plugin."""

    __tablename__ = "probe_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    text: Mapped[str] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(32))


@hookimpl
def register_models() -> None:
    """The model is defined above, at import."""


@hookimpl
def declare_permissions() -> list[Permission]:
    return [Permission("probe:write", "Write probe notes (测试).", ("caseworker", "approver"))]
