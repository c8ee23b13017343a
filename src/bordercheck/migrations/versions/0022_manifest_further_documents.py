"""manifests: the checks that were a traveller's second document or later (an operation
counts a passenger list once per traveller)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manifest_further_documents",
        sa.Column("query_id", sa.String(length=32), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("manifest_further_documents")
