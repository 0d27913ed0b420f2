"""pre-aggregated division figures

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0004"
down_revision: str | Sequence[str] | None = "core_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_region_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column(
            "region_code", sa.String(length=12), nullable=False, comment="统计用区划代码 (12 digits)"
        ),
        sa.Column("county_code", sa.String(length=12), nullable=True),
        sa.Column("township_code", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_region_figure")),
        sa.UniqueConstraint("region_code", "key", name=op.f("uq_core_region_figure_region_code_key")),
    )
    op.create_index(
        "ix_core_region_figure_read", "core_region_figure", ["region_code", "key", "value"]
    )
    for column in ("region_code", "county_code", "township_code"):
        op.create_index(
            op.f(f"ix_core_region_figure_{column}"), "core_region_figure", [column]
        )
    op.create_table(
        "core_region_figure_source",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_core_region_figure_source")),
    )


def downgrade() -> None:
    op.drop_table("core_region_figure_source")
    for column in ("township_code", "county_code", "region_code"):
        op.drop_index(op.f(f"ix_core_region_figure_{column}"), table_name="core_region_figure")
    op.drop_index("ix_core_region_figure_read", table_name="core_region_figure")
    op.drop_table("core_region_figure")
