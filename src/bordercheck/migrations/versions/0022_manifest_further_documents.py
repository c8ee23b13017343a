"""operations count exactly: the checks that were a traveller's second document or later (a
passenger list counts once per traveller); kits' uploads logged as the kit's; an API client's
name unique in its bureau

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

# Uploads received from kits: logged as the kit's own (its id), as the centre now logs them.
_AS_THE_KITS = """
UPDATE screening_queries
SET principal_kind = 'kit',
    principal_name = (SELECT kit_id FROM edge_uploads WHERE entry_id = screening_queries.id)
WHERE source = 'kit' AND id IN (SELECT entry_id FROM edge_uploads)
"""
_AS_THE_CLIENTS = """
UPDATE screening_queries
SET principal_kind = 'client',
    principal_name = (
        SELECT api_clients.name FROM edge_kits JOIN api_clients
        ON api_clients.client_id = edge_kits.client_id
        WHERE edge_kits.kit_id = screening_queries.principal_name
    )
WHERE source = 'kit' AND principal_kind = 'kit'
  AND principal_name IN (SELECT kit_id FROM edge_kits)
"""


def upgrade() -> None:
    op.create_table(
        "manifest_further_documents",
        sa.Column("query_id", sa.String(length=32), primary_key=True),
    )
    op.execute(_AS_THE_KITS)
    # Two clients of one bureau with one name: the later ones are named apart by their id.
    bind = op.get_bind()
    seen: set[tuple[int, str]] = set()
    rows = bind.execute(
        sa.text("SELECT id, bureau_id, name, client_id FROM api_clients ORDER BY id")
    )
    for row_id, bureau_id, name, client_id in rows.all():
        if (bureau_id, name) in seen:
            renamed = f"{name[: 100 - len(client_id) - 3]} ({client_id})"
            bind.execute(
                sa.text("UPDATE api_clients SET name = :name WHERE id = :id"),
                {"name": renamed, "id": row_id},
            )
        seen.add((bureau_id, name))
    op.create_index("ix_api_clients_bureau_name", "api_clients", ["bureau_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_api_clients_bureau_name", table_name="api_clients")
    op.execute(_AS_THE_CLIENTS)
    op.drop_table("manifest_further_documents")
