"""users.totp_last_step: the step of the last accepted authenticator code, so a code works once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
