"""example plugin: notes

Revision ID: example_0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "example_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("example",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "example_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column(
            "region_code",
            sa.String(length=12),
            nullable=False,
            comment="统计用区划代码 (12 digits)",
        ),
        sa.Column("county_code", sa.String(length=12), nullable=True),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_example_note_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_example_note")),
    )
    for col in ("person_id", "region_code", "county_code", "township_code"):
        op.create_index(op.f(f"ix_example_note_{col}"), "example_note", [col])


def downgrade() -> None:
    op.drop_table("example_note")
