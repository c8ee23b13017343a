"""screening query log, hits, record restrictions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("match", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("screening_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_matches_query_id"), ["query_id"], unique=False
        )
        batch_op.create_index("ix_screening_matches_record", ["record_id"], unique=False)

    op.create_table(
        "screening_queries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("principal_kind", sa.String(length=8), nullable=False),
        sa.Column("principal_name", sa.String(length=100), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=True),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("document_number", sa.String(length=24), nullable=False),
        sa.Column("issuing_country", sa.String(length=3), nullable=True),
        sa.Column("document_type", sa.String(length=32), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("match_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("screening_queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_queries_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_screening_queries_operation_id"), ["operation_id"], unique=False
        )

    op.create_table(
        "hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("owner_bureau", sa.String(length=3), nullable=False),
        sa.Column("querying_bureau", sa.String(length=3), nullable=False),
        sa.Column("queried_by", sa.String(length=100), nullable=False),
        sa.Column("match", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=True),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.create_index("ix_hits_owner_state", ["owner_bureau", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_hits_query_id"), ["query_id"], unique=False)
        batch_op.create_index("ix_hits_querying_state", ["querying_bureau", "state"], unique=False)

    op.create_table(
        "record_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "bureau_code"),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("restricted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withheld_from", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("withheld_from")

    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("restricted")

    op.drop_table("record_watches")
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index("ix_hits_querying_state")
        batch_op.drop_index(batch_op.f("ix_hits_query_id"))
        batch_op.drop_index("ix_hits_owner_state")

    op.drop_table("hits")
    with op.batch_alter_table("screening_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_queries_operation_id"))
        batch_op.drop_index(batch_op.f("ix_screening_queries_at"))

    op.drop_table("screening_queries")
    with op.batch_alter_table("screening_matches", schema=None) as batch_op:
        batch_op.drop_index("ix_screening_matches_record")
        batch_op.drop_index(batch_op.f("ix_screening_matches_query_id"))

    op.drop_table("screening_matches")
