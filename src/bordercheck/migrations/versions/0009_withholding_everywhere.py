"""withheld details: the case remembers them, the feed carries whom from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hits") as batch:
        batch.add_column(
            sa.Column("withheld", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("withheld_from", sa.String(400), nullable=True))
    # Entries written before: their record's withholding as it stands now is the best known.
    op.execute(
        "UPDATE changes SET withheld_from = "
        "(SELECT records.withheld_from FROM records WHERE records.id = changes.record_id) "
        "WHERE changes.restricted"
    )
    # Cases opened before: withheld if the record is withheld from the querying bureau now.
    op.execute(
        "UPDATE hits SET withheld = "
        "(' ' || COALESCE((SELECT records.withheld_from FROM records "
        "WHERE records.id = hits.record_id), '') || ' ') "
        "LIKE ('% ' || hits.querying_bureau || ' %') "
        "AND hits.querying_bureau <> hits.owner_bureau"
    )


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("withheld_from")
    with op.batch_alter_table("hits") as batch:
        batch.drop_column("withheld")
