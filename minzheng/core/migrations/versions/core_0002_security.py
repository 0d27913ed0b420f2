"""security: integration API keys (hashed) and registered GraphQL documents

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-29 18:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'core_0002'
down_revision: str | Sequence[str] | None = 'core_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('grants', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_api_key_name'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_key_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_key_township_code'), ['township_code'], unique=False)

    op.create_table('persisted_query',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_persisted_query'))
    )


def downgrade() -> None:
    op.drop_table('persisted_query')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_township_code'))
        batch_op.drop_index(batch_op.f('ix_api_key_region_code'))
        batch_op.drop_index(batch_op.f('ix_api_key_county_code'))
    op.drop_table('api_key')
