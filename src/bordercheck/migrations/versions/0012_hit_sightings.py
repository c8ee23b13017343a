"""hit sightings, domestic hits and each bureau's hit rules

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hits") as batch:
        batch.add_column(
            sa.Column("domestic", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("sightings", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("open_key", sa.String(length=48), nullable=True))
        batch.create_unique_constraint("uq_hits_open_key", ["open_key"])
    op.create_table(
        "hit_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("queried_by", sa.String(length=100), nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hit_sightings_hit", "hit_sightings", ["hit_id", "id"])
    op.create_index("ix_hit_sightings_query_id", "hit_sightings", ["query_id"])
    op.create_table(
        "hit_rules",
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("domestic", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("bureau_code"),
    )
    # Each existing case was seen once, by the screening that opened it.
    op.execute(
        "INSERT INTO hit_sightings (hit_id, query_id, seen_at, location, source, queried_by, "
        "operation_id, notified) SELECT id, query_id, created_at, location, source, queried_by, "
        "operation_id, true FROM hits"
    )
    op.execute(
        "UPDATE hits SET last_seen_at = created_at, domestic = (owner_bureau = querying_bureau)"
    )
    # The newest case still open for a document and querying bureau takes its next
    # sightings; older duplicates, opened before sightings existed, stay as they are.
    op.execute(
        "UPDATE hits SET open_key = CAST(record_id AS VARCHAR(16)) || ':' || querying_bureau "
        "|| ':' || (SELECT q.document_number FROM screening_queries q WHERE q.id = hits.query_id) "
        "WHERE id IN (SELECT MAX(h.id) FROM hits h JOIN screening_queries q "
        "ON q.id = h.query_id WHERE h.state <> 'closed' "
        "GROUP BY h.record_id, h.querying_bureau, q.document_number)"
    )


def downgrade() -> None:
    op.drop_table("hit_rules")
    op.drop_index("ix_hit_sightings_query_id", table_name="hit_sightings")
    op.drop_index("ix_hit_sightings_hit", table_name="hit_sightings")
    op.drop_table("hit_sightings")
    with op.batch_alter_table("hits") as batch:
        batch.drop_constraint("uq_hits_open_key", type_="unique")
        batch.drop_column("open_key")
        batch.drop_column("last_seen_at")
        batch.drop_column("sightings")
        batch.drop_column("domestic")
