"""social_assistance: covering indexes for the division's overdue and review
figures (region, status, due date)

Revision ID: social_assistance_0002
Revises: social_assistance_0001
Create Date: 2026-11-29 20:05:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'social_assistance_0002'
down_revision: str | Sequence[str] | None = 'social_assistance_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ('ix_social_assistance_dibao_case_region_due', 'social_assistance_dibao_case',
     ['region_code', 'status', 'due_on']),
    ('ix_social_assistance_tekun_case_region_due', 'social_assistance_tekun_case',
     ['region_code', 'due_on']),
    ('ix_social_assistance_temporary_case_region_due', 'social_assistance_temporary_case',
     ['region_code', 'due_on']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
