"""sms: text messages and one-time codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 02:34:04.520651
"""
from alembic import op
import sqlalchemy as sa
import baojing.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('gateway', sa.String(length=16), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('provider_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('next_attempt_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', baojing.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_messages'))
    )
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.create_index('ix_sms_messages_phone_id', ['phone', 'id'], unique=False)
        batch_op.create_index('ix_sms_messages_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('sms_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('created_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('used_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['sms_messages.id'], name=op.f('fk_sms_codes_message_id_sms_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_codes'))
    )
    with op.batch_alter_table('sms_codes', schema=None) as batch_op:
        batch_op.create_index('ix_sms_codes_address_created', ['address', 'created_at'], unique=False)
        batch_op.create_index('ix_sms_codes_phone_purpose', ['phone', 'purpose', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sms_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_codes_phone_purpose')
        batch_op.drop_index('ix_sms_codes_address_created')

    op.drop_table('sms_codes')
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_messages_status_next')
        batch_op.drop_index('ix_sms_messages_phone_id')

    op.drop_table('sms_messages')
