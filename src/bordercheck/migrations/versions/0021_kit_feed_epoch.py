"""edge kits: a restore from a backup sends every kit back to a new snapshot

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("edge_kits") as table:
        table.add_column(sa.Column("feed_epoch", sa.String(length=16), nullable=True))
        table.add_column(
            sa.Column("needs_snapshot", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("edge_kits") as table:
        table.drop_column("needs_snapshot")
        table.drop_column("feed_epoch")
