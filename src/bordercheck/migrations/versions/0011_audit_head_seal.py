"""seal the audit trail's head

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bordercheck.audit.chain import head_key, head_seal
from bordercheck.migrations import SECRET_KEY

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "audit_head",
        sa.Column("seal", sa.String(length=64), nullable=False, server_default=""),
    )
    # The head as it stands is sealed with the secret the entries were written with (the
    # settings of whoever runs `db upgrade`, as for every entry a command writes).
    config = op.get_context().config
    secret_key = config.attributes.get(SECRET_KEY) if config is not None else None
    if not secret_key:
        raise RuntimeError("sealing the audit trail's head needs the installation's secret key")
    key = head_key(secret_key)
    connection = op.get_bind()
    head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer()),
        sa.column("last_seq", sa.BigInteger()),
        sa.column("last_hash", sa.String()),
        sa.column("seal", sa.String()),
    )
    for row_id, last_seq, last_hash in connection.execute(
        sa.select(head.c.id, head.c.last_seq, head.c.last_hash)
    ):
        connection.execute(
            head.update()
            .where(head.c.id == row_id)
            .values(seal=head_seal(key, int(last_seq), str(last_hash)))
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("seal")
