"""partner organisations: a kind of bureau; an operation's message thread

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bureaus") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="national")
        )
    op.create_table(
        "operation_threads",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"]),
        sa.ForeignKeyConstraint(["thread_id"], ["message_threads.id"]),
        sa.PrimaryKeyConstraint("operation_id"),
        sa.UniqueConstraint("thread_id"),
    )


def downgrade() -> None:
    op.drop_table("operation_threads")
    # Partner organisations and their accounts go with the kind that told them apart: left
    # behind, they would pass for national bureaus.
    op.execute(
        "DELETE FROM console_sessions WHERE user_id IN "
        "(SELECT id FROM users WHERE role = 'partner')"
    )
    op.execute(
        "DELETE FROM recovery_codes WHERE user_id IN (SELECT id FROM users WHERE role = 'partner')"
    )
    op.execute("DELETE FROM users WHERE role = 'partner'")
    op.execute(
        "DELETE FROM message_participants WHERE bureau_code IN "
        "(SELECT country_code FROM bureaus WHERE kind = 'partner')"
    )
    op.execute("DELETE FROM operation_members WHERE kind = 'partner'")
    op.execute("DELETE FROM bureaus WHERE kind = 'partner'")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later) rather than a batch copy, which
    # would drop the bureaus table that users, clients and records refer to.
    op.drop_column("bureaus", "kind")
