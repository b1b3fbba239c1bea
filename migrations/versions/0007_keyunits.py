"""keyunits: registry, rosters, member accounts, files, one-tap alarms, bulletins and receipts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 02:42:10.332154
"""
from alembic import op
import sqlalchemy as sa
import baojing.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('boundary', sa.JSON(), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('station_overridden', sa.Boolean(), nullable=False),
    sa.Column('contacts', sa.JSON(), nullable=False),
    sa.Column('opening_hours', sa.String(length=200), nullable=True),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', baojing.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_key_units_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_units')),
    sa.UniqueConstraint('name', name=op.f('uq_key_units_name'))
    )
    with op.batch_alter_table('key_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_units_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_units_station_id'), ['station_id'], unique=False)

    op.create_table('bulletins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('expires_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('target_kinds', sa.JSON(), nullable=False),
    sa.Column('target_station_ids', sa.JSON(), nullable=False),
    sa.Column('target_district_ids', sa.JSON(), nullable=False),
    sa.Column('target_area', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('closed_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_bulletins_closed_by_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_bulletins_created_by_users')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_bulletins_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletins'))
    )
    op.create_table('key_unit_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_key_unit_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_unit_accounts')),
    sa.UniqueConstraint('phone', name=op.f('uq_key_unit_accounts_phone')),
    sa.UniqueConstraint('user_id', name=op.f('uq_key_unit_accounts_user_id'))
    )
    op.create_table('key_unit_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['key_units.id'], name=op.f('fk_key_unit_members_unit_id_key_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_unit_members')),
    sa.UniqueConstraint('unit_id', 'phone', name='uq_key_unit_members_unit_phone')
    )
    with op.batch_alter_table('key_unit_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_unit_members_phone'), ['phone'], unique=False)

    op.create_table('key_unit_alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('bulletin_id', sa.Integer(), nullable=True),
    sa.Column('member_user_id', sa.Integer(), nullable=False),
    sa.Column('member_phone', sa.String(length=32), nullable=False),
    sa.Column('member_name', sa.String(length=40), nullable=False),
    sa.Column('position_from', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('cancelled_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('acked_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('acked_by', sa.Integer(), nullable=True),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['acked_by'], ['users.id'], name=op.f('fk_key_unit_alarms_acked_by_users')),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_key_unit_alarms_alarm_id_alarms')),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_key_unit_alarms_bulletin_id_bulletins')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_key_unit_alarms_incident_id_incidents')),
    sa.ForeignKeyConstraint(['member_user_id'], ['users.id'], name=op.f('fk_key_unit_alarms_member_user_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['key_units.id'], name=op.f('fk_key_unit_alarms_unit_id_key_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_unit_alarms')),
    sa.UniqueConstraint('alarm_id', name=op.f('uq_key_unit_alarms_alarm_id'))
    )
    with op.batch_alter_table('key_unit_alarms', schema=None) as batch_op:
        batch_op.create_index('ix_key_unit_alarms_acked', ['acked_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_unit_alarms_bulletin_id'), ['bulletin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_unit_alarms_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_unit_alarms_member_user_id'), ['member_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_unit_alarms_unit_id'), ['unit_id'], unique=False)

    op.create_table('bulletin_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bulletin_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('notified_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('notify_count', sa.Integer(), nullable=False),
    sa.Column('delivered_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('read_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('acked_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('found_alarm_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_recipients_bulletin_id_bulletins')),
    sa.ForeignKeyConstraint(['found_alarm_id'], ['key_unit_alarms.id'], name=op.f('fk_bulletin_recipients_found_alarm_id_key_unit_alarms')),
    sa.ForeignKeyConstraint(['unit_id'], ['key_units.id'], name=op.f('fk_bulletin_recipients_unit_id_key_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bulletin_recipients_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_recipients')),
    sa.UniqueConstraint('bulletin_id', 'unit_id', 'phone', name='uq_bulletin_recipients_bulletin_unit_phone')
    )
    with op.batch_alter_table('bulletin_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_bulletin_recipients_phone', ['phone', 'bulletin_id'], unique=False)

    op.create_table('key_unit_alarm_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['key_unit_alarms.id'], name=op.f('fk_key_unit_alarm_notes_alarm_id_key_unit_alarms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_unit_alarm_notes'))
    )
    with op.batch_alter_table('key_unit_alarm_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_unit_alarm_notes_alarm_id'), ['alarm_id'], unique=False)

    op.create_table('key_unit_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('bulletin_id', sa.Integer(), nullable=True),
    sa.Column('alarm_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mime', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['key_unit_alarms.id'], name=op.f('fk_key_unit_files_alarm_id_key_unit_alarms')),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_key_unit_files_bulletin_id_bulletins')),
    sa.ForeignKeyConstraint(['unit_id'], ['key_units.id'], name=op.f('fk_key_unit_files_unit_id_key_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_unit_files'))
    )
    with op.batch_alter_table('key_unit_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_unit_files_alarm_id'), ['alarm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_unit_files_bulletin_id'), ['bulletin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_unit_files_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('key_unit_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_unit_files_unit_id'))
        batch_op.drop_index(batch_op.f('ix_key_unit_files_bulletin_id'))
        batch_op.drop_index(batch_op.f('ix_key_unit_files_alarm_id'))

    op.drop_table('key_unit_files')
    with op.batch_alter_table('key_unit_alarm_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_unit_alarm_notes_alarm_id'))

    op.drop_table('key_unit_alarm_notes')
    with op.batch_alter_table('bulletin_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_bulletin_recipients_phone')

    op.drop_table('bulletin_recipients')
    with op.batch_alter_table('key_unit_alarms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_unit_alarms_unit_id'))
        batch_op.drop_index(batch_op.f('ix_key_unit_alarms_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_key_unit_alarms_incident_id'))
        batch_op.drop_index(batch_op.f('ix_key_unit_alarms_bulletin_id'))
        batch_op.drop_index('ix_key_unit_alarms_acked')

    op.drop_table('key_unit_alarms')
    with op.batch_alter_table('key_unit_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_unit_members_phone'))

    op.drop_table('key_unit_members')
    op.drop_table('key_unit_accounts')
    op.drop_table('bulletins')
    with op.batch_alter_table('key_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_units_station_id'))
        batch_op.drop_index(batch_op.f('ix_key_units_kind'))

    op.drop_table('key_units')
