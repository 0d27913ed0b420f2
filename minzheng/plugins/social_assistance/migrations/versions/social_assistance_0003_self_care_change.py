"""social_assistance: a 特困 case records a change of health or disability, to
be followed by a self-care reassessment within 10 working days

Revision ID: social_assistance_0003
Revises: social_assistance_0002
Create Date: 2026-12-01 08:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'social_assistance_0003'
down_revision: str | Sequence[str] | None = 'social_assistance_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('social_assistance_tekun_case') as batch:
        batch.add_column(sa.Column('self_care_changed_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('self_care_change', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('social_assistance_tekun_case') as batch:
        batch.drop_column('self_care_change')
        batch.drop_column('self_care_changed_on')
