"""dispatch: units, assignments, AVL, station jurisdictions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:24:50.232485
"""
from alembic import op
import sqlalchemy as sa
import baojing.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unit_positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('speed_mps', sa.Float(), nullable=True),
    sa.Column('heading', sa.Float(), nullable=True),
    sa.Column('recorded_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('received_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('flag', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_positions'))
    )
    with op.batch_alter_table('unit_positions', schema=None) as batch_op:
        batch_op.create_index('ix_unit_positions_unit_id', ['unit_id', 'id'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sign', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.Column('busy', sa.Boolean(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('position_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_units_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('call_sign', name=op.f('uq_units_call_sign'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_station_id'), ['station_id'], unique=False)

    op.create_table('unit_members',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_members_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_unit_members_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_unit_members'))
    )
    with op.batch_alter_table('unit_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_members_unit_id'), ['unit_id'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dispatched_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('dispatched_by', sa.Integer(), nullable=True),
    sa.Column('accepted_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('en_route_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('on_scene_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('cleared_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('declined_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('decline_reason', sa.String(length=200), nullable=True),
    sa.Column('disposition', sa.String(length=32), nullable=True),
    sa.Column('backup_requested_at', baojing.db.UTCDateTime(), nullable=True),
    sa.Column('overdue_at', baojing.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dispatched_by'], ['users.id'], name=op.f('fk_assignments_dispatched_by_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_assignments_incident_id_incidents')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assignments_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_unit_id'), ['unit_id'], unique=False)

    # Plain ALTERs: a batch copy of the table on SQLite would drop its AUTOINCREMENT.
    op.add_column('events', sa.Column('unit_id', sa.Integer(), nullable=True))
    op.add_column('events', sa.Column('user_id', sa.Integer(), nullable=True))
    op.create_index('ix_events_unit_seq', 'events', ['unit_id', 'seq'], unique=False)
    op.create_index('ix_events_user_seq', 'events', ['user_id', 'seq'], unique=False)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('station_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_incidents_station_id_stations'), 'stations', ['station_id'], ['id'])

    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jurisdiction', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_column('jurisdiction')

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incidents_station_id_stations'), type_='foreignkey')
        batch_op.drop_column('station_id')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_user_seq')
        batch_op.drop_index('ix_events_unit_seq')
        batch_op.drop_column('user_id')
        batch_op.drop_column('unit_id')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_unit_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_incident_id'))

    op.drop_table('assignments')
    with op.batch_alter_table('unit_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_members_unit_id'))

    op.drop_table('unit_members')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_station_id'))

    op.drop_table('units')
    with op.batch_alter_table('unit_positions', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_positions_unit_id')

    op.drop_table('unit_positions')
