"""what each figure source was counted with

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0005"
down_revision: str | Sequence[str] | None = "core_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # figures counted before this revision have none: readers count live until
    # the next refresh
    with op.batch_alter_table("core_region_figure_source") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("core_region_figure_source") as batch:
        batch.drop_column("fingerprint")
