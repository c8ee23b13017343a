"""passenger manifests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manifests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("bureau_code", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("list_type", sa.String(length=16), nullable=False),
        sa.Column("flight", sa.String(length=17), nullable=True),
        sa.Column("carrier", sa.String(length=17), nullable=True),
        sa.Column("departure", sa.String(length=25), nullable=True),
        sa.Column("arrival", sa.String(length=25), nullable=True),
        sa.Column("departure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrival_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sender", sa.String(length=35), nullable=True),
        sa.Column("reference", sa.String(length=35), nullable=True),
        sa.Column("travellers", sa.Integer(), nullable=False),
        sa.Column("reported_count", sa.Integer(), nullable=True),
        sa.Column("documents_screened", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("possible_hits", sa.Integer(), nullable=False),
        sa.Column("unscreened", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_manifests_bureau_received", ["bureau_code", "received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_manifests_received_at"), ["received_at"], unique=False)

    op.create_table(
        "manifest_travellers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("surname", sa.String(length=70), nullable=False),
        sa.Column("given_names", sa.String(length=70), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("nationality", sa.String(length=3), nullable=True),
        sa.Column("embarkation", sa.String(length=25), nullable=True),
        sa.Column("debarkation", sa.String(length=25), nullable=True),
        sa.Column("seat", sa.String(length=8), nullable=True),
        sa.Column("booking_reference", sa.String(length=35), nullable=True),
        sa.Column("document_number", sa.String(length=40), nullable=True),
        sa.Column("document_type", sa.String(length=32), nullable=True),
        sa.Column("issuing_country", sa.String(length=3), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("query_id", sa.String(length=32), nullable=True),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["manifest_id"], ["manifests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("manifest_travellers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_manifest_travellers_document",
            ["document_number", "issuing_country"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_manifest_travellers_manifest_id"), ["manifest_id"], unique=False
        )
        batch_op.create_index(
            "ix_manifest_travellers_person", ["surname", "birth_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("manifest_travellers", schema=None) as batch_op:
        batch_op.drop_index("ix_manifest_travellers_person")
        batch_op.drop_index(batch_op.f("ix_manifest_travellers_manifest_id"))
        batch_op.drop_index("ix_manifest_travellers_document")

    op.drop_table("manifest_travellers")
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manifests_received_at"))
        batch_op.drop_index("ix_manifests_bureau_received")

    op.drop_table("manifests")
