"""social_assistance: work offered to 低保 members able to work, a member's own
share withheld after three refusals in a row, and the county's spot checks of
特困 files

Revision ID: social_assistance_0004
Revises: social_assistance_0003
Create Date: 2026-12-01 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'social_assistance_0004'
down_revision: str | Sequence[str] | None = 'social_assistance_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('social_assistance_tekun_case') as batch:
        batch.add_column(sa.Column('spot_checked_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('spot_check_findings', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('spot_check_confirms', sa.Boolean(), nullable=True))
    with op.batch_alter_table('social_assistance_dibao_member') as batch:
        batch.add_column(sa.Column('share_withheld_from', sa.Date(), nullable=True))
        batch.add_column(sa.Column('share_withheld_reason', sa.String(length=200), nullable=True))
    op.create_table('social_assistance_dibao_work_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('offered_on', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['social_assistance_dibao_case.id'], name=op.f('fk_social_assistance_dibao_work_offer_case_id_social_assistance_dibao_case')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_social_assistance_dibao_work_offer_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_assistance_dibao_work_offer'))
    )
    with op.batch_alter_table('social_assistance_dibao_work_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_assistance_dibao_work_offer_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_assistance_dibao_work_offer_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_assistance_dibao_work_offer_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_assistance_dibao_work_offer_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_assistance_dibao_work_offer_township_code'), ['township_code'], unique=False)


def downgrade() -> None:
    op.drop_table('social_assistance_dibao_work_offer')
    with op.batch_alter_table('social_assistance_dibao_member') as batch:
        batch.drop_column('share_withheld_reason')
        batch.drop_column('share_withheld_from')
    with op.batch_alter_table('social_assistance_tekun_case') as batch:
        batch.drop_column('spot_check_confirms')
        batch.drop_column('spot_check_findings')
        batch.drop_column('spot_checked_on')
