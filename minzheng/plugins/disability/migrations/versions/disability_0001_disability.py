"""disability plugin: standards, applications and grants (两项补贴), survival
verification, care services, community rehabilitation

Revision ID: disability_0001
Revises:
Create Date: 2026-11-29 16:46:52.004475
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'disability_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('disability',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('disability_care_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('service_types', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_care_provider'))
    )
    with op.batch_alter_table('disability_care_provider', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_care_provider_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_provider_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_provider_township_code'), ['township_code'], unique=False)

    op.create_table('disability_standard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('subsidy', sa.Enum('living', 'care', name='disability_subsidy', native_enum=False, length=32), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=True, comment='NULL = every grade'),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('monthly_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('document', sa.String(length=128), nullable=True, comment='文号'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.CheckConstraint('grade IS NULL OR grade BETWEEN 1 AND 4', name=op.f('ck_disability_standard_grade')),
    sa.CheckConstraint('monthly_amount_fen >= 0', name=op.f('ck_disability_standard_amount_nonnegative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_standard'))
    )
    with op.batch_alter_table('disability_standard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_standard_region_code'), ['region_code'], unique=False)
        batch_op.create_index('uq_disability_standard_all_grades', ['region_code', 'subsidy', 'effective_from'], unique=True, sqlite_where=sa.text('grade IS NULL'), postgresql_where=sa.text('grade IS NULL'))
        batch_op.create_index('uq_disability_standard_graded', ['region_code', 'subsidy', 'grade', 'effective_from'], unique=True, sqlite_where=sa.text('grade IS NOT NULL'), postgresql_where=sa.text('grade IS NOT NULL'))

    op.create_table('disability_verification_cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scope_prefix', sa.String(length=12), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('swept_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.CheckConstraint('deadline >= opens_on', name=op.f('ck_disability_verification_cycle_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_verification_cycle')),
    sa.UniqueConstraint('region_code', 'opens_on', name=op.f('uq_disability_verification_cycle_region_code_opens_on'))
    )
    with op.batch_alter_table('disability_verification_cycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_verification_cycle_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_cycle_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_cycle_scope_prefix'), ['scope_prefix'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_cycle_township_code'), ['township_code'], unique=False)

    op.create_table('disability_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('subsidy', sa.Enum('living', 'care', name='disability_subsidy', native_enum=False, length=32), nullable=False),
    sa.Column('state', sa.Enum('submitted', 'accepted', 'reviewed', 'approved', 'rejected', 'withdrawn', name='disability_application_state', native_enum=False, length=32), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('reviewed_on', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('refused_at_stage', sa.Enum('submitted', 'accepted', 'reviewed', 'approved', 'rejected', 'withdrawn', name='disability_application_state', native_enum=False, length=32), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('verdict', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_disability_application_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_application'))
    )
    with op.batch_alter_table('disability_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_application_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_application_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_application_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_application_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_application_township_code'), ['township_code'], unique=False)
        batch_op.create_index('uq_disability_application_open', ['person_id', 'subsidy'], unique=True, sqlite_where=sa.text("state IN ('submitted', 'accepted', 'reviewed')"), postgresql_where=sa.text("state IN ('submitted', 'accepted', 'reviewed')"))

    op.create_table('disability_care_arrangement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.Enum('centralised', 'day', 'neighbourhood', name='disability_care_service_type', native_enum=False, length=32), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=200), nullable=True),
    sa.Column('consent_on', sa.Date(), nullable=False, comment='自愿申请 date'),
    sa.Column('family_carer', sa.String(length=100), nullable=False, comment='家庭第一照护责任人'),
    sa.Column('verdict', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_disability_care_arrangement_person_id_person')),
    sa.ForeignKeyConstraint(['provider_id'], ['disability_care_provider.id'], name=op.f('fk_disability_care_arrangement_provider_id_disability_care_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_care_arrangement'))
    )
    with op.batch_alter_table('disability_care_arrangement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_care_arrangement_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_arrangement_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_arrangement_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_arrangement_township_code'), ['township_code'], unique=False)
        batch_op.create_index('uq_disability_care_arrangement_open', ['person_id', 'service_type'], unique=True, sqlite_where=sa.text('end_on IS NULL'), postgresql_where=sa.text('end_on IS NULL'))

    op.create_table('disability_rehab_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=False, comment='康复服务机构/站点'),
    sa.Column('rural', sa.Boolean(), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Enum('improved', 'stable', 'deteriorated', name='disability_rehab_outcome', native_enum=False, length=32), nullable=True),
    sa.Column('end_note', sa.String(length=300), nullable=True),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_disability_rehab_enrolment_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_rehab_enrolment'))
    )
    with op.batch_alter_table('disability_rehab_enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_rehab_enrolment_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_rehab_enrolment_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_rehab_enrolment_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_rehab_enrolment_township_code'), ['township_code'], unique=False)
        batch_op.create_index('uq_disability_rehab_enrolment_open', ['person_id'], unique=True, sqlite_where=sa.text('ended_on IS NULL'), postgresql_where=sa.text('ended_on IS NULL'))

    op.create_table('disability_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.Enum('face_recognition', 'data_comparison', 'home_visit', 'in_person', name='disability_verification_method', native_enum=False, length=32), nullable=False),
    sa.Column('outcome', sa.Enum('confirmed', 'failed', 'deceased', name='disability_verification_outcome', native_enum=False, length=32), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True, comment='system or file'),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['disability_verification_cycle.id'], name=op.f('fk_disability_verification_cycle_id_disability_verification_cycle')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_disability_verification_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_verification')),
    sa.UniqueConstraint('person_id', 'verified_at', 'method', name=op.f('uq_disability_verification_person_id_verified_at_method'))
    )
    with op.batch_alter_table('disability_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_verification_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_township_code'), ['township_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_verification_verified_on'), ['verified_on'], unique=False)

    op.create_table('disability_application_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['disability_application.id'], name=op.f('fk_disability_application_step_application_id_disability_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_application_step'))
    )
    with op.batch_alter_table('disability_application_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_application_step_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_application_step_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_application_step_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_application_step_township_code'), ['township_code'], unique=False)

    op.create_table('disability_care_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('arrangement_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('served_on', sa.Date(), nullable=False),
    sa.Column('hours_hundredths', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.CheckConstraint('hours_hundredths > 0 AND hours_hundredths <= 2400', name=op.f('ck_disability_care_record_hours')),
    sa.ForeignKeyConstraint(['arrangement_id'], ['disability_care_arrangement.id'], name=op.f('fk_disability_care_record_arrangement_id_disability_care_arrangement')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_disability_care_record_person_id_person')),
    sa.ForeignKeyConstraint(['provider_id'], ['disability_care_provider.id'], name=op.f('fk_disability_care_record_provider_id_disability_care_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_care_record'))
    )
    with op.batch_alter_table('disability_care_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_care_record_arrangement_id'), ['arrangement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_record_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_record_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_record_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_care_record_township_code'), ['township_code'], unique=False)

    op.create_table('disability_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('subsidy', sa.Enum('living', 'care', name='disability_subsidy', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', 'ended', name='disability_grant_status', native_enum=False, length=32), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('approved_on', sa.Date(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False, comment='first day paid'),
    sa.Column('end_on', sa.Date(), nullable=True, comment='last day covered'),
    sa.Column('end_reason', sa.String(length=200), nullable=True),
    sa.Column('category', sa.Enum('visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple', name='disability_category', native_enum=False, length=32), nullable=True),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.Column('monthly_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('standard_id', sa.Integer(), nullable=True),
    sa.Column('suspended_from', sa.Date(), nullable=True),
    sa.Column('suspension_reason', sa.Enum('verification_overdue', 'reported_deceased', 'manual', name='disability_suspension_reason', native_enum=False, length=32), nullable=True),
    sa.Column('suspension_cycle_id', sa.Integer(), nullable=True),
    sa.Column('review_flag', sa.Boolean(), nullable=False),
    sa.Column('review_reason', sa.String(length=300), nullable=True),
    sa.Column('flagged_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.CheckConstraint('monthly_amount_fen >= 0', name=op.f('ck_disability_grant_amount_nonnegative')),
    sa.ForeignKeyConstraint(['application_id'], ['disability_application.id'], name=op.f('fk_disability_grant_application_id_disability_application')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_disability_grant_person_id_person')),
    sa.ForeignKeyConstraint(['standard_id'], ['disability_standard.id'], name=op.f('fk_disability_grant_standard_id_disability_standard')),
    sa.ForeignKeyConstraint(['suspension_cycle_id'], ['disability_verification_cycle.id'], name=op.f('fk_disability_grant_suspension_cycle_id_disability_verification_cycle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_grant'))
    )
    with op.batch_alter_table('disability_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_grant_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_grant_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_grant_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_grant_review_flag'), ['review_flag'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_grant_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_grant_township_code'), ['township_code'], unique=False)
        batch_op.create_index('uq_disability_grant_current', ['person_id', 'subsidy'], unique=True, sqlite_where=sa.text("status IN ('active', 'suspended')"), postgresql_where=sa.text("status IN ('active', 'suspended')"))

    op.create_table('disability_rehab_service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('social_skills', 'work_skills', 'counselling', name='disability_rehab_service_kind', native_enum=False, length=32), nullable=False),
    sa.Column('served_on', sa.Date(), nullable=False),
    sa.Column('hours_hundredths', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('improved', 'stable', 'deteriorated', name='disability_rehab_outcome', native_enum=False, length=32), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False, comment='统计用区划代码 (12 digits)'),
    sa.Column('county_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.CheckConstraint('hours_hundredths IS NULL OR (hours_hundredths > 0 AND hours_hundredths <= 2400)', name=op.f('ck_disability_rehab_service_hours')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['disability_rehab_enrolment.id'], name=op.f('fk_disability_rehab_service_enrolment_id_disability_rehab_enrolment')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_disability_rehab_service_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_rehab_service'))
    )
    with op.batch_alter_table('disability_rehab_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disability_rehab_service_county_code'), ['county_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_rehab_service_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_rehab_service_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_rehab_service_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disability_rehab_service_township_code'), ['township_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('disability_rehab_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disability_rehab_service_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_service_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_service_person_id'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_service_enrolment_id'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_service_county_code'))

    op.drop_table('disability_rehab_service')
    with op.batch_alter_table('disability_grant', schema=None) as batch_op:
        batch_op.drop_index('uq_disability_grant_current', sqlite_where=sa.text("status IN ('active', 'suspended')"), postgresql_where=sa.text("status IN ('active', 'suspended')"))
        batch_op.drop_index(batch_op.f('ix_disability_grant_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_grant_status'))
        batch_op.drop_index(batch_op.f('ix_disability_grant_review_flag'))
        batch_op.drop_index(batch_op.f('ix_disability_grant_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_grant_person_id'))
        batch_op.drop_index(batch_op.f('ix_disability_grant_county_code'))

    op.drop_table('disability_grant')
    with op.batch_alter_table('disability_care_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disability_care_record_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_care_record_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_care_record_person_id'))
        batch_op.drop_index(batch_op.f('ix_disability_care_record_county_code'))
        batch_op.drop_index(batch_op.f('ix_disability_care_record_arrangement_id'))

    op.drop_table('disability_care_record')
    with op.batch_alter_table('disability_application_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disability_application_step_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_application_step_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_application_step_county_code'))
        batch_op.drop_index(batch_op.f('ix_disability_application_step_application_id'))

    op.drop_table('disability_application_step')
    with op.batch_alter_table('disability_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disability_verification_verified_on'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_person_id'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_cycle_id'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_county_code'))

    op.drop_table('disability_verification')
    with op.batch_alter_table('disability_rehab_enrolment', schema=None) as batch_op:
        batch_op.drop_index('uq_disability_rehab_enrolment_open', sqlite_where=sa.text('ended_on IS NULL'), postgresql_where=sa.text('ended_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_enrolment_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_enrolment_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_enrolment_person_id'))
        batch_op.drop_index(batch_op.f('ix_disability_rehab_enrolment_county_code'))

    op.drop_table('disability_rehab_enrolment')
    with op.batch_alter_table('disability_care_arrangement', schema=None) as batch_op:
        batch_op.drop_index('uq_disability_care_arrangement_open', sqlite_where=sa.text('end_on IS NULL'), postgresql_where=sa.text('end_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_disability_care_arrangement_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_care_arrangement_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_care_arrangement_person_id'))
        batch_op.drop_index(batch_op.f('ix_disability_care_arrangement_county_code'))

    op.drop_table('disability_care_arrangement')
    with op.batch_alter_table('disability_application', schema=None) as batch_op:
        batch_op.drop_index('uq_disability_application_open', sqlite_where=sa.text("state IN ('submitted', 'accepted', 'reviewed')"), postgresql_where=sa.text("state IN ('submitted', 'accepted', 'reviewed')"))
        batch_op.drop_index(batch_op.f('ix_disability_application_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_application_state'))
        batch_op.drop_index(batch_op.f('ix_disability_application_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_application_person_id'))
        batch_op.drop_index(batch_op.f('ix_disability_application_county_code'))

    op.drop_table('disability_application')
    with op.batch_alter_table('disability_verification_cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disability_verification_cycle_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_cycle_scope_prefix'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_cycle_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_verification_cycle_county_code'))

    op.drop_table('disability_verification_cycle')
    with op.batch_alter_table('disability_standard', schema=None) as batch_op:
        batch_op.drop_index('uq_disability_standard_graded', sqlite_where=sa.text('grade IS NOT NULL'), postgresql_where=sa.text('grade IS NOT NULL'))
        batch_op.drop_index('uq_disability_standard_all_grades', sqlite_where=sa.text('grade IS NULL'), postgresql_where=sa.text('grade IS NULL'))
        batch_op.drop_index(batch_op.f('ix_disability_standard_region_code'))

    op.drop_table('disability_standard')
    with op.batch_alter_table('disability_care_provider', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disability_care_provider_township_code'))
        batch_op.drop_index(batch_op.f('ix_disability_care_provider_region_code'))
        batch_op.drop_index(batch_op.f('ix_disability_care_provider_county_code'))

    op.drop_table('disability_care_provider')
