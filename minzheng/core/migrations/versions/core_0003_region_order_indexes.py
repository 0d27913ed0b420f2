"""indexes for region-ordered pages and population figures

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "core_0003"
down_revision: str | Sequence[str] | None = "core_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_household_region_id", "household", ["region_code", "id"])
    op.create_index(
        "ix_person_region_figures", "person", ["region_code", "died_on", "sex", "birth_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_person_region_figures", table_name="person")
    op.drop_index("ix_household_region_id", table_name="household")
