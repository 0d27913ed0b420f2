"""disability plugin: indexes for the division figures — certified persons
(partial, on the core person table), current grants by region, confirmed
verifications by person

Revision ID: disability_0002
Revises: disability_0001
Create Date: 2026-11-29 19:55:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'disability_0002'
down_revision: str | Sequence[str] | None = 'disability_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CERTIFIED = sa.text('disability_grade IS NOT NULL')


def upgrade() -> None:
    op.create_index(
        'ix_disability_person_certified',
        'person',
        ['region_code', 'disability_grade', 'disability_category', 'died_on', 'id'],
        unique=False,
        sqlite_where=CERTIFIED,
        postgresql_where=CERTIFIED,
    )
    op.create_index(
        'ix_disability_grant_region_figures',
        'disability_grant',
        ['region_code', 'status', 'person_id', 'review_flag'],
        unique=False,
    )
    op.create_index(
        'ix_disability_verification_person_outcome',
        'disability_verification',
        ['person_id', 'outcome', 'verified_on', 'region_code'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_disability_verification_person_outcome', table_name='disability_verification')
    op.drop_index('ix_disability_grant_region_figures', table_name='disability_grant')
    op.drop_index('ix_disability_person_certified', table_name='person')
