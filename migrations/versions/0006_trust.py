"""trust: chained append-only audit log, login lockout, TOTP and backup codes, session activity,
abuse flags and marks, anonymisation, case references

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 02:36:26.048078
"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import baojing.db

# The triggers that make audit_log append-only. A later migration that rebuilds audit_log with
# batch_alter_table on SQLite drops them: create them again after it (both are here to copy).
SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def _chain_existing_entries() -> None:
    """Entries written before the chain existed join it in id order (the hash as in auth/audit.py)."""
    from baojing.auth.audit import GENESIS, entry_hash

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, at, user_id, actor, action, subject_type, subject_id, detail "
                                "FROM audit_log ORDER BY id")).mappings().all()
    prev = GENESIS
    for seq, r in enumerate(rows, 1):
        at = r["at"]
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        detail = r["detail"]
        if isinstance(detail, str):
            detail = json.loads(detail)
        row = {"seq": seq, "at": at.replace(tzinfo=timezone.utc), "user_id": r["user_id"], "actor": r["actor"],
               "action": r["action"], "subject_type": r["subject_type"], "subject_id": r["subject_id"],
               "detail": detail}
        h = entry_hash(prev, row)
        conn.execute(sa.text("UPDATE audit_log SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"),
                     {"s": seq, "p": prev, "h": h, "i": r["id"]})
        prev = h


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', baojing.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_username_at', ['username', 'at'], unique=False)

    op.create_table('abuse_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('marked_by', sa.Integer(), nullable=False),
    sa.Column('marked_at', baojing.db.UTCDateTime(), nullable=False),
    sa.Column('lifted_by', sa.Integer(), nullable=True),
    sa.Column('lifted_at', baojing.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['lifted_by'], ['users.id'], name=op.f('fk_abuse_marks_lifted_by_users')),
    sa.ForeignKeyConstraint(['marked_by'], ['users.id'], name=op.f('fk_abuse_marks_marked_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_abuse_marks'))
    )
    with op.batch_alter_table('abuse_marks', schema=None) as batch_op:
        batch_op.create_index('ix_abuse_marks_kind_value', ['kind', 'value'], unique=False)

    op.create_table('backup_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', baojing.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_backup_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_codes'))
    )
    with op.batch_alter_table('backup_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_codes_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('recent_from_device', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('recent_from_address', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('abuse_mark_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('abuse_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', baojing.db.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_alarms_address_received', ['source_address', 'received_at'], unique=False)
        batch_op.create_index('ix_alarms_device_received', ['device_id', 'received_at'], unique=False)

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_seq'), ['seq'])
    for statement in (SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS):
        op.execute(statement)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_ref', sa.String(length=40), nullable=True))

    # Sessions from before have no public id or activity time: everyone logs in again once.
    op.execute("DELETE FROM login_sessions")
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sid', sa.String(length=24), nullable=False))
        batch_op.add_column(sa.Column('last_seen_at', baojing.db.UTCDateTime(), nullable=False))
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_login_sessions_sid'), ['sid'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_pending', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', baojing.db.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_pending')
        batch_op.drop_column('totp_secret')

    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_login_sessions_sid'), type_='unique')
        batch_op.drop_column('user_agent')
        batch_op.drop_column('address')
        batch_op.drop_column('last_seen_at')
        batch_op.drop_column('sid')

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('case_ref')

    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER audit_log_no_change ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')

    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('ix_alarms_device_received')
        batch_op.drop_index('ix_alarms_address_received')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('abuse_reason')
        batch_op.drop_column('abuse_mark_id')
        batch_op.drop_column('recent_from_address')
        batch_op.drop_column('recent_from_device')
        batch_op.drop_column('source_address')

    with op.batch_alter_table('backup_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_codes_user_id'))

    op.drop_table('backup_codes')
    with op.batch_alter_table('abuse_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_abuse_marks_kind_value')

    op.drop_table('abuse_marks')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_username_at')

    op.drop_table('login_failures')
