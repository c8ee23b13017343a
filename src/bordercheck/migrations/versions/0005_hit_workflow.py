"""hit workflow, notifications and webhooks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TIMES = ("reminded_at", "escalated_at", "answered_at", "outcome_at")


def upgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default=sa.text("'desk'"),
                      nullable=False)
        )  # fmt: skip
        batch_op.add_column(sa.Column("manifest_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("flight", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        for name in _TIMES:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answer", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("action", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("answer_note", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("answered_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("outcome_note", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("outcome_by", sa.String(length=100), nullable=True))
    # Cases opened before deadlines existed are due at once: the sweep escalates them.
    op.execute("UPDATE hits SET due_at = created_at, remind_at = created_at")
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column("remind_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_hits_state_due", ["state", "due_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_bureau", ["bureau_code", "id"], unique=False)

    op.create_table(
        "hit_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bureau_code"),
    )

    op.create_table(
        "hit_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hit_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_hit_deliveries_bureau", ["bureau_code", "id"], unique=False)
        batch_op.create_index("ix_hit_deliveries_due", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hit_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_hit_deliveries_due")
        batch_op.drop_index("ix_hit_deliveries_bureau")
    op.drop_table("hit_deliveries")
    op.drop_table("hit_webhooks")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_bureau")
    op.drop_table("notifications")
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index("ix_hits_state_due")
        for name in (
            "outcome_by", "outcome_note", "outcome", "answered_by", "answer_note", "action",
            "answer", *reversed(_TIMES), "remind_at", "due_at", "flight", "manifest_id", "source",
        ):  # fmt: skip
            batch_op.drop_column(name)
