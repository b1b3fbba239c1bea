"""calls: video and text call sessions, their parties and chat; evidence files (media)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:44:46.585024
"""
from alembic import op
import sqlalchemy as sa
import baojing.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('silent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('queued_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('answered_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('held_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('ended_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_calls_alarm_id_alarms')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_calls_device_id_devices')),
    sa.ForeignKeyConstraint(['operator_id'], ['users.id'], name=op.f('fk_calls_operator_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    sa.UniqueConstraint('alarm_id', name=op.f('uq_calls_alarm_id'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_device_status', ['device_id', 'status'], unique=False)
        batch_op.create_index('ix_calls_status_queued', ['status', 'queued_at'], unique=False)

    op.create_table('call_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('invited_by', sa.Integer(), nullable=True),
    sa.Column('invited_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('joined_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('left_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('left_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_parties_call_id_calls')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_call_parties_device_id_devices')),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_call_parties_invited_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_call_parties_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_parties'))
    )
    with op.batch_alter_table('call_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_parties_call_id'), ['call_id'], unique=False)

    op.create_table('media_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('track', sa.String(length=8), nullable=True),
    sa.Column('mime', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_media_files_call_id_calls')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_media_files_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_files')),
    sa.UniqueConstraint('path', name=op.f('uq_media_files_path'))
    )
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_files_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_media_files_incident_created', ['incident_id', 'id'], unique=False)

    op.create_table('call_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('media_id', sa.Integer(), nullable=True),
    sa.Column('at', baojing.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_messages_call_id_calls')),
    sa.ForeignKeyConstraint(['media_id'], ['media_files.id'], name=op.f('fk_call_messages_media_id_media_files')),
    sa.ForeignKeyConstraint(['party_id'], ['call_parties.id'], name=op.f('fk_call_messages_party_id_call_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_messages'))
    )
    with op.batch_alter_table('call_messages', schema=None) as batch_op:
        batch_op.create_index('ix_call_messages_call_id', ['call_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_call_messages_call_id')

    op.drop_table('call_messages')
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_index('ix_media_files_incident_created')
        batch_op.drop_index(batch_op.f('ix_media_files_call_id'))

    op.drop_table('media_files')
    with op.batch_alter_table('call_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_parties_call_id'))

    op.drop_table('call_parties')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_status_queued')
        batch_op.drop_index('ix_calls_device_status')

    op.drop_table('calls')
