"""incidents.merged_into one level deep: an incident merged into one that was merged on points at the last

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:10:00
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Each pass moves every chain one step closer to its end; a chain is as long as merges were nested.
_STEP = ("UPDATE incidents SET merged_into = (SELECT p.merged_into FROM incidents p WHERE p.id = incidents.merged_into) "
         "WHERE merged_into IN (SELECT id FROM incidents WHERE merged_into IS NOT NULL)")


def upgrade() -> None:
    conn = op.get_bind()
    while conn.exec_driver_sql(_STEP).rowcount:
        pass


def downgrade() -> None:
    pass  # the nesting is not kept; one level reads the same everywhere
