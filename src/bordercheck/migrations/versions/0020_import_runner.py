"""record imports: which process runs each, so that one killed is noticed

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_imports") as table:
        table.add_column(sa.Column("runner", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record_imports") as table:
        table.drop_column("runner")
