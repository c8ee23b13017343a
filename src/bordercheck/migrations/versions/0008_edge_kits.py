"""offline edge kits

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edge_kits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kit_id", sa.String(40), nullable=False, unique=True),
        sa.Column(
            "client_id", sa.String(40), sa.ForeignKey("api_clients.client_id"), nullable=False
        ),
        sa.Column("bureau_code", sa.String(3), nullable=False),
        sa.Column("secret_wrapped", sa.String(200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sync_seq", sa.BigInteger(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_edge_kits_client_id", "edge_kits", ["client_id"])
    op.create_table(
        "edge_uploads",
        sa.Column("entry_id", sa.String(32), primary_key=True),
        sa.Column("kit_id", sa.String(40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_edge_uploads_kit_id", "edge_uploads", ["kit_id"])


def downgrade() -> None:
    op.drop_index("ix_edge_uploads_kit_id", table_name="edge_uploads")
    op.drop_table("edge_uploads")
    op.drop_index("ix_edge_kits_client_id", table_name="edge_kits")
    op.drop_table("edge_kits")
