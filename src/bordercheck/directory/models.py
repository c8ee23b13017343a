"""Tables of the contact directory."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bordercheck.db import Base
from bordercheck.timestamps import UtcDateTime


class Topic(StrEnum):
    MIGRANT_SMUGGLING = "migrant_smuggling"
    ILLEGAL_MIGRATION = "illegal_migration"
    DOCUMENT_FRAUD = "document_fraud"
    HUMAN_TRAFFICKING = "human_trafficking"
    IDENTITY_FRAUD = "identity_fraud"
    STOLEN_DOCUMENTS = "stolen_documents"


class DirectoryEntry(Base):
    """A focal point of one bureau. Only that bureau (or an admin) changes it."""

    __tablename__ = "directory_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bureau_code: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(200))
    function: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(200))
    # Space-separated codes, so a search is one LIKE on the row, no join table.
    topics: Mapped[str] = mapped_column(String(200))
    languages: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(254))
    hours: Mapped[str] = mapped_column(String(100))
    time_zone: Mapped[str] = mapped_column(String(64))
    last_confirmed: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        Index("ix_directory_entries_bureau", "bureau_code"),
        Index("ix_directory_entries_confirmed", "last_confirmed"),
    )
