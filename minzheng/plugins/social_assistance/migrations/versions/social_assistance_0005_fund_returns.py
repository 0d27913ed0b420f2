"""social_assistance: emergency help recovered from its recipient and returned
to the township's reserve fund

Revision ID: social_assistance_0005
Revises: social_assistance_0004
Create Date: 2026-12-02 03:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'social_assistance_0005'
down_revision: str | Sequence[str] | None = 'social_assistance_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = 'ck_social_assistance_reserve_fund_entry_sign_matches_kind'
OLD = "(kind = 'top_up' AND amount_fen > 0) OR (kind = 'draw' AND amount_fen < 0)"
NEW = (
    "(kind IN ('top_up', 'return') AND amount_fen > 0) OR (kind = 'draw' AND amount_fen < 0)"
)


def upgrade() -> None:
    with op.batch_alter_table('social_assistance_temporary_case') as batch:
        batch.add_column(
            sa.Column('recovered_fen', sa.BigInteger(), nullable=False, server_default='0')
        )
        batch.add_column(sa.Column('recovery_reason', sa.String(length=200), nullable=True))
    with op.batch_alter_table('social_assistance_reserve_fund_entry') as batch:
        batch.drop_constraint(op.f(CHECK), type_='check')
        batch.create_check_constraint(op.f(CHECK), NEW)


def downgrade() -> None:
    op.execute("DELETE FROM social_assistance_reserve_fund_entry WHERE kind = 'return'")
    with op.batch_alter_table('social_assistance_reserve_fund_entry') as batch:
        batch.drop_constraint(op.f(CHECK), type_='check')
        batch.create_check_constraint(op.f(CHECK), OLD)
    with op.batch_alter_table('social_assistance_temporary_case') as batch:
        batch.drop_column('recovery_reason')
        batch.drop_column('recovered_fen')
