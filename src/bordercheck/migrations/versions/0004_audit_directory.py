"""audit trail and contact directory

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
REFUSAL = "the audit trail is append-only"


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_action_seq", ["action", "seq"], unique=False)
        batch_op.create_index("ix_audit_entries_actor", ["actor"], unique=False)
        batch_op.create_index("ix_audit_entries_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_entries_bureau_seq", ["bureau_code", "seq"], unique=False)
        batch_op.create_index("ix_audit_entries_subject", ["subject"], unique=False)

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS_HASH}])

    op.create_table(
        "directory_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("function", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("topics", sa.String(length=200), nullable=False),
        sa.Column("languages", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("hours", sa.String(length=100), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("last_confirmed", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("directory_entries", schema=None) as batch_op:
        batch_op.create_index("ix_directory_entries_bureau", ["bureau_code"], unique=False)
        batch_op.create_index("ix_directory_entries_confirmed", ["last_confirmed"], unique=False)

    _refuse_changes_to_audit_entries()


def _refuse_changes_to_audit_entries() -> None:
    """Triggers that refuse UPDATE and DELETE: a slip in SQL cannot rewrite the trail.

    They do not stop someone who owns the database (they can drop a trigger); the hash
    chain is what finds their edits.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER audit_entries_no_update")
        op.execute("DROP TRIGGER audit_entries_no_delete")

    with op.batch_alter_table("directory_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_entries_confirmed")
        batch_op.drop_index("ix_directory_entries_bureau")

    op.drop_table("directory_entries")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_subject")
        batch_op.drop_index("ix_audit_entries_bureau_seq")
        batch_op.drop_index("ix_audit_entries_at")
        batch_op.drop_index("ix_audit_entries_actor")
        batch_op.drop_index("ix_audit_entries_action_seq")

    op.drop_table("audit_entries")
