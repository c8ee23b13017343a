"""Tables of the audit trail: the entries, and the head of their chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime

# The hash an empty chain starts from: the first entry's ``prev_hash``.
GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One event. ``hash`` covers every other column, ``prev_hash`` included, so altering,
    removing or reordering an entry breaks the chain from there on."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    bureau_code: Mapped[str | None] = mapped_column(String(3))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    # Canonical JSON text as hashed; kept as text so that the database cannot reformat it.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_entries_bureau_seq", "bureau_code", "seq"),
        Index("ix_audit_entries_action_seq", "action", "seq"),
        Index("ix_audit_entries_subject", "subject"),
        Index("ix_audit_entries_actor", "actor"),
        Index("ix_audit_entries_at", "at"),
    )


class AuditHead(Base):
    """The last entry appended. Its one row is locked by each writer until commit, which keeps
    two transactions from chaining onto the same entry, and lets ``verify`` see a removed tail.

    ``seal`` is an HMAC of the other two, keyed from the deployment secret: moving the head
    back (to hide a removed tail) needs the secret too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    seal: Mapped[str] = mapped_column(String(64), default="", server_default="")
